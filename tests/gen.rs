//! `umgate gen` end to end: the real binary writes 278 and 270 files with several layouts, and
//! `umgate validate --json` accepts every group of them (exit 0, no set in error), the layout is
//! what the flags asked for, the output is byte-identical across runs, and the roster lists every
//! member the requests name.

use std::collections::HashSet;
use std::path::Path;
use std::process::{Command, Output};

fn umgate(args: &[&str]) -> Output {
    let output = Command::new(env!("CARGO_BIN_EXE_umgate")).args(args).output().expect("run umgate");
    assert!(
        output.status.success() || args.first() == Some(&"validate"),
        "umgate {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn generate(dir: &Path, kind: &str, count: u64, per_group: u64, per_interchange: u64, seed: u64) -> std::path::PathBuf {
    let file = dir.join(format!("{kind}-{count}-{per_group}-{per_interchange}-{seed}.x12"));
    umgate(&[
        "gen",
        kind,
        "--count",
        &count.to_string(),
        "--per-group",
        &per_group.to_string(),
        "--per-interchange",
        &per_interchange.to_string(),
        "--seed",
        &seed.to_string(),
        "-o",
        file.to_str().expect("utf-8 path"),
    ]);
    file
}

/// Runs `umgate validate --json` and checks every group and set is accepted without errors;
/// returns (interchanges, groups, sets) and the set counts of the groups in order.
fn validate_all_accepted(file: &Path) -> (usize, usize, usize, Vec<usize>) {
    let output = umgate(&["validate", "--json", file.to_str().expect("utf-8 path")]);
    let stdout = String::from_utf8(output.stdout).expect("utf-8 JSON");
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}: not every group accepted:\n{}",
        file.display(),
        first_errors(&stdout)
    );
    let (mut interchanges, mut groups, mut sets) = (0, 0, 0);
    let mut group_sizes = Vec::new();
    for line in stdout.lines() {
        let interchange: serde_json::Value = serde_json::from_str(line).expect("one JSON object per line");
        interchanges += 1;
        assert!(interchange["ta1"].is_null() || interchange["ta1"]["ack"] == "A", "{line}");
        for group in interchange["groups"].as_array().expect("groups") {
            groups += 1;
            assert_eq!(group["ack"], "A", "group {} of {}", group["gs06"], file.display());
            let group_sets = group["sets"].as_array().expect("sets");
            for set in group_sets {
                assert_eq!(set["ack"], "A", "{set}");
                assert_eq!(set["errors"].as_array().map(Vec::len), Some(0), "{set}");
            }
            sets += group_sets.len();
            group_sizes.push(group_sets.len());
        }
    }
    (interchanges, groups, sets, group_sizes)
}

/// The first few errors of a validate --json output, for a readable failure.
fn first_errors(stdout: &str) -> String {
    stdout
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .flat_map(|i| i["groups"].as_array().cloned().unwrap_or_default())
        .flat_map(|g| g["sets"].as_array().cloned().unwrap_or_default())
        .filter(|s| s["ack"] != "A")
        .take(5)
        .map(|s| s.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn generated_278_and_270_are_accepted_in_every_layout() {
    let dir = tempfile::tempdir().expect("temp dir");
    // (count, per group, groups per interchange)
    let layouts = [(200, 1000, 1), (250, 100, 1), (250, 40, 3), (30, 1, 7), (1, 1, 1)];
    for kind in ["278", "270"] {
        for (count, per_group, per_interchange) in layouts {
            let file = generate(dir.path(), kind, count, per_group, per_interchange, 11);
            let (interchanges, groups, sets, sizes) = validate_all_accepted(&file);
            let expected_groups = count.div_ceil(per_group) as usize;
            assert_eq!(sets, count as usize, "{kind} {count}/{per_group}/{per_interchange}");
            assert_eq!(groups, expected_groups);
            assert_eq!(interchanges, expected_groups.div_ceil(per_interchange as usize));
            assert!(sizes.iter().rev().skip(1).all(|&s| s == per_group as usize), "{sizes:?}");
        }
    }
}

#[test]
fn other_seeds_are_accepted_too() {
    let dir = tempfile::tempdir().expect("temp dir");
    for seed in [2, 3, 1234, u64::MAX] {
        for kind in ["278", "270"] {
            let file = generate(dir.path(), kind, 300, 120, 2, seed);
            assert_eq!(validate_all_accepted(&file).2, 300);
        }
    }
}

#[test]
fn output_is_byte_identical_across_runs_and_stdout_equals_the_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let first = std::fs::read(generate(dir.path(), "278", 150, 50, 2, 5)).expect("read");
    let again =
        umgate(&["gen", "278", "--count", "150", "--per-group", "50", "--per-interchange", "2", "--seed", "5"]).stdout;
    assert_eq!(first, again);
    let other_seed =
        umgate(&["gen", "278", "--count", "150", "--per-group", "50", "--per-interchange", "2", "--seed", "6"]).stdout;
    assert_ne!(first, other_seed);
}

#[test]
fn roster_lists_every_member_the_requests_name() {
    let dir = tempfile::tempdir().expect("temp dir");
    let roster = dir.path().join("roster.csv");
    let requests = dir.path().join("requests.x12");
    umgate(&[
        "gen",
        "278",
        "--count",
        "500",
        "--members",
        "120",
        "--roster",
        roster.to_str().expect("utf-8"),
        "-o",
        requests.to_str().expect("utf-8"),
    ]);
    let roster = std::fs::read_to_string(roster).expect("roster");
    let mut lines = roster.lines();
    assert_eq!(
        lines.next(),
        Some("member_id,first_name,last_name,birth_date,gender,plan,line_of_business,coverage_start,coverage_end")
    );
    let plans = ["aetna-better-health-il", "healthspring-ma", "aetna-medicare", "aetna-medicaid", "cigna-commercial"];
    let mut ids = HashSet::new();
    for line in lines {
        let row: Vec<&str> = line.split(',').collect();
        assert_eq!(row.len(), 9, "{line}");
        assert!(plans.contains(&row[5]), "{line}");
        assert!(["commercial", "medicare", "medicaid", "dual"].contains(&row[6]), "{line}");
        assert!(row[7] < row[8], "{line}");
        assert!(ids.insert(row[0].to_owned()), "duplicate member {line}");
    }
    assert_eq!(ids.len(), 120);
    let text = std::fs::read_to_string(requests).expect("requests");
    for segment in text.split("~\n").filter(|s| s.starts_with("NM1*IL*")) {
        let member_id = segment.rsplit('*').next().expect("NM109");
        assert!(ids.contains(member_id), "{member_id} is not on the roster");
    }
}

#[test]
fn usage_errors_exit_2() {
    let output = Command::new(env!("CARGO_BIN_EXE_umgate")).args(["gen", "278", "--count", "0"]).output().expect("run");
    assert_eq!(output.status.code(), Some(2));
    let output = Command::new(env!("CARGO_BIN_EXE_umgate")).args(["gen", "999", "--count", "5"]).output().expect("run");
    assert_eq!(output.status.code(), Some(2));
}
