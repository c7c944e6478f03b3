//! The envelope of umgate's own interchanges answering an inbound one (TA1, 999, 278 responses,
//! 271s): the reply ISA with sender and receiver swapped, and GS identifiers taken from the
//! inbound group, cleaned so that our output always passes our own envelope checks.

use chrono::NaiveDateTime;

use super::Delimiters;
use super::isa::{ID_QUALIFIERS, IsaHeader};
use super::tree::sanitize;

/// The ISA of a reply (without terminator): sender and receiver of `header` swapped, written
/// with `Delimiters::OUTBOUND`, dated `at`, numbered `control`.
pub fn reply_isa(header: Option<&IsaHeader>, at: &NaiveDateTime, control: u32) -> Vec<u8> {
    reply_isa_with(header, at, control, &Delimiters::OUTBOUND)
}

/// `reply_isa` written with other delimiters (e.g. a `>` component separator for answers whose
/// text needs `:`); ISA11 and ISA16 name them.
pub fn reply_isa_with(header: Option<&IsaHeader>, at: &NaiveDateTime, control: u32, d: &Delimiters) -> Vec<u8> {
    // Sanitized before judged: an ID of control bytes only is blank, which ISA06/08 may not be.
    let field = |n: usize, width: usize, default: &str| {
        let value =
            header.map(|h| sanitize(h.field(n), d).trim().to_owned()).filter(|v| !v.is_empty() && v.len() <= width);
        format!("{:<width$}", value.unwrap_or_else(|| default.to_owned()))
    };
    // An inbound qualifier we would reject ourselves (TA105 005/007) is not echoed.
    let qualifier = |n: usize| {
        let value = field(n, 2, "ZZ");
        if ID_QUALIFIERS.contains(&value.as_str()) { value } else { "ZZ".to_owned() }
    };
    let test_indicator = header.map_or("P", |h| if h.field(15) == "T" { "T" } else { "P" });
    let fields = [
        "00".to_owned(),
        " ".repeat(10),
        "00".to_owned(),
        " ".repeat(10),
        qualifier(7),
        field(8, 15, "UMGATE"),
        qualifier(5),
        field(6, 15, "UNKNOWN"),
        at.format("%y%m%d").to_string(),
        at.format("%H%M").to_string(),
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

/// GS02/GS03 (2 to 15 characters) from the inbound group's GS03/GS02, or `default`.
pub fn gs_id(value: &str, default: &str) -> String {
    let value = clean_id(value, 15);
    if value.len() < 2 { default.to_owned() } else { value }
}

pub fn clean_id(value: &str, max: usize) -> String {
    truncate(sanitize(value, &Delimiters::OUTBOUND).trim(), max).trim_end().to_owned()
}

fn truncate(value: &str, max: usize) -> String {
    value.chars().take(max).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::x12::isa::parse_isa;

    #[test]
    fn the_reply_isa_names_the_delimiters_it_is_written_with() {
        let inbound = "ISA*00*          *00*          *ZZ*SENDER         *ZZ*UMGATE         *260304*0900*^*00501*000000001*0*T*:~";
        let header = parse_isa(inbound.as_bytes()).ok();
        let at = chrono::NaiveDate::from_ymd_opt(2026, 3, 4).and_then(|d| d.and_hms_opt(14, 0, 0)).unwrap_or_default();
        let d = Delimiters { component: b'>', ..Delimiters::OUTBOUND };
        let mut isa = reply_isa_with(header.as_ref(), &at, 42, &d);
        isa.push(d.segment);
        let reply = parse_isa(&isa).ok();
        assert_eq!(reply.as_ref().map(|r| r.delimiters), Some(d));
        assert_eq!(reply.as_ref().and_then(|r| r.check()), None);
        assert_eq!(
            reply.as_ref().map(|r| (r.field(6).trim(), r.field(8).trim(), r.field(15))),
            Some(("UMGATE", "SENDER", "T"))
        );
    }
}
