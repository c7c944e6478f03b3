//! The interchange log: every inbound interchange kept verbatim, the answer interchanges sent for
//! it and the cases it produced (SPEC section 2: "kept verbatim in the transaction log, linked to
//! the cases it produced, before any acknowledgment is sent").
//!
//! Why bytes and plain strings: the store knows nothing of X12. The caller names the sender, the
//! control number and the kind of each answer; the store keeps them and enforces that one sender
//! never has two originals with the same control number (migration 0002's partial unique index).
//! A resubmission with other bytes is stored as a duplicate pointing at the original, so that
//! nothing received is ever lost.

use std::borrow::Borrow;

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::error::StoreError;
use super::sequences::Advance;
use super::{JsonText, NewCase, Store, to_stored_precision};

/// Where the interchange stands in the log.
pub mod status {
    /// Stored, answers not yet recorded (a crash here leaves the interchange to be processed again).
    pub const RECEIVED: &str = "received";
    /// Processed: its answers and cases are recorded.
    pub const ANSWERED: &str = "answered";
    /// Same sender and control number as an earlier interchange, other content: not processed.
    pub const DUPLICATE_CONTROL_NUMBER: &str = "duplicate-control-number";
}

/// The sender of an interchange: ISA05 qualifier and ISA06 identifier (trimmed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Party {
    pub qualifier: String,
    pub id: String,
}

/// An inbound interchange to log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewInterchange {
    /// `None` when the ISA could not be read.
    pub sender: Option<Party>,
    pub receiver: Option<Party>,
    /// ISA13 as received (trimmed); `None` when the ISA could not be read.
    pub control_number: Option<String>,
    pub received_at: DateTime<Utc>,
    /// Lowercase hex SHA-256 of `content`.
    pub content_sha256: String,
    /// The file it came from (its name, not its path).
    pub file_name: String,
    /// Where in that file it started.
    pub byte_offset: i64,
    pub status: String,
    /// The original, when this one repeats its sender and control number with other content.
    pub duplicate_of: Option<i64>,
    pub content: Vec<u8>,
}

/// A logged interchange without its content (what lookups by control number return).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterchangeEntry {
    pub id: i64,
    pub received_at: DateTime<Utc>,
    pub content_sha256: String,
    pub file_name: String,
    pub status: String,
    pub duplicate_of: Option<i64>,
}

/// A logged interchange with its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterchangeRecord {
    pub entry: InterchangeEntry,
    pub sender: Option<Party>,
    pub receiver: Option<Party>,
    pub control_number: Option<String>,
    pub byte_offset: i64,
    pub content: Vec<u8>,
}

/// An answer interchange sent for an inbound one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOutput {
    /// `TA1`, `999`, `278` or `271`.
    pub kind: String,
    /// Its ISA13.
    pub control_number: String,
    pub content: Vec<u8>,
}

/// What the transaction that records an interchange's answers writes besides the answers.
#[derive(Debug, Clone, Copy)]
pub struct Recording<'a> {
    pub entry: Entry<'a>,
    pub to_status: &'a str,
    pub new_cases: &'a [NewCase<JsonText>],
    /// Cases it concerns: the new ones and any other (an inquiry's).
    pub case_ids: &'a [String],
    /// The sequences its numbers came from.
    pub advances: &'a [Advance],
    pub at: DateTime<Utc>,
}

/// The log entry whose answers are recorded.
#[derive(Debug, Clone, Copy)]
pub enum Entry<'a> {
    /// Logged already, still with `from_status` ([`status::RECEIVED`], or
    /// [`status::DUPLICATE_CONTROL_NUMBER`] for a duplicate's TA1) and no answer.
    Logged { id: i64, from_status: &'a str },
    /// Logged by the recording itself (its `status` is replaced by the recording's): the batch
    /// path, whose input file holds the bytes until then. [`StoreError::Duplicate`] when the
    /// sender and control number were logged by another writer meanwhile.
    New(&'a NewInterchange),
}

/// A stored answer, in the order it was written (`seq` 1, 2, 3 …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputRecord {
    pub seq: i64,
    pub kind: String,
    pub control_number: String,
    pub created_at: DateTime<Utc>,
    pub content: Vec<u8>,
}

const ENTRY_COLUMNS: &str = "id, received_at, content_sha256, file_name, status, duplicate_of";

fn log_error(operation: &'static str, error: sqlx::Error) -> StoreError {
    match &error {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StoreError::Duplicate { what: "interchange (sender and control number)" }
        }
        _ => StoreError::database(operation, error),
    }
}

fn split(party: Option<&Party>) -> (Option<&str>, Option<&str>) {
    match party {
        Some(party) => (Some(party.qualifier.as_str()), Some(party.id.as_str())),
        None => (None, None),
    }
}

fn party(qualifier: Option<String>, id: Option<String>) -> Option<Party> {
    match (qualifier, id) {
        (Some(qualifier), Some(id)) => Some(Party { qualifier, id }),
        _ => None,
    }
}

/// Inserts a log entry through `$executor` (a pool or a transaction); its id.
macro_rules! insert_entry {
    ($executor:expr, $new:expr, $received_at:expr) => {{
        const SQL: &str = "INSERT INTO interchanges (sender_qualifier, sender_id, receiver_qualifier, receiver_id, \
            control_number, received_at, content_sha256, file_name, byte_offset, status, duplicate_of, content) \
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id";
        let new: &NewInterchange = $new;
        let (sender_qualifier, sender_id) = split(new.sender.as_ref());
        let (receiver_qualifier, receiver_id) = split(new.receiver.as_ref());
        sqlx::query_scalar::<_, i64>(SQL)
            .bind(sender_qualifier)
            .bind(sender_id)
            .bind(receiver_qualifier)
            .bind(receiver_id)
            .bind(new.control_number.as_deref())
            .bind($received_at)
            .bind(&new.content_sha256)
            .bind(&new.file_name)
            .bind(new.byte_offset)
            .bind(&new.status)
            .bind(new.duplicate_of)
            .bind(new.content.as_slice())
            .fetch_one($executor)
            .await
            .map_err(|error| log_error("insert interchange", error))
    }};
}

impl Store {
    /// Logs an inbound interchange; returns its id. [`StoreError::Duplicate`] when an original
    /// (`duplicate_of` empty) with the same sender and control number exists.
    pub async fn insert_interchange(&self, new: &NewInterchange) -> Result<i64, StoreError> {
        let received_at = to_stored_precision(new.received_at);
        match self {
            Store::Sqlite(store) => insert_entry!(store.pool(), new, timestamp_text(received_at)),
            Store::Postgres(store) => insert_entry!(store.pool(), new, received_at),
        }
    }

    /// Every logged interchange of this sender with this control number (the original first, then
    /// duplicates in the order received).
    pub async fn interchanges_with_control_number(
        &self,
        sender: &Party,
        control_number: &str,
    ) -> Result<Vec<InterchangeEntry>, StoreError> {
        const OP: &str = "find interchanges by control number";
        let sql = format!(
            "SELECT {ENTRY_COLUMNS} FROM interchanges \
             WHERE sender_qualifier = $1 AND sender_id = $2 AND control_number = $3 ORDER BY id"
        );
        match self {
            Store::Sqlite(store) => {
                let rows = sqlx::query(&sql)
                    .bind(&sender.qualifier)
                    .bind(&sender.id)
                    .bind(control_number)
                    .fetch_all(store.pool())
                    .await
                    .map_err(|error| StoreError::database(OP, error))?;
                rows.iter().map(sqlite_entry).collect()
            }
            Store::Postgres(store) => {
                let rows = sqlx::query(&sql)
                    .bind(&sender.qualifier)
                    .bind(&sender.id)
                    .bind(control_number)
                    .fetch_all(store.pool())
                    .await
                    .map_err(|error| StoreError::database(OP, error))?;
                rows.iter().map(postgres_entry).collect()
            }
        }
    }

    /// One logged interchange with its content.
    pub async fn get_interchange(&self, id: i64) -> Result<Option<InterchangeRecord>, StoreError> {
        const OP: &str = "get interchange";
        let sql = format!(
            "SELECT {ENTRY_COLUMNS}, sender_qualifier, sender_id, receiver_qualifier, receiver_id, control_number, \
             byte_offset, content FROM interchanges WHERE id = $1"
        );
        macro_rules! record {
            ($row:expr, $entry:expr) => {{
                let row = $row;
                let column = |name: &'static str| row.try_get::<Option<String>, _>(name);
                let read = || -> Result<InterchangeRecord, sqlx::Error> {
                    Ok(InterchangeRecord {
                        entry: $entry,
                        sender: party(column("sender_qualifier")?, column("sender_id")?),
                        receiver: party(column("receiver_qualifier")?, column("receiver_id")?),
                        control_number: column("control_number")?,
                        byte_offset: row.try_get("byte_offset")?,
                        content: row.try_get("content")?,
                    })
                };
                read().map_err(|_| StoreError::Corrupt { what: "interchange" })
            }};
        }
        match self {
            Store::Sqlite(store) => {
                let row = sqlx::query(&sql)
                    .bind(id)
                    .fetch_optional(store.pool())
                    .await
                    .map_err(|error| StoreError::database(OP, error))?;
                row.map(|row| {
                    let entry = sqlite_entry(&row)?;
                    record!(&row, entry)
                })
                .transpose()
            }
            Store::Postgres(store) => {
                let row = sqlx::query(&sql)
                    .bind(id)
                    .fetch_optional(store.pool())
                    .await
                    .map_err(|error| StoreError::database(OP, error))?;
                row.map(|row| {
                    let entry = postgres_entry(&row)?;
                    record!(&row, entry)
                })
                .transpose()
            }
        }
    }

    /// Records what an interchange produced, in one transaction: its new status, the sequences its
    /// answers took numbers from (see [`super::sequences`]), the new cases it created (inserted as
    /// [`Store::insert_cases`] would), the answers sent, and its links to cases. All or nothing,
    /// so that a crash never leaves cases without the log entry that prevents their creation a
    /// second time, nor a number spent without the answer that carries it.
    ///
    /// Exactly once: the entry must still have `from_status` and no answer, else
    /// [`StoreError::AlreadyRecorded`] (another writer answered it first) and nothing is written;
    /// [`StoreError::SequenceMoved`] when another writer took numbers meanwhile.
    pub async fn record_answers(&self, recording: &Recording<'_>, outputs: &[NewOutput]) -> Result<(), StoreError> {
        self.record_answers_when(recording, async { Some(outputs) }).await
    }

    /// [`Store::record_answers`] with the answers still being written: the transaction starts and
    /// the new cases go in first, then `outputs` is awaited. Why: the batch path writes an
    /// interchange's answers (CPU) while the database inserts its cases. `outputs` yielding
    /// `None` (the writer failed) rolls everything back.
    pub async fn record_answers_when<O: Borrow<[NewOutput]>>(
        &self,
        recording: &Recording<'_>,
        outputs: impl Future<Output = Option<O>>,
    ) -> Result<(), StoreError> {
        const OP: &str = "record interchange answers";
        const OUTPUT: &str = "INSERT INTO interchange_outputs (interchange_id, seq, kind, control_number, created_at, \
            content) VALUES ($1, $2, $3, $4, $5, $6)";
        // All the links in one statement (a thousand per interchange of the batch path).
        const LINK_SQLITE: &str = "INSERT INTO interchange_cases (interchange_id, case_id) \
            SELECT $1, value FROM json_each($2) WHERE true ON CONFLICT (interchange_id, case_id) DO NOTHING";
        const LINK_POSTGRES: &str = "INSERT INTO interchange_cases (interchange_id, case_id) \
            SELECT $1, UNNEST($2::text[]) ON CONFLICT (interchange_id, case_id) DO NOTHING";
        // First in the transaction: on PostgreSQL it locks the entry, so that a second writer
        // waits here for the first one's commit and then finds the entry answered.
        const STATUS: &str = "UPDATE interchanges SET status = $2 WHERE id = $1 AND status = $3 \
            AND NOT EXISTS (SELECT 1 FROM interchange_outputs WHERE interchange_id = $1)";
        let Recording { entry, to_status, new_cases, case_ids, advances, at } = *recording;
        let at = to_stored_precision(at);
        macro_rules! claim {
            ($tx:expr, $received_at:expr) => {{
                match entry {
                    Entry::Logged { id, from_status } => {
                        let updated = sqlx::query(STATUS)
                            .bind(id)
                            .bind(to_status)
                            .bind(from_status)
                            .execute(&mut *$tx)
                            .await
                            .map_err(|error| StoreError::database(OP, error))?;
                        if updated.rows_affected() == 0 {
                            return Err(StoreError::AlreadyRecorded);
                        }
                        id
                    }
                    Entry::New(new) => {
                        let new = NewInterchange { status: to_status.to_owned(), ..new.clone() };
                        insert_entry!(&mut *$tx, &new, $received_at(to_stored_precision(new.received_at)))?
                    }
                }
            }};
        }
        macro_rules! run {
            ($tx:expr, $id:expr, $at:expr, $link:expr, $case_ids:expr) => {{
                let mut tx = $tx;
                let interchange_id: i64 = $id;
                let outputs = outputs.await.ok_or(StoreError::NotFound { what: "answers to record" })?;
                let outputs: &[NewOutput] = outputs.borrow();
                for (seq, output) in (1_i64..).zip(outputs) {
                    sqlx::query(OUTPUT)
                        .bind(interchange_id)
                        .bind(seq)
                        .bind(&output.kind)
                        .bind(&output.control_number)
                        .bind($at)
                        .bind(output.content.as_slice())
                        .execute(&mut *tx)
                        .await
                        .map_err(|error| log_error(OP, error))?;
                }
                if !case_ids.is_empty() {
                    sqlx::query($link)
                        .bind(interchange_id)
                        .bind($case_ids)
                        .execute(&mut *tx)
                        .await
                        .map_err(|error| log_error(OP, error))?;
                }
                tx.commit().await.map_err(|error| StoreError::database(OP, error))
            }};
        }
        match self {
            Store::Sqlite(store) => {
                let mut tx =
                    store.pool().begin_with("BEGIN IMMEDIATE").await.map_err(|e| StoreError::database(OP, e))?;
                let interchange_id = claim!(tx, timestamp_text);
                super::sequences::advance_sqlite(&mut tx, advances).await?;
                let at = timestamp_text(at);
                super::sqlite_bulk::insert_new_cases(&mut tx, new_cases).await?;
                run!(tx, interchange_id, &at, LINK_SQLITE, sqlx::types::Json(case_ids))
            }
            Store::Postgres(store) => {
                let mut tx = store.pool().begin().await.map_err(|error| StoreError::database(OP, error))?;
                let interchange_id = claim!(tx, std::convert::identity);
                super::sequences::advance_postgres(&mut tx, advances).await?;
                if !new_cases.is_empty() {
                    super::postgres::batch::insert_new_cases(&mut tx, new_cases).await?;
                }
                run!(tx, interchange_id, at, LINK_POSTGRES, case_ids)
            }
        }
    }

    /// The answers recorded for an interchange, in the order written.
    pub async fn interchange_outputs(&self, interchange_id: i64) -> Result<Vec<OutputRecord>, StoreError> {
        const OP: &str = "read interchange answers";
        const SQL: &str = "SELECT seq, kind, control_number, created_at, content FROM interchange_outputs \
            WHERE interchange_id = $1 ORDER BY seq";
        macro_rules! output {
            ($row:expr, $created_at:expr) => {{
                let row = $row;
                let read = || -> Result<OutputRecord, sqlx::Error> {
                    Ok(OutputRecord {
                        seq: row.try_get("seq")?,
                        kind: row.try_get("kind")?,
                        control_number: row.try_get("control_number")?,
                        created_at: $created_at,
                        content: row.try_get("content")?,
                    })
                };
                read().map_err(|_| StoreError::Corrupt { what: "interchange answer" })
            }};
        }
        match self {
            Store::Sqlite(store) => {
                let rows = sqlx::query(SQL)
                    .bind(interchange_id)
                    .fetch_all(store.pool())
                    .await
                    .map_err(|error| StoreError::database(OP, error))?;
                rows.iter()
                    .map(|row| output!(row, parse_timestamp(&row.try_get::<String, _>("created_at")?)?))
                    .collect()
            }
            Store::Postgres(store) => {
                let rows = sqlx::query(SQL)
                    .bind(interchange_id)
                    .fetch_all(store.pool())
                    .await
                    .map_err(|error| StoreError::database(OP, error))?;
                rows.iter().map(|row| output!(row, row.try_get("created_at")?)).collect()
            }
        }
    }

    /// The cases an interchange produced, by case id.
    pub async fn interchange_case_ids(&self, interchange_id: i64) -> Result<Vec<String>, StoreError> {
        const OP: &str = "read interchange cases";
        const SQL: &str = "SELECT case_id FROM interchange_cases WHERE interchange_id = $1 ORDER BY case_id";
        match self {
            Store::Sqlite(store) => sqlx::query_scalar(SQL).bind(interchange_id).fetch_all(store.pool()).await,
            Store::Postgres(store) => sqlx::query_scalar(SQL).bind(interchange_id).fetch_all(store.pool()).await,
        }
        .map_err(|error| StoreError::database(OP, error))
    }
}

fn timestamp_text(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

fn parse_timestamp(text: &str) -> Result<DateTime<Utc>, sqlx::Error> {
    DateTime::parse_from_rfc3339(text)
        .map(|at| at.with_timezone(&Utc))
        .map_err(|error| sqlx::Error::Decode(Box::new(error)))
}

fn sqlite_entry(row: &sqlx::sqlite::SqliteRow) -> Result<InterchangeEntry, StoreError> {
    let read = || -> Result<InterchangeEntry, sqlx::Error> {
        Ok(InterchangeEntry {
            id: row.try_get("id")?,
            received_at: parse_timestamp(&row.try_get::<String, _>("received_at")?)?,
            content_sha256: row.try_get("content_sha256")?,
            file_name: row.try_get("file_name")?,
            status: row.try_get("status")?,
            duplicate_of: row.try_get("duplicate_of")?,
        })
    };
    read().map_err(|_| StoreError::Corrupt { what: "interchange" })
}

fn postgres_entry(row: &sqlx::postgres::PgRow) -> Result<InterchangeEntry, StoreError> {
    let read = || -> Result<InterchangeEntry, sqlx::Error> {
        Ok(InterchangeEntry {
            id: row.try_get("id")?,
            received_at: row.try_get("received_at")?,
            content_sha256: row.try_get("content_sha256")?,
            file_name: row.try_get("file_name")?,
            status: row.try_get("status")?,
            duplicate_of: row.try_get("duplicate_of")?,
        })
    };
    read().map_err(|_| StoreError::Corrupt { what: "interchange" })
}
