//! Requests filled in through the provider portal: stored as in progress, submitted later
//! through the same intake rules, or expired at the end of the day (a stored timer) when the
//! plan's configuration says so.

use chrono::Days;

use super::service::{CaseService, Submission, new_case};
use crate::domain::clock::Clock;
use crate::domain::error::DomainError;
use crate::domain::events::{Actor, CaseEvent, EventKind};
use crate::domain::model::{Case, CaseRequest, CaseStatus, LineStatus};
use crate::domain::repository::CaseRepository;
use crate::domain::rules::{IntakeDecision, IntakeError, IntakeInput, IntakeOutcome, IntakeRejection, evaluate_intake};
use crate::domain::timers::{TimerKind, TimerRequest};

impl<R: CaseRepository, C: Clock> CaseService<R, C> {
    /// A request being filled in (provider portal): stored as in progress; if not submitted by
    /// the end of the day it expires without correspondence.
    pub async fn start(&self, request: CaseRequest) -> Result<Submission, DomainError> {
        let now = self.clock.now();
        let member = self.repository.get_member(&request.member.member_id).await?;
        let Some(member) = member else {
            return Ok(Submission::Rejected(IntakeRejection::MemberNotFound));
        };
        let id = format!("C{:09}", self.repository.next_case_number().await?);
        let skeleton = IntakeDecision {
            plan: member.plan.clone(),
            line_of_business: member.line_of_business,
            program: None,
            terms: None,
            outcome: IntakeOutcome::NoActionRequired,
            line_statuses: vec![LineStatus::Pending; request.lines.len()],
            effective_urgency: request.urgency,
            regimen: None,
            link: None,
            decision_due: None,
            date_of_service: request.date_of_service().unwrap_or(now.date_naive()),
            trace: Vec::new(),
        };
        let requester = Actor::Requester(request.requesting_provider.npi.clone());
        let mut case = new_case(id, request, &skeleton, now);
        case.status = CaseStatus::InProgress;
        let expiry = self.policy.in_progress_expiry(&case.plan);
        let end_of_day = now
            .date_naive()
            .checked_add_days(Days::new(1))
            .and_then(|day| day.and_hms_opt(0, 0, 0))
            .map(|midnight| midnight.and_utc())
            .unwrap_or(now);
        let timers: Vec<TimerRequest> = expiry
            .iter()
            .map(|_| TimerRequest { case_id: case.id.clone(), kind: TimerKind::InProgressExpiry, due_at: end_of_day })
            .collect();
        let detail = match &expiry {
            Some(_) => format!("in progress; expires at {end_of_day} unless submitted"),
            None => "in progress".to_owned(),
        };
        let event = CaseEvent::new(&case.id, now, requester, EventKind::Started, case.status)
            .detail(detail)
            .rule("workflow.in_progress_expiry", expiry.map(|cited| cited.config_path));
        self.repository.insert_case(&case, &[event], &timers).await?;
        Ok(Submission::Recorded(Box::new(case)))
    }

    /// Submits a request that was started earlier: the intake rules run as for `submit`.
    pub async fn submit_started(&self, case_id: &str) -> Result<Submission, DomainError> {
        let now = self.clock.now();
        let mut case = self.load(case_id).await?;
        if case.status != CaseStatus::InProgress {
            return Err(DomainError::InvalidState { case_id: case.id, status: case.status, action: "submit" });
        }
        let member = self.repository.get_member(case.member_id()).await?;
        let others: Vec<Case> = match member {
            Some(_) => {
                let all = self.repository.cases_for_member(case.member_id()).await?;
                all.into_iter().filter(|other| other.id != case.id).collect()
            }
            None => Vec::new(),
        };
        let requester_on_file = self.requester_on_file(&case.request, member.as_ref()).await?;
        let input = IntakeInput {
            request: &case.request,
            member: member.as_ref(),
            member_cases: &others,
            received_at: now,
            replaces: None,
            requester_on_file,
        };
        let decision = match evaluate_intake(self.policy.as_ref(), input) {
            Ok(decision) => decision,
            Err(IntakeError::Rejected(rejection)) => return Ok(Submission::Rejected(rejection)),
            Err(other) => return Err(other.into()),
        };
        let read_version = case.version;
        let fresh = new_case(case.id.clone(), case.request.clone(), &decision, now);
        case = Case { version: read_version, ..fresh };
        let requester = Actor::Requester(case.request.requesting_provider.npi.clone());
        let mut events = vec![
            CaseEvent::new(&case.id, now, requester, EventKind::Received, CaseStatus::InProgress).detail("submitted"),
        ];
        events.extend(self.apply_intake(&mut case, decision, now).await?);
        self.save(&mut case, read_version, &events, &[], &[TimerKind::InProgressExpiry]).await?;
        Ok(Submission::Recorded(Box::new(case)))
    }
}
