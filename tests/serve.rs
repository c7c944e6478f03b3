//! `umgate serve` through the real binary: HTTPS with a certificate made here, graceful shutdown
//! on SIGTERM (a request in flight is finished, the port is released at once, exit 0), the
//! shutdown grace period, `/metrics`, JSON request logs without PHI, environment overrides and
//! their errors, and `umgate config check` on the `[server]` section.
#![allow(clippy::unwrap_used)]

use std::fs::File;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn manifest() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A running daemon; killed if a test fails before it stops it.
struct Daemon {
    child: Child,
    port: u16,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Daemon {
    /// Starts `umgate serve --listen 127.0.0.1:PORT` with `args` and `env`, stderr to a file.
    fn start(args: &[&str], env: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let log = dir.path().join("stderr.log");
        let mut command = Command::new(env!("CARGO_BIN_EXE_umgate"));
        command
            .args(["--data-dir", &dir.path().join("data").display().to_string(), "serve"])
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .args(args)
            .current_dir(manifest())
            .env_remove("UMGATE_DATABASE_URL")
            .stdout(Stdio::null())
            .stderr(File::create(&log).unwrap());
        for (name, _) in std::env::vars() {
            if name.starts_with("UMGATE_") && name != "UMGATE_DATA_DIR" {
                command.env_remove(name);
            }
        }
        for (name, value) in env {
            command.env(name, value);
        }
        let child = command.spawn().unwrap();
        Self { child, port, log, _dir: dir }
    }

    fn address(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// Waits until the port accepts connections (30 s at most).
    fn wait_listening(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if TcpStream::connect(self.address()).is_ok() {
                return;
            }
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("serve exited with {status}:\n{}", self.stderr());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("serve did not listen within 30 s:\n{}", self.stderr());
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn terminate(&self) {
        let status = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap();
        assert!(status.success(), "kill -TERM");
    }

    /// Waits for the process to exit (`limit` at most).
    fn wait_exit(&mut self, limit: Duration) -> ExitStatus {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("serve still running {limit:?} after SIGTERM:\n{}", self.stderr());
    }

    /// Waits until the daemon has accepted `count` connections besides the one asking
    /// (`umgate_http_open_connections`), so that a signal sent next finds them in flight.
    fn wait_connections(&self, count: usize) {
        let expected = format!("umgate_http_open_connections {}", count + 1);
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let metrics = get(self.port, "/metrics");
            if metrics.lines().any(|line| line == expected) {
                return;
            }
            assert!(Instant::now() < deadline, "never saw `{expected}`:\n{metrics}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One plain HTTP/1.1 request on a new connection; the whole answer.
fn http(port: u16, request: &str) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer
}

fn get(port: u16, path: &str) -> String {
    http(port, &format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"))
}

fn umgate(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_umgate"));
    command.args(args).current_dir(manifest()).env_remove("UMGATE_DATABASE_URL");
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().unwrap()
}

// ---------------------------------------------------------------------------------------------
// HTTPS.

/// A self-signed certificate for `localhost` and 127.0.0.1, written as PEM files into `dir`.
fn self_signed(dir: &Path) -> (Vec<u8>, PathBuf, PathBuf) {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
    let certificate = dir.join("cert.pem");
    let key = dir.join("key.pem");
    std::fs::write(&certificate, certified.cert.pem()).unwrap();
    std::fs::write(&key, certified.signing_key.serialize_pem()).unwrap();
    (certified.cert.der().to_vec(), certificate, key)
}

/// GET `path` over TLS, trusting only `root` (DER), with server name `localhost`.
fn https_get(port: u16, root: &[u8], path: &str) -> std::io::Result<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio_rustls::rustls;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(rustls::pki_types::CertificateDer::from(root.to_vec())).map_err(std::io::Error::other)?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(std::io::Error::other)?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
        let name = rustls::pki_types::ServerName::try_from("localhost").map_err(std::io::Error::other)?;
        let mut tls = connector.connect(name, tcp).await?;
        tls.write_all(format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").as_bytes())
            .await?;
        let mut answer = Vec::new();
        // A server that closes without close_notify is an error for rustls; the bytes count.
        let _ = tls.read_to_end(&mut answer).await;
        Ok(String::from_utf8_lossy(&answer).into_owned())
    })
}

#[test]
fn serves_https_with_the_certificate_of_the_server_section() {
    let dir = tempfile::tempdir().unwrap();
    let (root, _, _) = self_signed(dir.path());
    // Paths relative to the configuration file; the sample plans included by absolute path.
    let config = dir.path().join("umgate.toml");
    std::fs::write(
        &config,
        "[server]\nlog_level = \"info\"\n\n[server.tls]\ncertificate = \"cert.pem\"\nprivate_key = \"key.pem\"\n",
    )
    .unwrap();
    let mut daemon = Daemon::start(&["--config", &config.display().to_string()], &[]);
    daemon.wait_listening();

    let answer = https_get(daemon.port, &root, "/healthz").unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with(r#"{"status":"ok"}"#), "{answer}");
    let ready = https_get(daemon.port, &root, "/readyz").unwrap();
    assert!(ready.contains(r#""status":"ready""#), "{ready}");

    // Plain HTTP on the TLS port gets no HTTP answer.
    let plain = http(daemon.port, "GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    assert!(!plain.contains("200 OK"), "{plain}");
    // A client that does not trust the certificate cannot talk to it.
    let other = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    assert!(https_get(daemon.port, other.cert.der(), "/healthz").is_err());

    daemon.terminate();
    assert_eq!(daemon.wait_exit(Duration::from_secs(20)).code(), Some(0), "{}", daemon.stderr());
    assert!(daemon.stderr().contains("scheme=\"https\"") || daemon.stderr().contains("scheme=https"));
}

#[test]
fn tls_files_from_the_environment_and_a_missing_key_file_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let (root, certificate, key) = self_signed(dir.path());
    let certificate = certificate.display().to_string();
    let key = key.display().to_string();
    let mut daemon = Daemon::start(&[], &[("UMGATE_TLS_CERTIFICATE", &certificate), ("UMGATE_TLS_PRIVATE_KEY", &key)]);
    daemon.wait_listening();
    let answer = https_get(daemon.port, &root, "/healthz").unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    drop(daemon);

    let missing = dir.path().join("nowhere.pem").display().to_string();
    let mut daemon =
        Daemon::start(&[], &[("UMGATE_TLS_CERTIFICATE", &certificate), ("UMGATE_TLS_PRIVATE_KEY", &missing)]);
    let status = daemon.wait_exit(Duration::from_secs(30));
    assert_eq!(status.code(), Some(2));
    let stderr = daemon.stderr();
    assert!(
        stderr.contains("nowhere.pem (from environment UMGATE_TLS_PRIVATE_KEY): cannot read a PEM private key"),
        "{stderr}"
    );
}

// ---------------------------------------------------------------------------------------------
// Graceful shutdown.

#[test]
fn sigterm_finishes_the_request_in_flight_releases_the_port_and_exits_0() {
    let mut daemon = Daemon::start(&[], &[("UMGATE_SHUTDOWN_GRACE_SECONDS", "30")]);
    daemon.wait_listening();
    // A request in flight: its headers are not complete yet when the signal arrives.
    let mut stream = TcpStream::connect(daemon.address()).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    stream.write_all(b"GET /readyz HTTP/1.1\r\nHost: localhost\r\n").unwrap();
    daemon.wait_connections(1);
    daemon.terminate();

    // The listener closes at once: a new instance could bind the port now.
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(daemon.address()).is_ok() {
        assert!(Instant::now() < deadline, "the port still accepts connections:\n{}", daemon.stderr());
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(daemon.running(), "the daemon waits for the request in flight:\n{}", daemon.stderr());
    let rebound = std::net::TcpListener::bind(daemon.address());
    assert!(rebound.is_ok(), "the port is released: {rebound:?}");
    drop(rebound);

    // The request completes and is answered in full, then the daemon exits 0.
    stream.write_all(b"\r\n").unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains(r#""status":"ready""#), "{answer}");
    let status = daemon.wait_exit(Duration::from_secs(10));
    assert_eq!(status.code(), Some(0), "{}", daemon.stderr());
    let log = daemon.stderr();
    assert!(log.contains("stop requested") && log.contains("SIGTERM"), "{log}");
    assert!(log.contains("umgate stopped"), "{log}");
}

#[test]
fn sigterm_with_an_idle_daemon_exits_0_at_once() {
    let mut daemon = Daemon::start(&[], &[]);
    daemon.wait_listening();
    assert!(get(daemon.port, "/healthz").starts_with("HTTP/1.1 200"));
    let started = Instant::now();
    daemon.terminate();
    assert_eq!(daemon.wait_exit(Duration::from_secs(10)).code(), Some(0), "{}", daemon.stderr());
    assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
    assert!(std::net::TcpListener::bind(daemon.address()).is_ok(), "the port is released");
}

#[test]
fn the_grace_period_bounds_the_wait_for_requests_that_never_finish() {
    let mut daemon = Daemon::start(&[], &[("UMGATE_SHUTDOWN_GRACE_SECONDS", "1")]);
    daemon.wait_listening();
    let mut stream = TcpStream::connect(daemon.address()).unwrap();
    stream.write_all(b"GET /readyz HTTP/1.1\r\nHost: localhost\r\n").unwrap();
    daemon.wait_connections(1);
    let started = Instant::now();
    daemon.terminate();
    let status = daemon.wait_exit(Duration::from_secs(10));
    assert_eq!(status.code(), Some(0), "{}", daemon.stderr());
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(900) && waited < Duration::from_secs(5), "waited {waited:?}");
    let log = daemon.stderr();
    assert!(log.contains("shutdown grace period over"), "{log}");
    assert!(log.contains("connections=1"), "{log}");
}

#[test]
fn a_second_signal_ends_the_grace_period_at_once() {
    let mut daemon = Daemon::start(&[], &[("UMGATE_SHUTDOWN_GRACE_SECONDS", "60")]);
    daemon.wait_listening();
    let mut stream = TcpStream::connect(daemon.address()).unwrap();
    stream.write_all(b"GET /readyz HTTP/1.1\r\nHost: localhost\r\n").unwrap();
    daemon.wait_connections(1);
    daemon.terminate();
    std::thread::sleep(Duration::from_millis(300));
    assert!(daemon.running(), "waiting for the request in flight:\n{}", daemon.stderr());
    daemon.terminate();
    assert_eq!(daemon.wait_exit(Duration::from_secs(10)).code(), Some(0), "{}", daemon.stderr());
    assert!(daemon.stderr().contains("second stop signal"), "{}", daemon.stderr());
}

// ---------------------------------------------------------------------------------------------
// Metrics and logs.

#[test]
fn metrics_count_requests_and_the_body_limit_answers_413_in_json() {
    let mut daemon = Daemon::start(&[], &[("UMGATE_MAX_BODY_MEGABYTES", "1")]);
    daemon.wait_listening();
    for _ in 0..3 {
        assert!(get(daemon.port, "/healthz").starts_with("HTTP/1.1 200"));
    }
    // Declared above the limit: refused before the body is read.
    let refused = http(
        daemon.port,
        "POST /healthz HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1048577\r\nConnection: close\r\n\r\n",
    );
    assert!(refused.starts_with("HTTP/1.1 413"), "{refused}");
    assert!(refused.contains("content-type: application/json"), "{refused}");
    assert!(refused.contains(r#""error":"body_too_large""#), "{refused}");
    assert!(refused.contains("at most 1048576 bytes"), "{refused}");

    let metrics = get(daemon.port, "/metrics");
    assert!(metrics.starts_with("HTTP/1.1 200"), "{metrics}");
    assert!(metrics.contains("content-type: application/openmetrics-text"), "{metrics}");
    for line in [
        r#"umgate_http_requests_total{method="GET",route="/healthz",status="200"} 3"#,
        r#"umgate_http_requests_total{method="POST",route="/healthz",status="413"} 1"#,
        r#"umgate_http_request_duration_seconds_count{method="GET",route="/healthz"} 3"#,
        "umgate_http_requests_in_flight 1",
        "# EOF",
    ] {
        assert!(metrics.lines().any(|l| l == line), "missing `{line}` in\n{metrics}");
    }
}

#[test]
fn json_request_logs_carry_method_route_status_latency_and_no_phi() {
    let mut daemon = Daemon::start(&["--log-json"], &[]);
    daemon.wait_listening();
    let answer = get(daemon.port, "/v1/members/M123456789?dob=19700101&last_name=Doe");
    assert!(answer.starts_with("HTTP/1.1 404"), "{answer}");
    assert!(answer.contains(r#""error":"not_found""#), "{answer}");
    daemon.terminate();
    assert_eq!(daemon.wait_exit(Duration::from_secs(10)).code(), Some(0));

    let log = daemon.stderr();
    let lines: Vec<serde_json::Value> =
        log.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"))).collect();
    let request = lines
        .iter()
        .find(|l| l["fields"]["message"] == "request answered")
        .unwrap_or_else(|| panic!("no request line in\n{log}"));
    assert_eq!(request["level"], "INFO");
    assert_eq!(request["fields"]["status"], 404);
    assert!(request["fields"]["latency_ms"].is_number(), "{request}");
    assert_eq!(request["span"]["name"], "request");
    assert_eq!(request["span"]["method"], "GET");
    assert_eq!(request["span"]["route"], "unmatched");
    for phi in ["M123456789", "19700101", "Doe", "/v1/members"] {
        assert!(!log.contains(phi), "`{phi}` in the log:\n{log}");
    }
    assert!(lines.iter().any(|l| l["fields"]["message"] == "umgate listening"), "{log}");
}

// ---------------------------------------------------------------------------------------------
// Settings: environment overrides, their errors, and the configuration check.

#[test]
fn environment_overrides_beat_the_file_and_bad_ones_say_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("umgate.toml");
    std::fs::write(&config, "[server]\nlog_format = \"json\"\nshutdown_grace_seconds = 7\n").unwrap();
    let config = config.display().to_string();

    // The environment's text format wins over the file's json.
    let mut daemon =
        Daemon::start(&["--config", &config], &[("UMGATE_LOG_FORMAT", "text"), ("UMGATE_LOG_LEVEL", "debug")]);
    daemon.wait_listening();
    daemon.terminate();
    assert_eq!(daemon.wait_exit(Duration::from_secs(10)).code(), Some(0));
    let log = daemon.stderr();
    assert!(!log.trim_start().starts_with('{'), "text logs expected:\n{log}");
    assert!(log.contains("setting=\"log_format\" value=text from=environment UMGATE_LOG_FORMAT"), "{log}");
    assert!(log.contains("setting=\"shutdown_grace_seconds\" value=7 from="), "{log}");
    assert!(log.contains("umgate.toml:3:26"), "the file place of the grace period: {log}");

    let data = dir.path().join("data").display().to_string();
    let bad = umgate(
        &["--data-dir", &data, "serve", "--config", &config],
        &[("UMGATE_LISTEN", "localhost:8278"), ("UMGATE_REQUEST_TIMEOUT_SECONDS", "0")],
    );
    assert_eq!(bad.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(
        stderr.contains(
            "environment UMGATE_LISTEN=`localhost:8278`: `localhost:8278` is not a listen address: expected IP:PORT"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("(correct it, or unset UMGATE_LISTEN)"), "{stderr}");
    assert!(
        stderr.contains("environment UMGATE_REQUEST_TIMEOUT_SECONDS=`0`: must be between 1 and 3600, not 0"),
        "{stderr}"
    );
    // A flag spelled wrong is clap's usage error, exit 2 too.
    let flag = umgate(&["--data-dir", &data, "serve", "--listen", "nowhere"], &[]);
    assert_eq!(flag.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&flag.stderr).contains("expected IP:PORT"));
}

#[test]
fn config_check_reports_every_server_mistake_with_its_place() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("umgate.toml");
    std::fs::write(
        &config,
        "[server]\nlisten = \"localhost:80\"\nlisen = \"127.0.0.1:80\"\nrequest_timeout_seconds = 0\n\
         log_format = \"xml\"\nlog_level = \"loud\"\n\n[server.tls]\ncertificate = \"cert.pem\"\n",
    )
    .unwrap();
    let output = umgate(&["config", "check", &config.display().to_string()], &[]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let file = config.display().to_string();
    for expected in [
        format!("{file}:2:10: server.listen: `localhost:80` is not a listen address: expected IP:PORT"),
        format!("{file}:3:1: server.lisen: unknown field `lisen`, expected one of `listen`"),
        format!("{file}:4:27: server.request_timeout_seconds: must be between 1 and 3600, not 0"),
        format!("{file}:5:14: server.log_format: unknown variant `xml`, expected `text` or `json`"),
        format!("{file}:6:13: server.log_level: `loud` is not a log level"),
        format!("{file}:8:1: server.tls: missing field `private_key`"),
    ] {
        assert!(stderr.contains(&expected), "missing `{expected}` in\n{stderr}");
    }
    assert!(stderr.contains("6 error(s)"), "{stderr}");

    // The same mistakes stop `serve` before it listens.
    let data = dir.path().join("data").display().to_string();
    let serve = umgate(&["--data-dir", &data, "serve", "--config", &config.display().to_string()], &[]);
    assert_eq!(serve.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&serve.stderr).contains("server.request_timeout_seconds"));

    // The old [gateway] section is refused with where its keys went.
    std::fs::write(&config, "[gateway]\nlisten = \"127.0.0.1:8278\"\n").unwrap();
    let output = umgate(&["config", "check", &config.display().to_string()], &[]);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("`[gateway]` is now `[server]`"));

    // The sample's [server] section is valid.
    let sample = umgate(&["config", "check"], &[]);
    assert_eq!(sample.status.code(), Some(0), "{}", String::from_utf8_lossy(&sample.stderr));
}

#[test]
fn the_log_endpoints_need_the_admin_token_and_the_sampler_reports_queue_depths() {
    const TOKEN: &str = "serve-test-admin-token-0123456789";
    let mut daemon = Daemon::start(&[], &[("UMGATE_ADMIN_TOKEN", TOKEN), ("UMGATE_QUEUE_SAMPLE_SECONDS", "1")]);
    daemon.wait_listening();
    let log = |token: &str| {
        http(
            daemon.port,
            &format!(
                "GET /v1/log?limit=5 HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\n\
                 Connection: close\r\n\r\n"
            ),
        )
    };
    let allowed = log(TOKEN);
    assert!(allowed.starts_with("HTTP/1.1 200"), "{allowed}");
    assert!(allowed.contains(r#"{"items":[],"next_cursor":null}"#), "{allowed}");
    let refused = log("not-the-token");
    assert!(refused.starts_with("HTTP/1.1 401"), "{refused}");
    assert!(refused.contains(r#""error":"unauthorized""#), "{refused}");
    // The sampler sets the queue gauges from the store (at start, then every second).
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let metrics = get(daemon.port, "/metrics");
        let wanted = [r#"umgate_queue_depth{queue="review"} 0"#, r#"umgate_queue_depth{queue="timers_due"} 0"#];
        if wanted.iter().all(|line| metrics.lines().any(|l| l == *line)) {
            assert!(metrics.contains(r#"route="/v1/log",status="401"} 1"#), "{metrics}");
            break;
        }
        assert!(Instant::now() < deadline, "no queue depths in\n{metrics}");
        std::thread::sleep(Duration::from_millis(100));
    }
    daemon.terminate();
    assert_eq!(daemon.wait_exit(Duration::from_secs(10)).code(), Some(0));
    assert!(!daemon.stderr().contains(TOKEN), "the token is never logged");

    // A token too short to be safe stops the start, without repeating it.
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data").display().to_string();
    let weak = umgate(&["--data-dir", &data, "serve"], &[("UMGATE_ADMIN_TOKEN", "letmein")]);
    assert_eq!(weak.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&weak.stderr);
    assert!(stderr.contains("UMGATE_ADMIN_TOKEN is too short") && !stderr.contains("letmein"), "{stderr}");
}
