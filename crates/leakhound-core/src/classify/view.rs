//! Requests as pass 2 reads them: borrowed from the capture line wherever JSON allows.
//!
//! Pass 2 reads every request once and drops it at once; building a full owned
//! [`RequestRecord`] for that (a dozen strings, the body copied twice) was a large share of its
//! time. [`RequestView`] holds the same fields the matching pass uses as `Cow`s that point into
//! the line (only values with JSON escapes are copied), and still requires the fields a
//! [`RequestRecord`] requires, so a malformed line is an error exactly as before.

use std::borrow::Cow;

use serde::Deserialize;

use crate::capture::record::{
    Body, BodyEncoding, Fate, Header, Initiator, Redirect, RequestRecord, ResponseInfo, TargetKind,
};

/// A name/value header pair, borrowed.
#[derive(Debug, Clone, Deserialize)]
pub struct HeaderView<'a> {
    #[serde(borrow)]
    pub name: Cow<'a, str>,
    #[serde(borrow)]
    pub value: Cow<'a, str>,
}

impl<'a> From<&'a Header> for HeaderView<'a> {
    fn from(h: &'a Header) -> Self {
        HeaderView {
            name: Cow::Borrowed(&h.name),
            value: Cow::Borrowed(&h.value),
        }
    }
}

/// A request body, borrowed (see [`Body`]).
#[derive(Debug, Clone, Deserialize)]
pub struct BodyView<'a> {
    pub encoding: BodyEncoding,
    #[serde(borrow)]
    pub data: Cow<'a, str>,
    pub size: usize,
    #[serde(default)]
    pub truncated: bool,
    /// The bytes themselves when the reader already has them decoded (a HAR's base64 body):
    /// then `data` is not read, and they are not encoded again only to be decoded.
    #[serde(skip)]
    pub decoded: Option<Cow<'a, [u8]>>,
}

impl BodyView<'_> {
    /// The raw bytes that were kept; borrowed for a UTF-8 body.
    pub fn bytes(&self) -> Cow<'_, [u8]> {
        use base64::Engine as _;
        if let Some(bytes) = &self.decoded {
            return Cow::Borrowed(bytes);
        }
        match self.encoding {
            BodyEncoding::Utf8 => Cow::Borrowed(self.data.as_bytes()),
            BodyEncoding::Base64 => Cow::Owned(
                base64::engine::general_purpose::STANDARD
                    .decode(self.data.as_bytes())
                    .unwrap_or_default(),
            ),
        }
    }
}

impl<'a> From<&'a Body> for BodyView<'a> {
    fn from(b: &'a Body) -> Self {
        BodyView {
            encoding: b.encoding,
            data: Cow::Borrowed(&b.data),
            size: b.size,
            truncated: b.truncated,
            decoded: None,
        }
    }
}

/// The response headers (for the cookies a third party set); other response fields are checked
/// for shape and skipped.
#[derive(Debug, Clone, Deserialize)]
pub struct ResponseView<'a> {
    #[serde(rename = "status")]
    _status: u16,
    #[serde(default, borrow)]
    pub headers: Vec<HeaderView<'a>>,
    #[serde(default, rename = "remote_address")]
    _remote_address: Option<IgnoredString>,
    #[serde(default, rename = "fulfilled_locally")]
    _fulfilled_locally: bool,
}

/// A string field the classifier does not use: its type is checked, nothing is kept.
#[derive(Debug, Clone, Copy, Default)]
pub struct IgnoredString;

impl<'de> Deserialize<'de> for IgnoredString {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = IgnoredString;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<IgnoredString, E> {
                Ok(IgnoredString)
            }
        }
        d.deserialize_str(V)
    }
}

/// A request's initiator (script URL and stack), read only when a finding needs it.
///
/// Stacks are a third of a real capture line and most requests produce no finding, so pass 2
/// keeps the initiator as the raw JSON text of the line and parses it on demand.
#[derive(Debug, Clone, Copy, Default)]
pub enum InitiatorView<'a> {
    Parsed(&'a Initiator),
    Raw(&'a serde_json::value::RawValue),
    /// A HAR entry's `_initiator` (DevTools' shape, or chrome-har's URL string), as its text.
    Har(&'a serde_json::value::RawValue),
    #[default]
    Missing,
}

impl<'de: 'a, 'a> Deserialize<'de> for InitiatorView<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        <&'a serde_json::value::RawValue>::deserialize(d).map(InitiatorView::Raw)
    }
}

impl InitiatorView<'_> {
    /// The initiator; an unreadable one counts as unknown (the line was well-formed JSON).
    pub fn resolve(&self) -> Cow<'_, Initiator> {
        match self {
            InitiatorView::Parsed(i) => Cow::Borrowed(i),
            InitiatorView::Raw(raw) => match serde_json::from_str(raw.get()) {
                Ok(i) => Cow::Owned(i),
                Err(e) => {
                    tracing::debug!("unreadable initiator {}: {e}", raw.get());
                    Cow::Owned(Initiator::default())
                }
            },
            InitiatorView::Har(raw) => Cow::Owned(crate::capture::har::initiator_of_raw(raw)),
            InitiatorView::Missing => Cow::Owned(Initiator::default()),
        }
    }
}

/// A request's response, read only for the cookies a third party set.
#[derive(Debug, Clone, Copy)]
pub enum ResponseRef<'a> {
    Parsed(&'a ResponseInfo),
    Raw(&'a serde_json::value::RawValue),
    /// The response headers, already read (a HAR entry's).
    Headers(&'a [HeaderView<'a>]),
}

impl<'de: 'a, 'a> Deserialize<'de> for ResponseRef<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        <&'a serde_json::value::RawValue>::deserialize(d).map(ResponseRef::Raw)
    }
}

impl ResponseRef<'_> {
    /// Calls `f` with the value of every `Set-Cookie` header. A raw response is only parsed
    /// when its text mentions the header at all (most tracker responses set no cookie).
    pub fn for_each_set_cookie(&self, mut f: impl FnMut(&str)) {
        let set_cookie = |name: &str| name.eq_ignore_ascii_case("set-cookie");
        match self {
            ResponseRef::Parsed(resp) => resp
                .headers
                .iter()
                .filter(|h| set_cookie(&h.name))
                .for_each(|h| f(&h.value)),
            ResponseRef::Headers(headers) => headers
                .iter()
                .filter(|h| set_cookie(&h.name))
                .for_each(|h| f(&h.value)),
            ResponseRef::Raw(raw) => {
                let text = raw.get().as_bytes();
                // `set-cookie` in any case, found from the hyphens.
                let mentioned = memchr::memchr_iter(b'-', text).any(|i| {
                    i >= 3
                        && text[i - 3..i].eq_ignore_ascii_case(b"set")
                        && text
                            .get(i + 1..i + 7)
                            .is_some_and(|c| c.eq_ignore_ascii_case(b"cookie"))
                });
                if !mentioned {
                    return;
                }
                match serde_json::from_str::<ResponseView<'_>>(raw.get()) {
                    Ok(resp) => resp
                        .headers
                        .iter()
                        .filter(|h| set_cookie(&h.name))
                        .for_each(|h| f(&h.value)),
                    Err(e) => tracing::debug!("unreadable response {}: {e}", raw.get()),
                }
            }
        }
    }
}

/// One request, as the matching pass needs it.
#[derive(Debug, Clone, Deserialize)]
pub struct RequestView<'a> {
    #[serde(borrow)]
    pub id: Cow<'a, str>,
    pub time_ms: f64,
    pub step: usize,
    #[serde(borrow)]
    pub page_url: Cow<'a, str>,
    #[serde(rename = "frame_url")]
    _frame_url: IgnoredString,
    #[serde(rename = "target")]
    _target: TargetKind,
    #[serde(rename = "resource_type")]
    _resource_type: IgnoredString,
    #[serde(borrow)]
    pub method: Cow<'a, str>,
    #[serde(borrow)]
    pub url: Cow<'a, str>,
    #[serde(default, borrow)]
    pub headers: Vec<HeaderView<'a>>,
    #[serde(default, borrow)]
    pub body: Option<BodyView<'a>>,
    #[serde(default)]
    pub redirects: Cow<'a, [Redirect]>,
    #[serde(default, borrow)]
    pub initiator: InitiatorView<'a>,
    #[serde(default, borrow)]
    pub response: Option<ResponseRef<'a>>,
    #[serde(default)]
    pub fate: Cow<'a, Fate>,
    #[serde(default, rename = "beacon")]
    _beacon: bool,
}

impl<'a> RequestView<'a> {
    /// A request with only its id and URL set (GET, step 0, no headers or body, initiated);
    /// readers of other formats (HAR) fill in the public fields from there.
    pub fn new(id: Cow<'a, str>, url: Cow<'a, str>) -> RequestView<'a> {
        RequestView {
            id,
            time_ms: 0.0,
            step: 0,
            page_url: Cow::Borrowed(""),
            _frame_url: IgnoredString,
            _target: TargetKind::Page,
            _resource_type: IgnoredString,
            method: Cow::Borrowed("GET"),
            url,
            headers: Vec::new(),
            body: None,
            redirects: Cow::Borrowed(&[]),
            initiator: InitiatorView::Missing,
            response: None,
            fate: Cow::Owned(Fate::Initiated),
            _beacon: false,
        }
    }

    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value.as_ref())
    }
}

impl<'a> From<&'a RequestRecord> for RequestView<'a> {
    fn from(r: &'a RequestRecord) -> Self {
        RequestView {
            id: Cow::Borrowed(&r.id),
            time_ms: r.time_ms,
            step: r.step,
            page_url: Cow::Borrowed(&r.page_url),
            _frame_url: IgnoredString,
            _target: r.target,
            _resource_type: IgnoredString,
            method: Cow::Borrowed(&r.method),
            url: Cow::Borrowed(&r.url),
            headers: r.headers.iter().map(HeaderView::from).collect(),
            body: r.body.as_ref().map(BodyView::from),
            redirects: Cow::Borrowed(&r.redirects),
            initiator: InitiatorView::Parsed(&r.initiator),
            response: r.response.as_ref().map(ResponseRef::Parsed),
            fate: Cow::Borrowed(&r.fate),
            _beacon: r.beacon,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::record::Record;

    fn line(r: &RequestRecord) -> String {
        serde_json::to_string(&Record::Request(Box::new(r.clone()))).unwrap_or_default()
    }

    #[test]
    fn reads_what_a_request_record_reads() {
        let r = RequestRecord {
            id: "r1".into(),
            step: 2,
            page_url: "https://www.mercy.test/a".into(),
            method: "POST".into(),
            url: "https://t.test/p?x=1".into(),
            headers: vec![Header {
                name: "Referer".into(),
                value: "https://www.mercy.test/a \"q\"".into(),
            }],
            body: Some(Body::from_bytes(b"{\"a\":\"b\"}", 1024)),
            fate: Fate::Delivered,
            ..Default::default()
        };
        let text = line(&r);
        let v: RequestView<'_> = serde_json::from_str(&text).unwrap();
        assert_eq!(v.id, "r1");
        assert_eq!(v.step, 2);
        assert!(
            matches!(v.url, Cow::Borrowed(_)),
            "plain strings are borrowed"
        );
        assert_eq!(v.header("referer"), Some("https://www.mercy.test/a \"q\""));
        let body = v.body.as_ref().map(|b| b.bytes().into_owned());
        assert_eq!(body.as_deref(), Some(&b"{\"a\":\"b\"}"[..]));
        assert_eq!(*v.fate, Fate::Delivered);
    }

    #[test]
    fn cookies_set_are_read_from_raw_responses_in_any_case() {
        let line = r#"{"status":200,"headers":[{"name":"content-type","value":"image/gif"},{"name":"SET-cookie","value":"uid=1; Path=/"},{"name":"Set-Cookie","value":"fr=2"}]}"#;
        let raw: &serde_json::value::RawValue = serde_json::from_str(line).unwrap();
        let mut got = Vec::new();
        ResponseRef::Raw(raw).for_each_set_cookie(|v| got.push(v.to_string()));
        assert_eq!(got, vec!["uid=1; Path=/", "fr=2"]);
        let quiet: &serde_json::value::RawValue = serde_json::from_str(
            r#"{"status":204,"headers":[{"name":"x-set","value":"cookie-less"}]}"#,
        )
        .unwrap();
        let mut none = 0;
        ResponseRef::Raw(quiet).for_each_set_cookie(|_| none += 1);
        assert_eq!(none, 0);
    }

    #[test]
    fn a_request_missing_a_required_field_is_an_error() {
        let r = RequestRecord {
            id: "r1".into(),
            ..Default::default()
        };
        let text = line(&r).replace("\"frame_url\":\"\",", "");
        assert!(serde_json::from_str::<RequestRecord>(&text).is_err());
        assert!(serde_json::from_str::<RequestView<'_>>(&text).is_err());
    }
}
