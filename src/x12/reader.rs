//! Streaming segment reader over any `Read`: a fixed buffer that is refilled as segments are
//! consumed, so memory stays flat in the file size. It switches delimiters at every ISA and keeps
//! each segment's byte offset for error reports.

use std::io::Read;

use super::delimiters::Delimiters;
use super::isa::{IsaError, IsaHeader, parse_isa};
use super::lexer::{RawSegment, next_segment};

const INITIAL_BUFFER: usize = 256 * 1024;
/// A segment longer than this is not X12 a gateway should buffer.
pub const MAX_SEGMENT: usize = 16 * 1024 * 1024;
const BOM: &[u8] = b"\xEF\xBB\xBF";
/// How far past an unreadable ISA a `~` is looked for as its end.
const BAD_ISA_SCAN: usize = 4096;

/// A segment with where it was found.
#[derive(Debug, Clone, Copy)]
pub struct Segment<'a> {
    pub raw: RawSegment<'a>,
    /// Byte offset of the segment's first byte in the input.
    pub offset: u64,
    pub delimiters: Delimiters,
    /// False for a last segment that the input ended without terminating.
    pub terminated: bool,
}

impl<'a> Segment<'a> {
    pub fn id(&self) -> &'a [u8] {
        self.raw.id(&self.delimiters)
    }
    pub fn elements(&self) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.raw.elements(&self.delimiters)
    }
    /// Element `n` (1-based), or empty.
    pub fn element(&self, n: usize) -> &'a [u8] {
        self.elements().nth(n.wrapping_sub(1)).unwrap_or(&[])
    }
}

/// What the reader yields.
#[derive(Debug)]
pub enum Item<'a> {
    /// An ISA: a new interchange starts, with these delimiters.
    Interchange {
        header: IsaHeader,
        offset: u64,
    },
    /// Bytes starting with `ISA` that are no readable header.
    BadInterchange {
        error: IsaError,
        offset: u64,
    },
    Segment(Segment<'a>),
}

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("reading input: {0}")]
    Io(#[from] std::io::Error),
    #[error("not X12: no ISA segment at byte {offset}")]
    NotX12 { offset: u64 },
    #[error("a segment at byte {offset} is longer than {MAX_SEGMENT} bytes")]
    SegmentTooLong { offset: u64 },
}

/// Tolerated before the first ISA: byte-order mark and white space.
fn leading_filler(byte: u8) -> bool {
    matches!(byte, b'\r' | b'\n' | b' ' | b'\t')
}

#[derive(Debug)]
pub struct SegmentReader<R> {
    source: R,
    buffer: Vec<u8>,
    start: usize,
    end: usize,
    eof: bool,
    /// Input offset of `buffer[0]`.
    base: u64,
    delimiters: Option<Delimiters>,
    failed: bool,
    /// After an unreadable ISA: the rest of that interchange is skipped up to the next `ISA`.
    skipping: bool,
}

enum Step {
    Fill,
    Interchange(IsaHeader, u64, usize),
    BadInterchange(IsaError, u64, usize),
    Segment { from: usize, to: usize, next: usize, terminated: bool },
    End,
}

impl<R: Read> SegmentReader<R> {
    pub fn new(source: R) -> Self {
        SegmentReader {
            source,
            buffer: vec![0; INITIAL_BUFFER],
            start: 0,
            end: 0,
            eof: false,
            base: 0,
            delimiters: None,
            failed: false,
            skipping: false,
        }
    }

    /// Bytes consumed so far.
    pub fn position(&self) -> u64 {
        self.base + self.start as u64
    }

    /// The next ISA, segment, or `None` at the end of the input.
    pub fn next_item(&mut self) -> Result<Option<Item<'_>>, ReadError> {
        if self.failed {
            return Ok(None);
        }
        loop {
            match self.step()? {
                Step::Fill => self.fill()?,
                Step::End => return Ok(None),
                Step::Interchange(header, offset, next) => {
                    self.delimiters = Some(header.delimiters);
                    self.start = next;
                    return Ok(Some(Item::Interchange { header, offset }));
                }
                Step::BadInterchange(error, offset, next) => {
                    self.start = next;
                    self.skipping = true;
                    return Ok(Some(Item::BadInterchange { error, offset }));
                }
                Step::Segment { from, to, next, terminated } => {
                    self.start = next;
                    let delimiters = self.delimiters.unwrap_or(Delimiters::OUTBOUND);
                    return Ok(Some(Item::Segment(Segment {
                        raw: RawSegment { text: &self.buffer[from..to] },
                        offset: self.base + from as u64,
                        delimiters,
                        terminated,
                    })));
                }
            }
        }
    }

    /// Decides what the buffered bytes hold, by indices only (the caller borrows afterwards).
    fn step(&mut self) -> Result<Step, ReadError> {
        if self.skipping {
            let data = &self.buffer[self.start..self.end];
            match memchr::memmem::find(data, b"ISA") {
                Some(p) => {
                    self.start += p;
                    self.skipping = false;
                }
                None if self.eof => {
                    self.start = self.end;
                    return Ok(Step::End);
                }
                None => {
                    // Keep two bytes: an `ISA` may straddle the refill.
                    self.start = self.end.saturating_sub(2).max(self.start);
                    return Ok(Step::Fill);
                }
            }
        }
        let data = &self.buffer[self.start..self.end];
        let mut skip = 0;
        if self.base == 0 && self.start == 0 && !self.eof && data.len() < BOM.len() && BOM.starts_with(data) {
            return Ok(Step::Fill);
        }
        if self.base == 0 && self.start == 0 && self.delimiters.is_none() && data.starts_with(BOM) {
            skip = BOM.len();
        }
        let filler = |b: u8| match &self.delimiters {
            Some(d) => matches!(b, b'\r' | b'\n' | b' ' | b'\t') && !d.is_delimiter(b),
            None => leading_filler(b),
        };
        skip += data[skip..].iter().position(|b| !filler(*b)).unwrap_or(data.len() - skip);
        let data = &data[skip..];
        let at = self.start + skip;
        if data.is_empty() {
            if self.eof {
                self.start = self.end;
                return Ok(Step::End);
            }
            self.start = at;
            return Ok(Step::Fill);
        }
        if data.len() < 4 && !self.eof && b"ISA".starts_with(&data[..data.len().min(3)]) {
            return Ok(Step::Fill);
        }
        let offset = self.base + at as u64;
        if data.starts_with(b"ISA") {
            return match parse_isa(data) {
                Ok(header) => {
                    let next = at + header.length;
                    Ok(Step::Interchange(header, offset, next))
                }
                Err(IsaError::Truncated) if !self.eof => self.fill_or_fail(offset).map(|()| Step::Fill),
                Err(error) => {
                    // Unreadable header: skip to the end of what looks like the ISA segment,
                    // judged on the same bytes however the input arrives (wait for a `~` or
                    // BAD_ISA_SCAN bytes), so that where reading resumes does not depend on it.
                    let window = &data[..data.len().min(BAD_ISA_SCAN)];
                    match memchr::memchr(b'~', window) {
                        None if !self.eof && window.len() < BAD_ISA_SCAN => Ok(Step::Fill),
                        found => {
                            let next = found.map_or(at + window.len(), |p| at + p + 1);
                            self.delimiters = None;
                            Ok(Step::BadInterchange(error, offset, next))
                        }
                    }
                }
            };
        }
        let Some(delimiters) = self.delimiters else {
            self.failed = true;
            return Err(ReadError::NotX12 { offset });
        };
        match next_segment(&delimiters)(data) {
            Ok((rest, (_, segment))) => {
                let from = at + (segment.text.as_ptr() as usize - data.as_ptr() as usize);
                Ok(Step::Segment { from, to: from + segment.text.len(), next: self.end - rest.len(), terminated: true })
            }
            Err(_) if self.eof => {
                // The input ends without a final terminator: the rest is the last segment.
                let len = data.iter().rposition(|b| !filler(*b)).map_or(0, |p| p + 1);
                Ok(Step::Segment { from: at, to: at + len, next: self.end, terminated: false })
            }
            Err(_) => self.fill_or_fail(offset).map(|()| Step::Fill),
        }
    }

    /// Checks that one more fill can make progress without exceeding the segment limit.
    fn fill_or_fail(&self, offset: u64) -> Result<(), ReadError> {
        if self.end - self.start >= MAX_SEGMENT {
            return Err(ReadError::SegmentTooLong { offset });
        }
        Ok(())
    }

    fn fill(&mut self) -> Result<(), ReadError> {
        if self.start > 0 {
            self.buffer.copy_within(self.start..self.end, 0);
            self.base += self.start as u64;
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == self.buffer.len() {
            let grown = (self.buffer.len() * 2).min(MAX_SEGMENT + INITIAL_BUFFER);
            self.buffer.resize(grown, 0);
        }
        loop {
            match self.source.read(&mut self.buffer[self.end..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(());
                }
                Ok(n) => {
                    self.end += n;
                    return Ok(());
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e.into()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that hands out one byte per call: every boundary case of refilling.
    struct Trickle<'a>(&'a [u8]);
    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            match (self.0.split_first(), buf.first_mut()) {
                (Some((b, rest)), Some(slot)) => {
                    *slot = *b;
                    self.0 = rest;
                    Ok(1)
                }
                _ => Ok(0),
            }
        }
    }

    fn collect(input: &[u8], trickle: bool) -> Vec<String> {
        let mut out = Vec::new();
        let mut push = |item: Item<'_>| match item {
            Item::Interchange { header, offset } => out.push(format!("ISA@{offset}:{}", header.control_number())),
            Item::BadInterchange { error, offset } => out.push(format!("BAD@{offset}:{error:?}")),
            Item::Segment(s) => out.push(format!(
                "{}@{}{}",
                String::from_utf8_lossy(s.raw.text),
                s.offset,
                if s.terminated { "" } else { "!" }
            )),
        };
        if trickle {
            let mut reader = SegmentReader::new(Trickle(input));
            while let Some(item) = reader.next_item().expect("reads") {
                push(item);
            }
        } else {
            let mut reader = SegmentReader::new(input);
            while let Some(item) = reader.next_item().expect("reads") {
                push(item);
            }
        }
        out
    }

    const ISA: &str =
        "ISA*00*          *00*          *ZZ*SUBMITTER      *ZZ*RECEIVER       *240101*1200*^*00501*000000001*0*P*:~";

    #[test]
    fn reads_the_same_whatever_the_chunking() {
        let input = format!("\u{feff}{ISA}\r\nGS*HI*A~\r\nST*278*0001~SE*2*0001~GE*1*1~IEA*1*000000001");
        let whole = collect(input.as_bytes(), false);
        assert_eq!(whole, collect(input.as_bytes(), true));
        assert_eq!(whole[0], "ISA@3:000000001");
        assert_eq!(whole[1], "GS*HI*A@111");
        assert_eq!(whole.last().map(String::as_str), Some("IEA*1*000000001@150!"));
    }

    #[test]
    fn delimiters_switch_per_interchange() {
        let second = ISA.replace('*', "|").replace(":~", ":\n");
        let input = format!("{ISA}GS*HI~IEA*0*000000001~{second}GS|HS\nIEA|0|000000001\n");
        let items = collect(input.as_bytes(), false);
        assert_eq!(items.len(), 6, "{items:?}");
        assert!(items[4].starts_with("GS|HS@"), "{items:?}");
    }

    #[test]
    fn an_unreadable_isa_is_skipped_the_same_whatever_the_chunking() {
        // Found by `cargo fuzz run lexer`: the end of the bad ISA was looked for only in the bytes
        // buffered so far, so a trickled input resumed earlier (at the ISA inside it).
        let input = format!("ISAX*0*{ISA}GS*HI*A~IEA*1*000000001~{ISA}IEA*0*000000001~");
        let whole = collect(input.as_bytes(), false);
        assert_eq!(whole, collect(input.as_bytes(), true));
        assert_eq!(whole[0], "BAD@0:BadElementSeparator");
        assert_eq!(whole[1], format!("ISA@{}:000000001", 7 + ISA.len() + 24), "{whole:?}");
    }

    #[test]
    fn not_x12() {
        let mut reader = SegmentReader::new(&b"bad_file"[..]);
        assert!(matches!(reader.next_item(), Err(ReadError::NotX12 { offset: 0 })));
        assert!(matches!(reader.next_item(), Ok(None)));
    }
}
