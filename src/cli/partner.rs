//! `umgate partner hash-password`: the argon2 PHC string of a partner's HTTP password, for
//! `[[partners]] http_password_hash`.
//!
//! Why a command: a hash made by hand with other parameters would verify slower or not at all;
//! this one uses the parameters the daemon expects. The password is read from a hidden prompt on
//! a terminal, else the first line of stdin (for scripts), and is never echoed or logged.

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use anyhow::Context;

/// Prints the hash of the password read from the terminal or stdin.
pub fn hash_password() -> anyhow::Result<ExitCode> {
    let password = if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("partner HTTP password: ").context("reading the password")?;
        let second = rpassword::prompt_password("again: ").context("reading the password")?;
        anyhow::ensure!(first == second, "the two passwords differ; nothing printed");
        first
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).context("reading the password from stdin")?;
        line.trim_end_matches(['\r', '\n']).to_owned()
    };
    anyhow::ensure!(!password.is_empty(), "an empty password cannot be used");
    let hash = crate::server::partners::hash_password(&password)
        .map_err(|error| anyhow::anyhow!("hashing the password: {error}"))?;
    writeln!(std::io::stdout().lock(), "{hash}")?;
    Ok(ExitCode::SUCCESS)
}
