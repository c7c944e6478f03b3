//! Plain records exchanged with the store.
//!
//! Why plain records: the storage layer must not depend on the domain (src/domain). The domain maps
//! its case to a [`CaseRecord`] (the indexed columns plus the whole case as JSON in `body`) and
//! back; the store only knows rows.
//!
//! Timestamps are stored with microsecond precision (PostgreSQL's `timestamptz`); finer parts are
//! truncated on write.

use std::borrow::Cow;

use chrono::{DateTime, NaiveDate, Timelike, Utc};
use serde_json::Value;

use super::error::StoreError;

/// One case: the columns the store queries on, and the whole case as JSON (a `Value`, or for new
/// cases of the batch path the text it was serialized to: see [`JsonText`]).
#[derive(Debug, Clone, PartialEq)]
pub struct CaseRecord<B = Value> {
    pub id: String,
    /// Optimistic concurrency version. `insert_case` stores it as given; `update_case` stores the
    /// record's version after checking that the stored one is the expected one.
    pub version: i64,
    pub status: String,
    pub plan: String,
    pub line_of_business: String,
    /// `None` when no program covers the case.
    pub program: Option<String>,
    pub member_id: String,
    /// Unique across cases when present.
    pub authorization_number: Option<String>,
    /// Decision clock: the review queue is ordered by it.
    pub due_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub body: B,
}

/// An event to append to a case's history. The store appends it to the case being written and
/// numbers it (`seq` 1, 2, 3 … per case, in the order given).
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent<B = Value> {
    pub at: DateTime<Utc>,
    pub actor: String,
    pub kind: String,
    pub body: B,
}

/// One entry of a case's append-only history, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRecord {
    pub case_id: String,
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub kind: String,
    pub body: Value,
}

/// A timer to create for the case being written (for example the due date of a hold). The store
/// assigns its id.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTimer<B = Value> {
    pub kind: String,
    pub fire_at: DateTime<Utc>,
    pub payload: B,
}

/// A new case with its first events and timers, for batch inserts.
#[derive(Debug, Clone, PartialEq)]
pub struct NewCase<B = Value> {
    pub case: CaseRecord<B>,
    pub events: Vec<NewEvent<B>>,
    pub timers: Vec<NewTimer<B>>,
}

/// A JSON document already serialized to text.
///
/// Why: the batch path writes a thousand cases, with their events and timers, per interchange;
/// building each as a `serde_json::Value` tree (a map and a string per field) only to print it
/// and drop it cost a fifth of the answering thread. The domain's types are serialized straight
/// to text instead (keys in field order; PostgreSQL's jsonb and every reader ignore the order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonText(pub String);

/// A JSON column's value as text, whichever form the record holds.
pub trait JsonDocument: Sync {
    fn json_text(&self) -> Result<Cow<'_, str>, StoreError>;
}

impl JsonDocument for Value {
    fn json_text(&self) -> Result<Cow<'_, str>, StoreError> {
        serde_json::to_string(self).map(Cow::Owned).map_err(|_| StoreError::Corrupt { what: "JSON document" })
    }
}

impl JsonDocument for JsonText {
    fn json_text(&self) -> Result<Cow<'_, str>, StoreError> {
        Ok(Cow::Borrowed(&self.0))
    }
}

/// A stored timer with its lease and completion state.
#[derive(Debug, Clone, PartialEq)]
pub struct TimerRecord {
    pub id: i64,
    pub case_id: String,
    pub kind: String,
    pub fire_at: DateTime<Utc>,
    pub payload: Value,
    /// Owner of the current (or last) lease.
    pub claimed_by: Option<String>,
    /// End of the current (or last) lease; after it another instance may claim the timer.
    pub claimed_until: Option<DateTime<Utc>>,
    /// When the timer was completed or cancelled; `None` while it is pending.
    pub done_at: Option<DateTime<Utc>>,
    /// True when the timer was cancelled (by `update_case`) rather than completed.
    pub cancelled: bool,
}

impl TimerRecord {
    /// True while the timer has been neither completed nor cancelled.
    pub fn is_pending(&self) -> bool {
        self.done_at.is_none()
    }
}

/// One member of the eligibility roster (the columns of `umgate roster import`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberRecord {
    pub member_id: String,
    pub first_name: String,
    pub last_name: String,
    pub birth_date: NaiveDate,
    pub gender: Option<String>,
    pub plan: String,
    pub line_of_business: String,
    pub coverage_start: NaiveDate,
    /// `None` for open-ended coverage.
    pub coverage_end: Option<NaiveDate>,
}

/// Truncates a timestamp to the microsecond precision that both databases keep, so that a record
/// read back compares equal to the one written.
pub fn to_stored_precision(at: DateTime<Utc>) -> DateTime<Utc> {
    // Below one second (or inside a leap second) the value always fits; keep `at` otherwise.
    at.with_nanosecond(at.timestamp_subsec_micros() * 1_000).unwrap_or(at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn truncates_to_microseconds() {
        let at = Utc.timestamp_opt(1_700_000_000, 123_456_789).single().unwrap_or_default();
        let stored = to_stored_precision(at);
        assert_eq!(stored.timestamp_subsec_nanos(), 123_456_000);
        assert_eq!(stored.timestamp(), 1_700_000_000);
    }
}
