//! The server's ground-truth log: everything it received, in arrival order.
//!
//! Capture tests compare what leakhound recorded against this log, so it must hold every request
//! exactly as it arrived (all headers, the full body) and every WebSocket frame, not a summary.

use std::sync::{Arc, Mutex};
use std::time::SystemTime;

/// What a log entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReceivedKind {
    /// An ordinary HTTP request.
    Http,
    /// The HTTP request that opened a WebSocket (logged before the upgrade is answered).
    WsHandshake,
    /// A text frame received on a WebSocket.
    WsText,
    /// A binary frame received on a WebSocket.
    WsBinary,
    WsPing,
    WsPong,
    /// A close frame; the body holds the 2-byte code and reason when the peer sent one.
    WsClose,
}

impl ReceivedKind {
    pub fn is_ws_frame(self) -> bool {
        !matches!(self, ReceivedKind::Http | ReceivedKind::WsHandshake)
    }
}

/// One thing the server received.
#[derive(Debug, Clone)]
pub struct Received {
    /// 0-based arrival number (keeps counting after [`crate::SiteServer::clear_received`]).
    pub seq: usize,
    pub time: SystemTime,
    pub kind: ReceivedKind,
    /// The HTTP method; `WS` for frames.
    pub method: String,
    /// The Host header as sent (with port if the client put one); for frames, the handshake's.
    pub host: String,
    /// Path and query as sent; for frames, the handshake's.
    pub path: String,
    /// Every request header in the order the server saw them (names lower-case); empty for frames.
    pub headers: Vec<(String, String)>,
    /// The full request body, or the frame payload.
    pub body: Vec<u8>,
    /// For handshakes and frames: which socket (the handshake's `seq`).
    pub socket: Option<usize>,
}

impl Received {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as text, invalid UTF-8 replaced.
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The path without its query.
    pub fn path_only(&self) -> &str {
        self.path.split('?').next().unwrap_or("")
    }

    /// Milliseconds since the Unix epoch.
    pub fn unix_ms(&self) -> f64 {
        self.time
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_secs_f64() * 1000.0)
            .unwrap_or(0.0)
    }
}

/// Shared append-only log. `seq` keeps counting across [`Log::clear`] so socket ids stay unique.
#[derive(Debug, Clone, Default)]
pub(crate) struct Log(Arc<Mutex<Inner>>);

#[derive(Debug, Default)]
struct Inner {
    next: usize,
    entries: Vec<Received>,
}

impl Log {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A poisoned lock only means another handler panicked mid-push; the Vec is still valid.
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Appends an entry, assigning its `seq`; returns it.
    pub(crate) fn push(&self, mut entry: Received) -> usize {
        let mut inner = self.lock();
        entry.seq = inner.next;
        if entry.kind == ReceivedKind::WsHandshake {
            // A handshake names its own socket; frames carry the same id.
            entry.socket = Some(entry.seq);
        }
        inner.next += 1;
        let seq = entry.seq;
        inner.entries.push(entry);
        seq
    }

    pub(crate) fn snapshot(&self) -> Vec<Received> {
        self.lock().entries.clone()
    }

    pub(crate) fn clear(&self) {
        self.lock().entries.clear();
    }
}
