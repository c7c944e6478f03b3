//! The UM scenario table (tests/scenarios) on the in-memory repository. Storage runs the same
//! table on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used)]

mod scenarios;

use umgate::domain::MemoryRepository;

#[tokio::test]
async fn um_scenarios_on_memory_repository() {
    let results = scenarios::run_all(|| async { MemoryRepository::new() }).await;
    assert!(results.len() >= 20, "the table has {} rows", results.len());
    scenarios::assert_all_pass(&results);
}
