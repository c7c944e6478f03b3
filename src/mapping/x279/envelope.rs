//! The reply interchange that carries 271s: ISA/IEA addressed back to the sender of the 270s
//! (sender and receiver swapped), one HB functional group per inbound group that had 270s to
//! answer, numbered with the `ControlNumbers` the acknowledgments use.

use crate::ack::{ControlNumbers, Outbound};
use crate::validation::GroupReport;
use crate::x12::envelope::{self, gs_id};
use crate::x12::tree::sanitize;
use crate::x12::{Delimiters, IsaHeader, OwnedSegment, Writer};

/// The delimiters of our 271s: those of every umgate interchange, except the component
/// separator `>` instead of `:`, so that the seeds' sentence "Prior Authorization required for:
/// …" keeps its colon in MSG01 (a delimiter cannot appear in data). `>` is as common in 5010
/// envelopes as `:`; the receiver reads it from ISA16 as always.
pub const DELIMITERS: Delimiters = Delimiters { element: b'*', repetition: Some(b'^'), component: b'>', segment: b'~' };

/// The ISA of a reply to `header` (the shared reply envelope's, see `x12::envelope`), with
/// ISA16 set to our component separator.
pub(super) fn reply_isa(header: &IsaHeader, outbound: &Outbound, control: u32) -> Vec<u8> {
    let mut isa = envelope::reply_isa(Some(header), &outbound.at, control);
    // ISA16 is the last byte of the segment (the terminator is not included). An inbound ID
    // holding our component separator loses it, as sanitizing does with the other delimiters.
    isa.pop();
    for byte in isa.iter_mut().skip(4).filter(|b| **b == DELIMITERS.component) {
        *byte = b' ';
    }
    isa.push(DELIMITERS.component);
    isa
}

/// GS of the reply group answering `group`: functional identifier HB, application sender and
/// receiver swapped, GS08 the guide.
pub(super) fn reply_gs(group: &GroupReport, outbound: &Outbound, control: u32) -> OwnedSegment {
    OwnedSegment::simple(
        "GS",
        &[
            "HB".to_owned(),
            gs_id(&sanitize(&group.gs03, &DELIMITERS), "UMGATE"),
            gs_id(&sanitize(&group.gs02, &DELIMITERS), "UNKNOWN"),
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::x12::isa::parse_isa;

    #[test]
    fn the_reply_is_addressed_back_and_passes_our_header_check() {
        let inbound = parse_isa(
            b"ISA*00*          *00*          *ZZ*CLI>NIC        *30*UMGATE         *260301*0800*^*00501*000000042*0*T*:~",
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
            ("ZZ", "CLI NIC        ", "000000007", "T")
        );
        assert_eq!(reply.delimiters, DELIMITERS);
    }
}
