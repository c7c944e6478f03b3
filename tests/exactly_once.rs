//! Exactly-once recording and deterministic numbering (docs/decisions/0006), on SQLite and on
//! PostgreSQL (stores_support harness):
//! - two responders on one database racing on the same logged interchange: both decide it, one
//!   records it, the other gets the stored answers; one set of cases, identical answers, and the
//!   sequences advanced once, without gaps;
//! - a group of single-request interchanges (the real-time path's group commit) is answered byte
//!   for byte as one at a time, resubmission within the group included;
//! - another writer taking numbers while `umgate process` runs: recordings that meet it are
//!   decided again, every interchange is answered once, no number is given twice;
//! - `umgate process` killed with SIGKILL at several points and run again on the same file (fixed
//!   clock, store numbering) writes answers byte-identical to an uninterrupted run, with the same
//!   cases and the same sequence values (no gap).
#![allow(clippy::unwrap_used)]

mod stores_support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use sqlx::Connection;
use stores_support::{TestDb, TestResult};
use umgate::ack::Outbound;
use umgate::grammar::GuideSet;
use umgate::pipeline::answer::content_hash;
use umgate::pipeline::numbers::{GROUP_SEQUENCE, INTERCHANGE_SEQUENCE};
use umgate::pipeline::{Captured, Disposition, NumberSource, PipelineClock, Responder, process_interchange};
use umgate::policy::Policy;
use umgate::storage::interchanges::status;
use umgate::storage::repository::{AUTHORIZATION_NUMBER_SEQUENCE, CASE_NUMBER_SEQUENCE};
use umgate::storage::{NewInterchange, Party, Store};

const FIXED_TIME: &str = "2026-03-04T14:00";
const SEQUENCES: [&str; 4] =
    [INTERCHANGE_SEQUENCE, GROUP_SEQUENCE, CASE_NUMBER_SEQUENCE, AUTHORIZATION_NUMBER_SEQUENCE];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn umgate(url: &str, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_umgate"));
    command
        .current_dir(root())
        .arg("--db")
        .arg(url)
        .args(args)
        .env("UMGATE_FIXED_TIME", FIXED_TIME)
        .env("UMGATE_STORE_NUMBERS", "true");
    command
}

fn run(url: &str, args: &[&str]) -> anyhow::Result<Output> {
    let output = umgate(url, args).output()?;
    ensure!(
        output.status.code() == Some(0),
        "umgate {args:?}: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(output)
}

/// A generated batch (`sets` requests, `per_group` per interchange) with its roster and providers
/// imported into `url`.
fn generate(dir: &Path, sets: usize, per_group: usize) -> anyhow::Result<(String, String, String)> {
    let path = |name: &str| dir.join(name).display().to_string();
    let (batch, roster, providers) = (path("batch.x12"), path("roster.csv"), path("providers.csv"));
    let output = Command::new(env!("CARGO_BIN_EXE_umgate"))
        .args(["gen", "278", "--seed", "11", "--count", &sets.to_string(), "--per-group", &per_group.to_string()])
        .args(["--roster", &roster, "--providers", &providers, "-o", &batch])
        .output()?;
    ensure!(output.status.success(), "gen: {}", String::from_utf8_lossy(&output.stderr));
    Ok((batch, roster, providers))
}

fn import(url: &str, roster: &str, providers: &str) -> TestResult {
    run(url, &["roster", "import", roster])?;
    run(url, &["provider", "import", providers])?;
    Ok(())
}

/// Every interchange of a file, as the batch path cuts it.
fn capture_file(path: &str) -> anyhow::Result<Vec<Captured>> {
    let guides = GuideSet::builtin().map_err(|error| anyhow::anyhow!("{error}"))?;
    let mut captured = Vec::new();
    let (tee, mut observer) = umgate::pipeline::capture::capture(std::fs::File::open(path)?, |one| captured.push(one));
    umgate::validation::validate_stream(tee, path, guides, &mut observer)?;
    observer.finish();
    Ok(captured)
}

fn responder(store: Store) -> anyhow::Result<Responder> {
    let policy = Policy::load(root().join("samples/umgate.toml")).map_err(|error| anyhow::anyhow!("{error}"))?;
    let at = chrono::NaiveDateTime::parse_from_str(FIXED_TIME, "%Y-%m-%dT%H:%M")?;
    Ok(Responder::new(
        store,
        Arc::new(policy),
        Outbound { at, line_break: b"\n".to_vec() },
        PipelineClock::Fixed(at.and_utc()),
    ))
}

/// Holds the database's write lock (SQLite) or the interchange's row (PostgreSQL) from outside the
/// store, so that both racers have decided before either can record.
enum Blocker {
    Sqlite(sqlx::SqliteConnection),
    Postgres(sqlx::PgConnection),
}

impl Blocker {
    async fn hold(url: &str, interchange_id: i64) -> anyhow::Result<Blocker> {
        if url.starts_with("sqlite:") {
            let mut connection = sqlx::SqliteConnection::connect(url).await?;
            sqlx::raw_sql("BEGIN IMMEDIATE").execute(&mut connection).await?;
            Ok(Blocker::Sqlite(connection))
        } else {
            let mut connection = sqlx::PgConnection::connect(url).await?;
            sqlx::raw_sql("BEGIN").execute(&mut connection).await?;
            sqlx::query("SELECT id FROM interchanges WHERE id = $1 FOR UPDATE")
                .bind(interchange_id)
                .execute(&mut connection)
                .await?;
            Ok(Blocker::Postgres(connection))
        }
    }

    async fn release(self) -> TestResult {
        match self {
            Blocker::Sqlite(mut connection) => {
                sqlx::raw_sql("ROLLBACK").execute(&mut connection).await?;
            }
            Blocker::Postgres(mut connection) => {
                sqlx::raw_sql("ROLLBACK").execute(&mut connection).await?;
            }
        }
        Ok(())
    }
}

async fn two_responders_racing_record_an_interchange_once(db: TestDb) -> TestResult {
    let dir = tempfile::tempdir()?;
    let (batch, roster, providers) = generate(dir.path(), 20, 20)?;
    let url = db.url();
    import(&url, &roster, &providers)?;
    let captured = capture_file(&batch)?;
    ensure!(captured.len() == 1, "one interchange");
    let captured = &captured[0];

    // The interchange is logged (as a daemon stores it before answering), not yet answered.
    let (store_a, store_b) = (db.open().await?, db.open().await?);
    let header = captured.report().header.as_ref().context("a header")?;
    let id = store_a
        .insert_interchange(&NewInterchange {
            sender: Some(Party { qualifier: header.field(5).trim().into(), id: header.field(6).trim().into() }),
            receiver: Some(Party { qualifier: header.field(7).trim().into(), id: header.field(8).trim().into() }),
            control_number: Some(header.control_number().trim().into()),
            received_at: chrono::Utc::now(),
            content_sha256: content_hash(&captured.bytes),
            file_name: "batch.x12".into(),
            byte_offset: 0,
            status: status::RECEIVED.into(),
            duplicate_of: None,
            content: captured.bytes.clone(),
            contents: None,
        })
        .await?;
    let (a, b) = (responder(store_a.clone())?, responder(store_b.clone())?);
    let (mut numbers_a, mut numbers_b) = (NumberSource::Store, NumberSource::Store);

    let blocker = Blocker::hold(&url, id).await?;
    let release = async {
        // Both decide (a few hundred milliseconds) and then wait for the lock.
        tokio::time::sleep(Duration::from_secs(4)).await;
        blocker.release().await
    };
    let (first, second, released) = tokio::join!(
        process_interchange(&a, &mut numbers_a, "batch.x12", captured),
        process_interchange(&b, &mut numbers_b, "batch.x12", captured),
        release
    );
    released?;
    let (first, second) = (first?, second?);
    let (answered, resubmitted) = match (&first, &second) {
        (Disposition::Answered { .. }, Disposition::Resubmitted { .. }) => (&first, &second),
        (Disposition::Resubmitted { .. }, Disposition::Answered { .. }) => (&second, &first),
        other => anyhow::bail!("expected one answered and one resubmitted: {other:?}"),
    };
    let (Disposition::Answered { answers, new_cases, .. }, Disposition::Resubmitted { answers: again, .. }) =
        (answered, resubmitted)
    else {
        unreachable!()
    };
    ensure!(*new_cases == 20, "every request is a case: {new_cases}");
    ensure!(answers == again, "both callers get the same answers");
    ensure!(answers.len() == 2, "a 999 and a 278 response: {}", answers.len());

    // One set of cases, the answers recorded once, every number spent once, no gap.
    let store = db.open().await?;
    ensure!(store.interchange_outputs(id).await?.len() == 2, "answers recorded once");
    ensure!(store.interchange_case_ids(id).await?.len() == 20, "20 cases linked");
    ensure!(case_count(&url).await? == 20, "no second set of cases");
    let values = store.sequence_values(&SEQUENCES).await?;
    ensure!(values[0] == 2 && values[1] == 2 && values[2] == 20, "sequences without gaps: {values:?}");
    let texts: Vec<String> = answers.iter().map(|answer| String::from_utf8_lossy(&answer.bytes).into_owned()).collect();
    ensure!(texts[1].contains("REF*NT*C000000020~") && !texts[1].contains("C000000021"), "case numbers 1 to 20");
    for store in [store, store_a, store_b] {
        store.close().await;
    }
    Ok(())
}

/// Every file of a directory, by name.
fn read_dir(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let Ok(entries) = std::fs::read_dir(dir) else { return BTreeMap::new() };
    entries
        .map(|entry| {
            let path = entry.unwrap().path();
            (path.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read(&path).unwrap())
        })
        .collect()
}

async fn case_count(url: &str) -> anyhow::Result<i64> {
    const SQL: &str = "SELECT COUNT(*) FROM cases";
    Ok(if url.starts_with("sqlite:") {
        let mut connection = sqlx::SqliteConnection::connect(url).await?;
        sqlx::query_scalar(SQL).fetch_one(&mut connection).await?
    } else {
        let mut connection = sqlx::PgConnection::connect(url).await?;
        sqlx::query_scalar(SQL).fetch_one(&mut connection).await?
    })
}

/// What a run leaves: its answer files, the number of cases, the sequences.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    answers: BTreeMap<String, Vec<u8>>,
    cases: i64,
    sequences: Vec<i64>,
}

async fn outcome(url: &str, out: &Path) -> anyhow::Result<Outcome> {
    let store = Store::connect(url).await?;
    let sequences = store.sequence_values(&SEQUENCES).await?;
    store.close().await;
    Ok(Outcome { answers: read_dir(out), cases: case_count(url).await?, sequences })
}

/// Another empty database beside the test's own: a SQLite file in `dir`, or a PostgreSQL database
/// (dropped by the returned guard).
async fn sibling(db: &TestDb, dir: &Path, label: &str) -> anyhow::Result<(String, Option<DropDatabase>)> {
    let url = db.url();
    if url.starts_with("sqlite:") {
        return Ok((format!("sqlite://{}", dir.join(format!("{label}.db")).display()), None));
    }
    let (base, name) = url.rsplit_once('/').context("a database name")?;
    let sibling = format!("{name}_{label}");
    let mut admin = sqlx::PgConnection::connect(&url).await?;
    sqlx::raw_sql(&format!("CREATE DATABASE {sibling}")).execute(&mut admin).await?;
    admin.close().await?;
    Ok((format!("{base}/{sibling}"), Some(DropDatabase { admin_url: url.clone(), name: sibling })))
}

struct DropDatabase {
    admin_url: String,
    name: String,
}

impl DropDatabase {
    async fn drop_now(self) -> TestResult {
        let mut admin = sqlx::PgConnection::connect(&self.admin_url).await?;
        sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name)).execute(&mut admin).await?;
        Ok(())
    }
}

fn process_args(out: &Path, batch: &str) -> Vec<String> {
    vec!["process".into(), "--json".into(), "--out".into(), out.display().to_string(), batch.into()]
}

async fn a_killed_run_started_again_answers_byte_for_byte_like_an_uninterrupted_one(db: TestDb) -> TestResult {
    let dir = tempfile::tempdir()?;
    // 30 interchanges of 20 requests (members recur: later requests see earlier cases).
    let (batch, roster, providers) = generate(dir.path(), 600, 20)?;

    let clean_url = db.url();
    import(&clean_url, &roster, &providers)?;
    let clean_out = dir.path().join("clean");
    let args = process_args(&clean_out, &batch);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let started = Instant::now();
    run(&clean_url, &args)?;
    let took = started.elapsed();
    let clean = outcome(&clean_url, &clean_out).await?;
    ensure!(clean.answers.len() == 60 && clean.cases == 600, "clean run: {} answers", clean.answers.len());

    for (trial, fraction) in [0.1, 0.35, 0.6].into_iter().enumerate() {
        let (url, guard) = sibling(&db, dir.path(), &format!("kill{trial}")).await?;
        import(&url, &roster, &providers)?;
        let killed_out = dir.path().join(format!("killed{trial}"));
        let args = process_args(&killed_out, &batch);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut child = umgate(&url, &args).stdout(Stdio::null()).stderr(Stdio::null()).spawn()?;
        tokio::time::sleep(took.mul_f64(fraction)).await;
        child.kill()?; // SIGKILL
        child.wait()?;
        // What the killed run wrote is the clean run's (a file cut by the kill is a prefix).
        let written = read_dir(&killed_out);
        eprintln!("trial {trial}: killed after {} of {} answer files", written.len(), clean.answers.len());
        for (name, bytes) in written {
            let whole = clean.answers.get(&name).with_context(|| format!("trial {trial}: unexpected file {name}"))?;
            ensure!(whole.starts_with(&bytes), "trial {trial}: {name} differs from the clean run's");
        }

        let rerun_out = dir.path().join(format!("rerun{trial}"));
        let args = process_args(&rerun_out, &batch);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run(&url, &args)?;
        let rerun = outcome(&url, &rerun_out).await?;
        ensure!(rerun.cases == clean.cases, "trial {trial}: {} cases, clean {}", rerun.cases, clean.cases);
        ensure!(rerun.sequences == clean.sequences, "trial {trial}: {:?} vs {:?}", rerun.sequences, clean.sequences);
        for (name, bytes) in &clean.answers {
            let other = rerun.answers.get(name).with_context(|| format!("trial {trial}: {name} missing"))?;
            ensure!(other == bytes, "trial {trial}: {name} differs from the clean run's");
        }
        ensure!(rerun.answers.len() == clean.answers.len(), "trial {trial}: other files");
        if let Some(guard) = guard {
            guard.drop_now().await?;
        }
    }
    Ok(())
}

async fn a_group_is_answered_like_one_at_a_time_and_recorded_together(db: TestDb) -> TestResult {
    let dir = tempfile::tempdir()?;
    // Six single-request interchanges, as the real-time endpoint receives them.
    let (batch, roster, providers) = generate(dir.path(), 6, 1)?;
    let captured = capture_file(&batch)?;
    ensure!(captured.len() == 6, "six interchanges");
    // The group: the six, then the first again (a resubmission within the group).
    let mut items: Vec<(&str, &Captured)> = captured.iter().map(|one| ("http", one)).collect();
    items.push(("http", &captured[0]));

    let (serial_url, guard) = sibling(&db, dir.path(), "serial").await?;
    import(&serial_url, &roster, &providers)?;
    let serial_store = Store::connect(&serial_url).await?;
    let serial = responder(serial_store.clone())?;
    let mut numbers = NumberSource::Store;
    let mut one_at_a_time = Vec::new();
    for (name, one) in &items {
        one_at_a_time.push(process_interchange(&serial, &mut numbers, name, one).await?);
    }
    serial_store.close().await;

    let url = db.url();
    import(&url, &roster, &providers)?;
    let store = db.open().await?;
    let grouped = responder(store.clone())?;
    let mut numbers = NumberSource::Store;
    let together = umgate::pipeline::process_group(&grouped, &mut numbers, &items).await?;
    ensure!(together.len() == 7, "one disposition per item");
    for (index, (group, serial)) in together.iter().zip(&one_at_a_time).enumerate() {
        let answers = |disposition: &Disposition| match disposition {
            Disposition::Answered { answers, .. } | Disposition::Resubmitted { answers, .. } => answers.clone(),
            Disposition::DuplicateControlNumber { answers, .. } => answers.clone(),
        };
        ensure!(answers(group) == answers(serial), "item {index}: other answers than one at a time");
        let expected_answered = index < 6;
        ensure!(matches!(group, Disposition::Answered { .. }) == expected_answered, "item {index}: {group:?}");
    }
    ensure!(case_count(&url).await? == 6, "one case per request");
    ensure!(
        store.sequence_values(&SEQUENCES).await?
            == Store::connect(&serial_url).await?.sequence_values(&SEQUENCES).await?,
        "the same numbers spent"
    );
    store.close().await;
    if let Some(guard) = guard {
        guard.drop_now().await?;
    }
    Ok(())
}

async fn numbers_taken_by_another_writer_meanwhile_are_never_given_twice(db: TestDb) -> TestResult {
    let dir = tempfile::tempdir()?;
    let (batch, roster, providers) = generate(dir.path(), 600, 20)?;
    let url = db.url();
    import(&url, &roster, &providers)?;
    let out = dir.path().join("out");
    let args = process_args(&out, &batch);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let child = umgate(&url, &args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn()?;
    // Another writer (another instance, a reviewer's command) takes case numbers while the batch
    // runs: the batch's recordings that meet it are decided again with fresh numbers.
    let store = db.open().await?;
    // Fewer takes than an interchange's attempts (8): even all meeting one interchange, it is
    // answered.
    let mut taken = Vec::new();
    for _ in 0..6 {
        tokio::time::sleep(Duration::from_millis(250)).await;
        taken.push(store.next_value(CASE_NUMBER_SEQUENCE).await?);
    }
    let output = child.wait_with_output()?;
    ensure!(output.status.code() == Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout)?;
    ensure!(summary["answered"] == 30 && summary["cases_created"] == 600, "{summary}");
    ensure!(case_count(&url).await? == 600, "one case per request");
    // Every case number in the answers is distinct and none is one the other writer got.
    let mut numbers: Vec<i64> = Vec::new();
    for bytes in read_dir(&out).values() {
        let text = String::from_utf8_lossy(bytes);
        numbers.extend(
            text.split('~')
                .filter_map(|segment| segment.trim().strip_prefix("REF*NT*C"))
                .filter_map(|rest| rest.parse::<i64>().ok()),
        );
    }
    let total = numbers.len();
    numbers.sort_unstable();
    numbers.dedup();
    ensure!(numbers.len() == total && total == 600, "{total} case numbers, {} distinct", numbers.len());
    ensure!(taken.iter().all(|number| numbers.binary_search(number).is_err()), "a number given twice");
    // The other writer took its numbers in the middle of the batch (else this proved nothing).
    let last = numbers.last().copied().unwrap_or_default();
    ensure!(taken.iter().any(|number| *number < last), "taken {taken:?}, the batch's last {last}");
    store.close().await;
    Ok(())
}

fn main() {
    let args = libtest_mimic::Arguments::from_args();
    let tests = store_tests![
        two_responders_racing_record_an_interchange_once,
        a_killed_run_started_again_answers_byte_for_byte_like_an_uninterrupted_one,
        a_group_is_answered_like_one_at_a_time_and_recorded_together,
        numbers_taken_by_another_writer_meanwhile_are_never_given_twice,
    ];
    libtest_mimic::run(&args, stores_support::trials(tests)).exit();
}
