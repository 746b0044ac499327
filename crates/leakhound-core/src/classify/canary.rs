//! The values to look for, gathered from the capture itself (pass 1).
//!
//! Identity canaries come from the header. Pages, titles, search values and typed text are only
//! known once the journey visited or typed them, often after trackers already sent them; hence the
//! classifier reads a capture twice: this pass collects, the second matches.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use crate::capture::record::{
    Canary, CanaryKind, JourneyInfo, Record, RequestRecord, StepRecord, TypedValue,
};
use crate::classify::finding::DataKind;
use crate::classify::matcher::Matcher;
use crate::classify::party::{url_host, Parties};
use crate::classify::severity::{page_context, title_context, PageContext};
use crate::classify::variants::{
    identity_variants, normalise_name, text_variants, Variant, MIN_PLAIN_LEN,
};

/// Query parameter names whose value in a first-party URL is a search term.
const SEARCH_PARAMS: &[&str] = &[
    "q",
    "query",
    "search",
    "term",
    "s",
    "keyword",
    "keywords",
    "search_query",
    "searchterm",
    "search_term",
    "kw",
];

/// Shortest page title searched for.
const MIN_TITLE_LEN: usize = 6;
/// Shortest bare page path searched for (without the host in front).
const MIN_BARE_PATH_LEN: usize = 5;

/// One value to look for, and how to report it.
#[derive(Debug, Clone)]
pub struct CanaryDef {
    pub kind: DataKind,
    pub sub_kind: Option<String>,
    /// Stable key: `email`, `page:/x`, `search:chest pain`, `title:…`, `input:#q`.
    pub key: String,
    /// Plain value for reports; `None` for credentials.
    pub value: Option<String>,
    /// The first-party page the value belongs to.
    pub source_page: Option<String>,
    /// For url_path / page_title: what the severity model makes of the source page, and why.
    pub page: Option<PageContext>,
    /// For url_path: the page had a query string.
    pub has_query: bool,
    /// Form input only counts in requests sent before this time (the form's submission).
    pub deadline_ms: Option<f64>,
    /// For a full name: the parts it is made of (`first_name`, `last_name`).
    pub name_parts: Vec<String>,
    /// For a page title: the page's own URL carries a search, so a search phrase inside the title
    /// is the search (a results page), not a title that happens to share words.
    pub results_title: bool,
    pub variants: Vec<Variant>,
}

impl CanaryDef {
    pub fn is_secret(&self) -> bool {
        self.kind == DataKind::Credential
    }
}

/// The collected canaries and their automaton.
#[derive(Debug, Clone)]
pub struct CanarySet {
    pub canaries: Vec<CanaryDef>,
    pub matcher: Matcher,
    /// Secret values known in memory, masked in every evidence excerpt.
    pub secret_values: Vec<String>,
    /// `(less specific, more specific)` canary pairs that are one disclosure when both match in
    /// the same channel (see [`related_pairs`]).
    pub related: HashSet<(usize, usize)>,
}

impl CanarySet {
    /// Whether a match of `more` in a channel makes a match of `less` there the same disclosure.
    pub fn shadows(&self, more: usize, less: usize) -> bool {
        self.related.contains(&(less, more))
    }

    /// For the matcher: a page title that does not give way to a search phrase inside it.
    pub fn plain_title(&self, canary: usize) -> bool {
        self.canaries
            .get(canary)
            .is_some_and(|c| c.kind == DataKind::PageTitle && !c.results_title)
    }

    pub fn kind(&self, canary: usize) -> DataKind {
        self.canaries
            .get(canary)
            .map_or(DataKind::Identifier, |c| c.kind)
    }
}

/// A first-party page seen during the journey.
#[derive(Debug, Clone)]
struct Page {
    host: String,
    /// Path as in the URL (percent-encoded).
    path: String,
    query: String,
}

/// Pass 1: watches records and remembers what the journey revealed.
#[derive(Debug, Default)]
pub struct Collector {
    journey: JourneyInfo,
    parties: Parties,
    pages: BTreeMap<String, Page>,
    titles: BTreeMap<String, String>,
    searches: BTreeMap<String, String>,
    typed: Vec<TypedValue>,
    steps: Vec<StepRecord>,
    /// URLs already given to `page` (which is idempotent while the parties stay the same):
    /// requests repeat a handful of page URLs thousands of times, interleaved across tabs and
    /// frames. Bounded by [`SEEN_PAGES_MAX`]; cleared whenever the parties change.
    seen_pages: HashSet<String>,
}

/// Most page URLs remembered by [`Collector::page`]'s duplicate check before it starts over.
const SEEN_PAGES_MAX: usize = 4096;

impl Collector {
    pub fn new() -> Collector {
        Collector::default()
    }

    pub fn parties(&self) -> &Parties {
        &self.parties
    }

    pub fn journey(&self) -> &JourneyInfo {
        &self.journey
    }

    pub fn observe(&mut self, record: &Record) {
        match record {
            Record::Header(h) => {
                self.seen_pages.clear();
                self.journey = h.journey.clone();
                self.parties = Parties::new(&h.journey.start_url, &h.journey.first_party);
                self.page(&h.journey.start_url);
            }
            Record::Step(s) => self.steps.push(s.clone()),
            Record::Typed(t) => self.typed.push(t.clone()),
            Record::Snapshot(s) => {
                self.page(&s.url);
                let title = s.title.trim();
                if title.chars().count() >= MIN_TITLE_LEN
                    && !title.contains("://")
                    && self.is_first_party(&s.url)
                {
                    self.titles
                        .entry(title.to_string())
                        .or_insert_with(|| page_key(&s.url));
                }
            }
            Record::Request(r) => self.observe_request(r),
            Record::WsFrame(f) => self.page(&f.page_url),
            Record::WebSocket(w) => self.page(&w.page_url),
            Record::Dialog(_) | Record::End(_) => {}
        }
    }

    /// The light part of pass 1 for a request: its page and, for a document, its own URL.
    pub fn observe_request(&mut self, r: &RequestRecord) {
        self.observe_request_parts(&r.page_url, &r.resource_type, &r.url);
    }

    pub fn observe_request_parts(&mut self, page_url: &str, resource_type: &str, url: &str) {
        if resource_type.eq_ignore_ascii_case("document") {
            if self.parties.is_empty() {
                // HAR input without a start URL: the first document is the site.
                if let Some(host) = url_host(url) {
                    self.parties.add_host(&host);
                    self.seen_pages.clear();
                }
            }
            self.page(url);
        }
        self.page(page_url);
    }

    fn is_first_party(&self, url: &str) -> bool {
        url_host(url).is_some_and(|h| self.parties.is_first_party_host(&h))
    }

    /// Remembers a first-party page URL and the search values in its query.
    fn page(&mut self, url: &str) {
        if self.pages.len() > 10_000 || !url.starts_with("http") || self.seen_pages.contains(url) {
            return;
        }
        if self.seen_pages.len() >= SEEN_PAGES_MAX {
            self.seen_pages.clear();
        }
        self.seen_pages.insert(url.to_string());
        let Ok(parsed) = url::Url::parse(url) else {
            return;
        };
        let Some(host) = parsed.host_str() else {
            return;
        };
        if !self.parties.is_first_party_host(host) {
            return;
        }
        let path = parsed.path().to_string();
        let query = parsed.query().unwrap_or("").to_string();
        let key = page_key(url);
        for (name, value) in parsed.query_pairs() {
            let value = value.trim();
            if SEARCH_PARAMS.contains(&name.to_ascii_lowercase().as_str())
                && value.chars().count() >= 3
            {
                self.searches
                    .entry(value.to_string())
                    .or_insert_with(|| key.clone());
            }
        }
        if path == "/" && query.is_empty() {
            return;
        }
        self.pages.entry(key).or_insert(Page {
            host: host.to_ascii_lowercase(),
            path,
            query,
        });
    }

    /// When a typed value's form was submitted: the first later step that clicks, submits,
    /// navigates, presses Enter or leaves the page.
    fn submit_time(&self, typed: &TypedValue) -> Option<f64> {
        self.steps
            .iter()
            .filter(|s| s.index > typed.step)
            .find(|s| {
                matches!(s.action.as_str(), "click" | "submit" | "goto" | "leave")
                    || (s.action == "press" && s.label.to_ascii_lowercase().contains("enter"))
            })
            .map(|s| s.time_ms)
    }

    /// Builds every canary and the automaton. `secrets` are in-memory secret values by key.
    pub fn finish(self, secrets: &BTreeMap<String, String>) -> CanarySet {
        let sensitive = &self.journey.sensitive_pages;
        let mut out: Vec<CanaryDef> = Vec::new();
        let mut secret_values = Vec::new();
        let mut seen_keys = BTreeSet::new();
        let mut push = |out: &mut Vec<CanaryDef>, c: CanaryDef| {
            if !c.variants.is_empty() && seen_keys.insert((c.kind, c.key.clone())) {
                out.push(c);
            }
        };

        for canary in &self.journey.identity {
            if canary.kind.is_secret() {
                let mut variants = marker_variants(&canary.key);
                let value = secrets.get(&canary.key).or(canary.value.as_ref());
                if let Some(v) = value.filter(|v| v.len() >= MIN_PLAIN_LEN) {
                    variants.extend(identity_variants(canary.kind, v));
                    secret_values.push(v.clone());
                }
                push(
                    &mut out,
                    CanaryDef {
                        kind: DataKind::Credential,
                        sub_kind: Some(canary.kind.as_str().to_string()),
                        key: canary.key.clone(),
                        value: None,
                        source_page: None,
                        page: None,
                        has_query: false,
                        deadline_ms: None,
                        name_parts: Vec::new(),
                        results_title: false,
                        variants,
                    },
                );
                continue;
            }
            let Some(value) = canary.value.as_deref() else {
                continue;
            };
            let variants = identity_variants(canary.kind, value);
            if variants.is_empty() {
                tracing::warn!(key = %canary.key, "identity value too short to search for");
            }
            let parts = if canary.kind == CanaryKind::Name {
                name_parts(&canary.key, value, &self.journey.identity)
            } else {
                Vec::new()
            };
            push(
                &mut out,
                CanaryDef {
                    kind: DataKind::Identifier,
                    sub_kind: Some(canary.kind.as_str().to_string()),
                    key: canary.key.clone(),
                    value: Some(value.to_string()),
                    source_page: None,
                    page: None,
                    has_query: false,
                    deadline_ms: None,
                    name_parts: if parts.is_empty() {
                        Vec::new()
                    } else {
                        vec!["first_name".into(), "last_name".into()]
                    },
                    results_title: false,
                    variants,
                },
            );
            for part in parts {
                push(&mut out, part);
            }
        }
        // Secrets given only in memory (no header entry) still count.
        for (key, value) in secrets {
            if self.journey.identity.iter().any(|c| &c.key == key) || value.len() < MIN_PLAIN_LEN {
                continue;
            }
            secret_values.push(value.clone());
            let mut variants = marker_variants(key);
            variants.extend(identity_variants(CanaryKind::Secret, value));
            push(
                &mut out,
                CanaryDef {
                    kind: DataKind::Credential,
                    sub_kind: Some("secret".into()),
                    key: key.clone(),
                    value: None,
                    source_page: None,
                    page: None,
                    has_query: false,
                    deadline_ms: None,
                    name_parts: Vec::new(),
                    results_title: false,
                    variants,
                },
            );
        }

        for typed in &self.typed {
            let secret_key = typed.canary_key.as_ref().is_some_and(|k| {
                self.journey
                    .identity
                    .iter()
                    .any(|c| &c.key == k && c.kind.is_secret())
            });
            let Some(value) = typed.value.as_deref().filter(|_| !secret_key) else {
                continue;
            };
            if typed.is_search {
                push(&mut out, search_canary(value, None, true));
            } else {
                push(
                    &mut out,
                    CanaryDef {
                        kind: DataKind::FormInput,
                        sub_kind: (!typed.field.is_empty()).then(|| typed.field.clone()),
                        key: format!("input:{}", typed.selector),
                        value: Some(value.to_string()),
                        source_page: None,
                        page: None,
                        has_query: false,
                        deadline_ms: self.submit_time(typed),
                        name_parts: Vec::new(),
                        results_title: false,
                        variants: text_variants(value, true),
                    },
                );
            }
        }
        for (value, page) in &self.searches {
            push(&mut out, search_canary(value, Some(page.clone()), false));
        }

        for (key, page) in &self.pages {
            let full_url = format!("https://{}{}", page.host, key);
            let full_context = page_context(&full_url, sensitive);
            let mut path_variants = page_variants(&page.host, &page.path);
            if !page.query.is_empty() {
                let mut full = page_variants(&page.host, key);
                if page.query.len() >= 6 {
                    full.push(Variant {
                        pattern: format!("?{}", page.query),
                        labels: vec![],
                    });
                }
                dedupe(&mut full);
                push(
                    &mut out,
                    CanaryDef {
                        kind: DataKind::UrlPath,
                        sub_kind: Some("query".into()),
                        key: format!("page:{key}"),
                        value: Some(key.clone()),
                        source_page: Some(key.clone()),
                        page: Some(full_context.clone()),
                        has_query: true,
                        deadline_ms: None,
                        name_parts: Vec::new(),
                        results_title: false,
                        variants: full,
                    },
                );
            }
            if page.path != "/" {
                dedupe(&mut path_variants);
                // The path alone, unless only the query made the page sensitive.
                let path_context = Some(page_context(&page.path, sensitive))
                    .filter(PageContext::is_sensitive)
                    .unwrap_or_else(|| full_context.clone());
                push(
                    &mut out,
                    CanaryDef {
                        kind: DataKind::UrlPath,
                        sub_kind: Some("path".into()),
                        key: format!("page:{}", page.path),
                        value: Some(page.path.clone()),
                        source_page: Some(page.path.clone()),
                        page: Some(path_context),
                        has_query: false,
                        deadline_ms: None,
                        name_parts: Vec::new(),
                        results_title: false,
                        variants: path_variants,
                    },
                );
            }
        }
        for (title, page) in &self.titles {
            push(
                &mut out,
                CanaryDef {
                    kind: DataKind::PageTitle,
                    sub_kind: None,
                    key: format!("title:{title}"),
                    value: Some(title.clone()),
                    source_page: Some(page.clone()),
                    page: Some(title_context(title, page_context(page, sensitive))),
                    has_query: false,
                    deadline_ms: None,
                    name_parts: Vec::new(),
                    results_title: self.searches.values().any(|p| p == page),
                    variants: text_variants(title, false),
                },
            );
        }

        let matcher = Matcher::build(out.iter().map(|c| (c.kind, c.variants.as_slice())));
        tracing::debug!(
            canaries = out.len(),
            patterns = matcher.pattern_count(),
            "canaries collected"
        );
        let related = related_pairs(&out);
        CanarySet {
            canaries: out,
            matcher,
            secret_values,
            related,
        }
    }
}

/// The first and last name of a full name as canaries of their own, unless the identity already
/// has a first- or last-name canary with that value.
///
/// Vendors hash name parts separately (Meta `ud[fn]`, `ud[ln]`; Google `fn0`, `ln0`): a hash of
/// the first name alone is the first name leaving, and is reported as that, never as the full
/// name. A full name sent whole still matches its own canary, which names the parts.
fn name_parts(key: &str, value: &str, identity: &[Canary]) -> Vec<CanaryDef> {
    let tokens: Vec<&str> = value.split_whitespace().collect();
    let (Some(first), Some(last)) = (tokens.first(), tokens.last()) else {
        return Vec::new();
    };
    if tokens.len() < 2 {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (kind, part) in [(CanaryKind::FirstName, first), (CanaryKind::LastName, last)] {
        let norm = normalise_name(part);
        let declared = identity.iter().any(|c| {
            c.kind == kind
                && c.value
                    .as_deref()
                    .is_some_and(|v| normalise_name(v) == norm)
        });
        if declared || norm.is_empty() {
            continue;
        }
        out.push(CanaryDef {
            kind: DataKind::Identifier,
            sub_kind: Some(kind.as_str().to_string()),
            key: format!("{key}.{}", kind.as_str()),
            value: Some(part.to_string()),
            source_page: None,
            page: None,
            has_query: false,
            deadline_ms: None,
            name_parts: Vec::new(),
            results_title: false,
            variants: identity_variants(kind, part),
        });
    }
    out
}

/// Text as it compares across kinds: lower case, percent-decoded, `+` as a space, spaces
/// collapsed.
fn comparable(text: &str) -> String {
    let decoded = percent_encoding::percent_decode_str(&text.replace('+', " "))
        .decode_utf8_lossy()
        .to_lowercase();
    decoded.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Pairs `(less specific, more specific)` of canaries whose values contain one another: when both
/// match in the same channel of a request, they are one disclosure (a search phrase inside the
/// results page's address, a typed email that is also the identity's email).
///
/// Only pairs with a specific kind (identifier and above) are compared, so the cost grows with
/// identity values, typed values and searches times all canaries, not with pages squared. A page
/// title only yields to a search when it is the title of the page that carries the search.
fn related_pairs(canaries: &[CanaryDef]) -> HashSet<(usize, usize)> {
    let texts: Vec<Option<String>> = canaries
        .iter()
        .map(|c| c.value.as_deref().map(comparable).filter(|v| v.len() >= 3))
        .collect();
    let mut out = HashSet::new();
    for (hi, h) in canaries.iter().enumerate() {
        if h.kind.specificity() < DataKind::Identifier.specificity() {
            continue;
        }
        let Some(ht) = &texts[hi] else { continue };
        for (lo, l) in canaries.iter().enumerate() {
            // A part of a full name yields to the full name (equal kinds otherwise never do).
            let part_of_name = !h.name_parts.is_empty()
                && l.kind == DataKind::Identifier
                && lo != hi
                && l.name_parts.is_empty()
                && matches!(l.sub_kind.as_deref(), Some("first_name" | "last_name"));
            if l.kind.specificity() >= h.kind.specificity() && !part_of_name {
                continue;
            }
            if l.kind == DataKind::PageTitle && !(h.kind == DataKind::SearchTerm && l.results_title)
            {
                continue;
            }
            let Some(lt) = &texts[lo] else { continue };
            // A search phrase is inside a page address only through its query: "pain" in
            // `/symptoms/chest-pain` is the symptom page, not the search.
            let lt = if h.kind == DataKind::SearchTerm && l.kind == DataKind::UrlPath {
                match lt.split_once('?') {
                    Some((_, query)) => query,
                    None => continue,
                }
            } else {
                lt.as_str()
            };
            if lt.contains(ht.as_str()) || ht.contains(lt) {
                out.insert((lo, hi));
            }
        }
    }
    out
}

fn search_canary(value: &str, page: Option<String>, typed: bool) -> CanaryDef {
    CanaryDef {
        kind: DataKind::SearchTerm,
        sub_kind: None,
        key: format!("search:{}", value.trim()),
        value: Some(value.trim().to_string()),
        source_page: page,
        page: None,
        has_query: false,
        deadline_ms: None,
        name_parts: Vec::new(),
        results_title: false,
        variants: text_variants(value, typed),
    }
}

/// `path?query` of a URL: the key of a page.
pub fn page_key(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) => match u.query() {
            Some(q) if !q.is_empty() => format!("{}?{}", u.path(), q),
            _ => u.path().to_string(),
        },
        Err(_) => url.to_string(),
    }
}

/// `host/path` always; the bare path when long enough not to match by chance; both also
/// percent-decoded.
fn page_variants(host: &str, path_query: &str) -> Vec<Variant> {
    let mut forms = vec![path_query.to_string()];
    let decoded = percent_encoding::percent_decode_str(path_query)
        .decode_utf8_lossy()
        .replace('+', " ");
    if decoded != path_query {
        forms.push(decoded);
    }
    let mut out = Vec::new();
    for f in forms {
        out.push(Variant {
            pattern: format!("{host}{f}"),
            labels: vec![],
        });
        if f.len() >= MIN_BARE_PATH_LEN {
            out.push(Variant {
                pattern: f,
                labels: vec![],
            });
        }
    }
    out
}

fn dedupe(v: &mut Vec<Variant>) {
    let mut seen = BTreeSet::new();
    v.retain(|x| seen.insert(x.pattern.to_ascii_lowercase()));
}

/// The markers the capture writer puts in place of secret `key`: the plain one, and one per
/// encoded form, which then names the encoding in the finding.
fn marker_variants(key: &str) -> Vec<Variant> {
    let mut variants = vec![Variant {
        pattern: crate::secret::marker(key),
        labels: vec!["secret-marker".into()],
    }];
    variants.extend(crate::secret::ENCODED_FORMS.iter().map(|form| Variant {
        pattern: crate::secret::marker_as(key, form),
        labels: vec![(*form).to_string()],
    }));
    variants
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::record::{Canary, CaptureHeader, SnapshotRecord};

    fn header(identity: Vec<Canary>) -> Record {
        Record::Header(CaptureHeader {
            format: "leakhound-capture".into(),
            version: 1,
            tool_version: "0".into(),
            browser_version: String::new(),
            started_at: "2024-01-01T00:00:00Z".into(),
            certificate_errors_ignored: false,
            journey: JourneyInfo {
                name: "t".into(),
                start_url: "https://www.mercy.test/".into(),
                identity,
                ..Default::default()
            },
        })
    }

    #[test]
    fn pages_titles_and_searches_are_collected() {
        let mut c = Collector::new();
        c.observe(&header(vec![]));
        c.observe(&Record::Snapshot(SnapshotRecord {
            url: "https://www.mercy.test/find-a-doctor?q=cardiology&zip=02139".into(),
            title: "Find a doctor – Mercy".into(),
            ..Default::default()
        }));
        c.observe(&Record::Snapshot(SnapshotRecord {
            url: "https://tracker.test/frame?x=1".into(),
            title: "Tracker frame title".into(),
            ..Default::default()
        }));
        let set = c.finish(&BTreeMap::new());
        let keys: Vec<&str> = set.canaries.iter().map(|c| c.key.as_str()).collect();
        assert!(keys.contains(&"page:/find-a-doctor"));
        assert!(keys.contains(&"page:/find-a-doctor?q=cardiology&zip=02139"));
        assert!(keys.contains(&"search:cardiology"));
        assert!(keys.contains(&"title:Find a doctor – Mercy"));
        assert!(!keys.iter().any(|k| k.contains("frame")), "{keys:?}");
        assert!(!keys.contains(&"page:/"));
    }

    #[test]
    fn secrets_use_marker_and_memory_value() {
        let mut c = Collector::new();
        c.observe(&header(vec![Canary {
            key: "password".into(),
            kind: CanaryKind::Password,
            value: None,
            env: Some("PW".into()),
        }]));
        let mut secrets = BTreeMap::new();
        secrets.insert("password".to_string(), "hunter2-Secret".to_string());
        let set = c.finish(&secrets);
        let cred = &set.canaries[0];
        assert_eq!(cred.kind, DataKind::Credential);
        assert!(cred.value.is_none());
        assert!(cred
            .variants
            .iter()
            .any(|v| v.pattern == "[LEAKHOUND-SECRET:password]"));
        assert!(cred.variants.iter().any(|v| v.pattern == "hunter2-Secret"));
        assert_eq!(set.secret_values, vec!["hunter2-Secret".to_string()]);
    }
}
