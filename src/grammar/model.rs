//! The compiled grammar: what the validation engine walks. Everything is resolved (base
//! definitions merged with the guide's usage), so that validation does no lookups by name.

/// Implementation-guide usage of a segment, loop, element or component.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Usage {
    Required,
    Situational,
    NotUsed,
}

/// X12 data types that the engine checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum DataType {
    /// String (AN).
    String,
    /// Identifier (ID): a code.
    Identifier,
    /// Date (DT): CCYYMMDD, or YYMMDD when the maximum length is 6.
    Date,
    /// Time (TM): HHMM, HHMMSS or HHMMSSd..d.
    Time,
    /// Numeric with an implied number of decimals (N0, N2, ...).
    Numeric(u8),
    /// Decimal number (R).
    Decimal,
}

#[derive(Debug, Clone)]
pub struct Guide {
    pub id: String,
    pub aliases: Vec<String>,
    pub name: String,
    pub transactions: Vec<Transaction>,
}

#[derive(Debug, Clone)]
pub struct Transaction {
    pub name: String,
    pub transaction_set: String,
    pub functional_group: String,
    /// `(segment id, element position, allowed values)` that pick this transaction.
    pub select: Vec<(String, usize, Vec<String>)>,
    /// The transaction set as a loop without a trigger: ST, the header, the loops, SE.
    pub root: Loop,
    /// Every segment id the transaction uses anywhere (to tell "unexpected" from "not in set").
    pub segment_ids: std::collections::BTreeSet<String>,
    /// `(segment id, element position)` of the business unit identifier, if the guide has one.
    pub business_unit: Option<(String, usize)>,
}

#[derive(Debug, Clone)]
pub struct Loop {
    pub id: String,
    pub name: String,
    pub usage: Usage,
    pub max: u32,
    pub children: Vec<Node>,
}

#[derive(Debug, Clone)]
pub enum Node {
    Segment(SegmentUsage),
    Loop(Loop),
}

impl Node {
    /// The segment that opens this node: itself, or a loop's trigger.
    pub fn first_segment(&self) -> &SegmentUsage {
        match self {
            Node::Segment(segment) => segment,
            Node::Loop(lp) => lp.trigger(),
        }
    }
}

impl Loop {
    /// The loop's first segment; compilation guarantees it exists.
    pub fn trigger(&self) -> &SegmentUsage {
        match self.children.first() {
            Some(Node::Segment(segment)) => segment,
            Some(Node::Loop(inner)) => inner.trigger(),
            None => unreachable!("compile rejects empty loops"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct SegmentUsage {
    pub id: String,
    /// `id` packed into an integer: placing a segment compares these, not strings.
    pub tag: SegmentTag,
    pub name: String,
    pub usage: Usage,
    pub max: u32,
    /// `(element position 1-based, component position 1-based or 0, values)` that identify
    /// this usage among siblings with the same segment id.
    pub key: Option<(usize, usize, Vec<String>)>,
    pub elements: Vec<ElementUsage>,
    pub rules: Vec<SyntaxRule>,
}

/// A segment id (2 or 3 ASCII bytes in X12) packed with its length into one integer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SegmentTag(u32);

impl SegmentTag {
    pub const HL: SegmentTag = SegmentTag((2 << 24) | ((b'H' as u32) << 8) | b'L' as u32);

    /// `None` for an id no guide can have (empty, or longer than 3 bytes).
    pub fn of(id: &[u8]) -> Option<SegmentTag> {
        if id.is_empty() || id.len() > 3 {
            return None;
        }
        let packed = id.iter().fold(0u32, |packed, byte| (packed << 8) | u32::from(*byte));
        Some(SegmentTag(((id.len() as u32) << 24) | packed))
    }
}

#[derive(Debug, Clone)]
pub struct ElementUsage {
    /// Data element reference number (IK402).
    pub ref_id: String,
    pub name: String,
    pub usage: Usage,
    /// `None` for a composite.
    pub data_type: Option<DataType>,
    pub min: u32,
    pub max: u32,
    pub repeat: u32,
    pub codes: Option<Vec<String>>,
    pub components: Vec<ElementUsage>,
}

impl ElementUsage {
    pub fn is_composite(&self) -> bool {
        !self.components.is_empty()
    }
}

/// X12 syntax notes between elements of one segment (positions are 1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyntaxRule {
    /// P: if any is present, all are.
    Paired(Vec<usize>),
    /// R: at least one is present.
    AtLeastOne(Vec<usize>),
    /// E: not more than one is present.
    Exclusion(Vec<usize>),
    /// C: if the first is present, all the others are.
    Conditional(usize, Vec<usize>),
    /// L: if the first is present, at least one of the others is.
    ListConditional(usize, Vec<usize>),
}
