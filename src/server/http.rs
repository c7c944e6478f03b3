//! What every HTTP request goes through: the body size limit, the request timeout, the request
//! span and log line, the request metrics; and the connection count of the listener.
//!
//! Why one middleware: the log line and the metrics need the status of the final response,
//! including the 413 and 503 answered here. PHI rule: a request is described by its method, the
//! route template the router matched (`unmatched` otherwise, never the raw path, which may carry
//! a member ID), its status and latency; never its query string, headers or body.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::serve::Listener;
use serde_json::json;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tracing::Instrument;

use super::metrics::{InFlight, Metrics};

/// The limits every request is held to, and where they are recorded.
#[derive(Debug, Clone)]
pub struct RequestLimits {
    pub max_body_bytes: usize,
    pub request_timeout: Duration,
    pub metrics: Metrics,
}

/// Routes polled by orchestrators every few seconds: logged at debug level, not info.
const PROBES: [&str; 3] = ["/healthz", "/readyz", "/metrics"];

/// A JSON error: `{"error": CODE, "message": TEXT}`.
pub fn json_error(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    (status, Json(json!({"error": code, "message": message.into()}))).into_response()
}

/// The middleware (`axum::middleware::from_fn_with_state`).
pub async fn observe(State(limits): State<RequestLimits>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let route = request.extensions().get::<MatchedPath>().map_or("unmatched", |m| m.as_str()).to_owned();
    let _in_flight = limits.metrics.request_in_flight();
    let span = tracing::info_span!("request", method = %method, route = %route);
    let response = handle(&limits, request, next).instrument(span.clone()).await;
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    limits.metrics.http_request(&method, &route, status, elapsed);
    let latency_ms = (elapsed.as_secs_f64() * 1e6).round() / 1e3;
    span.in_scope(|| {
        if status >= 500 {
            tracing::warn!(status, latency_ms, "request answered");
        } else if PROBES.contains(&route.as_str()) {
            tracing::debug!(status, latency_ms, "request answered");
        } else {
            tracing::info!(status, latency_ms, "request answered");
        }
    });
    response
}

async fn handle(limits: &RequestLimits, request: Request, next: Next) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|text| text.parse::<u64>().ok());
    if let Some(length) = declared.filter(|length| *length > limits.max_body_bytes as u64) {
        return json_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!(
                "the request body is {length} bytes; this server accepts at most {} bytes (server.max_body_megabytes)",
                limits.max_body_bytes
            ),
        );
    }
    match tokio::time::timeout(limits.request_timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => json_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "request_timeout",
            format!(
                "the request was not answered within {} s (server.request_timeout_seconds); try again later",
                limits.request_timeout.as_secs()
            ),
        ),
    }
}

/// A listener whose connections are counted (`umgate_http_open_connections`), so that a
/// shutdown can say how many it waits for.
#[derive(Debug)]
pub struct CountedListener<L> {
    inner: L,
    metrics: Metrics,
}

impl<L> CountedListener<L> {
    pub fn new(inner: L, metrics: Metrics) -> Self {
        Self { inner, metrics }
    }
}

impl<L: Listener> Listener for CountedListener<L> {
    type Io = Counted<L::Io>;
    type Addr = L::Addr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let (io, address) = self.inner.accept().await;
        (Counted { io, _open: self.metrics.connection_open() }, address)
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

/// A connection, counted while it is open.
#[derive(Debug)]
pub struct Counted<T> {
    io: T,
    _open: InFlight,
}

impl<T: AsyncRead + Unpin> AsyncRead for Counted<T> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Counted<T> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}
