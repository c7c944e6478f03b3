//! Later answers to the submitter. A request pended at intake was answered "pended" (HCR01 A4);
//! when the case leaves pended afterwards (a reviewer's determination, a hold that expired, an
//! approval after a regimen choice or pathway answers, a withdrawal by staff) the submitter must
//! hear of it. The domain records that fact as a `NotificationDue` event written with the case
//! update, so that the promise is kept exactly when the decision is: storage queues the outbound
//! answer in the same transaction, and the edges (X12 mailboxes) deliver it.

use chrono::{DateTime, Utc};

use crate::domain::events::{Actor, CaseEvent, EventKind};
use crate::domain::model::{Case, CaseStatus};

/// The `NotificationDue` event owed for `case` after an operation that found it in status `was`
/// and was done by `actor`; `None` when the submitter already knows (the case was not pended, is
/// still pended, or the requester withdrew it themselves).
pub(super) fn notification_due(was: CaseStatus, case: &Case, actor: &Actor, now: DateTime<Utc>) -> Option<CaseEvent> {
    if was != CaseStatus::Pended || case.status == CaseStatus::Pended {
        return None;
    }
    let action = case.status.hcr01()?;
    if case.status == CaseStatus::Cancelled && matches!(actor, Actor::Requester(_)) {
        return None;
    }
    Some(
        CaseEvent::new(&case.id, now, Actor::System, EventKind::NotificationDue, case.status)
            .detail(format!(
                "the submitter was answered pended: a later response is due ({} {action})",
                case.status.as_str()
            ))
            .rule("workflow.later_notification", None),
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::sync::Arc;

    use chrono::{NaiveDate, TimeZone};

    use super::*;
    use crate::domain::clock::ManualClock;
    use crate::domain::memory::MemoryRepository;
    use crate::domain::model::ReviewDecision;
    use crate::domain::model::test_support::{sample_member, sample_request};
    use crate::domain::repository::CaseRepository;
    use crate::domain::terms::Pathway;
    use crate::domain::terms::table_policy::TablePolicy;
    use crate::domain::workflow::{CaseService, HoldRequest};

    async fn service() -> CaseService<MemoryRepository, ManualClock> {
        let repository = MemoryRepository::new();
        let member = sample_member();
        repository.upsert_member(&member).await.unwrap();
        let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 3, 4, 10, 0, 0).unwrap());
        CaseService::new(Arc::new(TablePolicy::new(Pathway::ClinicalReview, &["77301"])), repository, clock)
    }

    async fn due(service: &CaseService<MemoryRepository, ManualClock>, case_id: &str) -> Vec<CaseEvent> {
        let history = service.history(case_id).await.unwrap();
        history.into_iter().filter(|event| event.kind == EventKind::NotificationDue).collect()
    }

    async fn pended(service: &CaseService<MemoryRepository, ManualClock>) -> String {
        let day = NaiveDate::from_ymd_opt(2026, 3, 5).unwrap();
        let case = service.submit(sample_request("77301", day)).await.unwrap().case().unwrap().clone();
        assert_eq!(case.status, CaseStatus::Pended);
        assert!(due(service, &case.id).await.is_empty(), "nothing is due at intake");
        case.id
    }

    #[tokio::test]
    async fn a_reviewer_decision_and_an_expired_hold_are_due_to_the_submitter() {
        let service = service().await;
        let decided = pended(&service).await;
        service.decide(&decided, "r1", None, ReviewDecision::Approve).await.unwrap();
        let events = due(&service, &decided).await;
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].status, CaseStatus::Approved);
        assert!(events[0].detail.contains("A1"), "{}", events[0].detail);

        let held = pended(&service).await;
        let deny = ReviewDecision::Deny { rationale: "no records".into(), guideline: None };
        let hold = HoldRequest { needed: "imaging".into(), due: None, if_not_received: deny };
        service.hold(&held, "r1", hold).await.unwrap();
        assert!(due(&service, &held).await.is_empty(), "a hold keeps the case pended");
        service.clock().advance(chrono::Duration::days(30));
        assert_eq!(service.run_due_timers(10).await, Ok(1));
        let events = due(&service, &held).await;
        assert_eq!(events.iter().map(|event| event.status).collect::<Vec<_>>(), [CaseStatus::Denied]);
    }

    #[tokio::test]
    async fn a_withdrawal_by_staff_is_due_a_cancellation_by_the_requester_is_not() {
        let service = service().await;
        let by_staff = pended(&service).await;
        service.cancel(&by_staff, Actor::Reviewer("r1".into()), "duplicate request").await.unwrap();
        assert_eq!(due(&service, &by_staff).await.len(), 1);
        let by_requester = pended(&service).await;
        service.cancel(&by_requester, Actor::Requester("1234567893".into()), "not needed").await.unwrap();
        assert!(due(&service, &by_requester).await.is_empty());
    }
}
