//! The batch path's overlap: interchange N+1 is decided and its answers written while N's
//! recording transaction runs.
//!
//! Why: the database (SQLite's single writer, its inserts and fsync) and the deciding thread took
//! turns; now they work at once. What makes it safe:
//! - N's new cases stay visible to N+1's reads until N's recording settles
//!   ([`super::batch::BatchRepository`] keeps them "committing"), and a write of N+1 straight to
//!   the store (a follow-up request changing an earlier case) waits for N's recording (its gate);
//! - numbers continue in memory: N+1's sequence advances start where N's end, so N+1's recording
//!   can only commit after N's ([`super::numbers`]);
//! - a new interchange's log entry is written by its recording transaction (the input file holds
//!   the bytes until then; nothing is acknowledged before the commit), so N+1 writes nothing while
//!   N's transaction holds SQLite's write lock;
//! - only a plain new interchange (nothing logged under its sender and control number, and not
//!   the same as N's) is overlapped; anything else, and anything after a failed recording, goes
//!   through [`super::process_interchange`] one at a time. When N's recording fails (another
//!   writer took numbers, answered or logged it), N+1's work is dropped and both are answered
//!   again one at a time.

use chrono::Utc;

use super::answer::{AbortOnDrop, is_new, joined, log_entry};
use super::batch::NewCases;
use super::numbers::NumberSource;
use super::respond::{Answer, Responder};
use super::{Captured, PipelineError};
use crate::storage::interchanges::status;
use crate::storage::record::Entry;
use crate::storage::{Advance, NewInterchange, NewOutput, Party, Recording};

/// A new interchange decided and written, not yet recorded.
#[derive(Debug)]
pub struct Prepared {
    new: NewInterchange,
    answers: Vec<Answer>,
    new_cases: NewCases,
    case_ids: Vec<String>,
    decided: Vec<crate::domain::CaseStatus>,
    advances: Vec<Advance>,
    numbers_before: NumberSource,
}

/// An interchange whose recording runs on the runtime.
pub struct InFlight {
    recording: AbortOnDrop<Result<Vec<Answer>, PipelineError>>,
    key: (Option<Party>, Option<String>),
    pub new_cases: usize,
    pub decided: Vec<crate::domain::CaseStatus>,
    /// The number source before this interchange took from it: a failed recording is answered
    /// again from there.
    pub numbers_before: NumberSource,
}

impl std::fmt::Debug for InFlight {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("InFlight").field("key", &self.key).field("new_cases", &self.new_cases).finish()
    }
}

/// Decides and writes `captured` when it is a plain new interchange (see the module comment);
/// `Ok(None)` when it must be answered one at a time instead, after `in_flight` settled.
pub async fn prepare(
    responder: &Responder,
    numbers: &mut NumberSource,
    file_name: &str,
    captured: &Captured,
    in_flight: Option<&InFlight>,
) -> Result<Option<Prepared>, PipelineError> {
    let new = log_entry(file_name, captured);
    if in_flight.is_some_and(|in_flight| in_flight.key == (new.sender.clone(), new.control_number.clone())) {
        return Ok(None);
    }
    if !is_new(responder.store(), &new).await? {
        return Ok(None);
    }
    let numbers_before = numbers.clone();
    responder.load_numbers().await?;
    let trees = &captured.trees;
    let decisions = responder.decide(trees).await?;
    let mut taken = responder.take_control_numbers(numbers, responder.need(trees, &decisions))?;
    let answers = responder.write(trees, &decisions, taken.as_mut());
    Ok(Some(Prepared {
        new,
        answers,
        new_cases: responder.take_new_cases(),
        case_ids: decisions.case_ids(),
        decided: decisions.case_statuses(),
        advances: responder.number_advances(),
        numbers_before,
    }))
}

/// Starts the recording of a prepared interchange (after the one before it settled).
pub async fn start(responder: &Responder, prepared: Prepared) -> InFlight {
    let Prepared { new, answers, new_cases, case_ids, decided, advances, numbers_before } = prepared;
    let gate = responder.recording_gate().lock_owned().await;
    let recorder = responder.store().clone();
    let key = (new.sender.clone(), new.control_number.clone());
    let new_count = new_cases.len();
    // The answers move into the recording and come back with its outcome: not copied.
    let recording = AbortOnDrop(tokio::spawn(async move {
        let _gate = gate;
        let new_cases = new_cases.into_records()?;
        let outputs: Vec<NewOutput> = answers.into_iter().map(Answer::into_output).collect();
        let recording = Recording {
            entry: Entry::New(&new),
            to_status: status::ANSWERED,
            new_cases: &new_cases,
            case_ids: &case_ids,
            advances: &advances,
            at: Utc::now(),
        };
        recorder.record_answers(&recording, &outputs).await?;
        Ok::<_, PipelineError>(outputs.into_iter().map(Answer::from_output).collect())
    }));
    InFlight { recording, key, new_cases: new_count, decided, numbers_before }
}

/// Waits for a recording: its answers once committed (its cases settled); on an error every
/// held case and number is dropped, and the caller answers the interchange again one at a time
/// from `numbers_before`.
pub async fn settle(responder: &Responder, in_flight: &mut InFlight) -> Result<Vec<Answer>, PipelineError> {
    let outcome = joined((&mut in_flight.recording.0).await);
    match &outcome {
        Ok(_) => responder.settle_new_cases(),
        Err(_) => responder.discard_new_cases(),
    }
    outcome
}
