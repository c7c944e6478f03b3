//! Recording what an interchange produced, in one transaction: its log entry's new status (or
//! the entry itself), the sequences its numbers came from, its new cases, its answers and its
//! links to cases. All or nothing, so that a crash never leaves cases without the log entry that
//! prevents their creation a second time, nor a number spent without the answer that carries it.
//!
//! Why a head and a tail: the batch path writes an interchange's answers (CPU) while the database
//! inserts its cases, so the transaction's first part (entry, sequences, cases) runs before the
//! answers exist ([`Store::record_answers_when`]); the real-time path records several small
//! interchanges in one transaction, one after the other ([`Store::record_group`]).

use std::borrow::Borrow;

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use sqlx::{Postgres, Sqlite, Transaction};

use super::error::StoreError;
use super::interchanges::{NewInterchange, NewOutput, insert_entry, log_error, split, timestamp_text};
use super::sequences::{Advance, advance_postgres, advance_sqlite};
use super::{JsonText, NewCase, Store, to_stored_precision};

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
    /// Logged already, still with `from_status` (`received`, or `duplicate-control-number` for a
    /// duplicate's TA1) and no answer: else [`StoreError::AlreadyRecorded`] (another writer
    /// answered it first).
    Logged { id: i64, from_status: &'a str },
    /// Logged by the recording itself (its `status` is replaced by the recording's): the input
    /// file or the waiting request holds the bytes until then. [`StoreError::Duplicate`] when the
    /// sender and control number were logged by another writer meanwhile.
    New(&'a NewInterchange),
}

const OP: &str = "record interchange answers";
// First in the transaction: on PostgreSQL it locks the entry, so that a second writer waits here
// for the first one's commit and then finds the entry answered.
const CLAIM: &str = "UPDATE interchanges SET status = $2 WHERE id = $1 AND status = $3 \
    AND NOT EXISTS (SELECT 1 FROM interchange_outputs WHERE interchange_id = $1)";
const OUTPUT: &str = "INSERT INTO interchange_outputs (interchange_id, seq, kind, control_number, created_at, \
    content) VALUES ($1, $2, $3, $4, $5, $6)";
// All the links in one statement (a thousand per interchange of the batch path).
const LINK_SQLITE: &str = "INSERT INTO interchange_cases (interchange_id, case_id) \
    SELECT $1, value FROM json_each($2) WHERE true ON CONFLICT (interchange_id, case_id) DO NOTHING";
const LINK_POSTGRES: &str = "INSERT INTO interchange_cases (interchange_id, case_id) \
    SELECT $1, UNNEST($2::text[]) ON CONFLICT (interchange_id, case_id) DO NOTHING";

/// The two steps of a recording for one backend: `$head` (entry, sequences, cases; the entry's
/// id) and `$tail` (answers, links).
macro_rules! steps {
    ($head:ident, $tail:ident, $db:ty, $stamp:path, $advance:path, $insert_cases:path, $link:expr, $ids:expr) => {
        async fn $head(tx: &mut Transaction<'static, $db>, recording: &Recording<'_>) -> Result<i64, StoreError> {
            let id = match recording.entry {
                Entry::Logged { id, from_status } => {
                    let claimed = sqlx::query(CLAIM)
                        .bind(id)
                        .bind(recording.to_status)
                        .bind(from_status)
                        .execute(&mut **tx)
                        .await
                        .map_err(|error| StoreError::database(OP, error))?;
                    if claimed.rows_affected() == 0 {
                        return Err(StoreError::AlreadyRecorded);
                    }
                    id
                }
                Entry::New(new) => {
                    let new = NewInterchange { status: recording.to_status.to_owned(), ..new.clone() };
                    let executor = &mut **tx;
                    insert_entry!(executor, &new, $stamp(to_stored_precision(new.received_at)))?
                }
            };
            $advance(&mut **tx, recording.advances).await?;
            if !recording.new_cases.is_empty() {
                $insert_cases(tx, recording.new_cases).await?;
            }
            Ok(id)
        }

        async fn $tail(
            tx: &mut Transaction<'static, $db>,
            id: i64,
            recording: &Recording<'_>,
            outputs: &[NewOutput],
        ) -> Result<(), StoreError> {
            let at = $stamp(to_stored_precision(recording.at));
            for (seq, output) in (1_i64..).zip(outputs) {
                sqlx::query(OUTPUT)
                    .bind(id)
                    .bind(seq)
                    .bind(&output.kind)
                    .bind(&output.control_number)
                    .bind(&at)
                    .bind(output.content.as_slice())
                    .execute(&mut **tx)
                    .await
                    .map_err(|error| log_error(OP, error))?;
            }
            if !recording.case_ids.is_empty() {
                sqlx::query($link)
                    .bind(id)
                    .bind($ids(recording.case_ids))
                    .execute(&mut **tx)
                    .await
                    .map_err(|error| log_error(OP, error))?;
            }
            Ok(())
        }
    };
}

steps!(
    sqlite_head,
    sqlite_tail,
    Sqlite,
    timestamp_text,
    advance_sqlite,
    super::sqlite_bulk::insert_new_cases,
    LINK_SQLITE,
    Json
);
steps!(
    postgres_head,
    postgres_tail,
    Postgres,
    std::convert::identity,
    advance_postgres,
    super::postgres::batch::insert_new_cases,
    LINK_POSTGRES,
    std::convert::identity
);

impl Store {
    /// Records what an interchange produced (see the module comment). Exactly once: a logged
    /// entry must still have its `from_status` and no answer ([`StoreError::AlreadyRecorded`]);
    /// [`StoreError::SequenceMoved`] when another writer took numbers meanwhile. Nothing is
    /// written on an error.
    pub async fn record_answers(&self, recording: &Recording<'_>, outputs: &[NewOutput]) -> Result<(), StoreError> {
        self.record_answers_when(recording, async { Some(outputs) }).await
    }

    /// [`Store::record_answers`] with the answers still being written: the transaction starts and
    /// the new cases go in first, then `outputs` is awaited. `outputs` yielding `None` (the writer
    /// failed) rolls everything back.
    pub async fn record_answers_when<O: Borrow<[NewOutput]>>(
        &self,
        recording: &Recording<'_>,
        outputs: impl Future<Output = Option<O>>,
    ) -> Result<(), StoreError> {
        let missing = || StoreError::NotFound { what: "answers to record" };
        match self {
            Store::Sqlite(store) => {
                let mut tx =
                    store.pool().begin_with("BEGIN IMMEDIATE").await.map_err(|e| StoreError::database(OP, e))?;
                let id = sqlite_head(&mut tx, recording).await?;
                let outputs = outputs.await.ok_or_else(missing)?;
                sqlite_tail(&mut tx, id, recording, outputs.borrow()).await?;
                tx.commit().await.map_err(|error| StoreError::database(OP, error))
            }
            Store::Postgres(store) => {
                let mut tx = store.pool().begin().await.map_err(|error| StoreError::database(OP, error))?;
                let id = postgres_head(&mut tx, recording).await?;
                let outputs = outputs.await.ok_or_else(missing)?;
                postgres_tail(&mut tx, id, recording, outputs.borrow()).await?;
                tx.commit().await.map_err(|error| StoreError::database(OP, error))
            }
        }
    }

    /// Records several interchanges in one transaction (one commit for all: the real-time path's
    /// group commit), in order; all or nothing, with the errors of [`Store::record_answers`].
    pub async fn record_group(&self, members: &[(Recording<'_>, &[NewOutput])]) -> Result<(), StoreError> {
        match self {
            Store::Sqlite(store) => {
                let mut tx =
                    store.pool().begin_with("BEGIN IMMEDIATE").await.map_err(|e| StoreError::database(OP, e))?;
                for (recording, outputs) in members {
                    let id = sqlite_head(&mut tx, recording).await?;
                    sqlite_tail(&mut tx, id, recording, outputs).await?;
                }
                tx.commit().await.map_err(|error| StoreError::database(OP, error))
            }
            Store::Postgres(store) => {
                let mut tx = store.pool().begin().await.map_err(|error| StoreError::database(OP, error))?;
                for (recording, outputs) in members {
                    let id = postgres_head(&mut tx, recording).await?;
                    postgres_tail(&mut tx, id, recording, outputs).await?;
                }
                tx.commit().await.map_err(|error| StoreError::database(OP, error))
            }
        }
    }
}
