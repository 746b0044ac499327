//! The one reader of capture files: the classifier's two passes, the HAR export and anything later
//! read a capture through [`for_each_line`] or [`for_each_record`].
//!
//! Rules every reader of format 1 follows (`docs/capture-format.md`), kept here once:
//!
//! - blank lines are skipped, and so is a `\r` before a newline;
//! - a last line that is cut off (no newline and not a complete JSON value: leakhound or the
//!   machine died mid-write) is skipped with a warning, so a crashed run's capture still reads;
//!   any other malformed line is an error naming the file and the line;
//! - record types this version does not know are skipped ([`KNOWN_TYPES`]), so a newer writer's
//!   capture still reads.
//!
//! Lines are handed out straight from a 256 KB read buffer; only a line that straddles two buffer
//! fills is copied, so memory is one buffer plus the longest such line.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;

use super::record::Record;

/// A capture that cannot be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    /// The file cannot be opened or read.
    #[error("cannot read capture {path}: {source}")]
    Io {
        /// The capture file.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// A line that is not a valid record (and not a cut-off last line).
    #[error("{path}:{line}: malformed capture record: {source}")]
    Line {
        /// The capture file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// Why the line did not parse.
        #[source]
        source: serde_json::Error,
    },
}

impl ReadError {
    /// The error for line `line` of `path`.
    pub fn line(path: &Path, line: usize, source: serde_json::Error) -> ReadError {
        ReadError::Line {
            path: path.to_path_buf(),
            line,
            source,
        }
    }
}

/// Record types this version knows; other types are skipped (forward compatibility).
pub const KNOWN_TYPES: &[&str] = &[
    "header",
    "step",
    "typed",
    "request",
    "web_socket",
    "ws_frame",
    "snapshot",
    "dialog",
    "end",
];

/// Whether `kind` is a record type this version reads.
pub fn is_known_type(kind: &str) -> bool {
    KNOWN_TYPES.contains(&kind)
}

/// Bytes read from the capture at a time.
const READ_BUFFER: usize = 1 << 18;

/// Bytes between two progress calls.
pub const PROGRESS_EVERY: u64 = 16 << 20;

/// A progress callback: `(pass, bytes read, file size)`. Called at the start and end of each
/// pass over a file and about every [`PROGRESS_EVERY`] bytes; long captures take seconds.
#[derive(Clone, Default)]
pub struct ProgressHook(pub Option<Arc<ProgressFn>>);

/// See [`ProgressHook`].
pub type ProgressFn = dyn Fn(u8, u64, u64) + Send + Sync;

impl ProgressHook {
    /// A hook calling `f`.
    pub fn new(f: impl Fn(u8, u64, u64) + Send + Sync + 'static) -> ProgressHook {
        ProgressHook(Some(Arc::new(f)))
    }

    /// Tells the hook, if any.
    pub fn report(&self, pass: u8, done: u64, total: u64) {
        if let Some(f) = &self.0 {
            f(pass, done, total);
        }
    }
}

impl std::fmt::Debug for ProgressHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "ProgressHook(set)"
        } else {
            "ProgressHook(none)"
        })
    }
}

#[derive(Deserialize)]
struct TypeOnly<'a> {
    #[serde(rename = "type", borrow)]
    kind: std::borrow::Cow<'a, str>,
}

/// A full record from one line; `None` for a type this version does not know.
pub fn parse_record(line: &[u8]) -> Result<Option<Record>, serde_json::Error> {
    match serde_json::from_slice::<Record>(line) {
        Ok(r) => Ok(Some(r)),
        Err(e) => match serde_json::from_slice::<TypeOnly<'_>>(line) {
            Ok(t) if !is_known_type(&t.kind) => {
                tracing::debug!(kind = %t.kind, "skipping unknown record type");
                Ok(None)
            }
            _ => Err(e),
        },
    }
}

/// Calls `f` with every non-blank line of the capture at `path` and its 1-based number, telling
/// `progress` (as pass `pass`) how far it got. A cut-off last line is skipped (see the module
/// documentation); `f`'s first error ends the reading and is returned.
pub fn for_each_line<E: From<ReadError>>(
    path: &Path,
    progress: (&ProgressHook, u8),
    mut f: impl FnMut(usize, &[u8]) -> Result<(), E>,
) -> Result<(), E> {
    let io_err = |source| ReadError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(io_err)?;
    let (hook, pass) = progress;
    let total = file.metadata().map(|m| m.len()).unwrap_or(0);
    let (mut read, mut next_report) = (0u64, PROGRESS_EVERY);
    hook.report(pass, 0, total);
    let mut reader = BufReader::with_capacity(READ_BUFFER, file);
    let mut carry: Vec<u8> = Vec::new();
    let mut line_no = 0;
    let mut one = |line_no: usize, line: &[u8]| {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.trim_ascii().is_empty() {
            return Ok(());
        }
        f(line_no, line)
    };
    loop {
        let buf = reader.fill_buf().map_err(io_err)?;
        if buf.is_empty() {
            if !carry.is_empty() {
                line_no += 1;
                let trimmed = carry.trim_ascii();
                if !trimmed.is_empty()
                    && serde_json::from_slice::<serde::de::IgnoredAny>(trimmed).is_err()
                {
                    tracing::warn!(
                        "{}:{line_no}: last line is cut off (capture interrupted); skipped",
                        path.display()
                    );
                } else {
                    one(line_no, &carry)?;
                }
            }
            hook.report(pass, read, total.max(read));
            return Ok(());
        }
        let mut start = 0;
        for nl in memchr::memchr_iter(b'\n', buf) {
            line_no += 1;
            let piece = buf.get(start..nl).unwrap_or_default();
            if carry.is_empty() {
                one(line_no, piece)?;
            } else {
                carry.extend_from_slice(piece);
                one(line_no, &carry)?;
                carry.clear();
            }
            start = nl + 1;
        }
        carry.extend_from_slice(buf.get(start..).unwrap_or_default());
        let len = buf.len();
        reader.consume(len);
        read += len as u64;
        if read >= next_report {
            hook.report(pass, read, total.max(read));
            next_report = read + PROGRESS_EVERY;
        }
    }
}

/// Calls `f` with every record of a known type, parsed, in file order (see [`for_each_line`]).
pub fn for_each_record<E: From<ReadError>>(
    path: &Path,
    progress: (&ProgressHook, u8),
    mut f: impl FnMut(Record) -> Result<(), E>,
) -> Result<(), E> {
    for_each_line(path, progress, |n, line| {
        match parse_record(line).map_err(|e| ReadError::line(path, n, e))? {
            Some(record) => f(record),
            None => Ok(()),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(text: &str) -> Result<Vec<(usize, String)>, ReadError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.jsonl");
        std::fs::write(&path, text).unwrap();
        let mut out = Vec::new();
        for_each_line(&path, (&ProgressHook::default(), 1), |n, line| {
            out.push((n, String::from_utf8_lossy(line).into_owned()));
            Ok::<(), ReadError>(())
        })?;
        Ok(out)
    }

    #[test]
    fn blank_lines_and_crlf_are_skipped_and_numbers_kept() {
        let lines = read_all("{\"a\":1}\r\n\n  \n{\"b\":2}\n").unwrap();
        assert_eq!(
            lines,
            vec![(1, "{\"a\":1}".to_string()), (4, "{\"b\":2}".to_string())]
        );
    }

    #[test]
    fn a_cut_off_last_line_is_skipped_but_a_complete_one_is_kept() {
        let lines = read_all("{\"a\":1}\n{\"type\":\"requ").unwrap();
        assert_eq!(lines.len(), 1);
        let lines = read_all("{\"a\":1}\n{\"b\":2}").unwrap();
        assert_eq!(lines.len(), 2);
    }

    #[test]
    fn a_malformed_line_before_the_end_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.jsonl");
        std::fs::write(&path, "{\"type\":\"end\"\n{\"type\":\"end\"}\n").unwrap();
        let err = for_each_record(&path, (&ProgressHook::default(), 1), |_| {
            Ok::<(), ReadError>(())
        })
        .unwrap_err();
        assert!(err.to_string().contains("c.jsonl:1:"), "{err}");
    }

    #[test]
    fn unknown_record_types_are_skipped() {
        assert!(parse_record(br#"{"type":"from_the_future","x":1}"#)
            .unwrap()
            .is_none());
        assert!(parse_record(br#"{"type":"request","nonsense":true}"#).is_err());
    }

    #[test]
    fn a_missing_file_is_an_io_error() {
        let err = for_each_record(
            Path::new("/nonexistent/c.jsonl"),
            (&ProgressHook::default(), 1),
            |_| Ok::<(), ReadError>(()),
        )
        .unwrap_err();
        assert!(matches!(err, ReadError::Io { .. }));
    }
}
