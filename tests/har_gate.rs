//! `leakhound analyze FILE.har` as a CI gate, on HARs shaped like what real exporters write:
//! Playwright's `recordHar`, chrome-har (Puppeteer), Firefox. A HAR is a complete record: exit 0
//! or 1 by the findings, never "incomplete"; SARIF points at the HAR; JUnit names every case.
//! No browser is needed.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};

fn leakhound(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_leakhound"))
        .args(args)
        .output()
        .expect("leakhound runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const IDENTITY: &str = r#"{
  // Comments are allowed, as in scenarios.
  "name": "portal session, recorded by hand",
  "identity": {"email": {"kind": "email", "value": "jane.q.patient@gmail.com"}}
}"#;

fn entry(url: &str, pageref: Option<&str>, extra: Value) -> Value {
    let mut e = json!({
        "startedDateTime": "2026-11-20T10:00:01.000Z",
        "time": 12.5,
        "request": {"method": "GET", "url": url, "httpVersion": "HTTP/2.0",
                    "headers": [], "queryString": [], "headersSize": -1, "bodySize": 0},
        "response": {"status": 200, "statusText": "OK", "httpVersion": "HTTP/2.0", "headers": [],
                     "content": {"size": 0, "mimeType": "image/gif"}, "redirectURL": "",
                     "headersSize": -1, "bodySize": 0},
        "cache": {}, "timings": {"send": 0, "wait": 10, "receive": 2}
    });
    if let Some(p) = pageref {
        e["pageref"] = json!(p);
    }
    if let (Some(obj), Value::Object(extra)) = (e.as_object_mut(), extra) {
        for (k, v) in extra {
            obj.insert(k, v);
        }
    }
    e
}

fn document(url: &str, pageref: Option<&str>) -> Value {
    let mut e = entry(url, pageref, json!({}));
    e["response"]["content"]["mimeType"] = json!("text/html; charset=utf-8");
    e
}

struct Run {
    code: i32,
    stderr: String,
    dir: tempfile::TempDir,
}

impl Run {
    fn out(&self) -> PathBuf {
        self.dir.path().join("out")
    }

    fn json(&self, name: &str) -> Value {
        let text = std::fs::read_to_string(self.out().join(name)).unwrap();
        serde_json::from_str(&text).unwrap()
    }
}

fn analyze(har_bytes: &[u8]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let har = dir.path().join("session.har");
    std::fs::write(&har, har_bytes).unwrap();
    let identity = dir.path().join("identity.json");
    std::fs::write(&identity, IDENTITY).unwrap();
    let out = dir.path().join("out");
    let (code, stderr) = leakhound(&[
        "analyze",
        har.to_str().unwrap(),
        "--identity",
        identity.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    Run { code, stderr, dir }
}

fn check_gate(run: &Run, har_name: &str, want_code: i32) {
    assert_eq!(run.code, want_code, "stderr: {}", run.stderr);
    let report = run.json("report.json");
    assert_eq!(report["run"]["status"], "complete", "{}", report["run"]);
    assert_ne!(report["verdict"]["status"], "incomplete");
    assert!(!run.out().join("capture-from-har.jsonl").exists());
    let sarif = run.json("report.sarif");
    for result in sarif["runs"][0]["results"].as_array().unwrap() {
        let uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .unwrap();
        assert!(uri.ends_with(har_name), "SARIF points at {uri}");
    }
    let junit = std::fs::read_to_string(run.out().join("junit.xml")).unwrap();
    assert!(!junit.contains("name=\"\""), "{junit}");
    assert!(!junit.contains(": \""), "dangling case name: {junit}");
    assert!(junit.contains("<testcase"), "{junit}");
}

/// Playwright's `recordHar`: pages titled by the document title, `_` fields holding objects and
/// numbers, cookies, a form POST without any encoding field.
#[test]
fn playwright_record_har_gates_on_findings() {
    let mut form = entry("https://px.ads.test/form", Some("page@1"), json!({}));
    form["request"]["method"] = json!("POST");
    form["request"]["cookies"] = json!([{"name": "uid", "value": "abc", "httpOnly": true}]);
    form["request"]["postData"] = json!({"mimeType": "application/x-www-form-urlencoded",
        "text": "email=jane.q.patient%40gmail.com", "params": []});
    let har = json!({"log": {
        "version": "1.2", "creator": {"name": "Playwright", "version": "1.48.0"},
        "browser": {"name": "chromium", "version": "130.0"},
        "pages": [{"startedDateTime": "2026-11-20T10:00:00.000Z", "id": "page@1",
                   "title": "Patient portal sign in | Mercy", "pageTimings": {"onLoad": 300}}],
        "entries": [
            document("https://www.mercy.test/portal/login", Some("page@1")),
            entry("https://px.ads.test/collect?e=jane.q.patient%40gmail.com", Some("page@1"), json!({
                "_transferSize": 512, "_securityDetails": {"protocol": "TLS 1.3"},
                "_frameref": "frame@2", "_monotonicTime": 123.4
            })),
            form
        ]
    }});
    let run = analyze(&serde_json::to_vec(&har).unwrap());
    check_gate(&run, "session.har", 1);
    let report = run.json("report.json");
    assert!(report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["canary"] == "email" && f["channel"] == "body:form:email"));
}

/// chrome-har (Puppeteer): `_initiator` as a string, other `_` fields of any type, a UTF-8 BOM, no
/// cookie arrays at all, and a base64 body flagged with `postData.encoding`.
#[test]
fn chrome_har_with_bom_string_initiator_and_base64_body() {
    use base64::Engine as _;
    let body = base64::engine::general_purpose::STANDARD
        .encode(br#"{"user":{"email":"jane.q.patient@gmail.com"}}"#);
    let mut beacon = entry(
        "https://collect.tracker.test/v1/batch",
        Some("page_1"),
        json!({"_initiator": "https://cdn.tracker.test/sdk.js", "_initiator_type": "script",
               "_initiator_line": 12, "_priority": null, "_resourceType": 7}),
    );
    beacon["request"]["method"] = json!("POST");
    beacon["request"]["postData"] =
        json!({"mimeType": "application/json", "text": body, "encoding": "base64"});
    let har = json!({"log": {
        "version": "1.2", "creator": {"name": "chrome-har", "version": "0.13.2"},
        "pages": [{"startedDateTime": "2026-11-20T10:00:00.000Z", "id": "page_1", "title": "",
                   "pageTimings": {}}],
        "entries": [document("https://www.mercy.test/portal/account", Some("page_1")), beacon]
    }});
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend(serde_json::to_vec(&har).unwrap());
    let run = analyze(&bytes);
    check_gate(&run, "session.har", 1);
    let report = run.json("report.json");
    let f = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["canary"] == "email")
        .cloned()
        .unwrap_or_else(|| panic!("{}", report["findings"]));
    assert_eq!(f["initiator_url"], "https://cdn.tracker.test/sdk.js");
    assert_eq!(f["channel"], "body:json:user.email");
}

/// A visit to two sites' home pages that sends only home URLs and random ids passes (exit 0):
/// each page's own site is first party, and a general page's address is not a violation.
#[test]
fn clean_home_pages_of_two_sites_pass() {
    let har = json!({"log": {
        "version": "1.2", "creator": {"name": "Firefox", "version": "133.0"},
        "pages": [
            {"startedDateTime": "2026-11-20T10:00:00.000-05:00", "id": "page_1", "title": "https://www.mercy.test/"},
            {"startedDateTime": "2026-11-20T10:01:00.000-05:00", "id": "page_2", "title": "https://www.stlukes.test/"}
        ],
        "entries": [
            document("https://www.mercy.test/", Some("page_1")),
            entry("https://www.mercy.test/assets/app.js", Some("page_1"), json!({})),
            entry("https://www.google-analytics.com/g/collect?v=2&tid=G-1&cid=123.456&dl=https%3A%2F%2Fwww.mercy.test%2F&_p=8812", Some("page_1"), json!({})),
            document("https://www.stlukes.test/", Some("page_2")),
            entry("https://static.stlukes.test/site.css", Some("page_2"), json!({})),
            entry("https://www.google-analytics.com/g/collect?v=2&tid=G-2&cid=789.012&dl=https%3A%2F%2Fwww.stlukes.test%2F", Some("page_2"), json!({}))
        ]
    }});
    let run = analyze(&serde_json::to_vec(&har).unwrap());
    check_gate(&run, "session.har", 0);
    let report = run.json("report.json");
    assert!(report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| !f["domain"].as_str().unwrap_or("").contains("stlukes")
            && !f["domain"].as_str().unwrap_or("").contains("mercy")));
    let inventory = report["inventory"].as_array().unwrap();
    assert!(inventory
        .iter()
        .all(|t| t["domain"] != "stlukes.test" && t["domain"] != "mercy.test"));
}

/// The leakhound binary accepts the identity file for `run` too (validated before any browser
/// starts: a broken identity file is a usage error).
#[test]
fn run_accepts_an_identity_file() {
    let dir = tempfile::tempdir().unwrap();
    let identity = dir.path().join("identity.json");
    std::fs::write(
        &identity,
        r#"{"identity": {"email": {"kind": "emial", "value": "x"}}}"#,
    )
    .unwrap();
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/demo/portal-login.json");
    let (code, stderr) = leakhound(&[
        "run",
        scenario.to_str().unwrap(),
        "--identity",
        identity.to_str().unwrap(),
        "--out",
        dir.path().join("out").to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("identity.email.kind"), "{stderr}");
}

/// A HAR cut off mid-file (a crash during export) is analysed as far as it goes and exits 3:
/// the only case where a HAR is "incomplete".
#[test]
fn cut_off_har_is_incomplete_and_still_reports_what_it_has() {
    let mut entries = vec![document("https://www.mercy.test/portal/login", Some("p"))];
    for i in 0..40 {
        entries.push(entry(
            &format!("https://px.ads.test/c?i={i}&e=jane.q.patient%40gmail.com"),
            Some("p"),
            json!({}),
        ));
    }
    let har = json!({"log": {"version": "1.2", "creator": {"name": "x", "version": "1"},
        "pages": [{"id": "p", "title": "Portal", "startedDateTime": "2026-11-20T10:00:00.000Z"}],
        "entries": entries}});
    let text = serde_json::to_vec(&har).unwrap();
    let run = analyze(&text[..text.len() / 2]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    let report = run.json("report.json");
    assert_eq!(report["run"]["status"], "incomplete");
    assert!(!report["findings"].as_array().unwrap().is_empty());
}
