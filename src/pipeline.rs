//! The whole pipeline for one journey, as the CLI, the demo and the tests run it:
//! scenario → browser → capture → classify → report.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use leakhound_browser::driver::RenderedText;
use leakhound_browser::journey::{run_journey, Progress, RunError, RunOptions};
use leakhound_core::classify::{
    analyze_capture, analyze_har_with, ClassifyError, ClassifyOptions, IdentityFile,
};
use leakhound_core::report::{
    build_report, exit_code, write_all, Format, Policy, Report, ReportBuilder, ReportError,
    ReportMeta,
};
use leakhound_core::scenario::model::Scenario;
use leakhound_core::scenario::template::{journey_info_resolved, render, resolve_identity};
use leakhound_core::scenario::ScenarioError;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuditError {
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    #[error(transparent)]
    Run(#[from] RunError),
    #[error(transparent)]
    Classify(#[from] ClassifyError),
    #[error(transparent)]
    Report(#[from] ReportError),
}

/// How to classify and report.
#[derive(Debug, Clone)]
pub struct ReportOptions {
    pub classify: ClassifyOptions,
    pub policy: Option<Policy>,
    pub formats: Vec<Format>,
    pub redact: bool,
}

/// What one audited journey produced.
#[derive(Debug, Clone)]
pub struct Audit {
    pub report: Report,
    /// Report files written.
    pub written: Vec<PathBuf>,
    pub exit_code: i32,
}

/// A file-system-friendly name for a journey.
pub fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_matches('-').to_string();
    if out.is_empty() {
        "journey".to_string()
    } else {
        out
    }
}

/// Runs `scenario` (read from `file`) into `out_dir`: `capture.jsonl`, `screenshots/` and the
/// reports. `env` supplies secrets and `{{env.NAME}}` values. `run` is taken as a template: its
/// capture path is set here.
pub async fn audit_scenario(
    scenario: &Scenario,
    file: &str,
    env: &(dyn Fn(&str) -> Option<String> + Send + Sync),
    run: &RunOptions,
    report: &ReportOptions,
    out_dir: &Path,
    progress: &Progress,
) -> Result<Audit, AuditError> {
    let identity = resolve_identity(scenario, env)?;
    let journey = journey_info_resolved(scenario, file, &identity);
    let secrets: BTreeMap<String, String> = identity
        .secrets()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let renderer = move |template: &str| {
        render(template, &identity, env).map(|r| RenderedText {
            text: r.text.clone(),
            canary_key: r.canary_key.clone(),
            secret: r.contains_secret,
        })
    };
    let mut opts = run.clone();
    opts.capture_path = out_dir.join("capture.jsonl");
    let outcome = run_journey(scenario, journey, &secrets, &renderer, &opts, progress).await?;

    let mut classify = report.classify.clone();
    classify.secrets.extend(secrets.clone());
    let mut meta = ReportMeta::now(Some(outcome.capture_path.display().to_string()));
    meta.secret_values = secrets.values().cloned().collect();
    report_capture(&outcome.capture_path, &classify, report, meta, out_dir)
}

/// Classifies a capture file and writes the reports into `out_dir`.
pub fn report_capture(
    capture: &Path,
    classify: &ClassifyOptions,
    report: &ReportOptions,
    meta: ReportMeta,
    out_dir: &Path,
) -> Result<Audit, AuditError> {
    let (summary, analysis) = analyze_capture(capture, classify)?;
    let built = build_report(&summary, analysis, report.policy.as_ref(), meta);
    let written = write_all(&built, out_dir, &report.formats, report.redact)?;
    let code = exit_code(&built);
    Ok(Audit {
        report: built,
        written,
        exit_code: code,
    })
}

/// Classifies a HAR file (from any browser's DevTools) against `identity` and writes the reports
/// into `out_dir`. Streamed entry by entry: no intermediate capture file, memory flat. The reports
/// point at the HAR the user gave (SARIF results locate the HAR, not a scenario that does not
/// exist), and the identity's secrets are searched for but never written.
pub fn report_har(
    har: &Path,
    identity: &IdentityFile,
    report: &ReportOptions,
    out_dir: &Path,
) -> Result<Audit, AuditError> {
    let mut classify = report.classify.clone();
    classify.secrets.extend(identity.secrets()?);
    let mut meta = ReportMeta::now(Some(har.display().to_string()));
    meta.secret_values = classify.secrets.values().cloned().collect();
    // Each finding is decided and written to disk as it is made: memory stays flat whatever the
    // HAR's size (the JSON report streams the findings back).
    let mut builder = ReportBuilder::new(report.policy.as_ref(), &meta.secret_values)?;
    let (summary, analysis) = analyze_har_with(har, identity, &classify, |f| builder.push(f))?;
    let built = builder.finish(&summary, analysis, meta)?;
    let written = write_all(&built, out_dir, &report.formats, report.redact)?;
    let code = exit_code(&built);
    Ok(Audit {
        report: built,
        written,
        exit_code: code,
    })
}

/// The exit code of several journeys: incomplete beats violations beats clean.
pub fn combined_exit_code(codes: impl IntoIterator<Item = i32>) -> i32 {
    use leakhound_core::report::{EXIT_INCOMPLETE, EXIT_OK, EXIT_USAGE, EXIT_VIOLATIONS};
    let codes: Vec<i32> = codes.into_iter().collect();
    for code in [EXIT_USAGE, EXIT_INCOMPLETE, EXIT_VIOLATIONS] {
        if codes.contains(&code) {
            return code;
        }
    }
    EXIT_OK
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_and_codes() {
        assert_eq!(
            slug("Symptom search: chest pain!"),
            "symptom-search-chest-pain"
        );
        assert_eq!(slug("///"), "journey");
        assert_eq!(combined_exit_code([0, 1, 3]), 3);
        assert_eq!(combined_exit_code([0, 1]), 1);
        assert_eq!(combined_exit_code([]), 0);
    }
}
