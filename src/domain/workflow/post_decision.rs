//! Post-decision options (SPEC §3 step 8): reconsideration and appeal inside their windows,
//! peer-to-peer availability, date extensions, authorization updates and cancellation. Refusals
//! are answers, not errors, and are recorded in the history with the rule that refused.

use chrono::{DateTime, NaiveDate, Utc};

use super::notify::notification_due;
use super::service::{CaseService, Submission};
use crate::domain::calendar::{beyond_window, decision_due, window_end};
use crate::domain::clock::Clock;
use crate::domain::error::DomainError;
use crate::domain::events::{Actor, CaseEvent, EventKind};
use crate::domain::model::{
    Case, CaseRequest, CaseStatus, LineStatus, PendReason, PostDecisionKind, PostDecisionRequest,
};
use crate::domain::repository::CaseRepository;
use crate::domain::terms::{AppealHandler, PeerToPeerAfterDenial, ProgramTerms, ReconsiderationWindow};
use crate::domain::timers::TimerKind;

/// Why an option was refused, with the rule and the configuration entry behind it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub rule: &'static str,
    pub reason: String,
    pub config_path: Option<String>,
}

/// The answer to a reconsideration, appeal or extension request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PostDecisionAnswer {
    /// Accepted: the updated case (re-opened for review, or extended).
    Accepted(Box<Case>),
    /// Appeals for this plan go to the health plan, until the given day.
    ForwardToHealthPlan {
        until: Option<NaiveDate>,
        config_path: String,
    },
    Refused(Refusal),
}

/// Whether a peer-to-peer consultation can be booked for a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum P2pEligibility {
    /// The consultation may change the decision.
    Eligible,
    /// The decision can no longer be changed (e.g. Medicare after a denial).
    ConsultativeOnly,
    NotEligible,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct P2pAvailability {
    pub eligibility: P2pEligibility,
    pub reason: String,
    pub valid_until: Option<NaiveDate>,
    pub config_path: Option<String>,
}

fn adverse(case: &Case) -> bool {
    matches!(case.status, CaseStatus::Denied | CaseStatus::PartiallyApproved | CaseStatus::Modified)
}

fn refusal(rule: &'static str, reason: impl Into<String>, config_path: Option<&str>) -> Refusal {
    Refusal { rule, reason: reason.into(), config_path: config_path.map(str::to_owned) }
}

impl<R: CaseRepository, C: Clock> CaseService<R, C> {
    /// The last day a reconsideration may be filed, or why none can be.
    fn reconsideration_until(&self, case: &Case, terms: &ProgramTerms) -> Result<NaiveDate, Refusal> {
        let window = &terms.reconsideration;
        let decided =
            case.determination.as_ref().map(|d| d.decided_at.date_naive()).unwrap_or(case.received_at.date_naive());
        match window.value {
            ReconsiderationWindow::NotOffered => Err(refusal(
                "post_decision.reconsideration.not_offered",
                "reconsideration is not offered for this plan and line of business",
                Some(&window.config_path),
            )),
            ReconsiderationWindow::Within(days) => Ok(window_end(self.policy.as_ref(), &case.plan, days, decided)),
            ReconsiderationWindow::BeforeDateOfService => Ok(case.request.date_of_service().unwrap_or(decided)),
        }
    }

    /// Reconsideration of an adverse determination inside the configured window: re-opens the case.
    pub async fn request_reconsideration(
        &self,
        case_id: &str,
        requester_npi: &str,
    ) -> Result<PostDecisionAnswer, DomainError> {
        let now = self.clock.now();
        let case = self.load(case_id).await?;
        if !adverse(&case) {
            return Err(DomainError::InvalidState { case_id: case.id, status: case.status, action: "reconsider" });
        }
        let terms = self.required_terms(&case)?;
        let config_path = terms.reconsideration.config_path.clone();
        let answer = match self.reconsideration_until(&case, &terms) {
            Err(refused) => Err(refused),
            Ok(until) if now.date_naive() > until => Err(refusal(
                "post_decision.reconsideration.window_ended",
                format!("the reconsideration window ended on {until}"),
                Some(&config_path),
            )),
            Ok(_) => Ok(()),
        };
        self.reopen_or_refuse(case, &terms, requester_npi, PostDecisionKind::Reconsideration, answer, &config_path, now)
            .await
    }

    /// An appeal: reviewed by us inside the window, or forwarded to the health plan.
    pub async fn request_appeal(&self, case_id: &str, requester_npi: &str) -> Result<PostDecisionAnswer, DomainError> {
        let now = self.clock.now();
        let case = self.load(case_id).await?;
        if !adverse(&case) {
            return Err(DomainError::InvalidState { case_id: case.id, status: case.status, action: "appeal" });
        }
        let terms = self.required_terms(&case)?;
        let appeal = &terms.appeal;
        let config_path = appeal.config_path.clone();
        let decided = case.determination.as_ref().map(|d| d.decided_at.date_naive()).unwrap_or(now.date_naive());
        let until = appeal.value.window.map(|window| window_end(self.policy.as_ref(), &case.plan, window, decided));
        let in_window = appeal
            .value
            .window
            .is_none_or(|window| !beyond_window(self.policy.as_ref(), &case.plan, window, decided, now.date_naive()));
        match appeal.value.handler {
            AppealHandler::HealthPlan => {
                let mut case = case;
                let read_version = case.version;
                case.post_decision.push(PostDecisionRequest {
                    kind: PostDecisionKind::Appeal,
                    filed_at: now,
                    handler: "health_plan".into(),
                });
                let event = CaseEvent::new(
                    &case.id,
                    now,
                    Actor::Requester(requester_npi.to_owned()),
                    EventKind::AppealFiled,
                    case.status,
                )
                .detail(match until {
                    Some(day) => format!("appeals are handled by the health plan (until {day})"),
                    None => "appeals are handled by the health plan".to_owned(),
                })
                .rule("post_decision.appeal", Some(config_path.clone()));
                self.save(&mut case, read_version, &[event], &[], &[]).await?;
                Ok(PostDecisionAnswer::ForwardToHealthPlan { until, config_path })
            }
            AppealHandler::NotProcessed => {
                let refused = refusal(
                    "post_decision.appeal",
                    "appeals are not processed by us for this plan",
                    Some(&config_path),
                );
                self.reopen_or_refuse(
                    case,
                    &terms,
                    requester_npi,
                    PostDecisionKind::Appeal,
                    Err(refused),
                    &config_path,
                    now,
                )
                .await
            }
            AppealHandler::Us => {
                let answer = if in_window {
                    Ok(())
                } else {
                    Err(refusal(
                        "post_decision.appeal",
                        format!("the appeal window ended on {}", until.map(|d| d.to_string()).unwrap_or_default()),
                        Some(&config_path),
                    ))
                };
                self.reopen_or_refuse(case, &terms, requester_npi, PostDecisionKind::Appeal, answer, &config_path, now)
                    .await
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn reopen_or_refuse(
        &self,
        mut case: Case,
        terms: &ProgramTerms,
        requester_npi: &str,
        kind: PostDecisionKind,
        answer: Result<(), Refusal>,
        config_path: &str,
        now: DateTime<Utc>,
    ) -> Result<PostDecisionAnswer, DomainError> {
        let read_version = case.version;
        let event_kind = match kind {
            PostDecisionKind::Reconsideration => EventKind::ReconsiderationFiled,
            PostDecisionKind::Appeal => EventKind::AppealFiled,
        };
        let requester = Actor::Requester(requester_npi.to_owned());
        match answer {
            Err(refused) => {
                let event = CaseEvent::new(&case.id, now, requester, event_kind, case.status)
                    .detail(format!("refused: {}", refused.reason))
                    .rule(refused.rule, refused.config_path.clone());
                self.save(&mut case, read_version, &[event], &[], &[]).await?;
                Ok(PostDecisionAnswer::Refused(refused))
            }
            Ok(()) => {
                case.post_decision.push(PostDecisionRequest { kind, filed_at: now, handler: "us".into() });
                case.status = CaseStatus::Pended;
                case.pend = Some(PendReason::ClinicalReview);
                for line in &mut case.lines {
                    if line.status == LineStatus::Denied {
                        line.status = LineStatus::Pending;
                    }
                }
                let clock = &terms.standard_decision;
                case.decision_due = Some(decision_due(self.policy.as_ref(), &case.plan, clock.value, now));
                let rule = match kind {
                    PostDecisionKind::Reconsideration => "post_decision.reconsideration",
                    PostDecisionKind::Appeal => "post_decision.appeal",
                };
                self.set_status_reason(&mut case, rule);
                let event = CaseEvent::new(&case.id, now, requester, event_kind, case.status)
                    .detail("accepted: the case is re-opened for review")
                    .rule(rule, Some(config_path.to_owned()));
                self.save(&mut case, read_version, &[event], &[], &[]).await?;
                Ok(PostDecisionAnswer::Accepted(Box::new(case)))
            }
        }
    }

    /// Whether a peer-to-peer consultation can be booked now, what it can do and until when.
    pub async fn p2p_availability(&self, case_id: &str) -> Result<P2pAvailability, DomainError> {
        let now = self.clock.now();
        let case = self.load(case_id).await?;
        let not_eligible = |reason: &str| P2pAvailability {
            eligibility: P2pEligibility::NotEligible,
            reason: reason.to_owned(),
            valid_until: None,
            config_path: None,
        };
        if let Some(PendReason::PeerToPeerOffered { regimen }) = &case.pend {
            return Ok(P2pAvailability {
                eligibility: P2pEligibility::Eligible,
                reason: format!("non-preferred regimen {regimen}: peer-to-peer before the determination"),
                valid_until: case.decision_due.map(|due| due.date_naive()),
                config_path: None,
            });
        }
        if !adverse(&case) {
            return Ok(not_eligible("peer-to-peer is offered after an adverse determination"));
        }
        let terms = self.required_terms(&case)?;
        let p2p = &terms.peer_to_peer_after_denial;
        let decided = case.determination.as_ref().map(|d| d.decided_at.date_naive()).unwrap_or(now.date_naive());
        let appeal_until =
            terms.appeal.value.window.map(|window| window_end(self.policy.as_ref(), &case.plan, window, decided));
        match p2p.value {
            PeerToPeerAfterDenial::NotAvailable => Ok(P2pAvailability {
                eligibility: P2pEligibility::NotEligible,
                reason: "peer-to-peer is not offered after a denial for this plan".into(),
                valid_until: None,
                config_path: Some(p2p.config_path.clone()),
            }),
            PeerToPeerAfterDenial::ConsultativeOnly => Ok(P2pAvailability {
                eligibility: P2pEligibility::ConsultativeOnly,
                reason: "the decision can no longer be changed: consultative only".into(),
                valid_until: appeal_until,
                config_path: Some(p2p.config_path.clone()),
            }),
            PeerToPeerAfterDenial::MayChangeDecision => match self.reconsideration_until(&case, &terms) {
                Ok(until) if now.date_naive() <= until => Ok(P2pAvailability {
                    eligibility: P2pEligibility::Eligible,
                    reason: "may change the decision while reconsideration is allowed".into(),
                    valid_until: Some(until),
                    config_path: Some(terms.reconsideration.config_path.clone()),
                }),
                _ => Ok(P2pAvailability {
                    eligibility: P2pEligibility::ConsultativeOnly,
                    reason: "the reconsideration window has ended: consultative only".into(),
                    valid_until: appeal_until,
                    config_path: Some(terms.reconsideration.config_path.clone()),
                }),
            },
        }
    }

    /// A date extension of an approval: up to the configured maximum, requested before expiry.
    pub async fn extend(
        &self,
        case_id: &str,
        requester_npi: &str,
        new_end: NaiveDate,
    ) -> Result<PostDecisionAnswer, DomainError> {
        let now = self.clock.now();
        let mut case = self.load(case_id).await?;
        let Some(current_end) = case.approved_to.filter(|_| case.status.is_certified()) else {
            return Err(DomainError::InvalidState { case_id: case.id, status: case.status, action: "extend" });
        };
        // Already ending that day (the same extension received again): the approval as it
        // stands, nothing recorded twice.
        if new_end == current_end {
            return Ok(PostDecisionAnswer::Accepted(Box::new(case)));
        }
        let terms = self.required_terms(&case)?;
        let read_version = case.version;
        let requester = Actor::Requester(requester_npi.to_owned());
        let answer = match &terms.extension {
            None => Err(refusal("post_decision.extension", "date extensions are not offered for this program", None)),
            Some(extension) if extension.value.before_expiry && now.date_naive() > current_end => Err(refusal(
                "post_decision.extension",
                format!("requested after the authorization expired on {current_end}"),
                Some(&extension.config_path),
            )),
            Some(extension) => {
                let latest = window_end(self.policy.as_ref(), &case.plan, extension.value.max, current_end);
                if new_end <= current_end || new_end > latest {
                    Err(refusal(
                        "post_decision.extension",
                        format!("an extension moves the end date {current_end} forward to at most {latest}"),
                        Some(&extension.config_path),
                    ))
                } else {
                    Ok(extension.config_path.clone())
                }
            }
        };
        match answer {
            Err(refused) => {
                let event = CaseEvent::new(&case.id, now, requester, EventKind::Extended, case.status)
                    .detail(format!("extension refused: {}", refused.reason))
                    .rule(refused.rule, refused.config_path.clone());
                self.save(&mut case, read_version, &[event], &[], &[]).await?;
                Ok(PostDecisionAnswer::Refused(refused))
            }
            Ok(config_path) => {
                case.approved_to = Some(new_end);
                for line in &mut case.lines {
                    if line.approved_to == Some(current_end) {
                        line.approved_to = Some(new_end);
                    }
                }
                let event = CaseEvent::new(&case.id, now, requester, EventKind::Extended, case.status)
                    .detail(format!("approved period extended from {current_end} to {new_end}"))
                    .rule("post_decision.extension", Some(config_path));
                self.save(&mut case, read_version, &[event], &[], &[]).await?;
                Ok(PostDecisionAnswer::Accepted(Box::new(case)))
            }
        }
    }

    /// An authorization update (changed technique, codes or quantities): a new case reviewed
    /// again; the original is withdrawn when the new one is approved.
    pub async fn update(&self, original_id: &str, request: CaseRequest) -> Result<Submission, DomainError> {
        let original = self.load(original_id).await?;
        if !original.status.is_certified() {
            return Err(DomainError::InvalidState { case_id: original.id, status: original.status, action: "update" });
        }
        self.intake(request, Some(&original)).await
    }

    /// Cancellation by the requester (or withdrawal by staff): no more review, timers dropped.
    pub async fn cancel(&self, case_id: &str, actor: Actor, reason: &str) -> Result<Case, DomainError> {
        let now = self.clock.now();
        let mut case = self.load(case_id).await?;
        let cancellable =
            matches!(case.status, CaseStatus::InProgress | CaseStatus::Pended) || case.status.is_certified();
        if !cancellable {
            return Err(DomainError::InvalidState { case_id: case.id, status: case.status, action: "cancel" });
        }
        let read_version = case.version;
        let was = case.status;
        case.status = CaseStatus::Cancelled;
        case.pend = None;
        for line in &mut case.lines {
            if matches!(line.status, LineStatus::Pending | LineStatus::Approved | LineStatus::Modified) {
                line.status = LineStatus::Cancelled;
            }
        }
        let due = notification_due(was, &case, &actor, now);
        let mut events =
            vec![CaseEvent::new(&case.id, now, actor, EventKind::Cancelled, case.status).detail(reason.to_owned())];
        events.extend(due);
        self.save(&mut case, read_version, &events, &[], &[TimerKind::HoldExpiry, TimerKind::InProgressExpiry]).await?;
        Ok(case)
    }
}
