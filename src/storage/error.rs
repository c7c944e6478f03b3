//! Errors of the store.
//!
//! Why a redacted Display: database messages can quote the values of a row (a member's name, a
//! date of birth), and these errors reach logs. Display therefore names only the operation and the
//! kind of failure (SQLSTATE code, I/O kind ...); the driver's error stays reachable through
//! [`StoreError::driver_error`] for a developer who needs it, but is not an error `source`, so a
//! `{:#}` chain does not print it either.

use thiserror::Error;

/// What went wrong in a store operation. Display never contains row values.
#[derive(Debug, Error)]
pub enum StoreError {
    /// Optimistic concurrency: the stored case is not at the version the caller read.
    #[error("case {case_id} was changed concurrently: expected version {expected}, found {actual}")]
    Conflict { case_id: String, expected: i64, actual: i64 },

    /// A unique key already exists (`what` names the key, never its value).
    #[error("duplicate {what}")]
    Duplicate { what: &'static str },

    /// The row to change does not exist (`what` names the kind of row).
    #[error("{what} not found")]
    NotFound { what: &'static str },

    /// The database refused or failed an operation.
    #[error("database error during {operation}: {summary}")]
    Database {
        operation: &'static str,
        summary: String,
        // Not a #[source]: its Display may quote row values.
        driver: Box<sqlx::Error>,
    },

    /// Applying the schema migrations failed.
    #[error("database migration failed: {summary}")]
    Migration { summary: String },

    /// The database URL is not one the store understands. The URL itself is not repeated: it may
    /// hold a password.
    #[error("bad database URL: {reason}")]
    BadUrl { reason: &'static str },

    /// Preparing the database location failed (creating the SQLite file's directory).
    #[error("cannot prepare the database location: {kind}")]
    Location { kind: std::io::ErrorKind },

    /// A sequence was advanced by another writer since this one read it (see
    /// `storage::sequences`): nothing was written; read the sequences again and redo the work.
    #[error("sequence {name} was advanced by another writer")]
    SequenceMoved { name: &'static str },

    /// The interchange was answered by another writer (another worker or instance) first: nothing
    /// was written; its stored answers are the answers.
    #[error("the interchange was already answered by another writer")]
    AlreadyRecorded,

    /// A stored value could not be read back (a corrupt or foreign row).
    #[error("stored {what} is not readable")]
    Corrupt { what: &'static str },
}

impl StoreError {
    /// The driver's own error, when there is one. Its Display may contain row values: do not log it.
    pub fn driver_error(&self) -> Option<&sqlx::Error> {
        match self {
            StoreError::Database { driver, .. } => Some(driver),
            _ => None,
        }
    }

    /// Wraps a driver error met during `operation`.
    pub(crate) fn database(operation: &'static str, error: sqlx::Error) -> StoreError {
        StoreError::Database { operation, summary: summarize(&error), driver: Box::new(error) }
    }

    /// Wraps a migration failure.
    pub(crate) fn migration(error: &sqlx::migrate::MigrateError) -> StoreError {
        use sqlx::migrate::MigrateError;
        let summary = match error {
            MigrateError::Execute(inner) => format!("executing a migration: {}", summarize(inner)),
            MigrateError::ExecuteMigration(inner, version) => {
                format!("executing migration {version}: {}", summarize(inner))
            }
            MigrateError::VersionMissing(version) => {
                format!("migration {version} was applied but is missing from this build")
            }
            MigrateError::VersionMismatch(version) => format!("migration {version} was changed after it was applied"),
            MigrateError::Dirty(version) => format!("migration {version} is partially applied"),
            // The remaining variants carry no row values.
            other => other.to_string(),
        };
        StoreError::Migration { summary }
    }
}

/// A description of a driver error that never contains row values.
pub(crate) fn summarize(error: &sqlx::Error) -> String {
    match error {
        sqlx::Error::Database(db) => match db.code() {
            Some(code) => format!("database refused the statement (code {code})"),
            None => "database refused the statement".to_owned(),
        },
        sqlx::Error::Io(io) => format!("I/O error ({})", io.kind()),
        sqlx::Error::Tls(_) => "TLS error".to_owned(),
        sqlx::Error::PoolTimedOut => "timed out waiting for a connection".to_owned(),
        sqlx::Error::PoolClosed => "the store is closed".to_owned(),
        sqlx::Error::RowNotFound => "row not found".to_owned(),
        sqlx::Error::ColumnNotFound(column) => format!("column {column} not found"),
        sqlx::Error::ColumnDecode { index, .. } => format!("column {index} not decodable"),
        sqlx::Error::Configuration(_) => "configuration error".to_owned(),
        sqlx::Error::Protocol(_) => "protocol error".to_owned(),
        _ => "driver error".to_owned(),
    }
}

/// The name of the unique key a driver error violates, when it is a unique violation.
///
/// PostgreSQL reports the constraint name; SQLite reports "UNIQUE constraint failed: table.column"
/// (column names only). Both are matched against the known keys of the schema.
pub(crate) fn unique_violation(error: &sqlx::Error) -> Option<&'static str> {
    let sqlx::Error::Database(db) = error else { return None };
    if !db.is_unique_violation() {
        return None;
    }
    let text = db.constraint().map(str::to_owned).unwrap_or_else(|| db.message().to_owned());
    let what = if text.contains("authorization_number") {
        "authorization number"
    } else if text.contains("case_events") {
        "case event (case id, seq)"
    } else if text.contains("timers") {
        "timer id"
    } else if text.contains("cases") {
        "case id"
    } else if text.contains("sequences") {
        "sequence name"
    } else if text.contains("members") {
        "member id"
    } else {
        "key"
    };
    Some(what)
}

/// Maps a write error: unique violations become [`StoreError::Duplicate`].
pub(crate) fn write_error(operation: &'static str, error: sqlx::Error) -> StoreError {
    match unique_violation(&error) {
        Some(what) => StoreError::Duplicate { what },
        None => StoreError::database(operation, error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conflict_names_versions_and_case() {
        let error = StoreError::Conflict { case_id: "C-1".into(), expected: 3, actual: 4 };
        assert_eq!(error.to_string(), "case C-1 was changed concurrently: expected version 3, found 4");
    }

    #[test]
    fn database_error_display_hides_driver_text() {
        let driver = sqlx::Error::Protocol("value 'Jane Doe 1980-02-03' rejected".into());
        let error = StoreError::database("insert case", driver);
        let shown = error.to_string();
        assert!(!shown.contains("Jane"), "{shown}");
        assert!(!shown.contains("1980"), "{shown}");
        assert!(shown.contains("insert case"), "{shown}");
        assert!(error.driver_error().is_some());
        assert!(std::error::Error::source(&error).is_none());
    }

    #[test]
    fn bad_url_does_not_repeat_the_url() {
        let error = StoreError::BadUrl { reason: "unknown scheme" };
        assert_eq!(error.to_string(), "bad database URL: unknown scheme");
    }
}
