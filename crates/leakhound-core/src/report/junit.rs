//! JUnit XML: one test case per journey step, failing when that step leaked against policy.
//!
//! CI systems (GitLab, Jenkins, Azure DevOps, GitHub test reporters) all read JUnit, so a release
//! pipeline shows "step 3: search for chest pain — FAILED" without knowing anything about leakhound.
//! A failed step (the browser could not do it) is an `<error>`, not a `<failure>`, and an incomplete
//! run adds a failing `run completed` case: a broken run must not look like a clean one.

use std::path::Path;

use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;

use crate::capture::record::RunStatus;

use super::explain;
use super::model::{Report, StepReport};
use super::policy::Decision;
use super::{write_file, ReportError};

/// XML 1.0 forbids most control characters even when escaped; page data may contain them.
fn xml_safe(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\t' | '\n' | '\r' => c,
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => '\u{FFFD}',
            c => c,
        })
        .collect()
}

struct Xml {
    w: Writer<Vec<u8>>,
}

impl Xml {
    fn ev(&mut self, event: Event<'_>) -> Result<(), ReportError> {
        self.w
            .write_event(event)
            .map_err(|e| ReportError::Xml(e.to_string()))
    }

    fn start(&mut self, name: &str, attrs: &[(&str, String)]) -> Result<(), ReportError> {
        self.ev(Event::Start(element(name, attrs)))
    }

    fn empty(&mut self, name: &str, attrs: &[(&str, String)]) -> Result<(), ReportError> {
        self.ev(Event::Empty(element(name, attrs)))
    }

    fn end(&mut self, name: &str) -> Result<(), ReportError> {
        self.ev(Event::End(BytesEnd::new(name.to_string())))
    }

    fn text_element(
        &mut self,
        name: &str,
        attrs: &[(&str, String)],
        text: &str,
    ) -> Result<(), ReportError> {
        self.start(name, attrs)?;
        let safe = xml_safe(text);
        self.ev(Event::Text(BytesText::new(&safe)))?;
        self.end(name)
    }
}

fn element(name: &str, attrs: &[(&str, String)]) -> BytesStart<'static> {
    let mut start = BytesStart::new(name.to_string());
    for (key, value) in attrs {
        start.push_attribute((*key, xml_safe(value).as_str()));
    }
    start
}

fn seconds(ms: f64) -> String {
    format!("{:.3}", (ms.max(0.0)) / 1000.0)
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
    let mut x = Xml {
        w: Writer::new_with_indent(Vec::new(), b' ', 2),
    };
    let incomplete = report.run.status == RunStatus::Incomplete;
    let tests = report.steps.len() + 1;
    let failures = report.steps.iter().filter(|s| s.violations > 0).count();
    let errors =
        report.steps.iter().filter(|s| s.error.is_some()).count() + usize::from(incomplete);
    let suite_name = if report.journey.name.is_empty() {
        "journey".to_string()
    } else {
        report.journey.name.clone()
    };
    let classname = format!("leakhound.{suite_name}");
    let totals = [
        ("tests", tests.to_string()),
        ("failures", failures.to_string()),
        ("errors", errors.to_string()),
        ("time", seconds(report.run.duration_ms)),
    ];

    x.ev(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    let mut attrs = vec![("name", "leakhound".to_string())];
    attrs.extend(totals.iter().cloned());
    x.start("testsuites", &attrs)?;
    let mut attrs = vec![("name", suite_name.clone())];
    attrs.extend(totals.iter().cloned());
    attrs.push(("timestamp", report.run.started_at.clone()));
    x.start("testsuite", &attrs)?;

    x.start("properties", &[])?;
    for (name, value) in [
        ("verdict", report.verdict.status.as_str().to_string()),
        ("start_url", report.journey.start_url.clone()),
        ("scenario", report.journey.file.clone()),
        ("tool_version", report.tool_version.clone()),
        ("signatures_version", report.signatures_version.clone()),
    ] {
        x.empty("property", &[("name", name.to_string()), ("value", value)])?;
    }
    x.end("properties")?;

    for (step, duration) in report.steps.iter().zip(durations(report)) {
        // Never an empty or dangling name: a HAR page without a title is still a named case.
        let name = match step.label.trim() {
            "" => format!("step {} ({})", step.index, step.action),
            label => format!("step {} ({}): {label}", step.index, step.action),
        };
        x.start(
            "testcase",
            &[
                ("name", name),
                ("classname", classname.clone()),
                ("time", seconds(duration)),
            ],
        )?;
        if step.violations > 0 {
            let lines = flow_lines(report, step, |d| matches!(d, Decision::Violation));
            let parties: Vec<String> = step
                .flows
                .iter()
                .filter(|f| f.violations > 0)
                .map(|f| report.party_name(&f.domain))
                .collect();
            x.text_element(
                "failure",
                &[
                    (
                        "message",
                        format!(
                            "{} finding(s) against policy sent to {}",
                            step.violations,
                            parties.join(", ")
                        ),
                    ),
                    ("type", "policy-violation".to_string()),
                ],
                &lines.join("\n"),
            )?;
        }
        if let Some(error) = &step.error {
            x.text_element(
                "error",
                &[
                    ("message", format!("step failed: {error}")),
                    ("type", "step-error".to_string()),
                ],
                error,
            )?;
        }
        let others = flow_lines(report, step, |d| !matches!(d, Decision::Violation));
        if !others.is_empty() {
            x.text_element("system-out", &[], &others.join("\n"))?;
        }
        x.end("testcase")?;
    }

    x.start(
        "testcase",
        &[
            ("name", "run completed".to_string()),
            ("classname", classname),
            ("time", seconds(report.run.duration_ms)),
        ],
    )?;
    if incomplete {
        let reason = report
            .run
            .reason
            .clone()
            .unwrap_or_else(|| "the run did not finish".to_string());
        x.text_element(
            "error",
            &[
                ("message", format!("run incomplete: {reason}")),
                ("type", "run-incomplete".to_string()),
            ],
            &reason,
        )?;
    }
    x.end("testcase")?;

    x.end("testsuite")?;
    x.end("testsuites")?;
    let mut bytes = x.w.into_inner();
    bytes.push(b'\n');
    String::from_utf8(bytes).map_err(|e| ReportError::Xml(e.to_string()))
}

/// Writes the JUnit XML file.
pub fn write_junit(report: &Report, path: &Path) -> Result<(), ReportError> {
    write_file(path, to_junit(report)?.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_become_replacement_chars() {
        assert_eq!(xml_safe("a\u{0}b\tc\u{1b}"), "a\u{FFFD}b\tc\u{FFFD}");
    }
}
