//! `umgate roster import FILE.csv`: loads members into the store, idempotently (upsert by member
//! ID). Bad rows are reported with their line numbers and skipped; the good ones still load.

use std::fs::File;
use std::io::{BufReader, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;

use crate::roster::{RosterReader, RowProblem};
use crate::storage::{MemberRecord, Store};

/// Members written per transaction.
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

/// A record type the import commands load: how a batch of them is written, and its name.
pub(super) trait Importable: Sized {
    /// Plural, for the summary line ("imported 3 members ...").
    const NOUN: &'static str;
    async fn upsert(store: &Store, batch: &[Self]) -> Result<(), crate::storage::StoreError>;
}

impl Importable for MemberRecord {
    const NOUN: &'static str = "members";
    async fn upsert(store: &Store, batch: &[Self]) -> Result<(), crate::storage::StoreError> {
        store.upsert_members(batch).await
    }
}

/// Exit 0 when every row loaded, 1 when some were skipped, 2 (an error) on usage or I/O problems.
pub fn import(args: ImportArgs<'_>) -> anyhow::Result<ExitCode> {
    let policy = load_policy(args.config)?;
    let file = File::open(args.file).with_context(|| format!("opening {}", args.file.display()))?;
    let rows = RosterReader::new(BufReader::new(file), &policy).with_context(|| args.file.display().to_string())?;
    import_rows(&args, rows)
}

pub(super) fn load_policy(config: &Path) -> anyhow::Result<crate::policy::Policy> {
    crate::policy::Policy::load(config)
        .map_err(|error| anyhow::anyhow!("{error}"))
        .with_context(|| format!("loading the configuration {}", config.display()))
}

/// Loads the good rows in batches, reports the bad ones by line (stderr, or in the JSON summary).
pub(super) fn import_rows<T, E>(
    args: &ImportArgs<'_>,
    rows: impl Iterator<Item = Result<Result<T, RowProblem>, E>>,
) -> anyhow::Result<ExitCode>
where
    T: Importable,
    E: std::error::Error + Send + Sync + 'static,
{
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let (imported, problems) = runtime.block_on(async {
        let store = Store::connect(args.database_url).await.context("opening the database")?;
        let mut imported = 0u64;
        let mut problems = Vec::new();
        let mut batch: Vec<T> = Vec::with_capacity(BATCH);
        for row in rows {
            match row.with_context(|| args.file.display().to_string())? {
                Ok(record) => batch.push(record),
                Err(problem) => problems.push(problem),
            }
            if batch.len() == BATCH {
                T::upsert(&store, &batch).await.with_context(|| format!("writing {}", T::NOUN))?;
                imported += batch.len() as u64;
                batch.clear();
            }
        }
        if !batch.is_empty() {
            T::upsert(&store, &batch).await.with_context(|| format!("writing {}", T::NOUN))?;
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
        writeln!(out, "imported {imported} {} from {} ({} rows skipped)", T::NOUN, summary.file, problems.len())?;
    }
    Ok(if problems.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
