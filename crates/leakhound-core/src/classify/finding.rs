//! What the classifier concludes: findings, their groups, and the third-party inventory.
//!
//! These types are the single source of truth every report (JSON, HTML, SARIF, JUnit, terminal) is
//! rendered from.

use serde::{Deserialize, Serialize};

use crate::capture::record::{Fate, StackFrame};
use crate::classify::severity::{PageContext, Regime};

/// The kind of user data that reached a third party.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DataKind {
    /// The path and/or query of a first-party page the user visited.
    UrlPath,
    /// Text typed into a search field, or a search value in a first-party URL.
    SearchTerm,
    /// An identity canary (email, name, phone, ...); the sub-kind says which.
    Identifier,
    /// The title of a first-party page.
    PageTitle,
    /// A value typed into a form field that left before the form was submitted.
    FormInput,
    /// A password or secret. Reported, never printed.
    Credential,
}

impl DataKind {
    /// How specific a kind is: when the same bytes match canaries of several kinds, the most
    /// specific one is the finding (credential, then form input, then search term, then
    /// identifier, then page address and title).
    pub fn specificity(self) -> u8 {
        match self {
            DataKind::Credential => 5,
            DataKind::FormInput => 4,
            DataKind::SearchTerm => 3,
            DataKind::Identifier => 2,
            DataKind::UrlPath | DataKind::PageTitle => 1,
        }
    }

    pub const ALL: [DataKind; 6] = [
        DataKind::UrlPath,
        DataKind::SearchTerm,
        DataKind::Identifier,
        DataKind::PageTitle,
        DataKind::FormInput,
        DataKind::Credential,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DataKind::UrlPath => "url_path",
            DataKind::SearchTerm => "search_term",
            DataKind::Identifier => "identifier",
            DataKind::PageTitle => "page_title",
            DataKind::FormInput => "form_input",
            DataKind::Credential => "credential",
        }
    }

    /// Words a compliance officer reads.
    pub fn describe(self) -> &'static str {
        match self {
            DataKind::UrlPath => "page address (path/query)",
            DataKind::SearchTerm => "search term",
            DataKind::Identifier => "personal identifier",
            DataKind::PageTitle => "page title",
            DataKind::FormInput => "form input before submit",
            DataKind::Credential => "password or secret",
        }
    }
}

/// HIPAA-aware severity, highest last so `Ord` sorts by gravity.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Not health information under any regime (a general page's address or title): recorded and
    /// shown, never a violation under the default policy.
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

/// One value found in one place of one request.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Finding {
    pub kind: DataKind,
    /// For identifiers: the canary kind (`email`, `phone`, ...); for url_path: `path` or `query`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_kind: Option<String>,
    /// What was leaked, as a stable key: the identity key (`email`), `page:/symptoms/chest-pain`,
    /// `search:chest pain`, `title:Chest pain – Mercy`, `input:#q`.
    pub canary: String,
    /// The leaked value as the journey knew it (plain). `None` for credentials, and when redacted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// For url_path/page_title: the first-party page the value belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_page: Option<String>,
    /// Third-party registrable domain (eTLD+1).
    pub domain: String,
    pub host: String,
    /// Vendor id from `signatures/`, when one matched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor: Option<String>,
    /// Where in the request: `query:dl`, `body:json:context.page.url`, `header:referer`, `path`,
    /// `ws-frame`, `cookie:_ga`.
    pub channel: String,
    /// What that parameter means for the vendor (`page URL`, `hashed email`), when a signature says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameter_meaning: Option<String>,
    /// Decoding steps from the raw channel to the value, outermost first, e.g.
    /// `["url", "base64", "json"]`, or `["sha256(lowercase)"]`. Empty means plain.
    #[serde(default)]
    pub encoding: Vec<String>,
    pub severity: Severity,
    pub step: usize,
    #[serde(default)]
    pub step_label: String,
    pub page_url: String,
    /// The request (or WebSocket frame) id in the capture.
    pub request_id: String,
    pub request_url: String,
    pub method: String,
    pub fate: Fate,
    /// The script that sent it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initiator_url: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stack: Vec<StackFrame>,
    /// A short excerpt of the decoded payload around the value, with the value marked by
    /// `[[` and `]]`. Secrets are masked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<String>,
    /// Other canaries the same bytes matched, less specific than this finding's kind (the page
    /// address a search term travelled inside, the identifier a typed value also is). One
    /// disclosure is one finding: these are evidence, never findings of their own.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub also_matched: Vec<AlsoMatched>,
    /// For a full name: the parts that left with it (`first_name`, `last_name`), so a reader
    /// sees one finding naming the parts instead of three.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub name_parts: Vec<String>,
    /// What the severity model made of the page (the page the value is, for addresses and
    /// titles; the page open when it left, otherwise), and why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_context: Option<PageContext>,
    /// The regime whose rule gave the severity, and that rule in one sentence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regime: Option<Regime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// `canary` (a declared or journey value matched) or `pattern` (recognised by its form:
    /// an e-mail, phone, SSN or card number, or a hash in a hashed-identifier parameter).
    #[serde(default, skip_serializing_if = "Confidence::is_canary")]
    pub confidence: Confidence,
}

/// How a finding was made.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum Confidence {
    /// A known value (identity, page, title, search, typed text) matched.
    #[default]
    Canary,
    /// A value recognised by its form alone.
    Pattern,
}

impl Confidence {
    pub fn is_canary(&self) -> bool {
        *self == Confidence::Canary
    }
}

/// A less specific canary matched by the same bytes as a finding (see [`Finding::also_matched`]).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AlsoMatched {
    pub kind: DataKind,
    pub canary: String,
}

impl Finding {
    /// The grouping key: domain × kind × canary.
    pub fn group_key(&self) -> (String, DataKind, String) {
        (self.domain.clone(), self.kind, self.canary.clone())
    }

    /// The encoding chain as one string: `url → base64 → json`, or `plain`.
    pub fn encoding_label(&self) -> String {
        if self.encoding.is_empty() {
            "plain".to_string()
        } else {
            self.encoding.join(" → ")
        }
    }
}

/// Findings with the same domain × kind × canary.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FindingGroup {
    pub domain: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor: Option<String>,
    pub kind: DataKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_kind: Option<String>,
    pub canary: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    pub severity: Severity,
    /// All findings in the group.
    pub occurrences: usize,
    /// Of those, how many came from requests that were delivered.
    pub delivered: usize,
    /// How many came from requests only initiated (no proof the data left).
    pub initiated_only: usize,
    /// Distinct channels and encodings seen.
    pub channels: Vec<String>,
    pub encodings: Vec<String>,
    /// Steps it happened in.
    pub steps: Vec<usize>,
    /// Index into the full findings list of the first occurrence.
    pub first: usize,
    /// Pattern groups are kept apart from canary groups (see [`Finding::confidence`]).
    #[serde(default, skip_serializing_if = "Confidence::is_canary")]
    pub confidence: Confidence,
}

impl FindingGroup {
    /// An empty group for `f`'s domain × kind × canary, whose first finding is number `first`;
    /// [`FindingGroup::add`] then counts `f` (and every later member) in.
    pub fn for_finding(f: &Finding, first: usize) -> FindingGroup {
        FindingGroup {
            domain: f.domain.clone(),
            vendor: f.vendor.clone(),
            kind: f.kind,
            sub_kind: f.sub_kind.clone(),
            canary: f.canary.clone(),
            value: f.value.clone(),
            severity: f.severity,
            occurrences: 0,
            delivered: 0,
            initiated_only: 0,
            channels: Vec::new(),
            encodings: Vec::new(),
            steps: Vec::new(),
            first,
            confidence: f.confidence,
        }
    }

    /// Counts one more member in: occurrences, delivered or not, gravest severity, and the
    /// distinct channels, encodings and steps in the order first seen.
    pub fn add(&mut self, f: &Finding) {
        self.occurrences += 1;
        // A failed request is no proof the data left either.
        if f.fate.is_delivered() {
            self.delivered += 1;
        } else {
            self.initiated_only += 1;
        }
        self.severity = self.severity.max(f.severity);
        if self.vendor.is_none() {
            self.vendor.clone_from(&f.vendor);
        }
        if !self.channels.contains(&f.channel) {
            self.channels.push(f.channel.clone());
        }
        if !self.encodings.iter().any(|e| same_encoding(e, &f.encoding)) {
            self.encodings.push(f.encoding_label());
        }
        if !self.steps.contains(&f.step) {
            self.steps.push(f.step);
        }
    }
}

/// Whether the encoding chain `chain` renders as `label` (see [`Finding::encoding_label`]),
/// without rendering it.
fn same_encoding(label: &str, chain: &[String]) -> bool {
    if chain.is_empty() {
        return label == "plain";
    }
    let mut rest = label;
    for (i, step) in chain.iter().enumerate() {
        if i > 0 {
            match rest.strip_prefix(" → ") {
                Some(r) => rest = r,
                None => return false,
            }
        }
        match rest.strip_prefix(step.as_str()) {
            Some(r) => rest = r,
            None => return false,
        }
    }
    rest.is_empty()
}

/// A third party the journey contacted, whether or not anything leaked to it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct ThirdParty {
    pub domain: String,
    pub hosts: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    pub requests: usize,
    pub ws_frames: usize,
    /// Bytes sent to it: URL + headers + bodies.
    pub bytes_sent: u64,
    /// Names of cookies it set (Set-Cookie) or that the browser holds for its domain.
    pub cookies: Vec<String>,
    /// Kinds of data found going to it.
    pub data_kinds: Vec<DataKind>,
}

/// Everything the classifier concludes about one capture.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct Analysis {
    pub findings: Vec<Finding>,
    pub groups: Vec<FindingGroup>,
    pub inventory: Vec<ThirdParty>,
    /// Version string of the signature set used (sum of file hashes, or the bundled version).
    pub signatures_version: String,
    pub requests_analyzed: usize,
}
