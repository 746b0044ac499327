//! Outputs for the three audiences of a run, all rendered from one [`Report`] value:
//! a compliance officer (HTML), a CI pipeline (exit code, SARIF, JUnit) and a researcher (JSON, HAR).
//!
//! [`build_report`] turns the classifier's [`Analysis`](crate::classify::finding::Analysis) and the
//! capture's journey records into a [`Report`], applying the [`Policy`]. [`write_all`] writes the
//! chosen formats; [`exit_code`] is what `leakhound run` returns.

pub mod diff;
pub mod explain;
pub mod html;
pub mod json;
pub mod junit;
pub mod model;
pub mod policy;
pub mod redact;
pub mod sarif;
mod scrub;
pub mod terminal;

use std::path::{Path, PathBuf};

use crate::capture::reader::ReadError;
use crate::capture::record::Record;

pub use diff::{diff, ReportDiff};
pub use model::{build_report, Report, ReportBuilder, ReportMeta, VerdictStatus};
pub use policy::{Decision, Policy, PolicyError};

/// No finding violates the policy and the run completed.
pub const EXIT_OK: i32 = 0;
/// At least one finding violates the policy (or `diff` found a new violation).
pub const EXIT_VIOLATIONS: i32 = 1;
/// Bad arguments or unreadable input (scenario, policy, capture, report).
pub const EXIT_USAGE: i32 = 2;
/// The run did not complete (browser crash, timeout, failed step). Takes precedence over 1: a CI must
/// tell a broken run from a leaking site, and an incomplete run cannot prove the absence of leaks.
pub const EXIT_INCOMPLETE: i32 = 3;

/// The process exit code for a report: 3 when incomplete, else 1 on violations, else 0.
pub fn exit_code(report: &Report) -> i32 {
    match report.verdict.status {
        VerdictStatus::Incomplete => EXIT_INCOMPLETE,
        VerdictStatus::Fail => EXIT_VIOLATIONS,
        VerdictStatus::Pass => EXIT_OK,
    }
}

/// An output format [`write_all`] can produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Format {
    Json,
    Html,
    Sarif,
    Junit,
    Har,
}

impl Format {
    /// Every format.
    pub const ALL: [Format; 5] = [
        Format::Json,
        Format::Html,
        Format::Sarif,
        Format::Junit,
        Format::Har,
    ];

    /// The file name written in the output folder.
    pub fn file_name(self) -> &'static str {
        match self {
            Format::Json => "report.json",
            Format::Html => "report.html",
            Format::Sarif => "report.sarif",
            Format::Junit => "junit.xml",
            Format::Har => "capture.har",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Html => "html",
            Format::Sarif => "sarif",
            Format::Junit => "junit",
            Format::Har => "har",
        }
    }
}

impl std::str::FromStr for Format {
    type Err = ReportError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Format::ALL
            .into_iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| ReportError::UnknownFormat(s.to_string()))
    }
}

/// Writing a report failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    #[error("cannot write {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read report {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not a leakhound report: {message}")]
    NotAReport { path: PathBuf, message: String },
    #[error("cannot serialize the report: {0}")]
    Serialize(#[from] serde_json::Error),
    #[error("cannot write JUnit XML: {0}")]
    Xml(#[from] quick_junit::SerializeError),
    #[error("unknown report format `{0}` (expected json, html, sarif, junit or har)")]
    UnknownFormat(String),
    #[error("HAR export needs the capture file, but the report names none")]
    NoCapture,
    #[error("HAR export failed: {0}")]
    Har(#[from] crate::capture::har::HarError),
    #[error(transparent)]
    Capture(#[from] crate::capture::reader::ReadError),
    #[error(transparent)]
    Spill(#[from] crate::classify::spill::SpillError),
}

/// Writes `bytes` to `path` through a temporary file, so a reader never sees half a report.
pub(crate) fn write_file(path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    write_streamed(path, |out| {
        use std::io::Write as _;
        out.write_all(bytes).map_err(|source| ReportError::Io {
            path: path.to_path_buf(),
            source,
        })
    })
}

/// Writes a file through a buffered writer, to `PATH.partial` first and renamed into place when
/// `write` succeeds, so a large output never has to be held in memory whole.
pub(crate) fn write_streamed(
    path: &Path,
    write: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> Result<(), ReportError>,
) -> Result<(), ReportError> {
    use std::io::Write as _;
    let io = |source| ReportError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".partial");
    let tmp = PathBuf::from(tmp);
    let mut out = std::io::BufWriter::new(std::fs::File::create(&tmp).map_err(io)?);
    write(&mut out)?;
    out.flush().map_err(io)?;
    drop(out);
    std::fs::rename(&tmp, path).map_err(io)
}

/// Writes each of `formats` into `out_dir` (created if missing) and returns the paths written.
///
/// With `redact`, canary values are masked in every output (see [`redact::redact`]). Secrets are
/// never written, redacted or not.
pub fn write_all(
    report: &Report,
    out_dir: &Path,
    formats: &[Format],
    redact: bool,
) -> Result<Vec<PathBuf>, ReportError> {
    std::fs::create_dir_all(out_dir).map_err(|source| ReportError::Io {
        path: out_dir.to_path_buf(),
        source,
    })?;
    // Findings on disk are streamed into the JSON report; the other outputs, and redaction,
    // read them all.
    let loaded;
    let report = if report.spilled.is_some()
        && (redact
            || formats
                .iter()
                .any(|f| !matches!(f, Format::Json | Format::Har)))
    {
        loaded = report.with_findings()?;
        &loaded
    } else {
        report
    };
    // The redactor is built from the unredacted report: the redacted one no longer holds the values.
    let redactor = redact.then(|| redact::Redactor::new(report));
    let redacted;
    let report = match &redactor {
        Some(r) => {
            redacted = r.apply(report.clone());
            &redacted
        }
        None => report,
    };
    let mut formats = formats.to_vec();
    formats.sort();
    formats.dedup();
    let mut written = Vec::new();
    for format in formats {
        let path = out_dir.join(format.file_name());
        match format {
            Format::Json => json::write_json(report, &path)?,
            Format::Html => {
                let base = screenshot_base(report);
                html::write_html(report, &path, base.as_deref())?
            }
            Format::Sarif => sarif::write_sarif(report, &path)?,
            Format::Junit => junit::write_junit(report, &path)?,
            Format::Har => write_har(report, &path, redactor.as_ref())?,
        }
        tracing::info!(path = %path.display(), "wrote {} report", format.as_str());
        written.push(path);
    }
    Ok(written)
}

/// Screenshot paths in the report are relative to the capture file's folder.
pub fn screenshot_base(report: &Report) -> Option<PathBuf> {
    let capture = report.run.capture_file.as_deref()?;
    Some(
        Path::new(capture)
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default(),
    )
}

/// Whether a report's source file is a HAR (by its extension), not a JSON Lines capture.
fn is_har_file(path: &str) -> bool {
    Path::new(path)
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("har"))
}

/// HAR 1.2 export of the capture the report was built from, masked like the report when redacting.
///
/// Streams: one capture line in memory at a time (plus the pages and WebSockets), written to a
/// `.partial` file renamed into place at the end.
fn write_har(
    report: &Report,
    path: &Path,
    redactor: Option<&redact::Redactor>,
) -> Result<(), ReportError> {
    let Some(capture) = report.run.capture_file.as_deref() else {
        return Err(ReportError::NoCapture);
    };
    if is_har_file(capture) {
        // The report was made from a HAR: its HAR output is that HAR, masked when redacting.
        // Streamed, entry by entry, like the analysis.
        let source = Path::new(capture);
        let (head, _) = crate::capture::har::har_head(source)?;
        let mut journey = report.journey.clone();
        return write_streamed(path, |out| {
            let mut har = crate::capture::har::HarWriter::new(out)?;
            let mut failed: Option<ReportError> = None;
            let one = |record: Record, har: &mut crate::capture::har::HarWriter<_>| {
                let record = match redactor {
                    Some(redactor) => {
                        let mut value = serde_json::to_value(&record)?;
                        redactor.mask_value(&mut value);
                        serde_json::from_value(value)?
                    }
                    None => record,
                };
                har.record(&record).map_err(ReportError::from)
            };
            for r in head.prelude(&mut journey) {
                one(r, &mut har)?;
            }
            let mut conv = head.converter(&journey);
            let mut records = Vec::new();
            crate::capture::har::for_each_entry(source, |e| {
                conv.convert(e, &mut records);
                for r in records.drain(..) {
                    if failed.is_none() {
                        if let Err(e) = one(r, &mut har) {
                            failed = Some(e);
                        }
                    }
                }
            })?;
            if let Some(e) = failed {
                return Err(e);
            }
            har.finish()?;
            Ok(())
        });
    }
    write_streamed(path, |out| {
        let mut har = crate::capture::har::HarWriter::new(out)?;
        let path = Path::new(capture);
        let no_progress = crate::capture::reader::ProgressHook::default();
        crate::capture::reader::for_each_line::<ReportError>(
            path,
            (&no_progress, 1),
            |n, line| {
                let bad = |e| ReportError::from(ReadError::line(path, n, e));
                let mut value: serde_json::Value = serde_json::from_slice(line).map_err(bad)?;
                let known = value
                    .get("type")
                    .and_then(serde_json::Value::as_str)
                    .is_some_and(crate::capture::reader::is_known_type);
                if !known {
                    return Ok(());
                }
                if let Some(redactor) = redactor {
                    redactor.mask_value(&mut value);
                }
                let record: Record = serde_json::from_value(value).map_err(bad)?;
                har.record(&record)?;
                Ok(())
            },
        )?;
        har.finish()?;
        Ok(())
    })
}

/// Reads a JSON report written by [`write_all`], e.g. for `leakhound diff`.
pub fn read_report(path: &Path) -> Result<Report, ReportError> {
    let text = std::fs::read_to_string(path).map_err(|source| ReportError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let report: Report = serde_json::from_str(&text).map_err(|e| ReportError::NotAReport {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    if report.format != model::REPORT_FORMAT_NAME {
        return Err(ReportError::NotAReport {
            path: path.to_path_buf(),
            message: format!("format is `{}`", report.format),
        });
    }
    if report.version > model::REPORT_FORMAT_VERSION {
        return Err(ReportError::NotAReport {
            path: path.to_path_buf(),
            message: format!(
                "report version {} is newer than this leakhound reads ({})",
                report.version,
                model::REPORT_FORMAT_VERSION
            ),
        });
    }
    Ok(report)
}
