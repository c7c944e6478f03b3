//! Intake, persistence and the shared determination step of the case service.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::domain::clock::Clock;
use crate::domain::error::DomainError;
use crate::domain::events::{Actor, CaseEvent, EventKind};
use crate::domain::model::{
    Case, CaseLink, CaseRequest, CaseStatus, DenialKind, Determination, LineStatus, ReviewDecision, ServiceLine,
    StatusReason,
};
use crate::domain::repository::{CaseRepository, CaseUpdate};
use crate::domain::rules::determination::{LineOutcome, SeparateLines, ValidityRule, apply_line_outcomes};
use crate::domain::rules::{IntakeDecision, IntakeError, IntakeInput, IntakeOutcome, IntakeRejection, evaluate_intake};
use crate::domain::terms::{ProgramTerms, UmPolicy};
use crate::domain::timers::{TimerKind, TimerRequest};

/// Reads-and-retries of the original of an authorization update under concurrent changes.
const WITHDRAW_ATTEMPTS: u32 = 3;

/// The UM case service: every workflow operation of SPEC §3.
pub struct CaseService<R, C> {
    pub(super) policy: Arc<dyn UmPolicy>,
    pub(super) repository: R,
    pub(super) clock: C,
}

impl<R: std::fmt::Debug, C: std::fmt::Debug> std::fmt::Debug for CaseService<R, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CaseService").field("repository", &self.repository).field("clock", &self.clock).finish()
    }
}

/// The answer to a submitted request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Submission {
    /// A business reject before any case exists (AAA in the 278 response).
    Rejected(IntakeRejection),
    /// The stored case with its intake determination (approved, pended, denied, NA, …).
    Recorded(Box<Case>),
}

impl Submission {
    pub fn case(&self) -> Option<&Case> {
        match self {
            Submission::Recorded(case) => Some(case),
            Submission::Rejected(_) => None,
        }
    }
}

/// A case in the review queue with its overdue flag at the time of the query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueEntry {
    pub case: Case,
    pub overdue: bool,
}

/// A determination about to be applied.
#[derive(Debug, Clone)]
pub(super) struct Verdict {
    pub status: CaseStatus,
    pub outcomes: Vec<LineOutcome>,
    pub denial_kind: Option<DenialKind>,
    pub rationale: Option<String>,
    pub guideline: Option<String>,
    pub on_original_submission: bool,
    pub redirected_to: Option<String>,
    pub rule: &'static str,
    pub config_path: Option<String>,
}

impl Verdict {
    pub(super) fn approve_all(lines: usize, rule: &'static str, config_path: Option<String>) -> Self {
        Verdict {
            status: CaseStatus::Approved,
            outcomes: vec![LineOutcome::Approve; lines],
            denial_kind: None,
            rationale: None,
            guideline: None,
            on_original_submission: false,
            redirected_to: None,
            rule,
            config_path,
        }
    }
}

impl<R: CaseRepository, C: Clock> CaseService<R, C> {
    pub fn new(policy: Arc<dyn UmPolicy>, repository: R, clock: C) -> Self {
        Self { policy, repository, clock }
    }

    pub fn repository(&self) -> &R {
        &self.repository
    }

    pub fn clock(&self) -> &C {
        &self.clock
    }

    /// A submitted request: intake rules, then the stored case (or a business reject).
    pub async fn submit(&self, request: CaseRequest) -> Result<Submission, DomainError> {
        self.intake(request, None).await
    }

    pub(super) async fn intake(
        &self,
        request: CaseRequest,
        replaces: Option<&Case>,
    ) -> Result<Submission, DomainError> {
        let now = self.clock.now();
        let member = self.repository.get_member(&request.member.member_id).await?;
        let member_cases = match member {
            Some(_) => self.repository.cases_for_member(&request.member.member_id).await?,
            None => Vec::new(),
        };
        let requester_on_file = self.requester_on_file(&request, member.as_ref()).await?;
        let input = IntakeInput {
            request: &request,
            member: member.as_ref(),
            member_cases: &member_cases,
            received_at: now,
            replaces,
            requester_on_file,
        };
        let decision = match evaluate_intake(self.policy.as_ref(), input) {
            Ok(decision) => decision,
            Err(IntakeError::Rejected(rejection)) => return Ok(Submission::Rejected(rejection)),
            Err(other) => return Err(other.into()),
        };
        let id = format!("C{:09}", self.repository.next_case_number().await?);
        let requester = Actor::Requester(request.requesting_provider.npi.clone());
        let mut case = new_case(id, request, &decision, now);
        let mut events =
            vec![CaseEvent::new(&case.id, now, requester, EventKind::Received, CaseStatus::InProgress).detail(
                format!(
                    "{:?} {:?} request with {} line(s)",
                    case.request.category,
                    case.request.urgency,
                    case.lines.len()
                ),
            )];
        events.extend(self.apply_intake(&mut case, decision, now).await?);
        self.repository.insert_case(&case, &events, &[]).await?;
        Ok(Submission::Recorded(Box::new(case)))
    }

    /// Whether the requesting provider is on file for the member's plan, looked up in the
    /// provider registry only when the plan requires it (`None`: not looked up).
    pub(super) async fn requester_on_file(
        &self,
        request: &CaseRequest,
        member: Option<&crate::domain::model::MemberRecord>,
    ) -> Result<Option<bool>, DomainError> {
        let Some(member) = member else {
            return Ok(None);
        };
        if !self.policy.requester_on_file_required(&member.plan).is_some_and(|required| required.value) {
            return Ok(None);
        }
        let provider = self.repository.get_provider(&request.requesting_provider.npi).await?;
        Ok(Some(provider.is_some_and(|provider| provider.on_file_for(&member.plan))))
    }

    /// Turns an intake decision into the case's status, lines and events.
    pub(super) async fn apply_intake(
        &self,
        case: &mut Case,
        decision: IntakeDecision,
        now: DateTime<Utc>,
    ) -> Result<Vec<CaseEvent>, DomainError> {
        let mut events: Vec<CaseEvent> = Vec::with_capacity(decision.trace.len() + 1);
        let status_after = match &decision.outcome {
            IntakeOutcome::NoActionRequired => CaseStatus::NoActionRequired,
            IntakeOutcome::AdministrativeDenial => CaseStatus::Denied,
            IntakeOutcome::Approve => CaseStatus::Approved,
            IntakeOutcome::Pend(_) => CaseStatus::Pended,
        };
        for step in &decision.trace {
            events.push(
                CaseEvent::new(&case.id, now, Actor::System, step.kind, status_after)
                    .detail(step.detail.clone())
                    .rule(step.rule, step.config_path.clone()),
            );
        }
        let last = decision.trace.last().map(|step| (step.rule, step.config_path.clone()));
        let (rule, config_path) = last.unwrap_or(("intake", None));
        // The rule that pended the case (a clock rule may be evaluated after it).
        let pend_rule =
            decision.trace.iter().rev().find(|step| step.kind == EventKind::Pended).map_or(rule, |step| step.rule);
        match decision.outcome {
            IntakeOutcome::NoActionRequired => {
                case.status = CaseStatus::NoActionRequired;
                self.set_status_reason(case, rule);
                events.push(
                    CaseEvent::new(&case.id, now, Actor::System, EventKind::Determined, case.status)
                        .detail("no prior authorization required")
                        .rule(rule, config_path),
                );
            }
            IntakeOutcome::AdministrativeDenial => {
                let verdict = Verdict {
                    status: CaseStatus::Denied,
                    outcomes: vec![LineOutcome::Deny; case.lines.len()],
                    denial_kind: Some(DenialKind::Administrative),
                    rationale: Some("request received after the retro window".into()),
                    guideline: None,
                    on_original_submission: false,
                    redirected_to: None,
                    rule,
                    config_path,
                };
                events.push(self.determine(case, verdict, Actor::System, now).await?);
            }
            IntakeOutcome::Approve => {
                let verdict = Verdict::approve_all(case.lines.len(), rule, config_path);
                events.push(self.determine(case, verdict, Actor::System, now).await?);
            }
            IntakeOutcome::Pend(reason) => {
                case.status = CaseStatus::Pended;
                case.pend = Some(reason);
                self.set_status_reason(case, pend_rule);
            }
        }
        Ok(events)
    }

    /// Applies a determination: line results, approved period, authorization number.
    pub(super) async fn determine(
        &self,
        case: &mut Case,
        verdict: Verdict,
        actor: Actor,
        now: DateTime<Utc>,
    ) -> Result<CaseEvent, DomainError> {
        let terms = self.terms_of(case);
        let regimen_validity = match (&case.regimen, &case.program) {
            (Some(regimen), Some(program)) => self
                .policy
                .regimen_named(
                    &case.plan,
                    case.line_of_business,
                    program,
                    case.request.primary_diagnosis().unwrap_or_default(),
                    &regimen.regimen,
                )
                .and_then(|found| found.validity),
            _ => None,
        };
        let redirect_validity = verdict
            .redirected_to
            .as_ref()
            .and(terms.as_ref())
            .and_then(|terms| terms.site_of_care_redirect_validity.as_ref());
        let rule = ValidityRule {
            validity: redirect_validity
                .or(regimen_validity.as_ref())
                .or(terms.as_ref().and_then(|terms| terms.approval_validity.as_ref())),
            from_requested_start: terms.as_ref().is_some_and(|terms| terms.validity_from_requested_start),
        };
        // Lines authorized separately (supportive drugs, seed 004), with their own validity if any.
        let separate: Vec<bool> = case
            .lines
            .iter()
            .map(|line| {
                terms.as_ref().is_some_and(|terms| terms.is_separately_authorized(&line.requested.service_code))
            })
            .collect();
        let separate_rule = ValidityRule {
            validity: terms.as_ref().and_then(|terms| terms.separate_authorization_validity.as_ref()),
            from_requested_start: rule.from_requested_start,
        };
        let separate_lines = SeparateLines { lines: &separate, rule: separate_rule };
        let validity_path = apply_line_outcomes(
            self.policy.as_ref(),
            case,
            rule,
            Some(separate_lines),
            &verdict.outcomes,
            now.date_naive(),
        );
        if verdict.status.is_certified() && case.authorization_number.is_none() {
            case.authorization_number = Some(self.new_authorization_number().await?);
        }
        // A separately authorized line gets a number of its own when the case certifies other
        // lines too (alone, the case's number is its separate authorization).
        let others_certified =
            case.lines.iter().zip(&separate).any(|(line, separate)| !separate && line.is_certified());
        let mut separately_numbered = Vec::new();
        if verdict.status.is_certified() && others_certified {
            for (index, line) in case.lines.iter_mut().enumerate() {
                if separate[index] && line.is_certified() && line.authorization_number.is_none() {
                    let number = self.new_authorization_number().await?;
                    separately_numbered.push(format!("line {} ({}) {number}", index + 1, line.requested.service_code));
                    line.authorization_number = Some(number);
                }
            }
        }
        case.status = verdict.status;
        case.pend = None;
        self.set_status_reason(case, verdict.rule);
        case.determination = Some(Determination {
            status: verdict.status,
            decided_at: now,
            decided_by: actor.clone(),
            denial_kind: verdict.denial_kind,
            rationale: verdict.rationale.clone(),
            guideline: verdict.guideline.clone(),
            on_original_submission: verdict.on_original_submission,
            redirected_to: verdict.redirected_to.clone(),
        });
        let mut detail = format!("determination {}", verdict.status.as_str());
        if let (Some(from), Some(to)) = (case.approved_from, case.approved_to)
            && verdict.status.is_certified()
        {
            detail.push_str(&format!(" valid {from} to {to}"));
            if let Some(path) = &validity_path {
                detail.push_str(&format!(" (validity {path})"));
            }
        }
        if !separately_numbered.is_empty() {
            let path = terms.as_ref().map(|terms| terms.separately_authorized.config_path.as_str()).unwrap_or_default();
            detail.push_str(&format!("; authorized separately ({path}): {}", separately_numbered.join(", ")));
        }
        if let Some(site) = &verdict.redirected_to {
            detail.push_str(&format!("; site-of-care redirect to {site}"));
        }
        if let Some(rationale) = &verdict.rationale {
            detail.push_str(&format!("; rationale: {rationale}"));
        }
        if let Some(guideline) = &verdict.guideline {
            detail.push_str(&format!("; guideline: {guideline}"));
        }
        if let Some(notice) = terms.as_ref().map(|terms| &terms.phone_notice_before_denial)
            && notice.value
            && verdict.status == CaseStatus::Denied
        {
            detail.push_str(&format!("; provider notified by phone and in writing first ({})", notice.config_path));
        }
        if verdict.on_original_submission {
            detail.push_str("; made on the original submission");
        }
        Ok(CaseEvent::new(&case.id, now, actor, EventKind::Determined, case.status)
            .detail(detail)
            .rule(verdict.rule, verdict.config_path))
    }

    /// A fresh authorization number: `A` and nine digits of the repository's sequence.
    async fn new_authorization_number(&self) -> Result<String, DomainError> {
        Ok(format!("A{:09}", self.repository.next_authorization_number().await?))
    }

    /// Records `rule` as the reason of the case's current status, with the reason code the
    /// configuration gives it (HCR03 of every later 278 answer about the case).
    pub(super) fn set_status_reason(&self, case: &mut Case, rule: &str) {
        let code = self.policy.reason_code(rule).map(|cited| cited.value);
        case.status_reason = Some(StatusReason { status: case.status, rule: rule.to_owned(), code });
    }

    /// The decision reason code configured for a rule id, if any.
    pub fn reason_code(&self, rule: &str) -> Option<String> {
        self.policy.reason_code(rule).map(|cited| cited.value)
    }

    /// The program terms of a case, when it has a program.
    pub(super) fn terms_of(&self, case: &Case) -> Option<ProgramTerms> {
        case.program.as_deref().and_then(|program| self.policy.terms(&case.plan, case.line_of_business, program))
    }

    pub(super) fn required_terms(&self, case: &Case) -> Result<ProgramTerms, DomainError> {
        self.terms_of(case).ok_or_else(|| DomainError::MissingTerms {
            plan: case.plan.clone(),
            program: case.program.clone().unwrap_or_default(),
        })
    }

    pub(super) async fn load(&self, case_id: &str) -> Result<Case, DomainError> {
        self.repository.get_case(case_id).await?.ok_or_else(|| DomainError::CaseNotFound(case_id.to_owned()))
    }

    /// Stores `case` (read at `read_version`) with its events and timer changes.
    pub(super) async fn save(
        &self,
        case: &mut Case,
        read_version: u64,
        events: &[CaseEvent],
        new_timers: &[TimerRequest],
        cancel_timers: &[TimerKind],
    ) -> Result<(), DomainError> {
        case.version = read_version + 1;
        let update = CaseUpdate { case, expected_version: read_version, events, new_timers, cancel_timers };
        self.repository.update_case(update).await?;
        Ok(())
    }

    /// After a certification: an authorization update withdraws the case it replaces.
    pub(super) async fn withdraw_replaced(&self, case: &Case, now: DateTime<Utc>) -> Result<(), DomainError> {
        let Some(original_id) = case.original_of_update().filter(|_| case.status.is_certified()) else {
            return Ok(());
        };
        // The replacement is already stored: a concurrent change of the original is retried on
        // a fresh read rather than reported as a conflict of the decision that succeeded.
        let mut attempts_left = WITHDRAW_ATTEMPTS;
        loop {
            let mut original = self.load(original_id).await?;
            if !original.status.is_certified() {
                return Ok(());
            }
            let read_version = original.version;
            original.status = CaseStatus::Withdrawn;
            for line in &mut original.lines {
                if matches!(line.status, LineStatus::Approved | LineStatus::Modified) {
                    line.status = LineStatus::Cancelled;
                }
            }
            original.links.push(CaseLink::ReplacedBy { replacement: case.id.clone() });
            let event = CaseEvent::new(&original.id, now, Actor::System, EventKind::Withdrawn, original.status)
                .detail(format!("replaced by the approved update {}", case.id))
                .rule("workflow.authorization_update", None);
            match self.save(&mut original, read_version, &[event], &[], &[]).await {
                Err(DomainError::Conflict { .. }) if attempts_left > 1 => attempts_left -= 1,
                other => return other,
            }
        }
    }

    /// The pended cases ordered by due time, with overdue flags.
    pub async fn review_queue(&self, limit: usize) -> Result<Vec<QueueEntry>, DomainError> {
        let now = self.clock.now();
        let cases = self.repository.review_queue(limit).await?;
        Ok(cases.into_iter().map(|case| QueueEntry { overdue: case.is_overdue(now), case }).collect())
    }

    pub async fn case(&self, case_id: &str) -> Result<Case, DomainError> {
        self.load(case_id).await
    }

    /// Authorization lookup by number and ordering/requesting NPI (SPEC §6): `None` unless both match.
    pub async fn lookup_by_authorization(
        &self,
        authorization_number: &str,
        requesting_npi: &str,
    ) -> Result<Option<Case>, DomainError> {
        let found = self.repository.case_by_authorization_number(authorization_number).await?;
        Ok(found.filter(|case| case.request.requesting_provider.npi == requesting_npi))
    }

    /// Authorization lookup by member (SPEC §6): the member's cases when the roster entry matches
    /// the date of birth and plan given; empty otherwise.
    pub async fn lookup_by_member(
        &self,
        member_id: &str,
        birth_date: chrono::NaiveDate,
        plan: &str,
    ) -> Result<Vec<Case>, DomainError> {
        let Some(member) = self.repository.get_member(member_id).await? else {
            return Ok(Vec::new());
        };
        if member.birth_date != birth_date || member.plan != plan {
            return Ok(Vec::new());
        }
        Ok(self.repository.cases_for_member(member_id).await?)
    }

    /// The explainable history of a case.
    pub async fn history(&self, case_id: &str) -> Result<Vec<CaseEvent>, DomainError> {
        Ok(self.repository.case_events(case_id).await?)
    }
}

/// A new case from a request and its intake decision (status set by `apply_intake`).
pub(super) fn new_case(id: String, request: CaseRequest, decision: &IntakeDecision, now: DateTime<Utc>) -> Case {
    let lines = request
        .lines
        .iter()
        .zip(&decision.line_statuses)
        .map(|(line, status)| ServiceLine {
            requested: line.clone(),
            status: *status,
            approved_quantity: None,
            approved_from: None,
            approved_to: None,
            authorization_number: None,
        })
        .collect();
    Case {
        id,
        version: 1,
        plan: decision.plan.clone(),
        line_of_business: decision.line_of_business,
        program: decision.program.clone(),
        lines,
        effective_urgency: decision.effective_urgency,
        status: CaseStatus::Pended,
        pend: None,
        regimen: decision.regimen.clone(),
        pathway_answers: Vec::new(),
        received_at: now,
        decision_due: decision.decision_due,
        authorization_number: None,
        approved_from: None,
        approved_to: None,
        determination: None,
        post_decision: Vec::new(),
        links: decision.link.iter().cloned().collect(),
        documents: Vec::new(),
        status_reason: None,
        request,
    }
}

/// Turns a reviewer's decision into a verdict, enforcing the program's terms.
pub(super) fn verdict_of(
    case: &Case,
    terms: Option<&ProgramTerms>,
    decision: &ReviewDecision,
) -> Result<Verdict, DomainError> {
    let lines = case.lines.len();
    let verdict = |status, outcomes, denial_kind, rationale: Option<&String>, guideline: Option<&String>| Verdict {
        status,
        outcomes,
        denial_kind,
        rationale: rationale.cloned(),
        guideline: guideline.cloned(),
        on_original_submission: false,
        redirected_to: None,
        rule: "review.determination",
        config_path: None,
    };
    match decision {
        ReviewDecision::Approve => {
            Ok(verdict(CaseStatus::Approved, vec![LineOutcome::Approve; lines], None, None, None))
        }
        ReviewDecision::Deny { rationale, guideline } => {
            if rationale.trim().is_empty() {
                return Err(DomainError::InvalidDecision("a denial needs a rationale".into()));
            }
            Ok(verdict(
                CaseStatus::Denied,
                vec![LineOutcome::Deny; lines],
                Some(DenialKind::Clinical),
                Some(rationale),
                guideline.as_ref(),
            ))
        }
        ReviewDecision::Modify { quantities, rationale, site_of_care_redirect } => {
            let outcomes =
                (0..lines).map(|index| LineOutcome::Modify(quantities.get(index).copied().flatten())).collect();
            let mut modified = verdict(CaseStatus::Modified, outcomes, None, Some(rationale), None);
            if let Some(site) = site_of_care_redirect {
                let validity =
                    terms.and_then(|terms| terms.site_of_care_redirect_validity.as_ref()).ok_or_else(|| {
                        DomainError::InvalidDecision("this program offers no site-of-care redirect".into())
                    })?;
                modified.redirected_to = Some(site.clone());
                modified.config_path = Some(validity.config_path.clone());
            }
            Ok(modified)
        }
        ReviewDecision::PartiallyApprove { approved_lines, rationale, guideline } => {
            if let Some(terms) = terms
                && !terms.partial_approval_allowed.value
            {
                return Err(DomainError::PartialApprovalNotAllowed {
                    config_path: terms.partial_approval_allowed.config_path.clone(),
                });
            }
            let pending: Vec<usize> =
                (0..lines).filter(|&index| case.lines[index].status == LineStatus::Pending).collect();
            let approved = pending.iter().filter(|index| approved_lines.contains(index)).count();
            if approved == 0 || approved == pending.len() {
                return Err(DomainError::InvalidDecision(
                    "a partial approval approves some pending lines and denies the others".into(),
                ));
            }
            let outcomes = (0..lines)
                .map(|index| if approved_lines.contains(&index) { LineOutcome::Approve } else { LineOutcome::Deny })
                .collect();
            let mut partial = verdict(
                CaseStatus::PartiallyApproved,
                outcomes,
                Some(DenialKind::Clinical),
                Some(rationale),
                guideline.as_ref(),
            );
            partial.config_path = terms.map(|terms| terms.partial_approval_allowed.config_path.clone());
            Ok(partial)
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::domain::clock::ManualClock;
    use crate::domain::memory::MemoryRepository;
    use crate::domain::model::test_support::{sample_member, sample_request};
    use crate::domain::terms::Pathway;
    use crate::domain::terms::table_policy::TablePolicy;
    use chrono::{NaiveDate, TimeZone};

    async fn service() -> CaseService<MemoryRepository, ManualClock> {
        let repository = MemoryRepository::new();
        let member = sample_member();
        repository.upsert_member(&member).await.unwrap();
        let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 3, 4, 10, 0, 0).unwrap());
        CaseService::new(Arc::new(TablePolicy::new(Pathway::ClinicalReview, &["77301", "77302"])), repository, clock)
    }

    #[tokio::test]
    async fn a_decision_on_a_stale_version_is_a_conflict_and_a_denial_needs_a_rationale() {
        let service = service().await;
        let day = NaiveDate::from_ymd_opt(2026, 3, 5).unwrap();
        let submission = service.submit(sample_request("77301", day)).await.unwrap();
        let case = submission.case().unwrap().clone();
        assert_eq!(case.status, CaseStatus::Pended);
        let empty = ReviewDecision::Deny { rationale: " ".into(), guideline: None };
        assert!(matches!(service.decide(&case.id, "r1", None, empty).await, Err(DomainError::InvalidDecision(_))));
        let stale = Some(case.version + 1);
        assert_eq!(
            service.decide(&case.id, "r1", stale, ReviewDecision::Approve).await,
            Err(DomainError::Conflict { case_id: case.id.clone() })
        );
        let approved = service.decide(&case.id, "r1", Some(case.version), ReviewDecision::Approve).await.unwrap();
        assert_eq!(approved.status, CaseStatus::Approved);
        assert_eq!(approved.version, case.version + 1);
        assert!(approved.authorization_number.is_some());
        let again = service.decide(&case.id, "r1", None, ReviewDecision::Approve).await;
        assert!(matches!(again, Err(DomainError::InvalidState { action: "decide", .. })));
    }

    #[tokio::test]
    async fn lookups_need_the_matching_npi_or_birth_date_and_plan() {
        let service = service().await;
        let day = NaiveDate::from_ymd_opt(2026, 3, 5).unwrap();
        let case = service.submit(sample_request("77301", day)).await.unwrap().case().unwrap().clone();
        let approved = service.decide(&case.id, "r1", None, ReviewDecision::Approve).await.unwrap();
        let number = approved.authorization_number.clone().unwrap();
        let npi = approved.request.requesting_provider.npi.clone();
        assert_eq!(service.lookup_by_authorization(&number, &npi).await.unwrap().map(|c| c.id), Some(case.id.clone()));
        assert_eq!(service.lookup_by_authorization(&number, "1245319599").await.unwrap(), None);
        assert_eq!(service.lookup_by_member("M100", NaiveDate::MIN, "plan").await.unwrap().len(), 1);
        assert!(service.lookup_by_member("M100", day, "plan").await.unwrap().is_empty());
        assert!(service.lookup_by_member("M100", NaiveDate::MIN, "other").await.unwrap().is_empty());
    }

    /// A FOLFOX policy whose supportive drug J2505 is authorized separately.
    fn folfox_with_supportive(own_validity: Option<crate::domain::terms::Validity>) -> TablePolicy {
        use crate::domain::terms::table_policy::cited;
        let mut policy = TablePolicy::new(Pathway::Regimen, &["J9263", "J0640", "J9190", "J2505"]);
        policy.terms.separately_authorized = cited(vec!["J2505".into()]);
        policy.terms.separate_authorization_validity = own_validity.map(cited);
        let folfox = crate::domain::terms::RegimenMatch {
            name: "colon-FOLFOX".into(),
            preferred: true,
            config_path: "regimens.colon-FOLFOX".into(),
            validity: None,
        };
        policy.regimens = vec![(vec!["J9263".into(), "J0640".into(), "J9190".into()], folfox)];
        policy
    }

    fn folfox_request(day: NaiveDate, codes: &[&str]) -> CaseRequest {
        let mut request = sample_request(codes[0], day);
        for code in &codes[1..] {
            let mut line = request.lines[0].clone();
            line.service_code = (*code).into();
            request.lines.push(line);
        }
        request
    }

    #[tokio::test]
    async fn a_supportive_drug_gets_an_authorization_of_its_own() {
        let mut service = service().await;
        service.policy = Arc::new(folfox_with_supportive(None));
        let day = NaiveDate::from_ymd_opt(2026, 3, 9).unwrap();
        let request = folfox_request(day, &["J9263", "J0640", "J9190", "J2505"]);
        let case = service.submit(request).await.unwrap().case().unwrap().clone();
        assert_eq!(case.status, CaseStatus::Approved);
        let number = case.authorization_number.clone().unwrap();
        let regimen_lines: Vec<Option<&str>> = (0..3).map(|index| case.line_authorization_number(index)).collect();
        assert_eq!(regimen_lines, vec![Some(number.as_str()); 3]);
        assert!(case.lines[..3].iter().all(|line| line.authorization_number.is_none()));
        let own = case.lines[3].authorization_number.clone().expect("the supportive line's own number");
        assert_ne!(own, number);
        assert_eq!(case.line_authorization_number(3), Some(own.as_str()));
        // Without a validity of its own it shares the regimen's period.
        assert_eq!((case.lines[3].approved_from, case.lines[3].approved_to), (case.approved_from, case.approved_to));
        // Found by either number; the determination says why it has two.
        let npi = case.request.requesting_provider.npi.clone();
        assert_eq!(service.lookup_by_authorization(&own, &npi).await.unwrap().map(|c| c.id), Some(case.id.clone()));
        assert_eq!(service.lookup_by_authorization(&number, &npi).await.unwrap().map(|c| c.id), Some(case.id.clone()));
        let history = service.history(&case.id).await.unwrap();
        let determined = history.iter().find(|e| e.kind == crate::domain::EventKind::Determined).unwrap();
        assert!(determined.detail.contains("authorized separately"), "{}", determined.detail);
        assert!(determined.detail.contains(&own), "{}", determined.detail);
    }

    #[tokio::test]
    async fn a_supportive_drug_with_its_own_validity_gets_its_own_period() {
        let mut service = service().await;
        service.policy = Arc::new(folfox_with_supportive(Some(crate::domain::terms::Validity::Days(30))));
        let day = NaiveDate::from_ymd_opt(2026, 3, 9).unwrap();
        let case = service
            .submit(folfox_request(day, &["J9263", "J0640", "J9190", "J2505"]))
            .await
            .unwrap()
            .case()
            .unwrap()
            .clone();
        let decided = NaiveDate::from_ymd_opt(2026, 3, 4).unwrap();
        // The regimen: the program's 60 days; the supportive drug: its own 30 days.
        assert_eq!(case.approved_to, decided.checked_add_days(chrono::Days::new(60)));
        assert_eq!(case.lines[0].approved_to, case.approved_to);
        assert_eq!(case.lines[3].approved_from, Some(decided));
        assert_eq!(case.lines[3].approved_to, decided.checked_add_days(chrono::Days::new(30)));
        assert!(case.lines[3].authorization_number.is_some());
    }

    #[tokio::test]
    async fn a_request_for_the_supportive_drug_alone_needs_one_number() {
        let mut service = service().await;
        service.policy = Arc::new(folfox_with_supportive(None));
        let day = NaiveDate::from_ymd_opt(2026, 3, 9).unwrap();
        let case = service.submit(folfox_request(day, &["J2505"])).await.unwrap().case().unwrap().clone();
        // No regimen: clinical review; approved, the case's number is the separate authorization.
        assert_eq!(case.status, CaseStatus::Pended);
        let approved = service.decide(&case.id, "r1", None, ReviewDecision::Approve).await.unwrap();
        assert!(approved.authorization_number.is_some());
        assert_eq!(approved.lines[0].authorization_number, None);
        assert_eq!(approved.line_authorization_number(0), approved.authorization_number.as_deref());
    }

    #[tokio::test]
    async fn a_plan_that_requires_it_rejects_a_requester_not_on_file_for_it() {
        let mut service = service().await;
        let mut policy = TablePolicy::new(Pathway::ClinicalReview, &["77301"]);
        policy.requester_on_file = Some(true);
        service.policy = Arc::new(policy.clone());
        let day = NaiveDate::from_ymd_opt(2026, 3, 5).unwrap();
        let request = sample_request("77301", day);
        let npi = request.requesting_provider.npi.clone();
        let rejected = Submission::Rejected(IntakeRejection::RequesterNotOnFile);
        assert_eq!(service.submit(request.clone()).await.unwrap(), rejected);
        // On file, but for another plan only.
        let mut provider =
            crate::domain::ProviderRecord { npi, name: "P".into(), tin: None, plans: vec!["other".into()] };
        service.repository().upsert_provider(&provider).await.unwrap();
        assert_eq!(service.submit(request.clone()).await.unwrap(), rejected);
        provider.plans.push("plan".into());
        service.repository().upsert_provider(&provider).await.unwrap();
        let accepted = service.submit(request.clone()).await.unwrap();
        assert_eq!(accepted.case().map(|case| case.status), Some(CaseStatus::Pended));
        // Not required: nobody on file is needed.
        policy.requester_on_file = Some(false);
        service.policy = Arc::new(policy);
        let mut other = request;
        other.requesting_provider.npi = "1245319599".into();
        assert!(service.submit(other).await.unwrap().case().is_some());
    }

    #[tokio::test]
    async fn partial_approval_follows_the_program_terms() {
        let service = service().await;
        let day = NaiveDate::from_ymd_opt(2026, 3, 5).unwrap();
        let mut request = sample_request("77301", day);
        let mut second = request.lines[0].clone();
        second.service_code = "77302".into();
        request.lines.push(second);
        let case = service.submit(request).await.unwrap().case().unwrap().clone();
        let partial =
            ReviewDecision::PartiallyApprove { approved_lines: vec![1], rationale: "r".into(), guideline: None };
        let terms = service.terms_of(&case);
        assert!(matches!(
            verdict_of(&case, terms.as_ref(), &partial),
            Err(DomainError::PartialApprovalNotAllowed { .. })
        ));
        let mut allowing = terms.clone().unwrap();
        allowing.partial_approval_allowed.value = true;
        let verdict = verdict_of(&case, Some(&allowing), &partial).unwrap();
        assert_eq!(verdict.status, CaseStatus::PartiallyApproved);
        assert_eq!(verdict.outcomes, vec![LineOutcome::Deny, LineOutcome::Approve]);
        let everything =
            ReviewDecision::PartiallyApprove { approved_lines: vec![0, 1], rationale: "r".into(), guideline: None };
        assert!(matches!(verdict_of(&case, Some(&allowing), &everything), Err(DomainError::InvalidDecision(_))));
    }
}
