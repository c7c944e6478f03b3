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

use super::numbers::{NumberSource, Tally};
use super::{Captured, PipelineError};
use crate::ack::{ControlNumbers, Outbound, ack_999_interchange, ta1_interchange};
use crate::storage::interchanges::status;
use crate::storage::{InterchangeEntry, NewInterchange, NewOutput, Party, Store, StoreError};

/// One answer interchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// `TA1`, `999`, `278` or `271`.
    pub kind: String,
    /// Its ISA13.
    pub control_number: String,
    pub bytes: Vec<u8>,
}

/// What became of one inbound interchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Disposition {
    /// Processed now.
    Answered { answers: Vec<Answer>, case_ids: Vec<String> },
    /// Seen before with the same bytes: the stored answers, unchanged.
    Resubmitted { answers: Vec<Answer>, first_received: chrono::DateTime<Utc> },
    /// Same sender and ISA13 as an earlier interchange with other content: stored, not processed.
    DuplicateControlNumber { original_received: chrono::DateTime<Utc> },
}

/// The answers of a new interchange, before they are logged (mapping adds its own here).
pub trait Responder {
    /// Writes the answers of `captured` with control numbers from `numbers`; returns them with the
    /// ids of the cases they answer. Called twice per interchange (first to count the control
    /// numbers needed, then for real): it must give the same answers both times and change nothing.
    fn answers(
        &mut self,
        captured: &Captured,
        numbers: &mut dyn ControlNumbers,
    ) -> Result<(Vec<Answer>, Vec<String>), PipelineError>;
}

/// The acknowledgments only: TA1 (when the envelope calls for one) and 999.
#[derive(Debug, Clone)]
pub struct Acknowledgments {
    pub outbound: Outbound,
}

impl Responder for Acknowledgments {
    fn answers(
        &mut self,
        captured: &Captured,
        numbers: &mut dyn ControlNumbers,
    ) -> Result<(Vec<Answer>, Vec<String>), PipelineError> {
        Ok((acknowledgments(captured, &self.outbound, numbers), Vec::new()))
    }
}

/// The TA1 and 999 of an interchange (the logic of `umgate validate --ack-dir`).
pub fn acknowledgments(captured: &Captured, outbound: &Outbound, numbers: &mut dyn ControlNumbers) -> Vec<Answer> {
    let mut answers = Vec::new();
    if let Some(bytes) = ta1_interchange(&captured.report, outbound, numbers) {
        answers.push(answer("TA1", bytes));
    }
    if let Some(bytes) = ack_999_interchange(&captured.report, outbound, numbers) {
        answers.push(answer("999", bytes));
    }
    answers
}

/// An answer with its ISA13 read back from its own ISA (fixed width: bytes 90..99).
pub fn answer(kind: &str, bytes: Vec<u8>) -> Answer {
    let control_number = bytes.get(90..99).map(|n| String::from_utf8_lossy(n).into_owned()).unwrap_or_default();
    Answer { kind: kind.to_owned(), control_number, bytes }
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

/// Logs, dedupes and answers one interchange.
pub async fn process_interchange(
    store: &Store,
    numbers: &mut NumberSource,
    responder: &mut dyn Responder,
    file_name: &str,
    captured: &Captured,
) -> Result<Disposition, PipelineError> {
    let header = captured.report.header.as_ref();
    let sender = header.map(|h| Party { qualifier: h.field(5).trim().to_owned(), id: h.field(6).trim().to_owned() });
    let receiver = header.map(|h| Party { qualifier: h.field(7).trim().to_owned(), id: h.field(8).trim().to_owned() });
    let control_number = header.map(|h| h.control_number().trim().to_owned()).filter(|control| !control.is_empty());
    let content_sha256 = content_hash(&captured.bytes);
    let mut new = NewInterchange {
        sender,
        receiver,
        control_number,
        received_at: Utc::now(),
        content_sha256,
        file_name: file_name.to_owned(),
        byte_offset: i64::try_from(captured.offset).unwrap_or(i64::MAX),
        status: status::RECEIVED.to_owned(),
        duplicate_of: None,
        content: captured.bytes.clone(),
    };
    // Two attempts: another instance may log the same interchange between our look-up and insert.
    let mut attempts = 0;
    let id = loop {
        attempts += 1;
        let earlier = match (&new.sender, &new.control_number) {
            (Some(sender), Some(control)) => store.interchanges_with_control_number(sender, control).await?,
            _ => Vec::new(),
        };
        match judge(&earlier, &new.content_sha256) {
            Judgement::New => match store.insert_interchange(&new).await {
                Ok(id) => break id,
                Err(StoreError::Duplicate { .. }) if attempts < 2 => continue,
                Err(error) => return Err(error.into()),
            },
            Judgement::Unanswered(id) => break id,
            Judgement::Answered(entry) => {
                let answers = store
                    .interchange_outputs(entry.id)
                    .await?
                    .into_iter()
                    .map(|output| Answer {
                        kind: output.kind,
                        control_number: output.control_number,
                        bytes: output.content,
                    })
                    .collect();
                return Ok(Disposition::Resubmitted { answers, first_received: entry.received_at });
            }
            Judgement::OtherContent(original) => {
                new.status = status::DUPLICATE_CONTROL_NUMBER.to_owned();
                new.duplicate_of = Some(original.id);
                store.insert_interchange(&new).await?;
                return Ok(Disposition::DuplicateControlNumber { original_received: original.received_at });
            }
        }
    };
    let mut tally = Tally::default();
    responder.answers(captured, &mut tally)?;
    let mut reserved = numbers.reserve(store, tally).await?;
    let (answers, case_ids) = responder.answers(captured, reserved.as_mut())?;
    let outputs: Vec<NewOutput> = answers
        .iter()
        .map(|answer| NewOutput {
            kind: answer.kind.clone(),
            control_number: answer.control_number.clone(),
            content: answer.bytes.clone(),
        })
        .collect();
    store.record_answers(id, status::ANSWERED, &outputs, &case_ids, Utc::now()).await?;
    Ok(Disposition::Answered { answers, case_ids })
}

enum Judgement<'a> {
    New,
    /// Same bytes, logged but never answered.
    Unanswered(i64),
    Answered(&'a InterchangeEntry),
    /// Other bytes under the same sender and control number: the original.
    OtherContent(&'a InterchangeEntry),
}

fn judge<'a>(earlier: &'a [InterchangeEntry], content_sha256: &str) -> Judgement<'a> {
    if let Some(same) = earlier.iter().find(|entry| entry.content_sha256 == content_sha256) {
        return if same.status == status::RECEIVED {
            Judgement::Unanswered(same.id)
        } else {
            Judgement::Answered(same)
        };
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
        assert!(matches!(judge(&log, "b"), Judgement::Answered(e) if e.id == 2));
        assert!(matches!(judge(&log, "c"), Judgement::OtherContent(e) if e.id == 1));
        let crashed = [entry(3, "a", status::RECEIVED, None)];
        assert!(matches!(judge(&crashed, "a"), Judgement::Unanswered(3)));
    }

    #[test]
    fn content_hash_is_hex_sha256() {
        assert_eq!(content_hash(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
