//! Implementation guides as data. Each file in `grammars/` describes one guide (loops, the HL
//! hierarchy, segment and element usage, lengths, code lists, syntax rules); one generic engine
//! validates any transaction set against it. No guide-specific parsing code lives here.

mod compile;
mod elements;
pub mod errors;
pub mod model;
mod raw;
mod validator;

pub use compile::{GrammarError, compile_guide};
pub use model::{DataType, ElementUsage, Guide, Loop, Node, SegmentUsage, SyntaxRule, Transaction, Usage};
mod registry;
pub use elements::{check_simple, is_date, is_time};
pub use errors::{ElementCode, ElementError, SegmentCode, SegmentError};
pub use registry::GuideSet;
pub use validator::{Placement, SetValidator, select_transaction};
