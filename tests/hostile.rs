//! Pages built to break a browser driver: every run ends in time, honestly marked complete or
//! incomplete with its reason, and capture never changes what the page does.

mod common;

use std::time::{Duration, Instant};

use leakhound::capture::record::{Record, RunStatus};
use leakhound::serve::{Site, SiteServer};

fn page(body: &str) -> Vec<u8> {
    format!("<!doctype html><meta charset=utf-8><title>hostile</title><body>{body}</body>")
        .into_bytes()
}

fn hostile_site() -> Site {
    let mut site = Site::new()
        .file(
            "www.h.test",
            "/debugger.html",
            "text/html",
            page(
                "<button id=b onclick=\"document.body.dataset.clicked = 1\">b</button>\
                 <script>setInterval(() => { debugger; }, 5);\
                 new Image().src = 'http://px.h-tracker.test/p.gif?debugger=1';</script>",
            ),
        )
        .file(
            "www.h.test",
            "/r5.html",
            "text/html",
            page("<p id=done>done</p><script>new Image().src = 'http://px.h-tracker.test/p.gif?chain=end';</script>"),
        );
    for i in 1..5 {
        site = site.file(
            "www.h.test",
            &format!("/r{i}.html"),
            "text/html",
            page(&format!(
                "<script>setTimeout(() => location.replace('/r{}.html'), 150)</script>",
                i + 1
            )),
        );
    }
    site.tracker_host("*.h-tracker.test")
}

fn scenario(start: &str, steps: serde_json::Value) -> leakhound::scenario::model::Scenario {
    serde_json::from_value(serde_json::json!({
        "name": "hostile",
        "start_url": start,
        "steps": steps,
        "timeout_ms": 45000,
        "leave": {"url": "about:blank", "grace_ms": 300},
    }))
    .expect("valid scenario")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_loop_is_incomplete_with_its_reason() {
    let server = SiteServer::start(hostile_site()).await.expect("server");
    let dir = tempfile::tempdir().expect("tempdir");
    let capture = dir.path().join("c.jsonl");
    let s = scenario("http://www.h.test/__lh/loop", serde_json::json!([]));
    let started = Instant::now();
    let outcome = common::run_offline(&s, &server, &capture).await;
    assert!(started.elapsed() < Duration::from_secs(30));
    assert_eq!(outcome.end.status, RunStatus::Incomplete);
    let reason = outcome.end.reason.unwrap_or_default();
    assert!(
        reason.contains("redirect loop") && reason.contains("step 0"),
        "{reason}"
    );
    server.shutdown().await;
}

/// A page that hits `debugger;` forever: capture (which enables the Debugger domain for initiator
/// stacks) must not pause it, so the journey runs as it would without leakhound.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn debugger_statements_never_pause_the_page() {
    let server = SiteServer::start(hostile_site()).await.expect("server");
    let dir = tempfile::tempdir().expect("tempdir");
    let capture = dir.path().join("c.jsonl");
    let s = scenario(
        "http://www.h.test/debugger.html",
        serde_json::json!([
            {"action": "click", "selector": "#b", "timeout_ms": 5000},
            {"action": "wait", "selector": "body[data-clicked]", "timeout_ms": 5000}
        ]),
    );
    let started = Instant::now();
    let outcome = common::run_offline(&s, &server, &capture).await;
    assert_eq!(
        outcome.end.status,
        RunStatus::Complete,
        "{:?}",
        outcome.end.reason
    );
    assert!(started.elapsed() < Duration::from_secs(30));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_javascript_redirect_chain_settles_and_completes() {
    let server = SiteServer::start(hostile_site()).await.expect("server");
    let dir = tempfile::tempdir().expect("tempdir");
    let capture = dir.path().join("c.jsonl");
    let s = scenario(
        "http://www.h.test/r1.html",
        serde_json::json!([
            {"action": "wait", "selector": "#done", "timeout_ms": 10000}
        ]),
    );
    let outcome = common::run_offline(&s, &server, &capture).await;
    assert_eq!(
        outcome.end.status,
        RunStatus::Complete,
        "{:?}",
        outcome.end.reason
    );
    let records = common::read_capture(&capture);
    assert!(records.iter().any(
        |r| matches!(r, Record::Request(q) if q.url.contains("chain=end") && q.fate.is_delivered())
    ));
    server.shutdown().await;
}

/// A renderer that runs out of memory (Chromium's own debug URL that exhausts it): the page
/// crashed, so the run is incomplete, and what was captured before is kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_renderer_out_of_memory_makes_the_run_incomplete() {
    let server = SiteServer::start(hostile_site()).await.expect("server");
    let dir = tempfile::tempdir().expect("tempdir");
    let capture = dir.path().join("c.jsonl");
    let s = scenario(
        "http://www.h.test/r5.html",
        serde_json::json!([
            {"action": "goto", "url": "chrome://memory-exhaust", "timeout_ms": 20000},
            {"action": "wait", "ms": 2000}
        ]),
    );
    let started = Instant::now();
    let outcome = common::run_offline(&s, &server, &capture).await;
    assert!(started.elapsed() < Duration::from_secs(45));
    assert_eq!(outcome.end.status, RunStatus::Incomplete);
    let reason = outcome.end.reason.unwrap_or_default();
    assert!(reason.contains("crash"), "{reason}");
    let records = common::read_capture(&capture);
    assert!(
        records
            .iter()
            .any(|r| matches!(r, Record::Request(q) if q.url.contains("chain=end"))),
        "what was captured before the crash is kept"
    );
    server.shutdown().await;
}
