//! `umgate config check` through the real binary, and the sample configuration's rule numbers
//! against SPEC section 4 (a wrong edit of samples/ fails here).
#![allow(clippy::unwrap_used)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use umgate::policy::{
    Handler, LineOfBusiness, OverlapHandling, PeerToPeerEffect, Policy, ProgramPolicy, Reconsideration, TimeLimit,
    ValidityStart,
};

fn manifest() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn umgate(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_umgate")).args(args).current_dir(manifest()).output().unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

// ---------------------------------------------------------------------------------------------
// The command.

#[test]
fn the_sample_configuration_passes_with_a_summary() {
    let output = umgate(&["config", "check"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(text.contains("samples/umgate.toml: ok (6 file(s))"), "{text}");
    assert!(text.contains("5 plans"), "{text}");
    assert!(text.contains("cigna-commercial [commercial]: medical-oncology, therapy"), "{text}");
}

#[test]
fn json_summary_for_scripts() {
    let output = umgate(&["config", "check", "--json", "samples/umgate.toml"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(report["ok"], true);
    assert_eq!(report["summary"]["plans"], 5);
    assert_eq!(
        report["summary"]["lines_of_business"],
        serde_json::json!(["commercial", "medicare", "medicaid", "dual"])
    );
    assert!(report["summary"]["regimens"].as_u64().unwrap() >= 15);
    assert_eq!(report["errors"], serde_json::json!([]));
}

#[test]
fn a_missing_file_is_exit_2() {
    let output = umgate(&["config", "check", "no/such/umgate.toml"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("cannot read configuration no/such/umgate.toml"), "{}", stderr(&output));
}

#[test]
fn a_usage_error_is_exit_2() {
    let output = umgate(&["config", "check", "--no-such-flag"]);
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn help_teaches_with_an_example() {
    let output = umgate(&["config", "check", "--help"]);
    assert_eq!(output.status.code(), Some(0));
    let text = stdout(&output);
    assert!(text.contains("file:line:col: field: message"), "{text}");
    assert!(text.contains("umgate config check --json"), "{text}");
}

/// The fixture configuration copied to a fresh directory, with one text replacement.
struct Broken {
    dir: tempfile::TempDir,
}

impl Broken {
    fn new(file: &str, from: &str, to: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let fixtures = manifest().join("tests/fixtures/config");
        fs::create_dir_all(dir.path().join("plans")).unwrap();
        for name in ["umgate.toml", "plans/demo-plan.toml"] {
            fs::copy(fixtures.join(name), dir.path().join(name)).unwrap();
        }
        let path = dir.path().join(file);
        let text = fs::read_to_string(&path).unwrap();
        assert!(text.contains(from), "fixture {file} lacks {from:?}");
        fs::write(&path, text.replacen(from, to, 1)).unwrap();
        Self { dir }
    }

    fn check(&self, json: bool) -> Output {
        let mut command = Command::new(env!("CARGO_BIN_EXE_umgate"));
        command.current_dir(self.dir.path()).args(["config", "check"]);
        if json {
            command.arg("--json");
        }
        command.arg("umgate.toml").output().unwrap()
    }

    /// 1-based line of the first line of `file` containing `needle`.
    fn line_of(&self, file: &str, needle: &str) -> usize {
        let text = fs::read_to_string(self.dir.path().join(file)).unwrap();
        text.lines().position(|l| l.contains(needle)).map(|i| i + 1).unwrap()
    }
}

#[test]
fn the_fixture_configuration_is_valid() {
    let output = Broken::new("umgate.toml", "max_documents = 4", "max_documents = 4").check(false);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
}

/// (file edited, replaced, replacement, marker of the reported line, field, message fragment).
const CASES: &[(&str, &str, &str, &str, &str, &str)] = &[
    (
        "plans/demo-plan.toml",
        "partial_approvals = false",
        "partial_approval = false",
        "partial_approval =",
        "plans.demo-plan.programs.medical-oncology.partial_approval",
        "unknown field `partial_approval`",
    ),
    (
        "plans/demo-plan.toml",
        "urgent_decision = { hours = 48 }",
        "urgent_decision = { hours = 0 }",
        "hours = 0",
        "plans.demo-plan.programs.medical-oncology.urgent_decision.hours",
        "must be greater than 0",
    ),
    (
        "plans/demo-plan.toml",
        "window = { calendar_days = 20 }",
        "window = { calendar_days = -20 }",
        "calendar_days = -20",
        "plans.demo-plan.programs.medical-oncology.retro.window.calendar_days",
        "invalid value: integer `-20`",
    ),
    (
        "plans/demo-plan.toml",
        "partial_approvals = true",
        "partial_approvals = \"yes\"",
        "partial_approvals = \"yes\"",
        "plans.demo-plan.programs.radiation-oncology.partial_approvals",
        "invalid type: string \"yes\", expected a boolean",
    ),
    (
        "plans/demo-plan.toml",
        "calendar = \"test-holidays\"",
        "calendar = \"us-holidays\"",
        "us-holidays",
        "plans.demo-plan.calendar",
        "unknown calendar `us-holidays`",
    ),
    (
        "plans/demo-plan.toml",
        "lines_of_business = [\"medicare\"]",
        "lines_of_business = [\"medicare-advantage\"]",
        "medicare-advantage",
        "plans.demo-plan.programs.radiation-oncology.lines_of_business[0]",
        "unknown variant `medicare-advantage`",
    ),
    (
        "plans/demo-plan.toml",
        "min = { months = 6 }",
        "min = { months = 10 }",
        "months = 10",
        "plans.demo-plan.programs.medical-oncology.approval_validity.min",
        "greater than max",
    ),
    (
        "umgate.toml",
        "max_document_megabytes = 3",
        "max_document_megabytes = 3 3",
        "max_document_megabytes = 3 3",
        "upload_profiles.documents.max_document_megabytes",
        "",
    ),
    (
        "plans/demo-plan.toml",
        "name = \"Demo plan\"",
        "name = \"Demo plan",
        "name = \"Demo plan",
        "plans.demo-plan.name",
        "invalid basic string",
    ),
    (
        "umgate.toml",
        "codes = [\"RC*\", \"77261-77799\"]",
        "codes = [\"RC*\", \"J9000-J9099\"]",
        "J9000-J9099",
        "programs.radiation-oncology.codes[1]",
        "overlaps `J9000-J9999` of program `medical-oncology`",
    ),
    (
        "umgate.toml",
        "key = \"demo\"",
        "key = \"demo\"\nhttp_username = \"demo\"\nhttp_password_hash = \"hunter2\"",
        "http_password_hash =",
        "partners[0].http_password_hash",
        "is not a PHC string",
    ),
    (
        "umgate.toml",
        "key = \"demo\"",
        "key = \"demo\"\nhttp_username = \"demo\"",
        "http_username =",
        "partners[0].http_username",
        "needs http_password_hash too",
    ),
    (
        "umgate.toml",
        "include = [\"plans/demo-plan.toml\"]",
        "include = [\"plans/demo-plan.toml\", \"plans/other.toml\"]",
        "include =",
        "include[1]",
        "cannot read",
    ),
];

#[test]
fn each_broken_configuration_is_reported_with_file_line_and_field() {
    for (file, from, to, marker, field, message) in CASES {
        let broken = Broken::new(file, from, to);
        let output = broken.check(false);
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(1), "{to}: {err}");
        let line = broken.line_of(file, marker);
        let prefix = format!("{file}:{line}:");
        let reported = err.lines().find(|l| l.starts_with(&prefix) && l.contains(&format!(": {field}: ")));
        let reported = reported.unwrap_or_else(|| panic!("{to}: expected {prefix}..: {field}: in\n{err}"));
        assert!(reported.contains(message), "{to}: {reported}");
        assert!(err.contains("umgate.toml: 1 error(s)") || err.contains("error(s)"), "{err}");
    }
}

#[test]
fn several_errors_in_several_files_are_all_reported_in_json_too() {
    let broken = Broken::new("umgate.toml", "max_documents = 4", "max_documents = 0");
    let plan = broken.dir.path().join("plans/demo-plan.toml");
    let text = fs::read_to_string(&plan).unwrap().replace("business_days = 3", "business_days = 0");
    fs::write(&plan, text).unwrap();
    let output = broken.check(true);
    assert_eq!(output.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(report["ok"], false);
    let errors = report["errors"].as_array().unwrap();
    // max_documents, and standard_decision + hold.duration of both programs.
    assert_eq!(errors.len(), 5, "{errors:?}");
    assert_eq!(errors[0]["file"], "umgate.toml");
    assert_eq!(errors[0]["field"], "upload_profiles.documents.max_documents");
    assert_eq!(errors[0]["line"], broken.line_of("umgate.toml", "max_documents = 0"));
    assert!(errors[1..].iter().all(|e| e["file"] == "plans/demo-plan.toml"));
    assert_eq!(stderr(&output).lines().filter(|l| l.contains("must be greater than 0")).count(), 5);
}

// ---------------------------------------------------------------------------------------------
// The sample configuration carries every number of SPEC section 4.

fn sample() -> Policy {
    Policy::load(manifest().join("samples/umgate.toml")).unwrap()
}

fn entry<'p>(policy: &'p Policy, plan: &str, lob: LineOfBusiness, program: &str) -> &'p ProgramPolicy {
    policy
        .entries_for(plan, lob)
        .find(|e| e.program_key() == program)
        .unwrap_or_else(|| panic!("{plan} × {lob} × {program} is not configured"))
}

use LineOfBusiness::{Commercial, Dual, Medicaid, Medicare};
use TimeLimit::{BusinessDays, CalendarDays, Hours, Months};

const RAD: &str = "radiation-oncology";
const ONC: &str = "medical-oncology";
const THERAPY: &str = "therapy";
const MSK: &str = "msk-pain";

/// Every (plan, line of business, program) the sample ships: SPEC section 8.
const ENTRIES: &[(&str, LineOfBusiness, &str)] = &[
    ("aetna-better-health-il", Medicaid, MSK),
    ("aetna-better-health-il", Dual, MSK),
    ("healthspring-ma", Medicare, RAD),
    ("healthspring-ma", Medicare, THERAPY),
    ("aetna-medicare", Medicare, MSK),
    ("aetna-medicaid", Medicaid, MSK),
    ("cigna-commercial", Commercial, ONC),
    ("cigna-commercial", Commercial, THERAPY),
];

#[test]
fn spec_4_standard_and_urgent_decisions() {
    let policy = sample();
    for &(plan, lob, program) in ENTRIES {
        let e = entry(&policy, plan, lob, program);
        assert_eq!(e.standard_decision().value, BusinessDays(2), "{plan} {lob} {program}");
        let urgent = e.urgent_decision().value;
        match program {
            RAD => assert_eq!(urgent, Hours(24), "{plan}"),
            ONC => assert_eq!(urgent, Hours(72), "{plan}"),
            _ => assert!(matches!(urgent, Hours(24..=72)), "{plan} {program}: {urgent}"),
        }
        assert_eq!(e.urgent_min_clinical_documents().value, 1, "{plan} {program}");
        let uploads = policy.uploads_for(e).unwrap();
        assert_eq!(uploads.max_documents(), 5);
        assert_eq!(uploads.max_document_bytes(), 5 * 1024 * 1024);
        for name in ["a.doc", "b.docx", "c.pdf"] {
            assert!(uploads.allows_file_name(name));
        }
    }
    let other = policy.upload_profile("portal-browse").unwrap();
    assert!(other.allows_file_name("scan.png"));
    assert_eq!(other.max_document_bytes(), 25 * 1024 * 1024);
}

#[test]
fn spec_4_retro_windows_and_retro_decisions() {
    let policy = sample();
    let expected: &[(&str, LineOfBusiness, &str, TimeLimit, Option<TimeLimit>)] = &[
        ("healthspring-ma", Medicare, RAD, BusinessDays(1), Some(CalendarDays(30))),
        ("healthspring-ma", Medicare, THERAPY, CalendarDays(365), Some(CalendarDays(30))),
        ("cigna-commercial", Commercial, THERAPY, CalendarDays(365), None),
        ("cigna-commercial", Commercial, ONC, CalendarDays(30), None),
        ("aetna-medicare", Medicare, MSK, CalendarDays(90), Some(CalendarDays(30))),
        ("aetna-medicaid", Medicaid, MSK, CalendarDays(90), Some(CalendarDays(14))),
        ("aetna-better-health-il", Medicaid, MSK, CalendarDays(90), Some(CalendarDays(14))),
        ("aetna-better-health-il", Dual, MSK, CalendarDays(90), Some(CalendarDays(30))),
    ];
    for &(plan, lob, program, window, decision) in expected {
        let e = entry(&policy, plan, lob, program);
        assert_eq!(e.retro_window().value, window, "{plan} {lob} {program}");
        assert_eq!(e.retro_decision().map(|c| c.value), decision, "{plan} {lob} {program}");
    }
}

#[test]
fn spec_4_approval_validity() {
    let policy = sample();
    for (plan, lob, days) in [
        ("aetna-medicare", Medicare, 180),
        ("aetna-medicaid", Medicaid, 60),
        ("aetna-better-health-il", Medicaid, 60),
        ("aetna-better-health-il", Dual, 180),
    ] {
        let validity = entry(&policy, plan, lob, MSK).approval_validity().unwrap().value;
        assert_eq!(*validity.min.get_ref(), CalendarDays(days), "{plan} {lob}");
        assert_eq!(*validity.max.get_ref(), CalendarDays(days), "{plan} {lob}");
        assert_eq!(*validity.default.get_ref(), CalendarDays(days), "{plan} {lob}");
        assert_eq!(validity.from, ValidityStart::Approval);
    }
    let onc = entry(&policy, "cigna-commercial", Commercial, ONC);
    let validity = onc.approval_validity().unwrap().value;
    assert_eq!((*validity.min.get_ref(), *validity.max.get_ref()), (Months(8), Months(12)));
    assert_eq!(onc.site_of_care_redirect_validity().unwrap().value, CalendarDays(30));
    assert!(onc.site_of_care_redirect.as_ref().unwrap().one_time);
    for regimen in onc.regimens.values() {
        let months = onc.validity_for(Some(regimen)).unwrap().value;
        assert!(matches!(months, Months(8..=12)), "{}: {months}", regimen.key);
    }
}

#[test]
fn spec_4_therapy_rules() {
    let policy = sample();
    for (plan, lob) in [("cigna-commercial", Commercial), ("healthspring-ma", Medicare)] {
        let e = entry(&policy, plan, lob, THERAPY);
        assert_eq!(e.date_extension_max().unwrap().value, CalendarDays(30), "{plan}");
        assert!(e.date_extension.as_ref().unwrap().must_request_before_expiry);
        assert_eq!(e.real_time_requests_per_episode("MSMPT").unwrap().value, 2, "{plan}");
        assert_eq!(e.real_time_requests_per_episode("MSMOT").unwrap().value, 2, "{plan}");
        assert!(e.real_time_requests_per_episode("MSMST").is_none(), "{plan}: speech is not real time");
        let timing = e.therapy_timing.as_ref().unwrap();
        assert_eq!(*timing.initial_submission_after_evaluation.get_ref(), BusinessDays(2));
        assert_eq!(*timing.continuing_care_earliest_before_start.get_ref(), CalendarDays(7));
        assert_eq!(*timing.clinical_information_max_age.get_ref(), CalendarDays(14));
        assert_eq!(*timing.developmental_pediatric_clinical_information_max_age.get_ref(), CalendarDays(30));
    }
}

#[test]
fn spec_4_medical_oncology_rules() {
    let policy = sample();
    let onc = entry(&policy, "cigna-commercial", Commercial, ONC);
    assert!(!onc.partial_approvals_allowed().value);
    assert!(!onc.supportive_drugs.is_empty());
    assert!(onc.no_authorization_diagnosis(&["Z94.84"]).is_some(), "active transplant needs no authorization");
    let folfox = onc.match_regimen("C18.9", &["J9263", "J0640", "J9190"]);
    assert_eq!(folfox.preferred(), Some(true));
    for cancer in ["breast", "colon", "lung"] {
        assert!(onc.regimens.values().any(|r| r.cancer_type.get_ref() == cancer), "{cancer}");
    }
}

#[test]
fn spec_4_post_decision_options() {
    let policy = sample();
    type Row = (
        &'static str,
        LineOfBusiness,
        &'static str,
        Reconsideration,
        Handler,
        Option<TimeLimit>,
        PeerToPeerEffect,
        bool,
    );
    let consultative = PeerToPeerEffect::ConsultativeOnly;
    let may_change = PeerToPeerEffect::MayChangeDecision;
    let rows: &[Row] = &[
        (
            "cigna-commercial",
            Commercial,
            THERAPY,
            Reconsideration::Within(CalendarDays(45)),
            Handler::Us,
            Some(CalendarDays(180)),
            may_change,
            false,
        ),
        (
            "cigna-commercial",
            Commercial,
            ONC,
            Reconsideration::OnOrBeforeDateOfService,
            Handler::HealthPlan,
            Some(CalendarDays(180)),
            may_change,
            false,
        ),
        (
            "healthspring-ma",
            Medicare,
            RAD,
            Reconsideration::NotAvailable,
            Handler::HealthPlan,
            Some(CalendarDays(60)),
            consultative,
            true,
        ),
        (
            "healthspring-ma",
            Medicare,
            THERAPY,
            Reconsideration::NotAvailable,
            Handler::HealthPlan,
            None,
            consultative,
            true,
        ),
        ("aetna-medicare", Medicare, MSK, Reconsideration::NotAvailable, Handler::HealthPlan, None, consultative, true),
        (
            "aetna-medicaid",
            Medicaid,
            MSK,
            Reconsideration::Within(BusinessDays(5)),
            Handler::HealthPlan,
            None,
            may_change,
            false,
        ),
        (
            "aetna-better-health-il",
            Medicaid,
            MSK,
            Reconsideration::Within(BusinessDays(5)),
            Handler::HealthPlan,
            None,
            may_change,
            false,
        ),
        (
            "aetna-better-health-il",
            Dual,
            MSK,
            Reconsideration::NotAvailable,
            Handler::HealthPlan,
            None,
            consultative,
            true,
        ),
    ];
    for &(plan, lob, program, reconsideration, handler, within, p2p, phone) in rows {
        let e = entry(&policy, plan, lob, program);
        assert_eq!(e.reconsideration().value, reconsideration, "{plan} {lob} {program}");
        assert_eq!(e.appeal().value.handler, handler, "{plan} {lob} {program}");
        assert_eq!(e.appeal().value.within.as_ref().map(|w| *w.get_ref()), within, "{plan} {lob} {program}");
        assert_eq!(e.peer_to_peer_after_denial().value, p2p, "{plan} {lob} {program}");
        assert_eq!(e.phone_notice_before_denial().value, phone, "{plan} {lob} {program}");
        assert_eq!(e.overlapping_requests().value, OverlapHandling::AdditionalUnits);
    }
}

#[test]
fn spec_4_settings_without_authorization_and_in_progress_expiry() {
    let policy = sample();
    for pos in ["23", "21"] {
        assert!(policy.exemption(Some(pos), None, None, None).is_some(), "POS {pos}");
    }
    assert!(policy.exemption(None, None, Some("G0378"), None).is_some(), "observation");
    for plan in policy.plans() {
        assert_eq!(plan.in_progress_requests.expires, umgate::policy::InProgressExpiry::EndOfDay);
        assert!(!plan.in_progress_requests.correspondence, "{}", plan.key);
    }
}

#[test]
fn rule_numbers_are_not_in_the_policy_code() {
    // SPEC section 4 numbers live in samples/, not in src/policy (tests excepted).
    let dir = manifest().join("src/policy");
    let numbers = ["180", "365", "90", "45", "60", "30", "14", "72", "24"];
    for file in fs::read_dir(&dir).unwrap() {
        let path = file.unwrap().path();
        let text = fs::read_to_string(&path).unwrap();
        let code = text.split("#[cfg(test)]").next().unwrap_or("");
        if path.file_name().is_some_and(|n| n == "tests.rs") {
            continue;
        }
        for (index, line) in code.lines().enumerate() {
            let words = line.split(|c: char| !c.is_ascii_alphanumeric() && c != '_');
            if let Some(number) = words.into_iter().find(|w| numbers.contains(w)) {
                panic!("{}:{}: rule number {number} in code: {line}", rel(&path), index + 1);
            }
        }
    }
}

fn rel(path: &Path) -> String {
    path.strip_prefix(manifest()).unwrap_or(path).display().to_string()
}
