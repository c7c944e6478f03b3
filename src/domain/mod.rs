//! The UM domain (SPEC §3, §8): the case model, the intake rules, the review workflow, clocks
//! and timers, and the repository port storage implements. Knows nothing of X12, HTTP or SQL;
//! every rule number comes from the policy configuration (`crate::policy`).

pub mod calendar;
pub mod clock;
pub mod error;
pub mod events;
pub mod memory;
pub mod model;
pub mod policy_adapter;
pub mod repository;
pub mod rules;
pub mod terms;
pub mod timers;
pub mod workflow;

pub use clock::{Clock, ManualClock, SystemClock};
pub use error::DomainError;
pub use events::{Actor, CaseEvent, EventKind};
pub use memory::MemoryRepository;
pub use model::*;
pub use repository::{CaseRepository, CaseUpdate, RepositoryError};
pub use terms::UmPolicy;
pub use timers::{DueTimer, TimerKind, TimerRequest};
pub use workflow::{
    CaseService, HoldRequest, P2pAvailability, P2pEligibility, PostDecisionAnswer, QueueEntry, Submission,
};
