//! `umgate validate`: envelope and implementation-guide validation of files, with JSON lines
//! for scripts and the 999/TA1 that would be sent.

use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::ack::{Counter, Outbound, ack_999_interchange, ta1_interchange};
use crate::grammar::GuideSet;
use crate::validation::{InterchangeReport, Observer, validate_stream};

/// Files larger than this get a progress bar when stderr is a terminal.
const PROGRESS_THRESHOLD: u64 = 8 * 1024 * 1024;

pub struct ValidateArgs<'a> {
    pub files: &'a [PathBuf],
    pub json: bool,
    pub ack_dir: Option<&'a Path>,
    pub guides: &'a GuideSet,
    pub outbound: Outbound,
}

struct Collector<'a> {
    json: bool,
    out: &'a mut dyn Write,
    ack_dir: Option<&'a Path>,
    stem: String,
    outbound: &'a Outbound,
    numbers: &'a mut Counter,
    all_accepted: bool,
    error: Option<anyhow::Error>,
}

impl Observer for Collector<'_> {
    fn interchange_end(&mut self, report: InterchangeReport) {
        self.all_accepted &= report.all_accepted();
        let result = self.emit(&report);
        if let Err(error) = result {
            self.error.get_or_insert(error);
        }
    }
}

impl Collector<'_> {
    fn emit(&mut self, report: &InterchangeReport) -> anyhow::Result<()> {
        if self.json {
            writeln!(self.out, "{}", report.to_json())?;
        } else {
            write_human(self.out, report)?;
        }
        if let Some(dir) = self.ack_dir {
            let name = match report.isa13() {
                Some(isa13) => format!("{}.{}", self.stem, isa13.trim()),
                None => format!("{}.at{}", self.stem, report.offset),
            };
            if let Some(bytes) = ta1_interchange(report, self.outbound, self.numbers) {
                let path = dir.join(format!("{name}.ta1.x12"));
                std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))?;
            }
            if let Some(bytes) = ack_999_interchange(report, self.outbound, self.numbers) {
                let path = dir.join(format!("{name}.999.x12"));
                std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))?;
            }
        }
        Ok(())
    }
}

/// Returns whether every interchange of every file was accepted.
pub fn run(args: ValidateArgs<'_>) -> anyhow::Result<bool> {
    if let Some(dir) = args.ack_dir {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("creating the acknowledgment directory {}", dir.display()))?;
    }
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut numbers = Counter::starting_at(1);
    let mut all_accepted = true;
    for path in args.files {
        let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
        let length = file.metadata().map(|m| m.len()).unwrap_or(0);
        let progress = (std::io::stderr().is_terminal() && length > PROGRESS_THRESHOLD).then(|| {
            let bar = indicatif::ProgressBar::new(length);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{msg} {bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            bar.set_message(path.display().to_string());
            bar
        });
        let input: Box<dyn std::io::Read> = match &progress {
            Some(bar) => Box::new(bar.wrap_read(file)),
            None => Box::new(file),
        };
        let stem = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "input".into());
        let mut collector = Collector {
            json: args.json,
            out: &mut out,
            ack_dir: args.ack_dir,
            stem,
            outbound: &args.outbound,
            numbers: &mut numbers,
            all_accepted: true,
            error: None,
        };
        validate_stream(input, &path.display().to_string(), args.guides, &mut collector)
            .with_context(|| format!("reading {}", path.display()))?;
        if let Some(bar) = progress {
            bar.finish_and_clear();
        }
        if let Some(error) = collector.error {
            return Err(error);
        }
        all_accepted &= collector.all_accepted;
    }
    out.flush()?;
    Ok(all_accepted)
}

fn write_human(out: &mut dyn Write, report: &InterchangeReport) -> std::io::Result<()> {
    let isa13 = report.isa13().unwrap_or("?");
    if let Some(problem) = &report.problem {
        writeln!(out, "{}: REJECTED: {problem}", report.file)?;
    }
    if let Some(ta1) = report.ta1 {
        writeln!(out, "{}: interchange {isa13}: TA1 {} {}", report.file, ta1.ack.code(), ta1.note.code())?;
    }
    for group in &report.groups {
        writeln!(
            out,
            "{}: interchange {isa13} group {}: {} ({} of {} sets accepted){}",
            report.file,
            group.gs06,
            group.ack.code(),
            group.accepted_sets(),
            group.sets.len(),
            codes_suffix(group.codes.iter().map(|c| c.code()))
        )?;
        for set in group.sets.iter().filter(|s| !s.codes.is_empty()) {
            writeln!(
                out,
                "  set {} {}: {}{}",
                set.st01,
                set.st02,
                set.ack.code(),
                codes_suffix(set.codes.iter().map(|c| c.code()))
            )?;
            for error in &set.errors {
                writeln!(
                    out,
                    "    {} at segment {} (loop {}): IK3 {}",
                    error.segment_id,
                    error.position,
                    if error.loop_id.is_empty() { "-" } else { &error.loop_id },
                    error.code.code()
                )?;
                for element in &error.elements {
                    writeln!(
                        out,
                        "      element {}{}: IK4 {} (data element {})",
                        element.position,
                        element.component.map(|c| format!("-{c}")).unwrap_or_default(),
                        element.code.code(),
                        element.reference
                    )?;
                }
            }
        }
    }
    Ok(())
}

fn codes_suffix<'a>(codes: impl Iterator<Item = &'a str>) -> String {
    let codes: Vec<_> = codes.collect();
    if codes.is_empty() { String::new() } else { format!(" codes {}", codes.join(",")) }
}
