//! The checks behind the fuzz targets. `tests/fuzz_regressions.rs` includes this file with
//! `#[path]`, so the kept crash inputs go through exactly the same code in `cargo test`.
//!
//! * [`validate`]: bytes -> `validate_stream` (builtin guides) -> 999 and TA1 for every report ->
//!   each acknowledgment validated again: umgate's own output must read back without a TA1
//!   rejection.
//! * [`lex`]: bytes -> `SegmentReader`, read whole and in small chunks (same items both ways);
//!   every segment's elements, repetitions and components must rebuild its text, and
//!   `OwnedSegment::parse` -> `write` -> `parse` must give the segment back.

use std::io::Read;

use umgate::ack::{Counter, Outbound, ack_999_interchange, ta1_interchange};
use umgate::grammar::GuideSet;
use umgate::validation::{Ack, InterchangeReport, Observer, validate_stream};
use umgate::x12::lexer::{components, repetitions};
use umgate::x12::{Item, OwnedSegment, Segment, SegmentReader};

/// What one input led to, for the regression test's sanity checks.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Interchange reports of the input.
    pub reports: usize,
    /// Acknowledgments written (999 and TA1) and read back.
    pub acknowledgments: usize,
    /// The reader's error, when it stopped early (e.g. a segment over the size limit).
    pub read_error: Option<String>,
}

#[derive(Default)]
struct Collect(Vec<InterchangeReport>);

impl Observer for Collect {
    fn interchange_end(&mut self, report: InterchangeReport) {
        self.0.push(report);
    }
}

fn guides() -> &'static GuideSet {
    GuideSet::builtin().unwrap_or_else(|error| panic!("builtin guides: {error}"))
}

fn outbound() -> Outbound {
    let at = chrono::NaiveDate::from_ymd_opt(2026, 1, 2).and_then(|d| d.and_hms_opt(3, 4, 0)).unwrap_or_default();
    Outbound { at, line_break: b"\n".to_vec() }
}

fn reports_of(data: &[u8]) -> (Vec<InterchangeReport>, Option<String>) {
    let mut collect = Collect::default();
    let result = validate_stream(data, "fuzz", guides(), &mut collect);
    (collect.0, result.err().map(|e| e.to_string()))
}

/// The `validate` target.
pub fn validate(data: &[u8]) -> Outcome {
    let (reports, read_error) = reports_of(data);
    let mut outcome = Outcome { reports: reports.len(), read_error, ..Outcome::default() };
    for report in &reports {
        check_report(report, data.len());
        let mut numbers = Counter::starting_at(1);
        let outbound = outbound();
        if let Some(ack) = ack_999_interchange(report, &outbound, &mut numbers) {
            check_own_output("999", &ack, report.groups.len());
            outcome.acknowledgments += 1;
        }
        if let Some(ack) = ta1_interchange(report, &outbound, &mut numbers) {
            check_own_output("TA1", &ack, 0);
            outcome.acknowledgments += 1;
        }
    }
    outcome
}

fn check_report(report: &InterchangeReport, len: usize) {
    assert!(report.offset <= len as u64, "report offset {} past the input ({len})", report.offset);
    for group in &report.groups {
        if !group.codes.is_empty() {
            assert_eq!(group.ack, Ack::Rejected, "group with codes {:?} not rejected", group.codes);
        }
        for set in &group.sets {
            assert_eq!(
                set.ack == Ack::Rejected,
                !set.codes.is_empty(),
                "set ack {:?} vs codes {:?}",
                set.ack,
                set.codes
            );
        }
    }
}

/// Our own acknowledgment must read back as one well-formed interchange.
fn check_own_output(kind: &str, ack: &[u8], groups: usize) {
    let shown = || String::from_utf8_lossy(ack).into_owned();
    let (reports, read_error) = reports_of(ack);
    assert_eq!(read_error, None, "{kind} does not read back:\n{}", shown());
    assert_eq!(reports.len(), 1, "{kind} reads back as {} interchanges:\n{}", reports.len(), shown());
    let report = &reports[0];
    assert_eq!(report.problem, None, "{kind} has a problem:\n{}", shown());
    let header = report.header.as_ref().unwrap_or_else(|| panic!("{kind} without a readable ISA:\n{}", shown()));
    assert_eq!(header.check(), None, "{kind} ISA rejected:\n{}", shown());
    if let Some(ta1) = report.ta1 {
        assert_ne!(ta1.ack, Ack::Rejected, "{kind} rejected with TA1 note {:?}:\n{}", ta1.note, shown());
    }
    assert_eq!(report.groups.len(), groups, "{kind} group count:\n{}", shown());
    for group in &report.groups {
        assert!(group.codes.is_empty(), "{kind} group codes {:?}:\n{}", group.codes, shown());
    }
}

/// A `Read` that hands out at most `chunk` bytes per call.
struct Chunked<'a> {
    data: &'a [u8],
    chunk: usize,
}

impl Read for Chunked<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.chunk.min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

/// The `lex` target.
pub fn lex(data: &[u8]) -> usize {
    let whole = read_items(data, data);
    let chunk = 1 + data.first().map_or(0, |b| usize::from(*b % 32));
    let chunked = read_items(Chunked { data, chunk }, data);
    assert_eq!(whole, chunked, "reading in chunks of {chunk} differs from reading whole");
    whole.len()
}

/// Every item of the input, as text to compare; each segment checked on the way.
fn read_items<R: Read>(source: R, data: &[u8]) -> Vec<String> {
    let mut reader = SegmentReader::new(source);
    let mut items = Vec::new();
    loop {
        match reader.next_item() {
            Ok(None) => break,
            Ok(Some(Item::Interchange { header, offset })) => {
                let note = header.check();
                assert!(header.length >= 4 && offset as usize + header.length <= data.len(), "ISA past the input");
                items.push(format!("ISA@{offset}:{:?}:{:?}:{note:?}", header.fields, header.delimiters));
            }
            Ok(Some(Item::BadInterchange { error, offset })) => items.push(format!("BAD@{offset}:{error:?}")),
            Ok(Some(Item::Segment(segment))) => {
                check_segment(&segment, data);
                items.push(format!(
                    "{:?}@{}:{:?}:{}",
                    segment.raw.text, segment.offset, segment.delimiters, segment.terminated
                ));
            }
            Err(error) => {
                items.push(format!("ERR:{error}"));
                break;
            }
        }
        assert!(items.len() <= data.len() + 1, "more items than bytes: the reader does not advance");
    }
    items
}

fn check_segment(segment: &Segment<'_>, data: &[u8]) {
    let d = segment.delimiters;
    let text = segment.raw.text;
    let start = usize::try_from(segment.offset).unwrap_or(usize::MAX);
    assert_eq!(data.get(start..start.saturating_add(text.len())), Some(text), "segment offset {start} is wrong");
    if segment.terminated {
        assert_eq!(data.get(start + text.len()), Some(&d.segment), "terminated segment without its terminator");
    }
    assert!(!text.contains(&d.segment), "segment text holds its terminator");
    // Identifier, elements, repetitions and components rebuild the text.
    let mut rebuilt = segment.id().to_vec();
    for element in segment.elements() {
        rebuilt.push(d.element);
        let mut joined = Vec::new();
        for (r, repetition) in repetitions(element, &d).enumerate() {
            if r > 0 {
                joined.push(d.repetition.unwrap_or(d.element));
            }
            let parts: Vec<&[u8]> = components(repetition, &d).collect();
            joined.extend_from_slice(&parts.join(&d.component));
        }
        assert_eq!(joined, element, "repetitions and components do not rebuild the element");
        rebuilt.extend_from_slice(element);
    }
    assert_eq!(rebuilt, text, "identifier and elements do not rebuild the segment");
    let _ = segment.element(0);
    let _ = segment.element(usize::MAX);
    round_trip(segment);
}

/// parse -> write -> parse gives the same segment, up to what `write` drops on purpose
/// (trailing empty elements and components).
fn round_trip(segment: &Segment<'_>) {
    let d = segment.delimiters;
    // Invalid UTF-8 is read as U+FFFD (EF BF BD): those bytes must not be delimiters.
    if [0xEF, 0xBF, 0xBD].iter().any(|b| d.is_delimiter(*b)) {
        return;
    }
    let first = OwnedSegment::parse(&segment.raw, &d);
    let mut written = Vec::new();
    first.write(&d, &mut written);
    let second = OwnedSegment::parse(&umgate::x12::lexer::RawSegment { text: &written }, &d);
    assert_eq!(normalized(&first), normalized(&second), "round trip through {:?}", String::from_utf8_lossy(&written));
    let mut again = Vec::new();
    second.write(&d, &mut again);
    assert_eq!(written, again, "writing is not stable");
}

fn normalized(segment: &OwnedSegment) -> OwnedSegment {
    let mut elements = segment.elements.clone();
    for element in &mut elements {
        for repetition in element.iter_mut() {
            while repetition.len() > 1 && repetition.last().is_some_and(String::is_empty) {
                repetition.pop();
            }
        }
    }
    while elements.last().is_some_and(|e| e.iter().all(|r| r.iter().all(String::is_empty))) {
        elements.pop();
    }
    OwnedSegment { id: segment.id.clone(), elements }
}
