//! 270 → 271 end to end through the library: every 270 sample of `samples/x12/` and every usable
//! 270 of the shared corpus (`../shared/corpus/270`, read in place) is validated, read into an
//! inquiry, answered from a roster built here (MemoryRepository, fake people only) and the
//! sample policy, and written as a 271 reply interchange with a fixed clock and fixed control
//! numbers. Each 271 must:
//! * match its golden file under `tests/golden/271/` byte for byte
//!   (`UMGATE_UPDATE_GOLDEN=1 cargo test --test mapping_271` rewrites them after an intended change);
//! * pass our own validator (999 A, no errors);
//! * say what the scenario means (active/inactive, PA per program, the AAA at the right loop);
//! * pass linuxforhealth-x12 (tests/validators/lfh_check.py), which must also reject a broken
//!   copy, so that the check cannot pass vacuously. Without `UMGATE_VALIDATORS_PYTHON` (a python
//!   with linuxforhealth-x12, see `.ci/validators/setup.sh`) that part is skipped loudly, unless
//!   `UMGATE_REQUIRE_VALIDATORS=1`, when it fails.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::NaiveDate;
use umgate::ack::{Counter, Outbound};
use umgate::domain::{CaseRepository, LineOfBusiness, MemberRecord, MemoryRepository};
use umgate::grammar::GuideSet;
use umgate::mapping::read_trees;
use umgate::mapping::x279::{self, Answer, InquirySet};
use umgate::policy::Policy;
use umgate::validation::Ack;

const DRIVER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/validators/lfh_check.py");

/// A plan with no program at all, added to the sample configuration for the "plan without any
/// program" scenario (the sample plans all have programs).
const PLAN_WITHOUT_PROGRAMS: &str = r#"
[plans.demo-no-programs]
name = "Demo Plan Without Programs"
lines_of_business = ["commercial"]
calendar = "us-federal"
in_progress_requests = { expires = "end_of_day", correspondence = false }
"#;

fn policy() -> Policy {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let main = root.join("samples/umgate.toml");
    let read = |path: &Path| {
        let text = std::fs::read_to_string(path)?;
        Ok(if path == main { format!("{text}\n{PLAN_WITHOUT_PROGRAMS}") } else { text })
    };
    Policy::load_with(&main, &read).unwrap_or_else(|error| panic!("sample policy: {error}"))
}

fn day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

/// Fake people only. The corpus 270s' members (the guide's example people) are on it too, so
/// that those files get full answers; 000123451 of the corpus batch is left off (unknown member).
fn roster_rows() -> Vec<MemberRecord> {
    let row =
        |id: &str, first: &str, last: &str, born: &str, gender: &str, plan: &str, lob, from: &str, to: Option<&str>| {
            MemberRecord {
                member_id: id.into(),
                first_name: first.into(),
                last_name: last.into(),
                birth_date: day(born),
                gender: Some(gender.into()),
                plan: plan.into(),
                line_of_business: lob,
                coverage_start: day(from),
                coverage_end: to.map(day),
            }
        };
    use LineOfBusiness::*;
    vec![
        row("FAKE1001", "ALEX", "EXAMPLE", "1961-04-15", "F", "cigna-commercial", Commercial, "2026-01-01", None),
        row(
            "FAKE1002",
            "ROBIN",
            "SAMPLE",
            "1952-01-01",
            "M",
            "healthspring-ma",
            Medicare,
            "2025-01-01",
            Some("2025-12-31"),
        ),
        row("FAKE1003", "JORDAN", "TESTER", "1988-07-20", "F", "demo-no-programs", Commercial, "2026-01-01", None),
        row("FAKE1004", "TAYLOR", "PARENT", "1980-02-02", "M", "aetna-medicaid", Medicaid, "2024-07-01", None),
        row("FAKE1005", "MORGAN", "PARENT", "2012-09-09", "F", "aetna-medicaid", Medicaid, "2024-07-01", None),
        row("FAKE1006", "AVERY", "DUAL", "1945-03-03", "M", "aetna-better-health-il", Dual, "2025-06-01", None),
        // A plan the sample policy does not have (e.g. left out of the configuration).
        row("FAKE1007", "QUINN", "FORMER", "1977-06-06", "M", "retired-plan", Commercial, "2026-01-01", None),
        row("11122333301", "ROBERT", "SMITH", "1943-05-19", "M", "aetna-medicare", Medicare, "2006-01-01", None),
        row("000123450", "PATIENT", "DOE", "1990-01-01", "F", "aetna-better-health-il", Medicaid, "2026-01-01", None),
    ]
}

/// What each 271 must say (strings of its segments), per golden file name.
const EXPECTED: &[(&str, &[&str])] = &[
    (
        "270-active-pa-required.1.271",
        &[
            "TRN*2*ACTIVE-0001*9DEMOCLINC",
            "NM1*IL*1*EXAMPLE*ALEX****MI*FAKE1001",
            "REF*18*cigna-commercial",
            "EB*1*IND*30*C1*Cigna Commercial",
            "MSG*Prior Authorization required for ",
            "EB*1**78********Y",
            "EB*1**PT^AD^AF********Y",
            "EB*1**6********N",
        ],
    ),
    ("270-inactive-on-date.1.271", &["EB*6*IND*30*HN*", "DTP*357*D8*20251231", "DTP*291*D8*20260310"]),
    (
        "270-plan-without-programs.1.271",
        &["EB*1*IND*30*C1*Demo Plan Without Programs", "MSG*No Prior Authorization required for ", "********N"],
    ),
    (
        "270-plan-unknown-to-policy.1.271",
        &["EB*1*IND*30*C1*retired-plan", "MSG*Prior Authorization requirements unknown for ", "EB*1**78********U"],
    ),
    ("270-unknown-member.1.271", &["NM1*IL*1*NOBODY*CASEY****MI*FAKE9999", "AAA*Y**75*C"]),
    ("270-bad-birth-date.1.271", &["AAA*N**71*C"]),
    ("270-missing-member-id.1.271", &["AAA*N**72*C"]),
    (
        "270-dependent.1.271",
        &[
            "HL*3*2*22*1",
            "HL*4*3*23*0",
            "TRN*2*DEP-0001*9DEMOCLINC",
            "NM1*03*1*PARENT*MORGAN",
            "REF*1W*FAKE1005",
            "EB*1*IND*30*MC*Aetna Medicaid",
            "EB*1**BK********Y",
        ],
    ),
    (
        "270-batch-two-sets.1.271",
        &[
            "ST*271*0001*005010X279A1",
            "ST*271*0002*005010X279A1",
            "EB*1*IND*30*HN*",
            "DTP*291*D8*20251115",
            "EB*1*IND*30*MC*Aetna Better Health",
        ],
    ),
    ("corpus__lfh_x12__dependent-health-benefit-check.1.271", &["AAA*Y**77*C"]),
    ("corpus__kartik_x12tools__270_batch_multi.1.271", &["AAA*Y**75*C", "NM1*IL*1*DOE*PATIENT****MI*000123450"]),
    (
        "corpus__lfh_x12__subscriber-health-benefit-check.1.271",
        &[
            "EB*1*IND*30*HN*Aetna Medicare",
            "MSG*Prior Authorization required for MSK interventional pain.",
            "EB*1**BK********Y",
        ],
    ),
];

/// What each 271 must not say.
const NOT_EXPECTED: &[(&str, &[&str])] = &[
    ("270-plan-without-programs.1.271", &["MSG*Prior Authorization required", "********Y"]),
    ("270-inactive-on-date.1.271", &["EB*1", "MSG*"]),
    ("270-plan-unknown-to-policy.1.271", &["********Y", "********N", "MSG*No Prior"]),
    ("270-unknown-member.1.271", &["EB*", "DMG*"]),
    ("270-active-pa-required.1.271", &["AAA*", "EB*6"]),
    // The subscriber is not the patient: benefits only at the dependent level (2110D).
    ("270-dependent.1.271", &["HL*3*2*22*0"]),
];

/// Every 270 input: the samples, then the corpus's 270 directory (each with the golden stem).
fn inputs() -> Vec<(String, PathBuf)> {
    let mut inputs = Vec::new();
    let samples = common::samples_dir().join("x12");
    for entry in std::fs::read_dir(&samples).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with("270-") && name.ends_with(".x12") {
            inputs.push((name.trim_end_matches(".x12").to_owned(), path));
        }
    }
    for entry in std::fs::read_dir(common::corpus_dir().join("270")).unwrap() {
        let path = entry.unwrap().path();
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        inputs.push((format!("corpus__{stem}"), path));
    }
    inputs.sort();
    assert!(inputs.iter().filter(|(n, _)| !n.starts_with("corpus__")).count() >= 9, "the 270 samples are missing");
    inputs
}

/// The 271 reply interchanges for one input file, named `<stem>.<interchange>.271`.
async fn answer_file(
    stem: &str,
    path: &Path,
    repository: &MemoryRepository,
    policy: &Policy,
) -> Vec<(String, Vec<u8>)> {
    let bytes = std::fs::read(path).unwrap();
    let guides = GuideSet::builtin().unwrap();
    let interchanges = read_trees(bytes.as_slice(), stem, guides).unwrap();
    let outbound = Outbound { at: day("2026-03-05").and_hms_opt(10, 30, 0).unwrap(), line_break: b"\n".to_vec() };
    let mut numbers = Counter::starting_at(7001);
    let mut replies = Vec::new();
    for (n, trees) in interchanges.iter().enumerate() {
        let inquiries = x279::read_inquiries(trees).unwrap();
        let mut answered: Vec<(InquirySet, Answer)> = Vec::new();
        for set in inquiries {
            let roster = x279::load_roster(repository, &x279::member_ids(&set.inquiry)).await.unwrap();
            let answer = x279::answer(&set.inquiry, &roster, policy, outbound.at.date());
            answered.push((set, answer));
        }
        if let Some(reply) = x279::write_interchange(trees, &answered, &outbound, &mut numbers) {
            replies.push((format!("{stem}.{}.271", n + 1), reply));
        }
    }
    replies
}

async fn all_replies() -> Vec<(String, Vec<u8>)> {
    let repository = MemoryRepository::default();
    for member in roster_rows() {
        repository.upsert_member(&member).await.unwrap();
    }
    let policy = policy();
    let mut replies = Vec::new();
    for (stem, path) in inputs() {
        replies.extend(answer_file(&stem, &path, &repository, &policy).await);
    }
    replies
}

#[tokio::test]
async fn every_271_matches_its_golden_file_validates_and_says_what_the_scenario_means() {
    let golden_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/271");
    let update = std::env::var_os("UMGATE_UPDATE_GOLDEN").is_some();
    if update {
        std::fs::create_dir_all(&golden_dir).unwrap();
    }
    let replies = all_replies().await;
    let mut failures = Vec::new();
    for (name, bytes) in &replies {
        let path = golden_dir.join(name);
        if update {
            std::fs::write(&path, bytes).unwrap();
        } else {
            match std::fs::read(&path) {
                Ok(golden) if &golden == bytes => {}
                Ok(_) => {
                    failures.push(format!("{name}: differs from the golden file (UMGATE_UPDATE_GOLDEN=1 to accept)"))
                }
                Err(_) => failures.push(format!("{name}: no golden file (UMGATE_UPDATE_GOLDEN=1 to create)")),
            }
        }
        for report in common::validate_bytes(bytes) {
            let clean = report.groups.iter().all(|g| {
                g.ack == Ack::Accepted && g.sets.iter().all(|s| s.ack == Ack::Accepted && s.errors.is_empty())
            });
            if report.rejected() || report.ta1.is_some() || report.groups.is_empty() || !clean {
                failures.push(format!("{name}: our validator does not accept it: {}", report.to_json()));
            }
            for group in &report.groups {
                for set in &group.sets {
                    if (set.st01.as_str(), set.guide.as_str(), set.transaction.as_str())
                        != ("271", "005010X279A1", "response")
                    {
                        failures.push(format!("{name}: a set read as {} {} {}", set.st01, set.guide, set.transaction));
                    }
                }
            }
        }
    }
    if !update {
        for entry in std::fs::read_dir(&golden_dir).unwrap() {
            let name = entry.unwrap().file_name().to_string_lossy().into_owned();
            if !replies.iter().any(|(n, _)| *n == name) {
                failures.push(format!("{name}: golden file no longer produced"));
            }
        }
    }
    for (name, needles) in EXPECTED {
        let Some((_, bytes)) = replies.iter().find(|(n, _)| n == name) else {
            failures.push(format!("{name}: not produced"));
            continue;
        };
        let text = String::from_utf8_lossy(bytes);
        for needle in *needles {
            if !text.contains(needle) {
                failures.push(format!("{name}: does not contain {needle:?}"));
            }
        }
    }
    for (name, needles) in NOT_EXPECTED {
        let text = replies.iter().find(|(n, _)| n == name).map(|(_, b)| String::from_utf8_lossy(b).into_owned());
        for needle in *needles {
            if text.as_deref().is_none_or(|t| t.contains(needle)) {
                failures.push(format!("{name}: missing, or contains {needle:?}"));
            }
        }
    }
    // Inputs the validator rejects get no 271 (their answer is the 999 or TA1).
    for rejected in [
        "corpus__badx12__unknown_segment_error",
        "corpus__edifabric__GenericRequest",
        "corpus__oopfactory__270_5010_Example1_IG",
    ] {
        if replies.iter().any(|(n, _)| n.starts_with(rejected)) {
            failures.push(format!("{rejected}: answered although the 270 was rejected"));
        }
    }
    assert!(replies.len() >= 14, "only {} 271s were written", replies.len());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn the_same_270_and_roster_give_the_same_271() {
    let first = all_replies().await;
    let second = all_replies().await;
    assert_eq!(first, second);
}

/// The python that has linuxforhealth-x12, or `None` when the external check is to be skipped.
fn validators_python() -> Option<PathBuf> {
    let required = std::env::var("UMGATE_REQUIRE_VALIDATORS").is_ok_and(|v| v == "1");
    let problem = match std::env::var_os("UMGATE_VALIDATORS_PYTHON").filter(|v| !v.is_empty()) {
        None => "UMGATE_VALIDATORS_PYTHON is not set".to_owned(),
        Some(python) => {
            let python = PathBuf::from(python);
            match Command::new(&python).args(["-c", "import linuxforhealth.x12.io"]).output() {
                Ok(out) if out.status.success() => return Some(python),
                Ok(out) => format!(
                    "{} cannot import linuxforhealth.x12: {}",
                    python.display(),
                    String::from_utf8_lossy(&out.stderr).trim()
                ),
                Err(error) => format!("cannot run {}: {error}", python.display()),
            }
        }
    };
    assert!(
        !required,
        "UMGATE_REQUIRE_VALIDATORS=1 but linuxforhealth-x12 cannot run: {problem}; run .ci/validators/setup.sh and \
         set UMGATE_VALIDATORS_PYTHON=$PWD/.venv-validators/bin/python"
    );
    // Written to stderr directly, not with eprintln!, so that libtest's capture does not hide it.
    let banner = format!(
        "\n*****************************************************************************\n\
         SKIPPED: external 271 validator (linuxforhealth-x12) not installed; run .ci/validators/setup.sh\n\
         ({problem})\n\
         *****************************************************************************\n"
    );
    let _ = std::io::Write::write_all(&mut std::io::stderr(), banner.as_bytes());
    None
}

/// Runs the driver on `files`; `(ok, errors)` per file path.
fn lfh(python: &Path, files: &[PathBuf]) -> BTreeMap<String, (bool, Vec<String>)> {
    let out = Command::new(python).arg(DRIVER).args(files).output().expect("running the linuxforhealth-x12 driver");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the driver failed ({}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let mut verdicts = BTreeMap::new();
    for line in stdout.lines().filter(|l| !l.trim().is_empty()) {
        let value: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("driver printed a line that is not JSON ({e}): {line}"));
        let errors = value["errors"].as_array().unwrap().iter().map(|e| e.as_str().unwrap_or_default().to_owned());
        verdicts.insert(value["file"].as_str().unwrap().to_owned(), (value["ok"].as_bool().unwrap(), errors.collect()));
    }
    for file in files {
        assert!(verdicts.contains_key(&file.display().to_string()), "no verdict for {}", file.display());
    }
    verdicts
}

/// Broken copies of our 271s, each wrong in one way linuxforhealth-x12 models (it does not judge
/// EB01 or TRN01 codes, so those are not used here).
fn broken_copies(active: &str, unknown_member: &str) -> Vec<(&'static str, String)> {
    let se01 = active
        .lines()
        .map(|line| match line.strip_prefix("SE*") {
            Some(rest) => {
                let (count, control) = rest.split_once('*').unwrap();
                format!("SE*{}*{control}", count.parse::<u32>().unwrap() + 2)
            }
            None => line.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    let copies = vec![
        ("SE01 count off by two", se01),
        ("subscriber HL pointing at a parent that does not exist", active.replace("HL*3*2*22*", "HL*3*9*22*")),
        ("BHT02 13 (a request's purpose) in a 271", active.replace("BHT*0022*11*", "BHT*0022*13*")),
        ("date of birth that is no date", active.replace("DMG*D8*19610415", "DMG*D8*19611345")),
        ("2100C name missing", active.lines().filter(|l| !l.starts_with("NM1*IL")).collect::<Vec<_>>().join("\n")),
        // 41 is an information receiver's reject reason (2100B), not one of 2100C: the driver's
        // correction of the library's 2100C AAA model must still refuse it.
        ("2100C AAA with a reason of the 2100B list", unknown_member.replace("AAA*Y**75*C", "AAA*Y**41*C")),
    ];
    for (what, copy) in &copies {
        assert!(copy != active && copy != unknown_member, "{what}: the corruption changed nothing");
    }
    copies
}

#[tokio::test]
async fn linuxforhealth_x12_accepts_every_271_and_rejects_broken_ones() {
    let Some(python) = validators_python() else { return };
    let dir = std::env::temp_dir().join(format!("umgate-271-lfh-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let replies = all_replies().await;
    let mut files = Vec::new();
    for (name, bytes) in &replies {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        files.push(path);
    }
    let text_of =
        |name: &str| String::from_utf8_lossy(&replies.iter().find(|(n, _)| n == name).unwrap().1).into_owned();
    let (active, unknown) = (text_of("270-active-pa-required.1.271"), text_of("270-unknown-member.1.271"));
    let mut broken = Vec::new();
    for (n, (what, text)) in broken_copies(&active, &unknown).into_iter().enumerate() {
        let path = dir.join(format!("broken-{n}.271"));
        std::fs::write(&path, text).unwrap();
        broken.push((what, path));
    }
    let all: Vec<PathBuf> = files.iter().cloned().chain(broken.iter().map(|(_, p)| p.clone())).collect();
    let verdicts = lfh(&python, &all);
    let mut failures = Vec::new();
    for file in &files {
        let (ok, errors) = &verdicts[&file.display().to_string()];
        if !ok {
            failures.push(format!("{}: linuxforhealth-x12 rejects it: {errors:?}", file.display()));
        }
    }
    for (what, file) in &broken {
        if verdicts[&file.display().to_string()].0 {
            failures.push(format!("negative control not rejected by linuxforhealth-x12: {what}"));
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The streaming path `umgate process` can take (TreeStream events set by set, ReplyStream
/// writing as it goes) gives the same bytes as `write_interchange`.
#[tokio::test]
async fn streaming_sets_through_the_reply_stream_gives_the_same_bytes() {
    use umgate::mapping::reply::ReplyStream;
    use umgate::mapping::tree::{SetTree, TreeEvent, TreeSegment, TreeStream};

    enum Event {
        Start(umgate::x12::IsaHeader),
        Group(TreeSegment),
        Set(Box<SetTree>),
        End,
    }
    let repository = MemoryRepository::default();
    for member in roster_rows() {
        repository.upsert_member(&member).await.unwrap();
    }
    let policy = policy();
    let outbound = Outbound { at: day("2026-03-05").and_hms_opt(10, 30, 0).unwrap(), line_break: b"\n".to_vec() };
    for path in [
        common::samples_dir().join("x12/270-batch-two-sets.x12"),
        common::corpus_dir().join("270/kartik_x12tools__270_batch_multi.x12"),
    ] {
        let batch = answer_file("batch", &path, &repository, &policy).await;
        let input = std::fs::read(&path).unwrap();
        let mut events = Vec::new();
        let mut stream = TreeStream::new(|event: TreeEvent<'_>| {
            events.push(match event {
                TreeEvent::InterchangeStart(header) => Event::Start(header.clone()),
                TreeEvent::GroupStart(gs) => Event::Group(gs.clone()),
                TreeEvent::Set(set) => Event::Set(Box::new(set)),
                TreeEvent::InterchangeEnd(_) => Event::End,
            })
        });
        umgate::validation::validate_stream(input.as_slice(), "input", GuideSet::builtin().unwrap(), &mut stream)
            .unwrap();
        drop(stream);
        let mut numbers = Counter::starting_at(7001);
        let (mut reply, mut gs, mut streamed) = (None, (String::new(), String::new()), Vec::new());
        for event in events {
            match event {
                Event::Start(header) => {
                    reply = Some(ReplyStream::new(
                        Vec::new(),
                        header,
                        x279::FUNCTIONAL_GROUP,
                        x279::GUIDE,
                        outbound.clone(),
                    ))
                }
                Event::Group(segment) => gs = (segment.element(2).to_owned(), segment.element(3).to_owned()),
                Event::Set(set) if set.guide == x279::GUIDE && set.transaction == "inquiry" => {
                    let inquiry = x279::read_inquiry(&set).unwrap();
                    let roster = x279::load_roster(&repository, &x279::member_ids(&inquiry)).await.unwrap();
                    let answer = x279::answer(&inquiry, &roster, &policy, outbound.at.date());
                    let write = |st02: &str| x279::write_response(&inquiry, &answer, st02, outbound.at);
                    reply.as_mut().unwrap().set(set.group_index, &gs.0, &gs.1, write, &mut numbers).unwrap();
                }
                Event::Set(_) => {}
                Event::End => streamed.extend(reply.take().unwrap().finish().unwrap()),
            }
        }
        let batch: Vec<Vec<u8>> = batch.into_iter().map(|(_, bytes)| bytes).collect();
        assert!(!batch.is_empty());
        assert_eq!(streamed, batch, "{}", path.display());
    }
}
