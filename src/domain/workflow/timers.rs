//! Applying due timers: claimed from the repository with a lease, applied idempotently (a stale
//! timer whose case moved on does nothing), then completed. Nothing lives in memory between
//! runs, so a restart between a hold and its expiry changes nothing. A timer that fails never
//! holds up the others of its batch (see `run_due_timers`).

use chrono::{DateTime, Duration, Utc};

use super::notify::notification_due;
use super::service::{CaseService, verdict_of};
use crate::domain::clock::Clock;
use crate::domain::error::DomainError;
use crate::domain::events::{Actor, CaseEvent, EventKind};
use crate::domain::model::{CaseStatus, LineStatus, PendReason};
use crate::domain::repository::CaseRepository;
use crate::domain::timers::{DueTimer, TimerKind};

/// How long a claimed timer stays invisible to other instances before it can be claimed again.
const TIMER_LEASE_SECONDS: i64 = 300;

impl<R: CaseRepository, C: Clock> CaseService<R, C> {
    /// Claims and applies up to `limit` due timers; returns how many were applied. One timer's
    /// failure never stops the batch:
    /// * a conflict (the case changed concurrently) or a repository error (transient) leaves the
    ///   timer leased: it is retried once the lease ends, so a failing store is retried every
    ///   lease period, never in a tight loop;
    /// * any other error is permanent (the timer's rule cannot be applied to the case as it is):
    ///   the timer is completed and a `TimerFailed` event on the case tells the reviewer, whose
    ///   queue still holds the case.
    pub async fn run_due_timers(&self, limit: usize) -> Result<usize, DomainError> {
        let now = self.clock.now();
        let lease_until = now + Duration::seconds(TIMER_LEASE_SECONDS);
        let timers = self.repository.claim_due_timers(now, lease_until, limit).await?;
        let mut applied = 0;
        for timer in timers {
            match self.apply_timer(&timer, now).await {
                Ok(()) => {
                    if self.repository.complete_timer(timer.id).await.is_ok() {
                        applied += 1;
                    }
                }
                Err(DomainError::Conflict { .. } | DomainError::Repository(_)) => {}
                Err(permanent) => {
                    // Recording the failure is best effort: if even that fails, the timer stays
                    // leased and the next lease period tries again.
                    if self.record_timer_failure(&timer, &permanent, now).await.is_ok() {
                        let _completed = self.repository.complete_timer(timer.id).await;
                    }
                }
            }
        }
        Ok(applied)
    }

    async fn record_timer_failure(
        &self,
        timer: &DueTimer,
        error: &DomainError,
        now: DateTime<Utc>,
    ) -> Result<(), DomainError> {
        let Some(mut case) = self.repository.get_case(&timer.case_id).await? else {
            return Ok(());
        };
        let read_version = case.version;
        let event = CaseEvent::new(&case.id, now, Actor::Scheduler, EventKind::TimerFailed, case.status)
            .detail(format!("{:?} timer could not be applied and was completed: {error}", timer.kind))
            .rule("workflow.timer_failure", None);
        self.save(&mut case, read_version, &[event], &[], &[]).await
    }

    async fn apply_timer(&self, timer: &DueTimer, now: DateTime<Utc>) -> Result<(), DomainError> {
        let Some(mut case) = self.repository.get_case(&timer.case_id).await? else {
            return Ok(());
        };
        let read_version = case.version;
        match timer.kind {
            TimerKind::HoldExpiry => {
                let Some(PendReason::OnHold { due, if_not_received, needed, .. }) = case.pend.clone() else {
                    return Ok(());
                };
                if case.status != CaseStatus::Pended || due > now {
                    return Ok(());
                }
                let mut verdict = verdict_of(&case, self.terms_of(&case).as_ref(), &if_not_received)?;
                verdict.on_original_submission = true;
                verdict.rule = "review.hold_expiry";
                let expired = CaseEvent::new(&case.id, now, Actor::Scheduler, EventKind::HoldExpired, case.status)
                    .detail(format!("documentation not received by {due}: {needed}"))
                    .rule("review.hold_expiry", None);
                let was = case.status;
                let determined = self.determine(&mut case, verdict, Actor::Scheduler, now).await?;
                let mut events = vec![expired, determined];
                events.extend(notification_due(was, &case, &Actor::Scheduler, now));
                self.save(&mut case, read_version, &events, &[], &[]).await?;
                self.withdraw_replaced(&case, now).await
            }
            TimerKind::InProgressExpiry => {
                if case.status != CaseStatus::InProgress {
                    return Ok(());
                }
                case.status = CaseStatus::Expired;
                for line in &mut case.lines {
                    line.status = LineStatus::Cancelled;
                }
                let expiry = self.policy.in_progress_expiry(&case.plan);
                let correspondence = if expiry.as_ref().is_some_and(|cited| cited.value) {
                    "with correspondence to the requester"
                } else {
                    "without correspondence"
                };
                let event = CaseEvent::new(&case.id, now, Actor::Scheduler, EventKind::Expired, case.status)
                    .detail(format!("not submitted by the end of the day: expired {correspondence}"))
                    .rule("workflow.in_progress_expiry", expiry.map(|cited| cited.config_path));
                self.save(&mut case, read_version, &[event], &[], &[]).await
            }
        }
    }
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
    use crate::domain::repository::CaseUpdate;
    use crate::domain::terms::Pathway;
    use crate::domain::terms::table_policy::TablePolicy;
    use crate::domain::workflow::HoldRequest;

    #[tokio::test]
    async fn a_failing_timer_is_recorded_completed_and_does_not_block_the_others() {
        let repository = MemoryRepository::new();
        let member = sample_member();
        repository.upsert_member(&member).await.unwrap();
        let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 3, 4, 10, 0, 0).unwrap());
        let policy = Arc::new(TablePolicy::new(Pathway::ClinicalReview, &["77301"]));
        let service = CaseService::new(policy, repository.clone(), clock.clone());
        let day = NaiveDate::from_ymd_opt(2026, 3, 5).unwrap();
        let deny = ReviewDecision::Deny { rationale: "criteria not met".into(), guideline: None };
        let mut ids = Vec::new();
        for _ in 0..2 {
            let case = service.submit(sample_request("77301", day)).await.unwrap().case().unwrap().clone();
            let hold = HoldRequest { needed: "imaging".into(), due: None, if_not_received: deny.clone() };
            service.hold(&case.id, "r1", hold).await.unwrap();
            ids.push(case.id);
        }
        // The first hold's fallback became impossible to apply (as after a configuration change).
        let mut broken = repository.get_case(&ids[0]).await.unwrap().unwrap();
        let Some(PendReason::OnHold { if_not_received, .. }) = broken.pend.as_mut() else { panic!("not on hold") };
        *if_not_received = ReviewDecision::Deny { rationale: " ".into(), guideline: None };
        broken.version += 1;
        let update = CaseUpdate {
            case: &broken,
            expected_version: broken.version - 1,
            events: &[],
            new_timers: &[],
            cancel_timers: &[],
        };
        repository.update_case(update).await.unwrap();

        clock.advance(Duration::days(30));
        assert_eq!(service.run_due_timers(10).await, Ok(1));
        assert_eq!(service.case(&ids[1]).await.unwrap().status, CaseStatus::Denied);
        let failed = service.case(&ids[0]).await.unwrap();
        assert_eq!(failed.status, CaseStatus::Pended);
        let failures =
            |history: Vec<CaseEvent>| history.iter().filter(|event| event.kind == EventKind::TimerFailed).count();
        assert_eq!(failures(service.history(&ids[0]).await.unwrap()), 1);
        // Completed: neither re-claimed now nor after the lease.
        assert_eq!(service.run_due_timers(10).await, Ok(0));
        clock.advance(Duration::seconds(TIMER_LEASE_SECONDS + 1));
        assert_eq!(service.run_due_timers(10).await, Ok(0));
        assert_eq!(failures(service.history(&ids[0]).await.unwrap()), 1);
    }
}
