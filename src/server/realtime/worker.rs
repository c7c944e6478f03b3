//! The one task that answers real-time interchanges: it owns the pipeline's [`NumberSource`] and
//! makes the [`Responder`], takes interchanges from a bounded channel and answers each request
//! through its oneshot.
//!
//! Why one worker and not one pipeline per request: the path is the batch path
//! (`process_interchange`, the same log, dedupe, decisions and numbering as `umgate process`),
//! which works one interchange at a time against a store with one writer. The worker takes
//! everything queued at once ([`MAX_BATCH`] at most) so that the whole group can move to a
//! group-commit entry point (many requests, one transaction) by changing [`answer_group`] alone.
//! The channel is bounded: when it is full, requests wait (and meet the request timeout, a 503)
//! instead of piling up in memory. On shutdown the channel is closed, what was queued is still
//! answered, then the task ends.

use std::sync::Arc;
use std::time::Instant;

use tokio::sync::{mpsc, oneshot};

use crate::ack::Outbound;
use crate::pipeline::{Captured, Disposition, NumberSource, PipelineClock, PipelineError, Responder};
use crate::policy::Policy;
use crate::server::metrics::{Channel, InterchangeOutcome, Metrics};
use crate::storage::Store;

/// Requests that may wait for the worker; more wait for room (backpressure).
pub const QUEUE_CAPACITY: usize = 1024;
/// Requests taken from the queue in one go.
pub const MAX_BATCH: usize = 64;

/// One interchange to answer.
#[derive(Debug)]
pub struct Submission {
    /// Where it came from, as the interchange log records it (`http/<partner key>`).
    pub source: String,
    pub captured: Captured,
    pub queued_at: Instant,
    pub reply: oneshot::Sender<Result<Disposition, PipelineError>>,
}

/// Why a submission got no answer.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    #[error("the daemon is shutting down")]
    ShuttingDown,
    #[error(transparent)]
    Pipeline(#[from] PipelineError),
}

/// A handle on the worker, cloned into every request.
#[derive(Debug, Clone)]
pub struct Gateway {
    sender: mpsc::Sender<Submission>,
}

/// Closes the worker's queue at shutdown and waits for it to finish what it took.
#[derive(Debug)]
pub struct WorkerHandle {
    close: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl WorkerHandle {
    /// Refuses new submissions, answers the queued ones, and returns when the worker is done.
    pub async fn finish(mut self) {
        if let Some(close) = self.close.take() {
            let _ = close.send(());
        }
        if let Err(error) = self.task.await
            && error.is_panic()
        {
            tracing::error!("the real-time worker panicked");
        }
    }
}

impl Gateway {
    /// Starts the worker on the current runtime.
    pub fn start(store: Store, policy: Arc<Policy>, metrics: Metrics) -> (Gateway, WorkerHandle) {
        let (sender, receiver) = mpsc::channel(QUEUE_CAPACITY);
        let (close, closed) = oneshot::channel();
        let task = tokio::spawn(run(receiver, closed, store, policy, metrics));
        (Gateway { sender }, WorkerHandle { close: Some(close), task })
    }

    /// Answers one interchange (from the log when it was seen before).
    pub async fn submit(&self, source: String, captured: Captured) -> Result<Disposition, SubmitError> {
        let (reply, answer) = oneshot::channel();
        let submission = Submission { source, captured, queued_at: Instant::now(), reply };
        self.sender.send(submission).await.map_err(|_| SubmitError::ShuttingDown)?;
        answer.await.map_err(|_| SubmitError::ShuttingDown)?.map_err(SubmitError::from)
    }
}

async fn run(
    mut receiver: mpsc::Receiver<Submission>,
    mut closed: oneshot::Receiver<()>,
    store: Store,
    policy: Arc<Policy>,
    metrics: Metrics,
) {
    let mut numbers = NumberSource::Store;
    let mut group = Vec::with_capacity(MAX_BATCH);
    let mut closing = false;
    loop {
        let taken = if closing {
            receiver.recv_many(&mut group, MAX_BATCH).await
        } else {
            tokio::select! {
                taken = receiver.recv_many(&mut group, MAX_BATCH) => taken,
                _ = &mut closed => {
                    // No new submissions; those already queued are still received below.
                    receiver.close();
                    closing = true;
                    continue;
                }
            }
        };
        if taken == 0 {
            break;
        }
        answer_group(&store, &policy, &mut numbers, &metrics, group.drain(..)).await;
    }
    tracing::info!("real-time worker stopped");
}

/// Answers the submissions taken together. Today each goes through `process_interchange` in turn
/// (its own transactions); a group-commit entry point of the pipeline would take them all at once.
async fn answer_group(
    store: &Store,
    policy: &Arc<Policy>,
    numbers: &mut NumberSource,
    metrics: &Metrics,
    group: impl Iterator<Item = Submission>,
) {
    // Answers are dated when they are made, so one responder per group (it is cheap to make).
    let outbound = Outbound { at: chrono::Local::now().naive_local(), line_break: b"\n".to_vec() };
    let responder = Responder::new(store.clone(), Arc::clone(policy), outbound, PipelineClock::System);
    for submission in group {
        let outcome =
            crate::pipeline::process_interchange(&responder, numbers, &submission.source, &submission.captured).await;
        match &outcome {
            Ok(disposition) => {
                let label = match disposition {
                    Disposition::Answered { .. } if submission.captured.report().rejected() => {
                        InterchangeOutcome::Rejected
                    }
                    Disposition::Answered { .. } => InterchangeOutcome::Answered,
                    Disposition::Resubmitted { .. } => InterchangeOutcome::Resubmitted,
                    Disposition::DuplicateControlNumber { .. } => InterchangeOutcome::DuplicateControlNumber,
                };
                metrics.interchange(Channel::Http, label, submission.queued_at.elapsed());
            }
            Err(error) => {
                tracing::error!(
                    source = %submission.source,
                    isa13 = submission.captured.report().isa13().unwrap_or_default().trim(),
                    error = %error,
                    "real-time interchange not answered"
                );
            }
        }
        // The requester may have gone (timeout, closed connection): the answer is stored anyway.
        let _ = submission.reply.send(outcome);
    }
}
