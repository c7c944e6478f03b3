//! umgate: an X12 278 prior-authorization gateway.
//!
//! The crate is layered so that each layer only looks downwards:
//!
//! * [`x12`]: X12 syntax: delimiters, the segment lexer, the streaming envelope reader and
//!   the writer. Knows nothing of implementation guides.
//! * [`grammar`]: implementation guides as data (`grammars/*.yaml`) and the one generic
//!   engine that validates transaction sets against them.
//! * [`ack`]: 999 and TA1 acknowledgments built from validation results.
//! * [`mapping`]: validated X12 sets as loop trees, mapped to domain requests and answered
//!   with 278 responses (and 271s).
//! * [`synth`]: deterministic synthetic 278/270 interchanges for benchmarks and tests
//!   (`umgate gen`).
//! * [`policy`]: the UM policy configuration (TOML per plan × line of business × program),
//!   validated at start, with business-day calendars and regimen matching.
//! * edges: [`cli`] and [`server`] (the daemon). Only these use `anyhow`.
#![forbid(unsafe_code)]

pub mod ack;
pub mod cli;
pub mod domain;
pub mod grammar;
pub mod mapping;
pub mod pipeline;
pub mod policy;
pub mod providers;
pub mod roster;
pub mod server;
pub mod storage;
pub mod synth;
pub mod validation;
pub mod x12;
