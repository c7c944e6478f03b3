//! Sequences advanced in the transaction that records the numbers taken from them.
//!
//! Why: a number that appears in an answer (ISA13, GS06, case and authorization numbers) must be
//! spent if and only if that answer is recorded. A writer reads the sequences once, hands numbers
//! out in memory, and the transaction that records the answers moves each sequence from the value
//! it read to the last value it used, on the condition that nobody moved it meanwhile. A crash
//! before the commit spends nothing (a rerun takes the very same numbers: no gap, same bytes);
//! another writer's advance makes the condition fail, the transaction rolls back and the caller
//! reads the sequences again and redoes its work ([`StoreError::SequenceMoved`]).

use sqlx::{PgConnection, SqliteConnection};

use super::Store;
use super::error::StoreError;

/// One sequence moved from `from` (its value when read: the last number handed out, 0 for a
/// sequence never used) to `to` (the last number this writer used).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Advance {
    pub name: &'static str,
    pub from: i64,
    pub to: i64,
}

/// Inserts the row of a sequence never used, or moves it, only if it still holds `from`.
const ADVANCE: &str = "INSERT INTO sequences (name, value) VALUES ($1, $3) \
    ON CONFLICT (name) DO UPDATE SET value = excluded.value WHERE sequences.value = $2";

impl Store {
    /// The values of the named sequences (the last number handed out; 0 for one never used), in
    /// the order of `names`.
    pub async fn sequence_values(&self, names: &[&str]) -> Result<Vec<i64>, StoreError> {
        const OP: &str = "read sequences";
        const SQL: &str = "SELECT COALESCE((SELECT value FROM sequences WHERE name = $1), 0)";
        let mut values = Vec::with_capacity(names.len());
        for name in names {
            let value: i64 = match self {
                Store::Sqlite(store) => sqlx::query_scalar(SQL).bind(*name).fetch_one(store.pool()).await,
                Store::Postgres(store) => sqlx::query_scalar(SQL).bind(*name).fetch_one(store.pool()).await,
            }
            .map_err(|error| StoreError::database(OP, error))?;
            values.push(value);
        }
        Ok(values)
    }
}

/// Applies `advances` inside a SQLite transaction; [`StoreError::SequenceMoved`] when one of the
/// sequences no longer holds its `from` (the caller rolls back).
pub(super) async fn advance_sqlite(tx: &mut SqliteConnection, advances: &[Advance]) -> Result<(), StoreError> {
    for advance in advances.iter().filter(|advance| advance.to != advance.from) {
        let done = sqlx::query(ADVANCE)
            .bind(advance.name)
            .bind(advance.from)
            .bind(advance.to)
            .execute(&mut *tx)
            .await
            .map_err(|error| StoreError::database("advance sequence", error))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::SequenceMoved { name: advance.name });
        }
    }
    Ok(())
}

/// [`advance_sqlite`] on PostgreSQL. A concurrent writer that moved the row first is waited for
/// (its row lock) and then seen: the condition is checked against the committed value.
pub(super) async fn advance_postgres(tx: &mut PgConnection, advances: &[Advance]) -> Result<(), StoreError> {
    for advance in advances.iter().filter(|advance| advance.to != advance.from) {
        let done = sqlx::query(ADVANCE)
            .bind(advance.name)
            .bind(advance.from)
            .bind(advance.to)
            .execute(&mut *tx)
            .await
            .map_err(|error| StoreError::database("advance sequence", error))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::SequenceMoved { name: advance.name });
        }
    }
    Ok(())
}
