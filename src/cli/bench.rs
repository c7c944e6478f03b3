//! `umgate bench realtime`: an open-loop load tool for `POST /v1/x12` (loopback benchmarks).
//!
//! Why open loop and ours: a closed loop (send, wait, send) slows down with the server and hides
//! queueing; here request `i` is due at `start + i / rate` whatever happened before, and its
//! latency counts from when it was due, so a stalled server shows in the percentiles. The
//! client is a minimal HTTP/1.1 keep-alive client on one thread (the machine's other core is the
//! daemon's). The requests are the interchanges of a file (`umgate gen 278 --per-group 1
//! --per-interchange 1`), sent in turn, with their ISA13/IEA02 rewritten to numbers of this run
//! so that a second run is not answered from the log as resubmissions.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::path::PathBuf;
use std::process::ExitCode;
use std::rc::Rc;
use std::time::{Duration, Instant};

use anyhow::Context;
use base64::Engine;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[derive(Debug, clap::Subcommand)]
pub enum BenchCommand {
    /// Open-loop load on `POST /v1/x12`: throughput and latency percentiles.
    Realtime(RealtimeArgs),
}

#[derive(Debug, clap::Args)]
pub struct RealtimeArgs {
    /// Base URL of the daemon (plain HTTP, e.g. loopback).
    #[arg(long, default_value = "http://127.0.0.1:8278")]
    pub url: String,
    /// Requests per second.
    #[arg(long, default_value_t = 500)]
    pub rate: u32,
    /// How long to send.
    #[arg(long, default_value_t = 20)]
    pub seconds: u32,
    /// Interchanges to send, one per request, in turn (e.g. from `umgate gen 278 --count 10000
    /// --per-group 1 --per-interchange 1`).
    #[arg(long, value_name = "FILE")]
    pub input: PathBuf,
    /// HTTP Basic user name of the partner.
    #[arg(long, default_value = "demo")]
    pub user: String,
    /// Its password (else UMGATE_BENCH_PASSWORD).
    #[arg(long, env = "UMGATE_BENCH_PASSWORD", hide_env_values = true)]
    pub password: String,
    /// First ISA13 of this run [default: from the clock, so that runs do not repeat].
    #[arg(long)]
    pub first_control_number: Option<u32>,
    /// One JSON object on stdout instead of text.
    #[arg(long)]
    pub json: bool,
}

/// What a run measured.
#[derive(Debug, serde::Serialize)]
struct Report {
    rate: u32,
    seconds: u32,
    sent: usize,
    ok: usize,
    errors: usize,
    throughput_per_second: f64,
    p50_ms: f64,
    p90_ms: f64,
    p99_ms: f64,
    max_ms: f64,
}

pub fn realtime(args: RealtimeArgs) -> anyhow::Result<ExitCode> {
    let address = args
        .url
        .strip_prefix("http://")
        .context("--url must be http://HOST:PORT (the load tool speaks plain HTTP)")?
        .trim_end_matches('/')
        .to_owned();
    let text = std::fs::read(&args.input).with_context(|| format!("reading {}", args.input.display()))?;
    let interchanges = split_interchanges(&text);
    anyhow::ensure!(!interchanges.is_empty(), "{} holds no interchange", args.input.display());
    let total = usize::try_from(u64::from(args.rate) * u64::from(args.seconds)).unwrap_or(usize::MAX);
    let first = args.first_control_number.unwrap_or_else(|| {
        // Ten-thousands of the clock's seconds: two runs a few minutes apart do not overlap.
        let seconds = chrono::Utc::now().timestamp().unsigned_abs();
        u32::try_from((seconds % 99_000) * 10_000 + 1).unwrap_or(1)
    });
    let credentials = base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", args.user, args.password));
    let requests: Vec<Vec<u8>> = (0..total)
        .map(|i| {
            let control = (u64::from(first) + i as u64 - 1) % 999_999_999 + 1;
            let body = renumber(&interchanges[i % interchanges.len()], &format!("{control:09}"));
            let mut request = format!(
                "POST /v1/x12 HTTP/1.1\r\nHost: {address}\r\nAuthorization: Basic {credentials}\r\n\
                 Content-Type: application/edi-x12\r\nContent-Length: {}\r\n\r\n",
                body.len()
            )
            .into_bytes();
            request.extend_from_slice(&body);
            request
        })
        .collect();
    // Authenticates once before the clock starts: the first verification of a partner's password
    // is argon2 (tens of ms), the next ones are not (docs/decisions/0009), and a run measures the
    // steady state. The body is not X12: answered 400 without being stored.
    let warm_up = format!(
        "POST /v1/x12 HTTP/1.1\r\nHost: {address}\r\nAuthorization: Basic {credentials}\r\n\
         Content-Length: 7\r\n\r\nwarm-up"
    );
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let status = runtime.block_on(async {
        let mut connection = Connection::open(&address).await.with_context(|| format!("connecting to {address}"))?;
        connection.exchange(warm_up.as_bytes()).await
    })?;
    anyhow::ensure!(status == 400, "the warm-up request was answered {status}: check --user and the password");
    let report = runtime.block_on(run(&address, requests, args.rate, args.seconds))?;
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        println!(
            "{} requests at {}/s for {} s: {} ok, {} errors; throughput {:.1}/s; latency p50 {:.2} ms, p90 {:.2} ms, \
             p99 {:.2} ms, max {:.2} ms",
            report.sent,
            report.rate,
            report.seconds,
            report.ok,
            report.errors,
            report.throughput_per_second,
            report.p50_ms,
            report.p90_ms,
            report.p99_ms,
            report.max_ms
        );
    }
    Ok(if report.errors == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// The interchanges of a file: from each `ISA` to the end of its `IEA` segment.
fn split_interchanges(text: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = memchr::memmem::find(rest, b"ISA") {
        let Some(terminator) = rest.get(start + 105).copied() else { break };
        let tail = &rest[start..];
        let Some(iea) = memchr::memmem::find(tail, b"IEA") else { break };
        let end = memchr::memchr(terminator, &tail[iea..]).map_or(tail.len(), |at| iea + at + 1);
        out.push(tail[..end].to_vec());
        rest = &tail[end..];
    }
    out
}

/// The interchange with ISA13 and IEA02 set to `control` (nine digits).
fn renumber(interchange: &[u8], control: &str) -> Vec<u8> {
    let mut bytes = interchange.to_vec();
    if bytes.len() > 99 {
        bytes[90..99].copy_from_slice(control.as_bytes());
    }
    if let Some(iea) = memchr::memmem::rfind(&bytes, b"IEA") {
        let element = bytes[3];
        // IEA*<count>*<control><terminator>
        if let Some(second) = bytes[iea + 4..].iter().position(|b| *b == element).map(|at| iea + 4 + at + 1)
            && bytes.len() >= second + 9
        {
            bytes[second..second + 9].copy_from_slice(control.as_bytes());
        }
    }
    bytes
}

type Pool = Rc<RefCell<Vec<Connection>>>;

async fn run(address: &str, requests: Vec<Vec<u8>>, rate: u32, seconds: u32) -> anyhow::Result<Report> {
    // One connection first: a daemon that is not there is an error, not a run of failures.
    let first = Connection::open(address).await.with_context(|| format!("connecting to {address}"))?;
    let pool: Pool = Rc::new(RefCell::new(vec![first]));
    let latencies = Rc::new(RefCell::new(Vec::with_capacity(requests.len())));
    let errors = Rc::new(RefCell::new(0usize));
    let interval = Duration::from_secs_f64(1.0 / f64::from(rate.max(1)));
    let local = tokio::task::LocalSet::new();
    let sent = requests.len();
    let started = Instant::now();
    local
        .run_until(async {
            let mut tasks = VecDeque::new();
            for (i, request) in requests.into_iter().enumerate() {
                let due = started + interval * u32::try_from(i).unwrap_or(u32::MAX);
                tokio::time::sleep_until(due.into()).await;
                let (pool, latencies, errors, address) =
                    (Rc::clone(&pool), Rc::clone(&latencies), Rc::clone(&errors), address.to_owned());
                tasks.push_back(tokio::task::spawn_local(async move {
                    let outcome = send(&pool, &address, &request).await;
                    match outcome {
                        Ok(200) => latencies.borrow_mut().push(due.elapsed()),
                        _ => *errors.borrow_mut() += 1,
                    }
                }));
                while tasks.front().is_some_and(tokio::task::JoinHandle::is_finished) {
                    tasks.pop_front();
                }
            }
            for task in tasks {
                let _ = task.await;
            }
        })
        .await;
    let elapsed = started.elapsed();
    let mut latencies = latencies.take();
    latencies.sort();
    let percentile = |p: f64| -> f64 {
        if latencies.is_empty() {
            return 0.0;
        }
        let index = ((p * latencies.len() as f64).ceil() as usize).clamp(1, latencies.len()) - 1;
        latencies[index].as_secs_f64() * 1e3
    };
    let errors = *errors.borrow();
    Ok(Report {
        rate,
        seconds,
        sent,
        ok: latencies.len(),
        errors,
        throughput_per_second: latencies.len() as f64 / elapsed.as_secs_f64(),
        p50_ms: percentile(0.50),
        p90_ms: percentile(0.90),
        p99_ms: percentile(0.99),
        max_ms: latencies.last().map_or(0.0, |d| d.as_secs_f64() * 1e3),
    })
}

/// Sends one request on a pooled (or new) connection; the response status.
async fn send(pool: &Pool, address: &str, request: &[u8]) -> anyhow::Result<u16> {
    let pooled = pool.borrow_mut().pop();
    let mut connection = match pooled {
        Some(connection) => connection,
        None => Connection::open(address).await?,
    };
    let status = connection.exchange(request).await?;
    pool.borrow_mut().push(connection);
    Ok(status)
}

struct Connection {
    stream: TcpStream,
    buffer: Vec<u8>,
}

impl Connection {
    async fn open(address: &str) -> anyhow::Result<Connection> {
        let stream = TcpStream::connect(address).await?;
        stream.set_nodelay(true)?;
        Ok(Connection { stream, buffer: Vec::with_capacity(8192) })
    }

    /// Writes a request and reads its response (status line, headers, Content-Length body).
    async fn exchange(&mut self, request: &[u8]) -> anyhow::Result<u16> {
        self.stream.write_all(request).await?;
        self.buffer.clear();
        let mut chunk = [0u8; 8192];
        loop {
            if let Some(end) = memchr::memmem::find(&self.buffer, b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&self.buffer[..end]).into_owned();
                let status: u16 =
                    head.split(' ').nth(1).and_then(|code| code.parse().ok()).context("no HTTP status line")?;
                let length: usize = head
                    .lines()
                    .find_map(|line| {
                        let (name, value) = line.split_once(':')?;
                        name.eq_ignore_ascii_case("content-length").then(|| value.trim().parse().ok())?
                    })
                    .context("a response without Content-Length")?;
                while self.buffer.len() < end + 4 + length {
                    let n = self.stream.read(&mut chunk).await?;
                    anyhow::ensure!(n > 0, "connection closed mid-response");
                    self.buffer.extend_from_slice(&chunk[..n]);
                }
                return Ok(status);
            }
            let n = self.stream.read(&mut chunk).await?;
            anyhow::ensure!(n > 0, "connection closed");
            self.buffer.extend_from_slice(&chunk[..n]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ONE: &str = "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *240101*1200*^*00501*000000007*0*T*:~\
                       GS*HI*S*R*20240101*1200*1*X*005010X217~GE*0*1~IEA*1*000000007~";

    #[test]
    fn interchanges_are_split_and_renumbered() {
        let file = format!("{ONE}\n{ONE}\n");
        let parts = split_interchanges(file.as_bytes());
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0], ONE.as_bytes());
        let renumbered = String::from_utf8(renumber(&parts[1], "123456789")).unwrap_or_default();
        assert!(renumbered.contains("*00501*123456789*0*T*"), "{renumbered}");
        assert!(renumbered.ends_with("IEA*1*123456789~"), "{renumbered}");
    }
}
