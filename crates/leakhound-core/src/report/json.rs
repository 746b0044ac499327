//! The JSON report: the complete result, for researchers and for `leakhound diff`.
//!
//! Its shape is `docs/report-format.md` and `docs/report.schema.json`; the tests validate every
//! report they produce against that schema.

use std::path::Path;

use super::model::Report;
use super::{write_streamed, ReportError};

/// The report as pretty-printed JSON text.
pub fn to_json(report: &Report) -> Result<String, ReportError> {
    let mut text = serde_json::to_string_pretty(report)?;
    text.push('\n');
    Ok(text)
}

/// Writes the JSON report to `path` (streamed: a report with many findings is never one string).
pub fn write_json(report: &Report, path: &Path) -> Result<(), ReportError> {
    write_streamed(path, |out| {
        use std::io::Write as _;
        serde_json::to_writer_pretty(&mut *out, report)?;
        out.write_all(b"\n").map_err(|source| ReportError::Io {
            path: path.to_path_buf(),
            source,
        })
    })
}
