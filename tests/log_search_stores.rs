//! The transaction log's search (issue 6 scope 6) on both stores: every filter, keyset pages that
//! are complete and stable while the log grows, answers linked to their inbound interchange and
//! cases, the set summary and its backfill, the queue depths the daemon samples.
//!
//! Run: `cargo test --test log_search_stores` (PostgreSQL trials skipped loudly without
//! `DATABASE_URL`).
#![allow(clippy::unwrap_used)]

mod stores_support;

use anyhow::ensure;
use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::json;
use stores_support::{TestDb, TestResult};
use umgate::pipeline::log_index;
use umgate::storage::log_search::{
    InterchangeContents, LogCursor, LogQuery, OutputQuery, PartyFilter, SetCount, parse_since, parse_until,
};
use umgate::storage::record::{Entry, Recording};
use umgate::storage::{CaseRecord, NewInterchange, NewOutput, NewTimer, Party, Store};

fn main() {
    let args = libtest_mimic::Arguments::from_args();
    let tests = store_tests![
        every_filter_finds_exactly_its_interchanges,
        pages_are_complete_ordered_and_stable_while_the_log_grows,
        answers_are_searchable_and_linked_to_their_interchange_and_cases,
        unsummarized_interchanges_are_backfilled_from_their_bytes,
        a_summary_given_at_insert_is_searchable_at_once,
        queue_depths_count_what_waits,
    ];
    libtest_mimic::run(&args, stores_support::trials(tests)).exit();
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 9, 0, 0).unwrap() + Duration::microseconds(250_000)
}

fn party(qualifier: &str, id: &str) -> Party {
    Party { qualifier: qualifier.to_owned(), id: id.to_owned() }
}

fn isa(sender: &str, control: &str) -> String {
    format!("ISA*00*          *00*          *ZZ*{sender:<15}*ZZ*UMGATE         *261120*0900*^*00501*{control}*0*P*:~")
}

/// An interchange of `sets` transaction sets with identifier `st01` in one group.
fn x12(sender: &str, control: &str, st01: &str, sets: usize) -> Vec<u8> {
    let mut text = isa(sender, control);
    text.push_str("GS*HI*S*R*20261120*0900*1*X*005010X217~");
    for n in 1..=sets {
        text.push_str(&format!("ST*{st01}*{n:04}~SE*2*{n:04}~"));
    }
    text.push_str(&format!("GE*{sets}*1~IEA*1*{control}~"));
    text.into_bytes()
}

fn inbound(
    sender: &Party,
    control: &str,
    received_at: DateTime<Utc>,
    status: &str,
    content: Vec<u8>,
) -> NewInterchange {
    NewInterchange {
        sender: Some(sender.clone()),
        receiver: Some(party("ZZ", "UMGATE")),
        control_number: Some(control.to_owned()),
        received_at,
        content_sha256: format!("{:064x}", content.len()),
        file_name: "batch.x12".to_owned(),
        byte_offset: 0,
        status: status.to_owned(),
        duplicate_of: None,
        content,
        contents: None,
    }
}

/// Logs an interchange and its summary, as the pipeline does; returns its id.
async fn log(store: &Store, new: &NewInterchange) -> anyhow::Result<i64> {
    let id = store.insert_interchange(new).await?;
    log_index::summarize_interchange(store, id, &new.content).await?;
    Ok(id)
}

async fn ids(store: &Store, query: LogQuery) -> anyhow::Result<Vec<i64>> {
    let page = store.search_interchanges(&LogQuery { limit: 1000, ..query }).await?;
    Ok(page.items.iter().map(|item| item.id).collect())
}

fn case(id: &str, status: &str) -> CaseRecord {
    CaseRecord {
        id: id.to_owned(),
        version: 1,
        status: status.to_owned(),
        plan: "aetna-better-health-il".to_owned(),
        line_of_business: "medicaid".to_owned(),
        program: Some("msk".to_owned()),
        member_id: "M-LOG-1".to_owned(),
        authorization_number: None,
        due_at: Some(t0() + Duration::days(3)),
        created_at: t0(),
        updated_at: t0(),
        body: json!({"id": id, "note": "synthetic"}),
    }
}

async fn every_filter_finds_exactly_its_interchanges(db: TestDb) -> TestResult {
    let store = db.open().await?;
    let alpha = party("ZZ", "ALPHA");
    let beta = party("ZZ", "BETA");
    let day = Duration::days(1);
    let a1 = log(&store, &inbound(&alpha, "000000001", t0(), "answered", x12("ALPHA", "000000001", "278", 2))).await?;
    let a2 =
        log(&store, &inbound(&alpha, "000000002", t0() + day, "received", x12("ALPHA", "000000002", "270", 1))).await?;
    let b1 = log(&store, &inbound(&beta, "000000001", t0() + day * 2, "answered", x12("BETA", "000000001", "278", 1)))
        .await?;
    let mut other_qualifier = inbound(&party("01", "ALPHA"), "000000009", t0() + day * 3, "answered", b"junk".to_vec());
    other_qualifier.receiver = Some(party("ZZ", "OTHERPAYER"));
    let q1 = log(&store, &other_qualifier).await?;

    ensure!(ids(&store, LogQuery::default()).await? == vec![q1, b1, a2, a1], "newest first");
    let sender = |text: &str| Some(text.parse::<PartyFilter>().unwrap());
    ensure!(ids(&store, LogQuery { sender: sender("ZZ:ALPHA"), ..LogQuery::default() }).await? == vec![a2, a1]);
    ensure!(ids(&store, LogQuery { sender: sender("ALPHA"), ..LogQuery::default() }).await? == vec![q1, a2, a1]);
    ensure!(ids(&store, LogQuery { receiver: sender("ZZ:OTHERPAYER"), ..LogQuery::default() }).await? == vec![q1]);
    let control = Some("000000001".to_owned());
    ensure!(ids(&store, LogQuery { control_number: control.clone(), ..LogQuery::default() }).await? == vec![b1, a1]);
    ensure!(
        ids(&store, LogQuery { control_number: control, sender: sender("ZZ:BETA"), ..LogQuery::default() }).await?
            == vec![b1]
    );
    ensure!(ids(&store, LogQuery { status: Some("received".into()), ..LogQuery::default() }).await? == vec![a2]);
    ensure!(ids(&store, LogQuery { set_id: Some("278".into()), ..LogQuery::default() }).await? == vec![b1, a1]);
    ensure!(ids(&store, LogQuery { set_id: Some("270".into()), ..LogQuery::default() }).await? == vec![a2]);
    ensure!(ids(&store, LogQuery { set_id: Some("999".into()), ..LogQuery::default() }).await?.is_empty());
    let sender_and_type = LogQuery { sender: sender("ALPHA"), set_id: Some("278".into()), ..LogQuery::default() };
    ensure!(ids(&store, sender_and_type).await? == vec![a1]);
    let type_and_status =
        LogQuery { set_id: Some("278".into()), status: Some("answered".into()), ..LogQuery::default() };
    ensure!(ids(&store, type_and_status).await? == vec![b1, a1]);
    let type_since = LogQuery { set_id: Some("278".into()), since: Some(t0() + day), ..LogQuery::default() };
    ensure!(ids(&store, type_since).await? == vec![b1]);
    // Dates: a whole day by --since/--until dates, the end excluded for a time.
    let (since, until) = (parse_since("2026-11-21").unwrap(), parse_until("2026-11-22").unwrap());
    let window = LogQuery { since: Some(since), until: Some(until), ..LogQuery::default() };
    ensure!(ids(&store, window).await? == vec![b1, a2]);
    ensure!(ids(&store, LogQuery { until: Some(t0() + day), ..LogQuery::default() }).await? == vec![a1]);

    let page = store.search_interchanges(&LogQuery { sender: sender("ZZ:ALPHA"), ..LogQuery::default() }).await?;
    let first = &page.items[1];
    ensure!(first.id == a1 && first.received_at == t0(), "{first:?}");
    ensure!(first.sender == Some(alpha.clone()) && first.control_number.as_deref() == Some("000000001"));
    ensure!(first.size == x12("ALPHA", "000000001", "278", 2).len() as i64, "size {}", first.size);
    let expected = InterchangeContents { groups: 1, sets: vec![SetCount { set_id: "278".into(), count: 2 }] };
    ensure!(first.contents.as_ref() == Some(&expected), "{:?}", first.contents);
    let unreadable = store.interchange_summary(q1).await?.unwrap();
    ensure!(unreadable.contents == Some(InterchangeContents::default()), "{:?}", unreadable.contents);
    ensure!(store.interchange_summary(q1 + 100).await?.is_none());
    Ok(())
}

async fn pages_are_complete_ordered_and_stable_while_the_log_grows(db: TestDb) -> TestResult {
    let store = db.open().await?;
    let sender = party("ZZ", "PAGER");
    let mut logged = Vec::new();
    for n in 0..23 {
        // Three interchanges per instant: the id orders those received together.
        let at = t0() + Duration::seconds(n / 3);
        let control = format!("{:09}", n + 1);
        logged.push(log(&store, &inbound(&sender, &control, at, "answered", x12("PAGER", &control, "278", 1))).await?);
    }
    let mut seen = Vec::new();
    let mut query = LogQuery { limit: 5, ..LogQuery::default() };
    let mut pages = 0;
    loop {
        let page = store.search_interchanges(&query).await?;
        ensure!(page.items.len() <= 5);
        seen.extend(page.items.iter().map(|item| item.id));
        pages += 1;
        if pages == 2 {
            // Newer arrivals do not shift the pages being read.
            let control = "000000999";
            log(
                &store,
                &inbound(&sender, control, t0() + Duration::days(1), "answered", x12("PAGER", control, "278", 1)),
            )
            .await?;
        }
        let Some(next) = page.next else { break };
        // The cursor survives its text form (CLI and HTTP hand it out as text).
        query.after = Some(LogCursor::decode(&next.encode()).unwrap());
    }
    logged.reverse();
    ensure!(seen == logged, "pages: {seen:?}\nexpected: {logged:?}");
    ensure!(pages == 5, "23 rows in pages of 5: {pages} pages");
    // A search by type alone reads another index: the same order, the same pages.
    let mut by_type = Vec::new();
    let mut query = LogQuery {
        set_id: Some("278".into()),
        until: Some(t0() + Duration::hours(1)),
        limit: 4,
        ..LogQuery::default()
    };
    loop {
        let page = store.search_interchanges(&query).await?;
        by_type.extend(page.items.iter().map(|item| item.id));
        let Some(next) = page.next else { break };
        query.after = Some(next);
    }
    ensure!(by_type == logged, "by type: {by_type:?}\nexpected: {logged:?}");
    // A full last page says there is no more.
    let exact = store.search_interchanges(&LogQuery { limit: 24, ..LogQuery::default() }).await?;
    ensure!(exact.items.len() == 24 && exact.next.is_none());
    Ok(())
}

async fn answers_are_searchable_and_linked_to_their_interchange_and_cases(db: TestDb) -> TestResult {
    let store = db.open().await?;
    let sender = party("ZZ", "LINKER");
    let first =
        log(&store, &inbound(&sender, "000000001", t0(), "received", x12("LINKER", "000000001", "278", 2))).await?;
    let second = log(
        &store,
        &inbound(&party("ZZ", "OTHER"), "000000002", t0(), "received", x12("OTHER", "000000002", "270", 1)),
    )
    .await?;
    store.insert_case(&case("C-LOG-1", "pended"), &[], &[]).await?;
    store.insert_case(&case("C-LOG-2", "approved"), &[], &[]).await?;
    let output = |kind: &str, control: &str| NewOutput {
        kind: kind.to_owned(),
        control_number: control.to_owned(),
        content: format!("{kind} answer {control}\r\n~").into_bytes(),
    };
    let cases = ["C-LOG-1".to_owned(), "C-LOG-2".to_owned()];
    fn recording(id: i64, case_ids: &[String], at: DateTime<Utc>) -> Recording<'_> {
        Recording {
            entry: Entry::Logged { id, from_status: "received" },
            to_status: "answered",
            new_cases: &[],
            case_ids,
            advances: &[],
            at,
        }
    }
    store
        .record_answers(&recording(first, &cases, t0()), &[output("999", "100000001"), output("278", "100000002")])
        .await?;
    store
        .record_answers(
            &recording(second, &[], t0() + Duration::hours(1)),
            &[output("999", "100000003"), output("271", "100000004")],
        )
        .await?;

    let all = store.search_outputs(&OutputQuery::default()).await?;
    let keys: Vec<(i64, i64)> = all.items.iter().map(|o| (o.interchange_id, o.seq)).collect();
    ensure!(keys == vec![(second, 2), (second, 1), (first, 2), (first, 1)], "{keys:?}");
    let acks = store.search_outputs(&OutputQuery { kind: Some("999".into()), ..OutputQuery::default() }).await?;
    ensure!(acks.items.iter().map(|o| o.interchange_id).collect::<Vec<_>>() == vec![second, first]);
    let by_number = store
        .search_outputs(&OutputQuery { control_number: Some("100000002".into()), ..OutputQuery::default() })
        .await?;
    ensure!(by_number.items.len() == 1);
    let found = &by_number.items[0];
    ensure!(found.interchange_id == first && found.kind == "278" && found.partner == Some(sender.clone()));
    ensure!(found.inbound_control_number.as_deref() == Some("000000001") && found.created_at == t0());
    let partner = Some("ZZ:LINKER".parse::<PartyFilter>().unwrap());
    ensure!(store.search_outputs(&OutputQuery { partner, ..OutputQuery::default() }).await?.items.len() == 2);
    let later = OutputQuery { since: Some(t0() + Duration::minutes(1)), ..OutputQuery::default() };
    ensure!(store.search_outputs(&later).await?.items.iter().all(|o| o.interchange_id == second));
    let one = OutputQuery { interchange_id: Some(first), limit: 1, ..OutputQuery::default() };
    let page = store.search_outputs(&one).await?;
    ensure!(page.items.len() == 1 && page.items[0].seq == 2);
    let rest = store.search_outputs(&OutputQuery { after: page.next, ..one }).await?;
    ensure!(rest.items.len() == 1 && rest.items[0].seq == 1 && rest.next.is_none());

    let raw = store.interchange_output(first, 2).await?.unwrap();
    ensure!(raw.content == output("278", "100000002").content && raw.kind == "278");
    ensure!(store.interchange_output(first, 3).await?.is_none());
    let linked = store.interchange_cases(first).await?;
    let linked: Vec<(&str, &str)> = linked.iter().map(|c| (c.case_id.as_str(), c.status.as_str())).collect();
    ensure!(linked == vec![("C-LOG-1", "pended"), ("C-LOG-2", "approved")], "{linked:?}");
    ensure!(store.interchange_cases(second).await?.is_empty());

    let mut duplicate =
        inbound(&sender, "000000001", t0() + Duration::hours(2), "duplicate-control-number", b"x".to_vec());
    duplicate.duplicate_of = Some(first);
    let copy = store.insert_interchange(&duplicate).await?;
    ensure!(store.duplicates_of(first).await? == vec![copy]);
    Ok(())
}

async fn unsummarized_interchanges_are_backfilled_from_their_bytes(db: TestDb) -> TestResult {
    let store = db.open().await?;
    let sender = party("ZZ", "OLDLOG");
    let mut logged = Vec::new();
    for n in 1..=5 {
        let control = format!("{n:09}");
        let st01 = if n % 2 == 0 { "270" } else { "278" };
        // Logged as before migration 0007: no summary.
        logged.push(
            store
                .insert_interchange(&inbound(&sender, &control, t0(), "answered", x12("OLDLOG", &control, st01, n)))
                .await?,
        );
    }
    let unsummarized = store.search_interchanges(&LogQuery::default()).await?;
    ensure!(unsummarized.items.iter().all(|item| item.contents.is_none()));
    ensure!(ids(&store, LogQuery { set_id: Some("278".into()), ..LogQuery::default() }).await?.is_empty());
    // Bounded: two now, the rest later.
    ensure!(log_index::summarize_pending(&store, 1, 2).await? == 2);
    ensure!(store.interchanges_to_summarize(10).await?.len() == 3);
    ensure!(log_index::summarize_pending(&store, 2, 100).await? == 3);
    ensure!(log_index::summarize_pending(&store, 2, 100).await? == 0);
    let found = ids(&store, LogQuery { set_id: Some("278".into()), ..LogQuery::default() }).await?;
    ensure!(found == vec![logged[4], logged[2], logged[0]], "{found:?}");
    let fifth = store.interchange_summary(logged[4]).await?.unwrap().contents.unwrap();
    ensure!(fifth.sets == vec![SetCount { set_id: "278".into(), count: 5 }], "{fifth:?}");
    Ok(())
}

async fn a_summary_given_at_insert_is_searchable_at_once(db: TestDb) -> TestResult {
    let store = db.open().await?;
    let sender = party("ZZ", "NEWLOG");
    let bytes = x12("NEWLOG", "000000007", "278", 3);
    let new = NewInterchange {
        contents: Some(log_index::contents_of(&bytes)),
        ..inbound(&sender, "000000007", t0(), "received", bytes)
    };
    let id = store.insert_interchange(&new).await?;
    ensure!(store.interchanges_to_summarize(10).await?.is_empty());
    ensure!(ids(&store, LogQuery { set_id: Some("278".into()), ..LogQuery::default() }).await? == vec![id]);
    let contents = store.interchange_summary(id).await?.unwrap().contents.unwrap();
    ensure!(contents.groups == 1 && contents.sets == vec![SetCount { set_id: "278".into(), count: 3 }], "{contents:?}");
    Ok(())
}

async fn queue_depths_count_what_waits(db: TestDb) -> TestResult {
    let store = db.open().await?;
    let empty = store.queue_depths(&["pended"], "received", t0()).await?;
    ensure!(empty.cases_by_status == vec![("pended".to_owned(), 0)] && empty.timers_due == 0, "{empty:?}");
    store.insert_case(&case("C-Q-1", "pended"), &[], &[]).await?;
    let timers = [
        NewTimer { kind: "hold_expiry".into(), fire_at: t0() - Duration::hours(1), payload: json!({}) },
        NewTimer { kind: "hold_expiry".into(), fire_at: t0() + Duration::hours(1), payload: json!({}) },
    ];
    store.insert_case(&case("C-Q-2", "pended"), &[], &timers).await?;
    store.insert_case(&case("C-Q-3", "approved"), &[], &[]).await?;
    log(&store, &inbound(&party("ZZ", "Q"), "000000001", t0(), "received", x12("Q", "000000001", "278", 1))).await?;
    let depths = store.queue_depths(&["pended", "in_progress"], "received", t0()).await?;
    ensure!(depths.cases_by_status == vec![("pended".to_owned(), 2), ("in_progress".to_owned(), 0)], "{depths:?}");
    ensure!(depths.timers_due == 1 && depths.interchanges_pending == 1 && depths.notifications_pending == 0);
    Ok(())
}
