//! One inbound interchange through the log: stored verbatim first, then answered (or answered
//! again from what was stored, for a resubmission), and its answers recorded with it.
//!
//! Why the order: SPEC section 2 wants every interchange kept before any acknowledgment is sent,
//! and a resubmission (same sender, same ISA13, same bytes) answered with the same answers and no
//! second case. So the log is consulted by sender and control number before anything is decided:
//! same bytes and answered → the stored answers; same bytes but never answered (a crash between
//! the two writes) → processed again under the same log entry; other bytes → a duplicate control
//! number, stored (nothing is lost) but not processed.

use chrono::Utc;
use sha2::{Digest, Sha256};

use super::numbers::NumberSource;
use super::respond::{Answer, Responder};
use super::{Captured, PipelineError};
use crate::ack::ta1_duplicate_interchange;
use crate::storage::interchanges::status;
use crate::storage::record::Entry;
use crate::storage::{InterchangeEntry, NewInterchange, NewOutput, Party, Recording, Store, StoreError};

/// What became of one inbound interchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Disposition {
    /// Processed now.
    Answered {
        answers: Vec<Answer>,
        new_cases: usize,
        /// The statuses of the cases its requests created or changed, as they stand after it.
        decided: Vec<crate::domain::CaseStatus>,
    },
    /// Seen before with the same bytes: the stored answers, unchanged.
    Resubmitted { answers: Vec<Answer>, first_received: chrono::DateTime<Utc> },
    /// Same sender and ISA13 as an earlier interchange with other content: stored, not processed,
    /// refused with a TA1 `R` `025` (none when the header cannot be answered: an acknowledgment).
    /// A repeat of the same duplicate gets the stored TA1 again.
    DuplicateControlNumber { original_received: chrono::DateTime<Utc>, answers: Vec<Answer> },
}

/// Lowercase hex SHA-256.
pub fn content_hash(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut text = String::with_capacity(64);
    for byte in digest {
        text.push_str(&format!("{byte:02x}"));
    }
    text
}

/// The log entry of an interchange (status `received`).
pub(super) fn log_entry(file_name: &str, captured: &Captured) -> NewInterchange {
    let header = captured.report().header.as_ref();
    let sender = header.map(|h| Party { qualifier: h.field(5).trim().to_owned(), id: h.field(6).trim().to_owned() });
    let receiver = header.map(|h| Party { qualifier: h.field(7).trim().to_owned(), id: h.field(8).trim().to_owned() });
    let control_number = header.map(|h| h.control_number().trim().to_owned()).filter(|control| !control.is_empty());
    NewInterchange {
        sender,
        receiver,
        control_number,
        received_at: Utc::now(),
        content_sha256: content_hash(&captured.bytes),
        file_name: file_name.to_owned(),
        byte_offset: i64::try_from(captured.offset).unwrap_or(i64::MAX),
        status: status::RECEIVED.to_owned(),
        duplicate_of: None,
        content: captured.bytes.clone(),
        contents: Some(super::log_index::contents_of(&captured.bytes)),
    }
}

/// What the log holds under the entry's sender and control number.
async fn earlier_entries(store: &Store, new: &NewInterchange) -> Result<Vec<InterchangeEntry>, StoreError> {
    match (&new.sender, &new.control_number) {
        (Some(sender), Some(control)) => store.interchanges_with_control_number(sender, control).await,
        _ => Ok(Vec::new()),
    }
}

/// Whether the log has nothing under the entry's sender and control number: a new interchange.
pub(super) async fn is_new(store: &Store, new: &NewInterchange) -> Result<bool, StoreError> {
    Ok(matches!(judge(&earlier_entries(store, new).await?, &new.content_sha256), Judgement::New))
}

/// Logs, dedupes and answers one interchange.
pub async fn process_interchange(
    responder: &Responder,
    numbers: &mut NumberSource,
    file_name: &str,
    captured: &Captured,
) -> Result<Disposition, PipelineError> {
    let store = responder.store();
    let mut new = log_entry(file_name, captured);
    // Two attempts: another instance may log the same interchange between our look-up and insert.
    let mut attempts = 0;
    let (id, received_at) = loop {
        attempts += 1;
        let earlier = earlier_entries(store, &new).await?;
        match judge(&earlier, &new.content_sha256) {
            Judgement::New => match store.insert_interchange(&new).await {
                Ok(id) => break (id, new.received_at),
                Err(StoreError::Duplicate { .. }) if attempts < 2 => continue,
                Err(error) => return Err(error.into()),
            },
            Judgement::Unanswered(entry) => break (entry.id, entry.received_at),
            Judgement::Answered(entry) => {
                let answers = stored_answers(store, entry.id).await?;
                return Ok(Disposition::Resubmitted { answers, first_received: entry.received_at });
            }
            Judgement::KnownDuplicate { entry, original } => {
                // Already kept (the same bytes came before): refused again with the same TA1, not
                // stored twice. A duplicate kept before its TA1 was recorded gets one now.
                let mut answers = stored_answers(store, entry.id).await?;
                if answers.is_empty() {
                    answers = refuse_duplicate(responder, numbers, captured, entry.id).await?;
                }
                return Ok(Disposition::DuplicateControlNumber { original_received: original.received_at, answers });
            }
            Judgement::OtherContent(original) => {
                new.status = status::DUPLICATE_CONTROL_NUMBER.to_owned();
                new.duplicate_of = Some(original.id);
                let id = store.insert_interchange(&new).await?;
                let answers = refuse_duplicate(responder, numbers, captured, id).await?;
                return Ok(Disposition::DuplicateControlNumber { original_received: original.received_at, answers });
            }
        }
    };
    answer_logged(responder, numbers, captured, id, received_at).await
}

/// How many times an interchange is decided again when other writers keep taking numbers first.
const MAX_ATTEMPTS: u32 = 8;

/// Decides, writes and records a logged interchange, again when another writer took numbers
/// meanwhile; answered by another writer first, it is a resubmission.
async fn answer_logged(
    responder: &Responder,
    numbers: &mut NumberSource,
    captured: &Captured,
    id: i64,
    received_at: chrono::DateTime<Utc>,
) -> Result<Disposition, PipelineError> {
    let mut attempts = 0;
    loop {
        attempts += 1;
        let before = numbers.clone();
        let outcome = answer_once(responder, numbers, captured, id).await;
        if outcome.is_err() {
            // Nothing was recorded: the cases and numbers of this attempt are not spent.
            responder.discard_new_cases();
            *numbers = before;
        }
        match outcome {
            Err(PipelineError::Store(StoreError::SequenceMoved { .. })) if attempts < MAX_ATTEMPTS => {
                back_off(attempts).await;
            }
            Err(PipelineError::Store(StoreError::SequenceMoved { name })) => {
                return Err(PipelineError::Contended { sequence: name, attempts });
            }
            Err(PipelineError::Store(StoreError::AlreadyRecorded)) => {
                let answers = stored_answers(responder.store(), id).await?;
                return Ok(Disposition::Resubmitted { answers, first_received: received_at });
            }
            other => return other,
        }
    }
}

/// A short wait that grows with the attempts, spread so that two instances do not meet again.
async fn back_off(attempts: u32) {
    let spread = u64::from(std::process::id() % 7) + u64::from(Utc::now().timestamp_subsec_micros() % 5);
    tokio::time::sleep(std::time::Duration::from_millis(u64::from(attempts) * 5 + spread)).await;
}

/// One attempt: decide, take numbers, write and record. Any error leaves nothing recorded.
async fn answer_once(
    responder: &Responder,
    numbers: &mut NumberSource,
    captured: &Captured,
    id: i64,
) -> Result<Disposition, PipelineError> {
    let store = responder.store();
    responder.load_numbers().await?;
    let trees = &captured.trees;
    let decisions = responder.decide(trees).await?;
    let mut taken = responder.take_control_numbers(numbers, responder.need(trees, &decisions))?;
    let advances = responder.number_advances();
    let new_cases = responder.take_new_cases();
    let new_count = new_cases.len();
    let case_ids = decisions.case_ids();
    let decided = decisions.case_statuses();
    // The store starts the transaction and inserts the new cases (on a task of the runtime, which
    // also turns them into JSON text, the database working on its own thread or process) while the
    // answers are written here; the answers then join the same transaction.
    let (send_outputs, outputs) = tokio::sync::oneshot::channel::<Vec<NewOutput>>();
    let recorder = store.clone();
    let mut recording = AbortOnDrop(tokio::spawn(async move {
        let new_cases = new_cases.into_records()?;
        let outputs = async { outputs.await.ok() };
        let recording = Recording {
            entry: Entry::Logged { id, from_status: status::RECEIVED },
            to_status: status::ANSWERED,
            new_cases: &new_cases,
            case_ids: &case_ids,
            advances: &advances,
            at: Utc::now(),
        };
        recorder.record_answers_when(&recording, outputs).await?;
        Ok::<(), PipelineError>(())
    }));
    let answers = responder.write(trees, &decisions, taken.as_mut());
    // A send fails only when the recording already failed: its error is reported below.
    let _ = send_outputs.send(outputs_of(&answers));
    joined((&mut recording.0).await)?;
    responder.settle_new_cases();
    Ok(Disposition::Answered { answers, new_cases: new_count, decided })
}

/// The outcome of a recording task (a panic in it goes on in the caller).
pub(super) fn joined<T>(outcome: Result<Result<T, PipelineError>, tokio::task::JoinError>) -> Result<T, PipelineError> {
    match outcome {
        Ok(recorded) => recorded,
        Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
        Err(_) => Err(StoreError::NotFound { what: "recorded answers" }.into()),
    }
}

/// A task aborted when its handle is dropped: a caller that has gone (a dropped future, a request
/// whose client left) never has its interchange recorded behind its back; the transaction rolls
/// back and the interchange stays unanswered, to be answered again.
pub(super) struct AbortOnDrop<T>(pub(super) tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

pub(super) fn outputs_of(answers: &[Answer]) -> Vec<NewOutput> {
    answers
        .iter()
        .map(|answer| NewOutput {
            kind: answer.kind.clone(),
            control_number: answer.control_number.clone(),
            content: answer.bytes.clone(),
        })
        .collect()
}

/// The answers recorded for a logged interchange, in the order written.
async fn stored_answers(store: &crate::storage::Store, id: i64) -> Result<Vec<Answer>, PipelineError> {
    Ok(store
        .interchange_outputs(id)
        .await?
        .into_iter()
        .map(|output| Answer { kind: output.kind, control_number: output.control_number, bytes: output.content })
        .collect())
}

/// The TA1 025 of a duplicate control number (logged as `id`), recorded as its answer (once: a
/// writer that loses the race to record it gets the winner's).
async fn refuse_duplicate(
    responder: &Responder,
    numbers: &mut NumberSource,
    captured: &Captured,
    id: i64,
) -> Result<Vec<Answer>, PipelineError> {
    let report = captured.report();
    let mut tally = super::numbers::Tally::default();
    if ta1_duplicate_interchange(report, responder.outbound(), &mut tally).is_none() {
        return Ok(Vec::new());
    }
    let mut attempts = 0;
    loop {
        attempts += 1;
        let before = numbers.clone();
        let outcome = async {
            responder.load_numbers().await?;
            let mut taken = responder.take_control_numbers(numbers, tally)?;
            let answers: Vec<Answer> = ta1_duplicate_interchange(report, responder.outbound(), taken.as_mut())
                .map(|bytes| super::respond::answer("TA1", bytes))
                .into_iter()
                .collect();
            let recording = Recording {
                entry: Entry::Logged { id, from_status: status::DUPLICATE_CONTROL_NUMBER },
                to_status: status::DUPLICATE_CONTROL_NUMBER,
                new_cases: &[],
                case_ids: &[],
                advances: &responder.number_advances(),
                at: Utc::now(),
            };
            responder.store().record_answers(&recording, &outputs_of(&answers)).await?;
            Ok::<_, PipelineError>(answers)
        }
        .await;
        if outcome.is_err() {
            responder.discard_new_cases();
            *numbers = before;
        }
        match outcome {
            Err(PipelineError::Store(StoreError::SequenceMoved { .. })) if attempts < MAX_ATTEMPTS => {
                back_off(attempts).await;
            }
            Err(PipelineError::Store(StoreError::SequenceMoved { name })) => {
                return Err(PipelineError::Contended { sequence: name, attempts });
            }
            Err(PipelineError::Store(StoreError::AlreadyRecorded)) => {
                return stored_answers(responder.store(), id).await;
            }
            other => return other,
        }
    }
}

enum Judgement<'a> {
    New,
    /// Same bytes, logged but never answered.
    Unanswered(&'a InterchangeEntry),
    Answered(&'a InterchangeEntry),
    /// Other bytes under the same sender and control number: the original.
    OtherContent(&'a InterchangeEntry),
    /// The same bytes as a duplicate already kept (`entry`), and the original it repeats.
    KnownDuplicate {
        entry: &'a InterchangeEntry,
        original: &'a InterchangeEntry,
    },
}

fn judge<'a>(earlier: &'a [InterchangeEntry], content_sha256: &str) -> Judgement<'a> {
    if let Some(same) = earlier.iter().find(|entry| entry.content_sha256 == content_sha256) {
        if let Some(original) = same.duplicate_of.and_then(|id| earlier.iter().find(|entry| entry.id == id)) {
            return Judgement::KnownDuplicate { entry: same, original };
        }
        return if same.status == status::RECEIVED { Judgement::Unanswered(same) } else { Judgement::Answered(same) };
    }
    match earlier.iter().find(|entry| entry.duplicate_of.is_none()) {
        Some(original) => Judgement::OtherContent(original),
        None => Judgement::New,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: i64, hash: &str, status: &str, duplicate_of: Option<i64>) -> InterchangeEntry {
        InterchangeEntry {
            id,
            received_at: Utc::now(),
            content_sha256: hash.into(),
            file_name: "f".into(),
            status: status.into(),
            duplicate_of,
        }
    }

    #[test]
    fn same_bytes_are_a_resubmission_other_bytes_a_duplicate() {
        assert!(matches!(judge(&[], "a"), Judgement::New));
        let log = [entry(1, "a", status::ANSWERED, None), entry(2, "b", status::DUPLICATE_CONTROL_NUMBER, Some(1))];
        assert!(matches!(judge(&log, "a"), Judgement::Answered(e) if e.id == 1));
        assert!(
            matches!(judge(&log, "b"), Judgement::KnownDuplicate { entry, original } if entry.id == 2 && original.id == 1)
        );
        assert!(matches!(judge(&log, "c"), Judgement::OtherContent(e) if e.id == 1));
        let crashed = [entry(3, "a", status::RECEIVED, None)];
        assert!(matches!(judge(&crashed, "a"), Judgement::Unanswered(e) if e.id == 3));
    }

    #[test]
    fn content_hash_is_hex_sha256() {
        assert_eq!(content_hash(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
