//! The daemon (`umgate serve`). It loads and checks the configuration and opens the database
//! (running its migrations) before it listens, so that a daemon that answers is one that can
//! work. Today it serves the operational endpoints (health, readiness); the real-time X12
//! endpoint, mailboxes and the admin API land on top of this router.

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
    pub config: PathBuf,
    pub database_url: String,
}

/// What the readiness endpoint reports: what the daemon opened at start.
#[derive(Debug, Clone)]
pub struct Readiness {
    pub database: &'static str,
    pub plans: usize,
    pub programs: usize,
}

/// The HTTP router, separate from binding so that tests can drive it without a socket.
pub fn router(readiness: Readiness) -> Router {
    let ready = json!({
        "status": "ready",
        "database": readiness.database,
        "plans": readiness.plans,
        "programs": readiness.programs,
    });
    Router::new()
        .route("/healthz", get(|| async { Json(json!({"status": "ok"})) }))
        .route("/readyz", get(move || async move { Json(ready) }))
}

/// Runs the daemon until SIGINT or SIGTERM.
pub async fn serve(options: ServeOptions) -> anyhow::Result<()> {
    std::fs::create_dir_all(&options.data_dir)
        .with_context(|| format!("creating the data directory {}", options.data_dir.display()))?;
    let policy =
        crate::policy::Policy::load(&options.config).map_err(|error| anyhow::anyhow!("{error}")).with_context(
            || format!("loading the configuration {} (check it with `umgate config check`)", options.config.display()),
        )?;
    let store = crate::storage::Store::connect(&options.database_url)
        .await
        .context("opening the database (set --db or UMGATE_DATABASE_URL, or --data-dir for SQLite)")?;
    let summary = policy.summary();
    let readiness = Readiness {
        database: match store.backend() {
            crate::storage::Backend::Sqlite => "sqlite",
            crate::storage::Backend::Postgres => "postgres",
        },
        plans: summary.plans,
        programs: summary.programs,
    };
    let listener = tokio::net::TcpListener::bind(options.listen).await.with_context(|| {
        format!("binding {}: is another umgate already running? Pick another address with --listen", options.listen)
    })?;
    tracing::info!(
        address = %options.listen,
        data_dir = %options.data_dir.display(),
        database = readiness.database,
        plans = readiness.plans,
        "umgate listening"
    );
    axum::serve(listener, router(readiness)).with_graceful_shutdown(shutdown_signal()).await.context("serving HTTP")?;
    store.close().await;
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
