//! `umgate provider import FILE.csv`: loads requesting providers into the provider registry,
//! idempotently (upsert by NPI). Bad rows are reported with their line numbers and skipped; the
//! good ones still load (the same import loop as the roster's). The registry is read by the intake
//! of plans that require the requester on file (`require_provider_on_file`).

use std::fs::File;
use std::io::BufReader;
use std::process::ExitCode;

use anyhow::Context;

use super::roster::{ImportArgs, Importable, import_rows, load_policy};
use crate::providers::ProviderReader;
use crate::storage::Store;
use crate::storage::providers::ProviderRow;
use crate::storage::repository::provider_row;

impl Importable for ProviderRow {
    const NOUN: &'static str = "providers";
    async fn upsert(store: &Store, batch: &[Self]) -> Result<(), crate::storage::StoreError> {
        store.upsert_providers(batch).await
    }
}

/// Exit 0 when every row loaded, 1 when some were skipped, 2 (an error) on usage or I/O problems.
pub fn import(args: ImportArgs<'_>) -> anyhow::Result<ExitCode> {
    let policy = load_policy(args.config)?;
    let file = File::open(args.file).with_context(|| format!("opening {}", args.file.display()))?;
    let rows = ProviderReader::new(BufReader::new(file), &policy).with_context(|| args.file.display().to_string())?;
    import_rows(&args, rows.map(|row| row.map(|row| row.map(|provider| provider_row(&provider)))))
}
