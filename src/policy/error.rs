//! Configuration errors that point at a file, line, column and field.
//!
//! Why: an administrator editing a rule must be told exactly where a mistake is, and all of the
//! mistakes at once, so the loader collects [`ConfigError`]s instead of stopping at the first.

use std::fmt;
use std::path::PathBuf;

use serde::Serialize;

/// One problem in one configuration file. `Display`: `file:line:col: field: message`.
/// Configuration holds no member data, so these are safe to log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConfigError {
    pub file: PathBuf,
    /// 1-based.
    pub line: usize,
    /// 1-based, in characters.
    pub column: usize,
    /// Dotted field path, e.g. `plans.cigna-commercial.programs.medical-oncology.urgent_decision.hours`.
    pub field: String,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: {}: {}", self.file.display(), self.line, self.column, self.field, self.message)
    }
}

/// Why a configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The root file could not be read (missing, permissions): a usage error.
    #[error("cannot read configuration {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The configuration was read but is invalid; every error found is listed.
    #[error("{}", display_errors(.0))]
    Invalid(Vec<ConfigError>),
}

fn display_errors(errors: &[ConfigError]) -> String {
    let mut text = format!("{} configuration error(s)", errors.len());
    for error in errors {
        text.push('\n');
        text.push_str(&error.to_string());
    }
    text
}

/// 1-based line and column (in characters) of a byte offset of `text`.
pub fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_columns_are_one_based() {
        let text = "a = 1\nbé = 2\n";
        assert_eq!(line_and_column(text, 0), (1, 1));
        assert_eq!(line_and_column(text, 6), (2, 1));
        // After the two-byte 'é': third character of line 2.
        assert_eq!(line_and_column(text, 9), (2, 3));
        assert_eq!(line_and_column(text, 1000), (3, 1));
    }

    #[test]
    fn display_is_file_line_column_field_message() {
        let error = ConfigError {
            file: PathBuf::from("samples/plans/cigna.toml"),
            line: 42,
            column: 5,
            field: "plans.x.urgent_decision.hours".into(),
            message: "must be greater than 0".into(),
        };
        assert_eq!(
            error.to_string(),
            "samples/plans/cigna.toml:42:5: plans.x.urgent_decision.hours: must be greater than 0"
        );
    }
}
