//! Batch inserts on PostgreSQL: one statement per table for a whole batch.
//!
//! Why: inserting row by row costs one round trip per row (several per case); the batch path
//! (`umgate process` on large files) binds each column as an array and lets `UNNEST` turn the
//! arrays back into rows, so a batch of any size costs three statements.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::types::Json;
use sqlx::{PgConnection, Postgres, Transaction};

use super::super::error::{StoreError, write_error};
use super::super::records::NewCase;

/// Inserts new cases, their events (numbered 1, 2, 3 … per case) and their timers.
pub(in crate::storage) async fn insert_new_cases(
    tx: &mut Transaction<'static, Postgres>,
    batch: &[NewCase],
) -> Result<(), StoreError> {
    insert_case_rows(tx, batch).await?;
    insert_event_rows(tx, batch).await?;
    insert_timer_rows(tx, batch).await
}

async fn insert_case_rows(connection: &mut PgConnection, batch: &[NewCase]) -> Result<(), StoreError> {
    let cases = batch.iter().map(|new| &new.case);
    sqlx::query(
        "INSERT INTO cases (id, version, status, plan, line_of_business, program, member_id, \
         authorization_number, due_at, created_at, updated_at, body) \
         SELECT * FROM UNNEST($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], \
         $7::text[], $8::text[], $9::timestamptz[], $10::timestamptz[], $11::timestamptz[], $12::jsonb[])",
    )
    .bind(cases.clone().map(|case| case.id.clone()).collect::<Vec<String>>())
    .bind(cases.clone().map(|case| case.version).collect::<Vec<i64>>())
    .bind(cases.clone().map(|case| case.status.clone()).collect::<Vec<String>>())
    .bind(cases.clone().map(|case| case.plan.clone()).collect::<Vec<String>>())
    .bind(cases.clone().map(|case| case.line_of_business.clone()).collect::<Vec<String>>())
    .bind(cases.clone().map(|case| case.program.clone()).collect::<Vec<Option<String>>>())
    .bind(cases.clone().map(|case| case.member_id.clone()).collect::<Vec<String>>())
    .bind(cases.clone().map(|case| case.authorization_number.clone()).collect::<Vec<Option<String>>>())
    .bind(cases.clone().map(|case| case.due_at).collect::<Vec<Option<DateTime<Utc>>>>())
    .bind(cases.clone().map(|case| case.created_at).collect::<Vec<DateTime<Utc>>>())
    .bind(cases.clone().map(|case| case.updated_at).collect::<Vec<DateTime<Utc>>>())
    .bind(cases.map(|case| Json(&case.body)).collect::<Vec<Json<&Value>>>())
    .execute(connection)
    .await
    .map_err(|error| write_error("insert cases", error))?;
    Ok(())
}

async fn insert_event_rows(connection: &mut PgConnection, batch: &[NewCase]) -> Result<(), StoreError> {
    // The cases are new: their histories start at seq 1.
    let events: Vec<(&str, i64, _)> = batch
        .iter()
        .flat_map(|new| (1..).zip(&new.events).map(|(seq, event)| (new.case.id.as_str(), seq, event)))
        .collect();
    if events.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO case_events (case_id, seq, at, actor, kind, body) \
         SELECT * FROM UNNEST($1::text[], $2::bigint[], $3::timestamptz[], $4::text[], $5::text[], $6::jsonb[])",
    )
    .bind(events.iter().map(|(case_id, _, _)| *case_id).collect::<Vec<&str>>())
    .bind(events.iter().map(|(_, seq, _)| *seq).collect::<Vec<i64>>())
    .bind(events.iter().map(|(_, _, event)| event.at).collect::<Vec<DateTime<Utc>>>())
    .bind(events.iter().map(|(_, _, event)| event.actor.as_str()).collect::<Vec<&str>>())
    .bind(events.iter().map(|(_, _, event)| event.kind.as_str()).collect::<Vec<&str>>())
    .bind(events.iter().map(|(_, _, event)| Json(&event.body)).collect::<Vec<Json<&Value>>>())
    .execute(connection)
    .await
    .map_err(|error| write_error("append case events", error))?;
    Ok(())
}

async fn insert_timer_rows(connection: &mut PgConnection, batch: &[NewCase]) -> Result<(), StoreError> {
    let timers: Vec<(&str, _)> =
        batch.iter().flat_map(|new| new.timers.iter().map(|timer| (new.case.id.as_str(), timer))).collect();
    if timers.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO timers (case_id, kind, fire_at, payload) \
         SELECT * FROM UNNEST($1::text[], $2::text[], $3::timestamptz[], $4::jsonb[])",
    )
    .bind(timers.iter().map(|(case_id, _)| *case_id).collect::<Vec<&str>>())
    .bind(timers.iter().map(|(_, timer)| timer.kind.as_str()).collect::<Vec<&str>>())
    .bind(timers.iter().map(|(_, timer)| timer.fire_at).collect::<Vec<DateTime<Utc>>>())
    .bind(timers.iter().map(|(_, timer)| Json(&timer.payload)).collect::<Vec<Json<&Value>>>())
    .execute(connection)
    .await
    .map_err(|error| write_error("insert timers", error))?;
    Ok(())
}
