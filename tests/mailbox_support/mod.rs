//! Helpers of the mailbox tests: the real `umgate serve` started on a data directory and a
//! database, batches generated and dropped the way a partner would, and the state compared.
#![allow(dead_code, clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, ensure};

pub const FIXED_TIME: &str = "2026-01-05T10:00";

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// `umgate --db URL ARGS` with the fixed time, no other UMGATE_ variable.
pub fn umgate(db_url: &str, args: &[&str]) -> anyhow::Result<std::process::Output> {
    let mut command = Command::new(env!("CARGO_BIN_EXE_umgate"));
    clean_env(&mut command);
    let output =
        command.current_dir(root()).arg("--db").arg(db_url).args(args).env("UMGATE_FIXED_TIME", FIXED_TIME).output()?;
    ensure!(output.status.success(), "umgate {args:?}: {}\n{}", output.status, String::from_utf8_lossy(&output.stderr));
    Ok(output)
}

fn clean_env(command: &mut Command) {
    for (name, _) in std::env::vars() {
        if name.starts_with("UMGATE_") {
            command.env_remove(name);
        }
    }
}

/// A generated 278 batch and its roster: `count` requests, 1,000 per interchange.
pub fn generate(dir: &Path, count: u64) -> anyhow::Result<(PathBuf, PathBuf)> {
    let batch = dir.join(format!("batch{count}.x12"));
    let roster = dir.join(format!("roster{count}.csv"));
    let mut command = Command::new(env!("CARGO_BIN_EXE_umgate"));
    clean_env(&mut command);
    let status = command
        .current_dir(root())
        .args(["gen", "278", "--count", &count.to_string(), "--roster"])
        .arg(&roster)
        .arg("-o")
        .arg(&batch)
        .stdout(Stdio::null())
        .status()?;
    ensure!(status.success(), "umgate gen failed");
    Ok((batch, roster))
}

/// A running `umgate serve` (killed when dropped).
pub struct Daemon {
    pub child: Child,
    pub log: PathBuf,
    pub port: u16,
}

impl Daemon {
    /// Starts the daemon on `data_dir` and `db_url`, polling every 50 ms, with `env` on top.
    pub fn start(data_dir: &Path, db_url: &str, log_name: &str, env: &[(&str, &str)]) -> anyhow::Result<Daemon> {
        let port = free_port();
        let log = data_dir.parent().unwrap_or(data_dir).join(log_name);
        let mut command = Command::new(env!("CARGO_BIN_EXE_umgate"));
        clean_env(&mut command);
        command
            .current_dir(root())
            .arg("--data-dir")
            .arg(data_dir)
            .arg("--db")
            .arg(db_url)
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .env("UMGATE_FIXED_TIME", FIXED_TIME)
            .env("UMGATE_MAILBOX_POLL_MILLISECONDS", "50")
            .env("UMGATE_MAILBOX_HOUSEKEEPING_SECONDS", "1")
            .stdout(Stdio::null())
            .stderr(File::options().create(true).append(true).open(&log)?);
        for (name, value) in env {
            command.env(name, value);
        }
        let child = command.spawn().context("starting umgate serve")?;
        let mut daemon = Daemon { child, log, port };
        daemon.wait_ready()?;
        Ok(daemon)
    }

    fn wait_ready(&mut self) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if self.log_text().contains("mailboxes ready") {
                return Ok(());
            }
            if let Some(status) = self.child.try_wait()? {
                anyhow::bail!("serve exited with {status}:\n{}", self.log_text());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        anyhow::bail!("serve not ready within 30 s:\n{}", self.log_text())
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn terminate(&self) -> anyhow::Result<()> {
        let status = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status()?;
        ensure!(status.success(), "kill -TERM");
        Ok(())
    }

    pub fn wait_exit(&mut self, limit: Duration) -> anyhow::Result<ExitStatus> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait()? {
                return Ok(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        anyhow::bail!("serve still running {limit:?} after SIGTERM:\n{}", self.log_text())
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Drops `file` into `inbox` as a partner should: copied under a dot-name, then renamed.
pub fn drop_into(inbox: &Path, file: &Path, name: &str) -> anyhow::Result<()> {
    let hidden = inbox.join(format!(".{name}.part"));
    std::fs::copy(file, &hidden)?;
    std::fs::rename(&hidden, inbox.join(name))?;
    Ok(())
}

/// Waits until `ready` holds (`limit` at most), checking every 50 ms.
pub fn wait_for(limit: Duration, what: &str, mut ready: impl FnMut() -> bool) -> anyhow::Result<()> {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if ready() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    anyhow::bail!("timed out after {limit:?} waiting for {what}")
}

/// Every file of a directory (not those whose names start with `.`), by name.
pub fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let Ok(entries) = std::fs::read_dir(dir) else { return BTreeMap::new() };
    entries
        .filter_map(Result::ok)
        .filter(|entry| entry.file_type().map(|kind| kind.is_file()).unwrap_or(false))
        .map(|entry| (entry.file_name().to_string_lossy().into_owned(), entry.path()))
        .filter(|(name, _)| !name.starts_with('.'))
        .map(|(name, path)| (name, std::fs::read(path).unwrap_or_default()))
        .collect()
}

/// What the database holds, as comparable lines (no times: they are fixed or backend-formatted).
pub async fn snapshot(db_url: &str) -> anyhow::Result<BTreeMap<&'static str, Vec<String>>> {
    const QUERIES: &[(&str, &str)] = &[
        (
            "cases",
            "SELECT id || '|' || status || '|' || member_id || '|' || COALESCE(authorization_number, '-') || '|' || \
             CAST(version AS TEXT) FROM cases ORDER BY id",
        ),
        (
            "case_events",
            "SELECT case_id || '|' || CAST(seq AS TEXT) || '|' || kind FROM case_events ORDER BY case_id, seq",
        ),
        (
            "interchanges",
            "SELECT COALESCE(sender_id, '-') || '|' || COALESCE(control_number, '-') || '|' || status || '|' || \
             content_sha256 || '|' || file_name || '|' || CAST(byte_offset AS TEXT) FROM interchanges ORDER BY id",
        ),
        (
            "interchange_outputs",
            "SELECT COALESCE(i.control_number, '-') || '|' || CAST(o.seq AS TEXT) || '|' || o.kind || '|' || \
             o.control_number FROM interchange_outputs AS o JOIN interchanges AS i ON i.id = o.interchange_id \
             ORDER BY i.id, o.seq",
        ),
        (
            "interchange_cases",
            "SELECT i.control_number || '|' || c.case_id FROM interchange_cases AS c \
             JOIN interchanges AS i ON i.id = c.interchange_id ORDER BY i.id, c.case_id",
        ),
        ("sequences", "SELECT name || '|' || CAST(value AS TEXT) FROM sequences ORDER BY name"),
    ];
    let mut snapshot = BTreeMap::new();
    if db_url.starts_with("postgres") {
        let pool = sqlx::PgPool::connect(db_url).await?;
        for (name, sql) in QUERIES {
            snapshot.insert(*name, sqlx::query_scalar::<_, String>(sql).fetch_all(&pool).await?);
        }
        pool.close().await;
    } else {
        let pool = sqlx::SqlitePool::connect(db_url).await?;
        for (name, sql) in QUERIES {
            snapshot.insert(*name, sqlx::query_scalar::<_, String>(sql).fetch_all(&pool).await?);
        }
        pool.close().await;
    }
    Ok(snapshot)
}

/// The mailbox jobs as `status|attempts|file_name` lines, oldest first.
pub async fn jobs(db_url: &str) -> anyhow::Result<Vec<String>> {
    const SQL: &str =
        "SELECT status || '|' || CAST(attempts AS TEXT) || '|' || file_name FROM mailbox_jobs ORDER BY id";
    Ok(if db_url.starts_with("postgres") {
        let pool = sqlx::PgPool::connect(db_url).await?;
        let rows = sqlx::query_scalar::<_, String>(SQL).fetch_all(&pool).await?;
        pool.close().await;
        rows
    } else {
        let pool = sqlx::SqlitePool::connect(db_url).await?;
        let rows = sqlx::query_scalar::<_, String>(SQL).fetch_all(&pool).await?;
        pool.close().await;
        rows
    })
}

/// Lines of `left` and `right` that differ, for a failure message (at most 10).
pub fn differences(left: &[String], right: &[String]) -> String {
    let mut shown = Vec::new();
    for index in 0..left.len().max(right.len()) {
        let (a, b) = (left.get(index), right.get(index));
        if a != b {
            shown.push(format!("  #{index}: {a:?} vs {b:?}"));
            if shown.len() == 10 {
                break;
            }
        }
    }
    format!("{} vs {} lines\n{}", left.len(), right.len(), shown.join("\n"))
}
