//! The reply interchange that carries 271s: ISA/IEA addressed back to the sender of the 270s
//! (sender and receiver swapped), one HB functional group per inbound group that had 270s to
//! answer, numbered with the `ControlNumbers` the acknowledgments use.

use crate::ack::{ControlNumbers, Outbound};
use crate::validation::GroupReport;
use crate::x12::isa::ID_QUALIFIERS;
use crate::x12::tree::sanitize;
use crate::x12::{Delimiters, IsaHeader, OwnedSegment, Writer};

/// The delimiters of our 271s: those of every umgate interchange, except the component
/// separator `>` instead of `:`, so that the seeds' sentence "Prior Authorization required for:
/// …" keeps its colon in MSG01 (a delimiter cannot appear in data). `>` is as common in 5010
/// envelopes as `:`; the receiver reads it from ISA16 as always.
pub const DELIMITERS: Delimiters = Delimiters { element: b'*', repetition: Some(b'^'), component: b'>', segment: b'~' };

/// The ISA of a reply to `header`: IDs swapped, qualifiers we would not accept ourselves
/// replaced by ZZ, the test indicator kept. (Same rules as the 999's reply envelope.)
pub(super) fn reply_isa(header: &IsaHeader, outbound: &Outbound, control: u32) -> Vec<u8> {
    let d = DELIMITERS;
    let field = |n: usize, width: usize, default: &str| {
        let value = sanitize(header.field(n), &d).trim().to_owned();
        let value = if value.is_empty() || value.len() > width { default.to_owned() } else { value };
        format!("{value:<width$}")
    };
    let qualifier = |n: usize| {
        let value = field(n, 2, "ZZ");
        if ID_QUALIFIERS.contains(&value.as_str()) { value } else { "ZZ".to_owned() }
    };
    let test_indicator = if header.field(15) == "T" { "T" } else { "P" };
    let fields = [
        "00".to_owned(),
        " ".repeat(10),
        "00".to_owned(),
        " ".repeat(10),
        qualifier(7),
        field(8, 15, "UMGATE"),
        qualifier(5),
        field(6, 15, "UNKNOWN"),
        outbound.at.format("%y%m%d").to_string(),
        outbound.at.format("%H%M").to_string(),
        (d.repetition.unwrap_or(b'^') as char).to_string(),
        "00501".to_owned(),
        format!("{control:09}"),
        "0".to_owned(),
        test_indicator.to_owned(),
        (d.component as char).to_string(),
    ];
    let mut out = b"ISA".to_vec();
    for value in fields {
        out.push(d.element);
        out.extend_from_slice(value.as_bytes());
    }
    out
}

/// GS of the reply group answering `group`: functional identifier HB, application sender and
/// receiver swapped, GS08 the guide.
pub(super) fn reply_gs(group: &GroupReport, outbound: &Outbound, control: u32) -> OwnedSegment {
    OwnedSegment::simple(
        "GS",
        &[
            "HB".to_owned(),
            gs_id(&group.gs03, "UMGATE"),
            gs_id(&group.gs02, "UNKNOWN"),
            outbound.at.format("%Y%m%d").to_string(),
            outbound.at.format("%H%M").to_string(),
            control.to_string(),
            "X".to_owned(),
            super::GUIDE.to_owned(),
        ],
    )
}

/// Starts a reply interchange: a writer holding the ISA, and the ISA13 used.
pub(super) fn start(header: &IsaHeader, outbound: &Outbound, numbers: &mut dyn ControlNumbers) -> (Writer, u32) {
    let control = numbers.next_interchange();
    let mut writer = Writer::new(DELIMITERS, &outbound.line_break);
    writer.raw(&reply_isa(header, outbound, control));
    (writer, control)
}

fn gs_id(value: &str, default: &str) -> String {
    let value: String = sanitize(value, &DELIMITERS).trim().chars().take(15).collect();
    let value = value.trim_end().to_owned();
    if value.len() < 2 { default.to_owned() } else { value }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::x12::isa::parse_isa;

    #[test]
    fn the_reply_is_addressed_back_and_passes_our_header_check() {
        let inbound = parse_isa(
            b"ISA*00*          *00*          *ZZ*CLINIC         *30*UMGATE         *260301*0800*^*00501*000000042*0*T*:~",
        )
        .unwrap();
        let at = chrono::NaiveDate::from_ymd_opt(2026, 3, 1).unwrap().and_hms_opt(9, 5, 0).unwrap();
        let mut isa = reply_isa(&inbound, &Outbound { at, line_break: Vec::new() }, 7);
        isa.push(b'~');
        let reply = parse_isa(&isa).unwrap();
        assert_eq!(reply.check(), None);
        assert_eq!((reply.field(5), reply.field(6)), ("30", "UMGATE         "));
        assert_eq!(
            (reply.field(7), reply.field(8), reply.field(13), reply.field(15)),
            ("ZZ", "CLINIC         ", "000000007", "T")
        );
        assert_eq!(reply.delimiters, DELIMITERS);
    }
}
