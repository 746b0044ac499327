//! The `/__lh/` behaviours every host has: redirects, delays, hangs, statuses, cookies and a
//! WebSocket sink. Fixture pages use them to produce the network cases a capture must survive.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use axum::extract::ws::{Message, WebSocketUpgrade};
use axum::extract::Query;
use axum::http::{header, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

use super::log::{Received, ReceivedKind};
use super::AppState;

/// Longest `/__lh/delay` honoured.
const MAX_DELAY: Duration = Duration::from_secs(600);
/// Longest `/__lh/redirect` chain.
const MAX_REDIRECTS: u32 = 50;

/// Answers `/__lh/<name>?...`.
pub(super) async fn dispatch(name: &str, uri: &Uri, state: &AppState) -> Response {
    let query: HashMap<String, String> = Query::try_from_uri(uri)
        .map(|Query(q)| q)
        .unwrap_or_default();
    let get = |k: &str| query.get(k).map(String::as_str);
    match name {
        "redirect" => redirect(get("n"), get("to")),
        "delay" => {
            let ms = get("ms").and_then(|m| m.parse::<u64>().ok()).unwrap_or(0);
            let wait = Duration::from_millis(ms).min(MAX_DELAY);
            let mut stop = state.shutdown.clone();
            tokio::select! {
                _ = tokio::time::sleep(wait) => (StatusCode::OK, format!("delayed {} ms\n", wait.as_millis())).into_response(),
                _ = stop.wait_for(|s| *s) => StatusCode::SERVICE_UNAVAILABLE.into_response(),
            }
        }
        "hang" => {
            let mut stop = state.shutdown.clone();
            let _ = stop.wait_for(|s| *s).await;
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
        "status" => {
            let code = get("code")
                .and_then(|c| c.parse::<u16>().ok())
                .and_then(|c| StatusCode::from_u16(c).ok());
            match code {
                Some(code) => code.into_response(),
                None => (StatusCode::BAD_REQUEST, "code=100..999 expected\n").into_response(),
            }
        }
        "cookie" => cookie(get("name"), get("value"), get("attrs")),
        "big" => {
            // `mb` megabytes of a repeated byte, streamed (at most 256 MB).
            let mb = get("mb")
                .and_then(|m| m.parse::<usize>().ok())
                .unwrap_or(1)
                .min(256);
            let chunk = axum::body::Bytes::from(vec![b'a'; 1 << 20]);
            let stream =
                futures::stream::iter((0..mb).map(move |_| Ok::<_, std::io::Error>(chunk.clone())));
            let mut r = axum::body::Body::from_stream(stream).into_response();
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            );
            r
        }
        "drip" => {
            // A chunked HTML document that never ends: a line every 200 ms until shutdown.
            let stop = state.shutdown.clone();
            let head = futures::stream::once(async {
                Ok::<_, std::io::Error>(axum::body::Bytes::from_static(
                    b"<!doctype html><title>drip</title><p id=started>started</p>",
                ))
            });
            let tail = futures::stream::unfold(stop, |mut stop| async move {
                let stopped = tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(200)) => false,
                    _ = stop.wait_for(|s| *s) => true,
                };
                (!stopped).then(|| {
                    (
                        Ok::<_, std::io::Error>(axum::body::Bytes::from_static(b"<p>drip</p>\n")),
                        stop,
                    )
                })
            });
            let mut r = axum::body::Body::from_stream(futures::StreamExt::chain(head, tail))
                .into_response();
            r.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
            r
        }
        // A redirect to itself, forever (browsers give up after about 20 hops).
        "loop" => {
            let mut r = StatusCode::FOUND.into_response();
            r.headers_mut()
                .insert(header::LOCATION, HeaderValue::from_static("/__lh/loop"));
            r
        }
        // A plain GET to the sink (no upgrade) lands here.
        "ws" => (StatusCode::BAD_REQUEST, "WebSocket upgrade expected\n").into_response(),
        _ => (StatusCode::NOT_FOUND, "unknown /__lh/ behaviour\n").into_response(),
    }
}

/// One hop of a redirect chain: `n` hops remain including this one.
fn redirect(n: Option<&str>, to: Option<&str>) -> Response {
    let n = n
        .and_then(|n| n.parse::<u32>().ok())
        .unwrap_or(1)
        .min(MAX_REDIRECTS);
    let to = to.unwrap_or("/");
    let location = if n <= 1 {
        to.to_string()
    } else {
        format!("/__lh/redirect?n={}&to={}", n - 1, encode_component(to))
    };
    match HeaderValue::from_str(&location) {
        Ok(v) => {
            let mut r = StatusCode::FOUND.into_response();
            r.headers_mut().insert(header::LOCATION, v);
            r
        }
        Err(_) => (StatusCode::BAD_REQUEST, "invalid redirect target\n").into_response(),
    }
}

fn cookie(name: Option<&str>, value: Option<&str>, attrs: Option<&str>) -> Response {
    let Some(name) = name.filter(|n| !n.is_empty()) else {
        return (StatusCode::BAD_REQUEST, "name= expected\n").into_response();
    };
    let mut line = format!("{name}={}", value.unwrap_or(""));
    if let Some(attrs) = attrs.filter(|a| !a.is_empty()) {
        line.push_str("; ");
        line.push_str(attrs);
    }
    match HeaderValue::from_str(&line) {
        Ok(v) => {
            let mut r = (StatusCode::OK, "cookie set\n").into_response();
            r.headers_mut().insert(header::SET_COOKIE, v);
            r
        }
        Err(_) => (StatusCode::BAD_REQUEST, "invalid cookie\n").into_response(),
    }
}

/// Percent-encodes everything but unreserved characters, so a nested URL survives as one value.
fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Accepts a WebSocket and logs every frame it receives until the peer closes or the server stops.
pub(super) fn websocket(
    ws: WebSocketUpgrade,
    state: AppState,
    handshake: usize,
    host: String,
    path: String,
) -> Response {
    ws.on_failed_upgrade(|e| tracing::debug!("WebSocket upgrade failed: {e}"))
        .on_upgrade(move |mut socket| async move {
            let mut stop = state.shutdown.clone();
            loop {
                let msg = tokio::select! {
                    m = socket.recv() => m,
                    _ = stop.wait_for(|s| *s) => break,
                };
                let Some(Ok(msg)) = msg else { break };
                let (kind, body, closing) = match msg {
                    Message::Text(t) => {
                        (ReceivedKind::WsText, t.as_str().as_bytes().to_vec(), false)
                    }
                    Message::Binary(b) => (ReceivedKind::WsBinary, b.to_vec(), false),
                    Message::Ping(b) => (ReceivedKind::WsPing, b.to_vec(), false),
                    Message::Pong(b) => (ReceivedKind::WsPong, b.to_vec(), false),
                    Message::Close(frame) => {
                        let body = frame
                            .map(|f| {
                                let mut v = f.code.to_be_bytes().to_vec();
                                v.extend_from_slice(f.reason.as_str().as_bytes());
                                v
                            })
                            .unwrap_or_default();
                        (ReceivedKind::WsClose, body, true)
                    }
                };
                let flood = if kind == ReceivedKind::WsText {
                    flood_count(&body)
                } else {
                    None
                };
                state.log.push(Received {
                    seq: 0,
                    time: SystemTime::now(),
                    kind,
                    method: "WS".to_string(),
                    host: host.clone(),
                    path: path.clone(),
                    headers: Vec::new(),
                    body,
                    socket: Some(handshake),
                });
                if closing {
                    break;
                }
                for i in 0..flood.unwrap_or(0) {
                    let frame = Message::Text(format!("flood {i}").into());
                    if socket.send(frame).await.is_err() {
                        break;
                    }
                }
            }
        })
}

/// A text frame `__lh_flood:N` asks the sink for N text frames back (at most 100,000).
fn flood_count(body: &[u8]) -> Option<usize> {
    std::str::from_utf8(body)
        .ok()?
        .strip_prefix("__lh_flood:")?
        .trim()
        .parse::<usize>()
        .ok()
        .map(|n| n.min(100_000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_counts_down_and_keeps_target_intact() {
        let r = redirect(Some("3"), Some("http://x.test/a?b=c&d"));
        assert_eq!(r.status(), StatusCode::FOUND);
        assert_eq!(
            r.headers()[header::LOCATION],
            "/__lh/redirect?n=2&to=http%3A%2F%2Fx.test%2Fa%3Fb%3Dc%26d"
        );
        let last = redirect(Some("1"), Some("http://x.test/a?b=c&d"));
        assert_eq!(last.headers()[header::LOCATION], "http://x.test/a?b=c&d");
    }

    #[test]
    fn cookie_needs_a_name_and_rejects_header_injection() {
        assert_eq!(
            cookie(None, Some("v"), None).status(),
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            cookie(Some("a"), Some("b\r\nX: y"), None).status(),
            StatusCode::BAD_REQUEST
        );
        let ok = cookie(Some("a"), Some("b"), Some("Path=/; SameSite=None; Secure"));
        assert_eq!(
            ok.headers()[header::SET_COOKIE],
            "a=b; Path=/; SameSite=None; Secure"
        );
    }
}
