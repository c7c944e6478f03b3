//! The daemon (`umgate serve`). It loads and checks the configuration and opens the database
//! (running its migrations) before it listens, so that a daemon that answers is one that can
//! work. It serves the operational endpoints (health, readiness, Prometheus metrics) over plain
//! HTTP or, when a certificate is configured, HTTPS; the real-time X12 endpoint, mailboxes and
//! the admin API land on top of [`router`].
//!
//! Shutdown: on SIGTERM or SIGINT the listener is closed at once (the port is free for a new
//! instance), idle connections are closed, requests in flight are given the configured grace
//! period to finish, and the process exits 0. Requests still running when the grace period ends
//! are dropped (their clients see the connection close) and the number is logged; a second
//! signal during the grace period ends it at once.

pub mod config;
pub mod http;
pub mod log_api;
pub mod mailbox;
pub mod metrics;
pub mod partners;
pub mod realtime;
mod sampler;
mod tls;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use axum::extract::DefaultBodyLimit;
use axum::http::{StatusCode, header};
use axum::{Json, Router, routing::get};
use serde_json::json;

pub use config::ServerConfig;
pub use metrics::Metrics;

/// What `umgate serve` needs to start.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub settings: ServerConfig,
    pub policy: crate::policy::Policy,
    pub data_dir: PathBuf,
    pub database_url: String,
    /// Batch mailboxes: poll interval, lease length (src/server/mailbox/config.rs).
    pub mailbox: mailbox::MailboxConfig,
}

/// What the readiness endpoint reports: what the daemon opened at start.
#[derive(Debug, Clone)]
pub struct Readiness {
    pub database: &'static str,
    pub plans: usize,
    pub programs: usize,
}

/// The HTTP router with its middleware (limits, logs, metrics), separate from binding so that
/// tests can drive it without a socket.
pub fn router(readiness: Readiness, limits: http::RequestLimits) -> Router {
    router_with(readiness, limits, Router::new())
}

/// [`router`] with more routes (`api`), which go through the same middleware.
pub fn router_with(readiness: Readiness, limits: http::RequestLimits, api: Router) -> Router {
    let ready = json!({
        "status": "ready",
        "database": readiness.database,
        "plans": readiness.plans,
        "programs": readiness.programs,
    });
    let metrics = limits.metrics.clone();
    Router::new()
        .route("/healthz", get(|| async { Json(json!({"status": "ok"})) }))
        .route("/readyz", get(move || async move { Json(ready) }))
        .route(
            "/metrics",
            get(move || async move { ([(header::CONTENT_TYPE, metrics::CONTENT_TYPE)], metrics.encode()) }),
        )
        .merge(api)
        .fallback(|| async { http::json_error(StatusCode::NOT_FOUND, "not_found", "no such endpoint") })
        .layer(axum::middleware::from_fn_with_state(limits.clone(), http::observe))
        .layer(DefaultBodyLimit::max(limits.max_body_bytes))
}

/// Runs the daemon until SIGINT or SIGTERM, then shuts down gracefully.
pub async fn serve(options: ServeOptions) -> anyhow::Result<()> {
    serve_until(options, shutdown_signal()).await
}

/// Runs the daemon until `stop` completes, then shuts down gracefully.
pub async fn serve_until(options: ServeOptions, stop: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
    let settings = options.settings;
    // One stop signal for both the HTTP server and the mailboxes, listened for from the start (a
    // signal during start-up stops the daemon gracefully, not by the default action).
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let stop_tx = std::sync::Arc::new(stop_tx);
    let signal_tx = std::sync::Arc::clone(&stop_tx);
    tokio::spawn(async move {
        stop.await;
        let _ = signal_tx.send(true);
    });
    tokio::task::yield_now().await;
    std::fs::create_dir_all(&options.data_dir)
        .with_context(|| format!("creating the data directory {}", options.data_dir.display()))?;
    let tls = match &settings.tls {
        Some(files) => Some(tls::server_config(files)?),
        None => None,
    };
    let store = crate::storage::Store::connect(&options.database_url)
        .await
        .context("opening the database (set --db or UMGATE_DATABASE_URL, or --data-dir for SQLite)")?;
    let summary = options.policy.summary();
    let readiness = Readiness {
        database: match store.backend() {
            crate::storage::Backend::Sqlite => "sqlite",
            crate::storage::Backend::Postgres => "postgres",
        },
        plans: summary.plans,
        programs: summary.programs,
    };
    let metrics = Metrics::new();
    let limits = http::RequestLimits {
        max_body_bytes: settings.max_body_bytes.value,
        request_timeout: settings.request_timeout.value,
        metrics: metrics.clone(),
    };
    // Before binding: a daemon that listens is one that answers (and the decoy hash of the
    // partner directory takes a few milliseconds); the mailboxes are ready (directories made,
    // worker connected) before the port opens.
    let policy = std::sync::Arc::new(options.policy);
    let guides = crate::grammar::GuideSet::builtin().map_err(|error| anyhow::anyhow!("{error}"))?;
    let partners = partners::PartnerDirectory::new(policy.partners());
    let mailboxes = mailbox::Mailbox::start(
        mailbox::MailboxSetup {
            data_dir: options.data_dir.clone(),
            database_url: options.database_url.clone(),
            policy: std::sync::Arc::clone(&policy),
            config: options.mailbox.clone(),
            metrics: metrics.clone(),
        },
        store.clone(),
    )
    .await?;
    let (gateway, worker) = realtime::worker::Gateway::start(store.clone(), policy, metrics.clone());
    tracing::info!(partners = partners.len(), "real-time endpoints /v1/x12 and /v1/core ready");
    let address = settings.listen.value;
    let listener = match tokio::net::TcpListener::bind(address).await {
        Ok(listener) => listener,
        Err(error) => {
            mailboxes.shutdown(Duration::ZERO).await;
            return Err(anyhow::Error::new(error).context(format!(
                "binding {address} (from {}): is another umgate already running? Pick another address with \
                 --listen or {}",
                settings.listen.origin,
                config::env::LISTEN
            )));
        }
    };
    let bound = listener.local_addr().unwrap_or(address);
    for (key, value, origin) in settings.describe() {
        tracing::debug!(setting = key, value = %value, from = %origin, "server setting");
    }
    tracing::info!(
        address = %bound,
        scheme = if tls.is_some() { "https" } else { "http" },
        data_dir = %options.data_dir.display(),
        database = readiness.database,
        plans = readiness.plans,
        "umgate listening"
    );
    let log_api = log_api::LogApi { store: store.clone(), admin_token: settings.log_api.admin_token.clone() };
    let api = log_api::routes(log_api)
        .merge(partners::authenticated_batches(mailbox::batches::router(mailboxes.batches_state()), &partners))
        .merge(realtime::routes(realtime::RealtimeState { gateway, guides }, partners));
    let app = router_with(readiness, limits, api);
    let sampler = sampler::spawn(store.clone(), metrics.clone(), settings.log_api.queue_sample_interval);
    let grace = settings.shutdown_grace.value;
    let stopped = |mut receiver: tokio::sync::watch::Receiver<bool>| async move {
        let _ = receiver.wait_for(|stopped| *stopped).await;
    };
    let mailboxes_stopped = async {
        stopped(stop_rx.clone()).await;
        mailboxes.shutdown(grace).await;
    };
    let served = async {
        let served = match tls {
            Some(config) => {
                let listener = http::CountedListener::new(tls::TlsListener::new(listener, config), metrics.clone());
                run_until_stopped(axum::serve(listener, app), stopped(stop_rx.clone()), grace, &metrics).await
            }
            None => {
                let listener = http::CountedListener::new(listener, metrics.clone());
                run_until_stopped(axum::serve(listener, app), stopped(stop_rx.clone()), grace, &metrics).await
            }
        };
        // A server that failed stops the mailboxes too.
        let _ = stop_tx.send(true);
        served
    };
    let (served, ()) = tokio::join!(served, mailboxes_stopped);
    served?;
    sampler.abort();
    // The queued real-time interchanges are answered (and recorded) before the store closes.
    worker.finish().await;
    store.close().await;
    tracing::info!("umgate stopped");
    Ok(())
}

/// Serves until `stop`, then stops accepting and waits up to `grace` for connections to finish.
async fn run_until_stopped<L>(
    server: axum::serve::Serve<L, Router, Router>,
    stop: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
    metrics: &Metrics,
) -> anyhow::Result<()>
where
    L: axum::serve::Listener,
    L::Addr: std::fmt::Debug,
{
    let (stopping_tx, stopping_rx) = tokio::sync::oneshot::channel::<()>();
    let server = server.with_graceful_shutdown(async move {
        let _ = stopping_rx.await;
    });
    let mut server = std::pin::pin!(server.into_future());
    tokio::select! {
        result = &mut server => return result.context("serving HTTP"),
        () = stop => {}
    }
    tracing::info!(
        in_flight = metrics.requests_in_flight(),
        connections = metrics.open_connections(),
        grace_seconds = grace.as_secs(),
        "shutting down: no new connections; waiting for requests in flight"
    );
    let _ = stopping_tx.send(());
    tokio::select! {
        finished = tokio::time::timeout(grace, server) => match finished {
            Ok(result) => result.context("serving HTTP"),
            Err(_) => {
                tracing::warn!(
                    in_flight = metrics.requests_in_flight(),
                    connections = metrics.open_connections(),
                    "shutdown grace period over: closing the remaining connections"
                );
                Ok(())
            }
        },
        () = shutdown_signal() => {
            tracing::warn!(
                in_flight = metrics.requests_in_flight(),
                connections = metrics.open_connections(),
                "second stop signal: closing the remaining connections now"
            );
            Ok(())
        }
    }
}

/// SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!(signal = "SIGINT", "stop requested"),
        () = terminate => tracing::info!(signal = "SIGTERM", "stop requested"),
    }
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;

    use super::*;

    fn app(max_body_bytes: usize, request_timeout: Duration) -> (Router, Metrics) {
        let metrics = Metrics::new();
        let limits = http::RequestLimits { max_body_bytes, request_timeout, metrics: metrics.clone() };
        let readiness = Readiness { database: "sqlite", plans: 5, programs: 4 };
        (router(readiness, limits), metrics)
    }

    async fn call(app: Router, request: Request<Body>) -> (StatusCode, String, Option<String>) {
        let response = app.oneshot(request).await.unwrap_or_else(|e| match e {});
        let status = response.status();
        let content_type =
            response.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap_or_default();
        (status, String::from_utf8_lossy(&body).into_owned(), content_type)
    }

    fn get_request(path: &str) -> Request<Body> {
        Request::get(path).body(Body::empty()).unwrap_or_default()
    }

    #[tokio::test]
    async fn metrics_count_requests_by_route_template_and_status() {
        let (app, _) = app(1024, Duration::from_secs(5));
        assert_eq!(call(app.clone(), get_request("/readyz")).await.0, StatusCode::OK);
        let (status, body, _) = call(app.clone(), get_request("/members/M123456789?dob=19700101")).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(body, r#"{"error":"not_found","message":"no such endpoint"}"#);
        let (status, text, content_type) = call(app, get_request("/metrics")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(content_type.as_deref(), Some(metrics::CONTENT_TYPE));
        assert!(text.contains(r#"umgate_http_requests_total{method="GET",route="/readyz",status="200"} 1"#), "{text}");
        assert!(
            text.contains(r#"umgate_http_requests_total{method="GET",route="unmatched",status="404"} 1"#),
            "{text}"
        );
        assert!(!text.contains("M123456789") && !text.contains("dob"), "no path or query in labels: {text}");
        // The scrape itself is in flight while it is encoded.
        assert!(text.contains("umgate_http_requests_in_flight 1"), "{text}");
    }

    #[tokio::test]
    async fn a_declared_body_over_the_limit_is_413_in_json() {
        let (app, metrics) = app(1000, Duration::from_secs(5));
        let request = Request::post("/healthz")
            .header(header::CONTENT_LENGTH, "1001")
            .body(Body::from(vec![b'x'; 1001]))
            .unwrap_or_default();
        let (status, body, content_type) = call(app, request).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(content_type.as_deref(), Some("application/json"));
        let body: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
        assert_eq!(body["error"], "body_too_large");
        assert!(body["message"].as_str().is_some_and(|m| m.contains("at most 1000 bytes")), "{body}");
        assert!(metrics.encode().contains(r#"route="/healthz",status="413"} 1"#));
    }

    #[tokio::test]
    async fn a_slow_request_is_503_in_json_after_the_timeout() {
        let metrics = Metrics::new();
        let limits = http::RequestLimits { max_body_bytes: 1024, request_timeout: Duration::from_millis(50), metrics };
        // The production middleware around a handler slower than the timeout.
        let app = Router::new()
            .route(
                "/slow",
                get(|| async {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    "late"
                }),
            )
            .layer(axum::middleware::from_fn_with_state(limits, http::observe));
        let started = std::time::Instant::now();
        let (status, body, _) = call(app, get_request("/slow")).await;
        assert!(started.elapsed() < Duration::from_secs(2));
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(body.contains(r#""error":"request_timeout""#), "{body}");
    }
}
