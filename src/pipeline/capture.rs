//! Cuts a stream into its interchanges, verbatim, while the validator reads it.
//!
//! Why a tee and not a second parser: the validator is the one authority on where an interchange
//! starts (its report's offset). A tee keeps the bytes the validator has read; when the next
//! interchange's report arrives (or the stream ends), the previous interchange is everything from
//! its ISA up to the next ISA (or the end of the stream), so the stored copies, laid end to end,
//! are the file itself from its first ISA on. Only the interchange being cut and the reader's
//! look-ahead are held: memory stays flat in the file size.

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
    pending: Option<InterchangeTrees>,
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
    (Tee { inner: input, window: Rc::clone(&window) }, Capture { window, trees, finished, pending: None, sink })
}

impl<F: FnMut(Captured)> Capture<F> {
    fn emit(&mut self, trees: InterchangeTrees, end: u64) {
        let offset = trees.report.offset;
        let bytes = self.window.borrow_mut().cut(offset, end);
        (self.sink)(Captured { trees, offset, bytes });
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
        self.trees.envelope_segment(segment);
    }

    fn interchange_start(&mut self, header: &IsaHeader) {
        self.trees.interchange_start(header);
    }

    fn set_segment(&mut self, validator: &SetValidator<'_>, segment: &Segment<'_>, placement: Placement) {
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
        self.pending = Some(trees);
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
    fn interchanges_laid_end_to_end_are_the_file() {
        let file = format!("{}\r\n{}\n{}", interchange("000000001", "~"), interchange("000000002", "~"), "garbage");
        let captured = cut(file.as_bytes());
        assert!(captured.len() >= 2, "{}", captured.len());
        let joined: Vec<u8> = captured.iter().flat_map(|c| c.bytes.clone()).collect();
        assert_eq!(joined, file.as_bytes());
        assert_eq!(captured[0].report().isa13(), Some("000000001"));
        assert!(captured[0].bytes.ends_with(b"IEA*1*000000001~\r\n"));
        assert_eq!(captured[1].offset, captured[0].bytes.len() as u64);
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
