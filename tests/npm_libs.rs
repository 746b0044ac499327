//! End to end against real tracker client libraries: posthog-js, mixpanel-browser and
//! @segment/analytics-next, installed from npm and bundled by `tests/npm/setup.sh` (never
//! committed), served on loopback by `common::npm::npm_site` with their real collection
//! hostnames mapped to the same server.
//!
//! Nobody on the project wrote this code, so the expectations are not guesses about its wire
//! format: the server's log is the ground truth. For every value the page gave a library (the
//! patient's email, the search term, the page path, the page title), the test decodes what the
//! server received on its own (gzip, form fields, base64) and requires the classifier to report
//! that value, at every endpoint that received it, with the decoding layers the test needed.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Instant;

use base64::Engine as _;

use leakhound::pipeline::{audit_scenario, ReportOptions};
use leakhound_browser::journey::RunOptions;
use leakhound_browser::offline::HostRule;
use leakhound_core::capture::record::{Record, RequestRecord, RunStatus};
use leakhound_core::classify::{ClassifyOptions, Signatures};
use leakhound_core::report::{Format, Report};
use leakhound_serve::{normalize_host, Received, ReceivedKind, SiteServer};

mod common;
use common::npm::{npm_site, NPM_COLLECTOR_HOSTS, NPM_SITE_HOST};

const EMAIL: &str = "Jordan.Rivera.7731@example.org";

/// One library's fixture page and what the page gives it.
struct Lib {
    name: &'static str,
    /// Registrable domains it sends to.
    domains: &'static [&'static str],
    search: &'static str,
    title: &'static str,
    /// How long to stay on the page after the search: Mixpanel flushes its queues on a ~5 s
    /// timer (only its event queue also goes out on pagehide), so it must stay longer.
    dwell_ms: u64,
    /// How long to wait after leaving the page, for exit beacons (PostHog's `$pageleave`).
    grace_ms: u64,
}

const LIBS: [Lib; 3] = [
    Lib {
        name: "posthog",
        domains: &["posthog.com"],
        search: "chest pain when climbing stairs",
        title: "PostHog – Northside Clinic (real-tracker fixture)",
        dwell_ms: 1500,
        grace_ms: 3000,
    },
    Lib {
        name: "mixpanel",
        domains: &["mixpanel.com"],
        search: "heart palpitations at night",
        title: "Mixpanel – Northside Clinic (real-tracker fixture)",
        dwell_ms: 6500,
        grace_ms: 2000,
    },
    Lib {
        name: "segment",
        domains: &["segment.io", "segment.com"],
        search: "blood in urine",
        title: "Segment – Northside Clinic (real-tracker fixture)",
        dwell_ms: 1500,
        grace_ms: 2000,
    },
];

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Where a value was on the wire, as the test itself decoded it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Place {
    host: String,
    /// The request path without query.
    path: String,
    /// `query` or `body`.
    part: &'static str,
    /// Decoding layers the test needed that matter (`gzip`, `base64`), outermost first.
    layers: Vec<&'static str>,
}

fn gunzip(data: &[u8]) -> Option<Vec<u8>> {
    if !data.starts_with(&[0x1f, 0x8b]) {
        return None;
    }
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(data)
        .read_to_end(&mut out)
        .ok()?;
    Some(out)
}

fn form_decode(s: &str) -> String {
    let plus = s.replace('+', " ");
    percent_encoding::percent_decode_str(&plus)
        .decode_utf8_lossy()
        .into_owned()
}

fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let s = s.trim();
    if s.len() < 8 {
        return None;
    }
    base64::engine::general_purpose::STANDARD
        .decode(s)
        .or_else(|_| base64::engine::general_purpose::URL_SAFE.decode(s))
        .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(s))
        .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(s))
        .ok()
}

/// The layers under which `needle` is in `data`: as text, gzip-compressed, in a form field, in
/// base64 (possibly of gzip). `None` when it is not there.
fn find_in(data: &[u8], needle: &str, depth: usize) -> Option<Vec<&'static str>> {
    if depth > 3 || data.is_empty() {
        return None;
    }
    if let Some(inflated) = gunzip(data) {
        return find_in(&inflated, needle, depth + 1).map(|mut l| {
            l.insert(0, "gzip");
            l
        });
    }
    let text = String::from_utf8_lossy(data);
    if text.contains(needle) || json_unescape(&text).contains(needle) {
        return Some(Vec::new());
    }
    // A form (`data=...&compression=...`): each value, percent-decoded, then maybe base64.
    if text.contains('=') && !text.trim_start().starts_with(['{', '[']) {
        for pair in text.split('&') {
            let value = pair.split_once('=').map_or("", |(_, v)| v);
            let value = form_decode(value);
            if value.contains(needle) {
                return Some(Vec::new());
            }
            if let Some(raw) = base64_decode(&value) {
                if let Some(mut l) = find_in(&raw, needle, depth + 1) {
                    l.insert(0, "base64");
                    return Some(l);
                }
            }
        }
    } else if let Some(raw) = base64_decode(&text) {
        if let Some(mut l) = find_in(&raw, needle, depth + 1) {
            l.insert(0, "base64");
            return Some(l);
        }
    }
    None
}

/// JSON string escapes the libraries use for `/` and non-ASCII.
fn json_unescape(text: &str) -> String {
    text.replace("\\/", "/")
}

/// Every place the server received `needle` in `log` (HTTP requests to third parties only).
fn places(log: &[Received], needle: &str) -> Vec<Place> {
    let mut out = Vec::new();
    for r in log.iter().filter(|r| r.kind == ReceivedKind::Http) {
        let host = normalize_host(&r.host);
        if host == NPM_SITE_HOST {
            continue;
        }
        let query = r.path.split_once('?').map_or("", |(_, q)| q);
        let mut push = |part, layers: Vec<&'static str>| {
            let p = Place {
                host: host.clone(),
                path: r.path_only().to_string(),
                part,
                layers,
            };
            if !out.contains(&p) {
                out.push(p);
            }
        };
        if !query.is_empty() {
            if let Some(l) = find_in(query.as_bytes(), needle, 0) {
                push("query", l);
            }
        }
        if let Some(l) = find_in(&r.body, needle, 0) {
            push("body", l);
        }
    }
    out
}

/// `layers` appear in `chain` in order (other steps, such as `url` or `json`, may be between).
fn is_subsequence(layers: &[&str], chain: &[String]) -> bool {
    let mut it = chain.iter();
    layers.iter().all(|l| it.any(|c| c == l))
}

/// Why a value the server received may be missing from the findings: the capture holds the
/// request to that endpoint without the body the server got (a capture gap, not the classifier's).
fn capture_gap(captured: &[RequestRecord], log: &[Received], place: &Place) -> Option<String> {
    let at = |url: &str| {
        url::Url::parse(url)
            .is_ok_and(|u| u.host_str() == Some(place.host.as_str()) && u.path() == place.path)
    };
    let server_bodies = log
        .iter()
        .filter(|r| {
            r.kind == ReceivedKind::Http
                && normalize_host(&r.host) == place.host
                && r.path_only() == place.path
                && !r.body.is_empty()
        })
        .count();
    let empty: Vec<String> = captured
        .iter()
        .filter(|c| {
            at(&c.url) && c.method != "OPTIONS" && c.body.as_ref().is_none_or(|b| b.size == 0)
        })
        .map(|c| {
            format!(
                "{} {} beacon={} fate={:?}",
                c.method, c.url, c.beacon, c.fate
            )
        })
        .collect();
    (server_bodies > 0 && !empty.is_empty()).then(|| {
        format!(
            "CAPTURE GAP: the server received {server_bodies} bodies there, the capture has these requests without a body: {empty:#?}"
        )
    })
}

/// Checks one library's journey; returns every mismatch.
fn check(lib: &Lib, log: &[Received], captured: &[RequestRecord], report: &Report) -> Vec<String> {
    let mut errors = Vec::new();
    let page = format!("/{}.html", lib.name);
    // (kind, canary key, value on the wire, must the page's library have sent it)
    let canaries = [
        ("identifier", "email".to_string(), EMAIL.to_string(), true),
        (
            "search_term",
            format!("search:{}", lib.search),
            lib.search.to_string(),
            true,
        ),
        ("url_path", format!("page:{page}"), page.clone(), true),
        (
            "page_title",
            format!("title:{}", lib.title),
            lib.title.to_string(),
            false,
        ),
    ];
    for (kind, canary, needle, required) in &canaries {
        let wire = places(log, needle);
        if wire.is_empty() {
            if *required {
                errors.push(format!(
                    "{}: the server never received {canary} ({needle:?}): the journey did not exercise the library",
                    lib.name
                ));
            }
            continue;
        }
        for place in &wire {
            let found = report.findings.iter().any(|f| {
                f.kind.as_str() == *kind
                    && &f.canary == canary
                    && f.host == place.host
                    && url::Url::parse(&f.request_url).is_ok_and(|u| u.path() == place.path)
                    && f.channel.starts_with(place.part)
                    && is_subsequence(&place.layers, &f.encoding)
            });
            if !found {
                let near: Vec<String> = report
                    .findings
                    .iter()
                    .filter(|f| &f.canary == canary)
                    .map(|f| {
                        format!(
                            "{} {} {:?} {}",
                            f.host, f.channel, f.encoding, f.request_url
                        )
                    })
                    .collect();
                let why = capture_gap(captured, log, place)
                    .unwrap_or_else(|| "the classifier did not report it there".to_string());
                errors.push(format!(
                    "{}: {canary} reached {}{} in the {} under {:?}; {why}; {canary} was reported at {near:#?}",
                    lib.name, place.host, place.path, place.part, place.layers
                ));
            }
        }
        eprintln!(
            "{}: {canary} on the wire at {:?}",
            lib.name,
            wire.iter()
                .map(|p| format!("{}{} {} {:?}", p.host, p.path, p.part, p.layers))
                .collect::<Vec<_>>()
        );
    }
    // Everything reported went to this library's own hosts.
    for f in &report.findings {
        if !lib.domains.contains(&f.domain.as_str()) {
            errors.push(format!(
                "{}: finding for an unrelated domain {}: {} {}",
                lib.name, f.domain, f.canary, f.channel
            ));
        }
    }
    errors
}

fn scenario(lib: &Lib) -> leakhound_core::scenario::Scenario {
    let text = serde_json::json!({
        "name": format!("npm-{}", lib.name),
        "start_url": format!("http://{NPM_SITE_HOST}/{}.html", lib.name),
        "identity": {"email": {"kind": "email", "value": EMAIL}},
        "steps": [
            {"action": "wait", "selector": "#email"},
            {"action": "type", "selector": "#email", "text": "{{identity.email}}"},
            {"action": "type", "selector": "#q", "text": lib.search, "search": true},
            {"action": "click", "selector": "#go", "label": "Search"},
            {"action": "wait", "selector": "#done:not(:empty)"},
            {"action": "wait", "ms": lib.dwell_ms, "label": "Let the library flush"}
        ],
        "leave": {"url": "about:blank", "grace_ms": lib.grace_ms}
    })
    .to_string();
    leakhound_core::scenario::parse_str(&format!("npm-{}.json", lib.name), &text)
        .expect("valid scenario")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_tracker_libraries_are_classified_from_what_they_really_send() {
    let root = repo_root();
    let site = match npm_site(&root) {
        Ok(site) => site,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("{e}: the real-tracker test needs the npm bundles on CI; run tests/npm/setup.sh");
            }
            eprintln!("note: skipping the real-tracker test: {e} (run tests/npm/setup.sh)");
            return;
        }
        Err(e) => panic!("npm fixture site: {e}"),
    };
    let server = SiteServer::start(site).await.expect("server");
    let addr = server.addr();
    let mut run = RunOptions::new(PathBuf::new());
    run.offline = true;
    run.map = std::iter::once(NPM_SITE_HOST)
        .chain(NPM_COLLECTOR_HOSTS)
        .map(|h| HostRule::parse(&format!("{h}={addr}")).expect("rule"))
        .collect();
    let report_opts = ReportOptions {
        classify: ClassifyOptions {
            signatures: Signatures::bundled().expect("bundled signatures"),
            ..Default::default()
        },
        policy: None,
        formats: vec![Format::Json],
        redact: false,
    };
    let env = |_: &str| None;
    let out_root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("npm-libs");
    let _ = std::fs::remove_dir_all(&out_root);

    let mut errors = Vec::new();
    for lib in &LIBS {
        server.clear_received();
        let started = Instant::now();
        let out_dir = out_root.join(lib.name);
        let audit = audit_scenario(
            &scenario(lib),
            &format!("npm-{}.json", lib.name),
            &env,
            &run,
            &report_opts,
            &out_dir,
            &|_, _, _| {},
        )
        .await
        .unwrap_or_else(|e| panic!("{}: {e}", lib.name));
        let log = server.received();
        eprintln!(
            "{}: {} requests to the server, {} findings in {:.1?} ({})",
            lib.name,
            log.len(),
            audit.report.findings.len(),
            started.elapsed(),
            out_dir.display()
        );
        if audit.report.run.status != RunStatus::Complete {
            errors.push(format!(
                "{}: run {:?}: {:?}",
                lib.name, audit.report.run.status, audit.report.run.reason
            ));
        }
        let captured: Vec<RequestRecord> = std::fs::read_to_string(out_dir.join("capture.jsonl"))
            .expect("capture file")
            .lines()
            .filter_map(|l| match serde_json::from_str::<Record>(l) {
                Ok(Record::Request(r)) => Some(*r),
                _ => None,
            })
            .collect();
        errors.extend(check(lib, &log, &captured, &audit.report));
    }
    server.shutdown().await;
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}
