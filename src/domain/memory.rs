//! An in-memory `CaseRepository` for tests, benchmarks and the scenario table. One mutex guards
//! all state, so every method is atomic exactly like a database transaction. Clones share state:
//! a "restarted" service built over a clone sees everything the first one stored.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use chrono::{DateTime, Utc};

use super::events::CaseEvent;
use super::model::{Case, CaseStatus, MemberRecord, ProviderRecord};
use super::repository::{CaseRepository, CaseUpdate, RepositoryError};
use super::timers::{DueTimer, TimerRequest};

#[derive(Debug, Clone)]
struct StoredTimer {
    timer: DueTimer,
    leased_until: Option<DateTime<Utc>>,
    completed: bool,
}

#[derive(Debug, Default)]
struct State {
    cases: HashMap<String, Case>,
    /// member id → case ids, and authorization number → case id (lookups without scans).
    by_member: HashMap<String, Vec<String>>,
    by_authorization: HashMap<String, String>,
    events: HashMap<String, Vec<CaseEvent>>,
    members: HashMap<String, MemberRecord>,
    providers: HashMap<String, ProviderRecord>,
    timers: Vec<StoredTimer>,
    next_timer_id: i64,
    case_sequence: u64,
    authorization_sequence: u64,
}

impl State {
    fn index(&mut self, case: &Case) {
        // The case's number and the own numbers of separately authorized lines.
        let numbers =
            case.authorization_number.iter().chain(case.lines.iter().filter_map(|l| l.authorization_number.as_ref()));
        for number in numbers {
            self.by_authorization.insert(number.clone(), case.id.clone());
        }
    }

    fn add_timers(&mut self, timers: &[TimerRequest]) {
        for request in timers {
            self.next_timer_id += 1;
            self.timers.push(StoredTimer {
                timer: DueTimer {
                    id: self.next_timer_id,
                    case_id: request.case_id.clone(),
                    kind: request.kind,
                    due_at: request.due_at,
                },
                leased_until: None,
                completed: false,
            });
        }
    }
}

/// The in-memory repository.
#[derive(Debug, Clone, Default)]
pub struct MemoryRepository {
    state: Arc<Mutex<State>>,
}

impl MemoryRepository {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave a half-written case: every method
        // validates before it mutates.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Pending (not completed) timers, for tests and diagnostics.
    pub fn pending_timers(&self) -> Vec<DueTimer> {
        self.lock().timers.iter().filter(|stored| !stored.completed).map(|stored| stored.timer.clone()).collect()
    }
}

fn sorted_by_received(mut cases: Vec<Case>) -> Vec<Case> {
    cases.sort_by(|a, b| a.received_at.cmp(&b.received_at).then_with(|| a.id.cmp(&b.id)));
    cases
}

impl CaseRepository for MemoryRepository {
    async fn insert_case(
        &self,
        case: &Case,
        events: &[CaseEvent],
        timers: &[TimerRequest],
    ) -> Result<(), RepositoryError> {
        let mut state = self.lock();
        if state.cases.contains_key(&case.id) {
            return Err(RepositoryError::Duplicate(case.id.clone()));
        }
        state.by_member.entry(case.member_id().to_owned()).or_default().push(case.id.clone());
        state.index(case);
        state.cases.insert(case.id.clone(), case.clone());
        state.events.entry(case.id.clone()).or_default().extend_from_slice(events);
        state.add_timers(timers);
        Ok(())
    }

    async fn update_case(&self, update: CaseUpdate<'_>) -> Result<(), RepositoryError> {
        let mut state = self.lock();
        let case_id = &update.case.id;
        let found = state.cases.get(case_id).map(|stored| stored.version);
        match found {
            None => return Err(RepositoryError::NotFound(case_id.clone())),
            Some(found) if found != update.expected_version => {
                return Err(RepositoryError::Conflict {
                    case_id: case_id.clone(),
                    expected: update.expected_version,
                    found,
                });
            }
            Some(_) => {}
        }
        state.index(update.case);
        state.cases.insert(case_id.clone(), update.case.clone());
        state.events.entry(case_id.clone()).or_default().extend_from_slice(update.events);
        state.timers.retain(|stored| {
            stored.completed || stored.timer.case_id != *case_id || !update.cancel_timers.contains(&stored.timer.kind)
        });
        state.add_timers(update.new_timers);
        Ok(())
    }

    async fn get_case(&self, case_id: &str) -> Result<Option<Case>, RepositoryError> {
        Ok(self.lock().cases.get(case_id).cloned())
    }

    async fn case_events(&self, case_id: &str) -> Result<Vec<CaseEvent>, RepositoryError> {
        Ok(self.lock().events.get(case_id).cloned().unwrap_or_default())
    }

    async fn review_queue(&self, limit: usize) -> Result<Vec<Case>, RepositoryError> {
        let state = self.lock();
        let mut queue: Vec<Case> =
            state.cases.values().filter(|case| case.status == CaseStatus::Pended).cloned().collect();
        queue.sort_by(|a, b| {
            let due = match (a.decision_due, b.decision_due) {
                (Some(x), Some(y)) => x.cmp(&y),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => std::cmp::Ordering::Equal,
            };
            due.then_with(|| a.received_at.cmp(&b.received_at)).then_with(|| a.id.cmp(&b.id))
        });
        queue.truncate(limit);
        Ok(queue)
    }

    async fn cases_for_member(&self, member_id: &str) -> Result<Vec<Case>, RepositoryError> {
        let state = self.lock();
        let ids = state.by_member.get(member_id).map(Vec::as_slice).unwrap_or_default();
        Ok(sorted_by_received(ids.iter().filter_map(|id| state.cases.get(id)).cloned().collect()))
    }

    async fn case_by_authorization_number(&self, authorization_number: &str) -> Result<Option<Case>, RepositoryError> {
        let state = self.lock();
        Ok(state
            .by_authorization
            .get(authorization_number)
            .and_then(|id| state.cases.get(id))
            .filter(|case| case.has_authorization_number(authorization_number))
            .cloned())
    }

    async fn next_case_number(&self) -> Result<u64, RepositoryError> {
        let mut state = self.lock();
        state.case_sequence += 1;
        Ok(state.case_sequence)
    }

    async fn next_authorization_number(&self) -> Result<u64, RepositoryError> {
        let mut state = self.lock();
        state.authorization_sequence += 1;
        Ok(state.authorization_sequence)
    }

    async fn get_member(&self, member_id: &str) -> Result<Option<MemberRecord>, RepositoryError> {
        Ok(self.lock().members.get(member_id).cloned())
    }

    async fn upsert_member(&self, member: &MemberRecord) -> Result<(), RepositoryError> {
        self.lock().members.insert(member.member_id.clone(), member.clone());
        Ok(())
    }

    async fn get_provider(&self, npi: &str) -> Result<Option<ProviderRecord>, RepositoryError> {
        Ok(self.lock().providers.get(npi).cloned())
    }

    async fn upsert_provider(&self, provider: &ProviderRecord) -> Result<(), RepositoryError> {
        self.lock().providers.insert(provider.npi.clone(), provider.clone());
        Ok(())
    }

    async fn claim_due_timers(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<DueTimer>, RepositoryError> {
        let mut state = self.lock();
        let mut due: Vec<&mut StoredTimer> = state
            .timers
            .iter_mut()
            .filter(|stored| {
                !stored.completed && stored.timer.due_at <= now && stored.leased_until.is_none_or(|lease| lease < now)
            })
            .collect();
        due.sort_by(|a, b| a.timer.due_at.cmp(&b.timer.due_at).then_with(|| a.timer.id.cmp(&b.timer.id)));
        Ok(due
            .into_iter()
            .take(limit)
            .map(|stored| {
                stored.leased_until = Some(lease_until);
                stored.timer.clone()
            })
            .collect())
    }

    async fn complete_timer(&self, timer_id: i64) -> Result<(), RepositoryError> {
        let mut state = self.lock();
        if let Some(stored) = state.timers.iter_mut().find(|stored| stored.timer.id == timer_id) {
            stored.completed = true;
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::domain::model::test_support::sample_case;
    use crate::domain::timers::TimerKind;
    use chrono::{Duration, TimeZone};

    fn at(hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, hour, 0, 0).single().unwrap_or_default()
    }

    #[tokio::test]
    async fn stale_version_is_a_conflict_and_writes_nothing() {
        let repo = MemoryRepository::new();
        let case = sample_case("C1", at(8));
        repo.insert_case(&case, &[], &[]).await.unwrap();
        let mut first = case.clone();
        first.version = 2;
        first.status = CaseStatus::Approved;
        let mut second = case.clone();
        second.version = 2;
        second.status = CaseStatus::Denied;
        let update = |c| CaseUpdate { case: c, expected_version: 1, events: &[], new_timers: &[], cancel_timers: &[] };
        repo.update_case(update(&first)).await.unwrap();
        let lost = repo.update_case(update(&second)).await;
        assert_eq!(lost, Err(RepositoryError::Conflict { case_id: "C1".into(), expected: 1, found: 2 }));
        assert_eq!(repo.get_case("C1").await.unwrap().map(|c| c.status), Some(CaseStatus::Approved));
        assert_eq!(repo.insert_case(&case, &[], &[]).await, Err(RepositoryError::Duplicate("C1".into())));
    }

    #[tokio::test]
    async fn timers_are_leased_reclaimed_after_the_lease_and_cancelled_by_kind() {
        let repo = MemoryRepository::new();
        let case = sample_case("C1", at(8));
        let hold = TimerRequest { case_id: "C1".into(), kind: TimerKind::HoldExpiry, due_at: at(10) };
        repo.insert_case(&case, &[], &[hold]).await.unwrap();
        assert!(repo.claim_due_timers(at(9), at(9) + Duration::minutes(5), 10).await.unwrap().is_empty());
        let claimed = repo.claim_due_timers(at(10), at(10) + Duration::minutes(5), 10).await.unwrap();
        assert_eq!(claimed.len(), 1);
        // Leased: another instance does not see it; after the lease ended (crash) it does.
        assert!(repo.claim_due_timers(at(10), at(10) + Duration::minutes(5), 10).await.unwrap().is_empty());
        let again = repo.claim_due_timers(at(11), at(11) + Duration::minutes(5), 10).await.unwrap();
        assert_eq!(again.len(), 1);
        repo.complete_timer(again[0].id).await.unwrap();
        assert!(repo.claim_due_timers(at(12), at(12), 10).await.unwrap().is_empty());

        let second = TimerRequest { case_id: "C1".into(), kind: TimerKind::HoldExpiry, due_at: at(14) };
        let mut next = case.clone();
        next.version = 2;
        let write =
            CaseUpdate { case: &next, expected_version: 1, events: &[], new_timers: &[second], cancel_timers: &[] };
        repo.update_case(write).await.unwrap();
        assert_eq!(repo.pending_timers().len(), 1);
        next.version = 3;
        let cancel = CaseUpdate {
            case: &next,
            expected_version: 2,
            events: &[],
            new_timers: &[],
            cancel_timers: &[TimerKind::HoldExpiry],
        };
        repo.update_case(cancel).await.unwrap();
        assert!(repo.pending_timers().is_empty());
    }

    #[tokio::test]
    async fn queue_orders_pended_cases_by_due_time() {
        let repo = MemoryRepository::new();
        for (id, due_hour, status) in
            [("A", 15, CaseStatus::Pended), ("B", 11, CaseStatus::Pended), ("C", 9, CaseStatus::Approved)]
        {
            let mut case = sample_case(id, at(8));
            case.status = status;
            case.decision_due = Some(at(due_hour));
            repo.insert_case(&case, &[], &[]).await.unwrap();
        }
        let mut undated = sample_case("D", at(7));
        undated.status = CaseStatus::Pended;
        repo.insert_case(&undated, &[], &[]).await.unwrap();
        let ids: Vec<String> = repo.review_queue(10).await.unwrap().into_iter().map(|c| c.id).collect();
        assert_eq!(ids, ["B", "A", "D"]);
        assert_eq!(repo.review_queue(1).await.unwrap().len(), 1);
        assert_eq!(repo.next_authorization_number().await.unwrap(), 1);
        assert_eq!(repo.next_authorization_number().await.unwrap(), 2);
        assert_eq!(repo.next_case_number().await.unwrap(), 1);
    }
}
