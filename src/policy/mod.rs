//! The UM policy: typed, validated configuration per health plan × line of business × program.
//!
//! Why a module of its own: every rule number of SPEC section 4 (decision clocks, retro windows,
//! validity, post-decision options, ...) is configuration, loaded and checked once at start
//! ([`Policy::load`]), then read by the domain through the lookups below. Each value the domain
//! reads can be cited by a stable config path (see [`Cited`]) in a case's history.
//!
//! Knows nothing of X12, HTTP or SQL.

pub mod calendar;
pub mod codes;
pub mod credentials;
pub mod error;
mod load;
pub mod model;
mod program;
pub mod server;
mod validate;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

pub use calendar::Calendar;
pub use codes::{CodePattern, diagnosis_matches, normalize_code, normalize_diagnosis};
pub use error::{ConfigError, LoadError};
pub use model::*;
pub use program::RegimenMatch;

/// The loaded, validated policy configuration.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    server: server::ServerSettings,
    mailbox: crate::server::mailbox::config::MailboxSection,
    partners: Vec<PartnerSettings>,
    calendars: BTreeMap<String, Calendar>,
    upload_profiles: BTreeMap<String, UploadProfile>,
    exemptions: AuthorizationExemptions,
    programs: BTreeMap<String, ProgramDefinition>,
    plans: BTreeMap<String, Plan>,
    reason_codes: BTreeMap<String, String>,
    /// `[intake] require_provider_on_file`, when set.
    require_provider_on_file: Option<bool>,
    files: Vec<PathBuf>,
}

/// Counts printed by `umgate config check`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicySummary {
    pub files: Vec<PathBuf>,
    pub plans: usize,
    /// Distinct (plan, line of business) pairs.
    pub plan_lines_of_business: usize,
    pub lines_of_business: Vec<LineOfBusiness>,
    pub programs: usize,
    /// Program entries of all plans.
    pub plan_programs: usize,
    pub regimens: usize,
    pub calendars: usize,
    pub partners: usize,
}

/// Why a service needs no authorization because of where or how it is delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExemptionKind {
    PlaceOfService,
    BillType,
    ServiceCode,
    RevenueCode,
}

impl Policy {
    /// Reads the configuration at `path` and every file it includes, and validates it all.
    /// Every problem found is returned in [`LoadError::Invalid`].
    pub fn load(path: impl AsRef<Path>) -> Result<Self, LoadError> {
        load::load(path.as_ref(), &|p: &Path| std::fs::read_to_string(p))
    }

    /// Like [`Policy::load`], with files read through `read` (tests, embedded configurations).
    pub fn load_with(
        path: impl AsRef<Path>,
        read: &dyn Fn(&Path) -> std::io::Result<String>,
    ) -> Result<Self, LoadError> {
        load::load(path.as_ref(), read)
    }

    /// The daemon's `[server]` settings found in the files (defaults and overrides are applied
    /// by `umgate serve`).
    pub fn server(&self) -> &server::ServerSettings {
        &self.server
    }

    /// The batch mailboxes' `[mailbox]` settings found in the files (environment overrides and
    /// defaults are applied by `umgate serve`).
    pub fn mailbox(&self) -> &crate::server::mailbox::config::MailboxSection {
        &self.mailbox
    }

    pub fn partners(&self) -> &[PartnerSettings] {
        &self.partners
    }

    pub fn partner(&self, key: &str) -> Option<&PartnerSettings> {
        self.partners.iter().find(|p| p.key.get_ref() == key)
    }

    /// The files read, root first.
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }

    pub fn plan(&self, key: &str) -> Option<&Plan> {
        self.plans.get(key)
    }

    pub fn plans(&self) -> impl Iterator<Item = &Plan> {
        self.plans.values()
    }

    /// A program of the catalogue.
    pub fn program(&self, key: &str) -> Option<&ProgramDefinition> {
        self.programs.get(key)
    }

    pub fn programs(&self) -> impl Iterator<Item = &ProgramDefinition> {
        self.programs.values()
    }

    pub fn calendar(&self, name: &str) -> Option<&Calendar> {
        self.calendars.get(name)
    }

    /// The business-day calendar of a plan.
    pub fn plan_calendar(&self, plan: &str) -> Option<&Calendar> {
        self.plan(plan).and_then(|p| self.calendar(p.calendar_name()))
    }

    pub fn upload_profile(&self, name: &str) -> Option<&UploadProfile> {
        self.upload_profiles.get(name)
    }

    /// The upload limits of a program entry.
    pub fn uploads_for(&self, entry: &ProgramPolicy) -> Option<&UploadProfile> {
        self.upload_profile(entry.uploads.get_ref())
    }

    /// The decision reason code (278 HCR03) configured for a rule id of the UM workflow.
    pub fn reason_code(&self, rule: &str) -> Option<Cited<String>> {
        self.reason_codes
            .get(rule)
            .map(|code| Cited { value: code.clone(), config_path: format!("reason_codes.\"{rule}\"") })
    }

    /// Whether requests for `plan`'s members must come from a requesting provider on file: the
    /// plan's `require_provider_on_file`, else `[intake] require_provider_on_file`, else `None`.
    pub fn requester_on_file_required(&self, plan: &str) -> Option<Cited<bool>> {
        let own = self.plans.get(plan).and_then(|p| p.require_provider_on_file.as_ref());
        match own {
            Some(value) => {
                Some(Cited { value: *value.get_ref(), config_path: format!("plans.{plan}.require_provider_on_file") })
            }
            None => self
                .require_provider_on_file
                .map(|value| Cited { value, config_path: "intake.require_provider_on_file".to_owned() }),
        }
    }

    pub fn exemptions(&self) -> &AuthorizationExemptions {
        &self.exemptions
    }

    /// The program entries of a plan that serve a line of business (for a 271: the programs that
    /// require prior authorization).
    pub fn entries_for(&self, plan: &str, lob: LineOfBusiness) -> impl Iterator<Item = &ProgramPolicy> {
        self.plan(plan).into_iter().flat_map(move |p| p.programs.values().filter(move |e| e.serves(lob)))
    }

    /// The program entry of the member's plan and line of business whose catalogue program lists
    /// `service_code` (exact, `RC*` prefix or range). `None`: no authorization needed (NA).
    pub fn program_for(&self, plan: &str, lob: LineOfBusiness, service_code: &str) -> Option<&ProgramPolicy> {
        let code = normalize_code(service_code);
        self.entries_for(plan, lob).find(|entry| {
            self.programs
                .get(entry.program_key())
                .is_some_and(|definition| definition.patterns.iter().any(|pattern| pattern.matches(&code)))
        })
    }

    /// Whether the place of service, bill type, service code or revenue code of a request is one
    /// in which authorization is never needed (emergency room, observation, inpatient). Give what
    /// the request carries; the first match is returned with its config path.
    pub fn exemption(
        &self,
        place_of_service: Option<&str>,
        bill_type: Option<&str>,
        service_code: Option<&str>,
        revenue_code: Option<&str>,
    ) -> Option<Cited<ExemptionKind>> {
        let e = &self.exemptions;
        let candidates = [
            (place_of_service, &e.places_of_service, ExemptionKind::PlaceOfService, "places_of_service"),
            (bill_type, &e.bill_types, ExemptionKind::BillType, "bill_types"),
            (service_code, &e.service_codes, ExemptionKind::ServiceCode, "service_codes"),
            (revenue_code, &e.revenue_codes, ExemptionKind::RevenueCode, "revenue_codes"),
        ];
        candidates.into_iter().find_map(|(given, list, kind, field)| {
            let given = normalize_code(given?);
            let index = list.iter().position(|code| {
                let code = normalize_code(code.get_ref());
                // Bill types are given in full (e.g. 111); the configuration lists the first
                // two digits.
                if kind == ExemptionKind::BillType { given.starts_with(&code) } else { given == code }
            })?;
            Some(Cited { value: kind, config_path: format!("authorization_exemptions.{field}[{index}]") })
        })
    }

    pub fn summary(&self) -> PolicySummary {
        let mut lobs: Vec<LineOfBusiness> =
            self.plans.values().flat_map(|p| p.lines_of_business.iter().map(|l| *l.get_ref())).collect();
        lobs.sort();
        lobs.dedup();
        PolicySummary {
            files: self.files.clone(),
            plans: self.plans.len(),
            plan_lines_of_business: self.plans.values().map(|p| p.lines_of_business.len()).sum(),
            lines_of_business: lobs,
            programs: self.programs.len(),
            plan_programs: self.plans.values().map(|p| p.programs.len()).sum(),
            regimens: self.plans.values().flat_map(|p| p.programs.values()).map(|e| e.regimens.len()).sum(),
            calendars: self.calendars.len(),
            partners: self.partners.len(),
        }
    }
}

#[cfg(test)]
mod tests;
