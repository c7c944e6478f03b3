//! The interchange log: every inbound interchange kept verbatim, the answer interchanges sent for
//! it and the cases it produced (SPEC section 2: "kept verbatim in the transaction log, linked to
//! the cases it produced, before any acknowledgment is sent").
//!
//! Why bytes and plain strings: the store knows nothing of X12. The caller names the sender, the
//! control number and the kind of each answer; the store keeps them and enforces that one sender
//! never has two originals with the same control number (migration 0002's partial unique index).
//! A resubmission with other bytes is stored as a duplicate pointing at the original, so that
//! nothing received is ever lost.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::error::StoreError;
use super::{Store, to_stored_precision};

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
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
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
    /// What it carries (groups, sets by ST01), for the log's search by type; `None` leaves it to
    /// the backfill (`umgate log reindex`, the daemon's sampler).
    pub contents: Option<super::log_search::InterchangeContents>,
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

pub(super) fn log_error(operation: &'static str, error: sqlx::Error) -> StoreError {
    match &error {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StoreError::Duplicate { what: "interchange (sender and control number)" }
        }
        _ => StoreError::database(operation, error),
    }
}

pub(super) fn split(party: Option<&Party>) -> (Option<&str>, Option<&str>) {
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

/// Inserts a log entry, and what it carries when known (the transaction log's search by type),
/// through `$executor` (a transaction: the entry and its set rows go in together); its id.
macro_rules! insert_entry {
    ($executor:expr, $new:expr, $received_at:expr) => {{
        const SQL: &str = "INSERT INTO interchanges (sender_qualifier, sender_id, receiver_qualifier, receiver_id, \
            control_number, received_at, content_sha256, file_name, byte_offset, status, duplicate_of, content, \
            group_count, set_count) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id";
        const SET: &str =
            "INSERT INTO interchange_sets (interchange_id, set_id, set_count, received_at) VALUES ($1, $2, $3, $4)";
        let new: &NewInterchange = $new;
        let received_at = $received_at;
        let (sender_qualifier, sender_id) = split(new.sender.as_ref());
        let (receiver_qualifier, receiver_id) = split(new.receiver.as_ref());
        let inserted = sqlx::query_scalar::<_, i64>(SQL)
            .bind(sender_qualifier)
            .bind(sender_id)
            .bind(receiver_qualifier)
            .bind(receiver_id)
            .bind(new.control_number.as_deref())
            .bind(&received_at)
            .bind(&new.content_sha256)
            .bind(&new.file_name)
            .bind(new.byte_offset)
            .bind(&new.status)
            .bind(new.duplicate_of)
            .bind(new.content.as_slice())
            .bind(new.contents.as_ref().map(|contents| contents.groups))
            .bind(new.contents.as_ref().map(|contents| contents.set_total()))
            .fetch_one(&mut *$executor)
            .await
            .map_err(|error| log_error("insert interchange", error));
        match (inserted, &new.contents) {
            (Ok(id), Some(contents)) => {
                let mut outcome = Ok(id);
                for set in &contents.sets {
                    if let Err(error) = sqlx::query(SET)
                        .bind(id)
                        .bind(&set.set_id)
                        .bind(set.count)
                        .bind(&received_at)
                        .execute(&mut *$executor)
                        .await
                    {
                        outcome = Err(StoreError::database("insert interchange contents", error));
                        break;
                    }
                }
                outcome
            }
            (inserted, _) => inserted,
        }
    }};
}
pub(super) use insert_entry;

impl Store {
    /// Logs an inbound interchange; returns its id. [`StoreError::Duplicate`] when an original
    /// (`duplicate_of` empty) with the same sender and control number exists.
    pub async fn insert_interchange(&self, new: &NewInterchange) -> Result<i64, StoreError> {
        const OP: &str = "insert interchange";
        let received_at = to_stored_precision(new.received_at);
        match self {
            Store::Sqlite(store) => {
                let mut tx = store.pool().begin().await.map_err(|error| StoreError::database(OP, error))?;
                let id = insert_entry!(tx, new, timestamp_text(received_at))?;
                tx.commit().await.map_err(|error| StoreError::database(OP, error))?;
                Ok(id)
            }
            Store::Postgres(store) => {
                let mut tx = store.pool().begin().await.map_err(|error| StoreError::database(OP, error))?;
                let id = insert_entry!(tx, new, received_at)?;
                tx.commit().await.map_err(|error| StoreError::database(OP, error))?;
                Ok(id)
            }
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

    /// The answers recorded for an interchange, in the order written.
    pub async fn interchange_outputs(&self, interchange_id: i64) -> Result<Vec<OutputRecord>, StoreError> {
        self.outputs_of_interchange(interchange_id, None).await
    }

    /// The answers recorded for an interchange (only answer `seq` when given), in the order written.
    pub(super) async fn outputs_of_interchange(
        &self,
        interchange_id: i64,
        seq: Option<i64>,
    ) -> Result<Vec<OutputRecord>, StoreError> {
        const OP: &str = "read interchange answers";
        const SQL: &str = "SELECT seq, kind, control_number, created_at, content FROM interchange_outputs \
            WHERE interchange_id = $1 AND (CAST($2 AS BIGINT) IS NULL OR seq = $2) ORDER BY seq";
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
                    .bind(seq)
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
                    .bind(seq)
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

pub(super) fn timestamp_text(at: DateTime<Utc>) -> String {
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
