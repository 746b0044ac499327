//! Exit traffic, proven against the server: a matrix of the ways a page sends while it goes away.
//!
//! Each case is one page that arms one send *channel* (`sendBeacon` with each body type, `fetch`
//! keepalive GET/POST, an image, a synchronous XHR) in one *context* (the top document, a
//! same-origin iframe, a cross-origin iframe, a dedicated worker) on one *trigger* (`pagehide`,
//! `beforeunload`, `unload`, `visibilitychange`), and is then left one *way* (same- or
//! cross-origin link, script navigation, form GET/POST, `history.back()`, the journey's final leave,
//! a popup closing itself), over `http` or `https`. The dimensions are interleaved so that every
//! value of each appears at least twice (see [`cases`]).
//!
//! The site server's log is the ground truth. For every case, in live mode (the browser talks to
//! the server itself) and offline mode (leakhound's Fetch interception in between), every request
//! the server received must be in the capture with its body, labelled `delivered`, and the
//! classifier must report the case's canary to the third party. No request the server received may
//! be labelled failed anywhere in the capture. A request the server never received must not be
//! labelled delivered.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use leakhound_browser::driver::RenderedText;
use leakhound_browser::journey::{run_journey, RunOptions};
use leakhound_browser::offline::HostRule;
use leakhound_core::capture::record::{
    Canary, CanaryKind, Fate, JourneyInfo, Record, RequestRecord, RunStatus,
};
use leakhound_core::classify::{analyze_capture, ClassifyOptions};
use leakhound_core::scenario::model::Scenario;
use leakhound_serve::{normalize_host, ReceivedKind, Site, SiteServer};

const CHANNELS: [&str; 8] = [
    "beacon_string",
    "beacon_blob",
    "beacon_formdata",
    "beacon_params",
    "keepalive_get",
    "keepalive_post",
    "image",
    "sync_xhr",
];
const CONTEXTS: [&str; 4] = ["top", "same_origin_iframe", "cross_origin_iframe", "worker"];
const TRIGGERS: [&str; 4] = ["pagehide", "beforeunload", "unload", "visibilitychange"];
const LEAVES: [&str; 8] = [
    "same_origin_link",
    "cross_origin_link",
    "script_navigation",
    "form_get",
    "form_post",
    "history_back",
    "final_leave",
    "popup_close",
];
const SCHEMES: [&str; 2] = ["http", "https"];

/// Cases per journey; each journey ends with its one `final_leave` case.
const JOURNEYS: usize = 4;
const CASES: usize = 48;

#[derive(Debug, Clone)]
struct Case {
    id: usize,
    channel: &'static str,
    context: &'static str,
    trigger: &'static str,
    leave: &'static str,
    scheme: &'static str,
    /// Sent to the site's own origin instead of the tracker (captured, but no third-party finding).
    own_origin: bool,
}

impl Case {
    fn canary(&self) -> String {
        format!("exitcanary{}x", self.id)
    }
    fn origin(&self) -> String {
        format!("{}://www.exit.test", self.scheme)
    }
    fn collect_host(&self) -> &'static str {
        if self.own_origin {
            "www.exit.test"
        } else {
            "t.exit-tracker.test"
        }
    }
    fn collect_path(&self) -> String {
        format!("/collect/{}", self.id)
    }
    fn describe(&self) -> String {
        format!(
            "case {} ({} from {} on {}, left by {}, {}{})",
            self.id,
            self.channel,
            self.context,
            self.trigger,
            self.leave,
            self.scheme,
            if self.own_origin { ", own origin" } else { "" }
        )
    }
}

/// The matrix. Each dimension's index is a different function of the case number, chosen so that
/// within every run of 8 consecutive cases each channel and each way of leaving occurs once and
/// within every 4 each trigger, context and scheme is balanced — so over 48 cases every value
/// appears 6 to 24 times, and values of different dimensions are mixed rather than repeated in
/// lockstep. `final_leave` cases are moved to the end of their journey.
fn cases() -> Vec<Case> {
    (0..CASES)
        .map(|i| Case {
            id: i,
            channel: CHANNELS[i % 8],
            leave: LEAVES[(3 * i + i / 8) % 8],
            trigger: TRIGGERS[(i + i / 4) % 4],
            context: CONTEXTS[(i / 2 + i / 8) % 4],
            scheme: SCHEMES[(i + i / 4) % 2],
            own_origin: i % 6 == 5,
        })
        .collect()
}

/// Splits the cases into journeys of which each has exactly one `final_leave` case, last.
fn journeys(all: &[Case]) -> Vec<Vec<Case>> {
    let finals: Vec<&Case> = all.iter().filter(|c| c.leave == "final_leave").collect();
    let others: Vec<&Case> = all.iter().filter(|c| c.leave != "final_leave").collect();
    let mut out: Vec<Vec<Case>> = vec![Vec::new(); JOURNEYS];
    for (k, c) in others.iter().enumerate() {
        out[k % JOURNEYS].push((*c).clone());
    }
    // More final-leave cases than journeys: the extra ones become journeys of their own.
    for (k, c) in finals.iter().enumerate() {
        if k < JOURNEYS {
            out[k].push((*c).clone());
        } else {
            out.push(vec![(*c).clone()]);
        }
    }
    out
}

/// The send function every window context uses (top document, iframes, popups).
const SEND_JS: &str = r#"
function lhSend(ch, url, canary) {
  const q = 'q=' + encodeURIComponent(canary) + '&ch=' + ch;
  switch (ch) {
    case 'beacon_string': navigator.sendBeacon(url, q); break;
    case 'beacon_blob': navigator.sendBeacon(url, new Blob([JSON.stringify({q: canary, ch: ch})], {type: 'text/plain'})); break;
    case 'beacon_formdata': { const f = new FormData(); f.append('q', canary); f.append('ch', ch); navigator.sendBeacon(url, f); break; }
    case 'beacon_params': navigator.sendBeacon(url, new URLSearchParams({q: canary, ch: ch})); break;
    case 'keepalive_get': fetch(url + '?' + q, {keepalive: true, mode: 'no-cors', credentials: 'include'}); break;
    case 'keepalive_post': fetch(url, {method: 'POST', keepalive: true, mode: 'no-cors', body: q}); break;
    case 'image': { const i = new Image(); i.src = url + '?' + q; (window.lhImages = window.lhImages || []).push(i); break; }
    case 'sync_xhr': try { const x = new XMLHttpRequest(); x.open('POST', url, false); x.send(q); } catch (e) {} break;
  }
}
function lhArm(win, trigger, fire) {
  let done = false;
  const once = () => { if (!done) { done = true; fire(); } };
  if (trigger === 'visibilitychange') {
    win.document.addEventListener('visibilitychange', () => { if (win.document.visibilityState === 'hidden') once(); });
  } else {
    win.addEventListener(trigger, once);
  }
}
"#;

/// What a dedicated worker runs: the fetch-based equivalents of each channel (workers have no
/// `sendBeacon` and no `Image`), sent when its page tells it the trigger fired.
const WORKER_JS: &str = r#"
function lhSend(ch, url, canary) {
  const q = 'q=' + encodeURIComponent(canary) + '&ch=' + ch;
  switch (ch) {
    case 'beacon_string': fetch(url, {method: 'POST', keepalive: true, mode: 'no-cors', body: q}); break;
    case 'beacon_blob': fetch(url, {method: 'POST', keepalive: true, mode: 'no-cors', body: new Blob([JSON.stringify({q: canary, ch: ch})], {type: 'text/plain'})}); break;
    case 'beacon_formdata': { const f = new FormData(); f.append('q', canary); f.append('ch', ch); fetch(url, {method: 'POST', keepalive: true, mode: 'no-cors', body: f}); break; }
    case 'beacon_params': fetch(url, {method: 'POST', keepalive: true, mode: 'no-cors', body: new URLSearchParams({q: canary, ch: ch})}); break;
    case 'keepalive_get': fetch(url + '?' + q, {keepalive: true, mode: 'no-cors'}); break;
    case 'keepalive_post': fetch(url, {method: 'POST', keepalive: true, mode: 'no-cors', body: q}); break;
    case 'image': fetch(url + '?' + q, {mode: 'no-cors'}); break;
    case 'sync_xhr': try { const x = new XMLHttpRequest(); x.open('POST', url, false); x.send(q); } catch (e) {} break;
  }
}
self.onmessage = (e) => lhSend(e.data.ch, e.data.url, e.data.canary);
postMessage('ready');
"#;

fn case_json(c: &Case) -> String {
    let url = format!("{}://{}{}", c.scheme, c.collect_host(), c.collect_path());
    serde_json::json!({
        "id": c.id, "channel": c.channel, "context": c.context, "trigger": c.trigger,
        "leave": c.leave, "canary": c.canary(), "url": url,
        "frameOrigin": format!("{}://frame.exit-frame.test", c.scheme),
    })
    .to_string()
}

fn page_html(c: &Case) -> String {
    let id = c.id;
    let leave = match c.leave {
        "same_origin_link" => format!("<a id=leave href=\"/c{id}/next.html\">next page</a>"),
        "cross_origin_link" => format!(
            "<a id=leave href=\"{}://www.exit-away.test/c{id}/next.html\">elsewhere</a>",
            c.scheme
        ),
        "script_navigation" => format!(
            "<button id=leave onclick=\"location.href='/c{id}/next.html'\">go</button>"
        ),
        "form_get" => format!(
            "<form action=\"/c{id}/next.html\" method=get><input name=x value=1><button id=leave>go</button></form>"
        ),
        "form_post" => format!(
            "<form action=\"/c{id}/next.html\" method=post><input name=x value=1><button id=leave>go</button></form>"
        ),
        "history_back" => "<button id=leave onclick=\"history.back()\">back</button>".to_string(),
        _ => String::new(),
    };
    format!(
        r#"<!doctype html><meta charset=utf-8><title>exit case {id}</title>
<script>{SEND_JS}
const C = {json};
</script>
<body><h1>exit case {id}</h1>{leave}<p id=ready style="display:none">ready</p>
<script>
(function () {{
  const ready = () => {{
    document.getElementById('ready').style.display = 'block';
    if (C.leave === 'popup_close' && window.opener) setTimeout(() => window.close(), 400);
  }};
  if (C.context === 'top') {{
    lhArm(window, C.trigger, () => lhSend(C.channel, C.url, C.canary));
    ready();
  }} else if (C.context === 'worker') {{
    const w = new Worker('/c{id}/worker.js');
    w.onmessage = () => ready();
    lhArm(window, C.trigger, () => w.postMessage({{ch: C.channel, url: C.url, canary: C.canary}}));
  }} else {{
    window.addEventListener('message', (e) => {{ if (e.data === 'ready{id}') ready(); }});
    const f = document.createElement('iframe');
    f.src = (C.context === 'cross_origin_iframe' ? C.frameOrigin : '') + '/c{id}/frame.html';
    document.body.appendChild(f);
  }}
}})();
</script>
"#,
        json = case_json(c)
    )
}

fn frame_html(c: &Case) -> String {
    format!(
        r#"<!doctype html><meta charset=utf-8><title>frame {id}</title>
<script>{SEND_JS}
const C = {json};
lhArm(window, C.trigger, () => lhSend(C.channel, C.url, C.canary));
window.addEventListener('load', () => parent.postMessage('ready{id}', '*'));
</script><p>frame</p>
"#,
        id = c.id,
        json = case_json(c)
    )
}

fn plain_html(title: &str) -> String {
    format!("<!doctype html><meta charset=utf-8><title>{title}</title><p>{title}</p>")
}

fn matrix_site(all: &[Case]) -> Site {
    let mut site = Site::new();
    for c in all {
        let id = c.id;
        let html = "text/html; charset=utf-8";
        site = site
            .file(
                "www.exit.test",
                &format!("/c{id}/page.html"),
                html,
                page_html(c).into_bytes(),
            )
            .file(
                "www.exit.test",
                &format!("/c{id}/frame.html"),
                html,
                frame_html(c).into_bytes(),
            )
            .file(
                "frame.exit-frame.test",
                &format!("/c{id}/frame.html"),
                html,
                frame_html(c).into_bytes(),
            )
            .file(
                "www.exit.test",
                &format!("/c{id}/worker.js"),
                "text/javascript",
                WORKER_JS.as_bytes().to_vec(),
            )
            .file(
                "www.exit.test",
                &format!("/c{id}/next.html"),
                html,
                plain_html("next").into_bytes(),
            )
            .file(
                "www.exit-away.test",
                &format!("/c{id}/next.html"),
                html,
                plain_html("elsewhere").into_bytes(),
            )
            .file(
                "www.exit.test",
                &format!("/c{id}/before.html"),
                html,
                plain_html("before").into_bytes(),
            )
            .file(
                "www.exit.test",
                &format!("/c{id}/opener.html"),
                html,
                format!(
                    "<!doctype html><title>opener {id}</title><button id=open \
                     onclick=\"window.open('/c{id}/page.html', 'popup{id}')\">open</button>"
                )
                .into_bytes(),
            );
    }
    site.tracker_host("*.exit-tracker.test")
}

fn steps_for(c: &Case) -> Vec<serde_json::Value> {
    use serde_json::json;
    let page = format!("{}/c{}/page.html", c.origin(), c.id);
    let label = c.describe();
    let ready = json!({"action": "wait", "selector": "#ready", "timeout_ms": 8000});
    match c.leave {
        "popup_close" => vec![
            json!({"action": "goto", "url": format!("{}/c{}/opener.html", c.origin(), c.id), "label": label}),
            json!({"action": "click", "selector": "#open"}),
            json!({"action": "wait", "ms": 2500}),
        ],
        "final_leave" => vec![
            json!({"action": "goto", "url": page, "label": label}),
            ready,
        ],
        "history_back" => vec![
            json!({"action": "goto", "url": format!("{}/c{}/before.html", c.origin(), c.id), "label": label}),
            json!({"action": "goto", "url": page}),
            ready,
            json!({"action": "click", "selector": "#leave"}),
            json!({"action": "wait", "ms": 300}),
        ],
        _ => vec![
            json!({"action": "goto", "url": page, "label": label}),
            ready,
            json!({"action": "click", "selector": "#leave"}),
            json!({"action": "wait", "ms": 300}),
        ],
    }
}

async fn run_case_journey(
    journey: &[Case],
    server: &SiteServer,
    live: bool,
    capture: &Path,
) -> RunStatus {
    let first = &journey[0];
    let steps: Vec<serde_json::Value> = journey.iter().flat_map(steps_for).collect();
    let scenario: Scenario = serde_json::from_value(serde_json::json!({
        "name": "exit matrix",
        "start_url": format!("{}/c{}/before.html", first.origin(), first.id),
        "steps": steps,
        "timeout_ms": 240000,
        "leave": {"url": "about:blank", "grace_ms": 1500},
    }))
    .expect("valid scenario");
    let mut opts = RunOptions::new(capture.to_path_buf());
    if live {
        opts.chromium_args = vec![format!(
            "--host-resolver-rules=MAP *.test {}",
            server.addr()
        )];
        opts.ignore_certificate_errors = true;
    } else {
        opts.offline = true;
        opts.map = vec![HostRule::parse(&format!("*.test={}", server.addr())).expect("rule")];
    }
    let render = |t: &str| {
        Ok(RenderedText {
            text: t.to_string(),
            canary_key: None,
            secret: false,
        })
    };
    let info = JourneyInfo {
        name: scenario.name.clone(),
        start_url: scenario.start_url.clone(),
        identity: journey
            .iter()
            .map(|c| Canary {
                key: format!("c{}", c.id),
                kind: CanaryKind::Text,
                value: Some(c.canary()),
                env: None,
            })
            .collect(),
        ..Default::default()
    };
    let outcome = run_journey(
        &scenario,
        info,
        &BTreeMap::new(),
        &render,
        &opts,
        &|_, _, _| {},
    )
    .await
    .expect("run");
    assert_eq!(
        outcome.end.status,
        RunStatus::Complete,
        "journey of {} did not complete: {:?}",
        first.describe(),
        outcome.end.reason
    );
    outcome.end.status
}

fn target_of(url: &str) -> Option<(String, String)> {
    let u = url::Url::parse(url).ok()?;
    let mut t = u.path().to_string();
    if let Some(q) = u.query() {
        t.push('?');
        t.push_str(q);
    }
    Some((u.host_str()?.to_string(), t))
}

/// Runs the whole matrix in one mode and returns a list of problems (empty when all is well).
async fn run_matrix(live: bool) -> Vec<String> {
    let all = cases();
    let server = SiteServer::start(matrix_site(&all)).await.expect("server");
    let mode = if live { "live" } else { "offline" };
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("exit-matrix-{mode}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let mut problems = Vec::new();
    let mut received_cases = 0;
    let mut delivered = 0usize;
    let mut unknown = 0usize;
    for (j, journey) in journeys(&all).iter().enumerate() {
        server.clear_received();
        let capture = dir.join(format!("journey-{j}.jsonl"));
        run_case_journey(journey, &server, live, &capture).await;
        let received = server.received();
        let records = common::read_capture(&capture);
        let requests: Vec<&RequestRecord> = records
            .iter()
            .filter_map(|r| match r {
                Record::Request(r) => Some(r.as_ref()),
                _ => None,
            })
            .collect();
        let same = |c: &RequestRecord, method: &str, host: &str, path: &str, body: &[u8]| {
            let captured_body = c.body.as_ref().map(|b| b.bytes()).unwrap_or_default();
            c.method == method
                && target_of(&c.url).is_some_and(|(h, p)| h == host && p == path)
                && captured_body == body
        };
        // Nothing the server received is labelled failed.
        for r in received.iter().filter(|r| r.kind == ReceivedKind::Http) {
            let host = normalize_host(&r.host);
            for c in requests
                .iter()
                .filter(|c| same(c, &r.method, &host, &r.path, &r.body))
            {
                if let Fate::Failed { reason } = &c.fate {
                    problems.push(format!(
                        "{mode}: {} {host}{} reached the server but is labelled failed ({reason})",
                        r.method, r.path
                    ));
                }
            }
        }
        let (_, analysis) = analyze_capture(&capture, &ClassifyOptions::default())
            .unwrap_or_else(|e| panic!("{mode}: classify {}: {e}", capture.display()));
        for c in journey {
            let host = c.collect_host();
            let got: Vec<_> = received
                .iter()
                .filter(|r| {
                    r.kind == ReceivedKind::Http
                        && r.method != "OPTIONS"
                        && normalize_host(&r.host) == host
                        && r.path_only() == c.collect_path()
                })
                .collect();
            if !got.is_empty() {
                received_cases += 1;
            }
            for r in &got {
                match requests
                    .iter()
                    .find(|x| same(x, &r.method, host, &r.path, &r.body))
                {
                    None => problems.push(format!(
                        "{mode}: {}: the server received {} {}{} but the capture lacks it",
                        c.describe(),
                        r.method,
                        host,
                        r.path
                    )),
                    Some(x) if matches!(x.fate, Fate::Failed { .. }) => problems.push(format!(
                        "{mode}: {}: received by the server but captured as {:?}",
                        c.describe(),
                        x.fate
                    )),
                    Some(x) if x.fate == Fate::Delivered => delivered += 1,
                    Some(_) => {
                        unknown += 1;
                        eprintln!("{mode}: {}: sent, outcome unknown", c.describe());
                    }
                }
            }
            // Captured as delivered although nothing arrived: a false delivery.
            if got.is_empty() {
                for x in requests.iter().filter(|x| {
                    target_of(&x.url)
                        .is_some_and(|(h, p)| h == host && p.starts_with(&c.collect_path()))
                        && x.method != "OPTIONS"
                        && x.fate == Fate::Delivered
                }) {
                    problems.push(format!(
                        "{mode}: {}: captured as delivered ({} {}) but the server never got it",
                        c.describe(),
                        x.method,
                        x.url
                    ));
                }
            }
            if !got.is_empty() && !c.own_origin {
                let key = format!("c{}", c.id);
                if !analysis
                    .findings
                    .iter()
                    .any(|f| f.canary == key && f.host == host)
                {
                    problems.push(format!(
                        "{mode}: {}: no finding for its canary",
                        c.describe()
                    ));
                }
            }
        }
    }
    server.shutdown().await;
    // The browser must actually have sent many cases: a matrix the server saw nothing of proves
    // nothing. (Some combinations are dropped by Chromium by design — a synchronous XHR during
    // page dismissal, an image started in `unload`, a worker terminated with its page — and
    // others only sometimes make it out, so the floor is half.)
    let min = CASES / 2;
    if received_cases < min {
        problems.push(format!(
            "{mode}: the server received only {received_cases} of {CASES} cases (expected ≥ {min})"
        ));
    }
    eprintln!("{mode}: the server received {received_cases} of {CASES} cases");
    // "Sent, outcome unknown" is honest (never a false "failed"): a request the browser aborted
    // as its window closed reached the server, but no response ever came back to prove it. The
    // evidence must still prove delivery for the great majority of what the server got.
    if unknown * 100 > (delivered + unknown) * 15 {
        problems.push(format!(
            "{mode}: only {delivered} of {} received requests proven delivered",
            delivered + unknown
        ));
    }
    problems
}

#[test]
fn matrix_covers_every_value_at_least_twice() {
    let all = cases();
    type Dimension<'a> = (&'a str, &'a [&'a str], fn(&Case) -> &'static str);
    let dims: [Dimension; 5] = [
        ("channel", &CHANNELS, |c| c.channel),
        ("context", &CONTEXTS, |c| c.context),
        ("trigger", &TRIGGERS, |c| c.trigger),
        ("leave", &LEAVES, |c| c.leave),
        ("scheme", &SCHEMES, |c| c.scheme),
    ];
    for (name, values, get) in dims {
        for v in values {
            let n = all.iter().filter(|c| get(c) == *v).count();
            assert!(n >= 2, "{name} = {v} appears {n} times");
        }
    }
    assert!(all.len() >= 40);
    for j in journeys(&all) {
        let finals = j.iter().filter(|c| c.leave == "final_leave").count();
        assert!(finals <= 1);
        if finals == 1 {
            assert_eq!(j.last().map(|c| c.leave), Some("final_leave"));
        }
    }
}

/// Live, then offline: one after the other, so two browsers never compete for the two cores
/// while pages are being left.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exit_traffic_matrix_live_and_offline() {
    let mut problems = run_matrix(true).await;
    problems.extend(run_matrix(false).await);
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}
