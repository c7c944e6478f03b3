//! The storage port of the domain: what the workflow needs from a database, in domain types only.
//! Storage (src/storage) implements it for SQLite and PostgreSQL; `MemoryRepository` implements it
//! in memory for tests and benchmarks. Contract details are in /work/coord/domain-repository.md.

use std::future::Future;

use chrono::{DateTime, Utc};

use super::events::CaseEvent;
use super::model::{Case, MemberRecord, ProviderRecord};
use super::timers::{DueTimer, TimerKind, TimerRequest};

/// Failures of a repository. Display texts carry case ids only, never member data.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RepositoryError {
    /// Optimistic concurrency: the case changed since it was read (another reviewer won).
    #[error("case {case_id} was changed concurrently (expected version {expected}, found {found})")]
    Conflict { case_id: String, expected: u64, found: u64 },
    #[error("case {0} not found")]
    NotFound(String),
    #[error("case {0} already exists")]
    Duplicate(String),
    #[error("storage backend error: {0}")]
    Backend(String),
}

/// A case write: the new state of the case plus everything that goes with it atomically.
#[derive(Debug, Clone, Copy)]
pub struct CaseUpdate<'a> {
    /// The new state; `case.version` must be `expected_version + 1`.
    pub case: &'a Case,
    /// The version the writer read; the write fails with `Conflict` if the stored one differs.
    pub expected_version: u64,
    /// Events to append (in order).
    pub events: &'a [CaseEvent],
    /// Timers to create.
    pub new_timers: &'a [TimerRequest],
    /// Pending (not completed) timers of these kinds for this case are deleted.
    pub cancel_timers: &'a [TimerKind],
}

/// What the domain needs from storage. Every method is one atomic unit.
///
/// Semantics every implementation must keep (the shared scenario table checks them):
/// * `insert_case` stores the case (its `version` as given, normally 1), appends `events` and
///   creates `timers` in one transaction; `Duplicate` if the id exists.
/// * `update_case` replaces the stored case only if its stored version equals
///   `expected_version`, else `Conflict`, with nothing written; then appends events, cancels
///   the pending timers of the listed kinds for this case and creates the new timers.
/// * `case_events` returns the events of a case in insertion order.
/// * `review_queue` returns cases with status `pended`, ordered by `decision_due` ascending
///   (cases without a due time last), then by `received_at`, then by id.
/// * `cases_for_member` returns every case of the member, ordered by `received_at` then id.
/// * `next_case_number` / `next_authorization_number`: two independent sequences starting at 1,
///   never handing out the same number twice (also across processes for a shared database).
/// * `claim_due_timers(now, lease_until, limit)`: timers with `due_at <= now` that are not
///   completed and not leased (or whose lease ended before `now`), ordered by `due_at` then id;
///   each returned timer is leased until `lease_until` so that no other instance claims it.
///   A timer claimed and never completed (crash) is claimed again once its lease ended.
/// * `complete_timer(id)` marks a timer done (it is never returned again); unknown ids are OK.
pub trait CaseRepository: Send + Sync {
    fn insert_case(
        &self,
        case: &Case,
        events: &[CaseEvent],
        timers: &[TimerRequest],
    ) -> impl Future<Output = Result<(), RepositoryError>> + Send;

    fn update_case(&self, update: CaseUpdate<'_>) -> impl Future<Output = Result<(), RepositoryError>> + Send;

    fn get_case(&self, case_id: &str) -> impl Future<Output = Result<Option<Case>, RepositoryError>> + Send;

    fn case_events(&self, case_id: &str) -> impl Future<Output = Result<Vec<CaseEvent>, RepositoryError>> + Send;

    fn review_queue(&self, limit: usize) -> impl Future<Output = Result<Vec<Case>, RepositoryError>> + Send;

    fn cases_for_member(&self, member_id: &str) -> impl Future<Output = Result<Vec<Case>, RepositoryError>> + Send;

    fn case_by_authorization_number(
        &self,
        authorization_number: &str,
    ) -> impl Future<Output = Result<Option<Case>, RepositoryError>> + Send;

    fn next_case_number(&self) -> impl Future<Output = Result<u64, RepositoryError>> + Send;

    fn next_authorization_number(&self) -> impl Future<Output = Result<u64, RepositoryError>> + Send;

    fn get_member(&self, member_id: &str)
    -> impl Future<Output = Result<Option<MemberRecord>, RepositoryError>> + Send;

    fn upsert_member(&self, member: &MemberRecord) -> impl Future<Output = Result<(), RepositoryError>> + Send;

    /// The provider registry entry of an NPI (`None`: not on file).
    fn get_provider(&self, npi: &str) -> impl Future<Output = Result<Option<ProviderRecord>, RepositoryError>> + Send;

    /// Inserts or replaces a provider registry entry (idempotent).
    fn upsert_provider(&self, provider: &ProviderRecord) -> impl Future<Output = Result<(), RepositoryError>> + Send;

    fn claim_due_timers(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<DueTimer>, RepositoryError>> + Send;

    fn complete_timer(&self, timer_id: i64) -> impl Future<Output = Result<(), RepositoryError>> + Send;
}
