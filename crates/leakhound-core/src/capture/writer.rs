//! Writes a capture file one record per line, flushed as it goes, with secrets masked.
//!
//! Flushing each record is deliberate: if leakhound itself dies, everything written so far survives
//! and is still a valid capture (just one without an `end` line).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use super::record::{secret_marker, secret_marker_as, Record, SECRET_FORMS};

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("cannot write capture file {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

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
    /// Needle texts and, at the same index, their markers.
    needles: Vec<String>,
    markers: Vec<String>,
    matcher: Option<aho_corasick::AhoCorasick>,
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
        let mut add = |needle: String, marker: &str| {
            if !needle.is_empty() && !pairs.iter().any(|(n, _)| *n == needle) {
                pairs.push((needle, marker.to_string()));
            }
        };
        for (key, value) in secrets {
            if value.is_empty() {
                continue;
            }
            let marker = secret_marker(key);
            let component: String =
                url::form_urlencoded::byte_serialize(value.as_bytes()).collect::<String>();
            let strict = percent_encode_all(value);
            // The value itself, as a form/URL component, as it appears inside a JSON string of
            // a JSON body, and encoded twice (a URL inside a URL parameter).
            for variant in [
                value.to_string(),
                component.clone(),
                component.replace('+', "%20"),
                strict.clone(),
                json_inner(value),
                percent_encode_all(&strict),
                percent_encode_all(&component),
                url::form_urlencoded::byte_serialize(json_inner(value).as_bytes())
                    .collect::<String>(),
            ] {
                add(variant, &marker);
            }
            // What a script may make of it: base64 of the whole value (also of its URL-encoded
            // form), and hex digests.
            for (form, encoded) in encoded_forms(value) {
                let marker = secret_marker_as(key, form);
                for text in encoded {
                    add(text, &marker);
                }
            }
            for (form, encoded) in encoded_forms(&component) {
                if form.starts_with("base64") {
                    let marker = secret_marker_as(key, form);
                    for text in encoded {
                        add(text, &marker);
                    }
                }
            }
        }
        let (needles, markers): (Vec<String>, Vec<String>) = pairs.into_iter().unzip();
        let matcher = aho_corasick::AhoCorasick::builder()
            .match_kind(aho_corasick::MatchKind::LeftmostLongest)
            .build(&needles)
            .ok()
            .filter(|_| !needles.is_empty());
        SecretMask {
            needles,
            markers,
            matcher,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.matcher.is_none()
    }

    /// Masks every secret in one text.
    pub fn apply(&self, text: &str) -> String {
        match &self.matcher {
            Some(m) if m.is_match(text) => m.replace_all(text, &self.markers),
            _ => text.to_string(),
        }
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
                if let Some(m) = &self.matcher {
                    if m.is_match(s.as_str()) {
                        *s = m.replace_all(s, &self.markers);
                    }
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
        let Some(m) = &self.matcher else {
            return;
        };
        if !m.is_match(&text) {
            return;
        }
        let masked = m.replace_all(&text, &self.markers);
        map.insert("data".into(), Value::String(masked));
        map.insert("encoding".into(), Value::String("utf8".into()));
        map.insert("masked_from".into(), Value::String(from.into()));
    }

    /// Cuts a partial secret off the end of a body that was cut at the size cap: the longest end
    /// of `text` that begins some needle.
    fn trim_partial(&self, text: &mut String) {
        let mut cut = 0;
        for needle in &self.needles {
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

/// The encoded forms of `value` in [`SECRET_FORMS`] order, each as the texts it can appear as.
fn encoded_forms(value: &str) -> Vec<(&'static str, Vec<String>)> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    use base64::Engine as _;
    use sha2::Digest as _;
    let bytes = value.as_bytes();
    let hex = |digest: &[u8]| {
        let lower = hex::encode(digest);
        let upper = lower.to_ascii_uppercase();
        vec![lower, upper]
    };
    let forms = vec![
        (
            "base64",
            vec![STANDARD.encode(bytes), STANDARD_NO_PAD.encode(bytes)],
        ),
        (
            "base64url",
            vec![URL_SAFE.encode(bytes), URL_SAFE_NO_PAD.encode(bytes)],
        ),
        ("md5", hex(&md5::Md5::digest(bytes))),
        ("sha1", hex(&sha1::Sha1::digest(bytes))),
        ("sha256", hex(&sha2::Sha256::digest(bytes))),
        ("sha512", hex(&sha2::Sha512::digest(bytes))),
    ];
    debug_assert!(forms
        .iter()
        .map(|(f, _)| *f)
        .eq(SECRET_FORMS.iter().copied()));
    forms
}

/// Percent-encodes every byte outside `A-Za-z0-9-_.~`.
fn percent_encode_all(value: &str) -> String {
    let mut out = String::new();
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A string as it appears inside a JSON string literal (without the quotes).
fn json_inner(s: &str) -> String {
    let quoted = serde_json::to_string(s).unwrap_or_default();
    quoted
        .strip_prefix('"')
        .and_then(|q| q.strip_suffix('"'))
        .unwrap_or(&quoted)
        .to_string()
}

/// The capture file.
pub struct CaptureWriter {
    path: PathBuf,
    out: BufWriter<File>,
    mask: SecretMask,
    records: usize,
}

impl CaptureWriter {
    pub fn create(path: &Path, mask: SecretMask) -> Result<CaptureWriter, WriteError> {
        if let Some(parent) = path.parent() {
            if !parent.as_os_str().is_empty() {
                std::fs::create_dir_all(parent).map_err(|source| WriteError::Io {
                    path: path.to_path_buf(),
                    source,
                })?;
            }
        }
        let file = File::create(path).map_err(|source| WriteError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(CaptureWriter {
            path: path.to_path_buf(),
            out: BufWriter::new(file),
            mask,
            records: 0,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes one record and flushes it to the file.
    pub fn write(&mut self, record: &Record) -> Result<(), WriteError> {
        let line = if self.mask.is_empty() {
            serde_json::to_string(record).unwrap_or_default()
        } else {
            let mut value = serde_json::to_value(record).unwrap_or_default();
            self.mask.apply_to_value(&mut value);
            value.to_string()
        };
        let io = |source| WriteError::Io {
            path: self.path.clone(),
            source,
        };
        self.out.write_all(line.as_bytes()).map_err(io)?;
        self.out.write_all(b"\n").map_err(io)?;
        self.out.flush().map_err(io)?;
        self.records += 1;
        Ok(())
    }

    pub fn records(&self) -> usize {
        self.records
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::record::{Record, RequestRecord};

    #[test]
    fn masks_plain_and_encoded_secret() {
        let mask = SecretMask::new([("password", "p@ss w\"rd")]);
        let rec = Record::Request(Box::new(RequestRecord {
            id: "r1".into(),
            url: "https://t.test/x?pw=p%40ss+w%22rd&a=p%40ss%20w%22rd".into(),
            body: Some(crate::capture::record::Body::from_bytes(
                b"{\"pw\":\"p@ss w\\\"rd\"} p@ss w\"rd",
                100,
            )),
            ..Default::default()
        }));
        let line = masked_line(&mask, &rec);
        assert!(!line.contains("p@ss"), "{line}");
        assert!(!line.contains("p%40ss"), "{line}");
        assert!(line.contains("[LEAKHOUND-SECRET:password]"));
        let back: Record = serde_json::from_str(&line).unwrap();
        assert!(matches!(back, Record::Request(_)));
    }

    fn masked_line(mask: &SecretMask, record: &Record) -> String {
        let mut value = serde_json::to_value(record).unwrap();
        mask.apply_to_value(&mut value);
        value.to_string()
    }

    fn sample_records(secret: &str) -> Vec<Record> {
        use crate::capture::record::*;
        vec![
            Record::Request(Box::new(RequestRecord {
                id: "r1".into(),
                method: "POST".into(),
                resource_type: "Ping".into(),
                url: format!(
                    "https://t.test/collect?pw={}&n=1",
                    url::form_urlencoded::byte_serialize(secret.as_bytes()).collect::<String>()
                ),
                headers: vec![Header {
                    name: "x-pw".into(),
                    value: secret.to_string(),
                }],
                body: Some(Body::from_bytes(
                    serde_json::json!({"password": secret, "type": "request"})
                        .to_string()
                        .as_bytes(),
                    1 << 20,
                )),
                fate: Fate::Failed {
                    reason: "net::ERR_ABORTED (canceled)".into(),
                },
                ..Default::default()
            })),
            Record::Step(StepRecord {
                index: 1,
                action: "type".into(),
                label: "type the password".into(),
                time_ms: 1.0,
            }),
            Record::End(EndRecord {
                status: RunStatus::Complete,
                reason: None,
                time_ms: 1.0,
                steps_run: 1,
                requests: 1,
                ws_frames: 0,
            }),
        ]
    }

    /// Passwords that also occur in the capture's own structure (field names, enum values,
    /// numbers) never change that structure: every masked line parses back to the same kind of
    /// record, and the secret is gone from it.
    #[test]
    fn masking_never_changes_a_records_structure() {
        for secret in [
            "password",
            "type",
            "true",
            "request",
            "1",
            "email",
            "r1",
            "POST",
            "Ping",
            "delivered",
            "\"",
            "\\",
            "a\"b\\c",
            "pässwörd✓",
            "\u{202e}rtl",
            "failed",
        ] {
            let mask = SecretMask::new([("password", secret)]);
            for record in sample_records(secret) {
                let line = masked_line(&mask, &record);
                let back: Record = serde_json::from_str(&line)
                    .unwrap_or_else(|e| panic!("secret {secret:?}: {e}: {line}"));
                assert_eq!(
                    std::mem::discriminant(&back),
                    std::mem::discriminant(&record),
                    "{secret:?}"
                );
                if let (Record::Request(a), Record::Request(b)) = (&back, &record) {
                    assert_eq!(a.id, b.id, "{secret:?}");
                    assert_eq!(a.method, b.method, "{secret:?}");
                    assert_eq!(a.resource_type, b.resource_type, "{secret:?}");
                    assert_eq!(a.fate.is_delivered(), b.fate.is_delivered());
                    assert_eq!(
                        a.headers[0].value, "[LEAKHOUND-SECRET:password]",
                        "{secret:?}"
                    );
                }
            }
        }
    }

    proptest::proptest! {
        /// Whatever the secret and whatever the traffic, a masked record parses back to the same
        /// kind of record with the same own fields, and no traffic value still holds the secret.
        #[test]
        fn masking_never_changes_structure_for_any_secret(
            secret in "\\PC{1,12}",
            url_tail in "\\PC{0,40}",
            body in "\\PC{0,80}",
        ) {
            use crate::capture::record::*;
            let mask = SecretMask::new([("password", secret.as_str())]);
            let record = Record::Request(Box::new(RequestRecord {
                id: "r7".into(),
                method: "POST".into(),
                resource_type: "Fetch".into(),
                url: format!("https://t.test/c?{url_tail}&pw={secret}"),
                headers: vec![Header { name: "x-pw".into(), value: secret.clone() }],
                body: Some(Body::from_bytes(format!("{body}{secret}").as_bytes(), 64)),
                fate: Fate::Delivered,
                ..Default::default()
            }));
            let line = masked_line(&mask, &record);
            let back: Record = serde_json::from_str(&line).expect("parses");
            let Record::Request(back) = back else { panic!("not a request: {line}") };
            proptest::prop_assert_eq!(&back.id, "r7");
            proptest::prop_assert_eq!(&back.method, "POST");
            proptest::prop_assert_eq!(&back.resource_type, "Fetch");
            proptest::prop_assert!(back.fate.is_delivered());
            proptest::prop_assert_eq!(&back.headers[0].value, "[LEAKHOUND-SECRET:password]");
        }
    }

    #[test]
    fn secrets_in_compressed_bodies_are_masked_and_the_body_kept_decoded() {
        use std::io::Write as _;
        let secret = "Tr0ub4dor&3";
        let mask = SecretMask::new([("password", secret)]);
        let plain = format!("{{\"user\":\"jane\",\"pw\":\"{secret}\"}}");
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(plain.as_bytes()).unwrap();
        let gz = gz.finish().unwrap();
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(plain.as_bytes()).unwrap();
        let z = z.finish().unwrap();
        for (bytes, from) in [(gz, "gzip"), (z, "zlib")] {
            let record = Record::Request(Box::new(RequestRecord {
                id: "r1".into(),
                body: Some(crate::capture::record::Body::from_bytes(&bytes, 1 << 20)),
                ..Default::default()
            }));
            let line = masked_line(&mask, &record);
            let Record::Request(back) = serde_json::from_str::<Record>(&line).unwrap() else {
                panic!("not a request");
            };
            let body = back.body.unwrap();
            assert_eq!(body.masked_from.as_deref(), Some(from));
            assert!(
                body.data.contains("[LEAKHOUND-SECRET:password]"),
                "{}",
                body.data
            );
            assert!(!body.data.contains(secret));
        }
    }

    #[test]
    fn a_body_cut_at_the_cap_keeps_no_partial_secret() {
        let secret = "correct-horse-battery";
        let mask = SecretMask::new([("password", secret)]);
        let text = format!("aaaa pw={secret}");
        // Cut in the middle of the secret.
        let cap = text.len() - 6;
        let record = Record::Request(Box::new(RequestRecord {
            id: "r1".into(),
            body: Some(crate::capture::record::Body::from_bytes(
                text.as_bytes(),
                cap,
            )),
            ..Default::default()
        }));
        let line = masked_line(&mask, &record);
        assert!(!line.contains("correct-horse"), "{line}");
        assert!(line.contains("aaaa pw="), "{line}");
    }

    #[test]
    fn double_encoded_secret_is_masked() {
        let secret = "p@ss w/rd";
        let mask = SecretMask::new([("password", secret)]);
        let once: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
        let twice: String = url::form_urlencoded::byte_serialize(once.as_bytes()).collect();
        let masked = mask.apply(&format!(
            "https://t.test/?u=https%3A%2F%2Fx%2F%3Fpw%3D{twice}"
        ));
        assert!(!masked.contains(&twice), "{masked}");
        assert!(masked.contains("[LEAKHOUND-SECRET:password]"), "{masked}");
    }

    #[test]
    fn masks_base64_and_hashed_secret_with_a_marker_per_form() {
        use sha2::Digest as _;
        let secret = "Tr0ub4dor&3";
        let mask = SecretMask::new([("password", secret)]);
        let b64 = &base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            secret.as_bytes(),
        );
        let sha = hex::encode(sha2::Sha256::digest(secret.as_bytes()));
        let rec = Record::Request(Box::new(RequestRecord {
            id: "r1".into(),
            url: format!("https://t.test/x?a={b64}&h={sha}&H={}", sha.to_uppercase()),
            ..Default::default()
        }));
        let line = masked_line(&mask, &rec);
        assert!(
            !line.contains(b64.as_str()) && !line.contains(&sha),
            "{line}"
        );
        assert!(!line.contains(&sha.to_uppercase()), "{line}");
        assert!(
            line.contains("a=[LEAKHOUND-SECRET:password|base64]"),
            "{line}"
        );
        assert!(
            line.contains("h=[LEAKHOUND-SECRET:password|sha256]"),
            "{line}"
        );
        assert!(
            line.contains("H=[LEAKHOUND-SECRET:password|sha256]"),
            "{line}"
        );
    }
}
