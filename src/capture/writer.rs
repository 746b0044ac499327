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

/// Replaces secret values (plain and URL-encoded) in serialized records.
///
/// Masking happens on the serialized JSON line, so it covers every field at once (URL, headers,
/// bodies, frames) and cannot miss one added later.
#[derive(Debug, Clone, Default)]
pub struct SecretMask {
    /// (JSON-escaped needle, JSON-escaped replacement), longest needles first.
    needles: Vec<(String, String)>,
}

impl SecretMask {
    /// `secrets`: identity key → value. Empty values are ignored.
    pub fn new<'a>(secrets: impl IntoIterator<Item = (&'a str, &'a str)>) -> SecretMask {
        let mut needles = Vec::new();
        for (key, value) in secrets {
            if value.is_empty() {
                continue;
            }
            let marker = json_inner(&secret_marker(key));
            let component: String =
                url::form_urlencoded::byte_serialize(value.as_bytes()).collect::<String>();
            let strict = percent_encode_all(value);
            // The value itself, as a form/URL component, and as it appears inside a JSON string
            // of a JSON body.
            let variants = [
                value.to_string(),
                component.clone(),
                component.replace('+', "%20"),
                strict,
                json_inner(value),
            ];
            for variant in variants {
                let escaped = json_inner(&variant);
                if !needles.iter().any(|(n, _)| n == &escaped) {
                    needles.push((escaped, marker.clone()));
                }
            }
            // What a script may make of it: base64 of the whole value, and hex digests.
            for (form, encoded) in encoded_forms(value) {
                let marker = json_inner(&secret_marker_as(key, form));
                for text in encoded {
                    let escaped = json_inner(&text);
                    if !needles.iter().any(|(n, _)| n == &escaped) {
                        needles.push((escaped, marker.clone()));
                    }
                }
            }
        }
        needles.sort_by_key(|(n, _)| std::cmp::Reverse(n.len()));
        SecretMask { needles }
    }

    pub fn is_empty(&self) -> bool {
        self.needles.is_empty()
    }

    /// Masks every secret in a serialized line.
    pub fn apply(&self, line: &str) -> String {
        let mut out = line.to_string();
        for (needle, marker) in &self.needles {
            if out.contains(needle.as_str()) {
                out = out.replace(needle.as_str(), marker);
            }
        }
        out
    }
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
        let line = serde_json::to_string(record).unwrap_or_default();
        let line = if self.mask.is_empty() {
            line
        } else {
            self.mask.apply(&line)
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
        let line = mask.apply(&serde_json::to_string(&rec).unwrap());
        assert!(!line.contains("p@ss"), "{line}");
        assert!(!line.contains("p%40ss"), "{line}");
        assert!(line.contains("[LEAKHOUND-SECRET:password]"));
        let back: Record = serde_json::from_str(&line).unwrap();
        assert!(matches!(back, Record::Request(_)));
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
        let line = mask.apply(&serde_json::to_string(&rec).unwrap());
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
