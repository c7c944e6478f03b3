//! The provider registry (migration 0004): requesting providers on file, loaded by
//! `umgate provider import` and read by the intake when a plan requires the requester on file.
//!
//! Why a table of its own beside the members: a provider is not a case or a member, and the rows
//! are few (one per NPI) and read by primary key. `plans` is kept as text (`*` or keys separated
//! by `;`) so that both backends use the same statements.

use sqlx::Row;

use super::{Store, StoreError};

/// Every plan (the `plans` column).
pub const ALL_PLANS: &str = "*";

/// One provider as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderRow {
    pub npi: String,
    pub name: String,
    pub tin: Option<String>,
    /// `*`, or plan keys separated by `;`.
    pub plans: String,
}

const UPSERT: &str = "INSERT INTO providers (npi, name, tin, plans) VALUES ($1, $2, $3, $4) \
    ON CONFLICT (npi) DO UPDATE SET name = excluded.name, tin = excluded.tin, plans = excluded.plans";
const SELECT: &str = "SELECT npi, name, tin, plans FROM providers WHERE npi = $1";

macro_rules! upsert_all {
    ($tx:expr, $providers:expr, $op:expr) => {
        for provider in $providers {
            sqlx::query(UPSERT)
                .bind(&provider.npi)
                .bind(&provider.name)
                .bind(&provider.tin)
                .bind(&provider.plans)
                .execute(&mut *$tx)
                .await
                .map_err(|error| StoreError::database($op, error))?;
        }
    };
}

macro_rules! provider_of {
    ($row:expr) => {{
        let row = $row;
        let read = |error| StoreError::database("read provider", error);
        ProviderRow {
            npi: row.try_get("npi").map_err(read)?,
            name: row.try_get("name").map_err(read)?,
            tin: row.try_get("tin").map_err(read)?,
            plans: row.try_get("plans").map_err(read)?,
        }
    }};
}

impl Store {
    /// Inserts or replaces providers by NPI in one transaction (provider import): all or none.
    pub async fn upsert_providers(&self, providers: &[ProviderRow]) -> Result<(), StoreError> {
        const OP: &str = "upsert providers";
        match self {
            Store::Sqlite(store) => {
                let mut tx =
                    store.pool().begin_with("BEGIN IMMEDIATE").await.map_err(|e| StoreError::database(OP, e))?;
                upsert_all!(tx, providers, OP);
                tx.commit().await.map_err(|error| StoreError::database(OP, error))
            }
            Store::Postgres(store) => {
                let mut tx = store.pool().begin().await.map_err(|error| StoreError::database(OP, error))?;
                upsert_all!(tx, providers, OP);
                tx.commit().await.map_err(|error| StoreError::database(OP, error))
            }
        }
    }

    /// The provider with this NPI, if on file.
    pub async fn get_provider(&self, npi: &str) -> Result<Option<ProviderRow>, StoreError> {
        const OP: &str = "get provider";
        Ok(match self {
            Store::Sqlite(store) => {
                let row = sqlx::query(SELECT)
                    .bind(npi)
                    .fetch_optional(store.pool())
                    .await
                    .map_err(|error| StoreError::database(OP, error))?;
                match row {
                    Some(row) => Some(provider_of!(row)),
                    None => None,
                }
            }
            Store::Postgres(store) => {
                let row = sqlx::query(SELECT)
                    .bind(npi)
                    .fetch_optional(store.pool())
                    .await
                    .map_err(|error| StoreError::database(OP, error))?;
                match row {
                    Some(row) => Some(provider_of!(row)),
                    None => None,
                }
            }
        })
    }
}
