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
//! instead of piling up in memory; a request whose client gave up before its turn is dropped
//! unprocessed. On shutdown the channel is closed, what was queued is still answered, then the
//! task ends.

use std::sync::Arc;
use std::time::Instant;

use tokio::sync::{mpsc, oneshot};

use crate::ack::Outbound;
use crate::pipeline::{Captured, Disposition, NumberSource, PipelineClock, PipelineError, Responder};
use crate::policy::Policy;
use crate::server::metrics::{Channel, Metrics};
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
    // The requester gave up (request timeout, closed connection) before its turn: nothing of it
    // was stored or acknowledged, so it is dropped rather than answered to no one while live
    // requests wait behind it. It may be sent again.
    let live: Vec<Submission> = group
        .filter(|submission| {
            let abandoned = submission.reply.is_closed();
            if abandoned {
                tracing::warn!(
                    source = %submission.source,
                    "real-time interchange abandoned by its requester before its turn: not processed"
                );
            }
            !abandoned
        })
        .collect();
    if live.is_empty() {
        return;
    }
    // One transaction (one commit) for the whole group; if the group cannot be recorded
    // together, each is answered on its own so that one failure is reported to its requester only.
    let items: Vec<(&str, &Captured)> =
        live.iter().map(|submission| (submission.source.as_str(), &submission.captured)).collect();
    let outcomes: Vec<Result<Disposition, PipelineError>> = match crate::pipeline::process_group(
        &responder, numbers, &items,
    )
    .await
    {
        Ok(dispositions) => dispositions.into_iter().map(Ok).collect(),
        Err(error) => {
            tracing::warn!(error = %error, members = live.len(), "real-time group not recorded together: one at a time");
            let mut outcomes = Vec::with_capacity(live.len());
            for (source, captured) in &items {
                outcomes.push(crate::pipeline::process_interchange(&responder, numbers, source, captured).await);
            }
            outcomes
        }
    };
    for (submission, outcome) in live.into_iter().zip(outcomes) {
        match &outcome {
            Ok(disposition) => {
                let decided = match disposition {
                    Disposition::Answered { decided, .. } => decided.as_slice(),
                    _ => &[],
                };
                metrics.observe_interchange(
                    Channel::Http,
                    submission.captured.report(),
                    disposition,
                    decided,
                    submission.queued_at.elapsed(),
                );
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::storage::Party;

    async fn setup() -> (tempfile::TempDir, Store, Arc<Policy>, Captured) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::connect(&format!("sqlite://{}", dir.path().join("t.db").display())).await.unwrap();
        let policy = Arc::new(Policy::load(std::path::Path::new("samples/umgate.toml")).unwrap());
        let bytes = std::fs::read("samples/x12/270-active-pa-required.x12").unwrap();
        let guides = crate::grammar::GuideSet::builtin().unwrap();
        let captured = super::super::cut(&bytes, guides).pop().unwrap();
        (dir, store, policy, captured)
    }

    async fn logged(store: &Store, captured: &Captured) -> usize {
        let header = captured.report().header.as_ref().unwrap();
        let sender = Party { qualifier: header.field(5).trim().into(), id: header.field(6).trim().into() };
        store.interchanges_with_control_number(&sender, header.control_number().trim()).await.unwrap().len()
    }

    #[tokio::test]
    async fn a_submission_whose_requester_left_is_not_processed_and_a_live_one_is() {
        let (_dir, store, policy, captured) = setup().await;
        let (reply, answer) = oneshot::channel();
        drop(answer);
        let abandoned = Submission { source: "http/demo".into(), captured, queued_at: Instant::now(), reply };
        let mut numbers = NumberSource::Store;
        answer_group(&store, &policy, &mut numbers, &Metrics::new(), [abandoned].into_iter()).await;
        let (_dir2, _, _, captured) = setup().await;
        assert_eq!(logged(&store, &captured).await, 0, "nothing stored for the abandoned request");

        let (reply, answer) = oneshot::channel();
        let live = Submission { source: "http/demo".into(), captured, queued_at: Instant::now(), reply };
        answer_group(&store, &policy, &mut numbers, &Metrics::new(), [live].into_iter()).await;
        let disposition = answer.await.unwrap().unwrap();
        assert!(matches!(disposition, Disposition::Answered { .. }), "{disposition:?}");
        let (_dir3, _, _, captured) = setup().await;
        assert_eq!(logged(&store, &captured).await, 1);
    }

    #[tokio::test]
    async fn at_close_the_queued_submissions_are_answered_then_new_ones_refused() {
        let (_dir, store, policy, captured) = setup().await;
        let (gateway, worker) = Gateway::start(store.clone(), policy, Metrics::new());
        let queued = {
            let gateway = gateway.clone();
            tokio::spawn(async move { gateway.submit("http/demo".into(), captured).await })
        };
        tokio::task::yield_now().await;
        worker.finish().await;
        assert!(matches!(queued.await.unwrap(), Ok(Disposition::Answered { .. })));
        let (_dir2, _, _, captured) = setup().await;
        assert!(matches!(gateway.submit("http/demo".into(), captured).await, Err(SubmitError::ShuttingDown)));
    }
}
