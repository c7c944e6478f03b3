//! The daemon's `[server]` section: listen address, TLS files, limits, shutdown grace, logging.
//!
//! Why in the policy loader although it is not UM policy: it lives in the same file as the rules,
//! so `umgate config check` must report its mistakes like any other, as `file:line:col: field:
//! message`, and `umgate serve` must refuse to start on them. This module owns the file's shape
//! and the rules every value obeys ([`parse_listen`], [`LogLevel`], the ranges of
//! [`Limits`]); `umgate serve` (src/server/config.rs) applies the same rules to the environment
//! overrides and the flags, and the defaults, so a value is checked the same way wherever it
//! comes from. Every key is optional: an absent key falls back to the environment and then to
//! the daemon's default (SPEC section 9 for the address).

use std::fmt;
use std::net::SocketAddr;
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use toml::de::DeValue;

use super::load::{Diagnostics, Found, entry};

/// `[server]` as written.
#[derive(Deserialize, Clone, Debug, Default)]
#[serde(deny_unknown_fields)]
pub struct ServerSection {
    /// `HOST:PORT` with an IP address, e.g. `127.0.0.1:8278`, `0.0.0.0:8278`, `[::1]:8278`.
    pub listen: Option<Spanned<String>>,
    /// Largest request body accepted (HTTP 413 above it).
    pub max_body_megabytes: Option<Spanned<u64>>,
    /// Longest a request may take before it is answered HTTP 503.
    pub request_timeout_seconds: Option<Spanned<u64>>,
    /// After SIGTERM/SIGINT, how long requests in flight may take to finish.
    pub shutdown_grace_seconds: Option<Spanned<u64>>,
    pub log_format: Option<Spanned<LogFormat>>,
    /// A level (`info`) or tracing directives (`info,sqlx=warn,umgate::server=debug`).
    pub log_level: Option<Spanned<String>>,
    /// HTTPS instead of plain HTTP: both files, PEM.
    pub tls: Option<TlsSection>,
}

/// `[server.tls]` as written: paths relative to the file that holds them.
#[derive(Deserialize, Clone, Debug)]
#[serde(deny_unknown_fields)]
pub struct TlsSection {
    /// The certificate chain, leaf first (PEM).
    pub certificate: Spanned<String>,
    /// The private key of the leaf certificate (PEM: PKCS#8, PKCS#1 or SEC1).
    pub private_key: Spanned<String>,
}

/// Log line format.
#[derive(Deserialize, Serialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line (for log shippers).
    Json,
}

impl LogFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Json => "json",
        }
    }
}

impl fmt::Display for LogFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for LogFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "text" => Ok(Self::Text),
            "json" => Ok(Self::Json),
            _ => Err(format!("`{s}` is not a log format: expected `text` or `json`")),
        }
    }
}

/// A checked log filter: comma-separated `LEVEL` or `TARGET=LEVEL` directives, levels `trace`,
/// `debug`, `info`, `warn`, `error`, `off` (what `tracing_subscriber::EnvFilter` reads).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogLevel(String);

impl LogLevel {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for LogLevel {
    /// sqlx's own info lines (PostgreSQL notices such as "relation _sqlx_migrations already
    /// exists, skipping" on every start) are noise to an operator; its warnings still show.
    fn default() -> Self {
        Self("info,sqlx=warn".to_owned())
    }
}

impl fmt::Display for LogLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for LogLevel {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        const LEVELS: [&str; 6] = ["trace", "debug", "info", "warn", "error", "off"];
        let text = s.trim();
        let bad = |why: &str| {
            Err(format!(
                "`{s}` is not a log level: {why}; expected one of trace, debug, info, warn, error, off, \
                 or directives such as `info,sqlx=warn`"
            ))
        };
        if text.is_empty() {
            return bad("it is empty");
        }
        for directive in text.split(',') {
            let directive = directive.trim();
            let (target, level) = match directive.split_once('=') {
                Some((target, level)) => (Some(target.trim()), level.trim()),
                None => (None, directive),
            };
            if let Some(target) = target {
                if target.is_empty() || !target.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':') {
                    return bad(&format!("`{target}` is not a module path"));
                }
            }
            if !LEVELS.contains(&level.to_ascii_lowercase().as_str()) {
                return bad(&format!("`{level}` is not a level"));
            }
        }
        Ok(Self(text.to_owned()))
    }
}

/// The address rule: an IP address and a port.
pub fn parse_listen(text: &str) -> Result<SocketAddr, String> {
    text.trim().parse().map_err(|_| {
        format!(
            "`{text}` is not a listen address: expected IP:PORT, e.g. 127.0.0.1:8278 (loopback), \
             0.0.0.0:8278 (every interface) or [::1]:8278"
        )
    })
}

/// The allowed ranges of the numeric settings (their defaults are the daemon's:
/// src/server/config.rs).
#[derive(Debug)]
pub struct Limits;

impl Limits {
    pub const MAX_BODY_MEGABYTES: RangeInclusive<u64> = 1..=1024;
    pub const REQUEST_TIMEOUT_SECONDS: RangeInclusive<u64> = 1..=3600;
    pub const SHUTDOWN_GRACE_SECONDS: RangeInclusive<u64> = 0..=3600;

    /// `value` within `range`, or the message to show.
    pub fn check(value: u64, range: &RangeInclusive<u64>) -> Result<u64, String> {
        if range.contains(&value) {
            Ok(value)
        } else {
            Err(format!("must be between {} and {}, not {value}", range.start(), range.end()))
        }
    }
}

/// A value of `[server]` with where it was written (`file:line:col`), for start-up messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileSetting<T> {
    pub value: T,
    pub location: String,
}

/// The TLS files, resolved against the directory of the configuration file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsFiles {
    pub certificate: PathBuf,
    pub private_key: PathBuf,
}

/// `[server]` checked: every key present in the file, with its location.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServerSettings {
    pub listen: Option<FileSetting<SocketAddr>>,
    pub max_body_megabytes: Option<FileSetting<u64>>,
    pub request_timeout: Option<FileSetting<Duration>>,
    pub shutdown_grace: Option<FileSetting<Duration>>,
    pub log_format: Option<FileSetting<LogFormat>>,
    pub log_level: Option<FileSetting<LogLevel>>,
    pub certificate: Option<FileSetting<PathBuf>>,
    pub private_key: Option<FileSetting<PathBuf>>,
}

/// The keys of `[server]`.
const KEYS: [&str; 7] = [
    "listen",
    "max_body_megabytes",
    "request_timeout_seconds",
    "shutdown_grace_seconds",
    "log_format",
    "log_level",
    "tls",
];

/// Deserializes `[server]` key by key, so that every mistake in it is reported, not the first.
pub(super) fn section(value: Spanned<DeValue<'_>>, errors: &mut Found) -> Option<ServerSection> {
    let span = value.span();
    let DeValue::Table(table) = value.into_inner() else {
        errors.push((span, "must be a table: [server]".to_owned()));
        return None;
    };
    let mut section = ServerSection::default();
    for (key, value) in table {
        match key.get_ref().as_ref() {
            "listen" => section.listen = entry(value, errors),
            "max_body_megabytes" => section.max_body_megabytes = entry(value, errors),
            "request_timeout_seconds" => section.request_timeout_seconds = entry(value, errors),
            "shutdown_grace_seconds" => section.shutdown_grace_seconds = entry(value, errors),
            "log_format" => section.log_format = entry(value, errors),
            "log_level" => section.log_level = entry(value, errors),
            "tls" => section.tls = entry(value, errors),
            other => {
                let expected: Vec<String> = KEYS.iter().map(|k| format!("`{k}`")).collect();
                errors.push((key.span(), format!("unknown field `{other}`, expected one of {}", expected.join(", "))));
            }
        }
    }
    Some(section)
}

/// Checks the `[server]` of file `file` and returns it; errors go to `diagnostics`.
pub(super) fn check(section: ServerSection, file: usize, diagnostics: &mut Diagnostics) -> ServerSettings {
    let (path, text) = match diagnostics.sources.get(file) {
        Some(source) => (source.path.clone(), source.text.clone()),
        None => (PathBuf::new(), String::new()),
    };
    let location = |offset: usize| {
        let (line, column) = super::error::line_and_column(&text, offset);
        format!("{}:{line}:{column}", path.display())
    };
    let mut settings = ServerSettings::default();
    let checked = |field: &str,
                   value: &Spanned<u64>,
                   range: &RangeInclusive<u64>,
                   diagnostics: &mut Diagnostics|
     -> Option<(u64, String)> {
        match Limits::check(*value.get_ref(), range) {
            Ok(number) => Some((number, location(value.span().start))),
            Err(message) => {
                diagnostics.error(file, value.span(), format!("server.{field}"), message);
                None
            }
        }
    };
    if let Some(value) = &section.max_body_megabytes {
        settings.max_body_megabytes = checked("max_body_megabytes", value, &Limits::MAX_BODY_MEGABYTES, diagnostics)
            .map(|(value, location)| FileSetting { value, location });
    }
    if let Some(value) = &section.request_timeout_seconds {
        settings.request_timeout =
            checked("request_timeout_seconds", value, &Limits::REQUEST_TIMEOUT_SECONDS, diagnostics)
                .map(|(seconds, location)| FileSetting { value: Duration::from_secs(seconds), location });
    }
    if let Some(value) = &section.shutdown_grace_seconds {
        settings.shutdown_grace =
            checked("shutdown_grace_seconds", value, &Limits::SHUTDOWN_GRACE_SECONDS, diagnostics)
                .map(|(seconds, location)| FileSetting { value: Duration::from_secs(seconds), location });
    }
    if let Some(value) = &section.listen {
        match parse_listen(value.get_ref()) {
            Ok(address) => {
                settings.listen = Some(FileSetting { value: address, location: location(value.span().start) });
            }
            Err(message) => diagnostics.error(file, value.span(), "server.listen", message),
        }
    }
    if let Some(value) = &section.log_format {
        settings.log_format = Some(FileSetting { value: *value.get_ref(), location: location(value.span().start) });
    }
    if let Some(value) = &section.log_level {
        match value.get_ref().parse::<LogLevel>() {
            Ok(level) => {
                settings.log_level = Some(FileSetting { value: level, location: location(value.span().start) })
            }
            Err(message) => diagnostics.error(file, value.span(), "server.log_level", message),
        }
    }
    if let Some(tls) = &section.tls {
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let mut resolve = |field: &str, value: &Spanned<String>| {
            if value.get_ref().trim().is_empty() {
                diagnostics.error(file, value.span(), format!("server.tls.{field}"), "must name a PEM file");
                return None;
            }
            Some(FileSetting { value: base.join(value.get_ref()), location: location(value.span().start) })
        };
        settings.certificate = resolve("certificate", &tls.certificate);
        settings.private_key = resolve("private_key", &tls.private_key);
    }
    settings
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_addresses_are_ip_and_port() {
        assert_eq!(parse_listen("127.0.0.1:8278").ok(), "127.0.0.1:8278".parse().ok());
        assert!(parse_listen("[::1]:8278").is_ok());
        let error = parse_listen("localhost:8278").err().unwrap_or_default();
        assert!(error.contains("expected IP:PORT"), "{error}");
        assert!(parse_listen("127.0.0.1").is_err());
    }

    #[test]
    fn log_levels_are_levels_or_directives() {
        for good in ["info", "DEBUG", "info,sqlx=warn", "umgate::server=trace", "off"] {
            assert!(good.parse::<LogLevel>().is_ok(), "{good}");
        }
        for bad in ["", "loud", "info,sqlx=loud", "=info", "a b=info"] {
            assert!(bad.parse::<LogLevel>().is_err(), "{bad}");
        }
        let message = "verbose".parse::<LogLevel>().err().unwrap_or_default();
        assert!(message.contains("`verbose` is not a level") && message.contains("info,sqlx=warn"), "{message}");
    }

    #[test]
    fn log_formats_are_text_or_json() {
        assert_eq!("JSON".parse::<LogFormat>(), Ok(LogFormat::Json));
        assert_eq!("text".parse::<LogFormat>(), Ok(LogFormat::Text));
        assert!("xml".parse::<LogFormat>().is_err());
    }

    #[test]
    fn limits_say_their_range() {
        assert_eq!(Limits::check(0, &Limits::SHUTDOWN_GRACE_SECONDS), Ok(0));
        assert_eq!(
            Limits::check(0, &Limits::REQUEST_TIMEOUT_SECONDS),
            Err("must be between 1 and 3600, not 0".to_owned())
        );
    }
}
