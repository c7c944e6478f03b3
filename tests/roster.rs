//! `umgate roster import` through the real binary on a temporary data directory (SQLite): exit
//! codes, idempotence, bad rows reported by line and skipped while the good rows load, plan keys
//! checked against the configuration, and no personal data in what is printed.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Output};

use umgate::storage::Store;

fn umgate(data_dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_umgate"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env_remove("UMGATE_DATABASE_URL")
        .output()
        .expect("the binary runs")
}

fn show(output: &Output) -> String {
    format!("stdout: {}\nstderr: {}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

fn store(data_dir: &Path) -> (tokio::runtime::Runtime, Store) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let url = format!("sqlite://{}", data_dir.join("umgate.db").display());
    let store = runtime.block_on(Store::connect(&url)).unwrap();
    (runtime, store)
}

const HEADER: &str =
    "member_id,first_name,last_name,birth_date,gender,plan,line_of_business,coverage_start,coverage_end\n";

#[test]
fn sample_roster_imports_and_importing_again_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let first = umgate(&data, &["roster", "import", "--json", "samples/roster.csv"]);
    assert_eq!(first.status.code(), Some(0), "{}", show(&first));
    let summary: serde_json::Value = serde_json::from_slice(&first.stdout).unwrap();
    assert_eq!(summary["imported"], 11, "{summary}");
    assert_eq!(summary["skipped"], 0);

    let second = umgate(&data, &["roster", "import", "samples/roster.csv"]);
    assert_eq!(second.status.code(), Some(0), "{}", show(&second));
    assert!(String::from_utf8_lossy(&second.stdout).contains("imported 11 members"), "{}", show(&second));

    let (runtime, store) = store(&data);
    let member = runtime.block_on(store.get_member("FAKE1002")).unwrap().unwrap();
    assert_eq!(member.plan, "healthspring-ma");
    assert_eq!(member.line_of_business, "medicare");
    assert_eq!(member.coverage_end.map(|d| d.to_string()).as_deref(), Some("2025-12-31"));
}

#[test]
fn a_changed_row_replaces_the_member() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let file = dir.path().join("r.csv");
    std::fs::write(&file, format!("{HEADER}Z1,ANA,ONE,1980-01-01,F,cigna-commercial,commercial,2025-01-01,\n"))
        .unwrap();
    assert_eq!(umgate(&data, &["roster", "import", file.to_str().unwrap()]).status.code(), Some(0));
    std::fs::write(&file, format!("{HEADER}Z1,ANA,ONE,1980-01-01,F,aetna-medicaid,medicaid,2025-01-01,2025-06-30\n"))
        .unwrap();
    assert_eq!(umgate(&data, &["roster", "import", file.to_str().unwrap()]).status.code(), Some(0));
    let (runtime, store) = store(&data);
    let member = runtime.block_on(store.get_member("Z1")).unwrap().unwrap();
    assert_eq!((member.plan.as_str(), member.line_of_business.as_str()), ("aetna-medicaid", "medicaid"));
}

#[test]
fn bad_rows_are_reported_by_line_and_skipped_and_good_rows_load() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let file = dir.path().join("mixed.csv");
    let rows = [
        "G1,ANA,GOOD,1980-01-01,F,cigna-commercial,commercial,2025-01-01,",
        "B1,BEA,BAD,1980-13-01,F,cigna-commercial,commercial,2025-01-01,",
        "B2,CAL,BAD,1980-01-01,M,no-such-plan,commercial,2025-01-01,",
        "B3,DEE,BAD,1980-01-01,F,cigna-commercial,medicare,2025-01-01,",
        "B4,EVE,BAD,1980-01-01,F,cigna-commercial,retail,2025-01-01,",
        "G2,FAY,GOOD,1975-05-05,,healthspring-ma,medicare,2025-01-01,2026-12-31",
        "B5,too,few",
    ];
    std::fs::write(&file, format!("{HEADER}{}\n", rows.join("\n"))).unwrap();

    let output = umgate(&data, &["roster", "import", "--json", file.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1), "{}", show(&output));
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(summary["imported"], 2, "{summary}");
    assert_eq!(summary["skipped"], 5, "{summary}");
    let lines: Vec<u64> = summary["problems"].as_array().unwrap().iter().map(|p| p["line"].as_u64().unwrap()).collect();
    assert_eq!(lines, [3, 4, 5, 6, 8]);
    let reasons = summary["problems"].to_string();
    assert!(reasons.contains("birth_date") && reasons.contains("no-such-plan") && reasons.contains("retail"));
    assert!(!reasons.contains("1980-13-01") && !reasons.contains("BEA"), "no personal data: {reasons}");

    // The human form: one `FILE:LINE: skipped: reason` per bad row on stderr, a summary on stdout.
    let human = umgate(&data, &["roster", "import", file.to_str().unwrap()]);
    assert_eq!(human.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&human.stderr);
    assert!(stderr.contains("mixed.csv:3: skipped: birth_date is not a date YYYY-MM-DD"), "{stderr}");
    assert!(String::from_utf8_lossy(&human.stdout).contains("imported 2 members"), "{}", show(&human));

    let (runtime, store) = store(&data);
    assert!(runtime.block_on(store.get_member("G1")).unwrap().is_some());
    assert!(runtime.block_on(store.get_member("G2")).unwrap().is_some());
    assert!(runtime.block_on(store.get_member("B1")).unwrap().is_none());
}

#[test]
fn unreadable_file_or_header_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let missing = umgate(&data, &["roster", "import", "no-such-file.csv"]);
    assert_eq!(missing.status.code(), Some(2), "{}", show(&missing));

    let file = dir.path().join("header.csv");
    std::fs::write(&file, "id,name\nX,Y\n").unwrap();
    let header = umgate(&data, &["roster", "import", file.to_str().unwrap()]);
    assert_eq!(header.status.code(), Some(2), "{}", show(&header));
    assert!(String::from_utf8_lossy(&header.stderr).contains("member_id,first_name"), "{}", show(&header));

    let config = umgate(&data, &["roster", "import", "--config", "no-such.toml", "samples/roster.csv"]);
    assert_eq!(config.status.code(), Some(2), "{}", show(&config));
}

#[test]
fn generated_roster_imports_whole() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let roster = dir.path().join("r.csv");
    let generated =
        umgate(&data, &["gen", "278", "--count", "3000", "--roster", roster.to_str().unwrap(), "-o", "/dev/null"]);
    assert!(generated.status.success(), "{}", show(&generated));
    let output = umgate(&data, &["roster", "import", "--json", roster.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", show(&output));
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(summary["imported"], 1500, "{summary}");
}
