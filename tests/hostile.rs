//! Pages built to break a browser driver: every run ends in time, honestly marked complete or
//! incomplete with its reason, and capture never changes what the page does.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use leakhound_core::capture::record::{Record, RunStatus};
use leakhound_serve::{Site, SiteServer};

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

fn scenario(start: &str, steps: serde_json::Value) -> leakhound_core::scenario::model::Scenario {
    serde_json::from_value(serde_json::json!({
        "name": "hostile",
        "start_url": start,
        "steps": steps,
        "timeout_ms": 45000,
        "leave": {"url": "about:blank", "grace_ms": 300},
    }))
    .expect("valid scenario")
}

/// Serves `site`, runs the journey offline from the URL `start` makes of the server, and checks
/// that it ended within `limit` with an end record. Returns the outcome and the capture.
async fn run_site(
    site: Site,
    start: impl FnOnce(&SiteServer) -> String,
    steps: serde_json::Value,
    limit: Duration,
) -> (leakhound_browser::journey::RunOutcome, Vec<Record>) {
    let server = SiteServer::start(site).await.expect("server");
    let dir = tempfile::tempdir().expect("tempdir");
    let capture = dir.path().join("c.jsonl");
    let start = start(&server);
    let s = scenario(&start, steps);
    let started = Instant::now();
    let outcome = common::run_offline(&s, &server, &capture).await;
    assert!(
        started.elapsed() < limit,
        "{start}: took {:?}",
        started.elapsed()
    );
    let records = common::read_capture(&capture);
    assert!(
        matches!(records.last(), Some(Record::End(_))),
        "{start}: no end record"
    );
    server.shutdown().await;
    (outcome, records)
}

/// The run ended complete; otherwise the failure shows why.
fn assert_complete(outcome: &leakhound_browser::journey::RunOutcome) {
    assert_eq!(
        outcome.end.status,
        RunStatus::Complete,
        "{:?}",
        outcome.end.reason
    );
}

fn at(url: &'static str) -> impl FnOnce(&SiteServer) -> String {
    move |_| url.to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_loop_is_incomplete_with_its_reason() {
    let (outcome, _) = run_site(
        hostile_site(),
        at("http://www.h.test/__lh/loop"),
        serde_json::json!([]),
        Duration::from_secs(30),
    )
    .await;
    assert_eq!(outcome.end.status, RunStatus::Incomplete);
    let reason = outcome.end.reason.unwrap_or_default();
    assert!(
        reason.contains("redirect loop") && reason.contains("step 0"),
        "{reason}"
    );
}

/// A page that hits `debugger;` forever: capture (which enables the Debugger domain for initiator
/// stacks) must not pause it, so the journey runs as it would without leakhound.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn debugger_statements_never_pause_the_page() {
    let (outcome, _) = run_site(
        hostile_site(),
        at("http://www.h.test/debugger.html"),
        serde_json::json!([
            {"action": "click", "selector": "#b", "timeout_ms": 5000},
            {"action": "wait", "selector": "body[data-clicked]", "timeout_ms": 5000}
        ]),
        Duration::from_secs(30),
    )
    .await;
    assert_complete(&outcome);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_javascript_redirect_chain_settles_and_completes() {
    let (outcome, records) = run_site(
        hostile_site(),
        at("http://www.h.test/r1.html"),
        serde_json::json!([{"action": "wait", "selector": "#done", "timeout_ms": 10000}]),
        Duration::from_secs(40),
    )
    .await;
    assert_complete(&outcome);
    assert!(records.iter().any(
        |r| matches!(r, Record::Request(q) if q.url.contains("chain=end") && q.fate.is_delivered())
    ));
}

/// A renderer that runs out of memory (Chromium's own debug URL that exhausts it): the page
/// crashed, so the run is incomplete, and what was captured before is kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_renderer_out_of_memory_makes_the_run_incomplete() {
    let (outcome, records) = run_site(
        hostile_site(),
        at("http://www.h.test/r5.html"),
        serde_json::json!([
            {"action": "goto", "url": "chrome://memory-exhaust", "timeout_ms": 20000},
            {"action": "wait", "ms": 2000}
        ]),
        Duration::from_secs(45),
    )
    .await;
    assert_eq!(outcome.end.status, RunStatus::Incomplete);
    let reason = outcome.end.reason.unwrap_or_default();
    assert!(reason.contains("crash"), "{reason}");
    assert!(
        records
            .iter()
            .any(|r| matches!(r, Record::Request(q) if q.url.contains("chain=end"))),
        "what was captured before the crash is kept"
    );
}

/// Pages that already behaved and must keep behaving: each ends within its time limit with an
/// end record, marked as the case needs.
fn more_hostile_site() -> Site {
    Site::new()
        .file(
            "www.h.test",
            "/dialogs.html",
            "text/html",
            page(
                "<script>alert('welcome'); window.onbeforeunload = (e) => { e.preventDefault(); e.returnValue = 'stay'; };</script>\
                 <a id=next href=/plain.html>next</a>",
            ),
        )
        .file("www.h.test", "/plain.html", "text/html", page("<p id=plain>plain</p>"))
        .file(
            "www.h.test",
            "/storm.html",
            "text/html",
            page(
                "<button id=storm onclick=\"for (let i = 0; i < 40; i++) window.open('/plain.html?' + i, 'w' + i)\">storm</button>",
            ),
        )
        .file(
            "www.h.test",
            "/refresh.html",
            "text/html",
            "<!doctype html><meta http-equiv=refresh content=\"0;url=/refresh.html\"><title>r</title>"
                .as_bytes()
                .to_vec(),
        )
        .file(
            "www.h.test",
            "/blocked.html",
            "text/html",
            page("<script src=/__lh/hang></script><p>never parsed</p>"),
        )
        .file(
            "www.h.test",
            "/spin.html",
            "text/html",
            page("<button id=spin onclick=\"while (true) {}\">spin</button>"),
        )
        .file(
            "www.h.test",
            "/upload5.html",
            "text/html",
            page(
                "<script>const pad = 'x'.repeat(5 * 1024 * 1024);\
                 fetch('http://px.h-tracker.test/up5', {method: 'POST', body: 'q=hostilecanary&pad=' + pad})\
                 .then(() => document.body.insertAdjacentHTML('beforeend', '<p id=sent>sent</p>'));</script>",
            ),
        )
        .file_with_headers(
            "www.h.test",
            "/file.bin",
            "application/octet-stream",
            b"not for disk".to_vec(),
            &[("Content-Disposition", "attachment; filename=\"report.bin\"")],
        )
        .file(
            "www.h.test",
            "/download.html",
            "text/html",
            page("<a id=dl href=/file.bin>download</a>"),
        )
        .file(
            "www.h.test",
            "/close.html",
            "text/html",
            page("<button id=close onclick=\"window.close()\">close</button>"),
        )
        .file(
            "www.h.test",
            "/unicode.html",
            "text/html",
            "<!doctype html><meta charset=utf-8><title>עברית 🩺 Ünïcødé</title>\
             <script>new Image().src = 'http://px.h-tracker.test/p.gif?t=' + encodeURIComponent(document.title) + '&c=' + encodeURIComponent('ﺷﻔﺎﺀ-🩺-canary');</script>"
                .as_bytes()
                .to_vec(),
        )
        .tracker_host("*.h-tracker.test")
}

async fn run_hostile(
    steps: serde_json::Value,
    start: &'static str,
    limit: Duration,
) -> (leakhound_browser::journey::RunOutcome, Vec<Record>) {
    run_site(more_hostile_site(), at(start), steps, limit).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dialogs_on_load_and_in_beforeunload_are_answered_and_recorded() {
    let (outcome, records) = run_hostile(
        serde_json::json!([{"action": "click", "selector": "#next"},
                           {"action": "wait", "selector": "#plain"}]),
        "http://www.h.test/dialogs.html",
        Duration::from_secs(30),
    )
    .await;
    assert_complete(&outcome);
    let dialogs: Vec<&str> = records
        .iter()
        .filter_map(|r| match r {
            Record::Dialog(d) => Some(d.kind.as_str()),
            _ => None,
        })
        .collect();
    assert!(dialogs.contains(&"alert"), "{dialogs:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_popup_storm_ends_in_time() {
    let (outcome, _) = run_hostile(
        serde_json::json!([{"action": "click", "selector": "#storm"},
                           {"action": "wait", "ms": 1500}]),
        "http://www.h.test/storm.html",
        Duration::from_secs(40),
    )
    .await;
    assert_complete(&outcome);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endless_pages_end_within_their_limits() {
    // A meta refresh to itself, forever; a parser-blocking script that never loads.
    for start in [
        "http://www.h.test/refresh.html",
        "http://www.h.test/blocked.html",
    ] {
        run_hostile(
            serde_json::json!([{"action": "wait", "ms": 1000}]),
            start,
            Duration::from_secs(45),
        )
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_infinite_loop_times_out_the_step_and_the_run_is_incomplete() {
    let (outcome, _) = run_hostile(
        serde_json::json!([{"action": "click", "selector": "#spin", "timeout_ms": 3000},
                           {"action": "wait", "ms": 500}]),
        "http://www.h.test/spin.html",
        Duration::from_secs(40),
    )
    .await;
    assert_eq!(outcome.end.status, RunStatus::Incomplete);
    assert!(outcome.end.reason.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_5_mb_request_body_is_capped_with_its_original_size() {
    let (outcome, records) = run_hostile(
        serde_json::json!([{"action": "wait", "selector": "#sent", "timeout_ms": 10000}]),
        "http://www.h.test/upload5.html",
        Duration::from_secs(40),
    )
    .await;
    assert_complete(&outcome);
    let up = records
        .iter()
        .find_map(|r| match r {
            Record::Request(q) if q.url.ends_with("/up5") => Some(q),
            _ => None,
        })
        .expect("the upload is captured");
    let body = up.body.as_ref().expect("body");
    assert!(body.truncated, "capped");
    assert!(
        body.size >= 5 << 20,
        "original size recorded: {}",
        body.size
    );
    assert!(body.data.len() <= 1 << 20);
    assert!(body.data.starts_with("q=hostilecanary"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_download_is_never_written_to_disk() {
    let home = std::env::var("HOME").unwrap_or_default();
    let target = Path::new(&home).join("Downloads/report.bin");
    let _ = std::fs::remove_file(&target);
    let (outcome, _) = run_hostile(
        serde_json::json!([{"action": "click", "selector": "#dl"},
                           {"action": "wait", "ms": 1000}]),
        "http://www.h.test/download.html",
        Duration::from_secs(30),
    )
    .await;
    assert_complete(&outcome);
    assert!(
        !target.exists(),
        "the download was written to {}",
        target.display()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_that_closes_itself_ends_the_run_in_time() {
    let (outcome, _) = run_hostile(
        serde_json::json!([{"action": "click", "selector": "#close"},
                           {"action": "wait", "ms": 500}]),
        "http://www.h.test/close.html",
        Duration::from_secs(40),
    )
    .await;
    // Whatever the browser makes of it, the run ends, and says why if it is incomplete.
    if outcome.end.status == RunStatus::Incomplete {
        assert!(outcome.end.reason.is_some());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unicode_titles_and_canaries_survive_capture() {
    let (outcome, records) = run_hostile(
        serde_json::json!([{"action": "wait", "ms": 500}]),
        "http://www.h.test/unicode.html",
        Duration::from_secs(30),
    )
    .await;
    assert_complete(&outcome);
    let pixel = records
        .iter()
        .find_map(|r| match r {
            Record::Request(q) if q.url.contains("p.gif?t=") => Some(q),
            _ => None,
        })
        .expect("pixel captured");
    let url = url::Url::parse(&pixel.url).expect("url");
    let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    assert!(
        pairs
            .iter()
            .any(|(k, v)| k == "t" && v == "עברית 🩺 Ünïcødé"),
        "{pairs:?}"
    );
    assert!(
        pairs.iter().any(|(k, v)| k == "c" && v == "ﺷﻔﺎﺀ-🩺-canary"),
        "{pairs:?}"
    );
}

/// Many frames: attaching to many targets works. Half the frames are cross-site, so targets of
/// their own (out-of-process iframes), each attached, enabled and released by the recorder.
/// `LH_IFRAMES` sets the count (`LH_NOCAPTURE=1` runs the same page without capture, for
/// comparison): 500 frames took ~30 s with capture and ~27 s without on the 2-core development
/// machine, so the time goes to Chromium itself; 5,000 does not finish in a test's budget yet.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_iframes_complete() {
    let n: usize = std::env::var("LH_IFRAMES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(150);
    let site = Site::new()
        .file(
            "www.h.test",
            "/frames.html",
            "text/html",
            page(&format!(
                "<script>let loaded = 0; for (let i = 0; i < {n}; i++) {{ const f = document.createElement('iframe');\
                 f.width = 2; f.height = 2; f.src = (i % 2 ? 'http://www.h-frames.test' : '') + '/f.html?' + i;\
                 f.onload = () => {{ if (++loaded === {n}) document.body.insertAdjacentHTML('afterbegin', '<p id=done>done</p>'); }};\
                 document.body.appendChild(f); }}</script>"
            )),
        )
        .file("www.h.test", "/f.html", "text/html", page("f"))
        .file("www.h-frames.test", "/f.html", "text/html", page("f"));
    let server = SiteServer::start(site).await.expect("server");
    let dir = tempfile::tempdir().expect("tempdir");
    let capture = dir.path().join("c.jsonl");
    let s = scenario(
        "http://www.h.test/frames.html",
        serde_json::json!([{"action": "wait", "selector": "#done", "timeout_ms": 40000}]),
    );
    let started = Instant::now();
    let capture_on = std::env::var_os("LH_NOCAPTURE").is_none();
    let outcome = common::run_offline_with(&s, &server, &capture, |o| o.capture = capture_on).await;
    eprintln!("{n} iframes: {:?}", started.elapsed());
    assert_complete(&outcome);
    server.shutdown().await;
}

fn load_site() -> Site {
    Site::new()
        .file(
            "www.h.test",
            "/big.html",
            "text/html",
            page(
                "<script>fetch('/__lh/big?mb=50').then(r => r.arrayBuffer()).then(b => \
                 document.body.insertAdjacentHTML('beforeend', '<p id=got>' + b.byteLength + '</p>'));</script>",
            ),
        )
        .file(
            "www.h.test",
            "/many.html",
            "text/html",
            page(
                "<script>let done = 0; const N = 10000; for (let i = 0; i < N; i++) { \
                 fetch('http://px.h-tracker.test/n?i=' + i, {method: 'POST', body: 'i=' + i}).finally(() => { \
                 if (++done === N) document.body.insertAdjacentHTML('beforeend', '<p id=all>all</p>'); }); }</script>",
            ),
        )
        .file(
            "www.h.test",
            "/ws.html",
            "text/html",
            page(
                "<script>const ws = new WebSocket('ws://www.h.test/__lh/ws'); let got = 0;\
                 ws.onopen = () => { for (let i = 0; i < 10000; i++) ws.send('frame ' + i); ws.send('__lh_flood:10000'); };\
                 ws.onmessage = () => { if (++got === 10000) document.body.insertAdjacentHTML('beforeend', '<p id=flooded>ok</p>'); };</script>",
            ),
        )
        .file(
            "localhost",
            "/sw.html",
            "text/html",
            page(
                "<script>navigator.serviceWorker.register('/sw-hang.js').then(() => navigator.serviceWorker.ready)\
                 .then(() => { document.body.insertAdjacentHTML('beforeend', '<p id=ready>ready</p>'); \
                 fetch('/anything?via=sw').catch(() => {}); });</script>",
            ),
        )
        .file(
            "localhost",
            "/sw-hang.js",
            "text/javascript",
            b"self.addEventListener('fetch', (e) => e.respondWith(new Promise(() => {})));\
              self.addEventListener('activate', (e) => e.waitUntil(self.clients.claim()));"
                .to_vec(),
        )
        .tracker_host("*.h-tracker.test")
}

async fn run_load(
    start: &'static str,
    steps: serde_json::Value,
    limit: Duration,
) -> (leakhound_browser::journey::RunOutcome, Vec<Record>, f64) {
    let started = Instant::now();
    let (outcome, records) = run_site(load_site(), at(start), steps, limit).await;
    (outcome, records, started.elapsed().as_secs_f64())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_document_that_never_ends_is_used_as_far_as_it_came() {
    let (outcome, _) = run_site(
        load_site(),
        at("http://www.h.test/__lh/drip"),
        serde_json::json!([{"action": "wait", "selector": "#started", "timeout_ms": 20000}]),
        Duration::from_secs(45),
    )
    .await;
    assert_complete(&outcome);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_50_mb_response_is_fine() {
    let (outcome, _, _) = run_load(
        "http://www.h.test/big.html",
        serde_json::json!([{"action": "wait", "selector": "#got", "timeout_ms": 30000}]),
        Duration::from_secs(60),
    )
    .await;
    assert_complete(&outcome);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_requests_are_all_captured() {
    let (outcome, records, took) = run_load(
        "http://www.h.test/many.html",
        serde_json::json!([{"action": "wait", "selector": "#all", "timeout_ms": 90000}]),
        Duration::from_secs(120),
    )
    .await;
    assert_complete(&outcome);
    let n = records
        .iter()
        .filter(|r| matches!(r, Record::Request(q) if q.url.contains("px.h-tracker.test/n?i=")))
        .count();
    eprintln!("10,000 requests: {n} captured in {took:.1} s");
    assert_eq!(n, 10_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_websocket_frames_each_way() {
    let (outcome, records, _) = run_load(
        "http://www.h.test/ws.html",
        serde_json::json!([{"action": "wait", "selector": "#flooded", "timeout_ms": 60000}]),
        Duration::from_secs(90),
    )
    .await;
    assert_complete(&outcome);
    let sent = records
        .iter()
        .filter(|r| matches!(r, Record::WsFrame(_)))
        .count();
    // Frames the page sent are captured up to the per-socket cap (10,000).
    assert!(sent >= 10_000, "{sent} frames captured");
}

/// Service workers need a secure context: served on `localhost`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_worker_that_never_answers_does_not_hang_the_run() {
    let (outcome, _) = run_site(
        load_site(),
        |server| format!("http://localhost:{}/sw.html", server.addr().port()),
        serde_json::json!([{"action": "wait", "selector": "#ready", "timeout_ms": 15000},
                           {"action": "wait", "ms": 1000}]),
        Duration::from_secs(60),
    )
    .await;
    assert_complete(&outcome);
}

/// A tracker that filled its cookie jar (180 cookies of 4 kB: the per-domain limit) still has its
/// next request, and the data in it, reported: whatever the server makes of a 720 kB Cookie header,
/// the request left, so it is captured and never labelled failed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_cookie_jar_does_not_hide_the_next_request() {
    let site = Site::new()
        .file(
            "www.cj.test",
            "/",
            "text/html",
            page(
                "<script>(async () => { const v = 'x'.repeat(4000);\
                 for (let i = 0; i < 180; i++) { await fetch('https://px.cj-tracker.test/__lh/cookie?name=c' + i + '&value=' + v + '&attrs=' + encodeURIComponent('Path=/; SameSite=None; Secure'), {credentials: 'include', mode: 'no-cors'}).catch(() => {}); }\
                 const img = new Image(); img.onload = img.onerror = () => document.body.insertAdjacentHTML('beforeend', '<p id=sent>sent</p>');\
                 img.src = 'https://px.cj-tracker.test/p.gif?q=cookiejarcanary'; })();</script>",
            ),
        )
        .tracker_host("*.cj-tracker.test");
    let server = SiteServer::start(site).await.expect("server");
    let dir = tempfile::tempdir().expect("tempdir");
    let capture = dir.path().join("c.jsonl");
    let s = scenario(
        "https://www.cj.test/",
        serde_json::json!([{"action": "wait", "selector": "#sent", "timeout_ms": 30000}]),
    );
    let rules = format!("--host-resolver-rules=MAP *.test {}", server.addr());
    let outcome = common::run_offline_with(&s, &server, &capture, |o| {
        o.offline = false;
        o.map.clear();
        o.chromium_args = vec![rules];
        o.ignore_certificate_errors = true;
    })
    .await;
    assert_complete(&outcome);
    let records = common::read_capture(&capture);
    let pixel = records
        .iter()
        .find_map(|r| match r {
            Record::Request(q) if q.url.contains("cookiejarcanary") => Some(q),
            _ => None,
        })
        .expect("the tracker request is captured");
    let cookie_len = pixel
        .headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case("cookie"))
        .map(|h| h.value.len())
        .unwrap_or(0);
    eprintln!("cookie header {cookie_len} bytes, fate {:?}", pixel.fate);
    assert!(
        !matches!(
            pixel.fate,
            leakhound_core::capture::record::Fate::Failed { .. }
        ) || server
            .received()
            .iter()
            .all(|r| !r.path.contains("cookiejarcanary")),
        "labelled failed although the server got it: {:?}",
        pixel.fate
    );
    server.shutdown().await;
}
