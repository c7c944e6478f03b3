//! Validation findings in the vocabulary of the 999: IK3 segment syntax error codes and IK4
//! element syntax error codes, with the positions the acknowledgment needs.

use serde::Serialize;

/// IK304: implementation segment syntax error codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum SegmentCode {
    UnrecognizedSegment,
    UnexpectedSegment,
    RequiredSegmentMissing,
    LoopOverMaximum,
    SegmentOverMaximumUse,
    NotInTransactionSet,
    OutOfSequence,
    HasElementErrors,
    NotUsedSegmentPresent,
}

impl SegmentCode {
    pub fn code(self) -> &'static str {
        match self {
            SegmentCode::UnrecognizedSegment => "1",
            SegmentCode::UnexpectedSegment => "2",
            SegmentCode::RequiredSegmentMissing => "3",
            SegmentCode::LoopOverMaximum => "4",
            SegmentCode::SegmentOverMaximumUse => "5",
            SegmentCode::NotInTransactionSet => "6",
            SegmentCode::OutOfSequence => "7",
            SegmentCode::HasElementErrors => "8",
            SegmentCode::NotUsedSegmentPresent => "I4",
        }
    }
}

/// IK403: implementation element syntax error codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ElementCode {
    RequiredMissing,
    ConditionalRequiredMissing,
    TooManyElements,
    TooShort,
    TooLong,
    InvalidCharacter,
    InvalidCode,
    InvalidDate,
    InvalidTime,
    ExclusionViolated,
    TooManyRepetitions,
    TooManyComponents,
    NotUsedPresent,
}

impl ElementCode {
    pub fn code(self) -> &'static str {
        match self {
            ElementCode::RequiredMissing => "1",
            ElementCode::ConditionalRequiredMissing => "2",
            ElementCode::TooManyElements => "3",
            ElementCode::TooShort => "4",
            ElementCode::TooLong => "5",
            ElementCode::InvalidCharacter => "6",
            ElementCode::InvalidCode => "7",
            ElementCode::InvalidDate => "8",
            ElementCode::InvalidTime => "9",
            ElementCode::ExclusionViolated => "10",
            ElementCode::TooManyRepetitions => "12",
            ElementCode::TooManyComponents => "13",
            ElementCode::NotUsedPresent => "I10",
        }
    }

    /// Whether the 999 carries a copy of the bad data (IK404) for this code.
    pub fn copies_bad_data(self) -> bool {
        !matches!(
            self,
            ElementCode::RequiredMissing | ElementCode::ConditionalRequiredMissing | ElementCode::TooManyElements
        )
    }
}

/// One IK4: an element in error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElementError {
    /// Element position in the segment (1-based).
    pub position: usize,
    /// Component position (1-based) for a composite, else `None`.
    pub component: Option<usize>,
    /// Repetition (1-based) for a repeating element, else `None`.
    pub repetition: Option<usize>,
    /// Data element reference number (IK402).
    pub reference: String,
    pub code: ElementCode,
    /// A copy of the bad data, where there is any.
    pub bad_value: Option<String>,
}

/// One IK3: a segment in error, with its element errors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentError {
    pub segment_id: String,
    /// Position from ST (ST = 1), as in IK302.
    pub position: u32,
    /// Loop identifier (IK303), empty when the segment is outside any loop.
    pub loop_id: String,
    pub code: SegmentCode,
    pub elements: Vec<ElementError>,
}
