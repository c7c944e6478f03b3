//! Batch mailbox jobs (migration 0006): one row per batch file claimed from a partner's inbox or
//! posted over HTTP, leased to the daemon instance that processes it.
//!
//! Why leases and not locks held for the whole job: a job takes seconds to minutes, and an
//! instance may die (kill -9) in the middle. A lease ends by itself; the instance renews it while
//! it runs, and any instance that finds it ended takes the job over ([`Store::claim_job`]:
//! `FOR UPDATE SKIP LOCKED` on PostgreSQL, one write-locked statement on SQLite), so two live
//! instances never run the same job and a dead one's job is finished by another. Only the lease
//! holder can finish or release a job. The store knows nothing of files or X12: paths, checksums
//! and the summary are the caller's text.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::Store;
use super::error::StoreError;

/// Where a job stands.
pub mod status {
    /// Stored, waiting for an instance (posted over HTTP, or released at shutdown).
    pub const QUEUED: &str = "queued";
    /// Leased to an instance that is processing it (or was, until its lease ends).
    pub const RUNNING: &str = "running";
    /// Processed: answers written, file archived.
    pub const DONE: &str = "done";
    /// Not processable (not X12, unreadable) or failed too often: file moved to failed/.
    pub const FAILED: &str = "failed";
}

/// Where a job's file came from.
pub mod source {
    pub const INBOX: &str = "inbox";
    pub const HTTP: &str = "http";
}

/// A job to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewJob<'a> {
    pub partner: &'a str,
    pub source: &'a str,
    /// The file's name as received (answers are named after it).
    pub file_name: &'a str,
    /// Where the claimed bytes are kept while the job is open (unique per job).
    pub stored_path: &'a str,
    /// Known when the bytes were stored before the job (HTTP); else recorded once claimed.
    pub size_bytes: Option<i64>,
    pub sha256: Option<&'a str>,
}

/// A job as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRecord {
    pub id: i64,
    pub partner: String,
    pub source: String,
    pub file_name: String,
    pub stored_path: String,
    /// Where the file went when the job ended (archive/ or failed/).
    pub final_path: Option<String>,
    pub size_bytes: Option<i64>,
    pub sha256: Option<String>,
    pub status: String,
    pub lease_owner: Option<String>,
    pub lease_until: Option<DateTime<Utc>>,
    /// How many times an instance took the job (more than 1: taken over or retried).
    pub attempts: i64,
    /// JSON text written by the caller when the job ended.
    pub summary: Option<String>,
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str = "id, partner, source, file_name, stored_path, final_path, size_bytes, sha256, status, \
    lease_owner, lease_until, attempts, summary, error, created_at, updated_at, finished_at";

/// Microseconds since the epoch (the stored form of every time here).
fn micros(at: DateTime<Utc>) -> i64 {
    at.timestamp_micros()
}

fn from_micros(value: i64) -> Result<DateTime<Utc>, sqlx::Error> {
    DateTime::from_timestamp_micros(value).ok_or_else(|| sqlx::Error::Decode("timestamp out of range".into()))
}

macro_rules! record {
    ($row:expr) => {{
        let row = $row;
        let read = || -> Result<JobRecord, sqlx::Error> {
            Ok(JobRecord {
                id: row.try_get("id")?,
                partner: row.try_get("partner")?,
                source: row.try_get("source")?,
                file_name: row.try_get("file_name")?,
                stored_path: row.try_get("stored_path")?,
                final_path: row.try_get("final_path")?,
                size_bytes: row.try_get("size_bytes")?,
                sha256: row.try_get("sha256")?,
                status: row.try_get("status")?,
                lease_owner: row.try_get("lease_owner")?,
                lease_until: row.try_get::<Option<i64>, _>("lease_until")?.map(from_micros).transpose()?,
                attempts: row.try_get::<i64, _>("attempts")?,
                summary: row.try_get("summary")?,
                error: row.try_get("error")?,
                created_at: from_micros(row.try_get("created_at")?)?,
                updated_at: from_micros(row.try_get("updated_at")?)?,
                finished_at: row.try_get::<Option<i64>, _>("finished_at")?.map(from_micros).transpose()?,
            })
        };
        read().map_err(|_| StoreError::Corrupt { what: "mailbox job" })
    }};
}

fn sqlite_record(row: &sqlx::sqlite::SqliteRow) -> Result<JobRecord, StoreError> {
    record!(row)
}

fn postgres_record(row: &sqlx::postgres::PgRow) -> Result<JobRecord, StoreError> {
    record!(row)
}

/// Runs `$query` (a function of the pool) on the store's pool, mapping errors to `$op`.
macro_rules! on_pool {
    ($store:expr, $op:expr, |$pool:ident| $query:expr) => {
        match $store {
            Store::Sqlite(store) => {
                let $pool = store.pool();
                $query.await
            }
            Store::Postgres(store) => {
                let $pool = store.pool();
                $query.await
            }
        }
        .map_err(|error| StoreError::database($op, error))
    };
}

/// Runs a statement (a function of the pool) on the store's pool: the number of rows it changed.
macro_rules! execute {
    ($store:expr, $op:expr, |$pool:ident| $query:expr) => {
        match $store {
            Store::Sqlite(store) => {
                let $pool = store.pool();
                $query.execute($pool).await.map(|done| done.rows_affected())
            }
            Store::Postgres(store) => {
                let $pool = store.pool();
                $query.execute($pool).await.map(|done| done.rows_affected())
            }
        }
        .map_err(|error| StoreError::database($op, error))
    };
}

impl Store {
    /// Records a job: `queued` without an owner, or `running` leased to `owner` until
    /// `lease_until` (a file claimed from an inbox is processed at once by its claimer).
    /// [`StoreError::Duplicate`] when the stored path is another job's.
    pub async fn insert_job(
        &self,
        job: &NewJob<'_>,
        owner: Option<(&str, DateTime<Utc>)>,
        now: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        const OP: &str = "record mailbox job";
        const SQL: &str = "INSERT INTO mailbox_jobs (partner, source, file_name, stored_path, size_bytes, sha256, \
            status, lease_owner, lease_until, attempts, created_at, updated_at) \
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING id";
        let (status, lease_owner, lease_until, attempts) = match owner {
            Some((owner, until)) => (status::RUNNING, Some(owner), Some(micros(until)), 1_i64),
            None => (status::QUEUED, None, None, 0),
        };
        let row = match self {
            Store::Sqlite(store) => sqlx::query(SQL)
                .bind(job.partner)
                .bind(job.source)
                .bind(job.file_name)
                .bind(job.stored_path)
                .bind(job.size_bytes)
                .bind(job.sha256)
                .bind(status)
                .bind(lease_owner)
                .bind(lease_until)
                .bind(attempts)
                .bind(micros(now))
                .fetch_one(store.pool())
                .await
                .map(|row| row.try_get::<i64, _>(0)),
            Store::Postgres(store) => sqlx::query(SQL)
                .bind(job.partner)
                .bind(job.source)
                .bind(job.file_name)
                .bind(job.stored_path)
                .bind(job.size_bytes)
                .bind(job.sha256)
                .bind(status)
                .bind(lease_owner)
                .bind(lease_until)
                .bind(attempts)
                .bind(micros(now))
                .fetch_one(store.pool())
                .await
                .map(|row| row.try_get::<i64, _>(0)),
        };
        match row {
            Ok(id) => id.map_err(|_| StoreError::Corrupt { what: "mailbox job id" }),
            Err(sqlx::Error::Database(error)) if error.is_unique_violation() => {
                Err(StoreError::Duplicate { what: "mailbox job stored path" })
            }
            Err(error) => Err(StoreError::database(OP, error)),
        }
    }

    /// Removes a job that never got its file (its claim lost the rename to another instance, or
    /// the claimer died before the rename). Only a job without a final state is removed.
    pub async fn delete_unclaimed_job(&self, id: i64) -> Result<bool, StoreError> {
        const SQL: &str = "DELETE FROM mailbox_jobs WHERE id = $1 AND status IN ('queued', 'running')";
        let done = execute!(self, "delete mailbox job", |pool| sqlx::query(SQL).bind(id))?;
        Ok(done == 1)
    }

    /// Records the size and checksum of a claimed job's file (by the lease holder).
    pub async fn record_job_file(&self, id: i64, owner: &str, size: i64, sha256: &str) -> Result<bool, StoreError> {
        const SQL: &str = "UPDATE mailbox_jobs SET size_bytes = $3, sha256 = $4 WHERE id = $1 AND lease_owner = $2";
        let done = execute!(self, "record mailbox job file", |pool| sqlx::query(SQL)
            .bind(id)
            .bind(owner)
            .bind(size)
            .bind(sha256))?;
        Ok(done == 1)
    }

    /// Leases the oldest job that is queued, or running under a lease that ended before `now`, to
    /// `owner` until `lease_until`, and counts the attempt. Two claimers never get the same job
    /// while its lease runs.
    pub async fn claim_job(
        &self,
        now: DateTime<Utc>,
        owner: &str,
        lease_until: DateTime<Utc>,
    ) -> Result<Option<JobRecord>, StoreError> {
        const OP: &str = "claim mailbox job";
        let (now, until) = (micros(now), micros(lease_until));
        match self {
            Store::Sqlite(store) => {
                // One statement: SQLite runs it under the write lock.
                let sql = format!(
                    "UPDATE mailbox_jobs SET status = 'running', lease_owner = $1, lease_until = $2, \
                         attempts = attempts + 1, updated_at = $3 \
                     WHERE id = (SELECT id FROM mailbox_jobs WHERE status = 'queued' \
                         OR (status = 'running' AND lease_until < $3) ORDER BY id LIMIT 1) \
                     RETURNING {COLUMNS}"
                );
                let row = sqlx::query(&sql)
                    .bind(owner)
                    .bind(until)
                    .bind(now)
                    .fetch_optional(store.pool())
                    .await
                    .map_err(|error| StoreError::database(OP, error))?;
                row.as_ref().map(sqlite_record).transpose()
            }
            Store::Postgres(store) => {
                // SKIP LOCKED: a job another instance is claiming right now is left to it.
                let columns = COLUMNS.split(", ").map(|c| format!("mailbox_jobs.{c}")).collect::<Vec<_>>().join(", ");
                let sql = format!(
                    "WITH next AS ( \
                         SELECT id FROM mailbox_jobs WHERE status = 'queued' \
                         OR (status = 'running' AND lease_until < $3) ORDER BY id LIMIT 1 \
                         FOR UPDATE SKIP LOCKED) \
                     UPDATE mailbox_jobs SET status = 'running', lease_owner = $1, lease_until = $2, \
                         attempts = mailbox_jobs.attempts + 1, updated_at = $3 \
                     FROM next WHERE mailbox_jobs.id = next.id RETURNING {columns}"
                );
                let row = sqlx::query(&sql)
                    .bind(owner)
                    .bind(until)
                    .bind(now)
                    .fetch_optional(store.pool())
                    .await
                    .map_err(|error| StoreError::database(OP, error))?;
                row.as_ref().map(postgres_record).transpose()
            }
        }
    }

    /// Extends every running job's lease held by `owner` to `lease_until`; the number renewed.
    pub async fn renew_job_leases(
        &self,
        owner: &str,
        lease_until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        const SQL: &str = "UPDATE mailbox_jobs SET lease_until = $2, updated_at = $3 \
            WHERE lease_owner = $1 AND status = 'running'";
        let done = execute!(self, "renew mailbox job leases", |pool| sqlx::query(SQL)
            .bind(owner)
            .bind(micros(lease_until))
            .bind(micros(now)))?;
        Ok(done)
    }

    /// Gives back every running job leased to `owner` (graceful shutdown): queued again, at once
    /// claimable by any instance. The number released.
    pub async fn release_jobs(&self, owner: &str, now: DateTime<Utc>) -> Result<u64, StoreError> {
        const SQL: &str = "UPDATE mailbox_jobs SET status = 'queued', lease_owner = NULL, lease_until = NULL, \
            updated_at = $2 WHERE lease_owner = $1 AND status = 'running'";
        let done = execute!(self, "release mailbox jobs", |pool| sqlx::query(SQL).bind(owner).bind(micros(now)))?;
        Ok(done)
    }

    /// Ends a running job leased to `owner`: `new_status` ([`status::DONE`] or
    /// [`status::FAILED`]), where its file goes, its summary (JSON text) and error. `Ok(false)`
    /// when the lease is no longer `owner`'s (another instance took the job over).
    #[allow(clippy::too_many_arguments)]
    pub async fn finish_job(
        &self,
        id: i64,
        owner: &str,
        new_status: &str,
        final_path: &str,
        summary: Option<&str>,
        error: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        const SQL: &str = "UPDATE mailbox_jobs SET status = $3, final_path = $4, summary = $5, error = $6, \
            lease_owner = NULL, lease_until = NULL, updated_at = $7, finished_at = $7 \
            WHERE id = $1 AND lease_owner = $2 AND status = 'running'";
        let done = execute!(self, "finish mailbox job", |pool| sqlx::query(SQL)
            .bind(id)
            .bind(owner)
            .bind(new_status)
            .bind(final_path)
            .bind(summary)
            .bind(error)
            .bind(micros(now)))?;
        Ok(done == 1)
    }

    /// Notes why the last attempt failed, keeping the job leased (retried when the lease ends).
    pub async fn note_job_error(
        &self,
        id: i64,
        owner: &str,
        error: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        const SQL: &str = "UPDATE mailbox_jobs SET error = $3, updated_at = $4 WHERE id = $1 AND lease_owner = $2";
        execute!(self, "note mailbox job error", |pool| sqlx::query(SQL)
            .bind(id)
            .bind(owner)
            .bind(error)
            .bind(micros(now)))?;
        Ok(())
    }

    pub async fn get_job(&self, id: i64) -> Result<Option<JobRecord>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM mailbox_jobs WHERE id = $1");
        self.select_jobs(&sql, JobBind::Id(id), "get mailbox job").await.map(|mut jobs| jobs.pop())
    }

    /// The job whose file is (or was) kept at `stored_path`.
    pub async fn job_by_stored_path(&self, stored_path: &str) -> Result<Option<JobRecord>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM mailbox_jobs WHERE stored_path = $1");
        self.select_jobs(&sql, JobBind::Text(stored_path), "get mailbox job by path").await.map(|mut jobs| jobs.pop())
    }

    /// Every job of a partner, oldest first.
    pub async fn jobs_of_partner(&self, partner: &str) -> Result<Vec<JobRecord>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM mailbox_jobs WHERE partner = $1 ORDER BY id");
        self.select_jobs(&sql, JobBind::Text(partner), "list mailbox jobs").await
    }

    async fn select_jobs(&self, sql: &str, bind: JobBind<'_>, op: &'static str) -> Result<Vec<JobRecord>, StoreError> {
        macro_rules! fetch {
            ($pool:expr) => {{
                let query = sqlx::query(sql);
                let query = match bind {
                    JobBind::Id(id) => query.bind(id),
                    JobBind::Text(text) => query.bind(text),
                };
                query.fetch_all($pool).await.map_err(|error| StoreError::database(op, error))?
            }};
        }
        match self {
            Store::Sqlite(store) => fetch!(store.pool()).iter().map(sqlite_record).collect(),
            Store::Postgres(store) => fetch!(store.pool()).iter().map(postgres_record).collect(),
        }
    }

    /// Links a job to the inbound interchanges answered by the answer interchanges whose ISA13s
    /// are `answer_control_numbers` (an interchange already linked keeps its first job: the one
    /// that brought the original). The number of links made.
    pub async fn link_job_interchanges(
        &self,
        job_id: i64,
        answer_control_numbers: &[String],
    ) -> Result<u64, StoreError> {
        const SQL: &str = "INSERT INTO mailbox_job_interchanges (interchange_id, job_id) \
            SELECT DISTINCT interchange_id, $1 FROM interchange_outputs WHERE control_number = $2 \
            ON CONFLICT (interchange_id) DO NOTHING";
        let mut linked = 0;
        for number in answer_control_numbers {
            let done = execute!(self, "link mailbox job interchanges", |pool| sqlx::query(SQL)
                .bind(job_id)
                .bind(number.as_str()))?;
            linked += done;
        }
        Ok(linked)
    }

    /// The partner whose job brought the inbound interchange `interchange_id`, if any.
    pub async fn partner_of_interchange(&self, interchange_id: i64) -> Result<Option<String>, StoreError> {
        const SQL: &str = "SELECT j.partner FROM mailbox_job_interchanges AS l \
            JOIN mailbox_jobs AS j ON j.id = l.job_id WHERE l.interchange_id = $1";
        let row = on_pool!(self, "partner of interchange", |pool| sqlx::query_scalar::<_, String>(SQL)
            .bind(interchange_id)
            .fetch_optional(pool))?;
        Ok(row)
    }
}

enum JobBind<'a> {
    Id(i64),
    Text(&'a str),
}

/// The daemon runs these from spawned tasks: every future must be `Send`.
#[cfg(test)]
#[allow(dead_code)]
mod send_checks {
    use super::*;

    fn assert_send<T: Send>(_: T) {}

    async fn all_futures_are_send(store: Store) {
        let now = Utc::now();
        let job = NewJob {
            partner: "p",
            source: source::INBOX,
            file_name: "f",
            stored_path: "s",
            size_bytes: None,
            sha256: None,
        };
        assert_send(store.insert_job(&job, Some(("o", now)), now));
        assert_send(store.claim_job(now, "o", now));
        assert_send(store.renew_job_leases("o", now, now));
        assert_send(store.release_jobs("o", now));
        assert_send(store.finish_job(1, "o", status::DONE, "f", None, None, now));
        assert_send(store.get_job(1));
        assert_send(store.link_job_interchanges(1, &[]));
        assert_send(store.partner_of_interchange(1));
    }
}
