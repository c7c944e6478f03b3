//! The typed policy model: what a UM rule set looks like once read from TOML.
//!
//! Why this shape: every rule number of SPEC section 4 must live in configuration, per health
//! plan × line of business × program, and every error must point at a file, line and field. So
//! the structs mirror the TOML one to one (`deny_unknown_fields` catches typos), values that are
//! checked after parsing keep their source span (`Spanned`), and nothing here has a numeric
//! default: a missing rule is a configuration error, not a silent constant in Rust.
//!
//! Layout of a configuration (see samples/umgate.toml):
//! `calendars.<name>`, `upload_profiles.<name>`, `authorization_exemptions`, the program
//! catalogue `programs.<key>` (kind and service codes) and `plans.<key>` whose
//! `programs.<entry>` carry the rules for some lines of business of that plan.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use toml::Spanned;

/// Line of business of a member's coverage (roster `line_of_business`). Medicare Advantage is
/// `Medicare`; `Dual` is Medicare primary with Medicaid secondary.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum LineOfBusiness {
    Commercial,
    Medicare,
    Medicaid,
    Dual,
}

impl LineOfBusiness {
    /// Every line of business, in a stable order.
    pub const ALL: [LineOfBusiness; 4] = [Self::Commercial, Self::Medicare, Self::Medicaid, Self::Dual];

    /// The configuration and roster spelling: `commercial`, `medicare`, `medicaid`, `dual`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Commercial => "commercial",
            Self::Medicare => "medicare",
            Self::Medicaid => "medicaid",
            Self::Dual => "dual",
        }
    }
}

impl fmt::Display for LineOfBusiness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A string that is not one of the four lines of business.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown line of business `{0}` (expected commercial, medicare, medicaid or dual)")]
pub struct UnknownLineOfBusiness(pub String);

impl FromStr for LineOfBusiness {
    type Err = UnknownLineOfBusiness;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|lob| lob.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownLineOfBusiness(s.to_owned()))
    }
}

/// What kind of UM program an entry of the catalogue is: the domain branches on it (the
/// clinical pathway differs), the numbers still come from the plan's entry.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum ProgramKind {
    RadiationOncology,
    MedicalOncology,
    Therapy,
    MskPain,
    RadiologyCardiology,
    Other,
}

impl ProgramKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RadiationOncology => "radiation_oncology",
            Self::MedicalOncology => "medical_oncology",
            Self::Therapy => "therapy",
            Self::MskPain => "msk_pain",
            Self::RadiologyCardiology => "radiology_cardiology",
            Self::Other => "other",
        }
    }
}

/// A length of time with its counting rule. In TOML a one-key table:
/// `{ hours = N }`, `{ business_days = N }`, `{ calendar_days = N }`, `{ months = N }`.
/// Business days are counted on the plan's calendar (see [`crate::policy::calendar`]).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum TimeLimit {
    Hours(u32),
    BusinessDays(u32),
    CalendarDays(u32),
    Months(u32),
}

impl TimeLimit {
    /// The number, whatever the unit.
    pub fn amount(self) -> u32 {
        match self {
            Self::Hours(n) | Self::BusinessDays(n) | Self::CalendarDays(n) | Self::Months(n) => n,
        }
    }

    /// The TOML key of the unit (`hours`, `business_days`, `calendar_days`, `months`).
    pub fn unit(self) -> &'static str {
        match self {
            Self::Hours(_) => "hours",
            Self::BusinessDays(_) => "business_days",
            Self::CalendarDays(_) => "calendar_days",
            Self::Months(_) => "months",
        }
    }
}

impl fmt::Display for TimeLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount(), self.unit().replace('_', " "))
    }
}

/// Intake rules that apply to every plan unless the plan says otherwise: `[intake]`.
#[derive(Deserialize, Clone, Debug, Default)]
#[serde(deny_unknown_fields)]
pub struct IntakeSettings {
    /// Requests must come from a requesting provider (2010B NPI) on file in the provider registry
    /// (`umgate provider import`), else they are rejected with AAA 51 at 2010B. A plan's own
    /// `require_provider_on_file` wins over this one.
    pub require_provider_on_file: Option<Spanned<bool>>,
}

/// A trading partner with a batch mailbox under `<data dir>/mailboxes/<key>/`.
#[derive(Deserialize, Clone, Debug)]
#[serde(deny_unknown_fields)]
pub struct PartnerSettings {
    pub key: Spanned<String>,
    pub name: Option<String>,
    /// ISA06 sender IDs this partner sends with (optional).
    #[serde(default)]
    pub sender_ids: Vec<String>,
    /// HTTP Basic user name of the partner on the daemon's endpoints (with `http_password_hash`).
    pub http_username: Option<Spanned<String>>,
    /// Argon2 PHC string of the partner's HTTP password (`umgate partner hash-password`).
    pub http_password_hash: Option<Spanned<String>>,
}

/// A named holiday calendar: business days are Monday–Friday except these dates.
#[derive(Deserialize, Clone, Debug)]
#[serde(deny_unknown_fields)]
pub struct CalendarDef {
    pub name: Option<String>,
    /// TOML local dates (`2026-12-25`).
    pub holidays: Vec<Spanned<toml::value::Datetime>>,
}

/// Limits on clinical documents uploaded with a request.
#[derive(Deserialize, Clone, Debug)]
#[serde(deny_unknown_fields)]
pub struct UploadProfile {
    pub max_documents: Spanned<u32>,
    /// Lower-case extensions with the dot: `.pdf`.
    pub extensions: Vec<Spanned<String>>,
    pub max_document_megabytes: Spanned<u32>,
}

impl UploadProfile {
    pub fn max_documents(&self) -> u32 {
        *self.max_documents.get_ref()
    }

    pub fn max_document_bytes(&self) -> u64 {
        u64::from(*self.max_document_megabytes.get_ref()) * 1024 * 1024
    }

    /// Whether a file name has one of the allowed extensions (case-insensitive).
    pub fn allows_file_name(&self, file_name: &str) -> bool {
        let lower = file_name.to_ascii_lowercase();
        self.extensions.iter().any(|ext| lower.ends_with(ext.get_ref().as_str()))
    }
}

/// Settings in which a service never needs prior authorization (SPEC section 4: emergency room,
/// observation, inpatient stays). How a request expresses them:
/// - `places_of_service`: CMS place-of-service codes, from UM04-1 when UM04-2 = `B`
///   (21 inpatient hospital, 23 emergency room - hospital);
/// - `bill_types`: the first two digits of the UB type of bill, from UM04-1 when UM04-2 = `A`
///   (11, 12: hospital inpatient);
/// - `service_codes`: procedure codes of observation care (HCPCS G0378/G0379);
/// - `revenue_codes`: institutional revenue codes (0762 observation room).
#[derive(Deserialize, Clone, Debug, Default)]
#[serde(deny_unknown_fields)]
pub struct AuthorizationExemptions {
    #[serde(default)]
    pub places_of_service: Vec<Spanned<String>>,
    #[serde(default)]
    pub bill_types: Vec<Spanned<String>>,
    #[serde(default)]
    pub service_codes: Vec<Spanned<String>>,
    #[serde(default)]
    pub revenue_codes: Vec<Spanned<String>>,
}

/// A program of the catalogue: its kind and the service codes that route a request to it.
/// Code patterns: `J9263` (exact), `RC*` (prefix), `77261-77799` (inclusive range of codes of the
/// same length and the same non-digit prefix, e.g. `J9000-J9999`).
#[derive(Deserialize, Clone, Debug)]
#[serde(deny_unknown_fields)]
pub struct ProgramDefinition {
    #[serde(skip)]
    pub key: String,
    pub name: String,
    pub kind: ProgramKind,
    pub codes: Vec<Spanned<String>>,
    /// The parsed `codes`, filled by the loader.
    #[serde(skip)]
    pub patterns: Vec<crate::policy::codes::CodePattern>,
}

/// What happens to a request left unsubmitted in the portal.
#[derive(Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum InProgressExpiry {
    /// Expires at the end of the day it was started (plan calendar's day).
    EndOfDay,
}

#[derive(Deserialize, Clone, Debug)]
#[serde(deny_unknown_fields)]
pub struct InProgressRequests {
    pub expires: InProgressExpiry,
    /// Whether the requester gets a letter/notification when it expires.
    pub correspondence: bool,
}

/// A health plan (stable key, e.g. `cigna-commercial`) and the programs it delegates to us.
#[derive(Deserialize, Clone, Debug)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    #[serde(skip)]
    pub key: String,
    /// The file this plan was read from (for messages).
    #[serde(skip)]
    pub source: PathBuf,
    pub name: String,
    pub lines_of_business: Vec<Spanned<LineOfBusiness>>,
    /// Name of an entry of `calendars`.
    pub calendar: Spanned<String>,
    pub in_progress_requests: InProgressRequests,
    /// Requests for this plan's members must come from a requesting provider on file (overrides
    /// `[intake] require_provider_on_file`).
    #[serde(default)]
    pub require_provider_on_file: Option<Spanned<bool>>,
    /// Entries keyed by an entry key; `program` (default: the entry key) names the catalogue
    /// program. Two entries may share a program for different lines of business.
    #[serde(default)]
    pub programs: BTreeMap<String, ProgramPolicy>,
}

impl Plan {
    pub fn serves(&self, lob: LineOfBusiness) -> bool {
        self.lines_of_business.iter().any(|l| *l.get_ref() == lob)
    }

    pub fn calendar_name(&self) -> &str {
        self.calendar.get_ref()
    }
}

/// Retrospective requests (date of service in the past).
#[derive(Deserialize, Clone, Debug)]
#[serde(deny_unknown_fields)]
pub struct RetroPolicy {
    /// Latest arrival after the date of service; later → administrative denial.
    pub window: Spanned<TimeLimit>,
    /// Decision time frame of a retrospective request (Medicare, Medicaid).
    pub decision: Option<Spanned<TimeLimit>>,
}

/// From when an approval's validity runs.
#[derive(Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ValidityStart {
    /// From the date of the (final) determination.
    Approval,
    /// From the requested start date of service.
    RequestedStart,
}

/// How long an approval is valid: `default` unless a matched regimen states its own
/// `validity`; both must lie within `min`..=`max` (same unit).
#[derive(Deserialize, Clone, Debug)]
#[serde(deny_unknown_fields)]
pub struct ApprovalValidity {
    pub min: Spanned<TimeLimit>,
    pub max: Spanned<TimeLimit>,
    pub default: Spanned<TimeLimit>,
    pub from: ValidityStart,
}

/// A site-of-care redirect approval (one-time, short).
#[derive(Deserialize, Clone, Debug)]
#[serde(deny_unknown_fields)]
pub struct SiteOfCareRedirect {
    pub validity: Spanned<TimeLimit>,
    pub one_time: bool,
}

/// Extending the end date of an approval (therapy).
#[derive(Deserialize, Clone, Debug)]
#[serde(deny_unknown_fields)]
pub struct DateExtension {
    pub max: Spanned<TimeLimit>,
    pub must_request_before_expiry: bool,
}

/// How requests are grouped into an episode of care for real-time decisions: same member, same
/// service code (discipline: MSMPT, MSMOT, ...) and no more than `max_gap` between the start of
/// one request and the previous one.
#[derive(Deserialize, Clone, Debug)]
#[serde(deny_unknown_fields)]
pub struct EpisodeDefinition {
    pub same_discipline: bool,
    pub max_gap: Spanned<TimeLimit>,
}

/// Real-time approval from the 278 alone (therapy PT/OT).
#[derive(Deserialize, Clone, Debug)]
#[serde(deny_unknown_fields)]
pub struct RealTimeApproval {
    /// Service codes of the disciplines eligible (e.g. MSMPT, MSMOT).
    pub service_codes: Vec<Spanned<String>>,
    /// The first N requests of an episode.
    pub first_requests_per_episode: Spanned<u32>,
    pub episode: EpisodeDefinition,
}

/// Therapy submission timing (seed 002).
#[derive(Deserialize, Clone, Debug)]
#[serde(deny_unknown_fields)]
pub struct TherapyTiming {
    /// Initial request: submitted within this time after the initial evaluation.
    pub initial_submission_after_evaluation: Spanned<TimeLimit>,
    /// Continuing care: submitted no earlier than this before the next start date.
    pub continuing_care_earliest_before_start: Spanned<TimeLimit>,
    /// Clinical information no older than this (adult and non-developmental pediatric).
    pub clinical_information_max_age: Spanned<TimeLimit>,
    /// Clinical information no older than this for developmental pediatric patients.
    pub developmental_pediatric_clinical_information_max_age: Spanned<TimeLimit>,
    /// Diagnosis code prefixes that make a pediatric patient "developmental".
    pub developmental_pediatric_diagnoses: Vec<Spanned<String>>,
    /// Patients younger than this many years are pediatric.
    pub pediatric_age_below_years: Spanned<u32>,
}

/// Urgent request requirements.
#[derive(Deserialize, Clone, Debug)]
#[serde(deny_unknown_fields)]
pub struct UrgentRequirements {
    /// Fewer clinical documents than this → processed as standard.
    pub min_clinical_documents: Spanned<u32>,
}

/// Reconsideration after a denial (always handled by us when available).
#[derive(Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Reconsideration {
    NotAvailable,
    /// Within this time after the denial.
    Within(TimeLimit),
    /// On or before the anticipated date of service.
    OnOrBeforeDateOfService,
}

/// Who processes an appeal.
#[derive(Deserialize, Serialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Handler {
    Us,
    HealthPlan,
    NotAvailable,
}

#[derive(Deserialize, Clone, Debug)]
#[serde(deny_unknown_fields)]
pub struct Appeal {
    pub handler: Handler,
    /// Time after the denial to file it; absent when not available or not stated.
    pub within: Option<Spanned<TimeLimit>>,
    /// Level named in letters (e.g. "first-level").
    pub level: Option<String>,
}

/// What a peer-to-peer consultation after a denial can do.
#[derive(Deserialize, Serialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum PeerToPeerEffect {
    /// May change the decision while reconsideration is allowed.
    MayChangeDecision,
    /// Consultative only: the decision cannot be changed (Medicare).
    ConsultativeOnly,
    NotAvailable,
}

#[derive(Deserialize, Clone, Debug)]
#[serde(deny_unknown_fields)]
pub struct PeerToPeer {
    pub after_denial: PeerToPeerEffect,
}

/// A new request for services covered by an open approved period.
#[derive(Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum OverlapHandling {
    /// Reviewed as a request for additional units of the open episode.
    AdditionalUnits,
    /// Treated as a new, independent request.
    NewRequest,
}

/// Hold for missing documentation.
#[derive(Deserialize, Clone, Debug)]
#[serde(deny_unknown_fields)]
pub struct HoldPolicy {
    /// Due date of the documentation after the hold is placed.
    pub duration: Spanned<TimeLimit>,
}

/// A cancer type of the medical oncology program, recognised by primary diagnosis prefixes.
#[derive(Deserialize, Clone, Debug)]
#[serde(deny_unknown_fields)]
pub struct CancerType {
    pub name: String,
    /// ICD-10 prefixes, with or without the dot (`C50`, `C18`, `C34.1`).
    pub diagnoses: Vec<Spanned<String>>,
}

/// A known chemotherapy regimen: its drug set (HCPCS) and preference.
#[derive(Deserialize, Clone, Debug)]
#[serde(deny_unknown_fields)]
pub struct Regimen {
    #[serde(skip)]
    pub key: String,
    /// Config path, filled by the loader.
    #[serde(skip)]
    pub config_path: String,
    pub name: String,
    /// Key of an entry of the program entry's `cancer_types`.
    pub cancer_type: Spanned<String>,
    /// The drug set; matching is on the set (order and duplicates ignored).
    pub drugs: Vec<Spanned<String>>,
    /// NCCN preferred: immediate approval; not preferred: peer-to-peer.
    pub preferred: bool,
    /// Approval validity of this regimen (within the program's `approval_validity`).
    pub validity: Option<Spanned<TimeLimit>>,
}

impl Regimen {
    pub fn drug_codes(&self) -> impl Iterator<Item = &str> {
        self.drugs.iter().map(|d| d.get_ref().as_str())
    }
}

/// The rules of one program for some lines of business of one plan:
/// `plans.<plan>.programs.<entry>`.
#[derive(Deserialize, Clone, Debug)]
#[serde(deny_unknown_fields)]
pub struct ProgramPolicy {
    /// Plan key, filled by the loader.
    #[serde(skip)]
    pub plan_key: String,
    /// Entry key (the TOML table name), filled by the loader.
    #[serde(skip)]
    pub entry_key: String,
    /// The catalogue program's kind, filled by the loader.
    #[serde(skip)]
    pub kind: Option<ProgramKind>,
    /// Catalogue program key; absent → the entry key.
    pub program: Option<Spanned<String>>,
    pub lines_of_business: Vec<Spanned<LineOfBusiness>>,
    /// Standard decision: after all clinical information is received.
    pub standard_decision: Spanned<TimeLimit>,
    pub urgent_decision: Spanned<TimeLimit>,
    pub urgent: UrgentRequirements,
    /// Name of an entry of `upload_profiles`.
    pub uploads: Spanned<String>,
    pub retro: RetroPolicy,
    pub approval_validity: Option<ApprovalValidity>,
    pub site_of_care_redirect: Option<SiteOfCareRedirect>,
    pub date_extension: Option<DateExtension>,
    pub real_time: Option<RealTimeApproval>,
    pub therapy_timing: Option<TherapyTiming>,
    pub reconsideration: Spanned<Reconsideration>,
    pub appeal: Appeal,
    pub peer_to_peer: PeerToPeer,
    /// Provider notified by phone and in writing before a denial is issued (Medicare).
    pub phone_notice_before_denial: bool,
    pub partial_approvals: bool,
    pub overlapping_requests: OverlapHandling,
    pub hold: HoldPolicy,
    /// Primary or secondary diagnoses that take the request out of the program: no
    /// authorization needed (medical oncology: patients active in transplant).
    #[serde(default)]
    pub no_authorization_diagnoses: Vec<Spanned<String>>,
    /// Drugs authorized separately from the regimen (medical oncology supportive agents).
    #[serde(default)]
    pub supportive_drugs: Vec<Spanned<String>>,
    /// Validity of the separate authorization of a supportive drug; absent → the validity the
    /// rest of the request gets (regimen or `approval_validity`).
    pub supportive_drug_validity: Option<Spanned<TimeLimit>>,
    #[serde(default)]
    pub cancer_types: BTreeMap<String, CancerType>,
    #[serde(default)]
    pub regimens: BTreeMap<String, Regimen>,
}

/// One configuration file as written (the root file or an included one).
#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// Other files, relative to this one, merged in.
    #[serde(default)]
    pub include: Vec<Spanned<String>>,
    /// The daemon's settings (src/policy/server.rs).
    pub server: Option<super::server::ServerSection>,
    /// The batch mailboxes' settings (src/server/mailbox/config.rs).
    pub mailbox: Option<crate::server::mailbox::config::MailboxSection>,
    pub intake: Option<IntakeSettings>,
    #[serde(default)]
    pub partners: Vec<PartnerSettings>,
    #[serde(default)]
    pub calendars: BTreeMap<String, CalendarDef>,
    #[serde(default)]
    pub upload_profiles: BTreeMap<String, UploadProfile>,
    pub authorization_exemptions: Option<AuthorizationExemptions>,
    #[serde(default)]
    pub programs: BTreeMap<String, ProgramDefinition>,
    #[serde(default)]
    pub plans: BTreeMap<String, Plan>,
    /// Rule id of the UM workflow → decision reason code (278 HCR03, X12 external code source 886).
    #[serde(default)]
    pub reason_codes: BTreeMap<String, Spanned<String>>,
}

/// The rule ids of the UM workflow that can set a case's status or refuse a request about an
/// earlier one, i.e. the keys `[reason_codes]` may give a 278 decision reason code (HCR03). A key
/// not in this list is a configuration error: it would never be used.
pub const REASON_RULES: &[&str] = &[
    "intake",
    "intake.eligibility",
    "intake.exemption",
    "intake.program",
    "intake.excluded_diagnosis",
    "intake.retro_window",
    "intake.multiple_programs",
    "pathway.clinical_review",
    "pathway.questions",
    "pathway.questions.criteria_not_met",
    "pathway.regimen.custom",
    "pathway.regimen.ambiguous",
    "pathway.regimen.non_preferred",
    "pathway.therapy.real_time",
    "review.determination",
    "review.hold",
    "review.hold_expiry",
    "workflow.overlapping_request",
    "workflow.authorization_update",
    "post_decision.appeal",
    "post_decision.reconsideration",
    "post_decision.reconsideration.window_ended",
    "post_decision.reconsideration.not_offered",
    "post_decision.extension",
    "post_decision.cancel",
];

/// A rule value with the configuration entry it came from, for decision explanations.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Cited<T> {
    pub value: T,
    /// e.g. `plans.cigna-commercial.programs.medical-oncology.urgent_decision`.
    pub config_path: String,
}
