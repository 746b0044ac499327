//! One port for `http://` and `https://`: the site server looks at the first byte of each
//! connection and, when it is a TLS handshake record, terminates TLS with a self-signed certificate
//! made at start-up.
//!
//! Why one port: a browser in live mode reaches the invented hosts of a test web through a single
//! `--host-resolver-rules=MAP *.test 127.0.0.1:PORT` rule, which maps every scheme to the same
//! port. Serving both schemes there lets one fixture page on `https://` send to trackers on
//! `https://` (an `http://` one would be blocked as mixed content) while the server's log stays the
//! one ground truth. The certificate is not trusted by any browser: a live run only accepts it with
//! `--ignore-certificate-errors`, which is exactly what the certificate-error tests rely on.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::rustls;
use tokio_rustls::TlsAcceptor;

/// A connection as the HTTP server sees it: plain TCP or TLS over TCP.
pub(super) trait Conn: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Conn for T {}

/// Longest a client may take to send its first byte or finish a TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Why the TLS side could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsSetupError {
    #[error("cannot make the test certificate: {0}")]
    Certificate(#[from] rcgen::Error),
    #[error("cannot configure TLS: {0}")]
    Config(#[from] rustls::Error),
}

/// The server-side TLS configuration: a fresh self-signed certificate for the loopback names and
/// every invented host the tests use (`*.test` and two levels below it).
pub(super) fn acceptor() -> Result<TlsAcceptor, TlsSetupError> {
    let names = vec![
        "localhost".to_string(),
        "*.test".to_string(),
        "*.site.test".to_string(),
    ];
    let certified = rcgen::generate_simple_self_signed(names)?;
    let cert = certified.cert.der().clone();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(rustls::pki_types::PrivatePkcs8KeyDer::from(
        certified.signing_key.serialize_der(),
    ));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// Accepts on a TCP listener and hands over ready connections, TLS already terminated where the
/// client spoke TLS. Handshakes run in their own tasks, so a slow or failing client never holds up
/// the others.
pub(super) struct SniffingListener {
    ready: mpsc::Receiver<(Pin<Box<dyn Conn>>, SocketAddr)>,
    addr: SocketAddr,
    accept_task: tokio::task::JoinHandle<()>,
}

impl SniffingListener {
    pub(super) fn new(listener: TcpListener, tls: TlsAcceptor) -> io::Result<SniffingListener> {
        let addr = listener.local_addr()?;
        let (tx, ready) = mpsc::channel(256);
        let accept_task = tokio::spawn(async move {
            loop {
                let (stream, peer) = match listener.accept().await {
                    Ok(c) => c,
                    Err(e) => {
                        // Out of file descriptors and the like: wait, as axum's own listener does.
                        tracing::debug!("accept failed: {e}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let tx = tx.clone();
                let tls = tls.clone();
                tokio::spawn(async move {
                    let Ok(Some(conn)) =
                        tokio::time::timeout(HANDSHAKE_TIMEOUT, open(stream, tls)).await
                    else {
                        return;
                    };
                    let _ = tx.send((conn, peer)).await;
                });
            }
        });
        Ok(SniffingListener {
            ready,
            addr,
            accept_task,
        })
    }
}

impl Drop for SniffingListener {
    fn drop(&mut self) {
        self.accept_task.abort();
    }
}

/// Peeks at the first byte: 0x16 starts a TLS handshake record.
async fn open(stream: TcpStream, tls: TlsAcceptor) -> Option<Pin<Box<dyn Conn>>> {
    let mut first = [0u8; 1];
    let n = stream.peek(&mut first).await.ok()?;
    if n == 1 && first[0] == 0x16 {
        match tls.accept(stream).await {
            Ok(s) => Some(Box::pin(s)),
            Err(e) => {
                // A browser that refuses the certificate closes here: expected in the TLS tests.
                tracing::debug!("TLS handshake failed: {e}");
                None
            }
        }
    } else {
        Some(Box::pin(stream))
    }
}

impl axum::serve::Listener for SniffingListener {
    type Io = Pin<Box<dyn Conn>>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(c) => c,
            // The accept task only ends when aborted by drop; never resolve then.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(self.addr)
    }
}
