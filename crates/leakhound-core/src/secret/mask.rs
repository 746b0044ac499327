//! Masking secrets in captured traffic before a capture record is written.

use super::{encoded_forms, marker, marker_as, text_forms, Replacer};

/// Replaces secret values in the captured traffic of a record before it is written.
///
/// Masking works on the record's values, never on its serialized line: only strings that carry
/// captured traffic (URLs, headers, cookies, bodies, frames, titles) are searched, while
/// leakhound's own fields (record type, ids, fates, target kinds, encodings) are left alone. So a
/// password such as `password`, `type`, `true` or `1`, which also occurs in the record's own
/// structure, cannot corrupt the capture. All forms of all secrets are replaced in one
/// leftmost-longest pass, so a marker put in place of one form is never searched again for
/// another.
///
/// Bodies the page compressed (gzip, zlib, raw deflate, brotli) or sent as binary are decoded
/// first: when a secret is inside, the body is stored decoded, masked, with `masked_from` saying
/// what it was. A body cut at the size cap loses any partial secret at its end.
#[derive(Debug, Clone, Default)]
pub struct SecretMask {
    /// Every form of every secret, to its marker.
    replacer: Replacer,
}

/// Record fields that hold leakhound's own vocabulary, never captured traffic.
const OWN_FIELDS: &[&str] = &[
    "type",
    "id",
    "socket",
    "state",
    "target",
    "encoding",
    "status",
    "format",
    "version",
    "tool_version",
    "browser_version",
    "started_at",
    "action",
    "kind",
    "key",
    "env",
    "canary_key",
    "resource_type",
    "method",
    "masked_from",
    "screenshot",
];

/// Largest decompressed body searched for secrets.
const MAX_DECODED: u64 = 16 << 20;

impl SecretMask {
    /// `secrets`: identity key → value. Empty values are ignored.
    pub fn new<'a>(secrets: impl IntoIterator<Item = (&'a str, &'a str)>) -> SecretMask {
        let mut pairs: Vec<(String, String)> = Vec::new();
        let mut add = |needle: String, marker: &str| pairs.push((needle, marker.to_string()));
        for (key, value) in secrets {
            if value.is_empty() {
                continue;
            }
            let marker = marker(key);
            for variant in text_forms(value) {
                add(variant, &marker);
            }
            // What a script may make of it: base64 of the whole value (also of its URL-encoded
            // form), and hex digests.
            for (form, encoded) in encoded_forms(value) {
                let marker = marker_as(key, form);
                for text in encoded {
                    add(text, &marker);
                }
            }
            let component: String =
                url::form_urlencoded::byte_serialize(value.as_bytes()).collect();
            for (form, encoded) in encoded_forms(&component) {
                if form.starts_with("base64") {
                    let marker = marker_as(key, form);
                    for text in encoded {
                        add(text, &marker);
                    }
                }
            }
        }
        // Empty and repeated needles are dropped there (the first marker wins).
        SecretMask {
            replacer: Replacer::new(pairs),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.replacer.is_empty()
    }

    /// Masks every secret in one text.
    pub fn apply(&self, text: &str) -> String {
        self.replacer
            .replace(text)
            .unwrap_or_else(|| text.to_string())
    }

    /// Masks a record's traffic values in place (see the type's documentation).
    pub fn apply_to_value(&self, value: &mut serde_json::Value) {
        if self.is_empty() {
            return;
        }
        self.walk(value, None);
    }

    fn walk(&self, value: &mut serde_json::Value, field: Option<&str>) {
        use serde_json::Value;
        match value {
            Value::String(s) if field.is_none_or(|f| !OWN_FIELDS.contains(&f)) => {
                if let Some(masked) = self.replacer.replace(s) {
                    *s = masked;
                }
            }
            Value::Array(items) => {
                for item in items {
                    self.walk(item, field);
                }
            }
            Value::Object(map) => {
                if is_body(map) {
                    self.mask_body(map);
                    return;
                }
                for (k, v) in map.iter_mut() {
                    self.walk(v, Some(k.as_str()));
                }
            }
            _ => {}
        }
    }

    /// A captured body: text is masked like any value; binary (maybe compressed) data is decoded
    /// and, when a secret is inside, replaced by its masked text.
    fn mask_body(&self, map: &mut serde_json::Map<String, serde_json::Value>) {
        use serde_json::Value;
        let truncated = map.get("truncated").and_then(Value::as_bool) == Some(true);
        let binary = map.get("encoding").and_then(Value::as_str) == Some("base64");
        let Some(Value::String(data)) = map.get_mut("data") else {
            return;
        };
        if !binary {
            let mut masked = self.apply(data);
            if truncated {
                self.trim_partial(&mut masked);
            }
            *data = masked;
            return;
        }
        use base64::Engine as _;
        let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(data.as_bytes()) else {
            return;
        };
        let (text, from) = match decompress(&bytes) {
            Some((text, from)) => (text, from),
            None => (String::from_utf8_lossy(&bytes).into_owned(), "binary"),
        };
        let Some(masked) = self.replacer.replace(&text) else {
            return;
        };
        map.insert("data".into(), Value::String(masked));
        map.insert("encoding".into(), Value::String("utf8".into()));
        map.insert("masked_from".into(), Value::String(from.into()));
    }

    /// Cuts a partial secret off the end of a body that was cut at the size cap: the longest end
    /// of `text` that begins some needle.
    fn trim_partial(&self, text: &mut String) {
        let mut cut = 0;
        for needle in self.replacer.needles() {
            let max = needle.len().min(text.len());
            for n in (1..=max).rev() {
                if n <= cut {
                    break;
                }
                let start = text.len() - n;
                if text.is_char_boundary(start)
                    && needle.is_char_boundary(n)
                    && needle.as_bytes().get(..n) == text.as_bytes().get(start..)
                    && n < needle.len()
                {
                    cut = n;
                    break;
                }
            }
        }
        if cut > 0 {
            let keep = text.len() - cut;
            text.truncate(keep);
        }
    }
}

fn is_body(map: &serde_json::Map<String, serde_json::Value>) -> bool {
    map.contains_key("data") && map.contains_key("encoding") && map.contains_key("size")
}

/// Decompresses gzip, zlib, raw deflate or brotli data (at most [`MAX_DECODED`] bytes) into
/// text, with the name of the format.
fn decompress(bytes: &[u8]) -> Option<(String, &'static str)> {
    use std::io::Read as _;
    let read = |mut r: Box<dyn std::io::Read + '_>| -> Option<String> {
        let mut out = Vec::new();
        (&mut r).take(MAX_DECODED).read_to_end(&mut out).ok()?;
        (!out.is_empty()).then(|| String::from_utf8_lossy(&out).into_owned())
    };
    if bytes.starts_with(&[0x1f, 0x8b]) {
        return read(Box::new(flate2::read::GzDecoder::new(bytes))).map(|t| (t, "gzip"));
    }
    if bytes.len() > 2
        && bytes[0] == 0x78
        && (u16::from(bytes[0]) << 8 | u16::from(bytes[1])) % 31 == 0
    {
        if let Some(t) = read(Box::new(flate2::read::ZlibDecoder::new(bytes))) {
            return Some((t, "zlib"));
        }
    }
    if let Some(t) = read(Box::new(flate2::read::DeflateDecoder::new(bytes))) {
        return Some((t, "deflate"));
    }
    read(Box::new(brotli::Decompressor::new(bytes, 4096))).map(|t| (t, "brotli"))
}
