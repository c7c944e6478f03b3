//! The eligibility decision behind a 271, free of X12: a person asked about, the roster entry
//! their identifier finds, the policy and the day give either a reject reason or the coverage on
//! that day with, per program of the catalogue, whether the member's plan × line of business
//! requires prior authorization for it. The 271 writer turns the result into AAA and EB segments.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::inquiry::{Given, Inquiry, PersonInquiry};
use crate::domain::{CaseRepository, MemberRecord, RepositoryError};
use crate::policy::{Policy, ProgramKind};

/// Where member records come from: the roster, looked up by member id.
pub trait Roster {
    fn member(&self, member_id: &str) -> Option<&MemberRecord>;
}

/// Members fetched beforehand (see [`load_roster`]), keyed by member id.
impl Roster for BTreeMap<String, MemberRecord> {
    fn member(&self, member_id: &str) -> Option<&MemberRecord> {
        self.get(member_id)
    }
}

/// Every member id an inquiry names (subscribers and identified dependents), without repeats.
pub fn member_ids(inquiry: &Inquiry) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    let subscribers = inquiry.sources.iter().flat_map(|s| &s.receivers).flat_map(|r| &r.subscribers);
    for subscriber in subscribers {
        for person in std::iter::once(&subscriber.person).chain(&subscriber.dependents) {
            if let Some(id) = &person.member_id {
                if !ids.contains(id) {
                    ids.push(id.clone());
                }
            }
        }
    }
    ids
}

/// Fetches the roster entries of `member_ids` from a repository (the async part of answering).
pub async fn load_roster<R: CaseRepository>(
    repository: &R,
    member_ids: &[String],
) -> Result<BTreeMap<String, MemberRecord>, RepositoryError> {
    let mut members = BTreeMap::new();
    for id in member_ids {
        if let Some(member) = repository.get_member(id).await? {
            members.insert(id.clone(), member);
        }
    }
    Ok(members)
}

/// Why a person cannot be answered with coverage. Each maps to one AAA reject reason of the
/// guide (see `response.rs`); Debug/Display never carry the person's data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reject {
    /// No member id sent (subscriber NM109).
    MissingMemberId,
    /// No roster entry with that id.
    MemberNotFound,
    /// A dependent asked about without an identifier of their own: the subscriber is known but
    /// the roster cannot tell which of their family the patient is.
    DependentNotIdentified,
    /// A dependent's own identifier is not on the roster.
    DependentNotFound,
    /// No date of birth, or one that is not a date.
    MissingBirthDate,
    /// The date of birth differs from the roster's.
    BirthDateMismatch,
    /// The date asked about is not a date.
    InvalidDateOfService,
    /// The date asked about precedes the member's birth.
    BirthDateAfterDateOfService,
}

/// The answer for one person of the inquiry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PersonAnswer {
    Rejected(Reject),
    Found(Coverage),
}

/// A member found and identified, and their coverage on the day asked about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coverage {
    pub member: MemberRecord,
    /// The day the answer is about.
    pub on: NaiveDate,
    /// Covered on that day (roster coverage dates).
    pub active: bool,
    /// The plan's name from the policy (its key when the policy does not know the plan).
    pub plan_name: String,
    /// Every program of the catalogue, with whether the plan × line of business requires prior
    /// authorization for it (unknown when the policy does not know the plan). Empty when the
    /// coverage is inactive.
    pub programs: Vec<ProgramAnswer>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgramAnswer {
    /// Catalogue program key (`radiation-oncology`).
    pub key: String,
    /// Its name for people (`Radiation oncology`).
    pub name: String,
    pub kind: ProgramKind,
    pub authorization: PriorAuthorization,
}

/// Whether a program needs prior authorization for the member's plan × line of business.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PriorAuthorization {
    Required,
    NotRequired,
    /// The policy does not know the member's plan: nothing can be said either way.
    Unknown,
}

/// Answers for one subscriber loop and the dependents under it (in the 270's order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriberAnswer {
    pub subscriber: PersonAnswer,
    /// One per dependent asked about; empty when the subscriber was rejected (the 271 then
    /// carries the AAA at 2100C and no dependent level).
    pub dependents: Vec<PersonAnswer>,
}

/// Answers for every subscriber of an inquiry, in document order across sources and receivers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub subscribers: Vec<SubscriberAnswer>,
}

/// Decides every person of `inquiry`. `today` stands for a 270 that names no date.
pub fn answer(inquiry: &Inquiry, roster: &dyn Roster, policy: &Policy, today: NaiveDate) -> Answer {
    let subscribers = inquiry
        .sources
        .iter()
        .flat_map(|s| &s.receivers)
        .flat_map(|r| &r.subscribers)
        .map(|asked| {
            let patient = asked.dependents.is_empty();
            let subscriber = decide_subscriber(&asked.person, patient, roster, policy, today);
            let dependents = match subscriber {
                PersonAnswer::Rejected(_) => Vec::new(),
                PersonAnswer::Found(_) => {
                    asked.dependents.iter().map(|d| decide_dependent(d, roster, policy, today)).collect()
                }
            };
            SubscriberAnswer { subscriber, dependents }
        })
        .collect();
    Answer { subscribers }
}

/// A subscriber: found by member id; the date of birth must be sent and match when the
/// subscriber is the patient, and must match whenever it is sent.
fn decide_subscriber(
    person: &PersonInquiry,
    is_patient: bool,
    roster: &dyn Roster,
    policy: &Policy,
    today: NaiveDate,
) -> PersonAnswer {
    let Some(id) = &person.member_id else { return PersonAnswer::Rejected(Reject::MissingMemberId) };
    let Some(member) = roster.member(id) else { return PersonAnswer::Rejected(Reject::MemberNotFound) };
    identified(person, member, is_patient, policy, today)
}

/// A dependent: identified by an id of their own on the roster (the roster has no family
/// links), with a matching date of birth.
fn decide_dependent(person: &PersonInquiry, roster: &dyn Roster, policy: &Policy, today: NaiveDate) -> PersonAnswer {
    let Some(id) = &person.member_id else { return PersonAnswer::Rejected(Reject::DependentNotIdentified) };
    let Some(member) = roster.member(id) else { return PersonAnswer::Rejected(Reject::DependentNotFound) };
    identified(person, member, true, policy, today)
}

fn identified(
    person: &PersonInquiry,
    member: &MemberRecord,
    is_patient: bool,
    policy: &Policy,
    today: NaiveDate,
) -> PersonAnswer {
    match person.birth_date {
        Given::Value(birth_date) if birth_date != member.birth_date => {
            return PersonAnswer::Rejected(Reject::BirthDateMismatch);
        }
        Given::Invalid => return PersonAnswer::Rejected(Reject::MissingBirthDate),
        Given::Missing if is_patient => return PersonAnswer::Rejected(Reject::MissingBirthDate),
        _ => {}
    }
    let on = match person.date_of_service {
        Given::Value(day) => day,
        Given::Missing => today,
        Given::Invalid => return PersonAnswer::Rejected(Reject::InvalidDateOfService),
    };
    if on < member.birth_date {
        return PersonAnswer::Rejected(Reject::BirthDateAfterDateOfService);
    }
    PersonAnswer::Found(coverage(member, on, policy))
}

/// Coverage of a known member on `on`, with the programs of the catalogue.
pub fn coverage(member: &MemberRecord, on: NaiveDate, policy: &Policy) -> Coverage {
    let active = member.covered_on(on);
    let plan_name = policy.plan(&member.plan).map_or_else(|| member.plan.clone(), |plan| plan.name.clone());
    let plan_known = policy.plan(&member.plan).is_some();
    let programs = if active {
        let required: Vec<&str> =
            policy.entries_for(&member.plan, member.line_of_business).map(|entry| entry.program_key()).collect();
        policy
            .programs()
            .map(|program| ProgramAnswer {
                key: program.key.clone(),
                name: program.name.clone(),
                kind: program.kind,
                authorization: if !plan_known {
                    PriorAuthorization::Unknown
                } else if required.contains(&program.key.as_str()) {
                    PriorAuthorization::Required
                } else {
                    PriorAuthorization::NotRequired
                },
            })
            .collect()
    } else {
        Vec::new()
    };
    Coverage { member: member.clone(), on, active, plan_name, programs }
}

/// The seeds' sentences: "Prior Authorization required for: A, B." and "No Prior Authorization
/// required for: C." (and, for a plan the policy does not know, "Prior Authorization requirements
/// unknown for: …"). A sentence that would name nothing is left out.
pub fn authorization_summary(programs: &[ProgramAnswer]) -> Vec<String> {
    [
        (PriorAuthorization::Required, "Prior Authorization required for"),
        (PriorAuthorization::NotRequired, "No Prior Authorization required for"),
        (PriorAuthorization::Unknown, "Prior Authorization requirements unknown for"),
    ]
    .into_iter()
    .filter_map(|(which, lead)| {
        let names: Vec<&str> = programs.iter().filter(|p| p.authorization == which).map(|p| p.name.as_str()).collect();
        (!names.is_empty()).then(|| format!("{lead}: {}.", names.join(", ")))
    })
    .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::policy::LineOfBusiness;
    use crate::x12::OwnedSegment;

    fn policy() -> Policy {
        Policy::load(concat!(env!("CARGO_MANIFEST_DIR"), "/samples/umgate.toml")).unwrap()
    }

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn member(id: &str, plan: &str, lob: LineOfBusiness) -> MemberRecord {
        MemberRecord {
            member_id: id.into(),
            first_name: "Fake".into(),
            last_name: "Person".into(),
            birth_date: day(1960, 4, 2),
            gender: Some("F".into()),
            plan: plan.into(),
            line_of_business: lob,
            coverage_start: day(2026, 1, 1),
            coverage_end: Some(day(2026, 12, 31)),
        }
    }

    fn person(id: Option<&str>, birth: Given<NaiveDate>, on: Given<NaiveDate>) -> PersonInquiry {
        PersonInquiry {
            traces: Vec::new(),
            name: OwnedSegment::simple("NM1", &["IL", "1", "PERSON", "FAKE"]),
            member_id: id.map(str::to_owned),
            birth_date: birth,
            gender: None,
            date_of_service: on,
            service_types: vec!["30".into()],
        }
    }

    fn roster() -> BTreeMap<String, MemberRecord> {
        let mut roster = BTreeMap::new();
        roster.insert("C1".into(), member("C1", "cigna-commercial", LineOfBusiness::Commercial));
        roster
    }

    #[test]
    fn rejects_come_in_the_order_id_found_birth_date_date_of_service() {
        let (p, r, today) = (policy(), roster(), day(2026, 3, 1));
        let born = Given::Value(day(1960, 4, 2));
        let cases = [
            (person(None, born, Given::Missing), Reject::MissingMemberId),
            (person(Some("NOPE"), born, Given::Missing), Reject::MemberNotFound),
            (person(Some("C1"), Given::Missing, Given::Missing), Reject::MissingBirthDate),
            (person(Some("C1"), Given::Invalid, Given::Missing), Reject::MissingBirthDate),
            (person(Some("C1"), Given::Value(day(1960, 4, 3)), Given::Missing), Reject::BirthDateMismatch),
            (person(Some("C1"), born, Given::Invalid), Reject::InvalidDateOfService),
            (person(Some("C1"), born, Given::Value(day(1950, 1, 1))), Reject::BirthDateAfterDateOfService),
        ];
        for (asked, reject) in cases {
            assert_eq!(decide_subscriber(&asked, true, &r, &p, today), PersonAnswer::Rejected(reject));
        }
        // Not the patient (a dependent is): the subscriber's date of birth may be left out.
        let answer = decide_subscriber(&person(Some("C1"), Given::Missing, Given::Missing), false, &r, &p, today);
        assert!(matches!(answer, PersonAnswer::Found(_)));
    }

    #[test]
    fn programs_of_the_plan_require_authorization_and_the_others_do_not() {
        let p = policy();
        let found = coverage(&member("C1", "cigna-commercial", LineOfBusiness::Commercial), day(2026, 3, 1), &p);
        assert!(found.active);
        assert_eq!(found.plan_name, "Cigna Commercial");
        let required: Vec<&str> = found
            .programs
            .iter()
            .filter(|x| x.authorization == PriorAuthorization::Required)
            .map(|x| x.key.as_str())
            .collect();
        let expected: Vec<&str> =
            p.entries_for("cigna-commercial", LineOfBusiness::Commercial).map(|e| e.program_key()).collect();
        assert!(!required.is_empty());
        assert_eq!(required.len(), expected.len());
        assert_eq!(found.programs.len(), p.programs().count());
        let summary = authorization_summary(&found.programs);
        assert!(summary[0].starts_with("Prior Authorization required for: "));
        assert_eq!(summary.len() == 2, found.programs.len() > required.len());

        // A plan the policy does not know: no claim either way.
        let unknown = coverage(&member("C1", "no-such-plan", LineOfBusiness::Commercial), day(2026, 3, 1), &p);
        assert_eq!(unknown.plan_name, "no-such-plan");
        assert!(unknown.programs.iter().all(|x| x.authorization == PriorAuthorization::Unknown));
        assert_eq!(authorization_summary(&unknown.programs).len(), 1);

        let lapsed = coverage(&member("C1", "cigna-commercial", LineOfBusiness::Commercial), day(2027, 1, 1), &p);
        assert!(!lapsed.active && lapsed.programs.is_empty());
    }
}
