//! 278 request (005010X217) → `CaseRequest`: reads the loops of a validated set through the tree
//! views. Syntax was judged by the validator already; what is left here is business content that
//! the guide allows to be absent but the UM intake needs, reported as typed problems per loop.

use chrono::NaiveDate;

use super::error::{Location, MappingError, Problem, ProblemKind};
use crate::domain::{
    Address, Attachment, CaseRequest, MemberRef, Quantity, QuantityKind, RenderingProvider, RequestCategory,
    RequestedLine, RequestingProvider, TraceNumber, Urgency,
};
use crate::mapping::tree::{LoopNode, SetTree, TreeSegment};

/// HI qualifiers of ICD diagnoses: principal (ABK/BK) and the others (DR, a DRG, is not one).
const PRINCIPAL_DIAGNOSIS: [&str; 2] = ["ABK", "BK"];
const OTHER_DIAGNOSIS: [&str; 8] = ["ABF", "ABJ", "ABN", "APR", "BF", "BJ", "BN", "PR"];

/// The entity codes of a site of service in 2010EA / 2010F, most specific first: facility,
/// service location, servicing (rendering) provider.
const SITE_OF_SERVICE: [&str; 3] = ["FA", "77", "SJ"];

/// The loops a request is read from: the set, then 2000E under the subscriber or the dependent.
#[derive(Debug, Clone, Copy)]
pub struct RequestLoops<'t> {
    pub requester: Option<&'t LoopNode>,
    pub subscriber: Option<&'t LoopNode>,
    pub dependent: Option<&'t LoopNode>,
    pub event: Option<&'t LoopNode>,
}

impl<'t> RequestLoops<'t> {
    pub fn of(tree: &'t SetTree) -> Self {
        let subscriber = tree.find("2000C");
        let dependent = subscriber.and_then(|s| s.child("2000D"));
        let event = dependent.and_then(|d| d.child("2000E")).or_else(|| subscriber.and_then(|s| s.child("2000E")));
        RequestLoops { requester: tree.find("2000B"), subscriber, dependent, event }
    }

    /// The 2000F loops of the event, in document order.
    pub fn lines(&self) -> Vec<&'t LoopNode> {
        self.event.map(|e| e.loops("2000F").collect()).unwrap_or_default()
    }
}

/// Maps a validated 278 request to the domain's intake input.
pub fn read_request(tree: &SetTree) -> Result<CaseRequest, MappingError> {
    let loops = RequestLoops::of(tree);
    let mut problems = Vec::new();
    let mut problem = |location, kind| problems.push(Problem { location, kind });

    let subscriber_name = loops.subscriber.and_then(|s| s.child("2010C"));
    let member_id = subscriber_name.and_then(|n| n.segment("NM1")).map(|nm1| nm1.element(9)).unwrap_or("");
    if member_id.is_empty() {
        problem(Location::Subscriber, ProblemKind::MissingMemberId);
    }
    // The patient's date of birth: the dependent's when the patient is a dependent.
    let (patient_name, patient_location) = match loops.dependent.and_then(|d| d.child("2010D")) {
        Some(dependent) => (Some(dependent), Location::Dependent),
        None => (subscriber_name, Location::Subscriber),
    };
    let birth_date = match patient_name.and_then(|n| n.segment("DMG")).map(|dmg| dmg.element(2)) {
        None | Some("") => {
            problem(patient_location, ProblemKind::MissingBirthDate);
            None
        }
        Some(text) => {
            let parsed = parse_date(text);
            if parsed.is_none() {
                problem(patient_location, ProblemKind::InvalidBirthDate);
            }
            parsed
        }
    };

    let requesting_provider = read_requester(loops.requester.and_then(|r| r.child("2010B")));
    if requesting_provider.npi.is_empty() {
        problem(Location::Requester, ProblemKind::MissingRequesterNpi);
    }

    let Some(event) = loops.event else {
        problem(Location::Subscriber, ProblemKind::NoPatientEvent);
        return Err(MappingError { problems });
    };
    let event_um = event.segment("UM");
    let event_dates = match event_period(event) {
        Ok(dates) => dates,
        Err(kind) => {
            problem(Location::Event, kind);
            None
        }
    };
    let line_loops = loops.lines();
    let event_quantity = match event.segment("HSD").map(hsd_quantity).transpose() {
        Ok(quantity) => quantity.flatten(),
        Err(kind) => {
            problem(Location::Event, kind);
            None
        }
    };
    // An event-level request (an admission, a referral without procedures) is one line whose code
    // is the UM03 service type: programs route by procedure codes, so it reaches the exemptions
    // (inpatient, emergency) or "no program covers it" instead of being refused.
    let event_line = match (line_loops.is_empty(), event_um.map(|um| um.element(3)).filter(|c| !c.is_empty())) {
        (false, _) => None,
        (true, None) => {
            problem(Location::Event, ProblemKind::NoServiceLines);
            None
        }
        (true, Some(service_type)) => match event_dates {
            Some((service_from, service_to)) => Some((service_type.to_owned(), service_from, service_to)),
            None => {
                problem(Location::Event, ProblemKind::MissingDateOfService);
                None
            }
        },
    };
    let mut lines = Vec::new();
    for (index, line) in line_loops.iter().enumerate() {
        let location = Location::ServiceLine(index);
        let mut line_problem = |kind| problem(location, kind);
        let (service_code, revenue_code, service_quantity) = match service(line) {
            Ok(Some(found)) => found,
            Ok(None) => {
                line_problem(ProblemKind::MissingProcedureCode);
                continue;
            }
            Err(kind) => {
                line_problem(kind);
                continue;
            }
        };
        let dates = match line.segment_with("DTP", 1, "472").map(period).transpose() {
            Ok(Some(dates)) => Some(dates),
            Ok(None) => event_dates,
            Err(kind) => {
                line_problem(kind);
                continue;
            }
        };
        let Some((service_from, service_to)) = dates else {
            line_problem(ProblemKind::MissingDateOfService);
            continue;
        };
        let quantity = match line.segment("HSD").map(hsd_quantity).transpose() {
            Ok(Some(Some(quantity))) => Some(quantity),
            Ok(_) => service_quantity.or(if line_loops.len() == 1 { event_quantity } else { None }),
            Err(kind) => {
                line_problem(kind);
                continue;
            }
        };
        let um = line.segment("UM").or(event_um);
        let facility = |qualifier: &str| {
            um.filter(|um| um.component(4, 2) == qualifier && !um.component(4, 1).is_empty())
                .map(|um| um.component(4, 1).to_owned())
        };
        lines.push(RequestedLine {
            service_code,
            quantity,
            service_from,
            service_to,
            place_of_service: facility("B"),
            bill_type: facility("A"),
            revenue_code,
        });
    }

    if let Some((service_code, service_from, service_to)) = event_line {
        let facility = |qualifier: &str| {
            event_um
                .filter(|um| um.component(4, 2) == qualifier && !um.component(4, 1).is_empty())
                .map(|um| um.component(4, 1).to_owned())
        };
        lines.push(RequestedLine {
            service_code,
            quantity: event_quantity,
            service_from,
            service_to,
            place_of_service: facility("B"),
            bill_type: facility("A"),
            revenue_code: None,
        });
    }
    if !problems.is_empty() {
        return Err(MappingError { problems });
    }
    let Some(birth_date) = birth_date else { return Err(MappingError { problems }) };
    Ok(CaseRequest {
        member: MemberRef { member_id: member_id.to_owned(), birth_date },
        requesting_provider,
        rendering_provider: rendering_provider(event, &line_loops),
        diagnoses: diagnoses(event),
        lines,
        urgency: urgency(event_um),
        category: category(tree, event_um),
        attachments: std::iter::once(event).chain(line_loops.iter().copied()).flat_map(attachments).collect(),
        trace_numbers: event
            .segments("TRN")
            .map(|trn| TraceNumber { originator: trn.element(3).to_owned(), value: trn.element(2).to_owned() })
            .collect(),
    })
}

/// CCYYMMDD.
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    if text.len() != 8 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    NaiveDate::parse_from_str(text, "%Y%m%d").ok()
}

/// A DTP's date (D8) or period (RD8), as (from, to).
fn period(dtp: &TreeSegment) -> Result<(NaiveDate, Option<NaiveDate>), ProblemKind> {
    let text = dtp.element(3);
    let invalid = ProblemKind::InvalidDateOfService;
    match dtp.element(2) {
        "RD8" => {
            let (from, to) = text.split_once('-').ok_or(invalid)?;
            let (from, to) = (parse_date(from).ok_or(invalid)?, parse_date(to).ok_or(invalid)?);
            if to < from {
                return Err(invalid);
            }
            Ok((from, Some(to)))
        }
        _ => Ok((parse_date(text).ok_or(invalid)?, None)),
    }
}

/// The event's dates for lines that carry none: the event date (AAH), else the admission (435).
fn event_period(event: &LoopNode) -> Result<Option<(NaiveDate, Option<NaiveDate>)>, ProblemKind> {
    let dtp = event.segment_with("DTP", 1, "AAH").or_else(|| event.segment_with("DTP", 1, "435"));
    dtp.map(period).transpose()
}

/// A whole, positive quantity (X12 R: "4", "4.0").
fn whole(text: &str) -> Result<u32, ProblemKind> {
    let value: f64 = text.trim().parse().map_err(|_| ProblemKind::InvalidQuantity)?;
    if value.fract() != 0.0 || value < 1.0 || value > f64::from(u32::MAX) {
        return Err(ProblemKind::InvalidQuantity);
    }
    Ok(value as u32)
}

/// HSD01/HSD02 as a quantity the domain counts (visits; units): days, hours and months are not
/// quantities a UM line is approved in, so they are left out (`None`).
fn hsd_quantity(hsd: &TreeSegment) -> Result<Option<Quantity>, ProblemKind> {
    let kind = match hsd.element(1) {
        "VS" => QuantityKind::Visits,
        "FL" => QuantityKind::Units,
        _ => return Ok(None),
    };
    if hsd.is_empty(2) {
        return Ok(None);
    }
    Ok(Some(Quantity { kind, value: whole(hsd.element(2))? }))
}

/// The line's service: (procedure or program code, revenue code, quantity of the service
/// segment) from SV1 (professional), SV2 (institutional) or SV3 (dental).
type Service = (String, Option<String>, Option<Quantity>);

fn service(line: &LoopNode) -> Result<Option<Service>, ProblemKind> {
    let units = |unit: &str, value: &str| -> Result<Option<Quantity>, ProblemKind> {
        if unit != "UN" || value.is_empty() {
            return Ok(None);
        }
        Ok(Some(Quantity { kind: QuantityKind::Units, value: whole(value)? }))
    };
    let non_empty = |text: &str| if text.is_empty() { None } else { Some(text.to_owned()) };
    if let Some(sv1) = line.segment("SV1") {
        let quantity = units(sv1.element(3), sv1.element(4))?;
        return Ok(non_empty(sv1.component(1, 2)).map(|code| (code, None, quantity)));
    }
    if let Some(sv2) = line.segment("SV2") {
        let quantity = units(sv2.element(4), sv2.element(5))?;
        let revenue = non_empty(sv2.element(1));
        let code = non_empty(sv2.component(2, 2)).or_else(|| revenue.clone());
        return Ok(code.map(|code| (code, revenue, quantity)));
    }
    if let Some(sv3) = line.segment("SV3") {
        let quantity = if sv3.is_empty(6) {
            None
        } else {
            Some(Quantity { kind: QuantityKind::Units, value: whole(sv3.element(6))? })
        };
        return Ok(non_empty(sv3.component(1, 2)).map(|code| (code, None, quantity)));
    }
    Ok(None)
}

fn person_or_organization(nm1: &TreeSegment) -> Option<String> {
    let name = match nm1.element(2) {
        "1" if !nm1.is_empty(4) => format!("{} {}", nm1.element(4), nm1.element(3)),
        _ => nm1.element(3).to_owned(),
    };
    let name = name.trim().to_owned();
    if name.is_empty() { None } else { Some(name) }
}

fn npi(nm1: &TreeSegment) -> String {
    if nm1.element(8) == "XX" { nm1.element(9).to_owned() } else { String::new() }
}

fn tin(name_loop: &LoopNode) -> Option<String> {
    name_loop.segment_with("REF", 1, "EI").map(|r| r.element(2).to_owned()).filter(|t| !t.is_empty())
}

fn read_requester(name_loop: Option<&LoopNode>) -> RequestingProvider {
    let Some(name_loop) = name_loop else { return RequestingProvider::default() };
    let Some(nm1) = name_loop.segment("NM1") else { return RequestingProvider::default() };
    let contact = |qualifier: &str| {
        name_loop.segments("PER").find_map(|per| {
            [(3, 4), (5, 6), (7, 8)]
                .into_iter()
                .find(|(q, v)| per.element(*q) == qualifier && !per.is_empty(*v))
                .map(|(_, v)| per.element(v).to_owned())
        })
    };
    RequestingProvider {
        npi: npi(nm1),
        tin: tin(name_loop),
        name: person_or_organization(nm1),
        phone: contact("TE"),
        fax: contact("FX"),
    }
}

fn address(name_loop: &LoopNode) -> Option<Address> {
    let n3 = name_loop.segment("N3")?;
    let n4 = name_loop.segment("N4");
    let text = |s: Option<&TreeSegment>, n| s.map(|s| s.element(n).to_owned()).unwrap_or_default();
    Some(Address {
        line1: n3.element(1).to_owned(),
        line2: Some(n3.element(2).to_owned()).filter(|l| !l.is_empty()),
        city: text(n4, 1),
        state: text(n4, 2),
        postal_code: text(n4, 3),
    })
}

/// The site of service: a facility, service location or servicing provider of the event
/// (2010EA), else of the first line that names one (2010F).
fn rendering_provider(event: &LoopNode, lines: &[&LoopNode]) -> Option<RenderingProvider> {
    fn pick<'t>(parent: &'t LoopNode, loop_id: &str) -> Option<&'t LoopNode> {
        SITE_OF_SERVICE.iter().find_map(|entity| {
            parent
                .children
                .iter()
                .find(|l| l.id == loop_id && l.segment("NM1").is_some_and(|nm1| nm1.element(1) == *entity))
        })
    }
    let name_loop = pick(event, "2010EA").or_else(|| lines.iter().find_map(|line| pick(line, "2010F")))?;
    let nm1 = name_loop.segment("NM1")?;
    Some(RenderingProvider {
        npi: npi(nm1),
        tin: tin(name_loop),
        name: person_or_organization(nm1),
        address: address(name_loop),
    })
}

/// ICD codes of the event's HI, principal first, as sent (without the dot).
fn diagnoses(event: &LoopNode) -> Vec<String> {
    let mut principal = Vec::new();
    let mut others = Vec::new();
    for hi in event.segments("HI") {
        for n in 1..=hi.element_count() {
            let (qualifier, code) = (hi.component(n, 1), hi.component(n, 2));
            if code.is_empty() {
                continue;
            }
            if PRINCIPAL_DIAGNOSIS.contains(&qualifier) {
                principal.push(code.to_owned());
            } else if OTHER_DIAGNOSIS.contains(&qualifier) {
                others.push(code.to_owned());
            }
        }
    }
    principal.extend(others);
    principal
}

/// UM06 level of service: U (urgent) and 03 (emergency) ask for the urgent clock.
fn urgency(um: Option<&TreeSegment>) -> Urgency {
    match um.map(|um| um.element(6)) {
        Some("U" | "03") => Urgency::Urgent,
        _ => Urgency::Standard,
    }
}

/// BHT02 01 is a cancellation; otherwise UM02, the certification type.
fn category(tree: &SetTree, um: Option<&TreeSegment>) -> RequestCategory {
    if tree.header("BHT").is_some_and(|bht| bht.element(2) == "01") {
        return RequestCategory::Cancel;
    }
    match um.map(|um| um.element(2)) {
        Some("R") => RequestCategory::Renewal,
        Some("S") => RequestCategory::Revised,
        Some("4") => RequestCategory::Extension,
        Some("3") => RequestCategory::Cancel,
        Some("1" | "2") => RequestCategory::Appeal,
        _ => RequestCategory::Initial,
    }
}

fn attachments(level: &LoopNode) -> Vec<Attachment> {
    level
        .segments("PWK")
        .map(|pwk| Attachment {
            report_type: pwk.element(1).to_owned(),
            transmission: pwk.element(2).to_owned(),
            control_id: pwk.element(6).to_owned(),
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::grammar::GuideSet;
    use crate::mapping::tree::read_trees;

    /// A request around `event` (2000E content after HL) and `lines` (2000F contents after HL).
    fn request(subscriber_dmg: &str, event: &[&str], lines: &[&[&str]]) -> SetTree {
        let mut segments = vec![
            "ST*278*0001*005010X217".to_owned(),
            "BHT*0007*13*R1*20260304*0900".into(),
            "HL*1**20*1".into(),
            "NM1*X3*2*UMO*****PI*U1".into(),
            "HL*2*1*21*1".into(),
            "NM1*1P*2*CLINIC*****XX*1234567893".into(),
            "HL*3*2*22*1".into(),
            "NM1*IL*1*DOE*JANE****MI*M1".into(),
        ];
        if !subscriber_dmg.is_empty() {
            segments.push(subscriber_dmg.into());
        }
        segments.push(format!("HL*4*3*EV*{}", if lines.is_empty() { 0 } else { 1 }));
        segments.extend(event.iter().map(|s| s.to_string()));
        for (n, line) in lines.iter().enumerate() {
            segments.push(format!("HL*{}*4*SS*0", n + 5));
            segments.extend(line.iter().map(|s| s.to_string()));
        }
        segments.push(format!("SE*{}*0001", segments.len() + 1));
        let text = format!(
            "ISA*00*          *00*          *ZZ*S              *ZZ*R              *260304*0900*^*00501*000000001*0*P*:~\
             GS*HI*S*R*20260304*0900*1*X*005010X217~{}~GE*1*1~IEA*1*000000001~",
            segments.join("~")
        );
        let mut interchanges = read_trees(text.as_bytes(), "t", GuideSet::builtin().unwrap()).unwrap();
        let set = interchanges.remove(0).sets.into_iter().next();
        set.unwrap_or_else(|| panic!("rejected: {text}"))
    }

    #[test]
    fn quantities_are_whole_positive_numbers() {
        assert_eq!(whole("4"), Ok(4));
        assert_eq!(whole("4.0"), Ok(4));
        assert_eq!(whole("2.5"), Err(ProblemKind::InvalidQuantity));
        assert_eq!(whole("0"), Err(ProblemKind::InvalidQuantity));
    }

    #[test]
    fn a_line_takes_its_own_dates_and_visits_else_the_events() {
        let tree = request(
            "DMG*D8*19700101*F",
            &["UM*HS*4*1*11:B**U", "DTP*AAH*RD8*20260310-20260410", "HI*ABF:M545*ABK:M5416"],
            &[&["SV1*ZZ:MSMPT**UN*3", "HSD*VS*12"], &["DTP*472*D8*20260320", "SV1*HC:97110**UN*2"]],
        );
        let request = read_request(&tree).unwrap();
        assert_eq!(request.category, RequestCategory::Extension);
        assert_eq!(request.urgency, Urgency::Urgent);
        assert_eq!(request.diagnoses, ["M5416", "M545"], "principal first");
        let first = &request.lines[0];
        assert_eq!(first.quantity, Some(Quantity { kind: QuantityKind::Visits, value: 12 }));
        assert_eq!((first.service_from, first.service_to), (parse_date("20260310").unwrap(), parse_date("20260410")));
        let second = &request.lines[1];
        assert_eq!(second.quantity, Some(Quantity { kind: QuantityKind::Units, value: 2 }));
        assert_eq!((second.service_from, second.service_to), (parse_date("20260320").unwrap(), None));
        assert_eq!(second.place_of_service.as_deref(), Some("11"));
    }

    #[test]
    fn missing_business_values_are_reported_at_their_loops() {
        let tree = request("", &["UM*HS*I*1*11:B"], &[&["SV1*HC:20610**UN*1.5"], &["DTP*472*D8*20260320"]]);
        let error = read_request(&tree).unwrap_err();
        let found: Vec<(Location, ProblemKind)> = error.problems.iter().map(|p| (p.location, p.kind)).collect();
        assert_eq!(
            found,
            [
                (Location::Subscriber, ProblemKind::MissingBirthDate),
                (Location::ServiceLine(0), ProblemKind::InvalidQuantity),
                (Location::ServiceLine(1), ProblemKind::MissingProcedureCode),
            ]
        );
        // No protected health information in the message.
        assert!(!error.to_string().contains("M1"), "{error}");
    }

    #[test]
    fn an_event_level_request_is_one_line_of_its_service_type() {
        let tree = request("DMG*D8*19700101*F", &["UM*AR*I*48*11:A", "DTP*435*D8*20260310", "HSD*VS*2"], &[]);
        let line = read_request(&tree).unwrap().lines.remove(0);
        assert_eq!((line.service_code.as_str(), line.bill_type.as_deref()), ("48", Some("11")));
        assert_eq!(line.quantity, Some(Quantity { kind: QuantityKind::Visits, value: 2 }));
        // Without a service type or a date there is nothing to review.
        let tree = request("DMG*D8*19700101*F", &["UM*SC*I**11:B"], &[]);
        let kinds: Vec<ProblemKind> = read_request(&tree).unwrap_err().problems.iter().map(|p| p.kind).collect();
        assert_eq!(kinds, [ProblemKind::NoServiceLines]);
        let tree = request("DMG*D8*19700101*F", &["UM*SC*I*3*11:B"], &[]);
        let kinds: Vec<ProblemKind> = read_request(&tree).unwrap_err().problems.iter().map(|p| p.kind).collect();
        assert_eq!(kinds, [ProblemKind::MissingDateOfService]);
        assert_eq!(ProblemKind::NoServiceLines.reject_reason(), "15");
    }
}
