//! The real-time endpoints through the real binary (`umgate serve` on a free port), on SQLite and
//! on PostgreSQL (stores_support harness: PostgreSQL trials are skipped loudly without
//! DATABASE_URL and fail with UMGATE_REQUIRE_POSTGRES=1): a sample 278 answered with a 278
//! response that our validator accepts and x12-types reads, a 270 with a 271, a resubmission with
//! the same bytes and no second case, partner authentication (401) and senders (403), bodies
//! that are not X12 (400) or too large (413), and the CAQH CORE envelope round trip.
#![allow(clippy::unwrap_used)]

mod common;
mod stores_support;

use std::fs::File;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use stores_support::{TestDb, TestResult};
use umgate::server::realtime::core;
use umgate::validation::Ack;
use x12_types::util::Parser;

/// The sample partner's credentials (samples/umgate.toml).
const DEMO: (&str, &str) = ("demo", "demo-password");

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn sample(name: &str) -> Vec<u8> {
    std::fs::read(root().join("samples/x12").join(name)).unwrap()
}

/// A running daemon on the test's database; killed if a test fails before it stops.
struct Daemon {
    child: Child,
    port: u16,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Daemon {
    /// Imports the sample roster, then starts `umgate serve` with `config` and `env`.
    fn start(db: &TestDb, config: Option<&str>, env: &[(&str, &str)]) -> anyhow::Result<Daemon> {
        let dir = tempfile::tempdir()?;
        let import = Command::new(env!("CARGO_BIN_EXE_umgate"))
            .current_dir(root())
            .args(["--db", &db.url(), "roster", "import", "samples/roster.csv"])
            .output()?;
        ensure!(import.status.success(), "roster import: {}", String::from_utf8_lossy(&import.stderr));
        let config_path = match config {
            Some(text) => {
                let path = dir.path().join("umgate.toml");
                std::fs::write(&path, text)?;
                path.display().to_string()
            }
            None => "samples/umgate.toml".to_owned(),
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let log = dir.path().join("stderr.log");
        let mut command = Command::new(env!("CARGO_BIN_EXE_umgate"));
        command
            .current_dir(root())
            .args(["--db", &db.url(), "--data-dir", &dir.path().join("data").display().to_string()])
            .args(["serve", "--config", &config_path, "--listen", &format!("127.0.0.1:{port}")])
            .stdout(Stdio::null())
            .stderr(File::create(&log)?);
        for (name, _) in std::env::vars() {
            if name.starts_with("UMGATE_") {
                command.env_remove(name);
            }
        }
        for (name, value) in env {
            command.env(name, value);
        }
        let mut daemon = Daemon { child: command.spawn()?, port, log, _dir: dir };
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Some(status) = daemon.child.try_wait()? {
                anyhow::bail!("serve exited with {status}:\n{}", daemon.stderr());
            }
            ensure!(Instant::now() < deadline, "serve did not listen within 30 s:\n{}", daemon.stderr());
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(daemon)
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// A client of the daemon on `port` (for threads: the daemon stays with its owner).
    fn probe(port: u16) -> Probe {
        Probe { port }
    }

    fn get(&self, path: &str) -> anyhow::Result<String> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port))?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        stream.write_all(format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").as_bytes())?;
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        Ok(answer)
    }

    fn post(&self, path: &str, headers: &[(&str, String)], body: &[u8]) -> anyhow::Result<Reply> {
        Daemon::probe(self.port).post(path, headers, body)
    }

    fn x12(&self, credentials: Option<(&str, &str)>, body: &[u8]) -> anyhow::Result<Reply> {
        Daemon::probe(self.port).x12(credentials, body)
    }
}

/// An HTTP client of a daemon.
struct Probe {
    port: u16,
}

impl Probe {
    /// POSTs `body` to `path` with these headers; the status, headers (lower-case names) and body.
    fn post(&self, path: &str, headers: &[(&str, String)], body: &[u8]) -> anyhow::Result<Reply> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port))?;
        stream.set_read_timeout(Some(Duration::from_secs(60)))?;
        let mut request = format!("POST {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        request.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
        stream.write_all(request.as_bytes())?;
        // A server that answers before reading the whole body (413) may close the socket early.
        let _ = stream.write_all(body);
        let mut raw = Vec::new();
        let _ = stream.read_to_end(&mut raw);
        let end = memchr::memmem::find(&raw, b"\r\n\r\n").with_context(|| format!("no HTTP answer: {raw:?}"))?;
        let head = String::from_utf8_lossy(&raw[..end]).into_owned();
        let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).context("status")?;
        let headers = head
            .lines()
            .skip(1)
            .filter_map(|line| line.split_once(':'))
            .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
            .collect();
        Ok(Reply { status, headers, body: raw[end + 4..].to_vec() })
    }

    fn x12(&self, credentials: Option<(&str, &str)>, body: &[u8]) -> anyhow::Result<Reply> {
        let mut headers = vec![("Content-Type", "application/edi-x12".to_owned())];
        if let Some((user, password)) = credentials {
            headers.push(("Authorization", basic(user, password)));
        }
        self.post("/v1/x12", &headers, body)
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn basic(user: &str, password: &str) -> String {
    use base64::Engine;
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}")))
}

#[derive(Debug)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn json(&self) -> anyhow::Result<serde_json::Value> {
        ensure!(self.header("content-type") == Some("application/json"), "not JSON: {self:?}");
        Ok(serde_json::from_slice(&self.body)?)
    }
}

/// Every interchange of `bytes` accepted by our validator, every set of the answer's kind.
fn clean_answer(bytes: &[u8], transaction: &str) -> anyhow::Result<()> {
    let reports = common::validate_bytes(bytes);
    ensure!(!reports.is_empty(), "no interchange in {}", String::from_utf8_lossy(bytes));
    for report in reports {
        let clean = report.all_accepted()
            && report.groups.iter().all(|g| {
                g.ack == Ack::Accepted
                    && g.sets
                        .iter()
                        .all(|s| s.ack == Ack::Accepted && s.errors.is_empty() && s.transaction == transaction)
            });
        ensure!(clean && !report.groups.is_empty(), "our validator does not accept it: {}", report.to_json());
    }
    Ok(())
}

async fn cases_of(db: &TestDb, member_id: &str) -> anyhow::Result<usize> {
    let store = db.open().await?;
    let count = store.cases_by_member(member_id).await?.len();
    store.close().await;
    Ok(count)
}

async fn a_278_gets_a_278_response_and_a_resubmission_the_same_bytes(db: TestDb) -> TestResult {
    let daemon = Daemon::start(&db, None, &[])?;
    let request = sample("278-request-medical-oncology.x12");
    let first = daemon.x12(Some(DEMO), &request)?;
    ensure!(first.status == 200, "{first:?}\n{}", daemon.stderr());
    ensure!(first.header("content-type") == Some("application/edi-x12"), "{first:?}");
    let text = first.text();
    ensure!(text.starts_with("ISA") && text.contains("ST*278*") && !text.contains("ST*999*"), "{text}");
    clean_answer(&first.body, "response")?;
    let (rest, _) = x12_types::v005010::Transmission::<x12_types::v005010::_278>::parse(&text)
        .map_err(|error| anyhow::anyhow!("x12-types cannot read it: {error}"))?;
    ensure!(rest.trim().is_empty(), "x12-types stopped before the end: {rest:.80}");
    ensure!(cases_of(&db, "M000000001").await? == 1, "one case");

    let again = daemon.x12(Some(DEMO), &request)?;
    ensure!(again.status == 200 && again.body == first.body, "resubmission: {again:?}");
    ensure!(cases_of(&db, "M000000001").await? == 1, "no second case");

    // Same sender and ISA13, other content: refused with a TA1 025, not processed.
    let other = String::from_utf8(request)?.replacen("REQ", "REX", 1);
    let refused = daemon.x12(Some(DEMO), other.as_bytes())?;
    ensure!(refused.status == 200 && refused.text().contains("*R*025~"), "{}", refused.text());
    ensure!(cases_of(&db, "M000000001").await? == 1, "no case for the duplicate");
    Ok(())
}

async fn a_270_gets_a_271(db: TestDb) -> TestResult {
    let daemon = Daemon::start(&db, None, &[])?;
    let reply = daemon.x12(Some(DEMO), &sample("270-active-pa-required.x12"))?;
    ensure!(reply.status == 200, "{reply:?}\n{}", daemon.stderr());
    ensure!(reply.text().contains("ST*271*"), "{}", reply.text());
    clean_answer(&reply.body, "response")?;
    Ok(())
}

async fn a_rejected_interchange_gets_its_999(db: TestDb) -> TestResult {
    let daemon = Daemon::start(&db, None, &[])?;
    // The sample with its set's segment count wrong: the set is rejected (IK5 R).
    let text = String::from_utf8(sample("278-request-medical-oncology.x12"))?;
    let count_at = text.find("SE*").context("SE")? + 3;
    let count_end = count_at + text[count_at..].find('*').context("SE01")?;
    let broken = format!("{}99{}", &text[..count_at], &text[count_end..]);
    let reply = daemon.x12(Some(DEMO), broken.as_bytes())?;
    ensure!(reply.status == 200, "{reply:?}");
    ensure!(reply.text().contains("ST*999*") && reply.text().contains("IK5*R"), "{}", reply.text());
    Ok(())
}

async fn partners_must_authenticate(db: TestDb) -> TestResult {
    let daemon = Daemon::start(&db, None, &[])?;
    let request = sample("278-request-medical-oncology.x12");
    for credentials in [None, Some(("demo", "not-the-password")), Some(("nobody", "demo-password"))] {
        let reply = daemon.x12(credentials, &request)?;
        ensure!(reply.status == 401, "{credentials:?}: {reply:?}");
        ensure!(reply.header("www-authenticate").is_some_and(|v| v.starts_with("Basic ")), "{reply:?}");
        ensure!(reply.json()?["error"] == "unauthorized", "{reply:?}");
    }
    let log = daemon.stderr();
    ensure!(log.contains("partner authentication failed") && !log.contains("not-the-password"), "{log}");
    ensure!(cases_of(&db, "M000000001").await? == 0, "nothing processed");
    Ok(())
}

async fn a_foreign_sender_is_403(db: TestDb) -> TestResult {
    let samples = root().join("samples");
    let config = std::fs::read_to_string(samples.join("umgate.toml"))?
        .replace("\"plans/", &format!("\"{}/plans/", samples.display()))
        .replace("key = \"demo\"", "key = \"demo\"\nsender_ids = [\"SOMEONEELSE\"]");
    let daemon = Daemon::start(&db, Some(&config), &[])?;
    let reply = daemon.x12(Some(DEMO), &sample("278-request-medical-oncology.x12"))?;
    ensure!(reply.status == 403, "{reply:?}\n{}", daemon.stderr());
    ensure!(reply.json()?["error"] == "sender_not_allowed", "{reply:?}");
    ensure!(cases_of(&db, "M000000001").await? == 0, "nothing processed");
    Ok(())
}

async fn bodies_that_are_not_one_interchange_are_400_and_big_ones_413(db: TestDb) -> TestResult {
    let daemon = Daemon::start(&db, None, &[("UMGATE_MAX_BODY_MEGABYTES", "1")])?;
    let reply = daemon.x12(Some(DEMO), b"{\"hello\": \"world\"}")?;
    ensure!(reply.status == 400 && reply.json()?["error"] == "not_x12", "{reply:?}");
    let two = [sample("278-request-medical-oncology.x12"), sample("270-active-pa-required.x12")].concat();
    let reply = daemon.x12(Some(DEMO), &two)?;
    ensure!(reply.status == 400 && reply.json()?["error"] == "one_interchange", "{reply:?}");
    let big = vec![b'x'; 1024 * 1024 + 1];
    let reply = daemon.x12(Some(DEMO), &big)?;
    ensure!(reply.status == 413 && reply.json()?["error"] == "body_too_large", "{reply:?}");
    Ok(())
}

fn core_request(payload: Vec<u8>, mode: &str) -> (Vec<u8>, String) {
    let request = core::CoreRequest {
        payload_type: core::PAYLOAD_278_REQUEST.into(),
        payload_id: "f81d4fae-7dec-11d0-a765-00a0c91e6bf6".into(),
        timestamp: "2026-11-23T17:00:00Z".into(),
        sender_id: "CLEARHOUSE01".into(),
        receiver_id: "UMGATE".into(),
        rule_version: "2.2.0".into(),
        payload,
        username: None,
        password: None,
    };
    let boundary = "XbCY".to_owned();
    let body = core::write_request(&request, &boundary);
    let body = if mode == core::REAL_TIME {
        body
    } else {
        String::from_utf8_lossy(&body).replace("\r\n\r\nRealTime\r\n", &format!("\r\n\r\n{mode}\r\n")).into_bytes()
    };
    (body, format!("multipart/form-data; boundary={boundary}"))
}

fn core_fields(reply: &Reply) -> anyhow::Result<core::Fields> {
    let boundary = reply.header("content-type").and_then(core::boundary).context("multipart reply")?;
    core::parse_multipart(&reply.body, &boundary).context("readable multipart")
}

fn field(fields: &core::Fields, name: &str) -> String {
    fields.iter().find(|(n, _)| n == name).map(|(_, v)| String::from_utf8_lossy(v).into_owned()).unwrap_or_default()
}

async fn the_core_envelope_round_trips(db: TestDb) -> TestResult {
    let daemon = Daemon::start(&db, None, &[])?;
    let (body, content_type) = core_request(sample("278-request-medical-oncology.x12"), core::REAL_TIME);
    let headers = [("Content-Type", content_type.clone()), ("Authorization", basic(DEMO.0, DEMO.1))];
    let reply = daemon.post("/v1/core", &headers, &body)?;
    ensure!(reply.status == 200, "{reply:?}\n{}", daemon.stderr());
    let fields = core_fields(&reply)?;
    ensure!(field(&fields, "ErrorCode") == "Success", "{fields:?}");
    ensure!(field(&fields, "PayloadType") == core::PAYLOAD_278_RESPONSE, "{fields:?}");
    ensure!(field(&fields, "ProcessingMode") == "RealTime", "{fields:?}");
    ensure!(field(&fields, "PayloadID") == "f81d4fae-7dec-11d0-a765-00a0c91e6bf6", "{fields:?}");
    ensure!(field(&fields, "SenderID") == "UMGATE" && field(&fields, "ReceiverID") == "CLEARHOUSE01", "{fields:?}");
    clean_answer(field(&fields, "Payload").as_bytes(), "response")?;

    // Batch mode is refused in the envelope; nothing processed.
    let (body, content_type) = core_request(sample("270-active-pa-required.x12"), core::BATCH);
    let headers = [("Content-Type", content_type), ("Authorization", basic(DEMO.0, DEMO.1))];
    let reply = daemon.post("/v1/core", &headers, &body)?;
    let fields = core_fields(&reply)?;
    ensure!(field(&fields, "ErrorCode") == "ProcessingModeIllegal", "{fields:?}");
    ensure!(!fields.iter().any(|(name, _)| name == "Payload"), "{fields:?}");

    // Phase II credentials in the envelope instead of HTTP Basic.
    let (body, content_type) = core_request(sample("270-active-pa-required.x12"), core::REAL_TIME);
    let with_credentials = String::from_utf8(body)?.replace(
        "--XbCY\r\nContent-Disposition: form-data; name=\"Payload\"",
        "--XbCY\r\nContent-Disposition: form-data; name=\"Username\"\r\n\r\ndemo\r\n\
         --XbCY\r\nContent-Disposition: form-data; name=\"Password\"\r\n\r\ndemo-password\r\n\
         --XbCY\r\nContent-Disposition: form-data; name=\"Payload\"",
    );
    let reply = daemon.post("/v1/core", &[("Content-Type", content_type)], with_credentials.as_bytes())?;
    ensure!(reply.status == 200, "{reply:?}");
    let fields = core_fields(&reply)?;
    ensure!(field(&fields, "PayloadType") == core::PAYLOAD_271_RESPONSE, "{fields:?}");
    Ok(())
}

/// The sample 278 under another ISA13 (and IEA02): a new interchange.
fn renumbered(control: u32) -> Vec<u8> {
    let text = String::from_utf8(sample("278-request-medical-oncology.x12")).unwrap();
    let old = text[90..99].to_owned();
    let number = format!("{control:09}");
    let iea = text.rfind("IEA*").unwrap();
    format!("{}{number}{}{}", &text[..90], &text[99..iea], text[iea..].replace(&old, &number)).into_bytes()
}

async fn requests_in_flight_at_sigterm_are_answered(db: TestDb) -> TestResult {
    let mut daemon = Daemon::start(&db, None, &[])?;
    // Credentials verified once (argon2), so that the requests below reach the worker together.
    ensure!(daemon.x12(Some(DEMO), b"warm-up")?.status == 400);
    let port = daemon.port;
    let clients: Vec<_> = (1..=12)
        .map(|n| {
            std::thread::spawn(move || {
                let probe = Daemon::probe(port);
                probe.x12(Some(DEMO), &renumbered(500 + n)).map(|reply| reply.status)
            })
        })
        .collect();
    // All twelve connections accepted (plus the one asking), then the stop signal.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let metrics = daemon.get("/metrics")?;
        let open = metrics
            .lines()
            .find_map(|line| line.strip_prefix("umgate_http_open_connections "))
            .and_then(|n| n.trim().parse::<u32>().ok())
            .unwrap_or(0);
        if open >= 13 {
            break;
        }
        ensure!(Instant::now() < deadline, "the clients never connected:\n{metrics}");
        std::thread::sleep(Duration::from_millis(5));
    }
    let killed = Command::new("kill").args(["-TERM", &daemon.child.id().to_string()]).status()?;
    ensure!(killed.success());
    for client in clients {
        let status = client.join().map_err(|_| anyhow::anyhow!("client panicked"))??;
        ensure!(status == 200, "a request in flight at SIGTERM got {status}:\n{}", daemon.stderr());
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = daemon.child.try_wait()? {
            break status;
        }
        ensure!(Instant::now() < deadline, "still running after SIGTERM:\n{}", daemon.stderr());
        std::thread::sleep(Duration::from_millis(20));
    };
    ensure!(status.code() == Some(0), "exit {status}:\n{}", daemon.stderr());
    let log = daemon.stderr();
    let stop = log.find("stop requested").context("stop logged")?;
    ensure!(log[stop..].contains("status=200"), "no request was still in flight at SIGTERM:\n{log}");
    ensure!(log[stop..].contains("real-time worker stopped"), "{log}");
    Ok(())
}

fn main() {
    let args = libtest_mimic::Arguments::from_args();
    let tests = store_tests![
        a_278_gets_a_278_response_and_a_resubmission_the_same_bytes,
        a_270_gets_a_271,
        a_rejected_interchange_gets_its_999,
        partners_must_authenticate,
        a_foreign_sender_is_403,
        bodies_that_are_not_one_interchange_are_400_and_big_ones_413,
        the_core_envelope_round_trips,
        requests_in_flight_at_sigterm_are_answered,
    ];
    libtest_mimic::run(&args, stores_support::trials(tests)).exit();
}
