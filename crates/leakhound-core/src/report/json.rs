//! The JSON report: the complete result, for researchers and for `leakhound diff`.
//!
//! Its shape is `docs/report-format.md` and `docs/report.schema.json`; the tests validate every
//! report they produce against that schema.

use std::path::Path;

use super::model::{Report, SpilledFindings};
use super::{write_streamed, ReportError};

/// The report as pretty-printed JSON text.
pub fn to_json(report: &Report) -> Result<String, ReportError> {
    let mut text = serde_json::to_string_pretty(report)?;
    text.push('\n');
    Ok(text)
}

/// Writes the JSON report to `path` (streamed: a report with many findings is never one string).
pub fn write_json(report: &Report, path: &Path) -> Result<(), ReportError> {
    if let Some(spilled) = &report.spilled {
        return write_spilled(report, spilled, path);
    }
    write_streamed(path, |out| {
        use std::io::Write as _;
        serde_json::to_writer_pretty(&mut *out, report)?;
        out.write_all(b"\n").map_err(|source| ReportError::Io {
            path: path.to_path_buf(),
            source,
        })
    })
}

/// Where the findings go in the pretty-printed text of a report whose `findings` is empty: a
/// newline is never inside a JSON string, so this can only be the report's own field.
const EMPTY_FINDINGS: &[u8] = b"\n  \"findings\": []";

/// [`write_json`] of a report whose findings are on disk: the same text, byte for byte, with
/// the findings copied in from the spill (stored already printed and indented).
fn write_spilled(
    report: &Report,
    spilled: &SpilledFindings,
    path: &Path,
) -> Result<(), ReportError> {
    let text = serde_json::to_vec_pretty(report)?;
    let at = memchr::memmem::find(&text, EMPTY_FINDINGS).ok_or_else(|| {
        crate::classify::spill::SpillError::Damaged("the report has no findings field".into())
    })?;
    let (head, tail) = text.split_at(at);
    let tail = tail.get(EMPTY_FINDINGS.len()..).unwrap_or_default();
    write_streamed(path, |out| {
        use std::io::Write as _;
        let io = |source| ReportError::Io {
            path: path.to_path_buf(),
            source,
        };
        out.write_all(head).map_err(io)?;
        out.write_all(b"\n  \"findings\": [").map_err(io)?;
        let mut first = true;
        spilled.for_each_text(|finding| {
            out.write_all(if first { b"\n    " } else { b",\n    " })
                .map_err(io)?;
            first = false;
            out.write_all(finding).map_err(io)
        })?;
        out.write_all(if first { b"]" } else { b"\n  ]" })
            .map_err(io)?;
        out.write_all(tail).map_err(io)?;
        out.write_all(b"\n").map_err(io)
    })
}
