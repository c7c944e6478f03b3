//! `umgate log search|sent|show|output|reindex`: the transaction log on the command line ("did you
//! get my file and what did you send back?"). The searches and the JSON are those of `GET
//! /v1/log...` (`crate::server::log_api::view`); this is the edge: flags, the store, the output
//! and the exit status (0 found, 1 no such interchange or answer, 2 usage or database errors).

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;

use crate::pipeline::log_index;
use crate::server::log_api::view::{self, OutputFilters, SearchFilters};
use crate::storage::Store;
use crate::storage::log_search::{InterchangeSummary, LogCursor, OutputSummary};

/// Rows summarized per transaction by `reindex` and by a search by type.
const SUMMARY_BATCH: i64 = 500;

#[derive(Debug, Subcommand)]
pub enum LogCommand {
    /// Search the inbound interchanges, newest first: one line each (id, received, sender,
    /// receiver, ISA13, transaction sets, status, bytes), or one JSON object with --json
    /// (`{"items": [...], "next_cursor"}`, as `GET /v1/log`).
    ///
    /// Every filter given must match. When more rows follow, the command to get the next page is
    /// printed on stderr (`--cursor C`). A search by --type first summarizes the interchanges
    /// logged without their set summary (as `umgate log reindex`).
    #[command(after_help = "Examples:\n  \
umgate log search --sender ZZ:SUBMITTER1 --since 2026-11-01\n  \
umgate log search --control-number 42                # ISA13 000000042, any sender\n  \
umgate log search --type 278 --status answered --limit 20 --json | jq '.items[].id'\n  \
umgate log search --since 2026-11-23T08:00:00Z --until 2026-11-23 --cursor 1763884800000000-17-0")]
    Search {
        /// The sender: ISA05:ISA06 (`ZZ:SUBMITTER1`) or ISA06 alone (any qualifier).
        #[arg(long, value_name = "Q:ID")]
        sender: Option<String>,
        /// The receiver: ISA07:ISA08 or ISA08 alone.
        #[arg(long, value_name = "Q:ID")]
        receiver: Option<String>,
        /// ISA13 (`42` is `000000042`).
        #[arg(long, value_name = "N")]
        control_number: Option<String>,
        /// Received on or after: a date (YYYY-MM-DD, from its midnight UTC) or an RFC 3339 time.
        #[arg(long, value_name = "DATE")]
        since: Option<String>,
        /// Received up to: a date (that whole day UTC included) or an RFC 3339 time (excluded).
        #[arg(long, value_name = "DATE")]
        until: Option<String>,
        /// Carries this transaction set: 278, 270, 271, 999, TA1 ...
        #[arg(long = "type", value_name = "T")]
        set_type: Option<String>,
        /// The log status: received, answered, duplicate-control-number.
        #[arg(long, value_name = "S")]
        status: Option<String>,
        /// Rows per page (1 to 1000).
        #[arg(long, value_name = "N", default_value_t = 50)]
        limit: u32,
        /// Continue after the page that printed this cursor.
        #[arg(long, value_name = "C")]
        cursor: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Search the answers sent (TA1, 999, 278, 271), newest first: one line each (interchange id,
    /// seq, kind, our ISA13, created, partner, the inbound ISA13, bytes), or JSON with --json (as
    /// `GET /v1/log/outputs`).
    #[command(after_help = "Examples:\n  \
umgate log sent --kind 999 --since 2026-11-23\n  \
umgate log sent --control-number 100000002 --json | jq '.items[0].links'\n  \
umgate log sent --partner ZZ:SUBMITTER1 --kind 278")]
    Sent {
        /// TA1, 999, 278 or 271.
        #[arg(long, value_name = "K")]
        kind: Option<String>,
        /// The answer's own ISA13.
        #[arg(long, value_name = "N")]
        control_number: Option<String>,
        /// The partner answered (the inbound interchange's sender), Q:ID or ID.
        #[arg(long, value_name = "Q:ID")]
        partner: Option<String>,
        /// Answers to this inbound interchange only.
        #[arg(long, value_name = "ID")]
        interchange: Option<i64>,
        #[arg(long, value_name = "DATE")]
        since: Option<String>,
        #[arg(long, value_name = "DATE")]
        until: Option<String>,
        #[arg(long, value_name = "N", default_value_t = 50)]
        limit: u32,
        #[arg(long, value_name = "C")]
        cursor: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// One inbound interchange: its envelope, what it carries, its answers (acknowledgments
    /// marked) with their kinds and control numbers, its cases with their status now, the later
    /// 278 responses for its pended cases decided afterwards, and the duplicates kept of it. --raw prints its bytes exactly as received instead.
    #[command(after_help = "Examples:\n  \
umgate log show 17\n  \
umgate log show 17 --json | jq .cases\n  \
umgate log show 17 --raw > received.x12")]
    Show {
        /// The interchange id (as `umgate log search` lists it).
        #[arg(value_name = "ID")]
        id: i64,
        /// The interchange's bytes as received, on stdout.
        #[arg(long, conflicts_with = "json")]
        raw: bool,
        /// One JSON object (as `GET /v1/log/{id}`).
        #[arg(long)]
        json: bool,
    },
    /// The bytes of one answer exactly as sent, on stdout.
    #[command(
        after_help = "Examples:\n  umgate log output 17 2 > answer.x12\n  umgate log output 17 1 | umgate validate /dev/stdin"
    )]
    Output {
        /// The inbound interchange's id.
        #[arg(value_name = "ID")]
        id: i64,
        /// The answer's sequence number (as `umgate log show` lists it).
        #[arg(value_name = "SEQ")]
        seq: i64,
    },
    /// Summarize the transaction sets of the interchanges logged without that summary (by an
    /// earlier version), so that a search by --type finds them. The daemon does it in the
    /// background too. Prints how many it summarized.
    Reindex,
}

/// Runs a `umgate log` command.
pub fn run(command: LogCommand, database_url: &str) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        let store = Store::connect(database_url)
            .await
            .context("opening the database (set --db or UMGATE_DATABASE_URL, or --data-dir for SQLite)")?;
        let code = execute(command, &store).await;
        store.close().await;
        code
    })
}

async fn execute(command: LogCommand, store: &Store) -> anyhow::Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    match command {
        LogCommand::Search {
            sender,
            receiver,
            control_number,
            since,
            until,
            set_type,
            status,
            limit,
            cursor,
            json,
        } => {
            let by_type = set_type.is_some();
            let filters = SearchFilters {
                sender,
                receiver,
                control_number,
                since,
                until,
                set_type,
                status,
                limit: Some(limit.to_string()),
                cursor,
            };
            let query = filters.to_query()?;
            if by_type {
                let done = log_index::summarize_pending(store, SUMMARY_BATCH, u64::MAX).await?;
                if done > 0 {
                    eprintln!("summarized {done} interchanges logged without their transaction sets");
                }
            }
            let page = store.search_interchanges(&query).await?;
            if json {
                writeln!(out, "{}", view::page_json(&page, view::interchange_json))?;
            } else {
                for entry in &page.items {
                    writeln!(out, "{}", interchange_line(entry))?;
                }
            }
            next_page(page.next);
        }
        LogCommand::Sent { kind, control_number, partner, interchange, since, until, limit, cursor, json } => {
            let filters = OutputFilters {
                kind,
                control_number,
                partner,
                interchange: interchange.map(|id| id.to_string()),
                since,
                until,
                limit: Some(limit.to_string()),
                cursor,
            };
            let page = store.search_outputs(&filters.to_query()?).await?;
            if json {
                writeln!(out, "{}", view::page_json(&page, view::output_json))?;
            } else {
                for output in &page.items {
                    writeln!(out, "{}", output_line(output))?;
                }
            }
            next_page(page.next);
        }
        LogCommand::Show { id, raw: true, .. } => match store.get_interchange(id).await? {
            Some(record) => out.write_all(&record.content)?,
            None => return Ok(missing(&format!("no interchange {id} in the transaction log"))),
        },
        LogCommand::Show { id, json, .. } => {
            let Some(detail) = view::detail_json(store, id).await? else {
                return Ok(missing(&format!("no interchange {id} in the transaction log")));
            };
            if json {
                writeln!(out, "{detail}")?;
            } else {
                write_detail(&mut out, &detail)?;
            }
        }
        LogCommand::Output { id, seq } => match store.interchange_output(id, seq).await? {
            Some(output) => out.write_all(&output.content)?,
            None => return Ok(missing(&format!("no answer {seq} of interchange {id} in the transaction log"))),
        },
        LogCommand::Reindex => {
            let done = log_index::summarize_pending(store, SUMMARY_BATCH, u64::MAX).await?;
            writeln!(out, "summarized {done} interchanges")?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn missing(message: &str) -> ExitCode {
    eprintln!("{message}");
    ExitCode::from(1)
}

fn next_page(next: Option<LogCursor>) {
    if let Some(next) = next {
        eprintln!("more: add --cursor {} for the next page", next.encode());
    }
}

fn party(party: &Option<crate::storage::Party>) -> String {
    party.as_ref().map_or_else(|| "-".to_owned(), |party| format!("{}:{}", party.qualifier, party.id))
}

fn timestamp(at: chrono::DateTime<chrono::Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn sets(entry: &InterchangeSummary) -> String {
    match &entry.contents {
        None => "?".to_owned(),
        Some(contents) if contents.sets.is_empty() => "-".to_owned(),
        Some(contents) => {
            contents.sets.iter().map(|set| format!("{}x{}", set.set_id, set.count)).collect::<Vec<_>>().join(",")
        }
    }
}

fn interchange_line(entry: &InterchangeSummary) -> String {
    format!(
        "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{} bytes",
        entry.id,
        timestamp(entry.received_at),
        party(&entry.sender),
        party(&entry.receiver),
        entry.control_number.as_deref().unwrap_or("-"),
        sets(entry),
        entry.status,
        entry.size
    )
}

fn output_line(output: &OutputSummary) -> String {
    format!(
        "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{} bytes",
        output.interchange_id,
        output.seq,
        output.kind,
        output.control_number,
        timestamp(output.created_at),
        party(&output.partner),
        output.inbound_control_number.as_deref().unwrap_or("-"),
        output.size
    )
}

/// The detail as text, from its JSON form (one source for both).
fn write_detail(out: &mut impl Write, detail: &serde_json::Value) -> std::io::Result<()> {
    let entry = &detail["interchange"];
    let text = |value: &serde_json::Value| match value {
        serde_json::Value::String(text) => text.clone(),
        serde_json::Value::Null => "-".to_owned(),
        other => other.to_string(),
    };
    let party = |value: &serde_json::Value| {
        if value.is_null() { "-".to_owned() } else { format!("{}:{}", text(&value["qualifier"]), text(&value["id"])) }
    };
    writeln!(out, "interchange {}", text(&entry["id"]))?;
    writeln!(out, "  received      {}", text(&entry["received_at"]))?;
    writeln!(out, "  sender        {}", party(&entry["sender"]))?;
    writeln!(out, "  receiver      {}", party(&entry["receiver"]))?;
    writeln!(out, "  ISA13         {}", text(&entry["control_number"]))?;
    writeln!(out, "  status        {}", text(&entry["status"]))?;
    if !entry["duplicate_of"].is_null() {
        writeln!(out, "  duplicate of  {}", text(&entry["duplicate_of"]))?;
    }
    writeln!(out, "  file          {} at byte {}", text(&entry["file_name"]), text(&entry["byte_offset"]))?;
    writeln!(out, "  size          {} bytes, sha256 {}", text(&entry["size"]), text(&entry["content_sha256"]))?;
    let carried = match entry["transaction_sets"].as_array() {
        None => "not summarized yet (umgate log reindex)".to_owned(),
        Some(sets) => {
            let sets: Vec<String> =
                sets.iter().map(|set| format!("{} x{}", text(&set["set_id"]), text(&set["count"]))).collect();
            format!(
                "{} group(s): {}",
                text(&entry["groups"]),
                if sets.is_empty() { "-".into() } else { sets.join(", ") }
            )
        }
    };
    writeln!(out, "  carries       {carried}")?;
    let answers = detail["answers"].as_array().map(Vec::as_slice).unwrap_or_default();
    writeln!(out, "answers ({})", answers.len())?;
    for answer in answers {
        writeln!(
            out,
            "  {}\t{}\tISA13 {}\t{}\t{} bytes{}",
            text(&answer["seq"]),
            text(&answer["kind"]),
            text(&answer["control_number"]),
            text(&answer["created_at"]),
            text(&answer["size"]),
            if answer["acknowledgment"] == true { "\tacknowledgment" } else { "" }
        )?;
    }
    let cases = detail["cases"].as_array().map(Vec::as_slice).unwrap_or_default();
    writeln!(out, "cases ({})", cases.len())?;
    for case in cases {
        writeln!(out, "  {}\t{}", text(&case["case_id"]), text(&case["status"]))?;
    }
    let later = detail["later_answers"].as_array().map(Vec::as_slice).unwrap_or_default();
    if !later.is_empty() {
        writeln!(out, "later 278 responses ({})", later.len())?;
        for answer in later {
            writeln!(
                out,
                "  notification {}\tcase {}\t{}\tISA13 {}\tqueued {}\tsent {}",
                text(&answer["notification_id"]),
                text(&answer["case_id"]),
                text(&answer["status"]),
                text(&answer["control_number"]),
                text(&answer["queued_at"]),
                text(&answer["sent_at"])
            )?;
        }
    }
    if let Some(duplicates) = detail["duplicates"].as_array().filter(|list| !list.is_empty()) {
        let ids: Vec<String> = duplicates.iter().map(text).collect();
        writeln!(out, "duplicates kept: {}", ids.join(", "))?;
    }
    Ok(())
}
