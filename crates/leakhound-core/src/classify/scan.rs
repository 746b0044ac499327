//! Opens every channel of a request and searches each value, decoding what looks encoded.
//!
//! Channels: URL path (and `;` matrix parameters), query names and values, fragment, every header
//! (Cookie split per cookie), and the body as form, JSON, newline-delimited JSON, multipart or text,
//! after gzip/zlib/deflate/brotli. Each value is searched as is, then decoded up to
//! [`MAX_LAYERS`] times (percent, base64, hex, JSON, compression, HTML entities), each layer only
//! tried when the value looks like it.

use std::collections::{HashMap, HashSet};

use crate::capture::record::Header;
use crate::classify::canary::CanarySet;
use crate::classify::decode;
use crate::classify::matcher::Hit;
use crate::classify::patterns::{self, PatternKind, PatternMatch};

/// How many decoding layers deep values are followed.
pub const MAX_LAYERS: usize = 3;
/// Characters of context on each side of a value in an evidence excerpt.
const CONTEXT: usize = 40;
/// The mask written over secrets.
pub const MASK: &str = "••••••";

/// One canary found in one channel of one request.
#[derive(Debug, Clone, PartialEq)]
pub struct ScanHit {
    pub canary: usize,
    pub channel: String,
    pub encoding: Vec<String>,
    pub evidence: String,
}

/// A value recognised by its form (see [`crate::classify::patterns`]), in one channel.
#[derive(Debug, Clone, PartialEq)]
pub struct PatternHit {
    pub kind: PatternKind,
    /// The value as found (SSNs and cards: as reports may show them, masked).
    pub value: String,
    pub channel: String,
    pub encoding: Vec<String>,
    pub evidence: String,
}

/// A channel label built only when something is found: `prefix` or `prefix:path`.
#[derive(Clone, Copy)]
struct Chan<'a> {
    prefix: &'a str,
    path: &'a str,
}

impl Chan<'_> {
    fn render(&self) -> String {
        if self.path.is_empty() {
            self.prefix.to_string()
        } else {
            format!("{}:{}", self.prefix, self.path)
        }
    }
}

/// Searches the channels of one request (or frame) at a time.
pub struct Scanner<'c> {
    set: &'c CanarySet,
    hits: Vec<ScanHit>,
    seen: HashMap<(usize, String), usize>,
    buf: Vec<Hit>,
    chain: Vec<&'static str>,
    inflater: decode::Inflater,
    /// Matches accepted so far (before de-duplication): tells whether a search found anything.
    found: usize,
    quiet: QuietHeaders,
    /// Values recognised by their form since the last [`Scanner::take_patterns`], one per
    /// kind × value × channel (the least encoded).
    pattern_hits: Vec<PatternHit>,
    pattern_seen: HashMap<(PatternKind, String, String), usize>,
    pattern_buf: Vec<PatternMatch>,
    /// Whether the request's vendor names a date-of-birth / member-id parameter: only then
    /// are whole values checked for those shapes (see [`Scanner::expect_named`]).
    named: (bool, bool),
}

/// Headers (name → values) already searched and found to hold no canary, up to a byte budget.
#[derive(Default)]
struct QuietHeaders {
    by_name: HashMap<String, HashSet<String>>,
    bytes: usize,
}

impl QuietHeaders {
    /// Values kept at most, in bytes; the set starts over when it is full.
    const BUDGET: usize = 1 << 20;

    fn contains(&self, name: &str, value: &str) -> bool {
        self.by_name
            .get(name)
            .is_some_and(|values| values.contains(value))
    }

    fn insert(&mut self, name: &str, value: &str) {
        if self.bytes + name.len() + value.len() > Self::BUDGET {
            self.by_name.clear();
            self.bytes = 0;
        }
        self.bytes += name.len() + value.len();
        match self.by_name.get_mut(name) {
            Some(values) => {
                values.insert(value.to_string());
            }
            None => {
                self.by_name
                    .insert(name.to_string(), HashSet::from([value.to_string()]));
            }
        }
    }
}

impl<'c> Scanner<'c> {
    pub fn new(set: &'c CanarySet) -> Scanner<'c> {
        Scanner {
            set,
            hits: Vec::new(),
            seen: HashMap::new(),
            buf: Vec::new(),
            chain: Vec::new(),
            inflater: decode::Inflater::default(),
            found: 0,
            quiet: QuietHeaders::default(),
            pattern_hits: Vec::new(),
            pattern_seen: HashMap::new(),
            pattern_buf: Vec::new(),
            named: (false, false),
        }
    }

    /// The hits since the last call, one per canary × channel (the least encoded one).
    pub fn take(&mut self) -> Vec<ScanHit> {
        self.seen.clear();
        std::mem::take(&mut self.hits)
    }

    /// The values recognised by their form since the last call. Also forgets what
    /// [`Scanner::expect_named`] said.
    pub fn take_patterns(&mut self) -> Vec<PatternHit> {
        self.pattern_seen.clear();
        self.named = (false, false);
        std::mem::take(&mut self.pattern_hits)
    }

    /// Until the next [`Scanner::take_patterns`]: whether the request's vendor has a parameter
    /// meaning a date of birth, and one meaning a member id. Whole values are then also checked
    /// for those shapes (and count only in those parameters).
    pub fn expect_named(&mut self, date_of_birth: bool, member_id: bool) {
        self.named = (date_of_birth, member_id);
    }

    /// Looks for personal data by its form in one searched value (see [`patterns`]).
    fn search_patterns(&mut self, data: &[u8], chan: Chan<'_>) {
        let param = chan
            .path
            .rsplit([':', '.'])
            .next()
            .filter(|p| !p.is_empty())
            .unwrap_or(chan.prefix);
        let mut buf = std::mem::take(&mut self.pattern_buf);
        buf.clear();
        patterns::find(data, param, &mut buf);
        // Whole values that only count in a parameter whose signature names them (the
        // engine checks the meaning): hashes, dates of birth, member ids.
        let whole = [
            (
                patterns::looks_like_hash(data),
                PatternKind::HashedIdentifier,
            ),
            (
                patterns::looks_like_date_of_birth(data),
                PatternKind::DateOfBirth,
            ),
            (patterns::looks_like_member_id(data), PatternKind::MemberId),
        ];
        for (_, kind) in whole.into_iter().filter(|(yes, _)| *yes) {
            let t = data.trim_ascii();
            let start = data.len() - data.trim_ascii_start().len();
            buf.push(PatternMatch {
                kind,
                start,
                end: start + t.len(),
            });
        }
        if buf.is_empty() {
            self.pattern_buf = buf;
            return;
        }
        let channel = chan.render();
        for m in &buf {
            let Some(raw) = data.get(m.start..m.end) else {
                continue;
            };
            let text = String::from_utf8_lossy(raw).into_owned();
            let value = patterns::display(m.kind, &text);
            let depth = self.chain.len();
            let key = (m.kind, value.clone(), channel.clone());
            let existing = self.pattern_seen.get(&key).copied();
            if existing.is_some_and(|i| self.pattern_hits[i].encoding.len() <= depth) {
                continue;
            }
            let hit = Hit {
                canary: usize::MAX,
                labels: 0,
                start: m.start,
                end: m.end,
            };
            let mut evidence = excerpt(data, &hit, self.set);
            if m.kind.masked() {
                evidence = evidence.replace(&text, &value);
            }
            let found = PatternHit {
                kind: m.kind,
                value,
                channel: channel.clone(),
                encoding: self.chain.iter().map(|s| s.to_string()).collect(),
                evidence,
            };
            match existing {
                Some(i) => self.pattern_hits[i] = found,
                None => {
                    self.pattern_seen.insert(key, self.pattern_hits.len());
                    self.pattern_hits.push(found);
                }
            }
        }
        self.pattern_buf = buf;
    }

    /// URL: path segments, matrix parameters, query, fragment.
    ///
    /// In the `path` channel, a page path that starts the request's own path is ignored: a tracker
    /// endpoint that happens to be named like a page (`/search`) is not a leak.
    pub fn scan_url(&mut self, url: &str) {
        let after_scheme = url.find("://").map_or(0, |i| i + 3);
        let rest = &url[after_scheme..];
        let path_start = rest.find(['/', '?', '#']).map_or(rest.len(), |i| i);
        let rest = &rest[path_start..];
        let (before_frag, fragment) = match rest.split_once('#') {
            Some((a, f)) => (a, Some(f)),
            None => (rest, None),
        };
        let (path, query) = match before_frag.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (before_frag, None),
        };
        let mut segments = path.split(';');
        let bare = segments.next().unwrap_or("");
        self.scan_value_skip_prefix(
            bare.as_bytes(),
            Chan {
                prefix: "path",
                path: "",
            },
        );
        for param in segments {
            let (name, value) = param.split_once('=').unwrap_or((param, ""));
            let name =
                String::from_utf8_lossy(&decode::percent_decode(name.as_bytes())).into_owned();
            self.scan_value(
                value.as_bytes(),
                Chan {
                    prefix: "matrix",
                    path: &name,
                },
                0,
            );
        }
        if let Some(q) = query {
            self.scan_form(q.as_bytes(), "query", 0);
        }
        if let Some(f) = fragment {
            if f.contains('=') {
                self.scan_form(f.as_bytes(), "fragment", 0);
            } else {
                self.scan_value(
                    f.as_bytes(),
                    Chan {
                        prefix: "fragment",
                        path: "",
                    },
                    0,
                );
            }
        }
    }

    /// Every header; `Cookie` split into its cookies.
    pub fn scan_headers(&mut self, headers: &[Header]) {
        for h in headers {
            self.scan_header(&h.name, &h.value);
        }
    }

    /// One header (see [`Scanner::scan_headers`]).
    ///
    /// Headers repeat from request to request (`Cookie`, `Accept`, `Referer`): one found to hold
    /// nothing is remembered and not searched again.
    pub fn scan_header(&mut self, name: &str, value: &str) {
        if self.quiet.contains(name, value) {
            return;
        }
        let found_before = self.found;
        self.scan_header_uncached(name, value);
        if self.found == found_before {
            self.quiet.insert(name, value);
        }
    }

    fn scan_header_uncached(&mut self, name: &str, value: &str) {
        let h = HeaderRef { name, value };
        {
            if h.name.eq_ignore_ascii_case("cookie") {
                for pair in h.value.split(';') {
                    let pair = pair.trim();
                    let (name, value) = pair.split_once('=').unwrap_or(("", pair));
                    self.scan_value(
                        value.as_bytes(),
                        Chan {
                            prefix: "cookie",
                            path: name,
                        },
                        0,
                    );
                }
            } else if !browser_only_header(h.name) {
                let name = if h.name.bytes().any(|b| b.is_ascii_uppercase()) {
                    std::borrow::Cow::Owned(h.name.to_ascii_lowercase())
                } else {
                    std::borrow::Cow::Borrowed(h.name)
                };
                self.scan_value(
                    h.value.as_bytes(),
                    Chan {
                        prefix: "header",
                        path: &name,
                    },
                    0,
                );
            }
        }
    }

    /// A body or frame payload. `base` is `body` or `ws-frame`.
    pub fn scan_body(
        &mut self,
        data: &[u8],
        content_type: Option<&str>,
        content_encoding: Option<&str>,
        base: &str,
    ) {
        self.scan_body_at(data, content_type, content_encoding, base, 0);
    }

    fn scan_body_at(
        &mut self,
        data: &[u8],
        content_type: Option<&str>,
        content_encoding: Option<&str>,
        base: &str,
        depth: usize,
    ) {
        if depth > MAX_LAYERS || data.is_empty() {
            return;
        }
        let ctype = content_type.unwrap_or("").to_ascii_lowercase();
        // Compression: flagged by a header (brotli, deflate, Clarity's Accept flag) or sniffed.
        let flagged = content_encoding.map(str::to_ascii_lowercase).and_then(|e| {
            if e.contains("br") {
                Some("br")
            } else if e.contains("gzip") {
                Some("gzip")
            } else if e.contains("deflate") {
                Some("deflate")
            } else {
                None
            }
        });
        if let Some(kind) = flagged.or_else(|| decode::sniff_compressed(data)) {
            if let Some(inflated) = self.inflater.inflate(data, kind) {
                self.chain.push(kind);
                self.scan_body_at(&inflated, content_type, None, base, depth + 1);
                self.chain.pop();
                return;
            }
        }
        if let Some(boundary) = multipart_boundary(&ctype, content_type.unwrap_or("")) {
            self.scan_multipart(data, &boundary, base, depth);
            return;
        }
        let trimmed = data.trim_ascii();
        if matches!(trimmed.first(), Some(b'{' | b'[')) {
            let prefix = format!("{base}:json");
            if self.walk_json(trimmed, &prefix, &mut String::new(), depth) {
                return;
            }
            // Newline-delimited JSON: every line its own document.
            let prefix = format!("{base}:ndjson");
            let mut any = false;
            for (i, line) in trimmed.split(|&b| b == b'\n').enumerate() {
                let line = line.trim_ascii();
                if line.is_empty() {
                    continue;
                }
                if self.walk_json(line, &prefix, &mut i.to_string(), depth) {
                    any = true;
                } else {
                    self.scan_value(
                        line,
                        Chan {
                            prefix: &prefix,
                            path: &i.to_string(),
                        },
                        depth,
                    );
                }
            }
            if any {
                return;
            }
        }
        let text_like = std::str::from_utf8(trimmed).is_ok();
        if text_like && (ctype.contains("x-www-form-urlencoded") || looks_like_form(trimmed)) {
            let prefix = format!("{base}:form");
            for line in trimmed.split(|&b| b == b'\n') {
                self.scan_form(line.trim_ascii(), &prefix, depth);
            }
            return;
        }
        if !text_like && !decode::is_textual(trimmed) {
            // Binary without a known container: try raw deflate (Datadog replay segments).
            if let Some(inflated) = self
                .inflater
                .inflate(data, "deflate")
                .filter(|d| decode::is_textual(d))
            {
                self.chain.push("deflate");
                self.scan_body_at(&inflated, content_type, None, base, depth + 1);
                self.chain.pop();
                return;
            }
        }
        let prefix = format!("{base}:text");
        self.scan_value(
            trimmed,
            Chan {
                prefix: &prefix,
                path: "",
            },
            depth,
        );
    }

    fn scan_multipart(&mut self, data: &[u8], boundary: &str, base: &str, depth: usize) {
        let delim = format!("--{boundary}");
        let finder = memchr::memmem::Finder::new(delim.as_bytes());
        let starts: Vec<usize> = finder.find_iter(data).collect();
        for w in starts.windows(2) {
            let part = &data[w[0] + delim.len()..w[1]];
            let part = part
                .strip_prefix(b"\r\n")
                .or_else(|| part.strip_prefix(b"\n"))
                .unwrap_or(part);
            let part = part
                .strip_suffix(b"\r\n")
                .or_else(|| part.strip_suffix(b"\n"))
                .unwrap_or(part);
            let split = memchr::memmem::find(part, b"\r\n\r\n")
                .map(|i| (i, 4))
                .or_else(|| memchr::memmem::find(part, b"\n\n").map(|i| (i, 2)));
            let Some((head_end, sep)) = split else {
                continue;
            };
            let head = String::from_utf8_lossy(&part[..head_end]);
            let body = &part[head_end + sep..];
            let mut name = String::from("part");
            let mut part_type = None;
            let mut part_enc = None;
            for line in head.lines() {
                let lower = line.to_ascii_lowercase();
                if lower.starts_with("content-disposition") {
                    if let Some(pos) = lower.find("name=\"") {
                        let rest = &line[pos + 6..];
                        name = rest.split('"').next().unwrap_or("part").to_string();
                    }
                } else if let Some(v) = lower.strip_prefix("content-type:") {
                    part_type = Some(v.trim().to_string());
                } else if let Some(v) = lower.strip_prefix("content-encoding:") {
                    part_enc = Some(v.trim().to_string());
                }
            }
            let prefix = format!("{base}:multipart:{name}");
            self.scan_body_at(
                body,
                part_type.as_deref(),
                part_enc.as_deref(),
                &prefix,
                depth,
            );
        }
    }

    /// `a=b&c=d`: each value in channel `prefix:name`; names are searched too.
    fn scan_form(&mut self, data: &[u8], prefix: &str, depth: usize) {
        for pair in data.split(|&b| b == b'&') {
            if pair.is_empty() {
                continue;
            }
            let (name, value) = match memchr::memchr(b'=', pair) {
                Some(i) => (&pair[..i], &pair[i + 1..]),
                None => (pair, &b""[..]),
            };
            let decoded;
            let name_text = if decode::looks_percent(name) {
                decoded = decode::percent_decode(name);
                String::from_utf8_lossy(&decoded)
            } else {
                String::from_utf8_lossy(name)
            };
            let chan = Chan {
                prefix,
                path: &name_text,
            };
            if name.len() >= 4 {
                self.scan_value(name, chan, depth);
            }
            self.scan_value(value, chan, depth);
        }
    }

    /// Searches every string (and long number) of the JSON document `data`, each in channel
    /// `prefix:path.to.field`, in document order. `false`, with nothing searched, when `data` is
    /// not one well-formed JSON document.
    ///
    /// The document is checked first and then walked by a visitor, without building a tree:
    /// JSON bodies are a large share of tracker traffic, and a `serde_json::Value` per body was
    /// a large share of the classifier's allocations.
    fn walk_json(&mut self, data: &[u8], prefix: &str, path: &mut String, depth: usize) -> bool {
        if serde_json::from_slice::<serde::de::IgnoredAny>(data).is_err() {
            return false;
        }
        let mut de = serde_json::Deserializer::from_slice(data);
        let walk = JsonWalk {
            scanner: self,
            prefix,
            path,
            depth,
        };
        // Checked above: a failure here could only be a nesting limit, already hit above too.
        serde::de::DeserializeSeed::deserialize(walk, &mut de).is_ok()
    }

    fn scan_value_skip_prefix(&mut self, data: &[u8], chan: Chan<'_>) {
        // Matches at offset 0 of the request's own path are its endpoint, not a leak.
        self.search(data, chan, |hit, kind| {
            !(hit.start == 0 && kind == crate::classify::finding::DataKind::UrlPath)
        });
        self.decode_layers(data, chan, 0);
    }

    /// Searches `data`, then whatever it decodes to.
    ///
    /// A value that is a JSON object or array (a query parameter, a decoded base64 layer) is
    /// searched as JSON only, field by field, as a JSON body is: searching its raw text too would
    /// report every value inside it twice, once under the parameter and once under its field.
    fn scan_value(&mut self, data: &[u8], chan: Chan<'_>, depth: usize) {
        if data.len() < 4 {
            return;
        }
        if depth < MAX_LAYERS && data.len() >= 8 {
            let trimmed = data.trim_ascii();
            if matches!(trimmed.first(), Some(b'{' | b'[')) {
                let prefix = chan.render();
                self.chain.push("json");
                let walked = self.walk_json(trimmed, &prefix, &mut String::new(), depth + 1);
                self.chain.pop();
                if walked {
                    return;
                }
            }
        }
        self.search(data, chan, |_, _| true);
        self.decode_layers(data, chan, depth);
    }

    fn decode_layers(&mut self, data: &[u8], chan: Chan<'_>, depth: usize) {
        if depth >= MAX_LAYERS || data.len() < 8 {
            return;
        }
        let trimmed = data.trim_ascii();
        // Objects and arrays were walked by `scan_value`; a JSON string is unescaped here.
        if trimmed.first() == Some(&b'"') {
            let prefix = chan.render();
            self.chain.push("json");
            self.walk_json(trimmed, &prefix, &mut String::new(), depth + 1);
            self.chain.pop();
        }
        if decode::looks_percent(data) {
            let decoded = decode::percent_decode(data);
            if decoded != data {
                self.layer("url", &decoded, chan, depth);
            }
            if memchr::memchr(b'+', data).is_some() {
                let keep_plus = decode::percent_decode_keep_plus(data);
                if keep_plus != data && keep_plus != decoded {
                    self.layer("url", &keep_plus, chan, depth);
                }
            }
        }
        if let Some(kind) = decode::sniff_compressed(data) {
            if let Some(inflated) = self.inflater.inflate(data, kind) {
                self.chain.push(kind);
                let prefix = chan.render();
                self.scan_body_at(&inflated, None, None, &prefix, depth + 1);
                self.chain.pop();
            }
        }
        if let Some(raw) = decode::try_base64(data) {
            if decode::sniff_compressed(&raw).is_some() || decode::is_textual(&raw) {
                self.layer("base64", &raw, chan, depth);
            }
        }
        if let Some(raw) = decode::try_hex(data) {
            if decode::is_textual(&raw) {
                self.layer("hex", &raw, chan, depth);
            }
        }
        if let Some(text) = decode::try_html_entities(data) {
            self.layer("html", &text, chan, depth);
        }
    }

    fn layer(&mut self, name: &'static str, data: &[u8], chan: Chan<'_>, depth: usize) {
        self.chain.push(name);
        self.scan_value(data, chan, depth + 1);
        self.chain.pop();
    }

    fn search(
        &mut self,
        data: &[u8],
        chan: Chan<'_>,
        keep: impl Fn(&Hit, crate::classify::finding::DataKind) -> bool,
    ) {
        self.search_patterns(data, chan);
        self.buf.clear();
        let set = self.set;
        let mut buf = std::mem::take(&mut self.buf);
        set.matcher
            .find(data, |c| set.kind(c), |c| set.plain_title(c), &mut buf);
        let mut channel: Option<String> = None;
        for hit in buf.iter().filter(|h| keep(h, set.kind(h.canary))) {
            self.found += 1;
            let channel = channel.get_or_insert_with(|| chan.render());
            let labels = set.matcher.labels(hit.labels);
            let depth = self.chain.len() + labels.len();
            let existing = self.seen.get(&(hit.canary, channel.clone())).copied();
            if let Some(i) = existing {
                if self.hits[i].encoding.len() <= depth {
                    continue;
                }
            }
            let mut encoding: Vec<String> = Vec::with_capacity(depth);
            encoding.extend(self.chain.iter().map(|s| s.to_string()));
            encoding.extend(labels.iter().cloned());
            let hit = ScanHit {
                canary: hit.canary,
                channel: channel.clone(),
                encoding,
                evidence: excerpt(data, hit, set),
            };
            match existing {
                Some(i) => self.hits[i] = hit,
                None => {
                    self.seen
                        .insert((hit.canary, hit.channel.clone()), self.hits.len());
                    self.hits.push(hit);
                }
            }
        }
        self.buf = buf;
    }
}

/// Visits one JSON value for [`Scanner::walk_json`], searching its strings where they lie.
struct JsonWalk<'w, 'c> {
    scanner: &'w mut Scanner<'c>,
    prefix: &'w str,
    path: &'w mut String,
    depth: usize,
}

impl<'c> JsonWalk<'_, 'c> {
    /// The walk of a member: same scanner, prefix, path buffer and depth.
    fn child(&mut self) -> JsonWalk<'_, 'c> {
        JsonWalk {
            scanner: &mut *self.scanner,
            prefix: self.prefix,
            path: &mut *self.path,
            depth: self.depth,
        }
    }

    fn text(self, s: &str) {
        let chan = Chan {
            prefix: self.prefix,
            path: self.path,
        };
        self.scanner.scan_value(s.as_bytes(), chan, self.depth);
    }

    /// Numbers are searched as JSON writes them (phone numbers, dates, zip codes as numbers).
    fn number(self, text: &str) {
        if text.len() >= 4 {
            self.text(text);
        }
    }
}

impl<'de> serde::de::DeserializeSeed<'de> for JsonWalk<'_, '_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for JsonWalk<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_str<E>(self, v: &str) -> Result<(), E> {
        self.text(v);
        Ok(())
    }

    fn visit_u64<E>(self, v: u64) -> Result<(), E> {
        self.number(itoa::Buffer::new().format(v));
        Ok(())
    }

    fn visit_i64<E>(self, v: i64) -> Result<(), E> {
        self.number(itoa::Buffer::new().format(v));
        Ok(())
    }

    fn visit_f64<E>(self, v: f64) -> Result<(), E> {
        // As `serde_json` prints it, so `1.5e10` and `15000000000.0` read as before.
        if let Some(n) = serde_json::Number::from_f64(v) {
            self.number(&n.to_string());
        }
        Ok(())
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        let mut i = 0usize;
        loop {
            let len = self.path.len();
            push_segment(self.path, itoa::Buffer::new().format(i));
            let more = seq.next_element_seed(self.child())?.is_some();
            self.path.truncate(len);
            if !more {
                return Ok(());
            }
            i += 1;
        }
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        loop {
            let len = self.path.len();
            if map.next_key_seed(PushKey(&mut *self.path))?.is_none() {
                return Ok(());
            }
            map.next_value_seed(self.child())?;
            self.path.truncate(len);
        }
    }
}

/// Appends an object key to the channel path, without allocating it on its own.
struct PushKey<'p>(&'p mut String);

impl<'de> serde::de::DeserializeSeed<'de> for PushKey<'_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_str(self)
    }
}

impl serde::de::Visitor<'_> for PushKey<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E>(self, v: &str) -> Result<(), E> {
        push_segment(self.0, v);
        Ok(())
    }
}

/// A header as [`Scanner::scan_header`] sees it, owned or borrowed from the capture line.
struct HeaderRef<'h> {
    name: &'h str,
    value: &'h str,
}

/// Headers only the browser writes (the Fetch standard's forbidden request headers, and
/// `User-Agent`, which Chromium does not let scripts change): their values are browser facts or
/// the origin, never page data, so they are not searched. `Cookie` and `Referer` are forbidden
/// too but carry page data, so they are searched; `Accept*` and `Content-Type` can be set by a
/// script, so they are searched as well.
fn browser_only_header(name: &str) -> bool {
    const NAMES: &[&str] = &[
        "user-agent",
        "accept-encoding",
        "accept-charset",
        "connection",
        "content-length",
        "host",
        "origin",
        "dnt",
        "keep-alive",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "upgrade-insecure-requests",
        "via",
        "date",
        "expect",
    ];
    let prefixed = |p: &str| {
        name.get(..p.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(p))
    };
    prefixed("sec-") || prefixed("proxy-") || NAMES.iter().any(|n| name.eq_ignore_ascii_case(n))
}

fn push_segment(path: &mut String, seg: &str) {
    if !path.is_empty() {
        path.push('.');
    }
    path.push_str(seg);
}

fn multipart_boundary(lower: &str, original: &str) -> Option<String> {
    if !lower.starts_with("multipart/") {
        return None;
    }
    let pos = lower.find("boundary=")?;
    let b = original[pos + 9..]
        .split(';')
        .next()?
        .trim()
        .trim_matches('"');
    (!b.is_empty()).then(|| b.to_string())
}

/// `k=v&k2=v2` with no spaces: a form even without a content type (beacons, GA4 batch lines).
fn looks_like_form(text: &[u8]) -> bool {
    let first_line = text.split(|&b| b == b'\n').next().unwrap_or(text);
    match memchr::memchr(b'=', first_line) {
        Some(eq) => {
            eq > 0
                && first_line[..eq]
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || b"_-.[]%$".contains(b))
                && !first_line.contains(&b' ')
        }
        None => false,
    }
}

/// The value in context, marked with `[[` `]]`; secrets masked everywhere in the excerpt.
fn excerpt(data: &[u8], hit: &Hit, set: &CanarySet) -> String {
    let start = floor_char(data, hit.start.saturating_sub(CONTEXT));
    let end = ceil_char(data, (hit.end + CONTEXT).min(data.len()));
    let secret = set.canaries.get(hit.canary).is_some_and(|c| c.is_secret());
    let mut text = String::with_capacity(end - start + 12);
    let mut push = |bytes: &[u8]| {
        for chunk in bytes.utf8_chunks() {
            // Control characters (newlines in bodies, binary) would break the one-line excerpt.
            text.extend(
                chunk
                    .valid()
                    .chars()
                    .map(|c| if c.is_control() { ' ' } else { c }),
            );
            if !chunk.invalid().is_empty() {
                text.push(char::REPLACEMENT_CHARACTER);
            }
        }
    };
    if start > 0 {
        push("…".as_bytes());
    }
    push(&data[start..hit.start]);
    push(b"[[");
    push(if secret {
        MASK.as_bytes()
    } else {
        &data[hit.start..hit.end]
    });
    push(b"]]");
    push(&data[hit.end..end]);
    if end < data.len() {
        push("…".as_bytes());
    }
    for s in &set.secret_values {
        if text.contains(s.as_str()) {
            text = text.replace(s.as_str(), MASK);
        }
    }
    text
}

fn floor_char(data: &[u8], mut i: usize) -> usize {
    while i > 0 && i < data.len() && (data[i] & 0xC0) == 0x80 {
        i -= 1;
    }
    i
}

fn ceil_char(data: &[u8], mut i: usize) -> usize {
    while i < data.len() && (data[i] & 0xC0) == 0x80 {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use base64::Engine as _;

    use super::*;
    use crate::capture::record::{CaptureHeader, JourneyInfo, Record, SnapshotRecord};
    use crate::classify::canary::Collector;

    fn set() -> CanarySet {
        let mut c = Collector::new();
        c.observe(&Record::Header(CaptureHeader {
            format: "leakhound-capture".into(),
            version: 1,
            tool_version: "0".into(),
            browser_version: String::new(),
            started_at: "2024-01-01T00:00:00Z".into(),
            certificate_errors_ignored: false,
            journey: JourneyInfo {
                name: "t".into(),
                start_url: "https://www.mercy.test/".into(),
                ..Default::default()
            },
        }));
        c.observe(&Record::Snapshot(SnapshotRecord {
            url: "https://www.mercy.test/conditions/chest-pain".into(),
            title: "Chest Pain: Causes | Mercy".into(),
            ..Default::default()
        }));
        c.finish(&BTreeMap::new())
    }

    fn found(hits: &[ScanHit], set: &CanarySet) -> Vec<(String, String, Vec<String>)> {
        let mut v: Vec<_> = hits
            .iter()
            .map(|h| {
                (
                    set.canaries[h.canary].key.clone(),
                    h.channel.clone(),
                    h.encoding.clone(),
                )
            })
            .collect();
        v.sort();
        v
    }

    #[test]
    fn json_inside_a_parameter_is_reported_once_under_its_field() {
        let set = set();
        let mut s = Scanner::new(&set);
        // X's `events` parameter: percent-encoded JSON.
        s.scan_url(
            "https://analytics.twitter.com/i/adsct?events=%5B%5B%22view%22%2C%7B%22content_name%22%3A%22Chest%20Pain%3A%20Causes%20%7C%20Mercy%22%7D%5D%5D",
        );
        let hits = s.take();
        assert_eq!(
            found(&hits, &set),
            vec![(
                "title:Chest Pain: Causes | Mercy".to_string(),
                "query:events:0.1.content_name".to_string(),
                vec!["url".to_string(), "json".to_string()],
            )]
        );

        // A form field holding base64 JSON (a pre-submit form capture script).
        let b64 = base64::engine::general_purpose::STANDARD
            .encode(br#"{"f":"q","v":"/conditions/chest-pain"}"#);
        let body = format!("d={}", b64.replace('+', "%2B").replace('=', "%3D"));
        s.scan_body(
            body.as_bytes(),
            Some("application/x-www-form-urlencoded"),
            None,
            "body",
        );
        let hits = s.take();
        let got = found(&hits, &set);
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(got[0].1, "body:form:d:v");
        assert_eq!(got[0].2.last().map(String::as_str), Some("json"));
    }

    #[test]
    fn repeated_headers_are_found_every_time_and_quiet_ones_stay_quiet() {
        let set = set();
        let mut s = Scanner::new(&set);
        for _ in 0..3 {
            s.scan_header("Referer", "https://www.mercy.test/");
            assert!(s.take().is_empty());
            s.scan_header("Referer", "https://www.mercy.test/conditions/chest-pain");
            let hits = s.take();
            assert_eq!(hits.len(), 1, "{hits:?}");
            assert_eq!(hits[0].channel, "header:referer");
        }
        assert!(s.quiet.contains("Referer", "https://www.mercy.test/"));
        assert!(!s
            .quiet
            .contains("Referer", "https://www.mercy.test/conditions/chest-pain"));
    }

    #[test]
    fn text_that_only_looks_like_json_is_still_searched() {
        let set = set();
        let mut s = Scanner::new(&set);
        s.scan_url("https://t.test/p?x=%5Bnot%20json%5D%20/conditions/chest-pain");
        let hits = s.take();
        assert_eq!(
            found(&hits, &set),
            vec![(
                "page:/conditions/chest-pain".to_string(),
                "query:x".to_string(),
                vec!["url".to_string()],
            )]
        );
    }
}
