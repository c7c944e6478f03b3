//! `UmPolicy` for the loaded configuration (`crate::policy::Policy`): translates the policy's
//! program entries into the terms the rules use, keeping each value's configuration path.
//! The only place of the domain that knows the policy's layout.

use std::path::Path;
use std::sync::Arc;

use chrono::{Datelike, NaiveDate, Weekday};

use super::model::{LineOfBusiness, RequestedLine};
use super::terms::{
    AppealHandler, AppealTerms, Cited, DayCount, DecisionTime, ExtensionTerms, Pathway, PeerToPeerAfterDenial,
    ProgramTerms, ReconsiderationWindow, RegimenMatch, UmPolicy, Validity,
};
use crate::policy::{
    ExemptionKind, Handler, InProgressExpiry, LoadError, OverlapHandling, PeerToPeerEffect, Policy, ProgramKind,
    ProgramPolicy, Reconsideration, Regimen, TimeLimit, ValidityStart,
};

/// Loads a configuration file for the domain.
pub fn load_sample(path: &Path) -> Result<Arc<dyn UmPolicy>, LoadError> {
    Ok(Arc::new(Policy::load(path)?))
}

fn cite<T>(value: T, config_path: impl Into<String>) -> Cited<T> {
    super::terms::cited(value, config_path)
}

fn recite<T, U>(cited: Cited<T>, map: impl FnOnce(T) -> U) -> Cited<U> {
    cite(map(cited.value), cited.config_path)
}

fn hours_per_day() -> u32 {
    u32::try_from(chrono::Duration::days(1).num_hours()).unwrap_or(u32::MAX)
}

/// A time limit as a window of days. Hours round up to whole days.
pub fn day_count(limit: TimeLimit) -> DayCount {
    match limit {
        TimeLimit::BusinessDays(days) => DayCount::Business(days),
        TimeLimit::CalendarDays(days) => DayCount::Calendar(days),
        TimeLimit::Hours(hours) => DayCount::Calendar(hours.div_ceil(hours_per_day())),
        TimeLimit::Months(months) => DayCount::Months(months),
    }
}

pub fn decision_time(limit: TimeLimit) -> DecisionTime {
    match limit {
        TimeLimit::Hours(hours) => DecisionTime::Hours(hours),
        TimeLimit::BusinessDays(days) => DecisionTime::BusinessDays(days),
        TimeLimit::CalendarDays(days) => DecisionTime::CalendarDays(days),
        TimeLimit::Months(months) => DecisionTime::Months(months),
    }
}

/// Hours of validity round up to whole days.
pub fn validity(limit: TimeLimit) -> Validity {
    match limit {
        TimeLimit::Hours(hours) => Validity::Days(hours.div_ceil(hours_per_day())),
        TimeLimit::CalendarDays(days) => Validity::Days(days),
        TimeLimit::BusinessDays(days) => Validity::BusinessDays(days),
        TimeLimit::Months(months) => Validity::Months(months),
    }
}

fn pathway_of(entry: &ProgramPolicy) -> Pathway {
    match entry.kind {
        Some(ProgramKind::MedicalOncology) => Pathway::Regimen,
        Some(ProgramKind::Therapy) if entry.real_time.is_some() => Pathway::RealTimeEpisode,
        Some(ProgramKind::RadiationOncology | ProgramKind::MskPain) => Pathway::Questions,
        _ => Pathway::ClinicalReview,
    }
}

fn regimen_match(entry: &ProgramPolicy, regimen: &Regimen) -> RegimenMatch {
    RegimenMatch {
        name: regimen.key.clone(),
        preferred: regimen.preferred,
        config_path: regimen.config_path.clone(),
        validity: regimen
            .validity
            .as_ref()
            .and_then(|_| entry.validity_for(Some(regimen)))
            .map(|cited| recite(cited, validity)),
    }
}

impl Policy {
    fn entry(&self, plan: &str, lob: LineOfBusiness, program: &str) -> Option<&ProgramPolicy> {
        self.plan(plan)?.programs.get(program).filter(|entry| entry.serves(lob))
    }
}

impl UmPolicy for Policy {
    fn program_for(&self, plan: &str, lob: LineOfBusiness, service_code: &str) -> Option<Cited<String>> {
        Policy::program_for(self, plan, lob, service_code)
            .map(|entry| cite(entry.entry_key.clone(), entry.config_path()))
    }

    fn terms(&self, plan: &str, lob: LineOfBusiness, program: &str) -> Option<ProgramTerms> {
        let entry = self.entry(plan, lob, program)?;
        let strings =
            |list: &[toml::Spanned<String>]| list.iter().map(|item| item.get_ref().clone()).collect::<Vec<_>>();
        let reconsideration = recite(entry.reconsideration(), |value| match value {
            Reconsideration::NotAvailable => ReconsiderationWindow::NotOffered,
            Reconsideration::Within(limit) => ReconsiderationWindow::Within(day_count(limit)),
            Reconsideration::OnOrBeforeDateOfService => ReconsiderationWindow::BeforeDateOfService,
        });
        let appeal = entry.appeal();
        let appeal = cite(
            AppealTerms {
                handler: match appeal.value.handler {
                    Handler::Us => AppealHandler::Us,
                    Handler::HealthPlan => AppealHandler::HealthPlan,
                    Handler::NotAvailable => AppealHandler::NotProcessed,
                },
                window: appeal.value.within.as_ref().map(|within| day_count(*within.get_ref())),
            },
            appeal.config_path,
        );
        let real_time = entry.real_time.as_ref();
        Some(ProgramTerms {
            plan: plan.to_owned(),
            line_of_business: lob,
            program: program.to_owned(),
            pathway: cite(pathway_of(entry), format!("programs.{}.kind", entry.program_key())),
            excluded_diagnosis_prefixes: cite(
                strings(&entry.no_authorization_diagnoses),
                entry.path("no_authorization_diagnoses"),
            ),
            retro_window: recite(entry.retro_window(), day_count),
            standard_decision: recite(entry.standard_decision(), decision_time),
            urgent_decision: recite(entry.urgent_decision(), decision_time),
            retro_decision: entry.retro_decision().map(|cited| recite(cited, decision_time)),
            urgent_min_documents: entry.urgent_min_clinical_documents(),
            max_documents: self.uploads_for(entry).map(|profile| {
                cite(profile.max_documents(), format!("upload_profiles.{}.max_documents", entry.uploads.get_ref()))
            }),
            approval_validity: entry.validity_for(None).map(|cited| recite(cited, validity)),
            site_of_care_redirect_validity: entry.site_of_care_redirect_validity().map(|cited| recite(cited, validity)),
            validity_from_requested_start: entry
                .approval_validity
                .as_ref()
                .is_some_and(|validity| validity.from == ValidityStart::RequestedStart),
            partial_approval_allowed: recite(entry.partial_approvals_allowed(), |allowed| allowed),
            extension: entry.date_extension.as_ref().zip(entry.date_extension_max()).map(|(extension, max)| {
                recite(max, |limit| ExtensionTerms {
                    max: day_count(limit),
                    before_expiry: extension.must_request_before_expiry,
                })
            }),
            reconsideration,
            appeal,
            peer_to_peer_after_denial: recite(entry.peer_to_peer_after_denial(), |effect| match effect {
                PeerToPeerEffect::MayChangeDecision => PeerToPeerAfterDenial::MayChangeDecision,
                PeerToPeerEffect::ConsultativeOnly => PeerToPeerAfterDenial::ConsultativeOnly,
                PeerToPeerEffect::NotAvailable => PeerToPeerAfterDenial::NotAvailable,
            }),
            real_time_requests_per_episode: real_time.map(|real_time| {
                cite(
                    *real_time.first_requests_per_episode.get_ref(),
                    entry.path("real_time.first_requests_per_episode"),
                )
            }),
            real_time_codes: real_time.map(|real_time| strings(&real_time.service_codes)).unwrap_or_default(),
            episode_max_gap: entry.episode_max_gap().map(|cited| recite(cited, day_count)),
            overlap_as_additional_units: recite(entry.overlapping_requests(), |handling| {
                handling == OverlapHandling::AdditionalUnits
            }),
            hold_duration: recite(entry.hold_duration(), decision_time),
            phone_notice_before_denial: entry.phone_notice_before_denial(),
        })
    }

    fn regimens(
        &self,
        plan: &str,
        lob: LineOfBusiness,
        program: &str,
        primary_diagnosis: &str,
        drug_codes: &[String],
    ) -> Vec<RegimenMatch> {
        let Some(entry) = self.entry(plan, lob, program) else {
            return Vec::new();
        };
        let codes: Vec<&str> = drug_codes.iter().map(String::as_str).collect();
        entry
            .regimens_matching(primary_diagnosis, &codes)
            .into_iter()
            .map(|regimen| regimen_match(entry, regimen))
            .collect()
    }

    fn regimen_named(
        &self,
        plan: &str,
        lob: LineOfBusiness,
        program: &str,
        _primary_diagnosis: &str,
        name: &str,
    ) -> Option<RegimenMatch> {
        let entry = self.entry(plan, lob, program)?;
        entry.regimen(name).map(|regimen| regimen_match(entry, regimen))
    }

    fn exemption(&self, line: &RequestedLine) -> Option<Cited<String>> {
        Policy::exemption(
            self,
            line.place_of_service.as_deref(),
            line.bill_type.as_deref(),
            Some(&line.service_code),
            line.revenue_code.as_deref(),
        )
        .map(|cited| {
            let kind = match cited.value {
                ExemptionKind::PlaceOfService => "place of service",
                ExemptionKind::BillType => "bill type",
                ExemptionKind::ServiceCode => "service code",
                ExemptionKind::RevenueCode => "revenue code",
            };
            cite(kind.to_owned(), cited.config_path)
        })
    }

    fn in_progress_expiry(&self, plan: &str) -> Option<Cited<bool>> {
        let plan = self.plan(plan)?;
        let requests = &plan.in_progress_requests;
        match requests.expires {
            InProgressExpiry::EndOfDay => {
                Some(cite(requests.correspondence, format!("plans.{}.in_progress_requests", plan.key)))
            }
        }
    }

    fn is_business_day(&self, plan: &str, day: NaiveDate) -> bool {
        match self.plan_calendar(plan) {
            Some(calendar) => calendar.is_business_day(day),
            None => !matches!(day.weekday(), Weekday::Sat | Weekday::Sun),
        }
    }
    fn reason_code(&self, rule: &str) -> Option<Cited<String>> {
        Policy::reason_code(self, rule)
    }
}
