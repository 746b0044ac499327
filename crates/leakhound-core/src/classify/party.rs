//! First party or third party: registrable domains (eTLD+1) from the Public Suffix List.
//!
//! The list is embedded at compile time so the classifier never needs a network or a file at run time.
//! Hosts under a TLD the list does not know (`.test`, `.internal`) fall under the list's implicit `*`
//! rule, so `x.tracker.test` belongs to `tracker.test`. IP addresses and `localhost` have no public
//! suffix at all: each is its own registrable domain.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::sync::OnceLock;

use publicsuffix::{List, Psl};

/// Mozilla's Public Suffix List as shipped in `data/` (MPL-2.0, see THIRD-PARTY-NOTICES.md).
const PUBLIC_SUFFIX_LIST: &str = include_str!("../../data/public_suffix_list.dat");

fn list() -> &'static List {
    static LIST: OnceLock<List> = OnceLock::new();
    LIST.get_or_init(|| {
        // The embedded list is part of the build; if it ever failed to parse, an empty list still
        // gives sensible answers (last two labels) thanks to the implicit `*` rule.
        PUBLIC_SUFFIX_LIST.parse::<List>().unwrap_or_else(|err| {
            tracing::error!("embedded public suffix list is invalid: {err}");
            List::new()
        })
    })
}

/// The registrable domain of `host`: lower-cased, without a trailing dot or port brackets.
///
/// IP addresses, `localhost` and single-label hosts are returned as they are.
pub fn registrable_domain(host: &str) -> String {
    let host = host.trim().trim_end_matches('.').to_ascii_lowercase();
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if bare.parse::<IpAddr>().is_ok() || !host.contains('.') {
        return bare.to_string();
    }
    match list().domain(host.as_bytes()) {
        Some(domain) => String::from_utf8_lossy(domain.as_bytes()).into_owned(),
        // A host that is itself a public suffix (`github.io`): it is its own party.
        None => host,
    }
}

/// The host of a URL, lower-cased; `None` when the URL has none (`data:`, `about:blank`).
pub fn url_host(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    parsed.host_str().map(|h| {
        h.trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase()
    })
}

/// Decides whether a host belongs to the site under test.
#[derive(Debug, Clone, Default)]
pub struct Parties {
    first: BTreeSet<String>,
}

impl Parties {
    /// First party = the start URL's registrable domain plus every domain the journey declares.
    pub fn new(start_url: &str, declared: &[String]) -> Parties {
        let mut first = BTreeSet::new();
        if let Some(host) = url_host(start_url) {
            first.insert(registrable_domain(&host));
        }
        for d in declared {
            let d = d.trim();
            if d.is_empty() {
                continue;
            }
            // Accept a bare domain, a host or a URL.
            let host = url_host(d).unwrap_or_else(|| d.to_string());
            first.insert(registrable_domain(&host));
        }
        Parties { first }
    }

    /// Adds one more first-party host (HAR input without a start URL).
    pub fn add_host(&mut self, host: &str) {
        self.first.insert(registrable_domain(host));
    }

    pub fn is_empty(&self) -> bool {
        self.first.is_empty()
    }

    /// True when `host`'s registrable domain is the site's own.
    pub fn is_first_party_host(&self, host: &str) -> bool {
        self.first.contains(&registrable_domain(host))
    }

    /// True for a URL on a first-party host. URLs without a host (`data:`) are not third parties
    /// either, so they count as first party here.
    pub fn is_first_party_url(&self, url: &str) -> bool {
        match url_host(url) {
            Some(host) => self.is_first_party_host(&host),
            None => true,
        }
    }

    pub fn domains(&self) -> impl Iterator<Item = &str> {
        self.first.iter().map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registrable_domains() {
        assert_eq!(registrable_domain("x.tracker.test"), "tracker.test");
        assert_eq!(registrable_domain("a.b.tracker.test"), "tracker.test");
        assert_eq!(
            registrable_domain("www.google-analytics.com"),
            "google-analytics.com"
        );
        assert_eq!(registrable_domain("foo.bar.co.uk"), "bar.co.uk");
        assert_eq!(registrable_domain("WWW.Example.COM."), "example.com");
        assert_eq!(registrable_domain("127.0.0.1"), "127.0.0.1");
        assert_eq!(registrable_domain("[::1]"), "::1");
        assert_eq!(registrable_domain("localhost"), "localhost");
        // Private-section suffix: each github.io site is its own party.
        assert_eq!(registrable_domain("alice.github.io"), "alice.github.io");
        assert_eq!(registrable_domain("github.io"), "github.io");
    }

    #[test]
    fn first_party_includes_declared_domains() {
        let p = Parties::new(
            "https://www.mercy.test/",
            &[
                "mercy-cdn.test".into(),
                "https://portal.mercyhealth.test/x".into(),
            ],
        );
        assert!(p.is_first_party_host("static.mercy.test"));
        assert!(p.is_first_party_host("img.mercy-cdn.test"));
        assert!(p.is_first_party_host("mercyhealth.test"));
        assert!(!p.is_first_party_host("tracker.test"));
        assert!(p.is_first_party_url("data:image/png;base64,AAAA"));
        assert!(!p.is_first_party_url("https://www.facebook.com/tr?id=1"));
    }

    #[test]
    fn localhost_ports_share_a_party() {
        let p = Parties::new("http://127.0.0.1:8080/", &[]);
        assert!(p.is_first_party_url("http://127.0.0.1:9999/x"));
        assert!(!p.is_first_party_url("http://localhost:8080/x"));
    }
}
