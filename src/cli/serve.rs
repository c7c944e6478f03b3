//! `umgate serve`: the flags, then configuration → effective settings → logging → the daemon.
//!
//! Why this order: the log format and level may come from the configuration file, so the file
//! is loaded and the settings resolved before logging starts; their errors go to stderr as text
//! (exit 2), like every start-up error.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use crate::policy::server::{LogLevel, parse_listen};
use crate::server::config::{ServeFlags, ServerConfig, env, process_env};

/// The flags of `umgate serve`. For each setting: flag, else environment variable, else the
/// configuration file's `[server]`, else the default.
#[derive(Debug, clap::Args)]
#[command(after_help = "Settings come from, in order: the flags, the environment (UMGATE_LISTEN, \
UMGATE_TLS_CERTIFICATE, UMGATE_TLS_PRIVATE_KEY, UMGATE_MAX_BODY_MEGABYTES, \
UMGATE_REQUEST_TIMEOUT_SECONDS, UMGATE_SHUTDOWN_GRACE_SECONDS, UMGATE_LOG_FORMAT, UMGATE_LOG_LEVEL), \
the configuration's [server] section, the defaults.\n\n\
Examples:\n  \
umgate serve\n  \
umgate serve --config /etc/umgate/umgate.toml --listen 0.0.0.0:8278 --log-json\n  \
UMGATE_TLS_CERTIFICATE=cert.pem UMGATE_TLS_PRIVATE_KEY=key.pem umgate serve")]
pub struct ServeArgs {
    /// Configuration file (UM policy and the [server] section).
    #[arg(long, default_value = "samples/umgate.toml", value_name = "FILE")]
    pub config: PathBuf,
    /// Address to listen on, IP:PORT [default: 127.0.0.1:8278].
    #[arg(long, value_name = "IP:PORT", value_parser = parse_listen)]
    pub listen: Option<SocketAddr>,
    /// Serve HTTPS with this PEM certificate chain (with --tls-private-key).
    #[arg(long, value_name = "FILE")]
    pub tls_certificate: Option<PathBuf>,
    /// The PEM private key of --tls-certificate.
    #[arg(long, value_name = "FILE")]
    pub tls_private_key: Option<PathBuf>,
    /// Log level or directives, e.g. `debug` or `info,sqlx=warn` [default: info].
    #[arg(long, value_name = "FILTER", value_parser = parse_level)]
    pub log_level: Option<LogLevel>,
}

fn parse_level(text: &str) -> Result<LogLevel, String> {
    text.parse()
}

/// Runs the daemon until SIGTERM/SIGINT; exit 0 after a graceful shutdown.
pub fn run(args: ServeArgs, data_dir: PathBuf, database_url: String, log_json: bool) -> anyhow::Result<ExitCode> {
    let policy =
        crate::policy::Policy::load(&args.config).map_err(|error| anyhow::anyhow!("{error}")).with_context(|| {
            format!("loading the configuration {} (check it with `umgate config check`)", args.config.display())
        })?;
    let flags = ServeFlags {
        listen: args.listen,
        tls_certificate: args.tls_certificate,
        tls_private_key: args.tls_private_key,
        log_json,
        log_level: args.log_level,
    };
    let settings = ServerConfig::resolve(policy.server(), &process_env, &flags).with_context(|| {
        format!(
            "the daemon's settings (flags, then {} and the other UMGATE_ variables, then [server] of {})",
            env::LISTEN,
            args.config.display()
        )
    })?;
    let mailbox = crate::server::mailbox::MailboxConfig::resolve(policy.mailbox(), &process_env)
        .map_err(|problems| anyhow::anyhow!("{problems}"))
        .with_context(|| {
            format!("the mailbox settings (UMGATE_MAILBOX_ variables, then [mailbox] of {})", args.config.display())
        })?;
    super::init_tracing(&settings.log);
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(crate::server::serve(crate::server::ServeOptions {
        settings,
        policy,
        data_dir,
        database_url,
        mailbox,
    }))?;
    Ok(ExitCode::SUCCESS)
}
