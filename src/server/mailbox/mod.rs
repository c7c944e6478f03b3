//! Batch mailboxes of `umgate serve` (issue 6, SPEC section 9): one directory tree per partner of
//! the configuration's `[[partners]]`, `<data dir>/mailboxes/<key>/{inbox,outbox,archive,failed}`,
//! and the same batches submitted over HTTP ([`batches`]). Every batch is a job in the database
//! (migration 0006, `crate::storage::jobs`), processed by the batch path of `umgate process`.
//!
//! Why jobs with leases: a batch must never be lost nor processed twice, whatever happens to the
//! instance processing it. The claimed file stays in the job's work directory until the job is
//! done; the instance holds a lease on the job, renewed here every third of its length from the
//! daemon's runtime (so a long batch keeps it); on kill -9 the lease ends and the next instance,
//! or this one restarted, takes the job over and processes the file again: what was answered
//! before is answered again from the interchange log, byte for byte, and nothing is decided
//! twice. On SIGTERM the worker stops taking work; the job in hand is finished within the
//! shutdown grace, or else given back (its lease released, so another instance takes it at once).
//! See docs/decisions/0007-batch-mailboxes.md.

pub mod batches;
pub mod config;
pub mod tree;
mod worker;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use anyhow::Context;
use chrono::Utc;

pub use config::MailboxConfig;

use crate::grammar::GuideSet;
use crate::policy::Policy;
use crate::storage::Store;

/// What the worker and the HTTP handlers share.
#[derive(Debug)]
pub(crate) struct Shared {
    tree: tree::Tree,
    /// Keys of the configured partners.
    partners: Vec<String>,
    config: MailboxConfig,
    database_url: String,
    policy: Arc<Policy>,
    guides: &'static GuideSet,
    metrics: crate::server::Metrics,
    /// This instance's name on the leases it takes.
    owner: String,
    stopping: AtomicBool,
    tokens: AtomicU64,
}

impl Shared {
    /// A name for a new job's work directory, unique across instances and restarts.
    fn next_token(&self) -> String {
        format!("{}-{}", self.owner, self.tokens.fetch_add(1, Ordering::SeqCst))
    }
}

/// What the mailboxes need from `umgate serve`.
#[derive(Debug, Clone)]
pub struct MailboxSetup {
    pub data_dir: PathBuf,
    pub database_url: String,
    pub policy: Arc<Policy>,
    pub config: MailboxConfig,
    /// Where the inbox depth is reported (`umgate_queue_depth{queue="mailbox_inbox"}`).
    pub metrics: crate::server::Metrics,
}

/// The running mailboxes: stop them with [`Mailbox::shutdown`].
#[derive(Debug)]
pub struct Mailbox {
    shared: Arc<Shared>,
    store: Store,
    worker: Option<std::thread::JoinHandle<()>>,
    heartbeat: tokio::task::JoinHandle<()>,
}

impl Mailbox {
    /// Creates every partner's directories, then starts the worker thread and the lease renewal
    /// (on the caller's runtime, with `store`).
    pub async fn start(setup: MailboxSetup, store: Store) -> anyhow::Result<Mailbox> {
        let guides = GuideSet::builtin().map_err(|error| anyhow::anyhow!("{error}"))?;
        let partners: Vec<String> = setup.policy.partners().iter().map(|p| p.key.get_ref().clone()).collect();
        if let Some(bad) = partners.iter().find(|key| !tree::valid_partner_key(key)) {
            anyhow::bail!(
                "partner key `{bad}` cannot name a mailbox directory: use letters, digits, `-` and `_` (at most 64)"
            );
        }
        let tree = tree::Tree::new(&setup.data_dir);
        tree.create(&partners).with_context(|| format!("creating the mailboxes under {}", tree.root().display()))?;
        let owner = format!("{}-{}", std::process::id(), Utc::now().timestamp_micros());
        let shared = Arc::new(Shared {
            tree,
            partners,
            config: setup.config,
            database_url: setup.database_url,
            policy: setup.policy,
            guides,
            metrics: setup.metrics,
            owner,
            stopping: AtomicBool::new(false),
            tokens: AtomicU64::new(0),
        });
        // The worker opens its connections on its own runtime, in its thread; start waits for that.
        let (opened_tx, opened_rx) = tokio::sync::oneshot::channel();
        let for_worker = Arc::clone(&shared);
        let worker = std::thread::Builder::new()
            .name("umgate-mailbox".into())
            .spawn(move || match worker::Worker::open(for_worker) {
                Ok(worker) => {
                    let _ = opened_tx.send(Ok(()));
                    worker.run();
                }
                Err(error) => {
                    let _ = opened_tx.send(Err(error));
                }
            })
            .context("starting the mailbox worker")?;
        opened_rx.await.context("the mailbox worker stopped while starting")??;
        let heartbeat = tokio::spawn(renew_leases(Arc::clone(&shared), store.clone()));
        tracing::info!(
            partners = shared.partners.len(),
            root = %shared.tree.root().display(),
            poll_ms = u64::try_from(shared.config.poll_interval.as_millis()).unwrap_or(u64::MAX),
            lease_seconds = shared.config.lease.as_secs(),
            "mailboxes ready"
        );
        Ok(Mailbox { shared, store, worker: Some(worker), heartbeat })
    }

    /// What the HTTP batch handlers need.
    pub fn batches_state(&self) -> batches::BatchesState {
        batches::BatchesState { shared: Arc::clone(&self.shared), store: self.store.clone() }
    }

    /// Stops taking work and waits up to `grace` for the job in hand; if it is not done by then,
    /// gives it back (lease released) so that another instance, or the next start, takes it over.
    pub async fn shutdown(mut self, grace: Duration) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        let deadline = tokio::time::Instant::now() + grace;
        let mut finished = false;
        while tokio::time::Instant::now() < deadline {
            if self.worker.as_ref().is_none_or(std::thread::JoinHandle::is_finished) {
                finished = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.heartbeat.abort();
        if finished {
            if let Some(worker) = self.worker.take() {
                let _ = worker.join();
            }
            tracing::info!("mailboxes stopped");
            return;
        }
        match self.store.release_jobs(&self.shared.owner, Utc::now()).await {
            Ok(0) => tracing::info!("mailboxes stopped (no job in hand)"),
            Ok(released) => {
                tracing::warn!(released, "mailboxes: shutdown grace over: the job in hand is given back, unfinished")
            }
            Err(error) => {
                tracing::warn!(error = %error, "mailboxes: releasing the job in hand failed; its lease will end")
            }
        }
    }
}

/// Renews this instance's leases every third of their length, until aborted.
async fn renew_leases(shared: Arc<Shared>, store: Store) {
    let period = shared.config.lease / 3;
    let lease = chrono::Duration::from_std(shared.config.lease).unwrap_or(chrono::Duration::seconds(60));
    loop {
        tokio::time::sleep(period).await;
        let now = Utc::now();
        if let Err(error) = store.renew_job_leases(&shared.owner, now + lease, now).await {
            tracing::warn!(error = %error, "mailboxes: renewing the leases failed; trying again");
        }
    }
}
