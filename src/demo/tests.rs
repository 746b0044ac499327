//! The demo must be self-consistent: every URL a page or script names is a host the browser is told
//! to map, every first-party link resolves, and the shipped journeys and policy parse.

use std::collections::BTreeSet;

use super::*;
use leakhound_serve::{ReceivedKind, SiteServer};

/// Every absolute `http://`, `https://` or `ws://` URL literal in a text, up to a quote, space,
/// `)` or `<`.
fn absolute_urls(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for scheme in ["http://", "https://", "ws://"] {
        let mut rest = text;
        while let Some(i) = rest.find(scheme) {
            let tail = &rest[i..];
            let end = tail
                .find(['\'', '"', ' ', ')', '<', '\n'])
                .unwrap_or(tail.len());
            out.push(tail[..end].to_string());
            rest = &tail[end..];
        }
    }
    out
}

fn host_of(url: &str) -> &str {
    let after = url.split("://").nth(1).unwrap_or("");
    after.split(['/', '?', '#', ':']).next().unwrap_or("")
}

#[test]
fn every_url_in_the_site_is_a_mapped_host() {
    let mapped: BTreeSet<String> = host_map().into_iter().collect();
    let site = site();
    let mut seen = BTreeSet::new();
    for file in site.files() {
        let text = String::from_utf8_lossy(&file.bytes);
        for url in absolute_urls(&text) {
            let host = host_of(&url).to_string();
            // Prose in comments names vendors' docs; only hosts the pages contact must be mapped.
            if host.is_empty() || host.starts_with("www.w3.org") {
                continue;
            }
            assert!(
                mapped.contains(&host),
                "{}{} names unmapped host {host} ({url})",
                file.host.as_str(),
                file.path
            );
            seen.insert(host);
        }
    }
    let unused: Vec<&String> = mapped.difference(&seen).collect();
    assert!(unused.is_empty(), "hosts mapped but never used: {unused:?}");
}

#[test]
fn first_party_links_and_assets_resolve() {
    let site = site();
    for file in site.files().iter().filter(|f| f.path.ends_with(".html")) {
        let text = String::from_utf8_lossy(&file.bytes);
        for attr in ["href=\"/", "src=\"/", "action=\"/"] {
            for (i, _) in text.match_indices(attr) {
                let tail = &text[i + attr.len() - 1..];
                let end = tail.find('"').unwrap_or(tail.len());
                let path = tail[..end].split(['?', '#']).next().unwrap_or("");
                assert!(
                    site.lookup(file.host.as_str(), path).is_some(),
                    "{}{} links to missing {path}",
                    file.host.as_str(),
                    file.path
                );
            }
        }
    }
}

#[test]
fn extensionless_vendor_files_get_script_and_style_types() {
    let site = site();
    let gtag = site.lookup("www.googletagmanager.com", "/gtag/js").unwrap();
    assert!(gtag.content_type.starts_with("text/javascript"));
    let css = site.lookup("fonts.googleapis.com", "/css2").unwrap();
    assert!(css.content_type.starts_with("text/css"));
    let tags = site
        .lookup("portal.mercy-mychart.test", "/assets/tags.js")
        .unwrap();
    assert!(tags.content_type.starts_with("text/javascript"));
}

#[test]
fn demo_journeys_and_policy_parse() {
    for (name, text) in SCENARIOS {
        let s = leakhound_core::scenario::parse_str(name, text)
            .unwrap_or_else(|e| panic!("{name} does not parse: {e}"));
        assert_eq!(s.start_url, START_URL, "{name}");
        assert!(s.first_party.iter().any(|d| d == "mercy-mychart.test"));
    }
    let portal = leakhound_core::scenario::parse_str("p", SCENARIOS[1].1).unwrap();
    assert_eq!(
        portal
            .identity
            .get("password")
            .and_then(|p| p.env.as_deref()),
        Some(PASSWORD_ENV)
    );
    let policy: serde_json::Value = serde_json::from_str(POLICY).unwrap();
    assert_eq!(policy["allow"][0]["domain"], "careslot.test");
}

#[tokio::test]
async fn the_server_plays_every_demo_host() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = SiteServer::start(site()).await.unwrap();
    let get = |host: &'static str, path: &'static str| {
        let addr = server.addr();
        async move {
            let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
            let req = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
            s.write_all(req.as_bytes()).await.unwrap();
            let mut buf = Vec::new();
            s.read_to_end(&mut buf).await.unwrap();
            String::from_utf8_lossy(&buf).into_owned()
        }
    };
    let home = get("www.mercy-general.test", "/").await;
    assert!(home.starts_with("HTTP/1.1 200"), "{home}");
    assert!(home.contains("Mercy General Hospital"));
    let chest = get("www.mercy-general.test", "/conditions/chest-pain").await;
    assert!(chest.contains("referrerpolicy=\"unsafe-url\""));
    let dash = get("portal.mercy-mychart.test", "/dashboard").await;
    assert!(dash.contains("MGH-4471-2093"));
    assert!(get("www.facebook.com", "/tr/?id=1&ev=PageView")
        .await
        .starts_with("HTTP/1.1 204"));
    assert!(get("bat.bing.com", "/bat.js")
        .await
        .starts_with("HTTP/1.1 200"));
    assert!(get("bat.bing.com", "/action/0?evt=pageLoad")
        .await
        .starts_with("HTTP/1.1 204"));
    assert!(get("www.mercy-general.test", "/no-such-page")
        .await
        .starts_with("HTTP/1.1 404"));

    let url = format!("ws://{}/api/v2/client/ws?site_id=3141592", server.addr());
    let mut req =
        tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(url)
            .unwrap();
    req.headers_mut()
        .insert("host", "ws.hotjar.com".parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    futures::SinkExt::send(
        &mut ws,
        tokio_tungstenite::tungstenite::Message::Text("{\"type\":\"page\"}".into()),
    )
    .await
    .unwrap();
    for _ in 0..50 {
        if server
            .received()
            .iter()
            .any(|r| r.kind == ReceivedKind::WsText)
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(server
        .received()
        .iter()
        .any(|r| r.kind == ReceivedKind::WsText && r.host == "ws.hotjar.com"));
    server.shutdown().await;
}

#[test]
fn commented_templates_parse() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/templates");
    let mut n = 0;
    for name in [
        "symptom-search.json",
        "portal-login.json",
        "appointment-booking.json",
    ] {
        let text = std::fs::read_to_string(dir.join(name)).unwrap();
        assert!(
            text.starts_with("//"),
            "{name} should open with its comment"
        );
        leakhound_core::scenario::parse_str(name, &text)
            .unwrap_or_else(|e| panic!("template {name} does not parse: {e}"));
        n += 1;
    }
    assert_eq!(n, 3);
}
