//! The demo hospital: "Mercy General" and its "Mercy MyChart" portal, fictional sites with the
//! trackers hospitals commonly carry, served by [`leakhound_serve`] on loopback.
//!
//! Everything is compiled in (`site/<host>/<path>`), so `leakhound demo` needs nothing but Chromium.
//! The tracker scripts are leakhound's own emulations of each vendor's public wire format, served
//! under the vendor's real loader hostname and sending to its real collection hostname, so the
//! classifier and signatures see exactly the shapes they see on real sites. The browser must send
//! every host of [`hosts`] to the server; nothing leaves the machine.
//!
//! The planted flows (what must be found) and negative controls (what must not) are listed in
//! `tests/fixtures/demo-expected.json`.

use std::net::SocketAddr;
use std::path::Path;

use include_dir::{include_dir, Dir};

use crate::pipeline::ReportOptions;
use leakhound_browser::journey::RunOptions;
use leakhound_browser::offline::{HostRule, MapError};
use leakhound_core::classify::{ClassifyOptions, SignatureError, Signatures};
use leakhound_core::report::{Format, Policy, PolicyError};
use leakhound_core::scenario::{Scenario, ScenarioError};
use leakhound_serve::{Role, Site};

static SITE: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/src/demo/site");

/// Where the demo journeys start.
pub const START_URL: &str = "http://www.mercy-general.test/";

/// The hospital's registrable domains: the site and its patient portal on another domain.
pub const FIRST_PARTY: [&str; 2] = ["mercy-general.test", "mercy-mychart.test"];

/// The demo journeys, as shipped in `scenarios/demo/` (file name, JSON).
pub const SCENARIOS: [(&str, &str); 3] = [
    (
        "symptom-search.json",
        include_str!("../../scenarios/demo/symptom-search.json"),
    ),
    (
        "portal-login.json",
        include_str!("../../scenarios/demo/portal-login.json"),
    ),
    (
        "appointment-booking.json",
        include_str!("../../scenarios/demo/appointment-booking.json"),
    ),
];

/// The demo policy (`scenarios/demo-policy.json`): allows the scheduling vendor with a BAA.
pub const POLICY: &str = include_str!("../../scenarios/demo-policy.json");

/// Where [`POLICY`] lives in the repository, as reports name it.
pub const POLICY_PATH: &str = "scenarios/demo-policy.json";

/// The environment variable holding the demo patient's portal password.
pub const PASSWORD_ENV: &str = "LEAKHOUND_DEMO_PASSWORD";

/// The demo patient's portal password when [`PASSWORD_ENV`] is not set. Not a real secret: the
/// demo portal accepts anything, and the value only has to be recognisable when it leaks.
pub const DEFAULT_PASSWORD: &str = "Tr0ub4dor&3-demo";

/// Why the demo could not be set up. Every case is a bug in the bundled files, not user input.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(transparent)]
    Map(#[from] MapError),
    #[error(transparent)]
    Signatures(#[from] SignatureError),
    #[error(transparent)]
    Policy(#[from] PolicyError),
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
}

/// One demo journey, parsed.
#[derive(Debug, Clone)]
pub struct DemoJourney {
    /// The file stem (`symptom-search`): the folder its outputs go to.
    pub stem: &'static str,
    /// The path reports name (`scenarios/demo/symptom-search.json`).
    pub file: String,
    pub scenario: Scenario,
}

/// The demo journeys of [`SCENARIOS`], parsed, in order.
pub fn journeys() -> Result<Vec<DemoJourney>, DemoError> {
    SCENARIOS
        .iter()
        .map(|(file, text)| {
            let display = format!("scenarios/demo/{file}");
            let scenario = leakhound_core::scenario::parse_str(&display, text)?;
            Ok(DemoJourney {
                stem: file.trim_end_matches(".json"),
                file: display,
                scenario,
            })
        })
        .collect()
}

/// `base` (the user's browser choices) made into the demo's run: offline, with every host of
/// [`HOSTS`] mapped to the demo server at `addr`, so nothing leaves the machine.
pub fn run_options(mut base: RunOptions, addr: SocketAddr) -> Result<RunOptions, DemoError> {
    base.offline = true;
    base.map = host_map()
        .iter()
        .map(|h| HostRule::parse(&format!("{h}={addr}")))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(base)
}

/// How the demo classifies and reports: bundled signatures, the demo policy, `formats`.
pub fn report_options(formats: Vec<Format>) -> Result<ReportOptions, DemoError> {
    Ok(ReportOptions {
        classify: ClassifyOptions {
            signatures: Signatures::bundled()?,
            ..Default::default()
        },
        policy: Some(Policy::parse(POLICY, Path::new(POLICY_PATH))?),
        formats,
        redact: false,
    })
}

/// The `{{env.NAME}}` lookup of the demo journeys: the portal password from [`PASSWORD_ENV`] (or
/// [`DEFAULT_PASSWORD`]), anything else from the process environment.
pub fn env_lookup() -> impl Fn(&str) -> Option<String> + Send + Sync {
    let password = std::env::var(PASSWORD_ENV).unwrap_or_else(|_| DEFAULT_PASSWORD.to_string());
    move |name: &str| {
        if name == PASSWORD_ENV {
            Some(password.clone())
        } else {
            std::env::var(name).ok()
        }
    }
}

/// What a demo host is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostKind {
    /// A first-party page host (http).
    FirstParty,
    /// A third-party host serving a script or stylesheet (https).
    Loader,
    /// A third-party or first-party collection endpoint; unknown paths answer 204.
    Collector,
    /// A host the pages open a `ws://` WebSocket to. The browser must reach it directly (WebSockets
    /// cannot be answered in-browser), e.g. with a resolver rule to the server's port.
    WebSocket,
}

/// One host the demo pages contact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoHost {
    pub host: &'static str,
    /// `http`, `https` or `ws`: how the pages address it.
    pub scheme: &'static str,
    pub kind: HostKind,
}

const fn h(host: &'static str, scheme: &'static str, kind: HostKind) -> DemoHost {
    DemoHost { host, scheme, kind }
}

/// Every host the demo pages contact. All of them must be mapped to the demo server.
pub const HOSTS: [DemoHost; 21] = [
    h("www.mercy-general.test", "http", HostKind::FirstParty),
    h("portal.mercy-mychart.test", "http", HostKind::FirstParty),
    h("metrics.mercy-general.test", "http", HostKind::Collector),
    h("fonts.googleapis.com", "https", HostKind::Loader),
    h("fonts.gstatic.com", "https", HostKind::Collector),
    h("www.googletagmanager.com", "https", HostKind::Loader),
    h("www.google-analytics.com", "https", HostKind::Collector),
    h("connect.facebook.net", "https", HostKind::Loader),
    h("www.facebook.com", "https", HostKind::Collector),
    h("bat.bing.com", "https", HostKind::Loader),
    h("static.ads-twitter.com", "https", HostKind::Loader),
    h("analytics.twitter.com", "https", HostKind::Collector),
    h("snap.licdn.com", "https", HostKind::Loader),
    h("px.ads.linkedin.com", "https", HostKind::Collector),
    h("analytics.tiktok.com", "https", HostKind::Loader),
    h("static.hotjar.com", "https", HostKind::Loader),
    h("ws.hotjar.com", "ws", HostKind::WebSocket),
    h("widget.leadloop.test", "https", HostKind::Loader),
    h("collect.leadloop.test", "https", HostKind::Collector),
    h("widget.careslot.test", "https", HostKind::Loader),
    h("api.careslot.test", "https", HostKind::Collector),
];

/// Host names of [`HOSTS`], for `--map HOST=ADDR`.
pub fn host_map() -> Vec<String> {
    HOSTS.iter().map(|h| h.host.to_string()).collect()
}

/// The demo site table, ready for [`leakhound_serve::SiteServer::start`].
pub fn site() -> Site {
    let (mut site, _) = Site::new().embedded_hosts(&SITE);
    // Files whose URL has no extension need their type said explicitly.
    for (host, path, ct) in [
        (
            "www.googletagmanager.com",
            "/gtag/js",
            "text/javascript; charset=utf-8",
        ),
        ("fonts.googleapis.com", "/css2", "text/css; charset=utf-8"),
    ] {
        if let Some(bytes) = file_bytes(host, path) {
            site = site.file(host, path, ct, bytes);
        }
    }
    // The portal shares the hospital's stylesheet and tag container (same web team).
    for path in ["/assets/site.css", "/assets/tags.js"] {
        if let Some(f) = site.lookup("www.mercy-general.test", path).cloned() {
            site = site.file(
                "portal.mercy-mychart.test",
                path,
                &f.content_type,
                f.bytes.clone(),
            );
        }
    }
    for host in HOSTS.iter().filter(|h| h.kind == HostKind::Collector) {
        site = site.role(host.host, Role::Tracker);
    }
    // Loader hosts that are also collection hosts (bat.bing.com/action/0, analytics.tiktok.com/api).
    site = site
        .role("bat.bing.com", Role::Tracker)
        .role("analytics.tiktok.com", Role::Tracker)
        .websocket("ws.hotjar.com", "/api/v2/client/ws");
    site
}

fn file_bytes(host: &str, path: &str) -> Option<Vec<u8>> {
    SITE.get_file(format!("{host}{path}"))
        .map(|f| f.contents().to_vec())
}

#[cfg(test)]
mod tests;
