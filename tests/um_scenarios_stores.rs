//! The domain's UM scenario table (tests/scenarios) on the durable stores: every row on SQLite and
//! on PostgreSQL, each on a fresh database, through `Store`'s `CaseRepository` implementation. A
//! restart step closes the store and opens the same file / database again.
//!
//! Run: `cargo test --test um_scenarios_stores` (PostgreSQL rows are skipped loudly without
//! `DATABASE_URL`, and fail without it when `UMGATE_REQUIRE_POSTGRES=1`).
#![allow(clippy::unwrap_used)]

mod scenarios;
mod stores_support;

use scenarios::RepositoryFactory;
use stores_support::{TestDb, TestResult, body};
use umgate::storage::Store;

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
    scenarios::run_scenario(&policy, &scenario, index, &Stores(db)).await.map_err(anyhow::Error::msg)
}

/// Opens the row's database; a restart closes the store and connects again to the same database.
struct Stores(TestDb);

impl RepositoryFactory for Stores {
    type Repo = Store;
    async fn open(&self) -> Result<Store, String> {
        self.0.open().await.map_err(|error| format!("{error:#}"))
    }
    async fn reopen(&self, store: Store) -> Result<Store, String> {
        store.close().await;
        self.open().await
    }
    async fn close(&self, store: Store) {
        store.close().await;
    }
}
