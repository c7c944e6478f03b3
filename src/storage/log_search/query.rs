//! What a search of the transaction log asks and answers, as plain values: the filters (parties,
//! control numbers, dates as users type them), the keyset cursor and its text form, the rows and
//! pages returned. No database here: the edges (CLI, HTTP) build these, the store runs them.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};

use crate::storage::Party;

/// The largest page a search returns.
pub const MAX_PAGE: u32 = 1000;

/// One transaction set identifier an interchange carries (ST01, or `TA1`) and how many times.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SetCount {
    pub set_id: String,
    pub count: i64,
}

/// What an interchange carries, summarized once when it is logged.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InterchangeContents {
    /// Functional groups (GS).
    pub groups: i64,
    /// By set identifier, each once.
    pub sets: Vec<SetCount>,
}

impl InterchangeContents {
    /// Transaction sets in all (a TA1 counts as one).
    pub fn set_total(&self) -> i64 {
        self.sets.iter().map(|set| set.count).sum()
    }
}

/// A sender or receiver to match: the identifier, and its qualifier when given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartyFilter {
    pub qualifier: Option<String>,
    pub id: String,
}

impl std::str::FromStr for PartyFilter {
    type Err = String;

    /// `QUALIFIER:ID` (`ZZ:CLEARINGHOUSE1`) or `ID` alone (any qualifier).
    fn from_str(text: &str) -> Result<Self, String> {
        let (qualifier, id) = match text.split_once(':') {
            Some((qualifier, id)) => (Some(qualifier.trim().to_owned()), id.trim()),
            None => (None, text.trim()),
        };
        if id.is_empty() || qualifier.as_deref().is_some_and(str::is_empty) {
            return Err("a party is QUALIFIER:ID (e.g. ZZ:SUBMITTER1) or ID".to_owned());
        }
        Ok(PartyFilter { qualifier, id: id.to_owned() })
    }
}

/// Where a page starts: strictly after this row in the newest-first order. Opaque to users (its
/// text form is `TIME-ID-SEQ`, microseconds since 1970 and the row's keys).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogCursor {
    pub at: DateTime<Utc>,
    pub id: i64,
    /// The answer's sequence number; 0 for an inbound interchange.
    pub seq: i64,
}

impl LogCursor {
    /// The text form handed to users.
    pub fn encode(&self) -> String {
        format!("{}-{}-{}", self.at.timestamp_micros(), self.id, self.seq)
    }

    /// Reads [`LogCursor::encode`]'s text back; `None` when it is not one.
    pub fn decode(text: &str) -> Option<LogCursor> {
        let mut parts = text.trim().splitn(3, '-');
        let micros: i64 = parts.next()?.parse().ok()?;
        let id: i64 = parts.next()?.parse().ok()?;
        let seq: i64 = parts.next()?.parse().ok()?;
        let at = Utc.timestamp_micros(micros).single()?;
        Some(LogCursor { at, id, seq })
    }
}

/// The first instant a `--since` value names: a date (`2026-11-23`, from its midnight UTC) or an
/// RFC 3339 time.
pub fn parse_since(text: &str) -> Result<DateTime<Utc>, String> {
    parse_instant(text, false)
}

/// The first instant after an `--until` value: a date (`2026-11-23`, that whole day UTC included)
/// or an RFC 3339 time (excluded).
pub fn parse_until(text: &str) -> Result<DateTime<Utc>, String> {
    parse_instant(text, true)
}

fn parse_instant(text: &str, end_of_day: bool) -> Result<DateTime<Utc>, String> {
    let text = text.trim();
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        let date = if end_of_day { date.succ_opt().unwrap_or(date) } else { date };
        return Ok(date.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc());
    }
    DateTime::parse_from_rfc3339(text)
        .map(|at| at.with_timezone(&Utc))
        .map_err(|_| format!("`{text}` is not a date (YYYY-MM-DD) or an RFC 3339 time (2026-11-23T08:00:00Z)"))
}

/// An ISA13 as users type it: `42` finds `000000042` (ISA13 is nine digits, zero-padded).
pub fn normalize_control_number(text: &str) -> String {
    let text = text.trim();
    if !text.is_empty() && text.len() < 9 && text.bytes().all(|b| b.is_ascii_digit()) {
        format!("{text:0>9}")
    } else {
        text.to_owned()
    }
}

/// A search of inbound interchanges. Every filter given must match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogQuery {
    pub sender: Option<PartyFilter>,
    pub receiver: Option<PartyFilter>,
    /// ISA13, exactly as stored (see [`normalize_control_number`]).
    pub control_number: Option<String>,
    /// Received at or after.
    pub since: Option<DateTime<Utc>>,
    /// Received before.
    pub until: Option<DateTime<Utc>>,
    /// Carries at least one transaction set with this identifier (`278`, `270`, `TA1`, ...).
    pub set_id: Option<String>,
    pub status: Option<String>,
    /// Rows per page, 1..=[`MAX_PAGE`] (other values are clamped).
    pub limit: u32,
    pub after: Option<LogCursor>,
}

impl Default for LogQuery {
    fn default() -> Self {
        LogQuery {
            sender: None,
            receiver: None,
            control_number: None,
            since: None,
            until: None,
            set_id: None,
            status: None,
            limit: 50,
            after: None,
        }
    }
}

/// A search of the answers sent. Every filter given must match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputQuery {
    /// `TA1`, `999`, `278`, `271`.
    pub kind: Option<String>,
    /// The answer's own ISA13.
    pub control_number: Option<String>,
    /// The trading partner: the sender of the inbound interchange answered.
    pub partner: Option<PartyFilter>,
    /// Answers to this inbound interchange only.
    pub interchange_id: Option<i64>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub limit: u32,
    pub after: Option<LogCursor>,
}

impl Default for OutputQuery {
    fn default() -> Self {
        OutputQuery {
            kind: None,
            control_number: None,
            partner: None,
            interchange_id: None,
            since: None,
            until: None,
            limit: 50,
            after: None,
        }
    }
}

/// One page of a search, newest first; `next` continues it (none after the last page).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogPage<T> {
    pub items: Vec<T>,
    pub next: Option<LogCursor>,
}

/// An inbound interchange as a search lists it (no content).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterchangeSummary {
    pub id: i64,
    pub received_at: DateTime<Utc>,
    pub sender: Option<Party>,
    pub receiver: Option<Party>,
    pub control_number: Option<String>,
    pub status: String,
    pub duplicate_of: Option<i64>,
    pub file_name: String,
    pub byte_offset: i64,
    pub content_sha256: String,
    /// Bytes of content.
    pub size: i64,
    /// `None` until the interchange is summarized ([`Store::record_interchange_contents`]).
    pub contents: Option<InterchangeContents>,
}

/// An answer as a search lists it (no content), with the inbound interchange it answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputSummary {
    pub interchange_id: i64,
    pub seq: i64,
    pub kind: String,
    pub control_number: String,
    pub created_at: DateTime<Utc>,
    pub size: i64,
    /// Sender of the inbound interchange (the partner the answer goes to).
    pub partner: Option<Party>,
    /// ISA13 of the inbound interchange.
    pub inbound_control_number: Option<String>,
}

/// A later 278 response queued for a case of an interchange (a pended case decided afterwards):
/// where it stands in delivery. Its bytes, once written, are in the notification queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaterAnswer {
    pub notification_id: i64,
    pub case_id: String,
    /// `pending`, `sent`, `superseded`.
    pub status: String,
    /// Its ISA13, once written.
    pub control_number: Option<String>,
    pub queued_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// A case an interchange is linked to, with its status now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkedCase {
    pub case_id: String,
    pub status: String,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_other_text() {
        let cursor = LogCursor { at: Utc.timestamp_micros(1_763_900_000_123_456).unwrap(), id: 42, seq: 3 };
        assert_eq!(LogCursor::decode(&cursor.encode()), Some(cursor));
        assert_eq!(LogCursor::decode("abc"), None);
        assert_eq!(LogCursor::decode("1-2"), None);
    }

    #[test]
    fn dates_name_whole_days_and_times_are_exact() {
        assert_eq!(parse_since("2026-11-23").unwrap().to_rfc3339(), "2026-11-23T00:00:00+00:00");
        assert_eq!(parse_until("2026-11-23").unwrap().to_rfc3339(), "2026-11-24T00:00:00+00:00");
        assert_eq!(parse_until("2026-11-23T08:30:00Z").unwrap().to_rfc3339(), "2026-11-23T08:30:00+00:00");
        assert!(parse_since("23/11/2026").is_err());
    }

    #[test]
    fn parties_and_control_numbers_as_users_type_them() {
        let party: PartyFilter = "ZZ:SUBMITTER1".parse().unwrap();
        assert_eq!(party, PartyFilter { qualifier: Some("ZZ".into()), id: "SUBMITTER1".into() });
        let any: PartyFilter = "SUBMITTER1".parse().unwrap();
        assert_eq!(any.qualifier, None);
        assert!("ZZ:".parse::<PartyFilter>().is_err());
        assert!(":X".parse::<PartyFilter>().is_err());
        assert_eq!(normalize_control_number("42"), "000000042");
        assert_eq!(normalize_control_number("000000042"), "000000042");
        assert_eq!(normalize_control_number("A1"), "A1");
    }
}
