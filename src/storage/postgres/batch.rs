//! Batch inserts on PostgreSQL: one statement per table for a whole batch.
//!
//! Why: inserting row by row costs one round trip per row (several per case); the batch path
//! (`umgate process` on large files) binds each column as an array and lets `UNNEST` turn the
//! arrays back into rows, so a batch of any size costs three statements.

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, Postgres, Transaction};

use super::super::error::{StoreError, write_error};
use super::super::records::{JsonDocument, NewCase};

/// The JSON documents as text, bound as `text[]` and cast to `jsonb` by the statement.
fn texts<'a, B: JsonDocument + 'a>(documents: impl Iterator<Item = &'a B>) -> Result<Vec<Cow<'a, str>>, StoreError> {
    documents.map(JsonDocument::json_text).collect()
}

fn strs<'a>(texts: &'a [Cow<'_, str>]) -> Vec<&'a str> {
    texts.iter().map(|text| text.as_ref()).collect()
}

/// Inserts new cases, their events (numbered 1, 2, 3 … per case) and their timers.
pub(in crate::storage) async fn insert_new_cases<B: JsonDocument>(
    tx: &mut Transaction<'static, Postgres>,
    batch: &[NewCase<B>],
) -> Result<(), StoreError> {
    insert_case_rows(tx, batch).await?;
    insert_event_rows(tx, batch).await?;
    insert_timer_rows(tx, batch).await
}

async fn insert_case_rows<B: JsonDocument>(
    connection: &mut PgConnection,
    batch: &[NewCase<B>],
) -> Result<(), StoreError> {
    let cases = batch.iter().map(|new| &new.case);
    let bodies = texts(cases.clone().map(|case| &case.body))?;
    sqlx::query(
        "INSERT INTO cases (id, version, status, plan, line_of_business, program, member_id, \
         authorization_number, due_at, created_at, updated_at, body) \
         SELECT id, version, status, plan, line_of_business, program, member_id, authorization_number, \
         due_at, created_at, updated_at, body::jsonb \
         FROM UNNEST($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], \
         $7::text[], $8::text[], $9::timestamptz[], $10::timestamptz[], $11::timestamptz[], $12::text[]) \
         AS rows (id, version, status, plan, line_of_business, program, member_id, authorization_number, \
         due_at, created_at, updated_at, body)",
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
    .bind(strs(&bodies))
    .execute(connection)
    .await
    .map_err(|error| write_error("insert cases", error))?;
    Ok(())
}

async fn insert_event_rows<B: JsonDocument>(
    connection: &mut PgConnection,
    batch: &[NewCase<B>],
) -> Result<(), StoreError> {
    // The cases are new: their histories start at seq 1.
    let events: Vec<(&str, i64, _)> = batch
        .iter()
        .flat_map(|new| (1..).zip(&new.events).map(|(seq, event)| (new.case.id.as_str(), seq, event)))
        .collect();
    if events.is_empty() {
        return Ok(());
    }
    let bodies = texts(events.iter().map(|(_, _, event)| &event.body))?;
    sqlx::query(
        "INSERT INTO case_events (case_id, seq, at, actor, kind, body) \
         SELECT case_id, seq, at, actor, kind, body::jsonb \
         FROM UNNEST($1::text[], $2::bigint[], $3::timestamptz[], $4::text[], $5::text[], $6::text[]) \
         AS rows (case_id, seq, at, actor, kind, body)",
    )
    .bind(events.iter().map(|(case_id, _, _)| *case_id).collect::<Vec<&str>>())
    .bind(events.iter().map(|(_, seq, _)| *seq).collect::<Vec<i64>>())
    .bind(events.iter().map(|(_, _, event)| event.at).collect::<Vec<DateTime<Utc>>>())
    .bind(events.iter().map(|(_, _, event)| event.actor.as_str()).collect::<Vec<&str>>())
    .bind(events.iter().map(|(_, _, event)| event.kind.as_str()).collect::<Vec<&str>>())
    .bind(strs(&bodies))
    .execute(connection)
    .await
    .map_err(|error| write_error("append case events", error))?;
    Ok(())
}

async fn insert_timer_rows<B: JsonDocument>(
    connection: &mut PgConnection,
    batch: &[NewCase<B>],
) -> Result<(), StoreError> {
    let timers: Vec<(&str, _)> =
        batch.iter().flat_map(|new| new.timers.iter().map(|timer| (new.case.id.as_str(), timer))).collect();
    if timers.is_empty() {
        return Ok(());
    }
    let payloads = texts(timers.iter().map(|(_, timer)| &timer.payload))?;
    sqlx::query(
        "INSERT INTO timers (case_id, kind, fire_at, payload) \
         SELECT case_id, kind, fire_at, payload::jsonb \
         FROM UNNEST($1::text[], $2::text[], $3::timestamptz[], $4::text[]) AS rows (case_id, kind, fire_at, payload)",
    )
    .bind(timers.iter().map(|(case_id, _)| *case_id).collect::<Vec<&str>>())
    .bind(timers.iter().map(|(_, timer)| timer.kind.as_str()).collect::<Vec<&str>>())
    .bind(timers.iter().map(|(_, timer)| timer.fire_at).collect::<Vec<DateTime<Utc>>>())
    .bind(strs(&payloads))
    .execute(connection)
    .await
    .map_err(|error| write_error("insert timers", error))?;
    Ok(())
}
