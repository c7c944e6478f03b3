//! `umgate config check [FILE]`: load and validate a policy configuration (SPEC section 9).
//!
//! Why at the edge: the library returns typed errors ([`crate::policy::LoadError`]); here they
//! become the contract of the command: every error as `file:line:col: field: message` on stderr
//! and exit 1, a summary (or JSON with `--json`) and exit 0, exit 2 when the file cannot be read.

use std::path::Path;
use std::process::ExitCode;

use serde::Serialize;

use crate::policy::{ConfigError, LoadError, Policy, PolicySummary};

/// Exit code when the configuration is invalid.
const EXIT_INVALID: u8 = 1;

#[derive(Debug, Serialize)]
struct JsonReport<'a> {
    ok: bool,
    file: &'a Path,
    #[serde(skip_serializing_if = "Option::is_none")]
    summary: Option<PolicySummary>,
    errors: &'a [ConfigError],
}

/// Runs the check; I/O errors on the root file are returned (exit 2 through the caller).
pub fn check(file: &Path, json: bool) -> anyhow::Result<ExitCode> {
    match Policy::load(file) {
        Ok(policy) => {
            let summary = policy.summary();
            if json {
                let report = JsonReport { ok: true, file, summary: Some(summary), errors: &[] };
                println!("{}", serde_json::to_string(&report)?);
            } else {
                print_summary(file, &policy, &summary);
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(LoadError::Invalid(errors)) => {
            if json {
                let report = JsonReport { ok: false, file, summary: None, errors: &errors };
                println!("{}", serde_json::to_string(&report)?);
            }
            for error in &errors {
                eprintln!("{error}");
            }
            eprintln!("{}: {} error(s)", file.display(), errors.len());
            Ok(ExitCode::from(EXIT_INVALID))
        }
        Err(read @ LoadError::Read { .. }) => Err(read.into()),
    }
}

fn print_summary(file: &Path, policy: &Policy, summary: &PolicySummary) {
    let lobs: Vec<&str> = summary.lines_of_business.iter().map(|l| l.as_str()).collect();
    println!("{}: ok ({} file(s))", file.display(), summary.files.len());
    println!(
        "  {} plans, {} plan × line-of-business pairs ({}), {} programs in the catalogue, {} plan program entries, {} regimens, {} calendars, {} partners",
        summary.plans,
        summary.plan_lines_of_business,
        lobs.join(", "),
        summary.programs,
        summary.plan_programs,
        summary.regimens,
        summary.calendars,
        summary.partners
    );
    for plan in policy.plans() {
        let lobs: Vec<&str> = plan.lines_of_business.iter().map(|l| l.get_ref().as_str()).collect();
        let programs: Vec<&str> = plan.programs.keys().map(String::as_str).collect();
        println!("  {} [{}]: {}", plan.key, lobs.join(", "), programs.join(", "));
    }
}
