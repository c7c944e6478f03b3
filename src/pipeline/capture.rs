//! Cuts a stream into its interchanges, verbatim, while the validator reads it.
//!
//! Why a tee and not a second parser: the validator is the one authority on where an interchange
//! starts (its report's offset) and ends (the terminator of its last segment, normally the IEA). A
//! tee keeps the bytes the validator has read, and each interchange is cut from its ISA to the end
//! of its last segment, exactly: the same interchange resent in another file, with other line
//! breaks around it, has the same bytes (and content hash). Line breaks between interchanges
//! belong to none. What has no segment to end it (an unreadable ISA, bytes that are not X12) runs
//! to the next interchange or the end of the stream. Only the interchange being cut and the
//! reader's look-ahead are held: memory stays flat in the file size.

use std::cell::RefCell;
use std::io::Read;
use std::rc::Rc;

use crate::grammar::{Placement, SetValidator};
use crate::mapping::tree::{InterchangeTrees, TreeCollector};
use crate::validation::{InterchangeReport, Observer, SetReport};
use crate::x12::{IsaHeader, Segment};

/// One interchange of a file: what validation found, the trees of its accepted sets (for the
/// mapping) and its exact bytes.
#[derive(Debug)]
pub struct Captured {
    pub trees: InterchangeTrees,
    /// Offset of its first byte in the file.
    pub offset: u64,
    pub bytes: Vec<u8>,
}

impl Captured {
    pub fn report(&self) -> &InterchangeReport {
        &self.trees.report
    }
}

/// The bytes read and not yet handed out, shared by the tee and the observer.
#[derive(Debug, Default)]
struct Window {
    /// Stream offset of `bytes[0]`.
    base: u64,
    bytes: Vec<u8>,
}

impl Window {
    /// Takes `[start, end)` out of the window and forgets everything before `end`.
    fn cut(&mut self, start: u64, end: u64) -> Vec<u8> {
        let from = usize::try_from(start.saturating_sub(self.base)).unwrap_or(usize::MAX).min(self.bytes.len());
        let to = usize::try_from(end.saturating_sub(self.base)).unwrap_or(usize::MAX).clamp(from, self.bytes.len());
        let taken = self.bytes[from..to].to_vec();
        self.bytes.drain(..to);
        self.base += to as u64;
        taken
    }

    fn end(&self) -> u64 {
        self.base + self.bytes.len() as u64
    }
}

/// A reader that keeps a copy of what passes through it in the shared window.
#[derive(Debug)]
pub struct Tee<R> {
    inner: R,
    window: Rc<RefCell<Window>>,
}

impl<R: Read> Read for Tee<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.window.borrow_mut().bytes.extend_from_slice(&buf[..n]);
        Ok(n)
    }
}

type TreeSink = Box<dyn FnMut(InterchangeTrees)>;

/// The validation observer that hands out [`Captured`] interchanges, one behind the validator.
/// The mapping's tree collector runs inside it and sees every event.
pub struct Capture<F: FnMut(Captured)> {
    window: Rc<RefCell<Window>>,
    trees: TreeCollector<TreeSink>,
    finished: Rc<RefCell<Option<InterchangeTrees>>>,
    /// An interchange without segments, waiting for the next one's start (or the end) as its end.
    pending: Option<InterchangeTrees>,
    /// End (terminator included) of the last segment of the current interchange.
    last_end: Option<u64>,
    sink: F,
}

impl<F: FnMut(Captured)> std::fmt::Debug for Capture<F> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("Capture").field("pending", &self.pending.is_some()).finish_non_exhaustive()
    }
}

/// A tee over `input` and the observer that cuts what it reads; `sink` receives each interchange.
pub fn capture<R: Read, F: FnMut(Captured)>(input: R, sink: F) -> (Tee<R>, Capture<F>) {
    let window = Rc::new(RefCell::new(Window::default()));
    let finished = Rc::new(RefCell::new(None));
    let slot = Rc::clone(&finished);
    let trees = TreeCollector::new(Box::new(move |trees| *slot.borrow_mut() = Some(trees)) as TreeSink);
    (
        Tee { inner: input, window: Rc::clone(&window) },
        Capture { window, trees, finished, pending: None, last_end: None, sink },
    )
}

impl<F: FnMut(Captured)> Capture<F> {
    fn emit(&mut self, trees: InterchangeTrees, end: u64) {
        let offset = trees.report.offset;
        let bytes = self.window.borrow_mut().cut(offset, end);
        (self.sink)(Captured { trees, offset, bytes });
    }

    fn segment_seen(&mut self, segment: &Segment<'_>) {
        let end = segment.offset + segment.raw.text.len() as u64 + u64::from(segment.terminated);
        self.last_end = Some(self.last_end.map_or(end, |last| last.max(end)));
    }

    /// Hands out the last interchange: it runs to the end of what was read. Call after
    /// `validate_stream` returned (also after an error: what was read is still handed out).
    pub fn finish(mut self) {
        if let Some(report) = self.pending.take() {
            let end = self.window.borrow().end();
            self.emit(report, end);
        }
    }
}

impl<F: FnMut(Captured)> Observer for Capture<F> {
    fn envelope_segment(&mut self, segment: &Segment<'_>) {
        self.segment_seen(segment);
        self.trees.envelope_segment(segment);
    }

    fn interchange_start(&mut self, header: &IsaHeader) {
        self.trees.interchange_start(header);
    }

    fn set_segment(&mut self, validator: &SetValidator<'_>, segment: &Segment<'_>, placement: Placement) {
        self.segment_seen(segment);
        self.trees.set_segment(validator, segment, placement);
    }

    fn set_end(&mut self, report: &SetReport) {
        self.trees.set_end(report);
    }

    fn interchange_end(&mut self, report: InterchangeReport) {
        let offset = report.offset;
        self.trees.interchange_end(report);
        let Some(trees) = self.finished.borrow_mut().take() else { return };
        if let Some(previous) = self.pending.take() {
            self.emit(previous, offset);
        }
        match self.last_end.take() {
            Some(end) if end > offset => self.emit(trees, end),
            _ => self.pending = Some(trees),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::grammar::GuideSet;
    use crate::validation::validate_stream;

    fn interchange(control: &str, terminator: &str) -> String {
        format!(
            "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *240101*1200*^*00501*{control}*0*T*:{terminator}\
             GS*HI*SENDER*RECEIVER*20240101*1200*1*X*005010X217{terminator}GE*0*1{terminator}IEA*1*{control}{terminator}"
        )
    }

    fn cut(input: &[u8]) -> Vec<Captured> {
        let mut out = Vec::new();
        let (tee, mut observer) = capture(input, |captured| out.push(captured));
        validate_stream(tee, "test", GuideSet::builtin().unwrap(), &mut observer).unwrap();
        observer.finish();
        out
    }

    #[test]
    fn each_interchange_is_cut_from_its_isa_to_its_iea_and_the_rest_is_kept_apart() {
        let (first, second) = (interchange("000000001", "~"), interchange("000000002", "~"));
        let file = format!("{first}\r\n{second}\ngarbage");
        let captured = cut(file.as_bytes());
        assert_eq!(captured.len(), 3, "{captured:?}");
        assert_eq!(captured[0].bytes, first.as_bytes());
        assert_eq!(captured[0].report().isa13(), Some("000000001"));
        assert_eq!(captured[1].bytes, second.as_bytes());
        assert_eq!(captured[1].offset, first.len() as u64 + 2);
        // Not X12: kept as it is, to the end.
        assert_eq!(captured[2].bytes, b"garbage");
        // The same interchange alone in a file without line breaks: the same bytes.
        assert_eq!(cut(second.as_bytes())[0].bytes, second.as_bytes());
    }

    #[test]
    fn a_truncated_interchange_runs_to_its_last_segment() {
        let whole = interchange("000000003", "~");
        let truncated = &whole[..whole.find("GE*").unwrap()];
        let captured = cut(truncated.as_bytes());
        assert_eq!(captured.len(), 1);
        assert_eq!(captured[0].bytes, truncated.as_bytes());
    }

    #[test]
    fn window_cut_forgets_what_was_handed_out() {
        let mut window = Window { base: 10, bytes: b"abcdefgh".to_vec() };
        assert_eq!(window.cut(12, 15), b"cde");
        assert_eq!((window.base, window.bytes.as_slice()), (15, &b"fgh"[..]));
        assert_eq!(window.cut(15, 99), b"fgh");
        assert_eq!(window.end(), 18);
    }
}
