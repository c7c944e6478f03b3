//! The member roster file (SPEC section 9, `umgate roster import`): a CSV with the columns
//! `member_id,first_name,last_name,birth_date,gender,plan,line_of_business,coverage_start,coverage_end`.
//!
//! Why a reader of its own: a roster comes from a plan's enrollment system and often has a few bad
//! rows; each must be reported with its line number and skipped while the good rows still load.
//! Problems name the line and the column, never the values of a person (they reach the terminal
//! and logs); plan keys and lines of business are configuration, not personal data, and are named.

pub mod rows;

use std::io::Read;

use chrono::NaiveDate;

use crate::policy::LineOfBusiness;
use crate::storage::MemberRecord;

/// The header the file must start with (column order as SPEC section 9 lists them).
pub const COLUMNS: [&str; 9] = [
    "member_id",
    "first_name",
    "last_name",
    "birth_date",
    "gender",
    "plan",
    "line_of_business",
    "coverage_start",
    "coverage_end",
];

/// The longest member identifier X12 can carry (NM109).
const MAX_MEMBER_ID: usize = 80;

/// A file that cannot be read as a roster at all.
#[derive(Debug, thiserror::Error)]
pub enum RosterError {
    #[error("the header must be {expected}", expected = COLUMNS.join(","))]
    Header,
    #[error("the file is empty: expected the header {expected}", expected = COLUMNS.join(","))]
    Empty,
    #[error("reading the roster: {0}")]
    Io(#[from] std::io::Error),
}

/// A row that was skipped: its line in the file (1 is the header) and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RowProblem {
    pub line: u64,
    pub reason: String,
}

/// What the roster knows of the configuration: whether a plan exists and serves a line of business.
pub trait PlanCatalog {
    /// `None` when the plan is unknown, else whether it serves `lob`.
    fn serves(&self, plan: &str, lob: LineOfBusiness) -> Option<bool>;
}

impl PlanCatalog for crate::policy::Policy {
    fn serves(&self, plan: &str, lob: LineOfBusiness) -> Option<bool> {
        self.plan(plan).map(|plan| plan.serves(lob))
    }
}

/// Reads roster rows one at a time: each is a member or a problem.
pub struct RosterReader<'c, R: Read> {
    rows: rows::Rows<R>,
    catalog: &'c dyn PlanCatalog,
}

impl<R: Read> std::fmt::Debug for RosterReader<'_, R> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("RosterReader").finish_non_exhaustive()
    }
}

impl<'c, R: Read> RosterReader<'c, R> {
    /// Checks the header and returns a reader of the rows after it.
    pub fn new(input: R, catalog: &'c dyn PlanCatalog) -> Result<Self, RosterError> {
        let rows = rows::Rows::new(input, &COLUMNS).map_err(|problem| match problem {
            rows::FileProblem::Header => RosterError::Header,
            rows::FileProblem::Empty => RosterError::Empty,
            rows::FileProblem::Io(io) => RosterError::Io(io),
        })?;
        Ok(RosterReader { rows, catalog })
    }
}

impl<R: Read> Iterator for RosterReader<'_, R> {
    type Item = Result<Result<MemberRecord, RowProblem>, RosterError>;

    fn next(&mut self) -> Option<Self::Item> {
        Some(match self.rows.next()? {
            Err(io) => Err(RosterError::Io(io)),
            Ok(Err(problem)) => Ok(Err(problem)),
            Ok(Ok((line, record))) => Ok(member(&record, self.catalog).map_err(|reason| RowProblem { line, reason })),
        })
    }
}

/// One row as a member, or the reason it is refused.
fn member(record: &csv::StringRecord, catalog: &dyn PlanCatalog) -> Result<MemberRecord, String> {
    let field = |index: usize| record.get(index).unwrap_or_default();
    let required = |index: usize| {
        let value = field(index);
        if value.is_empty() { Err(format!("{} is empty", COLUMNS[index])) } else { Ok(value.to_owned()) }
    };
    let date = |index: usize| {
        let value = field(index);
        parse_date(value).ok_or_else(|| format!("{} is not a date YYYY-MM-DD", COLUMNS[index]))
    };
    let member_id = required(0)?;
    if member_id.len() > MAX_MEMBER_ID || !member_id.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(format!("member_id must be 1 to {MAX_MEMBER_ID} printable ASCII characters without spaces"));
    }
    let first_name = required(1)?;
    let last_name = required(2)?;
    let birth_date = date(3)?;
    let gender = match field(4).to_ascii_uppercase().as_str() {
        "" => None,
        code @ ("M" | "F" | "U") => Some(code.to_owned()),
        _ => return Err("gender must be M, F, U or empty".into()),
    };
    let plan = required(5)?;
    let lob_text = required(6)?;
    let lob: LineOfBusiness = lob_text
        .to_ascii_lowercase()
        .parse()
        .map_err(|_| format!("line_of_business {lob_text:?} is not one of commercial, medicare, medicaid, dual"))?;
    match catalog.serves(&plan, lob) {
        None => return Err(format!("plan {plan:?} is not in the configuration")),
        Some(false) => return Err(format!("plan {plan:?} does not serve line of business {}", lob.as_str())),
        Some(true) => {}
    }
    let coverage_start = date(7)?;
    let coverage_end = if field(8).is_empty() { None } else { Some(date(8)?) };
    if coverage_end.is_some_and(|end| end < coverage_start) {
        return Err("coverage_end is before coverage_start".into());
    }
    Ok(MemberRecord {
        member_id,
        first_name,
        last_name,
        birth_date,
        gender,
        plan,
        line_of_business: lob.as_str().to_owned(),
        coverage_start,
        coverage_end,
    })
}

/// `YYYY-MM-DD`, exactly.
fn parse_date(text: &str) -> Option<NaiveDate> {
    let bytes = text.as_bytes();
    let shaped = bytes.len() == 10
        && bytes[4] == b'-'
        && bytes[7] == b'-'
        && bytes.iter().enumerate().all(|(i, b)| i == 4 || i == 7 || b.is_ascii_digit());
    if !shaped {
        return None;
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    struct Plans;
    impl PlanCatalog for Plans {
        fn serves(&self, plan: &str, lob: LineOfBusiness) -> Option<bool> {
            match plan {
                "cigna-commercial" => Some(lob == LineOfBusiness::Commercial),
                _ => None,
            }
        }
    }

    const HEADER: &str =
        "member_id,first_name,last_name,birth_date,gender,plan,line_of_business,coverage_start,coverage_end\n";

    fn read(body: &str) -> Vec<Result<MemberRecord, RowProblem>> {
        let text = format!("{HEADER}{body}");
        RosterReader::new(text.as_bytes(), &Plans).unwrap().map(|row| row.unwrap()).collect()
    }

    #[test]
    fn good_rows_become_members_and_open_coverage_has_no_end() {
        let rows = read("M1,ANA,LOPEZ,1980-02-03,f,cigna-commercial,Commercial,2024-01-01,\n");
        let member = rows[0].clone().unwrap();
        assert_eq!(member.gender.as_deref(), Some("F"));
        assert_eq!(member.line_of_business, "commercial");
        assert_eq!(member.coverage_end, None);
    }

    #[test]
    fn bad_rows_name_their_line_and_reason_without_the_values() {
        let rows = read(concat!(
            "M1,ANA,LOPEZ,1980-02-30,F,cigna-commercial,commercial,2024-01-01,2024-12-31\n",
            "M2,BO,KIM,1980-02-03,F,no-such-plan,commercial,2024-01-01,2024-12-31\n",
            "M3,CY,NG,1980-02-03,F,cigna-commercial,medicare,2024-01-01,2024-12-31\n",
            "M4,DI,OH,1980-02-03,F,cigna-commercial,commercial,2024-01-01,2023-12-31\n",
            "M5,EL\n",
            ",FA,PU,1980-02-03,F,cigna-commercial,commercial,2024-01-01,\n",
            "M7,GU,RA,1980-02-03,X,cigna-commercial,commercial,2024-01-01,\n",
            "M8,HE,SU,1980-02-03,,cigna-commercial,commercial,2024-01-01,\n",
        ));
        let problems: Vec<RowProblem> = rows.iter().filter_map(|row| row.clone().err()).collect();
        let lines: Vec<u64> = problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, [2, 3, 4, 5, 6, 7, 8]);
        assert!(problems[0].reason.contains("birth_date") && !problems[0].reason.contains("1980"));
        assert!(problems[1].reason.contains("no-such-plan"));
        assert!(problems[2].reason.contains("does not serve"));
        assert!(problems[3].reason.contains("before"));
        assert!(problems[4].reason.contains("columns"));
        assert!(problems[5].reason.contains("member_id"));
        assert!(problems[6].reason.contains("gender"));
        assert!(rows[7].is_ok());
    }

    #[test]
    fn a_wrong_header_is_refused() {
        let error = RosterReader::new("id,name\nM1,A\n".as_bytes(), &Plans).err();
        assert!(matches!(error, Some(RosterError::Header)));
        assert!(matches!(
            RosterReader::new("".as_bytes(), &Plans).err(),
            Some(RosterError::Empty | RosterError::Header)
        ));
    }

    #[test]
    fn dates_are_strict() {
        assert!(parse_date("2024-02-29").is_some());
        for bad in ["2023-02-29", "2024-2-29", "20240229", "2024-02-29T00", "2024/02/29"] {
            assert!(parse_date(bad).is_none(), "{bad}");
        }
    }
}
