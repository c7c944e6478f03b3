//! `umgate process [--config FILE] [--out DIR] FILE...`: the batch path without the daemon
//! (SPEC section 9). The work is in `crate::pipeline`; this is the edge: arguments, the store,
//! the summary and the exit status.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;

use crate::ack::{Counter, Outbound};
use crate::grammar::GuideSet;
use crate::pipeline::notify::{DrainSummary, Notifier};
use crate::pipeline::{BatchOptions, NumberSource, PipelineClock, Responder, Summary};
use crate::storage::Store;

pub struct ProcessArgs<'a> {
    pub files: &'a [PathBuf],
    pub config: &'a Path,
    pub out_dir: Option<&'a Path>,
    pub database_url: &'a str,
    pub json: bool,
    pub guides: &'a GuideSet,
    pub outbound: Outbound,
    /// Fixed-time test mode: control numbers count from 1 for the run.
    pub fixed: bool,
    /// In fixed-time mode, control numbers from the store's sequences all the same.
    pub store_numbers: bool,
}

/// Exit 0 when every group was accepted, 1 when any interchange or group was rejected or a control
/// number was a duplicate, 2 (an error) on usage, I/O or database problems.
pub fn run(args: ProcessArgs<'_>) -> anyhow::Result<ExitCode> {
    // The configuration is checked up front, so that a broken one fails before any file is logged.
    let policy = crate::policy::Policy::load(args.config)
        .map_err(|error| anyhow::anyhow!("{error}"))
        .with_context(|| format!("loading the configuration {}", args.config.display()))?;
    for file in args.files {
        std::fs::metadata(file).with_context(|| format!("cannot read {}", file.display()))?;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build()?;
    let store = runtime.block_on(Store::connect(args.database_url)).context("opening the database")?;
    let mut numbers = if args.fixed && !args.store_numbers {
        NumberSource::Fixed(Counter::starting_at(1))
    } else {
        NumberSource::Store
    };
    let clock = if args.fixed { PipelineClock::Fixed(args.outbound.at.and_utc()) } else { PipelineClock::System };
    let responder = Responder::new(store.clone(), Arc::new(policy), args.outbound, clock);
    let options = BatchOptions {
        files: args.files,
        out_dir: args.out_dir,
        guides: args.guides,
        progress: std::io::stderr().is_terminal(),
    };
    let outcome = crate::pipeline::run(&runtime, &responder, &mut numbers, &options);
    // After the batch, the later 278 responses of cases decided since they were answered pended
    // go to the same directory (numbered after the batch's answers).
    let drained = match (&outcome, args.out_dir) {
        (Ok(_), Some(dir)) => {
            let notifier = Notifier {
                store: &store,
                guides: args.guides,
                outbound: responder.outbound(),
                now: crate::domain::Clock::now(&clock),
            };
            Some(runtime.block_on(notifier.drain(&mut numbers, dir)))
        }
        _ => None,
    };
    runtime.block_on(store.close());
    let summary = outcome?;
    let notifications = drained.transpose()?;
    print_summary(&summary, notifications.as_ref(), args.json)?;
    Ok(if summary.all_accepted { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn print_summary(summary: &Summary, notifications: Option<&DrainSummary>, json: bool) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    if json {
        let mut value = serde_json::to_value(summary)?;
        if let (Some(object), Some(notifications)) = (value.as_object_mut(), notifications) {
            object.insert("notifications".into(), serde_json::to_value(notifications)?);
        }
        writeln!(out, "{value}")?;
        return Ok(());
    }
    if let Some(notifications) = notifications {
        super::review::print_drain_lines(notifications)?;
    }
    for duplicate in &summary.duplicates {
        eprintln!(
            "{}: interchange {} at byte {}: REFUSED: duplicate control number (same sender and ISA13 as an \
             interchange received {} with other content); stored, not processed",
            duplicate.file, duplicate.isa13, duplicate.offset, duplicate.original_received_at
        );
    }
    writeln!(
        out,
        "{} interchanges ({} new, {} resubmitted, {} duplicate control numbers, {} rejected); \
         sets: {} accepted, {} rejected; cases created: {}; answers written: {}",
        summary.interchanges,
        summary.answered,
        summary.resubmitted,
        summary.duplicate_control_numbers,
        summary.interchanges_rejected,
        summary.sets_accepted,
        summary.sets_rejected,
        summary.cases_created,
        summary.answers_written
    )?;
    if let Some(notifications) = notifications.filter(|n| !n.delivered.is_empty() || !n.failed.is_empty()) {
        writeln!(
            out,
            "later 278 responses (notifications) written: {}; failed: {}",
            notifications.delivered.len(),
            notifications.failed.len()
        )?;
    }
    Ok(())
}
