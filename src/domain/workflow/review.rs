//! Reviewer work on pended cases: decisions, holds for missing documentation, documents, and the
//! answers X12 cannot carry (regimen choice, pathway answers) arriving through the provider API.

use chrono::{DateTime, Utc};

use super::notify::notification_due;
use super::service::{CaseService, Verdict, verdict_of};
use crate::domain::calendar::decision_due;
use crate::domain::clock::Clock;
use crate::domain::error::DomainError;
use crate::domain::events::{Actor, CaseEvent, EventKind};
use crate::domain::model::{Attachment, Case, CaseStatus, PendReason, RegimenChoice, ReviewDecision};
use crate::domain::repository::CaseRepository;
use crate::domain::rules::intake::regimen_choice_outcome;
use crate::domain::rules::{IntakeOutcome, TraceStep};
use crate::domain::timers::{TimerKind, TimerRequest};

/// A hold for missing documentation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoldRequest {
    /// What is needed, in words the requester sees.
    pub needed: String,
    /// When the documentation is due; `None`: the program's configured hold duration.
    pub due: Option<DateTime<Utc>>,
    /// The determination on the original submission if nothing arrives by `due`.
    pub if_not_received: ReviewDecision,
}

fn require_pended(case: &Case, action: &'static str) -> Result<(), DomainError> {
    if case.status == CaseStatus::Pended {
        Ok(())
    } else {
        Err(DomainError::InvalidState { case_id: case.id.clone(), status: case.status, action })
    }
}

impl<R: CaseRepository, C: Clock> CaseService<R, C> {
    /// A reviewer's determination. `seen_version` is the version of the case the reviewer
    /// looked at: if the case changed since, the decision is refused with
    /// `DomainError::Conflict`. Of two reviewers deciding at once exactly one wins.
    pub async fn decide(
        &self,
        case_id: &str,
        reviewer: &str,
        seen_version: Option<u64>,
        decision: ReviewDecision,
    ) -> Result<Case, DomainError> {
        let now = self.clock.now();
        let mut case = self.load(case_id).await?;
        if seen_version.is_some_and(|seen| seen != case.version) {
            return Err(DomainError::Conflict { case_id: case.id });
        }
        require_pended(&case, "decide")?;
        let terms = self.terms_of(&case);
        let verdict = verdict_of(&case, terms.as_ref(), &decision)?;
        let read_version = case.version;
        let was = case.status;
        let actor = Actor::Reviewer(reviewer.to_owned());
        let mut events = vec![self.determine(&mut case, verdict, actor.clone(), now).await?];
        events.extend(notification_due(was, &case, &actor, now));
        self.save(&mut case, read_version, &events, &[], &[TimerKind::HoldExpiry]).await?;
        self.withdraw_replaced(&case, now).await?;
        Ok(case)
    }

    /// Puts a pended case on hold for documentation; the hold expiry is a stored timer.
    pub async fn hold(&self, case_id: &str, reviewer: &str, hold: HoldRequest) -> Result<Case, DomainError> {
        let now = self.clock.now();
        let mut case = self.load(case_id).await?;
        require_pended(&case, "hold")?;
        let terms = self.required_terms(&case)?;
        let due =
            hold.due.unwrap_or_else(|| decision_due(self.policy.as_ref(), &case.plan, terms.hold_duration.value, now));
        if due <= now {
            return Err(DomainError::InvalidDecision("a hold's due date must be in the future".into()));
        }
        // Validate the fallback now, so that the timer cannot fail on it later.
        verdict_of(&case, Some(&terms), &hold.if_not_received)?;
        let read_version = case.version;
        case.pend = Some(PendReason::OnHold {
            needed: hold.needed.clone(),
            due,
            reviewer: reviewer.to_owned(),
            if_not_received: hold.if_not_received,
        });
        self.set_status_reason(&mut case, "review.hold");
        let timer = TimerRequest { case_id: case.id.clone(), kind: TimerKind::HoldExpiry, due_at: due };
        let event =
            CaseEvent::new(&case.id, now, Actor::Reviewer(reviewer.to_owned()), EventKind::HoldPlaced, case.status)
                .detail(format!("on hold until {due}: {}", hold.needed))
                .rule("review.hold", Some(terms.hold_duration.config_path.clone()));
        self.save(&mut case, read_version, &[event], &[timer], &[TimerKind::HoldExpiry]).await?;
        Ok(case)
    }

    /// A document arrives. On a hold that has not expired, the review resumes on it.
    pub async fn attach_document(
        &self,
        case_id: &str,
        actor: Actor,
        document: Attachment,
    ) -> Result<Case, DomainError> {
        let now = self.clock.now();
        let mut case = self.load(case_id).await?;
        if matches!(case.status, CaseStatus::Cancelled | CaseStatus::Withdrawn | CaseStatus::Expired) {
            return Err(DomainError::InvalidState {
                case_id: case.id,
                status: case.status,
                action: "attach a document",
            });
        }
        if let Some(max) = self.terms_of(&case).and_then(|terms| terms.max_documents)
            && case.request.attachments.len() + case.documents.len() >= max.value as usize
        {
            return Err(DomainError::TooManyDocuments { case_id: case.id, config_path: max.config_path });
        }
        let read_version = case.version;
        case.documents.push(document);
        let mut events = vec![
            CaseEvent::new(&case.id, now, actor.clone(), EventKind::DocumentAttached, case.status)
                .detail(format!("document {} received", case.documents.len())),
        ];
        let mut cancel = Vec::new();
        if let Some(PendReason::OnHold { due, .. }) = &case.pend {
            if now <= *due {
                case.pend = Some(PendReason::ClinicalReview);
                cancel.push(TimerKind::HoldExpiry);
                events.push(
                    CaseEvent::new(&case.id, now, actor, EventKind::HoldReleased, case.status)
                        .detail("documentation received in time: review resumes")
                        .rule("review.hold", None),
                );
            } else if let Some(event) = events.first_mut() {
                event.detail.push_str(" after the hold's due date: the determination uses the original submission");
            }
        }
        self.save(&mut case, read_version, &events, &[], &cancel).await?;
        Ok(case)
    }

    /// The requester chooses the regimen among the candidates a shared drug set matched.
    pub async fn choose_regimen(&self, case_id: &str, requester_npi: &str, regimen: &str) -> Result<Case, DomainError> {
        let now = self.clock.now();
        let mut case = self.load(case_id).await?;
        require_pended(&case, "choose a regimen")?;
        let Some(PendReason::AwaitingRegimenChoice { candidates }) = &case.pend else {
            return Err(DomainError::InvalidState {
                case_id: case.id,
                status: case.status,
                action: "choose a regimen",
            });
        };
        if !candidates.iter().any(|candidate| candidate == regimen) {
            return Err(DomainError::NotACandidate(regimen.to_owned()));
        }
        let program = case.program.clone().unwrap_or_default();
        let primary = case.request.primary_diagnosis().unwrap_or_default().to_owned();
        let chosen = self
            .policy
            .regimen_named(&case.plan, case.line_of_business, &program, &primary, regimen)
            .ok_or_else(|| DomainError::NotACandidate(regimen.to_owned()))?;
        let read_version = case.version;
        case.regimen = Some(RegimenChoice { regimen: chosen.name.clone(), preferred: chosen.preferred });
        let requester = Actor::Requester(requester_npi.to_owned());
        let mut events = vec![
            CaseEvent::new(&case.id, now, requester, EventKind::RegimenChosen, case.status)
                .detail(format!("regimen {} chosen", chosen.name)),
        ];
        let mut trace: Vec<TraceStep> = Vec::new();
        match regimen_choice_outcome(&chosen, &mut trace) {
            IntakeOutcome::Approve => {
                let verdict =
                    Verdict::approve_all(case.lines.len(), "pathway.regimen.preferred", Some(chosen.config_path));
                let was = case.status;
                events.push(self.determine(&mut case, verdict, Actor::System, now).await?);
                events.extend(notification_due(was, &case, &Actor::System, now));
            }
            IntakeOutcome::Pend(reason) => {
                case.pend = Some(reason);
                events.extend(trace.into_iter().map(|step| {
                    CaseEvent::new(&case.id, now, Actor::System, step.kind, case.status)
                        .detail(step.detail)
                        .rule(step.rule, step.config_path)
                }));
            }
            IntakeOutcome::NoActionRequired | IntakeOutcome::AdministrativeDenial => {}
        }
        self.save(&mut case, read_version, &events, &[], &[]).await?;
        Ok(case)
    }

    /// Pathway answers (radiation oncology, MSK) arriving through the provider API. The caller's
    /// pathway evaluation says whether the criteria are met: met → approved at once, not met →
    /// clinical review.
    pub async fn answer_pathway(
        &self,
        case_id: &str,
        requester_npi: &str,
        answers: Vec<(String, String)>,
        criteria_met: bool,
    ) -> Result<Case, DomainError> {
        let now = self.clock.now();
        let mut case = self.load(case_id).await?;
        require_pended(&case, "answer the pathway")?;
        if case.pend != Some(PendReason::AwaitingPathwayAnswers) {
            return Err(DomainError::InvalidState {
                case_id: case.id,
                status: case.status,
                action: "answer the pathway",
            });
        }
        let terms = self.required_terms(&case)?;
        let read_version = case.version;
        case.pathway_answers.extend(answers);
        let requester = Actor::Requester(requester_npi.to_owned());
        let mut events = vec![
            CaseEvent::new(&case.id, now, requester, EventKind::PathwayAnswered, case.status)
                .detail(format!("{} pathway answer(s)", case.pathway_answers.len()))
                .rule("pathway.questions", Some(terms.pathway.config_path.clone())),
        ];
        if criteria_met {
            let verdict = Verdict::approve_all(
                case.lines.len(),
                "pathway.questions.criteria_met",
                Some(terms.pathway.config_path),
            );
            let was = case.status;
            events.push(self.determine(&mut case, verdict, Actor::System, now).await?);
            events.extend(notification_due(was, &case, &Actor::System, now));
        } else {
            case.pend = Some(PendReason::ClinicalReview);
            events.push(
                CaseEvent::new(&case.id, now, Actor::System, EventKind::Pended, case.status)
                    .detail("pathway criteria not met: clinical review")
                    .rule("pathway.questions.criteria_not_met", Some(terms.pathway.config_path.clone())),
            );
            // The decision clock runs from the moment all clinical information is received.
            let retro = case.request.date_of_service().is_some_and(|dos| dos < case.received_at.date_naive());
            let clock = terms.decision_clock(retro, case.effective_urgency);
            let due = decision_due(self.policy.as_ref(), &case.plan, clock.value, now);
            case.decision_due = Some(due);
            events.push(
                CaseEvent::new(&case.id, now, Actor::System, EventKind::RuleEvaluated, case.status)
                    .detail(format!("all clinical information received: decision due {due}"))
                    .rule("workflow.decision_clock", Some(clock.config_path.clone())),
            );
        }
        self.save(&mut case, read_version, &events, &[], &[]).await?;
        Ok(case)
    }
}
