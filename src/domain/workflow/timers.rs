//! Applying due timers: claimed from the repository with a lease, applied idempotently (a stale
//! timer whose case moved on does nothing), then completed. Nothing lives in memory between
//! runs, so a restart between a hold and its expiry changes nothing.

use chrono::{DateTime, Duration, Utc};

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
    /// Claims and applies up to `limit` due timers; returns how many were applied. A timer whose
    /// case changed concurrently stays leased and is retried after the lease.
    pub async fn run_due_timers(&self, limit: usize) -> Result<usize, DomainError> {
        let now = self.clock.now();
        let lease_until = now + Duration::seconds(TIMER_LEASE_SECONDS);
        let timers = self.repository.claim_due_timers(now, lease_until, limit).await?;
        let mut applied = 0;
        for timer in timers {
            match self.apply_timer(&timer, now).await {
                Ok(()) => {
                    self.repository.complete_timer(timer.id).await?;
                    applied += 1;
                }
                Err(DomainError::Conflict { .. }) => {}
                Err(other) => return Err(other),
            }
        }
        Ok(applied)
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
                let determined = self.determine(&mut case, verdict, Actor::Scheduler, now).await?;
                self.save(&mut case, read_version, &[expired, determined], &[], &[]).await?;
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
