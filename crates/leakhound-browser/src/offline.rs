//! Offline replay: which hosts go to local servers, and how everything else is answered.
//!
//! In offline mode nothing may leave the machine, yet the page must behave as if its trackers were
//! reachable so that the capture shows what it would have sent. Two mechanisms work together:
//!
//! - Chromium's `--host-resolver-rules` map `--map`ped hosts to their local address and send every
//!   other name to `~NOTFOUND` (the backstop: even a request leakhound never sees cannot resolve).
//! - Every request pauses in the Fetch domain first. Requests for mapped `http://` hosts continue to
//!   the local server; mapped `https://` hosts are forwarded by leakhound to the local server over plain
//!   HTTP (so no certificates are needed); everything else is captured and answered locally with an
//!   empty response.

use std::net::SocketAddr;

/// One `--map HOST=ADDR` rule. `HOST` may start with `*.` (any subdomain) or be `*` (everything).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostRule {
    pub pattern: String,
    pub addr: SocketAddr,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum MapError {
    #[error("--map {0:?}: expected HOST=ADDR, e.g. www.hospital.test=127.0.0.1:8080")]
    Syntax(String),
    #[error("--map {rule:?}: {addr:?} is not an IP address with a port (e.g. 127.0.0.1:8080)")]
    Addr { rule: String, addr: String },
}

impl HostRule {
    /// Parses `HOST=ADDR`.
    pub fn parse(rule: &str) -> Result<HostRule, MapError> {
        let (host, addr) = rule
            .split_once('=')
            .filter(|(h, a)| !h.trim().is_empty() && !a.trim().is_empty())
            .ok_or_else(|| MapError::Syntax(rule.to_string()))?;
        let addr: SocketAddr = addr.trim().parse().map_err(|_| MapError::Addr {
            rule: rule.to_string(),
            addr: addr.trim().to_string(),
        })?;
        Ok(HostRule {
            pattern: host.trim().to_ascii_lowercase(),
            addr,
        })
    }

    pub fn matches(&self, host: &str) -> bool {
        host_matches(&self.pattern, host)
    }
}

/// `*` matches everything, `*.example.test` matches `example.test` and its subdomains.
pub fn host_matches(pattern: &str, host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    if pattern == "*" {
        return true;
    }
    if let Some(suffix) = pattern.strip_prefix("*.") {
        return host == suffix || host.ends_with(&format!(".{suffix}"));
    }
    host == pattern
}

/// The host table of an offline run.
#[derive(Debug, Clone, Default)]
pub struct HostMap {
    pub rules: Vec<HostRule>,
}

impl HostMap {
    pub fn new(rules: Vec<HostRule>) -> HostMap {
        HostMap { rules }
    }

    /// The local address for `host`, first matching rule wins.
    pub fn lookup(&self, host: &str) -> Option<SocketAddr> {
        self.rules.iter().find(|r| r.matches(host)).map(|r| r.addr)
    }

    /// The value of Chromium's `--host-resolver-rules`: mapped hosts to their address, everything
    /// else unresolvable, loopback names untouched.
    pub fn resolver_rules(&self) -> String {
        let mut parts: Vec<String> = self
            .rules
            .iter()
            .map(|r| format!("MAP {} {}", r.pattern, r.addr))
            .collect();
        parts.push("MAP * ~NOTFOUND".to_string());
        for loopback in ["localhost", "127.0.0.1", "[::1]"] {
            parts.push(format!("EXCLUDE {loopback}"));
        }
        parts.join(", ")
    }
}

/// True for hosts that never leave the machine.
pub fn is_loopback_host(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    if h.eq_ignore_ascii_case("localhost") || h.ends_with(".localhost") {
        return true;
    }
    h.parse::<std::net::IpAddr>()
        .map(|ip| ip.is_loopback())
        .unwrap_or(false)
}

/// What to do with a paused request in offline mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Disposition {
    /// Let the browser send it (loopback, or a mapped `http://` host the resolver rules route).
    Continue,
    /// Forward it to this local address over plain HTTP and answer with its response.
    Forward(SocketAddr),
    /// Answer it locally with an empty response.
    Fulfill,
}

/// Decides the disposition of a request to `url` in offline mode.
pub fn dispose(map: &HostMap, url: &url::Url) -> Disposition {
    let Some(host) = url.host_str() else {
        return Disposition::Continue;
    };
    match url.scheme() {
        "http" | "https" => {}
        _ => return Disposition::Continue,
    }
    if is_loopback_host(host) {
        return Disposition::Continue;
    }
    match map.lookup(host) {
        Some(_) if url.scheme() == "http" => Disposition::Continue,
        Some(addr) => Disposition::Forward(addr),
        None => Disposition::Fulfill,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_matches_rules() {
        let r = HostRule::parse("*.tracker.test=127.0.0.1:9000").unwrap();
        assert!(r.matches("a.tracker.test"));
        assert!(r.matches("tracker.test"));
        assert!(!r.matches("nottracker.test"));
        assert!(HostRule::parse("nohost").is_err());
        assert!(matches!(
            HostRule::parse("a.test=localhost"),
            Err(MapError::Addr { .. })
        ));
    }

    #[test]
    fn disposition() {
        let map = HostMap::new(vec![
            HostRule::parse("www.site.test=127.0.0.1:8000").unwrap()
        ]);
        let u = |s: &str| url::Url::parse(s).unwrap();
        assert_eq!(
            dispose(&map, &u("http://www.site.test/a")),
            Disposition::Continue
        );
        assert_eq!(
            dispose(&map, &u("https://www.site.test/a")),
            Disposition::Forward("127.0.0.1:8000".parse().unwrap())
        );
        assert_eq!(
            dispose(&map, &u("https://www.facebook.com/tr")),
            Disposition::Fulfill
        );
        assert_eq!(
            dispose(&map, &u("http://127.0.0.1:5/x")),
            Disposition::Continue
        );
        assert!(map.resolver_rules().contains("MAP * ~NOTFOUND"));
    }
}
