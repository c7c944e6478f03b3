//! Later answers and refusals of the batch path, through the real binary on SQLite and on
//! PostgreSQL (stores_support harness: PostgreSQL trials are skipped loudly without DATABASE_URL
//! and fail with UMGATE_REQUIRE_POSTGRES=1):
//! * a duplicate control number (same sender + ISA13, other bytes) is answered with a TA1 R 025,
//!   stored with the duplicate's log entry and sent again, byte for byte, when it comes again;
//!   pyx12 accepts it (skipped loudly without UMGATE_VALIDATORS_PYTHON unless
//!   UMGATE_REQUIRE_VALIDATORS=1);
//! * a request answered pended (A4), decided later with `umgate review decide`, gets a later 278
//!   response from `umgate notify` (and from `umgate process` after its batch): clean for our
//!   validator, read back by x12-types, HCR01 / certification number / dates as decided, equal to
//!   its golden file in fixed-time mode (tests/golden/notify; UMGATE_UPDATE_GOLDEN=1 to accept an
//!   intended change); a second drain writes nothing;
//! * a hold that expires is decided by `umgate timers run` and notified the same way;
//! * the queue's claims are leases: one holder at a time, bytes kept once, marked sent once, and a
//!   drain that stopped after keeping the bytes is finished by the next with the same bytes.
#![allow(clippy::unwrap_used)]

mod stores_support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use anyhow::{Context, ensure};
use chrono::{Duration, TimeZone, Utc};
use stores_support::{TestDb, TestResult};
use umgate::domain::{CaseRepository, EventKind};
use umgate::storage::Party;
use umgate::storage::notifications::status;
use x12_types::util::Parser;

/// When the requests come: Wednesday 2026-03-04 14:00.
const RECEIVED: &str = "2026-03-04T14:00";
/// When the reviewer decides and the notification is written: the next morning.
const DECIDED: &str = "2026-03-05T09:30";

const PENDED_MEDICARE: &str = "samples/x12/278-request-msk-injection-medicare.x12";
const PENDED_MEDICAID: &str = "samples/x12/278-request-msk-injection-medicaid.x12";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs the binary on the test's database at the fixed time `at` (none: the wall clock).
fn umgate(db: &TestDb, args: &[&str], at: Option<&str>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_umgate"));
    command.current_dir(root()).arg("--db").arg(db.url()).args(args).env_remove("UMGATE_FIXED_TIME");
    if let Some(at) = at {
        command.env("UMGATE_FIXED_TIME", at);
    }
    command.output().expect("the binary runs")
}

fn show(output: &Output) -> String {
    format!("stdout: {}\nstderr: {}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

fn json(output: &Output) -> anyhow::Result<serde_json::Value> {
    serde_json::from_slice(&output.stdout).with_context(|| show(output))
}

fn read_dir(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    if !dir.exists() {
        return BTreeMap::new();
    }
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| {
            let path = entry.unwrap().path();
            (path.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read(&path).unwrap())
        })
        .collect()
}

fn import_roster(db: &TestDb) -> TestResult {
    let output = umgate(db, &["roster", "import", "samples/roster.csv"], None);
    ensure!(output.status.code() == Some(0), "roster import failed:\n{}", show(&output));
    Ok(())
}

fn process(db: &TestDb, out: &Path, files: &[&str], at: &str) -> Output {
    let mut args = vec!["process", "--json", "--out", out.to_str().unwrap()];
    args.extend(files);
    umgate(db, &args, Some(at))
}

/// Our own validator accepts the file (exit 0: every group A or E).
fn our_validator_accepts(db: &TestDb, path: &Path) -> TestResult {
    let output = umgate(db, &["validate", path.to_str().unwrap()], None);
    ensure!(output.status.code() == Some(0), "our validator rejects {}:\n{}", path.display(), show(&output));
    Ok(())
}

fn segments(bytes: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(bytes).split('~').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect()
}

fn isa_field(bytes: &[u8], n: usize) -> String {
    let text = String::from_utf8_lossy(&bytes[..106]);
    text.split('*').nth(n).unwrap_or_default().trim().to_owned()
}

// ---------------------------------------------------------------------------------------------
// TA1 025

/// pyx12's verdict on a file, or `None` when pyx12 is not installed (loudly, and a failure under
/// UMGATE_REQUIRE_VALIDATORS=1).
fn pyx12_verdict(path: &Path) -> Option<serde_json::Value> {
    let required = std::env::var("UMGATE_REQUIRE_VALIDATORS").is_ok_and(|v| v == "1");
    let python = std::env::var_os("UMGATE_VALIDATORS_PYTHON").filter(|v| !v.is_empty());
    let Some(python) = python else {
        assert!(!required, "UMGATE_REQUIRE_VALIDATORS=1 but UMGATE_VALIDATORS_PYTHON is not set");
        let _ = std::io::Write::write_all(
            &mut std::io::stderr(),
            b"\n*** SKIPPED: the TA1 025 check by pyx12 (UMGATE_VALIDATORS_PYTHON not set) ***\n",
        );
        return None;
    };
    let driver = root().join("tests/validators/pyx12_check.py");
    let output = Command::new(python).arg(driver).arg(path).output().expect("the pyx12 driver runs");
    assert!(output.status.success(), "the pyx12 driver failed: {}", show(&output));
    Some(serde_json::from_slice(&output.stdout).expect("one JSON line"))
}

async fn a_duplicate_control_number_is_refused_with_ta1_025(db: TestDb) -> TestResult {
    import_roster(&db)?;
    let dir = tempfile::tempdir()?;
    let original = root().join("samples/x12/278-request-therapy-msmpt.x12");
    let bytes = std::fs::read(&original)?;
    let changed = String::from_utf8(bytes.clone())?.replacen("BHT*0007*13*", "BHT*0007*13*X", 1);
    let copy = dir.path().join("changed.x12");
    std::fs::write(&copy, &changed)?;
    let first = process(&db, &dir.path().join("a"), &[original.to_str().unwrap()], RECEIVED);
    ensure!(first.status.code() == Some(0), "{}", show(&first));

    let refused_dir = dir.path().join("b");
    let second = process(&db, &refused_dir, &[copy.to_str().unwrap()], DECIDED);
    ensure!(second.status.code() == Some(1), "{}", show(&second));
    let summary = json(&second)?;
    ensure!(summary["duplicate_control_numbers"] == 1 && summary["answers_written"] == 1, "{summary}");
    let written = read_dir(&refused_dir);
    let isa13 = isa_field(&bytes, 13);
    let (name, ta1) = written.iter().next().context("a TA1 written")?;
    ensure!(name.starts_with(&format!("changed.x12.{isa13}.ta1.")), "{name}");
    let expected = format!("TA1*{isa13}*{}*{}*R*025", isa_field(&bytes, 9), isa_field(&bytes, 10));
    ensure!(segments(ta1).contains(&expected), "{}", String::from_utf8_lossy(ta1));
    // Addressed back to the sender.
    ensure!(isa_field(ta1, 8) == isa_field(&bytes, 6) && isa_field(ta1, 6) == isa_field(&bytes, 8));
    our_validator_accepts(&db, &refused_dir.join(name))?;
    if let Some(verdict) = pyx12_verdict(&refused_dir.join(name)) {
        ensure!(verdict["ok"] == true, "pyx12: {verdict}");
    }

    // Stored with the duplicate's log entry.
    let store = db.open().await?;
    let sender = Party { qualifier: "ZZ".into(), id: isa_field(&bytes, 6) };
    let entries = store.interchanges_with_control_number(&sender, &isa13).await?;
    ensure!(entries.len() == 2 && entries[1].duplicate_of == Some(entries[0].id), "{entries:?}");
    let outputs = store.interchange_outputs(entries[1].id).await?;
    ensure!(outputs.len() == 1 && outputs[0].kind == "TA1" && &outputs[0].content == ta1, "{outputs:?}");
    store.close().await;

    // The same duplicate again: the same TA1, nothing stored twice.
    let again_dir = dir.path().join("c");
    let again = process(&db, &again_dir, &[copy.to_str().unwrap()], "2026-03-06T08:00");
    ensure!(again.status.code() == Some(1), "{}", show(&again));
    ensure!(read_dir(&again_dir) == written, "the repeat is answered with the stored TA1");
    let store = db.open().await?;
    ensure!(store.interchanges_with_control_number(&sender, &isa13).await?.len() == 2, "stored once");
    store.close().await;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Later 278 responses

/// Checks a notification 278: our validator, x12-types, and returns (event HCR01, HCR02).
fn check_notification(db: &TestDb, path: &Path) -> anyhow::Result<(String, String)> {
    our_validator_accepts(db, path)?;
    let text = std::fs::read_to_string(path)?;
    let (rest, transmission) = x12_types::v005010::Transmission::<x12_types::v005010::_278>::parse(&text)
        .map_err(|error| anyhow::anyhow!("x12-types cannot read {}: {error}", path.display()))?;
    ensure!(rest.trim().is_empty(), "x12-types stopped before the end: {rest:.80}");
    let sets: Vec<_> = transmission.functional_group.iter().flat_map(|group| &group.segments).collect();
    ensure!(sets.len() == 1, "one response set");
    let event =
        sets[0].loops.iter().find(|l| l.hl._03.to_string() == "EV").context("a patient event loop (HL03 EV)")?;
    let hcr = event.hcr.as_ref().context("HCR in the event")?;
    Ok((hcr._01.clone().unwrap_or_default(), hcr._02.clone().unwrap_or_default()))
}

fn check_golden(name: &str, bytes: &[u8]) -> TestResult {
    let path = root().join("tests/golden/notify").join(name);
    if std::env::var_os("UMGATE_UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap())?;
        std::fs::write(&path, bytes)?;
        return Ok(());
    }
    let golden = std::fs::read(&path).with_context(|| format!("{name}: no golden file (UMGATE_UPDATE_GOLDEN=1)"))?;
    ensure!(
        golden == bytes,
        "{name} differs from its golden file (UMGATE_UPDATE_GOLDEN=1 to accept):\n{}",
        String::from_utf8_lossy(bytes)
    );
    Ok(())
}

/// The one pended case of the queue.
fn queued_case(db: &TestDb) -> anyhow::Result<String> {
    let queue = umgate(db, &["review", "queue", "--json"], Some(RECEIVED));
    ensure!(queue.status.code() == Some(0), "{}", show(&queue));
    let lines: Vec<serde_json::Value> = String::from_utf8(queue.stdout.clone())?
        .lines()
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()
        .with_context(|| show(&queue))?;
    ensure!(lines.len() == 1 && lines[0]["status"] == "pended", "{}", show(&queue));
    Ok(lines[0]["id"].as_str().context("an id")?.to_owned())
}

async fn a_pended_case_decided_later_is_notified_once(db: TestDb) -> TestResult {
    import_roster(&db)?;
    let dir = tempfile::tempdir()?;
    let first = process(&db, &dir.path().join("a"), &[PENDED_MEDICARE], RECEIVED);
    ensure!(first.status.code() == Some(0), "{}", show(&first));
    let answers = read_dir(&dir.path().join("a"));
    let response = answers.iter().find(|(name, _)| name.contains(".278.")).context("a 278 response")?.1;
    ensure!(segments(response).iter().any(|s| s.starts_with("HCR*A4")), "answered pended first");
    let case_id = queued_case(&db)?;

    // Nothing is due before the decision.
    let outbox = dir.path().join("outbox");
    let early = umgate(&db, &["notify", "--json", "--out", outbox.to_str().unwrap()], Some(RECEIVED));
    ensure!(early.status.code() == Some(0) && json(&early)?["delivered"] == serde_json::json!([]), "{}", show(&early));

    // A denial without a rationale is refused (exit 1) and queues nothing.
    let refused =
        umgate(&db, &["review", "decide", &case_id, "--decision", "deny", "--reviewer", "dr-lee"], Some(DECIDED));
    ensure!(refused.status.code() == Some(1), "{}", show(&refused));
    let decided = umgate(
        &db,
        &["review", "decide", &case_id, "--decision", "approve", "--reviewer", "nurse-7", "--json"],
        Some(DECIDED),
    );
    ensure!(decided.status.code() == Some(0), "{}", show(&decided));
    let case = json(&decided)?["case"].clone();
    ensure!(case["status"] == "approved" && case["hcr01"] == "A1", "{case}");
    let certification = case["authorization_number"].as_str().context("a certification number")?.to_owned();

    let drained = umgate(&db, &["notify", "--json", "--out", outbox.to_str().unwrap()], Some(DECIDED));
    ensure!(drained.status.code() == Some(0), "{}", show(&drained));
    let summary = json(&drained)?;
    let delivered = summary["delivered"].as_array().context("delivered")?;
    ensure!(delivered.len() == 1 && delivered[0]["case_id"] == case_id.as_str(), "{summary}");
    let file = delivered[0]["file"].as_str().context("file")?.to_owned();
    let written = read_dir(&outbox);
    ensure!(written.keys().collect::<Vec<_>>() == [&file], "{written:?}");
    let bytes = &written[&file];

    let (hcr01, hcr02) = check_notification(&db, &outbox.join(&file))?;
    ensure!(hcr01 == "A1" && hcr02 == certification, "HCR {hcr01} {hcr02}, certification {certification}");
    let segments = segments(bytes);
    let request = segments_of_file(PENDED_MEDICARE)?;
    let trn = request.iter().find(|s| s.starts_with("TRN*1*")).context("the request's TRN")?;
    ensure!(segments.contains(&trn.replacen("TRN*1*", "TRN*2*", 1)), "the request's trace number is echoed");
    let (from, to) = (
        case["approved_from"].as_str().unwrap_or_default().replace('-', ""),
        case["approved_to"].as_str().unwrap_or_default().replace('-', ""),
    );
    // The certified period is the certification effective dates (007) and its last day the
    // expiration date (036); AAH echoes the requested event date (docs/decisions/0005).
    ensure!(segments.contains(&format!("DTP*007*RD8*{from}-{to}")), "the approved period {from}-{to}: {segments:?}");
    ensure!(segments.contains(&format!("DTP*036*D8*{to}")), "the certification expiration {to}: {segments:?}");
    ensure!(segments.contains(&"DTP*102*D8*20260305".to_owned()), "decided on 2026-03-05: {segments:?}");
    // Addressed back to the request's sender.
    let request_bytes = std::fs::read(root().join(PENDED_MEDICARE))?;
    ensure!(isa_field(bytes, 8) == isa_field(&request_bytes, 6), "ISA08 is the request's sender");
    check_golden("msk-injection-medicare-approved.x12", bytes)?;

    // The queue: one row, sent, holding what was written; the history says why.
    let store = db.open().await?;
    let rows = store.notifications_for_case(&case_id).await?;
    ensure!(rows.len() == 1 && rows[0].status == status::SENT, "{rows:?}");
    ensure!(rows[0].content.as_deref() == Some(bytes.as_slice()), "the bytes sent are kept");
    ensure!(rows[0].sender.as_ref().map(|p| p.id.as_str()) == Some(isa_field(&request_bytes, 6).as_str()));
    let history = CaseRepository::case_events(&store, &case_id).await?;
    ensure!(history.iter().filter(|e| e.kind == EventKind::NotificationDue).count() == 1, "{history:?}");
    store.close().await;

    // A second drain writes nothing new.
    let again = umgate(&db, &["notify", "--json", "--out", outbox.to_str().unwrap()], Some("2026-03-05T10:00"));
    ensure!(again.status.code() == Some(0), "{}", show(&again));
    ensure!(json(&again)?["delivered"] == serde_json::json!([]), "{}", show(&again));
    ensure!(read_dir(&outbox) == written, "nothing new written");

    // The pended request sent again is a resubmission: the same answers, no notification.
    let resent_dir = dir.path().join("resent");
    let resent = process(&db, &resent_dir, &[PENDED_MEDICARE], DECIDED);
    ensure!(resent.status.code() == Some(0), "{}", show(&resent));
    ensure!(read_dir(&resent_dir) == answers, "a resubmission is answered as the first time");
    Ok(())
}

fn segments_of_file(path: &str) -> anyhow::Result<Vec<String>> {
    Ok(segments(&std::fs::read(root().join(path))?))
}

async fn process_writes_the_notifications_due_after_its_batch(db: TestDb) -> TestResult {
    import_roster(&db)?;
    let dir = tempfile::tempdir()?;
    let first = process(&db, &dir.path().join("a"), &[PENDED_MEDICAID], RECEIVED);
    ensure!(first.status.code() == Some(0), "{}", show(&first));
    let case_id = queued_case(&db)?;
    let denied = umgate(
        &db,
        &[
            "review",
            "decide",
            &case_id,
            "--decision",
            "deny",
            "--reviewer",
            "dr-lee",
            "--rationale",
            "conservative therapy not tried",
        ],
        Some(DECIDED),
    );
    ensure!(denied.status.code() == Some(0), "{}", show(&denied));

    // The next batch (any file) delivers it after its own answers, numbered after them.
    let out = dir.path().join("b");
    let batch = process(&db, &out, &["samples/x12/270-active-pa-required.x12"], DECIDED);
    ensure!(batch.status.code() == Some(0), "{}", show(&batch));
    let summary = json(&batch)?;
    let delivered = summary["notifications"]["delivered"].as_array().context("notifications")?;
    ensure!(delivered.len() == 1 && delivered[0]["status"] == "denied", "{summary}");
    let file = delivered[0]["file"].as_str().context("file")?;
    let written = read_dir(&out);
    ensure!(written.len() as u64 == summary["answers_written"].as_u64().unwrap_or(0) + 1, "{written:?}");
    let (hcr01, hcr02) = check_notification(&db, &out.join(file))?;
    ensure!(hcr01 == "A3" && hcr02.is_empty(), "HCR {hcr01} {hcr02}");
    let mut isa13s: Vec<&[u8]> = written.values().map(|bytes| &bytes[90..99]).collect();
    isa13s.sort_unstable();
    isa13s.dedup();
    ensure!(isa13s.len() == written.len(), "the notification has an ISA13 of its own");
    check_golden("msk-injection-medicaid-denied.x12", &written[file])?;

    let again = process(&db, &dir.path().join("c"), &["samples/x12/270-active-pa-required.x12"], DECIDED);
    ensure!(json(&again)?["notifications"]["delivered"] == serde_json::json!([]), "{}", show(&again));
    Ok(())
}

async fn claims_are_leases_and_a_stopped_drain_is_finished_with_the_same_bytes(db: TestDb) -> TestResult {
    import_roster(&db)?;
    let dir = tempfile::tempdir()?;
    let first = process(&db, &dir.path().join("a"), &[PENDED_MEDICARE], RECEIVED);
    ensure!(first.status.code() == Some(0), "{}", show(&first));
    let case_id = queued_case(&db)?;
    let staff = ["review", "cancel", &case_id, "--reviewer", "nurse-7", "--reason", "duplicate of another request"];
    let cancelled = umgate(&db, &staff, Some(DECIDED));
    ensure!(cancelled.status.code() == Some(0), "{}", show(&cancelled));

    let now = Utc.with_ymd_and_hms(2026, 3, 5, 9, 30, 0).unwrap();
    let lease = now + Duration::minutes(5);
    let store = db.open().await?;
    let claimed = store.claim_notifications(now, "drain-a", lease, 10).await?;
    ensure!(claimed.len() == 1 && claimed[0].case_id == case_id, "{claimed:?}");
    let id = claimed[0].id;
    ensure!(store.claim_notifications(now, "drain-b", lease, 10).await?.is_empty(), "leased to drain-a");
    ensure!(!store.store_notification_content(id, "drain-b", "000000077", b"other", &[], now).await?, "not b's");
    let kept = b"ISA kept by drain-a".to_vec();
    ensure!(store.store_notification_content(id, "drain-a", "000000042", &kept, &[], now).await?);
    ensure!(!store.store_notification_content(id, "drain-a", "000000043", b"again", &[], now).await?, "kept once");
    ensure!(!store.mark_notification(id, "drain-b", status::SENT, now).await?, "only the holder marks");
    store.close().await;

    // drain-a stopped here. While its lease runs, a drain writes nothing; after it, the next one
    // finishes with the very bytes kept (same ISA13 in the file name), once.
    let outbox = dir.path().join("outbox");
    let during = umgate(&db, &["notify", "--json", "--out", outbox.to_str().unwrap()], Some("2026-03-05T09:32"));
    ensure!(json(&during)?["delivered"] == serde_json::json!([]), "{}", show(&during));
    let after = umgate(&db, &["notify", "--json", "--out", outbox.to_str().unwrap()], Some("2026-03-05T09:40"));
    let summary = json(&after)?;
    let delivered = summary["delivered"].as_array().context("delivered")?;
    ensure!(delivered.len() == 1 && delivered[0]["control_number"] == "000000042", "{summary}");
    let file = delivered[0]["file"].as_str().context("file")?;
    ensure!(read_dir(&outbox).get(file) == Some(&kept), "the kept bytes are what is delivered");

    let store = db.open().await?;
    let rows = store.notifications_for_case(&case_id).await?;
    ensure!(rows.len() == 1 && rows[0].status == status::SENT, "{rows:?}");
    ensure!(!store.mark_notification(id, "drain-a", status::SENT, now).await?, "sent once");
    ensure!(store.claim_notifications(now + Duration::days(1), "drain-c", lease, 10).await?.is_empty());
    store.close().await;
    Ok(())
}

async fn an_expired_hold_is_decided_by_timers_run_and_notified(db: TestDb) -> TestResult {
    import_roster(&db)?;
    let dir = tempfile::tempdir()?;
    let first = process(&db, &dir.path().join("a"), &[PENDED_MEDICARE], RECEIVED);
    ensure!(first.status.code() == Some(0), "{}", show(&first));
    let case_id = queued_case(&db)?;
    let hold = [
        "review",
        "hold",
        &case_id,
        "--reviewer",
        "dr-lee",
        "--needed",
        "MRI report",
        "--due",
        "2026-03-06T12:00",
        "--rationale",
        "no imaging received",
    ];
    let held = umgate(&db, &hold, Some(DECIDED));
    ensure!(held.status.code() == Some(0), "{}", show(&held));
    let timers = |at: &str| -> anyhow::Result<serde_json::Value> {
        let output = umgate(&db, &["timers", "run", "--json"], Some(at));
        ensure!(output.status.code() == Some(0), "{}", show(&output));
        json(&output)
    };
    ensure!(timers("2026-03-06T11:59")?["applied"] == 0, "not yet due");
    let outbox = dir.path().join("outbox");
    let early = umgate(&db, &["notify", "--json", "--out", outbox.to_str().unwrap()], Some("2026-03-06T11:59"));
    ensure!(json(&early)?["delivered"] == serde_json::json!([]), "a hold owes nothing yet: {}", show(&early));
    ensure!(timers("2026-03-06T12:05")?["applied"] == 1, "the hold expired");
    let drained = umgate(&db, &["notify", "--json", "--out", outbox.to_str().unwrap()], Some("2026-03-06T12:10"));
    let summary = json(&drained)?;
    let delivered = summary["delivered"].as_array().context("delivered")?;
    ensure!(delivered.len() == 1 && delivered[0]["status"] == "denied", "{summary}");
    let (hcr01, _) = check_notification(&db, &outbox.join(delivered[0]["file"].as_str().context("file")?))?;
    ensure!(hcr01 == "A3", "HCR01 {hcr01}");
    Ok(())
}

fn main() {
    let args = libtest_mimic::Arguments::from_args();
    let tests = store_tests![
        a_duplicate_control_number_is_refused_with_ta1_025,
        a_pended_case_decided_later_is_notified_once,
        process_writes_the_notifications_due_after_its_batch,
        claims_are_leases_and_a_stopped_drain_is_finished_with_the_same_bytes,
        an_expired_hold_is_decided_by_timers_run_and_notified,
    ];
    libtest_mimic::run(&args, stores_support::trials(tests)).exit();
}
