//! CSV files of one record per row under a fixed header (the member roster, the provider
//! registry). Why apart from either: both must check the header once and hand out each row with
//! its line number, so that a bad row is reported and skipped while the good rows still load; the
//! files differ only in what a row means.

use std::io::Read;

use super::RowProblem;

/// A file that cannot be read at all.
#[derive(Debug)]
pub enum FileProblem {
    /// The first line is not the expected header.
    Header,
    /// Not even a header.
    Empty,
    Io(std::io::Error),
}

/// The rows after a checked header: each is its line number and record, or the problem that
/// makes it unreadable (not UTF-8, not CSV, not as many columns as the header).
pub struct Rows<R: Read> {
    records: csv::StringRecordsIntoIter<R>,
    columns: usize,
}

impl<R: Read> std::fmt::Debug for Rows<R> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("Rows").field("columns", &self.columns).finish_non_exhaustive()
    }
}

impl<R: Read> Rows<R> {
    /// Checks that the header names `columns` (case and a byte-order mark ignored).
    pub fn new(input: R, columns: &[&str]) -> Result<Self, FileProblem> {
        let mut reader =
            csv::ReaderBuilder::new().has_headers(true).flexible(true).trim(csv::Trim::All).from_reader(input);
        let header = reader.headers().map_err(|error| match error.into_kind() {
            csv::ErrorKind::Io(io) => FileProblem::Io(io),
            _ => FileProblem::Header,
        })?;
        if header.is_empty() {
            return Err(FileProblem::Empty);
        }
        let names: Vec<String> = header.iter().map(|name| name.trim_start_matches('\u{feff}').to_lowercase()).collect();
        if names != columns {
            return Err(FileProblem::Header);
        }
        Ok(Rows { records: reader.into_records(), columns: columns.len() })
    }
}

impl<R: Read> Iterator for Rows<R> {
    type Item = Result<Result<(u64, csv::StringRecord), RowProblem>, std::io::Error>;

    fn next(&mut self) -> Option<Self::Item> {
        let record = match self.records.next()? {
            Ok(record) => record,
            Err(error) => {
                let line = error.position().map(|p| p.line()).unwrap_or(0);
                return Some(match error.into_kind() {
                    csv::ErrorKind::Io(io) => Err(io),
                    csv::ErrorKind::Utf8 { .. } => Ok(Err(RowProblem { line, reason: "not valid UTF-8".into() })),
                    _ => Ok(Err(RowProblem { line, reason: "not a readable CSV row".into() })),
                });
            }
        };
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        if record.len() != self.columns {
            let reason = format!("{} columns, expected {}", record.len(), self.columns);
            return Some(Ok(Err(RowProblem { line, reason })));
        }
        Some(Ok(Ok((line, record))))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const COLUMNS: [&str; 2] = ["a", "b"];

    type Row = Result<(u64, Vec<String>), RowProblem>;

    fn read(input: &[u8]) -> Result<Vec<Row>, FileProblem> {
        let rows = Rows::new(input, &COLUMNS)?;
        Ok(rows
            .map(|row| row.unwrap().map(|(line, record)| (line, record.iter().map(str::to_owned).collect())))
            .collect())
    }

    #[test]
    fn the_header_is_checked_once_ignoring_case_and_a_byte_order_mark() {
        assert!(matches!(read(b""), Err(FileProblem::Empty)));
        assert!(matches!(read(b"a,c\n1,2\n"), Err(FileProblem::Header)));
        let rows = read("\u{feff}A,B\n1,2\n".as_bytes()).unwrap();
        assert_eq!(rows, [Ok((2, vec!["1".to_owned(), "2".to_owned()]))]);
    }

    #[test]
    fn bad_rows_come_with_their_line_and_the_good_ones_still_come() {
        let rows = read(b"a,b\n1,2\n3\n4,\xff\n5,6,7\n8,9\n").unwrap();
        let problem = |line: u64, reason: &str| Err(RowProblem { line, reason: reason.to_owned() });
        assert_eq!(
            rows,
            [
                Ok((2, vec!["1".to_owned(), "2".to_owned()])),
                problem(3, "1 columns, expected 2"),
                problem(4, "not valid UTF-8"),
                problem(5, "3 columns, expected 2"),
                Ok((6, vec!["8".to_owned(), "9".to_owned()])),
            ]
        );
    }
}
