//! Vendor knowledge as data: which hosts belong to which tracker, and what its parameters mean.
//!
//! One JSON file per vendor lives in `signatures/` and is compiled into the binary; users can add
//! folders of their own at run time. Every file is validated when loaded: a typo in a field name or a
//! category is an error that names the file and the field, because a silently ignored signature would
//! silently turn a tracker into an "unknown third party". `docs/signatures.md` documents the format.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};

use include_dir::{include_dir, Dir};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The vendor files shipped with leakhound.
static BUNDLED: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/signatures");

/// Why a signature set could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    #[error("cannot read signatures {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid signature file {file}: field `{field}`: {message}")]
    Invalid {
        file: String,
        field: String,
        message: String,
    },
    #[error("signature id `{id}` is defined twice: in {first} and {second}")]
    Duplicate {
        id: String,
        first: String,
        second: String,
    },
}

/// What a vendor does, in the words a compliance report uses.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Advertising,
    Analytics,
    SessionReplay,
    TagManager,
    Social,
    Consent,
    Cdn,
    Marketing,
    Monitoring,
    Support,
    Video,
    Other,
}

impl Category {
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Advertising => "advertising",
            Category::Analytics => "analytics",
            Category::SessionReplay => "session_replay",
            Category::TagManager => "tag_manager",
            Category::Social => "social",
            Category::Consent => "consent",
            Category::Cdn => "cdn",
            Category::Marketing => "marketing",
            Category::Monitoring => "monitoring",
            Category::Support => "support",
            Category::Video => "video",
            Category::Other => "other",
        }
    }
}

/// What a parameter or body field carries. A closed list so a typo in a file is caught at load.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Meaning {
    PageUrl,
    PagePath,
    PageQuery,
    Referrer,
    Title,
    Event,
    EventData,
    Search,
    UserId,
    ClientId,
    SessionId,
    AccountId,
    ClickId,
    Email,
    Phone,
    HashedEmail,
    HashedPhone,
    HashedName,
    HashedPii,
    /// A date of birth in clear (Segment's reserved `birthday` trait).
    DateOfBirth,
    /// A health plan or loyalty member id in clear (for site-specific signatures).
    MemberId,
    UserData,
    ElementText,
    FormData,
    Replay,
    Payload,
    Domain,
}

impl Meaning {
    /// Words a compliance officer reads.
    pub fn describe(self) -> &'static str {
        match self {
            Meaning::PageUrl => "page URL",
            Meaning::PagePath => "page path",
            Meaning::PageQuery => "page query string",
            Meaning::Referrer => "referrer",
            Meaning::Title => "page title",
            Meaning::Event => "event name",
            Meaning::EventData => "event data",
            Meaning::Search => "search text",
            Meaning::UserId => "user id",
            Meaning::ClientId => "client id",
            Meaning::SessionId => "session id",
            Meaning::AccountId => "account id",
            Meaning::ClickId => "click id",
            Meaning::Email => "email",
            Meaning::Phone => "phone",
            Meaning::HashedEmail => "hashed email",
            Meaning::HashedPhone => "hashed phone",
            Meaning::HashedName => "hashed name",
            Meaning::HashedPii => "hashed personal data",
            Meaning::DateOfBirth => "date of birth",
            Meaning::MemberId => "member id",
            Meaning::UserData => "user data",
            Meaning::ElementText => "clicked element text",
            Meaning::FormData => "form data",
            Meaning::Replay => "session recording",
            Meaning::Payload => "encoded payload",
            Meaning::Domain => "site domain",
        }
    }
}

/// One collection endpoint: a host pattern and a path pattern (`*` matches any run of characters).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Endpoint {
    pub host: String,
    pub path: String,
    #[serde(default)]
    pub description: String,
    /// Parameter meanings specific to this endpoint, on top of the vendor's.
    #[serde(default)]
    pub parameters: BTreeMap<String, Meaning>,
}

/// One vendor file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Vendor {
    /// Stable id, `[a-z0-9_]+`, used in reports and policies.
    pub id: String,
    pub name: String,
    pub company: String,
    pub category: Category,
    /// Host patterns: `www.facebook.com` (exact) or `*.facebook.com` (any subdomain and the domain).
    pub hosts: Vec<String>,
    #[serde(default)]
    pub endpoints: Vec<Endpoint>,
    /// Query names and body field paths (dots between JSON keys, `*` for any one key or index).
    #[serde(default)]
    pub parameters: BTreeMap<String, Meaning>,
    /// Where the facts come from and what is not verified.
    #[serde(default)]
    pub notes: String,
}

impl Vendor {
    /// What the parameter at `key` means for this vendor (`dl`, `context.page.url`, `ed:search_query`).
    ///
    /// Tries the whole key, then ever shorter suffixes of its dotted path (so `batch.3.properties.
    /// $current_url` finds `properties.$current_url`), then ever shorter prefixes (so `e.10` finds
    /// `e`).
    pub fn meaning(&self, endpoint: Option<&Endpoint>, key: &str) -> Option<Meaning> {
        let lookup = |k: &str| -> Option<Meaning> {
            if let Some(ep) = endpoint {
                if let Some(m) = find_param(&ep.parameters, k) {
                    return Some(m);
                }
            }
            find_param(&self.parameters, k)
        };
        if let Some(m) = lookup(key) {
            return Some(m);
        }
        let mut rest = key;
        while let Some(pos) = rest.find(['.', ':']) {
            rest = &rest[pos + 1..];
            if let Some(m) = lookup(rest) {
                return Some(m);
            }
        }
        // Then the enclosing field: `e` for `e.10`, `properties` for `properties.$x`.
        let mut head = key;
        while let Some(pos) = head.rfind(['.', ':']) {
            head = &head[..pos];
            if let Some(m) = lookup(head) {
                return Some(m);
            }
        }
        None
    }
}

fn find_param(params: &BTreeMap<String, Meaning>, key: &str) -> Option<Meaning> {
    if let Some(m) = params.get(key) {
        return Some(*m);
    }
    if let Some(m) = params
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, m)| *m)
    {
        return Some(m);
    }
    params
        .iter()
        .find(|(k, _)| k.contains('*') && (segments_match(k, key) || glob_matches(k, key)))
        .map(|(_, m)| *m)
}

/// `a.*.c` matches `a.0.c` and `a.b.c`.
fn segments_match(pattern: &str, key: &str) -> bool {
    let p: Vec<&str> = pattern.split('.').collect();
    let k: Vec<&str> = key.split('.').collect();
    p.len() == k.len() && p.iter().zip(&k).all(|(p, k)| *p == "*" || p == k)
}

/// `*.facebook.com` matches `facebook.com` and any subdomain; other patterns match exactly.
pub fn host_matches(pattern: &str, host: &str) -> bool {
    match pattern.strip_prefix("*.") {
        Some(suffix) => {
            host == suffix
                || (host.len() > suffix.len()
                    && host.ends_with(suffix)
                    && host.as_bytes()[host.len() - suffix.len() - 1] == b'.')
        }
        None => pattern == host,
    }
}

/// A glob with `*` only.
pub fn glob_matches(pattern: &str, text: &str) -> bool {
    let Some((first, after_first)) = pattern.split_once('*') else {
        return pattern == text;
    };
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    let (middle, last) = match after_first.rsplit_once('*') {
        Some((m, l)) => (Some(m), l),
        None => (None, after_first),
    };
    for part in middle.into_iter().flat_map(|m| m.split('*')) {
        match rest.find(part) {
            Some(pos) => rest = &rest[pos + part.len()..],
            None => return false,
        }
    }
    rest.ends_with(last)
}

/// What matched a request.
#[derive(Debug, Clone, Copy)]
pub struct VendorMatch<'a> {
    pub vendor: &'a Vendor,
    pub endpoint: Option<&'a Endpoint>,
}

impl VendorMatch<'_> {
    pub fn meaning(&self, key: &str) -> Option<Meaning> {
        self.vendor.meaning(self.endpoint, key)
    }

    /// Whether some parameter of the vendor (or of the endpoint) means `m`.
    pub fn names(&self, m: Meaning) -> bool {
        self.vendor.parameters.values().any(|p| *p == m)
            || self
                .endpoint
                .is_some_and(|ep| ep.parameters.values().any(|p| *p == m))
    }
}

/// The signatures that can apply to one host (see [`Signatures::for_host`]).
#[derive(Debug, Clone, Default)]
pub struct HostSignatures {
    /// (vendor, endpoint) whose host pattern matches, most specific first.
    endpoints: Vec<(usize, usize)>,
    /// The vendor owning the host by host pattern alone.
    by_host: Option<usize>,
}

impl HostSignatures {
    /// The vendor a request to this host with `path` belongs to.
    pub fn match_path<'s>(&self, sigs: &'s Signatures, path: &str) -> Option<VendorMatch<'s>> {
        for &(vi, ei) in &self.endpoints {
            let vendor = sigs.vendors.get(vi)?;
            let endpoint = vendor.endpoints.get(ei)?;
            if glob_matches(&endpoint.path, path) {
                return Some(VendorMatch {
                    vendor,
                    endpoint: Some(endpoint),
                });
            }
        }
        let vendor = sigs.vendors.get(self.by_host?)?;
        Some(VendorMatch {
            vendor,
            endpoint: None,
        })
    }
}

/// A validated set of vendor signatures.
#[derive(Debug, Clone, Default)]
pub struct Signatures {
    vendors: Vec<Vendor>,
    /// Where each vendor came from, for duplicate errors.
    sources: Vec<String>,
    version: String,
    exact_hosts: HashMap<String, usize>,
}

impl Signatures {
    /// The signatures compiled into leakhound.
    pub fn bundled() -> Result<Signatures, SignatureError> {
        let mut files: Vec<(String, &[u8])> = BUNDLED
            .files()
            .filter(|f| f.path().extension().is_some_and(|e| e == "json"))
            .map(|f| (format!("signatures/{}", f.path().display()), f.contents()))
            .collect();
        files.sort_by(|a, b| a.0.cmp(&b.0));
        let mut set = Signatures::from_files(&files)?;
        set.version = format!("bundled-{}+{}", env!("CARGO_PKG_VERSION"), set.version);
        Ok(set)
    }

    /// Loads every `*.json` file under `dir` (recursively).
    pub fn load_dir(dir: &Path) -> Result<Signatures, SignatureError> {
        let mut paths = Vec::new();
        collect_json(dir, &mut paths)?;
        paths.sort();
        let mut files = Vec::new();
        for path in paths {
            let bytes = std::fs::read(&path).map_err(|source| SignatureError::Io {
                path: path.clone(),
                source,
            })?;
            files.push((path.display().to_string(), bytes));
        }
        let borrowed: Vec<(String, &[u8])> = files
            .iter()
            .map(|(n, b)| (n.clone(), b.as_slice()))
            .collect();
        let mut set = Signatures::from_files(&borrowed)?;
        set.version = format!("{}+{}", dir.display(), set.version);
        Ok(set)
    }

    /// Parses and validates named JSON documents. The version is a short hash of their contents.
    pub fn from_files(files: &[(String, &[u8])]) -> Result<Signatures, SignatureError> {
        let mut set = Signatures::default();
        let mut hasher = Sha256::new();
        for (name, bytes) in files {
            hasher.update(name.as_bytes());
            hasher.update(bytes);
            let vendor = parse_vendor(name, bytes)?;
            if let Some(pos) = set.vendors.iter().position(|v| v.id == vendor.id) {
                return Err(SignatureError::Duplicate {
                    id: vendor.id,
                    first: set.sources[pos].clone(),
                    second: name.clone(),
                });
            }
            set.vendors.push(vendor);
            set.sources.push(name.clone());
        }
        set.version = hex::encode(&hasher.finalize()[..4]);
        set.reindex();
        Ok(set)
    }

    /// Adds `other`'s vendors; a vendor with an id already present replaces it (user files win).
    pub fn merge(mut self, other: Signatures) -> Signatures {
        for (vendor, source) in other.vendors.into_iter().zip(other.sources) {
            match self.vendors.iter().position(|v| v.id == vendor.id) {
                Some(pos) => {
                    self.vendors[pos] = vendor;
                    self.sources[pos] = source;
                }
                None => {
                    self.vendors.push(vendor);
                    self.sources.push(source);
                }
            }
        }
        self.version = if self.version.is_empty() {
            other.version
        } else {
            format!("{}; {}", self.version, other.version)
        };
        self.reindex();
        self
    }

    fn reindex(&mut self) {
        self.exact_hosts.clear();
        for (i, v) in self.vendors.iter().enumerate() {
            for h in &v.hosts {
                if !h.starts_with("*.") {
                    self.exact_hosts.entry(h.clone()).or_insert(i);
                }
            }
        }
    }

    pub fn version(&self) -> &str {
        &self.version
    }

    pub fn vendors(&self) -> &[Vendor] {
        &self.vendors
    }

    pub fn get(&self, id: &str) -> Option<&Vendor> {
        self.vendors.iter().find(|v| v.id == id)
    }

    pub fn len(&self) -> usize {
        self.vendors.len()
    }

    pub fn is_empty(&self) -> bool {
        self.vendors.is_empty()
    }

    /// The vendor a request to `host` + `path` belongs to.
    ///
    /// Endpoints are the most specific evidence (one Google host serves several products), then an
    /// exact host, then the longest wildcard.
    pub fn match_request(&self, host: &str, path: &str) -> Option<VendorMatch<'_>> {
        self.for_host(host).match_path(self, path)
    }

    /// Everything about `host` that does not depend on the path, for [`HostSignatures::match_path`]:
    /// worked out once per host, it makes matching a request a few path comparisons.
    pub fn for_host(&self, host: &str) -> HostSignatures {
        let host = host.to_ascii_lowercase();
        let mut endpoints = Vec::new();
        for (vi, v) in self.vendors.iter().enumerate() {
            for (ei, ep) in v.endpoints.iter().enumerate() {
                if host_matches(&ep.host, &host) {
                    endpoints.push((ep.host.len() + ep.path.len(), vi, ei));
                }
            }
        }
        // Highest score first; among equals the first declared wins, as a linear scan would.
        endpoints.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
        let by_host = self
            .match_host(&host)
            .and_then(|v| self.vendors.iter().position(|o| std::ptr::eq(o, v)));
        HostSignatures {
            endpoints: endpoints.into_iter().map(|(_, v, e)| (v, e)).collect(),
            by_host,
        }
    }

    /// The vendor owning `host` by host pattern alone.
    pub fn match_host(&self, host: &str) -> Option<&Vendor> {
        if let Some(&i) = self.exact_hosts.get(host) {
            return self.vendors.get(i);
        }
        let mut best: Option<(usize, &Vendor)> = None;
        for v in &self.vendors {
            for h in &v.hosts {
                if h.starts_with("*.")
                    && host_matches(h, host)
                    && best.is_none_or(|(len, _)| h.len() > len)
                {
                    best = Some((h.len(), v));
                }
            }
        }
        best.map(|(_, v)| v)
    }
}

fn collect_json(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), SignatureError> {
    let entries = std::fs::read_dir(dir).map_err(|source| SignatureError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    for entry in entries {
        let entry = entry.map_err(|source| SignatureError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let path = entry.path();
        if path.is_dir() {
            collect_json(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
    Ok(())
}

fn invalid(file: &str, field: impl Into<String>, message: impl fmt::Display) -> SignatureError {
    SignatureError::Invalid {
        file: file.to_string(),
        field: field.into(),
        message: message.to_string(),
    }
}

/// Parses one vendor file and checks what serde cannot: id syntax, host and path patterns.
fn parse_vendor(file: &str, bytes: &[u8]) -> Result<Vendor, SignatureError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    let vendor: Vendor = serde_path_to_error::deserialize(de).map_err(|err| {
        let field = err.path().to_string();
        invalid(file, field, err.inner())
    })?;
    if vendor.id.is_empty()
        || !vendor
            .id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        return Err(invalid(file, "id", "must be non-empty [a-z0-9_]"));
    }
    if vendor.name.trim().is_empty() {
        return Err(invalid(file, "name", "must not be empty"));
    }
    if vendor.company.trim().is_empty() {
        return Err(invalid(file, "company", "must not be empty"));
    }
    if vendor.hosts.is_empty() {
        return Err(invalid(
            file,
            "hosts",
            "at least one host pattern is needed",
        ));
    }
    for (i, h) in vendor.hosts.iter().enumerate() {
        check_host(h).map_err(|m| invalid(file, format!("hosts[{i}]"), m))?;
    }
    for (i, ep) in vendor.endpoints.iter().enumerate() {
        check_host(&ep.host).map_err(|m| invalid(file, format!("endpoints[{i}].host"), m))?;
        if !ep.path.starts_with('/') && !ep.path.starts_with('*') {
            return Err(invalid(
                file,
                format!("endpoints[{i}].path"),
                "must start with `/` or `*`",
            ));
        }
    }
    Ok(vendor)
}

fn check_host(h: &str) -> Result<(), &'static str> {
    let bare = h.strip_prefix("*.").unwrap_or(h);
    if bare.is_empty() {
        return Err("empty host pattern");
    }
    if bare.contains('*') {
        return Err("`*` is only allowed as a leading `*.`");
    }
    if bare.contains("://") || bare.contains('/') {
        return Err("a host pattern has no scheme or path");
    }
    if bare != bare.to_ascii_lowercase() {
        return Err("host patterns are lower case");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"{
        "id": "acme", "name": "Acme Pixel", "company": "Acme Inc", "category": "advertising",
        "hosts": ["*.acme.test", "px.acme-cdn.test"],
        "endpoints": [{"host": "px.acme.test", "path": "/collect*", "parameters": {"u": "page_url"}}],
        "parameters": {"ref": "referrer", "properties.*.url": "page_url", "context.page.title": "title"}
    }"#;

    fn one(name: &str, text: &str) -> Result<Signatures, SignatureError> {
        Signatures::from_files(&[(name.to_string(), text.as_bytes())])
    }

    #[test]
    fn bundled_set_is_valid_and_large_enough() {
        let set = Signatures::bundled().expect("bundled signatures must load");
        assert!(set.len() >= 30, "only {} vendors", set.len());
        assert!(set.version().starts_with("bundled-"));
        for id in [
            "meta_pixel",
            "google_analytics_4",
            "universal_analytics",
            "google_ads",
            "google_tag_manager",
            "floodlight",
            "bing_uet",
            "x_twitter",
            "linkedin_insight",
            "tiktok",
            "snap",
            "pinterest",
            "clarity",
            "hotjar",
            "fullstory",
            "adobe_analytics",
            "segment",
            "mixpanel",
            "amplitude",
            "posthog",
            "heap",
            "hubspot",
            "criteo",
            "trade_desk",
            "quantcast",
            "pardot",
            "yahoo",
        ] {
            assert!(set.get(id).is_some(), "vendor {id} missing");
        }
    }

    #[test]
    fn matching_prefers_endpoint_then_exact_then_longest_wildcard() {
        let set = Signatures::bundled().unwrap();
        let m = set
            .match_request("stats.g.doubleclick.net", "/g/collect")
            .unwrap();
        assert_eq!(m.vendor.id, "google_analytics_4");
        let m = set
            .match_request("123456.fls.doubleclick.net", "/activityi;src=1")
            .unwrap();
        assert_eq!(m.vendor.id, "floodlight");
        assert_eq!(set.match_host("www.facebook.com").unwrap().id, "meta_pixel");
        assert!(set.match_host("tracker.test").is_none());
    }

    #[test]
    fn parameter_meaning_lookup() {
        let set = one("acme.json", GOOD).unwrap();
        let m = set.match_request("px.acme.test", "/collect/v2").unwrap();
        assert!(m.endpoint.is_some());
        assert_eq!(m.meaning("u"), Some(Meaning::PageUrl));
        assert_eq!(m.meaning("REF"), Some(Meaning::Referrer));
        assert_eq!(
            m.meaning("batch.0.context.page.title"),
            Some(Meaning::Title)
        );
        assert_eq!(m.meaning("properties.7.url"), Some(Meaning::PageUrl));
        assert_eq!(m.meaning("nope"), None);
        let h = set.match_request("cdn.acme.test", "/x.js").unwrap();
        assert!(h.endpoint.is_none());
        assert_eq!(h.meaning("u"), None);
    }

    #[test]
    fn bad_files_name_file_and_field() {
        let bad_category = GOOD.replace("\"advertising\"", "\"adverts\"");
        let err = one("sig/acme.json", &bad_category).unwrap_err().to_string();
        assert!(
            err.contains("sig/acme.json") && err.contains("category"),
            "{err}"
        );

        let bad_meaning = GOOD.replace("\"referrer\"", "\"refferer\"");
        let err = one("acme.json", &bad_meaning).unwrap_err().to_string();
        assert!(err.contains("parameters.ref"), "{err}");

        let typo_field = GOOD.replace("\"hosts\"", "\"host\"");
        let err = one("acme.json", &typo_field).unwrap_err().to_string();
        assert!(err.contains("host"), "{err}");

        let bad_host = GOOD.replace("*.acme.test", "https://acme.test/");
        let err = one("acme.json", &bad_host).unwrap_err().to_string();
        assert!(err.contains("hosts[0]"), "{err}");

        let bad_id = GOOD.replace("\"acme\"", "\"Acme Pixel\"");
        assert!(one("acme.json", &bad_id)
            .unwrap_err()
            .to_string()
            .contains("`id`"));
    }

    #[test]
    fn duplicates_rejected_but_merge_overrides() {
        let err = Signatures::from_files(&[
            ("a.json".into(), GOOD.as_bytes()),
            ("b.json".into(), GOOD.as_bytes()),
        ])
        .unwrap_err();
        assert!(matches!(err, SignatureError::Duplicate { .. }));

        let base = Signatures::bundled().unwrap();
        let n = base.len();
        let user = one("acme.json", GOOD).unwrap();
        let merged = base.merge(user);
        assert_eq!(merged.len(), n + 1);
        assert_eq!(merged.match_host("x.acme.test").unwrap().id, "acme");
        let renamed = GOOD.replace("Acme Pixel", "Acme Pixel 2");
        let merged = merged.merge(one("acme2.json", &renamed).unwrap());
        assert_eq!(merged.len(), n + 1);
        assert_eq!(merged.get("acme").unwrap().name, "Acme Pixel 2");
    }

    #[test]
    fn load_dir_reads_files_and_reports_bad_ones() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("acme.json"), GOOD).unwrap();
        let set = Signatures::load_dir(dir.path()).unwrap();
        assert_eq!(set.len(), 1);
        std::fs::write(dir.path().join("broken.json"), "{\"id\": 3}").unwrap();
        let err = Signatures::load_dir(dir.path()).unwrap_err().to_string();
        assert!(err.contains("broken.json") && err.contains("id"), "{err}");
    }

    #[test]
    fn globs_and_hosts() {
        assert!(glob_matches("/b/ss/*", "/b/ss/rsid/1/JS"));
        assert!(glob_matches("/tr*", "/tr/"));
        assert!(glob_matches("*/collect", "/g/collect"));
        assert!(!glob_matches("/tr", "/tr/"));
        assert!(glob_matches("*", "/anything"));
        assert!(glob_matches("/a/*/b/*/c", "/a/x/b/y/c"));
        assert!(!glob_matches("/a/*/b/*/c", "/a/x/c/y/b"));
        assert!(glob_matches("/a*b", "/ab"));
        assert!(!glob_matches("/ab*ba", "/aba"));
        assert!(host_matches("*.hotjar.com", "ws.hotjar.com"));
        assert!(host_matches("*.hotjar.com", "hotjar.com"));
        assert!(!host_matches("*.hotjar.com", "nothotjar.com"));
    }
}
