//! Who is calling: trading partners authenticated with HTTP Basic against the `[[partners]]`
//! credentials of the configuration (`http_username`, `http_password_hash`, an argon2 PHC string).
//!
//! Why this shape: any handler that takes an [`AuthenticatedPartner`] argument is closed to
//! anyone else (the real-time endpoints here, the HTTP batch routes of the mailboxes), so the
//! directory travels as a request extension set once on the router, not in each router's state.
//!
//! Security rules: a wrong or missing credential is a 401 JSON with `WWW-Authenticate`; the log
//! line of a failure names the user name tried, never the password. An unknown user name costs
//! the same argon2 verification as a wrong password (against a hash made at start with the same
//! parameters), so the answer time does not tell which user names exist. Argon2 is deliberately
//! slow (tens of milliseconds of CPU and 19 MiB): after one successful verification the daemon
//! remembers a keyed SHA-256 of the password (its key random per process, never stored), so a
//! partner's next requests are checked in microseconds; a wrong password never matches the
//! remembered digest and always pays the full argon2 price. Verifications run on the blocking
//! pool, at most as many at once as there are cores, so a flood of bad passwords cannot take all
//! the memory.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use argon2::Argon2;
use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use sha2::{Digest, Sha256};

use super::http::json_error;
use crate::policy::model::PartnerSettings;

/// The realm announced in `WWW-Authenticate`.
const REALM: &str = "Basic realm=\"umgate\", charset=\"UTF-8\"";

/// A trading partner whose HTTP credentials were verified for this request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthenticatedPartner {
    /// The partner's `key` in the configuration.
    pub key: String,
    /// The ISA06 sender IDs the partner may send with; empty: any.
    pub sender_ids: Arc<[String]>,
}

impl AuthenticatedPartner {
    /// Whether this partner may send interchanges with this ISA06 (trimmed).
    pub fn allows_sender(&self, isa06: &str) -> bool {
        let isa06 = isa06.trim();
        self.sender_ids.is_empty() || self.sender_ids.iter().any(|id| id.trim() == isa06)
    }
}

/// Hashes a password for `http_password_hash`: argon2id with the crate's default parameters (the
/// ones the daemon's decoy hash uses) and a random salt.
pub fn hash_password(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(Argon2::default().hash_password(password.as_bytes(), &salt)?.to_string())
}

#[derive(Debug)]
struct Account {
    key: String,
    sender_ids: Arc<[String]>,
    phc: String,
}

/// The partners that have HTTP credentials, and what was verified already.
#[derive(Debug, Clone)]
pub struct PartnerDirectory {
    inner: Arc<Directory>,
}

#[derive(Debug)]
struct Directory {
    by_username: HashMap<String, Account>,
    /// Verified against for unknown user names, so that they cost what a wrong password costs.
    decoy_phc: String,
    /// Per-process random key of the remembered digests.
    digest_key: [u8; 32],
    /// User name → keyed digest of the password last verified for it.
    verified: Mutex<HashMap<String, [u8; 32]>>,
    /// Bounds the argon2 verifications running at once.
    verifications: tokio::sync::Semaphore,
}

/// Why a request is not let in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No `Authorization: Basic` header, or one that cannot be read.
    Missing,
    /// Unknown user name or wrong password (not told apart).
    Wrong,
}

impl PartnerDirectory {
    /// The partners of the configuration that have `http_username` and `http_password_hash`
    /// (checked by the configuration loader).
    pub fn new(partners: &[PartnerSettings]) -> Self {
        let by_username = partners
            .iter()
            .filter_map(|partner| {
                let username = partner.http_username.as_ref()?.get_ref().clone();
                let phc = partner.http_password_hash.as_ref()?.get_ref().clone();
                let sender_ids: Arc<[String]> = partner.sender_ids.iter().map(|id| id.trim().to_owned()).collect();
                Some((username, Account { key: partner.key.get_ref().clone(), sender_ids, phc }))
            })
            .collect();
        let mut digest_key = [0u8; 32];
        OsRng.fill_bytes(&mut digest_key);
        let mut decoy = [0u8; 24];
        OsRng.fill_bytes(&mut decoy);
        let decoy_phc = hash_password(&base64::engine::general_purpose::STANDARD.encode(decoy)).unwrap_or_default();
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        PartnerDirectory {
            inner: Arc::new(Directory {
                by_username,
                decoy_phc,
                digest_key,
                verified: Mutex::new(HashMap::new()),
                verifications: tokio::sync::Semaphore::new(cores),
            }),
        }
    }

    /// How many partners can log in.
    pub fn len(&self) -> usize {
        self.inner.by_username.len()
    }

    pub fn is_empty(&self) -> bool {
        self.inner.by_username.is_empty()
    }

    /// Checks the value of an `Authorization` header.
    pub async fn authenticate(&self, authorization: Option<&str>) -> Result<AuthenticatedPartner, Refusal> {
        let (username, password) = authorization.and_then(basic_credentials).ok_or(Refusal::Missing)?;
        self.authenticate_pair(username, password).await
    }

    /// Checks a user name and password (from HTTP Basic, or the fields of a CORE envelope).
    pub async fn authenticate_pair(&self, username: String, password: String) -> Result<AuthenticatedPartner, Refusal> {
        let directory = &self.inner;
        let digest = keyed_digest(&directory.digest_key, &username, &password);
        let account = directory.by_username.get(&username);
        if let Some(account) = account {
            let remembered = directory.verified.lock().map(|verified| verified.get(&username).copied()).ok().flatten();
            if remembered.is_some_and(|known| constant_time_eq(&known, &digest)) {
                return Ok(AuthenticatedPartner { key: account.key.clone(), sender_ids: account.sender_ids.clone() });
            }
        }
        let phc = account.map_or_else(|| directory.decoy_phc.clone(), |account| account.phc.clone());
        let permit = directory.verifications.acquire().await.map_err(|_| Refusal::Wrong)?;
        let verified = tokio::task::spawn_blocking(move || {
            PasswordHash::new(&phc)
                .is_ok_and(|hash| Argon2::default().verify_password(password.as_bytes(), &hash).is_ok())
        })
        .await
        .unwrap_or(false);
        drop(permit);
        match account {
            Some(account) if verified => {
                if let Ok(mut remembered) = directory.verified.lock() {
                    remembered.insert(username, digest);
                }
                Ok(AuthenticatedPartner { key: account.key.clone(), sender_ids: account.sender_ids.clone() })
            }
            _ => Err(Refusal::Wrong),
        }
    }

    /// Lets a request in with these credentials (user name, password), or answers it with a 401
    /// and logs the failure (the user name tried, never the password).
    pub async fn admit(&self, credentials: Option<(String, String)>) -> Result<AuthenticatedPartner, Response> {
        let Some((username, password)) = credentials else {
            return Err(unauthorized("HTTP Basic credentials of a trading partner are required"));
        };
        let shown = loggable(&username);
        match self.authenticate_pair(username, password).await {
            Ok(partner) => {
                tracing::debug!(partner = %partner.key, "partner authenticated");
                Ok(partner)
            }
            Err(_) => {
                tracing::warn!(username = %shown, "partner authentication failed");
                Err(unauthorized("unknown user name or wrong password"))
            }
        }
    }
}

/// The user name and password of `Basic <base64(user:password)>`.
pub fn basic_credentials(value: &str) -> Option<(String, String)> {
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (username, password) = text.split_once(':')?;
    Some((username.to_owned(), password.to_owned()))
}

fn keyed_digest(key: &[u8; 32], username: &str, password: &str) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(key);
    hasher.update((username.len() as u64).to_be_bytes());
    hasher.update(username.as_bytes());
    hasher.update(password.as_bytes());
    hasher.finalize().into()
}

fn constant_time_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |difference, (x, y)| difference | (x ^ y)) == 0
}

/// A user name as it may appear in a log line: printable, at most 64 characters.
fn loggable(username: &str) -> String {
    username.chars().filter(|c| !c.is_control()).take(64).collect()
}

/// The 401 answer: JSON, with the challenge.
pub fn unauthorized(message: &str) -> Response {
    let mut response = json_error(StatusCode::UNAUTHORIZED, "unauthorized", message);
    response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(REALM));
    response
}

impl<S: Send + Sync> FromRequestParts<S> for AuthenticatedPartner {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let Some(directory) = parts.extensions.get::<PartnerDirectory>().cloned() else {
            tracing::error!("partner authentication used on a router without the partner directory");
            return Err(json_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "partner authentication is not set up",
            )
            .into_response());
        };
        let credentials =
            parts.headers.get(header::AUTHORIZATION).and_then(|value| value.to_str().ok()).and_then(basic_credentials);
        directory.admit(credentials).await
    }
}

/// The mailbox batch routes behind partner authentication: the partner directory, then a
/// middleware that authenticates (401 JSON on failure) and hands the batch handlers the
/// partner's key, which they compare with the key in the path (403 on another partner's).
pub fn authenticated_batches(batches: axum::Router, directory: &PartnerDirectory) -> axum::Router {
    // The last layer runs first: the directory is in place before the middleware authenticates.
    batches.layer(axum::middleware::from_fn(hand_over_batch_partner)).layer(axum::Extension(directory.clone()))
}

async fn hand_over_batch_partner(
    partner: AuthenticatedPartner,
    mut request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    request.extensions_mut().insert(crate::server::mailbox::batches::BatchPartner(partner.key));
    next.run(request).await
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn directory(password: &str, sender_ids: &[&str]) -> PartnerDirectory {
        let toml = format!(
            "key = \"demo\"\nsender_ids = {sender_ids:?}\nhttp_username = \"demo\"\nhttp_password_hash = \"{}\"\n",
            hash_password(password).unwrap()
        );
        let partner: PartnerSettings = toml::from_str(&toml).unwrap();
        PartnerDirectory::new(&[partner])
    }

    fn basic(user: &str, password: &str) -> String {
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}")))
    }

    #[tokio::test]
    async fn the_right_password_lets_in_wrong_ones_and_unknown_users_do_not() {
        let directory = directory("s3cret pass", &["SENDER1"]);
        assert_eq!(directory.len(), 1);
        let partner = directory.authenticate(Some(&basic("demo", "s3cret pass"))).await.unwrap();
        assert_eq!(partner.key, "demo");
        assert!(partner.allows_sender("SENDER1        ") && !partner.allows_sender("OTHER"));
        // Remembered: the second time takes the digest path, with the same answer.
        assert_eq!(directory.authenticate(Some(&basic("demo", "s3cret pass"))).await.unwrap(), partner);
        assert_eq!(directory.authenticate(Some(&basic("demo", "s3cret pasS"))).await, Err(Refusal::Wrong));
        assert_eq!(directory.authenticate(Some(&basic("nobody", "s3cret pass"))).await, Err(Refusal::Wrong));
        assert_eq!(directory.authenticate(None).await, Err(Refusal::Missing));
        assert_eq!(directory.authenticate(Some("Bearer abc")).await, Err(Refusal::Missing));
        assert_eq!(directory.authenticate(Some("Basic !!!")).await, Err(Refusal::Missing));
    }

    #[test]
    fn basic_credentials_keep_colons_of_the_password() {
        let value = basic("demo", "a:b:c");
        assert_eq!(basic_credentials(&value), Some(("demo".into(), "a:b:c".into())));
        assert_eq!(basic_credentials(&value.replace("Basic", "basic")), Some(("demo".into(), "a:b:c".into())));
    }

    #[test]
    fn a_partner_without_sender_ids_may_send_with_any() {
        let partner = AuthenticatedPartner { key: "demo".into(), sender_ids: Arc::from(Vec::new()) };
        assert!(partner.allows_sender("ANYONE"));
    }

    #[test]
    fn hashes_are_checked_by_the_configuration_rules() {
        let phc = hash_password("x").unwrap();
        assert!(phc.starts_with("$argon2id$"));
        assert_eq!(crate::policy::credentials::check_password_hash(&phc), Ok(()));
    }
}
