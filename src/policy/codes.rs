//! Service and diagnosis code patterns of the configuration.
//!
//! Why: programs are routed by code (SPEC section 8), written in configuration as exact codes,
//! prefixes (`RC*`) and ranges (`77261-77799`, `J9000-J9999`). Parsing them once at load time
//! lets the loader reject malformed patterns and overlaps between programs of one plan, and
//! keeps matching a simple comparison.

use std::fmt;

/// One parsed code pattern. Codes are compared upper-case, with surrounding blanks removed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CodePattern {
    Exact(String),
    Prefix(String),
    /// Inclusive; both ends have the same length and the same non-digit prefix.
    Range {
        low: String,
        high: String,
    },
}

/// Why a pattern could not be parsed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CodePatternError {
    #[error("empty code")]
    Empty,
    #[error("code `{0}` may contain only letters and digits (and `*` at the end, or one `-` for a range)")]
    BadCharacters(String),
    #[error("range `{0}`: both ends must have the same length")]
    RangeLength(String),
    #[error("range `{0}`: both ends must share the same letters before the digits")]
    RangePrefix(String),
    #[error("range `{0}`: the low end is above the high end")]
    RangeOrder(String),
}

/// Upper-cases and trims a service code the way patterns are compared.
pub fn normalize_code(code: &str) -> String {
    code.trim().to_ascii_uppercase()
}

/// Normalizes an ICD-10 diagnosis code: upper-case, without the dot (X12 HI sends `C50911`
/// where people write `C50.911`).
pub fn normalize_diagnosis(code: &str) -> String {
    code.trim().chars().filter(|c| *c != '.').map(|c| c.to_ascii_uppercase()).collect()
}

/// Whether `diagnosis` starts with `prefix`, both compared without dots and case.
pub fn diagnosis_matches(prefix: &str, diagnosis: &str) -> bool {
    normalize_diagnosis(diagnosis).starts_with(&normalize_diagnosis(prefix))
}

fn is_code(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric())
}

fn letter_prefix(s: &str) -> &str {
    let end = s.find(|c: char| c.is_ascii_digit()).unwrap_or(s.len());
    &s[..end]
}

impl CodePattern {
    /// Parses `J9263`, `RC*` or `77261-77799`.
    pub fn parse(text: &str) -> Result<Self, CodePatternError> {
        let text = normalize_code(text);
        if text.is_empty() {
            return Err(CodePatternError::Empty);
        }
        if let Some(prefix) = text.strip_suffix('*') {
            return if is_code(prefix) {
                Ok(Self::Prefix(prefix.to_owned()))
            } else {
                Err(CodePatternError::BadCharacters(text.clone()))
            };
        }
        if let Some((low, high)) = text.split_once('-') {
            let (low, high) = (low.trim(), high.trim());
            if !is_code(low) || !is_code(high) {
                return Err(CodePatternError::BadCharacters(text.clone()));
            }
            if low.len() != high.len() {
                return Err(CodePatternError::RangeLength(text.clone()));
            }
            if letter_prefix(low) != letter_prefix(high) {
                return Err(CodePatternError::RangePrefix(text.clone()));
            }
            if low > high {
                return Err(CodePatternError::RangeOrder(text.clone()));
            }
            return Ok(Self::Range { low: low.to_owned(), high: high.to_owned() });
        }
        if is_code(&text) { Ok(Self::Exact(text)) } else { Err(CodePatternError::BadCharacters(text)) }
    }

    /// Whether a (normalized) code matches.
    pub fn matches(&self, code: &str) -> bool {
        match self {
            Self::Exact(exact) => exact == code,
            Self::Prefix(prefix) => code.starts_with(prefix.as_str()),
            Self::Range { low, high } => {
                code.len() == low.len()
                    && letter_prefix(code) == letter_prefix(low)
                    && low.as_str() <= code
                    && code <= high.as_str()
            }
        }
    }

    /// Whether some code could match both patterns.
    pub fn overlaps(&self, other: &CodePattern) -> bool {
        match (self, other) {
            (Self::Exact(a), b) | (b, Self::Exact(a)) => b.matches(a),
            (Self::Prefix(a), Self::Prefix(b)) => a.starts_with(b.as_str()) || b.starts_with(a.as_str()),
            (Self::Prefix(p), Self::Range { low, high }) | (Self::Range { low, high }, Self::Prefix(p)) => {
                // Codes of the range's length starting with p exist in [low, high] exactly when
                // the range's ends, cut to p's length, surround p.
                p.len() <= low.len() && &high[..p.len()] >= p.as_str() && &low[..p.len()] <= p.as_str()
            }
            (Self::Range { low: l1, high: h1 }, Self::Range { low: l2, high: h2 }) => {
                l1.len() == l2.len() && letter_prefix(l1) == letter_prefix(l2) && l1 <= h2 && l2 <= h1
            }
        }
    }
}

impl fmt::Display for CodePattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Exact(code) => f.write_str(code),
            Self::Prefix(prefix) => write!(f, "{prefix}*"),
            Self::Range { low, high } => write!(f, "{low}-{high}"),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn p(s: &str) -> CodePattern {
        CodePattern::parse(s).unwrap()
    }

    #[test]
    fn parses_the_three_forms() {
        assert_eq!(p(" j9263 "), CodePattern::Exact("J9263".into()));
        assert_eq!(p("RC*"), CodePattern::Prefix("RC".into()));
        assert_eq!(p("77261-77799"), CodePattern::Range { low: "77261".into(), high: "77799".into() });
    }

    #[test]
    fn rejects_malformed_patterns() {
        assert_eq!(CodePattern::parse(""), Err(CodePatternError::Empty));
        assert!(matches!(CodePattern::parse("J9-J99"), Err(CodePatternError::RangeLength(_))));
        assert!(matches!(CodePattern::parse("J9000-Q9999"), Err(CodePatternError::RangePrefix(_))));
        assert!(matches!(CodePattern::parse("77799-77261"), Err(CodePatternError::RangeOrder(_))));
        assert!(matches!(CodePattern::parse("J 9"), Err(CodePatternError::BadCharacters(_))));
        assert!(matches!(CodePattern::parse("*"), Err(CodePatternError::BadCharacters(_))));
    }

    #[test]
    fn ranges_match_same_shape_codes_only() {
        let range = p("J9000-J9999");
        assert!(range.matches("J9263"));
        assert!(!range.matches("J0640"));
        assert!(!range.matches("J92630"));
        assert!(!p("77261-77799").matches("77065"));
        assert!(p("77261-77799").matches("77799"));
        assert!(p("RC*").matches("RC123"));
        assert!(!p("RC*").matches("R123"));
    }

    #[test]
    fn overlaps_are_detected_between_all_forms() {
        assert!(p("J9000-J9999").overlaps(&p("J9263")));
        assert!(p("J9263").overlaps(&p("J9000-J9999")));
        assert!(!p("J9000-J9999").overlaps(&p("J0640")));
        assert!(p("64483-64495").overlaps(&p("64490-64500")));
        assert!(!p("64483-64495").overlaps(&p("64633-64636")));
        assert!(p("RC*").overlaps(&p("RC1")));
        assert!(p("R*").overlaps(&p("RC*")));
        assert!(!p("RC*").overlaps(&p("MSM*")));
        assert!(p("77*").overlaps(&p("77261-77799")));
        assert!(p("7726*").overlaps(&p("77261-77799")));
        assert!(!p("78*").overlaps(&p("77261-77799")));
        assert!(!p("J1*").overlaps(&p("J9000-J9999")));
    }

    #[test]
    fn diagnoses_match_with_or_without_dot() {
        assert!(diagnosis_matches("C50", "C50.911"));
        assert!(diagnosis_matches("C18", "c184"));
        assert!(diagnosis_matches("Z94.84", "Z9484"));
        assert!(!diagnosis_matches("C50", "C34.90"));
    }
}
