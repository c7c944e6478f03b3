//! Group commit for the real-time path: several small interchanges (single 278s or 270s posted
//! over HTTP) decided in turn and recorded in one transaction, so that many requests share one
//! commit (one fsync on SQLite) instead of two each.
//!
//! Why it is safe: a new interchange's log entry is written by the group's transaction with its
//! answers (the caller sends an answer only after this returns, so the bytes are stored before
//! they are acknowledged); the group's cases stay visible to the next members of the group while
//! they are decided, and the group's numbers continue in memory and are spent by the same
//! transaction (see [`super::numbers`]). Only plain new interchanges are grouped (nothing logged
//! under their sender and control number, and no other member of the group with the same); the
//! others, and every member of a group whose transaction failed (another writer took numbers,
//! answered or logged one of them), are answered one at a time by
//! [`super::process_interchange`], which handles resubmissions, duplicates and retries.

use std::collections::HashSet;

use chrono::Utc;

use super::answer::{is_new, log_entry, outputs_of};
use super::numbers::NumberSource;
use super::respond::Responder;
use super::{Captured, Disposition, PipelineError, process_interchange};
use crate::storage::interchanges::status;
use crate::storage::record::Entry;
use crate::storage::{NewInterchange, NewOutput, Recording};

/// Answers `items` (file or request name, interchange), in order: the plain new ones decided in
/// turn and recorded in one transaction, the others one at a time.
pub async fn process_group(
    responder: &Responder,
    numbers: &mut NumberSource,
    items: &[(&str, &Captured)],
) -> Result<Vec<Disposition>, PipelineError> {
    let mut dispositions: Vec<Option<Disposition>> = vec![None; items.len()];
    let mut plain = Vec::new();
    let mut keys = HashSet::new();
    for (index, (name, captured)) in items.iter().enumerate() {
        let new = log_entry(name, captured);
        let unique = new.control_number.is_none() || keys.insert((new.sender.clone(), new.control_number.clone()));
        if unique && is_new(responder.store(), &new).await? {
            plain.push((index, new));
        }
    }
    if !plain.is_empty() {
        let before = numbers.clone();
        match record_together(responder, numbers, items, plain).await {
            Ok(answered) => {
                for (index, disposition) in answered {
                    dispositions[index] = Some(disposition);
                }
            }
            Err(_) => {
                // Nothing of the group is stored: every member is answered one at a time below.
                responder.discard_new_cases();
                *numbers = before;
            }
        }
    }
    let mut answered = Vec::with_capacity(items.len());
    for ((name, captured), disposition) in items.iter().zip(dispositions) {
        answered.push(match disposition {
            Some(disposition) => disposition,
            None => process_interchange(responder, numbers, name, captured).await?,
        });
    }
    Ok(answered)
}

/// A member of the group, decided and written.
struct Member {
    index: usize,
    new: NewInterchange,
    outputs: Vec<NewOutput>,
    answers: Vec<super::Answer>,
    new_cases: super::batch::NewCases,
    case_ids: Vec<String>,
    decided: Vec<crate::domain::CaseStatus>,
    advances: Vec<crate::storage::Advance>,
}

async fn record_together(
    responder: &Responder,
    numbers: &mut NumberSource,
    items: &[(&str, &Captured)],
    plain: Vec<(usize, NewInterchange)>,
) -> Result<Vec<(usize, Disposition)>, PipelineError> {
    responder.load_numbers().await?;
    let mut members = Vec::with_capacity(plain.len());
    for (index, new) in plain {
        let trees = &items[index].1.trees;
        let decisions = responder.decide(trees).await?;
        let mut taken = responder.take_control_numbers(numbers, responder.need(trees, &decisions))?;
        let answers = responder.write(trees, &decisions, taken.as_mut());
        members.push(Member {
            index,
            new,
            outputs: outputs_of(&answers),
            answers,
            // Taken, they stay visible to the next members until the group settles.
            new_cases: responder.take_new_cases(),
            case_ids: decisions.case_ids(),
            decided: decisions.case_statuses(),
            advances: responder.number_advances(),
        });
    }
    let records = members.iter().map(|member| member.new_cases.records()).collect::<Result<Vec<_>, _>>()?;
    let at = Utc::now();
    let recordings: Vec<(Recording<'_>, &[NewOutput])> = members
        .iter()
        .zip(&records)
        .map(|(member, records)| {
            let recording = Recording {
                entry: Entry::New(&member.new),
                to_status: status::ANSWERED,
                new_cases: records,
                case_ids: &member.case_ids,
                advances: &member.advances,
                at,
            };
            (recording, member.outputs.as_slice())
        })
        .collect();
    responder.store().record_group(&recordings).await?;
    Ok(members
        .into_iter()
        .map(|member| {
            responder.settle_new_cases();
            let new_cases = member.new_cases.len();
            (member.index, Disposition::Answered { answers: member.answers, new_cases, decided: member.decided })
        })
        .collect())
}
