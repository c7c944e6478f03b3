//! Validated transaction sets as owned trees of the guide's loops. The validator already knows
//! where each segment sits (its open loops); this observer keeps that placement so that mappers
//! (278, 270, 215) read loops by the guide's ids instead of re-parsing the hierarchy themselves.
//! Trees are handed over one interchange at a time, so a batch file never sits in memory whole.

use std::io::Read;

use crate::grammar::{GuideSet, Placement, SetValidator};
use crate::validation::{Ack, GroupReport, InterchangeReport, Observer, SetReport, validate_stream};
use crate::x12::lexer::{RawSegment, components, repetitions};
use crate::x12::{Delimiters, IsaHeader, OwnedSegment, ReadError, Segment};

/// One segment of a set, with its position counted from ST (ST is 1, as in IK302).
///
/// Why this shape: a batch holds the trees of whole interchanges (a thousand requests of some
/// twenty segments each), and a segment split into owned strings (one per component, one vector
/// per repetition and per element) cost some thirty allocations. Here a segment is two: its values
/// one after the other, without delimiters (so a value is a plain `&str`, whatever delimiters the
/// interchange used), and where each component ends.
#[derive(Clone, PartialEq, Eq)]
pub struct TreeSegment {
    /// The identifier, then every component's value, as received (invalid UTF-8 replaced).
    text: Box<str>,
    /// One entry per component (the identifier first): its end in `text`, with `REPETITION_END`
    /// on the last component of a repetition and `ELEMENT_END` on that of an element's last
    /// repetition (the identifier counts as an element).
    ends: Box<[u32]>,
    pub position: u32,
    /// False when the validator could not place it (it is then kept in the innermost open loop).
    pub placed: bool,
}

const ELEMENT_END: u32 = 1 << 31;
const REPETITION_END: u32 = 1 << 30;
const OFFSET: u32 = REPETITION_END - 1;

/// Reusable buffers for splitting segments (one allocation each per segment kept, exact size).
#[derive(Debug, Default)]
struct Splitter {
    text: String,
    ends: Vec<u32>,
}

impl Splitter {
    fn push(&mut self, value: &[u8], flags: u32) {
        self.text.push_str(&String::from_utf8_lossy(value));
        // A segment longer than a gigabyte does not pass the lexer; saturate rather than wrap.
        let end = u32::try_from(self.text.len()).unwrap_or(OFFSET).min(OFFSET);
        self.ends.push(end | flags);
    }

    /// Splits a segment as `OwnedSegment::parse` does (an ISA on the element separator only).
    fn split(&mut self, raw: &RawSegment<'_>, delimiters: &Delimiters, position: u32, placed: bool) -> TreeSegment {
        self.text.clear();
        self.ends.clear();
        let id = raw.id(delimiters);
        self.push(id, ELEMENT_END | REPETITION_END);
        let is_isa = id == b"ISA";
        for element in raw.elements(delimiters) {
            if is_isa {
                self.push(element, ELEMENT_END | REPETITION_END);
                continue;
            }
            let mut repetitions = repetitions(element, delimiters).peekable();
            while let Some(repetition) = repetitions.next() {
                let last_repetition = repetitions.peek().is_none();
                let mut components = components(repetition, delimiters).peekable();
                while let Some(component) = components.next() {
                    let flags = match (components.peek().is_none(), last_repetition) {
                        (false, _) => 0,
                        (true, false) => REPETITION_END,
                        (true, true) => REPETITION_END | ELEMENT_END,
                    };
                    self.push(component, flags);
                }
            }
        }
        TreeSegment { text: self.text.as_str().into(), ends: self.ends.as_slice().into(), position, placed }
    }
}

impl TreeSegment {
    /// A tree segment holding `segment`'s values (for tests and segments built by hand).
    pub fn new(segment: &OwnedSegment, position: u32, placed: bool) -> Self {
        let mut text = String::from(segment.id.as_str());
        let mut ends = vec![end_of(&text) | ELEMENT_END | REPETITION_END];
        for element in &segment.elements {
            for (r, repetition) in element.iter().enumerate() {
                for (c, component) in repetition.iter().enumerate() {
                    text.push_str(component);
                    let mut flags = 0;
                    if c + 1 == repetition.len() {
                        flags |= REPETITION_END;
                        if r + 1 == element.len() {
                            flags |= ELEMENT_END;
                        }
                    }
                    ends.push(end_of(&text) | flags);
                }
            }
        }
        TreeSegment { text: text.into(), ends: ends.into(), position, placed }
    }

    /// Splits a received segment.
    pub fn parse(raw: &RawSegment<'_>, delimiters: &Delimiters, position: u32, placed: bool) -> Self {
        Splitter::default().split(raw, delimiters, position, placed)
    }

    pub fn id(&self) -> &str {
        self.value(0)
    }

    /// Element `n` (1-based, as in NM109), first repetition, first component; "" when absent.
    pub fn element(&self, n: usize) -> &str {
        self.component(n, 1)
    }

    /// Component `c` (1-based) of element `n`'s first repetition; "" when absent.
    pub fn component(&self, n: usize, c: usize) -> &str {
        let Some(range) = self.repetition_range(n, 0) else { return "" };
        match c.checked_sub(1) {
            Some(i) if i < range.len() => self.value(range.start + i),
            _ => "",
        }
    }

    /// The components of repetition `r` (0-based) of element `n`.
    pub fn repetition(&self, n: usize, r: usize) -> Option<impl ExactSizeIterator<Item = &str> + '_> {
        self.repetition_range(n, r).map(|range| range.map(|i| self.value(i)))
    }

    /// Number of elements present (trailing ones included as sent).
    pub fn element_count(&self) -> usize {
        self.ends.iter().filter(|end| *end & ELEMENT_END != 0).count() - 1
    }

    /// Element `n` is absent or empty.
    pub fn is_empty(&self, n: usize) -> bool {
        self.element(n).is_empty()
    }

    /// The elements as sent, each a list of repetitions, each a list of components.
    pub fn elements(&self) -> impl Iterator<Item = Vec<Vec<&str>>> + '_ {
        let mut i = 1;
        std::iter::from_fn(move || {
            if i >= self.ends.len() {
                return None;
            }
            let mut element = Vec::new();
            let mut repetition = Vec::new();
            while i < self.ends.len() {
                let end = self.ends[i];
                repetition.push(self.value(i));
                i += 1;
                if end & REPETITION_END != 0 {
                    element.push(std::mem::take(&mut repetition));
                }
                if end & ELEMENT_END != 0 {
                    break;
                }
            }
            Some(element)
        })
    }

    /// The segment as an owned one, every value passed through `value` (e.g. to sanitize it).
    pub fn to_owned_with(&self, mut value: impl FnMut(&str) -> String) -> OwnedSegment {
        OwnedSegment {
            id: self.id().to_owned(),
            elements: self
                .elements()
                .map(|element| element.into_iter().map(|r| r.into_iter().map(&mut value).collect()).collect())
                .collect(),
        }
    }

    /// The segment as an owned one.
    pub fn to_owned_segment(&self) -> OwnedSegment {
        self.to_owned_with(str::to_owned)
    }

    /// Value `i` (0 is the identifier).
    fn value(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { (self.ends[i - 1] & OFFSET) as usize };
        let end = (self.ends[i] & OFFSET) as usize;
        self.text.get(start..end).unwrap_or("")
    }

    /// The entries of repetition `r` of element `n`.
    fn repetition_range(&self, n: usize, r: usize) -> Option<std::ops::Range<usize>> {
        if n == 0 {
            return None;
        }
        // Skip to element n: after n element ends (the identifier's included).
        let mut i = 0;
        let mut elements = 0;
        while elements < n {
            let end = *self.ends.get(i)?;
            if end & ELEMENT_END != 0 {
                elements += 1;
            }
            i += 1;
        }
        let mut repetition = 0;
        let mut start = i;
        loop {
            let end = *self.ends.get(i)?;
            i += 1;
            if end & REPETITION_END != 0 {
                if repetition == r {
                    return Some(start..i);
                }
                if end & ELEMENT_END != 0 {
                    return None;
                }
                repetition += 1;
                start = i;
            }
        }
    }
}

fn end_of(text: &str) -> u32 {
    u32::try_from(text.len()).unwrap_or(OFFSET).min(OFFSET)
}

/// Shows where the segment is, never its values (they may name a patient).
impl std::fmt::Debug for TreeSegment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TreeSegment")
            .field("id", &self.id())
            .field("elements", &self.element_count())
            .field("position", &self.position)
            .field("placed", &self.placed)
            .finish()
    }
}

/// One loop instance: its guide id (`2000A`, `2010C`, …; empty for the set itself), its own
/// segments in order, and the loops nested in it, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoopNode {
    pub id: String,
    pub name: String,
    pub segments: Vec<TreeSegment>,
    pub children: Vec<LoopNode>,
}

impl LoopNode {
    /// The first segment with this id directly in this loop.
    pub fn segment(&self, id: &str) -> Option<&TreeSegment> {
        self.segments.iter().find(|s| s.id() == id)
    }

    /// The segments with this id directly in this loop.
    pub fn segments<'a>(&'a self, id: &'a str) -> impl Iterator<Item = &'a TreeSegment> + 'a {
        self.segments.iter().filter(move |s| s.id() == id)
    }

    /// The first segment `id` whose element `element` (1-based) equals `qualifier`
    /// (e.g. `("DTP", 1, "AAH")`, `("REF", 1, "BB")`, `("NM1", 1, "SJ")`).
    pub fn segment_with(&self, id: &str, element: usize, qualifier: &str) -> Option<&TreeSegment> {
        self.segments.iter().find(|s| s.id() == id && s.element(element) == qualifier)
    }

    pub fn segments_with<'a>(
        &'a self,
        id: &'a str,
        element: usize,
        qualifier: &'a str,
    ) -> impl Iterator<Item = &'a TreeSegment> + 'a {
        self.segments(id).filter(move |s| s.element(element) == qualifier)
    }

    /// The loops with this id directly under this one.
    pub fn loops<'a>(&'a self, id: &'a str) -> impl Iterator<Item = &'a LoopNode> + 'a {
        self.children.iter().filter(move |l| l.id == id)
    }

    /// The first loop with this id directly under this one.
    pub fn child(&self, id: &str) -> Option<&LoopNode> {
        self.children.iter().find(|l| l.id == id)
    }

    /// The first loop with this id anywhere below this one (depth first, in order).
    pub fn find(&self, id: &str) -> Option<&LoopNode> {
        self.children.iter().find_map(|child| if child.id == id { Some(child) } else { child.find(id) })
    }

    /// Every loop with this id anywhere below this one, in document order.
    pub fn find_all<'a>(&'a self, id: &str) -> Vec<&'a LoopNode> {
        let mut found = Vec::new();
        self.collect(id, &mut found);
        found
    }

    fn collect<'a>(&'a self, id: &str, found: &mut Vec<&'a LoopNode>) {
        for child in &self.children {
            if child.id == id {
                found.push(child);
            }
            child.collect(id, found);
        }
    }

    /// The first name loop (`2010…`) under this one whose NM101 is one of `entities`.
    pub fn name_loop(&self, entities: &[&str]) -> Option<&LoopNode> {
        self.children.iter().find(|child| child.segment("NM1").is_some_and(|nm1| entities.contains(&nm1.element(1))))
    }
}

/// One validated transaction set that was accepted (with or without errors).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetTree {
    /// Index of the set's functional group in `InterchangeReport::groups`, and of the set in
    /// that group's `sets`.
    pub group_index: usize,
    pub set_index: usize,
    pub st01: String,
    pub st02: String,
    /// The guide (`005010X217`) and transaction (`request`, `response`) it was read against.
    pub guide: String,
    pub transaction: String,
    pub ack: Ack,
    /// The set itself: ST, BHT and SE are its segments; its children are the top loops.
    pub root: LoopNode,
    /// Delimiters the set was received with (the tree holds values already split).
    pub delimiters: Delimiters,
}

impl SetTree {
    /// The first loop with this id anywhere in the set.
    pub fn find(&self, id: &str) -> Option<&LoopNode> {
        self.root.find(id)
    }

    pub fn find_all(&self, id: &str) -> Vec<&LoopNode> {
        self.root.find_all(id)
    }

    /// A segment of the set header (ST, BHT) or trailer (SE).
    pub fn header(&self, id: &str) -> Option<&TreeSegment> {
        self.root.segment(id)
    }
}

/// Everything read from one interchange: the validation report (for the TA1 and 999) and the
/// trees of the sets that were not rejected.
#[derive(Debug, Clone)]
pub struct InterchangeTrees {
    pub report: InterchangeReport,
    pub sets: Vec<SetTree>,
}

impl InterchangeTrees {
    pub fn header(&self) -> Option<&IsaHeader> {
        self.report.header.as_ref()
    }

    pub fn group(&self, set: &SetTree) -> Option<&GroupReport> {
        self.report.groups.get(set.group_index)
    }

    pub fn set_report(&self, set: &SetTree) -> Option<&SetReport> {
        self.group(set).and_then(|group| group.sets.get(set.set_index))
    }

    /// The sets to answer with business transactions: neither the interchange nor the group
    /// was rejected, and the set itself was accepted (A or E).
    pub fn answerable(&self) -> impl Iterator<Item = &SetTree> + '_ {
        let interchange_ok = !self.report.rejected();
        self.sets.iter().filter(move |set| {
            interchange_ok
                && set.ack != Ack::Rejected
                && self.group(set).is_some_and(|g| matches!(g.ack, Ack::Accepted | Ack::AcceptedWithErrors))
        })
    }
}

/// Builds the trees of one interchange's sets as the validator places their segments.
#[derive(Debug)]
struct SetBuilder {
    group_index: Option<usize>,
    set_index: usize,
    delimiters: Delimiters,
    /// The set being read: open loops as (instance serial, node), the set's root first.
    stack: Vec<(u64, LoopNode)>,
    splitter: Splitter,
}

impl SetBuilder {
    fn new() -> Self {
        SetBuilder {
            group_index: None,
            set_index: 0,
            delimiters: Delimiters::OUTBOUND,
            stack: Vec::new(),
            splitter: Splitter::default(),
        }
    }

    fn interchange_start(&mut self, header: &IsaHeader) {
        self.group_index = None;
        self.delimiters = header.delimiters;
    }

    fn envelope_segment(&mut self, segment: &Segment<'_>) {
        match segment.id() {
            b"GS" => {
                self.group_index = Some(self.group_index.map_or(0, |g| g + 1));
                self.set_index = 0;
            }
            b"ST" => self.stack = vec![(0, LoopNode::default())],
            _ => {}
        }
    }

    fn close_loops_to(&mut self, depth: usize) {
        while self.stack.len() > depth.max(1) {
            if let Some((_, node)) = self.stack.pop() {
                if let Some((_, parent)) = self.stack.last_mut() {
                    parent.children.push(node);
                }
            }
        }
    }

    fn set_segment(&mut self, validator: &SetValidator<'_>, segment: &Segment<'_>, placement: Placement) {
        if self.stack.is_empty() {
            self.stack.push((0, LoopNode::default()));
        }
        let common = validator
            .open_loops()
            .zip(self.stack.iter().skip(1))
            .take_while(|((_, serial), (open, _))| serial == open)
            .count();
        if placement == Placement::Placed {
            self.close_loops_to(common + 1);
            for (lp, serial) in validator.open_loops().skip(common) {
                let node = LoopNode { id: lp.id.clone(), name: lp.name.clone(), ..LoopNode::default() };
                self.stack.push((serial, node));
            }
        }
        let placed = placement == Placement::Placed;
        let tree_segment = self.splitter.split(&segment.raw, &segment.delimiters, validator.position(), placed);
        if let Some((_, top)) = self.stack.last_mut() {
            top.segments.push(tree_segment);
        }
    }

    /// The finished tree, unless the set was rejected.
    fn set_end(&mut self, report: &SetReport) -> Option<SetTree> {
        self.close_loops_to(1);
        let root = self.stack.pop().map(|(_, node)| node).unwrap_or_default();
        self.stack.clear();
        let set_index = self.set_index;
        self.set_index += 1;
        let group_index = self.group_index?;
        if report.ack == Ack::Rejected || root.segments.is_empty() {
            return None;
        }
        Some(SetTree {
            group_index,
            set_index,
            st01: report.st01.clone(),
            st02: report.st02.clone(),
            guide: report.guide.clone(),
            transaction: report.transaction.clone(),
            ack: report.ack,
            root,
            delimiters: self.delimiters,
        })
    }
}

/// An `Observer` that builds a `SetTree` per accepted set and hands each interchange, with its
/// report, to `sink` as soon as the interchange ends.
pub struct TreeCollector<F: FnMut(InterchangeTrees)> {
    sink: F,
    sets: Vec<SetTree>,
    builder: SetBuilder,
}

impl<F: FnMut(InterchangeTrees)> std::fmt::Debug for TreeCollector<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TreeCollector").field("sets", &self.sets.len()).finish()
    }
}

impl<F: FnMut(InterchangeTrees)> TreeCollector<F> {
    pub fn new(sink: F) -> Self {
        TreeCollector { sink, sets: Vec::new(), builder: SetBuilder::new() }
    }
}

impl<F: FnMut(InterchangeTrees)> Observer for TreeCollector<F> {
    fn interchange_start(&mut self, header: &IsaHeader) {
        self.sets.clear();
        self.builder.interchange_start(header);
    }

    fn envelope_segment(&mut self, segment: &Segment<'_>) {
        self.builder.envelope_segment(segment);
    }

    fn set_segment(&mut self, validator: &SetValidator<'_>, segment: &Segment<'_>, placement: Placement) {
        self.builder.set_segment(validator, segment, placement);
    }

    fn set_end(&mut self, report: &SetReport) {
        if let Some(tree) = self.builder.set_end(report) {
            self.sets.push(tree);
        }
    }

    fn interchange_end(&mut self, report: InterchangeReport) {
        let sets = std::mem::take(&mut self.sets);
        (self.sink)(InterchangeTrees { report, sets });
    }
}

/// What `TreeStream` reports, in file order.
#[derive(Debug)]
pub enum TreeEvent<'a> {
    /// An interchange begins (its header as received).
    InterchangeStart(&'a IsaHeader),
    /// A functional group begins: its GS as received (GS02/GS03 address the reply).
    GroupStart(&'a TreeSegment),
    /// A set that was not rejected, as soon as its SE was read. Its group's own verdict (GE
    /// counts) comes with `InterchangeEnd`.
    Set(SetTree),
    InterchangeEnd(InterchangeReport),
}

/// An `Observer` that hands over each set's tree as soon as the set ends and keeps none: memory
/// stays flat however many sets one interchange holds (pair it with `reply::ReplyStream`).
pub struct TreeStream<F: FnMut(TreeEvent<'_>)> {
    sink: F,
    builder: SetBuilder,
}

impl<F: FnMut(TreeEvent<'_>)> std::fmt::Debug for TreeStream<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TreeStream").finish()
    }
}

impl<F: FnMut(TreeEvent<'_>)> TreeStream<F> {
    pub fn new(sink: F) -> Self {
        TreeStream { sink, builder: SetBuilder::new() }
    }
}

impl<F: FnMut(TreeEvent<'_>)> Observer for TreeStream<F> {
    fn interchange_start(&mut self, header: &IsaHeader) {
        self.builder.interchange_start(header);
        (self.sink)(TreeEvent::InterchangeStart(header));
    }

    fn envelope_segment(&mut self, segment: &Segment<'_>) {
        self.builder.envelope_segment(segment);
        if segment.id() == b"GS" {
            let gs = TreeSegment::parse(&segment.raw, &segment.delimiters, 0, true);
            (self.sink)(TreeEvent::GroupStart(&gs));
        }
    }

    fn set_segment(&mut self, validator: &SetValidator<'_>, segment: &Segment<'_>, placement: Placement) {
        self.builder.set_segment(validator, segment, placement);
    }

    fn set_end(&mut self, report: &SetReport) {
        if let Some(tree) = self.builder.set_end(report) {
            (self.sink)(TreeEvent::Set(tree));
        }
    }

    fn interchange_end(&mut self, report: InterchangeReport) {
        (self.sink)(TreeEvent::InterchangeEnd(report));
    }
}

/// Validates `input` and returns the trees of every interchange (for tests and small inputs;
/// batches should use `TreeCollector` with a sink that handles each interchange in turn).
pub fn read_trees<R: Read>(input: R, file: &str, guides: &GuideSet) -> Result<Vec<InterchangeTrees>, ReadError> {
    let mut interchanges = Vec::new();
    let mut collector = TreeCollector::new(|trees| interchanges.push(trees));
    validate_stream(input, file, guides, &mut collector)?;
    drop(collector);
    Ok(interchanges)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const REQUEST: &str = "ISA*00*          *00*          *ZZ*SENDER         *ZZ*UMGATE         *260115*0930*^*00501*000000101*0*P*:~\
GS*HI*SENDER*UMGATE*20260115*0930*101*X*005010X217~\
ST*278*0001*005010X217~\
BHT*0007*13*REQ1*20260115*0930~\
HL*1**20*1~\
NM1*X3*2*UMO*****PI*UMO01~\
HL*2*1*21*1~\
NM1*1P*1*WELBY*MARCUS****XX*1234567893~\
HL*3*2*22*1~\
NM1*IL*1*SAMPLE*JANE****MI*M1~\
DMG*D8*19700101*F~\
HL*4*3*EV*1~\
TRN*1*T1*9CLEARHOUS~\
UM*HS*I*1*11:B~\
HI*ABK:C50911*ABF:E119~\
HL*5*4*SS*0~\
DTP*472*D8*20260201~\
SV1*HC:J9267*1500*UN*4***1~\
HL*6*4*SS*0~\
SV1*HC:J9000**UN*2~\
SE*19*0001~\
GE*1*101~\
IEA*1*000000101~";

    fn trees(text: &str) -> Vec<InterchangeTrees> {
        let guides = GuideSet::builtin().unwrap();
        read_trees(text.as_bytes(), "test", guides).unwrap()
    }

    #[test]
    fn loops_nest_as_the_guide_nests_them() {
        let interchanges = trees(REQUEST);
        assert_eq!(interchanges.len(), 1);
        let set = &interchanges[0].sets[0];
        assert_eq!((set.guide.as_str(), set.transaction.as_str()), ("005010X217", "request"));
        assert_eq!(set.header("BHT").unwrap().element(3), "REQ1");
        let top: Vec<&str> = set.root.children.iter().map(|l| l.id.as_str()).collect();
        assert_eq!(top, ["2000A"]);
        let event = set.find("2000E").unwrap();
        assert_eq!(event.loops("2000F").count(), 2);
        assert_eq!(set.find("2000C").unwrap().find("2000E"), Some(event));
        let member = set.find("2010C").unwrap().segment_with("NM1", 1, "IL").unwrap();
        assert_eq!(member.element(9), "M1");
        let hi = event.segment("HI").unwrap();
        assert_eq!((hi.component(1, 2), hi.component(2, 1), hi.component(2, 2)), ("C50911", "ABF", "E119"));
        assert_eq!(hi.component(3, 1), "");
        let lines = set.find_all("2000F");
        assert_eq!(lines[0].segment("SV1").unwrap().component(1, 2), "J9267");
        assert_eq!(lines[1].segment_with("DTP", 1, "472"), None);
        assert_eq!(lines[0].segment("SV1").unwrap().position, 16);
        assert!(interchanges[0].answerable().count() == 1);
    }

    /// The compact segment reads back exactly what `OwnedSegment::parse` splits.
    #[test]
    fn segments_read_back_as_parsed() {
        let star = Delimiters::OUTBOUND;
        let odd = Delimiters { element: b'|', repetition: None, component: 0xBF, segment: b'\n' };
        let cases: [(&[u8], Delimiters); 8] = [
            (b"HI*ABK:C50911*ABF:E119", star),
            (b"EQ*1^2:X^^30*", star),
            (b"NM1*IL*1*SAMPLE*JANE****MI*M1", star),
            (b"SE", star),
            (b"REF*", star),
            (b"N3*CAF\xc3\xa9*\xff\xfe:x", star),
            (b"SV1|HC\xbfJ9267|1500^2", odd),
            (b"ISA*00*  *00*:^~", star),
        ];
        for (text, delimiters) in cases {
            let raw = RawSegment { text };
            let owned = OwnedSegment::parse(&raw, &delimiters);
            let tree = TreeSegment::parse(&raw, &delimiters, 3, true);
            assert_eq!(tree.to_owned_segment(), owned, "{}", String::from_utf8_lossy(text));
            assert_eq!(TreeSegment::new(&owned, 3, true), tree);
            assert_eq!(tree.id(), owned.id);
            assert_eq!(tree.element_count(), owned.elements.len());
            for n in 0..owned.elements.len() + 2 {
                let element = n.checked_sub(1).and_then(|i| owned.elements.get(i));
                for r in 0..3 {
                    let expected: Option<Vec<&str>> =
                        element.and_then(|e| e.get(r)).map(|rep| rep.iter().map(String::as_str).collect());
                    assert_eq!(tree.repetition(n, r).map(Iterator::collect::<Vec<_>>), expected, "{n} {r}");
                }
                for c in 0..4_usize {
                    let expected = element
                        .and_then(|e| e.first())
                        .and_then(|rep| c.checked_sub(1).and_then(|i| rep.get(i)))
                        .map_or("", String::as_str);
                    assert_eq!(tree.component(n, c), expected, "{n} {c}");
                }
            }
        }
        let hi = TreeSegment::parse(&RawSegment { text: b"HI*ABK:C50911*ABF:E119" }, &star, 1, true);
        assert_eq!((hi.element(1), hi.component(2, 2), hi.element(3)), ("ABK", "E119", ""));
        assert!(!format!("{hi:?}").contains("C50911"), "Debug shows no values");
    }

    #[test]
    fn rejected_sets_get_no_tree() {
        // UM missing in 2000E: a required segment, so the set is rejected.
        let bad = REQUEST.replace("UM*HS*I*1*11:B~", "");
        let interchanges = trees(&bad);
        assert_eq!(interchanges[0].report.groups[0].sets[0].ack, Ack::Rejected);
        assert!(interchanges[0].sets.is_empty());
    }
}
