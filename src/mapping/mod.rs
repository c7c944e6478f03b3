//! The mapping layer: X12 transaction sets to domain requests and domain answers back to X12.
//! It sits between the syntax/validation layers and the domain, so that the domain never sees
//! X12 and the X12 code never decides anything about a case.
//!
//! * [`tree`]: validated sets as owned trees of the guide's loops, with typed-view helpers.
//! * [`reply`]: the envelope of answer interchanges (278 responses, 271s), back to the sender.
//! * [`x217`]: 278 requests to `CaseRequest`, 278 responses from cases and rejections.
//! * [`x215`]: 278 inquiries answered from the cases (`CaseLookup`).

pub mod reply;
pub mod tree;
pub mod x215;
pub mod x217;

pub use tree::{InterchangeTrees, LoopNode, SetTree, TreeCollector, TreeSegment, read_trees};
pub mod x279;
