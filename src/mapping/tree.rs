//! Validated transaction sets as owned trees of the guide's loops. The validator already knows
//! where each segment sits (its open loops); this observer keeps that placement so that mappers
//! (278, 270, 215) read loops by the guide's ids instead of re-parsing the hierarchy themselves.
//! Trees are handed over one interchange at a time, so a batch file never sits in memory whole.

use std::io::Read;

use crate::grammar::{GuideSet, Placement, SetValidator};
use crate::validation::{Ack, GroupReport, InterchangeReport, Observer, SetReport, validate_stream};
use crate::x12::{Delimiters, IsaHeader, OwnedSegment, ReadError, Segment};

/// One segment of a set, with its position counted from ST (ST is 1, as in IK302).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeSegment {
    pub segment: OwnedSegment,
    pub position: u32,
    /// False when the validator could not place it (it is then kept in the innermost open loop).
    pub placed: bool,
}

impl TreeSegment {
    pub fn id(&self) -> &str {
        &self.segment.id
    }

    /// Element `n` (1-based, as in NM109), first repetition, first component; "" when absent.
    pub fn element(&self, n: usize) -> &str {
        self.component(n, 1)
    }

    /// Component `c` (1-based) of element `n`'s first repetition; "" when absent.
    pub fn component(&self, n: usize, c: usize) -> &str {
        self.repetition(n, 0).and_then(|components| components.get(c.wrapping_sub(1))).map_or("", String::as_str)
    }

    /// The components of repetition `r` (0-based) of element `n`.
    pub fn repetition(&self, n: usize, r: usize) -> Option<&[String]> {
        self.segment.elements.get(n.wrapping_sub(1)).and_then(|element| element.get(r)).map(Vec::as_slice)
    }

    /// Number of elements present (trailing ones included as sent).
    pub fn element_count(&self) -> usize {
        self.segment.elements.len()
    }

    /// Element `n` is absent or empty.
    pub fn is_empty(&self, n: usize) -> bool {
        self.element(n).is_empty()
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
        self.segments.iter().find(|s| s.segment.id == id)
    }

    /// The segments with this id directly in this loop.
    pub fn segments<'a>(&'a self, id: &'a str) -> impl Iterator<Item = &'a TreeSegment> + 'a {
        self.segments.iter().filter(move |s| s.segment.id == id)
    }

    /// The first segment `id` whose element `element` (1-based) equals `qualifier`
    /// (e.g. `("DTP", 1, "AAH")`, `("REF", 1, "BB")`, `("NM1", 1, "SJ")`).
    pub fn segment_with(&self, id: &str, element: usize, qualifier: &str) -> Option<&TreeSegment> {
        self.segments.iter().find(|s| s.segment.id == id && s.element(element) == qualifier)
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
}

impl SetBuilder {
    fn new() -> Self {
        SetBuilder { group_index: None, set_index: 0, delimiters: Delimiters::OUTBOUND, stack: Vec::new() }
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
        let open: Vec<_> = validator.open_loops().collect();
        let mut common = 0;
        while common < open.len() && common + 1 < self.stack.len() && self.stack[common + 1].0 == open[common].1 {
            common += 1;
        }
        if placement == Placement::Placed {
            self.close_loops_to(common + 1);
            for (lp, serial) in &open[common..] {
                let node = LoopNode { id: lp.id.clone(), name: lp.name.clone(), ..LoopNode::default() };
                self.stack.push((*serial, node));
            }
        }
        let owned = OwnedSegment::parse(&segment.raw, &segment.delimiters);
        let tree_segment =
            TreeSegment { segment: owned, position: validator.position(), placed: placement == Placement::Placed };
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
            let gs = OwnedSegment::parse(&segment.raw, &segment.delimiters);
            (self.sink)(TreeEvent::GroupStart(&TreeSegment { segment: gs, position: 0, placed: true }));
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

    #[test]
    fn rejected_sets_get_no_tree() {
        // UM missing in 2000E: a required segment, so the set is rejected.
        let bad = REQUEST.replace("UM*HS*I*1*11:B~", "");
        let interchanges = trees(&bad);
        assert_eq!(interchanges[0].report.groups[0].sets[0].ack, Ack::Rejected);
        assert!(interchanges[0].sets.is_empty());
    }
}
