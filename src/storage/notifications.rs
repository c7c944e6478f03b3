//! The queue of later answers to submitters (migration 0003): one row per `notification_due` case
//! event, queued by a trigger in the transaction that wrote the event, addressed to the sender of
//! the interchange that created the case.
//!
//! Why a lease and stored bytes: several instances may drain the queue, and a drain may crash
//! between writing a file and recording it. A claim leases rows to one owner (taken over once the
//! lease ended, as timers); the answer's bytes and control number are stored once, before the file
//! is written, so that a retry writes the very same interchange again instead of a second one with
//! other numbers; only the lease holder marks a row sent, once. The store knows nothing of X12:
//! the caller hands it bytes.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::error::StoreError;
use super::interchanges::Party;
use super::sequences::Advance;
use super::{Store, to_stored_precision};

/// Where a notification stands.
pub mod status {
    /// Queued, not yet delivered.
    pub const PENDING: &str = "pending";
    /// Delivered (its file written).
    pub const SENT: &str = "sent";
    /// Not written on its own: a later notification of the same case, sent in the same drain,
    /// tells the case as it stands.
    pub const SUPERSEDED: &str = "superseded";
    /// The case came from no logged interchange: nobody to address an X12 answer to.
    pub const UNADDRESSED: &str = "unaddressed";
}

/// One queued notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationRecord {
    pub id: i64,
    pub case_id: String,
    /// The `seq` of the case event that queued it.
    pub event_seq: i64,
    pub queued_at: DateTime<Utc>,
    /// The inbound interchange it answers (`None`: unaddressed).
    pub interchange_id: Option<i64>,
    /// That interchange's sender (ISA05/ISA06): the notification's addressee.
    pub sender: Option<Party>,
    /// That interchange's receiver (ISA07/ISA08): the notification's sender.
    pub receiver: Option<Party>,
    pub status: String,
    pub claimed_by: Option<String>,
    /// The ISA13 of the answer, once written.
    pub control_number: Option<String>,
    /// The answer interchange, once written (kept before it is delivered).
    pub content: Option<Vec<u8>>,
    pub written_at: Option<DateTime<Utc>>,
    pub sent_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str = "id, case_id, event_seq, queued_at, interchange_id, sender_qualifier, sender_id, \
    receiver_qualifier, receiver_id, status, claimed_by, control_number, content, written_at, sent_at";

fn party(qualifier: Option<String>, id: Option<String>) -> Option<Party> {
    match (qualifier, id) {
        (Some(qualifier), Some(id)) => Some(Party { qualifier, id }),
        _ => None,
    }
}

/// Decodes a row; `$time` reads a timestamp column (TEXT on SQLite, timestamptz on PostgreSQL).
macro_rules! record {
    ($row:expr, $time:ident, $optional_time:ident) => {{
        let row = $row;
        let text = |name: &'static str| row.try_get::<Option<String>, _>(name);
        let read = || -> Result<NotificationRecord, sqlx::Error> {
            Ok(NotificationRecord {
                id: row.try_get("id")?,
                case_id: row.try_get("case_id")?,
                event_seq: row.try_get("event_seq")?,
                queued_at: $time(row, "queued_at")?,
                interchange_id: row.try_get("interchange_id")?,
                sender: party(text("sender_qualifier")?, text("sender_id")?),
                receiver: party(text("receiver_qualifier")?, text("receiver_id")?),
                status: row.try_get("status")?,
                claimed_by: text("claimed_by")?,
                control_number: text("control_number")?,
                content: row.try_get("content")?,
                written_at: $optional_time(row, "written_at")?,
                sent_at: $optional_time(row, "sent_at")?,
            })
        };
        read().map_err(|_| StoreError::Corrupt { what: "notification" })
    }};
}

fn sqlite_time(row: &sqlx::sqlite::SqliteRow, name: &str) -> Result<DateTime<Utc>, sqlx::Error> {
    parse_timestamp(&row.try_get::<String, _>(name)?)
}

fn sqlite_optional_time(row: &sqlx::sqlite::SqliteRow, name: &str) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    row.try_get::<Option<String>, _>(name)?.as_deref().map(parse_timestamp).transpose()
}

fn postgres_time(row: &sqlx::postgres::PgRow, name: &str) -> Result<DateTime<Utc>, sqlx::Error> {
    row.try_get(name)
}

fn postgres_optional_time(row: &sqlx::postgres::PgRow, name: &str) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    row.try_get(name)
}

fn sqlite_record(row: &sqlx::sqlite::SqliteRow) -> Result<NotificationRecord, StoreError> {
    record!(row, sqlite_time, sqlite_optional_time)
}

fn postgres_record(row: &sqlx::postgres::PgRow) -> Result<NotificationRecord, StoreError> {
    record!(row, postgres_time, postgres_optional_time)
}

impl Store {
    /// Leases up to `limit` pending notifications to `owner` until `lease_until`: those never
    /// claimed and those whose lease ended before `now`, oldest first. Two claimers never get the
    /// same notification while its lease runs.
    pub async fn claim_notifications(
        &self,
        now: DateTime<Utc>,
        owner: &str,
        lease_until: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<NotificationRecord>, StoreError> {
        const OP: &str = "claim notifications";
        let (now, lease_until) = (to_stored_precision(now), to_stored_precision(lease_until));
        let mut records = match self {
            Store::Sqlite(store) => {
                // One statement: SQLite runs it under the write lock.
                let sql = format!(
                    "UPDATE notifications SET claimed_by = $1, claimed_until = $2 WHERE id IN ( \
                         SELECT id FROM notifications WHERE status = 'pending' \
                         AND (claimed_until IS NULL OR claimed_until < $3) ORDER BY id LIMIT $4) \
                     RETURNING {COLUMNS}"
                );
                let rows = sqlx::query(&sql)
                    .bind(owner)
                    .bind(timestamp_text(lease_until))
                    .bind(timestamp_text(now))
                    .bind(limit)
                    .fetch_all(store.pool())
                    .await
                    .map_err(|error| StoreError::database(OP, error))?;
                rows.iter().map(sqlite_record).collect::<Result<Vec<_>, _>>()?
            }
            Store::Postgres(store) => {
                // SKIP LOCKED: rows another instance is claiming right now are left to it.
                let columns = COLUMNS.split(", ").map(|c| format!("notifications.{c}")).collect::<Vec<_>>().join(", ");
                let sql = format!(
                    "WITH due AS ( \
                         SELECT id FROM notifications WHERE status = 'pending' \
                         AND (claimed_until IS NULL OR claimed_until < $3) ORDER BY id LIMIT $4 \
                         FOR UPDATE SKIP LOCKED) \
                     UPDATE notifications SET claimed_by = $1, claimed_until = $2 FROM due \
                     WHERE notifications.id = due.id RETURNING {columns}"
                );
                let rows = sqlx::query(&sql)
                    .bind(owner)
                    .bind(lease_until)
                    .bind(now)
                    .bind(limit)
                    .fetch_all(store.pool())
                    .await
                    .map_err(|error| StoreError::database(OP, error))?;
                rows.iter().map(postgres_record).collect::<Result<Vec<_>, _>>()?
            }
        };
        records.sort_by_key(|record| record.id);
        Ok(records)
    }

    /// Keeps the answer written for a notification leased to `owner`: its ISA13 and bytes, once,
    /// and in the same transaction moves the sequences its control numbers came from (see
    /// [`super::sequences`]). `Ok(false)` when the lease is no longer ours or an answer was
    /// already kept (then the kept one is the answer: read it back with
    /// [`Store::get_notification`]); [`StoreError::SequenceMoved`] when another writer took
    /// numbers meanwhile (nothing kept: write it again with fresh numbers).
    pub async fn store_notification_content(
        &self,
        id: i64,
        owner: &str,
        control_number: &str,
        content: &[u8],
        advances: &[Advance],
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        const OP: &str = "store notification";
        const SQL: &str = "UPDATE notifications SET control_number = $3, content = $4, written_at = $5 \
            WHERE id = $1 AND claimed_by = $2 AND status = 'pending' AND content IS NULL";
        let at = to_stored_precision(at);
        macro_rules! keep {
            ($begin:expr, $at:expr, $advance:path) => {{
                let mut tx = $begin.await.map_err(|error| StoreError::database(OP, error))?;
                let done = sqlx::query(SQL)
                    .bind(id)
                    .bind(owner)
                    .bind(control_number)
                    .bind(content)
                    .bind($at)
                    .execute(&mut *tx)
                    .await
                    .map_err(|error| StoreError::database(OP, error))?
                    .rows_affected();
                if done != 1 {
                    return Ok(false);
                }
                $advance(&mut tx, advances).await?;
                tx.commit().await.map_err(|error| StoreError::database(OP, error))?;
                Ok(true)
            }};
        }
        match self {
            Store::Sqlite(store) => {
                keep!(store.pool().begin_with("BEGIN IMMEDIATE"), timestamp_text(at), super::sequences::advance_sqlite)
            }
            Store::Postgres(store) => keep!(store.pool().begin(), at, super::sequences::advance_postgres),
        }
    }

    /// Moves a pending notification leased to `owner` to `status` ([`status::SENT`] or
    /// [`status::SUPERSEDED`]) at `at`. `Ok(true)` when this call did it; `Ok(false)` when it was
    /// not pending any more or the lease is another's: it is then never marked twice.
    pub async fn mark_notification(
        &self,
        id: i64,
        owner: &str,
        new_status: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        const OP: &str = "mark notification";
        const SQL: &str = "UPDATE notifications SET status = $3, sent_at = $4 \
            WHERE id = $1 AND claimed_by = $2 AND status = 'pending'";
        let at = to_stored_precision(at);
        let done = match self {
            Store::Sqlite(store) => sqlx::query(SQL)
                .bind(id)
                .bind(owner)
                .bind(new_status)
                .bind(timestamp_text(at))
                .execute(store.pool())
                .await
                .map(|done| done.rows_affected()),
            Store::Postgres(store) => sqlx::query(SQL)
                .bind(id)
                .bind(owner)
                .bind(new_status)
                .bind(at)
                .execute(store.pool())
                .await
                .map(|done| done.rows_affected()),
        }
        .map_err(|error| StoreError::database(OP, error))?;
        Ok(done == 1)
    }

    /// One notification.
    pub async fn get_notification(&self, id: i64) -> Result<Option<NotificationRecord>, StoreError> {
        self.select_notifications("id = $1", Bind::Id(id), "get notification").await.map(|mut all| all.pop())
    }

    /// Every notification of a case, oldest first.
    pub async fn notifications_for_case(&self, case_id: &str) -> Result<Vec<NotificationRecord>, StoreError> {
        self.select_notifications("case_id = $1", Bind::Text(case_id), "notifications of a case").await
    }

    /// Notifications in `status`, oldest first.
    pub async fn notifications_with_status(&self, status: &str) -> Result<Vec<NotificationRecord>, StoreError> {
        self.select_notifications("status = $1", Bind::Text(status), "notifications by status").await
    }

    async fn select_notifications(
        &self,
        filter: &str,
        bind: Bind<'_>,
        operation: &'static str,
    ) -> Result<Vec<NotificationRecord>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM notifications WHERE {filter} ORDER BY id");
        macro_rules! fetch {
            ($pool:expr) => {{
                let query = sqlx::query(&sql);
                let query = match bind {
                    Bind::Id(id) => query.bind(id),
                    Bind::Text(text) => query.bind(text),
                };
                query.fetch_all($pool).await.map_err(|error| StoreError::database(operation, error))?
            }};
        }
        match self {
            Store::Sqlite(store) => fetch!(store.pool()).iter().map(sqlite_record).collect(),
            Store::Postgres(store) => fetch!(store.pool()).iter().map(postgres_record).collect(),
        }
    }
}

enum Bind<'a> {
    Id(i64),
    Text(&'a str),
}

fn timestamp_text(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

fn parse_timestamp(text: &str) -> Result<DateTime<Utc>, sqlx::Error> {
    DateTime::parse_from_rfc3339(text)
        .map(|at| at.with_timezone(&Utc))
        .map_err(|error| sqlx::Error::Decode(Box::new(error)))
}

/// The daemon will drain from spawned tasks: every future must be `Send`.
#[cfg(test)]
#[allow(dead_code)]
mod send_checks {
    use super::*;

    fn assert_send<T: Send>(_: T) {}

    async fn all_futures_are_send(store: Store) {
        let now = Utc::now();
        assert_send(store.claim_notifications(now, "o", now, 1));
        assert_send(store.store_notification_content(1, "o", "1", b"", &[], now));
        assert_send(store.mark_notification(1, "o", status::SENT, now));
        assert_send(store.get_notification(1));
        assert_send(store.notifications_for_case("C"));
        assert_send(store.notifications_with_status(status::PENDING));
    }
}
