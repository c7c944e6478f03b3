//! The domain's view of the configuration: the terms one plan × line of business × program
//! applies, each number carried with the configuration path it came from so that decisions can
//! cite it. `UmPolicy` is implemented for the policy configuration in `policy_adapter`; the
//! rules and the workflow only see these types, never a literal number.

use chrono::NaiveDate;

use super::model::{LineOfBusiness, RequestedLine, Urgency};

pub use crate::policy::Cited;

/// A configured value with the configuration path it came from.
pub fn cited<T>(value: T, config_path: impl Into<String>) -> Cited<T> {
    Cited { value, config_path: config_path.into() }
}

/// A span of days counted on the calendar or on the plan's business days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayCount {
    Business(u32),
    Calendar(u32),
    Months(u32),
}

/// How long a decision may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecisionTime {
    Hours(u32),
    BusinessDays(u32),
    CalendarDays(u32),
    Months(u32),
}

/// How far an approval's end date may be moved, and whether only before it passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExtensionTerms {
    pub max: DayCount,
    pub before_expiry: bool,
}

/// How long an approval is valid from the determination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validity {
    Days(u32),
    BusinessDays(u32),
    Months(u32),
}

/// When a reconsideration may be filed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReconsiderationWindow {
    /// Not offered (e.g. Medicare).
    NotOffered,
    /// Within a number of days after the determination.
    Within(DayCount),
    /// On or before the anticipated date of service (medical oncology).
    BeforeDateOfService,
}

/// Who handles appeals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppealHandler {
    /// We review the appeal (re-opens the case).
    Us,
    /// The requester must appeal to the health plan.
    HealthPlan,
    /// Not processed by us and no plan route configured.
    NotProcessed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppealTerms {
    pub handler: AppealHandler,
    pub window: Option<DayCount>,
}

/// What a peer-to-peer after a denial can do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerToPeerAfterDenial {
    MayChangeDecision,
    ConsultativeOnly,
    NotAvailable,
}

/// The pathway a program's requests go through at intake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pathway {
    /// Medical oncology: regimen from primary diagnosis + drug codes.
    Regimen,
    /// Therapy: the first N requests of an episode (for the listed codes) are decided in real time.
    RealTimeEpisode,
    /// Questions X12 cannot carry (radiation oncology, MSK): pended until answered via the API.
    Questions,
    /// No criteria at intake: clinical review.
    ClinicalReview,
}

/// Everything the rules need for one plan × line of business × program.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgramTerms {
    pub plan: String,
    pub line_of_business: LineOfBusiness,
    pub program: String,
    pub pathway: Cited<Pathway>,
    /// Diagnosis code prefixes that mean "no authorization needed" (medical oncology: transplant).
    pub excluded_diagnosis_prefixes: Cited<Vec<String>>,
    pub retro_window: Cited<DayCount>,
    pub standard_decision: Cited<DecisionTime>,
    pub urgent_decision: Cited<DecisionTime>,
    pub retro_decision: Option<Cited<DecisionTime>>,
    /// Most clinical documents a case may carry (request attachments and later uploads).
    pub max_documents: Option<Cited<u32>>,
    /// Clinical documents an urgent request must carry, or it is processed as standard.
    pub urgent_min_documents: Cited<u32>,
    pub approval_validity: Option<Cited<Validity>>,
    /// Validity of a site-of-care redirect approval (one-time), when the program offers one.
    pub site_of_care_redirect_validity: Option<Cited<Validity>>,
    /// Validity counted from the requested start of service instead of the determination.
    pub validity_from_requested_start: bool,
    pub partial_approval_allowed: Cited<bool>,
    /// Date extensions of an approval (therapy), when offered.
    pub extension: Option<Cited<ExtensionTerms>>,
    pub reconsideration: Cited<ReconsiderationWindow>,
    pub appeal: Cited<AppealTerms>,
    pub peer_to_peer_after_denial: Cited<PeerToPeerAfterDenial>,
    /// Requests of an episode decided in real time, and the service codes that qualify (PT, OT).
    pub real_time_requests_per_episode: Option<Cited<u32>>,
    pub real_time_codes: Vec<String>,
    /// Longest gap between two requests of the same episode.
    pub episode_max_gap: Option<Cited<DayCount>>,
    /// A request inside an open approved period is reviewed as additional units (else: new request).
    pub overlap_as_additional_units: Cited<bool>,
    /// Due date of documentation after a hold is placed.
    pub hold_duration: Cited<DecisionTime>,
    /// The provider is told by phone and in writing before a denial is issued (Medicare).
    pub phone_notice_before_denial: Cited<bool>,
}

impl ProgramTerms {
    /// The decision clock of a request (the one place this choice is made): the retro clock for
    /// a retrospective request when the program has one, else the urgent or the standard clock.
    pub fn decision_clock(&self, retrospective: bool, urgency: Urgency) -> &Cited<DecisionTime> {
        match (&self.retro_decision, retrospective, urgency) {
            (Some(retro_clock), true, _) => retro_clock,
            (_, _, Urgency::Urgent) => &self.urgent_decision,
            (_, _, Urgency::Standard) => &self.standard_decision,
        }
    }
}

/// A medical oncology regimen the configuration knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegimenMatch {
    pub name: String,
    pub preferred: bool,
    pub config_path: String,
    /// The regimen's own approval validity, overriding the program's.
    pub validity: Option<Cited<Validity>>,
}

/// What the domain asks of the configuration.
pub trait UmPolicy: Send + Sync {
    /// The program of `plan` × `lob` whose codes include `service_code`, if any.
    fn program_for(&self, plan: &str, lob: LineOfBusiness, service_code: &str) -> Option<Cited<String>>;

    /// The terms of a program; `None` when the plan × lob × program is not configured.
    fn terms(&self, plan: &str, lob: LineOfBusiness, program: &str) -> Option<ProgramTerms>;

    /// Regimens of the program matching the primary diagnosis and exactly this set of drug codes.
    fn regimens(
        &self,
        plan: &str,
        lob: LineOfBusiness,
        program: &str,
        primary_diagnosis: &str,
        drug_codes: &[String],
    ) -> Vec<RegimenMatch>;

    /// A named regimen of the program for the diagnosis (for a choice made through the API).
    fn regimen_named(
        &self,
        plan: &str,
        lob: LineOfBusiness,
        program: &str,
        primary_diagnosis: &str,
        name: &str,
    ) -> Option<RegimenMatch>;

    /// Whether a line is in a setting that never needs authorization (emergency room,
    /// observation, inpatient): by place of service, bill type, service code or revenue code.
    fn exemption(&self, line: &RequestedLine) -> Option<Cited<String>>;

    /// Whether the plan expires unsubmitted (in-progress) requests at the end of the day they were
    /// started; the value says whether the requester gets correspondence when one expires.
    fn in_progress_expiry(&self, plan: &str) -> Option<Cited<bool>>;

    /// Whether `day` is a business day on the plan's calendar (weekends and holidays are not).
    fn is_business_day(&self, plan: &str, day: NaiveDate) -> bool;

    /// The decision reason code (278 HCR03, X12 external code source 886) configured for a rule
    /// id of the domain; `None` when the configuration gives none.
    fn reason_code(&self, _rule: &str) -> Option<Cited<String>> {
        None
    }
}

/// A minimal policy for unit tests of calendar arithmetic: weekdays minus listed holidays.
#[cfg(test)]
pub(crate) mod test_support {
    use super::*;
    use chrono::Datelike;

    #[derive(Debug)]
    pub(crate) struct WeekdayPolicy {
        pub(crate) holidays: Vec<NaiveDate>,
    }

    impl UmPolicy for WeekdayPolicy {
        fn program_for(&self, _: &str, _: LineOfBusiness, _: &str) -> Option<Cited<String>> {
            None
        }
        fn terms(&self, _: &str, _: LineOfBusiness, _: &str) -> Option<ProgramTerms> {
            None
        }
        fn regimens(&self, _: &str, _: LineOfBusiness, _: &str, _: &str, _: &[String]) -> Vec<RegimenMatch> {
            vec![]
        }
        fn regimen_named(&self, _: &str, _: LineOfBusiness, _: &str, _: &str, _: &str) -> Option<RegimenMatch> {
            None
        }
        fn exemption(&self, _: &RequestedLine) -> Option<Cited<String>> {
            None
        }
        fn in_progress_expiry(&self, _: &str) -> Option<Cited<bool>> {
            None
        }
        fn is_business_day(&self, _: &str, day: NaiveDate) -> bool {
            day.weekday().number_from_monday() <= 5 && !self.holidays.contains(&day)
        }
    }
}

/// A one-plan, one-program policy for unit tests of the rules (the numbers here are test data;
/// the sample configuration is exercised by the scenario table in tests/).
#[cfg(test)]
pub(crate) mod table_policy {
    use super::*;
    use chrono::Datelike;

    #[derive(Debug, Clone)]
    pub(crate) struct TablePolicy {
        pub(crate) terms: ProgramTerms,
        pub(crate) codes: Vec<String>,
        pub(crate) regimens: Vec<(Vec<String>, RegimenMatch)>,
    }

    pub(crate) fn cited<T>(value: T) -> Cited<T> {
        super::cited(value, "test")
    }

    impl TablePolicy {
        pub(crate) fn new(pathway: Pathway, codes: &[&str]) -> Self {
            let terms = ProgramTerms {
                plan: "plan".into(),
                line_of_business: LineOfBusiness::Commercial,
                program: "program".into(),
                pathway: cited(pathway),
                excluded_diagnosis_prefixes: cited(vec!["Z94.8".into()]),
                retro_window: cited(DayCount::Business(1)),
                standard_decision: cited(DecisionTime::BusinessDays(2)),
                urgent_decision: cited(DecisionTime::Hours(24)),
                retro_decision: None,
                urgent_min_documents: cited(1),
                max_documents: Some(cited(5)),
                approval_validity: Some(cited(Validity::Days(60))),
                site_of_care_redirect_validity: None,
                validity_from_requested_start: false,
                partial_approval_allowed: cited(false),
                extension: Some(cited(ExtensionTerms { max: DayCount::Calendar(30), before_expiry: true })),
                reconsideration: cited(ReconsiderationWindow::Within(DayCount::Business(5))),
                appeal: cited(AppealTerms { handler: AppealHandler::Us, window: Some(DayCount::Calendar(180)) }),
                peer_to_peer_after_denial: cited(PeerToPeerAfterDenial::MayChangeDecision),
                real_time_requests_per_episode: Some(cited(2)),
                real_time_codes: vec!["MSMPT".into(), "MSMOT".into()],
                episode_max_gap: None,
                overlap_as_additional_units: cited(true),
                hold_duration: cited(DecisionTime::BusinessDays(2)),
                phone_notice_before_denial: cited(false),
            };
            Self { terms, codes: codes.iter().map(|code| (*code).to_owned()).collect(), regimens: vec![] }
        }
    }

    impl UmPolicy for TablePolicy {
        fn program_for(&self, _: &str, _: LineOfBusiness, code: &str) -> Option<Cited<String>> {
            self.codes.iter().any(|known| known == code).then(|| cited(self.terms.program.clone()))
        }
        fn terms(&self, _: &str, _: LineOfBusiness, _: &str) -> Option<ProgramTerms> {
            Some(self.terms.clone())
        }
        fn regimens(&self, _: &str, _: LineOfBusiness, _: &str, _: &str, drugs: &[String]) -> Vec<RegimenMatch> {
            let mut wanted: Vec<&String> = drugs.iter().collect();
            wanted.sort();
            wanted.dedup();
            self.regimens
                .iter()
                .filter(|(set, _)| {
                    let mut known: Vec<&String> = set.iter().collect();
                    known.sort();
                    known == wanted
                })
                .map(|(_, regimen)| regimen.clone())
                .collect()
        }
        fn regimen_named(&self, _: &str, _: LineOfBusiness, _: &str, _: &str, name: &str) -> Option<RegimenMatch> {
            self.regimens.iter().map(|(_, regimen)| regimen).find(|regimen| regimen.name == name).cloned()
        }
        fn exemption(&self, line: &RequestedLine) -> Option<Cited<String>> {
            let place = line.place_of_service.as_deref().filter(|pos| ["21", "23"].contains(pos));
            let code = Some(line.service_code.as_str()).filter(|code| *code == "G0378");
            place.or(code).map(|found| cited(found.to_owned()))
        }
        fn in_progress_expiry(&self, _: &str) -> Option<Cited<bool>> {
            Some(cited(false))
        }
        fn is_business_day(&self, _: &str, day: NaiveDate) -> bool {
            day.weekday().number_from_monday() <= 5
        }
    }
}

#[cfg(test)]
mod tests {
    use super::table_policy::{TablePolicy, cited};
    use super::*;

    #[test]
    fn decision_clock_is_retro_then_urgent_then_standard() {
        let mut terms = TablePolicy::new(Pathway::ClinicalReview, &[]).terms;
        terms.standard_decision = cited(DecisionTime::BusinessDays(2));
        terms.urgent_decision = cited(DecisionTime::Hours(24));
        let clock = |terms: &ProgramTerms, retro, urgency| terms.decision_clock(retro, urgency).value;
        assert_eq!(clock(&terms, false, Urgency::Standard), DecisionTime::BusinessDays(2));
        assert_eq!(clock(&terms, false, Urgency::Urgent), DecisionTime::Hours(24));
        // Without a retro clock a retrospective request keeps its urgency's clock.
        assert_eq!(clock(&terms, true, Urgency::Urgent), DecisionTime::Hours(24));
        assert_eq!(clock(&terms, true, Urgency::Standard), DecisionTime::BusinessDays(2));
        terms.retro_decision = Some(cited(DecisionTime::BusinessDays(3)));
        assert_eq!(clock(&terms, true, Urgency::Urgent), DecisionTime::BusinessDays(3));
        assert_eq!(clock(&terms, true, Urgency::Standard), DecisionTime::BusinessDays(3));
        assert_eq!(clock(&terms, false, Urgency::Urgent), DecisionTime::Hours(24));
    }
}
