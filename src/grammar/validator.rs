//! The one generic engine: walks the segments of a transaction set through a guide's loop tree.
//!
//! Placement follows the usual reading of X12 loops: a segment is looked for from the current
//! position forward in the innermost open loop, then in each enclosing loop (closing the inner
//! ones); a loop starts when its trigger segment (with its key) appears. A first pass matches
//! segment id and key; a second pass, id alone, so that a bad qualifier is reported as an invalid
//! code on the right segment instead of an unexpected segment. Whatever is skipped over that the
//! guide requires is reported missing.

use super::elements::check_elements;
use super::errors::{ElementCode, ElementError, SegmentCode, SegmentError};
use super::model::{Loop, Node, SegmentTag, SegmentUsage, Transaction, Usage};
use crate::x12::Segment;

/// More errors than this in one set are not reported (the set is rejected anyway).
const MAX_ERRORS: usize = 1000;

#[derive(Debug)]
struct Frame<'g> {
    lp: &'g Loop,
    /// Index of the last child matched; `None` before the first.
    cursor: Option<usize>,
    /// Where this instance's occurrence counts (one per child) start in `SetValidator::counts`.
    counts_at: usize,
    /// Unique per loop instance (for tree builders).
    serial: u64,
    /// Index of this instance's HL in `SetValidator::levels` when the loop is an HL level
    /// (found without a search: a search per HL is quadratic in a set of many levels).
    level: Option<usize>,
    is_root: bool,
}

#[derive(Debug)]
struct HlLevel {
    /// HL01 of the level, as a range of `SetValidator::hl_text` (no allocation per level).
    id: std::ops::Range<usize>,
    position: u32,
    /// First byte of HL04 (`b'0'`, `b'1'`, or 0 when empty).
    child_code: u8,
    has_child: bool,
}

/// Where a segment was placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// Placed in the guide's structure.
    Placed,
    /// Not placed: reported as an IK3 and skipped.
    Unplaced,
}

/// Validates one transaction set, segment by segment, ST to SE. One validator can be `reset`
/// for the next set, so that a batch reuses its buffers instead of allocating per set.
#[derive(Debug)]
pub struct SetValidator<'g> {
    transaction: &'g Transaction,
    frames: Vec<Frame<'g>>,
    /// Occurrence counts of the open loop instances, a stack in step with `frames`.
    counts: Vec<u32>,
    position: u32,
    errors: Vec<SegmentError>,
    levels: Vec<HlLevel>,
    hl_text: Vec<u8>,
    next_serial: u64,
    dropped_errors: usize,
}

impl<'g> SetValidator<'g> {
    pub fn new(transaction: &'g Transaction) -> Self {
        let mut validator = SetValidator {
            transaction,
            frames: Vec::new(),
            counts: Vec::new(),
            position: 0,
            errors: Vec::new(),
            levels: Vec::new(),
            hl_text: Vec::new(),
            next_serial: 1,
            dropped_errors: 0,
        };
        validator.reset(transaction);
        validator
    }

    /// Starts over for a new set, keeping the buffers.
    pub fn reset(&mut self, transaction: &'g Transaction) {
        self.transaction = transaction;
        self.frames.clear();
        self.counts.clear();
        self.errors.clear();
        self.levels.clear();
        self.hl_text.clear();
        self.position = 0;
        self.next_serial = 1;
        self.dropped_errors = 0;
        self.push_frame(&transaction.root, 0, true);
    }

    fn push_frame(&mut self, lp: &'g Loop, serial: u64, is_root: bool) {
        let counts_at = self.counts.len();
        self.counts.resize(counts_at + lp.children.len(), 0);
        self.frames.push(Frame { lp, cursor: None, counts_at, serial, level: None, is_root });
    }

    fn count(&self, frame: &Frame<'_>, index: usize) -> u32 {
        self.counts[frame.counts_at + index]
    }

    pub fn transaction(&self) -> &'g Transaction {
        self.transaction
    }

    /// Segments seen so far, ST included.
    pub fn position(&self) -> u32 {
        self.position
    }

    /// The open loops, outermost first, with a serial unique to each loop instance; the
    /// transaction itself (the root) is omitted.
    pub fn open_loops(&self) -> impl Iterator<Item = (&'g Loop, u64)> + '_ {
        self.frames.iter().skip(1).map(|f| (f.lp, f.serial))
    }

    /// Validates the next segment of the set (ST first, SE last).
    pub fn segment(&mut self, segment: &Segment<'_>) -> Placement {
        self.position += 1;
        let id = segment.id();
        let tag = SegmentTag::of(id);
        let found = tag.and_then(|tag| self.find(tag, segment, true).or_else(|| self.find(tag, segment, false)));
        let Some((depth, index)) = found else {
            let code = self.classify_unplaced(id);
            let loop_id = self.frames.last().map(|f| f.lp.id.clone()).unwrap_or_default();
            self.push_error(SegmentError {
                segment_id: String::from_utf8_lossy(id).into_owned(),
                position: self.position,
                loop_id,
                code,
                elements: Vec::new(),
            });
            return Placement::Unplaced;
        };
        while self.frames.len() > depth + 1 {
            self.close_top_frame();
        }
        self.report_skipped(depth, index);
        let usage = self.advance(depth, index);
        // Most segments have few elements: split them on the stack.
        let mut stack: [&[u8]; 32] = [&[]; 32];
        let mut count = 0;
        let mut heap: Vec<&[u8]> = Vec::new();
        for element in segment.elements() {
            if count < stack.len() {
                stack[count] = element;
            } else {
                if heap.is_empty() {
                    heap.extend_from_slice(&stack);
                }
                heap.push(element);
            }
            count += 1;
        }
        let elements: &[&[u8]] = if heap.is_empty() { &stack[..count] } else { &heap };
        let element_errors = check_elements(usage, elements, &segment.delimiters);
        if !element_errors.is_empty() {
            let loop_id = self.current_loop_id();
            self.push_error(SegmentError {
                segment_id: usage.id.clone(),
                position: self.position,
                loop_id,
                code: SegmentCode::HasElementErrors,
                elements: element_errors,
            });
        }
        if usage.tag == SegmentTag::HL {
            self.check_hierarchy(elements);
        }
        Placement::Placed
    }

    /// Ends the set: closes open loops (reporting what they miss) and checks the HL hierarchy.
    /// `trailer_seen` is false when the set ended without its SE.
    pub fn finish(&mut self, trailer_seen: bool) -> Vec<SegmentError> {
        if trailer_seen {
            while self.frames.len() > 1 {
                self.close_top_frame();
            }
        }
        let levels = std::mem::take(&mut self.levels);
        for level in &levels {
            // HL04 0 with a subordinate level is a contradiction. HL04 1 without one is not
            // reported: the X279A1 guide's own error-response example does it, and leaf levels
            // allow only 0 in their code lists anyway (docs/decisions/0002).
            if level.child_code == b'0' && level.has_child {
                self.push_error(SegmentError {
                    segment_id: "HL".into(),
                    position: level.position,
                    loop_id: String::new(),
                    code: SegmentCode::HasElementErrors,
                    elements: vec![ElementError {
                        position: 4,
                        component: None,
                        repetition: None,
                        reference: "736".into(),
                        code: ElementCode::InvalidCode,
                        bad_value: Some("0".to_owned()),
                    }],
                });
            }
        }
        self.levels = levels;
        merge_and_sort(std::mem::take(&mut self.errors))
    }

    /// Finds the frame depth and child index where `id` fits, innermost frame first.
    fn find(&self, tag: SegmentTag, segment: &Segment<'_>, with_key: bool) -> Option<(usize, usize)> {
        for depth in (0..self.frames.len()).rev() {
            let frame = &self.frames[depth];
            let start = run_start(frame.lp, frame.cursor);
            for index in start..frame.lp.children.len() {
                // A loop's trigger never repeats inside one instance: a repeat is a new instance.
                if index == 0 && !frame.is_root {
                    continue;
                }
                let usage = frame.lp.children[index].first_segment();
                if usage.tag == tag && (!with_key || key_matches(usage, segment)) {
                    return Some((depth, index));
                }
            }
        }
        None
    }

    fn classify_unplaced(&self, id: &[u8]) -> SegmentCode {
        let valid_id = (2..=3).contains(&id.len()) && id.iter().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
        if !valid_id {
            return SegmentCode::UnrecognizedSegment;
        }
        if let Some(frame) = self.frames.last() {
            let earlier = frame.cursor.unwrap_or(0);
            if frame.lp.children[..earlier].iter().any(|child| child.first_segment().id.as_bytes() == id) {
                return SegmentCode::OutOfSequence;
            }
        }
        if self.transaction.segment_ids.contains(std::str::from_utf8(id).unwrap_or_default()) {
            SegmentCode::UnexpectedSegment
        } else {
            SegmentCode::NotInTransactionSet
        }
    }

    /// Moves the cursor of frame `depth` to child `index` and returns the segment usage matched.
    fn advance(&mut self, depth: usize, index: usize) -> &'g SegmentUsage {
        let serial = self.next_serial;
        let position = self.position;
        let frame = &mut self.frames[depth];
        let lp: &'g Loop = frame.lp;
        frame.cursor = Some(index);
        let slot = frame.counts_at + index;
        self.counts[slot] += 1;
        let count = self.counts[slot];
        match &lp.children[index] {
            Node::Segment(usage) => {
                if usage.usage == Usage::NotUsed {
                    self.segment_error(usage, position, lp.id.clone(), SegmentCode::NotUsedSegmentPresent);
                } else if count > usage.max {
                    self.segment_error(usage, position, lp.id.clone(), SegmentCode::SegmentOverMaximumUse);
                }
                usage
            }
            Node::Loop(child) => {
                self.next_serial += 1;
                self.push_frame(child, serial, false);
                if let Some(new_frame) = self.frames.last_mut() {
                    new_frame.cursor = Some(0);
                    self.counts[new_frame.counts_at] = 1;
                }
                let trigger = child.trigger();
                if child.usage == Usage::NotUsed {
                    self.segment_error(trigger, position, child.id.clone(), SegmentCode::NotUsedSegmentPresent);
                } else if count > child.max {
                    self.segment_error(trigger, position, child.id.clone(), SegmentCode::LoopOverMaximum);
                }
                trigger
            }
        }
    }

    /// Reports required children of frame `depth` skipped when moving its cursor to `index`.
    fn report_skipped(&mut self, depth: usize, index: usize) {
        let frame = &self.frames[depth];
        let from = frame.cursor.map_or(0, |c| c + 1);
        if from >= index {
            return;
        }
        let missing: Vec<(&'g SegmentUsage, String)> =
            (from..index).filter(|i| self.count(frame, *i) == 0).filter_map(|i| required_child(frame.lp, i)).collect();
        for (usage, loop_id) in missing {
            self.segment_error(usage, self.position, loop_id, SegmentCode::RequiredSegmentMissing);
        }
    }

    fn close_top_frame(&mut self) {
        let Some(frame) = self.frames.pop() else { return };
        let from = frame.cursor.map_or(0, |c| c + 1);
        for i in from..frame.lp.children.len() {
            if self.counts[frame.counts_at + i] == 0 {
                if let Some((usage, loop_id)) = required_child(frame.lp, i) {
                    self.segment_error(usage, self.position, loop_id, SegmentCode::RequiredSegmentMissing);
                }
            }
        }
        self.counts.truncate(frame.counts_at);
    }

    fn check_hierarchy(&mut self, elements: &[&[u8]]) {
        let element = |n: usize| elements.get(n).copied().unwrap_or(&[]);
        let (id, parent, child_code) = (element(0), element(1), element(3));
        let mut errors = Vec::new();
        if !id.is_empty() && !is_decimal_text(id, self.levels.len() + 1) {
            errors.push(hl_error(1, "628", id));
        }
        let enclosing = self.frames.iter().rev().skip(1).find_map(|f| f.level);
        match enclosing {
            Some(level) if !parent.is_empty() && self.hl_text[self.levels[level].id.clone()] != *parent => {
                errors.push(hl_error(2, "734", parent))
            }
            None if !parent.is_empty() => errors.push(hl_error(2, "734", parent)),
            _ => {}
        }
        if let Some(level) = enclosing {
            self.levels[level].has_child = true;
        }
        let start = self.hl_text.len();
        self.hl_text.extend_from_slice(id);
        self.levels.push(HlLevel {
            id: start..self.hl_text.len(),
            position: self.position,
            child_code: child_code.first().copied().unwrap_or(0),
            has_child: false,
        });
        let level = self.levels.len() - 1;
        if let Some(frame) = self.frames.last_mut() {
            frame.level = Some(level);
        }
        if !errors.is_empty() {
            let loop_id = self.current_loop_id();
            self.push_error(SegmentError {
                segment_id: "HL".into(),
                position: self.position,
                loop_id,
                code: SegmentCode::HasElementErrors,
                elements: errors,
            });
        }
    }

    fn current_loop_id(&self) -> String {
        self.frames.last().map(|f| f.lp.id.clone()).unwrap_or_default()
    }

    fn segment_error(&mut self, usage: &SegmentUsage, position: u32, loop_id: String, code: SegmentCode) {
        self.push_error(SegmentError { segment_id: usage.id.clone(), position, loop_id, code, elements: Vec::new() });
    }

    fn push_error(&mut self, error: SegmentError) {
        if self.errors.len() < MAX_ERRORS {
            self.errors.push(error);
        } else {
            self.dropped_errors += 1;
        }
    }
}

/// Where the search in a loop starts: at the cursor, or earlier when the cursor sits in a run of
/// sibling usages of the same segment id (the DTPs of a loop, NM1 loops told apart by qualifier):
/// X12 puts them at one position of the standard, so they may come in any order.
fn run_start(lp: &Loop, cursor: Option<usize>) -> usize {
    let Some(cursor) = cursor else { return 0 };
    let tag = lp.children[cursor].first_segment().tag;
    let mut start = cursor;
    while start > 1 && lp.children[start - 1].first_segment().tag == tag {
        start -= 1;
    }
    start
}

/// The usage (and loop id) of child `index` when the guide requires it.
fn required_child(lp: &Loop, index: usize) -> Option<(&SegmentUsage, String)> {
    match &lp.children[index] {
        Node::Segment(usage) if usage.usage == Usage::Required => Some((usage, lp.id.clone())),
        Node::Loop(child) if child.usage == Usage::Required => Some((child.trigger(), child.id.clone())),
        _ => None,
    }
}

fn key_matches(usage: &SegmentUsage, segment: &Segment<'_>) -> bool {
    let Some((position, component, values)) = &usage.key else { return true };
    let element = segment.element(*position);
    let value = if *component == 0 {
        element
    } else {
        crate::x12::lexer::components(element, &segment.delimiters).nth(component - 1).unwrap_or(&[])
    };
    values.iter().any(|v| v.as_bytes() == value)
}

fn hl_error(position: usize, reference: &str, value: &[u8]) -> ElementError {
    ElementError {
        position,
        component: None,
        repetition: None,
        reference: reference.into(),
        code: ElementCode::InvalidCode,
        bad_value: (!value.is_empty()).then(|| String::from_utf8_lossy(value).into_owned()),
    }
}

/// Whether `text` is the decimal writing of `n` (HL01 counts 1, 2, 3, ...).
fn is_decimal_text(text: &[u8], n: usize) -> bool {
    let mut buffer = [0u8; 20];
    let mut at = buffer.len();
    let mut rest = n;
    loop {
        at -= 1;
        buffer[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    &buffer[at..] == text
}

/// One IK3 per segment position and code; element errors of one segment together.
fn merge_and_sort(errors: Vec<SegmentError>) -> Vec<SegmentError> {
    let mut merged: Vec<SegmentError> = Vec::with_capacity(errors.len());
    for error in errors {
        if error.code == SegmentCode::HasElementErrors {
            if let Some(existing) =
                merged.iter_mut().find(|e| e.position == error.position && e.code == SegmentCode::HasElementErrors)
            {
                existing.elements.extend(error.elements);
                existing.elements.sort_by_key(|e| (e.position, e.component, e.repetition));
                existing.elements.dedup_by_key(|e| (e.position, e.component, e.repetition));
                continue;
            }
        }
        merged.push(error);
    }
    merged.sort_by_key(|e| e.position);
    merged
}

/// Picks the transaction of a guide for a set from its ST01 and, when the guide has several
/// for the same ST01, the `select` values of the segment that follows ST (BHT).
pub fn select_transaction<'g>(candidates: &[&'g Transaction], second: Option<&Segment<'_>>) -> Option<&'g Transaction> {
    if candidates.len() <= 1 {
        return candidates.first().copied();
    }
    let chosen = second.and_then(|segment| {
        candidates.iter().copied().find(|tx| {
            tx.select.iter().all(|(segment_id, position, values)| {
                segment.id() == segment_id.as_bytes()
                    && values.iter().any(|v| v.as_bytes() == segment.element(*position))
            })
        })
    });
    chosen.or_else(|| candidates.first().copied())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grammar::GuideSet;
    use crate::x12::Delimiters;
    use crate::x12::lexer::RawSegment;

    /// For each HL of an X217 request made of these segments: whether a level was placed under it.
    fn has_child(segments: &[&str]) -> Vec<bool> {
        let guides = GuideSet::builtin().unwrap_or_else(|error| panic!("{error}"));
        let guide = guides.guide("005010X217").unwrap_or_else(|| panic!("no X217"));
        let candidates: Vec<&Transaction> =
            guide.transactions.iter().filter(|tx| tx.transaction_set == "278").collect();
        let all: Vec<Segment<'_>> = segments
            .iter()
            .map(|text| Segment {
                raw: RawSegment { text: text.as_bytes() },
                offset: 0,
                delimiters: Delimiters::OUTBOUND,
                terminated: true,
            })
            .collect();
        let tx = select_transaction(&candidates, all.get(1)).unwrap_or_else(|| panic!("no 278"));
        let mut validator = SetValidator::new(tx);
        for s in &all {
            validator.segment(s);
        }
        validator.levels.iter().map(|level| level.has_child).collect()
    }

    #[test]
    fn each_level_knows_whether_it_has_a_child() {
        let set = ["ST*278*0001*005010X217", "BHT*0007*13*1*20240101*1200", "HL*1**20*1", "HL*2*1*21*1", "HL*3*2*22*1"];
        assert_eq!(has_child(&set), vec![true, true, false]);
    }

    #[test]
    fn the_child_marks_its_enclosing_level_not_a_later_one_with_the_same_id() {
        // The second "2" (a closed 2000C) must not be taken for the parent of HL*4: the
        // enclosing level is found through the open loops, not by searching the ids.
        let set = [
            "ST*278*0001*005010X217",
            "BHT*0007*13*1*20240101*1200",
            "HL*1**20*1",
            "HL*2*1*21*1",
            "HL*2*2*22*1",
            "HL*4*2*22*1",
        ];
        assert_eq!(has_child(&set), vec![true, true, false, false]);
    }
}
