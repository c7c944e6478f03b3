//! The 271 (005010X279A1) for one 270: the 270's hierarchy mirrored (2000A source, 2000B
//! receiver, 2000C subscriber, 2000D dependent), its TRNs returned, and per person either an
//! AAA reject at the person's name loop or the coverage as EB loops.
//!
//! How "prior authorization required per program" is said, and why:
//! * The guide's structured place for it is EB11, "Authorization or Certification Indicator"
//!   (Y: required per plan provisions, N: not required). An EB names what it is about by its
//!   service type codes (EB03), so each program of the catalogue gets its own 2110C/2110D loop
//!   `EB*1**<service types>********<Y|N>`: active coverage for those services, and whether they
//!   need prior authorization (`U`, unknown, when the policy does not know the member's plan).
//!   A system reading only structured data gets the answer there.
//! * Service type codes are coarser than our programs (no code says "medical oncology"), so
//!   each program's EB carries one MSG with the program's name, and the first EB loop (the plan's
//!   active coverage, `EB*1*IND*30*<insurance type>*<plan name>`) carries the seeds' sentence
//!   ("Prior Authorization required for … No Prior Authorization required for …", without the
//!   colon, our component separator) in MSG, which the guide allows as free-form text about the
//!   benefit it follows.
//! * Inactive coverage on the day asked is `EB*6*IND*30*…` with the plan; no program answers.
//!   SPEC section 8 calls a member not covered on the date a business reject; in a 271 the guide
//!   says that with EB01 6 (Inactive): the 2100C AAA reasons are about the request (ID, name,
//!   date of birth, dates), and none of them means "found, not covered on that day".
//!
//! The guide's rule that a 271 to a generic (EQ 30) inquiry lists the plan's standard service
//! types (1, 33, 35, 47, 86, 88, 98, AL, MH, UC) is for health plans answering for benefits;
//! umgate answers as a UM organization about prior authorization, so it lists its programs.

use chrono::NaiveDateTime;

use super::eligibility::{Answer, Coverage, PersonAnswer, PriorAuthorization, Reject, SubscriberAnswer};
use super::inquiry::{Inquiry, PersonInquiry};
use crate::policy::{LineOfBusiness, ProgramKind};
use crate::x12::tree::sanitize;
use crate::x12::{Delimiters, OwnedSegment};

/// MSG01's maximum length.
const MSG_MAX: usize = 264;
/// EB05's maximum length.
const PLAN_DESCRIPTION_MAX: usize = 50;

/// ST..SE of the 271 answering `inquiry`; `control_number` is ST02/SE02, `at` the BHT date and
/// time. The segments are for `Delimiters::OUTBOUND` (values are sanitized for them), the
/// delimiters of the shared reply envelope (`mapping::reply`).
pub fn write_response(
    inquiry: &Inquiry,
    answer: &Answer,
    control_number: &str,
    at: NaiveDateTime,
) -> Vec<OwnedSegment> {
    let mut out = Segments::default();
    let writer = &mut out;
    let delimiters = *writer.delimiters();
    writer.segment(&OwnedSegment::simple("ST", &["271", control_number, super::GUIDE]));
    let reference = clean(&inquiry.reference, &delimiters, 50);
    let date = at.format("%Y%m%d").to_string();
    let time = at.format("%H%M").to_string();
    writer.segment(&OwnedSegment::simple("BHT", &["0022", "11", &reference, &date, &time]));
    let mut answers = answer.subscribers.iter();
    let mut hl = Hierarchy::default();
    for source in &inquiry.sources {
        let source_id = hl.open(writer, None, "20", !source.receivers.is_empty());
        writer.segment(&echo(&source.name, &delimiters));
        for receiver in &source.receivers {
            let receiver_id = hl.open(writer, Some(source_id), "21", !receiver.subscribers.is_empty());
            for segment in &receiver.segments {
                writer.segment(&echo(segment, &delimiters));
            }
            for asked in &receiver.subscribers {
                let Some(answered) = answers.next() else { continue };
                write_subscriber(writer, &mut hl, receiver_id, &asked.person, &asked.dependents, answered);
            }
        }
    }
    // SE01 counts ST to SE.
    let count = writer.count() + 1;
    writer.segment(&OwnedSegment::simple("SE", &[count.to_string().as_str(), control_number]));
    out.segments
}

/// The segments of one set as they are written.
#[derive(Default)]
struct Segments {
    segments: Vec<OwnedSegment>,
}

impl Segments {
    fn segment(&mut self, segment: &OwnedSegment) {
        self.segments.push(segment.clone());
    }

    fn count(&self) -> usize {
        self.segments.len()
    }

    fn delimiters(&self) -> &'static Delimiters {
        &Delimiters::OUTBOUND
    }
}

/// HL numbering across the set.
#[derive(Default)]
struct Hierarchy {
    last: u32,
}

impl Hierarchy {
    fn open(&mut self, writer: &mut Segments, parent: Option<u32>, level: &str, has_children: bool) -> u32 {
        self.last += 1;
        let parent = parent.map(|p| p.to_string()).unwrap_or_default();
        let child = if has_children { "1" } else { "0" };
        writer.segment(&OwnedSegment::simple("HL", &[self.last.to_string().as_str(), &parent, level, child]));
        self.last
    }
}

fn write_subscriber(
    writer: &mut Segments,
    hl: &mut Hierarchy,
    receiver_id: u32,
    person: &PersonInquiry,
    dependents: &[PersonInquiry],
    answered: &SubscriberAnswer,
) {
    let subscriber_id = hl.open(writer, Some(receiver_id), "22", !answered.dependents.is_empty());
    let level = if dependents.is_empty() { Level::Subscriber } else { Level::SubscriberOfPatient };
    write_person(writer, person, &answered.subscriber, level);
    for (dependent, answer) in dependents.iter().zip(&answered.dependents) {
        hl.open(writer, Some(subscriber_id), "23", false);
        write_person(writer, dependent, answer, Level::Dependent);
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Level {
    /// The subscriber is the patient.
    Subscriber,
    /// The 270 asks about dependents: the patient is at 2000D, where the benefits go. The
    /// subscriber, identified by id only, gets back the name loop as sent and nothing more.
    SubscriberOfPatient,
    Dependent,
}

/// TRN, the name loop (2100C/D) and the benefit loops (2110C/D) of one person.
fn write_person(writer: &mut Segments, person: &PersonInquiry, answer: &PersonAnswer, level: Level) {
    let d = *writer.delimiters();
    // The 270's traces come back as referenced transaction traces (TRN01 2), as the guide says.
    for trace in person.traces.iter().take(2) {
        let mut elements = vec!["2".to_owned(), clean(&trace.number, &d, 50), clean(&trace.originator, &d, 10)];
        if let Some(reference) = &trace.reference {
            elements.push(clean(reference, &d, 50));
        }
        writer.segment(&OwnedSegment::simple("TRN", &elements));
    }
    match answer {
        PersonAnswer::Rejected(reject) => {
            writer.segment(&echo(&person.name, &d));
            let (valid, code, follow_up) = aaa(*reject);
            writer.segment(&OwnedSegment::simple("AAA", &[valid, "", code, follow_up]));
        }
        PersonAnswer::Found(_) if level == Level::SubscriberOfPatient => writer.segment(&echo(&person.name, &d)),
        PersonAnswer::Found(coverage) => {
            write_found_name(writer, person, coverage, level);
            write_benefits(writer, coverage);
        }
    }
}

/// NM1 as the roster has the person, REF (plan; a dependent's own id), DMG and the coverage
/// period, in the guide's order for 2100C/2100D.
fn write_found_name(writer: &mut Segments, person: &PersonInquiry, coverage: &Coverage, level: Level) {
    let d = *writer.delimiters();
    let member = &coverage.member;
    let last = clean(&member.last_name, &d, 60);
    let first = clean(&member.first_name, &d, 35);
    let id = clean(&member.member_id, &d, 80);
    match level {
        Level::Subscriber | Level::SubscriberOfPatient => {
            let qualifier = match person.name.elements.get(7).and_then(|e| e.first()).and_then(|c| c.first()) {
                Some(q) if q == "II" => "II",
                _ => "MI",
            };
            writer.segment(&OwnedSegment::simple("NM1", &["IL", "1", &last, &first, "", "", "", qualifier, &id]));
            writer.segment(&OwnedSegment::simple("REF", &["18", &clean(&member.plan, &d, 50)]));
        }
        Level::Dependent => {
            writer.segment(&OwnedSegment::simple("NM1", &["03", "1", &last, &first]));
            writer.segment(&OwnedSegment::simple("REF", &["1W", &id]));
            writer.segment(&OwnedSegment::simple("REF", &["18", &clean(&member.plan, &d, 50)]));
        }
    }
    let birth = member.birth_date.format("%Y%m%d").to_string();
    let mut dmg = vec!["D8".to_owned(), birth];
    if let Some(gender) = member.gender.as_deref().and_then(gender_code) {
        dmg.push(gender.to_owned());
    }
    writer.segment(&OwnedSegment::simple("DMG", &dmg));
    // Eligibility begin (356) and end (357) of the roster's coverage.
    writer.segment(&OwnedSegment::simple("DTP", &["356", "D8", &member.coverage_start.format("%Y%m%d").to_string()]));
    if let Some(end) = member.coverage_end {
        writer.segment(&OwnedSegment::simple("DTP", &["357", "D8", &end.format("%Y%m%d").to_string()]));
    }
}

/// The 2110 loops: plan coverage (active or inactive) on the day, then one per program.
fn write_benefits(writer: &mut Segments, coverage: &Coverage) {
    let d = *writer.delimiters();
    let status = if coverage.active { "1" } else { "6" };
    let plan = clean(&coverage.plan_name, &d, PLAN_DESCRIPTION_MAX);
    let insurance = insurance_type(coverage.member.line_of_business);
    writer.segment(&OwnedSegment::simple("EB", &[status, "IND", "30", insurance, &plan]));
    writer.segment(&OwnedSegment::simple("DTP", &["291", "D8", &coverage.on.format("%Y%m%d").to_string()]));
    for text in super::eligibility::authorization_summary(&coverage.programs) {
        // ':' is the component separator of our interchanges (Delimiters::OUTBOUND, shared with
        // the 999 and 278 replies) and cannot stand in MSG01: "required for: A" is written
        // "required for A".
        let text = text.replacen(": ", " ", 1);
        for part in split_message(&clean(&text, &d, usize::MAX), MSG_MAX) {
            writer.segment(&OwnedSegment::simple("MSG", &[part]));
        }
    }
    for program in &coverage.programs {
        let indicator = match program.authorization {
            PriorAuthorization::Required => "Y",
            PriorAuthorization::NotRequired => "N",
            PriorAuthorization::Unknown => "U",
        };
        let service_types: Vec<Vec<String>> =
            service_types(program.kind).iter().map(|c| vec![(*c).to_owned()]).collect();
        let mut eb = OwnedSegment::simple("EB", &["1", "", "", "", "", "", "", "", "", "", indicator]);
        eb.elements[2] = service_types;
        writer.segment(&eb);
        writer.segment(&OwnedSegment::simple("MSG", &[clean(&program.name, &d, MSG_MAX)]));
    }
}

/// AAA01 (is the request valid), AAA03 (reject reason, from the guide's 2100C/2100D list) and
/// AAA04 (follow-up action) for a reject.
///
/// AAA01 is `N` when something the 270 sent (or left out) is itself wrong, `Y` when the request
/// is well formed but finds no one. Follow-up `C` (please correct and resubmit) throughout: each
/// of these is cured by sending corrected data.
fn aaa(reject: Reject) -> (&'static str, &'static str, &'static str) {
    match reject {
        // 72 Invalid/Missing Subscriber/Insured ID.
        Reject::MissingMemberId => ("N", "72", "C"),
        // 75 Subscriber/Insured Not Found.
        Reject::MemberNotFound => ("Y", "75", "C"),
        // 2100D: 77 Subscriber Found, Patient Not Found (no identifier of the dependent's own).
        Reject::DependentNotIdentified => ("Y", "77", "C"),
        // 2100D: 67 Patient Not Found.
        Reject::DependentNotFound => ("Y", "67", "C"),
        // 58 Invalid/Missing Date-of-Birth.
        Reject::MissingBirthDate => ("N", "58", "C"),
        // 71 Patient Birth Date Does Not Match That for the Patient on the Database.
        Reject::BirthDateMismatch => ("N", "71", "C"),
        // 57 Invalid/Missing Date(s) of Service.
        Reject::InvalidDateOfService => ("N", "57", "C"),
        // 60 Date of Birth Follows Date(s) of Service.
        Reject::BirthDateAfterDateOfService => ("N", "60", "C"),
    }
}

/// EB03 service type codes that stand for a program. X12 knowledge, so it lives here and not in
/// the policy: 6 Radiation Therapy; 78 Chemotherapy; PT/AD/AF physical, occupational and speech
/// therapy; BK Orthopedic for musculoskeletal pain procedures; 62 MRI/CAT Scan and BL Cardiac for
/// radiology and cardiology; 1 Medical Care for anything else.
fn service_types(kind: ProgramKind) -> &'static [&'static str] {
    match kind {
        ProgramKind::RadiationOncology => &["6"],
        ProgramKind::MedicalOncology => &["78"],
        ProgramKind::Therapy => &["PT", "AD", "AF"],
        ProgramKind::MskPain => &["BK"],
        ProgramKind::RadiologyCardiology => &["62", "BL"],
        ProgramKind::Other => &["1"],
    }
}

/// EB04 insurance type: C1 Commercial; HN HMO Medicare Risk (Medicare Advantage plans);
/// MC Medicaid, also for dual-eligible members, whom these plans cover through Medicaid managed care.
fn insurance_type(line: LineOfBusiness) -> &'static str {
    match line {
        LineOfBusiness::Commercial => "C1",
        LineOfBusiness::Medicare => "HN",
        LineOfBusiness::Medicaid | LineOfBusiness::Dual => "MC",
    }
}

/// DMG03 from the roster's gender.
fn gender_code(gender: &str) -> Option<&'static str> {
    match gender.trim().to_ascii_uppercase().as_str() {
        "F" | "FEMALE" => Some("F"),
        "M" | "MALE" => Some("M"),
        "U" | "UNKNOWN" => Some("U"),
        _ => None,
    }
}

/// A received segment written back with our delimiters: every value sanitized.
fn echo(segment: &OwnedSegment, delimiters: &Delimiters) -> OwnedSegment {
    OwnedSegment {
        id: segment.id.clone(),
        elements: segment
            .elements
            .iter()
            .map(|element| element.iter().map(|rep| rep.iter().map(|c| sanitize(c, delimiters)).collect()).collect())
            .collect(),
    }
}

fn clean(value: &str, delimiters: &Delimiters, max: usize) -> String {
    sanitize(value, delimiters).trim().chars().take(max).collect::<String>().trim_end().to_owned()
}

/// Splits text at spaces into parts of at most `max` characters.
fn split_message(text: &str, max: usize) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let word: String = word.chars().take(max).collect();
        if !current.is_empty() && current.chars().count() + 1 + word.chars().count() > max {
            parts.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(&word);
    }
    if !current.is_empty() {
        parts.push(current);
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_messages_are_split_at_spaces() {
        let text = "word ".repeat(100);
        let parts = split_message(&text, 264);
        assert!(parts.len() == 2 && parts.iter().all(|p| p.len() <= 264 && !p.ends_with(' ')));
        assert_eq!(parts.join(" "), text.trim_end());
    }

    #[test]
    fn every_reject_has_a_code_of_the_guides_list_at_its_loop() {
        let subscriber = ["15", "35", "42", "43", "45", "47", "48", "49", "51", "52", "56", "57", "58", "60", "61"];
        let subscriber_more = ["62", "63", "71", "72", "73", "74", "75", "76", "78"];
        let dependent_only = ["64", "65", "66", "67", "68", "77"];
        for reject in [
            Reject::MissingMemberId,
            Reject::MemberNotFound,
            Reject::MissingBirthDate,
            Reject::BirthDateMismatch,
            Reject::InvalidDateOfService,
            Reject::BirthDateAfterDateOfService,
        ] {
            let code = aaa(reject).1;
            assert!(subscriber.contains(&code) || subscriber_more.contains(&code), "{reject:?}");
        }
        for reject in [Reject::DependentNotIdentified, Reject::DependentNotFound] {
            assert!(dependent_only.contains(&aaa(reject).1), "{reject:?}");
        }
    }
}
