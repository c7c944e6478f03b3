//! Reads of many members and their cases at once, for the batch path: one query each per
//! interchange instead of two per request (on SQLite every query is a round trip to the driver's
//! worker thread, on PostgreSQL to the server).

use sqlx::types::Json;

use super::error::StoreError;
use super::records::{CaseRecord, MemberRecord};
use super::{Store, postgres, sqlite};

impl Store {
    /// The roster rows of these member ids (unknown ids are left out), in no particular order.
    pub async fn members_by_ids(&self, member_ids: &[String]) -> Result<Vec<MemberRecord>, StoreError> {
        const OP: &str = "read members";
        match self {
            Store::Sqlite(store) => {
                let sql = format!(
                    "SELECT {} FROM members WHERE member_id IN (SELECT value FROM json_each($1))",
                    sqlite::MEMBER_COLUMNS
                );
                let rows = sqlx::query(&sql)
                    .bind(Json(member_ids))
                    .fetch_all(store.pool())
                    .await
                    .map_err(|error| StoreError::database(OP, error))?;
                rows.iter().map(sqlite::member_from_row).collect()
            }
            Store::Postgres(store) => {
                let sql = format!("SELECT {} FROM members WHERE member_id = ANY($1)", postgres::MEMBER_COLUMNS);
                let rows = sqlx::query(&sql)
                    .bind(member_ids)
                    .fetch_all(store.pool())
                    .await
                    .map_err(|error| StoreError::database(OP, error))?;
                rows.iter().map(postgres::member_from_row).collect()
            }
        }
    }

    /// Every case of these members, by member, oldest first (as [`Store::cases_by_member`] orders).
    pub async fn cases_by_members(&self, member_ids: &[String]) -> Result<Vec<CaseRecord>, StoreError> {
        const OP: &str = "read cases of members";
        match self {
            Store::Sqlite(store) => {
                let sql = format!(
                    "SELECT {} FROM cases WHERE member_id IN (SELECT value FROM json_each($1)) \
                     ORDER BY member_id, created_at, id",
                    sqlite::CASE_COLUMNS
                );
                let rows = sqlx::query(&sql)
                    .bind(Json(member_ids))
                    .fetch_all(store.pool())
                    .await
                    .map_err(|error| StoreError::database(OP, error))?;
                rows.iter().map(sqlite::case_from_row).collect()
            }
            Store::Postgres(store) => {
                let sql = format!(
                    "SELECT {} FROM cases WHERE member_id = ANY($1) ORDER BY member_id, created_at, id",
                    postgres::CASE_COLUMNS
                );
                let rows = sqlx::query(&sql)
                    .bind(member_ids)
                    .fetch_all(store.pool())
                    .await
                    .map_err(|error| StoreError::database(OP, error))?;
                rows.iter().map(postgres::case_from_row).collect()
            }
        }
    }
}
