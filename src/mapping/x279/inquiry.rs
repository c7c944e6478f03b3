//! The 270 (005010X279A1) read into an `Inquiry`: who asks (2100B), whom they ask (2100A), and
//! for each subscriber (2000C/2100C) and dependent (2000D/2100D) the identifiers, the date of
//! birth, the date the question is about and the service types asked for. Values are taken as
//! sent; judging them (unknown member, bad date of birth) is the eligibility decision's job, so
//! that every problem becomes an AAA at the right loop instead of a mapping failure.

use chrono::NaiveDate;

use super::MappingError;
use crate::mapping::tree::{LoopNode, SetTree, TreeSegment};
use crate::x12::OwnedSegment;

/// One 270 transaction set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inquiry {
    /// ST02 of the 270 (for logs and file names; not PHI).
    pub control_number: String,
    /// BHT03: the submitter's reference, echoed in the 271's BHT03.
    pub reference: String,
    pub sources: Vec<SourceInquiry>,
}

/// 2000A: an information source (the UMO or payer asked) and the receivers asking it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceInquiry {
    /// 2100A NM1 as received (echoed in the 271).
    pub name: OwnedSegment,
    pub receivers: Vec<ReceiverInquiry>,
}

/// 2000B: an information receiver (the provider asking) and its subscribers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiverInquiry {
    /// 2100B NM1, REF, N3, N4, PRV as received (the 271's 2100B allows the same segments).
    pub segments: Vec<OwnedSegment>,
    pub subscribers: Vec<SubscriberInquiry>,
}

/// 2000C: one subscriber, and the dependents asked about under it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriberInquiry {
    pub person: PersonInquiry,
    pub dependents: Vec<PersonInquiry>,
}

/// The person of a 2000C or 2000D loop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonInquiry {
    /// TRN segments of the loop (TRN01 `1`, from the submitter), in order.
    pub traces: Vec<Trace>,
    /// NM1 as received.
    pub name: OwnedSegment,
    /// Subscriber: NM109 with NM108 `MI`/`II`. Dependent: a `REF*1W` (member identification
    /// number), for a dependent who has an identifier of their own on the roster.
    pub member_id: Option<String>,
    pub birth_date: Given<NaiveDate>,
    /// DMG03 as sent.
    pub gender: Option<String>,
    /// DTP*291 of the name loop, else of the first EQ loop that has one: the day the question is
    /// about (the first day of a range). `Missing`: the day of processing, as the guide says.
    pub date_of_service: Given<NaiveDate>,
    /// EQ01 service type codes of every EQ loop, in order, without repeats.
    pub service_types: Vec<String>,
}

/// A value the 270 may send, leave out, or send in a form that cannot be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Given<T> {
    Missing,
    Invalid,
    Value(T),
}

impl<T: Copy> Given<T> {
    pub fn value(&self) -> Option<T> {
        match self {
            Given::Value(value) => Some(*value),
            _ => None,
        }
    }
}

/// 270 TRN: trace type, trace number, originating company, optional supplemental reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trace {
    pub number: String,
    pub originator: String,
    pub reference: Option<String>,
}

/// Reads a validated 270 (`set.transaction` `inquiry` of guide 005010X279A1).
pub fn read_inquiry(set: &SetTree) -> Result<Inquiry, MappingError> {
    if set.guide != super::GUIDE || set.transaction != "inquiry" {
        return Err(MappingError::NotAnInquiry { guide: set.guide.clone(), transaction: set.transaction.clone() });
    }
    let reference = set.header("BHT").map(|bht| bht.element(3).to_owned()).unwrap_or_default();
    let sources = set.root.loops("2000A").map(read_source).collect::<Result<Vec<_>, _>>()?;
    if sources.is_empty() {
        return Err(MappingError::MissingLoop("2000A"));
    }
    Ok(Inquiry { control_number: set.st02.clone(), reference, sources })
}

fn read_source(source: &LoopNode) -> Result<SourceInquiry, MappingError> {
    let name = source.child("2100A").and_then(|l| l.segment("NM1")).ok_or(MappingError::MissingLoop("2100A"))?;
    let receivers = source.loops("2000B").map(read_receiver).collect::<Result<Vec<_>, _>>()?;
    Ok(SourceInquiry { name: name.to_owned_segment(), receivers })
}

fn read_receiver(receiver: &LoopNode) -> Result<ReceiverInquiry, MappingError> {
    let name_loop = receiver.child("2100B").ok_or(MappingError::MissingLoop("2100B"))?;
    let segments = name_loop
        .segments
        .iter()
        .filter(|s| s.placed && matches!(s.id(), "NM1" | "REF" | "N3" | "N4" | "PRV"))
        .map(|s| s.to_owned_segment())
        .collect();
    let subscribers = receiver.loops("2000C").map(read_subscriber).collect::<Result<Vec<_>, _>>()?;
    Ok(ReceiverInquiry { segments, subscribers })
}

fn read_subscriber(subscriber: &LoopNode) -> Result<SubscriberInquiry, MappingError> {
    let person = read_person(subscriber, "2100C", "2110C", |nm1, _| {
        matches!(nm1.element(8), "MI" | "II").then(|| nm1.element(9).trim().to_owned()).filter(|id| !id.is_empty())
    })?;
    let dependents = subscriber
        .loops("2000D")
        .map(|dependent| {
            read_person(dependent, "2100D", "2110D", |_, name_loop| {
                name_loop
                    .segment_with("REF", 1, "1W")
                    .map(|r| r.element(2).trim().to_owned())
                    .filter(|id| !id.is_empty())
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(SubscriberInquiry { person, dependents })
}

fn read_person(
    level: &LoopNode,
    name_id: &'static str,
    benefit_id: &str,
    member_id: impl Fn(&TreeSegment, &LoopNode) -> Option<String>,
) -> Result<PersonInquiry, MappingError> {
    let name_loop = level.child(name_id).ok_or(MappingError::MissingLoop(name_id))?;
    let nm1 = name_loop.segment("NM1").ok_or(MappingError::MissingLoop(name_id))?;
    let traces = level
        .segments("TRN")
        .map(|trn| Trace {
            number: trn.element(2).to_owned(),
            originator: trn.element(3).to_owned(),
            reference: Some(trn.element(4).to_owned()).filter(|r| !r.is_empty()),
        })
        .collect();
    let birth_date = match name_loop.segment("DMG") {
        None => Given::Missing,
        Some(dmg) if dmg.is_empty(2) => Given::Missing,
        Some(dmg) => parse_d8(dmg.element(2)).map_or(Given::Invalid, Given::Value),
    };
    let gender = name_loop.segment("DMG").map(|d| d.element(3).to_owned()).filter(|g| !g.is_empty());
    let benefits: Vec<&LoopNode> = name_loop.loops(benefit_id).collect();
    let date_segment = name_loop
        .segment_with("DTP", 1, "291")
        .or_else(|| benefits.iter().find_map(|eq| eq.segment_with("DTP", 1, "291")));
    let date_of_service = match date_segment {
        None => Given::Missing,
        Some(dtp) => {
            // D8 is one day; RD8 a range `CCYYMMDD-CCYYMMDD`, asked about from its first day.
            let first = dtp.element(3).split('-').next().unwrap_or_default();
            let ok = matches!(dtp.element(2), "D8" | "RD8");
            ok.then(|| parse_d8(first)).flatten().map_or(Given::Invalid, Given::Value)
        }
    };
    let mut service_types: Vec<String> = Vec::new();
    for eq in benefits.iter().filter_map(|l| l.segment("EQ")) {
        let codes =
            (0..).map_while(|r| eq.repetition(1, r)).map(|mut components| components.next().unwrap_or_default());
        for code in codes {
            if !code.is_empty() && !service_types.iter().any(|c| c == code) {
                service_types.push(code.to_owned());
            }
        }
    }
    Ok(PersonInquiry {
        traces,
        name: nm1.to_owned_segment(),
        member_id: member_id(nm1, name_loop),
        birth_date,
        gender,
        date_of_service,
        service_types,
    })
}

/// CCYYMMDD as a date.
fn parse_d8(text: &str) -> Option<NaiveDate> {
    if text.len() != 8 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let number = |range: std::ops::Range<usize>| text.get(range).and_then(|t| t.parse::<u32>().ok());
    let year = i32::try_from(number(0..4)?).ok()?;
    NaiveDate::from_ymd_opt(year, number(4..6)?, number(6..8)?)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::grammar::GuideSet;
    use crate::mapping::tree::read_trees;

    pub(crate) const DEPENDENT_270: &str = "ISA*00*          *00*          *ZZ*CLINIC         *ZZ*UMGATE         *260301*0800*^*00501*000000042*0*P*:~\
GS*HS*CLINIC*UMGATE*20260301*0800*42*X*005010X279A1~\
ST*270*0001*005010X279A1~\
BHT*0022*13*REF-42*20260301*0800~\
HL*1**20*1~\
NM1*PR*2*UMGATE UM*****PI*UMGATE~\
HL*2*1*21*1~\
NM1*1P*2*SAMPLE CLINIC*****XX*1234567893~\
REF*TJ*123456789~\
HL*3*2*22*1~\
NM1*IL*1*SAMPLE*PAT****MI*M100~\
HL*4*3*23*0~\
TRN*1*T-1*9CLINIC001~\
NM1*03*1*SAMPLE*KID~\
REF*1W*M101~\
DMG*D8*20150228*F~\
DTP*291*RD8*20260305-20260310~\
EQ*30^6~\
EQ*6~\
SE*18*0001~\
GE*1*42~\
IEA*1*000000042~";

    #[test]
    fn subscriber_dependent_and_their_values_are_read_as_sent() {
        let interchanges = read_trees(DEPENDENT_270.as_bytes(), "t", GuideSet::builtin().unwrap()).unwrap();
        let set = interchanges[0].answerable().next().unwrap();
        let inquiry = read_inquiry(set).unwrap();
        assert_eq!(inquiry.reference, "REF-42");
        let receiver = &inquiry.sources[0].receivers[0];
        let ids: Vec<&str> = receiver.segments.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["NM1", "REF"]);
        let subscriber = &receiver.subscribers[0];
        assert_eq!(subscriber.person.member_id.as_deref(), Some("M100"));
        assert_eq!(subscriber.person.birth_date, Given::Missing);
        assert_eq!(subscriber.person.date_of_service, Given::Missing);
        let dependent = &subscriber.dependents[0];
        assert_eq!(dependent.member_id.as_deref(), Some("M101"));
        assert_eq!(dependent.birth_date, Given::Value(NaiveDate::from_ymd_opt(2015, 2, 28).unwrap()));
        assert_eq!(dependent.date_of_service, Given::Value(NaiveDate::from_ymd_opt(2026, 3, 5).unwrap()));
        assert_eq!(dependent.service_types, ["30", "6"]);
        assert_eq!(dependent.traces[0].number, "T-1");
    }

    #[test]
    fn a_set_of_another_guide_is_refused() {
        let interchanges = read_trees(DEPENDENT_270.as_bytes(), "t", GuideSet::builtin().unwrap()).unwrap();
        let mut set = interchanges[0].sets[0].clone();
        set.transaction = "response".into();
        assert!(matches!(read_inquiry(&set), Err(MappingError::NotAnInquiry { .. })));
    }
}
