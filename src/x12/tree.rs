//! An owned segment: elements, their repetitions and components. It is what `to-json` prints
//! and what the writer turns back into bytes (parse -> write -> parse is the identity).

use serde::Serialize;

use super::delimiters::Delimiters;
use super::lexer::{RawSegment, components, repetitions};

/// One element: its repetitions, each a list of components (a simple element is one of one).
pub type Element = Vec<Vec<String>>;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OwnedSegment {
    pub id: String,
    pub elements: Vec<Element>,
}

impl OwnedSegment {
    /// Splits a segment. The ISA is split on the element separator only: its ISA11 and ISA16
    /// are delimiters themselves, not data to split.
    pub fn parse(raw: &RawSegment<'_>, delimiters: &Delimiters) -> Self {
        let id = String::from_utf8_lossy(raw.id(delimiters)).into_owned();
        let is_isa = id == "ISA";
        let elements = raw
            .elements(delimiters)
            .map(|element| {
                if is_isa {
                    return vec![vec![String::from_utf8_lossy(element).into_owned()]];
                }
                repetitions(element, delimiters)
                    .map(|rep| components(rep, delimiters).map(|c| String::from_utf8_lossy(c).into_owned()).collect())
                    .collect()
            })
            .collect();
        OwnedSegment { id, elements }
    }

    /// A segment of simple elements.
    pub fn simple<S: AsRef<str>>(id: &str, elements: &[S]) -> Self {
        OwnedSegment {
            id: id.to_owned(),
            elements: elements.iter().map(|e| vec![vec![e.as_ref().to_owned()]]).collect(),
        }
    }

    /// The segment's text without terminator, trailing empty elements dropped.
    pub fn write(&self, delimiters: &Delimiters, out: &mut Vec<u8>) {
        out.extend_from_slice(self.id.as_bytes());
        let last = self.elements.iter().rposition(|e| e.iter().any(|r| r.iter().any(|c| !c.is_empty())));
        let Some(last) = last else { return };
        for element in &self.elements[..=last] {
            out.push(delimiters.element);
            for (r, repetition) in element.iter().enumerate() {
                if r > 0 {
                    out.push(delimiters.repetition.unwrap_or(delimiters.element));
                }
                let last_component = repetition.iter().rposition(|c| !c.is_empty()).unwrap_or(0);
                for (c, component) in
                    repetition[..=last_component.min(repetition.len().saturating_sub(1))].iter().enumerate()
                {
                    if c > 0 {
                        out.push(delimiters.component);
                    }
                    out.extend_from_slice(component.as_bytes());
                }
            }
        }
    }
}

/// Writes segments with a terminator and an optional line break after each.
#[derive(Debug)]
pub struct Writer {
    out: Vec<u8>,
    delimiters: Delimiters,
    after_segment: Vec<u8>,
    count: usize,
}

impl Writer {
    pub fn new(delimiters: Delimiters, after_segment: &[u8]) -> Self {
        Writer { out: Vec::new(), delimiters, after_segment: after_segment.to_vec(), count: 0 }
    }

    pub fn delimiters(&self) -> &Delimiters {
        &self.delimiters
    }

    pub fn segment(&mut self, segment: &OwnedSegment) {
        segment.write(&self.delimiters, &mut self.out);
        self.terminate();
    }

    /// Writes raw segment text (already joined with this writer's delimiters).
    pub fn raw(&mut self, text: &[u8]) {
        self.out.extend_from_slice(text);
        self.terminate();
    }

    fn terminate(&mut self) {
        self.out.push(self.delimiters.segment);
        self.out.extend_from_slice(&self.after_segment);
        self.count += 1;
    }

    /// Segments written so far.
    pub fn count(&self) -> usize {
        self.count
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.out
    }
}

/// Replaces bytes that cannot stand in an element written with `delimiters`.
pub fn sanitize(value: &str, delimiters: &Delimiters) -> String {
    value
        .bytes()
        .map(|b| if delimiters.is_delimiter(b) || !(0x20..0x7f).contains(&b) { ' ' } else { b as char })
        .collect::<String>()
        .trim_end()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_and_write_back() {
        let d = Delimiters::OUTBOUND;
        for text in ["EB*1**30^1^33*HM:1", "HI*ABK:R69*ABF:E11.9", "LE*2120", "N3*1 MAIN ST", "AAA*N**72*C"] {
            let segment = OwnedSegment::parse(&RawSegment { text: text.as_bytes() }, &d);
            let mut out = Vec::new();
            segment.write(&d, &mut out);
            assert_eq!(String::from_utf8_lossy(&out), text);
        }
    }

    #[test]
    fn trailing_empties_are_not_written() {
        let mut out = Vec::new();
        OwnedSegment::simple("IK5", &["A", "", ""]).write(&Delimiters::OUTBOUND, &mut out);
        assert_eq!(out, b"IK5*A");
        assert_eq!(sanitize("A*B~C", &Delimiters::OUTBOUND), "A B C");
    }
}
