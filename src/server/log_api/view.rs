//! The transaction log as users see it, the same over HTTP (`GET /v1/log...`) and on the command
//! line (`umgate log ... --json`): the filters as text, checked into store queries, and the JSON
//! form of entries, answers, pages and the detail of one interchange.
//!
//! Why one place: a script that moves from the CLI to the API (or back) reads the same fields.

use serde::Deserialize;
use serde_json::{Value, json};

use crate::storage::log_search::{
    InterchangeSummary, LogCursor, LogPage, LogQuery, MAX_PAGE, OutputQuery, OutputSummary, PartyFilter,
    normalize_control_number, parse_since, parse_until,
};
use crate::storage::{Party, Store, StoreError};

/// Kinds of answers that are acknowledgments (the rest answer the transactions themselves).
const ACKNOWLEDGMENT_KINDS: [&str; 2] = ["TA1", "999"];

/// The filters of an inbound search as given (query string or flags).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchFilters {
    /// `QUALIFIER:ID` or `ID`.
    pub sender: Option<String>,
    pub receiver: Option<String>,
    /// ISA13 (`42` finds `000000042`).
    pub control_number: Option<String>,
    /// Date (`YYYY-MM-DD`) or RFC 3339 time.
    pub since: Option<String>,
    pub until: Option<String>,
    /// Transaction set identifier: `278`, `270`, `TA1` ...
    #[serde(rename = "type")]
    pub set_type: Option<String>,
    pub status: Option<String>,
    pub limit: Option<String>,
    pub cursor: Option<String>,
}

/// The filters of a search of answers as given.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputFilters {
    /// `TA1`, `999`, `278`, `271`.
    pub kind: Option<String>,
    /// The answer's ISA13.
    pub control_number: Option<String>,
    /// The partner answered (sender of the inbound interchange): `QUALIFIER:ID` or `ID`.
    pub partner: Option<String>,
    /// Answers to this inbound interchange only.
    pub interchange: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
    pub limit: Option<String>,
    pub cursor: Option<String>,
}

/// A filter that cannot be used, said so that the user can fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BadFilter(pub String);

fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|value| !value.is_empty())
}

fn party(name: &str, value: &Option<String>) -> Result<Option<PartyFilter>, BadFilter> {
    given(value).map(|text| text.parse().map_err(|reason| BadFilter(format!("{name}: {reason}")))).transpose()
}

fn limit(value: &Option<String>) -> Result<u32, BadFilter> {
    match given(value) {
        None => Ok(50),
        Some(text) => match text.parse::<u32>() {
            Ok(limit) if (1..=MAX_PAGE).contains(&limit) => Ok(limit),
            _ => Err(BadFilter(format!("limit: a number from 1 to {MAX_PAGE}"))),
        },
    }
}

fn cursor(value: &Option<String>) -> Result<Option<LogCursor>, BadFilter> {
    given(value)
        .map(|text| {
            LogCursor::decode(text)
                .ok_or_else(|| BadFilter("cursor: not a cursor of this log (use next_cursor as given)".into()))
        })
        .transpose()
}

/// A received or created time range: from (included), to (excluded).
type Range = (Option<chrono::DateTime<chrono::Utc>>, Option<chrono::DateTime<chrono::Utc>>);

fn dates(since: &Option<String>, until: &Option<String>) -> Result<Range, BadFilter> {
    let since = given(since).map(|text| parse_since(text).map_err(|e| BadFilter(format!("since: {e}")))).transpose()?;
    let until = given(until).map(|text| parse_until(text).map_err(|e| BadFilter(format!("until: {e}")))).transpose()?;
    Ok((since, until))
}

/// Identifiers and codes are short words: anything else is refused rather than searched for.
fn word(name: &str, value: &Option<String>) -> Result<Option<String>, BadFilter> {
    match given(value) {
        None => Ok(None),
        Some(text) if text.len() <= 40 && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') => {
            Ok(Some(text.to_owned()))
        }
        Some(_) => Err(BadFilter(format!("{name}: letters, digits, - and _ only"))),
    }
}

impl SearchFilters {
    /// The store query these filters ask for.
    pub fn to_query(&self) -> Result<LogQuery, BadFilter> {
        let (since, until) = dates(&self.since, &self.until)?;
        Ok(LogQuery {
            sender: party("sender", &self.sender)?,
            receiver: party("receiver", &self.receiver)?,
            control_number: word("control_number", &self.control_number)?.map(|n| normalize_control_number(&n)),
            since,
            until,
            set_id: word("type", &self.set_type)?.map(|t| t.to_ascii_uppercase()),
            status: word("status", &self.status)?,
            limit: limit(&self.limit)?,
            after: cursor(&self.cursor)?,
        })
    }
}

impl OutputFilters {
    /// The store query these filters ask for.
    pub fn to_query(&self) -> Result<OutputQuery, BadFilter> {
        let (since, until) = dates(&self.since, &self.until)?;
        let interchange_id = given(&self.interchange)
            .map(|text| text.parse::<i64>().map_err(|_| BadFilter("interchange: an interchange id (a number)".into())))
            .transpose()?;
        Ok(OutputQuery {
            kind: word("kind", &self.kind)?.map(|kind| kind.to_ascii_uppercase()),
            control_number: word("control_number", &self.control_number)?.map(|n| normalize_control_number(&n)),
            partner: party("partner", &self.partner)?,
            interchange_id,
            since,
            until,
            limit: limit(&self.limit)?,
            after: cursor(&self.cursor)?,
        })
    }
}

fn party_json(party: &Option<Party>) -> Value {
    match party {
        Some(party) => json!({"qualifier": party.qualifier, "id": party.id}),
        None => Value::Null,
    }
}

/// An inbound interchange as listed.
pub fn interchange_json(entry: &InterchangeSummary) -> Value {
    json!({
        "id": entry.id,
        "received_at": entry.received_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        "sender": party_json(&entry.sender),
        "receiver": party_json(&entry.receiver),
        "control_number": entry.control_number,
        "status": entry.status,
        "duplicate_of": entry.duplicate_of,
        "file_name": entry.file_name,
        "byte_offset": entry.byte_offset,
        "content_sha256": entry.content_sha256,
        "size": entry.size,
        "groups": entry.contents.as_ref().map(|contents| contents.groups),
        "transaction_sets": entry.contents.as_ref().map(|contents| &contents.sets),
        "links": {"self": format!("/v1/log/{}", entry.id), "raw": format!("/v1/log/{}/raw", entry.id)},
    })
}

/// An answer as listed.
pub fn output_json(output: &OutputSummary) -> Value {
    json!({
        "interchange_id": output.interchange_id,
        "seq": output.seq,
        "kind": output.kind,
        "acknowledgment": ACKNOWLEDGMENT_KINDS.contains(&output.kind.as_str()),
        "control_number": output.control_number,
        "created_at": output.created_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        "size": output.size,
        "partner": party_json(&output.partner),
        "inbound_control_number": output.inbound_control_number,
        "links": {
            "interchange": format!("/v1/log/{}", output.interchange_id),
            "raw": format!("/v1/log/{}/outputs/{}/raw", output.interchange_id, output.seq),
        },
    })
}

/// A page: `{"items": [...], "next_cursor": TEXT | null}`.
pub fn page_json<T>(page: &LogPage<T>, item: impl Fn(&T) -> Value) -> Value {
    json!({
        "items": page.items.iter().map(item).collect::<Vec<_>>(),
        "next_cursor": page.next.map(|cursor| cursor.encode()),
    })
}

/// One inbound interchange with everything linked to it: its answers (acknowledgments marked),
/// its cases with their status now, the later 278 responses queued or sent for them (pended
/// cases decided afterwards), the duplicates kept of it. `None` when there is no such id.
pub async fn detail_json(store: &Store, id: i64) -> Result<Option<Value>, StoreError> {
    let Some(entry) = store.interchange_summary(id).await? else { return Ok(None) };
    let answers = store
        .search_outputs(&OutputQuery { interchange_id: Some(id), limit: MAX_PAGE, ..OutputQuery::default() })
        .await?;
    let mut answers: Vec<&OutputSummary> = answers.items.iter().collect();
    answers.sort_by_key(|answer| answer.seq);
    let cases = store.interchange_cases(id).await?;
    let duplicates = store.duplicates_of(id).await?;
    let later = store.later_answers(id).await?;
    let time = |at: chrono::DateTime<chrono::Utc>| at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    Ok(Some(json!({
        "interchange": interchange_json(&entry),
        "answers": answers.iter().map(|answer| output_json(answer)).collect::<Vec<_>>(),
        "acknowledgments": answers
            .iter()
            .filter(|answer| ACKNOWLEDGMENT_KINDS.contains(&answer.kind.as_str()))
            .map(|answer| json!({"seq": answer.seq, "kind": answer.kind, "control_number": answer.control_number}))
            .collect::<Vec<_>>(),
        "cases": cases.iter().map(|case| json!({"case_id": case.case_id, "status": case.status})).collect::<Vec<_>>(),
        "later_answers": later
            .iter()
            .map(|answer| json!({
                "notification_id": answer.notification_id,
                "case_id": answer.case_id,
                "status": answer.status,
                "control_number": answer.control_number,
                "queued_at": time(answer.queued_at),
                "sent_at": answer.sent_at.map(time),
            }))
            .collect::<Vec<_>>(),
        "duplicates": duplicates,
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_are_checked_and_normalized() {
        let filters = SearchFilters {
            sender: Some("ZZ:SUBMITTER1".into()),
            control_number: Some("42".into()),
            since: Some("2026-11-01".into()),
            set_type: Some("ta1".into()),
            limit: Some("10".into()),
            ..SearchFilters::default()
        };
        let query = filters.to_query().unwrap_or_default();
        assert_eq!(query.control_number.as_deref(), Some("000000042"));
        assert_eq!(query.set_id.as_deref(), Some("TA1"));
        assert_eq!(query.limit, 10);
        assert!(query.sender.is_some() && query.since.is_some());
        let bad = |filters: SearchFilters| filters.to_query().err().map(|e| e.0).unwrap_or_default();
        assert!(bad(SearchFilters { limit: Some("0".into()), ..SearchFilters::default() }).starts_with("limit"));
        assert!(bad(SearchFilters { limit: Some("5000".into()), ..SearchFilters::default() }).starts_with("limit"));
        assert!(
            bad(SearchFilters { since: Some("yesterday".into()), ..SearchFilters::default() }).starts_with("since")
        );
        assert!(bad(SearchFilters { cursor: Some("x".into()), ..SearchFilters::default() }).starts_with("cursor"));
        assert!(bad(SearchFilters { status: Some("a b".into()), ..SearchFilters::default() }).starts_with("status"));
        let outputs = OutputFilters { interchange: Some("seven".into()), ..OutputFilters::default() };
        assert!(outputs.to_query().is_err());
    }
}
