//! A virtual host table: which bytes to answer for which (host, path).
//!
//! Tests and the demo need one loopback server to play many hosts at once (the hospital, its portal,
//! every tracker's loader and collection host), because the browser is told to send all of them to it.
//! So files are keyed by a host *pattern* and a path, and each host has a role deciding what an unknown
//! path gets: a site answers 404 like a real web server, a tracker's collection host answers 204 like
//! a real collector that accepts anything.

use std::path::Path;

/// What an unknown path on a host is answered with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A web site: unknown paths are 404.
    Site,
    /// A tracker's collection or loader host: any unknown path is accepted with 204.
    Tracker,
}

/// A host pattern: `www.example.test`, `*.example.test` (any subdomain, not the apex) or `*` (any
/// host). Matching ignores case and any `:port` in the Host header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPattern(String);

impl HostPattern {
    pub fn new(pattern: &str) -> HostPattern {
        HostPattern(pattern.trim().trim_end_matches('.').to_ascii_lowercase())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// How well this pattern matches `host` (already normalised by [`normalize_host`]): `None` when
    /// it does not, otherwise a score where a more specific pattern scores higher, so an exact entry
    /// wins over a wildcard one and `*.a.example` wins over `*.example`.
    pub fn score(&self, host: &str) -> Option<usize> {
        let p = self.0.as_str();
        if p == "*" {
            return Some(0);
        }
        if let Some(suffix) = p.strip_prefix("*.") {
            let dotted = host.len() > suffix.len() + 1
                && host.ends_with(suffix)
                && host.as_bytes()[host.len() - suffix.len() - 1] == b'.';
            return dotted.then_some(1 + suffix.len());
        }
        (p == host).then_some(usize::MAX)
    }
}

/// Lower-cases a Host header value and strips its port (`WWW.X.test:8080` → `www.x.test`), keeping
/// bracketed IPv6 literals intact.
pub fn normalize_host(host: &str) -> String {
    let host = host.trim();
    let without_port = if let Some(rest) = host.strip_prefix('[') {
        match rest.find(']') {
            Some(end) => &host[..end + 2],
            None => host,
        }
    } else {
        match host.rfind(':') {
            Some(i) if host[i + 1..].bytes().all(|b| b.is_ascii_digit()) => &host[..i],
            _ => host,
        }
    };
    without_port.trim_end_matches('.').to_ascii_lowercase()
}

/// One file the server answers with.
#[derive(Debug, Clone)]
pub struct SiteFile {
    pub host: HostPattern,
    /// Absolute URL path, e.g. `/conditions/chest-pain.html`.
    pub path: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
    /// Extra response headers (e.g. `Referrer-Policy`), beside the ones every response gets.
    pub headers: Vec<(String, String)>,
}

/// The virtual host table handed to [`crate::SiteServer::start`].
#[derive(Debug, Clone)]
pub struct Site {
    pub(crate) files: Vec<SiteFile>,
    pub(crate) roles: Vec<(HostPattern, Role)>,
    pub(crate) websockets: Vec<(HostPattern, String)>,
    pub(crate) fallback: Role,
}

impl Default for Site {
    fn default() -> Self {
        Site::new()
    }
}

impl Site {
    /// An empty table: every path on every host is 404 except the built-in `/__lh/` behaviours.
    pub fn new() -> Site {
        Site {
            files: Vec::new(),
            roles: Vec::new(),
            websockets: Vec::new(),
            fallback: Role::Site,
        }
    }

    /// Adds one file. `path` gets a leading `/` if it lacks one. A later file for the same pattern
    /// and path replaces the earlier one.
    pub fn file(
        mut self,
        host: &str,
        path: &str,
        content_type: &str,
        bytes: impl Into<Vec<u8>>,
    ) -> Site {
        self.push_file(SiteFile {
            host: HostPattern::new(host),
            path: absolute_path(path),
            content_type: content_type.to_string(),
            bytes: bytes.into(),
            headers: Vec::new(),
        });
        self
    }

    /// Adds one file with extra response headers.
    pub fn file_with_headers(
        mut self,
        host: &str,
        path: &str,
        content_type: &str,
        bytes: impl Into<Vec<u8>>,
        headers: &[(&str, &str)],
    ) -> Site {
        self.push_file(SiteFile {
            host: HostPattern::new(host),
            path: absolute_path(path),
            content_type: content_type.to_string(),
            bytes: bytes.into(),
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        });
        self
    }

    /// Declares what unknown paths on hosts matching `host` get (see [`Role`]).
    pub fn role(mut self, host: &str, role: Role) -> Site {
        self.roles.push((HostPattern::new(host), role));
        self
    }

    /// Shorthand for `role(host, Role::Tracker)`.
    pub fn tracker_host(self, host: &str) -> Site {
        self.role(host, Role::Tracker)
    }

    /// What unknown paths on hosts with no declared role and no file get. `Role::Site` (404) unless
    /// changed; `Role::Tracker` makes the server a catch-all collector for any host.
    pub fn fallback(mut self, role: Role) -> Site {
        self.fallback = role;
        self
    }

    /// Makes `path` on `host` a WebSocket sink like the built-in `/__lh/ws`, so a page can open a
    /// socket at a vendor's own path.
    pub fn websocket(mut self, host: &str, path: &str) -> Site {
        self.websockets
            .push((HostPattern::new(host), absolute_path(path)));
        self
    }

    /// Adds every file of an embedded directory tree under `host`, with `prefix` prepended to their
    /// paths (`""` mounts the tree at `/`).
    pub fn embedded_dir(mut self, host: &str, prefix: &str, dir: &include_dir::Dir<'_>) -> Site {
        let mut stack = vec![dir];
        while let Some(d) = stack.pop() {
            for f in d.files() {
                let rel = f.path().to_string_lossy().replace('\\', "/");
                let path = format!("{}/{}", prefix.trim_end_matches('/'), rel);
                let ct = content_type_for(&rel);
                self = self.file(host, &path, ct, f.contents().to_vec());
            }
            stack.extend(d.dirs());
        }
        self
    }

    /// Adds an embedded tree whose top-level directories are host names: `www.x.test/index.html`
    /// is served as `http://www.x.test/index.html`. Returns the hosts found, in name order.
    pub fn embedded_hosts(mut self, root: &include_dir::Dir<'_>) -> (Site, Vec<String>) {
        let mut hosts = Vec::new();
        for host_dir in root.dirs() {
            let host = host_dir.path().to_string_lossy().to_string();
            // `include_dir` paths are relative to the root; strip the host component from files.
            let mut stack = vec![host_dir];
            while let Some(d) = stack.pop() {
                for f in d.files() {
                    let full = f.path().to_string_lossy().replace('\\', "/");
                    let rel = full.strip_prefix(&format!("{host}/")).unwrap_or(&full);
                    let ct = content_type_for(rel);
                    self = self.file(&host, rel, ct, f.contents().to_vec());
                }
                stack.extend(d.dirs());
            }
            hosts.push(host);
        }
        hosts.sort();
        (self, hosts)
    }

    /// Adds every file below a directory on disk under `host` (for bundles built at test time that
    /// must not be compiled in). Symlinks are followed; unreadable entries are an error.
    pub fn disk_dir(mut self, host: &str, prefix: &str, dir: &Path) -> std::io::Result<Site> {
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for entry in std::fs::read_dir(&d)? {
                let entry = entry?;
                let p = entry.path();
                if p.is_dir() {
                    stack.push(p);
                    continue;
                }
                let rel = match p.strip_prefix(dir) {
                    Ok(r) => r.to_string_lossy().replace('\\', "/"),
                    Err(_) => continue,
                };
                let bytes = std::fs::read(&p)?;
                let path = format!("{}/{}", prefix.trim_end_matches('/'), rel);
                self = self.file(host, &path, content_type_for(&rel), bytes);
            }
        }
        Ok(self)
    }

    /// Every file, for listings and tests.
    pub fn files(&self) -> &[SiteFile] {
        &self.files
    }

    fn push_file(&mut self, file: SiteFile) {
        self.files
            .retain(|f| !(f.host == file.host && f.path == file.path));
        self.files.push(file);
    }

    /// The file for a normalised host and a URL path (no query), trying `path`, then
    /// `path + "index.html"` for directory paths, then `path + ".html"` so pages have clean URLs.
    pub fn lookup(&self, host: &str, path: &str) -> Option<&SiteFile> {
        let mut candidates = vec![path.to_string()];
        if path.ends_with('/') {
            candidates.push(format!("{path}index.html"));
        } else {
            candidates.push(format!("{path}.html"));
            candidates.push(format!("{path}/index.html"));
        }
        for candidate in &candidates {
            let best = self
                .files
                .iter()
                .filter(|f| &f.path == candidate)
                .filter_map(|f| f.host.score(host).map(|s| (s, f)))
                .max_by_key(|(s, _)| *s);
            if let Some((_, f)) = best {
                return Some(f);
            }
        }
        None
    }

    /// Whether `path` on `host` is a declared WebSocket sink.
    pub fn is_websocket(&self, host: &str, path: &str) -> bool {
        self.websockets
            .iter()
            .any(|(h, p)| p == path && h.score(host).is_some())
    }

    /// The role of a host: the most specific declared role, else [`Role::Site`] if any file is
    /// served for it, else the fallback.
    pub fn role_of(&self, host: &str) -> Role {
        let declared = self
            .roles
            .iter()
            .filter_map(|(p, r)| p.score(host).map(|s| (s, *r)))
            .max_by_key(|(s, _)| *s);
        if let Some((_, role)) = declared {
            return role;
        }
        if self.files.iter().any(|f| f.host.score(host).is_some()) {
            return Role::Site;
        }
        self.fallback
    }
}

fn absolute_path(path: &str) -> String {
    if path.starts_with('/') {
        path.to_string()
    } else {
        format!("/{path}")
    }
}

/// A content type from a file name's extension; unknown extensions are served as bytes.
pub fn content_type_for(name: &str) -> &'static str {
    let ext = name.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
    match ext.as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "gif" => "image/gif",
        "jpg" | "jpeg" => "image/jpeg",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "txt" => "text/plain; charset=utf-8",
        "map" => "application/json",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_patterns_match_by_specificity() {
        let exact = HostPattern::new("www.x.test");
        let sub = HostPattern::new("*.x.test");
        let any = HostPattern::new("*");
        assert!(exact.score("www.x.test") > sub.score("www.x.test"));
        assert!(sub.score("www.x.test") > any.score("www.x.test"));
        assert_eq!(
            sub.score("x.test"),
            None,
            "wildcard must not match the apex"
        );
        assert_eq!(sub.score("evilx.test"), None);
        assert!(sub.score("a.b.x.test").is_some());
        assert_eq!(exact.score("www.y.test"), None);
    }

    #[test]
    fn host_header_is_normalised() {
        assert_eq!(normalize_host("WWW.X.Test:8080"), "www.x.test");
        assert_eq!(normalize_host("x.test."), "x.test");
        assert_eq!(normalize_host("[::1]:80"), "[::1]");
        assert_eq!(normalize_host("127.0.0.1"), "127.0.0.1");
    }

    #[test]
    fn lookup_prefers_exact_host_and_clean_urls() {
        let site = Site::new()
            .file("*", "/a.html", "text/html", "any")
            .file("www.x.test", "/a.html", "text/html", "exact")
            .file("www.x.test", "/dir/index.html", "text/html", "index");
        assert_eq!(
            site.lookup("www.x.test", "/a").map(|f| &f.bytes[..]),
            Some(&b"exact"[..])
        );
        assert_eq!(
            site.lookup("other.test", "/a.html").map(|f| &f.bytes[..]),
            Some(&b"any"[..])
        );
        assert_eq!(
            site.lookup("www.x.test", "/dir/").map(|f| &f.bytes[..]),
            Some(&b"index"[..])
        );
        assert_eq!(
            site.lookup("www.x.test", "/dir").map(|f| &f.bytes[..]),
            Some(&b"index"[..])
        );
        assert!(site.lookup("www.x.test", "/missing").is_none());
    }

    #[test]
    fn roles_default_by_files_then_fallback() {
        let site = Site::new()
            .file("www.x.test", "/", "text/html", "")
            .tracker_host("*.tracker.test");
        assert_eq!(site.role_of("www.x.test"), Role::Site);
        assert_eq!(site.role_of("c.tracker.test"), Role::Tracker);
        assert_eq!(site.role_of("nobody.test"), Role::Site);
        assert_eq!(
            site.fallback(Role::Tracker).role_of("nobody.test"),
            Role::Tracker
        );
    }

    #[test]
    fn later_file_replaces_earlier() {
        let site = Site::new()
            .file("h", "/p", "text/plain", "1")
            .file("h", "p", "text/plain", "2");
        assert_eq!(site.files().len(), 1);
        assert_eq!(
            site.lookup("h", "/p").map(|f| &f.bytes[..]),
            Some(&b"2"[..])
        );
    }
}
