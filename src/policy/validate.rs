//! Semantic checks of a merged configuration, and building the [`Policy`].
//!
//! Why: TOML and serde catch syntax, types and unknown fields; the rules that span entries (a
//! calendar or program that does not exist, code ranges of two programs of one plan that overlap,
//! zero durations, min above max, regimen drugs that no program code covers) are checked here,
//! and each error points at the span of the offending value.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use chrono::NaiveDate;
use toml::Spanned;

use super::Policy;
use super::calendar::Calendar;
use super::codes::{CodePattern, normalize_code};
use super::load::{Diagnostics, ParsedFile, merge_map};
use super::model::{
    ApprovalValidity, AuthorizationExemptions, CalendarDef, LineOfBusiness, Plan, ProgramDefinition, ProgramKind,
    ProgramPolicy, REASON_RULES, Reconsideration, TimeLimit, UploadProfile,
};

/// Where each merged entry came from (file index), for messages.
#[derive(Debug, Default)]
struct Origins {
    calendars: BTreeMap<String, usize>,
    upload_profiles: BTreeMap<String, usize>,
    programs: BTreeMap<String, usize>,
    plans: BTreeMap<String, usize>,
}

pub(super) fn build(parsed: Vec<ParsedFile>, diagnostics: &mut Diagnostics) -> Policy {
    let mut policy =
        Policy { files: diagnostics.sources.iter().map(|s| s.path.clone()).collect(), ..Policy::default() };
    let mut origins = Origins::default();
    let mut calendar_defs: BTreeMap<String, CalendarDef> = BTreeMap::new();
    let mut server_file: Option<usize> = None;
    let mut mailbox_file: Option<usize> = None;
    let mut exemptions_file = None;
    let mut intake_file = None;
    for ParsedFile { file, config } in parsed {
        if let Some(intake) = config.intake {
            if intake_file.is_some() {
                diagnostics.error_at_key(file, &["intake"], "is already defined in another file");
            } else {
                intake_file = Some(file);
                policy.require_provider_on_file = intake.require_provider_on_file.map(|value| *value.get_ref());
            }
        }
        if let Some(server) = config.server {
            if let Some(first) = server_file {
                let first = diagnostics.sources.get(first).map(|s| s.path.display().to_string()).unwrap_or_default();
                diagnostics.error_at_key(file, &["server"], format!("[server] is already defined in {first}"));
            } else {
                server_file = Some(file);
                policy.server = super::server::check(server, file, diagnostics);
            }
        }
        if let Some(mailbox) = config.mailbox {
            if mailbox_file.is_some() {
                diagnostics.error_at_key(file, &["mailbox"], "is already defined in another file");
            } else {
                mailbox_file = Some(file);
                policy.mailbox = mailbox;
            }
        }
        if let Some(exemptions) = config.authorization_exemptions {
            if exemptions_file.is_some() {
                diagnostics.error_at_key(file, &["authorization_exemptions"], "is already defined in another file");
            } else {
                exemptions_file = Some(file);
                check_exemptions(&exemptions, file, diagnostics);
                policy.exemptions = exemptions;
            }
        }
        for (index, partner) in config.partners.into_iter().enumerate() {
            let key = partner.key.get_ref();
            if key.is_empty() || policy.partners.iter().any(|p| p.key.get_ref() == key) {
                diagnostics.error(
                    file,
                    partner.key.span(),
                    format!("partners[{index}].key"),
                    "empty or duplicate partner key",
                );
            }
            check_partner_credentials(&partner, index, &policy.partners, file, diagnostics);
            policy.partners.push(partner);
        }
        merge_map(&mut calendar_defs, &mut origins.calendars, config.calendars, file, "calendars", diagnostics);
        let mut profiles = config.upload_profiles;
        for (name, profile) in &profiles {
            check_upload_profile(name, profile, file, diagnostics);
        }
        merge_map(
            &mut policy.upload_profiles,
            &mut origins.upload_profiles,
            std::mem::take(&mut profiles),
            file,
            "upload_profiles",
            diagnostics,
        );
        let mut programs = config.programs;
        for (key, program) in &mut programs {
            program.key.clone_from(key);
            program.patterns = parse_codes(&format!("programs.{key}.codes"), &program.codes, file, diagnostics);
        }
        merge_map(&mut policy.programs, &mut origins.programs, programs, file, "programs", diagnostics);
        let mut plans = config.plans;
        for (key, plan) in &mut plans {
            plan.key.clone_from(key);
            plan.source = diagnostics.sources.get(file).map(|s| s.path.clone()).unwrap_or_default();
            for (entry_key, entry) in &mut plan.programs {
                entry.plan_key.clone_from(key);
                entry.entry_key.clone_from(entry_key);
                let base = entry.config_path();
                for (regimen_key, regimen) in &mut entry.regimens {
                    regimen.key.clone_from(regimen_key);
                    regimen.config_path = format!("{base}.regimens.{regimen_key}");
                }
            }
        }
        merge_map(&mut policy.plans, &mut origins.plans, plans, file, "plans", diagnostics);
        for (rule, code) in config.reason_codes {
            let field = format!("reason_codes.\"{rule}\"");
            if !REASON_RULES.contains(&rule.as_str()) {
                diagnostics.error(file, code.span(), field, format!("`{rule}` is not a rule id of the UM workflow"));
                continue;
            }
            let text = code.get_ref();
            // HCR03's length; letters and digits only keep it clear of any delimiter.
            let max = reason_code_max_len();
            if text.is_empty() || text.len() > max || !text.chars().all(|c| c.is_ascii_alphanumeric()) {
                diagnostics.error(file, code.span(), field, format!("`{text}` must be 1 to {max} letters and digits"));
                continue;
            }
            if policy.reason_codes.contains_key(&rule) {
                diagnostics.error(file, code.span(), field, "is already defined in another file");
                continue;
            }
            policy.reason_codes.insert(rule, text.clone());
        }
    }
    for (name, def) in calendar_defs {
        let file = origins.calendars.get(&name).copied().unwrap_or(0);
        policy.calendars.insert(name.clone(), build_calendar(&name, &def, file, diagnostics));
    }
    let programs = policy.programs.clone();
    for program in programs.values() {
        let file = origins.programs.get(&program.key).copied().unwrap_or(0);
        check_program_definition(program, file, diagnostics);
    }
    let mut reported_overlaps = BTreeSet::new();
    for plan in policy.plans.values_mut() {
        let file = origins.plans.get(&plan.key).copied().unwrap_or(0);
        let context = PlanContext {
            file,
            calendars: &policy.calendars,
            upload_profiles: &policy.upload_profiles,
            programs: &programs,
        };
        check_plan(plan, &context, diagnostics);
        check_overlaps(plan, &programs, &origins.programs, &mut reported_overlaps, diagnostics);
    }
    policy
}

/// The longest HCR03 (element 1271) the 278 guide's data allows: read from the guide, so that
/// the configuration cannot hold a code no 278 response can carry.
fn reason_code_max_len() -> usize {
    use crate::grammar::{GuideSet, Loop, Node, SegmentUsage};
    fn find<'g>(lp: &'g Loop, id: &str) -> Option<&'g SegmentUsage> {
        lp.children.iter().find_map(|node| match node {
            Node::Segment(segment) if segment.id == id => Some(segment),
            Node::Segment(_) => None,
            Node::Loop(inner) => find(inner, id),
        })
    }
    GuideSet::builtin()
        .ok()
        .and_then(|guides| guides.guide("005010X217"))
        .and_then(|guide| guide.transactions.iter().find_map(|t| find(&t.root, "HCR")))
        .and_then(|hcr| hcr.elements.get(2))
        .map_or(usize::MAX, |hcr03| hcr03.max as usize)
}

fn check_exemptions(exemptions: &AuthorizationExemptions, file: usize, diagnostics: &mut Diagnostics) {
    let lists = [
        ("places_of_service", &exemptions.places_of_service),
        ("bill_types", &exemptions.bill_types),
        ("service_codes", &exemptions.service_codes),
        ("revenue_codes", &exemptions.revenue_codes),
    ];
    for (field, list) in lists {
        for (index, code) in list.iter().enumerate() {
            let text = code.get_ref();
            if text.is_empty() || !text.chars().all(|c| c.is_ascii_alphanumeric()) {
                diagnostics.error(
                    file,
                    code.span(),
                    format!("authorization_exemptions.{field}[{index}]"),
                    format!("`{text}` must be letters and digits only"),
                );
            }
        }
    }
}

fn check_upload_profile(name: &str, profile: &UploadProfile, file: usize, diagnostics: &mut Diagnostics) {
    let base = format!("upload_profiles.{name}");
    positive_count(&profile.max_documents, &format!("{base}.max_documents"), file, diagnostics);
    positive_count(&profile.max_document_megabytes, &format!("{base}.max_document_megabytes"), file, diagnostics);
    if profile.extensions.is_empty() {
        diagnostics.error_at_key(file, &["upload_profiles", name, "extensions"], "must list at least one extension");
    }
    for (index, ext) in profile.extensions.iter().enumerate() {
        let text = ext.get_ref();
        let valid = text.len() > 1
            && text.starts_with('.')
            && text[1..].chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
        if !valid {
            diagnostics.error(
                file,
                ext.span(),
                format!("{base}.extensions[{index}]"),
                format!("`{text}` must be a lower-case extension with its dot, like `.pdf`"),
            );
        }
    }
}

fn positive_count(value: &Spanned<u32>, field: &str, file: usize, diagnostics: &mut Diagnostics) {
    if *value.get_ref() == 0 {
        diagnostics.error(file, value.span(), field, "must be greater than 0");
    }
}

/// A time limit must be > 0; the error names the unit (`...urgent_decision.hours`).
fn positive_limit(value: &Spanned<TimeLimit>, field: &str, file: usize, diagnostics: &mut Diagnostics) {
    let limit = *value.get_ref();
    if limit.amount() == 0 {
        diagnostics.error(file, value.span(), format!("{field}.{}", limit.unit()), "must be greater than 0");
    }
}

fn build_calendar(name: &str, def: &CalendarDef, file: usize, diagnostics: &mut Diagnostics) -> Calendar {
    let mut dates = BTreeSet::new();
    for (index, holiday) in def.holidays.iter().enumerate() {
        let field = format!("calendars.{name}.holidays[{index}]");
        let value = holiday.get_ref();
        let date = match (value.date, value.time, value.offset) {
            (Some(date), None, None) => {
                NaiveDate::from_ymd_opt(i32::from(date.year), u32::from(date.month), u32::from(date.day))
            }
            _ => None,
        };
        match date {
            Some(date) if dates.insert(date) => {}
            Some(date) => diagnostics.error(file, holiday.span(), field, format!("{date} is listed twice")),
            None => diagnostics.error(file, holiday.span(), field, "must be a date without time, like 2026-12-25"),
        }
    }
    Calendar::new(name, dates)
}

fn parse_codes(field: &str, codes: &[Spanned<String>], file: usize, diagnostics: &mut Diagnostics) -> Vec<CodePattern> {
    let mut patterns = Vec::new();
    for (index, code) in codes.iter().enumerate() {
        match CodePattern::parse(code.get_ref()) {
            Ok(pattern) => patterns.push(pattern),
            Err(e) => diagnostics.error(file, code.span(), format!("{field}[{index}]"), e.to_string()),
        }
    }
    patterns
}

fn check_program_definition(program: &ProgramDefinition, file: usize, diagnostics: &mut Diagnostics) {
    if program.codes.is_empty() {
        diagnostics.error_at_key(file, &["programs", &program.key, "codes"], "must list at least one code");
    }
    // Overlaps inside one program are typos (a code listed twice).
    let parsed: Vec<(usize, CodePattern)> = program
        .codes
        .iter()
        .enumerate()
        .filter_map(|(i, c)| CodePattern::parse(c.get_ref()).ok().map(|p| (i, p)))
        .collect();
    for (a, (index_a, pattern_a)) in parsed.iter().enumerate() {
        if let Some((_, pattern_b)) = parsed[..a].iter().find(|(_, b)| b.overlaps(pattern_a)) {
            if let Some(code) = program.codes.get(*index_a) {
                diagnostics.error(
                    file,
                    code.span(),
                    format!("programs.{}.codes[{index_a}]", program.key),
                    format!("`{pattern_a}` overlaps `{pattern_b}` of the same program"),
                );
            }
        }
    }
}

struct PlanContext<'a> {
    file: usize,
    calendars: &'a BTreeMap<String, Calendar>,
    upload_profiles: &'a BTreeMap<String, UploadProfile>,
    programs: &'a BTreeMap<String, ProgramDefinition>,
}

fn check_plan(plan: &mut Plan, context: &PlanContext<'_>, diagnostics: &mut Diagnostics) {
    let file = context.file;
    let base = format!("plans.{}", plan.key);
    if plan.lines_of_business.is_empty() {
        diagnostics.error_at_key(
            file,
            &["plans", &plan.key, "lines_of_business"],
            "must list at least one line of business",
        );
    }
    check_distinct_lobs(&plan.lines_of_business, &format!("{base}.lines_of_business"), file, diagnostics);
    if !context.calendars.contains_key(plan.calendar.get_ref())
        && !diagnostics.is_broken("calendars", plan.calendar.get_ref())
    {
        let known: Vec<&str> = context.calendars.keys().map(String::as_str).collect();
        diagnostics.error(
            file,
            plan.calendar.span(),
            format!("{base}.calendar"),
            format!("unknown calendar `{}` (defined: {})", plan.calendar.get_ref(), known.join(", ")),
        );
    }
    let plan_lobs: BTreeSet<LineOfBusiness> = plan.lines_of_business.iter().map(|l| *l.get_ref()).collect();
    let mut served: BTreeMap<(String, LineOfBusiness), String> = BTreeMap::new();
    for entry in plan.programs.values_mut() {
        let entry_base = entry.config_path();
        let program = context.programs.get(entry.program_key());
        match program {
            Some(program) => entry.kind = Some(program.kind),
            None if diagnostics.is_broken("programs", entry.program_key()) => {}
            None => {
                let span = entry.program.as_ref().map(Spanned::span);
                let message = format!(
                    "unknown program `{}` (catalogue: {})",
                    entry.program_key(),
                    context.programs.keys().cloned().collect::<Vec<_>>().join(", ")
                );
                match span {
                    Some(span) => diagnostics.error(file, span, format!("{entry_base}.program"), message),
                    None => {
                        diagnostics.error_at_key(file, &["plans", &plan.key, "programs", &entry.entry_key], message)
                    }
                }
            }
        }
        if entry.lines_of_business.is_empty() {
            diagnostics.error_at_key(
                file,
                &["plans", &plan.key, "programs", &entry.entry_key, "lines_of_business"],
                "must list at least one line of business",
            );
        }
        check_distinct_lobs(&entry.lines_of_business, &format!("{entry_base}.lines_of_business"), file, diagnostics);
        for (index, lob) in entry.lines_of_business.iter().enumerate() {
            let lob_value = *lob.get_ref();
            if !plan_lobs.contains(&lob_value) {
                diagnostics.error(
                    file,
                    lob.span(),
                    format!("{entry_base}.lines_of_business[{index}]"),
                    format!("plan `{}` does not serve `{lob_value}`", plan.key),
                );
            }
            let key = (entry.program_key().to_owned(), lob_value);
            if let Some(other) = served.get(&key) {
                diagnostics.error(
                    file,
                    lob.span(),
                    format!("{entry_base}.lines_of_business[{index}]"),
                    format!("program `{}` for `{lob_value}` is already configured by entry `{other}`", key.0),
                );
            } else {
                served.insert(key, entry.entry_key.clone());
            }
        }
        check_entry(entry, program, context, diagnostics);
    }
}

fn check_distinct_lobs(lobs: &[Spanned<LineOfBusiness>], field: &str, file: usize, diagnostics: &mut Diagnostics) {
    for (index, lob) in lobs.iter().enumerate() {
        if lobs[..index].iter().any(|l| l.get_ref() == lob.get_ref()) {
            diagnostics.error(
                file,
                lob.span(),
                format!("{field}[{index}]"),
                format!("`{}` is listed twice", lob.get_ref()),
            );
        }
    }
}

fn check_entry(
    entry: &ProgramPolicy,
    program: Option<&ProgramDefinition>,
    context: &PlanContext<'_>,
    diagnostics: &mut Diagnostics,
) {
    let file = context.file;
    let base = entry.config_path();
    let field = |name: &str| format!("{base}.{name}");
    positive_limit(&entry.standard_decision, &field("standard_decision"), file, diagnostics);
    positive_limit(&entry.urgent_decision, &field("urgent_decision"), file, diagnostics);
    positive_limit(&entry.retro.window, &field("retro.window"), file, diagnostics);
    if let Some(decision) = &entry.retro.decision {
        positive_limit(decision, &field("retro.decision"), file, diagnostics);
    }
    positive_limit(&entry.hold.duration, &field("hold.duration"), file, diagnostics);
    if !context.upload_profiles.contains_key(entry.uploads.get_ref())
        && !diagnostics.is_broken("upload_profiles", entry.uploads.get_ref())
    {
        diagnostics.error(
            file,
            entry.uploads.span(),
            field("uploads"),
            format!("unknown upload profile `{}`", entry.uploads.get_ref()),
        );
    }
    if let Some(validity) = &entry.approval_validity {
        check_validity(validity, &field("approval_validity"), file, diagnostics);
    }
    if let Some(redirect) = &entry.site_of_care_redirect {
        positive_limit(&redirect.validity, &field("site_of_care_redirect.validity"), file, diagnostics);
    }
    if let Some(extension) = &entry.date_extension {
        positive_limit(&extension.max, &field("date_extension.max"), file, diagnostics);
    }
    if let Reconsideration::Within(limit) = entry.reconsideration.get_ref()
        && limit.amount() == 0
    {
        diagnostics.error(
            file,
            entry.reconsideration.span(),
            format!("{}.within.{}", field("reconsideration"), limit.unit()),
            "must be greater than 0",
        );
    }
    if let Some(within) = &entry.appeal.within {
        positive_limit(within, &field("appeal.within"), file, diagnostics);
        if entry.appeal.handler == super::model::Handler::NotAvailable {
            diagnostics.error(
                file,
                within.span(),
                field("appeal.within"),
                "an appeal that is not available has no window",
            );
        }
    }
    let routes =
        |code: &str| program.is_none_or(|p| p.patterns.iter().any(|pattern| pattern.matches(&normalize_code(code))));
    if let Some(real_time) = &entry.real_time {
        positive_count(
            &real_time.first_requests_per_episode,
            &field("real_time.first_requests_per_episode"),
            file,
            diagnostics,
        );
        positive_limit(&real_time.episode.max_gap, &field("real_time.episode.max_gap"), file, diagnostics);
        for (index, code) in real_time.service_codes.iter().enumerate() {
            if !routes(code.get_ref()) {
                diagnostics.error(
                    file,
                    code.span(),
                    format!("{}[{index}]", field("real_time.service_codes")),
                    format!("`{}` is not a code of program `{}`", code.get_ref(), entry.program_key()),
                );
            }
        }
    }
    if let Some(timing) = &entry.therapy_timing {
        let limits = [
            (&timing.initial_submission_after_evaluation, "initial_submission_after_evaluation"),
            (&timing.continuing_care_earliest_before_start, "continuing_care_earliest_before_start"),
            (&timing.clinical_information_max_age, "clinical_information_max_age"),
            (
                &timing.developmental_pediatric_clinical_information_max_age,
                "developmental_pediatric_clinical_information_max_age",
            ),
        ];
        for (limit, name) in limits {
            positive_limit(limit, &field(&format!("therapy_timing.{name}")), file, diagnostics);
        }
        positive_count(
            &timing.pediatric_age_below_years,
            &field("therapy_timing.pediatric_age_below_years"),
            file,
            diagnostics,
        );
        check_diagnoses(
            &timing.developmental_pediatric_diagnoses,
            &field("therapy_timing.developmental_pediatric_diagnoses"),
            file,
            diagnostics,
        );
    }
    check_diagnoses(&entry.no_authorization_diagnoses, &field("no_authorization_diagnoses"), file, diagnostics);
    for (index, drug) in entry.supportive_drugs.iter().enumerate() {
        if !routes(drug.get_ref()) {
            diagnostics.error(
                file,
                drug.span(),
                format!("{}[{index}]", field("supportive_drugs")),
                format!("`{}` is not a code of program `{}`", drug.get_ref(), entry.program_key()),
            );
        }
    }
    if let Some(validity) = &entry.supportive_drug_validity {
        positive_limit(validity, &field("supportive_drug_validity"), file, diagnostics);
        if entry.supportive_drugs.is_empty() {
            diagnostics.error(
                file,
                validity.span(),
                field("supportive_drug_validity"),
                "the program lists no supportive_drugs",
            );
        }
    }
    check_regimens(entry, program, &routes, file, diagnostics);
}

fn check_validity(validity: &ApprovalValidity, field: &str, file: usize, diagnostics: &mut Diagnostics) {
    positive_limit(&validity.min, &format!("{field}.min"), file, diagnostics);
    positive_limit(&validity.max, &format!("{field}.max"), file, diagnostics);
    positive_limit(&validity.default, &format!("{field}.default"), file, diagnostics);
    let (min, max) = (*validity.min.get_ref(), *validity.max.get_ref());
    if min.unit() != max.unit() {
        diagnostics.error(
            file,
            validity.max.span(),
            format!("{field}.max"),
            format!("must use the unit of min ({})", min.unit()),
        );
    } else if min.amount() > max.amount() {
        diagnostics.error(
            file,
            validity.min.span(),
            format!("{field}.min"),
            format!("min ({min}) is greater than max ({max})"),
        );
    }
    if let Some(message) = outside(*validity.default.get_ref(), validity) {
        diagnostics.error(file, validity.default.span(), format!("{field}.default"), message);
    }
}

/// Why `limit` is not within the validity's min..=max, if it is not.
fn outside(limit: TimeLimit, validity: &ApprovalValidity) -> Option<String> {
    let (min, max) = (*validity.min.get_ref(), *validity.max.get_ref());
    if limit.unit() != min.unit() {
        Some(format!("must use the unit of approval_validity.min ({})", min.unit()))
    } else if limit.amount() < min.amount() || limit.amount() > max.amount() {
        Some(format!("{limit} is outside approval_validity {min}..{max}"))
    } else {
        None
    }
}

fn check_diagnoses(diagnoses: &[Spanned<String>], field: &str, file: usize, diagnostics: &mut Diagnostics) {
    for (index, dx) in diagnoses.iter().enumerate() {
        let text = dx.get_ref();
        let valid = text.len() >= 3
            && text.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '.');
        if !valid {
            diagnostics.error(
                file,
                dx.span(),
                format!("{field}[{index}]"),
                format!("`{text}` is not an ICD-10 code or prefix"),
            );
        }
    }
}

fn check_regimens(
    entry: &ProgramPolicy,
    program: Option<&ProgramDefinition>,
    routes: &dyn Fn(&str) -> bool,
    file: usize,
    diagnostics: &mut Diagnostics,
) {
    let base = entry.config_path();
    let is_oncology = program.is_none_or(|p| p.kind == ProgramKind::MedicalOncology);
    if !is_oncology && (!entry.regimens.is_empty() || !entry.cancer_types.is_empty()) {
        diagnostics.error_at_key(
            file,
            &["plans", &entry.plan_key, "programs", &entry.entry_key],
            "regimens and cancer_types belong to a medical_oncology program",
        );
    }
    for (key, cancer) in &entry.cancer_types {
        let field = format!("{base}.cancer_types.{key}.diagnoses");
        if cancer.diagnoses.is_empty() {
            diagnostics.error_at_key(
                file,
                &["plans", &entry.plan_key, "programs", &entry.entry_key, "cancer_types", key],
                "must list diagnoses",
            );
        }
        check_diagnoses(&cancer.diagnoses, &field, file, diagnostics);
    }
    for (key, regimen) in &entry.regimens {
        let field = format!("{base}.regimens.{key}");
        if !entry.cancer_types.contains_key(regimen.cancer_type.get_ref()) {
            diagnostics.error(
                file,
                regimen.cancer_type.span(),
                format!("{field}.cancer_type"),
                format!("unknown cancer type `{}`", regimen.cancer_type.get_ref()),
            );
        }
        if regimen.drugs.is_empty() {
            diagnostics.error_at_key(
                file,
                &["plans", &entry.plan_key, "programs", &entry.entry_key, "regimens", key],
                "must list drugs",
            );
        }
        let mut seen = BTreeSet::new();
        for (index, drug) in regimen.drugs.iter().enumerate() {
            let code = normalize_code(drug.get_ref());
            let problem = if !matches!(CodePattern::parse(&code), Ok(CodePattern::Exact(_))) {
                Some(format!("`{code}` must be one HCPCS code"))
            } else if !seen.insert(code.clone()) {
                Some(format!("`{code}` is listed twice"))
            } else if !routes(&code) {
                Some(format!("`{code}` is not a code of program `{}`", entry.program_key()))
            } else if entry.is_supportive_drug(&code) {
                Some(format!("`{code}` is a supportive drug (authorized separately), not part of a regimen"))
            } else {
                None
            };
            if let Some(message) = problem {
                diagnostics.error(file, drug.span(), format!("{field}.drugs[{index}]"), message);
            }
        }
        if let Some(validity) = &regimen.validity {
            positive_limit(validity, &format!("{field}.validity"), file, diagnostics);
            match &entry.approval_validity {
                Some(range) => {
                    if let Some(message) = outside(*validity.get_ref(), range) {
                        diagnostics.error(file, validity.span(), format!("{field}.validity"), message);
                    }
                }
                None => diagnostics.error(
                    file,
                    validity.span(),
                    format!("{field}.validity"),
                    "the program has no approval_validity",
                ),
            }
        }
    }
}

/// Code ranges of two programs of one plan that serve a common line of business must not
/// overlap: the routing of a code would be ambiguous. Reported once per pair of codes.
fn check_overlaps(
    plan: &Plan,
    programs: &BTreeMap<String, ProgramDefinition>,
    program_files: &BTreeMap<String, usize>,
    reported: &mut BTreeSet<(String, usize, String, usize)>,
    diagnostics: &mut Diagnostics,
) {
    let entries: Vec<&ProgramPolicy> = plan.programs.values().collect();
    for (i, a) in entries.iter().enumerate() {
        for b in &entries[i + 1..] {
            if a.program_key() == b.program_key() {
                continue;
            }
            let Some(common) = a.lines_of_business.iter().map(|l| *l.get_ref()).find(|lob| b.serves(*lob)) else {
                continue;
            };
            let (Some(pa), Some(pb)) = (programs.get(a.program_key()), programs.get(b.program_key())) else {
                continue;
            };
            report_overlaps(pa, pb, &plan.key, common, program_files, reported, diagnostics);
        }
    }
}

fn report_overlaps(
    pa: &ProgramDefinition,
    pb: &ProgramDefinition,
    plan: &str,
    lob: LineOfBusiness,
    program_files: &BTreeMap<String, usize>,
    reported: &mut BTreeSet<(String, usize, String, usize)>,
    diagnostics: &mut Diagnostics,
) {
    let indexed = |p: &ProgramDefinition| -> Vec<(usize, CodePattern, Range<usize>)> {
        p.codes
            .iter()
            .enumerate()
            .filter_map(|(i, c)| CodePattern::parse(c.get_ref()).ok().map(|pattern| (i, pattern, c.span())))
            .collect()
    };
    let file = program_files.get(&pb.key).copied().unwrap_or(0);
    for (ia, pattern_a, _) in indexed(pa) {
        for (ib, pattern_b, span_b) in indexed(pb) {
            if pattern_a.overlaps(&pattern_b) && reported.insert((pa.key.clone(), ia, pb.key.clone(), ib)) {
                diagnostics.error(
                    file,
                    span_b.clone(),
                    format!("programs.{}.codes[{ib}]", pb.key),
                    format!(
                        "`{pattern_b}` overlaps `{pattern_a}` of program `{}`; both are enabled for plan `{plan}` ({lob})",
                        pa.key
                    ),
                );
            }
        }
    }
}

/// HTTP credentials of a partner: both fields or neither, a user name no other partner has, and a
/// password hash the daemon can verify (an argon2 PHC string).
fn check_partner_credentials(
    partner: &super::model::PartnerSettings,
    index: usize,
    earlier: &[super::model::PartnerSettings],
    file: usize,
    diagnostics: &mut Diagnostics,
) {
    match (&partner.http_username, &partner.http_password_hash) {
        (None, None) => {}
        (Some(username), None) => diagnostics.error(
            file,
            username.span(),
            format!("partners[{index}].http_username"),
            "needs http_password_hash too (make one with `umgate partner hash-password`)",
        ),
        (None, Some(hash)) => diagnostics.error(
            file,
            hash.span(),
            format!("partners[{index}].http_password_hash"),
            "needs http_username too",
        ),
        (Some(username), Some(hash)) => {
            let name = username.get_ref();
            if name.is_empty() || name.contains(':') || name.chars().any(char::is_control) {
                diagnostics.error(
                    file,
                    username.span(),
                    format!("partners[{index}].http_username"),
                    "must be non-empty, without ':' or control characters (HTTP Basic)",
                );
            } else if earlier.iter().any(|p| p.http_username.as_ref().is_some_and(|u| u.get_ref() == name)) {
                diagnostics.error(
                    file,
                    username.span(),
                    format!("partners[{index}].http_username"),
                    "is already the user name of another partner",
                );
            }
            if let Err(problem) = crate::policy::credentials::check_password_hash(hash.get_ref()) {
                diagnostics.error(file, hash.span(), format!("partners[{index}].http_password_hash"), problem);
            }
        }
    }
}
