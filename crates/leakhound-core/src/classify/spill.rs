//! Findings kept on disk instead of in memory, for reports of captures of any size.
//!
//! A finding is about 2 kB in memory (request URL, evidence, stack); a HAR of 300,000 requests
//! makes 150,000 of them. [`FindingSpill`] writes each finding, as it is made, to an anonymous
//! temporary file (deleted by the system when the spill is dropped, even on a crash), already
//! rendered as the JSON report will print it, and hands the findings back in order. Memory is a
//! write buffer, whatever the number of findings.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};

use super::finding::Finding;

#[derive(Debug, thiserror::Error)]
pub enum SpillError {
    #[error("cannot use a temporary file for findings: {0}")]
    Io(#[from] std::io::Error),
    #[error("cannot encode a finding: {0}")]
    Json(#[from] serde_json::Error),
    #[error("the temporary findings file is damaged: {0}")]
    Damaged(String),
}

/// Bytes buffered before a write to the temporary file.
const SPILL_BUFFER: usize = 1 << 16;

/// The indentation of a finding inside the JSON report's `findings` array (the report's
/// own fields are at two spaces).
pub const REPORT_FINDING_INDENT: &[u8] = b"    ";

/// Findings in a temporary file, each stored as its pretty-printed JSON text indented for the
/// report's `findings` array (see [`REPORT_FINDING_INDENT`]), prefixed by its length.
#[derive(Debug)]
pub struct FindingSpill {
    out: Option<BufWriter<File>>,
    len: usize,
    /// Reused between findings.
    scratch: Vec<u8>,
}

impl FindingSpill {
    /// An empty spill in a new anonymous temporary file.
    pub fn new() -> Result<FindingSpill, SpillError> {
        let file = tempfile::tempfile()?;
        Ok(FindingSpill {
            out: Some(BufWriter::with_capacity(SPILL_BUFFER, file)),
            len: 0,
            scratch: Vec::new(),
        })
    }

    /// Findings stored.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Stores one finding (after those already stored).
    pub fn push(&mut self, finding: &Finding) -> Result<(), SpillError> {
        self.push_unless(finding, |_| false).map(|_| ())
    }

    /// Stores one finding unless `reject` says no to its JSON text; true when stored.
    pub fn push_unless(
        &mut self,
        finding: &Finding,
        reject: impl Fn(&[u8]) -> bool,
    ) -> Result<bool, SpillError> {
        let Some(out) = &mut self.out else {
            return Err(SpillError::Damaged("written after it was read".into()));
        };
        self.scratch.clear();
        serde_json::to_writer_pretty(&mut self.scratch, finding)?;
        if reject(&self.scratch) {
            return Ok(false);
        }
        // A newline is never inside a JSON string: every one is structure, and is followed by
        // the indentation of the array the finding will be printed in.
        let newlines = memchr::memchr_iter(b'\n', &self.scratch).count();
        let size = self.scratch.len() + newlines * REPORT_FINDING_INDENT.len();
        out.write_all(&(size as u64).to_le_bytes())?;
        let mut start = 0;
        for nl in memchr::memchr_iter(b'\n', &self.scratch) {
            out.write_all(&self.scratch[start..=nl])?;
            out.write_all(REPORT_FINDING_INDENT)?;
            start = nl + 1;
        }
        out.write_all(&self.scratch[start..])?;
        self.len += 1;
        Ok(true)
    }

    /// Calls `f` with the stored text of every finding, in order (see [`FindingSpill`]).
    /// No finding can be added afterwards.
    pub fn for_each_text<E: From<SpillError>>(
        &mut self,
        mut f: impl FnMut(&[u8]) -> Result<(), E>,
    ) -> Result<(), E> {
        let file = match self.out.take() {
            Some(out) => out
                .into_inner()
                .map_err(|e| SpillError::Io(e.into_error()))?,
            None => return Err(SpillError::Damaged("read twice".into()).into()),
        };
        let mut file = file;
        file.seek(SeekFrom::Start(0)).map_err(SpillError::Io)?;
        let mut reader = BufReader::with_capacity(SPILL_BUFFER, file);
        let mut buf = Vec::new();
        for _ in 0..self.len {
            let mut size = [0u8; 8];
            reader.read_exact(&mut size).map_err(SpillError::Io)?;
            let size = usize::try_from(u64::from_le_bytes(size))
                .map_err(|_| SpillError::Damaged("record too large".into()))?;
            buf.clear();
            buf.try_reserve(size)
                .map_err(|_| SpillError::Damaged("record too large".into()))?;
            (&mut reader)
                .take(size as u64)
                .read_to_end(&mut buf)
                .map_err(SpillError::Io)?;
            if buf.len() != size {
                return Err(SpillError::Damaged("cut off".into()).into());
            }
            f(&buf)?;
        }
        // Readable again: rewind for another pass.
        let mut file = reader.into_inner();
        file.seek(SeekFrom::End(0)).map_err(SpillError::Io)?;
        self.out = Some(BufWriter::with_capacity(SPILL_BUFFER, file));
        Ok(())
    }

    /// Calls `f` with every finding, in order.
    pub fn for_each<E: From<SpillError>>(
        &mut self,
        mut f: impl FnMut(Finding) -> Result<(), E>,
    ) -> Result<(), E> {
        self.for_each_text(|text| {
            let finding: Finding = serde_json::from_slice(text).map_err(SpillError::Json)?;
            f(finding)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::finding::{DataKind, Severity};

    fn finding(n: usize) -> Finding {
        Finding {
            kind: DataKind::Identifier,
            sub_kind: Some("email".into()),
            canary: "email".into(),
            value: Some("a\"b\\c\nd@x.test".into()),
            source_page: None,
            domain: "t.test".into(),
            host: "www.t.test".into(),
            vendor: None,
            channel: format!("query:e{n}"),
            parameter_meaning: None,
            encoding: vec!["url".into()],
            severity: Severity::High,
            step: n,
            step_label: String::new(),
            page_url: "https://h.test/".into(),
            request_id: format!("r{n}"),
            request_url: "https://www.t.test/p?e=x".into(),
            method: "GET".into(),
            fate: Default::default(),
            initiator_url: None,
            stack: Vec::new(),
            evidence: Some("e=[[a\"b]]".into()),
            also_matched: Vec::new(),
            name_parts: Vec::new(),
            page_context: None,
            regime: None,
            rule: None,
            confidence: Default::default(),
        }
    }

    #[test]
    fn findings_come_back_in_order_and_reindented() {
        let mut spill = FindingSpill::new().unwrap();
        for n in 0..1000 {
            spill.push(&finding(n)).unwrap();
        }
        assert_eq!(spill.len(), 1000);
        let mut back = Vec::new();
        spill
            .for_each::<SpillError>(|f| {
                back.push(f);
                Ok(())
            })
            .unwrap();
        assert_eq!(back.len(), 1000);
        assert!(back.iter().enumerate().all(|(n, f)| *f == finding(n)));
        // A second pass reads the same; the text is indented for the report's array.
        let mut texts = 0;
        spill
            .for_each_text::<SpillError>(|t| {
                let text = std::str::from_utf8(t).unwrap();
                assert!(text.starts_with('{') && text.ends_with("    }"), "{text}");
                texts += 1;
                Ok(())
            })
            .unwrap();
        assert_eq!(texts, 1000);
    }
}
