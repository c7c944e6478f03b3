//! Validation of whole files: the envelope walker over the streaming reader, the grammar engine
//! for each transaction set, and the reports that acknowledgments and `umgate validate` use.

pub mod report;
mod walker;

pub use report::{Ack, GroupCode, GroupReport, InterchangeReport, SetCode, SetReport, Ta1Result};
pub use walker::{Observer, validate_stream};
