//! A local site server on loopback that plays many hosts at once and logs everything it receives.
//!
//! `leakhound demo` serves the demo hospital with it, and the capture tests use its log as ground
//! truth: whatever the browser sent must appear in leakhound's capture. The browser is pointed at it
//! for every mapped host (resolver rules, or the offline mode's in-browser forwarding), so one server
//! answers by the Host header from a [`Site`] table.
//!
//! Every host also has built-in behaviours under `/__lh/` that fixture pages use to exercise awkward
//! network cases:
//!
//! | path | behaviour |
//! |---|---|
//! | `/__lh/redirect?n=N&to=URL` | a chain of N 302s ending at URL (default `/`) |
//! | `/__lh/delay?ms=M` | answers 200 after M ms (at most 10 minutes) |
//! | `/__lh/hang` | never answers; the connection stays open until the server shuts down |
//! | `/__lh/status?code=C` | answers with status C |
//! | `/__lh/loop` | a 302 redirect to itself, forever |
//! | `/__lh/big?mb=N` | an N MB response body, streamed |
//! | `/__lh/drip` | an HTML document that never ends (a chunk every 200 ms) |
//! | WebSocket text `__lh_flood:N` | the sink answers with N text frames |
//! | `/__lh/cookie?name=&value=&attrs=` | sets a cookie (`attrs` appended verbatim, e.g. `Path=/; Secure`) |
//! | `/__lh/ws` | a WebSocket sink that logs every frame |
//!
//! Every response carries `Cache-Control: no-store` so a journey replayed twice sends everything
//! twice, and reflects the request's `Origin` with credentials allowed and answers CORS preflights,
//! so trackers' cross-origin JSON posts are actually sent rather than blocked before they leave.

#![warn(unreachable_pub)]

mod builtin;
mod log;
mod site;
mod tls;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::body::{Body, Bytes};
use axum::extract::{FromRequestParts, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use self::log::{Received, ReceivedKind};
pub use self::site::{content_type_for, normalize_host, HostPattern, Role, Site, SiteFile};
pub use self::tls::TlsSetupError;

/// Request bodies larger than this are logged empty with a warning (no tracker sends this much).
const MAX_BODY: usize = 64 * 1024 * 1024;

/// How long [`SiteServer::shutdown`] waits for open connections before dropping them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error(transparent)]
    Tls(#[from] TlsSetupError),
}

/// A running server. Dropping it stops it too, without waiting.
#[derive(Debug)]
pub struct SiteServer {
    addr: SocketAddr,
    log: log::Log,
    shutdown: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

/// What every handler can reach.
#[derive(Clone)]
struct AppState {
    site: Arc<Site>,
    log: log::Log,
    shutdown: watch::Receiver<bool>,
}

impl SiteServer {
    /// Starts serving `site` on `127.0.0.1` on a free port.
    pub async fn start(site: Site) -> Result<SiteServer, ServeError> {
        SiteServer::start_at(site, SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    /// Starts serving `site` on a given address (port 0 picks a free one). The port speaks both
    /// plain HTTP and HTTPS (with a self-signed certificate; see the `tls` module).
    pub async fn start_at(site: Site, addr: SocketAddr) -> Result<SiteServer, ServeError> {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| ServeError::Bind { addr, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| ServeError::Bind { addr, source })?;
        let (tx, rx) = watch::channel(false);
        let log = log::Log::default();
        let state = AppState {
            site: Arc::new(site),
            log: log.clone(),
            shutdown: rx.clone(),
        };
        let app = Router::new().fallback(handle).with_state(state);
        let listener = tls::SniffingListener::new(listener, tls::acceptor()?)
            .map_err(|source| ServeError::Bind { addr, source })?;
        let mut signal = rx;
        let task = tokio::spawn(async move {
            let served = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = signal.wait_for(|stop| *stop).await;
                })
                .await;
            if let Err(e) = served {
                tracing::warn!("site server on {addr} stopped: {e}");
            }
        });
        tracing::debug!("site server listening on {addr}");
        Ok(SiteServer {
            addr,
            log,
            shutdown: tx,
            task: Some(task),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, for clients that connect directly.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Everything received so far, in arrival order.
    pub fn received(&self) -> Vec<Received> {
        self.log.snapshot()
    }

    /// Forgets what was received so far (between journeys on one server).
    pub fn clear_received(&self) {
        self.log.clear();
    }

    /// Stops accepting, releases hanging and delayed requests and WebSockets, and waits (bounded)
    /// for connections to close.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        if let Some(task) = self.task.take() {
            let abort = task.abort_handle();
            if tokio::time::timeout(SHUTDOWN_GRACE, task).await.is_err() {
                tracing::debug!("site server on {} did not stop in time", self.addr);
                abort.abort();
            }
        }
    }
}

impl Drop for SiteServer {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// The one handler: logs the request, then dispatches by host and path.
async fn handle(State(state): State<AppState>, req: Request) -> Response {
    let (mut parts, body) = req.into_parts();
    let body = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(e) => {
            tracing::warn!("request body not read: {e}");
            Bytes::new()
        }
    };
    let raw_host = parts
        .headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string)
        .or_else(|| parts.uri.authority().map(|a| a.to_string()))
        .unwrap_or_default();
    let host = normalize_host(&raw_host);
    let path_and_query = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| parts.uri.path().to_string());
    let path = parts.uri.path().to_string();
    let upgrade = is_websocket_upgrade(&parts.headers);
    let seq = state.log.push(Received {
        seq: 0,
        time: SystemTime::now(),
        kind: if upgrade {
            ReceivedKind::WsHandshake
        } else {
            ReceivedKind::Http
        },
        method: parts.method.to_string(),
        host: raw_host.clone(),
        path: path_and_query.clone(),
        headers: parts
            .headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: body.to_vec(),
        socket: None,
    });

    let origin = parts.headers.get(header::ORIGIN).cloned();
    let mut response = if upgrade && (path == "/__lh/ws" || state.site.is_websocket(&host, &path)) {
        let protocols = requested_protocols(&parts.headers);
        match axum::extract::ws::WebSocketUpgrade::from_request_parts(&mut parts, &()).await {
            Ok(ws) => builtin::websocket(
                ws.protocols(protocols),
                state.clone(),
                seq,
                raw_host,
                path_and_query,
            ),
            Err(rejection) => rejection.into_response(),
        }
    } else if parts.method == Method::OPTIONS
        && parts
            .headers
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
    {
        preflight(&parts.headers)
    } else if let Some(name) = path.strip_prefix("/__lh/") {
        builtin::dispatch(name, &parts.uri, &state).await
    } else if let Some(file) = state.site.lookup(&host, &path) {
        let mut r = Response::new(Body::from(file.bytes.clone()));
        set(&mut r, header::CONTENT_TYPE.as_str(), &file.content_type);
        for (k, v) in &file.headers {
            set(&mut r, k, v);
        }
        r
    } else {
        match state.site.role_of(&host) {
            Role::Tracker => StatusCode::NO_CONTENT.into_response(),
            Role::Site => (StatusCode::NOT_FOUND, "not found\n").into_response(),
        }
    };

    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Some(origin) = origin {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
            HeaderValue::from_static("true"),
        );
        headers.append(header::VARY, HeaderValue::from_static("Origin"));
    }
    response
}

/// Answers a CORS (and Private Network Access) preflight by allowing whatever was asked.
fn preflight(req: &HeaderMap) -> Response {
    let mut r = StatusCode::NO_CONTENT.into_response();
    let h = r.headers_mut();
    let method = req
        .get(header::ACCESS_CONTROL_REQUEST_METHOD)
        .cloned()
        .unwrap_or_else(|| HeaderValue::from_static("GET, POST"));
    h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, method);
    if let Some(asked) = req.get(header::ACCESS_CONTROL_REQUEST_HEADERS) {
        h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, asked.clone());
    }
    if req.contains_key("access-control-request-private-network") {
        h.insert(
            "access-control-allow-private-network",
            HeaderValue::from_static("true"),
        );
    }
    h.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("0"),
    );
    r
}

fn is_websocket_upgrade(headers: &HeaderMap) -> bool {
    headers
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

/// The subprotocols a WebSocket client offered. Chromium fails a handshake that offered some and got
/// none back, so the sink accepts the first one offered.
fn requested_protocols(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .take(1)
        .collect()
}

/// Sets a header from strings, skipping (with a warning) a name or value the HTTP types reject.
fn set(r: &mut Response, name: &str, value: &str) {
    match (
        header::HeaderName::from_bytes(name.as_bytes()),
        HeaderValue::from_str(value),
    ) {
        (Ok(n), Ok(v)) => {
            r.headers_mut().insert(n, v);
        }
        _ => tracing::warn!("invalid response header {name:?}"),
    }
}

#[cfg(test)]
mod tests;
