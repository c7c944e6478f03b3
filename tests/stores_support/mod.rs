//! Runs one list of async tests against every store backend (libtest-mimic harness).
//!
//! SQLite: a fresh temporary file per test. PostgreSQL: a fresh database per test, created through
//! `DATABASE_URL` and dropped afterwards. Without `DATABASE_URL` the PostgreSQL trials are reported
//! as ignored and a banner says so on stderr; with `UMGATE_REQUIRE_POSTGRES=1` they fail instead.
//! A set but unreachable `DATABASE_URL` always fails them.
#![allow(dead_code)] // each test binary uses its own part of this module

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use libtest_mimic::{Failed, Trial};
use sqlx::Connection;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use umgate::storage::{DatabaseLocation, Store};

/// What a test returns.
pub type TestResult = anyhow::Result<()>;
/// A test body: receives the database it owns. Its future runs on the trial's own runtime, so it
/// need not be `Send`.
pub type TestBody = Arc<dyn Fn(TestDb) -> Pin<Box<dyn Future<Output = TestResult>>> + Send + Sync>;

/// Names a test body.
pub fn body<F, Fut>(test: F) -> TestBody
where
    F: Fn(TestDb) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = TestResult> + 'static,
{
    Arc::new(move |db| Box::pin(test(db)))
}

/// Lists async test functions as `(name, TestBody)` pairs.
#[macro_export]
macro_rules! store_tests {
    ($($name:ident),* $(,)?) => {
        vec![$((stringify!($name).to_owned(), $crate::stores_support::body($name))),*]
    };
}

/// The database a test owns. Cloning shares it; every [`TestDb::open`] is a new store (its own
/// connections), as a second daemon instance or a restart would be.
#[derive(Debug, Clone)]
pub struct TestDb {
    location: DatabaseLocation,
}

impl TestDb {
    /// Opens a new store on this test's database (migrating it the first time).
    pub async fn open(&self) -> anyhow::Result<Store> {
        Ok(Store::open(self.location.clone()).await?)
    }

    /// The database URL, for a test that drives the binary (`--db URL`): the SQLite file, or
    /// `DATABASE_URL` with this test's own database in place of its database name.
    pub fn url(&self) -> String {
        match &self.location {
            DatabaseLocation::Sqlite(path) => format!("sqlite://{}", path.display()),
            DatabaseLocation::Postgres(options) => {
                let admin = std::env::var("DATABASE_URL").unwrap_or_default();
                with_database(&admin, options.get_database().unwrap_or_default())
            }
        }
    }

    /// Runs one statement on a connection of its own, outside the store's API (to check that the
    /// schema itself refuses something). Returns the rows affected.
    pub async fn execute_outside_store(&self, statement: &str) -> Result<u64, sqlx::Error> {
        // A one-connection pool: a pool as executor keeps the future `Send` (a bare connection
        // borrowed across the await does not, with today's compiler).
        match &self.location {
            DatabaseLocation::Sqlite(path) => {
                let options = SqliteConnectOptions::new().filename(path).foreign_keys(true);
                let pool = SqlitePoolOptions::new().max_connections(1).connect_with(options).await?;
                let outcome = sqlx::raw_sql(statement).execute(&pool).await;
                pool.close().await;
                Ok(outcome?.rows_affected())
            }
            DatabaseLocation::Postgres(options) => {
                let pool = PgPoolOptions::new().max_connections(1).connect_with((**options).clone()).await?;
                let outcome = sqlx::raw_sql(statement).execute(&pool).await;
                pool.close().await;
                Ok(outcome?.rows_affected())
            }
        }
    }
}

/// How the PostgreSQL trials run in this process.
enum PostgresMode {
    Run(String),
    Skip,
    Missing,
}

fn postgres_mode() -> PostgresMode {
    match std::env::var("DATABASE_URL") {
        Ok(url) if !url.trim().is_empty() => PostgresMode::Run(url),
        _ if std::env::var("UMGATE_REQUIRE_POSTGRES").is_ok_and(|value| value == "1") => PostgresMode::Missing,
        _ => PostgresMode::Skip,
    }
}

/// Builds the trials of `tests` for SQLite and PostgreSQL, named `sqlite::NAME` and `postgres::NAME`.
pub fn trials(tests: Vec<(String, TestBody)>) -> Vec<Trial> {
    let mode = postgres_mode();
    if matches!(mode, PostgresMode::Skip) {
        eprintln!();
        eprintln!("################################################################################");
        eprintln!("##  PostgreSQL store tests SKIPPED: set DATABASE_URL=postgres://… to run them   ##");
        eprintln!("##  (e.g. DATABASE_URL=postgres://postgres@127.0.0.1:5432/test); set            ##");
        eprintln!("##  UMGATE_REQUIRE_POSTGRES=1 to make their absence a failure.                  ##");
        eprintln!("################################################################################");
        eprintln!();
    }
    let mut trials = Vec::new();
    for (name, test) in &tests {
        let test = test.clone();
        trials.push(Trial::test(format!("sqlite::{name}"), move || run_sqlite(&test)).with_kind("sqlite"));
    }
    for (name, test) in &tests {
        let test = test.clone();
        let trial = match &mode {
            PostgresMode::Run(url) => {
                let url = url.clone();
                Trial::test(format!("postgres::{name}"), move || run_postgres(&url, &test))
            }
            PostgresMode::Skip => Trial::test(format!("postgres::{name}"), || Err("DATABASE_URL is not set".into()))
                .with_ignored_flag(true),
            PostgresMode::Missing => Trial::test(format!("postgres::{name}"), || {
                Err("UMGATE_REQUIRE_POSTGRES=1 but DATABASE_URL is not set".into())
            }),
        };
        trials.push(trial.with_kind("postgres"));
    }
    trials
}

fn runtime() -> Result<tokio::runtime::Runtime, Failed> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|error| format!("tokio runtime: {error}").into())
}

/// Runs the test body to completion; a panic is reported as a failure (after which the caller
/// still cleans up).
fn run_body(runtime: &tokio::runtime::Runtime, test: &TestBody, db: TestDb) -> Result<(), Failed> {
    match catch_unwind(AssertUnwindSafe(|| runtime.block_on(test(db)))) {
        Ok(Ok(())) => Ok(()),
        Ok(Err(error)) => Err(format!("{error:#}").into()),
        Err(panic) => {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|text| (*text).to_owned()))
                .unwrap_or_default();
            Err(format!("test panicked: {message}").into())
        }
    }
}

fn run_sqlite(test: &TestBody) -> Result<(), Failed> {
    let dir = tempfile::tempdir().map_err(|error| format!("temp dir: {error}"))?;
    // A subdirectory that does not exist yet: the store must create it.
    let path = dir.path().join("data").join("umgate.db");
    let db = TestDb { location: DatabaseLocation::Sqlite(path) };
    let runtime = runtime()?;
    let outcome = run_body(&runtime, test, db);
    drop(runtime);
    outcome
}

fn run_postgres(admin_url: &str, test: &TestBody) -> Result<(), Failed> {
    let runtime = runtime()?;
    let (name, mut admin, db) = runtime.block_on(async {
        let admin_options =
            PgConnectOptions::from_str(admin_url).map_err(|_| "DATABASE_URL is not a valid PostgreSQL URL")?;
        let name = unique_database_name();
        let mut admin = PgConnection::connect_with(&admin_options)
            .await
            .map_err(|error| format!("DATABASE_URL unreachable: {error}"))?;
        sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .map_err(|error| format!("CREATE DATABASE {name}: {error}"))?;
        let db = TestDb { location: DatabaseLocation::Postgres(Box::new(admin_options.clone().database(&name))) };
        Ok::<_, Failed>((name, admin, db))
    })?;
    let outcome = run_body(&runtime, test, db);
    runtime.block_on(async {
        let dropped = sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut admin).await;
        let _ = admin.close().await;
        outcome?;
        dropped.map_err(|error| format!("DROP DATABASE {name}: {error}"))?;
        Ok(())
    })
}

/// `postgres://user@host:port/old?query` → `postgres://user@host:port/NAME?query`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (url, String::new()),
    };
    let authority_start = base.find("://").map(|i| i + 3).unwrap_or(0);
    let root = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    format!("{root}/{name}{query}")
}

fn unique_database_name() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|elapsed| elapsed.as_nanos()).unwrap_or_default();
    format!(
        "umgate_test_{}_{}_{}",
        std::process::id(),
        nanos % 1_000_000_000_000,
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}
