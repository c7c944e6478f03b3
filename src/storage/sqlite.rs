//! The store on SQLite: the embedded default, one file under the data directory.
//!
//! Why it looks the way it does: SQLite has one writer at a time. Every multi-statement write runs in
//! a `BEGIN IMMEDIATE` transaction, which takes the write lock up front (waiting up to the busy
//! timeout) so that two writers never deadlock on a read-to-write upgrade; single-statement writes
//! (timer claims, sequences) are atomic on their own. Timestamps are TEXT in one fixed UTC format so
//! that text order is time order; lists are bound as JSON arrays read with `json_each`.

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::types::Json;
use sqlx::{Row, Sqlite, Transaction};

use super::error::{StoreError, write_error};
use super::records::{CaseRecord, EventRecord, MemberRecord, NewCase, NewEvent, NewTimer, TimerRecord};

/// The schema, embedded at build time from migrations/sqlite.
static MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");

/// How long a connection waits for another writer before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);
/// Connections kept for one store (WAL lets readers run beside the one writer).
const MAX_CONNECTIONS: u32 = 4;

pub(super) const CASE_COLUMNS: &str = "id, version, status, plan, line_of_business, program, member_id, \
    authorization_number, due_at, created_at, updated_at, body";
const TIMER_COLUMNS: &str = "id, case_id, kind, fire_at, payload, claimed_by, claimed_until, done_at, cancelled";
pub(super) const MEMBER_COLUMNS: &str = "member_id, first_name, last_name, birth_date, gender, plan, line_of_business, \
    coverage_start, coverage_end";

/// A store on one SQLite file.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating when missing, with its directory) the database file at `path` and applies
    /// the migrations.
    pub async fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        if let Some(parent) = path.parent().filter(|parent| !parent.as_os_str().is_empty()) {
            tokio::fs::create_dir_all(parent).await.map_err(|error| StoreError::Location { kind: error.kind() })?;
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: a committed decision (an authorization number already sent) survives a power
            // loss too, not only a crash of the process.
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true);
        let pool = connect(options).await?;
        migrate(&pool).await?;
        Ok(SqliteStore { pool })
    }

    /// Closes every connection; pending operations finish first.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// The connection pool, for the store's other tables (the interchange log).
    pub(super) fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    async fn begin_write(&self, operation: &'static str) -> Result<Transaction<'static, Sqlite>, StoreError> {
        self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(|error| StoreError::database(operation, error))
    }

    pub async fn insert_case(
        &self,
        case: &CaseRecord,
        events: &[NewEvent],
        timers: &[NewTimer],
    ) -> Result<(), StoreError> {
        const OP: &str = "insert case";
        let mut tx = self.begin_write(OP).await?;
        insert_case_in(&mut tx, case, events, timers).await?;
        tx.commit().await.map_err(|error| StoreError::database(OP, error))
    }

    pub async fn insert_cases(&self, batch: &[NewCase]) -> Result<(), StoreError> {
        const OP: &str = "insert cases";
        let mut tx = self.begin_write(OP).await?;
        for new in batch {
            insert_case_in(&mut tx, &new.case, &new.events, &new.timers).await?;
        }
        tx.commit().await.map_err(|error| StoreError::database(OP, error))
    }

    pub async fn update_case(
        &self,
        case: &CaseRecord,
        expected_version: i64,
        events: &[NewEvent],
        new_timers: &[NewTimer],
        cancel_timer_kinds: &[&str],
    ) -> Result<(), StoreError> {
        const OP: &str = "update case";
        let mut tx = self.begin_write(OP).await?;
        let updated = sqlx::query(
            "UPDATE cases SET version = $3, status = $4, plan = $5, line_of_business = $6, program = $7, \
             member_id = $8, authorization_number = $9, due_at = $10, updated_at = $11, body = $12 \
             WHERE id = $1 AND version = $2",
        )
        .bind(&case.id)
        .bind(expected_version)
        .bind(case.version)
        .bind(&case.status)
        .bind(&case.plan)
        .bind(&case.line_of_business)
        .bind(&case.program)
        .bind(&case.member_id)
        .bind(&case.authorization_number)
        .bind(case.due_at.map(timestamp_text))
        .bind(timestamp_text(case.updated_at))
        .bind(Json(&case.body))
        .execute(&mut *tx)
        .await
        .map_err(|error| write_error(OP, error))?;
        if updated.rows_affected() == 0 {
            let actual: Option<i64> = sqlx::query_scalar("SELECT version FROM cases WHERE id = $1")
                .bind(&case.id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(|error| StoreError::database(OP, error))?;
            return Err(match actual {
                Some(actual) => StoreError::Conflict { case_id: case.id.clone(), expected: expected_version, actual },
                None => StoreError::NotFound { what: "case" },
            });
        }
        insert_events(&mut tx, &case.id, events).await?;
        if !cancel_timer_kinds.is_empty() {
            sqlx::query(
                "UPDATE timers SET done_at = $3, cancelled = 1 \
                 WHERE case_id = $1 AND done_at IS NULL AND kind IN (SELECT value FROM json_each($2))",
            )
            .bind(&case.id)
            .bind(Json(cancel_timer_kinds))
            .bind(timestamp_text(case.updated_at))
            .execute(&mut *tx)
            .await
            .map_err(|error| StoreError::database("cancel timers", error))?;
        }
        insert_timers(&mut tx, &case.id, new_timers).await?;
        tx.commit().await.map_err(|error| StoreError::database(OP, error))
    }

    pub async fn get_case(&self, id: &str) -> Result<Option<CaseRecord>, StoreError> {
        let row = sqlx::query(&format!("SELECT {CASE_COLUMNS} FROM cases WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(|error| StoreError::database("get case", error))?;
        row.as_ref().map(case_from_row).transpose()
    }

    pub async fn cases_by_member(&self, member_id: &str) -> Result<Vec<CaseRecord>, StoreError> {
        let rows =
            sqlx::query(&format!("SELECT {CASE_COLUMNS} FROM cases WHERE member_id = $1 ORDER BY created_at, id"))
                .bind(member_id)
                .fetch_all(&self.pool)
                .await
                .map_err(|error| StoreError::database("cases by member", error))?;
        rows.iter().map(case_from_row).collect()
    }

    pub async fn case_by_authorization_number(&self, number: &str) -> Result<Option<CaseRecord>, StoreError> {
        let row = sqlx::query(&format!("SELECT {CASE_COLUMNS} FROM cases WHERE authorization_number = $1"))
            .bind(number)
            .fetch_optional(&self.pool)
            .await
            .map_err(|error| StoreError::database("case by authorization number", error))?;
        row.as_ref().map(case_from_row).transpose()
    }

    pub async fn review_queue(&self, statuses: &[&str], limit: i64) -> Result<Vec<CaseRecord>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {CASE_COLUMNS} FROM cases WHERE status IN (SELECT value FROM json_each($1)) \
             ORDER BY due_at IS NULL, due_at, created_at, id LIMIT $2"
        ))
        .bind(Json(statuses))
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(|error| StoreError::database("review queue", error))?;
        rows.iter().map(case_from_row).collect()
    }

    pub async fn case_events(&self, case_id: &str) -> Result<Vec<EventRecord>, StoreError> {
        let rows =
            sqlx::query("SELECT case_id, seq, at, actor, kind, body FROM case_events WHERE case_id = $1 ORDER BY seq")
                .bind(case_id)
                .fetch_all(&self.pool)
                .await
                .map_err(|error| StoreError::database("case events", error))?;
        rows.iter().map(event_from_row).collect()
    }

    pub async fn claim_due_timers(
        &self,
        now: DateTime<Utc>,
        owner: &str,
        lease_until: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<TimerRecord>, StoreError> {
        // One statement: SQLite runs it under the write lock, so two claimers cannot both take a row.
        let rows = sqlx::query(&format!(
            "UPDATE timers SET claimed_by = $1, claimed_until = $2 WHERE id IN ( \
                 SELECT id FROM timers \
                 WHERE done_at IS NULL AND fire_at <= $3 AND (claimed_until IS NULL OR claimed_until < $3) \
                 ORDER BY fire_at, id LIMIT $4) \
             RETURNING {TIMER_COLUMNS}"
        ))
        .bind(owner)
        .bind(timestamp_text(lease_until))
        .bind(timestamp_text(now))
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(|error| StoreError::database("claim due timers", error))?;
        let mut timers = rows.iter().map(timer_from_row).collect::<Result<Vec<_>, _>>()?;
        timers.sort_by(|a, b| (a.fire_at, &a.id).cmp(&(b.fire_at, &b.id)));
        Ok(timers)
    }

    pub async fn complete_timer(&self, id: i64, at: DateTime<Utc>) -> Result<bool, StoreError> {
        const OP: &str = "complete timer";
        let done = sqlx::query("UPDATE timers SET done_at = $2 WHERE id = $1 AND done_at IS NULL")
            .bind(id)
            .bind(timestamp_text(at))
            .execute(&self.pool)
            .await
            .map_err(|error| StoreError::database(OP, error))?;
        if done.rows_affected() == 1 {
            return Ok(true);
        }
        let exists: Option<i64> = sqlx::query_scalar("SELECT 1 FROM timers WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(|error| StoreError::database(OP, error))?;
        match exists {
            Some(_) => Ok(false),
            None => Err(StoreError::NotFound { what: "timer" }),
        }
    }

    pub async fn timers_for_case(&self, case_id: &str) -> Result<Vec<TimerRecord>, StoreError> {
        let rows = sqlx::query(&format!("SELECT {TIMER_COLUMNS} FROM timers WHERE case_id = $1 ORDER BY fire_at, id"))
            .bind(case_id)
            .fetch_all(&self.pool)
            .await
            .map_err(|error| StoreError::database("timers for case", error))?;
        rows.iter().map(timer_from_row).collect()
    }

    pub async fn next_value(&self, name: &str) -> Result<i64, StoreError> {
        sqlx::query_scalar(
            "INSERT INTO sequences (name, value) VALUES ($1, 1) \
             ON CONFLICT (name) DO UPDATE SET value = sequences.value + 1 RETURNING value",
        )
        .bind(name)
        .fetch_one(&self.pool)
        .await
        .map_err(|error| StoreError::database("next sequence value", error))
    }

    pub async fn upsert_member(&self, member: &MemberRecord) -> Result<(), StoreError> {
        const OP: &str = "upsert member";
        let mut connection = self.pool.acquire().await.map_err(|error| StoreError::database(OP, error))?;
        upsert_member_on(&mut connection, member).await
    }

    pub async fn upsert_members(&self, members: &[MemberRecord]) -> Result<(), StoreError> {
        const OP: &str = "upsert members";
        let mut tx = self.begin_write(OP).await?;
        for member in members {
            upsert_member_on(&mut tx, member).await?;
        }
        tx.commit().await.map_err(|error| StoreError::database(OP, error))
    }

    pub async fn get_member(&self, member_id: &str) -> Result<Option<MemberRecord>, StoreError> {
        let row = sqlx::query(&format!("SELECT {MEMBER_COLUMNS} FROM members WHERE member_id = $1"))
            .bind(member_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(|error| StoreError::database("get member", error))?;
        row.as_ref().map(member_from_row).transpose()
    }
}

/// Opens the pool. Several processes opening one fresh file at once can meet SQLITE_BUSY while
/// one of them switches the file to WAL or holds the migration's write lock (the journal-mode
/// switch does not wait on the busy timeout): the open is tried again, for up to the busy timeout.
async fn connect(options: SqliteConnectOptions) -> Result<SqlitePool, StoreError> {
    const OP: &str = "open SQLite database";
    const PAUSE: Duration = Duration::from_millis(50);
    let started = std::time::Instant::now();
    loop {
        match SqlitePoolOptions::new().max_connections(MAX_CONNECTIONS).connect_with(options.clone()).await {
            Ok(pool) => return Ok(pool),
            Err(sqlx::Error::Database(error))
                if error.code().as_deref() == Some("5") && started.elapsed() + PAUSE < BUSY_TIMEOUT =>
            {
                tokio::time::sleep(PAUSE).await;
            }
            Err(error) => return Err(StoreError::database(OP, error)),
        }
    }
}

/// Applies the migrations under the write lock. sqlx takes no lock on SQLite, so two processes
/// opening a fresh file at once would both try to create the schema; `BEGIN IMMEDIATE` makes the
/// second wait and then find it applied (each migration runs in a savepoint inside).
async fn migrate(pool: &SqlitePool) -> Result<(), StoreError> {
    const OP: &str = "migrate SQLite database";
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.map_err(|error| StoreError::database(OP, error))?;
    MIGRATIONS.run_direct(&mut *tx).await.map_err(|error| StoreError::migration(&error))?;
    tx.commit().await.map_err(|error| StoreError::database(OP, error))
}

async fn insert_case_in(
    tx: &mut Transaction<'static, Sqlite>,
    case: &CaseRecord,
    events: &[NewEvent],
    timers: &[NewTimer],
) -> Result<(), StoreError> {
    const OP: &str = "insert case";
    sqlx::query(&format!(
        "INSERT INTO cases ({CASE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
    ))
    .bind(&case.id)
    .bind(case.version)
    .bind(&case.status)
    .bind(&case.plan)
    .bind(&case.line_of_business)
    .bind(&case.program)
    .bind(&case.member_id)
    .bind(&case.authorization_number)
    .bind(case.due_at.map(timestamp_text))
    .bind(timestamp_text(case.created_at))
    .bind(timestamp_text(case.updated_at))
    .bind(Json(&case.body))
    .execute(&mut **tx)
    .await
    .map_err(|error| write_error(OP, error))?;
    insert_events(tx, &case.id, events).await?;
    insert_timers(tx, &case.id, timers).await
}

async fn upsert_member_on(connection: &mut SqliteConnection, member: &MemberRecord) -> Result<(), StoreError> {
    sqlx::query(&format!(
        "INSERT INTO members ({MEMBER_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT (member_id) DO UPDATE SET first_name = excluded.first_name, \
         last_name = excluded.last_name, birth_date = excluded.birth_date, gender = excluded.gender, \
         plan = excluded.plan, line_of_business = excluded.line_of_business, \
         coverage_start = excluded.coverage_start, coverage_end = excluded.coverage_end"
    ))
    .bind(&member.member_id)
    .bind(&member.first_name)
    .bind(&member.last_name)
    .bind(member.birth_date)
    .bind(&member.gender)
    .bind(&member.plan)
    .bind(&member.line_of_business)
    .bind(member.coverage_start)
    .bind(member.coverage_end)
    .execute(&mut *connection)
    .await
    .map_err(|error| StoreError::database("upsert member", error))?;
    Ok(())
}

/// Appends events to a case, numbering them after the case's last `seq`. Callers hold the case's
/// row (a version-checked update or a fresh insert), so no other writer numbers events of this case.
async fn insert_events(
    tx: &mut Transaction<'static, Sqlite>,
    case_id: &str,
    events: &[NewEvent],
) -> Result<(), StoreError> {
    for event in events {
        sqlx::query(
            "INSERT INTO case_events (case_id, seq, at, actor, kind, body) \
             SELECT $1, COALESCE(MAX(seq), 0) + 1, $2, $3, $4, $5 FROM case_events WHERE case_id = $1",
        )
        .bind(case_id)
        .bind(timestamp_text(event.at))
        .bind(&event.actor)
        .bind(&event.kind)
        .bind(Json(&event.body))
        .execute(&mut **tx)
        .await
        .map_err(|error| write_error("append case event", error))?;
    }
    Ok(())
}

async fn insert_timers(
    tx: &mut Transaction<'static, Sqlite>,
    case_id: &str,
    timers: &[NewTimer],
) -> Result<(), StoreError> {
    for timer in timers {
        sqlx::query("INSERT INTO timers (case_id, kind, fire_at, payload) VALUES ($1, $2, $3, $4)")
            .bind(case_id)
            .bind(&timer.kind)
            .bind(timestamp_text(timer.fire_at))
            .bind(Json(&timer.payload))
            .execute(&mut **tx)
            .await
            .map_err(|error| write_error("insert timer", error))?;
    }
    Ok(())
}

/// The stored form of a timestamp: fixed width, UTC, microseconds, so text order is time order.
pub(super) fn timestamp_text(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

pub(super) fn parse_timestamp(text: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(text)
        .map(|at| at.with_timezone(&Utc))
        .map_err(|_| StoreError::Corrupt { what: "timestamp" })
}

fn column<'r, T>(row: &'r SqliteRow, name: &'static str) -> Result<T, StoreError>
where
    T: sqlx::Decode<'r, Sqlite> + sqlx::Type<Sqlite>,
{
    row.try_get(name).map_err(|error| StoreError::database("read row", error))
}

fn timestamp_column(row: &SqliteRow, name: &'static str) -> Result<DateTime<Utc>, StoreError> {
    parse_timestamp(&column::<String>(row, name)?)
}

fn optional_timestamp_column(row: &SqliteRow, name: &'static str) -> Result<Option<DateTime<Utc>>, StoreError> {
    column::<Option<String>>(row, name)?.as_deref().map(parse_timestamp).transpose()
}

fn json_column(row: &SqliteRow, name: &'static str) -> Result<Value, StoreError> {
    Ok(column::<Json<Value>>(row, name)?.0)
}

pub(super) fn case_from_row(row: &SqliteRow) -> Result<CaseRecord, StoreError> {
    Ok(CaseRecord {
        id: column(row, "id")?,
        version: column(row, "version")?,
        status: column(row, "status")?,
        plan: column(row, "plan")?,
        line_of_business: column(row, "line_of_business")?,
        program: column(row, "program")?,
        member_id: column(row, "member_id")?,
        authorization_number: column(row, "authorization_number")?,
        due_at: optional_timestamp_column(row, "due_at")?,
        created_at: timestamp_column(row, "created_at")?,
        updated_at: timestamp_column(row, "updated_at")?,
        body: json_column(row, "body")?,
    })
}

fn event_from_row(row: &SqliteRow) -> Result<EventRecord, StoreError> {
    Ok(EventRecord {
        case_id: column(row, "case_id")?,
        seq: column(row, "seq")?,
        at: timestamp_column(row, "at")?,
        actor: column(row, "actor")?,
        kind: column(row, "kind")?,
        body: json_column(row, "body")?,
    })
}

fn timer_from_row(row: &SqliteRow) -> Result<TimerRecord, StoreError> {
    Ok(TimerRecord {
        id: column(row, "id")?,
        case_id: column(row, "case_id")?,
        kind: column(row, "kind")?,
        fire_at: timestamp_column(row, "fire_at")?,
        payload: json_column(row, "payload")?,
        claimed_by: column(row, "claimed_by")?,
        claimed_until: optional_timestamp_column(row, "claimed_until")?,
        done_at: optional_timestamp_column(row, "done_at")?,
        cancelled: column(row, "cancelled")?,
    })
}

pub(super) fn member_from_row(row: &SqliteRow) -> Result<MemberRecord, StoreError> {
    Ok(MemberRecord {
        member_id: column(row, "member_id")?,
        first_name: column(row, "first_name")?,
        last_name: column(row, "last_name")?,
        birth_date: column::<NaiveDate>(row, "birth_date")?,
        gender: column(row, "gender")?,
        plan: column(row, "plan")?,
        line_of_business: column(row, "line_of_business")?,
        coverage_start: column::<NaiveDate>(row, "coverage_start")?,
        coverage_end: column::<Option<NaiveDate>>(row, "coverage_end")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn timestamp_text_is_fixed_width_and_round_trips() {
        let early = Utc.timestamp_opt(1_700_000_000, 0).single().unwrap_or_default();
        let later = Utc.timestamp_opt(1_700_000_000, 500_000_000).single().unwrap_or_default();
        let (early_text, later_text) = (timestamp_text(early), timestamp_text(later));
        assert_eq!(early_text, "2023-11-14T22:13:20.000000Z");
        assert_eq!(early_text.len(), later_text.len());
        assert!(early_text < later_text);
        assert_eq!(parse_timestamp(&later_text).ok(), Some(later));
    }

    #[test]
    fn unreadable_timestamp_is_corrupt() {
        assert!(matches!(parse_timestamp("yesterday"), Err(StoreError::Corrupt { what: "timestamp" })));
    }
}
