//! Durable storage for the UM engine: cases, their append-only history, timers, sequences and
//! the member roster.
//!
//! Why two backends behind one enum: SQLite is the embedded default (one command starts the
//! daemon), PostgreSQL is production where several instances share one database. Both keep their
//! native types (sqlx's `Any` driver would flatten timestamps and JSON), and [`Store`] dispatches
//! each operation to the one in use. The store works on plain records ([`records`]) and knows
//! nothing of X12 or HTTP; only [`repository`] maps the domain's types onto those records, to
//! implement the domain's `CaseRepository` port.

pub mod error;
pub mod interchanges;
pub mod jobs;
mod line_authorizations;
pub mod log_search;
pub mod notifications;
pub mod postgres;
pub mod prefetch;
pub mod providers;
pub mod queue_depths;
pub mod record;
pub mod records;
pub mod repository;
pub mod sequences;
pub mod sqlite;
mod sqlite_bulk;

use std::path::PathBuf;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use sqlx::postgres::PgConnectOptions;

pub use error::StoreError;
pub use interchanges::{InterchangeEntry, InterchangeRecord, NewInterchange, NewOutput, OutputRecord, Party};
pub use notifications::NotificationRecord;
pub use postgres::PostgresStore;
pub use record::Recording;
pub use records::{
    CaseRecord, EventRecord, JsonDocument, JsonText, MemberRecord, NewCase, NewEvent, NewTimer, TimerRecord,
    to_stored_precision,
};
pub use sequences::Advance;
pub use sqlite::SqliteStore;

/// Which database a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Where a database URL points, parsed. Its Debug form leaves out credentials.
#[derive(Clone)]
pub enum DatabaseLocation {
    /// `sqlite://PATH` (or `sqlite:PATH`): a file, created with its directory when missing.
    Sqlite(PathBuf),
    /// `postgres://…` or `postgresql://…`.
    Postgres(Box<PgConnectOptions>),
}

impl std::fmt::Debug for DatabaseLocation {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DatabaseLocation::Sqlite(path) => formatter.debug_tuple("Sqlite").field(path).finish(),
            DatabaseLocation::Postgres(options) => formatter
                .debug_struct("Postgres")
                .field("host", &options.get_host())
                .field("port", &options.get_port())
                .field("database", &options.get_database())
                .finish_non_exhaustive(),
        }
    }
}

impl DatabaseLocation {
    /// Parses a database URL. Errors never repeat the URL (it may hold a password).
    pub fn parse(url: &str) -> Result<DatabaseLocation, StoreError> {
        if let Some(rest) = url.strip_prefix("sqlite:") {
            let path = rest.strip_prefix("//").unwrap_or(rest);
            if path.contains('?') {
                return Err(StoreError::BadUrl { reason: "SQLite URL options are not supported" });
            }
            if path.is_empty() || path == ":memory:" {
                return Err(StoreError::BadUrl { reason: "a SQLite URL must name a file: sqlite://PATH" });
            }
            return Ok(DatabaseLocation::Sqlite(PathBuf::from(path)));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options =
                PgConnectOptions::from_str(url).map_err(|_| StoreError::BadUrl { reason: "invalid PostgreSQL URL" })?;
            return Ok(DatabaseLocation::Postgres(Box::new(options)));
        }
        Err(StoreError::BadUrl { reason: "unknown scheme: expected sqlite://PATH or postgres://…" })
    }
}

/// The durable store: one of the two backends, chosen by the database URL.
///
/// `Store` also implements the domain's `CaseRepository` port (see [`repository`]). Some of the
/// port's methods share a name with the inherent ones here, which work on records and win in
/// method-call syntax: reach the port's through a generic `R: CaseRepository` or as
/// `CaseRepository::insert_case(&store, …)`.
#[derive(Debug, Clone)]
pub enum Store {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

/// Runs the same call on whichever backend the store uses.
macro_rules! dispatch {
    ($store:expr, $backend:ident => $call:expr) => {
        match $store {
            Store::Sqlite($backend) => $call,
            Store::Postgres($backend) => $call,
        }
    };
}

impl Store {
    /// Opens the database at `url` (`sqlite://PATH` or `postgres://…`) and applies the migrations.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        Store::open(DatabaseLocation::parse(url)?).await
    }

    /// Opens an already parsed location and applies the migrations.
    pub async fn open(location: DatabaseLocation) -> Result<Store, StoreError> {
        Ok(match location {
            DatabaseLocation::Sqlite(path) => Store::Sqlite(SqliteStore::open(&path).await?),
            DatabaseLocation::Postgres(options) => Store::Postgres(PostgresStore::open(*options).await?),
        })
    }

    pub fn backend(&self) -> Backend {
        match self {
            Store::Sqlite(_) => Backend::Sqlite,
            Store::Postgres(_) => Backend::Postgres,
        }
    }

    /// Closes every connection; pending operations finish first.
    pub async fn close(&self) {
        dispatch!(self, store => store.close().await)
    }

    /// Inserts a new case with its first events and timers, in one transaction (events and timers
    /// belong to this case).
    /// [`StoreError::Duplicate`] when the id (or authorization number) already exists.
    pub async fn insert_case(
        &self,
        case: &CaseRecord,
        events: &[NewEvent],
        timers: &[NewTimer],
    ) -> Result<(), StoreError> {
        dispatch!(self, store => store.insert_case(case, events, timers).await)
    }

    /// Inserts many new cases in one transaction (the batch path: one commit instead of one per
    /// case). All or nothing: [`StoreError::Duplicate`] when any id (or authorization number)
    /// already exists, and then none is stored.
    pub async fn insert_cases(&self, batch: &[NewCase]) -> Result<(), StoreError> {
        dispatch!(self, store => store.insert_cases(batch).await)
    }

    /// Replaces a case (with `case.version` as its new version) if and only if the stored version
    /// is `expected_version`, appends `events` to its history, cancels the case's pending timers whose kind is in
    /// `cancel_timer_kinds` (marked cancelled and done at `case.updated_at`) and creates
    /// `new_timers`: all in one transaction.
    ///
    /// [`StoreError::Conflict`] when another writer changed the case first (nothing is written),
    /// [`StoreError::NotFound`] when there is no such case.
    pub async fn update_case(
        &self,
        case: &CaseRecord,
        expected_version: i64,
        events: &[NewEvent],
        new_timers: &[NewTimer],
        cancel_timer_kinds: &[&str],
    ) -> Result<(), StoreError> {
        dispatch!(self, store => store.update_case(case, expected_version, events, new_timers, cancel_timer_kinds).await)
    }

    pub async fn get_case(&self, id: &str) -> Result<Option<CaseRecord>, StoreError> {
        dispatch!(self, store => store.get_case(id).await)
    }

    /// A member's cases, oldest first.
    pub async fn cases_by_member(&self, member_id: &str) -> Result<Vec<CaseRecord>, StoreError> {
        dispatch!(self, store => store.cases_by_member(member_id).await)
    }

    pub async fn case_by_authorization_number(&self, number: &str) -> Result<Option<CaseRecord>, StoreError> {
        dispatch!(self, store => store.case_by_authorization_number(number).await)
    }

    /// Cases in any of `statuses`, most urgent first: by due time (cases without one last), then
    /// by creation time.
    pub async fn review_queue(&self, statuses: &[&str], limit: i64) -> Result<Vec<CaseRecord>, StoreError> {
        dispatch!(self, store => store.review_queue(statuses, limit).await)
    }

    /// A case's history in order of `seq`.
    pub async fn case_events(&self, case_id: &str) -> Result<Vec<EventRecord>, StoreError> {
        dispatch!(self, store => store.case_events(case_id).await)
    }

    /// Leases up to `limit` pending timers due at `now` (never claimed, or whose lease ended before
    /// `now`) to `owner` until `lease_until`, earliest first (then by id). Two claimers never get
    /// the same timer while its lease runs.
    pub async fn claim_due_timers(
        &self,
        now: DateTime<Utc>,
        owner: &str,
        lease_until: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<TimerRecord>, StoreError> {
        dispatch!(self, store => store.claim_due_timers(now, owner, lease_until, limit).await)
    }

    /// Marks a timer done at `at`. `Ok(true)` when this call completed it, `Ok(false)` when it was
    /// already done (completed or cancelled), [`StoreError::NotFound`] when there is no such timer.
    pub async fn complete_timer(&self, id: i64, at: DateTime<Utc>) -> Result<bool, StoreError> {
        dispatch!(self, store => store.complete_timer(id, at).await)
    }

    /// Every timer of a case (pending or done), by fire time.
    pub async fn timers_for_case(&self, case_id: &str) -> Result<Vec<TimerRecord>, StoreError> {
        dispatch!(self, store => store.timers_for_case(case_id).await)
    }

    /// The next value of the named sequence (1, 2, 3 …), unique even across instances.
    pub async fn next_value(&self, name: &str) -> Result<i64, StoreError> {
        dispatch!(self, store => store.next_value(name).await)
    }

    /// Inserts or replaces a roster member (idempotent).
    pub async fn upsert_member(&self, member: &MemberRecord) -> Result<(), StoreError> {
        dispatch!(self, store => store.upsert_member(member).await)
    }

    /// Inserts or replaces many roster members in one transaction (roster import): all or none.
    pub async fn upsert_members(&self, members: &[MemberRecord]) -> Result<(), StoreError> {
        dispatch!(self, store => store.upsert_members(members).await)
    }

    pub async fn get_member(&self, member_id: &str) -> Result<Option<MemberRecord>, StoreError> {
        dispatch!(self, store => store.get_member(member_id).await)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_name_a_file() {
        for (url, path) in [
            ("sqlite://umgate-data/umgate.db", "umgate-data/umgate.db"),
            ("sqlite:///var/lib/umgate/umgate.db", "/var/lib/umgate/umgate.db"),
            ("sqlite:umgate.db", "umgate.db"),
        ] {
            match DatabaseLocation::parse(url) {
                Ok(DatabaseLocation::Sqlite(parsed)) => assert_eq!(parsed, PathBuf::from(path)),
                other => panic!("{url}: {other:?}"),
            }
        }
    }

    #[test]
    fn postgres_urls_are_accepted() {
        assert!(matches!(
            DatabaseLocation::parse("postgres://umgate@db.example:5432/umgate"),
            Ok(DatabaseLocation::Postgres(_))
        ));
        assert!(matches!(DatabaseLocation::parse("postgresql://db.example/umgate"), Ok(DatabaseLocation::Postgres(_))));
    }

    #[tokio::test]
    async fn unreachable_postgres_error_does_not_show_the_password() {
        // Port 1 on loopback refuses at once.
        match Store::connect("postgres://umgate:s3cret@127.0.0.1:1/umgate").await {
            Err(error) => {
                let shown = error.to_string();
                assert!(!shown.contains("s3cret") && !shown.contains("umgate:"), "{shown}");
                assert!(matches!(error, StoreError::Database { .. }), "{shown}");
            }
            Ok(_) => panic!("nothing listens on port 1"),
        }
    }

    #[tokio::test]
    async fn sqlite_file_and_directory_are_created_and_a_blocked_directory_is_reported() {
        let dir = tempfile::tempdir().unwrap_or_else(|error| panic!("{error}"));
        let path = dir.path().join("new").join("deeper").join("umgate.db");
        let store = Store::connect(&format!("sqlite://{}", path.display())).await;
        assert!(store.is_ok_and(|store| store.backend() == Backend::Sqlite) && path.exists());

        let blocker = dir.path().join("a-file");
        std::fs::write(&blocker, b"not a directory").unwrap_or_else(|error| panic!("{error}"));
        let under_file = blocker.join("umgate.db");
        match Store::connect(&format!("sqlite://{}", under_file.display())).await {
            Err(StoreError::Location { .. }) => {}
            other => panic!("expected a location error, got {other:?}"),
        }
    }

    #[test]
    fn debug_form_leaves_out_the_password() {
        let location = DatabaseLocation::parse("postgres://umgate:s3cret@db.example:5433/umgate");
        let shown = format!("{location:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("db.example") && shown.contains("5433"), "{shown}");
    }

    #[test]
    fn bad_urls_are_refused_without_echoing_them() {
        for url in ["mysql://root:s3cret@host/db", "sqlite://", "sqlite::memory:", "sqlite://a.db?mode=ro"] {
            match DatabaseLocation::parse(url) {
                Err(error @ StoreError::BadUrl { .. }) => assert!(!error.to_string().contains("s3cret")),
                other => panic!("{url}: {other:?}"),
            }
        }
    }
}

/// The daemon runs store calls inside spawned tasks and HTTP handlers: every future must be `Send`.
#[cfg(test)]
#[allow(dead_code, clippy::unwrap_used)]
mod send_checks {
    use super::*;

    fn assert_send<T: Send>(_: T) {}

    async fn all_futures_are_send(store: Store, case: CaseRecord, member: MemberRecord) {
        assert_send(store.insert_case(&case, &[], &[]));
        assert_send(store.insert_cases(&[]));
        assert_send(store.update_case(&case, 1, &[], &[], &[]));
        assert_send(store.get_case("id"));
        assert_send(store.cases_by_member("m"));
        assert_send(store.case_by_authorization_number("a"));
        assert_send(store.review_queue(&[], 1));
        assert_send(store.case_events("id"));
        assert_send(store.claim_due_timers(Utc::now(), "o", Utc::now(), 1));
        assert_send(store.complete_timer(1, Utc::now()));
        assert_send(store.timers_for_case("id"));
        assert_send(store.next_value("s"));
        assert_send(store.upsert_member(&member));
        assert_send(store.upsert_members(&[]));
        assert_send(store.get_member("m"));
        assert_send(store.close());
        assert_send(Store::connect("sqlite://x"));
    }
}
