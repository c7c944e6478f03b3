//! The mailboxes' settings: how often inboxes are polled, how long a job's lease lasts, how often
//! due timers and later 278 responses are handled, how many attempts a job gets.
//!
//! Where from: the configuration's `[mailbox]` section, overridden per instance by the
//! `UMGATE_MAILBOX_` variables (a test shortens the lease to seconds, an operator lengthens the
//! poll interval on one instance), else the defaults. Each value is checked against its range at
//! start, and a bad one stops the daemon with the variable or key named and what to do.

use std::time::Duration;

/// The environment variables read here.
pub mod env {
    pub const POLL_MILLISECONDS: &str = "UMGATE_MAILBOX_POLL_MILLISECONDS";
    pub const LEASE_SECONDS: &str = "UMGATE_MAILBOX_LEASE_SECONDS";
    pub const HOUSEKEEPING_SECONDS: &str = "UMGATE_MAILBOX_HOUSEKEEPING_SECONDS";
    pub const MAX_ATTEMPTS: &str = "UMGATE_MAILBOX_MAX_ATTEMPTS";
    /// The fixed-time test mode of the other commands (`YYYY-MM-DDTHH:MM`): answers dated so.
    pub const FIXED_TIME: &str = "UMGATE_FIXED_TIME";
}

/// Defaults: a file dropped is picked up within a second; a lease outlives a renewal missed
/// twice (renewed every third of it); timers and notifications every half minute.
pub mod defaults {
    pub const POLL_MILLISECONDS: u64 = 1000;
    pub const LEASE_SECONDS: u64 = 60;
    pub const HOUSEKEEPING_SECONDS: u64 = 30;
    pub const MAX_ATTEMPTS: u64 = 5;
}

/// `[mailbox]` as written in the configuration (every key optional).
#[derive(serde::Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct MailboxSection {
    pub poll_milliseconds: Option<u64>,
    pub lease_seconds: Option<u64>,
    pub housekeeping_seconds: Option<u64>,
    pub max_attempts: Option<u64>,
}

/// The effective settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailboxConfig {
    pub poll_interval: Duration,
    pub lease: Duration,
    pub housekeeping_interval: Duration,
    /// A job whose processing failed (database errors) this many times is moved to failed/.
    pub max_attempts: u32,
    /// Test mode: the UM clock and the answers' envelope time.
    pub fixed_time: Option<chrono::NaiveDateTime>,
}

impl Default for MailboxConfig {
    fn default() -> Self {
        MailboxConfig {
            poll_interval: Duration::from_millis(defaults::POLL_MILLISECONDS),
            lease: Duration::from_secs(defaults::LEASE_SECONDS),
            housekeeping_interval: Duration::from_secs(defaults::HOUSEKEEPING_SECONDS),
            max_attempts: 5,
            fixed_time: None,
        }
    }
}

impl MailboxConfig {
    /// The settings from `lookup` (the process environment in the daemon), else the file's
    /// `[mailbox]`, else the defaults; every problem is reported at once.
    pub fn resolve(file: &MailboxSection, lookup: &dyn Fn(&str) -> Option<String>) -> Result<MailboxConfig, String> {
        let mut problems = Vec::new();
        let mut number = |name: &str, key: (&str, Option<u64>), default: u64, range: std::ops::RangeInclusive<u64>| {
            let Some(text) = lookup(name).filter(|text| !text.trim().is_empty()) else {
                return match key.1 {
                    Some(value) if range.contains(&value) => value,
                    Some(value) => {
                        problems.push(format!(
                            "[mailbox] {} = {value}: expected a whole number from {} to {} (correct it, or remove it \
                             for {default})",
                            key.0,
                            range.start(),
                            range.end()
                        ));
                        default
                    }
                    None => default,
                };
            };
            match text.trim().parse::<u64>() {
                Ok(value) if range.contains(&value) => value,
                _ => {
                    problems.push(format!(
                        "environment {name}=`{text}`: expected a whole number from {} to {} (correct it, or unset \
                         {name} for {default})",
                        range.start(),
                        range.end()
                    ));
                    default
                }
            }
        };
        let poll = number(
            env::POLL_MILLISECONDS,
            ("poll_milliseconds", file.poll_milliseconds),
            defaults::POLL_MILLISECONDS,
            10..=3_600_000,
        );
        let lease =
            number(env::LEASE_SECONDS, ("lease_seconds", file.lease_seconds), defaults::LEASE_SECONDS, 1..=86_400);
        let housekeeping = number(
            env::HOUSEKEEPING_SECONDS,
            ("housekeeping_seconds", file.housekeeping_seconds),
            defaults::HOUSEKEEPING_SECONDS,
            1..=86_400,
        );
        let attempts = number(env::MAX_ATTEMPTS, ("max_attempts", file.max_attempts), defaults::MAX_ATTEMPTS, 1..=1000);
        let fixed_time = match lookup(env::FIXED_TIME).filter(|text| !text.trim().is_empty()) {
            None => None,
            Some(text) => match chrono::NaiveDateTime::parse_from_str(text.trim(), "%Y-%m-%dT%H:%M") {
                Ok(at) => Some(at),
                Err(_) => {
                    problems.push(format!("environment {}=`{text}`: expected YYYY-MM-DDTHH:MM", env::FIXED_TIME));
                    None
                }
            },
        };
        if !problems.is_empty() {
            return Err(problems.join("\n"));
        }
        Ok(MailboxConfig {
            poll_interval: Duration::from_millis(poll),
            lease: Duration::from_secs(lease),
            housekeeping_interval: Duration::from_secs(housekeeping),
            max_attempts: u32::try_from(attempts).unwrap_or(5),
            fixed_time,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| pairs.iter().find(|(key, _)| *key == name).map(|(_, value)| (*value).to_owned())
    }

    #[test]
    fn defaults_and_overrides() {
        let none = MailboxSection::default();
        assert_eq!(MailboxConfig::resolve(&none, &lookup(&[])), Ok(MailboxConfig::default()));
        let file = MailboxSection { lease_seconds: Some(30), max_attempts: Some(2), ..MailboxSection::default() };
        let env = lookup(&[(env::LEASE_SECONDS, "3"), (env::POLL_MILLISECONDS, "50")]);
        let config = MailboxConfig::resolve(&file, &env).unwrap_or_default();
        assert_eq!((config.lease, config.poll_interval), (Duration::from_secs(3), Duration::from_millis(50)));
        assert_eq!(config.max_attempts, 2, "the file's value where the environment sets none");
    }

    #[test]
    fn every_bad_value_is_named() {
        let file = MailboxSection { housekeeping_seconds: Some(0), ..MailboxSection::default() };
        let error = MailboxConfig::resolve(
            &file,
            &lookup(&[(env::LEASE_SECONDS, "0"), (env::POLL_MILLISECONDS, "fast"), (env::FIXED_TIME, "noon")]),
        )
        .err()
        .unwrap_or_default();
        assert!(error.contains("UMGATE_MAILBOX_LEASE_SECONDS=`0`: expected a whole number from 1 to 86400"), "{error}");
        assert!(error.contains("UMGATE_MAILBOX_POLL_MILLISECONDS=`fast`"), "{error}");
        assert!(error.contains("UMGATE_FIXED_TIME=`noon`: expected YYYY-MM-DDTHH:MM"), "{error}");
        assert!(
            error.contains("[mailbox] housekeeping_seconds = 0: expected a whole number from 1 to 86400"),
            "{error}"
        );
    }
}
