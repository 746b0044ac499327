//! Report outputs built from one hand-made journey: JSON (against docs/report.schema.json), SARIF
//! (against the official SARIF 2.1.0 schema), JUnit (parsed back), terminal summary, policy, exit
//! codes, diff, and the promise that secrets never appear and `--redact` masks canary values.

#[path = "report_support/fixture.rs"]
mod fixture;

use std::path::{Path, PathBuf};

use leakhound_core::classify::finding::{DataKind, Severity};
use leakhound_core::report::{
    self, build_report, diff, exit_code, junit, policy::Decision, sarif, terminal, Format, Policy,
    PolicyError, Report, ReportMeta, VerdictStatus,
};
use quick_xml::events::Event;
use serde_json::Value;

fn meta() -> ReportMeta {
    ReportMeta {
        tool_version: "0.1.0".into(),
        generated_at: "2026-11-23T09:05:00Z".into(),
        capture_file: Some(
            fixture::fixtures_dir()
                .join("capture.jsonl")
                .display()
                .to_string(),
        ),
        secret_values: vec![fixture::PASSWORD.into()],
    }
}

fn policy() -> Policy {
    Policy::parse(fixture::POLICY, Path::new("policy.json")).expect("fixture policy parses")
}

fn report_with(policy: Option<&Policy>, complete: bool) -> Report {
    build_report(
        &fixture::summary(complete, None),
        fixture::analysis(),
        policy,
        meta(),
    )
}

fn manifest() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn validator(schema_path: &Path) -> jsonschema::Validator {
    let text = std::fs::read_to_string(schema_path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", schema_path.display()));
    let schema: Value = serde_json::from_str(&text).expect("schema is JSON");
    jsonschema::validator_for(&schema).expect("schema compiles")
}

fn assert_valid(validator: &jsonschema::Validator, doc: &Value, what: &str) {
    let errors: Vec<String> = validator
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{what} is invalid:\n{}",
        errors.join("\n")
    );
}

fn report_schema() -> jsonschema::Validator {
    validator(&manifest().join("docs/report.schema.json"))
}

/// Every output of a report, as text, for "never contains" checks.
fn all_outputs(report: &Report, redact: bool) -> Vec<(String, String)> {
    let dir = tempfile::tempdir().unwrap();
    let formats = [Format::Json, Format::Html, Format::Sarif, Format::Junit];
    let written = report::write_all(report, dir.path(), &formats, redact).unwrap();
    assert_eq!(written.len(), 4);
    let mut outs: Vec<(String, String)> = written
        .iter()
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read_to_string(p).unwrap(),
            )
        })
        .collect();
    let shown = if redact {
        report::redact::redact(report.clone())
    } else {
        report.clone()
    };
    outs.push((
        "terminal".into(),
        terminal::render_summary(&shown, &written),
    ));
    outs.push(("diff".into(), diff(&shown, &shown).to_text()));
    outs
}

#[test]
fn json_report_validates_against_schema_and_round_trips() {
    let schema = report_schema();
    for (policy, complete) in [
        (None, true),
        (Some(policy()), true),
        (Some(policy()), false),
    ] {
        let report = report_with(policy.as_ref(), complete);
        let text = report::json::to_json(&report).unwrap();
        let value: Value = serde_json::from_str(&text).unwrap();
        assert_valid(&schema, &value, "report.json");
        let back: Report = serde_json::from_str(&text).unwrap();
        // typed_values is memory-only, so compare the serialized forms.
        assert_eq!(report::json::to_json(&back).unwrap(), text);
        let redacted = report::redact::redact(report);
        let value = serde_json::to_value(&redacted).unwrap();
        assert_valid(&schema, &value, "redacted report.json");
    }
}

#[test]
fn schema_rejects_a_credential_with_a_value() {
    let schema = report_schema();
    let mut value = serde_json::to_value(report_with(None, true)).unwrap();
    let findings = value["findings"].as_array_mut().unwrap();
    let cred = findings
        .iter_mut()
        .find(|f| f["kind"] == "credential")
        .unwrap();
    cred["value"] = Value::String("hunter2".into());
    assert!(!schema.is_valid(&value));
}

#[test]
fn report_structure_follows_the_journey() {
    let report = report_with(None, true);
    assert_eq!(report.format, "leakhound-report");
    assert_eq!(report.steps.len(), 8);
    assert_eq!(report.findings.len(), 12);
    // 12 findings, grouped domain × kind × canary.
    assert_eq!(report.groups.len(), 11);
    let search = report
        .groups
        .iter()
        .find(|g| g.kind == DataKind::SearchTerm)
        .unwrap();
    assert_eq!(search.occurrences, 2);
    assert_eq!(search.delivered, 1);
    assert_eq!(search.initiated_only, 1);
    assert_eq!(search.channels.len(), 2);
    let step5 = report.step(5).unwrap();
    assert_eq!(step5.findings, 3);
    let parties: Vec<&str> = step5.flows.iter().map(|f| f.domain.as_str()).collect();
    assert!(parties.contains(&"hotjar.com") && parties.contains(&"doubleclick.net"));
    assert_eq!(report.step(4).unwrap().dialogs.len(), 1);
    assert_eq!(report.verdict.third_parties_receiving_data, 6);
    // The secret never reaches the journey block.
    let pw = report
        .journey
        .identity
        .iter()
        .find(|c| c.key == "password")
        .unwrap();
    assert!(pw.value.is_none());
}

#[test]
fn default_policy_fails_on_every_flow_and_exit_codes_follow() {
    let report = report_with(None, true);
    assert_eq!(report.verdict.status, VerdictStatus::Fail);
    assert_eq!(report.verdict.violating_findings, 12);
    assert_eq!(report.verdict.violating_groups, 11);
    assert_eq!(exit_code(&report), 1);
    assert!(report.policy.source.is_none());

    let incomplete = report_with(None, false);
    assert_eq!(incomplete.verdict.status, VerdictStatus::Incomplete);
    assert_eq!(exit_code(&incomplete), 3, "incomplete wins over violations");
    assert!(incomplete
        .run
        .reason
        .as_deref()
        .unwrap()
        .contains("end record"));

    let mut clean = fixture::analysis();
    clean.findings.clear();
    let pass = build_report(&fixture::summary(true, None), clean, None, meta());
    assert_eq!(pass.verdict.status, VerdictStatus::Pass);
    assert_eq!(exit_code(&pass), 0);
}

#[test]
fn policy_allows_ignores_and_thresholds() {
    let report = report_with(Some(&policy()), true);
    let d = &report.policy.decisions;
    assert_eq!(d.len(), report.findings.len());
    for (f, decision) in report.findings.iter().zip(d) {
        let expected = if f.domain == "linkedin.com" {
            "ignored"
        } else if f.severity < Severity::Medium {
            "below_threshold"
        } else if f.vendor.as_deref() == Some("google-analytics") && f.kind == DataKind::UrlPath {
            "allowed"
        } else {
            "violation"
        };
        assert_eq!(decision.as_str(), expected, "{} {:?}", f.domain, f.kind);
    }
    assert_eq!(report.policy.ignored.len(), 1);
    assert!(report.policy.ignored[0]
        .reason
        .as_deref()
        .unwrap()
        .contains("PRIV-88"));
    assert_eq!(report.policy.source.as_deref(), Some("policy.json"));
    assert_eq!(
        report.step(4).unwrap().violations,
        1,
        "only quietmetrics.io violates in step 4"
    );
    assert_eq!(exit_code(&report), 1);

    // A policy that allows everything that reached each vendor passes.
    let lenient = Policy::parse(
        r#"{"allow": [
            {"domain": "facebook.com", "kinds": ["url_path", "search_term", "identifier"]},
            {"domain": "google-analytics.com", "kinds": ["url_path", "page_title", "identifier"]},
            {"domain": "doubleclick.net", "kinds": ["identifier"]},
            {"domain": "hotjar.com", "kinds": ["form_input", "credential"]},
            {"domain": "linkedin.com", "kinds": ["url_path"]},
            {"domain": "quietmetrics.io", "kinds": ["url_path"]}
        ]}"#,
        Path::new("lenient.json"),
    )
    .unwrap();
    let pass = report_with(Some(&lenient), true);
    assert_eq!(exit_code(&pass), 0, "{:?}", pass.policy.violations);
}

#[test]
fn example_policy_file_loads_and_bad_files_name_line_and_column() {
    let example = manifest().join("scenarios/policy.example.json");
    let p = Policy::load(&example).unwrap();
    assert!(!p.allow.is_empty() && !p.ignore.is_empty());
    assert!(p.ignore.iter().all(|r| !r.reason.trim().is_empty()));

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad-policy.json");
    std::fs::write(
        &bad,
        "{\n  \"allow\": [],\n  \"ignore\": [\n    { \"vendor\": \"hotjar\", \"reason\": \"\" }\n  ]\n}\n",
    )
    .unwrap();
    let err = Policy::load(&bad).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("bad-policy.json:4:"), "{text}");
    assert!(text.contains("reason"), "{text}");
    assert!(matches!(
        Policy::load(&dir.path().join("missing.json")),
        Err(PolicyError::Io { .. })
    ));
}

#[test]
fn secrets_never_appear_in_any_output() {
    for policy in [None, Some(policy())] {
        let report = report_with(policy.as_ref(), true);
        for redact in [false, true] {
            for (name, text) in all_outputs(&report, redact) {
                for needle in [fixture::PASSWORD, "S3cr3t-Hunter2%21", "S3cr3t"] {
                    assert!(
                        !text.contains(needle),
                        "{name} (redact={redact}) contains the secret form {needle}"
                    );
                }
            }
        }
    }
    // The credential is still reported, by key.
    let report = report_with(None, true);
    let cred = report
        .findings
        .iter()
        .find(|f| f.kind == DataKind::Credential)
        .unwrap();
    assert!(cred.value.is_none());
    assert!(cred
        .evidence
        .as_deref()
        .unwrap()
        .contains("[[(secret withheld)]]"));
}

#[test]
fn redaction_masks_canary_values_everywhere() {
    let report = report_with(Some(&policy()), true);
    // Unredacted outputs do carry the values (so the check below can fail).
    let plain = all_outputs(&report, false);
    assert!(plain.iter().any(|(_, t)| t.contains(fixture::EMAIL)));
    assert!(plain.iter().any(|(_, t)| t.contains(fixture::SEARCH)));

    for (name, text) in all_outputs(&report, true) {
        for needle in [
            fixture::EMAIL,
            "jane.canary%40example.com",
            "amFuZS5jYW5hcnlAZXhhbXBsZS5jb20",
            fixture::PHONE,
            fixture::MEMBER_ID,
            fixture::SEARCH,
            "chest+pain",
            "chest%20pain",
            "chest%2Bpain",
        ] {
            assert!(
                !text.contains(needle),
                "{name} contains {needle} after --redact"
            );
        }
    }
    let redacted = report::redact::redact(report);
    assert!(redacted.redacted);
    let groups: Vec<&str> = redacted.groups.iter().map(|g| g.canary.as_str()).collect();
    assert!(
        groups.contains(&"email"),
        "identity keys stay readable: {groups:?}"
    );
    assert!(
        groups.iter().any(|g| g.starts_with("search:[redacted:")),
        "{groups:?}"
    );
    // Page paths are site content and stay readable.
    assert!(groups.contains(&"page:/appointments/cardiology"));
}

fn sarif_schema_path() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("LEAKHOUND_SARIF_SCHEMA") {
        return Some(PathBuf::from(p));
    }
    let default = manifest().join("target/test-schemas/sarif-schema-2.1.0.json");
    default.exists().then_some(default)
}

#[test]
fn sarif_is_valid_sarif_2_1_0() {
    let Some(schema_path) = sarif_schema_path() else {
        let msg = "SARIF 2.1.0 schema missing: run tests/setup/sarif-schema.sh (or set LEAKHOUND_SARIF_SCHEMA)";
        if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
            panic!("{msg}");
        }
        eprintln!("SKIPPED sarif_is_valid_sarif_2_1_0: {msg}");
        return;
    };
    let schema = validator(&schema_path);
    let scenario = std::fs::read_to_string(fixture::scenario_path()).unwrap();
    for (policy, complete) in [(None, true), (Some(policy()), false)] {
        let report = report_with(policy.as_ref(), complete);
        let doc = sarif::to_sarif(&report, Some(&scenario));
        assert_valid(&schema, &doc, "SARIF log");
        let redacted = sarif::to_sarif(&report::redact::redact(report), Some(&scenario));
        assert_valid(&schema, &redacted, "redacted SARIF log");
    }
    // The schema check must be able to fail.
    let mut broken = sarif::to_sarif(&report_with(None, true), None);
    broken["runs"][0]["results"][0]["level"] = Value::String("catastrophic".into());
    assert!(!schema.is_valid(&broken));
}

#[test]
fn sarif_has_one_rule_per_kind_and_one_result_per_group() {
    let report = report_with(Some(&policy()), true);
    let scenario = std::fs::read_to_string(fixture::scenario_path()).unwrap();
    let doc = sarif::to_sarif(&report, Some(&scenario));
    let run = &doc["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), DataKind::ALL.len());
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), report.groups.len());

    let search = results
        .iter()
        .find(|r| r["ruleId"] == "leakhound/search_term")
        .unwrap();
    assert_eq!(search["level"], "error");
    assert_eq!(search["properties"]["domain"], "facebook.com");
    assert_eq!(search["properties"]["vendor"], "meta-pixel");
    assert_eq!(
        search["properties"]["channels"].as_array().unwrap().len(),
        2
    );
    // Step 3 ("press Enter", the third entry of `steps`: step 0 opens `start_url`) starts on
    // line 17 of the scenario file.
    let loc = &search["locations"][0]["physicalLocation"];
    assert_eq!(loc["region"]["startLine"], 17);
    assert!(loc["artifactLocation"]["uri"]
        .as_str()
        .unwrap()
        .ends_with("tests/fixtures/report/scenario.json"));

    let ignored = results
        .iter()
        .find(|r| r["properties"]["domain"] == "linkedin.com")
        .unwrap();
    assert_eq!(ignored["suppressions"][0]["kind"], "external");
    assert!(ignored["suppressions"][0]["justification"]
        .as_str()
        .unwrap()
        .contains("PRIV-88"));
    let allowed = results
        .iter()
        .find(|r| {
            r["properties"]["domain"] == "google-analytics.com"
                && r["ruleId"] == "leakhound/url_path"
        })
        .unwrap();
    assert_eq!(allowed["kind"], "pass");
    assert_eq!(run["invocations"][0]["executionSuccessful"], true);
}

fn junit_cases(xml: &str) -> Vec<(String, Vec<String>)> {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut cases: Vec<(String, Vec<String>)> = Vec::new();
    let mut depth_in_case = false;
    loop {
        match reader.read_event().expect("JUnit parses") {
            Event::Start(e) | Event::Empty(e) if e.name().as_ref() == b"testcase" => {
                let name = e
                    .try_get_attribute("name")
                    .unwrap()
                    .unwrap()
                    .unescape_value()
                    .unwrap()
                    .into_owned();
                cases.push((name, Vec::new()));
                depth_in_case = true;
            }
            Event::Start(e) | Event::Empty(e) if depth_in_case => {
                let tag = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                if let Some(last) = cases.last_mut() {
                    last.1.push(tag);
                }
            }
            Event::End(e) if e.name().as_ref() == b"testcase" => depth_in_case = false,
            Event::Eof => break,
            _ => {}
        }
    }
    cases
}

#[test]
fn junit_has_one_case_per_step_failing_on_violations() {
    let report = report_with(Some(&policy()), true);
    let xml = junit::to_junit(&report).unwrap();
    let cases = junit_cases(&xml);
    assert_eq!(cases.len(), report.steps.len() + 1);
    for step in &report.steps {
        let (name, children) = &cases[step.index];
        assert!(
            name.starts_with(&format!("step {} ({}):", step.index, step.action)),
            "{name}"
        );
        assert_eq!(
            children.contains(&"failure".to_string()),
            step.violations > 0,
            "{name}: {children:?}"
        );
    }
    // Step 0 had no leak, step 4 leaked to quietmetrics.io.
    assert!(cases[0].1.is_empty());
    assert!(cases[4].1.contains(&"failure".to_string()));
    assert!(xml.contains("quietmetrics.io"));
    // The hostile title is escaped, the document still parses.
    assert!(xml.contains("&lt;img src=x onerror=alert(1)&gt;"));

    let incomplete = junit::to_junit(&report_with(None, false)).unwrap();
    let cases = junit_cases(&incomplete);
    let last = cases.last().unwrap();
    assert_eq!(last.0, "run completed");
    assert!(last.1.contains(&"error".to_string()));
}

#[test]
fn terminal_summary_lists_flows_and_paths_and_strips_colour() {
    let report = report_with(Some(&policy()), true);
    let written = vec![
        PathBuf::from("out/report.html"),
        PathBuf::from("out/report.sarif"),
    ];
    let styled = terminal::render_summary(&report, &written);
    assert!(styled.contains("\u{1b}["), "styles are rendered");
    let plain = anstream::adapter::strip_str(&styled).to_string();
    assert!(!plain.contains('\u{1b}'));
    assert!(plain.contains("Meta Pixel (facebook.com)"));
    assert!(plain.contains("VIOLATION"));
    assert!(plain.contains("ignored"));
    assert!(plain.contains("allowed"));
    assert!(plain.contains("Reports written:"));
    assert!(plain.contains("out/report.sarif"));
    let header = plain.lines().nth(1).unwrap();
    assert!(header.starts_with("Third party"), "{header}");
    // The first data row is a violation: violations sort first.
    assert!(plain.lines().nth(2).unwrap().contains("VIOLATION"));
}

#[test]
fn diff_reports_new_gone_and_changed_flows() {
    let old = report_with(Some(&policy()), true);
    let mut analysis = fixture::analysis();
    // Gone: the LinkedIn flow. New: a TikTok flow. Changed: GA title goes critical via a new channel.
    analysis.findings.retain(|f| f.domain != "linkedin.com");
    let mut tiktok = analysis.findings[0].clone();
    tiktok.domain = "tiktok.com".into();
    tiktok.host = "analytics.tiktok.com".into();
    tiktok.vendor = Some("tiktok-pixel".into());
    analysis.findings.push(tiktok);
    for f in analysis.findings.iter_mut() {
        if f.kind == DataKind::PageTitle {
            f.severity = Severity::Critical;
            f.channel = "body:json:page.title".into();
        }
    }
    let new = build_report(
        &fixture::summary(true, None),
        analysis,
        Some(&policy()),
        meta(),
    );
    let d = diff(&old, &new);
    assert_eq!(d.new.len(), 1);
    assert_eq!(d.new[0].domain, "tiktok.com");
    assert!(d.new[0].violation);
    assert_eq!(d.gone.len(), 1);
    assert_eq!(d.gone[0].domain, "linkedin.com");
    assert_eq!(d.changed.len(), 1);
    let changes = d.changed[0].changes.join("; ");
    assert!(changes.contains("severity: medium → critical"), "{changes}");
    assert!(changes.contains("+body:json:page.title"), "{changes}");
    assert!(d.has_new_violations());
    let text = d.to_text();
    assert!(
        text.contains("+ [VIOLATION]") && text.contains("tiktok.com"),
        "{text}"
    );
    let json: Value = serde_json::from_str(&d.to_json().unwrap()).unwrap();
    assert_eq!(json["gone"][0]["domain"], "linkedin.com");

    let same = diff(&old, &old);
    assert!(same.is_empty() && !same.has_new_violations());
    // Gone flows alone are not new violations.
    assert!(!diff(&new, &old)
        .new
        .iter()
        .any(|f| f.domain == "tiktok.com"));
}

#[test]
fn write_all_writes_requested_formats_and_reads_back() {
    let report = report_with(Some(&policy()), true);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("nested/out");
    let written = report::write_all(
        &report,
        &out,
        &[Format::Junit, Format::Json, Format::Json],
        false,
    )
    .unwrap();
    assert_eq!(
        written,
        vec![out.join("report.json"), out.join("junit.xml")]
    );
    let back = report::read_report(&out.join("report.json")).unwrap();
    assert_eq!(back.findings, report.findings);
    assert_eq!(back.policy, report.policy);
    assert!(std::fs::read_dir(&out).unwrap().all(|e| !e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .ends_with(".partial")));
    std::fs::write(out.join("other.json"), r#"{"format": "something-else"}"#).unwrap();
    assert!(report::read_report(&out.join("other.json")).is_err());
    assert_eq!("SARIF".parse::<Format>().unwrap(), Format::Sarif);
    assert!("pdf".parse::<Format>().is_err());
    assert!(matches!(
        report
            .policy
            .decisions
            .iter()
            .find(|d| matches!(d, Decision::Ignored { .. })),
        Some(Decision::Ignored { .. })
    ));
}

#[test]
fn har_export_reads_the_capture_and_honours_redact() {
    use leakhound_core::capture::record::{Record, RequestRecord};
    let dir = tempfile::tempdir().unwrap();
    let capture = dir.path().join("capture.jsonl");
    let summary = fixture::summary(true, None);
    let request = RequestRecord {
        id: "r1".into(),
        step: 5,
        method: "GET".into(),
        url: format!(
            "https://www.facebook.com/tr/?ev=Lead&em={}",
            "jane.canary%40example.com"
        ),
        page_url: "https://www.mercy-health.example/appointments/cardiology".into(),
        resource_type: "Image".into(),
        ..RequestRecord::default()
    };
    let mut lines: Vec<String> = vec![
        serde_json::to_string(&Record::Header(summary.header.clone().unwrap())).unwrap(),
        serde_json::to_string(&Record::Step(summary.steps[0].clone())).unwrap(),
        r#"{"type": "from_the_future", "x": 1}"#.to_string(),
        serde_json::to_string(&Record::Request(Box::new(request))).unwrap(),
        serde_json::to_string(&Record::End(summary.end.clone().unwrap())).unwrap(),
    ];
    lines.push("{\"type\": \"requ".into()); // cut off by a crash
    std::fs::write(&capture, lines.join("\n")).unwrap();

    let mut m = meta();
    m.capture_file = Some(capture.display().to_string());
    let report = build_report(&summary, fixture::analysis(), None, m);
    for redact in [false, true] {
        let out = dir.path().join(format!("out-{redact}"));
        let written = report::write_all(&report, &out, &[Format::Har], redact).unwrap();
        let text = std::fs::read_to_string(&written[0]).unwrap();
        let har: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(har["log"]["version"], "1.2");
        let urls: Vec<&str> = har["log"]["entries"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| e["request"]["url"].as_str())
            .collect();
        assert_eq!(urls.len(), 1, "{urls:?}");
        assert_eq!(
            urls[0].contains("jane.canary%40example.com"),
            !redact,
            "{}",
            urls[0]
        );
    }
    // The export reads back as a HAR (pages and entries), and leaves no partial file behind.
    let har_path = dir.path().join("out-false").join("capture.har");
    let back = leakhound_core::capture::har::read_har(&har_path, Default::default()).unwrap();
    assert_eq!(
        back.iter()
            .filter(|r| matches!(r, Record::Request(_)))
            .count(),
        1
    );
    assert!(!dir
        .path()
        .join("out-false")
        .join("capture.har.partial")
        .exists());
    // A malformed line that is not the last one is an error naming it.
    lines.insert(3, "{\"type\": \"request\", \"id\": ".into());
    std::fs::write(&capture, lines.join("\n")).unwrap();
    let err = report::write_all(&report, &dir.path().join("bad"), &[Format::Har], false)
        .unwrap_err()
        .to_string();
    assert!(err.contains(":4"), "{err}");

    let mut no_capture = report.clone();
    no_capture.run.capture_file = None;
    assert!(report::write_all(&no_capture, dir.path(), &[Format::Har], false).is_err());
}

/// A report built one finding at a time with the findings on disk (`ReportBuilder`, what
/// `analyze FILE.har` does) is the report `build_report` makes: the same JSON text byte for
/// byte, the same value once its findings are loaded, the same summary, with and without a
/// policy, secrets scrubbed.
#[test]
fn spilled_report_is_the_same_report() {
    for policy in [None, Some(policy())] {
        for complete in [true, false] {
            let summary = fixture::summary(complete, None);
            let in_memory = build_report(&summary, fixture::analysis(), policy.as_ref(), meta());
            let mut builder =
                report::ReportBuilder::new(policy.as_ref(), &meta().secret_values).unwrap();
            let mut analysis = fixture::analysis();
            for f in std::mem::take(&mut analysis.findings) {
                builder.push(f);
            }
            let spilled = builder.finish(&summary, analysis, meta()).unwrap();
            assert!(spilled.findings.is_empty(), "findings stay on disk");
            assert_eq!(exit_code(&spilled), exit_code(&in_memory));
            let dir = tempfile::tempdir().unwrap();
            let (a, b) = (dir.path().join("a"), dir.path().join("b"));
            report::write_all(&in_memory, &a, &[Format::Json], false).unwrap();
            report::write_all(&spilled, &b, &[Format::Json], false).unwrap();
            let (ja, jb) = (
                std::fs::read_to_string(a.join("report.json")).unwrap(),
                std::fs::read_to_string(b.join("report.json")).unwrap(),
            );
            assert!(!jb.contains(fixture::PASSWORD));
            assert_eq!(ja, jb, "policy {:?}, complete {complete}", policy.is_some());
            assert_eq!(spilled.with_findings().unwrap(), in_memory);
            assert_eq!(
                terminal::render_summary(&spilled, &[]),
                terminal::render_summary(&in_memory, &[])
            );
            // Every format, redacted or not, from the findings loaded back.
            for redact in [false, true] {
                let (c, d) = (dir.path().join("c"), dir.path().join("d"));
                let formats = [Format::Json, Format::Sarif, Format::Junit, Format::Html];
                report::write_all(&in_memory, &c, &formats, redact).unwrap();
                report::write_all(&spilled, &d, &formats, redact).unwrap();
                for f in formats {
                    let read = |dir: &Path| std::fs::read(dir.join(f.file_name())).unwrap();
                    assert!(read(&c) == read(&d), "{f:?} redact {redact}");
                }
            }
        }
    }
}
