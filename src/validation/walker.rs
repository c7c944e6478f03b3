//! The envelope walker: ISA/GS/ST..SE/GE/IEA as a state machine over the streaming reader.
//! It checks control numbers and counts, hands each transaction set's segments to the grammar
//! engine, and emits one report per interchange as soon as the interchange ends, so that memory
//! stays flat however many interchanges a file holds.

use std::collections::HashSet;
use std::io::Read;

use super::report::{Ack, GroupCode, GroupReport, InterchangeReport, SetCode, SetReport, Ta1Result};
use crate::grammar::{GuideSet, Placement, SetValidator, Transaction, select_transaction};
use crate::x12::lexer::RawSegment;
use crate::x12::{IsaHeader, Item, ReadError, Segment, SegmentReader, Ta1Note};

/// Receives what the walker finds. Only `interchange_end` is required.
pub trait Observer {
    /// A segment of the envelope (ISA excluded: see `interchange_start`).
    fn envelope_segment(&mut self, _segment: &Segment<'_>) {}
    fn interchange_start(&mut self, _header: &IsaHeader) {}
    /// A segment of a transaction set, after the engine placed it (`validator` tells where).
    fn set_segment(&mut self, _validator: &SetValidator<'_>, _segment: &Segment<'_>, _placement: Placement) {}
    fn set_end(&mut self, _report: &SetReport) {}
    fn interchange_end(&mut self, report: InterchangeReport);
}

/// Validates every interchange of `input`, calling `observer` as it goes.
pub fn validate_stream<R: Read>(
    input: R,
    file: &str,
    guides: &GuideSet,
    observer: &mut dyn Observer,
) -> Result<(), ReadError> {
    let mut reader = SegmentReader::new(input);
    let mut walker = Walker { spare: None, guides, file, observer, interchange: None, group: None, set: None };
    loop {
        match reader.next_item() {
            Ok(Some(Item::Interchange { header, offset })) => walker.interchange_start(header, offset),
            Ok(Some(Item::BadInterchange { error, offset })) => {
                walker.end_interchange(Some(Ta1Note::PrematureEndOfFile));
                let note = match error {
                    crate::x12::isa::IsaError::Truncated => Ta1Note::PrematureEndOfFile,
                    crate::x12::isa::IsaError::BadElementSeparator => Ta1Note::InvalidElementSeparator,
                };
                walker.observer.interchange_end(InterchangeReport {
                    file: file.to_owned(),
                    offset,
                    header: None,
                    ta1: Some(Ta1Result { ack: Ack::Rejected, note }),
                    groups: Vec::new(),
                    problem: Some(format!("unreadable ISA at byte {offset}: {error}")),
                    acknowledgment: false,
                });
            }
            Ok(Some(Item::Segment(segment))) => walker.segment(&segment),
            Ok(None) => {
                walker.end_interchange(Some(Ta1Note::PrematureEndOfFile));
                return Ok(());
            }
            Err(ReadError::NotX12 { offset }) if walker.interchange.is_none() => {
                walker.observer.interchange_end(InterchangeReport {
                    file: file.to_owned(),
                    offset,
                    header: None,
                    ta1: None,
                    groups: Vec::new(),
                    problem: Some(format!("not X12: no ISA segment at byte {offset}")),
                    acknowledgment: false,
                });
                return Ok(());
            }
            Err(error) => {
                walker.end_interchange(Some(Ta1Note::PrematureEndOfFile));
                return Err(error);
            }
        }
    }
}

struct OpenInterchange {
    report: InterchangeReport,
    /// The header was rejected: the rest of the interchange is not examined.
    header_rejected: bool,
    /// First problem of the header or trailer (TA105): these take precedence.
    note: Option<Ta1Note>,
    /// First problem of the content between ISA and IEA (a bad GS, stray segments): 024.
    content_note: Option<Ta1Note>,
    groups_seen: u32,
    /// The interchange carries TA1 segments: it is itself an acknowledgment.
    carries_ta1: bool,
}

struct OpenGroup {
    report: GroupReport,
    control_numbers: HashSet<String>,
}

struct OpenSet<'g> {
    st: OwnedSegment,
    candidates: Vec<&'g Transaction>,
    validator: Option<SetValidator<'g>>,
    report: SetReport,
    business_unit: Option<(String, usize)>,
}

/// A copy of one segment, kept while the transaction of its set is not yet chosen.
struct OwnedSegment {
    text: Vec<u8>,
    offset: u64,
    delimiters: crate::x12::Delimiters,
}

impl OwnedSegment {
    fn of(segment: &Segment<'_>) -> Self {
        OwnedSegment { text: segment.raw.text.to_vec(), offset: segment.offset, delimiters: segment.delimiters }
    }
    fn segment(&self) -> Segment<'_> {
        Segment {
            raw: RawSegment { text: &self.text },
            offset: self.offset,
            delimiters: self.delimiters,
            terminated: true,
        }
    }
}

struct Walker<'a, 'g> {
    /// The validator of the last set, kept for its buffers.
    spare: Option<SetValidator<'g>>,
    guides: &'g GuideSet,
    file: &'a str,
    observer: &'a mut dyn Observer,
    interchange: Option<OpenInterchange>,
    group: Option<OpenGroup>,
    set: Option<OpenSet<'g>>,
}

/// GS: GS01 2 letters, GS02/GS03 2–15, GS04 CCYYMMDD, GS05 HHMM[SS[d..]], GS06 1–9 digits,
/// GS07 `X`, GS08 present (the version itself is judged per group, as AK905).
fn valid_gs(segment: &Segment<'_>) -> bool {
    let e = |n| segment.element(n);
    let between = |v: &[u8], min: usize, max: usize| (min..=max).contains(&v.len());
    e(1).len() == 2
        && between(e(2), 2, 15)
        && between(e(3), 2, 15)
        && e(4).len() == 8
        && crate::grammar::is_date(e(4))
        && crate::grammar::is_time(e(5))
        && between(e(6), 1, 9)
        && e(6).iter().all(u8::is_ascii_digit)
        && e(7) == b"X"
        && between(e(8), 1, 12)
}

/// TA1: TA101 9 digits, TA102 YYMMDD, TA103 HHMM, TA104 A/E/R, TA105 3 digits.
fn valid_ta1(segment: &Segment<'_>) -> bool {
    let e = |n| segment.element(n);
    let digits = |v: &[u8], n: usize| v.len() == n && v.iter().all(u8::is_ascii_digit);
    digits(e(1), 9)
        && digits(e(2), 6)
        && crate::grammar::is_date(e(2))
        && digits(e(3), 4)
        && crate::grammar::is_time(e(3))
        && matches!(e(4), b"A" | b"E" | b"R")
        && digits(e(5), 3)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

impl<'g> Walker<'_, 'g> {
    fn interchange_start(&mut self, header: IsaHeader, offset: u64) {
        if self.interchange.is_some() {
            // A new ISA before the IEA of the previous interchange.
            self.end_interchange(Some(Ta1Note::PrematureEndOfFile));
        }
        self.observer.interchange_start(&header);
        let header_note = header.check();
        self.interchange = Some(OpenInterchange {
            report: InterchangeReport {
                file: self.file.to_owned(),
                offset,
                header: Some(header),
                ta1: None,
                groups: Vec::new(),
                problem: None,
                acknowledgment: false,
            },
            header_rejected: header_note.is_some(),
            note: header_note,
            content_note: None,
            groups_seen: 0,
            carries_ta1: false,
        });
    }

    fn note(&mut self, note: Ta1Note) {
        if let Some(interchange) = &mut self.interchange {
            interchange.note.get_or_insert(note);
        }
    }

    fn content_note(&mut self) {
        if let Some(interchange) = &mut self.interchange {
            interchange.content_note.get_or_insert(Ta1Note::InvalidContent);
        }
    }

    fn segment(&mut self, segment: &Segment<'_>) {
        let Some(interchange) = &self.interchange else {
            // Data after an IEA and before any ISA: an interchange of its own, rejected.
            self.observer.interchange_end(InterchangeReport {
                file: self.file.to_owned(),
                offset: segment.offset,
                header: None,
                ta1: Some(Ta1Result { ack: Ack::Rejected, note: Ta1Note::InvalidContent }),
                groups: Vec::new(),
                problem: Some(format!("segment outside any interchange at byte {}", segment.offset)),
                acknowledgment: false,
            });
            return;
        };
        let id = segment.id();
        if interchange.header_rejected {
            if id == b"IEA" {
                self.interchange_trailer(segment);
            }
            return;
        }
        if self.set.is_some() {
            match id {
                b"SE" => return self.set_trailer(segment),
                b"ST" | b"GE" | b"GS" | b"IEA" => self.end_set(false, segment.offset),
                _ => return self.set_segment(segment),
            }
        }
        self.observer.envelope_segment(segment);
        match (id, self.group.is_some()) {
            (b"ST", true) => self.set_header(segment),
            (b"GE", true) => self.group_trailer(segment),
            (b"GS", false) => self.group_header(segment),
            (b"IEA", _) => {
                if self.group.is_some() {
                    self.end_group(Some(GroupCode::TrailerMissing));
                }
                self.interchange_trailer(segment);
            }
            (b"GS", true) => {
                self.end_group(Some(GroupCode::TrailerMissing));
                self.group_header(segment);
            }
            // An inbound TA1 (between ISA and the first GS): this interchange is an acknowledgment.
            (b"TA1", false) => {
                if let Some(interchange) = &mut self.interchange {
                    interchange.carries_ta1 = true;
                }
                if !valid_ta1(segment) {
                    self.content_note();
                }
            }
            // Anything else between ISA and GS, or between GS and ST, is not valid content.
            _ => self.content_note(),
        }
    }

    fn group_header(&mut self, segment: &Segment<'_>) {
        if let Some(interchange) = &mut self.interchange {
            interchange.groups_seen += 1;
        }
        let e = |n| text(segment.element(n));
        let gs08 = e(8);
        if !valid_gs(segment) {
            self.content_note();
        }
        let mut codes = Vec::new();
        if !e(6).bytes().all(|b| b.is_ascii_digit()) || e(6).is_empty() || e(6).len() > 9 {
            codes.push(GroupCode::InvalidControlNumber);
        }
        // A bare version (005010) defers to each set's ST03; anything else must name a guide.
        if gs08 != "005010" && self.guides.guide(&gs08).is_none() {
            codes.push(GroupCode::VersionNotSupported);
        }
        self.group = Some(OpenGroup {
            report: GroupReport {
                gs01: e(1),
                gs02: e(2),
                gs03: e(3),
                gs06: e(6),
                gs08,
                ack: Ack::Accepted,
                codes,
                sets: Vec::new(),
                declared_sets: None,
            },
            control_numbers: HashSet::new(),
        });
    }

    fn validator_for(&mut self, transaction: &'g Transaction) -> SetValidator<'g> {
        match self.spare.take() {
            Some(mut spare) => {
                spare.reset(transaction);
                spare
            }
            None => SetValidator::new(transaction),
        }
    }

    fn set_header(&mut self, segment: &Segment<'_>) {
        let Some(group) = &mut self.group else { return };
        let (st01, st02, st03) = (text(segment.element(1)), text(segment.element(2)), text(segment.element(3)));
        let mut codes = Vec::new();
        if !group.control_numbers.insert(st02.clone()) {
            codes.push(SetCode::ControlNumberNotUnique);
        }
        if !(4..=9).contains(&st02.len()) {
            codes.push(SetCode::InvalidControlNumber);
        }
        // ST03, when present, names the guide and overrides GS08 (X12 standard).
        let guide_id = if st03.is_empty() { group.report.gs08.clone() } else { st03.clone() };
        let guide = self.guides.guide(&guide_id);
        let candidates: Vec<&'g Transaction> =
            guide.map(|g| g.transactions.iter().filter(|tx| tx.transaction_set == st01).collect()).unwrap_or_default();
        let functional_group_ok = candidates.iter().any(|tx| tx.functional_group == group.report.gs01);
        if st01.len() != 3 || !st01.bytes().all(|b| b.is_ascii_digit()) {
            codes.push(SetCode::InvalidSetIdentifier);
        } else if guide.is_none() {
            codes.push(SetCode::ConventionNotSupported);
        } else if candidates.is_empty() || !functional_group_ok {
            codes.push(SetCode::NotSupported);
        }
        // A set in the wrong functional group is still read against its guide, so that the
        // 999 reports everything wrong with it at once.
        let supported = guide.is_some();
        let report = SetReport {
            st01,
            st02,
            st03,
            guide: guide.map(|g| g.id.clone()).unwrap_or_default(),
            transaction: String::new(),
            ack: Ack::Accepted,
            codes,
            errors: Vec::new(),
            business_unit: None,
            segment_count: 1,
        };
        let mut open = OpenSet {
            st: OwnedSegment::of(segment),
            candidates: if supported { candidates } else { Vec::new() },
            validator: None,
            report,
            business_unit: None,
        };
        if open.candidates.len() == 1 {
            let validator = self.validator_for(open.candidates[0]);
            open.report.transaction = open.candidates[0].name.clone();
            open.business_unit = open.candidates[0].business_unit.clone();
            open.validator = Some(validator);
            self.set = Some(open);
            self.feed(segment);
        } else {
            // Several transactions share this ST01 (request / response): the next segment picks.
            self.set = Some(open);
        }
    }

    fn set_segment(&mut self, segment: &Segment<'_>) {
        let Some(set) = &mut self.set else { return };
        set.report.segment_count += 1;
        if set.validator.is_none() && !set.candidates.is_empty() {
            let chosen = select_transaction(&set.candidates, Some(segment));
            if let Some(tx) = chosen {
                set.report.transaction = tx.name.clone();
                set.business_unit = tx.business_unit.clone();
                set.validator = Some(match self.spare.take() {
                    Some(mut spare) => {
                        spare.reset(tx);
                        spare
                    }
                    None => SetValidator::new(tx),
                });
                let st = std::mem::replace(
                    &mut set.st,
                    OwnedSegment { text: Vec::new(), offset: 0, delimiters: segment.delimiters },
                );
                self.feed(&st.segment());
            }
        }
        self.feed(segment);
    }

    fn feed(&mut self, segment: &Segment<'_>) {
        let Some(set) = &mut self.set else { return };
        if let Some((id, position)) = &set.business_unit {
            if set.report.business_unit.is_none() && segment.id() == id.as_bytes() {
                let value = text(segment.element(*position));
                set.report.business_unit = Some((format!("{id}{position:02}"), value));
            }
        }
        if let Some(validator) = &mut set.validator {
            let placement = validator.segment(segment);
            self.observer.set_segment(validator, segment, placement);
        }
    }

    fn set_trailer(&mut self, segment: &Segment<'_>) {
        self.set_segment(segment);
        let Some(set) = &mut self.set else { return };
        let declared = text(segment.element(1));
        if declared.parse::<u32>().ok() != Some(set.report.segment_count) {
            set.report.codes.push(SetCode::SegmentCountMismatch);
        }
        if segment.element(2) != set.report.st02.as_bytes() {
            set.report.codes.push(SetCode::ControlNumberMismatch);
        }
        self.end_set(true, segment.offset);
    }

    fn end_set(&mut self, trailer_seen: bool, _offset: u64) {
        let Some(mut set) = self.set.take() else { return };
        if !trailer_seen {
            set.report.codes.push(SetCode::TrailerMissing);
        }
        if set.validator.is_none() && !set.candidates.is_empty() {
            // The set ended right after ST: validate what there is.
            set.validator = Some(SetValidator::new(set.candidates[0]));
            if let Some(validator) = &mut set.validator {
                validator.segment(&set.st.segment());
            }
        }
        if let Some(mut validator) = set.validator.take() {
            set.report.errors = validator.finish(trailer_seen);
            self.spare = Some(validator);
        }
        if !set.report.errors.is_empty() {
            set.report.codes.insert(0, SetCode::SegmentsInError);
        }
        set.report.codes.sort_by_key(|c| c.code().parse::<u32>().unwrap_or(u32::MAX));
        set.report.codes.dedup();
        set.report.ack = if set.report.codes.is_empty() { Ack::Accepted } else { Ack::Rejected };
        self.observer.set_end(&set.report);
        if let Some(group) = &mut self.group {
            group.report.sets.push(set.report);
        }
    }

    fn group_trailer(&mut self, segment: &Segment<'_>) {
        let Some(group) = &mut self.group else { return };
        let declared = text(segment.element(1)).parse::<u32>().ok();
        group.report.declared_sets = declared;
        let mut codes = Vec::new();
        if declared != Some(group.report.sets.len() as u32) {
            codes.push(GroupCode::SetCountMismatch);
        }
        if segment.element(2) != group.report.gs06.as_bytes() {
            codes.push(GroupCode::ControlNumberMismatch);
        }
        for code in codes {
            self.push_group_code(code);
        }
        self.end_group(None);
    }

    fn push_group_code(&mut self, code: GroupCode) {
        if let Some(group) = &mut self.group {
            group.report.codes.push(code);
        }
    }

    fn end_group(&mut self, code: Option<GroupCode>) {
        if let Some(code) = code {
            self.push_group_code(code);
        }
        self.end_set(false, 0);
        let Some(mut group) = self.group.take() else { return };
        let report = &mut group.report;
        report.codes.sort_by_key(|c| c.code());
        report.codes.dedup();
        let accepted = report.accepted_sets();
        report.ack = if !report.codes.is_empty() || accepted == 0 {
            Ack::Rejected
        } else if accepted < report.sets.len() {
            Ack::PartiallyAccepted
        } else if report.sets.iter().any(|s| s.ack == Ack::AcceptedWithErrors) {
            Ack::AcceptedWithErrors
        } else {
            Ack::Accepted
        };
        if let Some(interchange) = &mut self.interchange {
            interchange.report.groups.push(group.report);
        }
    }

    fn interchange_trailer(&mut self, segment: &Segment<'_>) {
        let Some(interchange) = &mut self.interchange else { return };
        let control = interchange.report.isa13().unwrap_or_default().to_owned();
        if !interchange.header_rejected {
            if text(segment.element(1)).parse::<u32>().ok() != Some(interchange.groups_seen) {
                interchange.note.get_or_insert(Ta1Note::InvalidGroupCount);
            }
            if segment.element(2) != control.as_bytes() {
                interchange.note.get_or_insert(Ta1Note::ControlNumberMismatch);
            }
        }
        self.end_interchange(None);
    }

    /// Closes the open interchange; `unterminated` is the note when it had no IEA.
    fn end_interchange(&mut self, unterminated: Option<Ta1Note>) {
        if self.interchange.is_none() {
            return;
        }
        if let Some(note) = unterminated {
            self.note(note);
        }
        if self.group.is_some() {
            self.end_group(Some(GroupCode::TrailerMissing));
        }
        let Some(mut interchange) = self.interchange.take() else { return };
        let requested = interchange.report.header.as_ref().is_some_and(IsaHeader::acknowledgment_requested);
        interchange.report.acknowledgment = interchange.carries_ta1;
        interchange.report.ta1 = match interchange.note.or(interchange.content_note) {
            Some(note) => Some(Ta1Result { ack: Ack::Rejected, note }),
            None if requested => Some(Ta1Result { ack: Ack::Accepted, note: Ta1Note::NoError }),
            None => None,
        };
        self.observer.interchange_end(interchange.report);
    }
}
