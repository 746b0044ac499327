//! End to end: the three demo journeys in real Chromium, exactly as `leakhound demo` runs them
//! (demo server on loopback, every demo host mapped to it, offline), must produce exactly the
//! findings listed in `tests/fixtures/demo-expected.json`: every planted flow with its kind,
//! canary, channel and encoding chain, allowed (BAA) flows reported as allowed, violations as
//! violations, nothing for the negative controls, and nothing else.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Deserialize;

use leakhound::demo;
use leakhound::pipeline::audit_scenario;
use leakhound_browser::journey::RunOptions;
use leakhound_core::capture::record::RunStatus;
use leakhound_core::report::{Decision, Format, Report, EXIT_VIOLATIONS};
use leakhound_serve::SiteServer;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expected {
    #[allow(dead_code)]
    description: String,
    first_party: Vec<String>,
    scenarios: Vec<String>,
    flows: Vec<Flow>,
    allowed: Vec<Flow>,
    /// Addresses and titles of general pages: findings below the default threshold.
    #[serde(default)]
    recorded: Vec<Flow>,
    negative_controls: Vec<Control>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Flow {
    scenario: String,
    domain: String,
    kind: String,
    canary: String,
    channel: String,
    encoding: Vec<String>,
    #[serde(default)]
    #[allow(dead_code)]
    note: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Control {
    domain: String,
    #[allow(dead_code)]
    what: String,
}

/// A flow's identity: domain, kind, canary, channel, encoding chain.
type Key = (String, String, String, String, Vec<String>);

impl Flow {
    fn key(&self) -> Key {
        (
            self.domain.clone(),
            self.kind.clone(),
            self.canary.clone(),
            self.channel.clone(),
            self.encoding.clone(),
        )
    }
}

fn load_expected() -> Expected {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/demo-expected.json");
    let text = std::fs::read_to_string(&path).expect("tests/fixtures/demo-expected.json");
    serde_json::from_str(&text).expect("demo-expected.json parses")
}

/// What the policy should say about a flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Want {
    Violation,
    Allowed,
    Recorded,
}

/// The expected flows of one scenario, by key. Duplicates and a flow listed both as a violation
/// and as allowed are errors in the file.
fn expected_for(exp: &Expected, scenario: &str, errors: &mut Vec<String>) -> BTreeMap<Key, Want> {
    let mut out = BTreeMap::new();
    for (list, want) in [
        (&exp.flows, Want::Violation),
        (&exp.allowed, Want::Allowed),
        (&exp.recorded, Want::Recorded),
    ] {
        for f in list.iter().filter(|f| f.scenario == scenario) {
            if out.insert(f.key(), want).is_some() {
                errors.push(format!("expected file lists {:?} twice", f.key()));
            }
        }
    }
    out
}

fn describe(report: &Report, i: usize) -> String {
    let f = &report.findings[i];
    format!(
        "{} {} {} {} {:?} (step {}, {} {}, evidence {:?})",
        f.domain,
        f.kind.as_str(),
        f.canary,
        f.channel,
        f.encoding,
        f.step,
        f.method,
        f.request_url.chars().take(160).collect::<String>(),
        f.evidence
    )
}

/// Compares one journey's report with the expected flows; returns every mismatch.
fn check_journey(
    exp: &Expected,
    scenario: &str,
    report: &Report,
    exit_code: i32,
    contacted: &mut BTreeSet<String>,
) -> Vec<String> {
    let mut errors = Vec::new();
    let want = expected_for(exp, scenario, &mut errors);
    if want.is_empty() {
        errors.push(format!("{scenario}: the expected file lists no flows"));
    }
    if report.run.status != RunStatus::Complete {
        errors.push(format!(
            "{scenario}: run {:?}: {:?}",
            report.run.status, report.run.reason
        ));
    }
    if report.policy.decisions.len() != report.findings.len() {
        errors.push(format!(
            "{scenario}: {} decisions for {} findings",
            report.policy.decisions.len(),
            report.findings.len()
        ));
    }

    // Every finding is an expected flow, with the expected policy decision.
    let mut seen: BTreeSet<Key> = BTreeSet::new();
    for (i, f) in report.findings.iter().enumerate() {
        let key: Key = (
            f.domain.clone(),
            f.kind.as_str().to_string(),
            f.canary.clone(),
            f.channel.clone(),
            f.encoding.clone(),
        );
        let decision = report.policy.decisions.get(i);
        match want.get(&key) {
            None => errors.push(format!(
                "{scenario}: unexpected finding {}",
                describe(report, i)
            )),
            Some(Want::Violation) if decision != Some(&Decision::Violation) => {
                errors.push(format!(
                    "{scenario}: should be a violation, policy says {decision:?}: {}",
                    describe(report, i)
                ))
            }
            Some(Want::Allowed) if !matches!(decision, Some(Decision::Allowed { .. })) => errors
                .push(format!(
                    "{scenario}: should be allowed (BAA), policy says {decision:?}: {}",
                    describe(report, i)
                )),
            Some(Want::Recorded) if decision != Some(&Decision::BelowThreshold) => {
                errors.push(format!(
                    "{scenario}: a general page's flow should be recorded, not judged; policy says {decision:?}: {}",
                    describe(report, i)
                ))
            }
            Some(_) => {}
        }
        seen.insert(key);
    }
    // Every expected flow was found.
    for key in want.keys().filter(|k| !seen.contains(*k)) {
        errors.push(format!("{scenario}: planted flow not found: {key:?}"));
    }

    // Every group is accounted for by the expected file, and allowed groups are reported under
    // `allowed`, never under `violations`.
    let group_keys: BTreeMap<(String, String, String), Want> = want
        .iter()
        .map(|(k, w)| ((k.0.clone(), k.1.clone(), k.2.clone()), *w))
        .collect();
    for g in &report.groups {
        let key = (
            g.domain.clone(),
            g.kind.as_str().to_string(),
            g.canary.clone(),
        );
        if !group_keys.contains_key(&key) {
            errors.push(format!("{scenario}: unexpected finding group {key:?}"));
        }
    }
    for (list, name, want_kind) in [
        (&report.policy.violations, "violations", Want::Violation),
        (&report.policy.allowed, "allowed", Want::Allowed),
        (
            &report.policy.below_threshold,
            "below_threshold",
            Want::Recorded,
        ),
    ] {
        for g in list {
            let key = (
                g.domain.clone(),
                g.kind.as_str().to_string(),
                g.canary.clone(),
            );
            if group_keys.get(&key) != Some(&want_kind) {
                errors.push(format!(
                    "{scenario}: group {key:?} is under policy {name}, expected {:?}",
                    group_keys.get(&key)
                ));
            }
        }
    }
    for (name, list) in [
        ("ignored", &report.policy.ignored),
        ("not_delivered", &report.policy.not_delivered),
    ] {
        if !list.is_empty() {
            errors.push(format!(
                "{scenario}: the demo has no {name} flows, got {:?}",
                list.iter().map(|g| &g.canary).collect::<Vec<_>>()
            ));
        }
    }
    // The home page visit (step 0) passes the default policy: only general-page flows.
    for (i, f) in report.findings.iter().enumerate() {
        if f.step == 0 && report.policy.decisions.get(i) == Some(&Decision::Violation) {
            errors.push(format!(
                "{scenario}: the home page visit violates the policy: {}",
                describe(report, i)
            ));
        }
    }
    let wants_allowed = want.values().any(|w| *w == Want::Allowed);
    if wants_allowed && report.policy.allowed.is_empty() {
        errors.push(format!("{scenario}: no group reported as allowed"));
    }

    // Negative controls: never a finding, never listed as receiving data. First parties are not
    // even third parties.
    let under = |host: &str, domain: &str| host == domain || host.ends_with(&format!(".{domain}"));
    for c in &exp.negative_controls {
        if let Some(i) = report
            .findings
            .iter()
            .position(|f| under(&f.domain, &c.domain) || under(&f.host, &c.domain))
        {
            errors.push(format!(
                "{scenario}: negative control {} flagged: {}",
                c.domain,
                describe(report, i)
            ));
        }
        if let Some(p) = report.inventory.iter().find(|p| p.domain == c.domain) {
            contacted.insert(c.domain.clone());
            if !p.data_kinds.is_empty() {
                errors.push(format!(
                    "{scenario}: negative control {} listed as receiving {:?}",
                    c.domain, p.data_kinds
                ));
            }
        }
    }
    for fp in &exp.first_party {
        if report.inventory.iter().any(|p| &p.domain == fp) {
            errors.push(format!("{scenario}: first party {fp} in the inventory"));
        }
    }

    if exit_code != EXIT_VIOLATIONS {
        errors.push(format!(
            "{scenario}: exit code {exit_code}, expected {EXIT_VIOLATIONS} (violations)"
        ));
    }
    errors
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_findings_are_exactly_the_planted_flows() {
    let exp = load_expected();
    let journeys = demo::journeys().expect("bundled demo journeys parse");
    let stems: Vec<&str> = journeys.iter().map(|j| j.stem).collect();
    assert_eq!(
        stems, exp.scenarios,
        "the expected file covers exactly the demo journeys"
    );
    for f in exp.flows.iter().chain(&exp.allowed) {
        assert!(
            exp.scenarios.contains(&f.scenario),
            "flow for unknown scenario {:?}",
            f.scenario
        );
    }

    let server = SiteServer::start(demo::site()).await.expect("demo server");
    // As `leakhound demo` runs by default: screenshots on.
    let mut base = RunOptions::new(PathBuf::new());
    base.screenshots = true;
    let run = demo::run_options(base, server.addr()).expect("host map");
    let report_opts = demo::report_options(Format::ALL.to_vec()).expect("demo report options");
    let env = demo::env_lookup();
    // Kept under target/ so a failing run can be inspected.
    let out_root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("demo-e2e");
    let _ = std::fs::remove_dir_all(&out_root);

    let mut errors = Vec::new();
    let mut contacted = BTreeSet::new();
    for j in &journeys {
        let started = Instant::now();
        let out_dir = out_root.join(j.stem);
        let audit = audit_scenario(
            &j.scenario,
            &j.file,
            &env,
            &run,
            &report_opts,
            &out_dir,
            &|_, _, _| {},
        )
        .await
        .unwrap_or_else(|e| panic!("{}: {e}", j.stem));
        eprintln!(
            "{}: {} findings in {:.1?} ({})",
            j.stem,
            audit.report.findings.len(),
            started.elapsed(),
            out_dir.display()
        );
        errors.extend(check_journey(
            &exp,
            j.stem,
            &audit.report,
            audit.exit_code,
            &mut contacted,
        ));
    }

    // The negative controls were really exercised: each third-party one was contacted, and the
    // hospital's own analytics host received requests.
    let received = server.received();
    for c in &exp.negative_controls {
        let first_party = exp.first_party.contains(&c.domain);
        let hit = if first_party {
            received.iter().any(|r| {
                let host = leakhound_serve::normalize_host(&r.host);
                host == c.domain || host.ends_with(&format!(".{}", c.domain))
            })
        } else {
            contacted.contains(&c.domain)
        };
        if !hit {
            errors.push(format!(
                "negative control {} was never contacted, so it proves nothing",
                c.domain
            ));
        }
    }
    if !received
        .iter()
        .any(|r| leakhound_serve::normalize_host(&r.host) == "metrics.mercy-general.test")
    {
        errors.push("the first-party analytics host received nothing".into());
    }
    server.shutdown().await;

    assert!(
        errors.is_empty(),
        "{} mismatches with tests/fixtures/demo-expected.json:\n{}",
        errors.len(),
        errors.join("\n")
    );
}
