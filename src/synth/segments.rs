//! A byte builder for the segments `umgate gen` writes. Why not `x12::OwnedSegment`: that type
//! allocates a `String` per component, and the generator must write a gigabyte in seconds; here
//! every element goes straight into one reused buffer. The data is ours (built-in word lists and
//! digits), so it never contains a delimiter; debug builds check that anyway.

use crate::x12::Delimiters;

/// The delimiters of every generated interchange (the ones umgate writes itself).
pub const DELIMITERS: Delimiters = Delimiters::OUTBOUND;

/// What follows each segment terminator: one segment per line keeps files readable in a pager.
pub const LINE_BREAK: &[u8] = b"\n";

/// Segments of one transaction set (or one envelope segment), counted for SE01.
#[derive(Debug, Default)]
pub struct SegmentBuffer {
    bytes: Vec<u8>,
    segments: u32,
}

impl SegmentBuffer {
    pub fn with_capacity(capacity: usize) -> Self {
        SegmentBuffer { bytes: Vec::with_capacity(capacity), segments: 0 }
    }

    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Empties the buffer and restarts the segment count.
    pub fn clear(&mut self) {
        self.bytes.clear();
        self.segments = 0;
    }

    /// Segments ended since the last [`clear`](Self::clear) or [`reset_count`](Self::reset_count).
    pub fn count(&self) -> u32 {
        self.segments
    }

    pub fn reset_count(&mut self) {
        self.segments = 0;
    }

    /// Starts a segment with its id.
    pub fn start(&mut self, id: &str) -> &mut Self {
        self.raw(id)
    }

    /// Ends the current segment: terminator and line break.
    pub fn end(&mut self) {
        self.bytes.push(DELIMITERS.segment);
        self.bytes.extend_from_slice(LINE_BREAK);
        self.segments += 1;
    }

    /// A text element.
    pub fn el(&mut self, value: &str) -> &mut Self {
        self.bytes.push(DELIMITERS.element);
        self.raw(value)
    }

    /// A numeric element.
    pub fn num(&mut self, value: u64) -> &mut Self {
        self.bytes.push(DELIMITERS.element);
        self.digits(value)
    }

    /// `count` empty elements (positions the segment skips). Never call right before `end`.
    pub fn skip(&mut self, count: usize) -> &mut Self {
        for _ in 0..count {
            self.bytes.push(DELIMITERS.element);
        }
        self
    }

    /// The next component of the current composite element.
    pub fn comp(&mut self, value: &str) -> &mut Self {
        self.bytes.push(DELIMITERS.component);
        self.raw(value)
    }

    /// A date element, CCYYMMDD.
    pub fn date(&mut self, date: Ymd) -> &mut Self {
        self.bytes.push(DELIMITERS.element);
        self.padded(u64::from(date.0), 8)
    }

    /// A date range element, CCYYMMDD-CCYYMMDD.
    pub fn date_range(&mut self, from: Ymd, to: Ymd) -> &mut Self {
        self.date(from).raw("-").padded(u64::from(to.0), 8)
    }

    /// Text written as is, delimiters included (the ISA, whose delimiters are its data).
    pub fn verbatim(&mut self, text: &str) -> &mut Self {
        self.bytes.extend_from_slice(text.as_bytes());
        self
    }

    /// Text appended to the current element (no separator).
    pub fn raw(&mut self, value: &str) -> &mut Self {
        debug_assert!(
            value.bytes().all(|b| !DELIMITERS.is_delimiter(b) && (0x20..0x7f).contains(&b)),
            "generated value {value:?} contains a delimiter or a non-printable byte"
        );
        self.bytes.extend_from_slice(value.as_bytes());
        self
    }

    /// Decimal digits appended to the current element (no separator).
    pub fn digits(&mut self, value: u64) -> &mut Self {
        self.padded(value, 1)
    }

    /// Decimal digits, zero-padded to at least `width`, appended to the current element.
    pub fn padded(&mut self, mut value: u64, width: usize) -> &mut Self {
        let mut digits = [b'0'; 20];
        let mut start = digits.len();
        loop {
            start -= 1;
            digits[start] = b'0' + (value % 10) as u8;
            value /= 10;
            if value == 0 {
                break;
            }
        }
        let start = start.min(digits.len().saturating_sub(width));
        self.bytes.extend_from_slice(&digits[start..]);
        self
    }
}

/// A calendar date as the number CCYYMMDD (cheap to carry and to print).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ymd(pub u32);

impl Ymd {
    pub fn of(date: chrono::NaiveDate) -> Self {
        use chrono::Datelike;
        Ymd(date.year().unsigned_abs() * 10_000 + date.month() * 100 + date.day())
    }

    /// YYYY-MM-DD, as the roster CSV writes dates.
    pub fn iso(self) -> String {
        format!("{:04}-{:02}-{:02}", self.0 / 10_000, self.0 / 100 % 100, self.0 % 100)
    }

    /// YYMMDD, as ISA09 writes dates.
    pub fn yymmdd(self) -> u32 {
        self.0 % 1_000_000
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_elements_components_and_counts() {
        let mut buffer = SegmentBuffer::default();
        buffer.start("NM1").el("IL").el("1").el("DOE").el("JANE").skip(3).el("MI").el("M").padded(42, 9).end();
        buffer.start("SV1").el("HC").comp("97110").num(480).el("UN").num(12).skip(2).el("1").end();
        buffer.start("DTP").el("472").el("RD8").date_range(Ymd(20250301), Ymd(20250415)).end();
        assert_eq!(
            String::from_utf8_lossy(buffer.bytes()),
            "NM1*IL*1*DOE*JANE****MI*M000000042~\nSV1*HC:97110*480*UN*12***1~\nDTP*472*RD8*20250301-20250415~\n"
        );
        assert_eq!(buffer.count(), 3);
    }

    #[test]
    fn dates_print_every_way() {
        let date = Ymd::of(chrono::NaiveDate::from_ymd_opt(2025, 3, 7).expect("valid date"));
        assert_eq!(date, Ymd(20250307));
        assert_eq!(date.iso(), "2025-03-07");
        assert_eq!(date.yymmdd(), 250307);
    }
}
