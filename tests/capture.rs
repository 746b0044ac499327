//! Proof that the capture is complete: real Chromium replays a journey over fixture pages that use
//! every channel (pixels, fetch/XHR with JSON and binary bodies, beacons on pagehide and delayed,
//! WebSocket frames, a cross-site iframe, a popup, a dedicated worker, a service worker, a redirect
//! chain, a third-party cookie, an alert() and a page that never stops loading). The fixture server's
//! own log is the ground truth: every request it received must be in the capture, with its body and
//! headers.

mod common;

use std::time::{Duration, Instant};

use leakhound_core::capture::record::{Fate, Record, RequestRecord, RunStatus, TargetKind};
use leakhound_serve::{ReceivedKind, Site, SiteServer};

fn fixture_site() -> Site {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/capture");
    let read = |name: &str| std::fs::read(format!("{dir}/{name}")).expect("fixture file");
    let mut site = Site::new();
    for (host, name) in [
        ("www.site.test", "index.html"),
        ("www.site.test", "app.js"),
        ("www.site.test", "worker.js"),
        ("www.site.test", "second.html"),
        ("www.site.test", "slow.html"),
        ("www.other.test", "frame.html"),
        ("www.popup.test", "popup.html"),
        ("localhost", "sw.html"),
        ("localhost", "sw.js"),
    ] {
        let path = if name == "index.html" {
            "/".to_string()
        } else {
            format!("/{name}")
        };
        site = site.file(
            host,
            &path,
            leakhound_serve::content_type_for(name),
            read(name),
        );
    }
    site.tracker_host("*.tracker.test")
        .tracker_host("*.other-tracker.test")
}

fn same_request(
    captured: &RequestRecord,
    method: &str,
    host: &str,
    path: &str,
    body: &[u8],
) -> bool {
    let Ok(url) = url::Url::parse(&captured.url) else {
        return false;
    };
    let mut target = url.path().to_string();
    if let Some(q) = url.query() {
        target.push('?');
        target.push_str(q);
    }
    let captured_body = captured
        .body
        .as_ref()
        .map(|b| b.bytes())
        .unwrap_or_default();
    captured.method == method
        && url.host_str() == Some(host)
        && target == path
        && (captured_body == body || (body.is_empty() && captured.body.is_none()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_request_the_server_received_is_captured() {
    let server = SiteServer::start(fixture_site()).await.expect("server");
    let port = server.addr().port();
    // Kept under target/ so a failing run can be inspected.
    let capture_path =
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("capture-every-channel.jsonl");
    let scenario = common::scenario(
        "http://www.site.test/",
        serde_json::json!([
            {"action": "type", "selector": "#q", "text": "chest pain"},
            {"action": "click", "selector": "#popup"},
            {"action": "wait", "ms": 900},
            {"action": "click", "selector": "#alert"},
            {"action": "wait", "selector": "#after"},
            {"action": "click", "selector": "#next", "label": "go to the second page"},
            {"action": "goto", "url": "http://www.site.test/slow.html", "timeout_ms": 6000},
            {"action": "goto", "url": format!("http://localhost:{port}/sw.html")},
            {"action": "wait", "ms": 1500}
        ]),
    );
    let started = Instant::now();
    let outcome = common::run_offline(&scenario, &server, &capture_path).await;
    let elapsed = started.elapsed();
    assert!(
        elapsed < Duration::from_secs(60),
        "journey took {elapsed:?}"
    );
    assert_eq!(
        outcome.end.status,
        RunStatus::Complete,
        "{:?}",
        outcome.end.reason
    );

    let records = common::read_capture(&capture_path);
    let requests: Vec<&RequestRecord> = records
        .iter()
        .filter_map(|r| match r {
            Record::Request(r) => Some(r.as_ref()),
            _ => None,
        })
        .collect();
    let frames: Vec<Vec<u8>> = records
        .iter()
        .filter_map(|r| match r {
            Record::WsFrame(f) => Some(f.payload.bytes()),
            _ => None,
        })
        .collect();

    let received = server.received();
    let mut missing = Vec::new();
    let mut wrong_headers = Vec::new();
    let mut checked = 0;
    for r in &received {
        match r.kind {
            ReceivedKind::Http => {
                let host = leakhound_serve::normalize_host(&r.host);
                let found = requests
                    .iter()
                    .find(|c| same_request(c, &r.method, &host, &r.path, &r.body));
                // A redirect hop is recorded on the request it led to.
                let hop = requests.iter().any(|c| {
                    c.redirects.iter().any(|h| {
                        url::Url::parse(&h.url).is_ok_and(|u| {
                            u.host_str() == Some(host.as_str())
                                && format!(
                                    "{}{}",
                                    u.path(),
                                    u.query().map(|q| format!("?{q}")).unwrap_or_default()
                                ) == r.path
                        })
                    })
                });
                match found {
                    None if hop => checked += 1,
                    None => missing.push(format!("{} {}{}", r.method, host, r.path)),
                    Some(c) => {
                        checked += 1;
                        // Headers as sent: every header the server saw is in the capture — except
                        // the transport headers the network stack adds after the page is gone
                        // (reported only when the browser sends its extra info event), which
                        // carry nothing from the page.
                        for (name, value) in &r.headers {
                            if [
                                "host",
                                "connection",
                                "content-length",
                                "x-forwarded-proto",
                                "accept-encoding",
                                "accept-language",
                            ]
                            .contains(&name.as_str())
                                || name.starts_with("sec-fetch-")
                                // The browser's own fetch of a service worker script.
                                || (c.target == TargetKind::ServiceWorker
                                    && c.resource_type == "Script"
                                    && ["user-agent", "cache-control"].contains(&name.as_str()))
                            {
                                continue;
                            }
                            let captured =
                                c.headers.iter().find(|h| h.name.eq_ignore_ascii_case(name));
                            if captured.map(|h| h.value.as_str()) != Some(value.as_str()) {
                                wrong_headers.push(format!(
                                    "{name}: {value:?} vs {:?} in {} {}{}",
                                    captured.map(|h| &h.value),
                                    r.method,
                                    host,
                                    r.path
                                ));
                            }
                        }
                    }
                }
            }
            ReceivedKind::WsText | ReceivedKind::WsBinary if !frames.contains(&r.body) => {
                missing.push(format!("WebSocket frame {:?}", r.body_text()));
            }
            _ => {}
        }
    }
    assert!(
        missing.is_empty(),
        "captured {checked}, missing from capture: {missing:#?}"
    );
    assert!(
        wrong_headers.is_empty(),
        "headers not as sent: {wrong_headers:#?}"
    );

    // The fixture really exercised every channel (so the completeness check above means something).
    let got = |path: &str| received.iter().any(|r| r.path_only() == path);
    for path in [
        "/pixel.gif",
        "/script-pixel.gif",
        "/collect",
        "/binary",
        "/delayed",
        "/exit",
        "/exit-second",
        "/from-worker",
        "/iframe-pixel.gif",
        "/iframe-post",
        "/popup-pixel.gif",
        "/final.gif",
        "/slow-page.gif",
        "/from-service-worker",
        "/__lh/cookie",
    ] {
        assert!(
            got(path),
            "the server never received {path}; received: {:?}",
            received.iter().map(|r| r.path.clone()).collect::<Vec<_>>()
        );
    }
    assert!(
        received
            .iter()
            .filter(|r| r.kind.is_ws_frame()
                && matches!(r.kind, ReceivedKind::WsText | ReceivedKind::WsBinary))
            .count()
            >= 3,
        "WebSocket frames not received"
    );

    // Targets: iframe, popup, worker and service worker requests are attributed to their target.
    let target_of = |path: &str| {
        requests
            .iter()
            .find(|r| r.url.contains(path))
            .map(|r| r.target)
    };
    assert_eq!(target_of("/iframe-pixel.gif"), Some(TargetKind::Iframe));
    assert_eq!(target_of("/popup-pixel.gif"), Some(TargetKind::Popup));
    assert_eq!(target_of("/from-worker"), Some(TargetKind::Worker));
    assert_eq!(
        target_of("/from-service-worker"),
        Some(TargetKind::ServiceWorker)
    );

    // The redirect chain is recorded on the final request.
    let redirected = requests
        .iter()
        .find(|r| r.url.contains("/final.gif"))
        .expect("final.gif");
    assert_eq!(redirected.redirects.len(), 3, "{:?}", redirected.redirects);
    assert!(redirected.redirects.iter().all(|h| h.status == 302));

    // Bodies: JSON and binary, exact.
    let json = requests
        .iter()
        .find(|r| r.url.ends_with("/collect") && r.method == "POST")
        .expect("collect");
    assert!(json
        .body
        .as_ref()
        .is_some_and(|b| b.data.contains("chest pain")));
    let binary = requests
        .iter()
        .find(|r| r.url.ends_with("/binary") && r.method == "POST")
        .expect("binary");
    let expected: Vec<u8> = (0..300u32).map(|i| ((i * 7) & 255) as u8).collect();
    assert_eq!(binary.body.as_ref().map(|b| b.bytes()), Some(expected));

    // The pagehide beacon was sent during the navigation of the step that left the page.
    let exit = requests
        .iter()
        .find(|r| r.url.ends_with("/exit"))
        .expect("exit beacon");
    assert!(exit.beacon, "exit beacon not flagged");
    assert!(
        exit.page_url.starts_with("http://www.site.test/"),
        "{}",
        exit.page_url
    );

    // Initiators: the script-created pixel names its script.
    let pixel = requests
        .iter()
        .find(|r| r.url.contains("script-pixel.gif"))
        .expect("pixel");
    assert_eq!(
        pixel.initiator.url.as_deref(),
        Some("http://www.site.test/app.js")
    );
    assert!(!pixel.initiator.stack.is_empty());

    // Every request has a fate; those the server answered were delivered.
    assert!(requests.iter().any(|r| matches!(r.fate, Fate::Delivered)));

    // The alert was dismissed and recorded; the third-party cookie was set.
    assert!(records
        .iter()
        .any(|r| matches!(r, Record::Dialog(d) if d.message == "dialog from the page")));
    let cookie_set = records.iter().any(|r| match r {
        Record::Snapshot(s) => s
            .cookies
            .iter()
            .any(|c| c.name == "tp_id" && c.domain.contains("tracker.test")),
        _ => false,
    });
    assert!(cookie_set, "third-party cookie not in any snapshot");
    // Step titles and URLs were recorded after each step.
    assert!(records
        .iter()
        .any(|r| matches!(r, Record::Snapshot(s) if s.title == "Second page")));
    server.shutdown().await;
}

/// A page that reports what trackers use to detect automation and the viewport.
fn probe_site() -> Site {
    Site::new()
        .file(
            "www.site.test",
            "/",
            "text/html",
            b"<!doctype html><meta name=viewport content=\"width=device-width\"><title>probe</title><script>\
              new Image().src = 'http://px.tracker.test/probe.gif?wd=' + navigator.webdriver + \
              '&ua=' + encodeURIComponent(navigator.userAgent) + '&w=' + innerWidth;\
              </script>"
                .to_vec(),
        )
        .tracker_host("*.tracker.test")
}

async fn probe(adjust: impl FnOnce(&mut leakhound_browser::journey::RunOptions)) -> String {
    let server = SiteServer::start(probe_site()).await.expect("server");
    let dir = tempfile::tempdir().expect("tempdir");
    let capture = dir.path().join("probe.jsonl");
    let scenario = common::scenario(
        "http://www.site.test/",
        serde_json::json!([{"action": "wait", "ms": 300}]),
    );
    let outcome = common::run_offline_with(&scenario, &server, &capture, adjust).await;
    assert_eq!(
        outcome.end.status,
        RunStatus::Complete,
        "{:?}",
        outcome.end.reason
    );
    let received = server.received();
    server.shutdown().await;
    received
        .iter()
        .find(|r| r.path_only() == "/probe.gif")
        .map(|r| r.path.clone())
        .expect("probe pixel received")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn looks_like_a_patients_browser_unless_asked_to_be_honest() {
    let default = probe(|_| {}).await;
    assert!(default.contains("wd=false"), "{default}");
    assert!(!default.contains("Headless"), "{default}");
    let honest = probe(|o| o.honest = true).await;
    assert!(
        honest.contains("Headless"),
        "--honest-ua keeps the headless user agent: {honest}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mobile_emulation() {
    let mobile = probe(|o| o.device = Some(leakhound_core::scenario::model::Device::Mobile)).await;
    assert!(mobile.contains("w=390"), "{mobile}");
    assert!(mobile.contains("Mobile"), "{mobile}");
}

/// Live mode (no Fetch interception except for beacons): the browser talks to the fixture server
/// directly through a resolver rule, and every request it sent is still captured, unload beacons
/// included.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_mode_captures_everything_including_unload_beacons() {
    let server = SiteServer::start(fixture_site()).await.expect("server");
    let dir = tempfile::tempdir().expect("tempdir");
    let capture = dir.path().join("live.jsonl");
    let scenario = common::scenario(
        "http://www.site.test/",
        serde_json::json!([
            {"action": "wait", "ms": 700},
            {"action": "click", "selector": "#next"}
        ]),
    );
    let rules = format!("--host-resolver-rules=MAP *.test {}", server.addr());
    let outcome = common::run_offline_with(&scenario, &server, &capture, |o| {
        o.offline = false;
        o.map.clear();
        o.chromium_args = vec![rules];
    })
    .await;
    assert_eq!(
        outcome.end.status,
        RunStatus::Complete,
        "{:?}",
        outcome.end.reason
    );
    let records = common::read_capture(&capture);
    let requests: Vec<&RequestRecord> = records
        .iter()
        .filter_map(|r| match r {
            Record::Request(r) => Some(r.as_ref()),
            _ => None,
        })
        .collect();
    let received = server.received();
    let mut missing = Vec::new();
    for r in received.iter().filter(|r| r.kind == ReceivedKind::Http) {
        let host = leakhound_serve::normalize_host(&r.host);
        let hop = requests
            .iter()
            .any(|c| c.redirects.iter().any(|h| h.url.contains(&r.path)));
        if !hop
            && !requests
                .iter()
                .any(|c| same_request(c, &r.method, &host, &r.path, &r.body))
        {
            missing.push(format!("{} {host}{}", r.method, r.path));
        }
    }
    assert!(
        missing.is_empty(),
        "missing from the live capture: {missing:#?}"
    );
    for path in [
        "/exit",
        "/delayed",
        "/second.gif",
        "/from-worker",
        "/iframe-pixel.gif",
    ] {
        assert!(
            received.iter().any(|r| r.path_only() == path),
            "server never got {path}"
        );
    }
    let exit = requests
        .iter()
        .find(|r| r.url.ends_with("/exit"))
        .expect("exit beacon captured");
    assert!(
        exit.body
            .as_ref()
            .is_some_and(|b| b.data.contains("www.site.test")),
        "{exit:?}"
    );
    server.shutdown().await;
}
