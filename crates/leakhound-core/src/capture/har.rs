//! HAR 1.2: import a HAR recorded in any browser's DevTools, export a capture as a HAR that Chrome
//! DevTools (and other HAR viewers) can open.
//!
//! Import is lenient: every field has a default, because real HAR writers omit different things.
//! Chrome's extensions (`_resourceType`, `_initiator`, `_webSocketMessages`) are read when present and
//! written on export, so a capture keeps its initiator stacks and WebSocket frames across the trip.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::capture::record::{
    Body, BodyEncoding, CaptureHeader, EndRecord, Fate, Header, Initiator, JourneyInfo, Record,
    RequestRecord, ResponseInfo, RunStatus, StackFrame, StepRecord, TargetKind, WebSocketRecord,
    WsFrameRecord, CAPTURE_FORMAT_NAME, CAPTURE_FORMAT_VERSION,
};
use crate::classify::view::{BodyView, HeaderView, IgnoredString, InitiatorView, RequestView};

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HarError {
    #[error("cannot read HAR {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid HAR {path}: field `{field}`: {message}")]
    Invalid {
        path: PathBuf,
        field: String,
        message: String,
    },
    #[error("cannot write HAR: {0}")]
    Write(#[from] std::io::Error),
    #[error("cannot encode HAR: {0}")]
    Encode(#[from] serde_json::Error),
}

/// The top-level HAR document.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct Har {
    pub log: Log,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Log {
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub creator: Creator,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub browser: Option<Creator>,
    #[serde(default)]
    pub pages: Vec<Page>,
    #[serde(default)]
    pub entries: Vec<Entry>,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct Creator {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub version: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Page {
    #[serde(default)]
    pub started_date_time: String,
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub page_timings: PageTimings,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct PageTimings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_content_load: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_load: Option<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pageref: Option<String>,
    #[serde(default)]
    pub started_date_time: String,
    #[serde(default)]
    pub time: f64,
    #[serde(default)]
    pub request: HarRequest,
    #[serde(default)]
    pub response: HarResponse,
    #[serde(default)]
    pub cache: serde_json::Map<String, serde_json::Value>,
    #[serde(default)]
    pub timings: Timings,
    #[serde(
        default,
        rename = "serverIPAddress",
        skip_serializing_if = "Option::is_none"
    )]
    pub server_ip_address: Option<String>,
    #[serde(
        default,
        rename = "_resourceType",
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub resource_type: Option<String>,
    /// Chrome writes an object; chrome-har (Puppeteer) writes the initiator's URL as a string.
    #[serde(
        default,
        rename = "_initiator",
        deserialize_with = "lenient_initiator",
        skip_serializing_if = "Option::is_none"
    )]
    pub initiator: Option<HarInitiator>,
    #[serde(
        default,
        rename = "_webSocketMessages",
        deserialize_with = "lenient_list",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub web_socket_messages: Vec<WsMessage>,
    /// Chrome writes the network error of a failed request here.
    #[serde(
        default,
        rename = "_error",
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub error: Option<String>,
    /// leakhound's own: the capture's request id, step and fate, kept on export.
    #[serde(
        default,
        rename = "_leakhound",
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub leakhound: Option<LeakhoundExtra>,
}

/// An exporter's own `_` field read when it has the shape leakhound knows, ignored otherwise:
/// HAR writers put anything in their extensions (strings, objects, null), and a field leakhound
/// merely uses as a hint must never make a whole HAR unreadable.
fn lenient<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    // Kept as text and parsed on its own: cheaper than a `Value` tree, and a mismatch is a `None`.
    let raw = Box::<serde_json::value::RawValue>::deserialize(d)?;
    Ok(serde_json::from_str(raw.get()).ok())
}

fn lenient_list<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    Ok(lenient(d)?.unwrap_or_default())
}

/// `_initiator` as Chrome's object, or as chrome-har's URL string.
fn lenient_initiator<'de, D>(d: D) -> Result<Option<HarInitiator>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    let raw = Box::<serde_json::value::RawValue>::deserialize(d)?;
    Ok(initiator_from_text(raw.get()))
}

/// The text of an `_initiator` (see [`lenient_initiator`]).
fn initiator_from_text(text: &str) -> Option<HarInitiator> {
    if text.starts_with('"') {
        serde_json::from_str::<String>(text)
            .ok()
            .filter(|url| !url.is_empty())
            .map(|url| HarInitiator {
                kind: "script".into(),
                url: Some(url),
                ..Default::default()
            })
    } else if text.starts_with('{') {
        serde_json::from_str(text).ok()
    } else {
        None
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct LeakhoundExtra {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub step: usize,
    #[serde(default)]
    pub page_url: String,
    #[serde(default)]
    pub fate: Fate,
    #[serde(default)]
    pub beacon: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct NameValue {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub value: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct HarRequest {
    #[serde(default)]
    pub method: String,
    #[serde(default)]
    pub url: String,
    #[serde(default)]
    pub http_version: String,
    #[serde(default)]
    pub cookies: Vec<NameValue>,
    #[serde(default)]
    pub headers: Vec<NameValue>,
    /// Written on export; not read on import (the URL carries the same parameters, and a HAR of
    /// 100,000 requests would otherwise parse them all a second time).
    #[serde(default, skip_deserializing)]
    pub query_string: Vec<NameValue>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post_data: Option<PostData>,
    #[serde(default = "minus_one")]
    pub headers_size: i64,
    #[serde(default = "minus_one")]
    pub body_size: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct PostData {
    #[serde(default)]
    pub mime_type: String,
    #[serde(default)]
    pub text: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub params: Vec<NameValue>,
    /// Not in HAR 1.2 for requests; leakhound writes `base64` for binary bodies.
    #[serde(
        default,
        rename = "_encoding",
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub encoding: Option<String>,
    /// The same, as other exporters (and HAR 1.2's `content.encoding`) spell it.
    #[serde(
        default,
        rename = "encoding",
        deserialize_with = "lenient",
        skip_serializing
    )]
    pub std_encoding: Option<String>,
}

impl PostData {
    /// Whether the text is base64 (by either spelling of the encoding field).
    pub fn is_base64(&self) -> bool {
        [&self.encoding, &self.std_encoding].iter().any(|e| {
            e.as_deref()
                .is_some_and(|e| e.eq_ignore_ascii_case("base64"))
        })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct HarResponse {
    #[serde(default)]
    pub status: i64,
    #[serde(default)]
    pub status_text: String,
    #[serde(default)]
    pub http_version: String,
    /// Not read on import (Set-Cookie headers carry them).
    #[serde(default, skip_deserializing)]
    pub cookies: Vec<NameValue>,
    #[serde(default)]
    pub headers: Vec<NameValue>,
    #[serde(default)]
    pub content: Content,
    #[serde(default, rename = "redirectURL")]
    pub redirect_url: String,
    #[serde(default = "minus_one")]
    pub headers_size: i64,
    #[serde(default = "minus_one")]
    pub body_size: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Content {
    #[serde(default)]
    pub size: i64,
    #[serde(default)]
    pub mime_type: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Timings {
    #[serde(default = "minus_one_f")]
    pub blocked: f64,
    #[serde(default = "minus_one_f")]
    pub dns: f64,
    #[serde(default = "minus_one_f")]
    pub connect: f64,
    #[serde(default)]
    pub send: f64,
    #[serde(default)]
    pub wait: f64,
    #[serde(default)]
    pub receive: f64,
    #[serde(default = "minus_one_f")]
    pub ssl: f64,
}

impl Default for Timings {
    fn default() -> Self {
        Timings {
            blocked: -1.0,
            dns: -1.0,
            connect: -1.0,
            send: 0.0,
            wait: 0.0,
            receive: 0.0,
            ssl: -1.0,
        }
    }
}

fn minus_one() -> i64 {
    -1
}

fn minus_one_f() -> f64 {
    -1.0
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct HarInitiator {
    #[serde(default, rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line_number: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column_number: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stack: Option<HarStack>,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct HarStack {
    #[serde(default)]
    pub call_frames: Vec<CallFrame>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<Box<HarStack>>,
}

/// A DevTools protocol call frame: 0-based line and column.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct CallFrame {
    #[serde(default)]
    pub function_name: String,
    #[serde(default)]
    pub script_id: String,
    #[serde(default)]
    pub url: String,
    #[serde(default)]
    pub line_number: u32,
    #[serde(default)]
    pub column_number: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct WsMessage {
    /// `send` or `receive`.
    #[serde(default, rename = "type")]
    pub kind: String,
    /// Seconds since the epoch.
    #[serde(default)]
    pub time: f64,
    #[serde(default)]
    pub opcode: u8,
    #[serde(default)]
    pub data: String,
}

fn headers_from(list: &[NameValue]) -> Vec<Header> {
    list.iter()
        .map(|h| Header {
            name: h.name.clone(),
            value: h.value.clone(),
        })
        .collect()
}

/// CDP-style resource type from Chrome's lower-case HAR one.
fn resource_type(entry: &Entry) -> String {
    resource_type_of(
        entry.resource_type.as_deref(),
        &entry.response.content.mime_type,
    )
}

fn resource_type_of(raw: Option<&str>, mime: &str) -> String {
    let raw = raw.unwrap_or("");
    match raw.to_ascii_lowercase().as_str() {
        "document" => "Document".into(),
        "xhr" => "XHR".into(),
        "fetch" => "Fetch".into(),
        "script" => "Script".into(),
        "image" => "Image".into(),
        "stylesheet" => "Stylesheet".into(),
        "font" => "Font".into(),
        "ping" => "Ping".into(),
        "websocket" => "WebSocket".into(),
        "media" => "Media".into(),
        "" if mime.starts_with("text/html") => "Document".into(),
        "" => "Other".into(),
        other => {
            let mut c = other.chars();
            c.next()
                .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                .unwrap_or_default()
        }
    }
}

fn initiator_from(i: Option<&HarInitiator>) -> Initiator {
    let Some(i) = i else {
        return Initiator::default();
    };
    let mut stack = Vec::new();
    let mut boundary: Option<String> = None;
    let mut cur = i.stack.as_ref();
    while let Some(s) = cur {
        for (n, f) in s.call_frames.iter().enumerate() {
            stack.push(StackFrame {
                function: f.function_name.clone(),
                url: f.url.clone(),
                line: f.line_number + 1,
                column: f.column_number + 1,
                async_boundary: if n == 0 { boundary.take() } else { None },
            });
        }
        boundary = s.parent.as_ref().and_then(|p| p.description.clone());
        cur = s.parent.as_deref();
    }
    let first_with_url = stack.iter().find(|f| !f.url.is_empty());
    Initiator {
        kind: i.kind.clone(),
        url: first_with_url
            .map(|f| f.url.clone())
            .or_else(|| i.url.clone()),
        line: first_with_url
            .map(|f| f.line)
            .or(i.line_number.map(|l| l + 1)),
        column: first_with_url
            .map(|f| f.column)
            .or(i.column_number.map(|c| c + 1)),
        stack,
    }
}

/// An RFC 3339 time with any UTC offset (Chrome writes `Z`, Firefox the local offset such as
/// `-05:00`); a time without a zone is read as UTC.
///
/// Times before 1970 or after 9999 are no times at all: nothing records traffic then, and they
/// cannot be written back as RFC 3339 either.
fn parse_time(s: &str) -> Option<SystemTime> {
    let s = s.trim();
    let t: SystemTime =
        match time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339) {
            Ok(t) => t.into(),
            Err(_) => humantime::parse_rfc3339_weak(s).ok()?,
        };
    let secs = t.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs();
    (secs < LAST_RFC3339_SECOND).then_some(t)
}

/// 10000-01-01T00:00:00Z: the first second RFC 3339 (and humantime) cannot write.
const LAST_RFC3339_SECOND: u64 = 253_402_300_800;

/// `t` as RFC 3339 with milliseconds; empty for a time RFC 3339 cannot express (before 1970 or
/// after 9999), which `humantime` would panic on.
fn rfc3339_millis(t: SystemTime) -> String {
    match t.duration_since(std::time::UNIX_EPOCH) {
        Ok(d) if d.as_secs() < LAST_RFC3339_SECOND => {
            humantime::format_rfc3339_millis(t).to_string()
        }
        _ => String::new(),
    }
}

/// Reads a HAR file as capture records: a header from `journey`, one step per HAR page, requests,
/// WebSocket sockets and the frames the page sent.
///
/// Without a start URL in `journey`, the first document request becomes the start URL (and so the
/// first party).
pub fn read_har(path: &Path, mut journey: JourneyInfo) -> Result<Vec<Record>, HarError> {
    let bytes = std::fs::read(path).map_err(|source| HarError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    // Windows tools write a UTF-8 byte order mark, which JSON does not allow.
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    let de = &mut serde_json::Deserializer::from_slice(text);
    let har: Har = serde_path_to_error::deserialize(de).map_err(|e| HarError::Invalid {
        path: path.to_path_buf(),
        field: e.path().to_string(),
        message: e.inner().to_string(),
    })?;
    Ok(har_to_records(&har, &mut journey))
}

/// What a first look at a HAR's entries learns, before any record is made: when it starts, its
/// first document, each page's own document. Enough to write the header and steps.
#[derive(Debug, Default)]
pub struct HarHead {
    pub creator: Creator,
    pub browser: Option<Creator>,
    pub pages: Vec<Page>,
    t0: Option<SystemTime>,
    first_document: Option<String>,
    first_entry: Option<String>,
    /// Page id → its own (first) document's URL.
    page_documents: BTreeMap<String, String>,
    /// Entries seen.
    pub entries: usize,
    /// Top-level document URLs (the pages the HAR visited), for the classifier's first pass.
    pub page_urls: std::collections::BTreeSet<String>,
}

impl HarHead {
    /// Takes note of one entry (any order).
    pub fn observe(&mut self, e: &Entry) {
        self.entries += 1;
        if let Some(t) = parse_time(&e.started_date_time) {
            self.t0 = Some(self.t0.map_or(t, |t0| t0.min(t)));
        }
        if self.first_entry.is_none() {
            self.first_entry = Some(e.request.url.clone());
        }
        if resource_type(e) == "Document" {
            if self.first_document.is_none() {
                self.first_document = Some(e.request.url.clone());
            }
            if let Some(p) = &e.pageref {
                if !self.page_documents.contains_key(p) {
                    self.page_documents.insert(p.clone(), e.request.url.clone());
                }
            }
        }
    }

    /// Completes `journey` (start URL; each page's own site as first party) and returns the
    /// header and step records.
    pub fn prelude(&self, journey: &mut JourneyInfo) -> Vec<Record> {
        if journey.start_url.is_empty() {
            journey.start_url = self
                .first_document
                .clone()
                .or_else(|| self.first_entry.clone())
                .unwrap_or_default();
        }
        // Several sites in one HAR: each page's own document is first party, beside the identity
        // file's `first_party` (a tracker's iframe document is not a page of its own).
        for p in &self.pages {
            let own = self
                .page_documents
                .get(&p.id)
                .map(String::as_str)
                .or_else(|| p.title.starts_with("http").then_some(p.title.as_str()));
            if let Some(domain) = own
                .and_then(|u| url::Url::parse(u).ok())
                .and_then(|u| u.host_str().map(crate::classify::party::registrable_domain))
            {
                if !journey.first_party.contains(&domain) {
                    journey.first_party.push(domain);
                }
            }
        }
        let started = self.t0.map(rfc3339_millis).unwrap_or_default();
        let mut out = vec![Record::Header(CaptureHeader {
            format: CAPTURE_FORMAT_NAME.into(),
            version: CAPTURE_FORMAT_VERSION,
            tool_version: format!("har-import ({})", self.creator.name),
            browser_version: self
                .browser
                .as_ref()
                .map(|b| format!("{} {}", b.name, b.version))
                .unwrap_or_default(),
            started_at: started,
            certificate_errors_ignored: false,
            journey: journey.clone(),
        })];
        let conv = self.converter(journey);
        for (i, p) in self.pages.iter().enumerate() {
            // JUnit and the reports name steps by label: never leave one empty.
            let label = if p.title.trim().is_empty() {
                format!(
                    "page {}",
                    if p.id.is_empty() {
                        i.to_string()
                    } else {
                        p.id.clone()
                    }
                )
            } else {
                p.title.clone()
            };
            out.push(Record::Step(StepRecord {
                index: i,
                action: "goto".into(),
                label,
                time_ms: conv.ms(&p.started_date_time),
            }));
        }
        if self.pages.is_empty() {
            // Playwright and hand-made HARs may have no pages: one step holds every entry, so
            // every finding belongs to a named step (and a JUnit case).
            out.push(Record::Step(StepRecord {
                index: 0,
                action: "goto".into(),
                label: if journey.start_url.is_empty() {
                    "HAR entries".into()
                } else {
                    format!("open {}", journey.start_url)
                },
                time_ms: 0.0,
            }));
        }
        out
    }

    /// Turns entries into records, in file order (see [`EntryConverter::convert`]).
    pub fn converter(&self, journey: &JourneyInfo) -> EntryConverter {
        EntryConverter {
            t0: self.t0,
            page_index: self
                .pages
                .iter()
                .enumerate()
                .map(|(i, p)| (p.id.clone(), i))
                .collect(),
            page_url: journey.start_url.clone(),
            ws_count: 0,
            n: 0,
            requests: 0,
            frames: 0,
            last_ms: 0.0,
        }
    }
}

/// Converts HAR entries to capture records one at a time, keeping only what crosses entries (the
/// page open, WebSocket numbering, counts).
#[derive(Debug)]
pub struct EntryConverter {
    t0: Option<SystemTime>,
    page_index: std::collections::HashMap<String, usize>,
    page_url: String,
    ws_count: usize,
    n: usize,
    requests: usize,
    frames: usize,
    last_ms: f64,
}

impl EntryConverter {
    fn ms(&self, s: &str) -> f64 {
        match (self.t0, parse_time(s)) {
            (Some(a), Some(b)) => b
                .duration_since(a)
                .map(|d| d.as_secs_f64() * 1000.0)
                .unwrap_or(0.0),
            _ => 0.0,
        }
    }

    fn push(&mut self, out: &mut Vec<Record>, r: Record) {
        match &r {
            Record::Request(q) => {
                self.requests += 1;
                self.last_ms = self.last_ms.max(q.time_ms);
            }
            Record::WsFrame(f) => {
                self.frames += 1;
                self.last_ms = self.last_ms.max(f.time_ms);
            }
            _ => {}
        }
        out.push(r);
    }

    /// The records of one entry: a request, or a WebSocket and the frames the page sent.
    pub fn convert(&mut self, e: &Entry, out: &mut Vec<Record>) {
        self.convert_entry(e, out);
        self.n += 1;
    }

    /// The closing record. A HAR read to its end is a complete record of what the browser sent;
    /// one cut off (`complete` false) is an incomplete run, analysed as far as it goes.
    pub fn end(&self, steps: usize, complete: bool) -> Record {
        Record::End(EndRecord {
            status: if complete {
                RunStatus::Complete
            } else {
                RunStatus::Incomplete
            },
            reason: (!complete).then(|| "the HAR file is cut off before its end".to_string()),
            time_ms: self.last_ms,
            steps_run: steps,
            requests: self.requests,
            ws_frames: self.frames,
        })
    }

    fn convert_entry(&mut self, e: &Entry, out: &mut Vec<Record>) {
        let step = e
            .pageref
            .as_deref()
            .and_then(|p| self.page_index.get(p).copied())
            .unwrap_or(0);
        let rtype = resource_type(e);
        if rtype == "Document" && e.initiator.as_ref().is_none_or(|i| i.kind != "script") {
            self.page_url = e.request.url.clone();
        }
        let time_ms = self.ms(&e.started_date_time);
        let initiator = initiator_from(e.initiator.as_ref());
        let mut headers = headers_from(&e.request.headers);
        if !e.request.cookies.is_empty()
            && !headers
                .iter()
                .any(|h| h.name.eq_ignore_ascii_case("cookie"))
        {
            headers.push(Header {
                name: "Cookie".into(),
                value: e
                    .request
                    .cookies
                    .iter()
                    .map(|c| format!("{}={}", c.name, c.value))
                    .collect::<Vec<_>>()
                    .join("; "),
            });
        }
        if rtype == "WebSocket" || !e.web_socket_messages.is_empty() {
            let id = format!("w{}", self.ws_count);
            self.ws_count += 1;
            self.push(
                out,
                Record::WebSocket(WebSocketRecord {
                    id: id.clone(),
                    time_ms,
                    step,
                    page_url: self.page_url.clone(),
                    frame_url: self.page_url.clone(),
                    target: TargetKind::Page,
                    url: e.request.url.clone(),
                    headers,
                    initiator,
                }),
            );
            let base = e.web_socket_messages.first().map_or(0.0, |m| m.time);
            for (k, m) in e
                .web_socket_messages
                .iter()
                .filter(|m| m.kind == "send")
                .enumerate()
            {
                let payload = if m.opcode == 2 {
                    use base64::Engine as _;
                    let raw = base64::engine::general_purpose::STANDARD
                        .decode(m.data.as_bytes())
                        .unwrap_or_else(|_| m.data.as_bytes().to_vec());
                    Body::from_bytes(&raw, usize::MAX)
                } else {
                    Body::from_bytes(m.data.as_bytes(), usize::MAX)
                };
                self.push(
                    out,
                    Record::WsFrame(WsFrameRecord {
                        id: format!("{id}#{k}"),
                        socket: id.clone(),
                        time_ms: time_ms + (m.time - base) * 1000.0,
                        step,
                        page_url: self.page_url.clone(),
                        url: e.request.url.clone(),
                        opcode: if m.opcode == 0 { 1 } else { m.opcode },
                        payload,
                    }),
                );
            }
            return;
        }
        let body = e.request.post_data.as_ref().map(|p| {
            if p.is_base64() {
                use base64::Engine as _;
                // Decoded before anything else: the bytes inside may be URL-encoded, gzip, JSON.
                let cleaned: Vec<u8> = p
                    .text
                    .bytes()
                    .filter(|b| !b.is_ascii_whitespace())
                    .collect();
                let raw = base64::engine::general_purpose::STANDARD
                    .decode(&cleaned)
                    .unwrap_or_else(|_| p.text.as_bytes().to_vec());
                Body::from_bytes(&raw, usize::MAX)
            } else if p.text.is_empty() && !p.params.is_empty() {
                let text = p
                    .params
                    .iter()
                    .map(|nv| format!("{}={}", nv.name, nv.value))
                    .collect::<Vec<_>>()
                    .join("&");
                Body::from_bytes(text.as_bytes(), usize::MAX)
            } else {
                Body::from_bytes(p.text.as_bytes(), usize::MAX)
            }
        });
        let fate = if let Some(extra) = &e.leakhound {
            extra.fate.clone()
        } else if let Some(err) = &e.error {
            Fate::Failed {
                reason: err.clone(),
            }
        } else if e.response.status > 0 {
            Fate::Delivered
        } else {
            Fate::Initiated
        };
        let response = (e.response.status > 0).then(|| ResponseInfo {
            status: u16::try_from(e.response.status).unwrap_or(0),
            headers: headers_from(&e.response.headers),
            remote_address: e.server_ip_address.clone(),
            fulfilled_locally: false,
        });
        let extra = e.leakhound.as_ref();
        self.push(
            out,
            Record::Request(Box::new(RequestRecord {
                id: extra.map_or_else(|| format!("h{}", self.n), |x| x.id.clone()),
                time_ms,
                step: extra.map_or(step, |x| x.step),
                page_url: extra.map_or_else(|| self.page_url.clone(), |x| x.page_url.clone()),
                frame_url: self.page_url.clone(),
                target: TargetKind::Page,
                resource_type: rtype,
                method: e.request.method.clone(),
                url: e.request.url.clone(),
                headers,
                body,
                redirects: Vec::new(),
                initiator,
                response,
                fate,
                beacon: extra.is_some_and(|x| x.beacon),
            })),
        );
    }
}

/// How a streamed HAR ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HarEnd {
    /// Read to its closing brace.
    Complete,
    /// The file stops before its end (a crash mid-export, a truncated download): every entry
    /// before the cut was handed out.
    CutOff,
}

/// What [`stream_har`] hands its callback.
pub enum HarPart<'a> {
    /// The text of one `log.entries` element.
    Entry(&'a [u8]),
    /// The text of `log.pages`, `log.creator` or `log.browser` (by name).
    Meta(&'static str, &'a [u8]),
}

/// Bytes read from a HAR at a time.
const HAR_CHUNK: usize = 1 << 20;

/// Reads a HAR without ever holding it whole: the JSON structure is followed byte by byte (strings
/// skipped with `memchr`), and each element of `log.entries` — plus `log.pages`, `log.creator`,
/// `log.browser` — is handed to `f` as its own text, which the caller parses. Memory is one read
/// chunk plus the largest entry. A UTF-8 byte order mark is skipped.
pub fn stream_har(
    path: &Path,
    mut f: impl FnMut(HarPart<'_>) -> Result<(), HarError>,
) -> Result<HarEnd, HarError> {
    use std::io::Read;
    let io_err = |source| HarError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = std::fs::File::open(path).map_err(io_err)?;
    let mut buf = vec![0u8; HAR_CHUNK];
    let mut sp = HarSplitter::default();
    let mut first = true;
    loop {
        let n = file.read(&mut buf).map_err(io_err)?;
        if n == 0 {
            break;
        }
        let mut chunk = &buf[..n];
        if first {
            first = false;
            chunk = chunk.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(chunk);
        }
        sp.feed(chunk, &mut f)?;
    }
    if !sp.seen_log {
        return Err(HarError::Invalid {
            path: path.to_path_buf(),
            field: "log".into(),
            message: "no `log` object: not a HAR file".into(),
        });
    }
    Ok(if sp.closed {
        HarEnd::Complete
    } else {
        HarEnd::CutOff
    })
}

/// The state of [`stream_har`] between chunks.
#[derive(Default)]
struct HarSplitter {
    depth: usize,
    in_str: bool,
    /// The previous byte was a backslash inside a string.
    escape: bool,
    /// At depth 2 (inside `log`), the next string is a key.
    expect_key: bool,
    /// The key being read, while in a key string at depth 2.
    key: Option<Vec<u8>>,
    /// The last key read at depth 2.
    last_key: Vec<u8>,
    /// What the value being captured is.
    target: Option<&'static str>,
    /// Bytes of the value being captured (an entry, or pages/creator/browser).
    cap: Vec<u8>,
    capturing: bool,
    /// Inside the `entries` array (its elements are at depth 3).
    in_entries: bool,
    /// The top-level object closed.
    closed: bool,
    /// An object was opened inside the top-level one (`log`).
    seen_log: bool,
}

impl HarSplitter {
    fn feed(
        &mut self,
        chunk: &[u8],
        f: &mut impl FnMut(HarPart<'_>) -> Result<(), HarError>,
    ) -> Result<(), HarError> {
        let mut seg = 0usize;
        let mut i = 0usize;
        while i < chunk.len() {
            if self.in_str {
                if self.escape {
                    self.escape = false;
                    if let Some(k) = &mut self.key {
                        k.push(chunk[i]);
                    }
                    i += 1;
                    continue;
                }
                match memchr::memchr2(b'"', b'\\', &chunk[i..]) {
                    None => {
                        if let Some(k) = &mut self.key {
                            k.extend_from_slice(&chunk[i..]);
                        }
                        i = chunk.len();
                    }
                    Some(off) => {
                        let at = i + off;
                        if let Some(k) = &mut self.key {
                            k.extend_from_slice(&chunk[i..at]);
                        }
                        if chunk[at] == b'\\' {
                            self.escape = true;
                        } else {
                            self.in_str = false;
                            if let Some(k) = self.key.take() {
                                self.last_key = k;
                            }
                        }
                        i = at + 1;
                    }
                }
                continue;
            }
            let b = chunk[i];
            match b {
                b'"' => {
                    self.in_str = true;
                    if self.depth == 2 && self.expect_key && !self.capturing {
                        self.key = Some(Vec::new());
                        self.expect_key = false;
                    }
                }
                b'{' | b'[' => {
                    if self.depth == 2 && !self.capturing {
                        let name: Option<&'static str> = match self.last_key.as_slice() {
                            b"entries" if b == b'[' => {
                                self.in_entries = true;
                                None
                            }
                            b"pages" => Some("pages"),
                            b"creator" => Some("creator"),
                            b"browser" => Some("browser"),
                            _ => None,
                        };
                        if let Some(name) = name {
                            self.target = Some(name);
                            self.capturing = true;
                            self.cap.clear();
                            seg = i;
                        }
                    } else if self.depth == 3 && self.in_entries && !self.capturing {
                        self.target = Some("entry");
                        self.capturing = true;
                        self.cap.clear();
                        seg = i;
                    }
                    self.depth += 1;
                    if self.depth == 2 {
                        self.expect_key = true;
                        self.seen_log = true;
                    }
                }
                b'}' | b']' => {
                    self.depth = self.depth.saturating_sub(1);
                    let done = (self.depth == 3 && self.in_entries && self.target == Some("entry"))
                        || (self.depth == 2 && self.target.is_some_and(|t| t != "entry"));
                    if self.capturing && done {
                        self.capturing = false;
                        // Most entries lie within one chunk: handed out in place, not copied.
                        let text: &[u8] = if self.cap.is_empty() {
                            &chunk[seg..=i]
                        } else {
                            self.cap.extend_from_slice(&chunk[seg..=i]);
                            &self.cap
                        };
                        match self.target.take() {
                            Some("entry") => f(HarPart::Entry(text))?,
                            Some(name) => f(HarPart::Meta(name, text))?,
                            None => {}
                        }
                        self.cap.clear();
                    }
                    if self.depth == 2 && self.in_entries && b == b']' {
                        self.in_entries = false;
                    }
                    if self.depth == 0 {
                        self.closed = true;
                    }
                }
                b',' if self.depth == 2 => self.expect_key = true,
                _ => {}
            }
            i += 1;
        }
        if self.capturing {
            self.cap.extend_from_slice(&chunk[seg..]);
        }
        Ok(())
    }
}

/// The few fields of an entry the first pass needs; everything else is skipped unparsed.
#[derive(Deserialize)]
struct LightEntry<'a> {
    #[serde(default)]
    pageref: Option<String>,
    #[serde(default, rename = "startedDateTime")]
    started: std::borrow::Cow<'a, str>,
    #[serde(default, rename = "_resourceType", borrow)]
    resource_type: Option<&'a serde_json::value::RawValue>,
    #[serde(default, rename = "_initiator", borrow)]
    initiator: Option<&'a serde_json::value::RawValue>,
    #[serde(default, borrow)]
    request: LightRequest<'a>,
    #[serde(default, borrow)]
    response: LightResponse<'a>,
    /// leakhound's own export names each request's page.
    #[serde(default, rename = "_leakhound", borrow)]
    leakhound: Option<&'a serde_json::value::RawValue>,
}

#[derive(Deserialize)]
struct LightExtra<'a> {
    #[serde(default, borrow)]
    page_url: std::borrow::Cow<'a, str>,
}

#[derive(Deserialize, Default)]
struct LightRequest<'a> {
    #[serde(default, borrow)]
    url: std::borrow::Cow<'a, str>,
}

#[derive(Deserialize, Default)]
struct LightResponse<'a> {
    #[serde(default, borrow)]
    content: LightContent<'a>,
}

#[derive(Deserialize, Default)]
struct LightContent<'a> {
    #[serde(default, rename = "mimeType", borrow)]
    mime_type: std::borrow::Cow<'a, str>,
}

#[derive(Deserialize)]
struct LightInitiator<'a> {
    #[serde(default, rename = "type", borrow)]
    kind: std::borrow::Cow<'a, str>,
}

/// What the classifier's first pass needs of the pages a HAR visited, bounded by the number of
/// distinct page URLs (see [`HarHead::page_urls`]).
const MAX_PAGE_URLS: usize = 20_000;

impl HarHead {
    fn observe_light(&mut self, e: &LightEntry<'_>) {
        self.entries += 1;
        if let Some(t) = parse_time(&e.started) {
            self.t0 = Some(self.t0.map_or(t, |t0| t0.min(t)));
        }
        let url = e.request.url.as_ref();
        if let Some(extra) = e
            .leakhound
            .and_then(|r| serde_json::from_str::<LightExtra<'_>>(r.get()).ok())
        {
            if !extra.page_url.is_empty()
                && self.page_urls.len() < MAX_PAGE_URLS
                && !self.page_urls.contains(extra.page_url.as_ref())
            {
                self.page_urls.insert(extra.page_url.into_owned());
            }
        }
        if self.first_entry.is_none() {
            self.first_entry = Some(url.to_string());
        }
        let raw_type: Option<String> = e
            .resource_type
            .and_then(|r| serde_json::from_str::<String>(r.get()).ok());
        let rtype = resource_type_of(raw_type.as_deref(), &e.response.content.mime_type);
        if rtype == "Document" {
            if self.first_document.is_none() {
                self.first_document = Some(url.to_string());
            }
            if let Some(p) = &e.pageref {
                if !self.page_documents.contains_key(p) {
                    self.page_documents.insert(p.clone(), url.to_string());
                }
            }
            let by_script = e.initiator.is_some_and(|r| {
                serde_json::from_str::<LightInitiator<'_>>(r.get())
                    .is_ok_and(|i| i.kind == "script")
                    || r.get().starts_with('"')
            });
            if !by_script && self.page_urls.len() < MAX_PAGE_URLS {
                self.page_urls.insert(url.to_string());
            }
        }
    }
}

/// Reads a HAR entry by entry (see [`stream_har`]): the first pass learns its [`HarHead`] from a
/// few fields of each entry, the caller's passes then convert entries with
/// [`HarHead::converter`].
pub fn har_head(path: &Path) -> Result<(HarHead, HarEnd), HarError> {
    let mut head = HarHead::default();
    let mut index = 0usize;
    let end = stream_har(path, |part| {
        match part {
            HarPart::Entry(bytes) => {
                let e = parse_part::<LightEntry<'_>>(
                    path,
                    bytes,
                    format_args!("log.entries[{index}]"),
                )?;
                index += 1;
                head.observe_light(&e);
            }
            HarPart::Meta("pages", bytes) => {
                head.pages = parse_part(path, bytes, format_args!("log.pages"))?
            }
            HarPart::Meta("creator", bytes) => {
                head.creator = parse_part(path, bytes, format_args!("log.creator"))?
            }
            HarPart::Meta(_, bytes) => {
                head.browser = parse_part(path, bytes, format_args!("log.browser")).ok()
            }
        }
        Ok(())
    })?;
    Ok((head, end))
}

/// Calls `f` with every entry of the HAR, parsed, in file order.
pub fn for_each_entry(path: &Path, mut f: impl FnMut(&Entry)) -> Result<HarEnd, HarError> {
    let mut index = 0usize;
    stream_har(path, |part| {
        if let HarPart::Entry(bytes) = part {
            let e = parse_part::<Entry>(path, bytes, format_args!("log.entries[{index}]"))?;
            index += 1;
            f(&e);
        }
        Ok(())
    })
}

/// Calls `f` with the text of every entry of the HAR and its index, in file order (see
/// [`stream_har`]); parse it with [`parse_entry_view`].
pub fn for_each_entry_text(
    path: &Path,
    mut f: impl FnMut(usize, &[u8]) -> Result<(), HarError>,
) -> Result<HarEnd, HarError> {
    let mut index = 0usize;
    stream_har(path, |part| {
        if let HarPart::Entry(bytes) = part {
            f(index, bytes)?;
            index += 1;
        }
        Ok(())
    })
}

/// Parses one entry's text (see [`for_each_entry_text`]) whole.
pub fn parse_entry(path: &Path, bytes: &[u8], index: usize) -> Result<Entry, HarError> {
    parse_part::<Entry>(path, bytes, format_args!("log.entries[{index}]"))
}

/// Parses one entry's text (see [`for_each_entry_text`]) borrowed. An entry [`Entry`] would
/// reject is rejected too, with the same message naming the field.
pub fn parse_entry_view<'a>(
    path: &Path,
    bytes: &'a [u8],
    index: usize,
) -> Result<EntryView<'a>, HarError> {
    parse_part::<EntryView<'a>>(path, bytes, format_args!("log.entries[{index}]"))
}

/// A HAR name/value pair (header, cookie, form parameter), borrowed.
#[derive(Deserialize, Default)]
struct NameValueView<'a> {
    #[serde(default, borrow)]
    name: Cow<'a, str>,
    #[serde(default, borrow)]
    value: Cow<'a, str>,
}

/// A HAR entry as the classifier's second pass reads it: strings borrowed from the entry's
/// text, the initiator and leakhound's own fields kept as text until needed, everything else
/// checked for type (exactly as [`Entry`] checks it) and dropped. See
/// [`EntryConverter::request_view`].
#[derive(Deserialize)]
pub struct EntryView<'a> {
    #[serde(default, borrow)]
    pageref: Option<Cow<'a, str>>,
    #[serde(default, rename = "startedDateTime", borrow)]
    started: Cow<'a, str>,
    #[serde(default, rename = "time")]
    _time: f64,
    #[serde(default, borrow)]
    request: HarRequestView<'a>,
    #[serde(default, borrow)]
    response: HarResponseView<'a>,
    #[serde(default, rename = "cache")]
    _cache: serde_json::Map<String, serde_json::Value>,
    #[serde(default, rename = "timings")]
    _timings: Timings,
    #[serde(default, rename = "serverIPAddress")]
    _server_ip_address: Option<IgnoredString>,
    #[serde(default, rename = "_resourceType", borrow)]
    resource_type: Option<&'a RawValue>,
    #[serde(default, rename = "_initiator", borrow)]
    initiator: Option<&'a RawValue>,
    #[serde(default, rename = "_webSocketMessages", borrow)]
    web_socket_messages: Option<&'a RawValue>,
    #[serde(default, rename = "_error", borrow)]
    error: Option<&'a RawValue>,
    #[serde(default, rename = "_leakhound", borrow)]
    leakhound: Option<&'a RawValue>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct HarRequestView<'a> {
    #[serde(default, borrow)]
    method: Cow<'a, str>,
    #[serde(default, borrow)]
    url: Cow<'a, str>,
    #[serde(default, rename = "httpVersion")]
    _http_version: IgnoredString,
    #[serde(default, borrow)]
    cookies: Vec<NameValueView<'a>>,
    #[serde(default, borrow)]
    headers: Vec<NameValueView<'a>>,
    #[serde(default, borrow)]
    post_data: Option<PostDataView<'a>>,
    #[serde(default, rename = "headersSize")]
    _headers_size: i64,
    #[serde(default, rename = "bodySize")]
    _body_size: i64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PostDataView<'a> {
    #[serde(default, rename = "mimeType")]
    _mime_type: IgnoredString,
    #[serde(default, borrow)]
    text: Cow<'a, str>,
    #[serde(default, borrow)]
    params: Vec<NameValueView<'a>>,
    #[serde(default, rename = "_encoding", borrow)]
    encoding: Option<&'a RawValue>,
    #[serde(default, rename = "encoding", borrow)]
    std_encoding: Option<&'a RawValue>,
}

impl PostDataView<'_> {
    fn is_base64(&self) -> bool {
        [self.encoding, self.std_encoding]
            .iter()
            .flatten()
            .any(|raw| {
                serde_json::from_str::<Cow<'_, str>>(raw.get())
                    .is_ok_and(|e| e.eq_ignore_ascii_case("base64"))
            })
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct HarResponseView<'a> {
    #[serde(default)]
    status: i64,
    #[serde(default, rename = "statusText")]
    _status_text: IgnoredString,
    #[serde(default, rename = "httpVersion")]
    _http_version: IgnoredString,
    #[serde(default, borrow)]
    headers: Vec<NameValueView<'a>>,
    #[serde(default, borrow)]
    content: HarContentView<'a>,
    #[serde(default, rename = "redirectURL")]
    _redirect_url: IgnoredString,
    #[serde(default, rename = "headersSize")]
    _headers_size: i64,
    #[serde(default, rename = "bodySize")]
    _body_size: i64,
}

#[derive(Deserialize, Default)]
struct HarContentView<'a> {
    #[serde(default, rename = "size")]
    _size: i64,
    #[serde(default, rename = "mimeType", borrow)]
    mime_type: Cow<'a, str>,
}

/// leakhound's own `_leakhound` field, borrowed.
#[derive(Deserialize)]
struct LeakhoundExtraView<'a> {
    #[serde(default, borrow)]
    id: Cow<'a, str>,
    #[serde(default)]
    step: usize,
    #[serde(default, borrow)]
    page_url: Cow<'a, str>,
    #[serde(default)]
    fate: Fate,
}

/// An `_initiator`'s text as a capture initiator (stack frames 1-based, async boundaries named),
/// read as leniently as [`Entry`] reads it: an unreadable one is no initiator.
pub fn initiator_of_raw(raw: &RawValue) -> Initiator {
    let har = initiator_from_text(raw.get());
    initiator_from(har.as_ref())
}

/// What the second pass does with one entry (see [`EntryConverter::request_view`]).
pub enum EntryKind {
    /// A request: take its view.
    Request,
    /// A WebSocket and its frames: parse the entry whole ([`Entry`]) and
    /// [`EntryConverter::convert`] it.
    WebSocket,
}

impl EntryView<'_> {
    fn raw_resource_type(&self) -> Option<Cow<'_, str>> {
        self.resource_type
            .and_then(|r| serde_json::from_str::<Cow<'_, str>>(r.get()).ok())
    }

    fn leakhound_extra(&self) -> Option<LeakhoundExtraView<'_>> {
        self.leakhound
            .and_then(|r| serde_json::from_str::<LeakhoundExtraView<'_>>(r.get()).ok())
    }

    /// Whether the entry is a request, or a WebSocket (which [`Entry`] converts).
    pub fn kind(&self) -> EntryKind {
        let rtype = resource_type_of(
            self.raw_resource_type().as_deref(),
            &self.response.content.mime_type,
        );
        let has_frames = self.web_socket_messages.is_some_and(|raw| {
            // As `lenient_list` reads it: a non-empty list of messages.
            serde_json::from_str::<Vec<serde::de::IgnoredAny>>(raw.get())
                .is_ok_and(|l| !l.is_empty())
        });
        if rtype == "WebSocket" || has_frames {
            EntryKind::WebSocket
        } else {
            EntryKind::Request
        }
    }
}

impl EntryConverter {
    /// The request of one entry as the classifier reads it, borrowed from the entry wherever
    /// its text allows: the same request [`EntryConverter::convert`] makes, without building
    /// an owned record (call it instead of `convert` for [`EntryKind::Request`] entries).
    pub fn request_view<'v>(&'v mut self, e: &'v EntryView<'_>) -> RequestView<'v> {
        let step = e
            .pageref
            .as_deref()
            .and_then(|p| self.page_index.get(p).copied())
            .unwrap_or(0);
        let rtype = resource_type_of(
            e.raw_resource_type().as_deref(),
            &e.response.content.mime_type,
        );
        if rtype == "Document"
            && e.initiator
                .and_then(|raw| initiator_from_text(raw.get()))
                .is_none_or(|i| i.kind != "script")
        {
            self.page_url = e.request.url.to_string();
        }
        let time_ms = self.ms(&e.started);
        self.requests += 1;
        self.last_ms = self.last_ms.max(time_ms);
        let n = self.n;
        self.n += 1;
        let this: &'v EntryConverter = self;
        let extra = e.leakhound_extra();
        let id = match &extra {
            Some(x) => Cow::Owned(x.id.to_string()),
            None => Cow::Owned(format!("h{n}")),
        };
        let mut r = RequestView::new(id, Cow::Borrowed(e.request.url.as_ref()));
        r.time_ms = time_ms;
        r.step = extra.as_ref().map_or(step, |x| x.step);
        r.page_url = match &extra {
            Some(x) => Cow::Owned(x.page_url.to_string()),
            None => Cow::Borrowed(this.page_url.as_str()),
        };
        r.method = Cow::Borrowed(e.request.method.as_ref());
        r.headers = e
            .request
            .headers
            .iter()
            .map(|h| HeaderView {
                name: Cow::Borrowed(h.name.as_ref()),
                value: Cow::Borrowed(h.value.as_ref()),
            })
            .collect();
        if !e.request.cookies.is_empty()
            && !r
                .headers
                .iter()
                .any(|h| h.name.eq_ignore_ascii_case("cookie"))
        {
            r.headers.push(HeaderView {
                name: Cow::Borrowed("Cookie"),
                value: Cow::Owned(
                    e.request
                        .cookies
                        .iter()
                        .map(|c| format!("{}={}", c.name, c.value))
                        .collect::<Vec<_>>()
                        .join("; "),
                ),
            });
        }
        r.body = e.request.post_data.as_ref().map(body_view);
        r.initiator = e
            .initiator
            .map_or(InitiatorView::Missing, InitiatorView::Har);
        r.fate = Cow::Owned(if let Some(x) = &extra {
            x.fate.clone()
        } else if let Some(err) = e
            .error
            .and_then(|raw| serde_json::from_str::<String>(raw.get()).ok())
        {
            Fate::Failed { reason: err }
        } else if e.response.status > 0 {
            Fate::Delivered
        } else {
            Fate::Initiated
        });
        r
    }
}

/// The response headers of an entry, for [`ResponseRef::Headers`]; `None` when no response came
/// (status 0), as [`EntryConverter::convert`] has it.
pub fn response_headers<'v>(e: &'v EntryView<'_>) -> Option<Vec<HeaderView<'v>>> {
    (e.response.status > 0).then(|| {
        e.response
            .headers
            .iter()
            .map(|h| HeaderView {
                name: Cow::Borrowed(h.name.as_ref()),
                value: Cow::Borrowed(h.value.as_ref()),
            })
            .collect()
    })
}

/// A `postData` as a body view: base64 decoded first (the bytes inside may be URL-encoded,
/// gzip, JSON), form parameters joined when there is no text.
fn body_view<'v>(p: &'v PostDataView<'_>) -> BodyView<'v> {
    let owned = |bytes: Vec<u8>| BodyView {
        encoding: BodyEncoding::Base64,
        data: Cow::Borrowed(""),
        size: bytes.len(),
        truncated: false,
        decoded: Some(Cow::Owned(bytes)),
    };
    if p.is_base64() {
        use base64::Engine as _;
        let cleaned: Vec<u8> = p
            .text
            .bytes()
            .filter(|b| !b.is_ascii_whitespace())
            .collect();
        let raw = base64::engine::general_purpose::STANDARD
            .decode(&cleaned)
            .unwrap_or_else(|_| p.text.as_bytes().to_vec());
        owned(raw)
    } else if p.text.is_empty() && !p.params.is_empty() {
        let text = p
            .params
            .iter()
            .map(|nv| format!("{}={}", nv.name, nv.value))
            .collect::<Vec<_>>()
            .join("&");
        owned(text.into_bytes())
    } else {
        BodyView {
            encoding: BodyEncoding::Utf8,
            data: Cow::Borrowed(p.text.as_ref()),
            size: p.text.len(),
            truncated: false,
            decoded: None,
        }
    }
}

fn parse_part<'de, T: Deserialize<'de>>(
    path: &Path,
    bytes: &'de [u8],
    at: std::fmt::Arguments<'_>,
) -> Result<T, HarError> {
    // UTF-8 checked once, not string by string; the path of a bad field is only tracked (which
    // costs) to word the error.
    if let Some(v) = std::str::from_utf8(bytes)
        .ok()
        .and_then(|text| serde_json::from_str(text).ok())
    {
        return Ok(v);
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| HarError::Invalid {
        path: path.to_path_buf(),
        field: if e.path().to_string() == "." {
            at.to_string()
        } else {
            format!("{at}.{}", e.path())
        },
        message: e.inner().to_string(),
    })
}

/// Converts a parsed HAR (see [`read_har`]).
pub fn har_to_records(har: &Har, journey: &mut JourneyInfo) -> Vec<Record> {
    let mut head = HarHead {
        creator: har.log.creator.clone(),
        browser: har.log.browser.clone(),
        pages: har.log.pages.clone(),
        ..Default::default()
    };
    for e in &har.log.entries {
        head.observe(e);
    }
    let mut out = head.prelude(journey);
    let mut conv = head.converter(journey);
    for e in &har.log.entries {
        conv.convert(e, &mut out);
    }
    out.push(conv.end(head.pages.len(), true));
    out
}

fn har_initiator(i: &Initiator) -> Option<HarInitiator> {
    if i.kind.is_empty() && i.url.is_none() && i.stack.is_empty() {
        return None;
    }
    Some(HarInitiator {
        kind: if i.kind.is_empty() {
            "other".into()
        } else {
            i.kind.clone()
        },
        url: i.url.clone(),
        line_number: i.line.map(|l| l.saturating_sub(1)),
        column_number: i.column.map(|c| c.saturating_sub(1)),
        stack: (!i.stack.is_empty()).then(|| HarStack {
            call_frames: i
                .stack
                .iter()
                .map(|f| CallFrame {
                    function_name: f.function.clone(),
                    script_id: String::new(),
                    url: f.url.clone(),
                    line_number: f.line.saturating_sub(1),
                    column_number: f.column.saturating_sub(1),
                })
                .collect(),
            description: None,
            parent: None,
        }),
    })
}

fn name_values(headers: &[Header]) -> Vec<NameValue> {
    headers
        .iter()
        .map(|h| NameValue {
            name: h.name.clone(),
            value: h.value.clone(),
        })
        .collect()
}

fn query_of(url: &str) -> Vec<NameValue> {
    url::Url::parse(url)
        .map(|u| {
            u.query_pairs()
                .map(|(n, v)| NameValue {
                    name: n.into_owned(),
                    value: v.into_owned(),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Writes records as a HAR 1.2 document: one page per `goto` step, one entry per request, one
/// entry per WebSocket with the frames the page sent in `_webSocketMessages`.
pub fn write_har<'r>(
    records: impl Iterator<Item = &'r Record>,
    out: &mut impl Write,
) -> Result<(), HarError> {
    let mut har = HarWriter::new(out)?;
    for record in records {
        har.record(record)?;
    }
    har.finish()?;
    Ok(())
}

/// [`write_har`] one record at a time: request entries are written as they come, so a capture
/// of any size is exported in memory bounded by its pages and WebSockets.
///
/// The document is compact JSON with `entries` before `pages` (key order means nothing in JSON;
/// DevTools and HAR viewers read it either way). WebSocket entries are held until
/// [`HarWriter::finish`], because their frames come later in the capture.
pub struct HarWriter<W: Write> {
    out: W,
    t0: SystemTime,
    browser: Option<Creator>,
    pages: Vec<Page>,
    sockets: Vec<Entry>,
    socket_index: BTreeMap<String, usize>,
    entries: usize,
}

impl<W: Write> HarWriter<W> {
    pub fn new(mut out: W) -> Result<HarWriter<W>, HarError> {
        let creator = Creator {
            name: "leakhound".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        };
        out.write_all(br#"{"log":{"version":"1.2","creator":"#)?;
        serde_json::to_writer(&mut out, &creator)?;
        out.write_all(br#","entries":["#)?;
        Ok(HarWriter {
            out,
            t0: SystemTime::UNIX_EPOCH,
            browser: None,
            pages: Vec::new(),
            sockets: Vec::new(),
            socket_index: BTreeMap::new(),
            entries: 0,
        })
    }

    fn at(&self, ms: f64) -> String {
        // A capture's times are whatever its file says: no panic on NaN, infinity or overflow.
        let offset = Duration::try_from_secs_f64(ms.max(0.0) / 1000.0).unwrap_or_default();
        let t = self.t0.checked_add(offset).unwrap_or(self.t0);
        rfc3339_millis(t)
    }

    fn pageref(&self, step: usize) -> Option<String> {
        (!self.pages.is_empty()).then(|| format!("page_{step}"))
    }

    fn entry(&mut self, entry: &Entry) -> Result<(), HarError> {
        if self.entries > 0 {
            self.out.write_all(b",")?;
        }
        self.out.write_all(b"\n")?;
        serde_json::to_writer(&mut self.out, entry)?;
        self.entries += 1;
        Ok(())
    }

    pub fn record(&mut self, record: &Record) -> Result<(), HarError> {
        match record {
            Record::Header(h) => {
                self.t0 = parse_time(&h.started_at).unwrap_or(SystemTime::UNIX_EPOCH);
                if !h.browser_version.is_empty() {
                    self.browser = Some(Creator {
                        name: "Chromium".into(),
                        version: h.browser_version.clone(),
                    });
                }
            }
            Record::Step(s) => self.pages.push(Page {
                started_date_time: self.at(s.time_ms),
                id: format!("page_{}", s.index),
                title: if s.label.is_empty() {
                    s.action.clone()
                } else {
                    s.label.clone()
                },
                page_timings: PageTimings::default(),
            }),
            Record::Request(r) => {
                let entry = self.request_entry(r);
                self.entry(&entry)?;
            }
            Record::WebSocket(w) => {
                self.socket_index.insert(w.id.clone(), self.sockets.len());
                let entry = Entry {
                    pageref: self.pageref(w.step),
                    started_date_time: self.at(w.time_ms),
                    request: HarRequest {
                        method: "GET".into(),
                        url: w.url.clone(),
                        http_version: "HTTP/1.1".into(),
                        headers: name_values(&w.headers),
                        query_string: query_of(&w.url),
                        headers_size: -1,
                        body_size: 0,
                        ..Default::default()
                    },
                    response: HarResponse {
                        status: 101,
                        status_text: "Switching Protocols".into(),
                        http_version: "HTTP/1.1".into(),
                        headers_size: -1,
                        body_size: -1,
                        ..Default::default()
                    },
                    resource_type: Some("websocket".into()),
                    initiator: har_initiator(&w.initiator),
                    ..Default::default()
                };
                self.sockets.push(entry);
            }
            Record::WsFrame(f) => {
                let Some(&idx) = self.socket_index.get(&f.socket) else {
                    return Ok(());
                };
                let offset =
                    Duration::try_from_secs_f64(f.time_ms.max(0.0) / 1000.0).unwrap_or_default();
                let t = self.t0.checked_add(offset).unwrap_or(self.t0);
                let secs = t
                    .duration_since(SystemTime::UNIX_EPOCH)
                    .map(|d| d.as_secs_f64())
                    .unwrap_or(0.0);
                if let Some(entry) = self.sockets.get_mut(idx) {
                    entry.web_socket_messages.push(WsMessage {
                        kind: "send".into(),
                        time: secs,
                        opcode: f.opcode,
                        data: f.payload.data.clone(),
                    });
                }
            }
            Record::Typed(_) | Record::Snapshot(_) | Record::Dialog(_) | Record::End(_) => {}
        }
        Ok(())
    }

    fn request_entry(&self, r: &RequestRecord) -> Entry {
        let post_data = r.body.as_ref().map(|b| PostData {
            mime_type: r.header("content-type").unwrap_or("").to_string(),
            text: b.data.clone(),
            params: Vec::new(),
            encoding: (b.encoding == BodyEncoding::Base64).then(|| "base64".into()),
            std_encoding: None,
        });
        let resp = r.response.clone().unwrap_or_default();
        let mime = resp
            .headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case("content-type"))
            .map(|h| h.value.clone())
            .unwrap_or_default();
        Entry {
            pageref: self.pageref(r.step),
            started_date_time: self.at(r.time_ms),
            time: 0.0,
            request: HarRequest {
                method: r.method.clone(),
                url: r.url.clone(),
                http_version: "HTTP/1.1".into(),
                cookies: Vec::new(),
                headers: name_values(&r.headers),
                query_string: query_of(&r.url),
                body_size: r.body.as_ref().map_or(0, |b| b.size as i64),
                post_data,
                headers_size: -1,
            },
            response: HarResponse {
                status: i64::from(resp.status),
                status_text: String::new(),
                http_version: "HTTP/1.1".into(),
                cookies: Vec::new(),
                headers: name_values(&resp.headers),
                content: Content {
                    size: 0,
                    mime_type: mime,
                },
                redirect_url: String::new(),
                headers_size: -1,
                body_size: -1,
            },
            cache: Default::default(),
            timings: Timings::default(),
            server_ip_address: resp.remote_address.clone(),
            resource_type: Some(r.resource_type.to_ascii_lowercase()),
            initiator: har_initiator(&r.initiator),
            web_socket_messages: Vec::new(),
            error: match &r.fate {
                Fate::Failed { reason } => Some(reason.clone()),
                _ => None,
            },
            leakhound: Some(LeakhoundExtra {
                id: r.id.clone(),
                step: r.step,
                page_url: r.page_url.clone(),
                fate: r.fate.clone(),
                beacon: r.beacon,
            }),
        }
    }

    /// Writes the WebSocket entries, the pages and the browser, closes the document and returns
    /// the writer.
    pub fn finish(mut self) -> Result<W, HarError> {
        for socket in std::mem::take(&mut self.sockets) {
            self.entry(&socket)?;
        }
        self.out.write_all(b"\n],\"pages\":")?;
        serde_json::to_writer(&mut self.out, &self.pages)?;
        if let Some(browser) = &self.browser {
            self.out.write_all(br#","browser":"#)?;
            serde_json::to_writer(&mut self.out, browser)?;
        }
        self.out.write_all(b"}}\n")?;
        self.out.flush()?;
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {

    /// Found by fuzzing (`fuzz/fuzz_targets/har.rs`): an entry dated in the year 50 made
    /// `humantime` panic when the header time was written.
    #[test]
    fn dates_before_1970_or_after_9999_are_no_times_and_never_panic() {
        assert!(parse_time("0050-12-02T10:00:01.000-05:00").is_none());
        assert!(parse_time("1969-12-31T23:59:59Z").is_none());
        assert!(parse_time("9999-12-31T23:59:59Z").is_some());
        assert!(parse_time("2026-12-02T10:00:01.000-05:00").is_some());
        let har = br#"{"log":{"version":"1.2","creator":{"name":"x","version":"1"},
            "pages":[{"startedDateTime":"2026-12-02T10:00:00.00+Z","id":"page_1#","title":"M","pageTimings":{}}],
            "entries":[{"pageref":"page_2","startedDateTime":"0050-12-02T10:00:01.000-05:00","time":12,
            "request":{"method":"GET","url":"https://t.test/","httpVersion":"HTTP/1.1","cookies":[],"headers":[],"queryString":[],"headersSize":-1,"bodySize":0},
            "response":{"status":200,"statusText":"","httpVersion":"HTTP/1.1","cookies":[],"headers":[],"content":{"size":0,"mimeType":"x"},"redirectURL":"","headersSize":-1,"bodySize":0},
            "cache":{},"timings":{"send":1,"wait":1,"receive":1}}]}}"#;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.har");
        std::fs::write(&path, har).unwrap();
        let _ = read_har(&path, JourneyInfo::default());
        let crash = include_bytes!("../../../../fuzz/corpus/har/crash-year-50.har");
        std::fs::write(&path, crash).unwrap();
        let _ = read_har(&path, JourneyInfo::default());
    }

    use super::*;
    use serde_json::json;

    /// `har` read back through a file, as `leakhound analyze` reads one.
    fn import(har: &[u8]) -> Vec<Record> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in.har");
        std::fs::write(&path, har).unwrap();
        read_har(&path, JourneyInfo::default()).unwrap()
    }

    fn classify(records: &[Record]) -> crate::classify::Analysis {
        let opts = crate::classify::ClassifyOptions {
            signatures: crate::classify::Signatures::bundled().unwrap(),
            ..Default::default()
        };
        crate::classify::analyze_records(records, &opts).unwrap().1
    }

    fn requests_of(records: &[Record]) -> Vec<&RequestRecord> {
        records
            .iter()
            .filter_map(|r| match r {
                Record::Request(r) => Some(r.as_ref()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn times_with_any_offset_are_one_timeline() {
        let utc = parse_time("2024-05-01T10:00:00.500Z").unwrap();
        assert_eq!(parse_time("2024-05-01T12:00:00.500+02:00"), Some(utc));
        assert_eq!(
            parse_time("2024-05-01T05:00:01.500-05:00"),
            Some(utc + Duration::from_secs(1))
        );
        assert_eq!(parse_time("2024-05-01T10:00:00.500"), Some(utc));
        assert_eq!(parse_time("yesterday"), None);
    }

    fn sample() -> Vec<Record> {
        vec![
            Record::Header(CaptureHeader {
                format: CAPTURE_FORMAT_NAME.into(),
                version: CAPTURE_FORMAT_VERSION,
                tool_version: "t".into(),
                browser_version: "Chrome/1".into(),
                started_at: "2024-05-01T10:00:00Z".into(),
                certificate_errors_ignored: false,
                journey: JourneyInfo {
                    name: "j".into(),
                    start_url: "https://www.mercy.test/".into(),
                    ..Default::default()
                },
            }),
            Record::Step(StepRecord {
                index: 0,
                action: "goto".into(),
                label: "open home".into(),
                time_ms: 0.0,
            }),
            Record::Request(Box::new(RequestRecord {
                id: "r1".into(),
                time_ms: 120.5,
                step: 0,
                page_url: "https://www.mercy.test/symptoms".into(),
                frame_url: "https://www.mercy.test/symptoms".into(),
                resource_type: "Ping".into(),
                method: "POST".into(),
                url: "https://t.tracker.test/collect?a=1".into(),
                headers: vec![Header {
                    name: "Content-Type".into(),
                    value: "text/plain".into(),
                }],
                body: Some(Body::from_bytes(b"{\"u\":\"/symptoms\"}", 1000)),
                initiator: Initiator {
                    kind: "script".into(),
                    url: Some("https://t.tracker.test/t.js".into()),
                    line: Some(3),
                    column: Some(9),
                    stack: vec![StackFrame {
                        function: "send".into(),
                        url: "https://t.tracker.test/t.js".into(),
                        line: 3,
                        column: 9,
                        async_boundary: None,
                    }],
                },
                response: Some(ResponseInfo {
                    status: 204,
                    ..Default::default()
                }),
                fate: Fate::Delivered,
                ..Default::default()
            })),
            Record::Request(Box::new(RequestRecord {
                id: "r2".into(),
                time_ms: 130.0,
                resource_type: "Image".into(),
                method: "GET".into(),
                url: "https://px.tracker.test/p.gif".into(),
                body: Some(Body::from_bytes(&[0xff, 0x00, 0x10], 1000)),
                fate: Fate::Initiated,
                ..Default::default()
            })),
            Record::WebSocket(WebSocketRecord {
                id: "w1".into(),
                url: "wss://ws.replay.test/s".into(),
                ..Default::default()
            }),
            Record::WsFrame(WsFrameRecord {
                id: "w1#0".into(),
                socket: "w1".into(),
                time_ms: 200.0,
                url: "wss://ws.replay.test/s".into(),
                opcode: 1,
                payload: Body::from_bytes(b"{\"dom\":\"hello\"}", 1000),
                ..Default::default()
            }),
        ]
    }

    #[test]
    fn export_is_har_1_2_and_round_trips() {
        let records = sample();
        let mut out = Vec::new();
        write_har(records.iter(), &mut out).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["log"]["version"], "1.2");
        let e0 = &v["log"]["entries"][0];
        // Fields Chrome's importer needs.
        for f in [
            "startedDateTime",
            "time",
            "request",
            "response",
            "cache",
            "timings",
        ] {
            assert!(!e0[f].is_null(), "missing {f}");
        }
        assert_eq!(e0["startedDateTime"], "2024-05-01T10:00:00.120Z");
        assert_eq!(e0["request"]["queryString"][0]["name"], "a");
        assert_eq!(e0["_initiator"]["stack"]["callFrames"][0]["lineNumber"], 2);
        assert_eq!(
            v["log"]["entries"][2]["_webSocketMessages"][0]["type"],
            "send"
        );

        let back = import(&out);
        let reqs = requests_of(&back);
        assert_eq!(reqs.len(), 2);
        assert_eq!(reqs[0].id, "r1");
        assert_eq!(reqs[0].body.as_ref().unwrap().data, "{\"u\":\"/symptoms\"}");
        assert_eq!(reqs[0].initiator.stack[0].line, 3);
        assert_eq!(reqs[0].fate, Fate::Delivered);
        assert!((reqs[0].time_ms - 120.0).abs() < 1.0);
        assert_eq!(
            reqs[1].body.as_ref().unwrap().bytes(),
            vec![0xff, 0x00, 0x10]
        );
        assert_eq!(reqs[1].fate, Fate::Initiated);
        let frames = back
            .iter()
            .filter(|r| matches!(r, Record::WsFrame(_)))
            .count();
        assert_eq!(frames, 1);
    }

    #[test]
    fn chrome_style_har_import_infers_first_party() {
        let har = r#"{"log": {"version": "1.2", "creator": {"name": "WebInspector", "version": "537.36"},
          "pages": [{"startedDateTime": "2024-05-01T10:00:00.000Z", "id": "page_1", "title": "https://www.mercy.test/symptoms/chest-pain", "pageTimings": {}}],
          "entries": [
            {"pageref": "page_1", "startedDateTime": "2024-05-01T10:00:00.000Z", "time": 5,
             "_resourceType": "document",
             "request": {"method": "GET", "url": "https://www.mercy.test/symptoms/chest-pain", "httpVersion": "h2", "headers": [], "queryString": [], "cookies": [], "headersSize": -1, "bodySize": 0},
             "response": {"status": 200, "statusText": "", "httpVersion": "h2", "headers": [], "cookies": [], "content": {"size": 1, "mimeType": "text/html"}, "redirectURL": "", "headersSize": -1, "bodySize": -1},
             "cache": {}, "timings": {"send": 0, "wait": 1, "receive": 1}},
            {"pageref": "page_1", "startedDateTime": "2024-05-01T10:00:01.000Z", "time": 5,
             "_resourceType": "image",
             "_initiator": {"type": "script", "stack": {"callFrames": [{"functionName": "f", "scriptId": "1", "url": "https://connect.facebook.net/en_US/fbevents.js", "lineNumber": 0, "columnNumber": 10}]}},
             "request": {"method": "GET", "url": "https://www.facebook.com/tr/?id=1&ev=PageView&dl=https%3A%2F%2Fwww.mercy.test%2Fsymptoms%2Fchest-pain", "headers": [], "cookies": [{"name": "fr", "value": "x"}]},
             "response": {"status": 0}, "_error": "net::ERR_BLOCKED_BY_CLIENT"}
          ]}}"#;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.har");
        std::fs::write(&path, har).unwrap();
        let recs = read_har(&path, JourneyInfo::default()).unwrap();
        let Record::Header(h) = &recs[0] else {
            panic!("header first")
        };
        assert_eq!(
            h.journey.start_url,
            "https://www.mercy.test/symptoms/chest-pain"
        );
        // The import ends with a complete-run `end` record; the tracker request is before it.
        assert!(matches!(
            recs.last(),
            Some(Record::End(e)) if e.status == RunStatus::Complete && e.requests == 2
        ));
        let Some(Record::Request(fb)) = recs.iter().rev().find(|r| matches!(r, Record::Request(_)))
        else {
            panic!()
        };
        assert!(matches!(fb.fate, Fate::Failed { .. }));
        assert_eq!(fb.header("cookie"), Some("fr=x"));
        assert_eq!(
            fb.initiator.url.as_deref(),
            Some("https://connect.facebook.net/en_US/fbevents.js")
        );
        assert_eq!(fb.page_url, "https://www.mercy.test/symptoms/chest-pain");
        let analysis = classify(&recs);
        let f = analysis
            .findings
            .iter()
            .find(|f| f.canary == "page:/symptoms/chest-pain")
            .expect("path leak found");
        assert_eq!(f.channel, "query:dl");
        assert_eq!(f.vendor.as_deref(), Some("meta_pixel"));
        assert_eq!(analysis.groups[0].initiated_only, 1);
    }

    /// Firefox's export: local time offsets, `HTTP/2`, `postData.params`, `_securityState`, no
    /// `_resourceType` or `_initiator`; a form POST typed into a search box leaks the term.
    #[test]
    fn firefox_style_har_import() {
        let har = r#"{"log": {"version": "1.2", "creator": {"name": "Firefox", "version": "128.0"},
          "browser": {"name": "Firefox", "version": "128.0"},
          "pages": [{"startedDateTime": "2024-05-01T06:00:00.000-04:00", "id": "page_1", "title": "Chest pain | Mercy", "pageTimings": {"onContentLoad": 120, "onLoad": 300}}],
          "entries": [
            {"pageref": "page_1", "startedDateTime": "2024-05-01T06:00:00.000-04:00",
             "request": {"bodySize": 0, "method": "GET", "url": "https://www.mercy.test/search?q=chest+pain", "httpVersion": "HTTP/2",
               "headers": [{"name": "Host", "value": "www.mercy.test"}, {"name": "Accept", "value": "text/html"}],
               "cookies": [], "queryString": [{"name": "q", "value": "chest+pain"}], "headersSize": 412},
             "response": {"status": 200, "statusText": "OK", "httpVersion": "HTTP/2", "headers": [{"name": "content-type", "value": "text/html; charset=utf-8"}],
               "cookies": [], "content": {"mimeType": "text/html; charset=utf-8", "size": 5120, "text": "<!doctype html>"}, "redirectURL": "", "headersSize": 220, "bodySize": 1800},
             "cache": {}, "timings": {"blocked": 0, "dns": 0, "connect": 0, "ssl": 0, "send": 0, "wait": 20, "receive": 1}, "time": 21,
             "_securityState": "secure", "serverIPAddress": "192.0.2.10", "connection": "443"},
            {"pageref": "page_1", "startedDateTime": "2024-05-01T06:00:02.250-04:00",
             "request": {"bodySize": 61, "method": "POST", "url": "https://region1.google-analytics.com/g/collect?v=2&tid=G-ABC", "httpVersion": "HTTP/2",
               "headers": [{"name": "Content-Type", "value": "text/plain;charset=UTF-8"}, {"name": "Referer", "value": "https://www.mercy.test/"}],
               "cookies": [], "queryString": [{"name": "v", "value": "2"}], "headersSize": 600,
               "postData": {"mimeType": "text/plain;charset=UTF-8", "params": [], "text": "en=view_search_results&ep.search_term=chest%20pain"}},
             "response": {"status": 204, "statusText": "No Content", "httpVersion": "HTTP/2", "headers": [], "cookies": [],
               "content": {"mimeType": "text/plain", "size": 0}, "redirectURL": "", "headersSize": 100, "bodySize": 0},
             "cache": {}, "timings": {"blocked": 0, "dns": 0, "connect": 0, "ssl": 0, "send": 0, "wait": 30, "receive": 0}, "time": 30,
             "_securityState": "secure"}
          ]}}"#;
        let recs = import(har.as_bytes());
        let requests = requests_of(&recs);
        assert_eq!(requests.len(), 2);
        // The offset is honoured: 2.25 s apart on one timeline.
        assert!((requests[1].time_ms - requests[0].time_ms - 2250.0).abs() < 1.0);
        assert_eq!(
            requests[0].url,
            "https://www.mercy.test/search?q=chest+pain"
        );
        let analysis = classify(&recs);
        let f = analysis
            .findings
            .iter()
            .find(|f| f.kind == crate::classify::DataKind::SearchTerm)
            .expect("search term found");
        assert_eq!(f.domain, "google-analytics.com");
        assert_eq!(f.channel, "body:form:ep.search_term");
    }

    /// The streamed reader sees exactly the entries, pages and creator a whole parse sees, with
    /// brackets, braces, quotes and escapes inside strings, pages after entries, a BOM, and
    /// entries split across read chunks; a cut-off file hands out every entry before the cut.
    #[test]
    fn streamed_reading_matches_whole_parse_and_detects_cut_off() {
        let tricky = "a \\\" ] } [ { , \\u005d \u{e9}";
        let mut entries = Vec::new();
        for i in 0..300 {
            entries.push(json!({
                "pageref": "p1",
                "startedDateTime": "2024-05-01T10:00:00.000Z",
                "request": {"method": "POST", "url": format!("https://t.test/{i}?x={tricky}"),
                            "headers": [{"name": "X", "value": tricky}],
                            "postData": {"text": "y".repeat(i * 37)}},
                "response": {"status": 200, "content": {"mimeType": "text/html"}},
                "_initiator": if i % 2 == 0 { json!("https://s.test/a.js") } else { json!({"type": "parser"}) }
            }));
        }
        let har = json!({"log": {"version": "1.2", "creator": {"name": "x{[\"", "version": "1"},
            "entries": entries,
            "pages": [{"id": "p1", "title": "T ]}", "startedDateTime": "2024-05-01T10:00:00.000Z"}]}});
        let mut text = b"\xEF\xBB\xBF".to_vec();
        text.extend(serde_json::to_vec_pretty(&har).unwrap());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.har");
        std::fs::write(&path, &text).unwrap();
        let whole = read_har(&path, JourneyInfo::default()).unwrap();
        let (head, end) = har_head(&path).unwrap();
        assert_eq!(end, HarEnd::Complete);
        assert_eq!(head.entries, 300);
        assert_eq!(head.creator.name, "x{[\"");
        assert_eq!(head.pages[0].title, "T ]}");
        let mut journey = JourneyInfo::default();
        let mut streamed = head.prelude(&mut journey);
        let mut conv = head.converter(&journey);
        for_each_entry(&path, |e| conv.convert(e, &mut streamed)).unwrap();
        streamed.push(conv.end(head.pages.len(), true));
        assert_eq!(
            serde_json::to_value(&streamed).unwrap(),
            serde_json::to_value(&whole).unwrap()
        );

        // Cut off in the middle of an entry: the entries before it, and `CutOff`.
        let cut = &text[..text.len() * 2 / 3];
        std::fs::write(&path, cut).unwrap();
        let (head, end) = har_head(&path).unwrap();
        assert_eq!(end, HarEnd::CutOff);
        assert!(head.entries > 100 && head.entries < 300, "{}", head.entries);
        // Not a HAR at all is an error, not a cut-off HAR.
        std::fs::write(&path, b"hello").unwrap();
        assert!(har_head(&path).is_err());
    }

    #[test]
    fn bad_har_names_field() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.har");
        std::fs::write(&path, r#"{"log": {"entries": [{"time": "soon"}]}}"#).unwrap();
        let err = read_har(&path, JourneyInfo::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("log.entries[0].time"), "{err}");
    }
}
