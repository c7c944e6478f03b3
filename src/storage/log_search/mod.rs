//! Searching the transaction log (issue 6 scope 6, SPEC section 6 "transaction log"): inbound
//! interchanges by sender, receiver, ISA13, received date, what they carry and status; the answers
//! sent (interchange outputs) by kind, control number and date; one interchange's answers and cases.
//!
//! Why keyset pages: the log only grows (a million rows is a few months of a busy partner), and an
//! `OFFSET` page costs the rows it skips. Every search is ordered newest first by `(received_at,
//! id)` (answers: `(created_at, interchange_id, seq)`), which is unique and stable, and a page
//! continues strictly after the last row of the previous one ([`LogCursor`]); migration 0007 has an
//! index ending in those columns for each filter, so a page is one index range scan.
//!
//! Why a separate summary of sets: the store knows nothing of X12, and the interchange's content
//! is a blob. What an interchange carries (its ST01 values and counts, TA1 for an acknowledgment)
//! is given to [`Store::record_interchange_contents`] by the pipeline, which reads X12.

mod query;

use chrono::{DateTime, Utc};
use sqlx::Row;

pub use self::query::{
    InterchangeContents, InterchangeSummary, LaterAnswer, LinkedCase, LogCursor, LogPage, LogQuery, MAX_PAGE,
    OutputQuery, OutputSummary, PartyFilter, SetCount, normalize_control_number, parse_since, parse_until,
};
use super::error::StoreError;
use super::interchanges::{OutputRecord, Party};
use super::{Store, to_stored_precision};

/// A value bound to a search statement, typed per backend at bind time.
#[derive(Debug, Clone)]
enum Value {
    Text(String),
    Int(i64),
    At(DateTime<Utc>),
}

/// A statement being built: its text and its numbered parameters.
#[derive(Debug, Default)]
struct Statement {
    conditions: Vec<String>,
    values: Vec<Value>,
}

impl Statement {
    /// Adds a parameter; returns its placeholder (`$n`).
    fn param(&mut self, value: Value) -> String {
        self.values.push(value);
        format!("${}", self.values.len())
    }

    fn text(&mut self, text: &str) -> String {
        self.param(Value::Text(text.to_owned()))
    }

    fn party(&mut self, qualifier_column: &str, id_column: &str, party: &PartyFilter) {
        let id = self.text(&party.id);
        self.conditions.push(format!("{id_column} = {id}"));
        if let Some(qualifier) = &party.qualifier {
            let qualifier = self.text(qualifier);
            self.conditions.push(format!("{qualifier_column} = {qualifier}"));
        }
    }

    fn range(&mut self, column: &str, since: Option<DateTime<Utc>>, until: Option<DateTime<Utc>>) {
        if let Some(since) = since {
            let since = self.param(Value::At(to_stored_precision(since)));
            self.conditions.push(format!("{column} >= {since}"));
        }
        if let Some(until) = until {
            let until = self.param(Value::At(to_stored_precision(until)));
            self.conditions.push(format!("{column} < {until}"));
        }
    }

    fn where_clause(&self) -> String {
        if self.conditions.is_empty() { String::new() } else { format!("WHERE {}", self.conditions.join(" AND ")) }
    }
}

/// Pages hold 1 to [`MAX_PAGE`] rows; the edges refuse other values before asking.
fn page_size(limit: u32) -> i64 {
    i64::from(limit.clamp(1, MAX_PAGE))
}

macro_rules! bind_all {
    ($query:expr, $values:expr, $at:expr) => {{
        let mut query = $query;
        for value in $values {
            query = match value {
                Value::Text(text) => query.bind(text.clone()),
                Value::Int(number) => query.bind(*number),
                Value::At(at) => query.bind($at(*at)),
            };
        }
        query
    }};
}

fn sqlite_at(at: DateTime<Utc>) -> String {
    super::sqlite::timestamp_text(at)
}

fn postgres_at(at: DateTime<Utc>) -> DateTime<Utc> {
    at
}

fn party(qualifier: Option<String>, id: Option<String>) -> Option<Party> {
    match (qualifier, id) {
        (Some(qualifier), Some(id)) => Some(Party { qualifier, id }),
        _ => None,
    }
}

const SUMMARY_COLUMNS: &str = "i.id, i.received_at, i.sender_qualifier, i.sender_id, i.receiver_qualifier, \
    i.receiver_id, i.control_number, i.status, i.duplicate_of, i.file_name, i.byte_offset, i.content_sha256, \
    CAST(length(i.content) AS BIGINT) AS size, i.group_count, i.set_count";

/// Reads a row of [`SUMMARY_COLUMNS`]; `$at` reads `received_at`. Sets are filled in afterwards.
macro_rules! summary_row {
    ($row:expr, $at:expr) => {{
        let row = $row;
        let text = |name: &'static str| row.try_get::<Option<String>, _>(name);
        let read = || -> Result<(InterchangeSummary, Option<i64>, Option<i64>), sqlx::Error> {
            let summary = InterchangeSummary {
                id: row.try_get("id")?,
                received_at: $at(row)?,
                sender: party(text("sender_qualifier")?, text("sender_id")?),
                receiver: party(text("receiver_qualifier")?, text("receiver_id")?),
                control_number: text("control_number")?,
                status: row.try_get("status")?,
                duplicate_of: row.try_get("duplicate_of")?,
                file_name: row.try_get("file_name")?,
                byte_offset: row.try_get("byte_offset")?,
                content_sha256: row.try_get("content_sha256")?,
                size: row.try_get("size")?,
                contents: None,
            };
            Ok((summary, row.try_get("group_count")?, row.try_get("set_count")?))
        };
        read().map_err(|_| StoreError::Corrupt { what: "interchange" })
    }};
}

macro_rules! output_row {
    ($row:expr, $at:expr) => {{
        let row = $row;
        let text = |name: &'static str| row.try_get::<Option<String>, _>(name);
        let read = || -> Result<OutputSummary, sqlx::Error> {
            Ok(OutputSummary {
                interchange_id: row.try_get("interchange_id")?,
                seq: row.try_get("seq")?,
                kind: row.try_get("kind")?,
                control_number: row.try_get("control_number")?,
                created_at: $at(row)?,
                size: row.try_get("size")?,
                partner: party(text("sender_qualifier")?, text("sender_id")?),
                inbound_control_number: text("inbound_control_number")?,
            })
        };
        read().map_err(|_| StoreError::Corrupt { what: "interchange answer" })
    }};
}

fn sqlite_time(row: &sqlx::sqlite::SqliteRow, column: &'static str) -> Result<DateTime<Utc>, sqlx::Error> {
    let text: String = row.try_get(column)?;
    super::sqlite::parse_timestamp(&text).map_err(|error| sqlx::Error::Decode(Box::new(error)))
}

/// Keeps the first `limit` rows; the cursor of the last one when more followed.
fn paginate<T>(mut items: Vec<T>, limit: i64, cursor: impl Fn(&T) -> LogCursor) -> LogPage<T> {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let more = items.len() > limit;
    items.truncate(limit);
    let next = if more { items.last().map(cursor) } else { None };
    LogPage { items, next }
}

impl Store {
    /// Records what an interchange carries (see [`InterchangeContents`]); again for the same
    /// interchange replaces it. [`StoreError::NotFound`] when there is no such interchange.
    pub async fn record_interchange_contents(&self, id: i64, contents: &InterchangeContents) -> Result<(), StoreError> {
        const OP: &str = "record interchange contents";
        const CLEAR: &str = "DELETE FROM interchange_sets WHERE interchange_id = $1";
        const SET: &str = "INSERT INTO interchange_sets (interchange_id, set_id, set_count, received_at) \
            SELECT id, $2, $3, received_at FROM interchanges WHERE id = $1";
        const TOTALS: &str = "UPDATE interchanges SET group_count = $2, set_count = $3 WHERE id = $1";
        macro_rules! run {
            ($tx:expr) => {{
                let mut tx = $tx.map_err(|error| StoreError::database(OP, error))?;
                let updated = sqlx::query(TOTALS)
                    .bind(id)
                    .bind(contents.groups)
                    .bind(contents.set_total())
                    .execute(&mut *tx)
                    .await
                    .map_err(|error| StoreError::database(OP, error))?;
                if updated.rows_affected() == 0 {
                    return Err(StoreError::NotFound { what: "interchange" });
                }
                sqlx::query(CLEAR).bind(id).execute(&mut *tx).await.map_err(|error| StoreError::database(OP, error))?;
                for set in &contents.sets {
                    sqlx::query(SET)
                        .bind(id)
                        .bind(&set.set_id)
                        .bind(set.count)
                        .execute(&mut *tx)
                        .await
                        .map_err(|error| StoreError::database(OP, error))?;
                }
                tx.commit().await.map_err(|error| StoreError::database(OP, error))
            }};
        }
        match self {
            Store::Sqlite(store) => run!(store.pool().begin_with("BEGIN IMMEDIATE").await),
            Store::Postgres(store) => run!(store.pool().begin().await),
        }
    }

    /// The ids of up to `limit` interchanges not summarized yet (logged before migration 0007, or
    /// by a path that does not summarize), oldest first, for the backfill. Ids only: one
    /// interchange may be a batch of many megabytes, read one at a time.
    pub async fn interchanges_to_summarize(&self, limit: i64) -> Result<Vec<i64>, StoreError> {
        const OP: &str = "find interchanges to summarize";
        const SQL: &str = "SELECT id FROM interchanges WHERE set_count IS NULL ORDER BY id LIMIT $1";
        match self {
            Store::Sqlite(store) => sqlx::query_scalar(SQL).bind(limit).fetch_all(store.pool()).await,
            Store::Postgres(store) => sqlx::query_scalar(SQL).bind(limit).fetch_all(store.pool()).await,
        }
        .map_err(|error| StoreError::database(OP, error))
    }

    /// Inbound interchanges matching `query`, newest first, one page.
    pub async fn search_interchanges(&self, query: &LogQuery) -> Result<LogPage<InterchangeSummary>, StoreError> {
        const OP: &str = "search the transaction log";
        let limit = page_size(query.limit);
        let mut statement = Statement::default();
        if let Some(sender) = &query.sender {
            statement.party("i.sender_qualifier", "i.sender_id", sender);
        }
        if let Some(receiver) = &query.receiver {
            statement.party("i.receiver_qualifier", "i.receiver_id", receiver);
        }
        if let Some(control_number) = &query.control_number {
            let control_number = statement.text(control_number);
            statement.conditions.push(format!("i.control_number = {control_number}"));
        }
        if let Some(status) = &query.status {
            let status = statement.text(status);
            statement.conditions.push(format!("i.status = {status}"));
        }
        // Which index reads the page: a party or a control number selects few rows, and their
        // indexes lead; a type alone is read from interchange_sets in page order (its copy of
        // received_at), so that a rare type does not scan the whole log for its first page.
        let selective = query.sender.is_some() || query.receiver.is_some() || query.control_number.is_some();
        let (from, order) = match &query.set_id {
            Some(set_id) if !selective => {
                let set_id = statement.text(set_id);
                statement.conditions.push(format!("s.set_id = {set_id}"));
                (
                    "interchange_sets s JOIN interchanges i ON i.id = s.interchange_id",
                    ("s.received_at", "s.interchange_id"),
                )
            }
            Some(set_id) => {
                let set_id = statement.text(set_id);
                statement.conditions.push(format!(
                    "EXISTS (SELECT 1 FROM interchange_sets s WHERE s.interchange_id = i.id AND s.set_id = {set_id})"
                ));
                ("interchanges i", ("i.received_at", "i.id"))
            }
            None => ("interchanges i", ("i.received_at", "i.id")),
        };
        let (at_column, id_column) = order;
        statement.range(at_column, query.since, query.until);
        if let Some(after) = query.after {
            let at = statement.param(Value::At(after.at));
            let id = statement.param(Value::Int(after.id));
            statement.conditions.push(format!("({at_column}, {id_column}) < ({at}, {id})"));
        }
        let fetch = statement.param(Value::Int(limit + 1));
        let sql = format!(
            "SELECT {SUMMARY_COLUMNS} FROM {from} {} ORDER BY {at_column} DESC, {id_column} DESC LIMIT {fetch}",
            statement.where_clause()
        );
        let rows = match self {
            Store::Sqlite(store) => {
                let rows = bind_all!(sqlx::query(&sql), &statement.values, sqlite_at)
                    .fetch_all(store.pool())
                    .await
                    .map_err(|error| StoreError::database(OP, error))?;
                rows.iter()
                    .map(|row| summary_row!(row, |row| sqlite_time(row, "received_at")))
                    .collect::<Result<Vec<_>, _>>()?
            }
            Store::Postgres(store) => {
                let rows = bind_all!(sqlx::query(&sql), &statement.values, postgres_at)
                    .fetch_all(store.pool())
                    .await
                    .map_err(|error| StoreError::database(OP, error))?;
                rows.iter()
                    .map(|row| {
                        summary_row!(row, |row: &sqlx::postgres::PgRow| row.try_get::<DateTime<Utc>, _>("received_at"))
                    })
                    .collect::<Result<Vec<_>, _>>()?
            }
        };
        let page =
            paginate(rows, limit, |(summary, _, _)| LogCursor { at: summary.received_at, id: summary.id, seq: 0 });
        let ids: Vec<i64> =
            page.items.iter().filter(|(_, _, sets)| sets.is_some()).map(|(summary, _, _)| summary.id).collect();
        let mut sets = self.sets_of(&ids).await?;
        let items = page
            .items
            .into_iter()
            .map(|(mut summary, groups, set_total)| {
                if set_total.is_some() {
                    let sets = sets.remove(&summary.id).unwrap_or_default();
                    summary.contents = Some(InterchangeContents { groups: groups.unwrap_or(0), sets });
                }
                summary
            })
            .collect();
        Ok(LogPage { items, next: page.next })
    }

    /// One inbound interchange as a search lists it.
    pub async fn interchange_summary(&self, id: i64) -> Result<Option<InterchangeSummary>, StoreError> {
        const OP: &str = "read a transaction log entry";
        let sql = format!("SELECT {SUMMARY_COLUMNS} FROM interchanges i WHERE i.id = $1");
        let row = match self {
            Store::Sqlite(store) => {
                let row = sqlx::query(&sql)
                    .bind(id)
                    .fetch_optional(store.pool())
                    .await
                    .map_err(|error| StoreError::database(OP, error))?;
                row.map(|row| summary_row!(&row, |row| sqlite_time(row, "received_at"))).transpose()?
            }
            Store::Postgres(store) => {
                let row = sqlx::query(&sql)
                    .bind(id)
                    .fetch_optional(store.pool())
                    .await
                    .map_err(|error| StoreError::database(OP, error))?;
                row.map(|row| {
                    summary_row!(&row, |row: &sqlx::postgres::PgRow| row.try_get::<DateTime<Utc>, _>("received_at"))
                })
                .transpose()?
            }
        };
        let Some((mut summary, groups, set_total)) = row else { return Ok(None) };
        if set_total.is_some() {
            let sets = self.sets_of(&[id]).await?.remove(&id).unwrap_or_default();
            summary.contents = Some(InterchangeContents { groups: groups.unwrap_or(0), sets });
        }
        Ok(Some(summary))
    }

    /// The set counts of these interchanges, by interchange, each list by set identifier.
    async fn sets_of(&self, ids: &[i64]) -> Result<std::collections::HashMap<i64, Vec<SetCount>>, StoreError> {
        const OP: &str = "read interchange contents";
        let mut by_id: std::collections::HashMap<i64, Vec<SetCount>> = std::collections::HashMap::new();
        if ids.is_empty() {
            return Ok(by_id);
        }
        let placeholders: Vec<String> = (1..=ids.len()).map(|n| format!("${n}")).collect();
        let sql = format!(
            "SELECT interchange_id, set_id, set_count FROM interchange_sets WHERE interchange_id IN ({}) \
             ORDER BY interchange_id, set_id",
            placeholders.join(", ")
        );
        let rows: Vec<(i64, String, i64)> = match self {
            Store::Sqlite(store) => {
                let mut query = sqlx::query_as(&sql);
                for id in ids {
                    query = query.bind(*id);
                }
                query.fetch_all(store.pool()).await
            }
            Store::Postgres(store) => {
                let mut query = sqlx::query_as(&sql);
                for id in ids {
                    query = query.bind(*id);
                }
                query.fetch_all(store.pool()).await
            }
        }
        .map_err(|error| StoreError::database(OP, error))?;
        for (id, set_id, count) in rows {
            by_id.entry(id).or_default().push(SetCount { set_id, count });
        }
        Ok(by_id)
    }

    /// Answers sent matching `query`, newest first, one page.
    pub async fn search_outputs(&self, query: &OutputQuery) -> Result<LogPage<OutputSummary>, StoreError> {
        const OP: &str = "search the answers sent";
        let limit = page_size(query.limit);
        let mut statement = Statement::default();
        if let Some(kind) = &query.kind {
            let kind = statement.text(kind);
            statement.conditions.push(format!("o.kind = {kind}"));
        }
        if let Some(control_number) = &query.control_number {
            let control_number = statement.text(control_number);
            statement.conditions.push(format!("o.control_number = {control_number}"));
        }
        if let Some(partner) = &query.partner {
            // The answer's copy of its partner (migration 0007), indexed in page order.
            statement.party("o.partner_qualifier", "o.partner_id", partner);
        }
        if let Some(id) = query.interchange_id {
            let id = statement.param(Value::Int(id));
            statement.conditions.push(format!("o.interchange_id = {id}"));
        }
        statement.range("o.created_at", query.since, query.until);
        if let Some(after) = query.after {
            let at = statement.param(Value::At(after.at));
            let id = statement.param(Value::Int(after.id));
            let seq = statement.param(Value::Int(after.seq));
            statement.conditions.push(format!("(o.created_at, o.interchange_id, o.seq) < ({at}, {id}, {seq})"));
        }
        let fetch = statement.param(Value::Int(limit + 1));
        let sql = format!(
            "SELECT o.interchange_id, o.seq, o.kind, o.control_number, o.created_at, CAST(length(o.content) AS BIGINT) AS size, \
             i.sender_qualifier, i.sender_id, i.control_number AS inbound_control_number \
             FROM interchange_outputs o JOIN interchanges i ON i.id = o.interchange_id {} \
             ORDER BY o.created_at DESC, o.interchange_id DESC, o.seq DESC LIMIT {fetch}",
            statement.where_clause()
        );
        let rows = match self {
            Store::Sqlite(store) => {
                let rows = bind_all!(sqlx::query(&sql), &statement.values, sqlite_at)
                    .fetch_all(store.pool())
                    .await
                    .map_err(|error| StoreError::database(OP, error))?;
                rows.iter()
                    .map(|row| output_row!(row, |row| sqlite_time(row, "created_at")))
                    .collect::<Result<_, _>>()?
            }
            Store::Postgres(store) => {
                let rows = bind_all!(sqlx::query(&sql), &statement.values, postgres_at)
                    .fetch_all(store.pool())
                    .await
                    .map_err(|error| StoreError::database(OP, error))?;
                rows.iter()
                    .map(|row| {
                        output_row!(row, |row: &sqlx::postgres::PgRow| row.try_get::<DateTime<Utc>, _>("created_at"))
                    })
                    .collect::<Result<_, _>>()?
            }
        };
        Ok(paginate(rows, limit, |output: &OutputSummary| LogCursor {
            at: output.created_at,
            id: output.interchange_id,
            seq: output.seq,
        }))
    }

    /// One answer with its content.
    pub async fn interchange_output(&self, interchange_id: i64, seq: i64) -> Result<Option<OutputRecord>, StoreError> {
        Ok(self.outputs_of_interchange(interchange_id, Some(seq)).await?.pop())
    }

    /// The cases an interchange is linked to, with their status now, by case id.
    pub async fn interchange_cases(&self, interchange_id: i64) -> Result<Vec<LinkedCase>, StoreError> {
        const OP: &str = "read interchange cases";
        const SQL: &str = "SELECT l.case_id, c.status FROM interchange_cases l JOIN cases c ON c.id = l.case_id \
            WHERE l.interchange_id = $1 ORDER BY l.case_id";
        let rows: Vec<(String, String)> = match self {
            Store::Sqlite(store) => sqlx::query_as(SQL).bind(interchange_id).fetch_all(store.pool()).await,
            Store::Postgres(store) => sqlx::query_as(SQL).bind(interchange_id).fetch_all(store.pool()).await,
        }
        .map_err(|error| StoreError::database(OP, error))?;
        Ok(rows.into_iter().map(|(case_id, status)| LinkedCase { case_id, status }).collect())
    }

    /// The later 278 responses queued for this interchange's cases, in the order queued.
    pub async fn later_answers(&self, interchange_id: i64) -> Result<Vec<LaterAnswer>, StoreError> {
        const OP: &str = "read later answers";
        const SQL: &str = "SELECT id, case_id, status, control_number, queued_at, sent_at FROM notifications \
            WHERE interchange_id = $1 ORDER BY id";
        macro_rules! answer {
            ($row:expr, $at:expr) => {{
                let row = $row;
                let read = || -> Result<LaterAnswer, sqlx::Error> {
                    Ok(LaterAnswer {
                        notification_id: row.try_get("id")?,
                        case_id: row.try_get("case_id")?,
                        status: row.try_get("status")?,
                        control_number: row.try_get("control_number")?,
                        queued_at: $at(row, "queued_at")?.unwrap_or_default(),
                        sent_at: $at(row, "sent_at")?,
                    })
                };
                read().map_err(|_| StoreError::Corrupt { what: "notification" })
            }};
        }
        match self {
            Store::Sqlite(store) => {
                let rows = sqlx::query(SQL)
                    .bind(interchange_id)
                    .fetch_all(store.pool())
                    .await
                    .map_err(|error| StoreError::database(OP, error))?;
                let at = |row: &sqlx::sqlite::SqliteRow, column: &'static str| {
                    row.try_get::<Option<String>, _>(column)?
                        .map(|text| super::sqlite::parse_timestamp(&text))
                        .transpose()
                        .map_err(|error| sqlx::Error::Decode(Box::new(error)))
                };
                rows.iter().map(|row| answer!(row, at)).collect()
            }
            Store::Postgres(store) => {
                let rows = sqlx::query(SQL)
                    .bind(interchange_id)
                    .fetch_all(store.pool())
                    .await
                    .map_err(|error| StoreError::database(OP, error))?;
                let at =
                    |row: &sqlx::postgres::PgRow, column: &'static str| row.try_get::<Option<DateTime<Utc>>, _>(column);
                rows.iter().map(|row| answer!(row, at)).collect()
            }
        }
    }

    /// Later interchanges kept as duplicates of this one (same sender and ISA13, other bytes).
    pub async fn duplicates_of(&self, interchange_id: i64) -> Result<Vec<i64>, StoreError> {
        const OP: &str = "read duplicate interchanges";
        const SQL: &str = "SELECT id FROM interchanges WHERE duplicate_of = $1 ORDER BY id";
        match self {
            Store::Sqlite(store) => sqlx::query_scalar(SQL).bind(interchange_id).fetch_all(store.pool()).await,
            Store::Postgres(store) => sqlx::query_scalar(SQL).bind(interchange_id).fetch_all(store.pool()).await,
        }
        .map_err(|error| StoreError::database(OP, error))
    }
}
