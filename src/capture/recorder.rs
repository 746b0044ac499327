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
use super::record::*;
use super::writer::{CaptureWriter, WriteError};

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
    /// Live mode: also pause beacons in the Fetch domain (a second channel for unload beacons).
    pub fetch_beacons: bool,
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
            fetch_beacons: std::env::var_os("LEAKHOUND_FETCH_BEACONS").is_some(),
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
}

#[derive(Debug)]
struct PendingRequest {
    record: RequestRecord,
    response_seen: bool,
    body_pending: bool,
    done: bool,
}

#[derive(Debug)]
struct Lingering {
    network_id: String,
    record: RequestRecord,
}

#[derive(Debug)]
struct WsState {
    record: WebSocketRecord,
    written: bool,
    frames: usize,
}

#[derive(Debug)]
struct PausedOnly {
    record: RequestRecord,
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
        fetch_headers: HashMap::new(),
        lingering: Vec::new(),
        fetch_seen: HashSet::new(),
        fetch_bodies: HashMap::new(),
        answered_locally: HashSet::new(),
        paused_only: HashMap::new(),
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
pub async fn attach_browser(cdp: &Cdp) -> Result<(), super::cdp::CdpError> {
    cdp.call(
        "Target.setAutoAttach",
        json!({"autoAttach": true, "waitForDebuggerOnStart": true, "flatten": true}),
        None,
    )
    .await?;
    Ok(())
}

struct Recorder {
    cdp: Cdp,
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
    /// Fetch's request bodies for requests Network has not reported yet.
    fetch_bodies: HashMap<String, Vec<u8>>,
    /// Network request ids leakhound answered itself (offline mode).
    answered_locally: HashSet<String>,
    /// Network request ids Fetch has paused (and so handed to the network stack).
    fetch_seen: HashSet<String>,
    /// Finished beacons not yet written.
    lingering: Vec<(Instant, Lingering)>,
    /// Fetch's request headers for requests Network has not reported yet.
    fetch_headers: HashMap<String, Vec<Header>>,
    /// Requests seen only by Fetch so far (unload beacons can bypass Network events).
    paused_only: HashMap<(String, String), PausedOnly>,
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
                _ = tick.tick() => self.flush_lingering(Duration::from_secs(1)),
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
        self.flush_lingering(Duration::ZERO);
        let keys: Vec<_> = self.requests.keys().cloned().collect();
        let mut pending: Vec<PendingRequest> = keys
            .into_iter()
            .filter_map(|k| self.requests.remove(&k))
            .collect();
        pending.sort_by(|a, b| a.record.time_ms.total_cmp(&b.record.time_ms));
        for mut p in pending {
            if !p.done {
                p.record.fate = if p.response_seen {
                    Fate::Delivered
                } else {
                    Fate::Initiated
                };
            }
            self.emit_request(p.record);
        }
        // Requests only the Fetch domain saw.
        let mut paused: Vec<PausedOnly> = self.paused_only.drain().map(|(_, v)| v).collect();
        paused.sort_by(|a, b| a.record.time_ms.total_cmp(&b.record.time_ms));
        for p in paused {
            if !self.seen_network.contains(&p.record.id)
                && !self.network_signatures.contains(&signature(&p.record))
            {
                let mut record = p.record;
                self.next_id += 1;
                record.id = format!("r{}", self.next_id);
                self.emit_request(record);
            }
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

    fn emit_request(&mut self, record: RequestRecord) {
        self.network_signatures.insert(signature(&record));
        self.requests_written += 1;
        self.write(&Record::Request(Box::new(record)));
    }

    fn internal(&mut self, msg: Internal) {
        match msg {
            Internal::PostData { key, bytes } => {
                let cap = self.config.body_cap;
                let ready = if let Some(p) = self.requests.get_mut(&key) {
                    // Asked too late (the document is gone) the browser answers nothing; a body
                    // Fetch saw meanwhile is kept.
                    if !bytes.is_empty() || p.record.body.is_none() {
                        p.record.body = Some(Body::from_bytes(&bytes, cap));
                    }
                    p.body_pending = false;
                    p.done
                } else {
                    false
                };
                if ready {
                    self.complete(&key);
                }
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
                if frame.get("parentId").is_none() {
                    let url = str_of(frame, "url").to_string();
                    if let Some(s) = self.sessions.get_mut(&session) {
                        if matches!(s.kind, TargetKind::Page | TargetKind::Popup) {
                            s.top_url = url;
                        }
                    }
                }
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
                    req.record.fate = Fate::Delivered;
                    req.done = true;
                    if !req.body_pending {
                        self.complete(&key);
                    }
                }
            }
            "Network.loadingFailed" => {
                let key = (session, str_of(p, "requestId").to_string());
                self.shared.activity(key.clone(), Some(false));
                if let Some(req) = self.requests.get_mut(&key) {
                    let mut reason = str_of(p, "errorText").to_string();
                    if let Some(blocked) = p.get("blockedReason").and_then(Value::as_str) {
                        reason = format!("{reason} (blocked: {blocked})");
                    }
                    if p.get("canceled").and_then(Value::as_bool).unwrap_or(false) {
                        reason = format!("{reason} (canceled)");
                    }
                    let canceled = p.get("canceled").and_then(Value::as_bool).unwrap_or(false);
                    req.record.fate = if req.response_seen {
                        Fate::Delivered
                    } else if canceled
                        && req.record.beacon
                        && self.answered_locally.contains(&key.1)
                    {
                        // Offline: leakhound itself answered it before the page went away.
                        Fate::Delivered
                    } else if canceled && req.record.beacon && self.fetch_seen.contains(&key.1) {
                        // The page unloaded and cancelled its view of a beacon the browser had
                        // already handed to the network: no proof either way.
                        Fate::Initiated
                    } else {
                        Fate::Failed { reason }
                    };
                    req.done = true;
                    if !req.body_pending {
                        self.complete(&key);
                    }
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
        self.target_sessions.insert(target_id, session.clone());
        self.sessions.insert(
            session.clone(),
            SessionInfo {
                kind,
                url: url.clone(),
                parent: parent.map(str::to_string),
                top_url: url,
            },
        );
        let s = Some(session.as_str());
        self.cdp.send(
            "Network.enable",
            json!({"maxPostDataSize": self.config.body_cap, "maxTotalBufferSize": 64 << 20}),
            s,
        );
        // Offline, every request pauses in Fetch so that leakhound decides where it goes. Live,
        // Fetch stays off: merely enabling it sends every request through DevTools interception
        // (measured +40 % wall time on a 2,000-request journey), while Network, with RenderDocument
        // disabled, already reports unload beacons (tests/capture.rs, live mode). Setting
        // LEAKHOUND_FETCH_BEACONS pauses beacons in Fetch too, as a second channel.
        if self.config.offline.is_some() || self.config.fetch_beacons {
            let patterns = if self.config.offline.is_some() {
                json!([{"urlPattern": "*", "requestStage": "Request"}])
            } else {
                json!([{"urlPattern": "*", "resourceType": "Ping", "requestStage": "Request"}])
            };
            self.cdp
                .send("Fetch.enable", json!({ "patterns": patterns }), s);
        }
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
        let body_bytes = post_data(req).or_else(|| self.fetch_bodies.remove(&request_id));
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
        if let Some(fetched) = self.fetch_headers.remove(&request_id) {
            merge_headers(&mut headers, &fetched);
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
        let mut pending = PendingRequest {
            record,
            response_seen: false,
            body_pending,
            done: false,
        };
        if let Some((status, headers)) = self.early_response_extra.remove(&key) {
            pending.record.response = Some(ResponseInfo {
                status,
                headers,
                ..Default::default()
            });
        }
        // A keepalive beacon Fetch saw first (without a network id) is this very request.
        let sig = signature(&pending.record);
        let twin = self
            .paused_only
            .iter()
            .find(|(_, p)| signature(&p.record) == sig)
            .map(|(k, _)| k.clone());
        if let Some(twin) = twin.and_then(|k| self.paused_only.remove(&k)) {
            merge_headers(&mut pending.record.headers, &twin.record.headers);
        }
        self.requests.insert(key.clone(), pending);
        self.shared
            .activity(key, if long_lived { None } else { Some(true) });
    }

    fn complete(&mut self, key: &(String, String)) {
        if let Some(p) = self.requests.remove(key) {
            if p.record.resource_type == "Ping" {
                // A beacon's Fetch view can arrive after Network reports it finished; it lingers
                // briefly so those headers can still be merged in.
                let lingering = Lingering {
                    network_id: key.1.clone(),
                    record: p.record,
                };
                self.lingering.push((Instant::now(), lingering));
            } else {
                self.emit_request(p.record);
            }
        }
    }

    /// Writes lingering beacons older than `age` (all of them with `Duration::ZERO`).
    fn flush_lingering(&mut self, age: Duration) {
        let now = Instant::now();
        let (ready, keep): (Vec<_>, Vec<_>) = std::mem::take(&mut self.lingering)
            .into_iter()
            .partition(|(t, _)| now.duration_since(*t) >= age);
        self.lingering = keep;
        for (_, l) in ready {
            self.emit_request(l.record);
        }
    }

    fn request_paused(&mut self, session: &str, p: &Value) {
        let fetch_id = str_of(p, "requestId").to_string();
        let req = p.get("request").unwrap_or(&Value::Null);
        let url_text = str_of(req, "url").to_string();
        let method = str_of(req, "method").to_string();
        let headers = headers_of(req.get("headers"));
        let resource_type = str_of(p, "resourceType").to_string();
        let body = post_data(req);
        // Keep what Fetch saw: a request Network never reports (keepalive beacons sent while a page
        // unloads carry no network id) is still written from this at the end.
        let network_id = p
            .get("networkId")
            .and_then(Value::as_str)
            .map(str::to_string);
        // Requests answered by Fetch get no ExtraInfo event, so Fetch's view of the headers is the
        // fullest there is: merge it in.
        // A worker's request is reported by Network on the worker's session but paused by Fetch on
        // its page's, so Fetch and Network views are matched by request id alone.
        if let Some(id) = &network_id {
            self.fetch_seen.insert(id.clone());
            let pending = self.requests.iter_mut().find(|((_, rid), _)| rid == id);
            let lingering = self.lingering.iter_mut().find(|(_, r)| r.network_id == *id);
            let cap = self.config.body_cap;
            let fill = |record: &mut RequestRecord| {
                merge_headers(&mut record.headers, &headers);
                if let Some(b) = body.as_deref().filter(|b| !b.is_empty()) {
                    if record.body.as_ref().is_none_or(|x| x.size == 0) {
                        record.body = Some(Body::from_bytes(b, cap));
                    }
                }
            };
            match (pending, lingering) {
                (Some((_, req)), _) => {
                    fill(&mut req.record);
                    if body.as_deref().is_some_and(|b| !b.is_empty()) {
                        req.body_pending = false;
                    }
                }
                (None, Some((_, r))) => fill(&mut r.record),
                (None, None) => {
                    self.fetch_headers.insert(id.clone(), headers.clone());
                    if let Some(b) = &body {
                        self.fetch_bodies.insert(id.clone(), b.clone());
                    }
                }
            }
        }
        let key = (
            session.to_string(),
            network_id.clone().unwrap_or_else(|| fetch_id.clone()),
        );
        // A beacon Fetch saw without a network id may be one Network already reports: same method,
        // URL and body. Its headers complete that record instead of making a second one.
        let mut merged = false;
        if network_id.is_none() {
            let sig = (
                method.clone(),
                url_text.clone(),
                body.clone().unwrap_or_default(),
            );
            let twin = match self
                .requests
                .values_mut()
                .find(|r| signature(&r.record) == sig)
            {
                Some(pending) => Some(&mut pending.record),
                None => self
                    .lingering
                    .iter_mut()
                    .find(|(_, l)| signature(&l.record) == sig)
                    .map(|(_, l)| &mut l.record),
            };
            if let Some(record) = twin {
                merge_headers(&mut record.headers, &headers);
                merged = true;
            }
        }
        if !merged && !self.seen_network.contains(&key.1) {
            let offline = self.config.offline.is_some();
            let record = RequestRecord {
                id: key.1.clone(),
                time_ms: self.shared.elapsed_ms(),
                step: self.shared.step(),
                page_url: self.page_url(session),
                frame_url: self.session_url(session),
                target: self.session_kind(session),
                resource_type: resource_type.clone(),
                method: method.clone(),
                url: url_text.clone(),
                headers: headers.clone(),
                body: body
                    .as_deref()
                    .map(|b| Body::from_bytes(b, self.config.body_cap)),
                // Offline, leakhound answers it itself; live, nothing confirms it left.
                fate: if offline {
                    Fate::Delivered
                } else {
                    Fate::Initiated
                },
                beacon: resource_type == "Ping",
                response: offline.then(|| ResponseInfo {
                    fulfilled_locally: true,
                    ..Default::default()
                }),
                ..Default::default()
            };
            self.paused_only.insert(key, PausedOnly { record });
        }
        let Some(map) = &self.config.offline else {
            self.cdp.send(
                "Fetch.continueRequest",
                json!({"requestId": fetch_id}),
                Some(session),
            );
            return;
        };
        let disposition = match url::Url::parse(&url_text) {
            Ok(u) => dispose(map, &u),
            Err(_) => Disposition::Continue,
        };
        let s = Some(session);
        if disposition != Disposition::Continue {
            if let Some(id) = &network_id {
                self.answered_locally.insert(id.clone());
            }
        }
        match disposition {
            Disposition::Continue => {
                self.cdp
                    .send("Fetch.continueRequest", json!({"requestId": fetch_id}), s);
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
                let session = session.to_string();
                tokio::spawn(async move {
                    let reply = forward(addr, &url_text, &method, &headers, body).await;
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
                    cdp.send("Fetch.fulfillRequest", params, Some(&session));
                });
            }
        }
    }
}

/// Forwards a request for a mapped https host to its local server over plain HTTP.
async fn forward(
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
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| e.to_string())?;
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
