//! The segment lexer: nom parsers over bytes, no I/O. A segment is everything up to the segment
//! terminator; elements, repetitions and components are split on demand, so that lexing a
//! batch costs one `memchr` per segment and the split is paid only by those who look.

use nom::{IResult, Needed};

use super::delimiters::Delimiters;

/// One segment, borrowed from the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawSegment<'a> {
    /// The segment text without its terminator (`NM1*IL*1*DOE`).
    pub text: &'a [u8],
}

impl<'a> RawSegment<'a> {
    /// The segment identifier (`NM1`): bytes before the first element separator.
    pub fn id(&self, delimiters: &Delimiters) -> &'a [u8] {
        match memchr::memchr(delimiters.element, self.text) {
            Some(end) => &self.text[..end],
            None => self.text,
        }
    }

    /// The data elements after the identifier: element 1 first.
    pub fn elements(&self, delimiters: &Delimiters) -> impl Iterator<Item = &'a [u8]> + 'a {
        let separator = delimiters.element;
        let text = self.text;
        let start = memchr::memchr(separator, text).map(|p| p + 1);
        let body: &'a [u8] = match start {
            Some(start) => &text[start..],
            None => &[],
        };
        let has_elements = start.is_some();
        body.split(move |b| *b == separator).filter(move |_| has_elements)
    }
}

/// Bytes tolerated between segments: line breaks, indentation and a UTF-8 byte-order mark's
/// bytes never start a segment identifier, unless the interchange uses them as a delimiter.
fn is_filler(byte: u8, delimiters: &Delimiters) -> bool {
    matches!(byte, b'\r' | b'\n' | b' ' | b'\t') && !delimiters.is_delimiter(byte)
}

/// Skips filler before a segment.
pub fn filler<'a>(delimiters: &Delimiters) -> impl Fn(&'a [u8]) -> IResult<&'a [u8], &'a [u8]> + '_ {
    move |input: &'a [u8]| {
        let end = input.iter().position(|b| !is_filler(*b, delimiters)).unwrap_or(input.len());
        Ok((&input[end..], &input[..end]))
    }
}

/// One terminated segment (streaming: `Incomplete` when the terminator is not in `input`).
pub fn segment<'a>(delimiters: &Delimiters) -> impl Fn(&'a [u8]) -> IResult<&'a [u8], RawSegment<'a>> + '_ {
    move |input: &'a [u8]| match memchr::memchr(delimiters.segment, input) {
        Some(end) => Ok((&input[end + 1..], RawSegment { text: &input[..end] })),
        None => Err(nom::Err::Incomplete(Needed::Unknown)),
    }
}

/// Filler, then a segment: what a reader calls in a loop.
pub fn next_segment<'a>(
    delimiters: &Delimiters,
) -> impl Fn(&'a [u8]) -> IResult<&'a [u8], (usize, RawSegment<'a>)> + '_ {
    move |input: &'a [u8]| {
        let (rest, skipped) = filler(delimiters)(input)?;
        let (rest, segment) = segment(delimiters)(rest)?;
        Ok((rest, (skipped.len(), segment)))
    }
}

/// Splits one element into repetitions (if the interchange declares a repetition separator).
pub fn repetitions<'a>(element: &'a [u8], delimiters: &Delimiters) -> impl Iterator<Item = &'a [u8]> + 'a {
    let separator = delimiters.repetition;
    let mut rest = Some(element);
    std::iter::from_fn(move || {
        let current = rest?;
        match separator.and_then(|sep| memchr::memchr(sep, current)) {
            Some(p) => {
                rest = Some(&current[p + 1..]);
                Some(&current[..p])
            }
            None => {
                rest = None;
                Some(current)
            }
        }
    })
}

/// Splits one element (or repetition) into components.
pub fn components<'a>(
    element: &'a [u8],
    delimiters: &Delimiters,
) -> std::slice::Split<'a, u8, impl FnMut(&u8) -> bool> {
    let separator = delimiters.component;
    element.split(move |b| *b == separator)
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: Delimiters = Delimiters::OUTBOUND;

    #[test]
    fn segments_with_and_without_line_breaks() {
        let input = b"ST*278*0001~\r\n  BHT*0007*13~NM1";
        let (rest, (skipped, first)) = next_segment(&D)(input).expect("first");
        assert_eq!((skipped, first.text), (0, &b"ST*278*0001"[..]));
        let (rest, (skipped, second)) = next_segment(&D)(rest).expect("second");
        assert_eq!((skipped, second.id(&D)), (4, &b"BHT"[..]));
        assert!(matches!(next_segment(&D)(rest), Err(nom::Err::Incomplete(_))));
    }

    #[test]
    fn elements_repetitions_components() {
        let segment = RawSegment { text: b"EB*1**30^1^33*HM:1" };
        assert_eq!(segment.id(&D), b"EB");
        let elements: Vec<_> = segment.elements(&D).collect();
        assert_eq!(elements, vec![&b"1"[..], b"", b"30^1^33", b"HM:1"]);
        assert_eq!(repetitions(elements[2], &D).collect::<Vec<_>>(), vec![&b"30"[..], b"1", b"33"]);
        assert_eq!(components(elements[3], &D).collect::<Vec<_>>(), vec![&b"HM"[..], b"1"]);
        assert_eq!(RawSegment { text: b"LE" }.elements(&D).count(), 0);
    }

    #[test]
    fn a_newline_terminator_is_not_filler() {
        let newline = Delimiters { segment: b'\n', ..D };
        let (_, (skipped, segment)) = next_segment(&newline)(b"GS*HI\nST").expect("segment");
        assert_eq!((skipped, segment.text), (0, &b"GS*HI"[..]));
    }
}
