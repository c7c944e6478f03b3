//! `umgate provider import FILE.csv`: loads requesting providers into the provider registry,
//! idempotently (upsert by NPI). Bad rows are reported with their line numbers and skipped; the
//! good ones still load. The registry is read by the intake of plans that require the requester
//! on file (`require_provider_on_file`).

use std::fs::File;
use std::io::{BufReader, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;

use crate::providers::ProviderReader;
use crate::roster::RowProblem;
use crate::storage::Store;
use crate::storage::providers::ProviderRow;
use crate::storage::repository::provider_row;

/// Providers written per transaction.
const BATCH: usize = 1000;

pub struct ImportArgs<'a> {
    pub file: &'a Path,
    pub config: &'a Path,
    pub database_url: &'a str,
    pub json: bool,
}

#[derive(Debug, serde::Serialize)]
struct Summary<'a> {
    file: String,
    imported: u64,
    skipped: usize,
    problems: &'a [RowProblem],
}

/// Exit 0 when every row loaded, 1 when some were skipped, 2 (an error) on usage or I/O problems.
pub fn import(args: ImportArgs<'_>) -> anyhow::Result<ExitCode> {
    let policy = crate::policy::Policy::load(args.config)
        .map_err(|error| anyhow::anyhow!("{error}"))
        .with_context(|| format!("loading the configuration {}", args.config.display()))?;
    let file = File::open(args.file).with_context(|| format!("opening {}", args.file.display()))?;
    let rows = ProviderReader::new(BufReader::new(file), &policy).with_context(|| args.file.display().to_string())?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let (imported, problems) = runtime.block_on(async {
        let store = Store::connect(args.database_url).await.context("opening the database")?;
        let mut imported = 0u64;
        let mut problems = Vec::new();
        let mut batch: Vec<ProviderRow> = Vec::with_capacity(BATCH);
        for row in rows {
            match row.with_context(|| args.file.display().to_string())? {
                Ok(provider) => batch.push(provider_row(&provider)),
                Err(problem) => problems.push(problem),
            }
            if batch.len() == BATCH {
                store.upsert_providers(&batch).await.context("writing providers")?;
                imported += batch.len() as u64;
                batch.clear();
            }
        }
        if !batch.is_empty() {
            store.upsert_providers(&batch).await.context("writing providers")?;
            imported += batch.len() as u64;
        }
        store.close().await;
        anyhow::Ok((imported, problems))
    })?;
    let summary =
        Summary { file: args.file.display().to_string(), imported, skipped: problems.len(), problems: &problems };
    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(out, "{}", serde_json::to_string(&summary)?)?;
    } else {
        for problem in &problems {
            eprintln!("{}:{}: skipped: {}", summary.file, problem.line, problem.reason);
        }
        writeln!(out, "imported {imported} providers from {} ({} rows skipped)", summary.file, problems.len())?;
    }
    Ok(if problems.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
