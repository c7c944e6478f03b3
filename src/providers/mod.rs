//! The provider registry file (`umgate provider import`): a CSV with the header
//! `npi,name,tin,plans`, one requesting provider per row.
//!
//! - `npi`: the 10-digit NPI, check digit verified (what 2010B NM109 carries with NM108 XX);
//! - `name`: the provider's or organization's name (required);
//! - `tin`: the tax identification number, 9 digits, or empty;
//! - `plans`: the plan keys (of the configuration) the provider is on file with, separated by `;`,
//!   or `*` for every plan.
//!
//! Like the roster: bad rows are reported with their line number and the reason (provider data
//! is public, but the reasons name columns, not values, as the roster's do) and skipped while the
//! good rows still load; importing the same file twice changes nothing (upsert by NPI).

use std::io::Read;

use crate::domain::ProviderRecord;
use crate::domain::rules::eligibility::npi_is_valid;
use crate::roster::RowProblem;
use crate::roster::rows::{FileProblem, Rows};

/// The header the file must start with.
pub const COLUMNS: [&str; 4] = ["npi", "name", "tin", "plans"];

/// The longest name the 278 carries (NM103).
const MAX_NAME: usize = 60;

/// A file that cannot be read as a provider registry at all.
#[derive(Debug, thiserror::Error)]
pub enum ProvidersError {
    #[error("the header must be {expected}", expected = COLUMNS.join(","))]
    Header,
    #[error("the file is empty: expected the header {expected}", expected = COLUMNS.join(","))]
    Empty,
    #[error("reading the provider file: {0}")]
    Io(#[from] std::io::Error),
}

/// What the reader needs of the configuration: whether a plan key exists.
pub trait PlanKeys {
    fn has_plan(&self, plan: &str) -> bool;
}

impl PlanKeys for crate::policy::Policy {
    fn has_plan(&self, plan: &str) -> bool {
        self.plan(plan).is_some()
    }
}

/// Reads registry rows one at a time: each is a provider or a problem.
pub struct ProviderReader<'c, R: Read> {
    rows: Rows<R>,
    plans: &'c dyn PlanKeys,
}

impl<R: Read> std::fmt::Debug for ProviderReader<'_, R> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("ProviderReader").finish_non_exhaustive()
    }
}

impl<'c, R: Read> ProviderReader<'c, R> {
    /// Checks the header and returns a reader of the rows after it.
    pub fn new(input: R, plans: &'c dyn PlanKeys) -> Result<Self, ProvidersError> {
        let rows = Rows::new(input, &COLUMNS).map_err(|problem| match problem {
            FileProblem::Header => ProvidersError::Header,
            FileProblem::Empty => ProvidersError::Empty,
            FileProblem::Io(io) => ProvidersError::Io(io),
        })?;
        Ok(ProviderReader { rows, plans })
    }
}

impl<R: Read> Iterator for ProviderReader<'_, R> {
    type Item = Result<Result<ProviderRecord, RowProblem>, ProvidersError>;

    fn next(&mut self) -> Option<Self::Item> {
        Some(match self.rows.next()? {
            Err(io) => Err(ProvidersError::Io(io)),
            Ok(Err(problem)) => Ok(Err(problem)),
            Ok(Ok((line, record))) => Ok(provider(&record, self.plans).map_err(|reason| RowProblem { line, reason })),
        })
    }
}

/// One row as a provider, or the reason it is refused.
fn provider(record: &csv::StringRecord, keys: &dyn PlanKeys) -> Result<ProviderRecord, String> {
    let field = |index: usize| record.get(index).unwrap_or_default();
    let npi = field(0);
    if !npi_is_valid(npi) {
        return Err("npi must be 10 digits with a valid check digit".into());
    }
    let name = field(1);
    if name.is_empty() || name.chars().count() > MAX_NAME {
        return Err(format!("name must be 1 to {MAX_NAME} characters"));
    }
    let tin = match field(2) {
        "" => None,
        tin if tin.len() == 9 && tin.bytes().all(|b| b.is_ascii_digit()) => Some(tin.to_owned()),
        _ => return Err("tin must be 9 digits or empty".into()),
    };
    let plans = match field(3) {
        "" => return Err("plans is empty: plan keys separated by ';', or '*' for every plan".into()),
        "*" => Vec::new(),
        list => {
            let mut plans: Vec<String> = Vec::new();
            for plan in list.split(';').map(str::trim) {
                if plan.is_empty() || !keys.has_plan(plan) {
                    return Err(format!("plan {plan:?} is not in the configuration"));
                }
                if !plans.iter().any(|known| known == plan) {
                    plans.push(plan.to_owned());
                }
            }
            plans
        }
    };
    Ok(ProviderRecord { npi: npi.to_owned(), name: name.to_owned(), tin, plans })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    struct Plans;
    impl PlanKeys for Plans {
        fn has_plan(&self, plan: &str) -> bool {
            matches!(plan, "cigna-commercial" | "aetna-medicare")
        }
    }

    fn read(body: &str) -> Vec<Result<ProviderRecord, RowProblem>> {
        let text = format!("npi,name,tin,plans\n{body}");
        ProviderReader::new(text.as_bytes(), &Plans).unwrap().map(|row| row.unwrap()).collect()
    }

    #[test]
    fn good_rows_become_providers_for_their_plans_or_every_plan() {
        let rows = read(concat!(
            "1234567893,MARCUS WELBY,361234567,cigna-commercial; aetna-medicare\n",
            "1245319599,LAKESIDE CARE CENTER,,*\n",
        ));
        let first = rows[0].clone().unwrap();
        assert_eq!(first.plans, ["cigna-commercial", "aetna-medicare"]);
        assert!(first.on_file_for("aetna-medicare") && !first.on_file_for("aetna-medicaid"));
        let second = rows[1].clone().unwrap();
        assert_eq!((second.tin.as_deref(), second.plans.len()), (None, 0));
        assert!(second.on_file_for("any-plan"));
    }

    #[test]
    fn bad_rows_name_their_line_and_reason() {
        let rows = read(concat!(
            "1234567890,BAD CHECK DIGIT,,*\n",
            "1234567893,,,*\n",
            "1234567893,NO TIN,12-345,*\n",
            "1234567893,UNKNOWN PLAN,,no-such-plan\n",
            "1234567893,NO PLANS,,\n",
            "1234567893,SHORT\n",
            "1245319599,GOOD,,cigna-commercial\n",
        ));
        let problems: Vec<RowProblem> = rows.iter().filter_map(|row| row.clone().err()).collect();
        assert_eq!(problems.iter().map(|p| p.line).collect::<Vec<_>>(), [2, 3, 4, 5, 6, 7]);
        assert!(problems[0].reason.contains("npi"));
        assert!(problems[1].reason.contains("name"));
        assert!(problems[2].reason.contains("tin"));
        assert!(problems[3].reason.contains("no-such-plan"));
        assert!(problems[4].reason.contains("plans"));
        assert!(problems[5].reason.contains("columns"));
        assert!(rows[6].is_ok());
    }

    #[test]
    fn a_wrong_header_is_refused() {
        assert!(matches!(ProviderReader::new("npi,name\n".as_bytes(), &Plans).err(), Some(ProvidersError::Header)));
    }
}
