//! `umgate process` through the real binary, on SQLite and on PostgreSQL (stores_support harness:
//! PostgreSQL trials are skipped loudly without DATABASE_URL, and fail with
//! UMGATE_REQUIRE_POSTGRES=1): answers written and clean for our own validator, a second run that
//! answers byte for byte the same and creates no case, bad interchanges acknowledged and kept
//! verbatim, duplicate control numbers refused, control numbers never reused across runs.
#![allow(clippy::unwrap_used)]

mod stores_support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use anyhow::{Context, ensure};
use stores_support::{TestDb, TestResult};
use umgate::storage::Party;

/// The fixed moment of the golden mode: Wednesday 2026-03-04 14:00.
const FIXED_TIME: &str = "2026-03-04T14:00";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn umgate(db: &TestDb, args: &[&str], fixed: bool) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_umgate"));
    command.current_dir(root()).arg("--db").arg(db.url()).args(args).env_remove("UMGATE_FIXED_TIME");
    if fixed {
        command.env("UMGATE_FIXED_TIME", FIXED_TIME);
    }
    command.output().expect("the binary runs")
}

fn show(output: &Output) -> String {
    format!("stdout: {}\nstderr: {}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

fn summary(output: &Output) -> anyhow::Result<serde_json::Value> {
    serde_json::from_slice(&output.stdout).with_context(|| show(output))
}

fn sample_files() -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(root().join("samples/x12"))
        .unwrap()
        .map(|entry| entry.unwrap().path().display().to_string())
        .filter(|path| path.ends_with(".x12"))
        .collect();
    files.sort();
    files
}

/// Every file of a directory, by name.
fn read_dir(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| {
            let path = entry.unwrap().path();
            (path.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read(&path).unwrap())
        })
        .collect()
}

/// Runs `umgate process --json --out DIR FILES...`.
fn process(db: &TestDb, out: &Path, files: &[String], fixed: bool) -> Output {
    let mut args = vec!["process", "--json", "--out", out.to_str().unwrap()];
    args.extend(files.iter().map(String::as_str));
    umgate(db, &args, fixed)
}

/// Our own validator accepts every answer written (exit 0: every group A or E).
fn answers_validate(db: &TestDb, dir: &Path) -> TestResult {
    let files: Vec<String> = read_dir(dir).keys().map(|name| dir.join(name).display().to_string()).collect();
    ensure!(!files.is_empty(), "no answers in {}", dir.display());
    let mut args = vec!["validate"];
    args.extend(files.iter().map(String::as_str));
    let output = umgate(db, &args, false);
    ensure!(output.status.code() == Some(0), "answers rejected by our validator:\n{}", show(&output));
    Ok(())
}

async fn case_count(db: &TestDb, members: &[&str]) -> anyhow::Result<usize> {
    let store = db.open().await?;
    let mut count = 0;
    for member in members {
        count += store.cases_by_member(member).await?.len();
    }
    store.close().await;
    Ok(count)
}

fn import_roster(db: &TestDb, roster: &str) -> TestResult {
    let output = umgate(db, &["roster", "import", roster], false);
    ensure!(output.status.code() == Some(0), "roster import failed:\n{}", show(&output));
    Ok(())
}

const SAMPLE_MEMBERS: &[&str] =
    &["M000000001", "M100000001", "M200000001", "M300000001", "M400000001", "M500000001", "FAKE1001"];

async fn samples_are_answered_and_a_second_run_answers_the_same(db: TestDb) -> TestResult {
    import_roster(&db, "samples/roster.csv")?;
    let dir = tempfile::tempdir()?;
    let (first_dir, second_dir) = (dir.path().join("first"), dir.path().join("second"));
    let files = sample_files();

    let first = process(&db, &first_dir, &files, true);
    ensure!(first.status.code() == Some(0), "{}", show(&first));
    let first_summary = summary(&first)?;
    ensure!(first_summary["answered"] == files.len(), "{first_summary}");
    let created = first_summary["cases_created"].as_u64().unwrap_or(0);
    ensure!(created >= 8, "cases created: {first_summary}");
    let answers = read_dir(&first_dir);
    ensure!(answers.len() as u64 == first_summary["answers_written"].as_u64().unwrap_or(0));
    answers_validate(&db, &first_dir)?;
    let mut isa13s: Vec<&[u8]> = answers.values().map(|bytes| &bytes[90..99]).collect();
    isa13s.sort_unstable();
    isa13s.dedup();
    ensure!(isa13s.len() == answers.len(), "every answer has its own ISA13");

    // What the scenarios expect of the answers (the rules themselves are tested in the domain).
    let text = |name_part: &str, kind: &str| -> anyhow::Result<String> {
        let (_, bytes) = answers
            .iter()
            .find(|(name, _)| name.starts_with(name_part) && name.contains(&format!(".{kind}.")))
            .with_context(|| format!("no {kind} answer for {name_part}"))?;
        Ok(String::from_utf8_lossy(bytes).into_owned())
    };
    ensure!(text("278-request-therapy-msmpt", "278")?.contains("HCR*A1*"), "therapy approved in real time");
    ensure!(text("278-request-emergency-room-pos23", "278")?.contains("HCR*NA"), "ER needs no authorization");
    ensure!(text("278-request-unknown-member", "278")?.contains("AAA*N**75*C"), "unknown member rejected");
    ensure!(text("278-request-medical-oncology", "ta1")?.contains("TA1*000000101*"), "TA1 requested by ISA14");
    ensure!(text("270-active-pa-required", "271")?.contains("Prior Authorization required for"), "271 answer");
    let cases_after_first = case_count(&db, SAMPLE_MEMBERS).await?;

    let second = process(&db, &second_dir, &files, true);
    ensure!(second.status.code() == Some(0), "{}", show(&second));
    let second_summary = summary(&second)?;
    ensure!(second_summary["resubmitted"] == files.len(), "{second_summary}");
    ensure!(second_summary["cases_created"] == 0, "{second_summary}");
    ensure!(read_dir(&second_dir) == answers, "the second run's answers differ from the first's");
    ensure!(case_count(&db, SAMPLE_MEMBERS).await? == cases_after_first, "a second case was created");

    // Without the fixed time too: the stored answers, not new ones.
    let third_dir = dir.path().join("third");
    let third = process(&db, &third_dir, &files, false);
    ensure!(third.status.code() == Some(0), "{}", show(&third));
    ensure!(read_dir(&third_dir) == answers, "a resubmission is answered with the stored answers");
    Ok(())
}

async fn generated_batch_with_its_roster(db: TestDb) -> TestResult {
    let dir = tempfile::tempdir()?;
    let roster = dir.path().join("roster.csv").display().to_string();
    let batch = dir.path().join("batch.x12").display().to_string();
    let providers = dir.path().join("providers.csv").display().to_string();
    let generated = umgate(
        &db,
        &[
            "gen",
            "278",
            "--count",
            "250",
            "--per-group",
            "100",
            "--roster",
            &roster,
            "--providers",
            &providers,
            "-o",
            &batch,
        ],
        false,
    );
    ensure!(generated.status.success(), "{}", show(&generated));
    import_roster(&db, &roster)?;
    // aetna-better-health-il requires the requester on file (samples/plans): the generated
    // requesters are.
    let imported = umgate(&db, &["provider", "import", &providers], false);
    ensure!(imported.status.code() == Some(0), "provider import failed:\n{}", show(&imported));

    let out = dir.path().join("out");
    let first = process(&db, &out, std::slice::from_ref(&batch), false);
    ensure!(first.status.code() == Some(0), "{}", show(&first));
    let first_summary = summary(&first)?;
    ensure!(first_summary["sets_accepted"] == 250, "{first_summary}");
    ensure!(first_summary["cases_created"] == 250, "every request of a rostered member is a case: {first_summary}");
    let answers = read_dir(&out);
    // Three interchanges (one group of 100 each, the last of 50): a 999 and a 278 response each.
    let responses: Vec<&String> = answers.keys().filter(|name| name.contains(".278.")).collect();
    let acks = answers.keys().filter(|name| name.contains(".999.")).count();
    ensure!(responses.len() == 3 && acks == 3, "per inbound interchange: {:?}", answers.keys());
    let response: String = responses.iter().map(|name| String::from_utf8_lossy(&answers[*name]).into_owned()).collect();
    ensure!(response.matches("ST*278*").count() == 250, "one response per request");
    answers_validate(&db, &out)?;

    let again = dir.path().join("again");
    let second = process(&db, &again, std::slice::from_ref(&batch), false);
    ensure!(second.status.code() == Some(0), "{}", show(&second));
    ensure!(summary(&second)?["cases_created"] == 0, "{}", show(&second));
    ensure!(read_dir(&again) == answers, "the second run's answers differ");

    // The cases exist once each: every authorization in the responses names its own case.
    let store = db.open().await?;
    let mut case_ids: Vec<&str> = response.split('~').filter_map(|s| s.trim().strip_prefix("REF*NT*")).collect();
    let total = case_ids.len();
    case_ids.sort_unstable();
    case_ids.dedup();
    ensure!(case_ids.len() == total && total == 250, "case ids in responses: {total}, distinct {}", case_ids.len());
    for id in case_ids.iter().take(5) {
        ensure!(store.get_case(id).await?.is_some(), "case {id} is stored");
    }
    store.close().await;
    Ok(())
}

/// One interchange whose set breaks the guide (SE01 count wrong), one whose ISA is broken.
fn bad_interchanges() -> (Vec<u8>, Vec<u8>) {
    let good = std::fs::read(root().join("samples/x12/278-request-therapy-msmpt.x12")).unwrap();
    let text = String::from_utf8(good).unwrap();
    let se = text.rfind("\nSE*").or_else(|| text.rfind("~SE*")).unwrap() + 1;
    let count_end = se + 3 + text[se + 3..].find('*').unwrap();
    let broken_set = format!("{}SE*999{}", &text[..se], &text[count_end..]).into_bytes();
    let mut broken_isa = text.replacen("*00501*", "*00999*", 1).into_bytes();
    // Another control number so it is not a duplicate of the first.
    let isa13 = 90;
    broken_isa[isa13..isa13 + 9].copy_from_slice(b"000000777");
    (broken_set, broken_isa)
}

async fn bad_interchanges_are_acknowledged_and_kept_verbatim(db: TestDb) -> TestResult {
    import_roster(&db, "samples/roster.csv")?;
    let dir = tempfile::tempdir()?;
    let (broken_set, broken_isa) = bad_interchanges();
    let file = dir.path().join("bad.x12");
    let mut content = broken_set.clone();
    content.extend_from_slice(&broken_isa);
    std::fs::write(&file, &content)?;
    let out = dir.path().join("out");
    let output = process(&db, &out, &[file.display().to_string()], true);
    ensure!(output.status.code() == Some(1), "a rejected interchange exits 1:\n{}", show(&output));
    let result = summary(&output)?;
    ensure!(result["interchanges"] == 2 && result["sets_rejected"] == 1, "{result}");
    ensure!(result["cases_created"] == 0, "{result}");
    let answers = read_dir(&out);
    let ack = answers.iter().find(|(name, _)| name.contains(".999.")).context("a 999")?;
    ensure!(String::from_utf8_lossy(ack.1).contains("IK5*R*4"), "999 rejects the set count: {:?}", ack.0);
    let ta1 = answers.iter().find(|(name, _)| name.contains(".000000777.ta1.")).context("a TA1")?;
    ensure!(String::from_utf8_lossy(ta1.1).contains("*R*"), "TA1 rejects the envelope");

    // Both are in the log byte for byte (from the ISA to the end of the interchange; the line
    // break after it belongs to no interchange).
    let store = db.open().await?;
    let sender = Party { qualifier: "ZZ".into(), id: isa_field(&broken_set, 6) };
    for (bytes, control) in [(&broken_set, isa_field(&broken_set, 13)), (&broken_isa, "000000777".to_owned())] {
        let entries = store.interchanges_with_control_number(&sender, &control).await?;
        ensure!(entries.len() == 1, "{control}: {} entries", entries.len());
        let record = store.get_interchange(entries[0].id).await?.context("stored")?;
        let rest = bytes.strip_prefix(record.content.as_slice()).context("stored from its ISA on")?;
        ensure!(rest.iter().all(u8::is_ascii_whitespace), "stored verbatim to its end");
        ensure!(!store.interchange_outputs(entries[0].id).await?.is_empty(), "its answers are stored with it");
    }
    store.close().await;
    Ok(())
}

fn isa_field(bytes: &[u8], n: usize) -> String {
    let text = String::from_utf8_lossy(&bytes[..106]);
    text.split('*').nth(n).unwrap_or_default().trim().to_owned()
}

async fn same_control_number_other_content_is_refused(db: TestDb) -> TestResult {
    import_roster(&db, "samples/roster.csv")?;
    let dir = tempfile::tempdir()?;
    let original = root().join("samples/x12/278-request-therapy-msmpt.x12");
    let bytes = std::fs::read(&original)?;
    let changed = String::from_utf8(bytes.clone())?.replacen("BHT*0007*13*", "BHT*0007*13*X", 1);
    ensure!(changed.as_bytes() != bytes.as_slice(), "the copy differs");
    let copy = dir.path().join("changed.x12");
    std::fs::write(&copy, &changed)?;

    let first = process(&db, &dir.path().join("a"), &[original.display().to_string()], true);
    ensure!(first.status.code() == Some(0), "{}", show(&first));
    let cases = case_count(&db, SAMPLE_MEMBERS).await?;
    // The same interchange in another file, after a line break and without one at its end: a
    // resubmission (the interchange's own bytes are compared, not what surrounds it).
    let moved = dir.path().join("moved.x12");
    std::fs::write(&moved, format!("\r\n{}", String::from_utf8(bytes.clone())?.trim_end()))?;
    let resent = process(&db, &dir.path().join("m"), &[moved.display().to_string()], true);
    ensure!(resent.status.code() == Some(0), "{}", show(&resent));
    ensure!(summary(&resent)?["resubmitted"] == 1, "{}", show(&resent));
    let second = process(&db, &dir.path().join("b"), &[copy.display().to_string()], true);
    ensure!(second.status.code() == Some(1), "{}", show(&second));
    let result = summary(&second)?;
    ensure!(result["duplicate_control_numbers"] == 1 && result["cases_created"] == 0, "{result}");
    ensure!(case_count(&db, SAMPLE_MEMBERS).await? == cases, "no case for the duplicate");
    // Stored all the same, pointing at the original.
    let store = db.open().await?;
    let sender = Party { qualifier: "ZZ".into(), id: isa_field(&bytes, 6) };
    let entries = store.interchanges_with_control_number(&sender, &isa_field(&bytes, 13)).await?;
    ensure!(entries.len() == 2 && entries[1].duplicate_of == Some(entries[0].id), "{entries:?}");
    let kept = store.get_interchange(entries[1].id).await?.context("kept")?.content;
    ensure!(kept == changed.trim_end().as_bytes(), "the duplicate is kept verbatim");
    store.close().await;
    // The human summary names it.
    let human = umgate(&db, &["process", copy.to_str().unwrap()], true);
    ensure!(String::from_utf8_lossy(&human.stderr).contains("duplicate control number"), "{}", show(&human));
    Ok(())
}

async fn control_numbers_are_never_reused_across_runs(db: TestDb) -> TestResult {
    import_roster(&db, "samples/roster.csv")?;
    let dir = tempfile::tempdir()?;
    let files = sample_files();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    ensure!(process(&db, &a, &files[..3], false).status.code() == Some(0));
    ensure!(process(&db, &b, &files[3..6], false).status.code() == Some(0));
    let numbers = |dir: &Path| -> Vec<String> {
        read_dir(dir).values().map(|bytes| String::from_utf8_lossy(&bytes[90..99]).into_owned()).collect()
    };
    let mut all = numbers(&a);
    all.extend(numbers(&b));
    let total = all.len();
    all.sort();
    all.dedup();
    ensure!(all.len() == total && total >= 6, "ISA13 reused: {total} answers, {} distinct", all.len());
    Ok(())
}

fn main() {
    let args = libtest_mimic::Arguments::from_args();
    let tests = store_tests![
        samples_are_answered_and_a_second_run_answers_the_same,
        generated_batch_with_its_roster,
        bad_interchanges_are_acknowledged_and_kept_verbatim,
        same_control_number_other_content_is_refused,
        control_numbers_are_never_reused_across_runs,
    ];
    libtest_mimic::run(&args, stores_support::trials(tests)).exit();
}
