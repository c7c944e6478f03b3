//! The rows. Codes and keys are those of samples/umgate.toml; the start is Wednesday 2026-03-04.

use super::*;
use umgate::domain::CaseStatus::*;
use umgate::domain::LineOfBusiness::{Commercial, Medicaid, Medicare};

pub const CIGNA: &str = "cigna-commercial";
pub const HEALTHSPRING: &str = "healthspring-ma";
pub const AETNA_MEDICARE: &str = "aetna-medicare";
pub const AETNA_MEDICAID: &str = "aetna-medicaid";
pub const ABH_IL: &str = "aetna-better-health-il";

pub const MED_ONC: Option<&str> = Some("medical-oncology");
pub const RAD_ONC: Option<&str> = Some("radiation-oncology");
pub const THERAPY: Option<&str> = Some("therapy");
pub const MSK: Option<&str> = Some("msk-pain");

/// FOLFOX for colon cancer: preferred.
pub const FOLFOX: &[&str] = &["J9263", "J0640", "J9190"];
pub const COLON: &[&str] = &["C18.9"];
/// TAC (docetaxel + doxorubicin + cyclophosphamide) for breast cancer: not preferred (seed 004).
pub const TAC: &[&str] = &["J9171", "J9000", "J9070"];
/// AC → paclitaxel: shared by dose-dense (preferred) and weekly (not preferred) regimens.
pub const AC_T: &[&str] = &["J9000", "J9070", "J9267"];
pub const BREAST: &[&str] = &["C50.911"];
pub const PREFERRED_AC_T: &str = "breast-ddAC-T";
/// A drug set no regimen has: custom.
pub const CUSTOM: &[&str] = &["J9263", "J9035"];
pub const TRANSPLANT: &str = "Z94.84";

pub const RAD_ONC_CODE: &[&str] = &["RC051"];
pub const PROSTATE: &[&str] = &["C61"];
pub const MSK_CODE: &[&str] = &["64483"];
pub const LUMBAR: &[&str] = &["M54.16"];
pub const PT: &[&str] = &["MSMPT"];
pub const BACK_PAIN: &[&str] = &["M54.50"];

fn deny() -> ReviewDecision {
    ReviewDecision::Deny { rationale: "criteria not met".into(), guideline: Some("guideline 1.2".into()) }
}

const WINDOW_ENDED: &str = "post_decision.reconsideration.window_ended";
const NOT_OFFERED: &str = "post_decision.reconsideration.not_offered";

/// Therapy (MSMST approved, 97110 denied) partially approved on the first day.
fn cigna_therapy_partially_approved() -> Vec<Step> {
    vec![
        Step::Submit(req(&["MSMST", "97110"], BACK_PAIN).visits(10).until(30)),
        Step::Expect(expect(Pended, "A4").pend("clinical_review")),
        Step::Decide(ReviewDecision::PartiallyApprove {
            approved_lines: vec![0],
            rationale: "97110 not necessary".into(),
            guideline: Some("therapy guideline 3".into()),
        }),
        Step::Expect(expect(PartiallyApproved, "A2").authorized()),
    ]
}

fn msk_denied() -> Vec<Step> {
    vec![
        Step::Submit(req(MSK_CODE, LUMBAR)),
        Step::Expect(expect(Pended, "A4").pend("awaiting_pathway_answers").rule("intake.program")),
        Step::AnswerPathway { criteria_met: false },
        Step::Expect(expect(Pended, "A4").pend("clinical_review")),
        Step::Decide(deny()),
        Step::Expect(expect(Denied, "A3").rule("review.determination")),
    ]
}

pub fn scenarios() -> Vec<Scenario> {
    let row = |name, plan, lob, program, steps| Scenario { name, plan, lob, program, steps };
    vec![
        row(
            "cigna medical oncology preferred regimen: approved at once, valid 8-12 months",
            CIGNA,
            Commercial,
            MED_ONC,
            vec![
                Step::Submit(req(FOLFOX, COLON)),
                Step::Expect(
                    expect(Approved, "A1").validity_days(240, 366).rule("pathway.regimen.preferred").authorized(),
                ),
            ],
        ),
        row(
            "cigna medical oncology non-preferred regimen: pended with P2P offered",
            CIGNA,
            Commercial,
            MED_ONC,
            vec![
                Step::Submit(req(TAC, BREAST)),
                Step::Expect(expect(Pended, "A4").pend("peer_to_peer_offered").rule("pathway.regimen.non_preferred")),
                Step::PeerToPeer(P2pEligibility::Eligible),
            ],
        ),
        row(
            "cigna medical oncology: partial approval refused",
            CIGNA,
            Commercial,
            MED_ONC,
            vec![
                Step::Submit(req(CUSTOM, COLON)),
                Step::Expect(expect(Pended, "A4").pend("clinical_review").rule("pathway.regimen.custom")),
                Step::DecideRefused(
                    ReviewDecision::PartiallyApprove {
                        approved_lines: vec![0],
                        rationale: "one drug".into(),
                        guideline: None,
                    },
                    "PartialApprovalNotAllowed",
                ),
                Step::Expect(expect(Pended, "A4")),
                Step::Decide(ReviewDecision::Approve),
                Step::Expect(expect(Approved, "A1").authorized()),
            ],
        ),
        row(
            "cigna medical oncology: shared drug set pended until the regimen is chosen",
            CIGNA,
            Commercial,
            MED_ONC,
            vec![
                Step::Submit(req(AC_T, BREAST)),
                Step::Expect(expect(Pended, "A4").pend("awaiting_regimen_choice")),
                Step::ChooseRegimen(PREFERRED_AC_T),
                Step::Expect(expect(Approved, "A1").validity_days(240, 366)),
            ],
        ),
        row(
            "cigna medical oncology: patient active in transplant needs no authorization",
            CIGNA,
            Commercial,
            MED_ONC,
            vec![
                Step::Submit(req(FOLFOX, &["C18.9", TRANSPLANT])),
                Step::Expect(expect(NoActionRequired, "NA").rule("intake.excluded_diagnosis")),
            ],
        ),
        row(
            "healthspring MA radiation oncology 2 business days after the date of service: administrative denial",
            HEALTHSPRING,
            Medicare,
            RAD_ONC,
            vec![
                Step::Submit(req(RAD_ONC_CODE, PROSTATE).dos(Dos::BusinessDaysAgo(2))),
                Step::Expect(expect(Denied, "A3").rule("intake.retro_window")),
            ],
        ),
        row(
            "healthspring MA radiation oncology 1 business day after the date of service: accepted",
            HEALTHSPRING,
            Medicare,
            RAD_ONC,
            vec![
                Step::Submit(req(RAD_ONC_CODE, PROSTATE).dos(Dos::BusinessDaysAgo(1))),
                Step::Expect(expect(Pended, "A4").pend("awaiting_pathway_answers").rule("intake.retro_window")),
            ],
        ),
        row(
            "healthspring MA radiation oncology and therapy codes in one request: every line pended, none NA",
            HEALTHSPRING,
            Medicare,
            RAD_ONC,
            vec![
                Step::Submit(req(&["RC051", "MSMPT"], PROSTATE)),
                Step::Expect(expect(Pended, "A4").pend("clinical_review").rule("intake.multiple_programs")),
                Step::ExpectLineStatuses(&["A4", "A4"]),
                Step::Decide(ReviewDecision::Approve),
                Step::Expect(expect(Approved, "A1").authorized()),
                Step::ExpectLineStatuses(&["A1", "A1"]),
            ],
        ),
        row(
            "healthspring MA urgent radiation oncology with a document: due in 24 hours, overdue after",
            HEALTHSPRING,
            Medicare,
            RAD_ONC,
            vec![
                Step::Submit(req(RAD_ONC_CODE, PROSTATE).urgent(1)),
                Step::Expect(expect(Pended, "A4").urgency(Urgency::Urgent).due_in_hours(24).overdue(false)),
                Step::AdvanceHours(25),
                Step::Expect(expect(Pended, "A4").overdue(true)),
                Step::AnswerPathway { criteria_met: true },
                Step::Expect(expect(Approved, "A1").authorized()),
            ],
        ),
        row(
            "healthspring MA urgent radiation oncology without a document: processed as standard",
            HEALTHSPRING,
            Medicare,
            RAD_ONC,
            vec![
                Step::Submit(req(RAD_ONC_CODE, PROSTATE).urgent(0)),
                Step::Expect(
                    expect(Pended, "A4").urgency(Urgency::Standard).due_in_hours(48).rule("intake.urgency_definition"),
                ),
            ],
        ),
        row(
            "aetna medicaid MSK approval valid 60 days",
            AETNA_MEDICAID,
            Medicaid,
            MSK,
            vec![
                Step::Submit(req(MSK_CODE, LUMBAR)),
                Step::Expect(expect(Pended, "A4").pend("awaiting_pathway_answers")),
                Step::AnswerPathway { criteria_met: true },
                Step::Expect(expect(Approved, "A1").validity_days(60, 60).authorized()),
            ],
        ),
        row(
            "aetna medicare MSK approval valid 180 days",
            AETNA_MEDICARE,
            Medicare,
            MSK,
            vec![
                Step::Submit(req(MSK_CODE, LUMBAR)),
                Step::AnswerPathway { criteria_met: true },
                Step::Expect(expect(Approved, "A1").validity_days(180, 180)),
            ],
        ),
        row("aetna medicaid MSK reconsideration on the 5th business day: accepted", AETNA_MEDICAID, Medicaid, MSK, {
            let mut steps = msk_denied();
            steps.extend([
                Step::PeerToPeerValidForBusinessDays(P2pEligibility::Eligible, 5),
                Step::AdvanceBusinessDays(5),
                Step::Reconsider,
                Step::Expect(expect(Pended, "A4").pend("clinical_review").rule("post_decision.reconsideration")),
                Step::Decide(ReviewDecision::Approve),
                Step::Expect(expect(Approved, "A1").authorized()),
            ]);
            steps
        }),
        row("aetna medicaid MSK reconsideration on the 6th business day: refused", AETNA_MEDICAID, Medicaid, MSK, {
            let mut steps = msk_denied();
            steps.extend([
                Step::AdvanceBusinessDays(6),
                Step::ReconsiderRefused(WINDOW_ENDED),
                Step::Expect(expect(Denied, "A3")),
            ]);
            steps
        }),
        row(
            "aetna medicare MSK denial: P2P consultative only, no reconsideration, appeal not by us",
            AETNA_MEDICARE,
            Medicare,
            MSK,
            {
                let mut steps = msk_denied();
                steps.extend([
                    Step::PeerToPeer(P2pEligibility::ConsultativeOnly),
                    Step::ReconsiderRefused(NOT_OFFERED),
                    Step::Appeal { outcome: "health_plan" },
                    Step::Expect(expect(Denied, "A3")),
                ]);
                steps
            },
        ),
        row(
            "cigna therapy: first two PT requests of an episode real time, the third pended",
            CIGNA,
            Commercial,
            THERAPY,
            vec![
                Step::Submit(req(PT, BACK_PAIN).visits(6).until(30)),
                Step::Expect(expect(Approved, "A1").rule("pathway.therapy.real_time").authorized()),
                Step::AdvancePastApproval,
                Step::Submit(req(PT, BACK_PAIN).visits(6).until(30)),
                Step::Expect(expect(Approved, "A1").rule("pathway.therapy.real_time")),
                Step::AdvancePastApproval,
                Step::Submit(req(PT, BACK_PAIN).visits(6).until(30)),
                Step::Expect(expect(Pended, "A4").pend("clinical_review").rule("pathway.therapy.real_time")),
            ],
        ),
        row(
            "cigna therapy: a cancelled request does not count in the episode",
            CIGNA,
            Commercial,
            THERAPY,
            vec![
                Step::Submit(req(PT, BACK_PAIN).visits(6).until(30)),
                Step::Cancel,
                Step::Expect(expect(Cancelled, "C")),
                Step::Submit(req(PT, BACK_PAIN).visits(6).until(30)),
                Step::Expect(expect(Approved, "A1")),
                Step::AdvancePastApproval,
                Step::Submit(req(PT, BACK_PAIN).visits(6).until(30)),
                Step::Expect(expect(Approved, "A1")),
            ],
        ),
        row(
            "cigna therapy: more visits inside the open approved period reviewed as overlapping",
            CIGNA,
            Commercial,
            THERAPY,
            vec![
                Step::Submit(req(PT, BACK_PAIN).visits(6).until(30)),
                Step::Expect(expect(Approved, "A1")),
                Step::Submit(req(PT, BACK_PAIN).visits(4).until(30)),
                Step::Expect(expect(Pended, "A4").pend("overlapping_request").rule("workflow.overlapping_request")),
            ],
        ),
        row(
            "cigna therapy date extension: 31 days refused, 30 days accepted",
            CIGNA,
            Commercial,
            THERAPY,
            vec![
                Step::Submit(req(PT, BACK_PAIN).visits(8).until(30)),
                Step::Expect(expect(Approved, "A1")),
                Step::Extend { days: 31, accepted: false },
                Step::Extend { days: 30, accepted: true },
                Step::Expect(expect(Approved, "A1").rule("post_decision.extension")),
            ],
        ),
        row(
            "cigna therapy authorization update: original withdrawn when the update is approved",
            CIGNA,
            Commercial,
            THERAPY,
            vec![
                Step::Submit(req(PT, BACK_PAIN).visits(8).until(30)),
                Step::Expect(expect(Approved, "A1")),
                Step::Update(req(PT, BACK_PAIN).visits(12).until(30)),
                Step::Expect(expect(Pended, "A4").pend("clinical_review").rule("workflow.authorization_update")),
                Step::ExpectPrevious(expect(Approved, "A1")),
                Step::Decide(ReviewDecision::Approve),
                Step::Expect(expect(Approved, "A1").authorized()),
                Step::ExpectPrevious(expect(Withdrawn, "C").rule("workflow.authorization_update")),
            ],
        ),
        row(
            "emergency room (POS 23): no authorization required",
            CIGNA,
            Commercial,
            None,
            vec![
                Step::Submit(req(FOLFOX, COLON).pos("23")),
                Step::Expect(expect(NoActionRequired, "NA").rule("intake.exemption")),
            ],
        ),
        row(
            "observation (HCPCS G0378): no authorization required",
            HEALTHSPRING,
            Medicare,
            None,
            vec![
                Step::Submit(req(&["G0378"], PROSTATE)),
                Step::Expect(expect(NoActionRequired, "NA").rule("intake.exemption")),
            ],
        ),
        row(
            "inpatient (POS 21): no authorization required",
            AETNA_MEDICAID,
            Medicaid,
            None,
            vec![
                Step::Submit(req(MSK_CODE, LUMBAR).pos("21")),
                Step::Expect(expect(NoActionRequired, "NA").rule("intake.exemption")),
            ],
        ),
        row(
            "code of no program: no authorization required",
            CIGNA,
            Commercial,
            None,
            vec![
                Step::Submit(req(&["99213"], COLON)),
                Step::Expect(expect(NoActionRequired, "NA").rule("intake.program")),
            ],
        ),
        row(
            "member not on the roster, or a bad NPI: rejected before a case exists",
            CIGNA,
            Commercial,
            MED_ONC,
            vec![
                Step::SubmitRejected(
                    Req { unknown_member: true, ..req(FOLFOX, COLON) },
                    IntakeRejection::MemberNotFound,
                ),
                Step::SubmitRejected(
                    Req { npi: "1234567890", ..req(FOLFOX, COLON) },
                    IntakeRejection::InvalidRequestingProvider,
                ),
                Step::SubmitRejected(
                    req(FOLFOX, COLON).dos(Dos::CalendarDaysAgo(800)),
                    IntakeRejection::NotCoveredOnDateOfService,
                ),
            ],
        ),
        row(
            "hold expiring: decided on the original submission",
            AETNA_MEDICAID,
            Medicaid,
            MSK,
            vec![
                Step::Submit(req(MSK_CODE, LUMBAR)),
                Step::AnswerPathway { criteria_met: false },
                Step::Hold { needed: "imaging report", if_not_received: deny() },
                Step::Expect(expect(Pended, "A4").pend("on_hold")),
                Step::RunTimers { applied: 0 },
                Step::AdvanceCalendarDays(30),
                Step::RunTimers { applied: 1 },
                Step::Expect(expect(Denied, "A3").on_original_submission().rule("review.hold_expiry")),
                Step::RunTimers { applied: 0 },
            ],
        ),
        row(
            "hold answered in time: review resumes, the expiry does nothing",
            AETNA_MEDICAID,
            Medicaid,
            MSK,
            vec![
                Step::Submit(req(MSK_CODE, LUMBAR)),
                Step::AnswerPathway { criteria_met: false },
                Step::Hold { needed: "imaging report", if_not_received: deny() },
                Step::AdvanceHours(2),
                Step::AttachDocument,
                Step::Expect(expect(Pended, "A4").pend("clinical_review")),
                Step::AdvanceCalendarDays(30),
                Step::RunTimers { applied: 0 },
                Step::Expect(expect(Pended, "A4").pend("clinical_review")),
            ],
        ),
        row(
            "restart between hold and expiry changes nothing",
            AETNA_MEDICAID,
            Medicaid,
            MSK,
            vec![
                Step::Submit(req(MSK_CODE, LUMBAR)),
                Step::AnswerPathway { criteria_met: false },
                Step::Hold { needed: "imaging report", if_not_received: deny() },
                Step::Restart,
                Step::AdvanceCalendarDays(30),
                Step::RunTimers { applied: 1 },
                Step::Expect(expect(Denied, "A3").on_original_submission()),
            ],
        ),
        row(
            "two reviewers deciding at once: exactly one wins",
            CIGNA,
            Commercial,
            MED_ONC,
            vec![Step::Submit(req(CUSTOM, COLON)), Step::ConcurrentDecisions(ReviewDecision::Approve, deny())],
        ),
        row(
            "in-progress request not submitted by the end of the day expires",
            CIGNA,
            Commercial,
            MED_ONC,
            vec![
                Step::Start(req(FOLFOX, COLON)),
                Step::RunTimers { applied: 0 },
                Step::AdvanceHours(12),
                Step::RunTimers { applied: 1 },
                Step::Expect(Expect {
                    status: Some(Expired),
                    rule: Some("workflow.in_progress_expiry"),
                    ..Default::default()
                }),
            ],
        ),
        row(
            "in-progress request submitted the same day goes through intake",
            CIGNA,
            Commercial,
            MED_ONC,
            vec![
                Step::Start(req(FOLFOX, COLON)),
                Step::AdvanceHours(2),
                Step::SubmitStarted,
                Step::Expect(expect(Approved, "A1")),
                Step::AdvanceHours(12),
                Step::RunTimers { applied: 0 },
                Step::Expect(expect(Approved, "A1")),
            ],
        ),
        row(
            "aetna better health IL medicaid MSK retro 90 days accepted, 91 denied",
            ABH_IL,
            Medicaid,
            MSK,
            vec![
                Step::Submit(req(MSK_CODE, LUMBAR).dos(Dos::CalendarDaysAgo(90))),
                Step::Expect(expect(Pended, "A4")),
                Step::Submit(req(MSK_CODE, LUMBAR).dos(Dos::CalendarDaysAgo(91))),
                Step::Expect(expect(Denied, "A3").rule("intake.retro_window")),
            ],
        ),
        row(
            "aetna better health IL medicaid MSK: retro decision clock 14 calendar days",
            ABH_IL,
            Medicaid,
            MSK,
            vec![
                Step::Submit(req(MSK_CODE, LUMBAR).dos(Dos::CalendarDaysAgo(10))),
                Step::Expect(expect(Pended, "A4").due_in_hours(14 * 24).rule("workflow.decision_clock")),
            ],
        ),
        row(
            "aetna medicaid MSK: after the reconsideration window the P2P is consultative only",
            AETNA_MEDICAID,
            Medicaid,
            MSK,
            {
                let mut steps = msk_denied();
                steps.extend([Step::AdvanceBusinessDays(6), Step::PeerToPeer(P2pEligibility::ConsultativeOnly)]);
                steps
            },
        ),
        row(
            "cigna therapy denial: appeal reviewed by us inside 180 days, reconsideration after 45 refused",
            CIGNA,
            Commercial,
            THERAPY,
            {
                let mut steps = cigna_therapy_partially_approved();
                steps.extend([
                    Step::AdvanceCalendarDays(46),
                    Step::ReconsiderRefused(WINDOW_ENDED),
                    Step::Appeal { outcome: "accepted" },
                    Step::Expect(expect(Pended, "A4").rule("post_decision.appeal")),
                ]);
                steps
            },
        ),
        row("cigna therapy denial: reconsideration on day 45 accepted", CIGNA, Commercial, THERAPY, {
            let mut steps = cigna_therapy_partially_approved();
            steps.extend([
                Step::AdvanceCalendarDays(45),
                Step::Reconsider,
                Step::Expect(expect(Pended, "A4").rule("post_decision.reconsideration")),
            ]);
            steps
        }),
        row("cigna therapy denial: appeal on day 181 refused", CIGNA, Commercial, THERAPY, {
            let mut steps = cigna_therapy_partially_approved();
            steps.extend([
                Step::AdvanceCalendarDays(181),
                Step::Appeal { outcome: "refused" },
                Step::ReconsiderRefused(WINDOW_ENDED),
                Step::Expect(expect(PartiallyApproved, "A2")),
            ]);
            steps
        }),
        row(
            "cigna medical oncology reconsideration on or before the date of service",
            CIGNA,
            Commercial,
            MED_ONC,
            vec![
                Step::Submit(req(CUSTOM, COLON).dos(Dos::InDays(10))),
                Step::Decide(deny()),
                Step::Expect(expect(Denied, "A3")),
                Step::PeerToPeer(P2pEligibility::Eligible),
                Step::AdvanceCalendarDays(10),
                Step::Reconsider,
                Step::Expect(expect(Pended, "A4")),
                Step::Decide(deny()),
                Step::AdvanceCalendarDays(1),
                Step::ReconsiderRefused(WINDOW_ENDED),
                Step::Appeal { outcome: "health_plan" },
            ],
        ),
        row(
            "cigna medical oncology: cancelled by the requester",
            CIGNA,
            Commercial,
            MED_ONC,
            vec![
                Step::Submit(req(TAC, BREAST)),
                Step::Cancel,
                Step::Expect(expect(Cancelled, "C")),
                Step::PeerToPeer(P2pEligibility::NotEligible),
            ],
        ),
        row(
            "healthspring MA standard decision: 2 business days skip the weekend and the MLK holiday",
            HEALTHSPRING,
            Medicare,
            RAD_ONC,
            vec![
                // Friday 2026-01-16; Monday 2026-01-19 is a holiday of the us-federal calendar.
                Step::SetClock(Utc.with_ymd_and_hms(2026, 1, 16, 14, 0, 0).single().unwrap()),
                Step::Submit(req(RAD_ONC_CODE, PROSTATE)),
                Step::Expect(expect(Pended, "A4").due_in_hours(5 * 24)),
            ],
        ),
        row(
            "review queue ordered by due time: an urgent case overtakes an older standard one",
            HEALTHSPRING,
            Medicare,
            RAD_ONC,
            vec![
                Step::Submit(req(RAD_ONC_CODE, PROSTATE)),
                Step::AdvanceHours(1),
                Step::Submit(req(RAD_ONC_CODE, PROSTATE).urgent(2)),
                Step::Expect(expect(Pended, "A4").due_in_hours(24)),
                Step::ExpectQueuedBeforePrevious,
            ],
        ),
        row(
            "healthspring MA radiation oncology: the decision clock starts when the pathway answers arrive",
            HEALTHSPRING,
            Medicare,
            RAD_ONC,
            vec![
                Step::Submit(req(RAD_ONC_CODE, PROSTATE)),
                Step::Expect(expect(Pended, "A4").due_in_hours(48)),
                Step::AdvanceHours(24),
                Step::AnswerPathway { criteria_met: false },
                // Answered Thursday 14:00: 2 business days → Monday 14:00, 120 h after receipt.
                Step::Expect(expect(Pended, "A4").pend("clinical_review").due_in_hours(120)),
            ],
        ),
        row(
            "cigna medical oncology: site-of-care redirect accepted, modified with the one-time 30-day validity",
            CIGNA,
            Commercial,
            MED_ONC,
            vec![
                Step::Submit(req(CUSTOM, COLON)),
                Step::Decide(ReviewDecision::Modify {
                    quantities: vec![],
                    rationale: "infusion at a lower-cost site".into(),
                    site_of_care_redirect: Some("home infusion provider".into()),
                }),
                Step::Expect(expect(Modified, "A6").validity_days(30, 30).authorized()),
            ],
        ),
        row(
            "cigna therapy: fewer visits approved, modified",
            CIGNA,
            Commercial,
            THERAPY,
            vec![
                Step::Submit(req(&["MSMST"], BACK_PAIN).visits(12).until(30)),
                Step::Expect(expect(Pended, "A4").pend("clinical_review")),
                Step::Decide(ReviewDecision::Modify {
                    quantities: vec![Some(Quantity { kind: QuantityKind::Visits, value: 8 })],
                    rationale: "8 visits meet the functional goals".into(),
                    site_of_care_redirect: None,
                }),
                Step::Expect(expect(Modified, "A6").approved_quantity(0, 8).authorized()),
            ],
        ),
        row(
            "healthspring MA radiation oncology: at most 5 clinical documents per case",
            HEALTHSPRING,
            Medicare,
            RAD_ONC,
            vec![
                Step::Submit(req(RAD_ONC_CODE, PROSTATE).urgent(3)),
                Step::AttachDocument,
                Step::AttachDocument,
                Step::AttachDocumentRefused("TooManyDocuments"),
            ],
        ),
    ]
}
