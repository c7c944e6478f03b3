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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::path::Path;

    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::domain::{LineOfBusiness, ManualClock, MemberRecord, MemoryRepository};
    use crate::grammar::GuideSet;
    use crate::mapping::tree::read_trees;
    use crate::mapping::x217::read_request;

    type Service = CaseService<MemoryRepository, ManualClock>;

    /// The therapy sample (approved in real time) with `edit` applied.
    fn therapy(edit: impl Fn(String) -> String) -> SetTree {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/x12/278-request-therapy-msmpt.x12");
        let text = edit(std::fs::read_to_string(path).unwrap());
        let mut interchanges = read_trees(text.as_bytes(), "t", GuideSet::builtin().unwrap()).unwrap();
        let set = interchanges.remove(0).sets.into_iter().next();
        set.unwrap_or_else(|| panic!("rejected: {text}"))
    }

    /// UM02 `code` and a REF*BB (when given) after the event's UM, the SE count kept right.
    fn about(code: &str, number: Option<&str>) -> impl Fn(String) -> String {
        let (code, number) = (code.to_owned(), number.map(str::to_owned));
        move |text: String| {
            let text = text.replace("UM*HS*I*", &format!("UM*HS*{code}*"));
            match &number {
                None => text,
                Some(number) => text
                    .replacen("11:B~\nDTP*AAH", &format!("11:B~\nREF*BB*{number}~\nDTP*AAH"), 1)
                    .replace("SE*28*", "SE*29*"),
            }
        }
    }

    async fn service() -> Service {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/umgate.toml");
        let policy = crate::domain::policy_adapter::load_sample(&root).unwrap();
        let repository = MemoryRepository::new();
        repository
            .upsert_member(&MemberRecord {
                member_id: "M100000001".into(),
                first_name: "JANE".into(),
                last_name: "SAMPLE".into(),
                birth_date: NaiveDate::from_ymd_opt(1968, 4, 12).unwrap(),
                gender: None,
                plan: "cigna-commercial".into(),
                line_of_business: LineOfBusiness::Commercial,
                coverage_start: NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(),
                coverage_end: None,
            })
            .await
            .unwrap();
        CaseService::new(policy, repository, ManualClock::new(Utc.with_ymd_and_hms(2026, 3, 4, 14, 0, 0).unwrap()))
    }

    async fn run(service: &Service, set: &SetTree) -> Handled {
        handle(service, set, read_request(set).unwrap()).await.unwrap()
    }

    fn status(handled: &Handled) -> Option<CaseStatus> {
        match handled {
            Handled::Case(case) => Some(case.status),
            _ => None,
        }
    }

    fn rejected(handled: &Handled) -> Option<&'static str> {
        match handled {
            Handled::FollowUp(FollowUp::Reject { reason, .. }) => Some(reason),
            _ => None,
        }
    }

    #[test]
    fn the_previous_certification_is_the_events_else_a_lines() {
        assert_eq!(previous_certification(&therapy(about("3", Some("A7")))).as_deref(), Some("A7"));
        let on_line =
            therapy(|text| text.replace("11:B~\nDTP*472", "11:B~\nREF*BB*A8~\nDTP*472").replace("SE*28*", "SE*29*"));
        assert_eq!(previous_certification(&on_line).as_deref(), Some("A8"));
        assert_eq!(previous_certification(&therapy(|text| text)), None);
    }

    #[test]
    fn an_extension_asks_for_the_latest_end_of_its_lines() {
        let request = read_request(&therapy(about("4", Some("A1")))).unwrap();
        assert_eq!(requested_end(&request), NaiveDate::from_ymd_opt(2026, 5, 8));
    }

    #[tokio::test]
    async fn a_cancellation_applies_to_the_requesters_own_certification_only() {
        let service = service().await;
        let approved = run(&service, &therapy(|text| text)).await;
        assert_eq!(status(&approved), Some(CaseStatus::Approved));
        // Someone else's: answered as if it did not exist, and nothing changes.
        let other = therapy(|text| about("3", Some("A000000001"))(text).replace("XX*1234567893", "XX*1245319599"));
        assert_eq!(rejected(&run(&service, &other).await), Some(NOT_FOUND));
        assert_eq!(rejected(&run(&service, &therapy(about("3", Some("A999")))).await), Some(NOT_FOUND));
        // Neither a number nor a trace: the number is missing.
        let bare = therapy(|text| {
            about("3", None)(text).replace("TRN*1*TRC-REQTHR206*9CLEARHOUS~\n", "").replace("SE*28*", "SE*27*")
        });
        assert_eq!(rejected(&run(&service, &bare).await), Some(NO_NUMBER));
        let case = service.case("C000000001").await.unwrap();
        assert_eq!(case.status, CaseStatus::Approved, "refused requests change nothing");
        // The original request's trace, sent again without the number, finds it too.
        let cancelled = run(&service, &therapy(about("3", None))).await;
        assert_eq!(status(&cancelled), Some(CaseStatus::Cancelled));
        // A second cancellation is answered with the case as it stands, and records nothing.
        let events = service.history("C000000001").await.unwrap().len();
        let again = run(&service, &therapy(about("3", Some("A000000001")))).await;
        assert_eq!(status(&again), Some(CaseStatus::Cancelled));
        assert_eq!(service.history("C000000001").await.unwrap().len(), events);
    }
}
