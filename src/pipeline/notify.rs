//! Later 278 responses: delivers the notifications the store queued when pended cases were
//! decided (see migration 0003 and `domain::workflow::notify`), as 278 response interchanges
//! addressed back to the sender of the interchange that created each case.
//!
//! Why these steps: a notification must reach the submitter once, even with several drains
//! running or a crash in the middle. So each is claimed with a lease; its interchange is written
//! from the stored inbound request and the case as it stands, numbered from the store's
//! sequences (spent in the transaction that keeps the bytes, see [`super::numbers`]), and its
//! bytes are kept in the store *before* the file is written; then it is
//! marked sent, by the lease holder only. A drain that dies after keeping the bytes leaves the
//! notification pending: the next drain (once the lease ended) writes the very same bytes under
//! the same file name, never a second interchange. Several notifications of one case found in
//! one drain become one answer (the case as it stands), the others marked superseded.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use super::PipelineError;
use super::numbers::{Counters, NumberSource, Tally};
use super::respond::answer;
use crate::ack::Outbound;
use crate::domain::CaseRepository;
use crate::grammar::GuideSet;
use crate::mapping::tree::read_trees;
use crate::mapping::x217;
use crate::storage::notifications::status;
use crate::storage::{Advance, NotificationRecord, Store, StoreError};

/// How long a claimed notification stays another drain's before it can be taken over.
const LEASE_SECONDS: i64 = 300;
/// Notifications claimed at a time.
const CLAIM_BATCH: i64 = 100;
/// How many times a notification is written again when other writers keep taking numbers first.
const MAX_ATTEMPTS: u32 = 8;

/// A notification written to the output directory.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Delivered {
    pub notification_id: i64,
    pub case_id: String,
    /// The file written (its name).
    pub file: String,
    /// ISA13 of the 278.
    pub control_number: String,
    /// The case's status as told (`approved`, `denied`, ...).
    pub status: String,
    /// Notifications of the same case folded into this one.
    pub superseded: Vec<i64>,
}

/// A notification that could not be written; it stays pending and is tried again by a later
/// drain once its lease has ended.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Undelivered {
    pub notification_id: i64,
    pub case_id: String,
    pub reason: String,
}

/// What a drain did (`umgate notify --json`, and the `notifications` of `umgate process --json`).
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct DrainSummary {
    pub claimed: u64,
    pub delivered: Vec<Delivered>,
    pub failed: Vec<Undelivered>,
}

/// Who drains: the store, the guides that read the stored requests, the outbound envelope.
#[derive(Debug)]
pub struct Notifier<'a> {
    pub store: &'a Store,
    pub guides: &'a GuideSet,
    pub outbound: &'a Outbound,
    /// The time of the drain (leases, stored timestamps).
    pub now: DateTime<Utc>,
}

/// This process's name on the leases it takes.
fn owner() -> String {
    format!("umgate-notify-{}-{}", std::process::id(), Utc::now().timestamp_micros())
}

impl Notifier<'_> {
    /// Delivers every pending notification into `out_dir` (created when missing).
    pub async fn drain(&self, numbers: &mut NumberSource, out_dir: &Path) -> Result<DrainSummary, PipelineError> {
        std::fs::create_dir_all(out_dir)
            .map_err(|source| PipelineError::Write { path: out_dir.display().to_string(), source })?;
        let owner = owner();
        let lease_until = self.now + Duration::seconds(LEASE_SECONDS);
        let mut summary = DrainSummary::default();
        loop {
            // What failed stays leased to us, so it is not claimed again by this drain.
            let claimed = self.store.claim_notifications(self.now, &owner, lease_until, CLAIM_BATCH).await?;
            if claimed.is_empty() {
                break;
            }
            summary.claimed += claimed.len() as u64;
            let mut by_case: BTreeMap<String, Vec<NotificationRecord>> = BTreeMap::new();
            for record in claimed {
                by_case.entry(record.case_id.clone()).or_default().push(record);
            }
            let mut batches: Vec<Vec<NotificationRecord>> = by_case.into_values().collect();
            batches.sort_by_key(|records| records.iter().map(|record| record.id).max());
            for mut records in batches {
                // The latest tells the case as it stands; one that already has its bytes (an
                // earlier drain stopped after keeping them) is delivered as kept.
                records.sort_by_key(|record| (record.content.is_some(), record.id));
                let Some(chosen) = records.pop() else { continue };
                match self.deliver(&chosen, &owner, numbers, out_dir).await {
                    Ok(Some(mut delivered)) => {
                        for other in &records {
                            if self.store.mark_notification(other.id, &owner, status::SUPERSEDED, self.now).await? {
                                delivered.superseded.push(other.id);
                            }
                        }
                        summary.delivered.push(delivered);
                    }
                    Ok(None) => {}
                    Err(reason) => summary.failed.push(Undelivered {
                        notification_id: chosen.id,
                        case_id: chosen.case_id.clone(),
                        reason,
                    }),
                }
            }
        }
        Ok(summary)
    }

    /// Writes and marks one notification. `Ok(None)`: another drain took it over meanwhile.
    /// `Err`: why it cannot be delivered now (it stays pending for a later drain).
    async fn deliver(
        &self,
        record: &NotificationRecord,
        owner: &str,
        numbers: &mut NumberSource,
        out_dir: &Path,
    ) -> Result<Option<Delivered>, String> {
        let case = CaseRepository::get_case(self.store, &record.case_id)
            .await
            .map_err(|error| error.to_string())?
            .ok_or_else(|| format!("case {} not found", record.case_id))?;
        let (control_number, bytes) = match (&record.control_number, &record.content) {
            (Some(control), Some(bytes)) => (control.clone(), bytes.clone()),
            _ => {
                let mut attempts = 0;
                loop {
                    attempts += 1;
                    let before = numbers.clone();
                    let (control, bytes, advances) = self.write(record, &case, numbers).await?;
                    // The numbers are spent in the transaction that keeps the bytes.
                    match self
                        .store
                        .store_notification_content(record.id, owner, &control, &bytes, &advances, self.now)
                        .await
                    {
                        Ok(true) => break (control, bytes),
                        // Another drain kept an answer first, or took the lease over: its answer wins.
                        Ok(false) => {
                            *numbers = before;
                            return Ok(None);
                        }
                        Err(StoreError::SequenceMoved { .. }) if attempts < MAX_ATTEMPTS => *numbers = before,
                        Err(error) => return Err(error.to_string()),
                    }
                }
            }
        };
        let file = notification_file_name(record, &control_number);
        write_atomically(&out_dir.join(&file), &bytes)?;
        let marked =
            self.store.mark_notification(record.id, owner, status::SENT, self.now).await.map_err(|e| e.to_string())?;
        if !marked {
            return Ok(None);
        }
        Ok(Some(Delivered {
            notification_id: record.id,
            case_id: record.case_id.clone(),
            file,
            control_number,
            status: case.status.as_str().to_owned(),
            superseded: Vec::new(),
        }))
    }

    /// The 278 response for the case as it stands, answering its request in the stored inbound
    /// interchange.
    async fn write(
        &self,
        record: &NotificationRecord,
        case: &crate::domain::Case,
        numbers: &mut NumberSource,
    ) -> Result<(String, Vec<u8>, Vec<Advance>), String> {
        let interchange_id = record.interchange_id.ok_or("no inbound interchange to answer")?;
        let inbound = self
            .store
            .get_interchange(interchange_id)
            .await
            .map_err(|error| error.to_string())?
            .ok_or_else(|| format!("interchange {interchange_id} not found"))?;
        let trees = read_trees(inbound.content.as_slice(), &inbound.entry.file_name, self.guides)
            .map_err(|error| format!("interchange {interchange_id} cannot be read again: {error}"))?;
        let trees = trees.first().ok_or_else(|| format!("interchange {interchange_id} holds no interchange"))?;
        let set = x217::find_request_set(trees, case)
            .ok_or_else(|| format!("interchange {interchange_id} holds no request of case {}", case.id))?;
        let mut tally = Tally::default();
        x217::write_notification(trees, set, case, self.outbound, &mut tally)
            .ok_or_else(|| format!("interchange {interchange_id} cannot be answered (no readable header)"))?;
        // The sequences as they stand now: a notification is written rarely, by whoever drains.
        let mut counters = Counters::load(self.store).await.map_err(|error| error.to_string())?;
        let mut taken = numbers.take(&mut counters, tally);
        let bytes = x217::write_notification(trees, set, case, self.outbound, taken.as_mut())
            .ok_or_else(|| format!("interchange {interchange_id} cannot be answered"))?;
        let written = answer("278", bytes);
        Ok((written.control_number, written.bytes, counters.advances()))
    }
}

/// `notification.<notification id, 9 digits>.<case id>.278.<ISA13>.x12`: the same name when a
/// retry writes the same notification again.
pub fn notification_file_name(record: &NotificationRecord, control_number: &str) -> String {
    let safe = |text: &str| -> String {
        text.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect()
    };
    format!("notification.{:09}.{}.278.{}.x12", record.id, safe(&record.case_id), safe(control_number.trim()))
}

/// Writes through a temporary file renamed into place: a reader of the directory never sees half
/// an interchange.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let mut temporary = PathBuf::from(path);
    temporary.set_extension("x12.partial");
    std::fs::write(&temporary, bytes)
        .and_then(|()| std::fs::rename(&temporary, path))
        .map_err(|error| format!("writing {}: {error}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_stable_and_safe() {
        let record = NotificationRecord {
            id: 7,
            case_id: "C000000001".into(),
            event_seq: 9,
            queued_at: Utc::now(),
            interchange_id: Some(1),
            sender: None,
            receiver: None,
            status: status::PENDING.into(),
            claimed_by: None,
            control_number: None,
            content: None,
            written_at: None,
            sent_at: None,
        };
        assert_eq!(notification_file_name(&record, "000000012"), "notification.000000007.C000000001.278.000000012.x12");
        assert_eq!(notification_file_name(&record, "1/2"), "notification.000000007.C000000001.278.1_2.x12");
    }
}
