//! The domain's UM scenario table (tests/scenarios) on the durable stores: every row on SQLite and
//! on PostgreSQL, each on a fresh database, through `Store`'s `CaseRepository` implementation.
//!
//! Run: `cargo test --test um_scenarios_stores` (PostgreSQL rows are skipped loudly without
//! `DATABASE_URL`, and fail without it when `UMGATE_REQUIRE_POSTGRES=1`).
#![allow(clippy::unwrap_used)]

mod scenarios;
mod stores_support;

use stores_support::{TestDb, TestResult, body};

fn main() {
    let args = libtest_mimic::Arguments::from_args();
    let rows = scenarios::scenarios()
        .iter()
        .enumerate()
        .map(|(index, scenario)| (scenario.name.to_owned(), body(move |db| run_row(db, index))))
        .collect();
    libtest_mimic::run(&args, stores_support::trials(rows)).exit();
}

async fn run_row(db: TestDb, index: usize) -> TestResult {
    let policy = scenarios::sample_policy();
    let scenario = scenarios::scenarios().into_iter().nth(index).ok_or_else(|| anyhow::anyhow!("no row {index}"))?;
    let store = db.open().await?;
    let outcome = scenarios::run_scenario(&policy, &scenario, index, store.clone()).await;
    store.close().await;
    outcome.map_err(anyhow::Error::msg)
}
