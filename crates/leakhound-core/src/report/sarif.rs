//! SARIF 2.1.0 for code-scanning dashboards (GitHub code scanning and others).
//!
//! One rule per data kind, one result per finding group. A result points at the scenario file and at
//! the line of the step where the flow first happened, so the dashboard links to the journey that
//! reproduces it. Ignored findings are reported as suppressed with the policy's written reason;
//! allowed flows are `pass` results, so a dashboard shows the whole picture without alerting on them.

use std::path::Path;

use serde_json::{json, Value};

use crate::capture::record::RunStatus;
use crate::classify::finding::{DataKind, FindingGroup, Severity};
use crate::scenario::StepLines;

use super::explain;
use super::model::Report;
use super::policy::Decision;
use super::{write_file, ReportError};

/// The SARIF version written.
pub const SARIF_VERSION: &str = "2.1.0";
const SARIF_SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// The rule id of a data kind, e.g. `leakhound/search_term`.
pub fn rule_id(kind: DataKind) -> String {
    format!("leakhound/{}", kind.as_str())
}

fn rule_name(kind: DataKind) -> &'static str {
    match kind {
        DataKind::UrlPath => "PagePathSentToThirdParty",
        DataKind::SearchTerm => "SearchTermSentToThirdParty",
        DataKind::Identifier => "IdentifierSentToThirdParty",
        DataKind::PageTitle => "PageTitleSentToThirdParty",
        DataKind::FormInput => "FormInputSentBeforeSubmit",
        DataKind::Credential => "CredentialSentToThirdParty",
    }
}

/// GitHub's `security-severity` (0–10) per rule.
fn security_severity(kind: DataKind) -> &'static str {
    match kind {
        DataKind::Credential => "9.5",
        DataKind::Identifier => "8.5",
        DataKind::FormInput => "8.0",
        DataKind::SearchTerm => "7.5",
        DataKind::UrlPath => "7.0",
        DataKind::PageTitle => "6.0",
    }
}

fn rules() -> Vec<Value> {
    DataKind::ALL
        .iter()
        .map(|&kind| {
            json!({
                "id": rule_id(kind),
                "name": rule_name(kind),
                "shortDescription": { "text": format!("{} sent to a third party", explain::kind_title(kind)) },
                "fullDescription": { "text": explain::kind_what(kind) },
                "help": {
                    "text": format!("{} {}", explain::kind_what(kind), explain::kind_why(kind)),
                    "markdown": format!("**What:** {}\n\n**Why it matters:** {}", explain::kind_what(kind), explain::kind_why(kind)),
                },
                "defaultConfiguration": { "level": "error" },
                "properties": {
                    "tags": ["privacy", "hipaa", "security", kind.as_str()],
                    "precision": "high",
                    "security-severity": security_severity(kind),
                },
            })
        })
        .collect()
}

fn artifact_uri(file: &str) -> Value {
    let file = file.replace('\\', "/");
    if file.is_empty() {
        json!({ "uri": "scenario.json", "uriBaseId": "%SRCROOT%" })
    } else if Path::new(&file).is_absolute() {
        json!({ "uri": format!("file://{file}") })
    } else {
        json!({ "uri": file.trim_start_matches("./"), "uriBaseId": "%SRCROOT%" })
    }
}

/// What results point at: the scenario file, or for an analysed HAR (no scenario) the HAR file.
fn artifact_of(report: &Report) -> Value {
    if report.journey.file.is_empty() {
        if let Some(capture) = report.run.capture_file.as_deref().filter(|c| !c.is_empty()) {
            return artifact_uri(capture);
        }
    }
    artifact_uri(&report.journey.file)
}

fn level(severity: Severity) -> &'static str {
    if severity >= Severity::High {
        "error"
    } else {
        "warning"
    }
}

fn result(report: &Report, g: usize, group: &FindingGroup, lines: &StepLines) -> Value {
    let members = report.findings_of_group(g);
    let decisions: Vec<&Decision> = members.iter().filter_map(|&i| report.decision(i)).collect();
    let first_step = group.steps.first().copied().unwrap_or(0);
    let step_label = report
        .step(first_step)
        .map(|s| s.label.clone())
        .unwrap_or_default();
    let line = lines.of_step(first_step).unwrap_or(1);
    let party = report.party_name(&group.domain);
    let what = match (group.kind, &group.value) {
        (DataKind::Credential, _) | (_, None) => group.canary.clone(),
        (_, Some(v)) => v.clone(),
    };
    let message = format!(
        "{} '{}' was sent to {} ({}) in step {} ({}), {} time(s) via {}.",
        explain::kind_title(group.kind),
        what,
        party,
        group.domain,
        first_step,
        step_label,
        group.occurrences,
        group.channels.join(", ")
    );
    // The rule that makes it one, in the words of the finding's gravest regime.
    let rule = members
        .iter()
        .filter_map(|&i| report.findings.get(i))
        .max_by_key(|f| f.severity)
        .and_then(|f| f.rule.clone());
    let message = match &rule {
        Some(r) => format!("{message} {r}"),
        None => message,
    };
    let violation = decisions.iter().any(|d| matches!(d, Decision::Violation));
    let ignored: Vec<&Decision> = decisions
        .iter()
        .copied()
        .filter(|d| matches!(d, Decision::Ignored { .. }))
        .collect();
    let allowed = decisions
        .iter()
        .any(|d| matches!(d, Decision::Allowed { .. }));
    let decision = if violation {
        "violation"
    } else if !ignored.is_empty() {
        "ignored"
    } else if allowed {
        "allowed"
    } else {
        decisions.first().map(|d| d.as_str()).unwrap_or("none")
    };
    let vendor_name = report
        .third_party(&group.domain)
        .and_then(|t| t.vendor_name.clone());
    let mut result = json!({
        "ruleId": rule_id(group.kind),
        "ruleIndex": DataKind::ALL.iter().position(|k| *k == group.kind).unwrap_or(0),
        "message": { "text": message },
        "locations": [{
            "physicalLocation": {
                "artifactLocation": artifact_of(report),
                "region": { "startLine": line },
            },
            "logicalLocations": [{
                "name": format!("step {first_step}"),
                "fullyQualifiedName": format!("{}/steps[{first_step}]", report.journey.name),
            }],
        }],
        "partialFingerprints": {
            "leakhoundFlow/v1": format!("{}|{}|{}", group.domain, group.kind.as_str(), group.canary),
        },
        "properties": {
            "domain": group.domain,
            "vendor": group.vendor,
            "vendorName": vendor_name,
            "kind": group.kind.as_str(),
            "subKind": group.sub_kind,
            "canary": group.canary,
            "severity": group.severity.as_str(),
            "channels": group.channels,
            "encodings": group.encodings,
            "occurrences": group.occurrences,
            "delivered": group.delivered,
            "initiatedOnly": group.initiated_only,
            "steps": group.steps,
            "policyDecision": decision,
            "rule": rule,
        },
    });
    if let Some(obj) = result.as_object_mut() {
        if violation {
            obj.insert("level".into(), json!(level(group.severity)));
        } else if !ignored.is_empty() {
            obj.insert("level".into(), json!(level(group.severity)));
            let suppressions: Vec<Value> = ignored
                .iter()
                .filter_map(|d| match d {
                    Decision::Ignored { reason, .. } => Some(reason.clone()),
                    _ => None,
                })
                .fold(Vec::<String>::new(), |mut acc, r| {
                    if !acc.contains(&r) {
                        acc.push(r);
                    }
                    acc
                })
                .into_iter()
                .map(|r| json!({ "kind": "external", "status": "accepted", "justification": r }))
                .collect();
            obj.insert("suppressions".into(), json!(suppressions));
        } else if allowed {
            obj.insert("kind".into(), json!("pass"));
            obj.insert("level".into(), json!("none"));
        } else {
            obj.insert("level".into(), json!("note"));
        }
    }
    result
}

/// The SARIF log as a JSON value.
pub fn to_sarif(report: &Report, scenario_text: Option<&str>) -> Value {
    let lines = scenario_text
        .map(StepLines::of_scenario)
        .unwrap_or_default();
    let results: Vec<Value> = report
        .groups
        .iter()
        .enumerate()
        .map(|(g, group)| result(report, g, group, &lines))
        .collect();
    let mut invocation = json!({
        "executionSuccessful": report.run.status == RunStatus::Complete,
    });
    if let (Some(reason), Some(obj)) = (&report.run.reason, invocation.as_object_mut()) {
        obj.insert(
            "toolExecutionNotifications".into(),
            json!([{ "level": "error", "message": { "text": format!("run incomplete: {reason}") } }]),
        );
    }
    json!({
        "$schema": SARIF_SCHEMA_URI,
        "version": SARIF_VERSION,
        "runs": [{
            "tool": { "driver": {
                "name": "leakhound",
                "version": report.tool_version,
                "semanticVersion": report.tool_version,
                "rules": rules(),
            } },
            // No `automationDetails.id`: GitHub's upload step sets the run's category (its
            // `category` input) and a pre-set id would override it.
            "invocations": [invocation],
            "results": results,
            "properties": {
                "journey": report.journey.name,
                "startUrl": report.journey.start_url,
                "verdict": report.verdict.status.as_str(),
                "signaturesVersion": report.signatures_version,
                "redacted": report.redacted,
            },
        }],
    })
}

/// Writes the SARIF log. Reads the scenario file (when it exists) to point results at step lines.
pub fn write_sarif(report: &Report, path: &Path) -> Result<(), ReportError> {
    let scenario = if report.journey.file.is_empty() {
        None
    } else {
        std::fs::read_to_string(&report.journey.file).ok()
    };
    let mut text = serde_json::to_string_pretty(&to_sarif(report, scenario.as_deref()))?;
    text.push('\n');
    write_file(path, text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_step_lines() {
        let text = r##"{
  "name": "x",
  "identity": {"steps": {"kind": "text", "value": "[{"}},
  "steps": [
    {"action": "goto", "url": "/"},
    {
      "action": "click", "selector": "a[href='}']"
    },
    {"action": "type", "selector": "#q", "text": "chest \"pain\""}
  ],
  "leave": {}
}"##;
        let lines = StepLines::of_scenario(text);
        assert_eq!(lines.steps, vec![5, 6, 9]);
        assert_eq!(lines.start_url, None);
        assert_eq!(lines.leave, Some(11));
        // Step 0 has no start_url here: the first step; the leave step: `leave`.
        assert_eq!(lines.of_step(0), Some(5));
        assert_eq!(lines.of_step(1), Some(5));
        assert_eq!(lines.of_step(3), Some(9));
        assert_eq!(lines.of_step(4), Some(11));
    }

    #[test]
    fn step_numbers_map_to_the_lines_they_came_from() {
        let text = "{\n  // a comment with \"steps\": [ {\n  \"name\": \"x\",\n  \"start_url\": \"https://a.test/\",\n  \"steps\": [\n    {\"action\": \"click\", \"selector\": \"a\"},\n    {\"action\": \"press\", \"key\": \"Enter\"}\n  ]\n}\n";
        let lines = StepLines::of_scenario(text);
        assert_eq!(lines.start_url, Some(4));
        assert_eq!(lines.steps, vec![6, 7]);
        assert_eq!(lines.of_step(0), Some(4));
        assert_eq!(lines.of_step(2), Some(7));
        // No `leave` member: the leave step points at the last step.
        assert_eq!(lines.of_step(3), Some(7));
    }

    #[test]
    fn a_quote_inside_a_block_comment_does_not_shift_the_lines() {
        let text = "{\n  /* a \"quoted\n  word */\n  \"start_url\": \"https://a.test/\",\n  \"steps\": [\n    {\"action\": \"click\", \"selector\": \"a\"}\n  ]\n}\n";
        let lines = StepLines::of_scenario(text);
        assert_eq!(lines.start_url, Some(4));
        assert_eq!(lines.steps, vec![6]);
    }

    #[test]
    fn uris_are_relative_to_the_source_root() {
        assert_eq!(
            artifact_uri("./scenarios/a.json")["uri"],
            json!("scenarios/a.json")
        );
        assert_eq!(
            artifact_uri("/abs/a.json")["uri"],
            json!("file:///abs/a.json")
        );
    }
}
