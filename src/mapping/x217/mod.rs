//! 278 Health Care Services Review (005010X217): requests mapped to the domain's `CaseRequest`,
//! and responses written from cases, intake rejections and mapping problems.
//!
//! Flow for one inbound interchange: `tree::read_trees` / `TreeCollector` → for each
//! `answerable()` set with `transaction == "request"`: `read_request` → `categories::handle`
//! (a new case, or a cancellation, extension, revision or appeal of an earlier certification)
//! → `Decision` → `write_response_interchange`.

pub mod categories;
pub mod error;
pub mod interchange;
pub mod request;
pub mod response;

pub use categories::{Handled, handle, previous_certification};
pub use error::{Location, MappingError, Problem, ProblemKind};
pub use interchange::{Answer, find_request_set, write_notification, write_response_interchange};
pub use request::{RequestLoops, read_request};
pub use response::{Decision, FollowUp, GUIDE_278, Reject, rejects, write_response};

/// Whether `set` is a 278 request this module maps (not a response, not an X215 inquiry).
pub fn is_request(set: &crate::mapping::tree::SetTree) -> bool {
    set.guide == GUIDE_278 && set.transaction == "request"
}
