//! Writes a capture file one record per line, flushed as it goes, with secrets masked.
//!
//! Flushing each record is deliberate: if leakhound itself dies, everything written so far survives
//! and is still a valid capture (just one without an `end` line).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use super::record::Record;
use crate::secret::SecretMask;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WriteError {
    #[error("cannot write capture file {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
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
