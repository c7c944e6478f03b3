//! The settings of the transaction log's HTTP endpoints and of the daemon's queue sampler, from
//! the environment (checked at start like the rest of `[server]`'s settings).
//!
//! Why a bearer token from the environment: the log serves protected health information (the
//! interchanges verbatim) and the users and roles of issue 7 do not exist yet. Until they do, one
//! administrator token guards these endpoints; without one they answer 403 and say how to enable
//! them. The daemon keeps only the token's SHA-256, and the environment may give that digest
//! instead of the token (`UMGATE_ADMIN_TOKEN_SHA256`), so the token itself need not sit in the
//! daemon's environment.

use std::fmt;
use std::time::Duration;

use sha2::{Digest, Sha256};

use super::super::config::EnvLookup;

/// The environment variables read here.
pub mod env {
    /// The administrator bearer token itself.
    pub const ADMIN_TOKEN: &str = "UMGATE_ADMIN_TOKEN";
    /// Its SHA-256, lowercase or uppercase hex (64 characters).
    pub const ADMIN_TOKEN_SHA256: &str = "UMGATE_ADMIN_TOKEN_SHA256";
    /// Seconds between two samples of the queue depths (and backfill steps of the log summary).
    pub const QUEUE_SAMPLE_SECONDS: &str = "UMGATE_QUEUE_SAMPLE_SECONDS";
}

/// The defaults.
pub mod defaults {
    /// Often enough for a dashboard (Prometheus scrapes every 15 to 60 s), rare enough to cost
    /// the store nothing noticeable.
    pub const QUEUE_SAMPLE_SECONDS: u64 = 15;
    /// The accepted range of the sample interval.
    pub const QUEUE_SAMPLE_SECONDS_RANGE: std::ops::RangeInclusive<u64> = 1..=3600;
    /// A shorter token can be guessed; 32 random characters is what `openssl rand -hex 16` gives.
    pub const MIN_TOKEN_CHARS: usize = 32;
}

/// The SHA-256 of the administrator token. Its Debug form never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct AdminToken {
    digest: [u8; 32],
}

impl fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AdminToken(redacted)")
    }
}

impl AdminToken {
    /// From the token itself.
    pub fn from_token(token: &str) -> AdminToken {
        AdminToken { digest: Sha256::digest(token.as_bytes()).into() }
    }

    /// From its SHA-256 in hex.
    pub fn from_sha256_hex(hex: &str) -> Option<AdminToken> {
        let hex = hex.trim().as_bytes();
        if hex.len() != 64 {
            return None;
        }
        let mut digest = [0u8; 32];
        for (byte, pair) in digest.iter_mut().zip(hex.chunks_exact(2)) {
            let text = std::str::from_utf8(pair).ok()?;
            *byte = u8::from_str_radix(text, 16).ok()?;
        }
        Some(AdminToken { digest })
    }

    /// Whether `presented` is the token. Compares digests of fixed length in constant time, so the
    /// time taken says nothing of how much of a guess was right.
    pub fn matches(&self, presented: &str) -> bool {
        let presented: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        let difference = self.digest.iter().zip(presented.iter()).fold(0u8, |acc, (a, b)| acc | (a ^ b));
        std::hint::black_box(difference) == 0
    }
}

/// What the log endpoints and the sampler run with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogApiSettings {
    /// `None`: the log endpoints answer 403.
    pub admin_token: Option<AdminToken>,
    pub queue_sample_interval: Duration,
}

impl Default for LogApiSettings {
    fn default() -> Self {
        LogApiSettings { admin_token: None, queue_sample_interval: Duration::from_secs(defaults::QUEUE_SAMPLE_SECONDS) }
    }
}

impl LogApiSettings {
    /// Reads the environment; each problem is added to `problems` (the daemon then does not start).
    pub fn from_env(env: EnvLookup<'_>, problems: &mut Vec<String>) -> LogApiSettings {
        let set = |name: &str| env(name).filter(|value| !value.trim().is_empty());
        let admin_token = match (set(env::ADMIN_TOKEN), set(env::ADMIN_TOKEN_SHA256)) {
            (Some(_), Some(_)) => {
                problems.push(format!("set {} or {}, not both", env::ADMIN_TOKEN, env::ADMIN_TOKEN_SHA256));
                None
            }
            (Some(token), None) if token.trim().chars().count() < defaults::MIN_TOKEN_CHARS => {
                problems.push(format!(
                    "{} is too short: use at least {} characters (e.g. `openssl rand -hex 16`)",
                    env::ADMIN_TOKEN,
                    defaults::MIN_TOKEN_CHARS
                ));
                None
            }
            (Some(token), None) => Some(AdminToken::from_token(token.trim())),
            (None, Some(hex)) => {
                let token = AdminToken::from_sha256_hex(&hex);
                if token.is_none() {
                    problems.push(format!(
                        "{} must be 64 hex digits (the SHA-256 of the token: `printf %s TOKEN | sha256sum`)",
                        env::ADMIN_TOKEN_SHA256
                    ));
                }
                token
            }
            (None, None) => None,
        };
        let queue_sample_interval = match set(env::QUEUE_SAMPLE_SECONDS) {
            None => Duration::from_secs(defaults::QUEUE_SAMPLE_SECONDS),
            Some(text) => match text.trim().parse::<u64>() {
                Ok(seconds) if defaults::QUEUE_SAMPLE_SECONDS_RANGE.contains(&seconds) => Duration::from_secs(seconds),
                _ => {
                    problems.push(format!(
                        "{} must be a whole number of seconds from {} to {}",
                        env::QUEUE_SAMPLE_SECONDS,
                        defaults::QUEUE_SAMPLE_SECONDS_RANGE.start(),
                        defaults::QUEUE_SAMPLE_SECONDS_RANGE.end()
                    ));
                    Duration::from_secs(defaults::QUEUE_SAMPLE_SECONDS)
                }
            },
        };
        LogApiSettings { admin_token, queue_sample_interval }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "0123456789abcdef0123456789abcdef";

    fn resolve(pairs: &[(&str, &str)]) -> (LogApiSettings, Vec<String>) {
        let lookup = |name: &str| pairs.iter().find(|(key, _)| *key == name).map(|(_, value)| (*value).to_owned());
        let mut problems = Vec::new();
        let settings = LogApiSettings::from_env(&lookup, &mut problems);
        (settings, problems)
    }

    #[test]
    fn a_token_or_its_digest_enables_the_endpoints() {
        let (settings, problems) = resolve(&[(env::ADMIN_TOKEN, TOKEN)]);
        assert!(problems.is_empty(), "{problems:?}");
        let token = settings.admin_token.unwrap_or_else(|| AdminToken::from_token("other"));
        assert!(token.matches(TOKEN));
        assert!(!token.matches("0123456789abcdef0123456789abcdeF"));
        assert!(!format!("{token:?}").contains(TOKEN));
        let digest: String = Sha256::digest(TOKEN.as_bytes()).iter().map(|b| format!("{b:02X}")).collect();
        let (settings, problems) = resolve(&[(env::ADMIN_TOKEN_SHA256, &digest)]);
        assert!(problems.is_empty(), "{problems:?}");
        assert!(settings.admin_token.is_some_and(|token| token.matches(TOKEN)));
        let (settings, problems) = resolve(&[]);
        assert!(problems.is_empty() && settings == LogApiSettings::default());
    }

    #[test]
    fn weak_or_ambiguous_settings_stop_the_start() {
        let (_, problems) = resolve(&[(env::ADMIN_TOKEN, "tiny-secret")]);
        assert!(problems[0].contains("too short"), "{problems:?}");
        assert!(!problems[0].contains("tiny-secret"), "the token is not repeated: {problems:?}");
        let (_, problems) = resolve(&[(env::ADMIN_TOKEN, TOKEN), (env::ADMIN_TOKEN_SHA256, "ab")]);
        assert!(problems[0].contains("not both"), "{problems:?}");
        let (_, problems) = resolve(&[(env::ADMIN_TOKEN_SHA256, "xyz")]);
        assert!(problems[0].contains("64 hex digits"), "{problems:?}");
        let (_, problems) = resolve(&[(env::QUEUE_SAMPLE_SECONDS, "0")]);
        assert!(problems[0].contains(env::QUEUE_SAMPLE_SECONDS), "{problems:?}");
        let (settings, problems) = resolve(&[(env::QUEUE_SAMPLE_SECONDS, "5")]);
        assert!(problems.is_empty() && settings.queue_sample_interval == Duration::from_secs(5));
    }
}
