//! Acknowledgments: the TA1 (interchange) and the 999 (005010X231A1, one per functional group
//! received), written from validation reports into interchanges of their own, addressed back to
//! the sender.

use chrono::NaiveDateTime;

use crate::validation::{Ack, GroupReport, InterchangeReport, SetReport, Ta1Result};
use crate::x12::envelope::{clean_id, gs_id, reply_isa};
use crate::x12::isa::Ta1Note;
use crate::x12::tree::sanitize;
use crate::x12::{Delimiters, OwnedSegment, Writer};

/// The 999's implementation guide.
pub const GUIDE_999: &str = "005010X231A1";

/// How umgate addresses and numbers its own interchanges.
#[derive(Debug, Clone)]
pub struct Outbound {
    /// When the acknowledgment is made (ISA09/10, GS04/05).
    pub at: NaiveDateTime,
    /// Line break written after each segment terminator (empty for none).
    pub line_break: Vec<u8>,
}

/// Hands out control numbers for outbound interchanges and groups.
pub trait ControlNumbers {
    fn next_interchange(&mut self) -> u32;
    fn next_group(&mut self) -> u32;
}

/// Counting from a start value: deterministic, for the CLI and tests.
#[derive(Debug, Clone)]
pub struct Counter {
    pub interchange: u32,
    pub group: u32,
}

impl Counter {
    pub fn starting_at(n: u32) -> Self {
        Counter { interchange: n, group: n }
    }
}

impl ControlNumbers for Counter {
    fn next_interchange(&mut self) -> u32 {
        let n = self.interchange;
        self.interchange = if n >= 999_999_999 { 1 } else { n + 1 };
        n
    }
    fn next_group(&mut self) -> u32 {
        let n = self.group;
        self.group = if n >= 999_999_999 { 1 } else { n + 1 };
        n
    }
}

/// The TA1 interchange for a report that calls for one (`report.ta1` is set and the header could
/// be read): ISA, TA1, IEA with no functional group.
pub fn ta1_interchange(
    report: &InterchangeReport,
    outbound: &Outbound,
    numbers: &mut dyn ControlNumbers,
) -> Option<Vec<u8>> {
    write_ta1(report, report.ta1?, outbound, numbers)
}

/// The TA1 refusing an interchange whose sender (ISA05/ISA06) and ISA13 were received before with
/// other content: TA104 `R`, TA105 `025` (Duplicate Interchange Control Number). Whatever the
/// validation found, the interchange is not processed, so this is its only answer; sent even when
/// ISA14 asked for none (a refusal the sender must learn of), never to an acknowledgment.
pub fn ta1_duplicate_interchange(
    report: &InterchangeReport,
    outbound: &Outbound,
    numbers: &mut dyn ControlNumbers,
) -> Option<Vec<u8>> {
    let refused = Ta1Result { ack: Ack::Rejected, note: Ta1Note::DuplicateControlNumber };
    write_ta1(report, refused, outbound, numbers)
}

fn write_ta1(
    report: &InterchangeReport,
    ta1: Ta1Result,
    outbound: &Outbound,
    numbers: &mut dyn ControlNumbers,
) -> Option<Vec<u8>> {
    let header = report.header.as_ref()?;
    if report.acknowledgment {
        // Acknowledgments are never acknowledged: no TA1 loops between trading partners.
        return None;
    }
    let control = numbers.next_interchange();
    let mut writer = Writer::new(Delimiters::OUTBOUND, &outbound.line_break);
    writer.raw(&isa_reply(report, outbound, control));
    // TA102/TA103 echo ISA09/ISA10, but must be a valid DT (YYMMDD) and TM (HHMM) themselves: an
    // inbound value that is not (the TA1 may be reporting exactly that, 014/015) gives way to
    // the TA1's own date and time, and TA101 still names the interchange.
    let date = echo_if_valid(header.field(9), "%y%m%d", &outbound.at);
    let time = echo_if_valid(header.field(10), "%H%M", &outbound.at);
    let isa13 = clean(header.control_number(), 9, "000000000");
    writer.segment(&OwnedSegment::simple("TA1", &[isa13.as_str(), &date, &time, ta1.ack.code(), ta1.note.code()]));
    writer.segment(&OwnedSegment::simple("IEA", &["0".to_owned(), format!("{control:09}")]));
    Some(writer.into_bytes())
}

/// The 999 interchange for a report with functional groups: one GS/999/GE per group received.
/// `None` when there is nothing to acknowledge (no group, or the interchange was rejected).
/// Groups of acknowledgments (GS01 `FA`: 997/999) get none: per the 999's note at ST, "neither
/// the 997 nor the 999 acknowledgment shall be acknowledged", not even to report their errors.
pub fn ack_999_interchange(
    report: &InterchangeReport,
    outbound: &Outbound,
    numbers: &mut dyn ControlNumbers,
) -> Option<Vec<u8>> {
    let groups: Vec<&GroupReport> = report.groups.iter().filter(|g| !is_acknowledgment_group(g)).collect();
    if groups.is_empty() || report.rejected() || report.header.is_none() {
        return None;
    }
    let control = numbers.next_interchange();
    let mut writer = Writer::new(Delimiters::OUTBOUND, &outbound.line_break);
    writer.raw(&isa_reply(report, outbound, control));
    let date = outbound.at.format("%Y%m%d").to_string();
    let time = outbound.at.format("%H%M").to_string();
    for group in &groups {
        let group_control = numbers.next_group().to_string();
        let gs = OwnedSegment::simple(
            "GS",
            &[
                "FA",
                &gs_id(&group.gs03, "UMGATE"),
                &gs_id(&group.gs02, "UNKNOWN"),
                &date,
                &time,
                &group_control,
                "X",
                GUIDE_999,
            ],
        );
        writer.segment(&gs);
        write_999(&mut writer, group);
        writer.segment(&OwnedSegment::simple("GE", &["1", &group_control]));
    }
    writer.segment(&OwnedSegment::simple("IEA", &[groups.len().to_string(), format!("{control:09}")]));
    Some(writer.into_bytes())
}

/// A functional group of acknowledgments (997/999), which is never itself acknowledged.
fn is_acknowledgment_group(group: &GroupReport) -> bool {
    group.gs01.trim() == "FA"
}

/// ST..SE of one 999 for one group.
fn write_999(writer: &mut Writer, group: &GroupReport) {
    let delimiters = *writer.delimiters();
    let start = writer.count();
    let st02 = "0001";
    writer.segment(&OwnedSegment::simple("ST", &["999", st02, GUIDE_999]));
    let gs08 = sanitize(&group.gs08, &delimiters);
    writer.segment(&OwnedSegment::simple("AK1", &[clean_id(&group.gs01, 2), clean_id(&group.gs06, 9), gs08]));
    for set in &group.sets {
        write_set(writer, set, &delimiters);
    }
    let mut ak9 = vec![
        group.ack.code().to_owned(),
        group.declared_sets.unwrap_or(group.sets.len() as u32).to_string(),
        group.sets.len().to_string(),
        group.accepted_sets().to_string(),
    ];
    ak9.extend(group.codes.iter().take(5).map(|c| c.code().to_owned()));
    writer.segment(&OwnedSegment::simple("AK9", &ak9));
    let count = writer.count() - start + 1;
    writer.segment(&OwnedSegment::simple("SE", &[count.to_string().as_str(), st02]));
}

fn write_set(writer: &mut Writer, set: &SetReport, delimiters: &Delimiters) {
    let st01 = if set.st01.len() == 3 { set.st01.clone() } else { "000".to_owned() };
    let st02 = clean_id(&set.st02, 9);
    let st03 = sanitize(&set.st03, delimiters);
    writer.segment(&OwnedSegment::simple("AK2", &[st01, st02, st03]));
    for error in &set.errors {
        let segment_id = clean_id(&error.segment_id, 3);
        writer.segment(&OwnedSegment::simple(
            "IK3",
            &[segment_id.as_str(), &error.position.to_string(), "", error.code.code()],
        ));
        if let Some((name, value)) = &set.business_unit {
            let value = sanitize(value, delimiters);
            if !value.is_empty() {
                writer.segment(&OwnedSegment { id: "CTX".into(), elements: vec![vec![vec![name.clone(), value]]] });
            }
        }
        for element in &error.elements {
            let mut position = vec![element.position.to_string()];
            if element.component.is_some() || element.repetition.is_some() {
                position.push(element.component.map(|c| c.to_string()).unwrap_or_default());
            }
            if let Some(repetition) = element.repetition {
                position.push(repetition.to_string());
            }
            let bad = match (&element.bad_value, element.code.copies_bad_data()) {
                (Some(bad), true) => truncate(&sanitize(bad, delimiters), 99),
                _ => String::new(),
            };
            let reference = if element.reference.chars().all(|c| c.is_ascii_digit()) {
                element.reference.clone()
            } else {
                String::new()
            };
            writer.segment(&OwnedSegment {
                id: "IK4".into(),
                elements: vec![
                    vec![position],
                    vec![vec![reference]],
                    vec![vec![element.code.code().to_owned()]],
                    vec![vec![bad]],
                ],
            });
        }
    }
    let mut ik5 = vec![set.ack.code().to_owned()];
    ik5.extend(set.codes.iter().take(5).map(|c| c.code().to_owned()));
    writer.segment(&OwnedSegment::simple("IK5", &ik5));
}

/// The ISA of a reply: sender and receiver of the inbound header swapped.
fn isa_reply(report: &InterchangeReport, outbound: &Outbound, control: u32) -> Vec<u8> {
    reply_isa(report.header.as_ref(), &outbound.at, control)
}

/// `value` when it is a date (`%y%m%d`) or time (`%H%M`) written in exactly the format's digits,
/// else `fallback` written in that format.
fn echo_if_valid(value: &str, format: &str, fallback: &NaiveDateTime) -> String {
    let value = value.trim();
    // Each `%x` of the format stands for exactly two digits.
    let digits = value.len() == format.len() && value.bytes().all(|b| b.is_ascii_digit());
    let parses = if format.contains('H') {
        chrono::NaiveTime::parse_from_str(value, format).is_ok()
    } else {
        chrono::NaiveDate::parse_from_str(value, format).is_ok()
    };
    if digits && parses { value.to_owned() } else { fallback.format(format).to_string() }
}

/// A numeric (N0) value of exactly `width` digits: the inbound one zero-padded when it is at
/// most `width` digits, else `default`.
fn clean(value: &str, width: usize, default: &str) -> String {
    let value = value.trim();
    if value.is_empty() || value.len() > width || !value.bytes().all(|b| b.is_ascii_digit()) {
        default.to_owned()
    } else {
        format!("{value:0>width$}")
    }
}

fn truncate(value: &str, max: usize) -> String {
    value.chars().take(max).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::x12::isa::parse_isa;

    fn report_for(isa: &str) -> InterchangeReport {
        InterchangeReport {
            file: "test".into(),
            offset: 0,
            header: Some(parse_isa(isa.as_bytes()).unwrap_or_else(|error| panic!("{error}"))),
            ta1: None,
            groups: Vec::new(),
            problem: None,
            acknowledgment: false,
        }
    }

    #[test]
    fn the_reply_isa_passes_our_own_check_whatever_the_inbound_one_holds() {
        // Qualifiers we reject (AB, 5\x01), sender / receiver ids of control bytes only.
        let report = report_for(
            "ISA*00*          *00*          *AB*\u{1}\u{1}             *5\u{1}*\u{7f}              *240101*1200*^*00501*000000001*0*P*:~",
        );
        let at = chrono::NaiveDate::from_ymd_opt(2026, 1, 2).and_then(|d| d.and_hms_opt(3, 4, 0)).unwrap_or_default();
        let mut isa = isa_reply(&report, &Outbound { at, line_break: Vec::new() }, 7);
        isa.push(b'~');
        let reply = parse_isa(&isa).unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(reply.check(), None, "{}", String::from_utf8_lossy(&isa));
        assert_eq!(
            (reply.field(5), reply.field(6), reply.field(7), reply.field(8)),
            ("ZZ", "UMGATE         ", "ZZ", "UNKNOWN        ")
        );
    }

    #[test]
    fn a_duplicate_control_number_is_refused_with_note_025_even_without_ta1_requested() {
        let report = report_for(
            "ISA*00*          *00*          *ZZ*SENDER         *ZZ*UMGATE         *260301*0915*^*00501*000000286*0*P*:~",
        );
        let at = chrono::NaiveDate::from_ymd_opt(2026, 3, 2).and_then(|d| d.and_hms_opt(8, 0, 0)).unwrap_or_default();
        let outbound = Outbound { at, line_break: Vec::new() };
        let bytes = ta1_duplicate_interchange(&report, &outbound, &mut Counter::starting_at(5))
            .unwrap_or_else(|| panic!("a TA1 is written"));
        let text = String::from_utf8_lossy(&bytes);
        assert!(text.ends_with("~TA1*000000286*260301*0915*R*025~IEA*0*000000005~"), "{text}");
        // An acknowledgment is never answered, not even a duplicate one.
        let acknowledgment = InterchangeReport { acknowledgment: true, ..report };
        assert_eq!(ta1_duplicate_interchange(&acknowledgment, &outbound, &mut Counter::starting_at(5)), None);
    }

    #[test]
    fn numeric_and_group_ids_are_never_blank_or_padded_with_spaces() {
        assert_eq!(clean("\u{1}00000286", 9, "000000000"), "000000000");
        assert_eq!(clean(" 286 ", 9, "000000000"), "000000286");
        assert_eq!(gs_id("\u{1}", "UMGATE"), "UMGATE");
        assert_eq!(gs_id("\u{1}AB", "UMGATE"), "AB");
        assert_eq!(clean_id("\u{1}A\u{1}B", 2), "A");
    }
}
