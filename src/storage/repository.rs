//! The domain's repository port ([`CaseRepository`]) on the durable [`Store`].
//!
//! Why here: this module is the one place where storage meets the domain; the rest of the store
//! works on plain records. A case is kept whole as JSON (`body`) beside the columns the store
//! queries on; events keep the domain event as JSON beside their actor and kind; timers keep
//! the request as payload.

use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::providers::{ALL_PLANS, ProviderRow};
use super::records::{CaseRecord, JsonText, MemberRecord as MemberRow, NewCase, NewEvent, NewTimer, TimerRecord};
use super::{Store, StoreError};
use crate::domain::{
    Actor, Case, CaseEvent, CaseRepository, CaseStatus, CaseUpdate, DueTimer, MemberRecord, ProviderRecord,
    RepositoryError, TimerKind, TimerRequest,
};

/// Sequence names of the two numbers the domain draws.
pub const CASE_NUMBER_SEQUENCE: &str = "case_number";
pub const AUTHORIZATION_NUMBER_SEQUENCE: &str = "authorization_number";

impl CaseRepository for Store {
    async fn insert_case(
        &self,
        case: &Case,
        events: &[CaseEvent],
        timers: &[TimerRequest],
    ) -> Result<(), RepositoryError> {
        let record = case_record(case, case.received_at)?;
        let events = new_events(&case.id, events)?;
        let timers = new_timers(&case.id, timers)?;
        Store::insert_case(self, &record, &events, &timers).await.map_err(|error| repository_error(&case.id, error))
    }

    async fn update_case(&self, update: CaseUpdate<'_>) -> Result<(), RepositoryError> {
        let case = update.case;
        // The row's change time: the domain's own time of the latest event written with it.
        let changed_at = update.events.iter().map(|event| event.at).max().unwrap_or_else(Utc::now);
        let record = case_record(case, changed_at)?;
        let expected = to_i64(update.expected_version)?;
        let events = new_events(&case.id, update.events)?;
        let timers = new_timers(&case.id, update.new_timers)?;
        let cancel: Vec<&str> = update.cancel_timers.iter().map(|kind| kind.as_str()).collect();
        Store::update_case(self, &record, expected, &events, &timers, &cancel)
            .await
            .map_err(|error| repository_error(&case.id, error))
    }

    async fn get_case(&self, case_id: &str) -> Result<Option<Case>, RepositoryError> {
        let record = Store::get_case(self, case_id).await.map_err(|error| repository_error(case_id, error))?;
        record.map(case_from_record).transpose()
    }

    async fn case_events(&self, case_id: &str) -> Result<Vec<CaseEvent>, RepositoryError> {
        let events = Store::case_events(self, case_id).await.map_err(|error| repository_error(case_id, error))?;
        events.into_iter().map(|event| from_json(event.body, "case event")).collect()
    }

    async fn review_queue(&self, limit: usize) -> Result<Vec<Case>, RepositoryError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let records = Store::review_queue(self, &[CaseStatus::Pended.as_str()], limit)
            .await
            .map_err(|error| repository_error("", error))?;
        records.into_iter().map(case_from_record).collect()
    }

    async fn cases_for_member(&self, member_id: &str) -> Result<Vec<Case>, RepositoryError> {
        let records = Store::cases_by_member(self, member_id).await.map_err(|error| repository_error("", error))?;
        records.into_iter().map(case_from_record).collect()
    }

    async fn case_by_authorization_number(&self, authorization_number: &str) -> Result<Option<Case>, RepositoryError> {
        let mut record = Store::case_by_authorization_number(self, authorization_number)
            .await
            .map_err(|error| repository_error("", error))?;
        if record.is_none() {
            // The own number of a separately authorized line (see `line_authorizations`).
            record = Store::case_by_line_authorization_number(self, authorization_number)
                .await
                .map_err(|error| repository_error("", error))?;
        }
        record.map(case_from_record).transpose()
    }

    async fn next_case_number(&self) -> Result<u64, RepositoryError> {
        let value = self.next_value(CASE_NUMBER_SEQUENCE).await.map_err(|error| repository_error("", error))?;
        to_u64(value)
    }

    async fn next_authorization_number(&self) -> Result<u64, RepositoryError> {
        let value =
            self.next_value(AUTHORIZATION_NUMBER_SEQUENCE).await.map_err(|error| repository_error("", error))?;
        to_u64(value)
    }

    async fn get_member(&self, member_id: &str) -> Result<Option<MemberRecord>, RepositoryError> {
        let row = Store::get_member(self, member_id).await.map_err(|error| repository_error("", error))?;
        row.map(member_from_row).transpose()
    }

    async fn upsert_member(&self, member: &MemberRecord) -> Result<(), RepositoryError> {
        let row = member_row(member)?;
        Store::upsert_member(self, &row).await.map_err(|error| repository_error("", error))
    }

    async fn get_provider(&self, npi: &str) -> Result<Option<ProviderRecord>, RepositoryError> {
        let row = Store::get_provider(self, npi).await.map_err(|error| repository_error("", error))?;
        Ok(row.map(provider_from_row))
    }

    async fn upsert_provider(&self, provider: &ProviderRecord) -> Result<(), RepositoryError> {
        Store::upsert_providers(self, &[provider_row(provider)]).await.map_err(|error| repository_error("", error))
    }

    async fn claim_due_timers(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<DueTimer>, RepositoryError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let timers = Store::claim_due_timers(self, now, instance_owner(), lease_until, limit)
            .await
            .map_err(|error| repository_error("", error))?;
        timers.into_iter().map(due_timer).collect()
    }

    async fn complete_timer(&self, timer_id: i64) -> Result<(), RepositoryError> {
        match Store::complete_timer(self, timer_id, Utc::now()).await {
            Ok(_) | Err(StoreError::NotFound { .. }) => Ok(()),
            Err(error) => Err(repository_error("", error)),
        }
    }
}

/// A registry entry as stored: every plan is `*`, else the keys joined by `;`.
pub fn provider_row(provider: &ProviderRecord) -> ProviderRow {
    ProviderRow {
        npi: provider.npi.clone(),
        name: provider.name.clone(),
        tin: provider.tin.clone(),
        plans: if provider.plans.is_empty() { ALL_PLANS.to_owned() } else { provider.plans.join(";") },
    }
}

fn provider_from_row(row: ProviderRow) -> ProviderRecord {
    let plans = if row.plans == ALL_PLANS {
        Vec::new()
    } else {
        row.plans.split(';').filter(|plan| !plan.is_empty()).map(str::to_owned).collect()
    };
    ProviderRecord { npi: row.npi, name: row.name, tin: row.tin, plans }
}

/// Who holds timer leases taken by this process (visible in `timers.claimed_by`).
fn instance_owner() -> &'static str {
    static OWNER: OnceLock<String> = OnceLock::new();
    OWNER.get_or_init(|| format!("umgate-{}-{}", std::process::id(), Utc::now().timestamp_micros()))
}

fn repository_error(case_id: &str, error: StoreError) -> RepositoryError {
    match error {
        StoreError::Conflict { case_id, expected, actual } => RepositoryError::Conflict {
            case_id,
            expected: u64::try_from(expected).unwrap_or_default(),
            found: u64::try_from(actual).unwrap_or_default(),
        },
        StoreError::NotFound { what: "case" } => RepositoryError::NotFound(case_id.to_owned()),
        StoreError::Duplicate { what: "case id" } => RepositoryError::Duplicate(case_id.to_owned()),
        // Display of StoreError carries no row values.
        other => RepositoryError::Backend(other.to_string()),
    }
}

/// A new case as store records, for a batch insert (the batch path buffers the cases of an
/// interchange and writes them in one transaction with the interchange's answers).
/// The JSON documents are serialized straight to text (see [`JsonText`]).
pub fn new_case(
    case: &Case,
    events: &[CaseEvent],
    timers: &[TimerRequest],
) -> Result<NewCase<JsonText>, RepositoryError> {
    Ok(NewCase {
        case: case_columns(case, case.received_at, to_json_text(case, "case")?)?,
        events: events_with(&case.id, events, |event| to_json_text(event, "case event"))?,
        timers: timers_with(&case.id, timers, |timer| to_json_text(timer, "timer"))?,
    })
}

fn case_record(case: &Case, updated_at: DateTime<Utc>) -> Result<CaseRecord, RepositoryError> {
    case_columns(case, updated_at, to_json(case, "case")?)
}

fn case_columns<B>(case: &Case, updated_at: DateTime<Utc>, body: B) -> Result<CaseRecord<B>, RepositoryError> {
    Ok(CaseRecord {
        id: case.id.clone(),
        version: to_i64(case.version)?,
        status: case.status.as_str().to_owned(),
        plan: case.plan.clone(),
        line_of_business: enum_text(&case.line_of_business)?,
        program: case.program.clone(),
        member_id: case.member_id().to_owned(),
        authorization_number: case.authorization_number.clone(),
        due_at: case.decision_due,
        created_at: case.received_at,
        updated_at,
        body,
    })
}

/// A stored case record as the domain's case.
pub fn case_from_record(record: CaseRecord) -> Result<Case, RepositoryError> {
    from_json(record.body, "case")
}

fn new_events(case_id: &str, events: &[CaseEvent]) -> Result<Vec<NewEvent>, RepositoryError> {
    events_with(case_id, events, |event| to_json(event, "case event"))
}

fn events_with<B>(
    case_id: &str,
    events: &[CaseEvent],
    body: impl Fn(&CaseEvent) -> Result<B, RepositoryError>,
) -> Result<Vec<NewEvent<B>>, RepositoryError> {
    events
        .iter()
        .map(|event| {
            if event.case_id != case_id {
                return Err(RepositoryError::Backend(format!(
                    "an event of case {} written with case {case_id}",
                    event.case_id
                )));
            }
            Ok(NewEvent {
                at: event.at,
                actor: actor_text(&event.actor),
                kind: enum_text(&event.kind)?,
                body: body(event)?,
            })
        })
        .collect()
}

/// The actor column: `system`, `scheduler`, `reviewer:ID` or `requester:NPI`.
fn actor_text(actor: &Actor) -> String {
    match actor {
        Actor::System => "system".to_owned(),
        Actor::Scheduler => "scheduler".to_owned(),
        Actor::Reviewer(id) => format!("reviewer:{id}"),
        Actor::Requester(npi) => format!("requester:{npi}"),
    }
}

fn new_timers(case_id: &str, timers: &[TimerRequest]) -> Result<Vec<NewTimer>, RepositoryError> {
    timers_with(case_id, timers, |timer| to_json(timer, "timer"))
}

fn timers_with<B>(
    case_id: &str,
    timers: &[TimerRequest],
    payload: impl Fn(&TimerRequest) -> Result<B, RepositoryError>,
) -> Result<Vec<NewTimer<B>>, RepositoryError> {
    timers
        .iter()
        .map(|timer| {
            if timer.case_id != case_id {
                return Err(RepositoryError::Backend(format!(
                    "a timer of case {} written with case {case_id}",
                    timer.case_id
                )));
            }
            Ok(NewTimer { kind: timer.kind.as_str().to_owned(), fire_at: timer.due_at, payload: payload(timer)? })
        })
        .collect()
}

fn due_timer(timer: TimerRecord) -> Result<DueTimer, RepositoryError> {
    let kind: TimerKind = from_json(Value::String(timer.kind), "timer kind")?;
    Ok(DueTimer { id: timer.id, case_id: timer.case_id, kind, due_at: timer.fire_at })
}

fn member_row(member: &MemberRecord) -> Result<MemberRow, RepositoryError> {
    Ok(MemberRow {
        member_id: member.member_id.clone(),
        first_name: member.first_name.clone(),
        last_name: member.last_name.clone(),
        birth_date: member.birth_date,
        gender: member.gender.clone(),
        plan: member.plan.clone(),
        line_of_business: enum_text(&member.line_of_business)?,
        coverage_start: member.coverage_start,
        coverage_end: member.coverage_end,
    })
}

/// A stored roster row as the domain's member.
pub fn member_from_row(row: MemberRow) -> Result<MemberRecord, RepositoryError> {
    Ok(MemberRecord {
        line_of_business: from_json(Value::String(row.line_of_business), "member line of business")?,
        member_id: row.member_id,
        first_name: row.first_name,
        last_name: row.last_name,
        birth_date: row.birth_date,
        gender: row.gender,
        plan: row.plan,
        coverage_start: row.coverage_start,
        coverage_end: row.coverage_end,
    })
}

/// The serde name of a unit enum variant (`medicaid`, `hold_placed` …), for a text column.
fn enum_text<T: Serialize>(value: &T) -> Result<String, RepositoryError> {
    match to_json(value, "enum")? {
        Value::String(text) => Ok(text),
        _ => Err(RepositoryError::Backend("an enum column did not serialize to text".to_owned())),
    }
}

fn to_json<T: Serialize>(value: &T, what: &str) -> Result<Value, RepositoryError> {
    // serde_json's messages may quote a value: they are dropped.
    serde_json::to_value(value).map_err(|_| RepositoryError::Backend(format!("{what} not serializable")))
}

fn to_json_text<T: Serialize>(value: &T, what: &str) -> Result<JsonText, RepositoryError> {
    // serde_json's messages may quote a value: they are dropped.
    serde_json::to_string(value).map(JsonText).map_err(|_| RepositoryError::Backend(format!("{what} not serializable")))
}

fn from_json<T: DeserializeOwned>(value: Value, what: &str) -> Result<T, RepositoryError> {
    // serde_json's messages may quote a value: they are dropped.
    serde_json::from_value(value).map_err(|_| RepositoryError::Backend(format!("stored {what} is not readable")))
}

fn to_i64(value: u64) -> Result<i64, RepositoryError> {
    i64::try_from(value).map_err(|_| RepositoryError::Backend("case version out of range".to_owned()))
}

fn to_u64(value: i64) -> Result<u64, RepositoryError> {
    u64::try_from(value).map_err(|_| RepositoryError::Backend("sequence value out of range".to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{EventKind, LineOfBusiness};

    #[test]
    fn actors_and_kinds_become_readable_columns() {
        assert_eq!(actor_text(&Actor::Reviewer("R-7".into())), "reviewer:R-7");
        assert_eq!(actor_text(&Actor::System), "system");
        assert_eq!(enum_text(&EventKind::HoldPlaced).ok().as_deref(), Some("hold_placed"));
        assert_eq!(enum_text(&LineOfBusiness::Medicaid).ok().as_deref(), Some("medicaid"));
    }

    #[test]
    fn timer_kinds_round_trip_through_their_column() {
        for kind in [TimerKind::HoldExpiry, TimerKind::InProgressExpiry] {
            let parsed: Result<TimerKind, _> = from_json(Value::String(kind.as_str().to_owned()), "timer kind");
            assert_eq!(parsed.ok(), Some(kind));
        }
    }

    #[test]
    fn store_errors_map_to_the_port() {
        let conflict = StoreError::Conflict { case_id: "C1".into(), expected: 1, actual: 2 };
        assert_eq!(
            repository_error("C1", conflict),
            RepositoryError::Conflict { case_id: "C1".into(), expected: 1, found: 2 }
        );
        assert_eq!(
            repository_error("C1", StoreError::NotFound { what: "case" }),
            RepositoryError::NotFound("C1".into())
        );
        assert_eq!(
            repository_error("C1", StoreError::Duplicate { what: "case id" }),
            RepositoryError::Duplicate("C1".into())
        );
        assert!(matches!(
            repository_error("C1", StoreError::Duplicate { what: "authorization number" }),
            RepositoryError::Backend(_)
        ));
    }

    /// The port's semantics on a real store (SQLite in a temp dir); the scenario table runs the
    /// whole workflow on both backends in tests/um_scenarios_stores.rs.
    mod on_sqlite {
        use super::*;
        use crate::domain::EventKind;
        use crate::domain::model::test_support::sample_case;
        use chrono::{Duration, TimeZone};

        fn at(hour: u32) -> DateTime<Utc> {
            Utc.with_ymd_and_hms(2026, 3, 2, hour, 0, 0).single().unwrap_or_default()
        }

        async fn store(dir: &tempfile::TempDir) -> Store {
            let url = format!("sqlite://{}", dir.path().join("umgate.db").display());
            Store::connect(&url).await.unwrap_or_else(|error| panic!("open store: {error}"))
        }

        #[tokio::test]
        async fn case_round_trips_and_stale_version_is_a_conflict() {
            let dir = tempfile::tempdir().unwrap_or_else(|error| panic!("{error}"));
            let repo = store(&dir).await;
            let case = sample_case("C1", at(8));
            let received = CaseEvent::new("C1", at(8), Actor::System, EventKind::Received, CaseStatus::Pended);
            assert_eq!(CaseRepository::insert_case(&repo, &case, std::slice::from_ref(&received), &[]).await, Ok(()));
            assert_eq!(CaseRepository::get_case(&repo, "C1").await.ok().flatten(), Some(case.clone()));
            assert_eq!(CaseRepository::case_events(&repo, "C1").await.ok(), Some(vec![received]));

            let mut first = case.clone();
            first.version = 2;
            first.status = CaseStatus::Approved;
            first.authorization_number = Some("A1".into());
            let mut second = case.clone();
            second.version = 2;
            second.status = CaseStatus::Denied;
            let update =
                |c| CaseUpdate { case: c, expected_version: 1, events: &[], new_timers: &[], cancel_timers: &[] };
            assert_eq!(CaseRepository::update_case(&repo, update(&first)).await, Ok(()));
            assert_eq!(
                CaseRepository::update_case(&repo, update(&second)).await,
                Err(RepositoryError::Conflict { case_id: "C1".into(), expected: 1, found: 2 })
            );
            let stored = CaseRepository::case_by_authorization_number(&repo, "A1").await.ok().flatten();
            assert_eq!(stored.map(|c| c.status), Some(CaseStatus::Approved));
            assert_eq!(
                CaseRepository::insert_case(&repo, &case, &[], &[]).await,
                Err(RepositoryError::Duplicate("C1".into()))
            );
            let mut missing = sample_case("C404", at(8));
            missing.version = 2;
            assert_eq!(
                CaseRepository::update_case(&repo, update(&missing)).await,
                Err(RepositoryError::NotFound("C404".into()))
            );
        }

        #[tokio::test]
        async fn timers_are_leased_reclaimed_completed_and_cancelled_by_kind() {
            let dir = tempfile::tempdir().unwrap_or_else(|error| panic!("{error}"));
            let repo = store(&dir).await;
            let case = sample_case("C1", at(8));
            let hold = TimerRequest { case_id: "C1".into(), kind: TimerKind::HoldExpiry, due_at: at(10) };
            assert_eq!(CaseRepository::insert_case(&repo, &case, &[], &[hold]).await, Ok(()));
            let lease = Duration::minutes(5);
            assert_eq!(CaseRepository::claim_due_timers(&repo, at(9), at(9) + lease, 10).await.map(|t| t.len()), Ok(0));
            let claimed = CaseRepository::claim_due_timers(&repo, at(10), at(10) + lease, 10).await.unwrap_or_default();
            assert_eq!(claimed.len(), 1);
            assert_eq!(
                (claimed[0].kind, claimed[0].due_at, claimed[0].case_id.as_str()),
                (TimerKind::HoldExpiry, at(10), "C1")
            );
            assert_eq!(
                CaseRepository::claim_due_timers(&repo, at(10), at(10) + lease, 10).await.map(|t| t.len()),
                Ok(0)
            );
            let again = CaseRepository::claim_due_timers(&repo, at(11), at(11) + lease, 10).await.unwrap_or_default();
            assert_eq!(again.iter().map(|t| t.id).collect::<Vec<_>>(), vec![claimed[0].id]);
            assert_eq!(CaseRepository::complete_timer(&repo, again[0].id).await, Ok(()));
            assert_eq!(CaseRepository::complete_timer(&repo, 987_654).await, Ok(()), "unknown ids are fine");
            assert_eq!(CaseRepository::claim_due_timers(&repo, at(12), at(12), 10).await.map(|t| t.len()), Ok(0));

            let second = TimerRequest { case_id: "C1".into(), kind: TimerKind::HoldExpiry, due_at: at(14) };
            let mut next = case.clone();
            next.version = 2;
            let write =
                CaseUpdate { case: &next, expected_version: 1, events: &[], new_timers: &[second], cancel_timers: &[] };
            assert_eq!(CaseRepository::update_case(&repo, write).await, Ok(()));
            next.version = 3;
            let cancel = CaseUpdate {
                case: &next,
                expected_version: 2,
                events: &[],
                new_timers: &[],
                cancel_timers: &[TimerKind::HoldExpiry],
            };
            assert_eq!(CaseRepository::update_case(&repo, cancel).await, Ok(()));
            assert_eq!(
                CaseRepository::claim_due_timers(&repo, at(20), at(21), 10).await.map(|t| t.len()),
                Ok(0),
                "cancelled"
            );
        }

        #[tokio::test]
        async fn queue_sequences_and_members() {
            let dir = tempfile::tempdir().unwrap_or_else(|error| panic!("{error}"));
            let repo = store(&dir).await;
            for (id, due_hour, status) in
                [("A", 15, CaseStatus::Pended), ("B", 11, CaseStatus::Pended), ("C", 9, CaseStatus::Approved)]
            {
                let mut case = sample_case(id, at(8));
                case.status = status;
                case.decision_due = Some(at(due_hour));
                assert_eq!(CaseRepository::insert_case(&repo, &case, &[], &[]).await, Ok(()));
            }
            let mut undated = sample_case("D", at(7));
            undated.status = CaseStatus::Pended;
            assert_eq!(CaseRepository::insert_case(&repo, &undated, &[], &[]).await, Ok(()));
            let queue = CaseRepository::review_queue(&repo, 10).await.unwrap_or_default();
            assert_eq!(queue.into_iter().map(|c| c.id).collect::<Vec<_>>(), ["B", "A", "D"]);
            let by_member = repo.cases_for_member("M100").await.unwrap_or_default();
            assert_eq!(by_member.into_iter().map(|c| c.id).collect::<Vec<_>>(), ["D", "A", "B", "C"]);

            assert_eq!(repo.next_case_number().await, Ok(1));
            assert_eq!(repo.next_case_number().await, Ok(2));
            assert_eq!(repo.next_authorization_number().await, Ok(1), "independent sequences");

            let member = MemberRecord {
                member_id: "M100".into(),
                first_name: "Testy".into(),
                last_name: "Example".into(),
                birth_date: at(0).date_naive(),
                gender: None,
                plan: "cigna-commercial".into(),
                line_of_business: crate::domain::LineOfBusiness::Dual,
                coverage_start: at(0).date_naive(),
                coverage_end: None,
            };
            assert_eq!(CaseRepository::upsert_member(&repo, &member).await, Ok(()));
            assert_eq!(CaseRepository::upsert_member(&repo, &member).await, Ok(()));
            assert_eq!(CaseRepository::get_member(&repo, "M100").await, Ok(Some(member)));
        }
    }
}
