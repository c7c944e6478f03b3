//! The daemon's periodic sampler: every `[server]` queue-sample interval it counts the queues in
//! the store (cases waiting for a reviewer by status, later 278 responses pending, timers due,
//! interchanges received and not yet answered) into the queue-depth gauges, and summarizes a
//! bounded number of logged interchanges that have no set summary yet (the transaction log's
//! search by type: rows logged before migration 0007 or by a path that does not summarize).
//!
//! Why a sampler rather than counting at each change: several instances share one PostgreSQL
//! store, and only the store knows the depth across all of them. A failed sample is logged and the
//! next one tried; the gauges keep their last value meanwhile.

use std::time::Duration;

use crate::domain::CaseStatus;
use crate::pipeline::log_index;
use crate::storage::Store;
use crate::storage::interchanges::status as interchange_status;

use super::metrics::Metrics;

/// The statuses of the review queue (those `CaseStatus::is_open_for_review` accepts).
pub const REVIEW_STATUSES: [CaseStatus; 1] = [CaseStatus::Pended];

/// Interchanges summarized per sample at most, so that a large backfill never delays the next
/// sample for long nor loads the store: at the default 15 s interval, 240,000 an hour.
const SUMMARIES_PER_SAMPLE: u64 = 1_000;
const SUMMARY_BATCH: i64 = 100;

/// One sample: the queue depths into `metrics`, then one bounded step of the summary backfill.
pub async fn sample(store: &Store, metrics: &Metrics) {
    let statuses: Vec<&str> = REVIEW_STATUSES.iter().map(|status| status.as_str()).collect();
    match store.queue_depths(&statuses, interchange_status::RECEIVED, chrono::Utc::now()).await {
        Ok(depths) => metrics.observe_queue_depths(&REVIEW_STATUSES, &depths),
        Err(error) => tracing::warn!(error = %error, "queue depth sample failed"),
    }
    match log_index::summarize_pending(store, SUMMARY_BATCH, SUMMARIES_PER_SAMPLE).await {
        Ok(0) => {}
        Ok(done) => tracing::debug!(interchanges = done, "transaction log summaries backfilled"),
        Err(error) => tracing::warn!(error = %error, "transaction log summary backfill failed"),
    }
}

/// Samples now and then every `interval` until the task is aborted.
pub fn spawn(store: Store, metrics: Metrics, interval: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            sample(&store, &metrics).await;
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_review_statuses_are_those_open_for_review() {
        assert!(REVIEW_STATUSES.iter().all(|status| status.is_open_for_review()));
    }
}
