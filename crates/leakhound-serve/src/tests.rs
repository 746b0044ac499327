//! Server tests over real sockets: raw HTTP/1.1 written by hand so every header and byte the test
//! sends is known, and the log can be checked for completeness against it.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::*;

/// A parsed response: status, headers (lower-case names), body.
struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Resp {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Sends raw bytes (which must ask for `Connection: close`) and reads the whole response.
async fn raw(addr: SocketAddr, request: &[u8]) -> Resp {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(request).await.unwrap();
    let mut buf = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut buf))
        .await
        .unwrap()
        .unwrap();
    parse(&buf)
}

fn parse(buf: &[u8]) -> Resp {
    let split = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("response head");
    let head = String::from_utf8_lossy(&buf[..split]).to_string();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let mut body = buf[split + 4..].to_vec();
    if headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"))
    {
        body = dechunk(&body);
    }
    Resp {
        status,
        headers,
        body,
    }
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(eol) = b.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let size =
            usize::from_str_radix(std::str::from_utf8(&b[..eol]).unwrap().trim(), 16).unwrap();
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&b[eol + 2..eol + 2 + size]);
        b = &b[eol + 2 + size + 2..];
    }
}

async fn get(addr: SocketAddr, host: &str, path: &str) -> Resp {
    raw(
        addr,
        format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .await
}

fn demo_site() -> Site {
    Site::new()
        .file(
            "www.h.test",
            "/index.html",
            "text/html; charset=utf-8",
            "<h1>home</h1>",
        )
        .file(
            "www.h.test",
            "/conditions/chest-pain.html",
            "text/html",
            "chest",
        )
        .file("portal.h-chart.test", "/index.html", "text/html", "portal")
        .file("*.cdn.test", "/f.css", "text/css", "body{}")
        .file_with_headers(
            "www.h.test",
            "/rp",
            "text/plain",
            "rp",
            &[("Referrer-Policy", "unsafe-url")],
        )
        .tracker_host("*.tracker.test")
        .websocket("ws.replay.test", "/rec/v1")
}

#[tokio::test]
async fn log_holds_every_request_with_all_headers_and_body_in_order() {
    let server = SiteServer::start(demo_site()).await.unwrap();
    let addr = server.addr();

    // A body with NUL and invalid UTF-8 must come back byte for byte.
    let body: Vec<u8> = (0u8..=255).chain(b"tail".iter().copied()).collect();
    let mut post = format!(
        "POST /collect?a=1&b=%2Fconditions%2Fchest-pain HTTP/1.1\r\nHost: c.tracker.test\r\nX-Custom: one\r\nX-Custom: two\r\nCookie: _fbp=fb.1.2\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    post.extend_from_slice(&body);
    let r1 = get(addr, "www.h.test:8080", "/").await;
    let r2 = raw(addr, &post).await;
    let chunked = b"POST /g/collect HTTP/1.1\r\nHost: www.tracker.test\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n4\r\nen=a\r\n5\r\n\nen=b\r\n0\r\n\r\n";
    let r3 = raw(addr, chunked).await;
    assert_eq!((r1.status, r2.status, r3.status), (200, 204, 204));

    let log = server.received();
    assert_eq!(log.len(), 3, "{log:#?}");
    assert_eq!(log.iter().map(|r| r.seq).collect::<Vec<_>>(), vec![0, 1, 2]);
    assert!(log.windows(2).all(|w| w[0].time <= w[1].time));

    assert_eq!(log[0].host, "www.h.test:8080");
    assert_eq!((log[0].method.as_str(), log[0].path.as_str()), ("GET", "/"));
    assert!(log[0].body.is_empty());

    let p = &log[1];
    assert_eq!(p.kind, ReceivedKind::Http);
    assert_eq!(p.method, "POST");
    assert_eq!(p.path, "/collect?a=1&b=%2Fconditions%2Fchest-pain");
    assert_eq!(p.path_only(), "/collect");
    assert_eq!(p.body, body);
    assert_eq!(p.header("cookie"), Some("_fbp=fb.1.2"));
    let customs: Vec<&str> = p
        .headers
        .iter()
        .filter(|(k, _)| k == "x-custom")
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(customs, vec!["one", "two"], "repeated headers are all kept");
    assert_eq!(log[2].body, b"en=a\nen=b", "chunked bodies are reassembled");
    server.shutdown().await;
}

#[tokio::test]
async fn answers_by_host_with_roles_and_no_store() {
    let server = SiteServer::start(demo_site()).await.unwrap();
    let addr = server.addr();

    let home = get(addr, "www.h.test", "/").await;
    assert_eq!(home.status, 200);
    assert_eq!(home.body, b"<h1>home</h1>");
    assert_eq!(
        home.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(home.header("cache-control"), Some("no-store"));

    assert_eq!(get(addr, "portal.h-chart.test", "/").await.body, b"portal");
    let clean = get(addr, "WWW.H.TEST", "/conditions/chest-pain?from=search").await;
    assert_eq!((clean.status, clean.body.as_slice()), (200, &b"chest"[..]));
    assert_eq!(get(addr, "a.b.cdn.test", "/f.css").await.body, b"body{}");
    assert_eq!(
        get(addr, "www.h.test", "/rp")
            .await
            .header("referrer-policy"),
        Some("unsafe-url")
    );

    let missing = get(addr, "www.h.test", "/nope").await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.header("cache-control"), Some("no-store"));
    assert_eq!(
        get(addr, "x.tracker.test", "/anything/at/all?x=1")
            .await
            .status,
        204
    );
    assert_eq!(get(addr, "unknown.test", "/").await.status, 404);
    server.shutdown().await;

    let catch_all = SiteServer::start(Site::new().fallback(Role::Tracker))
        .await
        .unwrap();
    assert_eq!(
        get(catch_all.addr(), "unknown.test", "/x").await.status,
        204
    );
    catch_all.shutdown().await;
}

#[tokio::test]
async fn cors_preflights_are_allowed_and_origin_reflected() {
    let server = SiteServer::start(demo_site()).await.unwrap();
    let r = raw(
        server.addr(),
        b"OPTIONS /api/v2/pixel HTTP/1.1\r\nHost: analytics.tracker.test\r\nOrigin: http://www.h.test\r\nAccess-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: content-type\r\nAccess-Control-Request-Private-Network: true\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(r.status, 204);
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("http://www.h.test")
    );
    assert_eq!(r.header("access-control-allow-credentials"), Some("true"));
    assert_eq!(r.header("access-control-allow-methods"), Some("POST"));
    assert_eq!(
        r.header("access-control-allow-headers"),
        Some("content-type")
    );
    assert_eq!(
        r.header("access-control-allow-private-network"),
        Some("true")
    );
    assert_eq!(
        server.received()[0].method,
        "OPTIONS",
        "preflights are logged too"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn builtin_redirect_status_cookie_delay() {
    let server = SiteServer::start(demo_site()).await.unwrap();
    let addr = server.addr();

    let mut path = "/__lh/redirect?n=3&to=%2Fconditions%2Fchest-pain".to_string();
    let mut hops = 0;
    loop {
        let r = get(addr, "www.h.test", &path).await;
        if r.status != 302 {
            assert_eq!(r.body, b"chest");
            break;
        }
        hops += 1;
        path = r.header("location").unwrap().to_string();
        assert!(hops <= 3, "chain too long");
    }
    assert_eq!(hops, 3);
    assert_eq!(server.received().len(), 4);

    assert_eq!(
        get(addr, "www.h.test", "/__lh/status?code=503")
            .await
            .status,
        503
    );
    assert_eq!(
        get(addr, "www.h.test", "/__lh/status?code=x").await.status,
        400
    );
    assert_eq!(get(addr, "www.h.test", "/__lh/unknown").await.status, 404);
    let c = get(
        addr,
        "x.tracker.test",
        "/__lh/cookie?name=_ga&value=GA1.1.42&attrs=Path%3D%2F",
    )
    .await;
    assert_eq!(c.header("set-cookie"), Some("_ga=GA1.1.42; Path=/"));

    let t = Instant::now();
    let d = get(addr, "www.h.test", "/__lh/delay?ms=300").await;
    assert_eq!(d.status, 200);
    assert!(t.elapsed() >= Duration::from_millis(300));
    server.shutdown().await;
}

#[tokio::test]
async fn hang_never_answers_until_shutdown_which_is_bounded() {
    let server = SiteServer::start(demo_site()).await.unwrap();
    let addr = server.addr();
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(b"GET /__lh/hang HTTP/1.1\r\nHost: www.h.test\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 64];
    let early = tokio::time::timeout(Duration::from_millis(400), s.read(&mut buf)).await;
    assert!(early.is_err(), "hang answered early");
    assert_eq!(
        server.received().len(),
        1,
        "a hanging request is logged on arrival"
    );

    let t = Instant::now();
    server.shutdown().await;
    assert!(t.elapsed() < SHUTDOWN_GRACE + Duration::from_secs(1));
    // The connection is released: a 503 arrives or it closes.
    let after = tokio::time::timeout(Duration::from_secs(2), s.read(&mut buf)).await;
    assert!(after.is_ok(), "connection still open after shutdown");
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "still accepting after shutdown"
    );
}

#[tokio::test]
async fn websocket_frames_are_logged_in_order_with_their_handshake() {
    use futures::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    use tokio_tungstenite::tungstenite::Message;

    let server = SiteServer::start(demo_site()).await.unwrap();
    let addr = server.addr();

    let mut req = format!("ws://{addr}/rec/v1?site=42")
        .into_client_request()
        .unwrap();
    req.headers_mut()
        .insert("host", "ws.replay.test".parse().unwrap());
    req.headers_mut().insert(
        "sec-websocket-protocol",
        "replay.v1, other".parse().unwrap(),
    );
    let (mut ws, resp) = tokio_tungstenite::connect_async(req).await.unwrap();
    assert_eq!(
        resp.headers().get("sec-websocket-protocol").unwrap(),
        "replay.v1",
        "the first offered subprotocol is accepted"
    );
    ws.send(Message::Text("{\"url\":\"/conditions/chest-pain\"}".into()))
        .await
        .unwrap();
    ws.send(Message::Binary(vec![0u8, 159, 146, 150].into()))
        .await
        .unwrap();
    ws.close(None).await.unwrap();
    // Wait until the server has logged the close.
    for _ in 0..50 {
        if server
            .received()
            .iter()
            .any(|r| r.kind == ReceivedKind::WsClose)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // A second socket on the built-in sink, on another host, gets its own id.
    let mut req2 = format!("ws://{addr}/__lh/ws")
        .into_client_request()
        .unwrap();
    req2.headers_mut()
        .insert("host", "www.h.test".parse().unwrap());
    let (mut ws2, _) = tokio_tungstenite::connect_async(req2).await.unwrap();
    ws2.send(Message::Text("second".into())).await.unwrap();
    for _ in 0..50 {
        if server.received().iter().any(|r| r.body == b"second") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let log = server.received();
    let kinds: Vec<ReceivedKind> = log.iter().map(|r| r.kind).collect();
    assert_eq!(
        kinds,
        vec![
            ReceivedKind::WsHandshake,
            ReceivedKind::WsText,
            ReceivedKind::WsBinary,
            ReceivedKind::WsClose,
            ReceivedKind::WsHandshake,
            ReceivedKind::WsText,
        ]
    );
    assert_eq!(log[0].host, "ws.replay.test");
    assert_eq!(log[0].path, "/rec/v1?site=42");
    assert!(log[0].header("sec-websocket-key").is_some());
    assert_eq!(log[1].body, b"{\"url\":\"/conditions/chest-pain\"}");
    assert_eq!(log[2].body, vec![0u8, 159, 146, 150]);
    assert!(log[..4].iter().all(|r| r.socket == Some(0)));
    assert!(log[4..].iter().all(|r| r.socket == Some(4)));
    assert_eq!(log[5].path, "/__lh/ws");

    // The server ends open sockets on shutdown.
    server.shutdown().await;
    let end = tokio::time::timeout(Duration::from_secs(2), ws2.next()).await;
    assert!(end.is_ok(), "socket not closed by shutdown");
}

#[tokio::test]
async fn a_websocket_on_an_ordinary_path_is_refused_but_logged() {
    let server = SiteServer::start(demo_site()).await.unwrap();
    let r = raw(
        server.addr(),
        b"GET /not-a-socket HTTP/1.1\r\nHost: www.h.test\r\nUpgrade: websocket\r\nConnection: Upgrade, close\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    )
    .await;
    assert_eq!(r.status, 404);
    assert_eq!(server.received()[0].kind, ReceivedKind::WsHandshake);
    server.shutdown().await;
}
