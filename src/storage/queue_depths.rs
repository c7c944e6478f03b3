//! How much work is waiting, counted in the store for the daemon's queue-depth gauges: cases
//! waiting for a reviewer by status, later 278 responses not yet sent, timers due and not yet
//! applied, inbound interchanges received and not yet answered.
//!
//! Why counts over partial or leading indexes only: the daemon samples these every few seconds on
//! a store that also serves the real-time path; each count reads one index range (cases_queue,
//! notifications_pending, timers_pending, interchanges_status_recent), never a table.

use chrono::{DateTime, Utc};

use super::error::StoreError;
use super::{Store, to_stored_precision};

/// The depths at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueDepths {
    /// Cases by status, for the statuses asked for (zero included).
    pub cases_by_status: Vec<(String, i64)>,
    /// Notifications (later 278 responses) pending delivery.
    pub notifications_pending: i64,
    /// Timers whose fire time has come and that are not done.
    pub timers_due: i64,
    /// Inbound interchanges with the status asked for (received, not yet answered).
    pub interchanges_pending: i64,
}

impl Store {
    /// Counts the queues at `now`: cases in each of `case_statuses`, pending notifications, timers
    /// due, interchanges whose status is `pending_interchange_status`.
    pub async fn queue_depths(
        &self,
        case_statuses: &[&str],
        pending_interchange_status: &str,
        now: DateTime<Utc>,
    ) -> Result<QueueDepths, StoreError> {
        const OP: &str = "count queue depths";
        const CASES: &str = "SELECT COUNT(*) FROM cases WHERE status = $1";
        const NOTIFICATIONS: &str = "SELECT COUNT(*) FROM notifications WHERE status = 'pending'";
        const TIMERS: &str = "SELECT COUNT(*) FROM timers WHERE done_at IS NULL AND fire_at <= $1";
        const INTERCHANGES: &str = "SELECT COUNT(*) FROM interchanges WHERE status = $1";
        let now = to_stored_precision(now);
        let mut depths = QueueDepths::default();
        macro_rules! run {
            ($pool:expr, $now:expr) => {
                async {
                    let pool = $pool;
                    for status in case_statuses {
                        let count: i64 = sqlx::query_scalar(CASES).bind(*status).fetch_one(pool).await?;
                        depths.cases_by_status.push(((*status).to_owned(), count));
                    }
                    depths.notifications_pending = sqlx::query_scalar(NOTIFICATIONS).fetch_one(pool).await?;
                    depths.timers_due = sqlx::query_scalar(TIMERS).bind($now).fetch_one(pool).await?;
                    depths.interchanges_pending =
                        sqlx::query_scalar(INTERCHANGES).bind(pending_interchange_status).fetch_one(pool).await?;
                    Ok::<(), sqlx::Error>(())
                }
                .await
            };
        }
        match self {
            Store::Sqlite(store) => run!(store.pool(), super::sqlite::timestamp_text(now)),
            Store::Postgres(store) => run!(store.pool(), now),
        }
        .map_err(|error| StoreError::database(OP, error))?;
        Ok(depths)
    }
}
