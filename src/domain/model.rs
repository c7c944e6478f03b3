//! The case model of SPEC §3: what a 278 request becomes once mapped (`CaseRequest`), and the case
//! the workflow keeps (`Case`) with its status, per-line results and post-decision state.
//! Plain serde data: storage keeps a case as JSON beside a few indexed columns.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

pub use crate::policy::LineOfBusiness;

/// Identifier of a case (stable, unique per repository sequence).
pub type CaseId = String;

/// How fast the requester asks for a decision (UM06 level of service in the 278).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Urgency {
    Standard,
    Urgent,
}

/// Request category / certification type (UM01 + UM02 in the 278).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestCategory {
    Initial,
    Renewal,
    Revised,
    Extension,
    Cancel,
    Appeal,
}

/// What a requested or approved quantity counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuantityKind {
    Visits,
    Units,
    Fractions,
    Phases,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Quantity {
    pub kind: QuantityKind,
    pub value: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    pub state: String,
    pub postal_code: String,
}

/// The member as the request identifies them (2010C).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberRef {
    pub member_id: String,
    pub birth_date: NaiveDate,
}

/// Redacted: a `{:?}` of a case (in a panic, an `expect`, a trace) must not carry PHI.
impl std::fmt::Debug for MemberRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemberRef").field("member_id", &"<redacted>").field("birth_date", &"<redacted>").finish()
    }
}

/// Requesting / ordering provider (2010B).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestingProvider {
    pub npi: String,
    pub tin: Option<String>,
    pub name: Option<String>,
    pub phone: Option<String>,
    pub fax: Option<String>,
}

/// Rendering provider or facility: the site of service (2010EA/2010FA).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenderingProvider {
    pub npi: String,
    pub tin: Option<String>,
    pub name: Option<String>,
    pub address: Option<Address>,
}

/// A PWK-like attachment: report type code, transmission code, attachment control number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub report_type: String,
    pub transmission: String,
    pub control_id: String,
}

/// A TRN trace number: who assigned it and the value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceNumber {
    pub originator: String,
    pub value: String,
}

/// One requested service (2000F): a CPT/HCPCS code or a program code (`RC…`, `MSMPT`, …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestedLine {
    pub service_code: String,
    pub quantity: Option<Quantity>,
    pub service_from: NaiveDate,
    pub service_to: Option<NaiveDate>,
    /// CMS place-of-service code (e.g. "23" emergency room), when sent (UM04 with UM04-2 = B).
    pub place_of_service: Option<String>,
    /// UB type of bill (UM04 with UM04-2 = A), when sent.
    #[serde(default)]
    pub bill_type: Option<String>,
    /// Institutional revenue code, when sent.
    #[serde(default)]
    pub revenue_code: Option<String>,
}

/// What the intake needs from a 278 (filled by the X12 mapping) or from the provider API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseRequest {
    pub member: MemberRef,
    pub requesting_provider: RequestingProvider,
    pub rendering_provider: Option<RenderingProvider>,
    /// ICD-10 codes, primary first.
    pub diagnoses: Vec<String>,
    pub lines: Vec<RequestedLine>,
    pub urgency: Urgency,
    pub category: RequestCategory,
    pub attachments: Vec<Attachment>,
    pub trace_numbers: Vec<TraceNumber>,
}

impl CaseRequest {
    pub fn primary_diagnosis(&self) -> Option<&str> {
        self.diagnoses.first().map(String::as_str)
    }

    /// The earliest requested date of service.
    pub fn date_of_service(&self) -> Option<NaiveDate> {
        self.lines.iter().map(|line| line.service_from).min()
    }
}

/// Where a case is in the workflow. `hcr01` gives the 278 action code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    /// Being filled in, not yet submitted (expires at the end of the day).
    InProgress,
    Approved,
    PartiallyApproved,
    Modified,
    Denied,
    Pended,
    Cancelled,
    Withdrawn,
    NoActionRequired,
    /// An in-progress request that was never submitted.
    Expired,
}

impl CaseStatus {
    /// The HCR01 action code of SPEC §3, or `None` for statuses never sent in a 278.
    pub fn hcr01(self) -> Option<&'static str> {
        match self {
            CaseStatus::Approved => Some("A1"),
            CaseStatus::PartiallyApproved => Some("A2"),
            CaseStatus::Modified => Some("A6"),
            CaseStatus::Denied => Some("A3"),
            CaseStatus::Pended => Some("A4"),
            CaseStatus::Cancelled | CaseStatus::Withdrawn => Some("C"),
            CaseStatus::NoActionRequired => Some("NA"),
            CaseStatus::InProgress | CaseStatus::Expired => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            CaseStatus::InProgress => "in_progress",
            CaseStatus::Approved => "approved",
            CaseStatus::PartiallyApproved => "partially_approved",
            CaseStatus::Modified => "modified",
            CaseStatus::Denied => "denied",
            CaseStatus::Pended => "pended",
            CaseStatus::Cancelled => "cancelled",
            CaseStatus::Withdrawn => "withdrawn",
            CaseStatus::NoActionRequired => "no_action_required",
            CaseStatus::Expired => "expired",
        }
    }

    /// Statuses that wait for a reviewer (they sit in the review queue).
    pub fn is_open_for_review(self) -> bool {
        self == CaseStatus::Pended
    }

    /// A final determination with an authorization behind it.
    pub fn is_certified(self) -> bool {
        matches!(self, CaseStatus::Approved | CaseStatus::PartiallyApproved | CaseStatus::Modified)
    }
}

/// The decision on one service line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineStatus {
    Pending,
    Approved,
    Modified,
    Denied,
    NotRequired,
    Cancelled,
}

impl LineStatus {
    pub fn hcr01(self) -> &'static str {
        match self {
            LineStatus::Pending => "A4",
            LineStatus::Approved => "A1",
            LineStatus::Modified => "A6",
            LineStatus::Denied => "A3",
            LineStatus::NotRequired => "NA",
            LineStatus::Cancelled => "C",
        }
    }
}

/// A service line of the case with its outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceLine {
    pub requested: RequestedLine,
    pub status: LineStatus,
    pub approved_quantity: Option<Quantity>,
    pub approved_from: Option<NaiveDate>,
    pub approved_to: Option<NaiveDate>,
    /// The line's own authorization number when it is authorized separately from the case
    /// (supportive drugs, seed 004); `None` when the case's number covers it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_number: Option<String>,
}

impl ServiceLine {
    pub fn is_certified(&self) -> bool {
        matches!(self.status, LineStatus::Approved | LineStatus::Modified)
    }
}

/// Why a case is pended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "reason")]
pub enum PendReason {
    ClinicalReview,
    /// Program questions X12 cannot carry (radiation oncology, MSK) must arrive through the API.
    AwaitingPathwayAnswers,
    /// The drug set matches regimens of different preference: the requester must choose.
    AwaitingRegimenChoice {
        candidates: Vec<String>,
    },
    /// Non-preferred regimen: peer-to-peer offered before a determination.
    PeerToPeerOffered {
        regimen: String,
    },
    /// A reviewer put the case on hold for missing documentation; `if_not_received` is the
    /// determination on the original submission that applies when the hold expires.
    OnHold {
        needed: String,
        due: DateTime<Utc>,
        reviewer: String,
        if_not_received: ReviewDecision,
    },
    /// A new request for more services inside an open approved period.
    OverlappingRequest {
        original: CaseId,
    },
}

/// A reviewer's determination on a pended case. Line indexes refer to `Case::lines`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "decision")]
pub enum ReviewDecision {
    Approve,
    /// Some lines approved, the others denied (refused where the policy forbids it).
    PartiallyApprove {
        approved_lines: Vec<usize>,
        rationale: String,
        guideline: Option<String>,
    },
    /// Approved with changes (an alternative recommendation the requester accepted): per line,
    /// the approved quantity (`None`: as requested); optionally a site-of-care redirect to the
    /// named site, which carries the program's one-time redirect validity.
    Modify {
        quantities: Vec<Option<Quantity>>,
        rationale: String,
        #[serde(default)]
        site_of_care_redirect: Option<String>,
    },
    Deny {
        rationale: String,
        guideline: Option<String>,
    },
}

/// Why a case was denied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DenialKind {
    /// Outside the retro window: never reviewed clinically.
    Administrative,
    Clinical,
}

/// The final determination (the last one, when a case is decided again after reconsideration).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Determination {
    pub status: CaseStatus,
    pub decided_at: DateTime<Utc>,
    pub decided_by: crate::domain::events::Actor,
    pub denial_kind: Option<DenialKind>,
    pub rationale: Option<String>,
    pub guideline: Option<String>,
    /// True when a hold expired and the case was decided on the original submission.
    pub on_original_submission: bool,
    /// The site a site-of-care redirect approved the services at.
    #[serde(default)]
    pub redirected_to: Option<String>,
}

/// The medical oncology regimen the case was matched to (or chosen through the API).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegimenChoice {
    pub regimen: String,
    pub preferred: bool,
}

/// How a case relates to another one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "relation")]
pub enum CaseLink {
    /// Additional units inside the open approved period of `original`.
    OverlapsWith { original: CaseId },
    /// An authorization update: this case replaces `original` once approved.
    Replaces { original: CaseId },
    /// `replacement` was approved and withdrew this case.
    ReplacedBy { replacement: CaseId },
}

/// Reconsiderations and appeals filed on a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PostDecisionKind {
    Reconsideration,
    Appeal,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostDecisionRequest {
    pub kind: PostDecisionKind,
    pub filed_at: DateTime<Utc>,
    /// Who handles it: "us" or the health plan.
    pub handler: String,
}

/// A UM case: one patient event of a 278 with its lines, status and history summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Case {
    pub id: CaseId,
    /// Optimistic-concurrency version: bumped by every stored update.
    pub version: u64,
    pub plan: String,
    pub line_of_business: LineOfBusiness,
    /// Program key from the configuration, `None` when no program covers the codes.
    pub program: Option<String>,
    pub request: CaseRequest,
    pub lines: Vec<ServiceLine>,
    /// Urgency the case is processed with (an urgent request may be downgraded).
    pub effective_urgency: Urgency,
    pub status: CaseStatus,
    pub pend: Option<PendReason>,
    pub regimen: Option<RegimenChoice>,
    /// Pathway answers received through the API (question → answer).
    pub pathway_answers: Vec<(String, String)>,
    pub received_at: DateTime<Utc>,
    pub decision_due: Option<DateTime<Utc>>,
    pub authorization_number: Option<String>,
    pub approved_from: Option<NaiveDate>,
    pub approved_to: Option<NaiveDate>,
    pub determination: Option<Determination>,
    pub post_decision: Vec<PostDecisionRequest>,
    pub links: Vec<CaseLink>,
    /// Documents received after submission (hold responses).
    pub documents: Vec<Attachment>,
    /// The rule that set the current status, with the 278 reason code configured for it.
    #[serde(default)]
    pub status_reason: Option<StatusReason>,
}

/// Why a case has its status: the rule that set it and the decision reason code (278 HCR03,
/// X12 external code source 886) the configuration gives that rule, looked up when the status
/// was set so that every later answer about the case says the same.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusReason {
    pub status: CaseStatus,
    pub rule: String,
    pub code: Option<String>,
}

impl Case {
    pub fn member_id(&self) -> &str {
        &self.request.member.member_id
    }

    pub fn hcr01(&self) -> Option<&'static str> {
        self.status.hcr01()
    }

    /// Whether the case is overdue against its decision clock at `now`.
    pub fn is_overdue(&self, now: DateTime<Utc>) -> bool {
        self.status.is_open_for_review() && self.decision_due.is_some_and(|due| due < now)
    }

    /// The date the approval ends, if any, and whether `day` falls in the approved period.
    pub fn covers(&self, day: NaiveDate) -> bool {
        self.status.is_certified()
            && self.approved_from.is_some_and(|from| from <= day)
            && self.approved_to.is_some_and(|to| day <= to)
    }

    /// The rule behind the current status (none when the status was set without one).
    pub fn status_rule(&self) -> Option<&str> {
        self.status_reason.as_ref().filter(|reason| reason.status == self.status).map(|reason| reason.rule.as_str())
    }

    /// HCR03 of the case: the reason code of the rule behind a denial, partial approval, "no
    /// action required" or pend; `None` for other statuses or when none is configured.
    pub fn reason_code(&self) -> Option<&str> {
        let answered = matches!(
            self.status,
            CaseStatus::Denied | CaseStatus::PartiallyApproved | CaseStatus::NoActionRequired | CaseStatus::Pended
        );
        self.status_reason
            .as_ref()
            .filter(|reason| answered && reason.status == self.status)
            .and_then(|reason| reason.code.as_deref())
    }

    /// The certification number of a line (HCR02 of its 2000F): its own when it was authorized
    /// separately, else the case's; `None` for a line not certified.
    pub fn line_authorization_number(&self, index: usize) -> Option<&str> {
        let line = self.lines.get(index).filter(|line| line.is_certified())?;
        line.authorization_number.as_deref().or(self.authorization_number.as_deref())
    }

    /// Whether `number` is this case's authorization number or one of its lines' own.
    pub fn has_authorization_number(&self, number: &str) -> bool {
        self.authorization_number.as_deref() == Some(number)
            || self.lines.iter().any(|line| line.authorization_number.as_deref() == Some(number))
    }

    pub fn original_of_update(&self) -> Option<&CaseId> {
        self.links.iter().find_map(|link| match link {
            CaseLink::Replaces { original } => Some(original),
            _ => None,
        })
    }
}

/// A roster entry: who is covered, by which plan and line of business, and when (SPEC §8).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberRecord {
    pub member_id: String,
    pub first_name: String,
    pub last_name: String,
    pub birth_date: NaiveDate,
    pub gender: Option<String>,
    pub plan: String,
    pub line_of_business: LineOfBusiness,
    pub coverage_start: NaiveDate,
    pub coverage_end: Option<NaiveDate>,
}

/// Redacted like [`MemberRef`]: identity fields are PHI; plan and coverage are not.
impl std::fmt::Debug for MemberRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemberRecord")
            .field("member_id", &"<redacted>")
            .field("name", &"<redacted>")
            .field("birth_date", &"<redacted>")
            .field("plan", &self.plan)
            .field("line_of_business", &self.line_of_business)
            .field("coverage_start", &self.coverage_start)
            .field("coverage_end", &self.coverage_end)
            .finish()
    }
}

/// A provider on file (the provider registry of `umgate provider import`): a requesting
/// provider the health plans know. Provider identities are public (NPI registry), not PHI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderRecord {
    pub npi: String,
    pub name: String,
    pub tin: Option<String>,
    /// The plans the provider is on file with; empty: every plan.
    pub plans: Vec<String>,
}

impl ProviderRecord {
    /// Whether the provider is on file for requests of `plan`'s members.
    pub fn on_file_for(&self, plan: &str) -> bool {
        self.plans.is_empty() || self.plans.iter().any(|known| known == plan)
    }
}

impl MemberRecord {
    pub fn covered_on(&self, day: NaiveDate) -> bool {
        self.coverage_start <= day && self.coverage_end.is_none_or(|end| day <= end)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn hcr01_codes_follow_the_spec_table() {
        assert_eq!(CaseStatus::Approved.hcr01(), Some("A1"));
        assert_eq!(CaseStatus::PartiallyApproved.hcr01(), Some("A2"));
        assert_eq!(CaseStatus::Modified.hcr01(), Some("A6"));
        assert_eq!(CaseStatus::Denied.hcr01(), Some("A3"));
        assert_eq!(CaseStatus::Pended.hcr01(), Some("A4"));
        assert_eq!(CaseStatus::Cancelled.hcr01(), Some("C"));
        assert_eq!(CaseStatus::Withdrawn.hcr01(), Some("C"));
        assert_eq!(CaseStatus::NoActionRequired.hcr01(), Some("NA"));
        assert_eq!(CaseStatus::InProgress.hcr01(), None);
        assert_eq!(LineStatus::Denied.hcr01(), "A3");
    }

    #[test]
    fn the_reason_code_is_the_current_statuses_and_only_for_adverse_pended_or_na() {
        use chrono::TimeZone;
        let mut case = test_support::sample_case("C1", Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap());
        case.status = CaseStatus::Denied;
        case.status_reason = Some(StatusReason {
            status: CaseStatus::Denied,
            rule: "intake.retro_window".into(),
            code: Some("X1".into()),
        });
        assert_eq!((case.status_rule(), case.reason_code()), (Some("intake.retro_window"), Some("X1")));
        // Set by an earlier status: not this one's reason.
        case.status = CaseStatus::Cancelled;
        assert_eq!((case.status_rule(), case.reason_code()), (None, None));
        // An approval carries no reason code even when its rule has one.
        case.status = CaseStatus::Approved;
        case.status_reason = Some(StatusReason {
            status: CaseStatus::Approved,
            rule: "review.determination".into(),
            code: Some("X2".into()),
        });
        assert_eq!(case.reason_code(), None);
    }

    #[test]
    fn debug_output_of_a_case_carries_no_member_identity() {
        let mut case = test_support::sample_case("C1", DateTime::<Utc>::MIN_UTC);
        case.request.member.birth_date = NaiveDate::from_ymd_opt(1968, 4, 12).unwrap_or(NaiveDate::MIN);
        let member = &case.request.member;
        let text = format!("{case:?}");
        assert!(!text.contains(&member.member_id), "member id in {text}");
        assert!(!text.contains(&member.birth_date.to_string()) && !text.contains(&format!("{:?}", member.birth_date)));
        let record = MemberRecord {
            member_id: member.member_id.clone(),
            first_name: "JANE".into(),
            last_name: "SAMPLE".into(),
            birth_date: member.birth_date,
            gender: None,
            plan: "cigna-commercial".into(),
            line_of_business: LineOfBusiness::Commercial,
            coverage_start: member.birth_date,
            coverage_end: None,
        };
        let text = format!("{record:?}");
        assert!(!text.contains(&member.member_id) && !text.contains("JANE") && !text.contains("SAMPLE"), "{text}");
        assert!(text.contains("cigna-commercial"));
    }

    #[test]
    fn a_case_survives_a_json_round_trip() {
        let received = DateTime::<Utc>::MIN_UTC;
        let mut case = test_support::sample_case("C1", received);
        case.pend = Some(PendReason::OnHold {
            needed: "imaging".into(),
            due: received,
            reviewer: "r1".into(),
            if_not_received: ReviewDecision::Deny { rationale: "r".into(), guideline: None },
        });
        case.links.push(CaseLink::Replaces { original: "C0".into() });
        case.regimen = Some(RegimenChoice { regimen: "colon-FOLFOX".into(), preferred: true });
        let json = serde_json::to_string(&case).unwrap();
        // A line without a number of its own is stored as before (no key): older bodies read.
        let line = serde_json::to_value(&case.lines[0]).unwrap();
        assert!(line.get("authorization_number").is_none(), "{line}");
        let back: Case = serde_json::from_str(&json).unwrap();
        assert_eq!(back, case);
        case.authorization_number = Some("A000000001".into());
        case.lines[0].status = LineStatus::Approved;
        case.lines[0].authorization_number = Some("A000000002".into());
        let json = serde_json::to_string(&case).unwrap();
        let back: Case = serde_json::from_str(&json).unwrap();
        assert_eq!(back.lines[0].authorization_number.as_deref(), Some("A000000002"));
        assert!(back.has_authorization_number("A000000001") && back.has_authorization_number("A000000002"));
        assert!(!back.has_authorization_number("A000000003"));
        assert_eq!(back.line_authorization_number(0), Some("A000000002"));
    }

    #[test]
    fn coverage_dates_are_inclusive() {
        let day = |d| NaiveDate::from_ymd_opt(2026, 1, d).unwrap_or_default();
        let member = MemberRecord {
            member_id: "M1".into(),
            first_name: "A".into(),
            last_name: "B".into(),
            birth_date: day(1),
            gender: None,
            plan: "p".into(),
            line_of_business: LineOfBusiness::Commercial,
            coverage_start: day(5),
            coverage_end: Some(day(20)),
        };
        assert!(!member.covered_on(day(4)));
        assert!(member.covered_on(day(5)));
        assert!(member.covered_on(day(20)));
        assert!(!member.covered_on(day(21)));
    }
}

/// Small builders shared by the unit tests of the domain.
#[cfg(test)]
pub(crate) mod test_support {
    use super::*;

    /// The member `sample_request` names: commercial, on plan `plan`, covered since 2020.
    #[allow(clippy::unwrap_used)]
    pub(crate) fn sample_member() -> MemberRecord {
        MemberRecord {
            member_id: "M100".into(),
            first_name: "Test".into(),
            last_name: "Member".into(),
            birth_date: NaiveDate::MIN,
            gender: None,
            plan: "plan".into(),
            line_of_business: LineOfBusiness::Commercial,
            coverage_start: NaiveDate::from_ymd_opt(2020, 1, 1).unwrap(),
            coverage_end: None,
        }
    }

    pub(crate) fn sample_request(service_code: &str, day: NaiveDate) -> CaseRequest {
        CaseRequest {
            member: MemberRef { member_id: "M100".into(), birth_date: NaiveDate::MIN },
            requesting_provider: RequestingProvider { npi: "1234567893".into(), ..Default::default() },
            rendering_provider: None,
            diagnoses: vec!["C50.911".into()],
            lines: vec![RequestedLine {
                service_code: service_code.into(),
                quantity: None,
                service_from: day,
                service_to: None,
                place_of_service: Some("11".into()),
                bill_type: None,
                revenue_code: None,
            }],
            urgency: Urgency::Standard,
            category: RequestCategory::Initial,
            attachments: vec![],
            trace_numbers: vec![],
        }
    }

    pub(crate) fn sample_case(id: &str, received_at: DateTime<Utc>) -> Case {
        let request = sample_request("J9263", received_at.date_naive());
        Case {
            id: id.into(),
            version: 1,
            plan: "cigna-commercial".into(),
            line_of_business: LineOfBusiness::Commercial,
            program: None,
            lines: request
                .lines
                .iter()
                .map(|line| ServiceLine {
                    requested: line.clone(),
                    status: LineStatus::Pending,
                    approved_quantity: None,
                    approved_from: None,
                    approved_to: None,
                    authorization_number: None,
                })
                .collect(),
            request,
            effective_urgency: Urgency::Standard,
            status: CaseStatus::Pended,
            pend: None,
            regimen: None,
            pathway_answers: vec![],
            received_at,
            decision_due: None,
            authorization_number: None,
            approved_from: None,
            approved_to: None,
            determination: None,
            post_decision: vec![],
            links: vec![],
            documents: vec![],
            status_reason: None,
        }
    }
}
