//! JUnit XML: one test case per journey step, failing when that step leaked against policy.
//!
//! CI systems (GitLab, Jenkins, Azure DevOps, GitHub test reporters) all read JUnit, so a release
//! pipeline shows "step 3: search for chest pain — FAILED" without knowing anything about leakhound.
//! A failed step (the browser could not do it) is an `<error>`, not a `<failure>`, and an incomplete
//! run adds a failing `run completed` case: a broken run must not look like a clean one. A step that
//! both leaked and failed is a `<failure>` (the leak is what the pipeline must stop on) whose text
//! also says why the step failed.
//!
//! The XML itself is written by `quick-junit` (cargo-nextest's JUnit writer), which also drops the
//! control characters XML 1.0 forbids even escaped; page data may contain them.

use std::path::Path;
use std::time::Duration;

use quick_junit::{NonSuccessKind, Property, TestCase, TestCaseStatus, TestSuite};

use crate::capture::record::RunStatus;

use super::explain;
use super::model::{Report, StepReport};
use super::policy::Decision;
use super::{write_file, ReportError};

fn seconds(ms: f64) -> Duration {
    Duration::try_from_secs_f64(ms.max(0.0) / 1000.0).unwrap_or_default()
}

/// How long each step took: until the next step began, or the end of the run.
fn durations(report: &Report) -> Vec<f64> {
    report
        .steps
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let next = report
                .steps
                .get(i + 1)
                .map(|n| n.time_ms)
                .unwrap_or(report.run.duration_ms);
            (next - s.time_ms).max(0.0)
        })
        .collect()
}

/// Lines describing a step's findings with the given decisions.
fn flow_lines(report: &Report, step: &StepReport, pick: impl Fn(&Decision) -> bool) -> Vec<String> {
    report
        .findings
        .iter()
        .enumerate()
        .filter(|(i, f)| f.step == step.index && report.decision(*i).is_some_and(&pick))
        .map(|(i, f)| {
            let what = match (&f.value, f.kind) {
                (Some(v), kind) if kind != crate::classify::finding::DataKind::Credential => {
                    v.clone()
                }
                _ => f.canary.clone(),
            };
            let decision = report
                .decision(i)
                .map(explain::decision_words)
                .unwrap_or_default();
            format!(
                "{} '{}' -> {} ({}) via {} [{}], {} {} — {}",
                explain::kind_title(f.kind),
                what,
                report.party_name(&f.domain),
                f.domain,
                f.channel,
                f.encoding_label(),
                f.method,
                f.request_url,
                decision
            )
        })
        .collect()
}

/// The JUnit XML document.
pub fn to_junit(report: &Report) -> Result<String, ReportError> {
    let incomplete = report.run.status == RunStatus::Incomplete;
    let suite_name = if report.journey.name.is_empty() {
        "journey".to_string()
    } else {
        report.journey.name.clone()
    };
    let classname = format!("leakhound.{suite_name}");
    let mut suite = TestSuite::new(suite_name);
    suite.set_time(seconds(report.run.duration_ms));
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(&report.run.started_at) {
        suite.set_timestamp(t);
    }
    suite.add_properties([
        Property::new("verdict", report.verdict.status.as_str()),
        Property::new("start_url", report.journey.start_url.as_str()),
        Property::new("scenario", report.journey.file.as_str()),
        Property::new("tool_version", report.tool_version.as_str()),
        Property::new("signatures_version", report.signatures_version.as_str()),
    ]);

    for (step, duration) in report.steps.iter().zip(durations(report)) {
        // Never an empty or dangling name: a HAR page without a title is still a named case.
        let name = match step.label.trim() {
            "" => format!("step {} ({})", step.index, step.action),
            label => format!("step {} ({}): {label}", step.index, step.action),
        };
        let status = if step.violations > 0 {
            let lines = flow_lines(report, step, |d| matches!(d, Decision::Violation));
            let parties: Vec<String> = step
                .flows
                .iter()
                .filter(|f| f.violations > 0)
                .map(|f| report.party_name(&f.domain))
                .collect();
            let mut text = lines.join("\n");
            if let Some(error) = &step.error {
                text.push_str(&format!("\nThe step also failed: {error}"));
            }
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            status
                .set_message(format!(
                    "{} finding(s) against policy sent to {}",
                    step.violations,
                    parties.join(", ")
                ))
                .set_type("policy-violation")
                .set_description(text);
            status
        } else if let Some(error) = &step.error {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
            status
                .set_message(format!("step failed: {error}"))
                .set_type("step-error")
                .set_description(error.as_str());
            status
        } else {
            TestCaseStatus::success()
        };
        let mut case = TestCase::new(name, status);
        case.set_classname(classname.as_str())
            .set_time(seconds(duration));
        let others = flow_lines(report, step, |d| !matches!(d, Decision::Violation));
        if !others.is_empty() {
            case.set_system_out(others.join("\n"));
        }
        suite.add_test_case(case);
    }

    let status = if incomplete {
        let reason = report
            .run
            .reason
            .clone()
            .unwrap_or_else(|| "the run did not finish".to_string());
        let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
        status
            .set_message(format!("run incomplete: {reason}"))
            .set_type("run-incomplete")
            .set_description(reason);
        status
    } else {
        TestCaseStatus::success()
    };
    let mut case = TestCase::new("run completed", status);
    case.set_classname(classname)
        .set_time(seconds(report.run.duration_ms));
    suite.add_test_case(case);

    let mut doc = quick_junit::Report::new("leakhound");
    doc.set_time(seconds(report.run.duration_ms));
    doc.add_test_suite(suite);
    let mut text = doc.to_string()?;
    if !text.ends_with('\n') {
        text.push('\n');
    }
    Ok(text)
}

/// Writes the JUnit XML file.
pub fn write_junit(report: &Report, path: &Path) -> Result<(), ReportError> {
    write_file(path, to_junit(report)?.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_never_reach_the_xml() {
        let mut case = TestCase::new("a\u{0}b\tc\u{1b}", TestCaseStatus::success());
        case.set_classname("x");
        let mut suite = TestSuite::new("s");
        suite.add_test_case(case);
        let mut doc = quick_junit::Report::new("r");
        doc.add_test_suite(suite);
        let xml = doc.to_string().unwrap();
        assert!(!xml.contains('\u{0}') && !xml.contains('\u{1b}'), "{xml}");
    }
}
