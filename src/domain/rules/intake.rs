//! The intake decision (SPEC §3 steps 1–3, §8): route to a program, apply the exclusions, the
//! retro window and the urgency definition, detect overlaps and updates, and run the program's
//! pathway. Pure: the service gives it the roster entry, the member's earlier cases and the time,
//! and stores what it returns. Every step leaves a trace naming its rule and configuration entry.

use chrono::{DateTime, NaiveDate, Utc};

use super::eligibility::{IntakeRejection, check_eligibility};
use crate::domain::calendar::{beyond_window, decision_due};
use crate::domain::events::EventKind;
use crate::domain::model::{
    Case, CaseLink, CaseRequest, CaseStatus, LineOfBusiness, LineStatus, MemberRecord, PendReason, RegimenChoice,
    Urgency,
};
use crate::domain::terms::{Cited, Pathway, ProgramTerms, RegimenMatch, UmPolicy};

/// What intake needs besides the request.
#[derive(Debug, Clone, Copy)]
pub struct IntakeInput<'a> {
    pub request: &'a CaseRequest,
    pub member: Option<&'a MemberRecord>,
    /// Earlier cases of the member (therapy episodes, overlapping requests).
    pub member_cases: &'a [Case],
    pub received_at: DateTime<Utc>,
    /// The case an authorization update replaces.
    pub replaces: Option<&'a Case>,
    /// Whether the requesting provider is on file for the member's plan, when it was looked up
    /// (it is when the plan requires it: `UmPolicy::requester_on_file_required`).
    pub requester_on_file: Option<bool>,
}

/// The outcome of intake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IntakeOutcome {
    NoActionRequired,
    AdministrativeDenial,
    Approve,
    Pend(PendReason),
}

/// One step of the explainable trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceStep {
    pub kind: EventKind,
    pub rule: &'static str,
    pub config_path: Option<String>,
    pub detail: String,
}

/// Everything intake decided; the service turns it into a stored case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntakeDecision {
    pub plan: String,
    pub line_of_business: LineOfBusiness,
    pub program: Option<String>,
    pub terms: Option<ProgramTerms>,
    pub outcome: IntakeOutcome,
    pub line_statuses: Vec<LineStatus>,
    pub effective_urgency: Urgency,
    pub regimen: Option<RegimenChoice>,
    pub link: Option<CaseLink>,
    pub decision_due: Option<DateTime<Utc>>,
    pub date_of_service: NaiveDate,
    pub trace: Vec<TraceStep>,
}

/// Intake failures: a business reject, or a configuration that names a program without terms.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IntakeError {
    #[error("request rejected: {0}")]
    Rejected(#[from] IntakeRejection),
    #[error("program {program} of plan {plan} has no terms for this line of business")]
    MissingTerms { plan: String, program: String },
}

fn step(kind: EventKind, rule: &'static str, config_path: Option<&str>, detail: impl Into<String>) -> TraceStep {
    TraceStep { kind, rule, config_path: config_path.map(str::to_owned), detail: detail.into() }
}

/// Runs the intake rules.
pub fn evaluate_intake<P: UmPolicy + ?Sized>(
    policy: &P,
    input: IntakeInput<'_>,
) -> Result<IntakeDecision, IntakeError> {
    let request = input.request;
    let (member, date_of_service) = check_eligibility(request, input.member)?;
    let plan = member.plan.clone();
    let lob = member.line_of_business;
    let mut trace = vec![step(
        EventKind::RuleEvaluated,
        "intake.eligibility",
        None,
        format!("member covered by plan {plan} ({lob:?}) on the date of service"),
    )];
    // The provider registry, where the plan (or `[intake]`) requires the requester on file. Not
    // looked up counts as not on file: the rule is never skipped silently.
    if let Some(required) = policy.requester_on_file_required(&plan).filter(|required| required.value) {
        if input.requester_on_file != Some(true) {
            return Err(IntakeRejection::RequesterNotOnFile.into());
        }
        trace.push(step(
            EventKind::RuleEvaluated,
            "intake.requester_on_file",
            Some(&required.config_path),
            "requesting provider on file",
        ));
    }

    let mut decision = IntakeDecision {
        plan: plan.clone(),
        line_of_business: lob,
        program: None,
        terms: None,
        outcome: IntakeOutcome::NoActionRequired,
        line_statuses: vec![LineStatus::NotRequired; request.lines.len()],
        effective_urgency: request.urgency,
        regimen: None,
        link: None,
        decision_due: None,
        date_of_service,
        trace: Vec::new(),
    };

    // Settings that never need authorization (emergency room, observation, inpatient).
    let exemptions: Vec<Option<_>> = request.lines.iter().map(|line| policy.exemption(line)).collect();
    if let Some(first) = exemptions.iter().flatten().next() {
        let exempt = exemptions.iter().flatten().count();
        trace.push(step(
            EventKind::RuleEvaluated,
            "intake.exemption",
            Some(&first.config_path),
            format!("{exempt} line(s) in a setting that never needs authorization ({})", first.value),
        ));
    }
    if exemptions.iter().all(Option::is_some) {
        decision.trace = trace;
        return Ok(decision);
    }

    // Program: the first non-exempt line whose code a program of the plan lists decides it.
    let routed: Vec<Option<_>> = request
        .lines
        .iter()
        .zip(&exemptions)
        .map(|(line, exempt)| match exempt {
            Some(_) => None,
            None => policy.program_for(&plan, lob, &line.service_code),
        })
        .collect();
    let Some(program) = routed.iter().flatten().next().cloned() else {
        trace.push(step(
            EventKind::RuleEvaluated,
            "intake.program",
            None,
            "no program of the plan covers the requested codes: no authorization required",
        ));
        decision.trace = trace;
        return Ok(decision);
    };
    let terms = policy
        .terms(&plan, lob, &program.value)
        .ok_or_else(|| IntakeError::MissingTerms { plan: plan.clone(), program: program.value.clone() })?;
    trace.push(step(
        EventKind::RuleEvaluated,
        "intake.program",
        Some(&program.config_path),
        format!("routed to program {}", program.value),
    ));
    decision.program = Some(program.value.clone());
    // Every line some program of the plan lists needs authorization, whichever program lists it:
    // never NA for such a line. Lines of another program make the request a multi-program one.
    let mut other_programs: Vec<(usize, &Cited<String>)> = Vec::new();
    for (index, routed) in routed.iter().enumerate() {
        if let Some(routed) = routed {
            decision.line_statuses[index] = LineStatus::Pending;
            if routed.value != program.value {
                other_programs.push((index, routed));
            }
        }
    }
    let excluded_dx = &terms.excluded_diagnosis_prefixes;
    if let Some(code) = request
        .diagnoses
        .iter()
        .find(|code| excluded_dx.value.iter().any(|prefix| normalized_dx(code).starts_with(&normalized_dx(prefix))))
    {
        trace.push(step(
            EventKind::RuleEvaluated,
            "intake.excluded_diagnosis",
            Some(&excluded_dx.config_path),
            format!("diagnosis {code} is excluded from the program: no authorization required"),
        ));
        for (index, status) in decision.line_statuses.iter_mut().enumerate() {
            if !other_programs.iter().any(|(other, _)| *other == index) {
                *status = LineStatus::NotRequired;
            }
        }
        if other_programs.is_empty() {
            decision.terms = Some(terms);
            decision.trace = trace;
            return Ok(decision);
        }
    }

    // Retro window.
    let received_day = input.received_at.date_naive();
    let retro = date_of_service < received_day;
    if retro {
        let window = &terms.retro_window;
        if beyond_window(policy, &plan, window.value, date_of_service, received_day) {
            trace.push(step(
                EventKind::RuleEvaluated,
                "intake.retro_window",
                Some(&window.config_path),
                format!("submitted after the retro window ({:?}) following the date of service", window.value),
            ));
            set_pending_lines(&mut decision.line_statuses, LineStatus::Denied);
            decision.outcome = IntakeOutcome::AdministrativeDenial;
            decision.terms = Some(terms);
            decision.trace = trace;
            return Ok(decision);
        }
        trace.push(step(
            EventKind::RuleEvaluated,
            "intake.retro_window",
            Some(&window.config_path),
            format!("retrospective request inside the retro window ({:?})", window.value),
        ));
    }

    // Urgency definition: an urgent request needs at least one clinical document.
    if request.urgency == Urgency::Urgent
        && (request.attachments.len() as u64) < u64::from(terms.urgent_min_documents.value)
    {
        decision.effective_urgency = Urgency::Standard;
        trace.push(step(
            EventKind::UrgencyDowngraded,
            "intake.urgency_definition",
            Some(&terms.urgent_min_documents.config_path),
            format!(
                "urgent request with {} of the {} clinical document(s) required: processed as standard",
                request.attachments.len(),
                terms.urgent_min_documents.value
            ),
        ));
    }
    let clock = terms.decision_clock(retro, decision.effective_urgency);
    decision.decision_due = Some(decision_due(policy, &plan, clock.value, input.received_at));
    trace.push(step(
        EventKind::RuleEvaluated,
        "workflow.decision_clock",
        Some(&clock.config_path),
        format!("{:?} decision clock {:?}", decision.effective_urgency, clock.value),
    ));

    decision.outcome = match other_programs.first() {
        // Simplest correct behaviour: one case, one clinical review of every line, instead of
        // deciding part of the request on one program's pathway and answering NA for the rest.
        Some((_, other)) if input.replaces.is_none() => {
            let mut names: Vec<&str> = other_programs.iter().map(|(_, other)| other.value.as_str()).collect();
            names.sort_unstable();
            names.dedup();
            trace.push(step(
                EventKind::Pended,
                "intake.multiple_programs",
                Some(&other.config_path),
                format!(
                    "{} line(s) belong to program(s) {} besides {}: every line pended for clinical review",
                    other_programs.len(),
                    names.join(", "),
                    program.value
                ),
            ));
            IntakeOutcome::Pend(PendReason::ClinicalReview)
        }
        _ => pathway_outcome(policy, &input, &terms, &plan, date_of_service, &mut decision, &mut trace),
    };
    decision.terms = Some(terms);
    decision.trace = trace;
    Ok(decision)
}

/// ICD-10 without dots and upper-case (X12 sends `C50911`, people write `C50.911`).
fn normalized_dx(code: &str) -> String {
    code.trim().chars().filter(|c| *c != '.').map(|c| c.to_ascii_uppercase()).collect()
}

fn set_pending_lines(statuses: &mut [LineStatus], to: LineStatus) {
    statuses.iter_mut().filter(|status| **status == LineStatus::Pending).for_each(|status| *status = to);
}

fn pathway_outcome<P: UmPolicy + ?Sized>(
    policy: &P,
    input: &IntakeInput<'_>,
    terms: &ProgramTerms,
    plan: &str,
    date_of_service: NaiveDate,
    decision: &mut IntakeDecision,
    trace: &mut Vec<TraceStep>,
) -> IntakeOutcome {
    let request = input.request;
    if let Some(original) = input.replaces {
        decision.link = Some(CaseLink::Replaces { original: original.id.clone() });
        trace.push(step(
            EventKind::Pended,
            "workflow.authorization_update",
            None,
            format!("update of case {}: new clinical review", original.id),
        ));
        return IntakeOutcome::Pend(PendReason::ClinicalReview);
    }
    let overlapping = input.member_cases.iter().filter(|_| terms.overlap_as_additional_units.value).find(|case| {
        case.plan == plan && case.program.as_deref() == Some(terms.program.as_str()) && case.covers(date_of_service)
    });
    if let Some(original) = overlapping {
        decision.link = Some(CaseLink::OverlapsWith { original: original.id.clone() });
        trace.push(step(
            EventKind::Pended,
            "workflow.overlapping_request",
            Some(&terms.overlap_as_additional_units.config_path),
            format!("services inside the open approved period of case {}: reviewed as additional units", original.id),
        ));
        return IntakeOutcome::Pend(PendReason::OverlappingRequest { original: original.id.clone() });
    }

    let pathway = &terms.pathway;
    match pathway.value {
        Pathway::Regimen => {
            let drug_codes: Vec<String> = request
                .lines
                .iter()
                .zip(&decision.line_statuses)
                .filter(|(_, status)| **status == LineStatus::Pending)
                .map(|(line, _)| line.service_code.clone())
                .collect();
            let primary = request.primary_diagnosis().unwrap_or_default();
            let matches = policy.regimens(plan, decision.line_of_business, &terms.program, primary, &drug_codes);
            regimen_outcome(matches, decision, trace, &pathway.config_path)
        }
        Pathway::RealTimeEpisode => {
            let Some(limit) = &terms.real_time_requests_per_episode else {
                trace.push(step(EventKind::Pended, "pathway.clinical_review", Some(&pathway.config_path), ""));
                return IntakeOutcome::Pend(PendReason::ClinicalReview);
            };
            let codes: Vec<&str> = request
                .lines
                .iter()
                .zip(&decision.line_statuses)
                .filter(|(_, status)| **status == LineStatus::Pending)
                .map(|(line, _)| line.service_code.as_str())
                .collect();
            let qualifies = codes.iter().all(|code| terms.real_time_codes.iter().any(|rt| rt == code));
            let earlier = episode_requests(policy, input, terms, date_of_service, &codes);
            if qualifies && earlier < limit.value as usize {
                trace.push(step(
                    EventKind::RuleEvaluated,
                    "pathway.therapy.real_time",
                    Some(&limit.config_path),
                    format!("request {} of the episode: decided in real time", earlier + 1),
                ));
                IntakeOutcome::Approve
            } else {
                trace.push(step(
                    EventKind::Pended,
                    "pathway.therapy.real_time",
                    Some(&limit.config_path),
                    if qualifies {
                        format!("request {} of the episode: clinical review", earlier + 1)
                    } else {
                        "codes not eligible for a real-time decision: clinical review".to_owned()
                    },
                ));
                IntakeOutcome::Pend(PendReason::ClinicalReview)
            }
        }
        Pathway::Questions => {
            trace.push(step(
                EventKind::Pended,
                "pathway.questions",
                Some(&pathway.config_path),
                "pathway questions must be answered through the provider API",
            ));
            IntakeOutcome::Pend(PendReason::AwaitingPathwayAnswers)
        }
        Pathway::ClinicalReview => {
            trace.push(step(
                EventKind::Pended,
                "pathway.clinical_review",
                Some(&pathway.config_path),
                "no intake criteria: clinical review",
            ));
            IntakeOutcome::Pend(PendReason::ClinicalReview)
        }
    }
}

/// Earlier requests of the same therapy episode: same plan, program, requesting provider and
/// discipline code, not cancelled, withdrawn, expired or unsubmitted, each starting no more than
/// the configured gap before the next one (walking back from this request's date of service).
fn episode_requests<P: UmPolicy + ?Sized>(
    policy: &P,
    input: &IntakeInput<'_>,
    terms: &ProgramTerms,
    date_of_service: NaiveDate,
    codes: &[&str],
) -> usize {
    let mut starts: Vec<NaiveDate> = input
        .member_cases
        .iter()
        .filter(|case| {
            case.plan == terms.plan
                && case.program.as_deref() == Some(terms.program.as_str())
                && case.request.requesting_provider.npi == input.request.requesting_provider.npi
                && !matches!(
                    case.status,
                    CaseStatus::Cancelled
                        | CaseStatus::Withdrawn
                        | CaseStatus::Expired
                        | CaseStatus::InProgress
                        | CaseStatus::NoActionRequired
                )
                && case.request.lines.iter().any(|line| codes.contains(&line.service_code.as_str()))
        })
        .filter_map(|case| case.request.date_of_service())
        .filter(|start| *start <= date_of_service)
        .collect();
    let Some(gap) = &terms.episode_max_gap else {
        return starts.len();
    };
    starts.sort_unstable_by(|a, b| b.cmp(a));
    let mut next = date_of_service;
    let mut count = 0;
    for start in starts {
        if beyond_window(policy, &terms.plan, gap.value, start, next) {
            break;
        }
        count += 1;
        next = start;
    }
    count
}

/// Preferred → approve; non-preferred → P2P offered; none → custom (clinical review); matches of
/// different preference → the requester must choose the regimen.
pub(crate) fn regimen_outcome(
    matches: Vec<RegimenMatch>,
    decision: &mut IntakeDecision,
    trace: &mut Vec<TraceStep>,
    pathway_path: &str,
) -> IntakeOutcome {
    let Some(first) = matches.first() else {
        trace.push(step(
            EventKind::Pended,
            "pathway.regimen.custom",
            Some(pathway_path),
            "drug set matches no configured regimen: custom regimen, clinical review",
        ));
        return IntakeOutcome::Pend(PendReason::ClinicalReview);
    };
    if matches.iter().any(|candidate| candidate.preferred != first.preferred) {
        let candidates: Vec<String> = matches.iter().map(|candidate| candidate.name.clone()).collect();
        trace.push(step(
            EventKind::Pended,
            "pathway.regimen.ambiguous",
            Some(&first.config_path),
            format!("drug set shared by regimens of different preference: {}", candidates.join(", ")),
        ));
        return IntakeOutcome::Pend(PendReason::AwaitingRegimenChoice { candidates });
    }
    decision.regimen = Some(RegimenChoice { regimen: first.name.clone(), preferred: first.preferred });
    regimen_choice_outcome(first, trace)
}

/// The outcome for one known regimen.
pub(crate) fn regimen_choice_outcome(regimen: &RegimenMatch, trace: &mut Vec<TraceStep>) -> IntakeOutcome {
    if regimen.preferred {
        trace.push(step(
            EventKind::RuleEvaluated,
            "pathway.regimen.preferred",
            Some(&regimen.config_path),
            format!("preferred regimen {}: immediate approval", regimen.name),
        ));
        IntakeOutcome::Approve
    } else {
        trace.push(step(
            EventKind::Pended,
            "pathway.regimen.non_preferred",
            Some(&regimen.config_path),
            format!("non-preferred regimen {}: peer-to-peer offered", regimen.name),
        ));
        IntakeOutcome::Pend(PendReason::PeerToPeerOffered { regimen: regimen.name.clone() })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::domain::model::test_support::{sample_case, sample_member, sample_request};
    use crate::domain::model::{Attachment, MemberRecord};
    use crate::domain::terms::table_policy::{TablePolicy, cited};
    use chrono::TimeZone;

    fn member() -> MemberRecord {
        sample_member()
    }

    // Wednesday 2026-03-04, 10:00 UTC.
    fn received() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 4, 10, 0, 0).unwrap()
    }

    fn run(policy: &TablePolicy, request: &CaseRequest, earlier: &[Case]) -> Result<IntakeDecision, IntakeError> {
        let member = member();
        let input = IntakeInput {
            request,
            member: Some(&member),
            member_cases: earlier,
            received_at: received(),
            replaces: None,
            requester_on_file: None,
        };
        evaluate_intake(policy, input)
    }

    #[test]
    fn unknown_member_and_bad_birth_date_are_rejected() {
        let policy = TablePolicy::new(Pathway::ClinicalReview, &["77301"]);
        let mut request = sample_request("77301", received().date_naive());
        let input = IntakeInput {
            request: &request,
            member: None,
            member_cases: &[],
            received_at: received(),
            replaces: None,
            requester_on_file: None,
        };
        assert_eq!(evaluate_intake(&policy, input), Err(IntakeError::Rejected(IntakeRejection::MemberNotFound)));
        request.member.birth_date = NaiveDate::from_ymd_opt(1990, 1, 1).unwrap();
        assert_eq!(run(&policy, &request, &[]), Err(IntakeError::Rejected(IntakeRejection::BirthDateMismatch)));
    }

    #[test]
    fn excluded_places_codes_and_diagnoses_need_no_authorization() {
        let policy = TablePolicy::new(Pathway::ClinicalReview, &["77301", "G0378"]);
        for pos in ["21", "23"] {
            let mut request = sample_request("77301", received().date_naive());
            request.lines[0].place_of_service = Some(pos.into());
            assert_eq!(run(&policy, &request, &[]).unwrap().outcome, IntakeOutcome::NoActionRequired, "POS {pos}");
        }
        let request = sample_request("G0378", received().date_naive());
        assert_eq!(run(&policy, &request, &[]).unwrap().outcome, IntakeOutcome::NoActionRequired);
        let mut request = sample_request("77301", received().date_naive());
        request.diagnoses.push("Z948".into());
        let decision = run(&policy, &request, &[]).unwrap();
        assert_eq!(decision.outcome, IntakeOutcome::NoActionRequired);
        assert_eq!(decision.trace.last().map(|s| s.rule), Some("intake.excluded_diagnosis"));
        let request = sample_request("99999", received().date_naive());
        assert_eq!(run(&policy, &request, &[]).unwrap().program, None);
    }

    #[test]
    fn retro_window_in_business_days() {
        let policy = TablePolicy::new(Pathway::ClinicalReview, &["77301"]);
        // Received Wednesday: Tuesday is 1 business day back, Monday 2.
        let inside = sample_request("77301", NaiveDate::from_ymd_opt(2026, 3, 3).unwrap());
        assert_eq!(run(&policy, &inside, &[]).unwrap().outcome, IntakeOutcome::Pend(PendReason::ClinicalReview));
        let outside = sample_request("77301", NaiveDate::from_ymd_opt(2026, 3, 2).unwrap());
        let decision = run(&policy, &outside, &[]).unwrap();
        assert_eq!(decision.outcome, IntakeOutcome::AdministrativeDenial);
        assert_eq!(decision.line_statuses, vec![LineStatus::Denied]);
    }

    #[test]
    fn urgent_without_document_is_standard_with_the_standard_clock() {
        let policy = TablePolicy::new(Pathway::Questions, &["RC001"]);
        let mut request = sample_request("RC001", received().date_naive());
        request.urgency = Urgency::Urgent;
        let decision = run(&policy, &request, &[]).unwrap();
        assert_eq!(decision.effective_urgency, Urgency::Standard);
        assert_eq!(decision.decision_due, Some(Utc.with_ymd_and_hms(2026, 3, 6, 10, 0, 0).unwrap()));
        request.attachments.push(Attachment {
            report_type: "09".into(),
            transmission: "EL".into(),
            control_id: "X".into(),
        });
        let decision = run(&policy, &request, &[]).unwrap();
        assert_eq!(decision.effective_urgency, Urgency::Urgent);
        assert_eq!(decision.decision_due, Some(received() + chrono::Duration::hours(24)));
        assert_eq!(decision.outcome, IntakeOutcome::Pend(PendReason::AwaitingPathwayAnswers));
    }

    #[test]
    fn regimens_preferred_non_preferred_custom_and_ambiguous() {
        let mut policy = TablePolicy::new(Pathway::Regimen, &["J9000", "J9070", "J9267"]);
        let regimen = |name: &str, preferred| RegimenMatch {
            name: name.into(),
            preferred,
            config_path: format!("regimens.{name}"),
            validity: None,
        };
        let ac_t = vec!["J9000".to_owned(), "J9070".to_owned(), "J9267".to_owned()];
        policy.regimens =
            vec![(ac_t.clone(), regimen("ddAC-T", true)), (vec!["J9000".into(), "J9070".into()], regimen("AC", false))];
        let mut request = sample_request("J9000", received().date_naive());
        let mut second = request.lines[0].clone();
        second.service_code = "J9070".into();
        request.lines.push(second);
        assert_eq!(
            run(&policy, &request, &[]).unwrap().outcome,
            IntakeOutcome::Pend(PendReason::PeerToPeerOffered { regimen: "AC".into() })
        );
        let mut third = request.lines[0].clone();
        third.service_code = "J9267".into();
        request.lines.push(third);
        let decision = run(&policy, &request, &[]).unwrap();
        assert_eq!(decision.outcome, IntakeOutcome::Approve);
        assert_eq!(decision.regimen.map(|r| r.regimen), Some("ddAC-T".into()));
        policy.regimens.push((ac_t, regimen("AC-weekly-T", false)));
        assert_eq!(
            run(&policy, &request, &[]).unwrap().outcome,
            IntakeOutcome::Pend(PendReason::AwaitingRegimenChoice {
                candidates: vec!["ddAC-T".into(), "AC-weekly-T".into()]
            })
        );
        request.lines.truncate(1);
        assert_eq!(run(&policy, &request, &[]).unwrap().outcome, IntakeOutcome::Pend(PendReason::ClinicalReview));
    }

    #[test]
    fn therapy_episode_counts_earlier_requests_within_the_gap() {
        let mut policy = TablePolicy::new(Pathway::RealTimeEpisode, &["MSMPT", "MSMST"]);
        policy.terms.episode_max_gap = Some(cited(crate::domain::terms::DayCount::Calendar(60)));
        let request = sample_request("MSMPT", received().date_naive());
        let earlier = |id: &str, days_before: u64| {
            let mut case = sample_case(id, received());
            case.plan = "plan".into();
            case.program = Some("program".into());
            case.status = CaseStatus::Approved;
            case.request = sample_request("MSMPT", received().date_naive() - chrono::Days::new(days_before));
            case
        };
        assert_eq!(run(&policy, &request, &[]).unwrap().outcome, IntakeOutcome::Approve);
        assert_eq!(run(&policy, &request, &[earlier("A", 30)]).unwrap().outcome, IntakeOutcome::Approve);
        assert_eq!(
            run(&policy, &request, &[earlier("A", 30), earlier("B", 70)]).unwrap().outcome,
            IntakeOutcome::Pend(PendReason::ClinicalReview)
        );
        // A gap longer than the episode's starts a new episode.
        assert_eq!(
            run(&policy, &request, &[earlier("A", 61), earlier("B", 100)]).unwrap().outcome,
            IntakeOutcome::Approve
        );
        let speech = sample_request("MSMST", received().date_naive());
        assert_eq!(run(&policy, &speech, &[]).unwrap().outcome, IntakeOutcome::Pend(PendReason::ClinicalReview));
    }
}
