//! 278 cancellations and extensions through `umgate process` (the real binary, on SQLite and on
//! PostgreSQL): an extension in the same interchange as the approval it extends, a cancellation
//! in a later interchange, and both interchanges sent again: the same answers byte for byte and
//! no second effect on the case.
#![allow(clippy::unwrap_used)]

mod stores_support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use anyhow::{Context, ensure};
use stores_support::{TestDb, TestResult};
use umgate::domain::CaseStatus;

const FIXED_TIME: &str = "2026-03-04T14:00";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn umgate(db: &TestDb, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_umgate"))
        .current_dir(root())
        .arg("--db")
        .arg(db.url())
        .args(args)
        .env("UMGATE_FIXED_TIME", FIXED_TIME)
        .output()
        .expect("the binary runs")
}

fn show(output: &Output) -> String {
    format!("stdout: {}\nstderr: {}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

fn read_dir(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| {
            let path = entry.unwrap().path();
            (path.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read(&path).unwrap())
        })
        .collect()
}

/// The ST..SE lines of the first set of a sample, numbered `st02`.
fn set_of(file: &str, st02: &str) -> String {
    let text = std::fs::read_to_string(root().join("samples/x12").join(file)).unwrap();
    let segments: Vec<&str> = text.split("~\n").collect();
    let start = segments.iter().position(|s| s.starts_with("ST*")).unwrap();
    let end = segments.iter().position(|s| s.starts_with("SE*")).unwrap();
    let mut set: Vec<String> = segments[start..=end].iter().map(|s| s.to_string()).collect();
    set[0] = set[0].replace("*0001*", &format!("*{st02}*"));
    let last = set.len() - 1;
    set[last] = set[last].replace("*0001", &format!("*{st02}"));
    set.join("~\n")
}

/// One interchange: the therapy approval and, after it, its extension (REF*BB A000000001).
fn approval_and_extension() -> String {
    let isa =
        "ISA*00*          *00*          *ZZ*CLEARHOUSE01   *ZZ*UMGATE         *260304*0900*^*00501*000000221*0*P*:";
    [
        isa.to_owned(),
        "GS*HI*CLEARHOUSE01*UMGATE*20260304*0900*221*X*005010X217".into(),
        set_of("278-request-therapy-msmpt.x12", "0001"),
        set_of("278-request-extension.x12", "0002"),
        "GE*2*221".into(),
        "IEA*1*000000221".into(),
    ]
    .join("~\n")
        + "~\n"
}

/// One interchange: the cancellation of A000000001 and, after it, a new request for the same
/// services and period (another trace).
fn cancellation_and_new_request() -> String {
    let isa =
        "ISA*00*          *00*          *ZZ*CLEARHOUSE01   *ZZ*UMGATE         *260304*0900*^*00501*000000222*0*P*:";
    let new_request = set_of("278-request-therapy-msmpt.x12", "0002").replace("TRC-REQTHR206", "TRC-REQTHR222");
    [
        isa.to_owned(),
        "GS*HI*CLEARHOUSE01*UMGATE*20260304*0900*222*X*005010X217".into(),
        set_of("278-request-cancel.x12", "0001"),
        new_request,
        "GE*2*222".into(),
        "IEA*1*000000222".into(),
    ]
    .join("~\n")
        + "~\n"
}

fn response_278(dir: &Path) -> anyhow::Result<String> {
    let answers = read_dir(dir);
    let (_, bytes) = answers.iter().find(|(name, _)| name.contains(".278.")).context("no 278 answer")?;
    Ok(String::from_utf8_lossy(bytes).into_owned())
}

async fn extension_in_the_same_interchange_and_cancellation_in_a_later_one(db: TestDb) -> TestResult {
    let import = umgate(&db, &["roster", "import", "samples/roster.csv"]);
    ensure!(import.status.code() == Some(0), "{}", show(&import));
    let dir = tempfile::tempdir()?;
    let first_file = dir.path().join("approval-and-extension.x12");
    std::fs::write(&first_file, approval_and_extension())?;
    let cancel_file = root().join("samples/x12/278-request-cancel.x12");
    let run = |name: &str, file: &Path| {
        let out = dir.path().join(name);
        let output = umgate(&db, &["process", "--json", "--out", out.to_str().unwrap(), file.to_str().unwrap()]);
        (out, output)
    };

    let (first, output) = run("first", &first_file);
    ensure!(output.status.code() == Some(0), "{}", show(&output));
    let text = response_278(&first)?;
    ensure!(text.matches("HCR*A1*A000000001~").count() == 4, "approved, then extended:\n{text}");
    ensure!(text.contains("-20260508~\nDTP*102*"), "the approval's period:\n{text}");
    ensure!(text.contains("-20260601~\nDTP*102*"), "the extended period:\n{text}");

    let (later, output) = run("later", &cancel_file);
    ensure!(output.status.code() == Some(0), "{}", show(&output));
    let text = response_278(&later)?;
    ensure!(text.contains("HCR*C*A000000001~") && !text.contains("AAA*"), "cancelled:\n{text}");

    let store = db.open().await?;
    let cases = store.cases_by_member("M100000001").await?;
    ensure!(cases.len() == 1, "one case: {}", cases.len());
    let case = umgate::storage::repository::case_from_record(cases[0].clone())?;
    ensure!(
        case.status == CaseStatus::Cancelled
            && case.approved_to.map(|d| d.to_string()).as_deref() == Some("2026-06-01")
    );
    let history = umgate::domain::CaseRepository::case_events(&store, &case.id).await?.len();
    let version = case.version;
    store.close().await;

    // Both interchanges again: the stored answers, and nothing changes.
    let (first_again, output) = run("first-again", &first_file);
    ensure!(output.status.code() == Some(0), "{}", show(&output));
    let (later_again, output) = run("later-again", &cancel_file);
    ensure!(output.status.code() == Some(0), "{}", show(&output));
    ensure!(read_dir(&first_again) == read_dir(&first), "the first interchange is answered the same");
    ensure!(read_dir(&later_again) == read_dir(&later), "the later interchange is answered the same");
    let store = db.open().await?;
    let cases = store.cases_by_member("M100000001").await?;
    ensure!(cases.len() == 1, "no second case");
    let case = umgate::storage::repository::case_from_record(cases[0].clone())?;
    ensure!(case.version == version, "the case did not change again");
    ensure!(umgate::domain::CaseRepository::case_events(&store, &case.id).await?.len() == history, "no new event");
    store.close().await;
    Ok(())
}

/// A request after the cancellation of a stored approval, in the same interchange, is not an
/// "overlapping request" of the cancelled approval: the cancellation is seen at once.
async fn a_cancellation_is_seen_by_the_next_request_of_the_interchange(db: TestDb) -> TestResult {
    let import = umgate(&db, &["roster", "import", "samples/roster.csv"]);
    ensure!(import.status.code() == Some(0), "{}", show(&import));
    let dir = tempfile::tempdir()?;
    let second = dir.path().join("cancellation-and-new-request.x12");
    std::fs::write(&second, cancellation_and_new_request())?;
    let approval = root().join("samples/x12/278-request-therapy-msmpt.x12");
    for (name, file) in [("approval", approval.as_path()), ("second", second.as_path())] {
        let out = dir.path().join(name);
        let output = umgate(&db, &["process", "--json", "--out", out.to_str().unwrap(), file.to_str().unwrap()]);
        ensure!(output.status.code() == Some(0), "{}", show(&output));
    }
    let text = response_278(&dir.path().join("second"))?;
    ensure!(text.contains("HCR*C*A000000001~"), "cancelled:\n{text}");
    let store = db.open().await?;
    let mut cases = Vec::new();
    for record in store.cases_by_member("M100000001").await? {
        cases.push(umgate::storage::repository::case_from_record(record)?);
    }
    store.close().await;
    ensure!(cases.len() == 2, "{} cases", cases.len());
    let new = cases.iter().find(|case| case.id != "C000000001").context("the new case")?;
    ensure!(
        !matches!(new.pend, Some(umgate::domain::PendReason::OverlappingRequest { .. })),
        "reviewed as overlapping a cancelled approval: {:?}",
        new.status
    );
    Ok(())
}

fn main() {
    let args = libtest_mimic::Arguments::from_args();
    let tests = store_tests![
        extension_in_the_same_interchange_and_cancellation_in_a_later_one,
        a_cancellation_is_seen_by_the_next_request_of_the_interchange,
    ];
    libtest_mimic::run(&args, stores_support::trials(tests)).exit();
}
