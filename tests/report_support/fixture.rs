//! A hand-built, realistic journey for the report tests: a hospital symptom search and booking, with
//! leaks to several vendors in several kinds and encodings, one credential, one unknown third party,
//! and hostile strings (HTML in a page title) to prove escaping.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use leakhound_core::capture::record::{
    Canary, CanaryKind, CaptureHeader, CaptureSummary, DialogRecord, EndRecord, Fate, JourneyInfo,
    RunStatus, SnapshotRecord, StackFrame, StepRecord, TypedValue,
};
use leakhound_core::classify::finding::{Analysis, DataKind, Finding, Severity, ThirdParty};

pub const EMAIL: &str = "jane.canary@example.com";
pub const PHONE: &str = "+16175550143";
pub const SEARCH: &str = "chest pain";
pub const MEMBER_ID: &str = "MRC-99812345";
/// The password as it exists in memory only. It must never reach any output.
pub const PASSWORD: &str = "S3cr3t-Hunter2!";
pub const HOSTILE_TITLE: &str = "Chest pain – Mercy Health <img src=x onerror=alert(1)>";

pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/report")
}

pub fn scenario_path() -> String {
    fixtures_dir().join("scenario.json").display().to_string()
}

fn canary(key: &str, kind: CanaryKind, value: Option<&str>) -> Canary {
    Canary {
        key: key.into(),
        kind,
        value: value.map(String::from),
        env: if kind.is_secret() {
            Some("MERCY_PASSWORD".into())
        } else {
            None
        },
    }
}

const STEPS: [(&str, &str, &str, &str); 8] = [
    (
        "goto",
        "Open the home page",
        "https://www.mercy-health.example/",
        "Mercy Health",
    ),
    (
        "click",
        "Open symptoms",
        "https://www.mercy-health.example/symptoms/chest-pain",
        HOSTILE_TITLE,
    ),
    (
        "type",
        "Search for chest pain",
        "https://www.mercy-health.example/symptoms/chest-pain",
        HOSTILE_TITLE,
    ),
    (
        "press",
        "Submit the search",
        "https://www.mercy-health.example/search?q=chest+pain",
        "Search results – Mercy Health",
    ),
    (
        "click",
        "Book a cardiology appointment",
        "https://www.mercy-health.example/appointments/cardiology",
        "Book cardiology – Mercy Health",
    ),
    (
        "type",
        "Enter email on the booking form",
        "https://www.mercy-health.example/appointments/cardiology",
        "Book cardiology – Mercy Health",
    ),
    (
        "type",
        "Enter the portal password",
        "https://portal.mercy-health.example/login",
        "Patient portal login",
    ),
    ("leave", "Leave the site", "about:blank", ""),
];

/// The capture's journey records. `complete` decides whether an `end` record exists.
pub fn summary(complete: bool, screenshot: Option<&str>) -> CaptureSummary {
    let header = CaptureHeader {
        format: "leakhound-capture".into(),
        version: 1,
        tool_version: "0.1.0".into(),
        browser_version: "Chrome/156.0.8078.73".into(),
        started_at: "2026-11-23T09:00:00Z".into(),
        certificate_errors_ignored: false,
        journey: JourneyInfo {
            name: "Mercy Health chest pain search and booking".into(),
            description: "A patient searches a symptom and books a cardiology appointment.".into(),
            file: scenario_path(),
            start_url: "https://www.mercy-health.example/".into(),
            first_party: vec!["mercy-health.example".into()],
            sensitive_pages: vec!["/appointments/*".into()],
            identity: vec![
                canary("email", CanaryKind::Email, Some(EMAIL)),
                canary("phone", CanaryKind::Phone, Some(PHONE)),
                canary("member_id", CanaryKind::MemberId, Some(MEMBER_ID)),
                // A careless in-memory identity that still holds the secret: build_report must drop it.
                canary("password", CanaryKind::Password, Some(PASSWORD)),
            ],
        },
    };
    let mut s = CaptureSummary {
        header: Some(header),
        requests: 214,
        ws_frames: 12,
        websockets: 1,
        ..CaptureSummary::default()
    };
    for (i, (action, label, url, title)) in STEPS.iter().enumerate() {
        let time_ms = 1000.0 + i as f64 * 2500.0;
        s.steps.push(StepRecord {
            index: i,
            action: action.to_string(),
            label: label.to_string(),
            time_ms,
        });
        s.snapshots.push(SnapshotRecord {
            step: i,
            time_ms: time_ms + 2000.0,
            url: url.to_string(),
            title: title.to_string(),
            cookies: vec![],
            screenshot: screenshot.map(String::from),
            error: None,
        });
    }
    s.typed.push(TypedValue {
        step: 2,
        selector: "#q".into(),
        field: "name=q".into(),
        is_search: true,
        canary_key: None,
        value: Some(SEARCH.into()),
        time_ms: 6000.0,
    });
    s.typed.push(TypedValue {
        step: 5,
        selector: "#email".into(),
        field: "type=email".into(),
        is_search: false,
        canary_key: Some("email".into()),
        value: Some(EMAIL.into()),
        time_ms: 14000.0,
    });
    s.dialogs.push(DialogRecord {
        step: 4,
        time_ms: 11000.0,
        kind: "alert".into(),
        message: "Cookies help us improve your experience".into(),
        url: "https://www.mercy-health.example/appointments/cardiology".into(),
    });
    if complete {
        s.end = Some(EndRecord {
            status: RunStatus::Complete,
            reason: None,
            time_ms: 22000.0,
            steps_run: 8,
            requests: 214,
            ws_frames: 12,
        });
    }
    s
}

struct F {
    kind: DataKind,
    sub: Option<&'static str>,
    canary: String,
    value: Option<String>,
    domain: &'static str,
    host: &'static str,
    vendor: Option<&'static str>,
    channel: &'static str,
    meaning: Option<&'static str>,
    encoding: &'static [&'static str],
    severity: Severity,
    step: usize,
    method: &'static str,
    url: String,
    fate: Fate,
    script: Option<&'static str>,
    evidence: String,
}

fn build(i: usize, f: F) -> Finding {
    let (_, label, page, _) = STEPS[f.step];
    Finding {
        kind: f.kind,
        sub_kind: f.sub.map(String::from),
        canary: f.canary,
        value: f.value,
        source_page: matches!(f.kind, DataKind::UrlPath | DataKind::PageTitle)
            .then(|| page.to_string()),
        domain: f.domain.into(),
        host: f.host.into(),
        vendor: f.vendor.map(String::from),
        channel: f.channel.into(),
        parameter_meaning: f.meaning.map(String::from),
        encoding: f.encoding.iter().map(|s| s.to_string()).collect(),
        severity: f.severity,
        step: f.step,
        step_label: label.into(),
        page_url: page.into(),
        request_id: format!("r{}", 10 + i),
        request_url: f.url,
        method: f.method.into(),
        fate: f.fate,
        initiator_url: f.script.map(String::from),
        stack: f
            .script
            .map(|s| {
                vec![
                    StackFrame {
                        function: "sendBeacon".into(),
                        url: s.into(),
                        line: 2,
                        column: 1845,
                        async_boundary: None,
                    },
                    StackFrame {
                        function: String::new(),
                        url: s.into(),
                        line: 1,
                        column: 77,
                        async_boundary: Some("setTimeout".into()),
                    },
                ]
            })
            .unwrap_or_default(),
        evidence: Some(f.evidence),
        also_matched: vec![],
        name_parts: vec![],
        page_context: None,
        regime: None,
        rule: None,
        confidence: Default::default(),
    }
}

/// The classifier's output for the journey, including one credential finding whose evidence (and
/// request URL) carry the raw secret, as a buggy classifier might produce.
pub fn analysis() -> Analysis {
    let d = Fate::Delivered;
    let page = "https://www.mercy-health.example/symptoms/chest-pain";
    let list = vec![
        F { kind: DataKind::UrlPath, sub: Some("path"), canary: "page:/symptoms/chest-pain".into(), value: Some("/symptoms/chest-pain".into()),
            domain: "facebook.com", host: "www.facebook.com", vendor: Some("meta-pixel"), channel: "query:dl", meaning: Some("page URL"),
            encoding: &["url"], severity: Severity::High, step: 1, method: "GET",
            url: "https://www.facebook.com/tr/?id=123456&ev=PageView&dl=https%3A%2F%2Fwww.mercy-health.example%2Fsymptoms%2Fchest-pain".into(),
            fate: d.clone(), script: Some("https://connect.facebook.net/en_US/fbevents.js"),
            evidence: "ev=PageView&dl=https://www.mercy-health.example[[/symptoms/chest-pain]]&rl=".into() },
        F { kind: DataKind::UrlPath, sub: Some("path"), canary: "page:/symptoms/chest-pain".into(), value: Some("/symptoms/chest-pain".into()),
            domain: "google-analytics.com", host: "region1.google-analytics.com", vendor: Some("google-analytics"), channel: "query:dl", meaning: Some("document location"),
            encoding: &["url"], severity: Severity::High, step: 1, method: "POST",
            url: "https://region1.google-analytics.com/g/collect?v=2&tid=G-MERCY1&dl=https%3A%2F%2Fwww.mercy-health.example%2Fsymptoms%2Fchest-pain".into(),
            fate: d.clone(), script: Some("https://www.googletagmanager.com/gtag/js?id=G-MERCY1"),
            evidence: "v=2&tid=G-MERCY1&dl=https://www.mercy-health.example[[/symptoms/chest-pain]]".into() },
        F { kind: DataKind::PageTitle, sub: None, canary: format!("title:{HOSTILE_TITLE}"), value: Some(HOSTILE_TITLE.into()),
            domain: "google-analytics.com", host: "region1.google-analytics.com", vendor: Some("google-analytics"), channel: "query:dt", meaning: Some("document title"),
            encoding: &["url"], severity: Severity::Medium, step: 1, method: "POST",
            url: "https://region1.google-analytics.com/g/collect?v=2&dt=Chest%20pain%20%E2%80%93%20Mercy%20Health".into(),
            fate: d.clone(), script: Some("https://www.googletagmanager.com/gtag/js?id=G-MERCY1"),
            evidence: format!("&dt=[[{HOSTILE_TITLE}]]&en=page_view") },
        F { kind: DataKind::SearchTerm, sub: None, canary: format!("search:{SEARCH}"), value: Some(SEARCH.into()),
            domain: "facebook.com", host: "www.facebook.com", vendor: Some("meta-pixel"), channel: "query:cd[search_string]", meaning: Some("search text"),
            encoding: &["url"], severity: Severity::High, step: 3, method: "GET",
            url: "https://www.facebook.com/tr/?id=123456&ev=Search&cd%5Bsearch_string%5D=chest+pain".into(),
            fate: d.clone(), script: Some("https://connect.facebook.net/en_US/fbevents.js"),
            evidence: format!("ev=Search&cd[search_string]=[[{SEARCH}]]") },
        F { kind: DataKind::SearchTerm, sub: None, canary: format!("search:{SEARCH}"), value: Some(SEARCH.into()),
            domain: "facebook.com", host: "www.facebook.com", vendor: Some("meta-pixel"), channel: "query:dl", meaning: Some("page URL"),
            encoding: &["url", "url"], severity: Severity::High, step: 3, method: "GET",
            url: "https://www.facebook.com/tr/?id=123456&ev=PageView&dl=https%3A%2F%2Fwww.mercy-health.example%2Fsearch%3Fq%3Dchest%2Bpain".into(),
            fate: Fate::Initiated, script: Some("https://connect.facebook.net/en_US/fbevents.js"),
            evidence: format!("dl=https://www.mercy-health.example/search?q=[[{SEARCH}]]") },
        F { kind: DataKind::UrlPath, sub: Some("path"), canary: "page:/appointments/cardiology".into(), value: Some("/appointments/cardiology".into()),
            domain: "linkedin.com", host: "px.ads.linkedin.com", vendor: Some("linkedin-insight"), channel: "header:referer", meaning: None,
            encoding: &[], severity: Severity::High, step: 4, method: "GET",
            url: "https://px.ads.linkedin.com/collect/?pid=998877&fmt=gif".into(),
            fate: d.clone(), script: None,
            evidence: "Referer: https://www.mercy-health.example[[/appointments/cardiology]]".into() },
        F { kind: DataKind::UrlPath, sub: Some("path"), canary: "page:/appointments/cardiology".into(), value: Some("/appointments/cardiology".into()),
            domain: "quietmetrics.io", host: "t.quietmetrics.io", vendor: None, channel: "body:json:ctx.u", meaning: None,
            encoding: &["base64", "json"], severity: Severity::High, step: 4, method: "POST",
            url: "https://t.quietmetrics.io/v1/e".into(),
            fate: Fate::Failed { reason: "net::ERR_BLOCKED_BY_CLIENT".into() }, script: Some("https://cdn.quietmetrics.io/qm.min.js"),
            evidence: "{\"ctx\":{\"u\":\"https://www.mercy-health.example[[/appointments/cardiology]]\"}}".into() },
        F { kind: DataKind::Identifier, sub: Some("email"), canary: "email".into(), value: Some(EMAIL.into()),
            domain: "facebook.com", host: "www.facebook.com", vendor: Some("meta-pixel"), channel: "query:ud[em]", meaning: Some("hashed email"),
            encoding: &["sha256(lowercase)"], severity: Severity::Critical, step: 5, method: "GET",
            url: "https://www.facebook.com/tr/?id=123456&ev=Lead&ud%5Bem%5D=4b1a7c0f".into(),
            fate: d.clone(), script: Some("https://connect.facebook.net/en_US/fbevents.js"),
            evidence: "ev=Lead&ud[em]=[[4b1a7c0f9d3e…]]".into() },
        F { kind: DataKind::Identifier, sub: Some("email"), canary: "email".into(), value: Some(EMAIL.into()),
            domain: "doubleclick.net", host: "ad.doubleclick.net", vendor: Some("google-ads"), channel: "body:json:user.e", meaning: Some("user email"),
            encoding: &["base64", "json"], severity: Severity::Critical, step: 5, method: "POST",
            url: format!("https://ad.doubleclick.net/activity;src=1;em={}", "amFuZS5jYW5hcnlAZXhhbXBsZS5jb20"),
            fate: Fate::Initiated, script: Some("https://www.googletagmanager.com/gtag/js?id=AW-1"),
            evidence: format!("{{\"user\":{{\"e\":\"[[{EMAIL}]]\"}}}}") },
        F { kind: DataKind::FormInput, sub: None, canary: "input:#email".into(), value: Some(EMAIL.into()),
            domain: "hotjar.com", host: "ws.hotjar.com", vendor: Some("hotjar"), channel: "ws-frame", meaning: Some("recorded keystrokes"),
            encoding: &["json"], severity: Severity::Critical, step: 5, method: "WS",
            url: "wss://ws.hotjar.com/api/v2/client/ws".into(),
            fate: d.clone(), script: Some("https://static.hotjar.com/c/hotjar-3311.js"),
            evidence: format!("{{\"type\":\"input\",\"sel\":\"#email\",\"text\":\"[[{EMAIL}]]\",\"phone\":\"{PHONE}\"}}") },
        F { kind: DataKind::Credential, sub: Some("password"), canary: "password".into(), value: Some(PASSWORD.into()),
            domain: "hotjar.com", host: "ws.hotjar.com", vendor: Some("hotjar"), channel: "ws-frame", meaning: Some("recorded keystrokes"),
            encoding: &["json"], severity: Severity::Critical, step: 6, method: "WS",
            url: format!("wss://ws.hotjar.com/api/v2/client/ws?k={}", "S3cr3t-Hunter2%21"),
            fate: d.clone(), script: Some("https://static.hotjar.com/c/hotjar-3311.js"),
            evidence: format!("{{\"type\":\"input\",\"sel\":\"#password\",\"text\":\"[[{}]]\",\"echo\":\"{PASSWORD}\"}}", leakhound_core::secret::marker("password")) },
        F { kind: DataKind::Identifier, sub: Some("member_id"), canary: "member_id".into(), value: Some(MEMBER_ID.into()),
            domain: "google-analytics.com", host: "region1.google-analytics.com", vendor: Some("google-analytics"), channel: "query:uid", meaning: Some("user id"),
            encoding: &[], severity: Severity::Critical, step: 6, method: "POST",
            url: format!("https://region1.google-analytics.com/g/collect?v=2&uid={MEMBER_ID}"),
            fate: d.clone(), script: Some("https://www.googletagmanager.com/gtag/js?id=G-MERCY1"),
            evidence: format!("v=2&uid=[[{MEMBER_ID}]]&dl={page}") },
    ];
    let findings: Vec<Finding> = list
        .into_iter()
        .enumerate()
        .map(|(i, f)| build(i, f))
        .collect();
    let tp = |domain: &str,
              vendor: Option<&str>,
              name: Option<&str>,
              company: Option<&str>,
              category: Option<&str>,
              kinds: Vec<DataKind>| ThirdParty {
        domain: domain.into(),
        hosts: vec![format!("www.{domain}")],
        vendor: vendor.map(String::from),
        vendor_name: name.map(String::from),
        company: company.map(String::from),
        category: category.map(String::from),
        requests: 7,
        ws_frames: 0,
        bytes_sent: 18_432,
        cookies: vec!["_ga".into()],
        data_kinds: kinds,
    };
    let inventory = vec![
        tp(
            "facebook.com",
            Some("meta-pixel"),
            Some("Meta Pixel"),
            Some("Meta Platforms, Inc."),
            Some("advertising"),
            vec![
                DataKind::UrlPath,
                DataKind::SearchTerm,
                DataKind::Identifier,
            ],
        ),
        tp(
            "google-analytics.com",
            Some("google-analytics"),
            Some("Google Analytics"),
            Some("Google LLC"),
            Some("analytics"),
            vec![DataKind::UrlPath, DataKind::PageTitle, DataKind::Identifier],
        ),
        tp(
            "doubleclick.net",
            Some("google-ads"),
            Some("Google Ads"),
            Some("Google LLC"),
            Some("advertising"),
            vec![DataKind::Identifier],
        ),
        tp(
            "hotjar.com",
            Some("hotjar"),
            Some("Hotjar"),
            Some("Hotjar Ltd"),
            Some("session replay"),
            vec![DataKind::FormInput, DataKind::Credential],
        ),
        tp(
            "linkedin.com",
            Some("linkedin-insight"),
            Some("LinkedIn Insight Tag"),
            Some("LinkedIn Corporation"),
            Some("advertising"),
            vec![DataKind::UrlPath],
        ),
        tp(
            "quietmetrics.io",
            None,
            None,
            None,
            None,
            vec![DataKind::UrlPath],
        ),
        tp(
            "gstatic.com",
            Some("google-fonts"),
            Some("Google Fonts"),
            Some("Google LLC"),
            Some("CDN"),
            vec![],
        ),
    ];
    Analysis {
        findings,
        // Left empty on purpose: build_report groups findings itself when the classifier did not.
        groups: vec![],
        inventory,
        signatures_version: "bundled-2026.11".into(),
        requests_analyzed: 226,
    }
}

/// The policy most tests use: GA may receive page paths (BAA), LinkedIn findings on the booking
/// page are ignored with a reason, medium is the threshold.
pub const POLICY: &str = r#"{
  "version": 1,
  "description": "Mercy Health web tracking policy",
  "severity_threshold": "medium",
  "allow": [
    { "vendor": "google-analytics", "kinds": ["url_path"], "reason": "BAA signed 2025-01-15 (contract C-1142)" }
  ],
  "ignore": [
    { "domain": "linkedin.com", "kind": "url_path", "reason": "Referer-only path, tag removed in release 4.2 (ticket PRIV-88)" }
  ]
}"#;
