//! The daemon's effective settings: for each key, the command-line flag, else the environment
//! variable, else the configuration file's `[server]`, else the default (SPEC section 9).
//!
//! Why here: the file is read and checked by the policy loader (so `umgate config check` reports
//! its mistakes with file, line and column); what only the daemon sees, the environment and the
//! flags, is checked here with the same rules (`crate::policy::server`) when the daemon starts.
//! Every problem is reported at once, naming the variable or file place it came from and what to
//! do, and the daemon does not start. Each effective value keeps its [`Origin`] so the start-up
//! log can say where it came from.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use crate::policy::server::{FileSetting, Limits, LogFormat, LogLevel, ServerSettings, parse_listen};

/// The defaults, used when neither a flag, the environment nor the file sets a key.
pub mod defaults {
    /// SPEC section 9: loopback only, plain HTTP.
    pub const LISTEN: std::net::SocketAddr =
        std::net::SocketAddr::V4(std::net::SocketAddrV4::new(std::net::Ipv4Addr::LOCALHOST, 8278));
    /// A real-time 278 is a few kilobytes; a batch posted over HTTP may be megabytes.
    pub const MAX_BODY_MEGABYTES: u64 = 16;
    pub const REQUEST_TIMEOUT_SECONDS: u64 = 30;
    /// Below the 30 s an orchestrator commonly waits between SIGTERM and SIGKILL.
    pub const SHUTDOWN_GRACE_SECONDS: u64 = 20;
}

/// The environment variables `umgate serve` reads (and the other commands, for logging).
pub mod env {
    pub const LISTEN: &str = "UMGATE_LISTEN";
    pub const TLS_CERTIFICATE: &str = "UMGATE_TLS_CERTIFICATE";
    pub const TLS_PRIVATE_KEY: &str = "UMGATE_TLS_PRIVATE_KEY";
    pub const MAX_BODY_MEGABYTES: &str = "UMGATE_MAX_BODY_MEGABYTES";
    pub const REQUEST_TIMEOUT_SECONDS: &str = "UMGATE_REQUEST_TIMEOUT_SECONDS";
    pub const SHUTDOWN_GRACE_SECONDS: &str = "UMGATE_SHUTDOWN_GRACE_SECONDS";
    pub const LOG_FORMAT: &str = "UMGATE_LOG_FORMAT";
    pub const LOG_LEVEL: &str = "UMGATE_LOG_LEVEL";
}

/// Where an effective value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A command-line flag (its spelling).
    Flag(&'static str),
    /// An environment variable (its name).
    Env(&'static str),
    /// The configuration file, `file:line:col`.
    File(String),
    Default,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Flag(flag) => write!(f, "flag {flag}"),
            Self::Env(name) => write!(f, "environment {name}"),
            Self::File(location) => write!(f, "{location}"),
            Self::Default => f.write_str("default"),
        }
    }
}

/// A value and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting<T> {
    pub value: T,
    pub origin: Origin,
}

/// What the command line gave `umgate serve` (parsed and checked by clap with the same rules).
#[derive(Debug, Clone, Default)]
pub struct ServeFlags {
    pub listen: Option<SocketAddr>,
    pub tls_certificate: Option<PathBuf>,
    pub tls_private_key: Option<PathBuf>,
    /// `--log-json`.
    pub log_json: bool,
    pub log_level: Option<LogLevel>,
}

/// The files of HTTPS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsSettings {
    pub certificate: Setting<PathBuf>,
    pub private_key: Setting<PathBuf>,
}

/// How logs are written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogSettings {
    pub format: Setting<LogFormat>,
    pub level: Setting<LogLevel>,
}

/// Everything `umgate serve` runs with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    pub listen: Setting<SocketAddr>,
    /// `None`: plain HTTP.
    pub tls: Option<TlsSettings>,
    pub max_body_bytes: Setting<usize>,
    pub request_timeout: Setting<Duration>,
    pub shutdown_grace: Setting<Duration>,
    pub log: LogSettings,
    /// The transaction log endpoints' administrator token and the queue sampler's interval.
    pub log_api: super::log_api::config::LogApiSettings,
}

/// The settings cannot be used; every problem found, one per line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", problems.join("\n"))]
pub struct SettingsError {
    pub problems: Vec<String>,
}

/// Reads the environment; tests give a map instead.
pub type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The process environment. An empty variable counts as unset.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

impl ServerConfig {
    /// Flag > environment > file > default, for every key. All problems are collected.
    pub fn resolve(file: &ServerSettings, env: EnvLookup<'_>, flags: &ServeFlags) -> Result<Self, SettingsError> {
        let mut problems = Vec::new();
        let log = LogSettings::pick(Some(file), env, flags.log_json, flags.log_level.clone(), &mut problems);
        let log_api = super::log_api::config::LogApiSettings::from_env(env, &mut problems);
        let listen = pick(
            flags.listen.map(|v| (v, "--listen")),
            (env::LISTEN, env, &|text| parse_listen(text)),
            file.listen.as_ref(),
            || defaults::LISTEN,
            &mut problems,
        );
        let max_body_megabytes = pick(
            None,
            (env::MAX_BODY_MEGABYTES, env, &|text| number(text, &Limits::MAX_BODY_MEGABYTES)),
            file.max_body_megabytes.as_ref(),
            || defaults::MAX_BODY_MEGABYTES,
            &mut problems,
        );
        let request_timeout = pick(
            None,
            (env::REQUEST_TIMEOUT_SECONDS, env, &|text| {
                number(text, &Limits::REQUEST_TIMEOUT_SECONDS).map(Duration::from_secs)
            }),
            file.request_timeout.as_ref(),
            || Duration::from_secs(defaults::REQUEST_TIMEOUT_SECONDS),
            &mut problems,
        );
        let shutdown_grace = pick(
            None,
            (env::SHUTDOWN_GRACE_SECONDS, env, &|text| {
                number(text, &Limits::SHUTDOWN_GRACE_SECONDS).map(Duration::from_secs)
            }),
            file.shutdown_grace.as_ref(),
            || Duration::from_secs(defaults::SHUTDOWN_GRACE_SECONDS),
            &mut problems,
        );
        let certificate = pick_optional(
            flags.tls_certificate.clone().map(|v| (v, "--tls-certificate")),
            (env::TLS_CERTIFICATE, env, &|text| Ok(PathBuf::from(text))),
            file.certificate.as_ref(),
            &mut problems,
        );
        let private_key = pick_optional(
            flags.tls_private_key.clone().map(|v| (v, "--tls-private-key")),
            (env::TLS_PRIVATE_KEY, env, &|text| Ok(PathBuf::from(text))),
            file.private_key.as_ref(),
            &mut problems,
        );
        let tls = match (certificate, private_key) {
            (Some(certificate), Some(private_key)) => Some(TlsSettings { certificate, private_key }),
            (None, None) => None,
            (Some(certificate), None) => {
                problems.push(format!(
                    "TLS needs a private key with its certificate (certificate from {}): set --tls-private-key, \
                     {} or [server.tls] private_key, or remove the certificate to serve plain HTTP",
                    certificate.origin,
                    env::TLS_PRIVATE_KEY
                ));
                None
            }
            (None, Some(private_key)) => {
                problems.push(format!(
                    "TLS needs a certificate with its private key (private key from {}): set --tls-certificate, \
                     {} or [server.tls] certificate, or remove the private key to serve plain HTTP",
                    private_key.origin,
                    env::TLS_CERTIFICATE
                ));
                None
            }
        };
        if !problems.is_empty() {
            return Err(SettingsError { problems });
        }
        let max_body_bytes = Setting {
            value: usize::try_from(max_body_megabytes.value.saturating_mul(1024 * 1024)).unwrap_or(usize::MAX),
            origin: max_body_megabytes.origin,
        };
        Ok(Self { listen, tls, max_body_bytes, request_timeout, shutdown_grace, log, log_api })
    }

    /// `(key, value, origin)` of every setting, for the start-up log.
    pub fn describe(&self) -> Vec<(&'static str, String, &Origin)> {
        let mut lines = vec![
            ("listen", self.listen.value.to_string(), &self.listen.origin),
            (
                "max_body_megabytes",
                (self.max_body_bytes.value / (1024 * 1024)).to_string(),
                &self.max_body_bytes.origin,
            ),
            ("request_timeout_seconds", self.request_timeout.value.as_secs().to_string(), &self.request_timeout.origin),
            ("shutdown_grace_seconds", self.shutdown_grace.value.as_secs().to_string(), &self.shutdown_grace.origin),
            ("log_format", self.log.format.value.to_string(), &self.log.format.origin),
            ("log_level", self.log.level.value.to_string(), &self.log.level.origin),
        ];
        if let Some(tls) = &self.tls {
            lines.push(("tls.certificate", tls.certificate.value.display().to_string(), &tls.certificate.origin));
            lines.push(("tls.private_key", tls.private_key.value.display().to_string(), &tls.private_key.origin));
        }
        lines
    }
}

impl LogSettings {
    /// Logging of the commands other than `serve`: the flags and the environment only.
    pub fn resolve(env: EnvLookup<'_>, log_json: bool) -> Result<Self, SettingsError> {
        let mut problems = Vec::new();
        let settings = Self::pick(None, env, log_json, None, &mut problems);
        if problems.is_empty() { Ok(settings) } else { Err(SettingsError { problems }) }
    }

    fn pick(
        file: Option<&ServerSettings>,
        env: EnvLookup<'_>,
        log_json: bool,
        level_flag: Option<LogLevel>,
        problems: &mut Vec<String>,
    ) -> Self {
        let format = pick(
            log_json.then_some((LogFormat::Json, "--log-json")),
            (env::LOG_FORMAT, env, &|text| LogFormat::from_str(text)),
            file.and_then(|f| f.log_format.as_ref()),
            LogFormat::default,
            problems,
        );
        let level = pick(
            level_flag.map(|level| (level, "--log-level")),
            (env::LOG_LEVEL, env, &|text| LogLevel::from_str(text)),
            file.and_then(|f| f.log_level.as_ref()),
            LogLevel::default,
            problems,
        );
        Self { format, level }
    }
}

/// An environment variable and how to read it.
type EnvSource<'a, T> = (&'static str, EnvLookup<'a>, &'a dyn Fn(&str) -> Result<T, String>);

/// A set variable is always checked (a typo there would bite the day the flag is dropped), but
/// used only when no flag is given.
fn pick<T: Clone>(
    flag: Option<(T, &'static str)>,
    env: EnvSource<'_, T>,
    file: Option<&FileSetting<T>>,
    default: impl FnOnce() -> T,
    problems: &mut Vec<String>,
) -> Setting<T> {
    let from_env = read_env(env, problems);
    if let Some((value, flag)) = flag {
        return Setting { value, origin: Origin::Flag(flag) };
    }
    if let Some(setting) = from_env {
        return setting;
    }
    match file {
        Some(setting) => Setting { value: setting.value.clone(), origin: Origin::File(setting.location.clone()) },
        None => Setting { value: default(), origin: Origin::Default },
    }
}

/// Like [`pick`], for settings without a default.
fn pick_optional<T: Clone>(
    flag: Option<(T, &'static str)>,
    env: EnvSource<'_, T>,
    file: Option<&FileSetting<T>>,
    problems: &mut Vec<String>,
) -> Option<Setting<T>> {
    let from_env = read_env(env, problems);
    if let Some((value, flag)) = flag {
        return Some(Setting { value, origin: Origin::Flag(flag) });
    }
    from_env.or_else(|| {
        file.map(|setting| Setting { value: setting.value.clone(), origin: Origin::File(setting.location.clone()) })
    })
}

fn read_env<T>((name, lookup, parse): EnvSource<'_, T>, problems: &mut Vec<String>) -> Option<Setting<T>> {
    let text = lookup(name).filter(|text| !text.trim().is_empty())?;
    match parse(&text) {
        Ok(value) => Some(Setting { value, origin: Origin::Env(name) }),
        Err(message) => {
            problems.push(format!("environment {name}=`{text}`: {message} (correct it, or unset {name})"));
            None
        }
    }
}

/// A whole number within `range`.
fn number(text: &str, range: &std::ops::RangeInclusive<u64>) -> Result<u64, String> {
    let value: u64 = text.trim().parse().map_err(|_| format!("`{text}` is not a whole number"))?;
    Limits::check(value, range)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        move |name: &str| map.get(name).cloned()
    }

    fn file_with_listen(address: &str) -> ServerSettings {
        ServerSettings {
            listen: Some(FileSetting {
                value: parse_listen(address).unwrap_or_else(|e| panic!("{e}")),
                location: "umgate.toml:3:10".to_owned(),
            }),
            ..ServerSettings::default()
        }
    }

    #[test]
    fn defaults_are_the_spec_ones() {
        let config = ServerConfig::resolve(&ServerSettings::default(), &env_of(&[]), &ServeFlags::default())
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(config.listen.value.to_string(), "127.0.0.1:8278");
        assert_eq!(config.listen.origin, Origin::Default);
        assert_eq!(config.tls, None);
        assert_eq!(config.max_body_bytes.value, 16 * 1024 * 1024);
        assert_eq!(config.request_timeout.value, Duration::from_secs(30));
        assert_eq!(config.shutdown_grace.value, Duration::from_secs(20));
        assert_eq!(config.log.format.value, LogFormat::Text);
        assert_eq!(config.log.level.value.as_str(), "info,sqlx=warn");
    }

    #[test]
    fn flag_beats_environment_beats_file_beats_default() {
        let file = file_with_listen("127.0.0.1:1001");
        let from_file = ServerConfig::resolve(&file, &env_of(&[]), &ServeFlags::default());
        let from_file = from_file.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(from_file.listen.value.port(), 1001);
        assert_eq!(from_file.listen.origin, Origin::File("umgate.toml:3:10".to_owned()));

        let env = env_of(&[(env::LISTEN, "127.0.0.1:1002"), (env::LOG_FORMAT, "json")]);
        let from_env = ServerConfig::resolve(&file, &env, &ServeFlags::default()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(from_env.listen.value.port(), 1002);
        assert_eq!(from_env.listen.origin, Origin::Env("UMGATE_LISTEN"));
        assert_eq!(from_env.log.format.value, LogFormat::Json);

        let flags = ServeFlags { listen: parse_listen("127.0.0.1:1003").ok(), ..ServeFlags::default() };
        let from_flag = ServerConfig::resolve(&file, &env, &flags).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(from_flag.listen.value.port(), 1003);
        assert_eq!(from_flag.listen.origin, Origin::Flag("--listen"));
        assert_eq!(from_flag.listen.origin.to_string(), "flag --listen");
    }

    #[test]
    fn every_bad_variable_is_reported_with_what_to_do() {
        let env = env_of(&[
            (env::LISTEN, "localhost"),
            (env::REQUEST_TIMEOUT_SECONDS, "0"),
            (env::MAX_BODY_MEGABYTES, "lots"),
            (env::LOG_FORMAT, "xml"),
            (env::LOG_LEVEL, "loud"),
            (env::SHUTDOWN_GRACE_SECONDS, "5"),
        ]);
        let error = ServerConfig::resolve(&ServerSettings::default(), &env, &ServeFlags::default())
            .err()
            .unwrap_or_else(|| panic!("bad variables accepted"));
        assert_eq!(error.problems.len(), 5, "{error}");
        let text = error.to_string();
        for expected in [
            "environment UMGATE_LISTEN=`localhost`: `localhost` is not a listen address: expected IP:PORT",
            "environment UMGATE_REQUEST_TIMEOUT_SECONDS=`0`: must be between 1 and 3600, not 0 (correct it, or unset UMGATE_REQUEST_TIMEOUT_SECONDS)",
            "environment UMGATE_MAX_BODY_MEGABYTES=`lots`: `lots` is not a whole number",
            "environment UMGATE_LOG_FORMAT=`xml`: `xml` is not a log format: expected `text` or `json`",
            "environment UMGATE_LOG_LEVEL=`loud`",
        ] {
            assert!(text.contains(expected), "missing `{expected}` in\n{text}");
        }
    }

    #[test]
    fn a_bad_variable_is_reported_even_under_a_flag_and_empty_means_unset() {
        let flags = ServeFlags { listen: parse_listen("127.0.0.1:1003").ok(), ..ServeFlags::default() };
        let bad = ServerConfig::resolve(&ServerSettings::default(), &env_of(&[(env::LISTEN, "nope")]), &flags);
        assert!(bad.is_err());
        let empty = ServerConfig::resolve(&ServerSettings::default(), &env_of(&[(env::LISTEN, " ")]), &flags);
        assert_eq!(empty.map(|c| c.listen.value.port()).ok(), Some(1003));
    }

    #[test]
    fn tls_needs_both_files() {
        let env = env_of(&[(env::TLS_CERTIFICATE, "/etc/umgate/cert.pem")]);
        let error = ServerConfig::resolve(&ServerSettings::default(), &env, &ServeFlags::default())
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            error.contains(
                "TLS needs a private key with its certificate (certificate from environment UMGATE_TLS_CERTIFICATE)"
            ),
            "{error}"
        );
        let flags = ServeFlags { tls_private_key: Some(PathBuf::from("key.pem")), ..ServeFlags::default() };
        let both = ServerConfig::resolve(&ServerSettings::default(), &env, &flags).unwrap_or_else(|e| panic!("{e}"));
        let tls = both.tls.unwrap_or_else(|| panic!("TLS expected"));
        assert_eq!(tls.certificate.origin, Origin::Env("UMGATE_TLS_CERTIFICATE"));
        assert_eq!(tls.private_key.origin, Origin::Flag("--tls-private-key"));
    }

    #[test]
    fn other_commands_log_from_flag_and_environment() {
        let settings = LogSettings::resolve(&env_of(&[(env::LOG_LEVEL, "debug,sqlx=warn")]), true)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(settings.format.value, LogFormat::Json);
        assert_eq!(settings.level.value.as_str(), "debug,sqlx=warn");
        assert!(LogSettings::resolve(&env_of(&[(env::LOG_FORMAT, "yaml")]), false).is_err());
    }
}
