//! The command line: the contracts of SPEC section 9. Errors here are `anyhow`, with context
//! that tells the user what to do next.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

mod bench;
mod config;
mod log;
mod partner;
mod process;
mod provider;
mod review;
mod roster;
mod serve;
mod to_json;
mod validate;

/// Exit code for usage and I/O errors (SPEC section 9).
pub const EXIT_USAGE: u8 = 2;

#[derive(Debug, Parser)]
#[command(
    name = "umgate",
    version,
    about = "X12 278 prior-authorization gateway",
    long_about = "umgate parses ASC X12 278 prior-authorization requests and 270/271 eligibility \
transactions, validates them against the HIPAA implementation guides, and answers with 999/TA1 \
acknowledgments, 278 responses and 271s.\n\nStart the daemon with `umgate serve`; check files with \
`umgate validate FILE...`."
)]
pub struct Cli {
    /// Database URL: sqlite://PATH (default, under the data directory) or postgres://...
    #[arg(long, global = true, env = "UMGATE_DATABASE_URL")]
    pub db: Option<String>,
    /// Data directory (database, mailboxes).
    #[arg(long, global = true, env = "UMGATE_DATA_DIR", default_value = "./umgate-data")]
    pub data_dir: PathBuf,
    /// Log as JSON lines instead of human-readable text (else UMGATE_LOG_FORMAT, then for
    /// `serve` the configuration's [server] log_format). The level: UMGATE_LOG_LEVEL.
    #[arg(long, global = true)]
    pub log_json: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the daemon (HTTP on 127.0.0.1:8278 by default; HTTPS when a certificate is set):
    /// /healthz, /readyz, /metrics. SIGTERM or SIGINT stops it gracefully (exit 0).
    Serve(serve::ServeArgs),
    /// Validate interchanges: envelope, control numbers and counts, and the implementation guide
    /// of every transaction set (005010X217, X215, X279A1, X231A1).
    ///
    /// Exit status: 0 when every functional group is accepted (A or E), 1 when any interchange or
    /// group is rejected or partially accepted, 2 on usage or I/O errors.
    #[command(
        after_help = "Examples:\n  umgate validate batch.x12\n  umgate validate --json --ack-dir acks/ *.x12 | jq .groups"
    )]
    Validate {
        /// One JSON object per interchange per line (SPEC section 9 schema).
        #[arg(long)]
        json: bool,
        /// Write the 999 and TA1 interchanges that would be sent into this directory.
        #[arg(long, value_name = "DIR")]
        ack_dir: Option<PathBuf>,
        #[command(flatten)]
        grammar: GrammarSource,
        #[command(flatten)]
        clock: FixedClock,
        /// Interchange files (any number of interchanges each).
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
    /// Process batch files without the daemon: every interchange through validation, the
    /// transaction log, the mapping and the UM rules (278 requests become cases, 270s are answered
    /// from the roster, 278 inquiries from the cases) and its answers (TA1, 999, 278 responses,
    /// 271s), one file per answer interchange in DIR.
    ///
    /// Every inbound interchange is stored verbatim with its answers before they are written. The
    /// same interchange (sender ISA05/ISA06 + ISA13, same bytes) processed again is answered again
    /// with the stored answers, byte for byte, and never processed twice; the same sender and ISA13
    /// with other content is a duplicate control number: stored, reported on stderr and in the
    /// summary, not processed, and answered with a TA1 rejecting it (TA104 R, TA105 025), stored
    /// with it and sent again if it comes again. Answer files are named
    /// `<input file name>.<ISA13>.<kind>.<control number>.x12` (kind: ta1, 999, 278, 271).
    ///
    /// After the batch, with --out, the later 278 responses that are due (pended cases decided
    /// since by `umgate review decide`, `umgate timers run` ...) are written to DIR too, as
    /// `umgate notify --out DIR` would (see its help); the JSON summary lists them under
    /// "notifications".
    ///
    /// Exit status: 0 when every functional group is accepted (A or E), 1 when any interchange or
    /// group is rejected or a control number is a duplicate, 2 on usage, I/O or database errors.
    #[command(after_help = "Examples:\n  \
umgate process --out answers/ batch.x12\n  \
umgate --db postgres://umgate@db/umgate process --json --out answers/ *.x12 | jq .cases_created")]
    Process {
        /// Configuration file.
        #[arg(long, default_value = "samples/umgate.toml", value_name = "FILE")]
        config: PathBuf,
        /// Directory for the answer interchanges (created when missing).
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// The summary as one JSON object on stdout.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        grammar: GrammarSource,
        #[command(flatten)]
        clock: FixedClock,
        /// Interchange files (any number of interchanges each).
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
    /// The member roster (eligibility and routing of requests to plans).
    #[command(subcommand)]
    Roster(RosterCommand),
    /// The provider registry (requesting providers on file, for plans that require it).
    #[command(subcommand)]
    Provider(ProviderCommand),
    /// Reviewer work on pended cases: queue, decide, hold, cancel (until the HTTP API exists).
    ///
    /// A decision on a case whose submitter was answered "pended" (HCR01 A4) queues a later 278
    /// response for them, delivered by `umgate notify` (or after `umgate process --out`).
    #[command(subcommand)]
    Review(ReviewCommand),
    /// Durable timers: apply those due (hold expiries, in-progress expiries).
    #[command(subcommand)]
    Timers(TimersCommand),
    /// The transaction log: search the interchanges received and the answers sent, show one with
    /// its answers and cases, print the bytes of either exactly as received or sent.
    #[command(subcommand)]
    Log(log::LogCommand),
    /// Write the later 278 responses due to submitters (pended cases decided since) to DIR.
    ///
    /// One interchange per pended case decided since it was answered (by a reviewer, an expired
    /// hold, a withdrawal ...), answering its request in the
    /// stored inbound interchange with the case as it stands (HCR01, certification number,
    /// approved dates), addressed back to that interchange's sender, numbered from the store's
    /// sequences. Written to DIR as `notification.<id>.<case id>.278.<ISA13>.x12`.
    ///
    /// Each notification is delivered once: claimed with a lease (several drains may run at once),
    /// its bytes kept in the database before the file is written (a retry after a crash rewrites
    /// the same file, never a second interchange), then marked sent. Running it again writes
    /// nothing new. Exit status: 0 when every pending notification was written, 1 when some could
    /// not be (they stay pending: listed on stderr), 2 on usage, I/O or database errors.
    #[command(after_help = "Examples:\n  \
umgate review decide C000000001 --decision approve --reviewer nurse-7\n  \
umgate notify --out outbox/\n  \
umgate notify --json --out outbox/ | jq '.delivered[].file'")]
    Notify {
        /// Directory for the 278 interchanges (created when missing).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// One JSON object on stdout: {"claimed", "delivered": [{"notification_id", "case_id", "file",
        /// "control_number", "status", "superseded"}], "failed": [{"notification_id", "case_id", "reason"}]}.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        grammar: GrammarSource,
        #[command(flatten)]
        clock: FixedClock,
    },
    /// Print an interchange as a JSON tree: envelopes, transaction sets, the guide's loops,
    /// segments and elements (composites as arrays, repetitions under "repeats").
    ToJson {
        #[command(flatten)]
        grammar: GrammarSource,
        file: PathBuf,
    },
    /// Implementation-guide grammars: check the files of a directory.
    #[command(subcommand)]
    Grammar(GrammarCommand),
    /// The UM policy configuration: health plans, lines of business, programs and their rules.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Trading partners: their HTTP credentials.
    #[command(subcommand)]
    Partner(PartnerCommand),
    /// Load tools of our own (loopback benchmarks of the daemon).
    #[command(subcommand, hide = true)]
    Bench(bench::BenchCommand),
    /// Generate deterministic synthetic interchanges (fake people only) for benchmarks and tests:
    /// 278 prior-authorization requests (005010X217) or 270 eligibility inquiries (005010X279A1).
    ///
    /// The same arguments give the same bytes on every machine and every umgate version. Every
    /// generated interchange passes `umgate validate`. Member IDs (`M` and nine digits) come from a
    /// pool that `--roster` writes as a CSV for `umgate roster import`.
    #[command(after_help = "Examples:\n  \
umgate gen 278 --count 200 -o requests.x12\n  \
umgate gen 278 --count 1000000 --seed 7 --roster roster.csv -o big.x12   # ~1 GB\n  \
umgate gen 270 --count 5000 --per-group 500 --per-interchange 2 -o inquiries.x12\n  \
umgate gen 278 --count 10 | umgate validate /dev/stdin\n\n\
Layout: --count transaction sets, --per-group of them in each GS/GE group (the last group takes the \
rest), --per-interchange groups in each ISA/IEA interchange. ISA13, GS06 and ST02 count up from 1 \
through the file.")]
    Gen {
        /// Transaction set: 278 (requests for review) or 270 (eligibility inquiries).
        #[arg(value_parser = ["278", "270"])]
        kind: String,
        /// Number of transaction sets to write.
        #[arg(long, value_name = "N")]
        count: u64,
        /// Seed: same seed, same output; another seed, other people, codes and dates.
        #[arg(long, value_name = "S", default_value_t = 1)]
        seed: u64,
        /// Transaction sets per functional group (GS/GE).
        #[arg(long, value_name = "M", default_value_t = 1000)]
        per_group: u64,
        /// Functional groups per interchange (ISA/IEA).
        #[arg(long, value_name = "K", default_value_t = 1)]
        per_interchange: u64,
        /// Size of the member pool the requests draw from (default: half of --count).
        #[arg(long, value_name = "N")]
        members: Option<u64>,
        /// Also write the member pool as a roster CSV (member_id,first_name,...,coverage_end).
        #[arg(long, value_name = "FILE")]
        roster: Option<PathBuf>,
        /// Also write the requesting providers as a provider registry CSV (npi,name,tin,plans),
        /// every one on file for every plan, for `umgate provider import`.
        #[arg(long, value_name = "FILE")]
        providers: Option<PathBuf>,
        /// ISA06/GS02 sender ID.
        #[arg(long, value_name = "ID", default_value = "UMGATESYNTH")]
        sender: String,
        /// ISA08/GS03 receiver ID.
        #[arg(long, value_name = "ID", default_value = "UMGATE")]
        receiver: String,
        /// Output file (default: standard output).
        #[arg(short = 'o', long = "output", value_name = "FILE")]
        output: Option<PathBuf>,
    },
}

/// Where the implementation-guide grammars come from.
#[derive(Debug, clap::Args)]
pub struct GrammarSource {
    /// Read the guides from this directory instead of those built into the binary.
    #[arg(long, value_name = "DIR", env = "UMGATE_GRAMMARS_DIR", hide = true)]
    pub grammars: Option<PathBuf>,
}

impl GrammarSource {
    fn load(&self) -> anyhow::Result<std::borrow::Cow<'static, crate::grammar::GuideSet>> {
        use crate::grammar::GuideSet;
        match &self.grammars {
            Some(dir) => Ok(std::borrow::Cow::Owned(GuideSet::load_dir(dir).map_err(|e| anyhow::anyhow!("{e}"))?)),
            None => Ok(std::borrow::Cow::Borrowed(GuideSet::builtin().map_err(|e| anyhow::anyhow!("{e}"))?)),
        }
    }
}

/// A fixed time for outbound envelopes, so that acknowledgments are reproducible.
#[derive(Debug, clap::Args)]
pub struct FixedClock {
    /// Date and time written in the acknowledgments' envelopes (default: now).
    #[arg(long, value_name = "YYYY-MM-DDTHH:MM", env = "UMGATE_FIXED_TIME", hide = true)]
    pub fixed_time: Option<String>,
    /// With a fixed time, `process` still takes control numbers from the store's sequences (not
    /// from 1 for the run), so that a run stopped and started again continues where the store
    /// stands: the crash tests compare such runs byte for byte.
    #[arg(long, env = "UMGATE_STORE_NUMBERS", hide = true)]
    pub store_numbers: bool,
}

impl FixedClock {
    fn now(&self) -> anyhow::Result<chrono::NaiveDateTime> {
        match &self.fixed_time {
            Some(text) => chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M")
                .with_context(|| format!("--fixed-time {text}: expected YYYY-MM-DDTHH:MM")),
            None => Ok(chrono::Local::now().naive_local()),
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum GrammarCommand {
    /// Compile every grammar file of DIR (default: the guides built into this binary) and report
    /// the first mistake of each with its file and place.
    Check {
        /// Directory of `*.yaml` guide files.
        dir: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum RosterCommand {
    /// Load members from a CSV file with the header
    /// `member_id,first_name,last_name,birth_date,gender,plan,line_of_business,coverage_start,coverage_end`
    /// (dates YYYY-MM-DD, coverage_end empty for open-ended; line_of_business one of commercial,
    /// medicare, medicaid, dual; gender M, F, U or empty; plan a key of the configuration that
    /// serves that line of business).
    ///
    /// Idempotent: a member already on the roster is replaced by the row. Bad rows are reported on
    /// stderr as `FILE:LINE: skipped: reason` and skipped; the good rows still load. Exit status: 0
    /// when every row loaded, 1 when some were skipped, 2 on usage, I/O or database errors.
    #[command(after_help = "Examples:\n  \
umgate roster import members.csv\n  \
umgate gen 278 --count 1000 --roster r.csv -o batch.x12 && umgate roster import r.csv\n  \
umgate roster import --json members.csv | jq .problems")]
    Import {
        /// Configuration whose plans the rows must name.
        #[arg(long, default_value = "samples/umgate.toml", value_name = "FILE")]
        config: PathBuf,
        /// One JSON object on stdout: {"file", "imported", "skipped", "problems": [{"line", "reason"}]}.
        #[arg(long)]
        json: bool,
        /// The roster CSV.
        #[arg(value_name = "FILE.csv")]
        file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum ProviderCommand {
    /// Load requesting providers from a CSV file with the header `npi,name,tin,plans` (npi: 10
    /// digits with a valid check digit; tin: 9 digits or empty; plans: plan keys of the
    /// configuration separated by `;`, or `*` for every plan).
    ///
    /// Plans with `require_provider_on_file = true` (or `[intake] require_provider_on_file`)
    /// answer requests from a requesting NPI not on file for the member's plan with AAA 51 at
    /// 2010B. Idempotent: a provider already on file is replaced by the row. Bad rows are reported
    /// on stderr as `FILE:LINE: skipped: reason` and skipped; the good rows still load. Exit
    /// status: 0 when every row loaded, 1 when some were skipped, 2 on usage, I/O or database errors.
    #[command(after_help = "Examples:\n  \
umgate provider import samples/providers.csv\n  \
umgate provider import --json providers.csv | jq .problems")]
    Import {
        /// Configuration whose plans the rows must name.
        #[arg(long, default_value = "samples/umgate.toml", value_name = "FILE")]
        config: PathBuf,
        /// One JSON object on stdout: {"file", "imported", "skipped", "problems": [{"line", "reason"}]}.
        #[arg(long)]
        json: bool,
        /// The provider CSV.
        #[arg(value_name = "FILE.csv")]
        file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum ReviewCommand {
    /// The pended cases, most urgent first.
    ///
    /// One line per case: id, version, plan, program, decision due time (OVERDUE when past).
    Queue {
        #[command(flatten)]
        common: ReviewCommon,
        /// At most this many cases.
        #[arg(long, default_value_t = 50, value_name = "N")]
        limit: usize,
    },
    /// Decide a pended case: approve, deny, partial or modify.
    ///
    /// Exit status: 0 when decided (the case on stdout), 1 when refused
    /// (not pended, changed since --seen-version, a denial without a rationale, a partial approval
    /// the program forbids ...: the reason on stderr), 2 on usage or database errors.
    #[command(after_help = "Examples:\n  \
umgate review decide C000000001 --decision approve --reviewer nurse-7\n  \
umgate review decide C000000002 --decision deny --reviewer dr-lee --rationale \"criteria not met\" --guideline NCCN-2026\n  \
umgate review decide C000000003 --decision partial --approve-line 1 --reviewer dr-lee --rationale \"line 2 not indicated\"\n  \
umgate review decide C000000004 --decision modify --quantity 1=6 --reviewer dr-lee --rationale \"6 sessions\" --json")]
    Decide {
        /// The case (as `umgate review queue` lists it).
        #[arg(value_name = "CASE_ID")]
        case_id: String,
        #[arg(long, value_enum)]
        decision: review::DecisionKind,
        /// Who decides (recorded in the case's history).
        #[arg(long, value_name = "NAME")]
        reviewer: String,
        /// Why (required for deny, partial and modify; sent to the requester).
        #[arg(long, value_name = "TEXT")]
        rationale: Option<String>,
        /// The clinical guideline the decision follows.
        #[arg(long, value_name = "TEXT")]
        guideline: Option<String>,
        /// partial: a line to approve (1-based; repeat for several).
        #[arg(long = "approve-line", value_name = "LINE")]
        approve_lines: Vec<usize>,
        /// modify: the approved quantity of a line, LINE=N (1-based; repeat for several).
        #[arg(long = "quantity", value_name = "LINE=N")]
        quantities: Vec<String>,
        /// modify: a site-of-care redirect to this site.
        #[arg(long, value_name = "SITE")]
        site_of_care: Option<String>,
        /// The version of the case you looked at: refused if it changed since.
        #[arg(long, value_name = "N")]
        seen_version: Option<u64>,
        #[command(flatten)]
        common: ReviewCommon,
    },
    /// Put a pended case on hold for documentation, with the decision if none arrives.
    ///
    /// If nothing arrives by --due (default: the
    /// program's configured hold duration), `umgate timers run` decides the case on the original
    /// submission as --if-not-received says, and its submitter is notified. Exit status as for
    /// decide.
    #[command(after_help = "Examples:\n  \
umgate review hold C000000001 --reviewer dr-lee --needed \"MRI report\" --rationale \"no imaging on file\"\n  \
umgate review hold C000000001 --reviewer dr-lee --needed \"MRI report\" --due 2026-03-20T17:00 --if-not-received approve")]
    Hold {
        #[arg(value_name = "CASE_ID")]
        case_id: String,
        #[arg(long, value_name = "NAME")]
        reviewer: String,
        /// What is needed, in words the requester sees.
        #[arg(long, value_name = "TEXT")]
        needed: String,
        /// When the documentation is due, YYYY-MM-DDTHH:MM in UTC (default: the program's hold duration).
        #[arg(long, value_name = "WHEN")]
        due: Option<String>,
        /// The determination if nothing arrives in time.
        #[arg(long, value_enum, default_value = "deny")]
        if_not_received: review::DecisionKind,
        /// Why, for that determination (required unless it approves).
        #[arg(long, value_name = "TEXT")]
        rationale: Option<String>,
        #[command(flatten)]
        common: ReviewCommon,
    },
    /// Withdraw a pended or approved case (staff).
    ///
    /// No more review, its timers dropped; the submitter of a pended case is notified (HCR01 C).
    /// Exit status as for decide.
    Cancel {
        #[arg(value_name = "CASE_ID")]
        case_id: String,
        #[arg(long, value_name = "NAME")]
        reviewer: String,
        /// Why (recorded in the case's history).
        #[arg(long, value_name = "TEXT")]
        reason: String,
        #[command(flatten)]
        common: ReviewCommon,
    },
}

#[derive(Debug, Subcommand)]
pub enum TimersCommand {
    /// Apply every timer due now.
    ///
    /// A hold whose documentation did not come is decided on the
    /// original submission (and its submitter notified), an in-progress request expires.
    #[command(after_help = "Examples:\n  umgate timers run\n  umgate timers run --json && umgate notify --out outbox/")]
    Run {
        /// At most this many timers.
        #[arg(long, default_value_t = 1000, value_name = "N")]
        limit: usize,
        #[command(flatten)]
        common: ReviewCommon,
    },
}

/// Options of the reviewer commands.
#[derive(Debug, clap::Args)]
pub struct ReviewCommon {
    /// Configuration file (the programs' rules).
    #[arg(long, default_value = "samples/umgate.toml", value_name = "FILE")]
    pub config: PathBuf,
    /// JSON on stdout: {"ok", "case": {...}} or {"ok": false, "error"}; queue: one case per line.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub clock: FixedClock,
}

impl ReviewCommon {
    fn setting<'a>(&'a self, database_url: &'a str) -> anyhow::Result<review::Setting<'a>> {
        Ok(review::Setting {
            config: &self.config,
            database_url,
            outbound: crate::ack::Outbound { at: self.clock.now()?, line_break: b"\n".to_vec() },
            fixed: self.clock.fixed_time.is_some(),
            json: self.json,
        })
    }
}

#[derive(Debug, Subcommand)]
pub enum PartnerCommand {
    /// Print the argon2 PHC string of a partner's HTTP password, for `[[partners]]
    /// http_password_hash`. The password is read from a hidden prompt (twice) on a terminal,
    /// else from the first line of stdin.
    #[command(after_help = "Examples:\n  \
umgate partner hash-password\n  \
printf '%s\\n' \"$PASSWORD\" | umgate partner hash-password")]
    HashPassword,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Load a configuration and every file it includes, and validate it all: syntax, types,
    /// unknown fields (typos), references (calendars, programs, upload profiles, cancer types),
    /// overlapping code ranges between programs of one plan, zero durations, min above max.
    ///
    /// Every error is printed on stderr as `file:line:col: field: message`. Exit status: 0 when
    /// valid (a summary on stdout), 1 when invalid, 2 when FILE cannot be read.
    #[command(after_help = "Examples:\n  \
umgate config check                         # samples/umgate.toml\n  \
umgate config check /etc/umgate/umgate.toml\n  \
umgate config check --json my.toml | jq .summary\n\n\
A failing check prints, for instance:\n  \
samples/plans/cigna-commercial.toml:45:19: plans.cigna-commercial.programs.medical-oncology.urgent_decision.hours: must be greater than 0")]
    Check {
        /// One JSON object on stdout: {"ok", "file", "summary", "errors": [{"file", "line", "column", "field", "message"}]}.
        #[arg(long)]
        json: bool,
        /// The root configuration file (it may include others, relative to itself).
        #[arg(default_value = "samples/umgate.toml", value_name = "FILE")]
        file: PathBuf,
    },
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(EXIT_USAGE)
        }
    }
}

/// Logs on stderr, as text or JSON lines, filtered by the level directives.
fn init_tracing(settings: &crate::server::config::LogSettings) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_new(settings.level.value.as_str()).unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    // Colours only for a person at a terminal, not in log files.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi);
    match settings.format.value {
        crate::policy::server::LogFormat::Json => builder.json().with_span_list(false).init(),
        crate::policy::server::LogFormat::Text => builder.init(),
    }
}

/// The database URL: `--db` / `UMGATE_DATABASE_URL`, else SQLite under the data directory.
fn database_url(db: Option<&str>, data_dir: &std::path::Path) -> String {
    match db {
        Some(url) => url.to_owned(),
        None => format!("sqlite://{}", data_dir.join("umgate.db").display()),
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let database = database_url(cli.db.as_deref(), &cli.data_dir);
    // `serve`'s logging may come from its configuration file: it starts logging itself.
    if !matches!(cli.command, Command::Serve(_)) {
        let log = crate::server::config::LogSettings::resolve(&crate::server::config::process_env, cli.log_json)
            .context("the logging settings")?;
        init_tracing(&log);
    }
    match cli.command {
        Command::Roster(RosterCommand::Import { config, json, file }) => {
            roster::import(roster::ImportArgs { file: &file, config: &config, database_url: &database, json })
        }
        Command::Provider(ProviderCommand::Import { config, json, file }) => {
            provider::import(roster::ImportArgs { file: &file, config: &config, database_url: &database, json })
        }
        Command::Process { config, out, json, grammar, clock, files } => {
            let guides = grammar.load()?;
            process::run(process::ProcessArgs {
                files: &files,
                config: &config,
                out_dir: out.as_deref(),
                database_url: &database,
                json,
                guides: &guides,
                outbound: crate::ack::Outbound { at: clock.now()?, line_break: b"\n".to_vec() },
                fixed: clock.fixed_time.is_some(),
                store_numbers: clock.store_numbers,
            })
        }
        Command::Serve(args) => serve::run(args, cli.data_dir, database, cli.log_json),
        Command::Log(command) => log::run(command, &database),
        Command::Review(ReviewCommand::Queue { common, limit }) => review::queue(&common.setting(&database)?, limit),
        Command::Review(ReviewCommand::Decide {
            case_id,
            decision,
            reviewer,
            rationale,
            guideline,
            approve_lines,
            quantities,
            site_of_care,
            seen_version,
            common,
        }) => review::decide(
            &common.setting(&database)?,
            &review::DecideArgs {
                case_id: &case_id,
                decision,
                reviewer: &reviewer,
                rationale: rationale.as_deref(),
                guideline: guideline.as_deref(),
                approve_lines: &approve_lines,
                quantities: &quantities,
                site_of_care: site_of_care.as_deref(),
                seen_version,
            },
        ),
        Command::Review(ReviewCommand::Hold { case_id, reviewer, needed, due, if_not_received, rationale, common }) => {
            review::hold(
                &common.setting(&database)?,
                &needed,
                due.as_deref(),
                &review::DecideArgs {
                    case_id: &case_id,
                    decision: if_not_received,
                    reviewer: &reviewer,
                    rationale: rationale.as_deref(),
                    guideline: None,
                    approve_lines: &[],
                    quantities: &[],
                    site_of_care: None,
                    seen_version: None,
                },
            )
        }
        Command::Review(ReviewCommand::Cancel { case_id, reviewer, reason, common }) => {
            review::cancel(&common.setting(&database)?, &case_id, &reviewer, &reason)
        }
        Command::Timers(TimersCommand::Run { limit, common }) => review::run_timers(&common.setting(&database)?, limit),
        Command::Notify { out, json, grammar, clock } => {
            let guides = grammar.load()?;
            let setting = review::Setting {
                config: std::path::Path::new(""),
                database_url: &database,
                outbound: crate::ack::Outbound { at: clock.now()?, line_break: b"\n".to_vec() },
                fixed: clock.fixed_time.is_some(),
                json,
            };
            review::notify(&setting, &guides, &out)
        }
        Command::Grammar(GrammarCommand::Check { dir }) => grammar_check(dir.as_deref()),
        Command::Config(ConfigCommand::Check { json, file }) => config::check(&file, json),
        Command::Partner(PartnerCommand::HashPassword) => partner::hash_password(),
        Command::Bench(bench::BenchCommand::Realtime(args)) => bench::realtime(args),
        Command::Validate { json, ack_dir, grammar, clock, files } => {
            let guides = grammar.load()?;
            let accepted = validate::run(validate::ValidateArgs {
                files: &files,
                json,
                ack_dir: ack_dir.as_deref(),
                guides: &guides,
                outbound: crate::ack::Outbound { at: clock.now()?, line_break: b"\n".to_vec() },
            })?;
            Ok(if accepted { ExitCode::SUCCESS } else { ExitCode::from(1) })
        }
        Command::Gen {
            kind,
            count,
            seed,
            per_group,
            per_interchange,
            members,
            roster,
            providers,
            sender,
            receiver,
            output,
        } => {
            use crate::synth::{GenOptions, TransactionKind};
            let kind = if kind == "270" { TransactionKind::Inquiry270 } else { TransactionKind::Request278 };
            let options = GenOptions {
                seed,
                per_group,
                groups_per_interchange: per_interchange,
                members,
                sender_id: sender,
                receiver_id: receiver,
                ..GenOptions::new(kind, count)
            };
            gen_command(&options, roster.as_deref(), providers.as_deref(), output.as_deref())
        }
        Command::ToJson { grammar, file } => {
            let guides = grammar.load()?;
            let tree = to_json::run(&file, &guides)?;
            println!("{}", serde_json::to_string_pretty(&tree)?);
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `umgate gen`: the interchanges to FILE or stdout, the roster when asked, a summary on stderr.
fn gen_command(
    options: &crate::synth::GenOptions,
    roster: Option<&std::path::Path>,
    providers: Option<&std::path::Path>,
    output: Option<&std::path::Path>,
) -> anyhow::Result<ExitCode> {
    options.check()?;
    if let Some(path) = providers {
        let file =
            std::fs::File::create(path).with_context(|| format!("cannot create the providers {}", path.display()))?;
        let rows =
            crate::synth::write_providers(options, file).with_context(|| format!("providers {}", path.display()))?;
        eprintln!("wrote {rows} providers to {}", path.display());
    }
    if let Some(path) = roster {
        let file =
            std::fs::File::create(path).with_context(|| format!("cannot create the roster {}", path.display()))?;
        let members =
            crate::synth::write_roster(options, file).with_context(|| format!("roster {}", path.display()))?;
        eprintln!("wrote {members} members to {}", path.display());
    }
    let summary = match output {
        Some(path) => {
            let file = std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
            crate::synth::generate(options, file).with_context(|| format!("writing {}", path.display()))?
        }
        None => match crate::synth::generate(options, std::io::stdout().lock()) {
            // A reader that stops early (`| head`) is not an error of ours.
            Err(crate::synth::SynthError::Io(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                return Ok(ExitCode::SUCCESS);
            }
            other => other?,
        },
    };
    if let Some(path) = output {
        eprintln!(
            "wrote {} transaction sets in {} groups and {} interchanges ({} bytes) to {}",
            summary.transactions,
            summary.groups,
            summary.interchanges,
            summary.bytes,
            path.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn grammar_check(dir: Option<&std::path::Path>) -> anyhow::Result<ExitCode> {
    use crate::grammar::GuideSet;
    let owned;
    let set = match dir {
        Some(dir) => {
            owned = GuideSet::load_dir(dir).map_err(|e| anyhow::anyhow!("{e}"))?;
            &owned
        }
        None => GuideSet::builtin().map_err(|e| anyhow::anyhow!("{e}"))?,
    };
    for guide in set.guides() {
        let mut segments = 0usize;
        let mut loops = 0usize;
        for tx in &guide.transactions {
            count_nodes(&tx.root, &mut segments, &mut loops);
        }
        println!(
            "{}: {} transaction(s), {} loops, {} segment usages",
            guide.id,
            guide.transactions.len(),
            loops,
            segments
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn count_nodes(lp: &crate::grammar::Loop, segments: &mut usize, loops: &mut usize) {
    for node in &lp.children {
        match node {
            crate::grammar::Node::Segment(_) => *segments += 1,
            crate::grammar::Node::Loop(inner) => {
                *loops += 1;
                count_nodes(inner, segments, loops);
            }
        }
    }
}
