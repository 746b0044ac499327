//! The capture file format: what `leakhound run` records and what the classifier reads.
//!
//! A capture is a JSON Lines file. Every line is one [`Record`], tagged by `"type"`. The first line is
//! always a [`Record::Header`]; the last line of a run that ended normally is a [`Record::End`]. A
//! capture without an `end` line was cut off (leakhound itself crashed); everything before it is still
//! valid, which is why records are written one by one as they become final rather than at the end.
//!
//! The format is versioned by [`CAPTURE_FORMAT_VERSION`]; `docs/capture-format.md` documents it.
//! Readers must ignore record types they do not know, so that minor additions stay compatible.

use serde::{Deserialize, Serialize};

/// Bump when a change would make old readers misread a capture.
pub const CAPTURE_FORMAT_VERSION: u32 = 1;

/// The `format` value of every capture header.
pub const CAPTURE_FORMAT_NAME: &str = "leakhound-capture";

/// One line of a capture file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Record {
    Header(CaptureHeader),
    /// A journey step began (written before its action runs).
    Step(StepRecord),
    /// A value the journey typed into a field.
    Typed(TypedValue),
    /// One HTTP(S) request, written when its fate is known (or when the run ends).
    Request(Box<RequestRecord>),
    /// A WebSocket was opened.
    WebSocket(WebSocketRecord),
    /// One frame the page sent over a WebSocket.
    WsFrame(WsFrameRecord),
    /// State observed after a step finished: cookies, title, URL.
    Snapshot(SnapshotRecord),
    /// A JavaScript dialog (alert, confirm, prompt, beforeunload) that was dismissed.
    Dialog(DialogRecord),
    /// Last line of a run.
    End(EndRecord),
}

/// Who the first party is and which values are canaries: everything the classifier needs besides the
/// requests themselves.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CaptureHeader {
    /// Always [`CAPTURE_FORMAT_NAME`].
    pub format: String,
    /// [`CAPTURE_FORMAT_VERSION`] of the writer.
    pub version: u32,
    /// leakhound's version.
    pub tool_version: String,
    /// The browser's product string, e.g. `Chrome/156.0.8078.79`.
    #[serde(default)]
    pub browser_version: String,
    /// RFC 3339 time the run started.
    pub started_at: String,
    pub journey: JourneyInfo,
    /// The run accepted invalid TLS certificates (`--ignore-certificate-errors`); reports say so.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub certificate_errors_ignored: bool,
}

/// The journey as the classifier and reports need it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct JourneyInfo {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Path of the scenario file, as given by the user.
    #[serde(default)]
    pub file: String,
    pub start_url: String,
    /// Registrable domains the site declares as its own (beside the start URL's).
    #[serde(default)]
    pub first_party: Vec<String>,
    /// URL patterns (substring or `*` glob on the URL) the scenario marks as sensitive pages.
    #[serde(default)]
    pub sensitive_pages: Vec<String>,
    /// Canary values. Secrets are written with `value: None`: they never reach any file.
    #[serde(default)]
    pub identity: Vec<Canary>,
}

/// What kind of personal value a canary is. Decides how it is normalised before hashing.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CanaryKind {
    Email,
    Name,
    FirstName,
    LastName,
    Phone,
    DateOfBirth,
    MemberId,
    Address,
    Zip,
    /// City, state and country: the address parts ad platforms hash (Meta `ud[ct]`, `ud[st]`,
    /// `ud[country]`) or send plain (Google `co0`).
    City,
    State,
    Country,
    Text,
    Password,
    Secret,
}

impl CanaryKind {
    /// Passwords and secrets are searched for but never printed or written.
    pub fn is_secret(self) -> bool {
        matches!(self, CanaryKind::Password | CanaryKind::Secret)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            CanaryKind::Email => "email",
            CanaryKind::Name => "name",
            CanaryKind::FirstName => "first_name",
            CanaryKind::LastName => "last_name",
            CanaryKind::Phone => "phone",
            CanaryKind::DateOfBirth => "date_of_birth",
            CanaryKind::MemberId => "member_id",
            CanaryKind::Address => "address",
            CanaryKind::Zip => "zip",
            CanaryKind::City => "city",
            CanaryKind::State => "state",
            CanaryKind::Country => "country",
            CanaryKind::Text => "text",
            CanaryKind::Password => "password",
            CanaryKind::Secret => "secret",
        }
    }
}

/// A named canary value of the identity.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Canary {
    /// The identity key, e.g. `email` (used as `{{identity.email}}` in steps).
    pub key: String,
    pub kind: CanaryKind,
    /// `None` for secrets in files; the in-memory value is filled from the environment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// For secrets: the environment variable the value comes from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<String>,
}

/// A journey step as it began.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StepRecord {
    /// 0-based step index. Requests before the first step (browser start) have step 0 too.
    pub index: usize,
    /// `goto`, `click`, `type`, ... or `leave` for the final leave-the-page step leakhound adds.
    pub action: String,
    /// The user's label, or a generated description (`click #search-button`).
    pub label: String,
    /// Milliseconds since the run started.
    pub time_ms: f64,
}

/// A value the journey typed, so the classifier can look for it as search term or form input.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TypedValue {
    pub step: usize,
    /// The selector typed into.
    pub selector: String,
    /// The field's name/id/type as found in the page (`name=q`, `type=search`).
    #[serde(default)]
    pub field: String,
    /// True when the field is a search box (type=search, role=searchbox, or the step says so).
    pub is_search: bool,
    /// The identity key when the value came from `{{identity.KEY}}` alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canary_key: Option<String>,
    /// The typed text; `None` when it is a secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Milliseconds since the run started, at the end of typing.
    pub time_ms: f64,
}

/// A name/value header pair. A list, not a map: order and repeated names are evidence too.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Header {
    pub name: String,
    pub value: String,
}

/// What kind of target a request came from.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash, Default)]
#[serde(rename_all = "snake_case")]
pub enum TargetKind {
    #[default]
    Page,
    Iframe,
    Popup,
    Worker,
    SharedWorker,
    ServiceWorker,
    Other,
}

/// What became of a request: the difference between "the page tried" and "the data left".
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Fate {
    /// A response came back (or the browser reported the request finished).
    Delivered,
    /// The request failed (network error, blocked, cancelled).
    Failed { reason: String },
    /// Still pending when the run ended: no proof the data left the browser.
    #[default]
    Initiated,
}

impl Fate {
    pub fn is_delivered(&self) -> bool {
        matches!(self, Fate::Delivered)
    }
}

/// A request body, decoded from the protocol's base64.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Default)]
pub struct Body {
    /// `utf8` when the bytes are valid UTF-8 (then `data` is the text), `base64` otherwise.
    pub encoding: BodyEncoding,
    pub data: String,
    /// The body's full size in bytes, before capping.
    pub size: usize,
    /// True when only the first bytes were kept.
    #[serde(default)]
    pub truncated: bool,
    /// Set when the page sent this body compressed or binary and a secret was inside: the body
    /// is stored decoded (`gzip`, `zlib`, `deflate`, `brotli`, `binary`) with the secret masked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub masked_from: Option<String>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum BodyEncoding {
    #[default]
    Utf8,
    Base64,
}

impl Body {
    /// Keeps at most `cap` bytes of `bytes`.
    pub fn from_bytes(bytes: &[u8], cap: usize) -> Body {
        use base64::Engine as _;
        let size = bytes.len();
        let kept = &bytes[..size.min(cap)];
        match std::str::from_utf8(kept) {
            Ok(text) => Body {
                encoding: BodyEncoding::Utf8,
                data: text.to_string(),
                size,
                truncated: size > cap,
                masked_from: None,
            },
            Err(_) => Body {
                encoding: BodyEncoding::Base64,
                data: base64::engine::general_purpose::STANDARD.encode(kept),
                size,
                truncated: size > cap,
                masked_from: None,
            },
        }
    }

    /// The raw bytes that were kept.
    pub fn bytes(&self) -> Vec<u8> {
        use base64::Engine as _;
        match self.encoding {
            BodyEncoding::Utf8 => self.data.as_bytes().to_vec(),
            BodyEncoding::Base64 => base64::engine::general_purpose::STANDARD
                .decode(self.data.as_bytes())
                .unwrap_or_default(),
        }
    }
}

/// One stack frame of an initiator's JavaScript stack.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Default)]
pub struct StackFrame {
    #[serde(default)]
    pub function: String,
    pub url: String,
    /// 1-based line and column (the protocol's are 0-based).
    pub line: u32,
    pub column: u32,
    /// Set on the first frame after an async boundary, e.g. `setTimeout`, `Promise.then`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub async_boundary: Option<String>,
}

/// Who started a request.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Default)]
pub struct Initiator {
    /// `parser`, `script`, `preload`, `other`, ...
    #[serde(rename = "type")]
    pub kind: String,
    /// The script that sent the request: the innermost stack frame with a URL, or the initiator URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<u32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stack: Vec<StackFrame>,
}

/// A redirect the request went through before its final URL.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Redirect {
    pub url: String,
    pub status: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
}

/// The response, as far as the browser reported it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Default)]
pub struct ResponseInfo {
    pub status: u16,
    #[serde(default)]
    pub headers: Vec<Header>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_address: Option<String>,
    /// True when leakhound answered the request locally (offline mode).
    #[serde(default)]
    pub fulfilled_locally: bool,
}

/// One request the page sent.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct RequestRecord {
    /// Unique within the capture, e.g. `r17`.
    pub id: String,
    /// Milliseconds since the run started, when the request was sent.
    pub time_ms: f64,
    /// The journey step during which it was sent.
    pub step: usize,
    /// The top-level page URL at that moment.
    pub page_url: String,
    /// The URL of the frame (or worker) that sent it.
    pub frame_url: String,
    pub target: TargetKind,
    /// CDP resource type: `Document`, `Script`, `Image`, `XHR`, `Fetch`, `Ping`, `Other`, ...
    pub resource_type: String,
    pub method: String,
    /// The final URL (after redirects).
    pub url: String,
    /// Headers as actually sent, including `Cookie` and `Referer` when the browser reported them.
    #[serde(default)]
    pub headers: Vec<Header>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Body>,
    /// Earlier hops, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub redirects: Vec<Redirect>,
    #[serde(default)]
    pub initiator: Initiator,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<ResponseInfo>,
    #[serde(default)]
    pub fate: Fate,
    /// True for `navigator.sendBeacon` and keepalive requests sent while a page unloads.
    #[serde(default)]
    pub beacon: bool,
}

impl RequestRecord {
    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value.as_str())
    }
}

/// A WebSocket connection the page opened.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct WebSocketRecord {
    pub id: String,
    pub time_ms: f64,
    pub step: usize,
    pub page_url: String,
    pub frame_url: String,
    pub target: TargetKind,
    pub url: String,
    /// Handshake request headers.
    #[serde(default)]
    pub headers: Vec<Header>,
    #[serde(default)]
    pub initiator: Initiator,
}

/// One frame sent by the page over a WebSocket.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct WsFrameRecord {
    /// `w3#5`: the socket's id and the frame's number on it.
    pub id: String,
    /// The [`WebSocketRecord::id`] of its socket.
    pub socket: String,
    pub time_ms: f64,
    pub step: usize,
    pub page_url: String,
    pub url: String,
    /// 1 text, 2 binary.
    pub opcode: u8,
    pub payload: Body,
}

/// A cookie as the browser holds it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct CookieRecord {
    pub name: String,
    pub value: String,
    pub domain: String,
    pub path: String,
    #[serde(default)]
    pub secure: bool,
    #[serde(default)]
    pub http_only: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub same_site: Option<String>,
    /// Seconds since the epoch; `None` for session cookies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<f64>,
}

/// State after a step.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct SnapshotRecord {
    pub step: usize,
    pub time_ms: f64,
    pub url: String,
    pub title: String,
    #[serde(default)]
    pub cookies: Vec<CookieRecord>,
    /// Path of the step's screenshot, relative to the capture file, when one was taken.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub screenshot: Option<String>,
    /// Whether the step succeeded; the error otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct DialogRecord {
    pub step: usize,
    pub time_ms: f64,
    /// `alert`, `confirm`, `prompt`, `beforeunload`.
    pub kind: String,
    pub message: String,
    pub url: String,
}

/// How the run ended.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    #[default]
    Complete,
    /// A step failed, timed out, the browser crashed or the user pressed Ctrl-C: what was captured is
    /// written, but the journey did not run to its end.
    Incomplete,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct EndRecord {
    pub status: RunStatus,
    /// Why the run is incomplete.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub time_ms: f64,
    /// How many steps ran (including the failing one).
    pub steps_run: usize,
    pub requests: usize,
    pub ws_frames: usize,
}

/// The journey-level records of a capture (everything but requests and frames), gathered while a
/// capture is read. Small: it grows with the number of steps, not of requests.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CaptureSummary {
    pub header: Option<CaptureHeader>,
    pub steps: Vec<StepRecord>,
    pub typed: Vec<TypedValue>,
    pub snapshots: Vec<SnapshotRecord>,
    pub dialogs: Vec<DialogRecord>,
    pub websockets: usize,
    pub requests: usize,
    pub ws_frames: usize,
    pub end: Option<EndRecord>,
}

impl CaptureSummary {
    /// Takes note of one record.
    pub fn absorb(&mut self, record: &Record) {
        match record {
            Record::Header(h) => self.header = Some(h.clone()),
            Record::Step(s) => self.steps.push(s.clone()),
            Record::Typed(t) => self.typed.push(t.clone()),
            Record::Snapshot(s) => self.snapshots.push(s.clone()),
            Record::Dialog(d) => self.dialogs.push(d.clone()),
            Record::WebSocket(_) => self.websockets += 1,
            Record::Request(_) => self.requests += 1,
            Record::WsFrame(_) => self.ws_frames += 1,
            Record::End(e) => self.end = Some(e.clone()),
        }
    }

    /// A capture without an `end` record was cut off: it is incomplete.
    pub fn status(&self) -> RunStatus {
        match &self.end {
            Some(end) => end.status,
            None => RunStatus::Incomplete,
        }
    }
}
