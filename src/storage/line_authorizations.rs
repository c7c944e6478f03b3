//! Lookup of a case by the authorization number of one of its lines: supportive drugs are
//! authorized separately (seed 004), each such line carrying a number of its own inside the case
//! body (`lines[].authorization_number`), while the `authorization_number` column holds the
//! case's number.
//!
//! Why no index: the numbers live in the JSON body only, so that the write path (the batch
//! inserts of `umgate process`) is unchanged. This lookup is made only after the column lookup
//! missed (a line's number, or a number nobody issued) and scans the cases: on SQLite a
//! substring test on the body before any JSON is parsed, on PostgreSQL a JSONB containment test.

use super::records::CaseRecord;
use super::{Store, StoreError};

impl Store {
    /// The case one of whose lines carries `number` as its own authorization number.
    pub async fn case_by_line_authorization_number(&self, number: &str) -> Result<Option<CaseRecord>, StoreError> {
        const OP: &str = "case by line authorization number";
        match self {
            Store::Sqlite(store) => {
                let sql = format!(
                    "SELECT {} FROM cases WHERE instr(body, $1) > 0 AND EXISTS (SELECT 1 FROM \
                     json_each(cases.body, '$.lines') AS line WHERE line.value ->> '$.authorization_number' = $1) \
                     ORDER BY id LIMIT 1",
                    super::sqlite::CASE_COLUMNS
                );
                let row = sqlx::query(&sql)
                    .bind(number)
                    .fetch_optional(store.pool())
                    .await
                    .map_err(|error| StoreError::database(OP, error))?;
                row.as_ref().map(super::sqlite::case_from_row).transpose()
            }
            Store::Postgres(store) => {
                let sql = format!(
                    "SELECT {} FROM cases WHERE body -> 'lines' @> \
                     jsonb_build_array(jsonb_build_object('authorization_number', $1::text)) ORDER BY id LIMIT 1",
                    super::postgres::CASE_COLUMNS
                );
                let row = sqlx::query(&sql)
                    .bind(number)
                    .fetch_optional(store.pool())
                    .await
                    .map_err(|error| StoreError::database(OP, error))?;
                row.as_ref().map(super::postgres::case_from_row).transpose()
            }
        }
    }
}
