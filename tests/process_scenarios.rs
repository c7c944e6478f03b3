//! End-to-end scenarios of issue 5: 278 requests for every program of the sample configuration
//! (`samples/umgate.toml` + `samples/plans/*.toml`), driven through the real binary
//! (`umgate process --json --out DIR`) on a fresh database, on SQLite and on PostgreSQL (the
//! stores_support harness: PostgreSQL is skipped loudly without DATABASE_URL and fails with
//! UMGATE_REQUIRE_POSTGRES=1).
//!
//! One row of [`scenarios`] per (program × outcome) the configuration makes reachable: approval in
//! real time, pend, retro window (inside / beyond), no authorization needed (emergency room,
//! inpatient, observation, a code no program of the plan lists, excluded diagnoses), business
//! rejects (unknown member, birth date, coverage, requester not on file). The provider registry
//! holds `samples/providers.csv` (the rows' requester is on file). Each row names the rule it checks (SPEC section
//! and configuration path), so a failure says what broke. The requests are built here with dates
//! relative to the fixed moment (`UMGATE_FIXED_TIME`), each for a member of its own (a roster
//! written by the test), so rows never influence each other; rows that need history (the third
//! therapy request of an episode) carry their earlier requests, processed before them.
//!
//! Each answer is read with a plain segment splitter and checked for HCR01/HCR02, the certified
//! period (DTP 007 / 036), the issue date (DTP 102), HSD quantities, AAA at the right loop; the
//! case in the store for its plan, program, pend reason and authorization number. Every answer
//! must pass `umgate validate`, and x12-types must read every 278 response with the same HCR01 and
//! AAA03 values. The whole answer of each row is also kept as a golden file
//! (`tests/golden/process_scenarios/ROW.x12`, the same on both stores; `UMGATE_UPDATE_GOLDEN=1`
//! after an intended change, e.g. new rows renumber the members and control numbers after them).
//!
//! Judgements where the SPEC leaves the 278 open (the guide decides):
//! - a request after the retro window is a valid 278 with a business outcome: HCR01 A3
//!   ("administratively denied", SPEC §3.2), not an AAA (AAA is for invalid requests);
//! - emergency room / inpatient / observation: HCR01 NA (the guide's "no action required"), and a
//!   case is still opened (REF*NT) so the answer can be looked up;
//! - business rejects use the guide's AAA03 at the loop of the problem with AAA01 N: 75 (subscriber
//!   not found, 2010C, even when a dependent is the patient: the roster is keyed by the subscriber
//!   ID), 71 (birth date mismatch, the patient's loop), 95 (patient not eligible on the date of
//!   service, follow-up N), 43 (requesting provider identification, 2010B); AAA04 C otherwise;
//! - the event date (DTP*AAH, 2000E) and service dates (DTP*472, 2000F) stay the requested ones;
//!   a certification carries its issue date (DTP*102), its certified period as the certification
//!   effective date (DTP*007, RD8) and its last day as the expiration date (DTP*036), at 2000E and
//!   on every certified line (docs/decisions/0005); HCR03 is not asserted (reason codes are being
//!   added by another change).
//!
//! Reachability (why some program × outcome pairs have no row):
//! - radiation oncology and MSK interventional pain never approve in real time: their pathway
//!   questions (SPEC §3 step 3, §8 "Clinical pathway answers that X12 cannot carry") arrive through
//!   the provider API, so a 278 alone is always pended (A4); their approval validity (MSK 60/180
//!   days) applies to review decisions, not to `umgate process`.
//! - the 8-month validity of `breast-ddAC-T` is unreachable from X12: its drug set is shared with
//!   non-preferred regimens (SPEC §8), so it is pended for the regimen choice.
#![allow(clippy::unwrap_used)]

mod stores_support;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use anyhow::{Context, ensure};
use chrono::{Days, Months, NaiveDate};
use stores_support::{TestDb, TestResult};
use umgate::domain::{Case, PendReason};
use umgate::storage::repository::case_from_record;
use x12_types::util::Parser;

/// The fixed moment of a run (`UMGATE_FIXED_TIME`): requests are received then and real-time
/// decisions are dated then. Rows give their dates in days relative to its day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Clock(&'static str);

/// Wednesday 2026-03-04 14:00: most rows.
const WEDNESDAY: Clock = Clock("2026-03-04T14:00");
/// Tuesday 2026-01-20 14:00, the day after a holiday of the plans' calendar (2026-01-19,
/// `calendars.us-federal.holidays`): business-day windows must skip it.
const AFTER_HOLIDAY: Clock = Clock("2026-01-20T14:00");

impl Clock {
    fn today(self) -> NaiveDate {
        NaiveDate::parse_from_str(&self.0[..10], "%Y-%m-%d").unwrap()
    }

    /// A day relative to the fixed day.
    fn day(self, offset: i64) -> NaiveDate {
        self.today().checked_add_signed(chrono::Duration::days(offset)).unwrap()
    }
}

// ------------------------------------------------------------------------------------------------
// The table
// ------------------------------------------------------------------------------------------------

/// Roster entry of the row's member: plan key and line of business (SPEC §8 routing).
#[derive(Debug, Clone, Copy)]
struct Coverage {
    plan: &'static str,
    lob: &'static str,
    /// Coverage ended this many days before the fixed day (None: open-ended).
    ended_days_ago: Option<i64>,
}

const fn covered(plan: &'static str, lob: &'static str) -> Coverage {
    Coverage { plan, lob, ended_days_ago: None }
}

const RO_MA: Coverage = covered("healthspring-ma", "medicare");
const CIGNA: Coverage = covered("cigna-commercial", "commercial");
const HS_MA: Coverage = covered("healthspring-ma", "medicare");
const AETNA_MEDICARE: Coverage = covered("aetna-medicare", "medicare");
const AETNA_MEDICAID: Coverage = covered("aetna-medicaid", "medicaid");
const ABH_MEDICAID: Coverage = covered("aetna-better-health-il", "medicaid");
const ABH_DUAL: Coverage = covered("aetna-better-health-il", "dual");

/// Who the request is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Member {
    /// The subscriber is the patient and is on the roster.
    Rostered,
    /// The subscriber is the patient; nobody with this ID is on the roster.
    Unknown,
    /// On the roster, but the request carries another birth date.
    WrongBirthDate,
    /// The patient is a dependent (2000D); the roster entry under the subscriber's ID carries the
    /// patient's birth date (as `samples/roster.csv` does for M500000001).
    Dependent,
    /// A dependent whose subscriber ID is on no roster.
    DependentOfUnknown,
    /// A dependent whose birth date differs from the roster's.
    DependentWrongBirthDate,
    /// On the roster and sent with the same birth date, which is after the date of service.
    BornAfterService,
}

/// One requested service line: SV1 procedure (qualifier:code) and its quantity.
#[derive(Debug, Clone, Copy)]
struct Line {
    code: &'static str,
    /// SV1 units (UN) quantity, or HSD visits (VS) for therapy program codes.
    quantity: Quantity,
    /// A supportive drug the configuration authorizes separately: an approval gives the line a
    /// certification number of its own (HCR02), stored on the case's line.
    separate: bool,
}

#[derive(Debug, Clone, Copy)]
enum Quantity {
    Units(u32),
    Visits(u32),
    None,
}

const fn units(code: &'static str, n: u32) -> Line {
    Line { code, quantity: Quantity::Units(n), separate: false }
}
const fn visits(code: &'static str, n: u32) -> Line {
    Line { code, quantity: Quantity::Visits(n), separate: false }
}
const fn bare(code: &'static str) -> Line {
    Line { code, quantity: Quantity::None, separate: false }
}
/// A supportive drug (`supportive_drugs` of the plan's program entry), in units.
const fn supportive(code: &'static str, n: u32) -> Line {
    Line { code, quantity: Quantity::Units(n), separate: true }
}

/// What the request asks for.
#[derive(Debug, Clone, Copy)]
struct Request {
    /// UM04 (facility code and qualifier), on the event and every line.
    place_of_service: &'static str,
    /// Requested service dates, days from the fixed day (inclusive range; equal = one day).
    from: i64,
    to: i64,
    diagnoses: &'static [&'static str],
    lines: &'static [Line],
    /// 2010B NM109 of the requesting provider.
    requester_npi: &'static str,
}

/// A well-formed NPI (Luhn check digit with the 80840 prefix), on file (samples/providers.csv).
const GOOD_NPI: &str = "1234567893";
/// A well-formed NPI that is not in samples/providers.csv.
const NPI_NOT_ON_FILE: &str = "1245319599";

/// How the certified period is computed (the program's validity rule).
#[derive(Debug, Clone, Copy)]
enum Period {
    /// No validity configured: the requested dates.
    Requested,
    /// `approval_validity` / a regimen's `validity` in months, counted from the determination.
    MonthsFromDecision(u32),
}

/// Why a case is pended (SPEC §3 step 3, §8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pend {
    PathwayAnswers,
    ClinicalReview,
    RegimenChoice,
    PeerToPeer,
    /// More services inside an open approved period (SPEC §3.10).
    Overlapping,
}

/// The expected answer.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// A1 on the event and every line, certification number, certified period, issue date,
    /// approved quantities; the case routed to `program`.
    Approved { program: &'static str, period: Period },
    /// A4 on the event and every line, no certification number, the requested dates echoed.
    Pended { program: &'static str, reason: Pend },
    /// Administrative denial (retro window): A3 everywhere, no certification number, MSG says why.
    RetroDenied { program: &'static str },
    /// NA everywhere: no authorization needed (`program` None when no program covers the codes).
    NoAuthorization { program: Option<&'static str> },
    /// A business reject: AAA*N**AAA03*AAA04 at `loop_id` (2010C or 2010D), no patient event.
    Reject { loop_id: &'static str, aaa03: &'static str, aaa04: &'static str },
}

struct Scenario {
    name: &'static str,
    /// When the requests are received.
    clock: Clock,
    /// The rule the row checks: SPEC section and configuration path (and any judgement made).
    rule: &'static str,
    coverage: Coverage,
    member: Member,
    request: Request,
    /// Earlier requests of the same member, processed first, with the HCR01 each must get.
    earlier: &'static [(Request, &'static str)],
    /// The earlier requests travel in the same interchange as the row's request (sets before it)
    /// instead of an earlier run: a batch must see the cases its own earlier sets created.
    batched: bool,
    expect: Expect,
}

/// UM04: facility code and its qualifier (B place of service, A institutional bill type).
const OFFICE: &str = "11:B";
const INPATIENT: &str = "21:B";
const EMERGENCY_ROOM: &str = "23:B";
const HOSPITAL_INPATIENT_BILL: &str = "11:A";

const fn request(from: i64, to: i64, diagnoses: &'static [&'static str], lines: &'static [Line]) -> Request {
    Request { place_of_service: OFFICE, from, to, diagnoses, lines, requester_npi: GOOD_NPI }
}
const fn at(place_of_service: &'static str, r: Request) -> Request {
    Request { place_of_service, ..r }
}

// Requests per program (future dates: a week ahead).
const RO: Request = request(7, 57, &["C61"], &[units("RC0061", 28)]);
const RO_CPT: Request = request(7, 7, &["C61"], &[bare("77427")]);
const FOLFOX: Request = request(6, 190, &["C189"], &[units("J9263", 12), units("J0640", 12), units("J9190", 12)]);
const FOLFOX_PEGFILGRASTIM: Request =
    request(6, 190, &["C189"], &[units("J9263", 12), units("J0640", 12), units("J9190", 12), supportive("J2505", 6)]);
const LUNG_PREFERRED: Request = request(6, 190, &["C3490"], &[units("J9045", 6), units("J9305", 6), units("J9271", 6)]);
const IROX: Request = request(6, 190, &["C189"], &[units("J9206", 12), units("J9263", 12)]);
const CUSTOM: Request = request(6, 190, &["C189"], &[units("J9035", 8)]);
const BREAST_SHARED: Request =
    request(6, 190, &["C50911"], &[units("J9000", 4), units("J9070", 4), units("J9267", 12)]);
const TRANSPLANT: Request = request(6, 190, &["Z9481"], &[units("J9263", 12)]);
const PT: Request = request(5, 65, &["M5450"], &[visits("MSMPT", 12)]);
const OT: Request = request(5, 65, &["M6281"], &[visits("MSMOT", 10)]);
const ST: Request = request(5, 65, &["R471"], &[visits("MSMST", 16)]);
const MSK: Request = request(8, 8, &["M5416"], &[units("64483", 1)]);
const OBSERVATION: Request = request(1, 1, &["R079"], &[units("G0378", 24)]);

/// One row per (program × reachable outcome).
fn scenarios() -> Vec<Scenario> {
    use Expect::*;
    let row = |name, rule, coverage, member, request, expect| Scenario {
        name,
        clock: WEDNESDAY,
        rule,
        coverage,
        member,
        request,
        earlier: &[],
        batched: false,
        expect,
    };
    let ro = "radiation-oncology";
    let mo = "medical-oncology";
    let th = "therapy";
    let msk = "msk-pain";
    let msk_dual = "msk-pain-dual";
    let retro = |r: Request, from: i64| Request { from, to: from, ..r };
    vec![
        // ---- Radiation oncology: HealthSpring Medicare Advantage (seed 001) ----
        row(
            "ro_pended_for_pathway_answers",
            "SPEC §3.3/§8 pathway answers through the API; programs.radiation-oncology (kind radiation_oncology → questions)",
            RO_MA,
            Member::Rostered,
            RO,
            Pended { program: ro, reason: Pend::PathwayAnswers },
        ),
        row(
            "ro_cpt_code_pended",
            "SPEC §8 radiation CPT codes route to the program; programs.radiation-oncology.codes (77261-77799)",
            RO_MA,
            Member::Rostered,
            RO_CPT,
            Pended { program: ro, reason: Pend::PathwayAnswers },
        ),
        row(
            "ro_retro_inside_one_business_day",
            "SPEC §4 retro window; plans.healthspring-ma.programs.radiation-oncology.retro.window = 1 business day (Tue before Wed)",
            RO_MA,
            Member::Rostered,
            retro(RO, -1),
            Pended { program: ro, reason: Pend::PathwayAnswers },
        ),
        row(
            "ro_retro_beyond_one_business_day_denied",
            "SPEC §3.2 administrative denial; plans.healthspring-ma.programs.radiation-oncology.retro.window (Mon: 2 business days before Wed)",
            RO_MA,
            Member::Rostered,
            retro(RO, -2),
            RetroDenied { program: ro },
        ),
        Scenario {
            clock: AFTER_HOLIDAY,
            ..row(
                "ro_retro_one_business_day_skips_holiday",
                "SPEC §4 business days; plans.healthspring-ma.calendar = us-federal, calendars.us-federal.holidays 2026-01-19: Fri 01-16 → Tue 01-20 is 1 business day",
                RO_MA,
                Member::Rostered,
                retro(RO, -4),
                Pended { program: ro, reason: Pend::PathwayAnswers },
            )
        },
        Scenario {
            clock: AFTER_HOLIDAY,
            ..row(
                "ro_retro_two_business_days_over_holiday_denied",
                "SPEC §3.2; plans.healthspring-ma.programs.radiation-oncology.retro.window: Thu 01-15 → Tue 01-20 is 2 business days (holiday 01-19)",
                RO_MA,
                Member::Rostered,
                retro(RO, -5),
                RetroDenied { program: ro },
            )
        },
        row(
            "ro_emergency_room_na",
            "SPEC §3.1/§4 never needs authorization; authorization_exemptions.places_of_service (23)",
            RO_MA,
            Member::Rostered,
            at(EMERGENCY_ROOM, RO),
            NoAuthorization { program: None },
        ),
        row(
            "ro_inpatient_na",
            "SPEC §3.1/§4 inpatient stay; authorization_exemptions.places_of_service (21)",
            RO_MA,
            Member::Rostered,
            at(INPATIENT, RO),
            NoAuthorization { program: None },
        ),
        row(
            "ro_hospital_inpatient_bill_type_na",
            "SPEC §4 inpatient stay; authorization_exemptions.bill_types (11, UM04-2 = A)",
            RO_MA,
            Member::Rostered,
            at(HOSPITAL_INPATIENT_BILL, RO),
            NoAuthorization { program: None },
        ),
        row(
            "ro_unknown_member_aaa75",
            "SPEC §8 member not on the roster; guide 2010C AAA03 75 subscriber/insured not found, AAA04 C",
            RO_MA,
            Member::Unknown,
            RO,
            Reject { loop_id: "2010C", aaa03: "75", aaa04: "C" },
        ),
        // ---- Medical oncology: Cigna Commercial (seed 004) ----
        row(
            "mo_folfox_preferred_approved",
            "SPEC §8 preferred regimen → real-time approval; plans.cigna-commercial.programs.medical-oncology.regimens.colon-FOLFOX; approval_validity.default = 12 months from approval",
            CIGNA,
            Member::Rostered,
            FOLFOX,
            Approved { program: mo, period: Period::MonthsFromDecision(12) },
        ),
        row(
            "mo_folfox_with_pegfilgrastim_separate_authorization",
            "SPEC §4 / seed 004 \"Supportive drugs will be issued as a separate authorization\"; plans.cigna-commercial.programs.medical-oncology.supportive_drugs (J2505): left out of the regimen match, its line certified with a number of its own and the regimen's period (no supportive_drug_validity)",
            CIGNA,
            Member::Rostered,
            FOLFOX_PEGFILGRASTIM,
            Approved { program: mo, period: Period::MonthsFromDecision(12) },
        ),
        row(
            "mo_lung_preferred_regimen_validity",
            "SPEC §4 validity 8-12 months; plans.cigna-commercial.programs.medical-oncology.regimens.lung-carboplatin-pemetrexed-pembrolizumab.validity = 12 months",
            CIGNA,
            Member::Rostered,
            LUNG_PREFERRED,
            Approved { program: mo, period: Period::MonthsFromDecision(12) },
        ),
        row(
            "mo_nonpreferred_irox_pended_p2p",
            "SPEC §4 non-preferred regimen → P2P; regimens.colon-IROX (preferred = false)",
            CIGNA,
            Member::Rostered,
            IROX,
            Pended { program: mo, reason: Pend::PeerToPeer },
        ),
        row(
            "mo_custom_regimen_pended",
            "SPEC §8 drug set matching no regimen → custom regimen, clinical review; programs.medical-oncology.regimens",
            CIGNA,
            Member::Rostered,
            CUSTOM,
            Pended { program: mo, reason: Pend::ClinicalReview },
        ),
        row(
            "mo_shared_drug_set_pended_for_choice",
            "SPEC §8 drug set shared by regimens of different preference; regimens.breast-ddAC-T / breast-AC-weekly-T",
            CIGNA,
            Member::Rostered,
            BREAST_SHARED,
            Pended { program: mo, reason: Pend::RegimenChoice },
        ),
        row(
            "mo_retro_inside_30_days_approved",
            "SPEC §4 retro window; plans.cigna-commercial.programs.medical-oncology.retro.window = 30 calendar days (day -30); period from the date of service",
            CIGNA,
            Member::Rostered,
            Request { from: -30, to: 60, ..FOLFOX },
            Approved { program: mo, period: Period::MonthsFromDecision(12) },
        ),
        row(
            "mo_retro_beyond_30_days_denied",
            "SPEC §3.2 administrative denial; plans.cigna-commercial.programs.medical-oncology.retro.window = 30 calendar days (day -31)",
            CIGNA,
            Member::Rostered,
            Request { from: -31, to: 60, ..FOLFOX },
            RetroDenied { program: mo },
        ),
        row(
            "mo_emergency_room_na",
            "SPEC §4 emergency room; authorization_exemptions.places_of_service (23)",
            CIGNA,
            Member::Rostered,
            at(EMERGENCY_ROOM, FOLFOX),
            NoAuthorization { program: None },
        ),
        row(
            "mo_transplant_diagnosis_na",
            "SPEC §4 patients active in transplant; plans.cigna-commercial.programs.medical-oncology.no_authorization_diagnoses (Z94.81)",
            CIGNA,
            Member::Rostered,
            TRANSPLANT,
            NoAuthorization { program: Some(mo) },
        ),
        row(
            "mo_unknown_member_aaa75",
            "SPEC §8 member not on the roster; guide 2010C AAA03 75, AAA04 C",
            CIGNA,
            Member::Unknown,
            FOLFOX,
            Reject { loop_id: "2010C", aaa03: "75", aaa04: "C" },
        ),
        row(
            "mo_requesting_provider_npi_invalid_aaa43_at_2010b",
            "SPEC §8 the requesting provider's NPI must be well formed (check digit); guide 2010B AAA03 43 invalid/missing provider identification, AAA04 C",
            CIGNA,
            Member::Rostered,
            Request { requester_npi: "1234567890", ..FOLFOX },
            Reject { loop_id: "2010B", aaa03: "43", aaa04: "C" },
        ),
        Scenario {
            name: "mo_second_folfox_inside_approval_pended_overlapping",
            clock: WEDNESDAY,
            rule: "SPEC §3.10 a request inside an open approved period is reviewed as additional units; plans.cigna-commercial.programs.medical-oncology.overlapping_requests = additional_units",
            coverage: CIGNA,
            member: Member::Rostered,
            request: Request { from: 30, to: 120, ..FOLFOX },
            earlier: &[(FOLFOX, "A1")],
            batched: false,
            expect: Pended { program: mo, reason: Pend::Overlapping },
        },
        Scenario {
            name: "mo_same_folfox_twice_in_one_interchange_pended_overlapping",
            clock: WEDNESDAY,
            rule: "SPEC §3.10 + §2 batch files: the second set sees the approval the first one created; medical-oncology.overlapping_requests = additional_units",
            coverage: CIGNA,
            member: Member::Rostered,
            request: FOLFOX,
            earlier: &[(FOLFOX, "A1")],
            batched: true,
            expect: Pended { program: mo, reason: Pend::Overlapping },
        },
        row(
            "mo_birth_date_mismatch_aaa71",
            "SPEC §8 roster date of birth; guide 2010C AAA03 71 birth date does not match, AAA04 C",
            CIGNA,
            Member::WrongBirthDate,
            FOLFOX,
            Reject { loop_id: "2010C", aaa03: "71", aaa04: "C" },
        ),
        // ---- Therapy: Cigna Commercial (seed 002) ----
        row(
            "th_pt_first_request_approved",
            "SPEC §4 therapy real-time decision; plans.cigna-commercial.programs.therapy.real_time (MSMPT); no approval_validity → requested dates",
            CIGNA,
            Member::Rostered,
            PT,
            Approved { program: th, period: Period::Requested },
        ),
        Scenario {
            clock: AFTER_HOLIDAY,
            ..row(
                "th_pt_approved_dated_by_its_clock",
                "SPEC §3.7 determination dated when decided (DTP*102); plans.cigna-commercial.programs.therapy.real_time",
                CIGNA,
                Member::Rostered,
                PT,
                Approved { program: th, period: Period::Requested },
            )
        },
        row(
            "th_ot_first_request_approved",
            "SPEC §4 therapy real-time decision; plans.cigna-commercial.programs.therapy.real_time.service_codes (MSMOT)",
            CIGNA,
            Member::Rostered,
            OT,
            Approved { program: th, period: Period::Requested },
        ),
        row(
            "th_speech_pended",
            "SPEC §4 only PT and OT are decided in real time; plans.cigna-commercial.programs.therapy.real_time.service_codes lacks MSMST",
            CIGNA,
            Member::Rostered,
            ST,
            Pended { program: th, reason: Pend::ClinicalReview },
        ),
        Scenario {
            name: "th_pt_third_request_of_episode_pended",
            clock: WEDNESDAY,
            rule: "SPEC §4 the first two requests of an episode; plans.cigna-commercial.programs.therapy.real_time.first_requests_per_episode = 2, episode.max_gap = 60 days",
            coverage: CIGNA,
            member: Member::Rostered,
            request: Request { from: 1, to: 40, ..PT },
            earlier: &[(Request { from: -40, to: -21, ..PT }, "A1"), (Request { from: -20, to: 0, ..PT }, "A1")],
            batched: false,
            expect: Pended { program: th, reason: Pend::ClinicalReview },
        },
        Scenario {
            name: "th_pt_third_request_in_the_same_interchange_pended",
            clock: WEDNESDAY,
            rule: "SPEC §4 first two requests of an episode, SPEC §2 batch files: the three sets of one interchange are decided in order; real_time.first_requests_per_episode = 2",
            coverage: CIGNA,
            member: Member::Rostered,
            request: Request { from: 1, to: 40, ..PT },
            earlier: &[(Request { from: -40, to: -21, ..PT }, "A1"), (Request { from: -20, to: 0, ..PT }, "A1")],
            batched: true,
            expect: Pended { program: th, reason: Pend::ClinicalReview },
        },
        Scenario {
            name: "th_pt_second_request_of_episode_approved",
            clock: WEDNESDAY,
            rule: "SPEC §4 the first two PT requests of an episode are decided in real time; plans.cigna-commercial.programs.therapy.real_time.first_requests_per_episode = 2",
            coverage: CIGNA,
            member: Member::Rostered,
            request: Request { from: 1, to: 40, ..PT },
            earlier: &[(Request { from: -40, to: -21, ..PT }, "A1")],
            batched: false,
            expect: Approved { program: th, period: Period::Requested },
        },
        Scenario {
            name: "th_pt_after_a_60_day_gap_new_episode_approved",
            clock: WEDNESDAY,
            rule: "SPEC §4 episode; plans.cigna-commercial.programs.therapy.real_time.episode.max_gap = 60 calendar days (earlier starts -200 and -149, this one +1)",
            coverage: CIGNA,
            member: Member::Rostered,
            request: Request { from: 1, to: 40, ..PT },
            earlier: &[(Request { from: -200, to: -150, ..PT }, "A1"), (Request { from: -149, to: -100, ..PT }, "A1")],
            batched: false,
            expect: Approved { program: th, period: Period::Requested },
        },
        Scenario {
            name: "th_ot_after_two_pt_requests_approved",
            clock: WEDNESDAY,
            rule: "SPEC §4 episodes per discipline; plans.cigna-commercial.programs.therapy.real_time.episode.same_discipline = true",
            coverage: CIGNA,
            member: Member::Rostered,
            request: Request { from: 1, to: 40, ..OT },
            earlier: &[(Request { from: -40, to: -21, ..PT }, "A1"), (Request { from: -20, to: 0, ..PT }, "A1")],
            batched: false,
            expect: Approved { program: th, period: Period::Requested },
        },
        row(
            "th_dependent_pt_approved",
            "SPEC §3 patient in 2000D; plans.cigna-commercial.programs.therapy.real_time",
            CIGNA,
            Member::Dependent,
            PT,
            Approved { program: th, period: Period::Requested },
        ),
        row(
            "th_retro_inside_365_days_approved",
            "SPEC §4 retro window; plans.cigna-commercial.programs.therapy.retro.window = 365 calendar days (day -365)",
            CIGNA,
            Member::Rostered,
            Request { from: -365, to: -300, ..PT },
            Approved { program: th, period: Period::Requested },
        ),
        row(
            "th_retro_beyond_365_days_denied",
            "SPEC §3.2 administrative denial; plans.cigna-commercial.programs.therapy.retro.window = 365 calendar days (day -366)",
            CIGNA,
            Member::Rostered,
            Request { from: -366, to: -300, ..PT },
            RetroDenied { program: th },
        ),
        row(
            "th_emergency_room_na",
            "SPEC §4 emergency room; authorization_exemptions.places_of_service (23)",
            CIGNA,
            Member::Rostered,
            at(EMERGENCY_ROOM, PT),
            NoAuthorization { program: None },
        ),
        Scenario {
            name: "th_more_visits_inside_approval_pended_overlapping",
            clock: WEDNESDAY,
            rule: "SPEC §3.10 overlapping request (not a new episode request); plans.cigna-commercial.programs.therapy.overlapping_requests = additional_units",
            coverage: CIGNA,
            member: Member::Rostered,
            request: Request { from: 20, to: 50, ..PT },
            earlier: &[(PT, "A1")],
            batched: false,
            expect: Pended { program: th, reason: Pend::Overlapping },
        },
        row(
            "th_unknown_member_aaa75",
            "SPEC §8 member not on the roster; guide 2010C AAA03 75, AAA04 C",
            CIGNA,
            Member::Unknown,
            PT,
            Reject { loop_id: "2010C", aaa03: "75", aaa04: "C" },
        ),
        row(
            "th_dependent_of_unknown_subscriber_aaa75_at_2010c",
            "SPEC §8 the roster is keyed by the subscriber ID (2010C NM109): the reject is at 2010C, no 2000D answered",
            CIGNA,
            Member::DependentOfUnknown,
            PT,
            Reject { loop_id: "2010C", aaa03: "75", aaa04: "C" },
        ),
        row(
            "th_dependent_coverage_ended_aaa95_at_2010d",
            "SPEC §8 not covered on the date of service: AAA at the patient's loop, 2010D AAA03 95, AAA04 N",
            Coverage { ended_days_ago: Some(30), ..CIGNA },
            Member::Dependent,
            PT,
            Reject { loop_id: "2010D", aaa03: "95", aaa04: "N" },
        ),
        row(
            "th_dependent_birth_date_mismatch_aaa71_at_2010d",
            "SPEC §8 patient date of birth; guide: the reject at the patient's loop, 2010D AAA03 71",
            CIGNA,
            Member::DependentWrongBirthDate,
            PT,
            Reject { loop_id: "2010D", aaa03: "71", aaa04: "C" },
        ),
        // ---- Therapy: HealthSpring Medicare Advantage (seed 002) ----
        row(
            "th_ma_pt_first_request_approved",
            "SPEC §4 therapy real-time decision; plans.healthspring-ma.programs.therapy.real_time",
            HS_MA,
            Member::Rostered,
            PT,
            Approved { program: th, period: Period::Requested },
        ),
        row(
            "th_ma_retro_beyond_365_days_denied",
            "SPEC §3.2; plans.healthspring-ma.programs.therapy.retro.window = 365 calendar days (day -366)",
            HS_MA,
            Member::Rostered,
            Request { from: -366, to: -366, ..PT },
            RetroDenied { program: th },
        ),
        // ---- MSK interventional pain: Aetna Medicare / Medicaid (seed 003), Aetna Better Health IL (seed 000) ----
        row(
            "msk_medicare_pended_for_pathway_answers",
            "SPEC §3.3/§8 injections in the last 6/12 months etc. through the API; programs.msk-pain (kind msk_pain → questions); plans.aetna-medicare",
            AETNA_MEDICARE,
            Member::Rostered,
            MSK,
            Pended { program: msk, reason: Pend::PathwayAnswers },
        ),
        row(
            "msk_medicaid_pended_for_pathway_answers",
            "SPEC §3.3/§8; plans.aetna-medicaid.programs.msk-pain",
            AETNA_MEDICAID,
            Member::Rostered,
            MSK,
            Pended { program: msk, reason: Pend::PathwayAnswers },
        ),
        row(
            "msk_abh_requester_not_on_file_aaa51_at_2010b",
            "SPEC §8 / seed 000 providers on file; plans.aetna-better-health-il.require_provider_on_file = true, requester NPI not in samples/providers.csv (`umgate provider import`); guide 2010B AAA03 51 provider not on file, AAA04 C",
            ABH_MEDICAID,
            Member::Rostered,
            Request { requester_npi: NPI_NOT_ON_FILE, ..MSK },
            Reject { loop_id: "2010B", aaa03: "51", aaa04: "C" },
        ),
        row(
            "msk_abh_medicaid_pended",
            "SPEC §8 plan aetna-better-health-il Medicaid; plans.aetna-better-health-il.programs.msk-pain",
            ABH_MEDICAID,
            Member::Rostered,
            MSK,
            Pended { program: msk, reason: Pend::PathwayAnswers },
        ),
        // The case records the plan's program entry (`msk-pain-dual`, whose `program = "msk-pain"`),
        // as the domain's terms do: the entry, not the catalogue key, is what `case.program` holds.
        row(
            "msk_abh_dual_pended",
            "SPEC §8 plan aetna-better-health-il Dual; plans.aetna-better-health-il.programs.msk-pain-dual (program = msk-pain)",
            ABH_DUAL,
            Member::Rostered,
            MSK,
            Pended { program: msk_dual, reason: Pend::PathwayAnswers },
        ),
        row(
            "msk_medicare_retro_inside_90_days",
            "SPEC §4 MSK retro 90 calendar days; plans.aetna-medicare.programs.msk-pain.retro.window (day -90)",
            AETNA_MEDICARE,
            Member::Rostered,
            retro(MSK, -90),
            Pended { program: msk, reason: Pend::PathwayAnswers },
        ),
        row(
            "msk_medicare_retro_beyond_90_days_denied",
            "SPEC §3.2; plans.aetna-medicare.programs.msk-pain.retro.window = 90 calendar days (day -91)",
            AETNA_MEDICARE,
            Member::Rostered,
            retro(MSK, -91),
            RetroDenied { program: msk },
        ),
        row(
            "msk_medicaid_retro_beyond_90_days_denied",
            "SPEC §3.2; plans.aetna-medicaid.programs.msk-pain.retro.window = 90 calendar days (day -91)",
            AETNA_MEDICAID,
            Member::Rostered,
            retro(MSK, -91),
            RetroDenied { program: msk },
        ),
        row(
            "msk_dual_retro_beyond_90_days_denied",
            "SPEC §3.2; plans.aetna-better-health-il.programs.msk-pain-dual.retro.window = 90 calendar days (day -91)",
            ABH_DUAL,
            Member::Rostered,
            retro(MSK, -91),
            RetroDenied { program: msk_dual },
        ),
        row(
            "msk_emergency_room_na",
            "SPEC §4 emergency room; authorization_exemptions.places_of_service (23)",
            AETNA_MEDICAID,
            Member::Rostered,
            at(EMERGENCY_ROOM, MSK),
            NoAuthorization { program: None },
        ),
        row(
            "msk_observation_code_na",
            "SPEC §4 observation (23 hour); authorization_exemptions.service_codes (G0378)",
            AETNA_MEDICARE,
            Member::Rostered,
            OBSERVATION,
            NoAuthorization { program: None },
        ),
        row(
            "msk_plan_without_therapy_na",
            "SPEC §8 a code no program of the member's plan covers → NA; aetna-medicare enables msk-pain only (MSMPT)",
            AETNA_MEDICARE,
            Member::Rostered,
            PT,
            NoAuthorization { program: None },
        ),
        row(
            "msk_unknown_member_aaa75",
            "SPEC §8 member not on the roster; guide 2010C AAA03 75, AAA04 C",
            AETNA_MEDICAID,
            Member::Unknown,
            MSK,
            Reject { loop_id: "2010C", aaa03: "75", aaa04: "C" },
        ),
        row(
            "th_service_before_birth_aaa60",
            "SPEC §8 eligibility: a date of service before the date of birth (roster and request agree on it) is told apart from \
             no coverage: 2010C AAA03 60 date of birth follows date(s) of service, AAA04 C",
            CIGNA,
            Member::BornAfterService,
            PT,
            Reject { loop_id: "2010C", aaa03: "60", aaa04: "C" },
        ),
        row(
            "msk_coverage_ended_aaa95",
            "SPEC §8 not covered on the date of service: AAA at the patient's loop, 2010C AAA03 95 patient not eligible, AAA04 N",
            Coverage { ended_days_ago: Some(30), ..AETNA_MEDICARE },
            Member::Rostered,
            MSK,
            Reject { loop_id: "2010C", aaa03: "95", aaa04: "N" },
        ),
    ]
}

// ------------------------------------------------------------------------------------------------
// Building the requests and the roster
// ------------------------------------------------------------------------------------------------

/// The member of a row: derived from its name (FNV-1a), so that adding a row changes no other
/// row's answer.
fn member_id(name: &str) -> String {
    let hash = name.bytes().fold(0x811c_9dc5_u32, |hash, byte| (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193));
    format!("SCN{hash:08X}")
}

const BIRTH: &str = "19600505";
const CHILD_BIRTH: &str = "20150707";
/// After every date of service of the table (the rows' days are within months of the fixed day).
const FUTURE_BIRTH: &str = "20271111";

fn iso(d8: &str) -> String {
    format!("{}-{}-{}", &d8[..4], &d8[4..6], &d8[6..])
}

fn d8(day: NaiveDate) -> String {
    day.format("%Y%m%d").to_string()
}

/// The roster of the table: one member per row, except those that must be unknown.
fn roster(table: &[Scenario]) -> String {
    let mut csv =
        "member_id,first_name,last_name,birth_date,gender,plan,line_of_business,coverage_start,coverage_end\n"
            .to_owned();
    for scenario in table {
        if matches!(scenario.member, Member::Unknown | Member::DependentOfUnknown) {
            continue;
        }
        let birth = match scenario.member {
            Member::Dependent | Member::DependentWrongBirthDate => CHILD_BIRTH,
            Member::BornAfterService => FUTURE_BIRTH,
            _ => BIRTH,
        };
        let end =
            scenario.coverage.ended_days_ago.map(|days| scenario.clock.day(-days).to_string()).unwrap_or_default();
        writeln!(
            csv,
            "{},ROW,SCENARIO,{},F,{},{},2024-01-01,{end}",
            member_id(scenario.name),
            iso(birth),
            scenario.coverage.plan,
            scenario.coverage.lob
        )
        .unwrap();
    }
    csv
}

fn period(clock: Clock, from: i64, to: i64) -> String {
    rd8(clock.day(from), clock.day(to))
}

/// A 005010X217 request interchange (one set) for `member`, control number `control`.
/// A 005010X217 request interchange with one set.
fn interchange(clock: Clock, control: u32, member: &str, reference: &str, kind: Member, request: &Request) -> String {
    envelope(control, &[transaction(clock, member, reference, kind, request)])
}

/// The segments of one request set between ST and SE; BHT03 and the TRNs are built from
/// `reference`.
fn transaction(clock: Clock, member: &str, reference: &str, kind: Member, request: &Request) -> Vec<String> {
    let mut segments: Vec<String> = Vec::new();
    segments.push(format!("BHT*0007*13*{reference}*20260304*0900"));
    segments.push("HL*1**20*1".into());
    segments.push("NM1*X3*2*UMGATE UTILIZATION MANAGEMENT*****PI*UMGATE01".into());
    segments.push("HL*2*1*21*1".into());
    segments.push(format!("NM1*1P*1*WELBY*MARCUS****XX*{}", request.requester_npi));
    segments.push("REF*EI*361234567".into());
    segments.push("N3*100 MAIN ST".into());
    segments.push("N4*CHICAGO*IL*60601".into());
    segments.push("PER*IC*FRONT DESK*TE*3125550100*FX*3125550101".into());
    segments.push("HL*3*2*22*1".into());
    segments.push(format!("NM1*IL*1*SCENARIO*ROW****MI*{member}"));
    let dependent = matches!(kind, Member::Dependent | Member::DependentOfUnknown | Member::DependentWrongBirthDate);
    let mut event_parent = 3;
    if dependent {
        segments.push("DMG*D8*19750615*M".into());
        segments.push("HL*4*3*23*1".into());
        segments.push("NM1*QC*1*SCENARIO*CHILD".into());
        let birth = if kind == Member::DependentWrongBirthDate { "20150708" } else { CHILD_BIRTH };
        segments.push(format!("DMG*D8*{birth}*F"));
        segments.push("INS*N*19".into());
        event_parent = 4;
    } else {
        let birth = match kind {
            Member::WrongBirthDate => "19600506",
            Member::BornAfterService => FUTURE_BIRTH,
            _ => BIRTH,
        };
        segments.push(format!("DMG*D8*{birth}*F"));
    }
    let event = event_parent + 1;
    let um = format!("UM*HS*I*1*{}", request.place_of_service);
    segments.push(format!("HL*{event}*{event_parent}*EV*1"));
    segments.push(format!("TRN*1*TRC-{reference}*9CLEARHOUS"));
    segments.push(um.clone());
    segments.push(format!("DTP*AAH*{}", period(clock, request.from, request.to)));
    let hi: Vec<String> = request
        .diagnoses
        .iter()
        .enumerate()
        .map(|(i, code)| format!("{}:{code}", if i == 0 { "ABK" } else { "ABF" }))
        .collect();
    segments.push(format!("HI*{}", hi.join("*")));
    segments.push("NM1*FA*2*LAKESIDE CARE CENTER*****XX*1987654328".into());
    segments.push("N3*200 LAKE ST".into());
    segments.push("N4*CHICAGO*IL*60602".into());
    for (index, line) in request.lines.iter().enumerate() {
        segments.push(format!("HL*{}*{event}*SS*0", event + 1 + index));
        segments.push(format!("TRN*1*TRC-{reference}-{}*9CLEARHOUS", index + 1));
        segments.push(um.clone());
        segments.push(format!("DTP*472*{}", period(clock, request.from, request.to)));
        let qualifier = if line.code.starts_with("MSM") || line.code.starts_with("RC") { "ZZ" } else { "HC" };
        match line.quantity {
            Quantity::Units(n) => segments.push(format!("SV1*{qualifier}:{}**UN*{n}", line.code)),
            Quantity::Visits(n) => {
                segments.push(format!("SV1*{qualifier}:{}", line.code));
                segments.push(format!("HSD*VS*{n}"));
            }
            Quantity::None => segments.push(format!("SV1*{qualifier}:{}", line.code)),
        }
    }
    segments
}

/// An interchange (one functional group) of the given request sets, control number `control`.
fn envelope(control: u32, sets: &[Vec<String>]) -> String {
    let mut text = format!(
        "ISA*00*          *00*          *ZZ*CLEARHOUSE01   *ZZ*UMGATE         *260304*0900*^*00501*{control:09}*0*P*:~\n\
         GS*HI*CLEARHOUSE01*UMGATE*20260304*0900*{control}*X*005010X217~\n"
    );
    for (index, segments) in sets.iter().enumerate() {
        let st02 = format!("{:04}", index + 1);
        writeln!(text, "ST*278*{st02}*005010X217~").unwrap();
        for segment in segments {
            text.push_str(segment);
            text.push_str("~\n");
        }
        writeln!(text, "SE*{}*{st02}~", segments.len() + 2).unwrap();
    }
    write!(text, "GE*{}*{control}~\nIEA*1*{control:09}~\n", sets.len()).unwrap();
    text
}

// ------------------------------------------------------------------------------------------------
// Reading the answers
// ------------------------------------------------------------------------------------------------

/// One segment: its elements (index 0 = the segment ID), components left joined.
type Segment = Vec<String>;

fn el(segment: &Segment, n: usize) -> &str {
    segment.get(n).map_or("", String::as_str)
}

/// The segments of an interchange, split with the delimiters its ISA declares.
fn segments(text: &str) -> Vec<Segment> {
    let bytes = text.as_bytes();
    let (element, terminator) = (bytes[3] as char, bytes[105] as char);
    text.split(terminator)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.split(element).map(str::to_owned).collect())
        .collect()
}

/// The transaction sets of an interchange, each from its ST to its SE.
fn sets_of(segments: &[Segment]) -> Vec<Vec<Segment>> {
    let mut sets: Vec<Vec<Segment>> = Vec::new();
    for segment in segments {
        match segment[0].as_str() {
            "ST" => sets.push(vec![segment.clone()]),
            "GE" | "IEA" | "ISA" | "GS" => {}
            _ => {
                if let Some(set) = sets.last_mut() {
                    set.push(segment.clone());
                }
            }
        }
    }
    sets
}

/// An HL level of the response: its level code and the segments up to the next HL.
#[derive(Debug, Default)]
struct Level {
    code: String,
    has_child: String,
    segments: Vec<Segment>,
}

impl Level {
    fn all(&self, id: &str) -> impl Iterator<Item = &Segment> {
        self.segments.iter().filter(move |s| s[0] == id)
    }
    fn first(&self, id: &str) -> Option<&Segment> {
        self.all(id).next()
    }
    fn dtp(&self, qualifier: &str) -> Option<String> {
        self.all("DTP").find(|s| el(s, 1) == qualifier).map(|s| format!("{}*{}", el(s, 2), el(s, 3)))
    }
}

fn levels(segments: &[Segment]) -> Vec<Level> {
    let mut out: Vec<Level> = Vec::new();
    for segment in segments {
        match segment[0].as_str() {
            "HL" => out.push(Level {
                code: el(segment, 3).to_owned(),
                has_child: el(segment, 4).to_owned(),
                segments: Vec::new(),
            }),
            "SE" | "GE" | "IEA" => {}
            _ => {
                if let Some(level) = out.last_mut() {
                    level.segments.push(segment.clone());
                }
            }
        }
    }
    out
}

fn is_certification_number(value: &str) -> bool {
    // The format the workflow issues (src/domain/workflow/service.rs): A + 9 digits.
    value.len() == 10 && value.starts_with('A') && value[1..].bytes().all(|b| b.is_ascii_digit())
}

/// Expected certified period (SPEC §3.7, §4 approval validity).
/// - A validity rule (`approval_validity`, a regimen's `validity`; `from = "approval"`) runs from
///   the determination: the period starts then (or at the date of service of a retrospective
///   request) and ends the validity after the determination.
/// - Without one (therapy, radiation oncology), the requested dates, retrospective or not. (Before
///   the fix in `approval_period` a future request was certified from the decision day, days
///   before the requested start: `th_*_approved` rows caught it.)
fn expected_period(clock: Clock, request: &Request, rule: Period) -> (NaiveDate, NaiveDate) {
    let decided = clock.today();
    let (start, end) = (clock.day(request.from), clock.day(request.to));
    match rule {
        Period::Requested => (start, end),
        Period::MonthsFromDecision(months) => {
            let from = start.min(decided);
            (from, decided.checked_add_months(Months::new(months)).unwrap().max(from))
        }
    }
}

fn rd8(from: NaiveDate, to: NaiveDate) -> String {
    if from == to { format!("D8*{}", d8(from)) } else { format!("RD8*{}-{}", d8(from), d8(to)) }
}

/// Checks one answer against its row; returns the case ID it names (if any).
fn check_answer(scenario: &Scenario, segments: &[Segment]) -> anyhow::Result<Option<String>> {
    let levels = levels(segments);
    let bht = segments.iter().find(|s| s[0] == "BHT").context("no BHT")?;
    ensure!(el(bht, 2) == "11", "BHT02 {} (a response is 11)", el(bht, 2));
    let events: Vec<&Level> = levels.iter().filter(|l| l.code == "EV").collect();
    let lines: Vec<&Level> = levels.iter().filter(|l| l.code == "SS").collect();
    let request = &scenario.request;

    if let Expect::Reject { loop_id, aaa03, aaa04 } = scenario.expect {
        let level_code = match loop_id {
            "2010B" => "21",
            "2010C" => "22",
            _ => "23",
        };
        let level = levels.iter().find(|l| l.code == level_code).with_context(|| format!("no HL {level_code}"))?;
        let aaa: Vec<String> = level.all("AAA").map(|s| s.join("*")).collect();
        ensure!(aaa == [format!("AAA*N**{aaa03}*{aaa04}")], "{loop_id} AAA: {aaa:?}");
        // The AAA follows the loop's NM1 (it belongs to the 2010 loop, not to 2000 before it).
        let nm1 = level.segments.iter().position(|s| s[0] == "NM1").context("no NM1")?;
        let at = level.segments.iter().position(|s| s[0] == "AAA").unwrap();
        ensure!(nm1 < at, "AAA before the {loop_id} NM1");
        let others: Vec<String> =
            levels.iter().filter(|l| l.code != level_code).flat_map(|l| l.all("AAA")).map(|s| s.join("*")).collect();
        ensure!(others.is_empty(), "AAA at other loops: {others:?}");
        // The hierarchy stops at the rejected loop (below 2000B the guide still wants 2000C).
        let last = levels.last().context("no HL")?;
        ensure!(last.has_child == "0", "the last HL has children (HL04 {})", last.has_child);
        ensure!(
            levels.iter().all(|l| matches!(l.code.as_str(), "20" | "21" | "22") || l.code == level_code),
            "levels below the rejected loop: {:?}",
            levels.iter().map(|l| l.code.as_str()).collect::<Vec<_>>()
        );
        ensure!(events.is_empty() && lines.is_empty(), "no patient event is answered after a reject");
        ensure!(!segments.iter().any(|s| s[0] == "HCR"), "no HCR with a reject");
        return Ok(None);
    }

    ensure!(events.len() == 1, "{} patient events", events.len());
    let event = events[0];
    ensure!(event.all("AAA").next().is_none(), "unexpected AAA at 2000E");
    ensure!(lines.len() == request.lines.len(), "{} service lines for {} requested", lines.len(), request.lines.len());
    let hcr = event.first("HCR").context("no HCR at 2000E")?;
    let case_id = event.all("REF").find(|s| el(s, 1) == "NT").map(|s| el(s, 2).to_owned());
    let requested_dates = period(scenario.clock, request.from, request.to);
    let (hcr01, certified) = match scenario.expect {
        Expect::Approved { .. } => ("A1", true),
        Expect::Pended { .. } => ("A4", false),
        Expect::RetroDenied { .. } => ("A3", false),
        Expect::NoAuthorization { .. } => ("NA", false),
        Expect::Reject { .. } => unreachable!(),
    };
    ensure!(el(hcr, 1) == hcr01, "2000E HCR01 {} (expected {hcr01})", el(hcr, 1));
    ensure!(case_id.is_some(), "no REF*NT (case) at 2000E");
    if certified {
        let Expect::Approved { period: rule, .. } = scenario.expect else { unreachable!() };
        let number = el(hcr, 2);
        ensure!(is_certification_number(number), "HCR02 certification number {number:?}");
        let (from, to) = expected_period(scenario.clock, request, rule);
        let expected = rd8(from, to);
        let expires = format!("D8*{}", d8(to));
        // The event date stays the requested one; the certified period is DTP*007 / DTP*036.
        ensure!(
            event.dtp("AAH").as_deref() == Some(requested_dates.as_str()),
            "2000E DTP*AAH {:?} (requested {requested_dates})",
            event.dtp("AAH")
        );
        ensure!(
            event.dtp("007").as_deref() == Some(expected.as_str()),
            "2000E DTP*007 {:?} (certified {expected})",
            event.dtp("007")
        );
        ensure!(
            event.dtp("036").as_deref() == Some(expires.as_str()),
            "2000E DTP*036 {:?} (expires {expires})",
            event.dtp("036")
        );
        let issued = format!("D8*{}", d8(scenario.clock.today()));
        ensure!(
            event.dtp("102").as_deref() == Some(issued.as_str()),
            "2000E DTP*102 {:?} (issued {issued})",
            event.dtp("102")
        );
        let mut separate_numbers: Vec<String> = Vec::new();
        for (index, (line, requested)) in lines.iter().zip(request.lines).enumerate() {
            let hcr = line.first("HCR").with_context(|| format!("line {index}: no HCR"))?;
            if requested.separate {
                // Its own certification number: not the event's, not another line's.
                let own = el(hcr, 2);
                ensure!(
                    el(hcr, 1) == "A1" && is_certification_number(own) && own != number,
                    "line {index} (authorized separately): HCR {:?}, event HCR02 {number}",
                    hcr.join("*")
                );
                ensure!(!separate_numbers.iter().any(|n| n == own), "line {index}: HCR02 {own} used twice");
                separate_numbers.push(own.to_owned());
            } else {
                ensure!(el(hcr, 1) == "A1" && el(hcr, 2) == number, "line {index}: HCR {:?}", hcr.join("*"));
            }
            ensure!(
                line.dtp("472").as_deref() == Some(requested_dates.as_str()),
                "line {index}: DTP*472 {:?} (requested {requested_dates})",
                line.dtp("472")
            );
            ensure!(
                line.dtp("007").as_deref() == Some(expected.as_str()) && line.dtp("036").as_deref() == Some(&expires),
                "line {index}: DTP*007 {:?} DTP*036 {:?} (certified {expected})",
                line.dtp("007"),
                line.dtp("036")
            );
            ensure!(line.dtp("102").as_deref() == Some(issued.as_str()), "line {index}: DTP*102 {:?}", line.dtp("102"));
            let hsd = line.first("HSD").map(|s| s.join("*"));
            let quantity = match requested.quantity {
                // SV1 units are approved as HSD units (FL); visits as visits (VS).
                Quantity::Units(n) => Some(format!("HSD*FL*{n}")),
                Quantity::Visits(n) => Some(format!("HSD*VS*{n}")),
                Quantity::None => None,
            };
            ensure!(hsd == quantity, "line {index}: approved quantity {hsd:?} (expected {quantity:?})");
        }
    } else {
        ensure!(el(hcr, 2).is_empty(), "2000E HCR02 {:?} without a certification", el(hcr, 2));
        ensure!(
            event.dtp("102").is_none() && event.dtp("007").is_none() && event.dtp("036").is_none(),
            "certification dates without a certification"
        );
        ensure!(
            event.dtp("AAH").as_deref() == Some(requested_dates.as_str()),
            "2000E DTP*AAH {:?} (requested {requested_dates})",
            event.dtp("AAH")
        );
        for (index, line) in lines.iter().enumerate() {
            let hcr = line.first("HCR").with_context(|| format!("line {index}: no HCR"))?;
            ensure!(
                el(hcr, 1) == hcr01 && el(hcr, 2).is_empty(),
                "line {index}: HCR {:?} (expected {hcr01})",
                hcr.join("*")
            );
            ensure!(
                line.dtp("472").as_deref() == Some(requested_dates.as_str()),
                "line {index}: DTP*472 {:?}",
                line.dtp("472")
            );
            ensure!(
                line.dtp("102").is_none() && line.dtp("007").is_none() && line.dtp("036").is_none(),
                "line {index}: certification dates without a certification"
            );
        }
    }
    let msg: Vec<String> = event.all("MSG").map(|s| el(s, 1).to_owned()).collect();
    if let Expect::RetroDenied { .. } = scenario.expect {
        ensure!(msg.iter().any(|m| m.contains("retro window")), "a retro denial says why: MSG {msg:?}");
    }
    Ok(case_id)
}

/// The answer to an earlier request of a row: its HCR01 at 2000E.
fn check_earlier(segments: &[Segment], n: usize, expected: &str) -> TestResult {
    let event = levels(segments).into_iter().find(|l| l.code == "EV").context("no 2000E")?;
    let hcr01 = event.first("HCR").map(|s| el(s, 1).to_owned()).unwrap_or_default();
    ensure!(hcr01 == expected, "earlier request {n}: HCR01 {hcr01} (expected {expected})");
    Ok(())
}

/// The stored case behind an answer: plan and program (SPEC §8), pend reason, authorization.
fn check_case(scenario: &Scenario, case: &Case, hcr02: &str) -> TestResult {
    ensure!(case.plan == scenario.coverage.plan, "case plan {} (expected {})", case.plan, scenario.coverage.plan);
    let program = match scenario.expect {
        Expect::Approved { program, .. } | Expect::Pended { program, .. } | Expect::RetroDenied { program } => {
            Some(program)
        }
        Expect::NoAuthorization { program } => program,
        Expect::Reject { .. } => None,
    };
    // ER / observation requests are answered NA before routing (SPEC §3.1: never needs one).
    ensure!(case.program.as_deref() == program, "case program {:?} (expected {program:?})", case.program);
    match scenario.expect {
        Expect::Approved { .. } => {
            ensure!(
                case.authorization_number.as_deref() == Some(hcr02),
                "stored authorization {:?}",
                case.authorization_number
            );
            for (index, (line, requested)) in case.lines.iter().zip(scenario.request.lines).enumerate() {
                ensure!(
                    line.authorization_number.is_some() == requested.separate,
                    "case line {index}: own authorization {:?}",
                    line.authorization_number
                );
            }
        }
        Expect::Pended { reason, .. } => {
            let actual = match &case.pend {
                Some(PendReason::AwaitingPathwayAnswers) => Some(Pend::PathwayAnswers),
                Some(PendReason::ClinicalReview) => Some(Pend::ClinicalReview),
                Some(PendReason::AwaitingRegimenChoice { .. }) => Some(Pend::RegimenChoice),
                Some(PendReason::PeerToPeerOffered { .. }) => Some(Pend::PeerToPeer),
                Some(PendReason::OverlappingRequest { .. }) => Some(Pend::Overlapping),
                _ => None,
            };
            ensure!(actual == Some(reason), "pend reason {:?} (expected {reason:?})", case.pend);
            ensure!(case.authorization_number.is_none(), "a pended case has no authorization number");
        }
        _ => ensure!(case.authorization_number.is_none(), "authorization {:?}", case.authorization_number),
    }
    Ok(())
}

// ------------------------------------------------------------------------------------------------
// Driving the binary
// ------------------------------------------------------------------------------------------------

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn umgate(db: &TestDb, clock: Clock, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_umgate"))
        .current_dir(root())
        .arg("--db")
        .arg(db.url())
        .args(args)
        .env("UMGATE_FIXED_TIME", clock.0)
        .output()
        .expect("the binary runs")
}

fn show(output: &Output) -> String {
    format!("stdout: {}\nstderr: {}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

fn read_dir(dir: &Path) -> BTreeMap<String, String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| {
            let path = entry.unwrap().path();
            (path.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read_to_string(&path).unwrap())
        })
        .collect()
}

/// Runs `umgate process --json --out out FILES...`; every interchange must be accepted.
fn process(db: &TestDb, clock: Clock, out: &Path, files: &[PathBuf]) -> anyhow::Result<BTreeMap<String, String>> {
    Ok(process_with_summary(db, clock, out, files)?.0)
}

/// [`process`], with the JSON summary.
fn process_with_summary(
    db: &TestDb,
    clock: Clock,
    out: &Path,
    files: &[PathBuf],
) -> anyhow::Result<(BTreeMap<String, String>, serde_json::Value)> {
    let mut args = vec!["process".to_owned(), "--json".into(), "--out".into(), out.display().to_string()];
    args.extend(files.iter().map(|f| f.display().to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let output = umgate(db, clock, &args);
    ensure!(output.status.code() == Some(0), "umgate process:\n{}", show(&output));
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).with_context(|| show(&output))?;
    ensure!(summary["groups_accepted"] == files.len() && summary["sets_rejected"] == 0, "{summary}");
    Ok((read_dir(out), summary))
}

/// The row's answer against `tests/golden/process_scenarios/NAME.x12`: the whole interchange, with
/// the numbers that depend on how many answers, cases and authorizations came before (ISA13, GS06,
/// GE02, IEA02, REF*NT case, HCR02 authorization: checked above) masked, so that adding a row
/// changes no other golden file. `UMGATE_UPDATE_GOLDEN=1` writes them after an intended change.
fn check_golden(name: &str, text: &str) -> TestResult {
    let text = &normalized(text);
    let dir = root().join("tests/golden/process_scenarios");
    let path = dir.join(format!("{name}.x12"));
    if std::env::var_os("UMGATE_UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(&dir)?;
        std::fs::write(&path, text)?;
        return Ok(());
    }
    let golden = std::fs::read_to_string(&path)
        .with_context(|| format!("no golden file {} (UMGATE_UPDATE_GOLDEN=1 to create)", path.display()))?;
    if golden == *text {
        return Ok(());
    }
    let first = golden.lines().zip(text.lines()).find(|(g, t)| g != t);
    anyhow::bail!("differs from {} (UMGATE_UPDATE_GOLDEN=1 to accept): golden / ours {first:?}", path.display())
}

/// `text` with its sequence numbers masked (see [`check_golden`]).
fn normalized(text: &str) -> String {
    let bytes = text.as_bytes();
    let (element, terminator) = (bytes[3] as char, bytes[105] as char);
    let mask = |value: &str| value.chars().map(|c| if c.is_ascii_digit() { '#' } else { c }).collect::<String>();
    let mut out = String::new();
    for (index, raw) in text.split(terminator).enumerate() {
        if index > 0 {
            out.push(terminator);
        }
        let mut fields: Vec<String> = raw.split(element).map(str::to_owned).collect();
        let id = fields[0].trim().to_owned();
        let masked = match id.as_str() {
            "ISA" => Some(13),
            "GS" => Some(6),
            "GE" | "IEA" => Some(2),
            "HCR" => Some(2),
            "REF" if fields.get(1).is_some_and(|q| q == "NT") => Some(2),
            _ => None,
        };
        if let Some(n) = masked.filter(|n| *n < fields.len()) {
            // The group control number has no fixed width.
            fields[n] = if matches!(id.as_str(), "GS" | "GE") { "#".to_owned() } else { mask(&fields[n]) };
        }
        out.push_str(&fields.join(&element.to_string()));
    }
    out
}

/// The 278 response written for the input file `name`.
fn response_for<'a>(answers: &'a BTreeMap<String, String>, name: &str) -> anyhow::Result<&'a str> {
    let found: Vec<&String> =
        answers.keys().filter(|file| file.starts_with(&format!("{name}.")) && file.contains(".278.")).collect();
    ensure!(found.len() == 1, "{} 278 responses for {name}", found.len());
    Ok(&answers[found[0]])
}

/// Our validator accepts every answer (exit 0).
fn answers_validate(db: &TestDb, dir: &Path) -> TestResult {
    let mut args = vec!["validate".to_owned()];
    args.extend(read_dir(dir).keys().map(|name| dir.join(name).display().to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let output = umgate(db, WEDNESDAY, &args);
    ensure!(output.status.code() == Some(0), "answers rejected by our validator:\n{}", show(&output));
    Ok(())
}

/// x12-types reads the response to its end, with the HCR01 and AAA03 values we read.
fn read_by_x12_types(text: &str) -> TestResult {
    let (rest, transmission) = x12_types::v005010::Transmission::<x12_types::v005010::_278>::parse(text)
        .map_err(|e| anyhow::anyhow!("x12-types: {e}"))?;
    ensure!(rest.trim().is_empty(), "x12-types stopped before the end: {rest:.80}");
    let loops: Vec<_> = transmission.functional_group.iter().flat_map(|g| &g.segments).flat_map(|s| &s.loops).collect();
    let theirs_hcr: Vec<String> = loops.iter().filter_map(|l| l.hcr.as_ref()?._01.clone()).collect();
    let theirs_aaa: Vec<String> = loops
        .iter()
        .flat_map(|l| l.aaa.iter().chain(l.loop_nm1.iter().flat_map(|n| n.aaa.iter())))
        .filter_map(|a| a._03.clone())
        .collect();
    let ours = segments(text);
    let ours_hcr: Vec<String> = ours.iter().filter(|s| s[0] == "HCR").map(|s| el(s, 1).to_owned()).collect();
    let ours_aaa: Vec<String> = ours.iter().filter(|s| s[0] == "AAA").map(|s| el(s, 3).to_owned()).collect();
    let hl = ours.iter().filter(|s| s[0] == "HL").count();
    ensure!(loops.len() == hl, "x12-types read {} HL loops, we wrote {hl}", loops.len());
    ensure!(theirs_hcr == ours_hcr, "x12-types HCR01 {theirs_hcr:?}, ours {ours_hcr:?}");
    ensure!(theirs_aaa == ours_aaa, "x12-types AAA03 {theirs_aaa:?}, ours {ours_aaa:?}");
    Ok(())
}

async fn scenario_table(db: TestDb) -> TestResult {
    let table = scenarios();
    let dir = tempfile::tempdir()?;
    let roster_file = dir.path().join("roster.csv");
    std::fs::write(&roster_file, roster(&table))?;
    let imported = umgate(&db, WEDNESDAY, &["roster", "import", roster_file.to_str().unwrap()]);
    ensure!(imported.status.code() == Some(0), "roster import:\n{}", show(&imported));
    // The requester of the rows (GOOD_NPI) is on file: plans that require it accept it.
    let providers = umgate(&db, WEDNESDAY, &["provider", "import", "samples/providers.csv"]);
    ensure!(providers.status.code() == Some(0), "provider import:\n{}", show(&providers));

    // Per clock: the earlier requests first (one run), then one request per row (a second run).
    let inputs = dir.path().join("in");
    std::fs::create_dir_all(&inputs)?;
    let file_name = |path: &Path| path.file_name().unwrap().to_string_lossy().into_owned();
    let mut clocks: Vec<Clock> = Vec::new();
    for scenario in &table {
        if !clocks.contains(&scenario.clock) {
            clocks.push(scenario.clock);
        }
    }
    let mut control = 100;
    let mut failures: Vec<String> = Vec::new();
    let mut answers: BTreeMap<String, String> = BTreeMap::new();
    let mut row_files: BTreeMap<usize, PathBuf> = BTreeMap::new();
    let mut out_dirs: Vec<PathBuf> = Vec::new();
    for (run, clock) in clocks.iter().copied().enumerate() {
        let rows: Vec<(usize, &Scenario)> = table.iter().enumerate().filter(|(_, s)| s.clock == clock).collect();
        let mut earlier_files: Vec<(usize, usize, PathBuf)> = Vec::new();
        for (index, scenario) in rows.iter().filter(|(_, s)| !s.batched) {
            let member = member_id(scenario.name);
            for (n, (request, _)) in scenario.earlier.iter().enumerate() {
                control += 1;
                let file = inputs.join(format!("{index:02}-{}-earlier{n}.x12", scenario.name));
                std::fs::write(
                    &file,
                    interchange(clock, control, &member, &format!("{member}E{n}"), scenario.member, request),
                )?;
                earlier_files.push((*index, n, file));
            }
        }
        if !earlier_files.is_empty() {
            let out = dir.path().join(format!("out-{run}-earlier"));
            let paths: Vec<PathBuf> = earlier_files.iter().map(|(_, _, f)| f.clone()).collect();
            let earlier_answers = process(&db, clock, &out, &paths)?;
            out_dirs.push(out);
            for (index, n, file) in &earlier_files {
                let (_, expected) = table[*index].earlier[*n];
                let outcome = response_for(&earlier_answers, &file_name(file))
                    .and_then(|text| check_earlier(&segments(text), *n, expected));
                if let Err(error) = outcome {
                    failures.push(format!("{} [{}]: {error:#}", table[*index].name, table[*index].rule));
                }
            }
        }
        let mut files = Vec::new();
        for (index, scenario) in &rows {
            let member = member_id(scenario.name);
            control += 1;
            let file = inputs.join(format!("{index:02}-{}.x12", scenario.name));
            let mut sets = Vec::new();
            if scenario.batched {
                for (n, (request, _)) in scenario.earlier.iter().enumerate() {
                    sets.push(transaction(clock, &member, &format!("{member}E{n}"), scenario.member, request));
                }
            }
            sets.push(transaction(clock, &member, &member, scenario.member, &scenario.request));
            std::fs::write(&file, envelope(control, &sets))?;
            row_files.insert(*index, file.clone());
            files.push(file);
        }
        let out = dir.path().join(format!("out-{run}"));
        let written = process(&db, clock, &out, &files)?;
        // The same files again (SPEC §2 duplicates): the same answers, no second case.
        let again = dir.path().join(format!("out-{run}-again"));
        let (resent, summary) = process_with_summary(&db, clock, &again, &files)?;
        if resent != written || summary["cases_created"] != 0 || summary["resubmitted"] != files.len() {
            failures.push(format!("run {run} resubmitted: other answers or new cases: {summary}"));
        }
        answers.extend(written);
        out_dirs.push(out);
    }

    let store = db.open().await?;
    let mut summary = String::new();
    for (index, scenario) in table.iter().enumerate() {
        let name = file_name(&row_files[&index]);
        let outcome: anyhow::Result<()> = async {
            let text = response_for(&answers, &name)?;
            let sets = sets_of(&segments(text));
            let expected_sets = if scenario.batched { scenario.earlier.len() + 1 } else { 1 };
            ensure!(sets.len() == expected_sets, "{} response sets for {expected_sets} requests", sets.len());
            if scenario.batched {
                for (n, (_, expected)) in scenario.earlier.iter().enumerate() {
                    check_earlier(&sets[n], n, expected)?;
                }
            }
            let case_id = check_answer(scenario, sets.last().unwrap())?;
            read_by_x12_types(text)?;
            check_golden(scenario.name, text)?;
            let cases = store.cases_by_member(&member_id(scenario.name)).await?;
            match case_id {
                Some(id) => {
                    let record = store.get_case(&id).await?.with_context(|| format!("case {id} not stored"))?;
                    let case = case_from_record(record)?;
                    ensure!(case.member_id() == member_id(scenario.name), "case {id} is another member's");
                    ensure!(cases.len() == scenario.earlier.len() + 1, "{} cases for the member", cases.len());
                    let hcr02 = levels(sets.last().unwrap())
                        .iter()
                        .find(|l| l.code == "EV")
                        .and_then(|l| l.first("HCR").map(|s| el(s, 2).to_owned()))
                        .unwrap_or_default();
                    check_case(scenario, &case, &hcr02)?;
                }
                None => ensure!(cases.is_empty(), "a rejected request made {} case(s)", cases.len()),
            }
            Ok(())
        }
        .await;
        match outcome {
            Ok(()) => writeln!(summary, "  ok    {}", scenario.name).unwrap(),
            Err(error) => {
                writeln!(summary, "  FAIL  {}", scenario.name).unwrap();
                failures.push(format!("{} [{}]: {error:#}", scenario.name, scenario.rule));
            }
        }
    }
    store.close().await;
    let backend = db.url().split(':').next().unwrap_or_default().to_owned();
    eprintln!("process_scenarios ({} rows, {backend}):\n{summary}", table.len());
    for out in &out_dirs {
        if let Err(error) = answers_validate(&db, out) {
            failures.push(format!("validate {}: {error:#}", out.display()));
        }
    }
    ensure!(failures.is_empty(), "{} scenario(s) failed:\n{}", failures.len(), failures.join("\n"));
    Ok(())
}

/// The builder itself: a request it writes is a valid 278 request (else every row would test a
/// 999 instead of a 278 response) and carries the dates it was asked for.
async fn built_requests_are_valid(db: TestDb) -> TestResult {
    let dir = tempfile::tempdir()?;
    let mut files = Vec::new();
    for (index, scenario) in scenarios().iter().enumerate() {
        let file = dir.path().join(format!("{index:02}.x12"));
        let (clock, request) = (scenario.clock, &scenario.request);
        let member = member_id(scenario.name);
        let text = interchange(clock, 500 + index as u32, &member, &member, scenario.member, request);
        let dates = period(clock, request.from, request.to);
        ensure!(text.contains(&format!("DTP*472*{dates}")), "{}: no DTP*472*{dates}", scenario.name);
        ensure!(text.contains(&format!("DTP*AAH*{dates}")), "{}: no DTP*AAH*{dates}", scenario.name);
        std::fs::write(&file, text)?;
        files.push(file.display().to_string());
    }
    let mut args = vec!["validate"];
    args.extend(files.iter().map(String::as_str));
    let output = umgate(&db, WEDNESDAY, &args);
    ensure!(output.status.code() == Some(0), "built requests rejected:\n{}", show(&output));
    // One member (and row name) per row.
    let mut members: Vec<String> = scenarios().iter().map(|s| member_id(s.name)).collect();
    members.sort();
    members.dedup();
    ensure!(members.len() == scenarios().len(), "two rows share a name or a member ID");
    // Offsets are calendar days from the clock's day.
    ensure!(WEDNESDAY.day(-2).checked_add_days(Days::new(2)) == Some(WEDNESDAY.today()));
    ensure!(AFTER_HOLIDAY.day(-4) == NaiveDate::from_ymd_opt(2026, 1, 16).unwrap());
    Ok(())
}

fn main() {
    let args = libtest_mimic::Arguments::from_args();
    let tests = store_tests![scenario_table, built_requests_are_valid];
    libtest_mimic::run(&args, stores_support::trials(tests)).exit();
}
