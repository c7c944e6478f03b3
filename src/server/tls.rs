//! HTTPS: the certificate and key read at start, and a listener that completes TLS handshakes.
//!
//! Why a listener of our own on `tokio-rustls` rather than a server crate: `axum::serve` takes any
//! [`Listener`], so plain HTTP and HTTPS share one serving loop and one graceful shutdown. A
//! handshake runs in a task of its own with a time limit, so a client that connects and sends
//! nothing does not hold up the others. rustls uses the `ring` provider, already built for the
//! database driver's TLS.

use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::serve::Listener;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::{self, pki_types};

use super::config::TlsSettings;

/// How long a client may take to complete its handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The rustls server configuration from the PEM files; errors name the file, where the setting
/// came from, and what was wrong.
pub fn server_config(settings: &TlsSettings) -> anyhow::Result<Arc<rustls::ServerConfig>> {
    use pki_types::pem::PemObject;
    let certificate = &settings.certificate;
    let key = &settings.private_key;
    let place = |path: &Path, origin: &super::config::Origin, what: &str| {
        format!("TLS {what} {} (from {origin})", path.display())
    };
    let chain: Vec<pki_types::CertificateDer<'static>> = pki_types::CertificateDer::pem_file_iter(&certificate.value)
        .and_then(|certs| certs.collect::<Result<_, _>>())
        .map_err(|e| anyhow::anyhow!("{e}"))
        .with_context(|| {
            format!(
                "{}: cannot read a PEM certificate chain",
                place(&certificate.value, &certificate.origin, "certificate")
            )
        })?;
    if chain.is_empty() {
        anyhow::bail!(
            "{}: no CERTIFICATE block found: give the PEM certificate chain, leaf first",
            place(&certificate.value, &certificate.origin, "certificate")
        );
    }
    let private_key =
        pki_types::PrivateKeyDer::from_pem_file(&key.value).map_err(|e| anyhow::anyhow!("{e}")).with_context(|| {
            format!(
                "{}: cannot read a PEM private key (PKCS#8, PKCS#1 or SEC1)",
                place(&key.value, &key.origin, "private key")
            )
        })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS: no protocol version available")?
        .with_no_client_auth()
        .with_single_cert(chain, private_key)
        .with_context(|| {
            format!(
                "{} and {} do not make a usable pair (is the key the certificate's?)",
                place(&certificate.value, &certificate.origin, "certificate"),
                place(&key.value, &key.origin, "private key")
            )
        })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Accepts TCP connections and hands over those whose TLS handshake completed.
pub struct TlsListener {
    tcp: TcpListener,
    acceptor: TlsAcceptor,
    handshakes: JoinSet<Option<(tokio_rustls::server::TlsStream<TcpStream>, SocketAddr)>>,
}

impl std::fmt::Debug for TlsListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsListener").field("tcp", &self.tcp).finish_non_exhaustive()
    }
}

impl TlsListener {
    pub fn new(tcp: TcpListener, config: Arc<rustls::ServerConfig>) -> Self {
        Self { tcp, acceptor: TlsAcceptor::from(config), handshakes: JoinSet::new() }
    }
}

impl Listener for TlsListener {
    type Io = tokio_rustls::server::TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            tokio::select! {
                accepted = self.tcp.accept() => match accepted {
                    Ok((stream, peer)) => {
                        let acceptor = self.acceptor.clone();
                        self.handshakes.spawn(async move {
                            match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                                Ok(Ok(tls)) => Some((tls, peer)),
                                Ok(Err(error)) => {
                                    tracing::debug!(%peer, %error, "TLS handshake failed");
                                    None
                                }
                                Err(_) => {
                                    tracing::debug!(%peer, "TLS handshake timed out");
                                    None
                                }
                            }
                        });
                    }
                    Err(error) => accept_error(error).await,
                },
                Some(done) = self.handshakes.join_next(), if !self.handshakes.is_empty() => {
                    if let Ok(Some(connection)) = done {
                        return connection;
                    }
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}

/// As `axum::serve` does for plain TCP: per-connection errors are the client's; others (out of
/// file descriptors) are waited out.
async fn accept_error(error: io::Error) {
    use io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(error.kind(), ConnectionRefused | ConnectionAborted | ConnectionReset) {
        return;
    }
    tracing::error!(%error, "accepting a connection failed; retrying in 1 s");
    tokio::time::sleep(Duration::from_secs(1)).await;
}
