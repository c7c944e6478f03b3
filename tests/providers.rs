//! `umgate provider import` through the real binary on a temporary data directory (SQLite): exit
//! codes, idempotence, a changed row replacing the provider, bad rows reported by line and skipped
//! while the good rows load, plan keys checked against the configuration. (The registry's effect
//! on a 278 is a row of tests/process_scenarios.rs: AAA 51 at 2010B, on SQLite and PostgreSQL.)
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

fn provider(data_dir: &Path, npi: &str) -> Option<umgate::storage::providers::ProviderRow> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let url = format!("sqlite://{}", data_dir.join("umgate.db").display());
    runtime.block_on(async {
        let store = Store::connect(&url).await.unwrap();
        let found = store.get_provider(npi).await.unwrap();
        store.close().await;
        found
    })
}

#[test]
fn sample_providers_import_and_importing_again_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    for _ in 0..2 {
        let run = umgate(&data, &["provider", "import", "--json", "samples/providers.csv"]);
        assert_eq!(run.status.code(), Some(0), "{}", show(&run));
        let summary: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
        assert_eq!((summary["imported"].as_u64(), summary["skipped"].as_u64()), (Some(2), Some(0)), "{summary}");
    }
    let welby = provider(&data, "1234567893").unwrap();
    assert_eq!(
        (welby.name.as_str(), welby.tin.as_deref(), welby.plans.as_str()),
        ("MARCUS WELBY", Some("361234567"), "*")
    );
    assert!(provider(&data, "1245319599").is_none());
}

#[test]
fn bad_rows_are_reported_by_line_and_skipped_and_a_changed_row_replaces_the_provider() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let file = dir.path().join("providers.csv");
    std::fs::write(&file, "npi,name,tin,plans\n1245319599,FIRST NAME,,*\n").unwrap();
    assert_eq!(umgate(&data, &["provider", "import", file.to_str().unwrap()]).status.code(), Some(0));
    std::fs::write(
        &file,
        concat!(
            "npi,name,tin,plans\n",
            "1245319599,SECOND NAME,123456789,aetna-better-health-il;cigna-commercial\n",
            "1245319590,BAD CHECK DIGIT,,*\n",
            "1234567893,UNKNOWN PLAN,,no-such-plan\n",
        ),
    )
    .unwrap();
    let run = umgate(&data, &["provider", "import", file.to_str().unwrap()]);
    assert_eq!(run.status.code(), Some(1), "some rows skipped: exit 1\n{}", show(&run));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains("providers.csv:3: skipped: npi"), "{stderr}");
    assert!(stderr.contains("providers.csv:4: skipped: plan \"no-such-plan\""), "{stderr}");
    assert!(String::from_utf8_lossy(&run.stdout).contains("imported 1 providers"), "{}", show(&run));
    let replaced = provider(&data, "1245319599").unwrap();
    assert_eq!(replaced.name, "SECOND NAME");
    assert_eq!(replaced.plans, "aetna-better-health-il;cigna-commercial");
    assert!(provider(&data, "1234567893").is_none(), "a skipped row is not loaded");
}

#[test]
fn a_wrong_header_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("providers.csv");
    std::fs::write(&file, "npi,name\n1245319599,X\n").unwrap();
    let run = umgate(&dir.path().join("data"), &["provider", "import", file.to_str().unwrap()]);
    assert_eq!(run.status.code(), Some(2), "{}", show(&run));
    assert!(String::from_utf8_lossy(&run.stderr).contains("npi,name,tin,plans"), "{}", show(&run));
}
