//! Pass 1's reading of request lines: three fields, and nothing after them.
//!
//! Pass 1 only learns which pages were visited, so from a request it needs `page_url`,
//! `resource_type` and `url`. The capture writer puts those before the headers and body, which
//! are most of a line's bytes; [`request_parts`] stops reading as soon as it has all three. The
//! rest of the line is not checked here: pass 2 reads every request line whole, and a malformed
//! one is reported there, with its line number, exactly as before.

use std::borrow::Cow;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;

/// What pass 1 takes from a request line.
#[derive(Debug, Default, PartialEq)]
pub(super) struct RequestParts<'a> {
    pub page_url: Cow<'a, str>,
    pub resource_type: Cow<'a, str>,
    pub url: Cow<'a, str>,
}

/// Reads the three fields of a request line. Fields missing from the line are empty.
///
/// Stops at the first byte after the last of the three; a line whose JSON breaks before that
/// point is an error.
pub(super) fn request_parts(line: &[u8]) -> Result<RequestParts<'_>, serde_json::Error> {
    let mut parts = RequestParts::default();
    let mut de = serde_json::Deserializer::from_slice(line);
    let mut seen = 0u8;
    let result = de::Deserializer::deserialize_map(
        &mut de,
        PartsVisitor {
            parts: &mut parts,
            seen: &mut seen,
        },
    );
    match result {
        Ok(()) => de.end().map(|()| parts),
        // The visitor stopped on purpose: everything needed was read.
        Err(_) if seen == ALL => Ok(parts),
        Err(e) => Err(e),
    }
}

const PAGE_URL: u8 = 1;
const RESOURCE_TYPE: u8 = 2;
const URL: u8 = 4;
const ALL: u8 = PAGE_URL | RESOURCE_TYPE | URL;

struct PartsVisitor<'p, 'a> {
    parts: &'p mut RequestParts<'a>,
    seen: &'p mut u8,
}

/// A string value, borrowed from the line unless it has escapes.
#[derive(Deserialize)]
struct Text<'a>(#[serde(borrow)] Cow<'a, str>);

impl<'de> Visitor<'de> for PartsVisitor<'_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a request record")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(field) = map.next_key_seed(FieldSeed)? {
            let (bit, slot) = match field {
                Field::PageUrl => (PAGE_URL, &mut self.parts.page_url),
                Field::ResourceType => (RESOURCE_TYPE, &mut self.parts.resource_type),
                Field::Url => (URL, &mut self.parts.url),
                Field::Other => {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
            };
            *slot = map.next_value::<Text<'de>>()?.0;
            *self.seen |= bit;
            if *self.seen == ALL {
                // Not an error to report: `request_parts` recognises this stop by `seen`.
                return Err(de::Error::custom("pass 1 has what it needs"));
            }
        }
        Ok(())
    }
}

enum Field {
    PageUrl,
    ResourceType,
    Url,
    Other,
}

struct FieldSeed;

impl<'de> DeserializeSeed<'de> for FieldSeed {
    type Value = Field;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Field, D::Error> {
        d.deserialize_str(self)
    }
}

impl Visitor<'_> for FieldSeed {
    type Value = Field;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a field name")
    }

    fn visit_str<E>(self, v: &str) -> Result<Field, E> {
        Ok(match v {
            "page_url" => Field::PageUrl,
            "resource_type" => Field::ResourceType,
            "url" => Field::Url,
            _ => Field::Other,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_three_fields_and_stops() {
        let line = br#"{"type":"request","id":"r1","page_url":"https://a.test/p?q=x","resource_type":"Document","url":"https://a.test/\u00e9","headers":[BROKEN"#;
        let parts = request_parts(line).unwrap();
        assert_eq!(parts.page_url, "https://a.test/p?q=x");
        assert!(matches!(parts.page_url, Cow::Borrowed(_)));
        assert_eq!(parts.resource_type, "Document");
        assert_eq!(parts.url, "https://a.test/é");
    }

    #[test]
    fn missing_fields_are_empty_and_broken_json_before_them_is_an_error() {
        let parts = request_parts(br#"{"type":"request","url":"https://t.test/x"}"#).unwrap();
        assert_eq!(parts.url, "https://t.test/x");
        assert_eq!(parts.page_url, "");
        assert!(request_parts(br#"{"type":"request","page_url":"#).is_err());
        assert!(request_parts(br#"{"type":"request","url":"a"} trailing"#).is_err());
        assert!(request_parts(br#"{"type":"request","page_url":3,"#).is_err());
    }
}
