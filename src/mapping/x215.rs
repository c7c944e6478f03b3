//! 278 inquiry (005010X215): the status of an existing review, asked by certification number
//! (REF*BB), by our administrative reference (REF*NT, the case id), or by member + requesting
//! provider + dates; answered from the cases with HCR, or with AAA where nothing matches.
//! Cases are found through `CaseLookup`, which the process pipeline gets for free from
//! `CaseService` (implemented below) and tests can implement over anything.

use std::future::Future;

use chrono::{NaiveDate, NaiveDateTime};

use crate::ack::{ControlNumbers, Outbound};
use crate::domain::{Case, CaseRepository, CaseService, Clock, DomainError, LineStatus, MemberRecord};
use crate::mapping::reply::{ReplySet, write_reply_interchange};
use crate::mapping::tree::{InterchangeTrees, LoopNode, SetTree, TreeSegment};
use crate::mapping::x217::request::parse_date;
use crate::x12::tree::sanitize;
use crate::x12::{Delimiters, OwnedSegment};

/// The implementation guide of 278 inquiries and their responses.
pub const GUIDE_215: &str = "005010X215";

/// Whether `set` is an X215 inquiry.
pub fn is_inquiry(set: &SetTree) -> bool {
    set.guide == GUIDE_215 && set.transaction == "inquiry"
}

/// Where cases come from.
pub trait CaseLookup {
    fn member(&self, member_id: &str) -> impl Future<Output = Result<Option<MemberRecord>, DomainError>> + Send;
    fn cases_for_member(&self, member_id: &str) -> impl Future<Output = Result<Vec<Case>, DomainError>> + Send;
    fn case_by_authorization_number(
        &self,
        number: &str,
    ) -> impl Future<Output = Result<Option<Case>, DomainError>> + Send;
    fn case_by_id(&self, case_id: &str) -> impl Future<Output = Result<Option<Case>, DomainError>> + Send;
}

impl<R: CaseRepository, C: Clock + Sync> CaseLookup for CaseService<R, C> {
    async fn member(&self, member_id: &str) -> Result<Option<MemberRecord>, DomainError> {
        Ok(self.repository().get_member(member_id).await?)
    }
    async fn cases_for_member(&self, member_id: &str) -> Result<Vec<Case>, DomainError> {
        Ok(self.repository().cases_for_member(member_id).await?)
    }
    async fn case_by_authorization_number(&self, number: &str) -> Result<Option<Case>, DomainError> {
        Ok(self.repository().case_by_authorization_number(number).await?)
    }
    async fn case_by_id(&self, case_id: &str) -> Result<Option<Case>, DomainError> {
        Ok(self.repository().get_case(case_id).await?)
    }
}

/// What an inquiry asks about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inquiry {
    pub member_id: String,
    pub birth_date: Option<NaiveDate>,
    pub requester_npi: Option<String>,
    pub certification_number: Option<String>,
    pub case_id: Option<String>,
    /// The period asked about (event or service dates), when given.
    pub period: Option<(NaiveDate, NaiveDate)>,
    pub service_codes: Vec<String>,
}

/// The answer to an inquiry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InquiryAnswer {
    /// The matching cases (one 2000E each in the response).
    Found(Vec<Case>),
    /// AAA at a loop: (loop id, AAA03, AAA04).
    NotFound { loop_id: &'static str, reason: &'static str, follow_up: &'static str },
}

fn event_of(tree: &SetTree) -> Option<&LoopNode> {
    tree.find("2000E")
}

fn dates(segment: &TreeSegment) -> Option<(NaiveDate, NaiveDate)> {
    let text = segment.element(3);
    match text.split_once('-') {
        Some((from, to)) => Some((parse_date(from)?, parse_date(to)?)),
        None => parse_date(text).map(|day| (day, day)),
    }
}

/// Reads an inquiry from its tree.
pub fn read_inquiry(tree: &SetTree) -> Inquiry {
    let subscriber = tree.find("2010C");
    let patient = tree.find("2010D").or(subscriber);
    let value =
        |segment: Option<&TreeSegment>, n| segment.map(|s| s.element(n).to_owned()).filter(|v: &String| !v.is_empty());
    let requester = tree.find("2010B").and_then(|l| l.segment("NM1")).filter(|nm1| nm1.element(8) == "XX");
    let event = event_of(tree);
    let lines: Vec<&LoopNode> = tree.find_all("2000F");
    let period = event
        .into_iter()
        .chain(lines.iter().copied())
        .flat_map(|level| level.segments("DTP"))
        .filter_map(dates)
        .reduce(|(a, b), (c, d)| (a.min(c), b.max(d)));
    Inquiry {
        member_id: value(subscriber.and_then(|l| l.segment("NM1")), 9).unwrap_or_default(),
        birth_date: patient.and_then(|l| l.segment("DMG")).and_then(|dmg| parse_date(dmg.element(2))),
        requester_npi: value(requester, 9),
        certification_number: value(event.and_then(|e| e.segment_with("REF", 1, "BB")), 2),
        case_id: value(event.and_then(|e| e.segment_with("REF", 1, "NT")), 2),
        period,
        service_codes: lines
            .iter()
            .filter_map(|line| ["SV1", "SV3"].iter().find_map(|id| line.segment(id)).map(|sv| sv.component(1, 2)))
            .filter(|code| !code.is_empty())
            .map(str::to_owned)
            .collect(),
    }
}

/// Finds the cases an inquiry asks about. A case is only ever shown for its own member, and only
/// to the provider that requested it.
pub async fn answer_inquiry<L: CaseLookup>(inquiry: &Inquiry, lookup: &L) -> Result<InquiryAnswer, DomainError> {
    let not_found = |loop_id, reason, follow_up| Ok(InquiryAnswer::NotFound { loop_id, reason, follow_up });
    let Some(member) = lookup.member(&inquiry.member_id).await? else {
        // Subscriber/insured not found.
        return not_found("2010C", "75", "C");
    };
    // A member id alone must not open a member's cases to any submitter: the date of birth and
    // the requester's NPI are both required, and only the requester's own cases are shown.
    let Some(birth_date) = inquiry.birth_date else {
        // Invalid/missing date of birth.
        return not_found("2010C", "58", "C");
    };
    if birth_date != member.birth_date {
        // Patient birth date does not match the one on file.
        return not_found("2010C", "71", "C");
    }
    let Some(requester_npi) = inquiry.requester_npi.as_deref().filter(|npi| !npi.is_empty()) else {
        // Invalid/missing provider identification.
        return not_found("2010B", "43", "C");
    };
    let own =
        |case: &Case| case.member_id() == inquiry.member_id && case.request.requesting_provider.npi == requester_npi;
    let by_reference = match (&inquiry.certification_number, &inquiry.case_id) {
        (Some(number), _) => Some(lookup.case_by_authorization_number(number).await?),
        (None, Some(id)) => Some(lookup.case_by_id(id).await?),
        (None, None) => None,
    };
    let cases: Vec<Case> = match by_reference {
        Some(found) => found.into_iter().filter(own).collect(),
        None => lookup
            .cases_for_member(&inquiry.member_id)
            .await?
            .into_iter()
            .filter(own)
            .filter(|case| inquiry.period.is_none_or(|period| overlaps(case, period)))
            .filter(|case| {
                inquiry.service_codes.is_empty()
                    || case.lines.iter().any(|line| inquiry.service_codes.contains(&line.requested.service_code))
            })
            .collect(),
    };
    if cases.is_empty() {
        // Authorization number not found.
        return not_found("2000E", "AA", "C");
    }
    Ok(InquiryAnswer::Found(cases))
}

/// Whether the case's requested or approved dates touch `period`.
fn overlaps(case: &Case, (from, to): (NaiveDate, NaiveDate)) -> bool {
    let requested = case
        .lines
        .iter()
        .map(|l| (l.requested.service_from, l.requested.service_to.unwrap_or(l.requested.service_from)));
    let approved = case.approved_from.map(|f| (f, case.approved_to.unwrap_or(f)));
    requested.chain(approved).any(|(start, end)| start <= to && from <= end)
}

fn clean(value: &str) -> String {
    sanitize(value, &Delimiters::OUTBOUND)
}

fn echo(segment: &TreeSegment) -> OwnedSegment {
    segment.to_owned_with(|c| sanitize(c, &Delimiters::OUTBOUND))
}

fn period_dtp(qualifier: &str, from: NaiveDate, to: Option<NaiveDate>) -> OwnedSegment {
    let d8 = |day: NaiveDate| day.format("%Y%m%d").to_string();
    match to.filter(|to| *to != from) {
        Some(to) => OwnedSegment::simple("DTP", &[qualifier, "RD8", &format!("{}-{}", d8(from), d8(to))]),
        None => OwnedSegment::simple("DTP", &[qualifier, "D8", &d8(from)]),
    }
}

/// CPT (5 digits) and HCPCS (a letter and 4 digits) are `HC`; program codes (`RC…`, `MSMPT`)
/// are mutually defined (`ZZ`).
fn procedure_qualifier(code: &str) -> &'static str {
    let bytes = code.as_bytes();
    let hcpcs_or_cpt =
        bytes.len() == 5 && bytes[1..].iter().all(u8::is_ascii_digit) && bytes[0].is_ascii_alphanumeric();
    if hcpcs_or_cpt { "HC" } else { "ZZ" }
}

/// The X215 response set (ST to SE) to `inquiry_tree`.
pub fn write_inquiry_response(
    inquiry_tree: &SetTree,
    answer: &InquiryAnswer,
    st02: &str,
    at: NaiveDateTime,
) -> Vec<OwnedSegment> {
    let mut out = vec![OwnedSegment::simple("ST", &["278", st02, GUIDE_215])];
    let bht03 = inquiry_tree.header("BHT").map(|b| clean(b.element(3))).unwrap_or_default();
    out.push(OwnedSegment::simple(
        "BHT",
        &["0007", "11", &bht03, &at.format("%Y%m%d").to_string(), &at.format("%H%M").to_string()],
    ));
    let aaa = |loop_id: &str| match answer {
        InquiryAnswer::NotFound { loop_id: at, reason, follow_up } if *at == loop_id => {
            Some(OwnedSegment::simple("AAA", &["N", "", reason, follow_up]))
        }
        _ => None,
    };
    let cases: &[Case] = match answer {
        InquiryAnswer::Found(cases) => cases,
        InquiryAnswer::NotFound { .. } => &[],
    };
    let event_reject = aaa("2000E");
    let with_event = !cases.is_empty() || event_reject.is_some();
    let mut levels = 0u32;
    let mut hl = |out: &mut Vec<OwnedSegment>, parent: Option<u32>, code: &str, child: bool| {
        levels += 1;
        let parent = parent.map(|p| p.to_string()).unwrap_or_default();
        out.push(OwnedSegment::simple(
            "HL",
            &[levels.to_string().as_str(), &parent, code, if child { "1" } else { "0" }],
        ));
        levels
    };
    let umo = hl(&mut out, None, "20", true);
    if let Some(nm1) = inquiry_tree.find("2010A").and_then(|l| l.segment("NM1")) {
        out.push(echo(nm1));
    }
    let requester = hl(&mut out, Some(umo), "21", true);
    if let Some(nm1) = inquiry_tree.find("2010B").and_then(|l| l.segment("NM1")) {
        out.push(echo(nm1));
    }
    out.extend(aaa("2010B"));
    let subscriber = hl(&mut out, Some(requester), "22", with_event);
    if let Some(name) = inquiry_tree.find("2010C") {
        out.extend(name.segments.iter().filter(|s| matches!(s.id(), "NM1" | "REF" | "N3" | "N4")).map(echo));
        out.extend(aaa("2010C"));
        out.extend(name.segments.iter().filter(|s| matches!(s.id(), "DMG" | "INS")).map(echo));
    }
    let mut parent = subscriber;
    if let (true, Some(dependent)) = (with_event, inquiry_tree.find("2000D")) {
        parent = hl(&mut out, Some(subscriber), "23", true);
        if let Some(name) = dependent.child("2010D") {
            out.extend(
                name.segments
                    .iter()
                    .filter(|s| matches!(s.id(), "NM1" | "REF" | "N3" | "N4" | "DMG" | "INS"))
                    .map(echo),
            );
        }
    }
    let event = event_of(inquiry_tree);
    let traces = |out: &mut Vec<OwnedSegment>| {
        for trn in event.into_iter().flat_map(|e| e.segments("TRN")) {
            let mut segment = echo(trn);
            if let Some(first) = segment.elements.first_mut() {
                *first = vec![vec!["2".to_owned()]];
            }
            out.push(segment);
        }
    };
    if event_reject.is_some() {
        hl(&mut out, Some(parent), "EV", false);
        traces(&mut out);
        out.extend(event_reject);
        out.extend(event.and_then(|e| e.segment("UM")).map(echo));
    }
    for case in cases {
        let event_hl = hl(&mut out, Some(parent), "EV", !case.lines.is_empty());
        traces(&mut out);
        out.extend(event.and_then(|e| e.segment("UM")).map(echo));
        let number = case.authorization_number.as_deref().map(clean).unwrap_or_default();
        // HCR03: the decision reason of a denial, partial approval, pend or NA, as in the 278
        // response (trailing empty elements are not written).
        let reason = case.reason_code().map(clean).unwrap_or_default();
        out.push(OwnedSegment::simple("HCR", &[case.hcr01().unwrap_or("A4"), &number, &reason]));
        if !number.is_empty() {
            out.push(OwnedSegment::simple("REF", &["BB", &number]));
        }
        out.push(OwnedSegment::simple("REF", &["NT", &clean(&case.id)]));
        match (case.status.is_certified(), case.approved_from, case.request.date_of_service()) {
            (true, Some(from), _) => out.push(period_dtp("AAH", from, case.approved_to)),
            (_, _, Some(from)) => {
                let to = case.request.lines.iter().filter_map(|l| l.service_to).max();
                out.push(period_dtp("AAH", from, to));
            }
            _ => {}
        }
        for (index, line) in case.lines.iter().enumerate() {
            hl(&mut out, Some(event_hl), "SS", false);
            // A separately authorized line (supportive drug) answers with its own number.
            let line_number = case.line_authorization_number(index).map(clean).unwrap_or_default();
            let explained = matches!(line.status, LineStatus::Denied | LineStatus::NotRequired | LineStatus::Pending);
            let line_reason = if explained { reason.as_str() } else { "" };
            out.push(OwnedSegment::simple("HCR", &[line.status.hcr01(), &line_number, line_reason]));
            let (from, to) = match (line.approved_from, line.approved_to) {
                (Some(from), to) => (from, to),
                _ => (line.requested.service_from, line.requested.service_to),
            };
            out.push(period_dtp("472", from, to));
            let code = clean(&line.requested.service_code);
            out.push(OwnedSegment {
                id: "SV1".into(),
                elements: vec![vec![vec![procedure_qualifier(&code).to_owned(), code]]],
            });
            if let Some(quantity) = line.approved_quantity.or(line.requested.quantity) {
                let unit = if quantity.kind == crate::domain::QuantityKind::Visits { "VS" } else { "FL" };
                out.push(OwnedSegment::simple("HSD", &[unit, &quantity.value.to_string()]));
            }
        }
    }
    let count = out.len() + 1;
    out.push(OwnedSegment::simple("SE", &[count.to_string().as_str(), st02]));
    out
}

/// The X215 response interchange to the inquiries of one inbound interchange.
pub fn write_inquiry_response_interchange(
    trees: &InterchangeTrees,
    answers: &[(&SetTree, InquiryAnswer)],
    outbound: &Outbound,
    numbers: &mut dyn ControlNumbers,
) -> Option<Vec<u8>> {
    let at = outbound.at;
    let sets: Vec<ReplySet<'_>> = answers
        .iter()
        .map(|(set, answer)| ReplySet {
            group_index: set.group_index,
            write: Box::new(move |st02: &str| write_inquiry_response(set, answer, st02, at)),
        })
        .collect();
    write_reply_interchange(trees, &sets, "HI", GUIDE_215, outbound, numbers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn procedure_codes_are_hc_and_program_codes_zz() {
        assert_eq!(procedure_qualifier("64483"), "HC");
        assert_eq!(procedure_qualifier("J9263"), "HC");
        assert_eq!(procedure_qualifier("MSMPT"), "ZZ");
        assert_eq!(procedure_qualifier("RC0061"), "ZZ");
    }

    #[test]
    fn dates_and_periods_are_read_from_dtp() {
        let dtp = |text: &str| {
            TreeSegment::new(
                &OwnedSegment::simple("DTP", &["AAH", if text.contains('-') { "RD8" } else { "D8" }, text]),
                1,
                true,
            )
        };
        let day = |d| NaiveDate::from_ymd_opt(2026, 3, d);
        assert_eq!(dates(&dtp("20260301-20260331")), day(1).zip(day(31)));
        assert_eq!(dates(&dtp("20260305")), day(5).zip(day(5)));
        assert_eq!(dates(&dtp("2026030")), None);
    }
}
