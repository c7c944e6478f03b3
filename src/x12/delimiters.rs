//! The four X12 delimiters. They come from each interchange's ISA segment and are never assumed.

/// Delimiters of one interchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Delimiters {
    /// Data element separator: the byte right after `ISA`.
    pub element: u8,
    /// Repetition separator (ISA11 from version 00402 on); `None` in older versions.
    pub repetition: Option<u8>,
    /// Component element separator (ISA16).
    pub component: u8,
    /// Segment terminator: the byte after ISA16.
    pub segment: u8,
}

impl Delimiters {
    /// What umgate writes in its own interchanges: `*`, `^`, `:`, `~`.
    pub const OUTBOUND: Delimiters =
        Delimiters { element: b'*', repetition: Some(b'^'), component: b':', segment: b'~' };

    /// Whether `byte` is one of the delimiters (so it cannot appear inside data).
    pub fn is_delimiter(&self, byte: u8) -> bool {
        byte == self.element || byte == self.component || byte == self.segment || Some(byte) == self.repetition
    }
}
