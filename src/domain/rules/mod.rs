//! The UM rules: intake checks and pathways (`intake`, `eligibility`) and the determination
//! arithmetic shared by intake and review (`determination`).

pub mod determination;
pub mod eligibility;
pub mod intake;

pub use eligibility::{IntakeRejection, npi_is_valid};
pub use intake::{IntakeDecision, IntakeError, IntakeInput, IntakeOutcome, TraceStep, evaluate_intake};
