//! The store conformance suite: the same tests on SQLite and on PostgreSQL.
//!
//! Run: `cargo test --test store_conformance` (PostgreSQL trials are skipped loudly without
//! `DATABASE_URL`), and `DATABASE_URL=postgres://postgres@127.0.0.1:5432/test cargo test --test
//! store_conformance` for both backends.
#![allow(clippy::unwrap_used)]

mod stores_support;

use std::collections::BTreeSet;
use std::sync::Arc;

use anyhow::{Context, bail, ensure};
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use serde_json::json;
use stores_support::{TestDb, TestResult};
use tokio::sync::Barrier;
use umgate::storage::{CaseRecord, EventRecord, MemberRecord, NewCase, NewEvent, NewTimer, StoreError, TimerRecord};

fn main() {
    let args = libtest_mimic::Arguments::from_args();
    let tests = store_tests![
        case_round_trip,
        case_lookups_by_member_and_authorization_number,
        case_lookup_by_a_lines_own_authorization_number,
        review_queue_is_ordered_by_due_time_then_creation,
        duplicate_insert_is_refused_and_writes_nothing,
        batch_insert_is_all_or_nothing,
        update_case_writes_case_events_and_timers_together,
        stale_update_is_a_conflict_and_writes_nothing,
        concurrent_updaters_exactly_one_wins,
        events_are_append_only,
        timers_are_claimed_in_due_order_with_leases,
        two_claimers_never_get_the_same_timer,
        timers_survive_a_restart,
        sequences_are_unique_under_concurrency,
        members_upsert_is_idempotent,
        reopened_store_sees_everything,
        instances_starting_together_migrate_once,
    ];
    libtest_mimic::run(&args, stores_support::trials(tests)).exit();
}

// ---- fixtures (fake people only) ----

/// A fixed instant with a microsecond part, to check that precision survives.
fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap() + Duration::microseconds(123_456)
}

fn case(
    id: &str,
    member_id: &str,
    status: &str,
    due_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
) -> CaseRecord {
    CaseRecord {
        id: id.to_owned(),
        version: 1,
        status: status.to_owned(),
        plan: "aetna-better-health-il".to_owned(),
        line_of_business: "medicaid".to_owned(),
        program: Some("msk".to_owned()),
        member_id: member_id.to_owned(),
        authorization_number: None,
        due_at,
        created_at,
        updated_at: created_at,
        body: json!({"id": id, "lines": [{"code": "64483", "units": 1}], "note": "synthetic"}),
    }
}

fn event(kind: &str, at: DateTime<Utc>) -> NewEvent {
    NewEvent { at, actor: "reviewer-1".to_owned(), kind: kind.to_owned(), body: json!({"kind": kind}) }
}

/// The history the store must return for `events` appended in order to a new case.
fn recorded(case_id: &str, events: &[NewEvent]) -> Vec<EventRecord> {
    (1..)
        .zip(events)
        .map(|(seq, event)| EventRecord {
            case_id: case_id.to_owned(),
            seq,
            at: event.at,
            actor: event.actor.clone(),
            kind: event.kind.clone(),
            body: event.body.clone(),
        })
        .collect()
}

/// A timer, told apart in assertions by the `label` in its payload (the store assigns ids).
fn timer(label: &str, kind: &str, fire_at: DateTime<Utc>) -> NewTimer {
    NewTimer { kind: kind.to_owned(), fire_at, payload: json!({"timer": label}) }
}

fn label(timer: &TimerRecord) -> &str {
    timer.payload["timer"].as_str().unwrap_or("?")
}

fn labels(timers: &[TimerRecord]) -> Vec<&str> {
    timers.iter().map(label).collect()
}

fn member(member_id: &str) -> MemberRecord {
    MemberRecord {
        member_id: member_id.to_owned(),
        first_name: "Testy".to_owned(),
        last_name: "Example".to_owned(),
        birth_date: NaiveDate::from_ymd_opt(1970, 1, 2).unwrap(),
        gender: Some("F".to_owned()),
        plan: "aetna-better-health-il".to_owned(),
        line_of_business: "medicaid".to_owned(),
        coverage_start: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
        coverage_end: None,
    }
}

fn ids(cases: &[CaseRecord]) -> Vec<&str> {
    cases.iter().map(|case| case.id.as_str()).collect()
}

// ---- cases ----

async fn case_round_trip(db: TestDb) -> TestResult {
    let store = db.open().await?;
    let mut stored = case("C-1", "M-1", "pended", Some(t0() + Duration::days(14)), t0());
    stored.authorization_number = Some("A-0001".to_owned());
    let events = [event("received", t0()), event("pended", t0())];
    store.insert_case(&stored, &events, &[timer("T-1", "decision-due", t0() + Duration::days(14))]).await?;

    ensure!(store.get_case("C-1").await? == Some(stored.clone()), "case read back differs");
    ensure!(store.case_events("C-1").await? == recorded("C-1", &events), "events read back differ");
    let timers = store.timers_for_case("C-1").await?;
    ensure!(timers.len() == 1, "one timer expected, got {}", timers.len());
    let only = &timers[0];
    ensure!(only.case_id == "C-1" && only.kind == "decision-due" && only.fire_at == t0() + Duration::days(14));
    ensure!(only.payload == json!({"timer": "T-1"}) && only.is_pending() && !only.cancelled);
    ensure!(only.claimed_by.is_none() && only.claimed_until.is_none());
    ensure!(store.get_case("C-404").await?.is_none(), "missing case must read as None");
    ensure!(store.case_events("C-404").await?.is_empty());
    store.close().await;
    Ok(())
}

async fn case_lookups_by_member_and_authorization_number(db: TestDb) -> TestResult {
    let store = db.open().await?;
    let mut first = case("C-1", "M-1", "approved", None, t0());
    first.authorization_number = Some("A-0001".to_owned());
    let second = case("C-2", "M-1", "pended", None, t0() + Duration::hours(1));
    let other = case("C-3", "M-2", "pended", None, t0() - Duration::hours(1));
    for record in [&second, &first, &other] {
        store.insert_case(record, &[], &[]).await?;
    }
    ensure!(ids(&store.cases_by_member("M-1").await?) == ["C-1", "C-2"], "member cases oldest first");
    ensure!(store.cases_by_member("M-404").await?.is_empty());
    ensure!(store.case_by_authorization_number("A-0001").await? == Some(first.clone()));
    ensure!(store.case_by_authorization_number("A-404").await?.is_none());

    // Authorization numbers are unique; many cases may have none.
    let mut clash = case("C-4", "M-3", "approved", None, t0());
    clash.authorization_number = Some("A-0001".to_owned());
    match store.insert_case(&clash, &[], &[]).await {
        Err(StoreError::Duplicate { what: "authorization number" }) => {}
        other => bail!("expected a duplicate authorization number, got {other:?}"),
    }
    let mut renumbered = second.clone();
    renumbered.version = 2;
    renumbered.authorization_number = Some("A-0001".to_owned());
    match store.update_case(&renumbered, 1, &[], &[], &[]).await {
        Err(StoreError::Duplicate { what: "authorization number" }) => {}
        other => bail!("expected a duplicate authorization number on update, got {other:?}"),
    }
    ensure!(store.get_case("C-2").await? == Some(second), "failed update must leave the case as it was");
    Ok(())
}

/// A separately authorized line (supportive drug) keeps its own number in the case body only:
/// the store finds the case by it too, and never by a value that merely appears elsewhere.
async fn case_lookup_by_a_lines_own_authorization_number(db: TestDb) -> TestResult {
    let store = db.open().await?;
    let mut regimen = case("C-1", "M-1", "approved", None, t0());
    regimen.authorization_number = Some("A000000001".to_owned());
    regimen.body = json!({"id": "C-1", "note": "A000000009", "lines": [
        {"code": "J9263", "authorization_number": null},
        {"code": "J2505", "authorization_number": "A000000002"}
    ]});
    let mut other = case("C-2", "M-2", "approved", None, t0());
    other.authorization_number = Some("A000000003".to_owned());
    store.insert_case(&other, &[], &[]).await?;
    store.insert_case(&regimen, &[], &[]).await?;
    ensure!(store.case_by_line_authorization_number("A000000002").await?.map(|c| c.id) == Some("C-1".into()));
    ensure!(store.case_by_line_authorization_number("A000000009").await?.is_none(), "not a line's number");
    ensure!(store.case_by_line_authorization_number("A000000404").await?.is_none());
    store.close().await;
    Ok(())
}

async fn review_queue_is_ordered_by_due_time_then_creation(db: TestDb) -> TestResult {
    let store = db.open().await?;
    let due = t0() + Duration::days(3);
    let records = [
        case("late", "M-1", "pended", Some(due + Duration::days(1)), t0()),
        case("no-clock", "M-1", "pended", None, t0() - Duration::days(9)),
        case("tie-newer", "M-1", "held", Some(due), t0() + Duration::minutes(5)),
        case("tie-older", "M-1", "pended", Some(due), t0()),
        case("early-sub-second", "M-1", "pended", Some(due - Duration::microseconds(1)), t0()),
        case("decided", "M-1", "approved", Some(due - Duration::days(2)), t0()),
    ];
    for record in &records {
        store.insert_case(record, &[], &[]).await?;
    }
    let queue = store.review_queue(&["pended", "held"], 100).await?;
    ensure!(
        ids(&queue) == ["early-sub-second", "tie-older", "tie-newer", "late", "no-clock"],
        "queue order was {:?}",
        ids(&queue)
    );
    ensure!(ids(&store.review_queue(&["pended", "held"], 2).await?) == ["early-sub-second", "tie-older"]);
    ensure!(ids(&store.review_queue(&["approved"], 10).await?) == ["decided"]);
    ensure!(store.review_queue(&[], 10).await?.is_empty());
    Ok(())
}

async fn duplicate_insert_is_refused_and_writes_nothing(db: TestDb) -> TestResult {
    let store = db.open().await?;
    let original = case("C-1", "M-1", "pended", None, t0());
    store.insert_case(&original, &[event("received", t0())], &[]).await?;

    let mut again = case("C-1", "M-2", "approved", None, t0());
    again.body = json!({"replaced": true});
    let result = store.insert_case(&again, &[event("received", t0())], &[timer("T-9", "hold-due", t0())]).await;
    match result {
        Err(StoreError::Duplicate { what: "case id" }) => {}
        other => bail!("expected a duplicate case id, got {other:?}"),
    }
    ensure!(store.get_case("C-1").await? == Some(original), "the original case must be untouched");
    ensure!(store.case_events("C-1").await?.len() == 1, "the refused insert must append no event");
    ensure!(store.timers_for_case("C-1").await?.is_empty(), "the refused insert must create no timer");
    Ok(())
}

async fn batch_insert_is_all_or_nothing(db: TestDb) -> TestResult {
    let store = db.open().await?;
    let new_case = |n: i64| NewCase {
        case: case(&format!("B-{n:03}"), "M-1", "pended", Some(t0() + Duration::hours(n)), t0()),
        events: vec![event("received", t0()), event("pended", t0())],
        timers: vec![timer(&format!("T-{n:03}"), "decision-due", t0() + Duration::hours(n))],
    };
    let batch: Vec<NewCase> = (0..50).map(new_case).collect();
    store.insert_cases(&batch).await?;
    ensure!(store.review_queue(&["pended"], 100).await?.len() == 50, "every case of the batch stored");
    ensure!(store.get_case("B-049").await? == Some(batch[49].case.clone()));
    ensure!(store.case_events("B-007").await? == recorded("B-007", &batch[7].events));
    ensure!(labels(&store.timers_for_case("B-007").await?) == ["T-007"]);
    ensure!(store.insert_cases(&[]).await.is_ok(), "an empty batch is fine");

    // One duplicate refuses the whole batch.
    let clashing = vec![new_case(100), new_case(101), new_case(3)];
    match store.insert_cases(&clashing).await {
        Err(StoreError::Duplicate { what: "case id" }) => {}
        other => bail!("expected a duplicate case id, got {other:?}"),
    }
    ensure!(store.get_case("B-100").await?.is_none(), "nothing of a refused batch is stored");
    match store.insert_cases(&[new_case(200), new_case(200)]).await {
        Err(StoreError::Duplicate { what: "case id" }) => {}
        other => bail!("expected a duplicate case id inside the batch, got {other:?}"),
    }
    ensure!(store.review_queue(&["pended"], 100).await?.len() == 50);
    Ok(())
}

async fn update_case_writes_case_events_and_timers_together(db: TestDb) -> TestResult {
    let store = db.open().await?;
    let created = case("C-1", "M-1", "pended", Some(t0() + Duration::days(14)), t0());
    let hold_timer = timer("T-hold", "hold-due", t0() + Duration::days(2));
    let clock_timer = timer("T-clock", "decision-due", t0() + Duration::days(14));
    store.insert_case(&created, &[event("received", t0())], &[hold_timer, clock_timer]).await?;

    let decided_at = t0() + Duration::hours(3);
    let mut decided = created.clone();
    decided.version = 2;
    decided.status = "approved".to_owned();
    decided.authorization_number = Some("A-0042".to_owned());
    decided.due_at = None;
    decided.updated_at = decided_at;
    decided.body = json!({"id": "C-1", "decision": "approved"});
    let follow_up = timer("T-expiry", "approval-expires", t0() + Duration::days(90));
    store
        .update_case(&decided, 1, &[event("approved", decided_at)], &[follow_up], &["hold-due", "unknown-kind"])
        .await?;

    ensure!(store.get_case("C-1").await? == Some(decided.clone()), "updated case read back differs");
    let kinds: Vec<String> = store.case_events("C-1").await?.into_iter().map(|event| event.kind).collect();
    ensure!(kinds == ["received", "approved"], "events: {kinds:?}");
    let timers = store.timers_for_case("C-1").await?;
    let by_label = |wanted: &str| timers.iter().find(|timer| label(timer) == wanted).cloned().context("timer missing");
    let hold = by_label("T-hold")?;
    ensure!(hold.cancelled && hold.done_at == Some(decided_at), "hold timer must be cancelled at the update time");
    let clock = by_label("T-clock")?;
    ensure!(clock.is_pending() && !clock.cancelled, "timers of other kinds stay pending");
    ensure!(by_label("T-expiry")?.is_pending(), "new timer created");

    // A cancelled timer is never claimed; the others are, when due.
    let later = t0() + Duration::days(365);
    let claimed = store.claim_due_timers(later, "node-a", later + Duration::minutes(5), 10).await?;
    ensure!(labels(&claimed) == ["T-clock", "T-expiry"], "claimed {:?}", labels(&claimed));

    match store.update_case(&case("C-404", "M-1", "approved", None, t0()), 1, &[], &[], &[]).await {
        Err(StoreError::NotFound { what: "case" }) => {}
        other => bail!("expected NotFound for a missing case, got {other:?}"),
    }
    Ok(())
}

async fn stale_update_is_a_conflict_and_writes_nothing(db: TestDb) -> TestResult {
    let store = db.open().await?;
    let created = case("C-1", "M-1", "pended", None, t0());
    store.insert_case(&created, &[event("received", t0())], &[]).await?;
    let mut first = created.clone();
    first.version = 2;
    first.status = "held".to_owned();
    store.update_case(&first, 1, &[event("held", t0())], &[], &[]).await?;

    let mut stale = created.clone();
    stale.version = 2;
    stale.status = "denied".to_owned();
    let result = store.update_case(&stale, 1, &[event("denied", t0())], &[timer("T-1", "x", t0())], &[]).await;
    match result {
        Err(StoreError::Conflict { case_id, expected: 1, actual: 2 }) if case_id == "C-1" => {}
        other => bail!("expected Conflict {{expected 1, actual 2}}, got {other:?}"),
    }
    ensure!(store.get_case("C-1").await? == Some(first), "the stale update must not change the case");
    ensure!(store.case_events("C-1").await?.len() == 2, "the stale update must append no event");
    ensure!(store.timers_for_case("C-1").await?.is_empty(), "the stale update must create no timer");
    Ok(())
}

async fn concurrent_updaters_exactly_one_wins(db: TestDb) -> TestResult {
    // Two instances (separate connection pools), as two reviewers deciding at once on two daemons.
    let (store_a, store_b) = (db.open().await?, db.open().await?);
    for round in 0..10 {
        let id = format!("C-{round}");
        store_a.insert_case(&case(&id, "M-1", "pended", None, t0()), &[event("received", t0())], &[]).await?;
        let barrier = Arc::new(Barrier::new(2));
        let mut handles = Vec::new();
        for (reviewer, store) in [("approve", store_a.clone()), ("deny", store_b.clone())] {
            let (barrier, id) = (barrier.clone(), id.clone());
            handles.push(tokio::spawn(async move {
                let mut decided = case(&id, "M-1", reviewer, None, t0());
                decided.version = 2;
                let decision = event(reviewer, t0() + Duration::minutes(1));
                barrier.wait().await;
                (reviewer, store.update_case(&decided, 1, &[decision], &[], &[]).await)
            }));
        }
        let mut winners = Vec::new();
        for handle in handles {
            match handle.await? {
                (reviewer, Ok(())) => winners.push(reviewer),
                (_, Err(StoreError::Conflict { expected: 1, actual: 2, .. })) => {}
                (_, Err(other)) => bail!("round {round}: unexpected error {other:?}"),
            }
        }
        ensure!(winners.len() == 1, "round {round}: exactly one updater must win, winners: {winners:?}");
        let stored = store_a.get_case(&id).await?.context("case vanished")?;
        ensure!(stored.version == 2 && stored.status == winners[0], "round {round}: the winner's write is stored");
        let kinds: Vec<String> = store_b.case_events(&id).await?.into_iter().map(|event| event.kind).collect();
        ensure!(kinds == ["received", winners[0]], "round {round}: only the winner's event, got {kinds:?}");
    }
    Ok(())
}

async fn events_are_append_only(db: TestDb) -> TestResult {
    let store = db.open().await?;
    let events = [event("received", t0()), event("pended", t0())];
    store.insert_case(&case("C-1", "M-1", "pended", None, t0()), &events, &[]).await?;

    for statement in [
        "UPDATE case_events SET kind = 'tampered' WHERE case_id = 'C-1'",
        "DELETE FROM case_events WHERE case_id = 'C-1'",
    ] {
        match db.execute_outside_store(statement).await {
            Err(refused) if refused.to_string().contains("append-only") => {}
            other => bail!("the append-only trigger must refuse `{statement}`, got {other:?}"),
        }
    }
    ensure!(store.case_events("C-1").await? == recorded("C-1", &events), "history must be unchanged");

    // Later writes continue the numbering of the case's history.
    let mut next = case("C-1", "M-1", "held", None, t0());
    next.version = 2;
    let held = event("held", t0() + Duration::hours(1));
    store.update_case(&next, 1, std::slice::from_ref(&held), &[], &[]).await?;
    let all = [events[0].clone(), events[1].clone(), held];
    ensure!(store.case_events("C-1").await? == recorded("C-1", &all), "seq continues at 3");
    Ok(())
}

// ---- timers ----

async fn timers_are_claimed_in_due_order_with_leases(db: TestDb) -> TestResult {
    let store = db.open().await?;
    let timers = [
        timer("T-b", "hold-due", t0() - Duration::minutes(1)),
        timer("T-a", "hold-due", t0() - Duration::minutes(1)),
        timer("T-first", "decision-due", t0() - Duration::hours(1)),
        timer("T-now", "decision-due", t0()),
        timer("T-future", "decision-due", t0() + Duration::microseconds(1)),
    ];
    store.insert_case(&case("C-1", "M-1", "pended", None, t0()), &[], &timers).await?;
    let lease_until = t0() + Duration::minutes(5);

    // Due order, then id (creation order) among timers due at the same instant.
    let claimed = store.claim_due_timers(t0(), "node-a", lease_until, 3).await?;
    ensure!(labels(&claimed) == ["T-first", "T-b", "T-a"], "due order with limit, got {:?}", labels(&claimed));
    for timer in &claimed {
        ensure!(timer.claimed_by.as_deref() == Some("node-a") && timer.claimed_until == Some(lease_until));
    }
    let rest = store.claim_due_timers(t0(), "node-b", lease_until, 10).await?;
    ensure!(
        labels(&rest) == ["T-now"],
        "leased timers are not claimed again, future ones not yet: {:?}",
        labels(&rest)
    );

    // Completion: once, then reported as already done; unknown timers are NotFound.
    let first_id = claimed[0].id;
    ensure!(store.complete_timer(first_id, t0()).await?, "first completion");
    ensure!(!store.complete_timer(first_id, t0()).await?, "second completion reports already done");
    match store.complete_timer(first_id + 1_000_000, t0()).await {
        Err(StoreError::NotFound { what: "timer" }) => {}
        other => bail!("expected NotFound for an unknown timer, got {other:?}"),
    }

    // A lease holds up to and including its end; after it, another instance may take the timers over.
    let next_lease = lease_until + Duration::minutes(5);
    let at_lease_end = store.claim_due_timers(lease_until, "node-c", next_lease, 10).await?;
    ensure!(labels(&at_lease_end) == ["T-future"], "leases still running at their end: {:?}", labels(&at_lease_end));
    let after_lease = lease_until + Duration::microseconds(1);
    let reclaimed = store.claim_due_timers(after_lease, "node-c", next_lease, 10).await?;
    ensure!(labels(&reclaimed) == ["T-b", "T-a", "T-now"], "ended leases reclaimed: {:?}", labels(&reclaimed));
    ensure!(reclaimed.iter().all(|timer| timer.claimed_by.as_deref() == Some("node-c")));
    let history = store.timers_for_case("C-1").await?;
    let first = history.iter().find(|timer| timer.id == first_id).context("T-first")?;
    ensure!(first.done_at == Some(t0()) && !first.cancelled, "completed timer keeps its completion time");
    Ok(())
}

async fn two_claimers_never_get_the_same_timer(db: TestDb) -> TestResult {
    let (store_a, store_b) = (db.open().await?, db.open().await?);
    let timers: Vec<NewTimer> =
        (0..60).map(|n| timer(&format!("T-{n:03}"), "hold-due", t0() - Duration::seconds(n))).collect();
    store_a.insert_case(&case("C-1", "M-1", "pended", None, t0()), &[], &timers).await?;

    let barrier = Arc::new(Barrier::new(2));
    let mut handles = Vec::new();
    for (owner, store) in [("node-a", store_a.clone()), ("node-b", store_b.clone())] {
        let barrier = barrier.clone();
        handles.push(tokio::spawn(async move {
            barrier.wait().await;
            let mut mine = Vec::new();
            loop {
                let batch = store.claim_due_timers(t0(), owner, t0() + Duration::minutes(5), 4).await?;
                if batch.is_empty() {
                    return Ok::<_, StoreError>(mine);
                }
                mine.extend(batch.into_iter().map(|timer| timer.id));
                tokio::task::yield_now().await;
            }
        }));
    }
    let mut everyone = Vec::new();
    for handle in handles {
        everyone.extend(handle.await??);
    }
    let distinct: BTreeSet<i64> = everyone.iter().copied().collect();
    ensure!(
        distinct.len() == everyone.len(),
        "a timer was claimed twice: {} claims, {} timers",
        everyone.len(),
        distinct.len()
    );
    ensure!(distinct.len() == timers.len(), "every due timer claimed once, got {}", distinct.len());
    Ok(())
}

async fn timers_survive_a_restart(db: TestDb) -> TestResult {
    let store = db.open().await?;
    let fire_at = t0() + Duration::days(2);
    store.insert_case(&case("C-1", "M-1", "held", None, t0()), &[], &[timer("T-hold", "hold-due", fire_at)]).await?;
    let lease_until = fire_at + Duration::minutes(5);
    ensure!(store.claim_due_timers(t0(), "node-a", lease_until, 10).await?.is_empty(), "not due yet");
    store.close().await;

    let restarted = db.open().await?;
    let claimed = restarted.claim_due_timers(fire_at, "node-a", lease_until, 10).await?;
    ensure!(labels(&claimed) == ["T-hold"] && claimed[0].kind == "hold-due" && claimed[0].fire_at == fire_at);
    // A claim taken before a crash is honoured until its lease ends, then taken over.
    restarted.close().await;
    let again = db.open().await?;
    let later = lease_until + Duration::minutes(5);
    ensure!(again.claim_due_timers(fire_at, "node-b", later, 10).await?.is_empty(), "lease held");
    let taken = again.claim_due_timers(lease_until + Duration::seconds(1), "node-b", later, 10).await?;
    ensure!(taken.len() == 1 && taken[0].claimed_by.as_deref() == Some("node-b"), "expired lease taken over");
    Ok(())
}

// ---- sequences and members ----

async fn sequences_are_unique_under_concurrency(db: TestDb) -> TestResult {
    let (store_a, store_b) = (db.open().await?, db.open().await?);
    let mut handles = Vec::new();
    for worker in 0..4 {
        let store = if worker % 2 == 0 { store_a.clone() } else { store_b.clone() };
        handles.push(tokio::spawn(async move {
            let mut values = Vec::new();
            for _ in 0..25 {
                values.push(store.next_value("authorization").await?);
            }
            Ok::<_, StoreError>(values)
        }));
    }
    let mut values = Vec::new();
    for handle in handles {
        values.extend(handle.await??);
    }
    let distinct: BTreeSet<i64> = values.iter().copied().collect();
    ensure!(distinct.len() == 100, "100 distinct values expected, got {}", distinct.len());
    ensure!(distinct == (1..=100).collect(), "values are 1..=100 without gaps");
    ensure!(store_a.next_value("other").await? == 1, "sequences are independent");
    ensure!(store_b.next_value("authorization").await? == 101);
    Ok(())
}

async fn members_upsert_is_idempotent(db: TestDb) -> TestResult {
    let store = db.open().await?;
    let original = member("M-1");
    store.upsert_member(&original).await?;
    store.upsert_member(&original).await?;
    ensure!(store.get_member("M-1").await? == Some(original.clone()), "same member after two upserts");

    let mut changed = original.clone();
    changed.plan = "aetna-medicare".to_owned();
    changed.line_of_business = "dual".to_owned();
    changed.coverage_end = NaiveDate::from_ymd_opt(2026, 12, 31);
    store.upsert_member(&changed).await?;
    ensure!(store.get_member("M-1").await? == Some(changed), "the upsert replaces the roster row");
    ensure!(store.get_member("M-404").await?.is_none());

    // A roster import: many members in one transaction, re-importable.
    let roster: Vec<MemberRecord> = (0..200).map(|n| member(&format!("R-{n:04}"))).collect();
    store.upsert_members(&roster).await?;
    store.upsert_members(&roster).await?;
    ensure!(store.get_member("R-0199").await? == Some(roster[199].clone()));
    ensure!(store.get_member("M-1").await?.is_some_and(|kept| kept.plan == "aetna-medicare"), "others untouched");
    Ok(())
}

async fn reopened_store_sees_everything(db: TestDb) -> TestResult {
    let store = db.open().await?;
    let mut stored = case("C-1", "M-1", "pended", Some(t0() + Duration::days(1)), t0());
    stored.authorization_number = Some("A-7".to_owned());
    let events = [event("received", t0())];
    store.insert_case(&stored, &events, &[timer("T-1", "decision-due", t0())]).await?;
    store.upsert_member(&member("M-1")).await?;
    ensure!(store.next_value("authorization").await? == 1);
    store.close().await;

    // Reopening runs the migrations again: they must be a no-op on an up-to-date database.
    let reopened = db.open().await?;
    ensure!(reopened.get_case("C-1").await? == Some(stored.clone()));
    ensure!(reopened.case_by_authorization_number("A-7").await? == Some(stored.clone()));
    ensure!(ids(&reopened.review_queue(&["pended"], 10).await?) == ["C-1"]);
    ensure!(reopened.case_events("C-1").await? == recorded("C-1", &events));
    ensure!(reopened.timers_for_case("C-1").await?.len() == 1);
    ensure!(reopened.get_member("M-1").await? == Some(member("M-1")));
    ensure!(reopened.next_value("authorization").await? == 2, "sequences continue after a restart");
    Ok(())
}

async fn instances_starting_together_migrate_once(db: TestDb) -> TestResult {
    // Several daemon instances starting at once on a fresh database: one applies the schema, the
    // others wait for it and find it applied.
    let mut handles = Vec::new();
    for _ in 0..4 {
        let db = db.clone();
        handles.push(tokio::spawn(async move {
            let store = db.open().await.map_err(|error| format!("{error:#}"))?;
            store.next_value("started").await.map_err(|error| error.to_string())
        }));
    }
    let mut values = BTreeSet::new();
    for handle in handles {
        values.insert(handle.await?.map_err(anyhow::Error::msg)?);
    }
    ensure!(values == (1..=4).collect(), "every instance works on the one schema: {values:?}");
    Ok(())
}
