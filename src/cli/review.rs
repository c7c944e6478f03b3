//! `umgate review queue|decide|cancel`, `umgate timers run` and `umgate notify`: reviewer work on
//! the command line until the HTTP API exists, and the delivery of the later 278 responses it
//! causes. The work is in `crate::domain` and `crate::pipeline::notify`; this is the edge:
//! arguments, the store, the output and the exit status.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use serde_json::json;

use crate::ack::{Counter, Outbound};
use crate::domain::{Actor, Case, CaseService, DomainError, HoldRequest, Quantity, ReviewDecision};
use crate::grammar::GuideSet;
use crate::pipeline::notify::{DrainSummary, Notifier};
use crate::pipeline::{NumberSource, PipelineClock};
use crate::storage::Store;

/// What every command here needs: the configuration, the database and the time.
pub struct Setting<'a> {
    pub config: &'a Path,
    pub database_url: &'a str,
    pub outbound: Outbound,
    /// Fixed-time test mode: the clock is `outbound.at` (as UTC) and control numbers count from 1.
    pub fixed: bool,
    pub json: bool,
}

impl Setting<'_> {
    fn clock(&self) -> PipelineClock {
        if self.fixed { PipelineClock::Fixed(self.outbound.at.and_utc()) } else { PipelineClock::System }
    }

    fn runtime(&self) -> anyhow::Result<tokio::runtime::Runtime> {
        Ok(tokio::runtime::Builder::new_current_thread().enable_all().build()?)
    }

    fn service(&self, store: Store) -> anyhow::Result<CaseService<Store, PipelineClock>> {
        let policy = crate::policy::Policy::load(self.config)
            .map_err(|error| anyhow::anyhow!("{error}"))
            .with_context(|| format!("loading the configuration {}", self.config.display()))?;
        Ok(CaseService::new(Arc::new(policy), store, self.clock()))
    }
}

/// The decision of `umgate review decide`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DecisionKind {
    /// Every pending line approved (HCR01 A1).
    Approve,
    /// Every line denied (A3); needs --rationale.
    Deny,
    /// The lines of --approve-line approved, the other pending lines denied (A2); needs --rationale.
    Partial,
    /// Approved with changes (A6): --quantity LINE=N per changed line; needs --rationale.
    Modify,
}

pub struct DecideArgs<'a> {
    pub case_id: &'a str,
    pub decision: DecisionKind,
    pub reviewer: &'a str,
    pub rationale: Option<&'a str>,
    pub guideline: Option<&'a str>,
    /// 1-based line numbers.
    pub approve_lines: &'a [usize],
    /// `LINE=N`, 1-based.
    pub quantities: &'a [String],
    pub site_of_care: Option<&'a str>,
    pub seen_version: Option<u64>,
}

/// A refusal by the domain (wrong state, conflict, invalid decision) is exit 1 with the reason
/// on stderr; usage and database errors are errors (exit 2).
fn refused(error: &DomainError) -> bool {
    !matches!(error, DomainError::Repository(_))
}

pub fn decide(setting: &Setting<'_>, args: &DecideArgs<'_>) -> anyhow::Result<ExitCode> {
    let runtime = setting.runtime()?;
    runtime.block_on(async {
        let store = Store::connect(setting.database_url).await.context("opening the database")?;
        let service = setting.service(store.clone())?;
        let outcome = async {
            let case = service.case(args.case_id).await?;
            let decision = review_decision(&case, args)?;
            service.decide(args.case_id, args.reviewer, args.seen_version, decision).await
        }
        .await;
        let code = report_case(setting, outcome, "decided")?;
        store.close().await;
        Ok(code)
    })
}

fn review_decision(case: &Case, args: &DecideArgs<'_>) -> Result<ReviewDecision, DomainError> {
    let rationale = || {
        args.rationale
            .map(str::to_owned)
            .filter(|text| !text.trim().is_empty())
            .ok_or_else(|| DomainError::InvalidDecision("this decision needs --rationale".into()))
    };
    let guideline = args.guideline.map(str::to_owned);
    Ok(match args.decision {
        DecisionKind::Approve => ReviewDecision::Approve,
        DecisionKind::Deny => ReviewDecision::Deny { rationale: rationale()?, guideline },
        DecisionKind::Partial => {
            let lines = case.lines.len();
            let approved_lines = args
                .approve_lines
                .iter()
                .map(|&line| {
                    (1..=lines).contains(&line).then(|| line - 1).ok_or_else(|| {
                        DomainError::InvalidDecision(format!("--approve-line {line}: the case has lines 1 to {lines}"))
                    })
                })
                .collect::<Result<Vec<usize>, _>>()?;
            ReviewDecision::PartiallyApprove { approved_lines, rationale: rationale()?, guideline }
        }
        DecisionKind::Modify => {
            let mut quantities: Vec<Option<Quantity>> = vec![None; case.lines.len()];
            for text in args.quantities {
                let bad = || DomainError::InvalidDecision(format!("--quantity {text}: expected LINE=N"));
                let (line, value) = text.split_once('=').ok_or_else(bad)?;
                let line: usize = line.trim().parse().map_err(|_| bad())?;
                let value: u32 = value.trim().parse().map_err(|_| bad())?;
                let slot = line.checked_sub(1).and_then(|index| quantities.get_mut(index)).ok_or_else(bad)?;
                let requested = case.lines[line - 1].requested.quantity.ok_or_else(|| {
                    DomainError::InvalidDecision(format!("--quantity {text}: line {line} requested no quantity"))
                })?;
                *slot = Some(Quantity { kind: requested.kind, value });
            }
            ReviewDecision::Modify {
                quantities,
                rationale: rationale()?,
                site_of_care_redirect: args.site_of_care.map(str::to_owned),
            }
        }
    })
}

/// `umgate review hold`: puts a pended case on hold for documentation; if nothing arrives by
/// `due` (default: the program's hold duration) `umgate timers run` decides it as `fallback` says.
pub fn hold(
    setting: &Setting<'_>,
    needed: &str,
    due: Option<&str>,
    fallback: &DecideArgs<'_>,
) -> anyhow::Result<ExitCode> {
    let due = due
        .map(|text| {
            chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M")
                .map(|at| at.and_utc())
                .with_context(|| format!("--due {text}: expected YYYY-MM-DDTHH:MM (UTC)"))
        })
        .transpose()?;
    let runtime = setting.runtime()?;
    runtime.block_on(async {
        let store = Store::connect(setting.database_url).await.context("opening the database")?;
        let service = setting.service(store.clone())?;
        let outcome = async {
            let case = service.case(fallback.case_id).await?;
            let if_not_received = review_decision(&case, fallback)?;
            let request = HoldRequest { needed: needed.to_owned(), due, if_not_received };
            service.hold(fallback.case_id, fallback.reviewer, request).await
        }
        .await;
        let code = report_case(setting, outcome, "put on hold")?;
        store.close().await;
        Ok(code)
    })
}

/// `umgate review cancel`: a withdrawal by staff (the submitter of a pended case is notified).
pub fn cancel(setting: &Setting<'_>, case_id: &str, reviewer: &str, reason: &str) -> anyhow::Result<ExitCode> {
    let runtime = setting.runtime()?;
    runtime.block_on(async {
        let store = Store::connect(setting.database_url).await.context("opening the database")?;
        let service = setting.service(store.clone())?;
        let outcome = service.cancel(case_id, Actor::Reviewer(reviewer.to_owned()), reason).await;
        let code = report_case(setting, outcome, "cancelled")?;
        store.close().await;
        Ok(code)
    })
}

/// The case after an operation, or why it was refused.
fn report_case(setting: &Setting<'_>, outcome: Result<Case, DomainError>, done: &str) -> anyhow::Result<ExitCode> {
    let case = match outcome {
        Ok(case) => case,
        Err(error) if refused(&error) => {
            if setting.json {
                println!("{}", json!({"ok": false, "error": error.to_string()}));
            } else {
                eprintln!("refused: {error}");
            }
            return Ok(ExitCode::from(1));
        }
        Err(error) => return Err(anyhow::anyhow!("{error}")),
    };
    let view = case_view(&case, setting.clock());
    if setting.json {
        println!("{}", json!({"ok": true, "case": view}));
    } else {
        println!(
            "case {} {done}: {} (HCR01 {}), version {}{}",
            case.id,
            case.status.as_str(),
            case.hcr01().unwrap_or("-"),
            case.version,
            case.authorization_number.as_deref().map(|n| format!(", certification {n}")).unwrap_or_default()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// What the commands show of a case: no member data.
fn case_view(case: &Case, clock: PipelineClock) -> serde_json::Value {
    use crate::domain::Clock;
    json!({
        "id": case.id,
        "version": case.version,
        "status": case.status.as_str(),
        "hcr01": case.hcr01(),
        "plan": case.plan,
        "program": case.program,
        "lines": case.lines.len(),
        "received_at": case.received_at,
        "decision_due": case.decision_due,
        "overdue": case.is_overdue(clock.now()),
        "authorization_number": case.authorization_number,
        "approved_from": case.approved_from,
        "approved_to": case.approved_to,
    })
}

/// `umgate review queue`: the pended cases, most urgent first.
pub fn queue(setting: &Setting<'_>, limit: usize) -> anyhow::Result<ExitCode> {
    let runtime = setting.runtime()?;
    runtime.block_on(async {
        let store = Store::connect(setting.database_url).await.context("opening the database")?;
        let service = setting.service(store.clone())?;
        let entries = service.review_queue(limit).await.map_err(|error| anyhow::anyhow!("{error}"))?;
        store.close().await;
        let mut out = std::io::stdout().lock();
        for entry in &entries {
            let case = &entry.case;
            if setting.json {
                writeln!(out, "{}", case_view(case, setting.clock()))?;
            } else {
                writeln!(
                    out,
                    "{} v{} {} {} due {}{}",
                    case.id,
                    case.version,
                    case.plan,
                    case.program.as_deref().unwrap_or("-"),
                    case.decision_due.map(|due| due.to_rfc3339()).unwrap_or_else(|| "-".into()),
                    if entry.overdue { " OVERDUE" } else { "" }
                )?;
            }
        }
        if !setting.json {
            eprintln!("{} pended case(s)", entries.len());
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// `umgate timers run`: applies the due timers (hold expiries, in-progress expiries).
pub fn run_timers(setting: &Setting<'_>, limit: usize) -> anyhow::Result<ExitCode> {
    let runtime = setting.runtime()?;
    runtime.block_on(async {
        let store = Store::connect(setting.database_url).await.context("opening the database")?;
        let service = setting.service(store.clone())?;
        let applied = service.run_due_timers(limit).await.map_err(|error| anyhow::anyhow!("{error}"))?;
        store.close().await;
        if setting.json {
            println!("{}", json!({"applied": applied}));
        } else {
            println!("{applied} due timer(s) applied");
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// `umgate notify --out DIR`: delivers the pending later 278 responses.
pub fn notify(setting: &Setting<'_>, guides: &GuideSet, out_dir: &Path) -> anyhow::Result<ExitCode> {
    let runtime = setting.runtime()?;
    runtime.block_on(async {
        let store = Store::connect(setting.database_url).await.context("opening the database")?;
        let mut numbers =
            if setting.fixed { NumberSource::Fixed(Counter::starting_at(1)) } else { NumberSource::Store };
        let notifier = Notifier {
            store: &store,
            guides,
            outbound: &setting.outbound,
            now: crate::domain::Clock::now(&setting.clock()),
        };
        let summary = notifier.drain(&mut numbers, out_dir).await;
        store.close().await;
        let summary = summary?;
        print_drain(&summary, setting.json)?;
        Ok(if summary.failed.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
    })
}

/// The drain's outcome: one JSON object, or a line per notification and a count.
pub fn print_drain(summary: &DrainSummary, json: bool) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    if json {
        writeln!(out, "{}", serde_json::to_string(summary)?)?;
        return Ok(());
    }
    print_drain_lines(summary)?;
    writeln!(out, "notifications written: {}; failed: {}", summary.delivered.len(), summary.failed.len())?;
    Ok(())
}

/// A line on stderr per notification written or failed.
pub fn print_drain_lines(summary: &DrainSummary) -> anyhow::Result<()> {
    for delivered in &summary.delivered {
        eprintln!("case {}: {} notified in {}", delivered.case_id, delivered.status, delivered.file);
    }
    for failed in &summary.failed {
        eprintln!("case {}: notification {} NOT written: {}", failed.case_id, failed.notification_id, failed.reason);
    }
    Ok(())
}
