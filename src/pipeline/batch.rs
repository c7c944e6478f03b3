//! The case repository of the batch path: the store, with the cases of the interchange being
//! processed held back and written together with the interchange's answers.
//!
//! Why: one transaction (and, on SQLite, one fsync) per case and two per sequence number would
//! make a 100,000-request batch take minutes. Here the new cases of an interchange stay in memory
//! (visible to every read, so a second request of the same member in the same interchange sees
//! the first as the domain expects) until [`BatchRepository::take_new_cases`] hands them to
//! `Store::record_answers`, which writes them in the same transaction as the log entry that says
//! they were answered; case and authorization numbers come from the writer's [`Counters`], spent
//! by that same transaction (see [`super::numbers`]).
//! Reads the batch path does not make (the review queue, timers) go straight to the store.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};

use super::numbers::{Counters, Sequence};
use crate::domain::{
    Case, CaseEvent, CaseRepository, CaseUpdate, DueTimer, MemberRecord, ProviderRecord, RepositoryError, TimerRequest,
};
use crate::storage::repository::{case_from_record, member_from_row, new_case};
use crate::storage::{JsonText, NewCase, Store};

#[derive(Debug)]
struct HeldCase {
    case: Case,
    events: Vec<CaseEvent>,
    timers: Vec<TimerRequest>,
}

/// The cases an interchange created, taken from the repository to be stored.
#[derive(Debug, Default)]
pub struct NewCases(Arc<Vec<HeldCase>>);

impl NewCases {
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The cases as store records (their JSON text: the costly part, done where it overlaps).
    pub fn into_records(self) -> Result<Vec<NewCase<JsonText>>, RepositoryError> {
        self.records()
    }

    /// [`NewCases::into_records`] keeping the cases.
    pub fn records(&self) -> Result<Vec<NewCase<JsonText>>, RepositoryError> {
        self.0.iter().map(|held| new_case(&held.case, &held.events, &held.timers)).collect()
    }
}

/// Members and their stored cases read ahead for the requests of one interchange.
#[derive(Debug, Default)]
struct Known {
    members: HashMap<String, Option<MemberRecord>>,
    cases: HashMap<String, Vec<Case>>,
    /// Provider registry entries looked up for this interchange (plans that require the
    /// requester on file): requesters recur, one query per NPI instead of one per request.
    providers: HashMap<String, Option<ProviderRecord>>,
}

#[derive(Debug, Default)]
struct Held {
    cases: Vec<HeldCase>,
    /// Cases taken to be stored whose recording has not settled yet: still visible to reads, so
    /// that the next interchange, decided while they commit, sees them.
    committing: Vec<Arc<Vec<HeldCase>>>,
    known: Known,
    /// Loaded from the store's sequences on first use and after a failed recording.
    counters: Option<Counters>,
}

/// See the module comment.
#[derive(Debug)]
pub struct BatchRepository {
    store: Store,
    held: Mutex<Held>,
    /// Held by a recording in flight: a write straight to the store (an earlier case changed by
    /// a follow-up request) waits for it, so it finds the cases that recording stores.
    gate: Arc<tokio::sync::Mutex<()>>,
}

impl BatchRepository {
    pub fn new(store: Store) -> Self {
        BatchRepository { store, held: Mutex::new(Held::default()), gate: Arc::default() }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    fn held(&self) -> std::sync::MutexGuard<'_, Held> {
        // A poisoned lock means a panic elsewhere in this process; the held cases are still whole.
        self.held.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Ids of the cases held back, in creation order.
    pub fn held_case_ids(&self) -> Vec<String> {
        self.held().cases.iter().map(|held| held.case.id.clone()).collect()
    }

    /// The held cases, for `Store::record_answers`; what was read ahead is forgotten (it no
    /// longer includes every case). They stay visible to reads until [`BatchRepository::settle`].
    /// They become store records with [`NewCases::into_records`], which the batch path runs on
    /// another thread than the deciding.
    pub fn take_new_cases(&self) -> NewCases {
        let mut held = self.held();
        held.known = Known::default();
        let cases = Arc::new(std::mem::take(&mut held.cases));
        held.committing.push(Arc::clone(&cases));
        NewCases(cases)
    }

    /// The recording of the cases taken first has committed: the store shows them now.
    pub fn settle(&self) {
        let mut held = self.held();
        if !held.committing.is_empty() {
            held.committing.remove(0);
        }
        held.known = Known::default();
    }

    /// Forgets every case held or committing (a recording failed; nothing of them is stored).
    pub fn discard(&self) {
        let mut held = self.held();
        held.cases.clear();
        held.committing.clear();
        held.known = Known::default();
    }

    /// The gate a recording holds while it runs (see the field).
    pub fn gate(&self) -> Arc<tokio::sync::Mutex<()>> {
        Arc::clone(&self.gate)
    }

    /// A held or committing case, by id.
    fn find(&self, case_id: &str) -> Option<(Case, Vec<CaseEvent>)> {
        let held = self.held();
        held.cases
            .iter()
            .chain(held.committing.iter().flat_map(|cases| cases.iter()))
            .find(|held| held.case.id == case_id)
            .map(|held| (held.case.clone(), held.events.clone()))
    }

    /// Reads these members and all their stored cases in two queries, so that the requests of an
    /// interchange do not each make two round trips. Replaces what was read ahead before.
    pub async fn read_ahead(&self, member_ids: &[String]) -> Result<(), RepositoryError> {
        let backend = |error: crate::storage::StoreError| RepositoryError::Backend(error.to_string());
        let rows = self.store.members_by_ids(member_ids).await.map_err(backend)?;
        let records = self.store.cases_by_members(member_ids).await.map_err(backend)?;
        let mut known = Known::default();
        for id in member_ids {
            known.members.insert(id.clone(), None);
        }
        for row in rows {
            let member = member_from_row(row)?;
            known.members.insert(member.member_id.clone(), Some(member));
        }
        for record in records {
            let case = case_from_record(record)?;
            known.cases.entry(case.member_id().to_owned()).or_default().push(case);
        }
        self.held().known = known;
        Ok(())
    }

    /// Loads the sequences into the counters unless they are loaded already.
    pub async fn load_counters(&self) -> Result<(), crate::storage::StoreError> {
        if self.held().counters.is_some() {
            return Ok(());
        }
        let counters = Counters::load(&self.store).await?;
        self.held().counters.get_or_insert(counters);
        Ok(())
    }

    /// Works on the loaded counters (`None`: not loaded, see [`BatchRepository::load_counters`]).
    pub fn with_counters<R>(&self, work: impl FnOnce(&mut Counters) -> R) -> Option<R> {
        self.held().counters.as_mut().map(work)
    }

    /// Forgets the counters: a recording failed, or another writer may have moved the sequences.
    pub fn forget_counters(&self) {
        self.held().counters = None;
    }

    async fn next_number(&self, sequence: Sequence) -> Result<u64, RepositoryError> {
        self.load_counters().await.map_err(|error| RepositoryError::Backend(error.to_string()))?;
        let first = self
            .with_counters(|counters| counters.take(sequence, 1))
            .ok_or_else(|| RepositoryError::Backend("numbers not loaded".into()))?;
        u64::try_from(first).map_err(|_| RepositoryError::Backend("negative sequence value".into()))
    }
}

impl CaseRepository for BatchRepository {
    async fn insert_case(
        &self,
        case: &Case,
        events: &[CaseEvent],
        timers: &[TimerRequest],
    ) -> Result<(), RepositoryError> {
        let mut held = self.held();
        if held
            .cases
            .iter()
            .chain(held.committing.iter().flat_map(|cases| cases.iter()))
            .any(|held| held.case.id == case.id)
        {
            return Err(RepositoryError::Duplicate(case.id.clone()));
        }
        held.cases.push(HeldCase { case: case.clone(), events: events.to_vec(), timers: timers.to_vec() });
        Ok(())
    }

    async fn update_case(&self, update: CaseUpdate<'_>) -> Result<(), RepositoryError> {
        {
            let mut held = self.held();
            if let Some(entry) = held.cases.iter_mut().find(|held| held.case.id == update.case.id) {
                if entry.case.version != update.expected_version {
                    return Err(RepositoryError::Conflict {
                        case_id: entry.case.id.clone(),
                        expected: update.expected_version,
                        found: entry.case.version,
                    });
                }
                entry.case = update.case.clone();
                entry.events.extend_from_slice(update.events);
                entry.timers.retain(|timer| !update.cancel_timers.contains(&timer.kind));
                entry.timers.extend_from_slice(update.new_timers);
                return Ok(());
            }
        }
        // A stored case changed by this interchange (a cancellation, an extension): what was read
        // ahead must show it to the interchange's next requests. A case still committing is in
        // the store once the recording in flight is done.
        let case = update.case.clone();
        let _recorded = self.gate.lock().await;
        CaseRepository::update_case(&self.store, update).await?;
        let mut held = self.held();
        if let Some(known) = held
            .known
            .cases
            .get_mut(case.member_id())
            .and_then(|cases| cases.iter_mut().find(|known| known.id == case.id))
        {
            *known = case;
        }
        Ok(())
    }

    async fn get_case(&self, case_id: &str) -> Result<Option<Case>, RepositoryError> {
        match self.find(case_id) {
            Some((case, _)) => Ok(Some(case)),
            None => CaseRepository::get_case(&self.store, case_id).await,
        }
    }

    async fn case_events(&self, case_id: &str) -> Result<Vec<CaseEvent>, RepositoryError> {
        match self.find(case_id) {
            Some((_, events)) => Ok(events),
            None => CaseRepository::case_events(&self.store, case_id).await,
        }
    }

    async fn review_queue(&self, limit: usize) -> Result<Vec<Case>, RepositoryError> {
        CaseRepository::review_queue(&self.store, limit).await
    }

    async fn cases_for_member(&self, member_id: &str) -> Result<Vec<Case>, RepositoryError> {
        let known = {
            let held = self.held();
            held.known
                .members
                .contains_key(member_id)
                .then(|| held.known.cases.get(member_id).cloned().unwrap_or_default())
        };
        let mut cases = match known {
            Some(cases) => cases,
            None => CaseRepository::cases_for_member(&self.store, member_id).await?,
        };
        let held: Vec<Case> = {
            let held = self.held();
            held.committing
                .iter()
                .flat_map(|cases| cases.iter())
                .chain(&held.cases)
                .filter(|held| held.case.member_id() == member_id)
                .map(|held| held.case.clone())
                .collect()
        };
        if !held.is_empty() {
            // A committing case may be in the store already (its recording committed since).
            let stored: HashSet<String> = cases.iter().map(|case| case.id.clone()).collect();
            cases.extend(held.into_iter().filter(|case| !stored.contains(&case.id)));
            cases.sort_by(|a, b| (a.received_at, &a.id).cmp(&(b.received_at, &b.id)));
        }
        Ok(cases)
    }

    async fn case_by_authorization_number(&self, number: &str) -> Result<Option<Case>, RepositoryError> {
        let found = {
            let held = self.held();
            held.cases
                .iter()
                .chain(held.committing.iter().flat_map(|cases| cases.iter()))
                .find(|held| held.case.has_authorization_number(number))
                .map(|held| held.case.clone())
        };
        match found {
            Some(case) => Ok(Some(case)),
            None => CaseRepository::case_by_authorization_number(&self.store, number).await,
        }
    }

    async fn next_case_number(&self) -> Result<u64, RepositoryError> {
        self.next_number(Sequence::Case).await
    }

    async fn next_authorization_number(&self) -> Result<u64, RepositoryError> {
        self.next_number(Sequence::Authorization).await
    }

    async fn get_member(&self, member_id: &str) -> Result<Option<MemberRecord>, RepositoryError> {
        let known = self.held().known.members.get(member_id).cloned();
        match known {
            Some(member) => Ok(member),
            None => CaseRepository::get_member(&self.store, member_id).await,
        }
    }

    async fn upsert_member(&self, member: &MemberRecord) -> Result<(), RepositoryError> {
        self.held().known.members.remove(&member.member_id);
        CaseRepository::upsert_member(&self.store, member).await
    }

    async fn get_provider(&self, npi: &str) -> Result<Option<ProviderRecord>, RepositoryError> {
        if let Some(known) = self.held().known.providers.get(npi).cloned() {
            return Ok(known);
        }
        let found = CaseRepository::get_provider(&self.store, npi).await?;
        self.held().known.providers.insert(npi.to_owned(), found.clone());
        Ok(found)
    }

    async fn upsert_provider(&self, provider: &ProviderRecord) -> Result<(), RepositoryError> {
        self.held().known.providers.remove(&provider.npi);
        CaseRepository::upsert_provider(&self.store, provider).await
    }

    async fn claim_due_timers(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<DueTimer>, RepositoryError> {
        CaseRepository::claim_due_timers(&self.store, now, lease_until, limit).await
    }

    async fn complete_timer(&self, timer_id: i64) -> Result<(), RepositoryError> {
        CaseRepository::complete_timer(&self.store, timer_id).await
    }
}
