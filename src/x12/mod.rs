//! X12 syntax: delimiters, the ISA header, the nom segment lexer, the streaming reader and the
//! writer. Nothing here knows an implementation guide; parsers do no I/O (the reader only pulls
//! bytes from the `Read` it is given).

pub mod delimiters;
pub mod envelope;
pub mod isa;
pub mod lexer;
pub mod reader;

pub use delimiters::Delimiters;
pub use isa::{IsaHeader, Ta1Note};
pub use reader::{Item, ReadError, Segment, SegmentReader};
pub mod tree;

pub use tree::{OwnedSegment, Writer};
