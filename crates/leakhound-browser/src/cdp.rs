//! A minimal, untyped Chrome DevTools Protocol connection.
//!
//! Why not chromiumoxide's event stream: its typed events are generated from an older protocol
//! revision, and Chromium 156 payloads that no longer fit the schema are dropped with a warning
//! (`requestWillBeSentExtraInfo` almost always, so real request headers and cookies vanish). A capture
//! that silently loses events is worse than none, so capture keeps its own WebSocket and reads events as
//! plain JSON: protocol drift then costs a missing field, never a missing request.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::sync::{mpsc, oneshot, watch};
use tokio_tungstenite::tungstenite::Message;

/// How long a command may take before it is given up on.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CdpError {
    #[error("cannot connect to the browser's DevTools endpoint {url}: {source}")]
    Connect {
        url: String,
        #[source]
        source: Box<tokio_tungstenite::tungstenite::Error>,
    },
    #[error("the browser connection is closed")]
    Closed,
    #[error("DevTools command {method} timed out after {secs} s")]
    Timeout { method: String, secs: u64 },
    #[error("DevTools command {method} failed: {message}")]
    Protocol { method: String, message: String },
}

/// An event as the browser sent it.
#[derive(Debug, Clone)]
pub struct CdpEvent {
    pub method: String,
    pub params: Value,
    pub session_id: Option<String>,
}

type Pending = Arc<Mutex<HashMap<u64, (String, oneshot::Sender<Result<Value, CdpError>>)>>>;

/// A cheap-to-clone handle for sending commands.
#[derive(Clone)]
pub struct Cdp {
    out: mpsc::UnboundedSender<Message>,
    pending: Pending,
    next_id: Arc<AtomicU64>,
    closed: watch::Receiver<bool>,
}

impl Cdp {
    /// Connects to `ws_url` and returns the handle and the stream of events.
    pub async fn connect(
        ws_url: &str,
    ) -> Result<(Cdp, mpsc::UnboundedReceiver<CdpEvent>), CdpError> {
        Cdp::connect_with(ws_url, false).await
    }

    /// [`Cdp::connect`], optionally answering every `Fetch.requestPaused` right in the reader
    /// (`auto_continue`): a paused request then waits for one WebSocket round trip only, never for
    /// the events queued before it in the recorder. At the request stage it is continued with
    /// `interceptResponse` when the Network domain may not report its response (see
    /// [`ResponseWatch`]), so its response pauses once more (and is let through the same way):
    /// that pause is the recorder's proof of delivery. The event still reaches the recorder, with
    /// `leakhoundContinued: true` and `leakhoundWatched` (whether its response will pause) in its
    /// params, for its bookkeeping.
    pub async fn connect_with(
        ws_url: &str,
        auto_continue: bool,
    ) -> Result<(Cdp, mpsc::UnboundedReceiver<CdpEvent>), CdpError> {
        let mut config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default();
        config.max_message_size = Some(512 << 20);
        config.max_frame_size = Some(512 << 20);
        let (ws, _) = tokio_tungstenite::connect_async_with_config(ws_url, Some(config), false)
            .await
            .map_err(|e| CdpError::Connect {
                url: ws_url.to_string(),
                source: Box::new(e),
            })?;
        let (mut sink, mut stream) = ws.split();
        let (out_tx, mut out_rx) = mpsc::unbounded_channel::<Message>();
        let (ev_tx, ev_rx) = mpsc::unbounded_channel();
        let (closed_tx, closed_rx) = watch::channel(false);
        let pending: Pending = Arc::new(Mutex::new(HashMap::new()));

        tokio::spawn(async move {
            while let Some(msg) = out_rx.recv().await {
                if sink.send(msg).await.is_err() {
                    break;
                }
            }
            let _ = sink.close().await;
        });

        let reader_pending = pending.clone();
        let next_id = Arc::new(AtomicU64::new(1));
        let reader_ids = next_id.clone();
        let reader_out = out_tx.clone();
        tokio::spawn(async move {
            let mut watch = ResponseWatch::default();
            while let Some(msg) = stream.next().await {
                let text = match msg {
                    Ok(Message::Text(t)) => t.to_string(),
                    Ok(Message::Binary(b)) => String::from_utf8_lossy(&b).into_owned(),
                    Ok(Message::Close(_)) | Err(_) => break,
                    Ok(_) => continue,
                };
                let Ok(mut value) = serde_json::from_str::<Value>(&text) else {
                    tracing::debug!("unparseable DevTools message ignored");
                    continue;
                };
                if let Some(id) = value.get("id").and_then(Value::as_u64) {
                    let entry = reader_pending.lock().ok().and_then(|mut p| p.remove(&id));
                    if let Some((method, tx)) = entry {
                        let result = match value.get("error") {
                            Some(err) => Err(CdpError::Protocol {
                                method,
                                message: err
                                    .get("message")
                                    .and_then(Value::as_str)
                                    .unwrap_or("unknown error")
                                    .to_string(),
                            }),
                            None => Ok(value
                                .get_mut("result")
                                .map(Value::take)
                                .unwrap_or(Value::Null)),
                        };
                        let _ = tx.send(result);
                    }
                } else if let Some(method) = value
                    .get("method")
                    .and_then(Value::as_str)
                    .map(str::to_string)
                {
                    if auto_continue {
                        if method == "Fetch.requestPaused" {
                            continue_now(&mut value, &watch, &reader_ids, &reader_out);
                        } else {
                            watch.observe(&method, &value);
                        }
                    }
                    let event = CdpEvent {
                        method: method.to_string(),
                        session_id: value
                            .get("sessionId")
                            .and_then(Value::as_str)
                            .map(str::to_string),
                        params: value
                            .get_mut("params")
                            .map(Value::take)
                            .unwrap_or(Value::Null),
                    };
                    if ev_tx.send(event).is_err() {
                        // Nobody listens any more; keep answering commands.
                    }
                }
            }
            if let Ok(mut p) = reader_pending.lock() {
                for (_, (_, tx)) in p.drain() {
                    let _ = tx.send(Err(CdpError::Closed));
                }
            }
            let _ = closed_tx.send(true);
        });

        Ok((
            Cdp {
                out: out_tx,
                pending,
                next_id,
                closed: closed_rx,
            },
            ev_rx,
        ))
    }

    fn enqueue(
        &self,
        method: &str,
        params: Value,
        session: Option<&str>,
    ) -> Result<(u64, oneshot::Receiver<Result<Value, CdpError>>), CdpError> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut msg = json!({"id": id, "method": method, "params": params});
        if let Some(s) = session {
            msg["sessionId"] = Value::String(s.to_string());
        }
        let (tx, rx) = oneshot::channel();
        if let Ok(mut p) = self.pending.lock() {
            p.insert(id, (method.to_string(), tx));
        }
        if self
            .out
            .send(Message::Text(msg.to_string().into()))
            .is_err()
        {
            self.forget(id);
            return Err(CdpError::Closed);
        }
        Ok((id, rx))
    }

    /// Drops the pending entry of a command whose answer is no longer awaited (timed out), so
    /// the table does not grow with every command the browser never answers.
    fn forget(&self, id: u64) {
        if let Ok(mut p) = self.pending.lock() {
            p.remove(&id);
        }
    }

    /// Sends a command and waits (bounded) for its result.
    pub async fn call(
        &self,
        method: &str,
        params: Value,
        session: Option<&str>,
    ) -> Result<Value, CdpError> {
        let (id, rx) = self.enqueue(method, params, session)?;
        match tokio::time::timeout(COMMAND_TIMEOUT, rx).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(CdpError::Closed),
            Err(_) => {
                self.forget(id);
                Err(CdpError::Timeout {
                    method: method.to_string(),
                    secs: COMMAND_TIMEOUT.as_secs(),
                })
            }
        }
    }

    /// Sends a command without waiting. Commands on one session are executed in the order sent, so a
    /// sequence of `send`s keeps its order; failures are logged at debug level.
    pub fn send(&self, method: &str, params: Value, session: Option<&str>) {
        match self.enqueue(method, params, session) {
            Ok((id, rx)) => {
                let method = method.to_string();
                let cdp = self.clone();
                tokio::spawn(async move {
                    match tokio::time::timeout(COMMAND_TIMEOUT, rx).await {
                        Ok(Ok(Err(e))) => tracing::debug!("{method}: {e}"),
                        Err(_) => cdp.forget(id),
                        _ => {}
                    }
                });
            }
            Err(e) => tracing::debug!("{method}: {e}"),
        }
    }

    /// Resolves when the connection has closed (the browser exited or crashed).
    pub async fn closed(&self) {
        let mut rx = self.closed.clone();
        while !*rx.borrow() {
            if rx.changed().await.is_err() {
                return;
            }
        }
    }

    pub fn is_closed(&self) -> bool {
        *self.closed.borrow()
    }
}

/// Continues a paused request at once (see [`Cdp::connect_with`]) and marks the event.
fn continue_now(
    value: &mut Value,
    watch: &ResponseWatch,
    ids: &AtomicU64,
    out: &mpsc::UnboundedSender<Message>,
) {
    let session = value.get("sessionId").cloned();
    let Some(params) = value.get_mut("params") else {
        return;
    };
    let Some(request_id) = params.get("requestId").cloned() else {
        return;
    };
    let response_stage =
        params.get("responseStatusCode").is_some() || params.get("responseErrorReason").is_some();
    let watched = !response_stage && watch.needs_response_view(params);
    let command_params = if response_stage {
        json!({"requestId": request_id})
    } else {
        json!({"requestId": request_id, "interceptResponse": watched})
    };
    let id = ids.fetch_add(1, Ordering::Relaxed);
    let mut msg = json!({"id": id, "method": "Fetch.continueRequest", "params": command_params});
    if let Some(s) = session {
        msg["sessionId"] = s;
    }
    if out.send(Message::Text(msg.to_string().into())).is_ok() {
        params["leakhoundContinued"] = Value::Bool(true);
        params["leakhoundWatched"] = Value::Bool(watched);
    }
}

/// How many announced requests [`ResponseWatch`] remembers at most; past that it forgets them
/// all, which only means more responses are paused.
const MAX_ANNOUNCED: usize = 100_000;

/// What the reader knows, from the events it has passed on, to decide per request whether its
/// response must pause in Fetch (the proof of delivery) or the Network domain will report it.
///
/// A second pause costs the request a DevTools round trip on its critical path, so it is asked
/// for only where Network may stay silent. The response is left to Network only when all of
/// these hold when the request pauses on its way out:
/// - Network has already announced it (`Network.requestWillBeSent`, same network id) on the
///   session of a page (not a popup, which may close itself) or of a cross-site iframe, not a
///   worker (a dedicated worker dies with its page);
/// - it is not a beacon (`Ping`) or a document;
/// - neither that session nor a page or frame above it has started leaving (a navigation
///   requested or started and not yet committed);
/// - the document that sent it is still the frame's current one.
///
/// Requests Fetch sees first (Network's view arrives later or never: keepalive requests the
/// browser sends on the page's behalf, traffic of a document that is going away) always pause
/// at the response. Everything is decided from events already read, in wire order: an event
/// not yet read errs on the side of pausing.
#[derive(Debug, Default)]
struct ResponseWatch {
    /// Session id → (target type is page/iframe and not a popup, parent session).
    sessions: HashMap<String, (bool, Option<String>)>,
    /// Sessions whose page started a navigation that has not committed yet.
    leaving: HashSet<String>,
    /// Frame id → loader id of the document it shows.
    loaders: HashMap<String, String>,
    /// Network id → (session, frame id, loader id) of requests announced on a page or iframe
    /// session, that are not beacons or documents.
    announced: HashMap<String, (String, String, String)>,
}

impl ResponseWatch {
    fn observe(&mut self, method: &str, value: &Value) {
        let session = value.get("sessionId").and_then(Value::as_str).unwrap_or("");
        let params = value.get("params").unwrap_or(&Value::Null);
        let text =
            |v: &Value, key: &str| v.get(key).and_then(Value::as_str).unwrap_or("").to_string();
        match method {
            "Target.attachedToTarget" => {
                let info = params.get("targetInfo").unwrap_or(&Value::Null);
                let kind = text(info, "type");
                let opener = text(info, "openerId");
                let parent = (!session.is_empty()).then(|| session.to_string());
                // A frame inside a popup goes when the popup closes itself.
                let framed = match kind.as_str() {
                    "page" => opener.is_empty(),
                    "iframe" => parent
                        .as_ref()
                        .and_then(|p| self.sessions.get(p))
                        .is_some_and(|(f, _)| *f),
                    _ => false,
                };
                self.sessions
                    .insert(text(params, "sessionId"), (framed, parent));
            }
            "Page.frameRequestedNavigation"
            | "Page.frameStartedNavigating"
            | "Page.frameScheduledNavigation" => {
                self.leaving.insert(session.to_string());
            }
            "Page.frameNavigated" => {
                let frame = params.get("frame").unwrap_or(&Value::Null);
                self.loaders
                    .insert(text(frame, "id"), text(frame, "loaderId"));
                if frame.get("parentId").is_none() {
                    self.leaving.remove(session);
                }
            }
            "Network.requestWillBeSent" => {
                let id = text(params, "requestId");
                let kind = params
                    .get("type")
                    .and_then(Value::as_str)
                    .unwrap_or("Other");
                let framed = self.sessions.get(session).is_some_and(|(f, _)| *f);
                if !framed || matches!(kind, "Ping" | "Document") || id.is_empty() {
                    self.announced.remove(&id);
                    return;
                }
                if self.announced.len() >= MAX_ANNOUNCED {
                    self.announced.clear();
                }
                self.announced.insert(
                    id,
                    (
                        session.to_string(),
                        text(params, "frameId"),
                        text(params, "loaderId"),
                    ),
                );
            }
            "Network.loadingFinished" | "Network.loadingFailed" => {
                if let Some(id) = params.get("requestId").and_then(Value::as_str) {
                    self.announced.remove(id);
                }
            }
            _ => {}
        }
    }

    /// Whether a request paused on its way out (`params` of `Fetch.requestPaused`) must pause
    /// again at its response.
    fn needs_response_view(&self, params: &Value) -> bool {
        let Some(id) = params.get("networkId").and_then(Value::as_str) else {
            return true;
        };
        let Some((session, frame, loader)) = self.announced.get(id) else {
            return true;
        };
        if !loader.is_empty() && self.loaders.get(frame).is_some_and(|l| l != loader) {
            return true;
        }
        // The session and the pages and frames above it, none of them leaving.
        let mut current = Some(session.as_str());
        for _ in 0..16 {
            let Some(s) = current else {
                return false;
            };
            if self.leaving.contains(s) {
                return true;
            }
            current = self
                .sessions
                .get(s)
                .and_then(|(_, parent)| parent.as_deref());
        }
        true
    }
}
