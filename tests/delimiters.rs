//! Property: the delimiters come from the ISA and nothing else. Any choice of four distinct
//! delimiters and any line-break style gives the same validation outcome and the same segments.

mod common;

use proptest::prelude::*;
use umgate::x12::lexer::RawSegment;
use umgate::x12::{Delimiters, Item, OwnedSegment, SegmentReader};

fn segments(bytes: &[u8]) -> Vec<OwnedSegment> {
    let mut out = Vec::new();
    let mut reader = SegmentReader::new(bytes);
    while let Some(item) = reader.next_item().expect("reads") {
        match item {
            Item::Interchange { header, .. } => {
                // The ISA's own delimiter fields differ by construction: compare the others.
                let mut fields = header.fields.clone();
                fields[10].clear();
                fields[15].clear();
                out.push(OwnedSegment::simple("ISA", &fields));
            }
            Item::Segment(s) => out.push(OwnedSegment::parse(&s.raw, &s.delimiters)),
            Item::BadInterchange { error, .. } => panic!("{error}"),
        }
    }
    out
}

/// Writes the sample again with other delimiters and line breaks.
fn reencode(original: &[u8], to: Delimiters, line_break: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut reader = SegmentReader::new(original);
    while let Some(item) = reader.next_item().expect("reads") {
        match item {
            Item::Interchange { header, .. } => {
                out.extend_from_slice(b"ISA");
                for (i, field) in header.fields.iter().enumerate() {
                    out.push(to.element);
                    match i {
                        10 => out.push(to.repetition.expect("5010 has one")),
                        15 => out.push(to.component),
                        _ => out.extend_from_slice(field.as_bytes()),
                    }
                }
            }
            Item::Segment(s) => {
                OwnedSegment::parse(&RawSegment { text: s.raw.text }, &s.delimiters).write(&to, &mut out)
            }
            Item::BadInterchange { error, .. } => panic!("{error}"),
        }
        out.push(to.segment);
        out.extend_from_slice(line_break);
    }
    out
}

fn delimiter_choices() -> impl Strategy<Value = (Delimiters, &'static [u8])> {
    // Special characters that the sample's data never uses.
    const SPECIAL: &[u8] = b"!\"#$%&'()*+,/;<=>?@[\\]^_`{|}~:";
    (
        proptest::sample::subsequence(SPECIAL.to_vec(), 4).prop_shuffle(),
        prop_oneof![Just(&b""[..]), Just(&b"\n"[..]), Just(&b"\r\n"[..])],
    )
        .prop_map(|(chars, line_break)| {
            (
                Delimiters { element: chars[0], repetition: Some(chars[1]), component: chars[2], segment: chars[3] },
                line_break,
            )
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_delimiters_read_the_same((delimiters, line_break) in delimiter_choices()) {
        let original = std::fs::read(common::samples_dir().join("x12/278-request-medical-oncology.x12")).expect("sample");
        let encoded = reencode(&original, delimiters, line_break);
        prop_assert_eq!(segments(&encoded), segments(&original));
        let reports = common::validate_bytes(&encoded);
        prop_assert_eq!(reports.len(), 1);
        let report = &reports[0];
        prop_assert!(report.all_accepted(), "{}", report.to_json());
        prop_assert_eq!(report.delimiters(), Some(delimiters));
    }
}
