//! The append-only history of a case: who did what, when, why, under which rule and which
//! configuration entry. Every decision is explainable from these events alone.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::model::CaseStatus;

/// Who caused an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "id")]
pub enum Actor {
    /// The rules engine at intake.
    System,
    /// A nurse or physician reviewer, by reviewer id.
    Reviewer(String),
    /// The requesting provider, by NPI.
    Requester(String),
    /// A timer fired by the scheduler.
    Scheduler,
}

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Received,
    Started,
    RuleEvaluated,
    UrgencyDowngraded,
    Pended,
    Determined,
    HoldPlaced,
    DocumentAttached,
    HoldReleased,
    HoldExpired,
    RegimenChosen,
    PathwayAnswered,
    ReconsiderationFiled,
    AppealFiled,
    PeerToPeerChecked,
    Extended,
    UpdateRequested,
    Withdrawn,
    Cancelled,
    Expired,
    /// A due timer could not be applied (see the detail); it was completed without effect.
    TimerFailed,
    /// The submitter was answered "pended" and the case has since been decided (or withdrawn):
    /// a later response is owed to them. Storage queues it with the event (migration 0003).
    NotificationDue,
}

/// One entry of the history. `rule` names the rule (e.g. `intake.retro_window`) and
/// `config_path` the configuration entry whose value it used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseEvent {
    pub case_id: String,
    pub at: DateTime<Utc>,
    pub actor: Actor,
    pub kind: EventKind,
    /// The status after the event.
    pub status: CaseStatus,
    pub detail: String,
    pub rule: Option<String>,
    pub config_path: Option<String>,
}

impl CaseEvent {
    pub fn new(case_id: &str, at: DateTime<Utc>, actor: Actor, kind: EventKind, status: CaseStatus) -> Self {
        Self {
            case_id: case_id.to_owned(),
            at,
            actor,
            kind,
            status,
            detail: String::new(),
            rule: None,
            config_path: None,
        }
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = detail.into();
        self
    }

    pub fn rule(mut self, rule: impl Into<String>, config_path: Option<String>) -> Self {
        self.rule = Some(rule.into());
        self.config_path = config_path;
        self
    }
}
