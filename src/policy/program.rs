//! Lookups on one program entry of a plan, each value cited by its config path.
//!
//! Why: the domain records "which configuration entry produced the decision"; these accessors
//! return the value together with the path of the TOML entry it came from, so the citation can
//! never drift from the value.

use std::collections::BTreeSet;

use super::codes::{diagnosis_matches, normalize_code};
use super::model::{
    ApprovalValidity, Cited, LineOfBusiness, OverlapHandling, PeerToPeerEffect, ProgramPolicy, Reconsideration,
    Regimen, TimeLimit,
};

/// What a requested drug set is, for a primary diagnosis (SPEC section 8).
#[derive(Debug, Clone)]
pub enum RegimenMatch<'a> {
    /// Exactly one known regimen.
    Single(&'a Regimen),
    /// Several regimens share the drug set (e.g. dose-dense AC → paclitaxel and AC → weekly
    /// paclitaxel): cannot be told apart from the drug codes; pended until one is chosen.
    Ambiguous(Vec<&'a Regimen>),
    /// No known regimen: a custom regimen, clinical review.
    Custom,
}

impl<'a> RegimenMatch<'a> {
    /// The matched regimens (empty for a custom regimen).
    pub fn regimens(&self) -> Vec<&'a Regimen> {
        match self {
            Self::Single(regimen) => vec![*regimen],
            Self::Ambiguous(regimens) => regimens.clone(),
            Self::Custom => Vec::new(),
        }
    }

    /// `Some(preferred)` when every matched regimen agrees on the preference.
    pub fn preferred(&self) -> Option<bool> {
        match self {
            Self::Single(regimen) => Some(regimen.preferred),
            Self::Ambiguous(regimens) => {
                let first = regimens.first()?.preferred;
                regimens.iter().all(|r| r.preferred == first).then_some(first)
            }
            Self::Custom => None,
        }
    }
}

impl ProgramPolicy {
    /// The catalogue program key (the `program` field, or the entry key).
    pub fn program_key(&self) -> &str {
        self.program.as_ref().map_or(self.entry_key.as_str(), |p| p.get_ref().as_str())
    }

    /// `plans.<plan>.programs.<entry>`.
    pub fn config_path(&self) -> String {
        format!("plans.{}.programs.{}", self.plan_key, self.entry_key)
    }

    /// `plans.<plan>.programs.<entry>.<field>`.
    pub fn path(&self, field: &str) -> String {
        format!("{}.{field}", self.config_path())
    }

    fn cite<T>(&self, field: &str, value: T) -> Cited<T> {
        Cited { value, config_path: self.path(field) }
    }

    pub fn serves(&self, lob: LineOfBusiness) -> bool {
        self.lines_of_business.iter().any(|l| *l.get_ref() == lob)
    }

    /// Standard decision time frame (after all clinical information is received).
    pub fn standard_decision(&self) -> Cited<TimeLimit> {
        self.cite("standard_decision", *self.urgent_or_standard(false))
    }

    pub fn urgent_decision(&self) -> Cited<TimeLimit> {
        self.cite("urgent_decision", *self.urgent_or_standard(true))
    }

    /// The decision time frame for an urgent or a standard request.
    pub fn decision_time(&self, urgent: bool) -> Cited<TimeLimit> {
        if urgent { self.urgent_decision() } else { self.standard_decision() }
    }

    fn urgent_or_standard(&self, urgent: bool) -> &TimeLimit {
        if urgent { self.urgent_decision.get_ref() } else { self.standard_decision.get_ref() }
    }

    /// Fewer clinical documents than this on an urgent request → processed as standard.
    pub fn urgent_min_clinical_documents(&self) -> Cited<u32> {
        self.cite("urgent.min_clinical_documents", *self.urgent.min_clinical_documents.get_ref())
    }

    /// Latest arrival of a retrospective request after the date of service.
    pub fn retro_window(&self) -> Cited<TimeLimit> {
        self.cite("retro.window", *self.retro.window.get_ref())
    }

    /// Decision time frame of a retrospective request, when the plan states one.
    pub fn retro_decision(&self) -> Option<Cited<TimeLimit>> {
        self.retro.decision.as_ref().map(|d| self.cite("retro.decision", *d.get_ref()))
    }

    pub fn approval_validity(&self) -> Option<Cited<&ApprovalValidity>> {
        self.approval_validity.as_ref().map(|v| self.cite("approval_validity", v))
    }

    /// The validity of an approval: the regimen's own when it has one, else the program's
    /// `approval_validity.default`. `None` when the program states no validity (the approved
    /// period is then the requested one).
    pub fn validity_for(&self, regimen: Option<&Regimen>) -> Option<Cited<TimeLimit>> {
        if let Some(regimen) = regimen
            && let Some(validity) = &regimen.validity
        {
            return Some(Cited {
                value: *validity.get_ref(),
                config_path: format!("{}.validity", regimen.config_path),
            });
        }
        self.approval_validity.as_ref().map(|v| self.cite("approval_validity.default", *v.default.get_ref()))
    }

    pub fn site_of_care_redirect_validity(&self) -> Option<Cited<TimeLimit>> {
        self.site_of_care_redirect.as_ref().map(|s| self.cite("site_of_care_redirect.validity", *s.validity.get_ref()))
    }

    pub fn supportive_drug_validity(&self) -> Option<Cited<TimeLimit>> {
        self.supportive_drug_validity.as_ref().map(|v| self.cite("supportive_drug_validity", *v.get_ref()))
    }

    pub fn date_extension_max(&self) -> Option<Cited<TimeLimit>> {
        self.date_extension.as_ref().map(|d| self.cite("date_extension.max", *d.max.get_ref()))
    }

    pub fn reconsideration(&self) -> Cited<Reconsideration> {
        self.cite("reconsideration", *self.reconsideration.get_ref())
    }

    pub fn appeal(&self) -> Cited<&super::model::Appeal> {
        self.cite("appeal", &self.appeal)
    }

    pub fn peer_to_peer_after_denial(&self) -> Cited<PeerToPeerEffect> {
        self.cite("peer_to_peer.after_denial", self.peer_to_peer.after_denial)
    }

    pub fn phone_notice_before_denial(&self) -> Cited<bool> {
        self.cite("phone_notice_before_denial", self.phone_notice_before_denial)
    }

    pub fn partial_approvals_allowed(&self) -> Cited<bool> {
        self.cite("partial_approvals", self.partial_approvals)
    }

    pub fn overlapping_requests(&self) -> Cited<OverlapHandling> {
        self.cite("overlapping_requests", self.overlapping_requests)
    }

    /// Due date of documentation after a hold.
    pub fn hold_duration(&self) -> Cited<TimeLimit> {
        self.cite("hold.duration", *self.hold.duration.get_ref())
    }

    /// Whether the first requests of an episode of this service code may be approved in real time,
    /// and how many.
    pub fn real_time_requests_per_episode(&self, service_code: &str) -> Option<Cited<u32>> {
        let real_time = self.real_time.as_ref()?;
        let code = normalize_code(service_code);
        real_time
            .service_codes
            .iter()
            .any(|c| normalize_code(c.get_ref()) == code)
            .then(|| self.cite("real_time.first_requests_per_episode", *real_time.first_requests_per_episode.get_ref()))
    }

    /// Maximum gap between requests of one episode (real-time approvals).
    pub fn episode_max_gap(&self) -> Option<Cited<TimeLimit>> {
        self.real_time.as_ref().map(|r| self.cite("real_time.episode.max_gap", *r.episode.max_gap.get_ref()))
    }

    /// The first diagnosis (of those given) listed in `no_authorization_diagnoses` (medical
    /// oncology: active transplant), cited by its position.
    pub fn no_authorization_diagnosis<'d>(&self, diagnoses: &[&'d str]) -> Option<Cited<&'d str>> {
        self.no_authorization_diagnoses.iter().enumerate().find_map(|(index, prefix)| {
            diagnoses.iter().find(|dx| diagnosis_matches(prefix.get_ref(), dx)).map(|dx| Cited {
                value: *dx,
                config_path: format!("{}[{index}]", self.path("no_authorization_diagnoses")),
            })
        })
    }

    pub fn is_supportive_drug(&self, code: &str) -> bool {
        let code = normalize_code(code);
        self.supportive_drugs.iter().any(|d| normalize_code(d.get_ref()) == code)
    }

    pub fn regimen(&self, key: &str) -> Option<&Regimen> {
        self.regimens.get(key)
    }

    /// The regimens whose cancer type covers `primary_diagnosis` and whose drug set equals the
    /// requested drug codes (supportive drugs left out; order and repeats ignored).
    pub fn regimens_matching<'s>(&'s self, primary_diagnosis: &str, drug_codes: &[&str]) -> Vec<&'s Regimen> {
        let requested: BTreeSet<String> =
            drug_codes.iter().filter(|c| !self.is_supportive_drug(c)).map(|c| normalize_code(c)).collect();
        if requested.is_empty() {
            return Vec::new();
        }
        self.regimens
            .values()
            .filter(|regimen| {
                self.cancer_types.get(regimen.cancer_type.get_ref()).is_some_and(|cancer| {
                    cancer.diagnoses.iter().any(|prefix| diagnosis_matches(prefix.get_ref(), primary_diagnosis))
                })
            })
            .filter(|regimen| regimen.drug_codes().map(normalize_code).collect::<BTreeSet<_>>() == requested)
            .collect()
    }

    /// [`Self::regimens_matching`] classified: one regimen, several (ambiguous), or custom.
    pub fn match_regimen<'s>(&'s self, primary_diagnosis: &str, drug_codes: &[&str]) -> RegimenMatch<'s> {
        let mut matches = self.regimens_matching(primary_diagnosis, drug_codes);
        match matches.len() {
            0 => RegimenMatch::Custom,
            1 => matches.pop().map_or(RegimenMatch::Custom, RegimenMatch::Single),
            _ => RegimenMatch::Ambiguous(matches),
        }
    }
}
