//! Timers as data: domain operations return what must happen later (a hold expiring, an
//! unsubmitted request expiring); the repository stores them as rows and the scheduler claims
//! and applies them, so a restart between the request and the due time changes nothing.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What a timer does when it fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimerKind {
    /// Documentation did not arrive: decide on the original submission.
    HoldExpiry,
    /// An in-progress request was not submitted by the end of the day.
    InProgressExpiry,
}

impl TimerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TimerKind::HoldExpiry => "hold_expiry",
            TimerKind::InProgressExpiry => "in_progress_expiry",
        }
    }
}

/// A timer a domain operation asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimerRequest {
    pub case_id: String,
    pub kind: TimerKind,
    pub due_at: DateTime<Utc>,
}

/// A stored timer as the repository hands it out when claimed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DueTimer {
    pub id: i64,
    pub case_id: String,
    pub kind: TimerKind,
    pub due_at: DateTime<Utc>,
}
