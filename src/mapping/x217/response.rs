//! 278 response (005010X217, BHT02 11) to one request: the request's hierarchy mirrored (2000A to
//! 2000F), BHT03 and the TRNs echoed (TRN01 2, a referenced trace), HCR for the event and each
//! line from the case, the approved period and quantities, and AAA business rejects at the loop
//! where the problem lies. Segments come out in the guide's order, so that our validator and
//! independent readers (x12-types) accept them.

use chrono::{NaiveDate, NaiveDateTime};

use super::error::{Location, MappingError};
use super::request::RequestLoops;
use crate::domain::rules::IntakeRejection;
use crate::domain::{Case, CaseStatus, LineStatus, Quantity, QuantityKind, ServiceLine};
use crate::mapping::tree::{LoopNode, SetTree, TreeSegment};
use crate::x12::tree::sanitize;
use crate::x12::{Delimiters, OwnedSegment};

/// The implementation guide of 278 requests and responses.
pub const GUIDE_278: &str = "005010X217";

/// What the UMO decided about one request.
#[derive(Debug, Clone, Copy)]
pub enum Decision<'a> {
    /// A case exists: its status, lines and dates are the answer.
    Case(&'a Case),
    /// The intake rejected the request before any case existed.
    Rejected(IntakeRejection),
    /// The request could not be mapped to a case at all.
    Unmapped(&'a MappingError),
    /// A request about an earlier certification answered without a case's state.
    FollowUp(&'a FollowUp),
}

/// The answer to a cancellation, extension, revision or appeal that did not change a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FollowUp {
    /// AAA at the patient event (2000E): AAA03 reject reason, AAA04 follow-up action.
    Reject { reason: &'static str, follow_up: &'static str },
    /// HCR at the patient event: HCR01 action (A3 refused, CT contact payer) and the decision
    /// reason code (HCR03) configured for the rule that decided it.
    Action { action: &'static str, reason: Option<String> },
}

/// One AAA: where, AAA03 reject reason, AAA04 follow-up action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reject {
    pub location: Location,
    pub reason: &'static str,
    pub follow_up: &'static str,
}

/// The AAA segments a decision calls for (none for a case).
pub fn rejects(request: &SetTree, decision: &Decision<'_>) -> Vec<Reject> {
    let patient =
        if RequestLoops::of(request).dependent.is_some() { Location::Dependent } else { Location::Subscriber };
    let reject = |location, reason, follow_up| Reject { location, reason, follow_up };
    match decision {
        Decision::Case(_) | Decision::FollowUp(FollowUp::Action { .. }) => Vec::new(),
        Decision::FollowUp(FollowUp::Reject { reason, follow_up }) => {
            vec![reject(Location::Event, *reason, *follow_up)]
        }
        Decision::Unmapped(error) => {
            error.problems.iter().map(|p| reject(p.location, p.kind.reject_reason(), p.kind.follow_up())).collect()
        }
        // AAA03 codes of the guide: 75 subscriber/insured not found, 71 birth date does not
        // match, 60 date of birth follows date(s) of service, 95 patient not eligible, 43 invalid/missing provider identification, 51
        // provider not on file, 15
        // required application data missing. AAA04: C correct and resubmit, N not allowed.
        Decision::Rejected(rejection) => vec![match rejection {
            IntakeRejection::MemberNotFound => reject(Location::Subscriber, "75", "C"),
            IntakeRejection::BirthDateMismatch => reject(patient, "71", "C"),
            IntakeRejection::ServiceBeforeBirth => reject(patient, "60", "C"),
            IntakeRejection::NotCoveredOnDateOfService => reject(patient, "95", "N"),
            IntakeRejection::InvalidRequestingProvider => reject(Location::Requester, "43", "C"),
            // 51 provider not on file: the requester may resubmit once on file (or with the NPI
            // that is), so C rather than N (docs/decisions/0005).
            IntakeRejection::RequesterNotOnFile => reject(Location::Requester, "51", "C"),
            IntakeRejection::NoServiceLines => reject(Location::Event, "15", "C"),
        }],
    }
}

/// The segments (ST to SE) of the response to `request`, numbered `st02`, dated `at`.
pub fn write_response(request: &SetTree, decision: &Decision<'_>, st02: &str, at: NaiveDateTime) -> Vec<OwnedSegment> {
    let rejects = rejects(request, decision);
    let mut out = SetWriter::default();
    out.push(OwnedSegment::simple("ST", &["278", st02, GUIDE_278]));
    let bht03 = request.header("BHT").map(|bht| bht.element(3)).unwrap_or("");
    let (date, time) = (at.format("%Y%m%d").to_string(), at.format("%H%M").to_string());
    out.push(OwnedSegment::simple("BHT", &["0007", "11", &clean(bht03), &date, &time, "18"]));

    let loops = RequestLoops::of(request);
    let case = match decision {
        Decision::Case(case) => Some(*case),
        _ => None,
    };
    // How deep the answer goes: a reject above the patient event stops the hierarchy there.
    let action = match decision {
        Decision::FollowUp(FollowUp::Action { action, reason }) => Some(hcr(action, "", reason.as_deref())),
        _ => None,
    };
    let answered_event = case.is_some() || action.is_some();
    let deepest = rejects.iter().map(|r| depth(r.location)).max().unwrap_or(0).max(if answered_event { 4 } else { 0 });
    let with_dependent = loops.dependent.is_some() && deepest >= 3;
    let with_event = loops.event.is_some() && deepest >= 4;
    let aaa = |location: Location| {
        rejects
            .iter()
            .filter(move |r| r.location == location)
            .map(|r| OwnedSegment::simple("AAA", &["N", "", r.reason, r.follow_up]))
    };

    // 2000A / 2010A: the UMO.
    let umo = out.hl(None, "20", true);
    if let Some(name) = request.find("2010A") {
        out.echo_all(name.segments.iter().filter(|s| matches!(s.id(), "NM1" | "PER")));
    }
    out.extend(aaa(Location::Umo));
    // 2000B / 2010B: the requester (N3, N4, PER are not part of the response's 2010B).
    let requester = out.hl(Some(umo), "21", true);
    if let Some(name) = request.find("2010B") {
        out.echo_all(name.segments.iter().filter(|s| matches!(s.id(), "NM1" | "REF")));
        out.extend(aaa(Location::Requester));
        out.echo_all(name.segments("PRV"));
    } else {
        out.extend(aaa(Location::Requester));
    }
    // 2000C / 2010C: the subscriber; 2000D / 2010D: the dependent.
    let subscriber = out.hl(Some(requester), "22", with_dependent || with_event);
    write_person(&mut out, loops.subscriber.and_then(|s| s.child("2010C")), aaa(Location::Subscriber));
    let mut parent = subscriber;
    if with_dependent {
        parent = out.hl(Some(subscriber), "23", with_event);
        write_person(&mut out, loops.dependent.and_then(|d| d.child("2010D")), aaa(Location::Dependent));
    }
    if let (true, Some(event)) = (with_event, loops.event) {
        let line_loops = loops.lines();
        let answered: Vec<usize> = match case {
            Some(_) => (0..line_loops.len()).collect(),
            None => (0..line_loops.len())
                .filter(|i| rejects.iter().any(|r| r.location == Location::ServiceLine(*i)))
                .collect(),
        };
        let event_hl = out.hl(Some(parent), "EV", !answered.is_empty());
        write_event(&mut out, event, case, action, aaa(Location::Event));
        for index in answered {
            out.hl(Some(event_hl), "SS", false);
            let line = case.and_then(|c| c.lines.get(index));
            write_line(&mut out, line_loops[index], case, line, aaa(Location::ServiceLine(index)));
        }
    }
    let count = out.segments.len() + 1;
    out.push(OwnedSegment::simple("SE", &[count.to_string().as_str(), st02]));
    out.segments
}

/// Depth of a reject's loop: 1 requester/UMO, 2 subscriber, 3 dependent, 4 event and lines.
fn depth(location: Location) -> u8 {
    match location {
        Location::Umo | Location::Requester => 1,
        Location::Subscriber => 2,
        Location::Dependent => 3,
        Location::Event | Location::ServiceLine(_) => 4,
    }
}

#[derive(Debug, Default)]
struct SetWriter {
    segments: Vec<OwnedSegment>,
    levels: u32,
}

impl SetWriter {
    fn push(&mut self, segment: OwnedSegment) {
        self.segments.push(segment);
    }

    fn extend(&mut self, segments: impl Iterator<Item = OwnedSegment>) {
        self.segments.extend(segments);
    }

    fn echo(&mut self, segment: &TreeSegment) {
        self.segments.push(echo(segment));
    }

    fn echo_all<'a>(&mut self, segments: impl Iterator<Item = &'a TreeSegment>) {
        for segment in segments {
            self.echo(segment);
        }
    }

    /// An HL numbered in order; returns its id.
    fn hl(&mut self, parent: Option<u32>, level: &str, has_child: bool) -> u32 {
        self.levels += 1;
        let parent = parent.map(|p| p.to_string()).unwrap_or_default();
        let child = if has_child { "1" } else { "0" };
        self.push(OwnedSegment::simple("HL", &[self.levels.to_string().as_str(), &parent, level, child]));
        self.levels
    }
}

/// A received segment written back with our delimiters (values that hold one are blanked).
fn echo(segment: &TreeSegment) -> OwnedSegment {
    segment.to_owned_with(|c| sanitize(c, &Delimiters::OUTBOUND))
}

fn clean(value: &str) -> String {
    sanitize(value, &Delimiters::OUTBOUND)
}

/// 2010C / 2010D: NM1, REF, N3, N4, then the AAAs, then DMG and INS (the guide's order).
fn write_person(out: &mut SetWriter, name: Option<&LoopNode>, aaa: impl Iterator<Item = OwnedSegment>) {
    let Some(name) = name else {
        out.extend(aaa);
        return;
    };
    out.echo_all(name.segments.iter().filter(|s| matches!(s.id(), "NM1" | "REF" | "N3" | "N4")));
    out.extend(aaa);
    out.echo_all(name.segments.iter().filter(|s| matches!(s.id(), "DMG" | "INS")));
}

fn d8(day: NaiveDate) -> String {
    day.format("%Y%m%d").to_string()
}

/// A DTP with a date, or a period when `to` is a later day.
fn dtp(qualifier: &str, from: NaiveDate, to: Option<NaiveDate>) -> OwnedSegment {
    match to.filter(|to| *to != from) {
        Some(to) => OwnedSegment::simple("DTP", &[qualifier, "RD8", &format!("{}-{}", d8(from), d8(to))]),
        None => OwnedSegment::simple("DTP", &[qualifier, "D8", &d8(from)]),
    }
}

/// Sorts DTPs into the order the guide lists them at a level.
fn in_guide_order(dtps: &mut [OwnedSegment], order: &[&str]) {
    let rank = |s: &OwnedSegment| {
        let qualifier = s.elements.first().and_then(|e| e.first()).and_then(|r| r.first()).map_or("", String::as_str);
        order.iter().position(|q| *q == qualifier).unwrap_or(order.len())
    };
    dtps.sort_by_key(rank);
}

/// TRNs of the request, echoed as referenced traces (TRN01 2).
fn echo_traces(out: &mut SetWriter, level: &LoopNode) {
    for trn in level.segments("TRN") {
        let mut segment = echo(trn);
        if let Some(first) = segment.elements.first_mut() {
            *first = vec![vec!["2".to_owned()]];
        }
        out.push(segment);
    }
}

/// 2000E: TRN, AAA, UM, HCR, REF, DTP, HI, HSD, CRC/CL1/CR*, then the provider loops.
fn write_event(
    out: &mut SetWriter,
    event: &LoopNode,
    case: Option<&Case>,
    action: Option<OwnedSegment>,
    aaa: impl Iterator<Item = OwnedSegment>,
) {
    const DTP_ORDER: [&str; 10] = ["439", "484", "ABC", "431", "AAH", "435", "096", "102", "036", "007"];
    echo_traces(out, event);
    out.extend(aaa);
    out.echo_all(event.segments("UM"));
    if let Some(case) = case {
        if let Some(hcr01) = case.hcr01() {
            let certification = case.authorization_number.as_deref().map(clean).unwrap_or_default();
            out.push(hcr(hcr01, &certification, case.reason_code()));
        }
    }
    out.extend(action.into_iter());
    out.echo_all(event.segments_with("REF", 1, "BB"));
    if let Some(case) = case {
        out.push(OwnedSegment::simple("REF", &["NT", &clean(&case.id)]));
    }
    // The request's dates are echoed (the event date stays the requested one); a certification
    // adds its issue date (102), effective period (007) and expiration date (036):
    // docs/decisions/0005-separate-authorizations-and-certified-dates.md.
    let mut dtps: Vec<OwnedSegment> = event
        .segments("DTP")
        .filter(|d| DTP_ORDER.contains(&d.element(1)) && !CERTIFICATION_DATES.contains(&d.element(1)))
        .map(echo)
        .collect();
    if let Some(case) = case.filter(|c| c.status.is_certified()) {
        let issued = case.determination.as_ref().map(|d| d.decided_at.date_naive());
        dtps.extend(certification_dates(issued, case.approved_from, case.approved_to));
    }
    in_guide_order(&mut dtps, &DTP_ORDER);
    out.extend(dtps.into_iter());
    out.echo_all(
        event
            .segments
            .iter()
            .filter(|s| matches!(s.id(), "HI" | "HSD" | "CRC" | "CL1" | "CR1" | "CR2" | "CR5" | "CR6")),
    );
    // A denial says why (MSG01: free text, at most 264 characters).
    let rationale =
        case.filter(|c| c.status == CaseStatus::Denied).and_then(|c| c.determination.as_ref()?.rationale.as_deref());
    if let Some(rationale) = rationale.map(clean).filter(|r| !r.is_empty()) {
        out.push(OwnedSegment::simple("MSG", &[rationale.chars().take(264).collect::<String>()]));
    }
    for provider in event.children.iter().filter(|l| matches!(l.id.as_str(), "2010EA" | "2010EB" | "2010EC")) {
        out.echo_all(provider.segments.iter());
    }
}

/// The qualifiers of the certification's own dates (issue, expiration, effective), never echoed.
const CERTIFICATION_DATES: [&str; 3] = ["102", "036", "007"];

/// DTP 102 certification issue date, 007 certification effective date (the certified period, a
/// date or RD8 period) and 036 certification expiration date (its last day).
fn certification_dates(issued: Option<NaiveDate>, from: Option<NaiveDate>, to: Option<NaiveDate>) -> Vec<OwnedSegment> {
    let mut dates = Vec::with_capacity(3);
    if let Some(issued) = issued {
        dates.push(dtp("102", issued, None));
    }
    if let Some(from) = from {
        dates.push(dtp("007", from, to));
        dates.push(dtp("036", to.unwrap_or(from), None));
    }
    dates
}

/// HCR01 action, HCR02 certification number, HCR03 decision reason (code source 886) when given.
fn hcr(action: &str, certification: &str, reason: Option<&str>) -> OwnedSegment {
    match reason.map(clean).filter(|r| !r.is_empty()) {
        Some(reason) => OwnedSegment::simple("HCR", &[action, certification, &reason]),
        None => OwnedSegment::simple("HCR", &[action, certification]),
    }
}

fn hsd(quantity: Quantity) -> OwnedSegment {
    let unit = match quantity.kind {
        QuantityKind::Visits => "VS",
        // The guide has no code for fractions or phases: they are counted as units.
        QuantityKind::Units | QuantityKind::Fractions | QuantityKind::Phases => "FL",
    };
    OwnedSegment::simple("HSD", &[unit, &quantity.value.to_string()])
}

/// 2000F: TRN, AAA, UM, HCR, REF, DTP, SV1/SV2/SV3, TOO, HSD, then the provider loops.
fn write_line(
    out: &mut SetWriter,
    line: &LoopNode,
    case: Option<&Case>,
    outcome: Option<&ServiceLine>,
    aaa: impl Iterator<Item = OwnedSegment>,
) {
    const DTP_ORDER: [&str; 4] = ["472", "102", "036", "007"];
    echo_traces(out, line);
    out.extend(aaa);
    out.echo_all(line.segments("UM"));
    let certified = outcome.filter(|l| l.is_certified());
    if let Some(outcome) = outcome {
        // A separately authorized line (supportive drug) has its own number; others the case's.
        let number = outcome.authorization_number.as_deref().or(case.and_then(|c| c.authorization_number.as_deref()));
        let certification = match (certified, number) {
            (Some(_), Some(number)) => clean(number),
            _ => String::new(),
        };
        // A line not certified, not required or pending says why, as the case does.
        let reason = case
            .and_then(Case::reason_code)
            .filter(|_| matches!(outcome.status, LineStatus::Denied | LineStatus::NotRequired | LineStatus::Pending));
        out.push(hcr(outcome.status.hcr01(), &certification, reason));
    }
    out.echo_all(line.segments_with("REF", 1, "BB"));
    let mut dtps: Vec<OwnedSegment> = line
        .segments("DTP")
        .filter(|d| DTP_ORDER.contains(&d.element(1)) && !CERTIFICATION_DATES.contains(&d.element(1)))
        .map(echo)
        .collect();
    if let Some(certified) = certified {
        let from = certified.approved_from.or(case.and_then(|c| c.approved_from));
        let to = certified.approved_to.or(case.and_then(|c| c.approved_to));
        let issued = case.and_then(|c| c.determination.as_ref()).map(|d| d.decided_at.date_naive());
        dtps.extend(certification_dates(issued, from, to));
    }
    in_guide_order(&mut dtps, &DTP_ORDER);
    out.extend(dtps.into_iter());
    out.echo_all(line.segments.iter().filter(|s| matches!(s.id(), "SV1" | "SV2" | "SV3" | "TOO")));
    match certified.and_then(|l| l.approved_quantity) {
        Some(quantity) => out.push(hsd(quantity)),
        None => out.echo_all(line.segments("HSD")),
    }
    for provider in line.loops("2010F") {
        out.echo_all(provider.segments.iter());
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, d).unwrap()
    }

    fn text(segment: &OwnedSegment) -> String {
        let mut out = Vec::new();
        segment.write(&Delimiters::OUTBOUND, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn one_day_is_a_date_and_several_a_period() {
        assert_eq!(text(&dtp("472", day(3), None)), "DTP*472*D8*20260303");
        assert_eq!(text(&dtp("472", day(3), Some(day(3)))), "DTP*472*D8*20260303");
        assert_eq!(text(&dtp("AAH", day(3), Some(day(9)))), "DTP*AAH*RD8*20260303-20260309");
    }

    #[test]
    fn a_certification_has_its_issue_effective_and_expiration_dates() {
        let texts = |dates: Vec<OwnedSegment>| dates.iter().map(text).collect::<Vec<_>>();
        assert_eq!(
            texts(certification_dates(Some(day(4)), Some(day(3)), Some(day(31)))),
            ["DTP*102*D8*20260304", "DTP*007*RD8*20260303-20260331", "DTP*036*D8*20260331"]
        );
        // One day: effective and expiring that day.
        assert_eq!(
            texts(certification_dates(None, Some(day(3)), None)),
            ["DTP*007*D8*20260303", "DTP*036*D8*20260303"]
        );
        assert!(certification_dates(None, None, None).is_empty());
    }

    #[test]
    fn dates_come_out_in_the_guides_order() {
        let mut dtps = vec![dtp("102", day(4), None), dtp("AAH", day(3), None), dtp("435", day(5), None)];
        in_guide_order(&mut dtps, &["439", "AAH", "435", "102"]);
        let order: Vec<String> = dtps.iter().map(|d| d.elements[0][0][0].clone()).collect();
        assert_eq!(order, ["AAH", "435", "102"]);
    }

    #[test]
    fn approved_quantities_are_visits_or_units() {
        assert_eq!(text(&hsd(Quantity { kind: QuantityKind::Visits, value: 12 })), "HSD*VS*12");
        assert_eq!(text(&hsd(Quantity { kind: QuantityKind::Fractions, value: 28 })), "HSD*FL*28");
    }

    #[test]
    fn echoed_values_never_carry_our_delimiters() {
        let received = TreeSegment::new(&OwnedSegment::simple("NM1", &["IL", "1", "O*BRIEN~X"]), 1, true);
        assert_eq!(text(&echo(&received)), "NM1*IL*1*O BRIEN X");
    }
}
