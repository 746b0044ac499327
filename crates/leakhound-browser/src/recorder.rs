//! Turns the browser's raw DevTools events into capture records.
//!
//! One task owns all capture state and the capture file; everything else talks to it through
//! [`RecorderHandle`]. The recorder attaches to every target the browser creates — pages, popups,
//! cross-site iframes, dedicated, shared and service workers — while the target is still paused
//! (`waitForDebuggerOnStart`), enables the Network domain there, and only then lets it run, so no
//! target's first request is missed.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{json, Value};
use tokio::sync::{mpsc, oneshot};

use super::cdp::{Cdp, CdpEvent};
use super::offline::{dispose, Disposition, HostMap};
use crate::capture::record::*;
use crate::capture::writer::{CaptureWriter, WriteError};

/// Requests pending longer than this no longer hold up "network idle": they are hanging or
/// long-polling, and waiting for them would never end.
const STALE_REQUEST: Duration = Duration::from_secs(5);

/// Device emulation applied to every page target.
#[derive(Debug, Clone)]
pub struct Emulation {
    pub width: u32,
    pub height: u32,
    pub scale: f64,
    pub mobile: bool,
    pub user_agent: Option<String>,
}

#[derive(Debug, Clone)]
pub struct RecorderConfig {
    /// Bodies larger than this are cut (and flagged truncated).
    pub body_cap: usize,
    /// WebSocket frames larger than this are cut.
    pub frame_cap: usize,
    /// At most this many frames are kept per WebSocket.
    pub frames_per_socket: usize,
    /// Offline mode's host table; `None` in live mode.
    pub offline: Option<HostMap>,
    pub emulation: Option<Emulation>,
    /// Resolve initiator stacks (Debugger domain). Costs some speed; on by default.
    pub stacks: bool,
}

impl Default for RecorderConfig {
    fn default() -> Self {
        RecorderConfig {
            body_cap: 1 << 20,
            frame_cap: 256 << 10,
            frames_per_socket: 10_000,
            offline: None,
            emulation: None,
            stacks: true,
        }
    }
}

/// State the journey driver reads while the recorder works.
#[derive(Debug)]
pub struct Shared {
    start: Instant,
    step: AtomicUsize,
    net: Mutex<NetState>,
    crashed: Mutex<Option<String>>,
    primary_session: Mutex<Option<String>>,
    /// Navigations of the journey tab's main frame that started / committed, so a step that may
    /// navigate can wait for the navigation it triggered.
    navigations_started: AtomicUsize,
    navigations_committed: AtomicUsize,
    /// HTTP status of the main document each navigation (by loader id) of the journey tab got.
    document_status: Mutex<HashMap<String, (String, u16)>>,
}

#[derive(Debug)]
struct NetState {
    last_activity: Instant,
    busy: HashMap<(String, String), Instant>,
}

impl Shared {
    fn new() -> Shared {
        let now = Instant::now();
        Shared {
            start: now,
            step: AtomicUsize::new(0),
            net: Mutex::new(NetState {
                last_activity: now,
                busy: HashMap::new(),
            }),
            crashed: Mutex::new(None),
            primary_session: Mutex::new(None),
            navigations_started: AtomicUsize::new(0),
            navigations_committed: AtomicUsize::new(0),
            document_status: Mutex::new(HashMap::new()),
        }
    }

    /// Milliseconds since the run started.
    pub fn elapsed_ms(&self) -> f64 {
        self.start.elapsed().as_secs_f64() * 1000.0
    }

    pub fn set_step(&self, step: usize) {
        self.step.store(step, Ordering::SeqCst);
    }

    pub fn step(&self) -> usize {
        self.step.load(Ordering::SeqCst)
    }

    /// True when no request has started or finished for `quiet`, ignoring long-lived connections
    /// (WebSockets, EventSource, responses whose body is never read, hanging requests).
    pub fn network_idle(&self, quiet: Duration) -> bool {
        let Ok(net) = self.net.lock() else {
            return true;
        };
        let now = Instant::now();
        let busy = net
            .busy
            .values()
            .any(|since| now.duration_since(*since) < STALE_REQUEST);
        !busy && now.duration_since(net.last_activity) >= quiet
    }

    /// The recorder's own DevTools session with the journey's tab, once attached.
    pub fn primary_session(&self) -> Option<String> {
        self.primary_session.lock().ok().and_then(|s| s.clone())
    }

    fn set_primary_session(&self, session: Option<String>) {
        if let Ok(mut s) = self.primary_session.lock() {
            *s = session;
        }
    }

    /// How many main-frame navigations of the journey tab have started and committed so far.
    pub fn navigations(&self) -> (usize, usize) {
        (
            self.navigations_started.load(Ordering::SeqCst),
            self.navigations_committed.load(Ordering::SeqCst),
        )
    }

    /// URL and HTTP status of the main document the navigation `loader_id` received.
    pub fn document_status(&self, loader_id: &str) -> Option<(String, u16)> {
        self.document_status
            .lock()
            .ok()
            .and_then(|m| m.get(loader_id).cloned())
    }

    /// Why the page or browser crashed, if it did.
    pub fn crashed(&self) -> Option<String> {
        self.crashed.lock().ok().and_then(|c| c.clone())
    }

    fn activity(&self, key: (String, String), busy: Option<bool>) {
        if let Ok(mut net) = self.net.lock() {
            let now = Instant::now();
            net.last_activity = now;
            match busy {
                Some(true) => {
                    net.busy.insert(key, now);
                }
                Some(false) => {
                    net.busy.remove(&key);
                }
                None => {}
            }
        }
    }
}

enum Control {
    Write(Record),
    Primary(String),
    Finish {
        end: EndRecord,
        reply: oneshot::Sender<Result<EndRecord, WriteError>>,
    },
}

enum Internal {
    PostData {
        key: (String, String),
        bytes: Vec<u8>,
    },
}

/// The driver's handle on the running recorder.
#[derive(Clone)]
pub struct RecorderHandle {
    control: mpsc::UnboundedSender<Control>,
    shared: Arc<Shared>,
}

impl RecorderHandle {
    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Tells the recorder which target is the journey's own tab (its URL is every request's page
    /// URL unless the request came from a popup).
    pub fn set_primary(&self, target_id: &str) {
        let _ = self.control.send(Control::Primary(target_id.to_string()));
    }

    /// Queues a journey record (step, typed value, snapshot) for the capture file.
    pub fn write(&self, record: Record) {
        let _ = self.control.send(Control::Write(record));
    }

    /// Writes every request still pending (as initiated), then the end record. Returns the end
    /// record with its counts filled in.
    pub async fn finish(
        &self,
        status: RunStatus,
        reason: Option<String>,
        steps_run: usize,
    ) -> Result<EndRecord, WriteError> {
        let (reply, rx) = oneshot::channel();
        let end = EndRecord {
            status,
            reason,
            time_ms: self.shared.elapsed_ms(),
            steps_run,
            requests: 0,
            ws_frames: 0,
        };
        if self
            .control
            .send(Control::Finish {
                end: end.clone(),
                reply,
            })
            .is_err()
        {
            return Ok(end);
        }
        match tokio::time::timeout(Duration::from_secs(10), rx).await {
            Ok(Ok(result)) => result,
            _ => Ok(end),
        }
    }
}

#[derive(Debug, Clone)]
struct SessionInfo {
    kind: TargetKind,
    url: String,
    parent: Option<String>,
    /// Top-level document URL, for page sessions.
    top_url: String,
    /// The top-level document URL before the last navigation, and when that navigation committed:
    /// a request only the Fetch domain saw right after a navigation was sent by the document that
    /// was going away.
    previous_top_url: String,
    navigated_at: Option<Instant>,
    /// When the main frame last started a navigation: between that and the commit, the old
    /// document runs its `beforeunload`, `pagehide` and `unload` handlers.
    leaving_since: Option<Instant>,
}

/// How long after a navigation a Fetch-only request is still attributed to the page that was left.
const LEAVING_WINDOW: Duration = Duration::from_secs(5);
/// How long a request the page cancelled waits for the Fetch view that would show it reached the
/// network anyway (the two views arrive on different sessions, in no guaranteed order).
const HANDOVER_WAIT: Duration = Duration::from_millis(1500);
/// How long a request only Fetch has seen waits, once its response came, for its Network view
/// (which carries its initiator and target) before it is written alone.
const FETCH_ONLY_LINGER: Duration = Duration::from_secs(1);
/// How long a request handed to the network, then cancelled by its page, waits for the response
/// the Fetch domain reports for it.
const RESPONSE_WAIT: Duration = Duration::from_secs(10);

/// A request being recorded, with the evidence gathered so far about whether it left.
///
/// The fate written to the capture is decided from this evidence when the request is complete
/// (see [`PendingRequest::fate`] and `docs/capture-format.md`).
#[derive(Debug)]
struct PendingRequest {
    record: RequestRecord,
    /// A response (status line) came back: the request reached a server.
    response_seen: bool,
    body_pending: bool,
    /// Nothing more will come from the Network domain (finished or failed), or, for a request
    /// only Fetch saw, from Fetch.
    done: bool,
    /// The Fetch domain paused it on its way to the network: the browser handed it to the
    /// network stack, so it left or may have left.
    handed: bool,
    /// An error that proves it never left (DNS, refused connection, blocked before sending).
    failure: Option<String>,
    /// The page's view ended in an error that proves nothing either way (cancelled, reset).
    net_error: Option<String>,
    /// Its response will pause in Fetch too (`interceptResponse`): a response view is coming.
    watched: bool,
    /// Seen only by the Fetch domain so far.
    fetch_only: bool,
    /// The Network domain's request id, when known.
    network_id: Option<String>,
    /// Written at this time at the latest, with whatever evidence there is by then.
    wait_until: Option<Instant>,
    /// The frame and document (loader) that sent it, per Network.
    frame_id: String,
    loader_id: String,
}

impl PendingRequest {
    fn new(record: RequestRecord) -> PendingRequest {
        PendingRequest {
            record,
            response_seen: false,
            body_pending: false,
            done: false,
            handed: false,
            failure: None,
            net_error: None,
            watched: false,
            fetch_only: false,
            network_id: None,
            wait_until: None,
            frame_id: String::new(),
            loader_id: String::new(),
        }
    }

    /// The fate the evidence supports: delivered only with a response, failed only with proof it
    /// never left, otherwise sent with the outcome unknown (`initiated`).
    fn fate(&self) -> Fate {
        if self.response_seen {
            Fate::Delivered
        } else if let Some(reason) = &self.failure {
            Fate::Failed {
                reason: reason.clone(),
            }
        } else if self.handed {
            Fate::Initiated
        } else if let Some(reason) = &self.net_error {
            Fate::Failed {
                reason: format!("{reason}; it never reached the network"),
            }
        } else {
            Fate::Initiated
        }
    }

    /// Takes in what a Fetch-only view of the same request knew.
    fn absorb(&mut self, fetch: PendingRequest) {
        merge_headers(&mut self.record.headers, &fetch.record.headers);
        if let Some(body) = fetch.record.body.filter(|b| b.size > 0) {
            if self.record.body.as_ref().is_none_or(|b| b.size == 0) {
                self.record.body = Some(body);
                self.body_pending = false;
            }
        }
        self.handed |= fetch.handed;
        self.watched |= fetch.watched;
        self.response_seen |= fetch.response_seen;
        if self.failure.is_none() {
            self.failure = fetch.failure;
        }
        if self.record.response.is_none() {
            self.record.response = fetch.record.response;
        }
    }

    /// Ready to be written now: complete, and its fate will not change.
    fn settled(&self, now: Instant) -> bool {
        if self.fetch_only {
            // Its Network view may still come (a service worker's arrives late): wait for it.
            return self.done && self.wait_until.is_some_and(|t| now >= t);
        }
        self.done
            && !self.body_pending
            && (self.response_seen
                || self.failure.is_some()
                || self.wait_until.is_some_and(|t| now >= t))
    }
}

/// Whether a network error text proves the request never reached a server.
fn never_sent(error_text: &str) -> bool {
    const NEVER_SENT: [&str; 16] = [
        "ERR_NAME_NOT_RESOLVED",
        "ERR_NAME_RESOLUTION_FAILED",
        "ERR_CONNECTION_REFUSED",
        "ERR_CONNECTION_FAILED",
        "ERR_ADDRESS_UNREACHABLE",
        "ERR_ADDRESS_INVALID",
        "ERR_INTERNET_DISCONNECTED",
        "ERR_BLOCKED_BY_CLIENT",
        "ERR_BLOCKED_BY_ADMINISTRATOR",
        "ERR_CERT_",
        "ERR_SSL_",
        "ERR_UNSAFE_PORT",
        "ERR_UNKNOWN_URL_SCHEME",
        "ERR_DISALLOWED_URL_SCHEME",
        "ERR_INVALID_URL",
        "ERR_PROXY_CONNECTION_FAILED",
    ];
    NEVER_SENT.iter().any(|e| error_text.contains(e))
}

/// Blocked reasons that stop a request before it is sent (others, like CORP or ORB, block a
/// response that did come back).
fn blocked_before_sending(reason: &str) -> bool {
    matches!(
        reason,
        "other" | "csp" | "mixed-content" | "origin" | "inspector" | "subresource-filter"
    )
}

/// Fetch `ErrorReason`s that prove the request never reached a server.
fn fetch_error_never_sent(reason: &str) -> bool {
    matches!(
        reason,
        "NameNotResolved"
            | "ConnectionRefused"
            | "ConnectionFailed"
            | "AddressUnreachable"
            | "InternetDisconnected"
            | "BlockedByClient"
            | "AccessDenied"
    )
}

#[derive(Debug)]
struct WsState {
    record: WebSocketRecord,
    written: bool,
    frames: usize,
}

/// Starts the recorder on `events` (the raw connection's event stream). Call [`attach_browser`]
/// right after, before any page exists.
pub fn spawn(
    cdp: Cdp,
    events: mpsc::UnboundedReceiver<CdpEvent>,
    writer: CaptureWriter,
    config: RecorderConfig,
) -> RecorderHandle {
    let shared = Arc::new(Shared::new());
    let (control_tx, control_rx) = mpsc::unbounded_channel();
    let (internal_tx, internal_rx) = mpsc::unbounded_channel();
    let recorder = Recorder {
        cdp,
        forward_client: None,
        config,
        shared: shared.clone(),
        writer,
        sessions: HashMap::new(),
        primary: None,
        primary_target: None,
        target_sessions: HashMap::new(),
        requests: HashMap::new(),
        early_extra: HashMap::new(),
        early_response_extra: HashMap::new(),
        sockets: HashMap::new(),
        seen_network: HashSet::new(),
        network_signatures: HashSet::new(),
        fetch_jobs: HashMap::new(),
        frames: HashMap::new(),
        loaders: HashMap::new(),
        fetch_written: HashSet::new(),
        fetch_written_ids: HashSet::new(),
        next_id: 0,
        requests_written: 0,
        frames_written: 0,
        internal_tx,
        write_error: None,
    };
    tokio::spawn(recorder.run(events, control_rx, internal_rx));
    RecorderHandle {
        control: control_tx,
        shared,
    }
}

/// Browser-level auto-attach: every new target pauses until the recorder has enabled capture on it.
///
/// Also enables the Fetch domain on the browser target itself. Browser-wide interception sees
/// every request any frame, popup or worker hands to the network stack, including those sent by a
/// document that is going away (`pagehide` beacons, keepalive fetches, a cross-site iframe's
/// unload traffic) whose own DevTools target, and with it its Network events, is already gone.
/// Each request is paused once on its way out and, with `interceptResponse`, once more when its
/// response arrives: that second pause is the proof that it reached a server.
pub async fn attach_browser(cdp: &Cdp) -> Result<(), crate::cdp::CdpError> {
    cdp.call(
        "Target.setAutoAttach",
        json!({"autoAttach": true, "waitForDebuggerOnStart": true, "flatten": true}),
        None,
    )
    .await?;
    cdp.call(
        "Fetch.enable",
        json!({"patterns": [{"urlPattern": "*", "requestStage": "Request"}]}),
        None,
    )
    .await?;
    Ok(())
}

struct Recorder {
    cdp: Cdp,
    /// The client that forwards offline requests to local servers, built on first use and then
    /// shared by every forwarded request of this run (one connection pool). Per recorder, not
    /// global: a pool must not outlive the runtime its connections were made on.
    forward_client: Option<reqwest::Client>,
    config: RecorderConfig,
    shared: Arc<Shared>,
    writer: CaptureWriter,
    sessions: HashMap<String, SessionInfo>,
    /// The session of the journey's own tab.
    primary: Option<String>,
    /// The journey tab's target id, once the driver has told it.
    primary_target: Option<String>,
    /// Target id → session id.
    target_sessions: HashMap<String, String>,
    requests: HashMap<(String, String), PendingRequest>,
    early_extra: HashMap<String, Vec<Header>>,
    early_response_extra: HashMap<(String, String), (u16, Vec<Header>)>,
    sockets: HashMap<(String, String), WsState>,
    /// Request ids of every request Network reported.
    seen_network: HashSet<String>,
    /// method + URL + body of every request Network reported, to recognise Fetch-only duplicates.
    network_signatures: HashSet<(String, String, Vec<u8>)>,
    /// Fetch interception id → the pending request it is a view of.
    fetch_jobs: HashMap<String, (String, String)>,
    /// Frame id → the session of the page (or popup) the frame belongs to.
    frames: HashMap<String, String>,
    /// Frame id → loader id of the document it shows now.
    loaders: HashMap<String, String>,
    /// Method and URL of every request written from its Fetch view alone.
    fetch_written: HashSet<(String, String)>,
    /// Network ids of requests written from their Fetch view alone: a late Network view of one
    /// of them is not a second request.
    fetch_written_ids: HashSet<String>,
    next_id: usize,
    requests_written: usize,
    frames_written: usize,
    internal_tx: mpsc::UnboundedSender<Internal>,
    write_error: Option<WriteError>,
}

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

/// CDP header objects (`{"name": "value"}`; repeated headers joined by newlines) as a list.
fn headers_of(v: Option<&Value>) -> Vec<Header> {
    let mut out = Vec::new();
    if let Some(Value::Object(map)) = v {
        for (name, value) in map {
            let value = match value {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            for part in value.split('\n') {
                out.push(Header {
                    name: name.clone(),
                    value: part.to_string(),
                });
            }
        }
    }
    out
}

fn post_data(request: &Value) -> Option<Vec<u8>> {
    if let Some(entries) = request.get("postDataEntries").and_then(Value::as_array) {
        let mut bytes = Vec::new();
        for entry in entries {
            if let Some(b64) = entry.get("bytes").and_then(Value::as_str) {
                if let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(b64) {
                    bytes.extend_from_slice(&decoded);
                }
            }
        }
        return Some(bytes);
    }
    request
        .get("postData")
        .and_then(Value::as_str)
        .map(|s| s.as_bytes().to_vec())
}

fn initiator_of(v: Option<&Value>) -> Initiator {
    let Some(v) = v else {
        return Initiator::default();
    };
    let mut stack = Vec::new();
    let mut node = v.get("stack");
    let mut boundary: Option<String> = None;
    let mut depth = 0;
    while let Some(s) = node {
        if let Some(frames) = s.get("callFrames").and_then(Value::as_array) {
            for (i, f) in frames.iter().enumerate() {
                stack.push(StackFrame {
                    function: str_of(f, "functionName").to_string(),
                    url: str_of(f, "url").to_string(),
                    line: f.get("lineNumber").and_then(Value::as_u64).unwrap_or(0) as u32 + 1,
                    column: f.get("columnNumber").and_then(Value::as_u64).unwrap_or(0) as u32 + 1,
                    async_boundary: if i == 0 { boundary.take() } else { None },
                });
            }
        }
        node = s.get("parent");
        boundary = node
            .and_then(|p| p.get("description"))
            .and_then(Value::as_str)
            .map(str::to_string)
            .or(Some("async".to_string()));
        depth += 1;
        if depth > 64 {
            break;
        }
    }
    let first = stack.iter().find(|f| !f.url.is_empty());
    let (url, line, column) = match first {
        Some(f) => (Some(f.url.clone()), Some(f.line), Some(f.column)),
        None => {
            let url = Some(str_of(v, "url").to_string()).filter(|u| !u.is_empty());
            let line = v
                .get("lineNumber")
                .and_then(Value::as_u64)
                .map(|l| l as u32 + 1);
            let column = v
                .get("columnNumber")
                .and_then(Value::as_u64)
                .map(|c| c as u32 + 1);
            (url, line, column)
        }
    };
    Initiator {
        kind: str_of(v, "type").to_string(),
        url,
        line,
        column,
        stack,
    }
}

fn target_kind(info: &Value) -> Option<TargetKind> {
    let url = str_of(info, "url");
    if url.starts_with("chrome://")
        || url.starts_with("chrome-extension://")
        || url.starts_with("devtools://")
        || url.starts_with("chrome-untrusted://")
    {
        return None;
    }
    Some(match str_of(info, "type") {
        "page" => match info.get("openerId").and_then(Value::as_str) {
            Some(opener) if !opener.is_empty() => TargetKind::Popup,
            _ => TargetKind::Page,
        },
        "iframe" => TargetKind::Iframe,
        "worker" => TargetKind::Worker,
        "shared_worker" => TargetKind::SharedWorker,
        "service_worker" => TargetKind::ServiceWorker,
        _ => return None,
    })
}

/// Adds the headers of `more` that `headers` lacks (by name, case-insensitive).
fn merge_headers(headers: &mut Vec<Header>, more: &[Header]) {
    for h in more {
        if !headers.iter().any(|x| x.name.eq_ignore_ascii_case(&h.name)) {
            headers.push(h.clone());
        }
    }
}

/// What identifies a request across the Network and Fetch views of it.
fn signature(r: &RequestRecord) -> (String, String, Vec<u8>) {
    (
        r.method.clone(),
        r.url.clone(),
        r.body.as_ref().map(Body::bytes).unwrap_or_default(),
    )
}

fn empty_gif() -> &'static str {
    // A 1×1 transparent GIF, base64.
    "R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7"
}

impl Recorder {
    /// See [`Recorder::forward_client`]'s field.
    fn forward_client(&mut self) -> Result<&reqwest::Client, String> {
        if self.forward_client.is_none() {
            let client = reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(10))
                .build()
                .map_err(|e| format!("cannot build the forwarding HTTP client: {e}"))?;
            self.forward_client = Some(client);
        }
        self.forward_client
            .as_ref()
            .ok_or_else(|| "no forwarding client".to_string())
    }

    async fn run(
        mut self,
        mut events: mpsc::UnboundedReceiver<CdpEvent>,
        mut control: mpsc::UnboundedReceiver<Control>,
        mut internal: mpsc::UnboundedReceiver<Internal>,
    ) {
        let mut tick = tokio::time::interval(Duration::from_millis(500));
        loop {
            tokio::select! {
                biased;
                Some(ctl) = control.recv() => match ctl {
                    Control::Write(record) => self.write(&record),
                    Control::Primary(target) => {
                        self.primary = self.target_sessions.get(&target).cloned();
                        self.shared.set_primary_session(self.primary.clone());
                        self.primary_target = Some(target);
                    }
                    Control::Finish { end, reply } => {
                        // Drain what already arrived so nothing in flight is lost.
                        while let Ok(ev) = events.try_recv() {
                            self.handle(ev);
                        }
                        while let Ok(msg) = internal.try_recv() {
                            self.internal(msg);
                        }
                        let result = self.finish(end);
                        let _ = reply.send(result);
                        return;
                    }
                },
                Some(msg) = internal.recv() => self.internal(msg),
                _ = tick.tick() => self.flush_settled(),
                ev = events.recv() => match ev {
                    Some(ev) => self.handle(ev),
                    None => {
                        if let Ok(mut c) = self.shared.crashed.lock() {
                            if c.is_none() {
                                *c = Some("the browser connection closed (browser exited or crashed)".into());
                            }
                        }
                        // Keep serving control messages until finished.
                        while let Some(ctl) = control.recv().await {
                            match ctl {
                                Control::Write(record) => self.write(&record),
                                Control::Primary(_) => {}
                                Control::Finish { end, reply } => {
                                    let _ = reply.send(self.finish(end));
                                    return;
                                }
                            }
                        }
                        return;
                    }
                },
            }
        }
    }

    fn write(&mut self, record: &Record) {
        if self.write_error.is_some() {
            return;
        }
        if let Err(e) = self.writer.write(record) {
            tracing::error!("{e}");
            self.write_error = Some(e);
        }
    }

    fn finish(&mut self, mut end: EndRecord) -> Result<EndRecord, WriteError> {
        let keys: Vec<_> = self.requests.keys().cloned().collect();
        let mut pending: Vec<PendingRequest> = keys
            .into_iter()
            .filter_map(|k| self.requests.remove(&k))
            .collect();
        pending.sort_by(|a, b| a.record.time_ms.total_cmp(&b.record.time_ms));
        for p in pending {
            // A Fetch-only view of a request Network already reported in full is not a second
            // request.
            if p.fetch_only && self.network_signatures.contains(&signature(&p.record)) {
                continue;
            }
            self.emit(p);
        }
        let sockets: Vec<WsState> = self.sockets.drain().map(|(_, v)| v).collect();
        for s in sockets {
            if !s.written {
                self.write(&Record::WebSocket(s.record));
            }
        }
        end.requests = self.requests_written;
        end.ws_frames = self.frames_written;
        self.write(&Record::End(end.clone()));
        match self.write_error.take() {
            Some(e) => Err(e),
            None => Ok(end),
        }
    }

    /// Writes a request with the fate its evidence supports.
    fn emit(&mut self, p: PendingRequest) {
        let method_url = (p.record.method.clone(), p.record.url.clone());
        if p.fetch_only {
            if let Some(id) = &p.network_id {
                self.fetch_written_ids.insert(id.clone());
            }
            self.fetch_written.insert(method_url);
        } else if !p.handed && !p.response_seen && self.fetch_written.contains(&method_url) {
            // The page's view of a request whose Fetch view is already written: one request.
            return;
        }
        let fate = p.fate();
        let mut record = p.record;
        record.fate = fate;
        if p.fetch_only {
            self.next_id += 1;
            record.id = format!("r{}", self.next_id);
        }
        self.network_signatures.insert(signature(&record));
        self.requests_written += 1;
        self.write(&Record::Request(Box::new(record)));
    }

    /// Writes every request whose fate is settled (or whose wait for more evidence is over).
    fn flush_settled(&mut self) {
        let now = Instant::now();
        let ready: Vec<(String, String)> = self
            .requests
            .iter()
            .filter(|(_, p)| p.settled(now))
            .map(|(k, _)| k.clone())
            .collect();
        for key in ready {
            self.complete(&key);
        }
    }

    fn internal(&mut self, msg: Internal) {
        match msg {
            Internal::PostData { key, bytes } => {
                let cap = self.config.body_cap;
                if let Some(p) = self.requests.get_mut(&key) {
                    // Asked too late (the document is gone) the browser answers nothing; a body
                    // Fetch saw meanwhile is kept.
                    if !bytes.is_empty() || p.record.body.is_none() {
                        p.record.body = Some(Body::from_bytes(&bytes, cap));
                    }
                    p.body_pending = false;
                }
                self.complete(&key);
            }
        }
    }

    fn handle(&mut self, ev: CdpEvent) {
        tracing::trace!(target: "leakhound::cdp", method = %ev.method, session = ?ev.session_id, params = %ev.params);
        let session = ev.session_id.clone().unwrap_or_default();
        let p = &ev.params;
        match ev.method.as_str() {
            "Target.attachedToTarget" => self.attached(ev.session_id.as_deref(), p),
            "Target.detachedFromTarget" => {
                // Keep the session info: its pending requests still need their page URL.
            }
            "Inspector.targetCrashed" if Some(&session) == self.primary.as_ref() => {
                if let Ok(mut c) = self.shared.crashed.lock() {
                    *c = Some("the page crashed".to_string());
                }
            }
            "Page.frameNavigated" => {
                let frame = p.get("frame").unwrap_or(&Value::Null);
                let frame_id = str_of(frame, "id").to_string();
                self.loaders
                    .insert(frame_id.clone(), str_of(frame, "loaderId").to_string());
                if let Some(page) = self.page_session_of(&session) {
                    if !frame_id.is_empty() {
                        self.frames.insert(frame_id, page);
                    }
                }
                if frame.get("parentId").is_none() {
                    if Some(&session) == self.primary.as_ref() {
                        self.shared
                            .navigations_committed
                            .fetch_add(1, Ordering::SeqCst);
                    }
                    let url = str_of(frame, "url").to_string();
                    if let Some(s) = self.sessions.get_mut(&session) {
                        if matches!(s.kind, TargetKind::Page | TargetKind::Popup)
                            && s.top_url != url
                        {
                            s.previous_top_url = std::mem::replace(&mut s.top_url, url);
                            s.navigated_at = Some(Instant::now());
                        }
                    }
                }
            }
            "Page.frameRequestedNavigation"
            | "Page.frameStartedNavigating"
            | "Page.frameScheduledNavigation" => {
                let frame_id = str_of(p, "frameId");
                let main = self
                    .sessions
                    .get(&session)
                    .is_some_and(|s| matches!(s.kind, TargetKind::Page | TargetKind::Popup))
                    && self.target_sessions.get(frame_id) == Some(&session);
                if main {
                    if let Some(s) = self.sessions.get_mut(&session) {
                        s.leaving_since = Some(Instant::now());
                    }
                }
                if Some(&session) == self.primary.as_ref()
                    && self.primary_target.as_deref() == Some(frame_id)
                {
                    self.shared
                        .navigations_started
                        .fetch_add(1, Ordering::SeqCst);
                }
            }
            "Page.navigatedWithinDocument"
                if Some(&session) == self.primary.as_ref()
                    && self.primary_target.as_deref()
                        == p.get("frameId").and_then(Value::as_str) =>
            {
                self.shared
                    .navigations_committed
                    .fetch_add(1, Ordering::SeqCst);
            }
            "Page.javascriptDialogOpening" => {
                let kind = str_of(p, "type").to_string();
                self.cdp.send(
                    "Page.handleJavaScriptDialog",
                    json!({"accept": kind == "beforeunload"}),
                    Some(&session),
                );
                let record = DialogRecord {
                    step: self.shared.step(),
                    time_ms: self.shared.elapsed_ms(),
                    kind,
                    message: str_of(p, "message").to_string(),
                    url: str_of(p, "url").to_string(),
                };
                self.write(&Record::Dialog(record));
            }
            "Network.requestWillBeSent" => self.request_will_be_sent(&session, p),
            "Network.requestWillBeSentExtraInfo" => {
                // For worker requests this can come on another session than the request itself.
                let id = str_of(p, "requestId").to_string();
                let headers = headers_of(p.get("headers"));
                let key = (session, id.clone());
                let found = match self.requests.get_mut(&key) {
                    Some(req) => Some(req),
                    None => self
                        .requests
                        .iter_mut()
                        .find(|((_, rid), _)| *rid == id)
                        .map(|(_, r)| r),
                };
                match found {
                    Some(req) => {
                        let mut merged = headers;
                        merge_headers(&mut merged, &req.record.headers);
                        req.record.headers = merged;
                    }
                    None => {
                        self.early_extra.insert(id, headers);
                    }
                }
            }
            "Network.responseReceived" => {
                if str_of(p, "type") == "Document"
                    && Some(&session) == self.primary.as_ref()
                    && self.primary_target.as_deref() == p.get("frameId").and_then(Value::as_str)
                {
                    let resp = p.get("response").unwrap_or(&Value::Null);
                    let status = resp.get("status").and_then(Value::as_f64).unwrap_or(0.0) as u16;
                    if let Ok(mut m) = self.shared.document_status.lock() {
                        m.insert(
                            str_of(p, "loaderId").to_string(),
                            (str_of(resp, "url").to_string(), status),
                        );
                    }
                }
                let key = (session, str_of(p, "requestId").to_string());
                if let Some(req) = self.requests.get_mut(&key) {
                    let resp = p.get("response").unwrap_or(&Value::Null);
                    let status = resp.get("status").and_then(Value::as_f64).unwrap_or(0.0) as u16;
                    let remote = resp
                        .get("remoteIPAddress")
                        .and_then(Value::as_str)
                        .map(|ip| {
                            format!(
                                "{ip}:{}",
                                resp.get("remotePort").and_then(Value::as_u64).unwrap_or(0)
                            )
                        });
                    let info = req
                        .record
                        .response
                        .get_or_insert_with(ResponseInfo::default);
                    info.status = status;
                    if info.headers.is_empty() {
                        info.headers = headers_of(resp.get("headers"));
                    }
                    info.remote_address = remote;
                    req.response_seen = true;
                    self.shared.activity(key, Some(false));
                }
            }
            "Network.responseReceivedExtraInfo" => {
                let key = (session, str_of(p, "requestId").to_string());
                let status = p.get("statusCode").and_then(Value::as_u64).unwrap_or(0) as u16;
                let headers = headers_of(p.get("headers"));
                match self.requests.get_mut(&key) {
                    Some(req) => {
                        let info = req
                            .record
                            .response
                            .get_or_insert_with(ResponseInfo::default);
                        if info.status == 0 {
                            info.status = status;
                        }
                        info.headers = headers;
                        // Raw response headers come from the network stack: a server answered.
                        req.response_seen = true;
                    }
                    None => {
                        self.early_response_extra.insert(key, (status, headers));
                    }
                }
            }
            "Network.loadingFinished" => {
                let key = (session, str_of(p, "requestId").to_string());
                self.shared.activity(key.clone(), Some(false));
                if let Some(req) = self.requests.get_mut(&key) {
                    req.response_seen = true;
                    req.done = true;
                    self.complete(&key);
                }
            }
            "Network.loadingFailed" => {
                let key = (session, str_of(p, "requestId").to_string());
                self.shared.activity(key.clone(), Some(false));
                if let Some(req) = self.requests.get_mut(&key) {
                    let error = str_of(p, "errorText").to_string();
                    let mut reason = error.clone();
                    let blocked = p.get("blockedReason").and_then(Value::as_str);
                    if let Some(blocked) = blocked {
                        reason = format!("{reason} (blocked: {blocked})");
                    }
                    let canceled = p.get("canceled").and_then(Value::as_bool).unwrap_or(false);
                    if canceled {
                        reason = format!("{reason} (canceled)");
                    }
                    // The page's view of a request ends here, but a cancellation (the document
                    // went away) or a reset proves nothing about the request itself: the
                    // browser may have sent it already, and Fetch reports what came of it.
                    if !canceled
                        && (never_sent(&error) || blocked.is_some_and(blocked_before_sending))
                    {
                        req.failure = Some(reason);
                    } else {
                        req.net_error = Some(reason);
                        // Handed to the network with no response view to come, there is no more
                        // evidence to wait for.
                        let wait = match (req.handed, req.watched) {
                            (true, true) => RESPONSE_WAIT,
                            (true, false) => Duration::ZERO,
                            (false, _) => HANDOVER_WAIT,
                        };
                        req.wait_until = Some(Instant::now() + wait);
                    }
                    req.done = true;
                    self.complete(&key);
                }
            }
            "Network.webSocketCreated" => {
                let key = (session.clone(), str_of(p, "requestId").to_string());
                self.next_id += 1;
                let record = WebSocketRecord {
                    id: format!("w{}", self.next_id),
                    time_ms: self.shared.elapsed_ms(),
                    step: self.shared.step(),
                    page_url: self.page_url(&session),
                    frame_url: self.session_url(&session),
                    target: self.session_kind(&session),
                    url: str_of(p, "url").to_string(),
                    headers: Vec::new(),
                    initiator: initiator_of(p.get("initiator")),
                };
                self.sockets.insert(
                    key,
                    WsState {
                        record,
                        written: false,
                        frames: 0,
                    },
                );
            }
            "Network.webSocketWillSendHandshakeRequest" => {
                let key = (session, str_of(p, "requestId").to_string());
                let headers = headers_of(p.get("request").and_then(|r| r.get("headers")));
                if let Some(ws) = self.sockets.get_mut(&key) {
                    ws.record.headers = headers;
                    if !ws.written {
                        ws.written = true;
                        let record = Record::WebSocket(ws.record.clone());
                        self.write(&record);
                    }
                }
            }
            "Network.webSocketFrameSent" => {
                let key = (session.clone(), str_of(p, "requestId").to_string());
                let cap = self.config.frame_cap;
                let max = self.config.frames_per_socket;
                let response = p.get("response").unwrap_or(&Value::Null);
                let opcode = response.get("opcode").and_then(Value::as_u64).unwrap_or(1) as u8;
                let data = str_of(response, "payloadData");
                let bytes = if opcode == 2 {
                    base64::engine::general_purpose::STANDARD
                        .decode(data)
                        .unwrap_or_else(|_| data.as_bytes().to_vec())
                } else {
                    data.as_bytes().to_vec()
                };
                let step = self.shared.step();
                let time_ms = self.shared.elapsed_ms();
                let page_url = self.page_url(&session);
                let Some(ws) = self.sockets.get_mut(&key) else {
                    return;
                };
                if ws.frames >= max {
                    return;
                }
                ws.frames += 1;
                let mut pre = None;
                if !ws.written {
                    ws.written = true;
                    pre = Some(Record::WebSocket(ws.record.clone()));
                }
                let frame = WsFrameRecord {
                    id: format!("{}#{}", ws.record.id, ws.frames),
                    socket: ws.record.id.clone(),
                    time_ms,
                    step,
                    page_url,
                    url: ws.record.url.clone(),
                    opcode,
                    payload: Body::from_bytes(&bytes, cap),
                };
                if let Some(pre) = pre {
                    self.write(&pre);
                }
                self.frames_written += 1;
                self.write(&Record::WsFrame(frame));
            }
            "Fetch.requestPaused" => self.request_paused(&session, p),
            _ => {}
        }
    }

    fn attached(&mut self, parent: Option<&str>, p: &Value) {
        let Some(session) = p
            .get("sessionId")
            .and_then(Value::as_str)
            .map(str::to_string)
        else {
            return;
        };
        let info = p.get("targetInfo").unwrap_or(&Value::Null);
        let waiting = p
            .get("waitingForDebugger")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let kind = target_kind(info);
        let Some(kind) = kind else {
            if waiting {
                self.cdp
                    .send("Runtime.runIfWaitingForDebugger", json!({}), Some(&session));
            }
            return;
        };
        let url = str_of(info, "url").to_string();
        tracing::debug!(?kind, %url, "attached to target");
        let target_id = str_of(info, "targetId").to_string();
        if kind == TargetKind::Page && self.primary_target.as_deref() == Some(target_id.as_str()) {
            self.primary = Some(session.clone());
            self.shared.set_primary_session(Some(session.clone()));
        }
        self.target_sessions
            .insert(target_id.clone(), session.clone());
        self.sessions.insert(
            session.clone(),
            SessionInfo {
                kind,
                url: url.clone(),
                parent: parent.map(str::to_string),
                top_url: url,
                previous_top_url: String::new(),
                navigated_at: None,
                leaving_since: None,
            },
        );
        // A page's or cross-site iframe's target id is its frame id.
        if matches!(
            kind,
            TargetKind::Page | TargetKind::Popup | TargetKind::Iframe
        ) {
            if let Some(page) = self.page_session_of(&session) {
                self.frames.insert(target_id, page);
            }
        }
        let s = Some(session.as_str());
        self.cdp.send(
            "Network.enable",
            json!({"maxPostDataSize": self.config.body_cap, "maxTotalBufferSize": 64 << 20}),
            s,
        );
        // Fetch is enabled once, browser-wide (`attach_browser`), not per target: a target's own
        // interception ends with the target, while its last requests may still be on their way.
        if matches!(
            kind,
            TargetKind::Page | TargetKind::Popup | TargetKind::Iframe
        ) {
            self.cdp.send("Page.enable", json!({}), s);
        }
        if self.config.stacks {
            self.cdp.send("Debugger.enable", json!({}), s);
            self.cdp
                .send("Debugger.setSkipAllPauses", json!({"skip": true}), s);
            self.cdp
                .send("Runtime.setAsyncCallStackDepth", json!({"maxDepth": 32}), s);
        }
        if let (Some(em), TargetKind::Page | TargetKind::Popup) = (&self.config.emulation, kind) {
            self.cdp.send(
                "Emulation.setDeviceMetricsOverride",
                json!({"width": em.width, "height": em.height, "deviceScaleFactor": em.scale, "mobile": em.mobile}),
                s,
            );
            if em.mobile {
                self.cdp.send(
                    "Emulation.setTouchEmulationEnabled",
                    json!({"enabled": true}),
                    s,
                );
            }
            if let Some(ua) = &em.user_agent {
                self.cdp.send(
                    "Emulation.setUserAgentOverride",
                    json!({"userAgent": ua}),
                    s,
                );
            }
        }
        self.cdp.send(
            "Target.setAutoAttach",
            json!({"autoAttach": true, "waitForDebuggerOnStart": true, "flatten": true}),
            s,
        );
        if waiting {
            self.cdp
                .send("Runtime.runIfWaitingForDebugger", json!({}), s);
        }
    }

    fn session_kind(&self, session: &str) -> TargetKind {
        self.sessions
            .get(session)
            .map(|s| s.kind)
            .unwrap_or(TargetKind::Other)
    }

    fn session_url(&self, session: &str) -> String {
        self.sessions
            .get(session)
            .map(|s| {
                if matches!(s.kind, TargetKind::Page | TargetKind::Popup) {
                    s.top_url.clone()
                } else {
                    s.url.clone()
                }
            })
            .unwrap_or_default()
    }

    /// The top-level page URL for a request from `session`: the page itself, or the page an iframe
    /// or worker belongs to.
    fn page_url(&self, session: &str) -> String {
        let mut current = session;
        for _ in 0..16 {
            match self.sessions.get(current) {
                Some(s) if matches!(s.kind, TargetKind::Page | TargetKind::Popup) => {
                    return s.top_url.clone();
                }
                Some(SessionInfo {
                    parent: Some(parent),
                    ..
                }) => current = parent,
                _ => break,
            }
        }
        self.primary
            .as_ref()
            .and_then(|p| self.sessions.get(p))
            .map(|s| s.top_url.clone())
            .unwrap_or_default()
    }

    fn request_will_be_sent(&mut self, session: &str, p: &Value) {
        let request_id = str_of(p, "requestId").to_string();
        let key = (session.to_string(), request_id.clone());
        if !self.seen_network.insert(request_id.clone()) && !self.requests.contains_key(&key) {
            // The same request reported on a second session (a service worker is attached both
            // through the browser and through its page): keep the first report only.
            return;
        }
        if self.fetch_written_ids.contains(&request_id) && p.get("redirectResponse").is_none() {
            // Already written from its Fetch view, which arrived first.
            return;
        }
        let req = p.get("request").unwrap_or(&Value::Null);
        let url = str_of(req, "url").to_string();
        if url.starts_with("data:") || url.starts_with("blob:") {
            // Never leaves the browser.
            return;
        }
        let method = str_of(req, "method").to_string();
        let resource_type = p
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("Other")
            .to_string();
        let long_lived = matches!(resource_type.as_str(), "WebSocket" | "EventSource");

        if let Some(redirect) = p.get("redirectResponse") {
            if let Some(existing) = self.requests.get_mut(&key) {
                let status = redirect
                    .get("status")
                    .and_then(Value::as_f64)
                    .unwrap_or(0.0) as u16;
                let location = headers_of(redirect.get("headers"))
                    .into_iter()
                    .find(|h| h.name.eq_ignore_ascii_case("location"))
                    .map(|h| h.value);
                let previous = std::mem::replace(&mut existing.record.url, url);
                existing.record.redirects.push(Redirect {
                    url: previous,
                    status,
                    location,
                });
                existing.record.method = method;
                existing.record.headers = headers_of(req.get("headers"));
                existing.response_seen = false;
                existing.record.response = None;
                self.shared.activity(key, Some(true));
                return;
            }
        }

        self.next_id += 1;
        let cap = self.config.body_cap;
        let body_bytes = post_data(req);
        let has_post = req
            .get("hasPostData")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let body_pending = has_post && body_bytes.is_none();
        if body_pending {
            let cdp = self.cdp.clone();
            let tx = self.internal_tx.clone();
            let key = key.clone();
            tokio::spawn(async move {
                let result = cdp
                    .call(
                        "Network.getRequestPostData",
                        json!({"requestId": key.1}),
                        Some(&key.0),
                    )
                    .await;
                let bytes = result
                    .ok()
                    .and_then(|v| {
                        v.get("postData")
                            .and_then(Value::as_str)
                            .map(|s| s.as_bytes().to_vec())
                    })
                    .unwrap_or_default();
                let _ = tx.send(Internal::PostData { key, bytes });
            });
        }
        let mut headers = headers_of(req.get("headers"));
        if let Some(extra) = self.early_extra.remove(&request_id) {
            let mut merged = extra;
            merge_headers(&mut merged, &headers);
            headers = merged;
        }
        let frame_url = match str_of(p, "documentURL") {
            "" => self.session_url(session),
            u => u.to_string(),
        };
        let record = RequestRecord {
            id: format!("r{}", self.next_id),
            time_ms: self.shared.elapsed_ms(),
            step: self.shared.step(),
            page_url: self.page_url(session),
            frame_url,
            target: self.session_kind(session),
            resource_type: resource_type.clone(),
            method,
            url,
            headers,
            body: body_bytes.map(|b| Body::from_bytes(&b, cap)),
            redirects: Vec::new(),
            initiator: initiator_of(p.get("initiator")),
            response: None,
            fate: Fate::Initiated,
            beacon: resource_type == "Ping",
        };
        let mut pending = PendingRequest::new(record);
        pending.body_pending = body_pending;
        pending.network_id = Some(request_id.clone());
        pending.frame_id = str_of(p, "frameId").to_string();
        pending.loader_id = str_of(p, "loaderId").to_string();
        if let Some((status, headers)) = self.early_response_extra.remove(&key) {
            pending.record.response = Some(ResponseInfo {
                status,
                headers,
                ..Default::default()
            });
            pending.response_seen = true;
        }
        // Fetch may have paused this very request before Network reported it (the two arrive on
        // different sessions): fold that view in.
        let sig = signature(&pending.record);
        let twin = self
            .requests
            .iter()
            .find(|(_, p)| p.fetch_only && p.network_id.as_deref() == Some(request_id.as_str()))
            .map(|(k, _)| k.clone())
            .or_else(|| self.twin_of(&sig, true));
        if let Some(twin_key) = twin {
            if let Some(twin) = self.requests.remove(&twin_key) {
                pending.absorb(twin);
                for target in self.fetch_jobs.values_mut() {
                    if *target == twin_key {
                        *target = key.clone();
                    }
                }
            }
        }
        self.requests.insert(key.clone(), pending);
        self.shared
            .activity(key, if long_lived { None } else { Some(true) });
    }

    /// Writes the request if its fate is settled; otherwise it waits for more evidence (a Fetch
    /// response, or its wait running out).
    fn complete(&mut self, key: &(String, String)) {
        let settled = self
            .requests
            .get(key)
            .is_some_and(|p| p.settled(Instant::now()));
        if settled {
            if let Some(p) = self.requests.remove(key) {
                self.fetch_jobs.retain(|_, k| k != key);
                self.emit(p);
            }
        }
    }

    /// A request paused by the browser-wide Fetch interception: on its way out (request stage), or
    /// with its response (response stage, which `interceptResponse` asks for).
    fn request_paused(&mut self, session: &str, p: &Value) {
        let fetch_id = str_of(p, "requestId").to_string();
        let s = (!session.is_empty()).then_some(session);
        // Live mode: the connection's reader already let it go on (`Cdp::connect_with`).
        let continued = p.get("leakhoundContinued").is_some();
        if p.get("responseStatusCode").is_some() || p.get("responseErrorReason").is_some() {
            self.response_paused(&fetch_id, p);
            if !continued {
                self.cdp
                    .send("Fetch.continueRequest", json!({"requestId": fetch_id}), s);
            }
            return;
        }
        let req = p.get("request").unwrap_or(&Value::Null);
        let url_text = str_of(req, "url").to_string();
        let method = str_of(req, "method").to_string();
        let headers = headers_of(req.get("headers"));
        let resource_type = str_of(p, "resourceType").to_string();
        let body = post_data(req);
        let network_id = p
            .get("networkId")
            .and_then(Value::as_str)
            .filter(|id| !id.is_empty())
            .map(str::to_string);
        let frame_id = p.get("frameId").and_then(Value::as_str).map(str::to_string);
        let sig = (
            method.clone(),
            url_text.clone(),
            body.clone().unwrap_or_default(),
        );
        // Which request is this a view of? Network's, by id; a keepalive request the browser
        // sends on the page's behalf has no id here, so by method, URL and body.
        let existing = match &network_id {
            Some(id) => self
                .requests
                .iter()
                .find(|((_, rid), r)| rid == id && !r.fetch_only)
                .map(|(k, _)| k.clone()),
            None => self.twin_of(&sig, false),
        };
        let cap = self.config.body_cap;
        let key = match existing {
            Some(key) => {
                if let Some(r) = self.requests.get_mut(&key) {
                    // Requests answered by Fetch get no ExtraInfo event, so Fetch's view of the
                    // headers is the fullest there is: merge it in.
                    merge_headers(&mut r.record.headers, &headers);
                    if let Some(b) = body.as_deref().filter(|b| !b.is_empty()) {
                        if r.record.body.as_ref().is_none_or(|x| x.size == 0) {
                            r.record.body = Some(Body::from_bytes(b, cap));
                        }
                        r.body_pending = false;
                    }
                    r.handed = true;
                }
                Some(key)
            }
            // Network reported it and it is already written (a late view of a finished request).
            None if network_id
                .as_ref()
                .is_some_and(|id| self.seen_network.contains(id)) =>
            {
                None
            }
            None => {
                let (page_url, frame_url, target) = self.fetch_attribution(frame_id.as_deref());
                let record = RequestRecord {
                    id: String::new(),
                    time_ms: self.shared.elapsed_ms(),
                    step: self.shared.step(),
                    page_url,
                    frame_url,
                    target,
                    resource_type: resource_type.clone(),
                    method: method.clone(),
                    url: url_text.clone(),
                    headers: headers.clone(),
                    body: body.as_deref().map(|b| Body::from_bytes(b, cap)),
                    beacon: resource_type == "Ping",
                    ..Default::default()
                };
                let mut pending = PendingRequest::new(record);
                pending.fetch_only = true;
                pending.handed = true;
                pending.network_id = network_id.clone();
                let key = ("fetch".to_string(), fetch_id.clone());
                self.requests.insert(key.clone(), pending);
                Some(key)
            }
        };
        if let Some(key) = &key {
            self.fetch_jobs.insert(fetch_id.clone(), key.clone());
        }
        // Live mode: the reader decided, from the events it had read (`cdp::ResponseWatch`).
        let watch = match p.get("leakhoundWatched").and_then(Value::as_bool) {
            Some(watched) if continued => watched,
            _ => key
                .as_ref()
                .is_some_and(|k| self.needs_response_view(k, frame_id.as_deref())),
        };
        if let Some(r) = key.as_ref().and_then(|k| self.requests.get_mut(k)) {
            r.watched |= watch;
        }
        let Some(map) = &self.config.offline else {
            if !continued {
                self.cdp.send(
                    "Fetch.continueRequest",
                    json!({"requestId": fetch_id, "interceptResponse": watch}),
                    s,
                );
            }
            return;
        };
        let disposition = match url::Url::parse(&url_text) {
            Ok(u) => dispose(map, &u),
            Err(_) => Disposition::Continue,
        };
        if disposition != Disposition::Continue {
            // leakhound answers it itself: that answer is its delivery.
            if let Some(r) = key.as_ref().and_then(|k| self.requests.get_mut(k)) {
                r.response_seen = true;
                r.record
                    .response
                    .get_or_insert_with(ResponseInfo::default)
                    .fulfilled_locally = true;
                if r.fetch_only {
                    r.done = true;
                }
            }
            if let Some(k) = key {
                self.complete(&k);
            }
        }
        match disposition {
            Disposition::Continue => {
                self.cdp.send(
                    "Fetch.continueRequest",
                    json!({"requestId": fetch_id, "interceptResponse": watch}),
                    s,
                );
            }
            Disposition::Fulfill => {
                let origin = headers
                    .iter()
                    .find(|h| h.name.eq_ignore_ascii_case("origin"))
                    .map(|h| h.value.clone())
                    .unwrap_or_else(|| "*".to_string());
                let mut response_headers = vec![
                    json!({"name": "Access-Control-Allow-Origin", "value": origin}),
                    json!({"name": "Access-Control-Allow-Credentials", "value": "true"}),
                    json!({"name": "Access-Control-Allow-Headers", "value": "*, content-type, authorization"}),
                    json!({"name": "Access-Control-Allow-Methods", "value": "GET, POST, PUT, OPTIONS"}),
                    json!({"name": "Cache-Control", "value": "no-store"}),
                ];
                let (status, body) = if method == "OPTIONS" {
                    (204, String::new())
                } else {
                    let (ctype, body) = match resource_type.as_str() {
                        "Image" => ("image/gif", empty_gif().to_string()),
                        "Script" => ("application/javascript", String::new()),
                        "Stylesheet" => ("text/css", String::new()),
                        "Document" => ("text/html", String::new()),
                        _ => ("text/plain", String::new()),
                    };
                    response_headers.push(json!({"name": "Content-Type", "value": ctype}));
                    (200, body)
                };
                self.cdp.send(
                    "Fetch.fulfillRequest",
                    json!({"requestId": fetch_id, "responseCode": status, "responseHeaders": response_headers, "body": body}),
                    s,
                );
            }
            Disposition::Forward(addr) => {
                let cdp = self.cdp.clone();
                let session = s.map(str::to_string);
                let client = self.forward_client().cloned();
                tokio::spawn(async move {
                    let reply = match client {
                        Ok(client) => {
                            forward(&client, addr, &url_text, &method, &headers, body).await
                        }
                        Err(e) => Err(e),
                    };
                    let params = match reply {
                        Ok((status, headers, body)) => json!({
                            "requestId": fetch_id,
                            "responseCode": status,
                            "responseHeaders": headers,
                            "body": base64::engine::general_purpose::STANDARD.encode(body),
                        }),
                        Err(e) => {
                            tracing::warn!("forwarding {url_text} to {addr} failed: {e}");
                            json!({"requestId": fetch_id, "responseCode": 502, "responseHeaders": [], "body": ""})
                        }
                    };
                    cdp.send("Fetch.fulfillRequest", params, session.as_deref());
                });
            }
        }
    }

    /// The response stage of a request Fetch paused: a status proves it reached a server; some
    /// network errors prove it never did.
    fn response_paused(&mut self, fetch_id: &str, p: &Value) {
        let Some(key) = self.fetch_jobs.get(fetch_id).cloned() else {
            return;
        };
        let Some(req) = self.requests.get_mut(&key) else {
            return;
        };
        if let Some(status) = p.get("responseStatusCode").and_then(Value::as_u64) {
            req.response_seen = true;
            let info = req
                .record
                .response
                .get_or_insert_with(ResponseInfo::default);
            if info.status == 0 {
                info.status = u16::try_from(status).unwrap_or(0);
            }
            if info.headers.is_empty() {
                if let Some(list) = p.get("responseHeaders").and_then(Value::as_array) {
                    info.headers = list
                        .iter()
                        .map(|h| Header {
                            name: str_of(h, "name").to_string(),
                            value: str_of(h, "value").to_string(),
                        })
                        .collect();
                }
            }
        } else if let Some(reason) = p.get("responseErrorReason").and_then(Value::as_str) {
            let text = format!("network error: {reason}");
            if fetch_error_never_sent(reason) {
                req.failure = Some(text);
            } else if req.net_error.is_none() {
                req.net_error = Some(text);
            }
        }
        if req.fetch_only {
            // Nothing more will come from Fetch; the Network view, if any, gets a moment.
            req.done = true;
            req.wait_until = Some(Instant::now() + FETCH_ONLY_LINGER);
        } else if req.done {
            // Network already ended its view (cancelled by the page): this was the wait.
            req.wait_until = Some(Instant::now());
        }
        self.complete(&key);
    }

    /// The other view of a request: among Fetch-only records (`fetch_only`) or Network records not
    /// yet matched to a Fetch view. Same method, URL and body first; then same method and URL, as
    /// the two domains do not always report a body the same way (multipart, blobs, a body the
    /// page's view lost when its document went away).
    fn twin_of(
        &self,
        sig: &(String, String, Vec<u8>),
        fetch_only: bool,
    ) -> Option<(String, String)> {
        let candidates = || {
            self.requests.iter().filter(move |(_, r)| {
                if fetch_only {
                    r.fetch_only && r.network_id.is_none()
                } else {
                    !r.fetch_only && !r.handed
                }
            })
        };
        candidates()
            .find(|(_, r)| signature(&r.record) == *sig)
            .or_else(|| {
                candidates().find(|(_, r)| r.record.method == sig.0 && r.record.url == sig.1)
            })
            .map(|(k, _)| k.clone())
    }

    /// Whether a request's response must be observed through Fetch (a second pause) because the
    /// Network domain may never report it: the request has no Network view, is a beacon, comes
    /// from a popup (which may close itself), or from a document that is going away (its page
    /// started navigating and has not committed yet, or a newer document replaced it). Everything
    /// else is reported by Network on a live document, and pausing it twice would only cost time.
    fn needs_response_view(&self, key: &(String, String), frame_id: Option<&str>) -> bool {
        let Some(req) = self.requests.get(key) else {
            return false;
        };
        // A dedicated worker dies with its page, taking its Network view along.
        if req.fetch_only
            || req.network_id.is_none()
            || req.record.beacon
            || req.record.target == TargetKind::Worker
        {
            return true;
        }
        let frame = if req.frame_id.is_empty() {
            frame_id.unwrap_or("")
        } else {
            req.frame_id.as_str()
        };
        if !req.loader_id.is_empty()
            && self
                .loaders
                .get(frame)
                .is_some_and(|current| *current != req.loader_id)
        {
            return true;
        }
        let page = self
            .frames
            .get(frame)
            .or(self.page_session_of(&key.0).as_ref())
            .and_then(|s| self.sessions.get(s))
            .cloned();
        match page {
            Some(info) => {
                info.kind == TargetKind::Popup
                    || info
                        .leaving_since
                        .is_some_and(|t| info.navigated_at.is_none_or(|n| n < t))
            }
            None => true,
        }
    }

    /// Page, frame and target of a request only Fetch saw, from the frame that sent it. Such a
    /// request was sent by a document that was going away: right after its page navigated, it is
    /// attributed to the page that was left.
    fn fetch_attribution(&self, frame_id: Option<&str>) -> (String, String, TargetKind) {
        let page_session = frame_id
            .and_then(|f| self.frames.get(f))
            .or(self.primary.as_ref());
        let page = page_session.and_then(|s| self.sessions.get(s));
        let page_url = match page {
            Some(info)
                if info
                    .navigated_at
                    .is_some_and(|t| t.elapsed() < LEAVING_WINDOW)
                    && !info.previous_top_url.is_empty() =>
            {
                info.previous_top_url.clone()
            }
            Some(info) => info.top_url.clone(),
            None => String::new(),
        };
        // A cross-site iframe is a target of its own, whose id is its frame id.
        let frame_target = frame_id
            .and_then(|f| self.target_sessions.get(f))
            .and_then(|s| self.sessions.get(s));
        match frame_target {
            Some(info) if info.kind == TargetKind::Iframe => {
                (page_url, info.url.clone(), TargetKind::Iframe)
            }
            _ => {
                let kind = page.map(|i| i.kind).unwrap_or(TargetKind::Page);
                (page_url.clone(), page_url, kind)
            }
        }
    }

    /// The page or popup session a session belongs to (itself, or its nearest page ancestor).
    fn page_session_of(&self, session: &str) -> Option<String> {
        let mut current = session;
        for _ in 0..16 {
            match self.sessions.get(current) {
                Some(s) if matches!(s.kind, TargetKind::Page | TargetKind::Popup) => {
                    return Some(current.to_string());
                }
                Some(SessionInfo {
                    parent: Some(parent),
                    ..
                }) => current = parent,
                _ => break,
            }
        }
        None
    }
}

/// Forwards a request for a mapped https host to its local server over plain HTTP.
async fn forward(
    client: &reqwest::Client,
    addr: std::net::SocketAddr,
    url_text: &str,
    method: &str,
    headers: &[Header],
    body: Option<Vec<u8>>,
) -> Result<(u16, Vec<Value>, Vec<u8>), String> {
    let url = url::Url::parse(url_text).map_err(|e| e.to_string())?;
    let mut target = format!("http://{addr}{}", url.path());
    if let Some(q) = url.query() {
        target.push('?');
        target.push_str(q);
    }
    let method = reqwest::Method::from_bytes(method.as_bytes()).map_err(|e| e.to_string())?;
    let mut builder = client.request(method, &target);
    for h in headers {
        if h.name.eq_ignore_ascii_case("host") || h.name.eq_ignore_ascii_case("content-length") {
            continue;
        }
        builder = builder.header(h.name.as_str(), h.value.as_str());
    }
    let host = match url.port() {
        Some(port) => format!("{}:{port}", url.host_str().unwrap_or("")),
        None => url.host_str().unwrap_or("").to_string(),
    };
    builder = builder
        .header("Host", host)
        .header("X-Forwarded-Proto", "https");
    if let Some(b) = body {
        builder = builder.body(b);
    }
    let resp = builder.send().await.map_err(|e| e.to_string())?;
    let status = resp.status().as_u16();
    let headers: Vec<Value> = resp
        .headers()
        .iter()
        .map(|(k, v)| json!({"name": k.as_str(), "value": String::from_utf8_lossy(v.as_bytes())}))
        .collect();
    let body = resp.bytes().await.map_err(|e| e.to_string())?.to_vec();
    Ok((status, headers, body))
}
