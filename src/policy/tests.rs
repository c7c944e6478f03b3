//! Loader, span and lookup tests on small in-memory configurations and on the sample one.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::*;

fn sample() -> Policy {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/umgate.toml");
    match Policy::load(&path) {
        Ok(policy) => policy,
        Err(e) => panic!("{e}"),
    }
}

const ROOT: &str = r#"include = ["plan.toml"]

[calendars.cal]
holidays = [2026-12-25]

[upload_profiles.docs]
max_documents = 3
extensions = [".pdf"]
max_document_megabytes = 2

[authorization_exemptions]
places_of_service = ["23"]
bill_types = ["11"]

[programs.onc]
name = "Oncology"
kind = "medical_oncology"
codes = ["J9000-J9999", "J0640", "J2505"]

[programs.rad]
name = "Radiation"
kind = "radiation_oncology"
codes = ["RC*", "77261-77799"]
"#;

const ENTRY: &str = r#"standard_decision = { business_days = 3 }
urgent_decision = { hours = 7 }
urgent = { min_clinical_documents = 1 }
uploads = "docs"
retro = { window = { calendar_days = 11 } }
reconsideration = "not_available"
appeal = { handler = "health_plan" }
peer_to_peer = { after_denial = "consultative_only" }
phone_notice_before_denial = true
partial_approvals = false
overlapping_requests = "additional_units"
hold = { duration = { business_days = 4 } }
"#;

fn plan_file(extra_onc: &str) -> String {
    format!(
        r#"[plans.p]
name = "P"
lines_of_business = ["medicare", "dual"]
calendar = "cal"
in_progress_requests = {{ expires = "end_of_day", correspondence = false }}

[plans.p.programs.rad]
lines_of_business = ["medicare"]
{ENTRY}
[plans.p.programs.onc]
lines_of_business = ["medicare", "dual"]
approval_validity = {{ min = {{ months = 2 }}, max = {{ months = 5 }}, default = {{ months = 5 }}, from = "approval" }}
supportive_drugs = ["J2505"]
{ENTRY}{extra_onc}
[plans.p.programs.onc.cancer_types]
breast = {{ name = "Breast", diagnoses = ["C50"] }}

[plans.p.programs.onc.regimens]
a = {{ name = "A", cancer_type = "breast", drugs = ["J9000", "J9070"], preferred = true, validity = {{ months = 3 }} }}
b = {{ name = "B", cancer_type = "breast", drugs = ["J9070", "J9000"], preferred = false }}
c = {{ name = "C", cancer_type = "breast", drugs = ["J9263", "J0640"], preferred = true }}
"#
    )
}

fn load_files(files: &[(&str, String)]) -> Result<Policy, LoadError> {
    let map: BTreeMap<PathBuf, String> = files.iter().map(|(p, t)| (PathBuf::from(p), t.clone())).collect();
    Policy::load_with("cfg/umgate.toml", &move |path: &Path| {
        map.get(path).cloned().ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, "not found"))
    })
}

fn load_pair(root: &str, plan: &str) -> Result<Policy, LoadError> {
    load_files(&[("cfg/umgate.toml", root.to_owned()), ("cfg/plan.toml", plan.to_owned())])
}

fn errors_of(result: Result<Policy, LoadError>) -> Vec<ConfigError> {
    match result {
        Err(LoadError::Invalid(errors)) => errors,
        Err(other) => panic!("expected invalid, got {other}"),
        Ok(_) => panic!("expected errors, the configuration loaded"),
    }
}

fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).map(|i| i + 1).unwrap()
}

#[test]
fn a_minimal_configuration_loads_and_routes_codes() {
    let policy = load_pair(ROOT, &plan_file("")).unwrap();
    let rad = policy.program_for("p", LineOfBusiness::Medicare, " rc101 ").unwrap();
    assert_eq!(rad.program_key(), "rad");
    assert_eq!(rad.kind, Some(ProgramKind::RadiationOncology));
    assert_eq!(policy.program_for("p", LineOfBusiness::Medicare, "77300").unwrap().entry_key, "rad");
    assert_eq!(policy.program_for("p", LineOfBusiness::Medicare, "J9263").unwrap().entry_key, "onc");
    // Radiation is not enabled for dual members of this plan; unknown codes and plans: NA.
    assert!(policy.program_for("p", LineOfBusiness::Dual, "RC101").is_none());
    assert!(policy.program_for("p", LineOfBusiness::Medicare, "99213").is_none());
    assert!(policy.program_for("nope", LineOfBusiness::Medicare, "RC101").is_none());
    assert_eq!(policy.entries_for("p", LineOfBusiness::Dual).count(), 1);
    assert!(policy.plan_calendar("p").unwrap().is_holiday(chrono::NaiveDate::from_ymd_opt(2026, 12, 25).unwrap()));
}

#[test]
fn lookups_cite_their_config_path() {
    let policy = load_pair(ROOT, &plan_file("")).unwrap();
    let onc = policy.program_for("p", LineOfBusiness::Medicare, "J9000").unwrap();
    assert_eq!(
        onc.urgent_decision(),
        Cited { value: TimeLimit::Hours(7), config_path: "plans.p.programs.onc.urgent_decision".into() }
    );
    assert_eq!(onc.decision_time(false).value, TimeLimit::BusinessDays(3));
    assert_eq!(onc.retro_window().config_path, "plans.p.programs.onc.retro.window");
    assert_eq!(onc.hold_duration().value, TimeLimit::BusinessDays(4));
    let a = onc.regimen("a").unwrap();
    assert_eq!(a.config_path, "plans.p.programs.onc.regimens.a");
    assert_eq!(onc.validity_for(Some(a)).unwrap().config_path, "plans.p.programs.onc.regimens.a.validity");
    let b = onc.regimen("b").unwrap();
    assert_eq!(
        onc.validity_for(Some(b)),
        Some(Cited {
            value: TimeLimit::Months(5),
            config_path: "plans.p.programs.onc.approval_validity.default".into()
        })
    );
    let uploads = policy.uploads_for(onc).unwrap();
    assert!(uploads.allows_file_name("Notes.PDF"));
    assert!(!uploads.allows_file_name("scan.png"));
    assert_eq!(uploads.max_document_bytes(), 2 * 1024 * 1024);
}

#[test]
fn regimens_match_on_diagnosis_and_drug_set() {
    let policy = load_pair(ROOT, &plan_file("")).unwrap();
    let onc = policy.program_for("p", LineOfBusiness::Medicare, "J9000").unwrap();
    // Same drug set as two regimens of different preference: ambiguous, no agreed preference.
    let shared = onc.match_regimen("C50911", &["J9070", "J9000"]);
    assert!(matches!(shared, RegimenMatch::Ambiguous(ref r) if r.len() == 2));
    assert_eq!(shared.preferred(), None);
    // Supportive drugs are left out; the dot is optional.
    let single = onc.match_regimen("C50.1", &["J0640", "J9263", "J2505"]);
    assert!(matches!(single, RegimenMatch::Single(r) if r.key == "c"));
    assert_eq!(single.preferred(), Some(true));
    // Wrong cancer type or an unknown set: custom.
    assert!(matches!(onc.match_regimen("C18.9", &["J9263", "J0640"]), RegimenMatch::Custom));
    assert!(matches!(onc.match_regimen("C50.1", &["J9263"]), RegimenMatch::Custom));
    assert!(matches!(onc.match_regimen("C50.1", &["J2505"]), RegimenMatch::Custom));
}

#[test]
fn exemptions_name_the_matching_entry() {
    let policy = load_pair(ROOT, &plan_file("")).unwrap();
    let er = policy.exemption(Some("23"), None, None, None).unwrap();
    assert_eq!(er.value, ExemptionKind::PlaceOfService);
    assert_eq!(er.config_path, "authorization_exemptions.places_of_service[0]");
    assert_eq!(policy.exemption(Some("11"), Some("111"), None, None).unwrap().value, ExemptionKind::BillType);
    assert!(policy.exemption(Some("11"), Some("131"), Some("J9000"), None).is_none());
}

#[test]
fn semantic_errors_point_at_file_line_and_field() {
    let plan = plan_file("")
        .replacen("calendar = \"cal\"", "calendar = \"calendar-x\"", 1)
        .replacen("urgent_decision = { hours = 7 }", "urgent_decision = { hours = 0 }", 1)
        .replace("min = { months = 2 }", "min = { months = 9 }");
    let errors = errors_of(load_pair(ROOT, &plan));
    let find = |field: &str| errors.iter().find(|e| e.field == field).unwrap_or_else(|| panic!("{field}: {errors:?}"));
    let calendar = find("plans.p.calendar");
    assert_eq!(calendar.file, PathBuf::from("cfg/plan.toml"));
    assert_eq!(calendar.line, line_of(&plan, "calendar-x"));
    assert_eq!(calendar.column, 12);
    assert!(calendar.message.contains("unknown calendar `calendar-x`"));
    let hours = find("plans.p.programs.rad.urgent_decision.hours");
    assert_eq!(hours.line, line_of(&plan, "hours = 0"));
    assert_eq!(hours.message, "must be greater than 0");
    assert!(find("plans.p.programs.onc.approval_validity.min").message.contains("greater than max"));
    // The regimen validity (3 months) is now below min too.
    assert!(find("plans.p.programs.onc.regimens.a.validity").message.contains("outside"));
}

#[test]
fn overlapping_codes_between_programs_of_one_plan_are_errors() {
    let root = ROOT.replace("codes = [\"RC*\", \"77261-77799\"]", "codes = [\"RC*\", \"J9200-J9299\"]");
    let errors = errors_of(load_pair(&root, &plan_file("")));
    assert_eq!(errors.len(), 1, "{errors:?}");
    let error = &errors[0];
    assert_eq!(error.file, PathBuf::from("cfg/umgate.toml"));
    assert_eq!(error.field, "programs.rad.codes[1]");
    assert_eq!(error.line, line_of(&root, "J9200-J9299"));
    assert!(error.message.contains("overlaps `J9000-J9999` of program `onc`"), "{}", error.message);
}

#[test]
fn references_and_lines_of_business_are_checked() {
    let plan = plan_file("")
        .replacen("[plans.p.programs.rad]", "[plans.p.programs.rad]\nprogram = \"radiation\"", 1)
        .replacen(
            "lines_of_business = [\"medicare\", \"dual\"]\napproval",
            "lines_of_business = [\"commercial\"]\napproval",
            1,
        )
        .replace("cancer_type = \"breast\", drugs = [\"J9263\"", "cancer_type = \"colon\", drugs = [\"J9263\"")
        .replace("\"J0640\"], preferred", "\"Q1234\"], preferred");
    let errors = errors_of(load_pair(ROOT, &plan));
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    assert!(fields.contains(&"plans.p.programs.rad.program"), "{fields:?}");
    assert!(fields.contains(&"plans.p.programs.onc.lines_of_business[0]"), "{fields:?}");
    assert!(fields.contains(&"plans.p.programs.onc.regimens.c.cancer_type"), "{fields:?}");
    assert!(fields.contains(&"plans.p.programs.onc.regimens.c.drugs[1]"), "{fields:?}");
    assert_eq!(errors.len(), 4, "{errors:?}");
}

#[test]
fn unknown_fields_and_wrong_types_are_reported_with_spans() {
    let plan = plan_file("").replacen("partial_approvals = false", "partial_aprovals = false", 1);
    let errors = errors_of(load_pair(ROOT, &plan));
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].field, "plans.p.programs.rad.partial_aprovals");
    assert_eq!(errors[0].line, line_of(&plan, "partial_aprovals"));
    assert!(errors[0].message.contains("unknown field"));

    let root = ROOT.replace("max_documents = 3", "max_documents = -3");
    let errors = errors_of(load_pair(&root, &plan_file("")));
    assert_eq!(errors[0].field, "upload_profiles.docs.max_documents");
    assert_eq!(errors[0].file, PathBuf::from("cfg/umgate.toml"));
}

#[test]
fn errors_of_every_file_are_collected() {
    let root = ROOT.replace("max_document_megabytes = 2", "max_document_megabytes = 0");
    let plan = plan_file("").replacen("hours = 7", "hours = 0", 1);
    let errors = errors_of(load_pair(&root, &plan));
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert_eq!(errors[0].file, PathBuf::from("cfg/umgate.toml"));
    assert_eq!(errors[1].file, PathBuf::from("cfg/plan.toml"));
}

#[test]
fn includes_missing_repeated_and_duplicate_keys_are_errors() {
    let root = ROOT.replace(
        "include = [\"plan.toml\"]",
        "include = [\"plan.toml\", \"gone.toml\", \"umgate.toml\", \"again.toml\"]",
    );
    let errors = errors_of(load_files(&[
        ("cfg/umgate.toml", root.clone()),
        ("cfg/plan.toml", plan_file("")),
        ("cfg/again.toml", "[plans.p]\nname = \"P again\"\nlines_of_business = [\"medicare\"]\ncalendar = \"cal\"\nin_progress_requests = { expires = \"end_of_day\", correspondence = false }\n".into()),
    ]));
    let fields: Vec<(&str, &str)> = errors.iter().map(|e| (e.field.as_str(), e.message.as_str())).collect();
    assert!(fields.iter().any(|(f, m)| *f == "include[1]" && m.contains("cannot read")), "{fields:?}");
    assert!(fields.iter().any(|(f, m)| *f == "include[2]" && m.contains("already included")), "{fields:?}");
    assert!(
        fields.iter().any(|(f, m)| *f == "plans.p" && m.contains("already defined in cfg/plan.toml")),
        "{fields:?}"
    );
    let duplicate = errors.iter().find(|e| e.field == "plans.p").unwrap();
    assert_eq!((duplicate.file.as_path(), duplicate.line), (Path::new("cfg/again.toml"), 1));
}

#[test]
fn a_root_that_cannot_be_read_is_a_read_error() {
    assert!(matches!(load_files(&[]), Err(LoadError::Read { .. })));
}

#[test]
fn the_sample_configuration_loads() {
    let policy = sample();
    let summary = policy.summary();
    assert_eq!(summary.plans, 5);
    assert_eq!(summary.files.len(), 6);
    assert_eq!(
        summary.lines_of_business,
        LineOfBusiness::ALL.iter().copied().collect::<std::collections::BTreeSet<_>>().into_iter().collect::<Vec<_>>()
    );
    assert!(policy.partner("demo").is_some());
}

#[test]
fn sample_routes_each_program_by_its_codes() {
    let policy = sample();
    let route = |plan: &str, lob, code: &str| policy.program_for(plan, lob, code).map(|e| e.program_key().to_owned());
    use LineOfBusiness::*;
    assert_eq!(route("healthspring-ma", Medicare, "RC0042").as_deref(), Some("radiation-oncology"));
    assert_eq!(route("healthspring-ma", Medicare, "77412").as_deref(), Some("radiation-oncology"));
    assert_eq!(route("healthspring-ma", Medicare, "MSMPT").as_deref(), Some("therapy"));
    assert_eq!(route("cigna-commercial", Commercial, "97110").as_deref(), Some("therapy"));
    assert_eq!(route("cigna-commercial", Commercial, "J9263").as_deref(), Some("medical-oncology"));
    assert_eq!(route("cigna-commercial", Commercial, "RC0042"), None);
    assert_eq!(route("aetna-medicare", Medicare, "64483").as_deref(), Some("msk-pain"));
    assert_eq!(route("aetna-medicaid", Medicaid, "20610").as_deref(), Some("msk-pain"));
    assert_eq!(route("aetna-medicaid", Medicaid, "97110"), None);
    assert_eq!(route("aetna-better-health-il", Dual, "64635").map(|_| ()), Some(()));
    assert_eq!(policy.program_for("aetna-better-health-il", Dual, "64635").unwrap().entry_key, "msk-pain-dual");
}

#[test]
fn sample_breast_regimens_follow_seed_004() {
    let policy = sample();
    let onc = policy.program_for("cigna-commercial", LineOfBusiness::Commercial, "J9000").unwrap();
    // AC + paclitaxel: three regimens share the drugs, only the dose-dense every-2-weeks one is preferred.
    let ac_t = onc.match_regimen("C50.912", &["J9000", "J9070", "J9267"]);
    let keys: Vec<&str> = ac_t.regimens().iter().map(|r| r.key.as_str()).collect();
    assert_eq!(keys, ["breast-AC-weekly-T", "breast-ddAC-T", "breast-ddAC-weekly-T"]);
    assert_eq!(ac_t.preferred(), None);
    let preferred: Vec<&str> = onc
        .regimens
        .values()
        .filter(|r| r.preferred && r.cancer_type.get_ref() == "breast")
        .map(|r| r.key.as_str())
        .collect();
    assert_eq!(preferred, ["breast-ddAC-T"]);
    // FOLFOX is preferred for C18.x; the same drugs for a lung primary are a custom regimen.
    let folfox = onc.match_regimen("C184", &["J9190", "J0640", "J9263"]);
    assert!(matches!(folfox, RegimenMatch::Single(r) if r.key == "colon-FOLFOX" && r.preferred));
    assert!(matches!(onc.match_regimen("C34.90", &["J9190", "J0640", "J9263"]), RegimenMatch::Custom));
    // Transplant: no authorization.
    let transplant = onc.no_authorization_diagnosis(&["C50.912", "Z9484"]).unwrap();
    assert_eq!(transplant.value, "Z9484");
    assert!(
        transplant
            .config_path
            .starts_with("plans.cigna-commercial.programs.medical-oncology.no_authorization_diagnoses[")
    );
    assert!(onc.is_supportive_drug("j2505"));
}

#[test]
fn sample_exempts_emergency_inpatient_and_observation() {
    let policy = sample();
    assert_eq!(policy.exemption(Some("23"), None, None, None).unwrap().value, ExemptionKind::PlaceOfService);
    assert_eq!(policy.exemption(Some("21"), None, None, None).unwrap().value, ExemptionKind::PlaceOfService);
    assert_eq!(policy.exemption(None, None, Some("G0378"), None).unwrap().value, ExemptionKind::ServiceCode);
    assert_eq!(policy.exemption(None, None, None, Some("0762")).unwrap().value, ExemptionKind::RevenueCode);
    assert!(policy.exemption(Some("11"), None, Some("64483"), None).is_none());
}

#[test]
fn deserialization_errors_of_several_entries_of_one_file_are_all_reported() {
    let root = ROOT.replace("max_documents = 3", "max_documents = \"3\"").replace("[programs.rad]", "[programz.rad]");
    let plan = plan_file("").replacen("partial_approvals = false", "partial_aprovals = false", 1).replacen(
        "hold = { duration = { business_days = 4 } }\n[plans.p.programs.onc.cancer",
        "[plans.p.programs.onc.cancer",
        1,
    );
    let errors = errors_of(load_pair(&root, &plan));
    let fields: Vec<(&str, usize)> = errors.iter().map(|e| (e.field.as_str(), e.line)).collect();
    assert_eq!(
        fields,
        [
            ("upload_profiles.docs.max_documents", line_of(&root, "max_documents")),
            ("programz", line_of(&root, "[programz.rad]")),
            ("plans.p.programs.rad.partial_aprovals", line_of(&plan, "partial_aprovals")),
        ],
        "{errors:?}"
    );
    assert!(errors[1].message.contains("unknown field `programz`"));
}

#[test]
fn a_missing_field_points_at_the_entry_header() {
    let plan = plan_file("").replacen("hold = { duration = { business_days = 4 } }\n", "", 1);
    let errors = errors_of(load_pair(ROOT, &plan));
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].field, "plans.p.programs.rad");
    assert_eq!(errors[0].line, line_of(&plan, "[plans.p.programs.rad]"));
    assert_eq!(errors[0].message, "missing field `hold`");
}

#[test]
fn reason_codes_are_keyed_by_known_rule_ids() {
    let root = format!(
        "{ROOT}\n[reason_codes]\n\"intake.retro_window\" = \"X1\"\n\"intake.made_up\" = \"X2\"\n\"review.hold\" = \"a*b\"\n"
    );
    let errors = errors_of(load_pair(&root, &plan_file("")));
    let found: Vec<(&str, usize)> = errors.iter().map(|e| (e.field.as_str(), e.line)).collect();
    assert_eq!(
        found,
        [
            ("reason_codes.\"intake.made_up\"", line_of(&root, "intake.made_up")),
            ("reason_codes.\"review.hold\"", line_of(&root, "a*b")),
        ]
    );
    assert!(errors[0].message.contains("not a rule id"), "{}", errors[0].message);
    let root = format!("{ROOT}\n[reason_codes]\n\"intake.retro_window\" = \"X1\"\n");
    let policy = load_pair(&root, &plan_file("")).unwrap();
    assert_eq!(
        policy.reason_code("intake.retro_window"),
        Some(Cited { value: "X1".into(), config_path: "reason_codes.\"intake.retro_window\"".into() })
    );
    assert_eq!(policy.reason_code("review.hold"), None);
    // Longer than HCR03 allows (the guide's element length).
    let long = "X".repeat(31);
    let root = format!("{ROOT}\n[reason_codes]\n\"intake.retro_window\" = \"{long}\"\n");
    assert_eq!(errors_of(load_pair(&root, &plan_file(""))).len(), 1);
    let root = format!("{ROOT}\n[reason_codes]\n\"intake.retro_window\" = \"{}\"\n", &long[1..]);
    assert!(load_pair(&root, &plan_file("")).is_ok());
    // The sample gives a code to every rule that denies, pends or finds no authorization needed.
    let sample = sample();
    for rule in ["intake.exemption", "intake.retro_window", "review.determination", "pathway.clinical_review"] {
        assert!(sample.reason_code(rule).is_some(), "{rule}");
    }
}
