//! New cases written to SQLite a few statements per batch instead of several per case.
//!
//! Why: the SQLite driver runs each statement on its own worker thread, so every statement is a
//! thread hand-over; a case with five events took six. Here the rows of up to [`CHUNK`] cases go
//! in as one JSON array parameter, read back into rows with `json_each` (the way the store binds
//! lists), one statement per table. Same rows as `sqlite::insert_case_in`: events of a new case
//! are numbered 1, 2, 3 …; unique violations become `StoreError::Duplicate`.

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::types::Json;
use sqlx::{Sqlite, Transaction};

use super::error::{StoreError, write_error};
use super::records::{JsonDocument, NewCase};

/// Cases per statement: small enough that the JSON text of one statement stays a few hundred
/// kilobytes while the next interchange is decided beside it (memory), large enough that the
/// statements of a 1,000-request interchange stay few.
const CHUNK: usize = 100;

#[derive(Serialize)]
struct CaseRow<'a> {
    id: &'a str,
    version: i64,
    status: &'a str,
    plan: &'a str,
    line_of_business: &'a str,
    program: Option<&'a str>,
    member_id: &'a str,
    authorization_number: Option<&'a str>,
    due_at: Option<String>,
    created_at: String,
    updated_at: String,
    /// The JSON document as text, stored as it is.
    body: Cow<'a, str>,
}

#[derive(Serialize)]
struct EventRow<'a> {
    case_id: &'a str,
    seq: usize,
    at: String,
    actor: &'a str,
    kind: &'a str,
    body: Cow<'a, str>,
}

#[derive(Serialize)]
struct TimerRow<'a> {
    case_id: &'a str,
    kind: &'a str,
    fire_at: String,
    payload: Cow<'a, str>,
}

fn timestamp_text(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// Inserts new cases with their events and timers inside `tx`.
pub(super) async fn insert_new_cases<B: JsonDocument>(
    tx: &mut Transaction<'static, Sqlite>,
    batch: &[NewCase<B>],
) -> Result<(), StoreError> {
    for chunk in batch.chunks(CHUNK) {
        let mut cases = Vec::with_capacity(chunk.len());
        let mut events = Vec::new();
        let mut timers = Vec::new();
        for new in chunk {
            let case = &new.case;
            cases.push(CaseRow {
                id: &case.id,
                version: case.version,
                status: &case.status,
                plan: &case.plan,
                line_of_business: &case.line_of_business,
                program: case.program.as_deref(),
                member_id: &case.member_id,
                authorization_number: case.authorization_number.as_deref(),
                due_at: case.due_at.map(timestamp_text),
                created_at: timestamp_text(case.created_at),
                updated_at: timestamp_text(case.updated_at),
                body: case.body.json_text()?,
            });
            for (index, event) in new.events.iter().enumerate() {
                events.push(EventRow {
                    case_id: &case.id,
                    seq: index + 1,
                    at: timestamp_text(event.at),
                    actor: &event.actor,
                    kind: &event.kind,
                    body: event.body.json_text()?,
                });
            }
            for timer in &new.timers {
                timers.push(TimerRow {
                    case_id: &case.id,
                    kind: &timer.kind,
                    fire_at: timestamp_text(timer.fire_at),
                    payload: timer.payload.json_text()?,
                });
            }
        }
        sqlx::query(
            "INSERT INTO cases (id, version, status, plan, line_of_business, program, member_id, \
             authorization_number, due_at, created_at, updated_at, body) \
             SELECT value ->> '$.id', value ->> '$.version', value ->> '$.status', value ->> '$.plan', \
             value ->> '$.line_of_business', value ->> '$.program', value ->> '$.member_id', \
             value ->> '$.authorization_number', value ->> '$.due_at', value ->> '$.created_at', \
             value ->> '$.updated_at', value ->> '$.body' FROM json_each($1)",
        )
        .bind(Json(&cases))
        .execute(&mut **tx)
        .await
        .map_err(|error| write_error("insert cases", error))?;
        if !events.is_empty() {
            sqlx::query(
                "INSERT INTO case_events (case_id, seq, at, actor, kind, body) \
                 SELECT value ->> '$.case_id', value ->> '$.seq', value ->> '$.at', value ->> '$.actor', \
                 value ->> '$.kind', value ->> '$.body' FROM json_each($1)",
            )
            .bind(Json(&events))
            .execute(&mut **tx)
            .await
            .map_err(|error| write_error("append case events", error))?;
        }
        if !timers.is_empty() {
            sqlx::query(
                "INSERT INTO timers (case_id, kind, fire_at, payload) \
                 SELECT value ->> '$.case_id', value ->> '$.kind', value ->> '$.fire_at', value ->> '$.payload' \
                 FROM json_each($1)",
            )
            .bind(Json(&timers))
            .execute(&mut **tx)
            .await
            .map_err(|error| write_error("insert timers", error))?;
        }
    }
    Ok(())
}
