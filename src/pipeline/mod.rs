//! The batch path (`umgate process`): every interchange of every file through validation, the
//! interchange log and its answers, which are written one file per answer interchange.
//!
//! Why this shape: reading and validating is CPU work, logging and deciding is database work; a
//! reader thread validates and cuts the files into interchanges ([`capture`]) while the caller's
//! async runtime logs and answers them ([`answer`]), one interchange at a time through a channel
//! of none (a hand-over), so both cores work and memory stays flat in the file size. This layer sits at the edge:
//! it joins validation, acknowledgments and storage, and knows nothing of the command line.

pub mod answer;
pub mod batch;
pub mod capture;
pub mod group;
pub mod log_index;
pub mod notify;
pub mod numbers;
pub mod overlap;
pub mod respond;

use std::cell::Cell;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use serde::Serialize;

pub use answer::{Disposition, process_interchange};
pub use capture::Captured;
pub use group::process_group;
pub use numbers::NumberSource;
pub use respond::{Answer, PipelineClock, Responder};

use crate::grammar::GuideSet;
use crate::storage::StoreError;
use crate::validation::{Ack, validate_stream};

/// What can stop a batch.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error("{file}: {source}")]
    Open { file: String, source: std::io::Error },
    #[error("{file}: {message}")]
    Read { file: String, message: String },
    #[error("writing {path}: {source}")]
    Write { path: String, source: std::io::Error },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Domain(#[from] crate::domain::DomainError),
    #[error(transparent)]
    Repository(#[from] crate::domain::RepositoryError),
    /// Other writers kept taking numbers first (see [`numbers`]): the interchange stays logged,
    /// unanswered, and is answered by a later run.
    #[error("sequence {sequence} was advanced by other writers {attempts} times in a row; run again later")]
    Contended { sequence: &'static str, attempts: u32 },
    #[error("the reader thread stopped unexpectedly")]
    ReaderGone,
}

/// How a batch runs.
#[derive(Debug)]
pub struct BatchOptions<'a> {
    pub files: &'a [PathBuf],
    /// Where the answers go (one file per answer interchange); `None` writes none.
    pub out_dir: Option<&'a Path>,
    pub guides: &'a GuideSet,
    /// A progress bar on stderr.
    pub progress: bool,
}

/// An interchange refused as a duplicate control number.
#[derive(Debug, Clone, Serialize)]
pub struct DuplicateNote {
    pub file: String,
    pub offset: u64,
    pub isa13: String,
    pub original_received_at: chrono::DateTime<chrono::Utc>,
}

/// What a batch did (the summary of `umgate process`, and its `--json` form).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    pub files: usize,
    pub interchanges: u64,
    /// Processed for the first time.
    pub answered: u64,
    /// Seen before with the same bytes: answered again from the log.
    pub resubmitted: u64,
    /// Same sender and ISA13 as an earlier interchange, other bytes: stored, not processed.
    pub duplicate_control_numbers: u64,
    pub groups_accepted: u64,
    pub groups_rejected: u64,
    pub sets_accepted: u64,
    pub sets_rejected: u64,
    /// Interchanges rejected as a whole (TA1 R or unreadable).
    pub interchanges_rejected: u64,
    pub cases_created: u64,
    pub answers_written: u64,
    /// Every group of every interchange accepted (A or E), and no duplicate control number.
    pub all_accepted: bool,
    pub duplicates: Vec<DuplicateNote>,
}

enum Item {
    Interchange { file_name: String, captured: Captured },
    Failed(PipelineError),
}

/// Runs the batch on `runtime`: reads on a thread of its own, logs and answers on the runtime.
pub fn run(
    runtime: &tokio::runtime::Runtime,
    responder: &Responder,
    numbers: &mut NumberSource,
    options: &BatchOptions<'_>,
) -> Result<Summary, PipelineError> {
    if let Some(dir) = options.out_dir {
        std::fs::create_dir_all(dir)
            .map_err(|source| PipelineError::Write { path: dir.display().to_string(), source })?;
    }
    std::thread::scope(|scope| {
        // A rendezvous: the reader hands an interchange over only when the previous one is done, so
        // at most two are in memory (the one being answered, the one read next).
        let (sender, receiver) = std::sync::mpsc::sync_channel::<Item>(0);
        let reader = scope.spawn(move || read_files(options, &sender));
        let outcome = runtime.block_on(consume(receiver, responder, numbers, options));
        // On an error the receiver is gone and the reader stops at its next read.
        let read = reader.join();
        let summary = outcome?;
        read.map_err(|_| PipelineError::ReaderGone)?;
        Ok(summary)
    })
}

async fn consume(
    receiver: std::sync::mpsc::Receiver<Item>,
    responder: &Responder,
    numbers: &mut NumberSource,
    options: &BatchOptions<'_>,
) -> Result<Summary, PipelineError> {
    let mut summary = Summary { files: options.files.len(), all_accepted: true, ..Summary::default() };
    // The interchange whose recording runs while the next one is decided (see [`overlap`]).
    let mut in_flight: Option<(String, Captured, overlap::InFlight)> = None;
    // Waiting for the reader blocks this thread: the recording in flight runs on the runtime's
    // worker meanwhile.
    while let Ok(item) = receiver.recv() {
        let (file_name, mut captured) = match item {
            Item::Interchange { file_name, captured } => (file_name, captured),
            Item::Failed(error) => return Err(error),
        };
        let flying = in_flight.as_ref().map(|(_, _, flight)| flight);
        let prepared = overlap::prepare(responder, numbers, &file_name, &captured, flying).await;
        // The one before settles first: its answers are written in order, and a failure of it
        // means this one was decided on cases and numbers that do not exist.
        let before_ok = match in_flight.take() {
            Some(earlier) => finish(responder, numbers, options, &mut summary, earlier).await?,
            None => true,
        };
        let prepared = match prepared {
            Ok(Some(prepared)) if before_ok => prepared,
            Err(error) if before_ok => {
                responder.discard_new_cases();
                return Err(error);
            }
            _ => {
                // Not a plain new interchange, or decided on what failed: one at a time.
                if !before_ok {
                    responder.discard_new_cases();
                }
                let disposition = process_interchange(responder, numbers, &file_name, &captured).await?;
                emit(&mut summary, options, &file_name, &captured, &disposition)?;
                release(captured);
                continue;
            }
        };
        let flight = overlap::start(responder, prepared).await;
        // The sets are no longer needed (the report is, for the summary): freed now, while the
        // recording runs, and read again from the bytes if it fails.
        release(std::mem::take(&mut captured.trees.sets));
        in_flight = Some((file_name, captured, flight));
    }
    if let Some(earlier) = in_flight.take() {
        finish(responder, numbers, options, &mut summary, earlier).await?;
    }
    Ok(summary)
}

/// Settles a recording in flight and writes its answers; when it failed, answers it again one
/// at a time (its sets read again from its bytes). `Ok(false)`: it had failed.
async fn finish(
    responder: &Responder,
    numbers: &mut NumberSource,
    options: &BatchOptions<'_>,
    summary: &mut Summary,
    (file_name, mut captured, mut flight): (String, Captured, overlap::InFlight),
) -> Result<bool, PipelineError> {
    if let Ok(answers) = overlap::settle(responder, &mut flight).await {
        let decided = std::mem::take(&mut flight.decided);
        let disposition = Disposition::Answered { answers, new_cases: flight.new_cases, decided };
        emit(summary, options, &file_name, &captured, &disposition)?;
        release(captured);
        return Ok(true);
    }
    *numbers = flight.numbers_before;
    let read = crate::mapping::tree::read_trees(captured.bytes.as_slice(), &file_name, options.guides)
        .map_err(|error| PipelineError::Read { file: file_name.clone(), message: error.to_string() })?;
    captured.trees = read.into_iter().next().ok_or_else(|| PipelineError::Read {
        file: file_name.clone(),
        message: "an interchange read before cannot be read again".into(),
    })?;
    let disposition = process_interchange(responder, numbers, &file_name, &captured).await?;
    emit(summary, options, &file_name, &captured, &disposition)?;
    release(captured);
    Ok(false)
}

/// Frees what an interchange held on a thread of the runtime's blocking pool: freeing trees is a
/// few per cent of the whole batch, and the answering thread goes on meanwhile.
fn release<T: Send + 'static>(held: T) {
    drop(tokio::task::spawn_blocking(move || drop(held)));
}

/// Counts an interchange's disposition into the summary and writes its answers.
fn emit(
    summary: &mut Summary,
    options: &BatchOptions<'_>,
    file_name: &str,
    captured: &Captured,
    disposition: &Disposition,
) -> Result<(), PipelineError> {
    summary.interchanges += 1;
    let answers = match disposition {
        Disposition::Answered { answers, new_cases, .. } => {
            summary.answered += 1;
            summary.cases_created += *new_cases as u64;
            answers.as_slice()
        }
        Disposition::Resubmitted { answers, .. } => {
            summary.resubmitted += 1;
            answers.as_slice()
        }
        Disposition::DuplicateControlNumber { original_received, answers } => {
            summary.duplicate_control_numbers += 1;
            summary.all_accepted = false;
            summary.duplicates.push(DuplicateNote {
                file: file_name.to_owned(),
                offset: captured.offset,
                isa13: captured.report().isa13().unwrap_or_default().trim().to_owned(),
                original_received_at: *original_received,
            });
            answers.as_slice()
        }
    };
    if !matches!(disposition, Disposition::DuplicateControlNumber { .. }) {
        count_report(summary, captured);
    }
    if let Some(dir) = options.out_dir {
        for answer in answers {
            let path = dir.join(answer_file_name(file_name, captured, answer));
            std::fs::write(&path, &answer.bytes)
                .map_err(|source| PipelineError::Write { path: path.display().to_string(), source })?;
            summary.answers_written += 1;
        }
    }
    Ok(())
}

fn count_report(summary: &mut Summary, captured: &Captured) {
    let report = captured.report();
    summary.all_accepted &= report.all_accepted();
    if report.rejected() {
        summary.interchanges_rejected += 1;
    }
    for group in &report.groups {
        if matches!(group.ack, Ack::Accepted | Ack::AcceptedWithErrors) {
            summary.groups_accepted += 1;
        } else {
            summary.groups_rejected += 1;
        }
        let accepted = group.accepted_sets() as u64;
        summary.sets_accepted += accepted;
        summary.sets_rejected += group.sets.len() as u64 - accepted;
    }
}

/// `<input file name>.<ISA13>.<kind>.<control number>.x12` (`at<offset>` in place of the ISA13
/// when the interchange has none): stable, so a resubmission rewrites the same files.
pub fn answer_file_name(file_name: &str, captured: &Captured, answer: &Answer) -> String {
    let isa13 = match captured.report().isa13().map(str::trim).filter(|n| !n.is_empty()) {
        Some(isa13) => safe(isa13),
        None => format!("at{}", captured.offset),
    };
    format!("{file_name}.{isa13}.{}.{}.x12", answer.kind.to_ascii_lowercase(), safe(answer.control_number.trim()))
}

/// Keeps letters, digits, `-` and `_`; anything else (a `/` in a broken ISA13) becomes `_`.
fn safe(text: &str) -> String {
    text.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect()
}

/// The reader thread: validates and cuts every file, in order, and sends what it finds.
fn read_files(options: &BatchOptions<'_>, sender: &std::sync::mpsc::SyncSender<Item>) {
    let total: u64 = options.files.iter().filter_map(|path| std::fs::metadata(path).ok()).map(|m| m.len()).sum();
    let bar = options.progress.then(|| {
        let bar = indicatif::ProgressBar::new(total);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{msg} {bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    for path in options.files {
        let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "input".into());
        let shown = path.display().to_string();
        let file = match File::open(path) {
            Ok(file) => file,
            Err(source) => {
                let _ = sender.send(Item::Failed(PipelineError::Open { file: shown, source }));
                return;
            }
        };
        if let Some(bar) = &bar {
            bar.set_message(file_name.clone());
        }
        let input: Box<dyn Read> = match &bar {
            Some(bar) => Box::new(bar.wrap_read(file)),
            None => Box::new(file),
        };
        let stopped = Rc::new(Cell::new(false));
        let input = Stoppable { inner: input, stopped: Rc::clone(&stopped) };
        let (tee, mut observer) = capture::capture(input, |captured| {
            let item = Item::Interchange { file_name: file_name.clone(), captured };
            if sender.send(item).is_err() {
                stopped.set(true);
            }
        });
        let outcome = validate_stream(tee, &shown, options.guides, &mut observer);
        observer.finish();
        if let Err(error) = outcome {
            let _ = sender.send(Item::Failed(PipelineError::Read { file: shown, message: error.to_string() }));
            return;
        }
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
}

/// A reader that fails once the other side of the channel has gone (it stopped on an error).
struct Stoppable<R> {
    inner: R,
    stopped: Rc<Cell<bool>>,
}

impl<R: Read> Read for Stoppable<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.stopped.get() {
            return Err(std::io::Error::other("processing stopped"));
        }
        self.inner.read(buf)
    }
}
