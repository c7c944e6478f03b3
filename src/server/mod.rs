//! The daemon (`umgate serve`). Today it serves the operational endpoints (health, readiness);
//! the real-time X12 endpoint, mailboxes and the admin API land on top of this router.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use axum::{Json, Router, routing::get};
use serde_json::json;

/// What `umgate serve` needs to start.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
}

/// The HTTP router, separate from binding so that tests can drive it without a socket.
pub fn router() -> Router {
    Router::new()
        .route("/healthz", get(|| async { Json(json!({"status": "ok"})) }))
        .route("/readyz", get(|| async { Json(json!({"status": "ready"})) }))
}

/// Runs the daemon until SIGINT or SIGTERM.
pub async fn serve(options: ServeOptions) -> anyhow::Result<()> {
    std::fs::create_dir_all(&options.data_dir)
        .with_context(|| format!("creating the data directory {}", options.data_dir.display()))?;
    let listener = tokio::net::TcpListener::bind(options.listen).await.with_context(|| {
        format!("binding {}: is another umgate already running? Pick another address with --listen", options.listen)
    })?;
    tracing::info!(address = %options.listen, data_dir = %options.data_dir.display(), "umgate listening");
    axum::serve(listener, router()).with_graceful_shutdown(shutdown_signal()).await.context("serving HTTP")?;
    tracing::info!("umgate stopped");
    Ok(())
}

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
        () = ctrl_c => {},
        () = terminate => {},
    }
}
