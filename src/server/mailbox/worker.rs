//! The mailbox worker: a thread of its own that takes jobs (open jobs first: queued, or taken over
//! from an instance whose lease ended; then new files from the inboxes), runs each through the
//! batch path (`crate::pipeline::run`, the one `umgate process` uses), publishes the answers to the
//! partner's outbox and moves the file to archive/ or failed/. Between jobs it runs the due timers
//! and routes the later 278 responses to the outbox of the partner whose file brought the case.
//!
//! Why a thread with its own runtime: the batch path blocks the thread that drives it (a reader
//! thread hands it one interchange at a time), so it cannot run on the daemon's runtime without
//! starving it; the daemon keeps serving HTTP and renewing this instance's leases meanwhile.
//!
//! Why the order of the steps of a job: the answers are staged beside the claimed file and
//! published (flushed, renamed into the outbox) before the job is marked done, and the file is
//! moved last. A crash anywhere before "done" leaves the job open with its file: it is processed
//! again once its lease ends, and its interchanges already answered are resubmissions, answered
//! from the interchange log with the same bytes under the same names. A crash after "done" leaves
//! at most the file to move, which [`Worker::finish_moves`] does at the next start.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::Utc;
use serde_json::json;

use super::Shared;
use super::tree::{self, PartnerDirs};
use crate::ack::Outbound;
use crate::domain::{CaseService, Clock};
use crate::pipeline::notify::Notifier;
use crate::pipeline::{BatchOptions, NumberSource, PipelineClock, PipelineError, Responder};
use crate::storage::jobs::{JobRecord, NewJob, source, status};
use crate::storage::{Store, StoreError};

/// What to do about a file that is not X12 (`what_to_do` of its error note).
const NOT_X12: &str = "The file could not be read as X12 interchanges (ISA ... IEA). Check that it is the batch you \
    meant to send, complete and neither compressed nor encrypted, then drop a corrected copy into inbox/. Answers to \
    interchanges read before the problem, if any, are in outbox/.";
/// What to do about a file whose processing failed for another reason, repeatedly.
const FAILED_REPEATEDLY: &str = "Processing failed repeatedly for a reason other than the file (see error and the \
    daemon's log). Once that is fixed, move the file back into inbox/ to have it processed.";
/// Due timers applied per housekeeping round.
const TIMER_BATCH: usize = 1000;

pub(super) struct Worker {
    shared: Arc<Shared>,
    runtime: tokio::runtime::Runtime,
    store: Store,
}

/// How a job's processing ended.
enum Outcome {
    Done(crate::pipeline::Summary),
    /// The file cannot be processed (unreadable, not X12): it goes to failed/.
    BadFile(String),
    /// Something else failed (the database): tried again later.
    Retry(String),
}

impl Worker {
    /// Opens the worker's own connections (on its own runtime).
    pub(super) fn open(shared: Arc<Shared>) -> anyhow::Result<Worker> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("umgate-mailbox-rt")
            .enable_all()
            .build()
            .context("starting the mailbox runtime")?;
        let store = runtime.block_on(Store::connect(&shared.database_url)).context("opening the database")?;
        Ok(Worker { shared, runtime, store })
    }

    /// Works until the daemon stops.
    pub(super) fn run(self) {
        if let Err(error) = self.finish_moves() {
            tracing::warn!(error = %error, "mailbox: finishing the moves of ended jobs");
        }
        let mut next_housekeeping = Instant::now();
        while !self.stopping() {
            let worked = match self.step() {
                Ok(worked) => worked,
                Err(error) => {
                    tracing::warn!(error = %format!("{error:#}"), "mailbox: taking work failed; trying again");
                    false
                }
            };
            if Instant::now() >= next_housekeeping && !self.stopping() {
                self.housekeeping();
                next_housekeeping = Instant::now() + self.shared.config.housekeeping_interval;
            }
            if !worked {
                self.pause(self.shared.config.poll_interval);
            }
        }
        self.runtime.block_on(self.store.close());
    }

    fn stopping(&self) -> bool {
        self.shared.stopping.load(Ordering::SeqCst)
    }

    /// Sleeps, waking early when the daemon stops.
    fn pause(&self, length: Duration) {
        let deadline = Instant::now() + length;
        while !self.stopping() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            std::thread::sleep(left.min(Duration::from_millis(50)));
        }
    }

    /// Takes and processes one job; `false` when there was none.
    fn step(&self) -> anyhow::Result<bool> {
        let now = Utc::now();
        let claimed = self.runtime.block_on(self.store.claim_job(now, &self.shared.owner, self.lease_until()))?;
        if let Some(job) = claimed {
            self.process_or_release(job)?;
            return Ok(true);
        }
        let mut waiting = Vec::new();
        for partner in &self.shared.partners {
            let dirs = self.shared.tree.partner(partner);
            match tree::ready_files(&dirs.inbox) {
                Ok(names) => waiting.push((partner, dirs, names)),
                Err(error) => tracing::warn!(partner = %partner, error = %error, "mailbox: cannot read the inbox"),
            }
        }
        let depth = waiting.iter().map(|(_, _, names)| names.len() as u64).sum();
        self.shared.metrics.set_queue_depth(crate::server::metrics::Queue::MailboxInbox, depth);
        for (partner, dirs, names) in waiting {
            for name in names {
                if self.stopping() {
                    return Ok(false);
                }
                if let Some(job) = self.claim_file(partner, &dirs, &name)? {
                    self.process_or_release(job)?;
                    return Ok(true);
                }
            }
        }
        Ok(false)
    }

    fn lease_until(&self) -> chrono::DateTime<Utc> {
        Utc::now() + chrono::Duration::from_std(self.shared.config.lease).unwrap_or(chrono::Duration::seconds(60))
    }

    /// Claims `inbox/name`: a job leased to this instance first, then the rename into the job's
    /// work directory. Another instance that renamed it first wins; this job is then removed.
    fn claim_file(&self, partner: &str, dirs: &PartnerDirs, name: &str) -> anyhow::Result<Option<JobRecord>> {
        let work_dir = dirs.work.join(self.shared.next_token());
        let stored = work_dir.join(name);
        let stored_text = stored.display().to_string();
        let job = NewJob {
            partner,
            source: source::INBOX,
            file_name: name,
            stored_path: &stored_text,
            size_bytes: None,
            sha256: None,
        };
        let now = Utc::now();
        let id =
            self.runtime.block_on(self.store.insert_job(&job, Some((&self.shared.owner, self.lease_until())), now))?;
        let renamed = std::fs::create_dir_all(&work_dir).and_then(|()| std::fs::rename(dirs.inbox.join(name), &stored));
        if let Err(error) = renamed {
            self.runtime.block_on(self.store.delete_unclaimed_job(id))?;
            let _ = std::fs::remove_dir(&work_dir);
            if error.kind() != std::io::ErrorKind::NotFound {
                tracing::warn!(partner = %partner, error = %error, "mailbox: cannot claim an inbox file");
            }
            return Ok(None);
        }
        tree::sync_dir(&work_dir).and_then(|()| tree::sync_dir(&dirs.inbox)).context("flushing the claim")?;
        tracing::info!(partner = %partner, job = id, file = %name, "mailbox: file claimed");
        Ok(self.runtime.block_on(self.store.get_job(id))?)
    }

    /// Processes a job; if that fails half way (the outbox cannot be written, the database is
    /// gone), the job is given back with the reason, to be tried again: never left leased to an
    /// instance that renews the lease but no longer works on it.
    fn process_or_release(&self, job: JobRecord) -> anyhow::Result<()> {
        let id = job.id;
        let Err(error) = self.process(job) else { return Ok(()) };
        let reason = format!("{error:#}");
        tracing::warn!(job = id, error = %reason, "mailbox: job interrupted; given back for a retry");
        let now = Utc::now();
        self.runtime.block_on(async {
            self.store.note_job_error(id, &self.shared.owner, &reason, now).await?;
            self.store.release_jobs(&self.shared.owner, now).await
        })?;
        self.pause(self.shared.config.poll_interval);
        Ok(())
    }

    fn process(&self, job: JobRecord) -> anyhow::Result<()> {
        let stored = PathBuf::from(&job.stored_path);
        if !stored.exists() {
            // A claim that died before its rename: there is nothing to process.
            tracing::info!(job = job.id, "mailbox: removing a claim that never got its file");
            self.runtime.block_on(self.store.delete_unclaimed_job(job.id))?;
            return Ok(());
        }
        let dirs = self.shared.tree.partner(&job.partner);
        if job.attempts > i64::from(self.shared.config.max_attempts) {
            let reason = job.error.clone().unwrap_or_else(|| "interrupted too often".to_owned());
            return self.fail(&job, &dirs, &reason, FAILED_REPEATEDLY, &[], None);
        }
        tracing::info!(partner = %job.partner, job = job.id, attempt = job.attempts, "mailbox: processing");
        let started = Instant::now();
        if job.sha256.is_none() {
            let (size, sha256) = tree::size_and_sha256(&stored).context("reading the claimed file")?;
            let size = i64::try_from(size).unwrap_or(i64::MAX);
            self.runtime.block_on(self.store.record_job_file(job.id, &self.shared.owner, size, &sha256))?;
        }
        let staged = stored.parent().unwrap_or(Path::new(".")).join("answers");
        // What a crashed attempt staged is written again, whole, by this one.
        let _ = std::fs::remove_dir_all(&staged);
        let outcome = self.run_pipeline(&stored, &staged);
        let answers = tree::publish(&staged, &dirs.outbox).context("publishing the answers")?;
        let numbers: Vec<String> = answers.iter().filter_map(|name| answer_control_number(name)).collect();
        self.runtime.block_on(self.store.link_job_interchanges(job.id, &numbers))?;
        let now = Utc::now();
        let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        match outcome {
            Outcome::Done(summary) => {
                let summary = json!({"batch": summary, "answers": answers, "elapsed_ms": elapsed_ms}).to_string();
                let archived = tree::free_name(&dirs.archive, &job.file_name, &format!("job{}", job.id));
                self.end(&job, status::DONE, &archived, Some(&summary), None)?;
                tracing::info!(partner = %job.partner, job = job.id, answers = answers.len(), elapsed_ms, "mailbox: done");
            }
            Outcome::BadFile(reason) => {
                let summary = json!({"answers": answers, "elapsed_ms": elapsed_ms}).to_string();
                self.fail(&job, &dirs, &reason, NOT_X12, &answers, Some(&summary))?;
            }
            Outcome::Retry(reason) if job.attempts >= i64::from(self.shared.config.max_attempts) => {
                self.fail(&job, &dirs, &reason, FAILED_REPEATEDLY, &answers, None)?;
            }
            Outcome::Retry(reason) => {
                tracing::warn!(job = job.id, attempt = job.attempts, error = %reason, "mailbox: job failed; will retry");
                self.runtime.block_on(async {
                    self.store.note_job_error(job.id, &self.shared.owner, &reason, now).await?;
                    self.store.release_jobs(&self.shared.owner, now).await
                })?;
                self.pause(self.shared.config.poll_interval);
            }
        }
        Ok(())
    }

    /// Writes `failed/<name>.error.json` (why, what to do), ends the job failed and moves the
    /// file beside its note.
    fn fail(
        &self,
        job: &JobRecord,
        dirs: &PartnerDirs,
        reason: &str,
        what_to_do: &str,
        answers: &[String],
        summary: Option<&str>,
    ) -> anyhow::Result<()> {
        let failed = tree::free_name(&dirs.failed, &job.file_name, &format!("job{}", job.id));
        let note = json!({
            "job": job.id,
            "partner": job.partner,
            "file": job.file_name,
            "error": reason,
            "attempts": job.attempts,
            "what_to_do": what_to_do,
            "answers": answers,
            "at": Utc::now().to_rfc3339(),
        });
        let note_path = PathBuf::from(format!("{}.error.json", failed.display()));
        tree::write_atomically(&note_path, format!("{note:#}\n").as_bytes()).context("writing the error note")?;
        self.end(job, status::FAILED, &failed, summary, Some(reason))?;
        tracing::warn!(partner = %job.partner, job = job.id, "mailbox: file moved to failed/");
        Ok(())
    }

    fn run_pipeline(&self, stored: &Path, staged: &Path) -> Outcome {
        let fixed = self.shared.config.fixed_time;
        let outbound =
            Outbound { at: fixed.unwrap_or_else(|| chrono::Local::now().naive_local()), line_break: b"\n".to_vec() };
        let clock = fixed.map_or(PipelineClock::System, |at| PipelineClock::Fixed(at.and_utc()));
        let responder = Responder::new(self.store.clone(), Arc::clone(&self.shared.policy), outbound, clock);
        // The store's sequences: numbers unique across runs and instances.
        let mut numbers = NumberSource::Store;
        let files = [stored.to_path_buf()];
        let options =
            BatchOptions { files: &files, out_dir: Some(staged), guides: self.shared.guides, progress: false };
        match crate::pipeline::run(&self.runtime, &responder, &mut numbers, &options) {
            // Kept in the interchange log as received, but nothing in it can be answered.
            Ok(summary) if summary.interchanges == 0 => Outcome::BadFile("the file holds no interchange".into()),
            Ok(summary) if summary.answers_written == 0 && summary.interchanges_rejected > 0 => Outcome::BadFile(
                "no X12 interchange could be read: nothing starts with a readable ISA segment, so no \
                 acknowledgment can be addressed"
                    .into(),
            ),
            Ok(summary) => Outcome::Done(summary),
            Err(error @ (PipelineError::Open { .. } | PipelineError::Read { .. })) => {
                Outcome::BadFile(error.to_string())
            }
            Err(error) => Outcome::Retry(error.to_string()),
        }
    }

    /// Marks the job ended, then moves its file to `destination` (and removes its work directory).
    fn end(
        &self,
        job: &JobRecord,
        new_status: &str,
        destination: &Path,
        summary: Option<&str>,
        error: Option<&str>,
    ) -> anyhow::Result<()> {
        let destination_text = destination.display().to_string();
        let ended = self.runtime.block_on(self.store.finish_job(
            job.id,
            &self.shared.owner,
            new_status,
            &destination_text,
            summary,
            error,
            Utc::now(),
        ))?;
        if !ended {
            // Another instance took the job over (this one's lease ended): it finishes it.
            tracing::warn!(job = job.id, "mailbox: lease lost before the end; the job is another instance's now");
            return Ok(());
        }
        let stored = Path::new(&job.stored_path);
        tree::move_file(stored, destination).context("moving the processed file")?;
        if let Some(work_dir) = stored.parent() {
            let _ = std::fs::remove_dir_all(work_dir);
        }
        Ok(())
    }

    /// Moves the files of jobs that ended while their move was interrupted (a crash between the
    /// two steps of [`Worker::end`]).
    fn finish_moves(&self) -> anyhow::Result<()> {
        for partner in &self.shared.partners {
            let dirs = self.shared.tree.partner(partner);
            let Ok(entries) = std::fs::read_dir(&dirs.work) else { continue };
            for entry in entries.filter_map(Result::ok) {
                let Ok(files) = std::fs::read_dir(entry.path()) else { continue };
                for file in files.filter_map(Result::ok) {
                    let path = file.path();
                    if !file.file_type().map(|kind| kind.is_file()).unwrap_or(false) {
                        continue;
                    }
                    let job = self.runtime.block_on(self.store.job_by_stored_path(&path.display().to_string()))?;
                    let Some(job) = job else { continue };
                    if let (true, Some(destination)) =
                        (job.status == status::DONE || job.status == status::FAILED, &job.final_path)
                    {
                        tree::move_file(&path, Path::new(destination))?;
                        let _ = std::fs::remove_dir_all(entry.path());
                    }
                }
            }
        }
        Ok(())
    }

    /// Due timers, then the later 278 responses.
    fn housekeeping(&self) {
        let clock =
            self.shared.config.fixed_time.map_or(PipelineClock::System, |at| PipelineClock::Fixed(at.and_utc()));
        let service = CaseService::new(self.shared.policy.clone(), self.store.clone(), clock);
        match self.runtime.block_on(service.run_due_timers(TIMER_BATCH)) {
            Ok(0) => {}
            Ok(applied) => tracing::info!(applied, "mailbox: due timers applied"),
            Err(error) => tracing::warn!(error = %error, "mailbox: running due timers failed"),
        }
        if let Err(error) = self.notifications(clock) {
            tracing::warn!(error = %format!("{error:#}"), "mailbox: delivering later 278 responses failed");
        }
    }

    /// Drains the pending later 278 responses into the notifications directory, then routes every
    /// file there (also those a crash left) to the outbox of the partner whose job brought the
    /// interchange the case came from.
    fn notifications(&self, clock: PipelineClock) -> anyhow::Result<()> {
        let staged = self.shared.tree.notifications();
        let outbound = Outbound {
            at: self.shared.config.fixed_time.unwrap_or_else(|| chrono::Local::now().naive_local()),
            line_break: b"\n".to_vec(),
        };
        let notifier =
            Notifier { store: &self.store, guides: self.shared.guides, outbound: &outbound, now: clock.now() };
        let drained = self.runtime.block_on(notifier.drain(&mut NumberSource::Store, &staged))?;
        for failed in &drained.failed {
            tracing::warn!(notification = failed.notification_id, reason = %failed.reason, "mailbox: notification not written");
        }
        // Only whole files: the notifier writes through a temporary `.x12.partial` name.
        for name in tree::ready_files(&staged)?.into_iter().filter(|name| name.ends_with(".x12")) {
            let Some(id) = notification_id(&name) else { continue };
            let partner = self.runtime.block_on(self.partner_of_notification(id))?;
            let target = match partner.filter(|key| self.shared.partners.contains(key)) {
                Some(key) => self.shared.tree.partner(&key).outbox,
                None => {
                    tracing::warn!(
                        notification = id,
                        "mailbox: later 278 response for no mailbox partner: kept in unrouted/"
                    );
                    self.shared.tree.unrouted()
                }
            };
            std::fs::File::open(staged.join(&name))?.sync_all()?;
            tree::move_file(&staged.join(&name), &target.join(&name))?;
        }
        Ok(())
    }

    async fn partner_of_notification(&self, id: i64) -> Result<Option<String>, StoreError> {
        let Some(record) = self.store.get_notification(id).await? else { return Ok(None) };
        match record.interchange_id {
            Some(interchange) => self.store.partner_of_interchange(interchange).await,
            None => Ok(None),
        }
    }
}

/// The ISA13 of an answer file named by `crate::pipeline::answer_file_name`
/// (`<file>.<ISA13>.<kind>.<control number>.x12`).
fn answer_control_number(name: &str) -> Option<String> {
    let stem = name.strip_suffix(".x12")?;
    let (_, number) = stem.rsplit_once('.')?;
    (!number.is_empty()).then(|| number.to_owned())
}

/// The notification id of a file named by `crate::pipeline::notify::notification_file_name`.
fn notification_id(name: &str) -> Option<i64> {
    name.strip_prefix("notification.")?.split('.').next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_read_back() {
        assert_eq!(answer_control_number("b.x12.000000001.999.000000007.x12").as_deref(), Some("000000007"));
        assert_eq!(notification_id("notification.000000012.C000000001.278.000000031.x12"), Some(12));
        assert_eq!(notification_id("b.x12.1.999.2.x12"), None);
    }
}
