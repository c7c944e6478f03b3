//! The review workflow as one service over the policy, a repository and a clock. Split by
//! concern: intake and persistence (`service`), reviewer work (`review`), post-decision options
//! (`post_decision`) and timers (`timers`). Operations return the stored case; what must happen
//! later is stored as timer rows by the same write, never kept in memory.

mod in_progress;
mod notify;
mod post_decision;
mod review;
mod service;
mod timers;

pub use post_decision::{P2pAvailability, P2pEligibility, PostDecisionAnswer, Refusal};
pub use review::HoldRequest;
pub use service::{CaseService, QueueEntry, Submission};
