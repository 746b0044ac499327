//! Pass 2: turns hits into findings, and counts every third party into the inventory.
//!
//! Findings leave the engine as they are made ([`Engine::drain`] after every record): the engine
//! itself keeps only what is bounded by the journey — one group per domain × kind × canary, one
//! inventory entry per third party — so its memory does not grow with the number of requests or
//! findings. Whoever drains decides whether the full list is kept, written out, or only counted.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::rc::Rc;

use crate::capture::record::{
    CaptureSummary, Fate, Initiator, JourneyInfo, WebSocketRecord, WsFrameRecord,
};
use crate::classify::canary::CanarySet;
use crate::classify::finding::{
    AlsoMatched, Analysis, Confidence, DataKind, Finding, FindingGroup, ThirdParty,
};
use crate::classify::party::{registrable_domain, url_host, Parties};
use crate::classify::patterns::PatternKind;
use crate::classify::scan::{PatternHit, ScanHit, Scanner};
use crate::classify::severity::{judge, page_context, Facts, PageContext};
use crate::classify::signatures::{HostSignatures, Meaning, Signatures, VendorMatch};
use crate::classify::view::{InitiatorView, RequestView};
use crate::classify::ClassifyOptions;

/// Channel words that are structure, not parameter names.
const CHANNEL_WORDS: &[&str] = &[
    "query",
    "matrix",
    "fragment",
    "cookie",
    "header",
    "body",
    "json",
    "form",
    "ndjson",
    "text",
    "multipart",
    "ws-frame",
    "path",
];

/// Where a request came from, for the findings it produces.
struct Origin<'r> {
    url: &'r str,
    request_id: &'r str,
    /// For a redirect hop, its index: the finding's request id is `{request_id}~{hop}`.
    hop: Option<usize>,
    method: &'r str,
    fate: &'r Fate,
    step: usize,
    time_ms: f64,
    page_url: &'r str,
    initiator: InitiatorView<'r>,
}

/// A third-party host, worked out once.
struct HostInfo {
    host: String,
    /// Its registrable domain.
    domain: String,
    signatures: HostSignatures,
}

#[derive(Default)]
struct PartyEntry {
    hosts: BTreeSet<String>,
    vendors: BTreeMap<String, usize>,
    requests: usize,
    ws_frames: usize,
    bytes_sent: u64,
    cookies: BTreeSet<String>,
    kinds: BTreeSet<DataKind>,
}

/// The matching pass.
pub struct Engine<'a> {
    opts: &'a ClassifyOptions,
    set: &'a CanarySet,
    parties: Parties,
    journey: JourneyInfo,
    step_labels: HashMap<usize, String>,
    sockets: HashMap<String, (String, Initiator)>,
    /// Host → what is known about it, `None` for first-party hosts.
    hosts: HashMap<String, Option<Rc<HostInfo>>>,
    scanner: Scanner<'a>,
    /// Findings of the current record, until [`Engine::drain`].
    pending: Vec<Finding>,
    /// Findings made so far (drained or not): the index the next one gets.
    emitted: usize,
    groups: Vec<FindingGroup>,
    /// Domain → canary index → index into `groups`. A canary index stands for one kind × key.
    group_index: HashMap<String, HashMap<usize, usize>>,
    parties_seen: BTreeMap<String, PartyEntry>,
    requests_analyzed: usize,
    /// Page URL → its severity context (see [`Engine::origin_context`]).
    page_contexts: HashMap<String, PageContext>,
    /// Domain × pattern key → index into `groups`.
    pattern_groups: HashMap<(String, String), usize>,
}

/// Most distinct pattern values grouped (a HAR full of distinct e-mails stays bounded).
const MAX_PATTERN_GROUPS: usize = 10_000;

impl<'a> Engine<'a> {
    pub fn new(
        opts: &'a ClassifyOptions,
        set: &'a CanarySet,
        parties: Parties,
        summary: &CaptureSummary,
    ) -> Engine<'a> {
        Engine {
            opts,
            set,
            parties,
            journey: summary
                .header
                .as_ref()
                .map(|h| h.journey.clone())
                .unwrap_or_default(),
            step_labels: summary
                .steps
                .iter()
                .map(|s| (s.index, s.label.clone()))
                .collect(),
            sockets: HashMap::new(),
            hosts: HashMap::new(),
            scanner: Scanner::new(set),
            pending: Vec::new(),
            emitted: 0,
            groups: Vec::new(),
            group_index: HashMap::new(),
            parties_seen: BTreeMap::new(),
            requests_analyzed: 0,
            page_contexts: HashMap::new(),
            pattern_groups: HashMap::new(),
        }
    }

    /// The third-party host `url` goes to; `None` for first-party (and host-less) URLs.
    fn third_party(&mut self, url: &str) -> Option<Rc<HostInfo>> {
        let lowered;
        let host = match fast_host(url) {
            Some(h) if !h.bytes().any(|b| b.is_ascii_uppercase()) => h,
            Some(h) => {
                lowered = h.to_ascii_lowercase();
                &lowered
            }
            None => {
                lowered = url_host(url)?;
                &lowered
            }
        };
        if let Some(known) = self.hosts.get(host) {
            return known.clone();
        }
        let info = (!self.parties.is_first_party_host(host)).then(|| {
            Rc::new(HostInfo {
                host: host.to_string(),
                domain: registrable_domain(host),
                signatures: self.opts.signatures.for_host(host),
            })
        });
        self.hosts.insert(host.to_string(), info.clone());
        info
    }

    pub fn request(&mut self, r: &RequestView<'_>) {
        self.requests_analyzed += 1;
        for (i, hop) in r.redirects.iter().enumerate() {
            let Some(info) = self.third_party(&hop.url) else {
                continue;
            };
            self.scanner.scan_url(&hop.url);
            let hits = self.scanner.take();
            let found = self.scanner.take_patterns();
            let origin = Origin {
                url: &hop.url,
                request_id: &r.id,
                hop: Some(i),
                method: &r.method,
                fate: &Fate::Delivered,
                step: r.step,
                time_ms: r.time_ms,
                page_url: &r.page_url,
                initiator: r.initiator,
            };
            let vendor = info
                .signatures
                .match_path(&self.opts.signatures, url_path(&hop.url));
            self.count(&info, vendor, hop.url.len() as u64, 1, 0);
            self.emit(hits, found, &info, vendor, &origin);
        }
        let Some(info) = self.third_party(&r.url) else {
            return;
        };
        let vendor = info
            .signatures
            .match_path(&self.opts.signatures, url_path(&r.url));
        let scanner = &mut self.scanner;
        scanner.expect_named(
            vendor.is_some_and(|v| v.names(Meaning::DateOfBirth)),
            vendor.is_some_and(|v| v.names(Meaning::MemberId)),
        );
        scanner.scan_url(&r.url);
        for h in &r.headers {
            scanner.scan_header(&h.name, &h.value);
        }
        if let Some(body) = &r.body {
            let bytes = body.bytes();
            let accept_flag = r
                .header("accept")
                .filter(|a| a.contains("gzip"))
                .map(|_| "gzip");
            scanner.scan_body(
                &bytes,
                r.header("content-type"),
                r.header("content-encoding").or(accept_flag),
                "body",
            );
        }
        let hits = scanner.take();
        let found = scanner.take_patterns();
        let bytes = r.url.len() as u64
            + r.headers
                .iter()
                .map(|h| (h.name.len() + h.value.len() + 4) as u64)
                .sum::<u64>()
            + r.body.as_ref().map_or(0, |b| b.size as u64);
        self.count(&info, vendor, bytes, 1, 0);
        if let Some(resp) = &r.response {
            let entry = self.party(&info.domain);
            resp.for_each_set_cookie(|value| {
                for line in value.lines() {
                    if let Some((name, _)) = line.split_once('=') {
                        entry.cookies.insert(name.trim().to_string());
                    }
                }
            });
        }
        let origin = Origin {
            url: &r.url,
            request_id: &r.id,
            hop: None,
            method: &r.method,
            fate: &r.fate,
            step: r.step,
            time_ms: r.time_ms,
            page_url: &r.page_url,
            initiator: r.initiator,
        };
        self.emit(hits, found, &info, vendor, &origin);
    }

    pub fn websocket(&mut self, w: &WebSocketRecord) {
        self.sockets
            .insert(w.id.clone(), (w.page_url.clone(), w.initiator.clone()));
        let Some(info) = self.third_party(&w.url) else {
            return;
        };
        let scanner = &mut self.scanner;
        scanner.scan_url(&w.url);
        scanner.scan_headers(&w.headers);
        let hits = scanner.take();
        let found = scanner.take_patterns();
        let vendor = info
            .signatures
            .match_path(&self.opts.signatures, url_path(&w.url));
        self.count(&info, vendor, w.url.len() as u64, 0, 0);
        let origin = Origin {
            url: &w.url,
            request_id: &w.id,
            hop: None,
            method: "GET",
            fate: &Fate::Delivered,
            step: w.step,
            time_ms: w.time_ms,
            page_url: &w.page_url,
            initiator: InitiatorView::Parsed(&w.initiator),
        };
        self.emit(hits, found, &info, vendor, &origin);
    }

    pub fn ws_frame(&mut self, f: &WsFrameRecord) {
        self.requests_analyzed += 1;
        let Some(info) = self.third_party(&f.url) else {
            return;
        };
        let scanner = &mut self.scanner;
        scanner.scan_body(&f.payload.bytes(), None, None, "ws-frame");
        let hits = scanner.take();
        let found = scanner.take_patterns();
        let vendor = info
            .signatures
            .match_path(&self.opts.signatures, url_path(&f.url));
        self.count(&info, vendor, f.payload.size as u64, 0, 1);
        let initiator = self
            .sockets
            .get(&f.socket)
            .map(|(_, i)| i.clone())
            .unwrap_or_default();
        let origin = Origin {
            url: &f.url,
            request_id: &f.id,
            hop: None,
            method: "WS",
            fate: &Fate::Delivered,
            step: f.step,
            time_ms: f.time_ms,
            page_url: &f.page_url,
            initiator: InitiatorView::Parsed(&initiator),
        };
        self.emit(hits, found, &info, vendor, &origin);
    }

    /// What the severity model makes of the page open when a request left (cached: a journey has
    /// few pages and a capture sends thousands of requests from each).
    fn origin_context(&mut self, page_url: &str) -> PageContext {
        if let Some(c) = self.page_contexts.get(page_url) {
            return c.clone();
        }
        let c = page_context(page_url, &self.journey.sensitive_pages);
        if self.page_contexts.len() >= 4096 {
            self.page_contexts.clear();
        }
        self.page_contexts.insert(page_url.to_string(), c.clone());
        c
    }

    /// The inventory entry of `domain`, created on first sight.
    fn party(&mut self, domain: &str) -> &mut PartyEntry {
        if !self.parties_seen.contains_key(domain) {
            self.parties_seen
                .insert(domain.to_string(), PartyEntry::default());
        }
        self.parties_seen
            .get_mut(domain)
            .expect("inserted just above")
    }

    fn count(
        &mut self,
        info: &HostInfo,
        vendor: Option<VendorMatch<'_>>,
        bytes: u64,
        requests: usize,
        frames: usize,
    ) {
        let entry = self.party(&info.domain);
        if !entry.hosts.contains(&info.host) {
            entry.hosts.insert(info.host.clone());
        }
        if let Some(v) = vendor {
            match entry.vendors.get_mut(&v.vendor.id) {
                Some(n) => *n += 1,
                None => {
                    entry.vendors.insert(v.vendor.id.clone(), 1);
                }
            }
        }
        entry.requests += requests;
        entry.ws_frames += frames;
        entry.bytes_sent += bytes;
    }

    fn emit(
        &mut self,
        hits: Vec<ScanHit>,
        found: Vec<PatternHit>,
        info: &HostInfo,
        vendor: Option<VendorMatch<'_>>,
        origin: &Origin<'_>,
    ) {
        if !found.is_empty() {
            self.emit_patterns(&hits, found, info, vendor, origin);
        }
        if hits.is_empty() {
            return;
        }
        let initiator = origin.initiator.resolve();
        let set = self.set;
        let hits: Vec<ScanHit> = hits
            .into_iter()
            .filter(|hit| {
                set.canaries.get(hit.canary).is_some_and(|c| {
                    !(c.kind == DataKind::FormInput
                        && c.deadline_ms.is_some_and(|d| origin.time_ms >= d))
                })
            })
            .collect();
        let mut also = one_disclosure_one_finding(set, &hits);
        for (i, hit) in hits.into_iter().enumerate() {
            let Some(also_matched) = also.get_mut(i).and_then(Option::take) else {
                continue;
            };
            let Some(c) = set.canaries.get(hit.canary) else {
                continue;
            };
            let page = match (&c.page, c.kind) {
                (Some(p), DataKind::UrlPath | DataKind::PageTitle) => p.clone(),
                _ => self.origin_context(origin.page_url),
            };
            let judgement = judge(
                &self.opts.regimes,
                Facts {
                    kind: c.kind,
                    page: &page,
                },
            );
            let meaning = parameter_meaning(vendor, &hit.channel);
            self.party(&info.domain).kinds.insert(c.kind);
            let finding = Finding {
                kind: c.kind,
                sub_kind: c.sub_kind.clone(),
                canary: c.key.clone(),
                value: c.value.clone(),
                source_page: c.source_page.clone(),
                domain: info.domain.clone(),
                host: info.host.clone(),
                vendor: vendor.map(|v| v.vendor.id.clone()),
                channel: hit.channel,
                parameter_meaning: meaning.map(|m| m.describe().to_string()),
                encoding: hit.encoding,
                severity: judgement.severity,
                step: origin.step,
                step_label: self
                    .step_labels
                    .get(&origin.step)
                    .cloned()
                    .unwrap_or_default(),
                page_url: origin.page_url.to_string(),
                request_id: match origin.hop {
                    Some(i) => format!("{}~{i}", origin.request_id),
                    None => origin.request_id.to_string(),
                },
                request_url: origin.url.to_string(),
                method: origin.method.to_string(),
                fate: origin.fate.clone(),
                initiator_url: initiator.url.clone(),
                stack: initiator.stack.clone(),
                evidence: Some(hit.evidence),
                also_matched,
                name_parts: c.name_parts.clone(),
                page_context: Some(page),
                regime: Some(judgement.regime),
                rule: Some(judgement.rule),
                confidence: Confidence::Canary,
            };
            self.add_to_group(hit.canary, &finding);
            self.pending.push(finding);
        }
    }

    /// Findings for values recognised by their form, labelled `pattern`. A channel where a canary
    /// already matched keeps the canary finding (it says exactly what left); a bare hash only
    /// counts in a parameter the signature names as hashed personal data.
    fn emit_patterns(
        &mut self,
        hits: &[ScanHit],
        found: Vec<PatternHit>,
        info: &HostInfo,
        vendor: Option<VendorMatch<'_>>,
        origin: &Origin<'_>,
    ) {
        let initiator = origin.initiator.resolve();
        for p in found {
            let meaning = parameter_meaning(vendor, &p.channel);
            let sub_kind = match p.kind {
                PatternKind::HashedIdentifier => match meaning {
                    Some(Meaning::HashedEmail) => "hashed_email",
                    Some(Meaning::HashedPhone) => "hashed_phone",
                    Some(Meaning::HashedName) => "hashed_name",
                    Some(Meaning::HashedPii) => "hashed_pii",
                    _ => continue,
                },
                PatternKind::DateOfBirth if meaning == Some(Meaning::DateOfBirth) => {
                    "date_of_birth"
                }
                PatternKind::MemberId if meaning == Some(Meaning::MemberId) => "member_id",
                PatternKind::DateOfBirth | PatternKind::MemberId => continue,
                k => k.as_str(),
            };
            let canary_here = hits.iter().any(|h| {
                h.channel == p.channel
                    && self.set.canaries.get(h.canary).is_some_and(|c| {
                        c.kind != DataKind::UrlPath && c.kind != DataKind::PageTitle
                    })
            });
            if canary_here {
                continue;
            }
            let page = self.origin_context(origin.page_url);
            let judgement = judge(
                &self.opts.regimes,
                Facts {
                    kind: DataKind::Identifier,
                    page: &page,
                },
            );
            let key = match p.kind {
                // A hash is long and unreadable: its first characters name it well enough.
                PatternKind::HashedIdentifier => format!(
                    "pattern:{sub_kind}:{}",
                    p.value.chars().take(16).collect::<String>()
                ),
                _ => format!("pattern:{sub_kind}:{}", p.value),
            };
            self.party(&info.domain).kinds.insert(DataKind::Identifier);
            let finding = Finding {
                kind: DataKind::Identifier,
                sub_kind: Some(sub_kind.to_string()),
                canary: key.clone(),
                value: Some(p.value),
                source_page: None,
                domain: info.domain.clone(),
                host: info.host.clone(),
                vendor: vendor.map(|v| v.vendor.id.clone()),
                channel: p.channel,
                parameter_meaning: meaning.map(|m| m.describe().to_string()),
                encoding: p.encoding,
                severity: judgement.severity,
                step: origin.step,
                step_label: self
                    .step_labels
                    .get(&origin.step)
                    .cloned()
                    .unwrap_or_default(),
                page_url: origin.page_url.to_string(),
                request_id: match origin.hop {
                    Some(i) => format!("{}~{i}", origin.request_id),
                    None => origin.request_id.to_string(),
                },
                request_url: origin.url.to_string(),
                method: origin.method.to_string(),
                fate: origin.fate.clone(),
                initiator_url: initiator.url.clone(),
                stack: initiator.stack.clone(),
                evidence: Some(p.evidence),
                also_matched: Vec::new(),
                name_parts: Vec::new(),
                page_context: Some(page),
                regime: Some(judgement.regime),
                rule: Some(judgement.rule),
                confidence: Confidence::Pattern,
            };
            self.add_to_pattern_group(key, &finding);
            self.pending.push(finding);
        }
    }

    /// [`Engine::add_to_group`] for pattern findings, which have no canary index: grouped by
    /// domain × key, apart from canary findings.
    fn add_to_pattern_group(&mut self, key: String, f: &Finding) {
        let index = self.emitted;
        self.emitted += 1;
        let slot = match self.pattern_groups.get(&(f.domain.clone(), key.clone())) {
            Some(&slot) => slot,
            None => {
                if self.pattern_groups.len() >= MAX_PATTERN_GROUPS {
                    // Bounded memory: past this many distinct values, later ones join no group.
                    return;
                }
                self.groups.push(FindingGroup::for_finding(f, index));
                self.pattern_groups
                    .insert((f.domain.clone(), key), self.groups.len() - 1);
                self.groups.len() - 1
            }
        };
        self.groups[slot].add(f);
    }

    /// Counts `f` (the `emitted`-th finding) into its domain × kind × canary group.
    fn add_to_group(&mut self, canary: usize, f: &Finding) {
        let index = self.emitted;
        self.emitted += 1;
        let by_canary = match self.group_index.get_mut(&f.domain) {
            Some(m) => m,
            None => self.group_index.entry(f.domain.clone()).or_default(),
        };
        let slot = *by_canary.entry(canary).or_insert_with(|| {
            self.groups.push(FindingGroup::for_finding(f, index));
            self.groups.len() - 1
        });
        self.groups[slot].add(f);
    }

    /// Hands out the findings made since the last call, in order.
    pub fn drain(&mut self) -> std::vec::Drain<'_, Finding> {
        self.pending.drain(..)
    }

    /// Groups, inventory and totals. `summary` supplies the snapshot cookies.
    ///
    /// The returned analysis has no findings: they were [drained](Engine::drain) (any left
    /// undrained are included). Each group's `first` counts findings in the order they were made.
    pub fn finish(mut self, summary: &CaptureSummary) -> Analysis {
        let mut groups = std::mem::take(&mut self.groups);
        for g in &mut groups {
            g.steps.sort_unstable();
        }
        groups.sort_by(|a, b| {
            b.severity
                .cmp(&a.severity)
                .then(a.domain.cmp(&b.domain))
                .then(a.kind.cmp(&b.kind))
                .then(a.canary.cmp(&b.canary))
        });
        let sigs: &Signatures = &self.opts.signatures;
        let mut inventory: Vec<ThirdParty> = self
            .parties_seen
            .into_iter()
            .map(|(domain, e)| {
                let vendor_id = e
                    .vendors
                    .iter()
                    .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
                    .map(|(id, _)| id.clone());
                let vendor = vendor_id.as_deref().and_then(|id| sigs.get(id));
                let owner = self.opts.entities.as_ref().and_then(|m| m.owner(&domain));
                let mut cookies = e.cookies;
                for snap in &summary.snapshots {
                    for c in &snap.cookies {
                        if registrable_domain(c.domain.trim_start_matches('.')) == domain {
                            cookies.insert(c.name.clone());
                        }
                    }
                }
                ThirdParty {
                    hosts: e.hosts.into_iter().collect(),
                    vendor: vendor_id.clone(),
                    vendor_name: vendor.map(|v| v.name.clone()),
                    company: vendor
                        .map(|v| v.company.clone())
                        .or_else(|| owner.map(|o| o.company.clone())),
                    category: vendor
                        .map(|v| v.category.as_str().to_string())
                        .or_else(|| owner.and_then(|o| o.category.clone())),
                    requests: e.requests,
                    ws_frames: e.ws_frames,
                    bytes_sent: e.bytes_sent,
                    cookies: cookies.into_iter().collect(),
                    data_kinds: e.kinds.into_iter().collect(),
                    domain,
                }
            })
            .collect();
        // Third parties that received something first, then the busiest.
        inventory.sort_by(|a, b| {
            a.data_kinds
                .is_empty()
                .cmp(&b.data_kinds.is_empty())
                .then(b.requests.cmp(&a.requests))
                .then(a.domain.cmp(&b.domain))
        });
        Analysis {
            findings: self.pending,
            groups,
            inventory,
            signatures_version: sigs.version().to_string(),
            requests_analyzed: self.requests_analyzed,
        }
    }
}

/// Which hits of one request are findings: `Some(less specific canaries the same bytes matched)`
/// for a finding, `None` for a hit that is part of a more specific one.
///
/// Two hits in the same channel whose canaries contain one another (see
/// [`CanarySet::shadows`]) are one disclosure; the most specific kind wins, and the other is
/// listed in its evidence. A chain (url_path → identifier → form input) ends at the most specific.
fn one_disclosure_one_finding(set: &CanarySet, hits: &[ScanHit]) -> Vec<Option<Vec<AlsoMatched>>> {
    let mut out: Vec<Option<Vec<AlsoMatched>>> = vec![Some(Vec::new()); hits.len()];
    if hits.len() < 2 || set.related.is_empty() {
        return out;
    }
    let spec = |i: usize| set.kind(hits[i].canary).specificity();
    // The hit that shadows hit `i` directly: the most specific related one in the same channel.
    let above = |i: usize| {
        (0..hits.len())
            .filter(|&j| {
                j != i
                    && hits[j].channel == hits[i].channel
                    && set.shadows(hits[j].canary, hits[i].canary)
            })
            .max_by_key(|&j| spec(j))
    };
    let mut winner: Vec<Option<usize>> = vec![None; hits.len()];
    for (i, w) in winner.iter_mut().enumerate() {
        let mut top = i;
        // Specificity rises along the chain (a name part yielding to its full name is the one
        // step at equal specificity), so it ends within a few steps; the bound is a safeguard.
        for _ in 0..8 {
            match above(top) {
                Some(j) => top = j,
                None => break,
            }
        }
        if top != i {
            *w = Some(top);
        }
    }
    for (i, w) in winner.iter().enumerate() {
        let Some(top) = *w else { continue };
        out[i] = None;
        let Some(c) = set.canaries.get(hits[i].canary) else {
            continue;
        };
        if let Some(list) = out.get_mut(top).and_then(Option::as_mut) {
            if !list.iter().any(|a| a.canary == c.key && a.kind == c.kind) {
                list.push(AlsoMatched {
                    kind: c.kind,
                    canary: c.key.clone(),
                });
            }
        }
    }
    out
}

/// The host of an ordinary `scheme://host[:port]/…` URL without a full parse; `None` for anything
/// unusual (user info, IPv6, no scheme), which then goes through the `url` crate.
fn fast_host(url: &str) -> Option<&str> {
    let rest = &url[url.find("://")? + 3..];
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    if authority.is_empty() || authority.contains(['@', '[', '%', '\\']) {
        return None;
    }
    Some(authority.split(':').next().unwrap_or(authority))
}

fn url_path(url: &str) -> &str {
    let after = url.find("://").map_or(0, |i| i + 3);
    let rest = &url[after..];
    match rest.find('/') {
        Some(i) => {
            let p = &rest[i..];
            p.split(['?', '#']).next().unwrap_or(p)
        }
        None => "/",
    }
}

/// What the channel's parameter means for the vendor.
fn parameter_meaning(vendor: Option<VendorMatch<'_>>, channel: &str) -> Option<Meaning> {
    if channel == "header:referer" {
        return Some(Meaning::Referrer);
    }
    let v = vendor?;
    let tokens: Vec<&str> = channel.split(':').collect();
    let skip = tokens
        .iter()
        .take_while(|t| CHANNEL_WORDS.contains(t))
        .count();
    let rest = &tokens[skip..];
    if rest.is_empty() {
        return None;
    }
    let key = rest.join(":");
    v.meaning(&key).or_else(|| {
        // The outer parameter (`ed` for `ed:json:search_query`) when the inner field is unknown.
        rest.iter()
            .rev()
            .skip(1)
            .find_map(|t| (!CHANNEL_WORDS.contains(t)).then(|| v.meaning(t)).flatten())
    })
}
