//! What a 278 request asks for, by its category (BHT02, UM02 certification type): a new review
//! (initial, renewal) becomes a case; a cancellation, an extension, a revision or an appeal is
//! about an earlier certification, found by its number (REF*BB, "previous review authorization
//! number", at 2000E or 2000F) or else by the patient event trace number the original request
//! carried (TRN at 2000E), and is applied to it through the domain's post-decision operations.
//!
//! The earlier certification must belong to the same member and have been requested by the same
//! requesting provider (NPI); a certification requested by someone else is answered exactly as one
//! that does not exist, so that the answer reveals nothing of other providers' patients.
//! Why each answer is what it is: `docs/decisions/0003-request-categories.md`.

use chrono::NaiveDate;

use super::request::RequestLoops;
use super::response::FollowUp;
use crate::domain::rules::IntakeRejection;
use crate::domain::{
    Actor, Case, CaseRepository, CaseRequest, CaseService, CaseStatus, Clock, DomainError, PostDecisionAnswer,
    RequestCategory, Submission,
};
use crate::mapping::tree::SetTree;

/// AAA03 (X12 element 901) at the patient event when the earlier certification is not ours to
/// change: AA authorization number not found (also: requested by another provider), CI
/// certification information does not match the patient, MA missing authorization number.
const NOT_FOUND: &str = "AA";
const OTHER_PATIENT: &str = "CI";
const NO_NUMBER: &str = "MA";
/// AAA04 follow-up: C please correct and resubmit.
const CORRECT_AND_RESUBMIT: &str = "C";

/// What became of one mapped 278 request.
#[derive(Debug)]
pub enum Handled {
    /// The case the request created or changed (or, when it could not change it, the case as it
    /// stands): its HCR, certification number and dates are the answer.
    Case(Box<Case>),
    /// The intake rejected a new request (AAA at the loop of the problem).
    Rejected(IntakeRejection),
    /// An answer about an earlier certification that is not a case's state.
    FollowUp(FollowUp),
}

/// The previous certification number the request names: REF*BB of the patient event, else of
/// the first service line that carries one.
pub fn previous_certification(set: &SetTree) -> Option<String> {
    let loops = RequestLoops::of(set);
    let event = loops.event?;
    let number = |node: &crate::mapping::tree::LoopNode| {
        node.segment_with("REF", 1, "BB").map(|r| r.element(2).trim().to_owned()).filter(|n| !n.is_empty())
    };
    number(event).or_else(|| loops.lines().into_iter().find_map(number))
}

/// Applies `request` (read from `set`) according to its category.
pub async fn handle<R: CaseRepository, C: Clock>(
    service: &CaseService<R, C>,
    set: &SetTree,
    request: CaseRequest,
) -> Result<Handled, DomainError> {
    if matches!(request.category, RequestCategory::Initial | RequestCategory::Renewal) {
        return submitted(service.submit(request).await?);
    }
    let original = match find_original(service, set, &request).await? {
        Ok(original) => original,
        Err(follow_up) => return Ok(Handled::FollowUp(follow_up)),
    };
    let npi = request.requesting_provider.npi.clone();
    let outcome = match request.category {
        RequestCategory::Initial | RequestCategory::Renewal => service.submit(request).await.and_then(submitted),
        RequestCategory::Cancel => {
            let reason = "cancelled by the requester (278 cancellation)";
            service.cancel(&original.id, Actor::Requester(npi), reason).await.map(|case| Handled::Case(Box::new(case)))
        }
        RequestCategory::Extension => match requested_end(&request) {
            None => Ok(reject(super::error::ProblemKind::MissingDateOfService.reject_reason())),
            Some(new_end) => service.extend(&original.id, &npi, new_end).await.map(|answer| answered(service, answer)),
        },
        RequestCategory::Revised => service.update(&original.id, request).await.and_then(submitted),
        RequestCategory::Appeal => {
            service.request_appeal(&original.id, &npi).await.map(|answer| answered(service, answer))
        }
    };
    match outcome {
        // The certification is not in a state the request applies to (cancelling a denial,
        // extending a pended case, appealing an approval, ...): the answer is the certification
        // as it stands, unchanged. A second cancellation is answered like the first.
        Err(DomainError::InvalidState { .. }) => Ok(Handled::Case(Box::new(service.case(&original.id).await?))),
        // No terms for the case's program (a case no program covers): nothing can be applied.
        Err(DomainError::MissingTerms { .. }) => Ok(Handled::Case(Box::new(original))),
        other => other,
    }
}

fn submitted(submission: Submission) -> Result<Handled, DomainError> {
    Ok(match submission {
        Submission::Recorded(case) => Handled::Case(case),
        Submission::Rejected(rejection) => Handled::Rejected(rejection),
    })
}

fn reject(reason: &'static str) -> Handled {
    Handled::FollowUp(FollowUp::Reject { reason, follow_up: CORRECT_AND_RESUBMIT })
}

/// The answer to an extension or an appeal: the changed case; a refusal is "not certified" with
/// the reason code configured for the rule that refused; an appeal the health plan handles is
/// "contact payer".
fn answered<R: CaseRepository, C: Clock>(service: &CaseService<R, C>, answer: PostDecisionAnswer) -> Handled {
    match answer {
        PostDecisionAnswer::Accepted(case) => Handled::Case(case),
        PostDecisionAnswer::ForwardToHealthPlan { .. } => {
            Handled::FollowUp(FollowUp::Action { action: "CT", reason: service.reason_code("post_decision.appeal") })
        }
        PostDecisionAnswer::Refused(refusal) => {
            Handled::FollowUp(FollowUp::Action { action: "A3", reason: service.reason_code(refusal.rule) })
        }
    }
}

/// The last day an extension asks for: the latest requested end (or day) of its lines.
fn requested_end(request: &CaseRequest) -> Option<NaiveDate> {
    request.lines.iter().map(|line| line.service_to.unwrap_or(line.service_from)).max()
}

/// The certification the request is about, or the AAA that says why it cannot be used.
async fn find_original<R: CaseRepository, C: Clock>(
    service: &CaseService<R, C>,
    set: &SetTree,
    request: &CaseRequest,
) -> Result<Result<Case, FollowUp>, DomainError> {
    let refuse = |reason| Ok(Err(FollowUp::Reject { reason, follow_up: CORRECT_AND_RESUBMIT }));
    let npi = request.requesting_provider.npi.as_str();
    let found = match previous_certification(set) {
        Some(number) => service.repository().case_by_authorization_number(&number).await?,
        None if request.trace_numbers.is_empty() => return refuse(NO_NUMBER),
        // The original request's patient event trace, sent again: the latest case of the
        // member that carried all of it, from this requester.
        None => service
            .repository()
            .cases_for_member(&request.member.member_id)
            .await?
            .into_iter()
            .filter(|case| {
                case.request.requesting_provider.npi == npi
                    && request.trace_numbers.iter().all(|trace| case.request.trace_numbers.contains(trace))
                    && !matches!(case.status, CaseStatus::InProgress | CaseStatus::Expired)
            })
            .max_by(|a, b| (a.received_at, &a.id).cmp(&(b.received_at, &b.id))),
    };
    let Some(original) = found.filter(|case| case.request.requesting_provider.npi == npi) else {
        return refuse(NOT_FOUND);
    };
    if original.request.member != request.member {
        return refuse(OTHER_PATIENT);
    }
    Ok(Ok(original))
}
