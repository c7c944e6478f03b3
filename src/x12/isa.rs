//! The ISA interchange header: fixed-width, and the only place the delimiters are declared.
//! Checking it yields the TA1 note code (TA105) of the first problem, in the order a reader
//! meets them: delimiters first (nothing else can be trusted without them), then the fields.

use super::delimiters::Delimiters;

/// Byte length of a well-formed ISA including its terminator.
pub const ISA_LENGTH: usize = 106;

/// TA105 interchange note codes that umgate reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Ta1Note {
    NoError,
    ControlNumberMismatch,
    VersionNotSupported,
    InvalidSegmentTerminator,
    InvalidSenderQualifier,
    InvalidSenderId,
    InvalidReceiverQualifier,
    InvalidReceiverId,
    InvalidAuthorizationQualifier,
    InvalidAuthorizationValue,
    InvalidSecurityQualifier,
    InvalidSecurityValue,
    InvalidDate,
    InvalidTime,
    InvalidStandardsIdentifier,
    InvalidControlNumber,
    InvalidAckRequested,
    InvalidTestIndicator,
    InvalidGroupCount,
    InvalidControlStructure,
    PrematureEndOfFile,
    InvalidContent,
    /// Same sender and ISA13 as an interchange received before, with other content (not read
    /// from the header: the interchange log decides it).
    DuplicateControlNumber,
    InvalidElementSeparator,
    InvalidComponentSeparator,
}

impl Ta1Note {
    /// The three-digit TA105 code.
    pub fn code(self) -> &'static str {
        match self {
            Ta1Note::NoError => "000",
            Ta1Note::ControlNumberMismatch => "001",
            Ta1Note::VersionNotSupported => "003",
            Ta1Note::InvalidSegmentTerminator => "004",
            Ta1Note::InvalidSenderQualifier => "005",
            Ta1Note::InvalidSenderId => "006",
            Ta1Note::InvalidReceiverQualifier => "007",
            Ta1Note::InvalidReceiverId => "008",
            Ta1Note::InvalidAuthorizationQualifier => "010",
            Ta1Note::InvalidAuthorizationValue => "011",
            Ta1Note::InvalidSecurityQualifier => "012",
            Ta1Note::InvalidSecurityValue => "013",
            Ta1Note::InvalidDate => "014",
            Ta1Note::InvalidTime => "015",
            Ta1Note::InvalidStandardsIdentifier => "016",
            Ta1Note::InvalidControlNumber => "018",
            Ta1Note::InvalidAckRequested => "019",
            Ta1Note::InvalidTestIndicator => "020",
            Ta1Note::InvalidGroupCount => "021",
            Ta1Note::InvalidControlStructure => "022",
            Ta1Note::PrematureEndOfFile => "023",
            Ta1Note::InvalidContent => "024",
            Ta1Note::DuplicateControlNumber => "025",
            Ta1Note::InvalidElementSeparator => "026",
            Ta1Note::InvalidComponentSeparator => "027",
        }
    }
}

/// Interchange ID qualifiers (ISA05, ISA07) that the 5010 HIPAA guides allow.
pub const ID_QUALIFIERS: [&str; 9] = ["01", "14", "20", "27", "28", "29", "30", "33", "ZZ"];

/// A parsed ISA. Fields are kept as text, exactly as received (padding included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IsaHeader {
    /// ISA01 .. ISA16.
    pub fields: Vec<String>,
    pub delimiters: Delimiters,
    /// Bytes from `I` to the segment terminator included.
    pub length: usize,
}

/// Why bytes that start with `ISA` are not a readable header.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IsaError {
    #[error("the ISA segment ends before its 16 elements and terminator (premature end of file)")]
    Truncated,
    #[error("the byte after ISA cannot be an element separator")]
    BadElementSeparator,
}

impl IsaHeader {
    pub fn field(&self, n: usize) -> &str {
        self.fields.get(n.wrapping_sub(1)).map_or("", String::as_str)
    }
    pub fn control_number(&self) -> &str {
        self.field(13)
    }
    pub fn version(&self) -> &str {
        self.field(12)
    }
    pub fn acknowledgment_requested(&self) -> bool {
        self.field(14) == "1"
    }

    /// The first problem with this header, as a TA105 note, or `None`.
    pub fn check(&self) -> Option<Ta1Note> {
        let d = &self.delimiters;
        let special = |b: u8| !b.is_ascii_alphanumeric() && b != b' ';
        if !special(d.element) {
            return Some(Ta1Note::InvalidElementSeparator);
        }
        if !special(d.segment) || d.segment == d.element {
            return Some(Ta1Note::InvalidSegmentTerminator);
        }
        let modern = self.version() >= "00402";
        let repetition = if modern { d.repetition } else { None };
        if !special(d.component)
            || d.component == d.element
            || d.component == d.segment
            || Some(d.component) == repetition
        {
            return Some(Ta1Note::InvalidComponentSeparator);
        }
        if self.length != ISA_LENGTH || self.fields.iter().any(|f| f.contains(['\r', '\n'])) {
            // Not fixed width: name the first field whose width is off.
            return Some(self.first_misfit_field().unwrap_or(Ta1Note::InvalidControlStructure));
        }
        self.check_fields(modern)
    }

    fn check_fields(&self, modern: bool) -> Option<Ta1Note> {
        let f = |n| self.field(n);
        let codes = |value: &str, allowed: &[&str]| allowed.contains(&value);
        if !codes(f(1), &["00", "03"]) {
            return Some(Ta1Note::InvalidAuthorizationQualifier);
        }
        if !printable(f(2)) {
            return Some(Ta1Note::InvalidAuthorizationValue);
        }
        if !codes(f(3), &["00", "01"]) {
            return Some(Ta1Note::InvalidSecurityQualifier);
        }
        if !printable(f(4)) {
            return Some(Ta1Note::InvalidSecurityValue);
        }
        if !codes(f(5), &ID_QUALIFIERS) {
            return Some(Ta1Note::InvalidSenderQualifier);
        }
        if f(6).trim().is_empty() || !printable(f(6)) {
            return Some(Ta1Note::InvalidSenderId);
        }
        if !codes(f(7), &ID_QUALIFIERS) {
            return Some(Ta1Note::InvalidReceiverQualifier);
        }
        if f(8).trim().is_empty() || !printable(f(8)) {
            return Some(Ta1Note::InvalidReceiverId);
        }
        if !valid_yymmdd(f(9)) {
            return Some(Ta1Note::InvalidDate);
        }
        if !valid_hhmm(f(10)) {
            return Some(Ta1Note::InvalidTime);
        }
        if !modern && f(11) != "U" {
            return Some(Ta1Note::InvalidStandardsIdentifier);
        }
        if f(12) != "00501" {
            return Some(Ta1Note::VersionNotSupported);
        }
        if f(13).len() != 9 || !f(13).bytes().all(|b| b.is_ascii_digit()) {
            return Some(Ta1Note::InvalidControlNumber);
        }
        if !codes(f(14), &["0", "1"]) {
            return Some(Ta1Note::InvalidAckRequested);
        }
        if !codes(f(15), &["P", "T"]) {
            return Some(Ta1Note::InvalidTestIndicator);
        }
        None
    }

    /// For a header that is not 106 bytes: the note for the first field of the wrong width.
    fn first_misfit_field(&self) -> Option<Ta1Note> {
        const WIDTHS: [usize; 16] = [2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1];
        const NOTES: [Ta1Note; 16] = [
            Ta1Note::InvalidAuthorizationQualifier,
            Ta1Note::InvalidAuthorizationValue,
            Ta1Note::InvalidSecurityQualifier,
            Ta1Note::InvalidSecurityValue,
            Ta1Note::InvalidSenderQualifier,
            Ta1Note::InvalidSenderId,
            Ta1Note::InvalidReceiverQualifier,
            Ta1Note::InvalidReceiverId,
            Ta1Note::InvalidDate,
            Ta1Note::InvalidTime,
            Ta1Note::InvalidStandardsIdentifier,
            Ta1Note::VersionNotSupported,
            Ta1Note::InvalidControlNumber,
            Ta1Note::InvalidAckRequested,
            Ta1Note::InvalidTestIndicator,
            Ta1Note::InvalidComponentSeparator,
        ];
        self.fields
            .iter()
            .zip(WIDTHS.iter().zip(NOTES))
            .find(|(field, (width, _))| field.len() != **width || field.contains(['\r', '\n']))
            .map(|(_, (_, note))| note)
    }
}

fn printable(text: &str) -> bool {
    text.bytes().all(|b| (0x20..0x7f).contains(&b))
}

fn valid_yymmdd(text: &str) -> bool {
    text.len() == 6
        && text.bytes().all(|b| b.is_ascii_digit())
        && chrono::NaiveDate::parse_from_str(&format!("20{text}"), "%Y%m%d").is_ok()
}

fn valid_hhmm(text: &str) -> bool {
    text.len() == 4
        && text.bytes().all(|b| b.is_ascii_digit())
        && text[..2].parse::<u8>().is_ok_and(|h| h < 24)
        && text[2..].parse::<u8>().is_ok_and(|m| m < 60)
}

/// Reads an ISA from bytes that start with `ISA`. Tolerates a header that is not fixed width
/// (the check reports it) by counting element separators instead of byte positions.
pub fn parse_isa(bytes: &[u8]) -> Result<IsaHeader, IsaError> {
    let element = *bytes.get(3).ok_or(IsaError::Truncated)?;
    if element.is_ascii_alphanumeric() || element == b' ' || element == b'\r' || element == b'\n' {
        return Err(IsaError::BadElementSeparator);
    }
    let mut fields = Vec::with_capacity(16);
    let mut position = 4;
    for _ in 0..15 {
        let rest = bytes.get(position..).ok_or(IsaError::Truncated)?;
        let length = memchr::memchr(element, rest).ok_or(IsaError::Truncated)?;
        fields.push(String::from_utf8_lossy(&rest[..length]).into_owned());
        position += length + 1;
    }
    // ISA16 is one byte, the segment terminator the next one.
    let component = *bytes.get(position).ok_or(IsaError::Truncated)?;
    let segment = *bytes.get(position + 1).ok_or(IsaError::Truncated)?;
    fields.push((component as char).to_string());
    let isa11 = fields[10].as_bytes();
    let repetition = (isa11.len() == 1 && !isa11[0].is_ascii_alphanumeric()).then(|| isa11[0]);
    Ok(IsaHeader { fields, delimiters: Delimiters { element, repetition, component, segment }, length: position + 2 })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &[u8] =
        b"ISA*00*          *00*          *ZZ*SUBMITTER      *ZZ*RECEIVER       *240101*1200*^*00501*000000001*0*P*:~";

    #[test]
    fn a_good_header() {
        let isa = parse_isa(GOOD).expect("parses");
        assert_eq!(isa.length, ISA_LENGTH);
        assert_eq!(isa.delimiters, Delimiters::OUTBOUND);
        assert_eq!(isa.control_number(), "000000001");
        assert_eq!(isa.check(), None);
    }

    #[test]
    fn notes_for_bad_headers() {
        let cases: &[(&[u8], Ta1Note)] = &[
            (b"ISA*00*          *00*          *ZZ*SUBMITTER      *ZZ*RECEIVER       *240101*3339*^*00501*000000001*0*P*:~", Ta1Note::InvalidTime),
            (b"ISA*00*          *00*          *ZZ*SUBMITTER      *ZZ*RECEIVER       *240101*1200*U*00401*000000001*0*P*:~", Ta1Note::VersionNotSupported),
            (b"ISA*00*          *00*          *ZZ*SUBMITTER      *ZZ*RECEIVER       *240101*1200*^*00501*000000001*0*P*^~", Ta1Note::InvalidComponentSeparator),
            (b"ISA*00*          *00*          *ZZ*SUBMITTER      *ZZ*RECEIVER  *240101*1200*^*00501*000000001*0*P*:~", Ta1Note::InvalidReceiverId),
            (b"ISA*00*          *00*          *ZZ*SUBMITTER      *ZZ*RECEIVER       *241301*1200*^*00501*000000001*0*P*:~", Ta1Note::InvalidDate),
            (b"ISA*00*          *00*          *ZZ*SUBMITTER      *ZZ*RECEIVER       *240101*1200*^*00501*00000001A*0*P*:~", Ta1Note::InvalidControlNumber),
            (b"ISA*00*          *00*          *ZZ*SUBMITTER      *ZZ*RECEIVER       *240101*1200*^*00501*000000001*2*P*:~", Ta1Note::InvalidAckRequested),
            (b"ISA*00*          *00*          *ZZ*SUBMITTER      *ZZ*RECEIVER       *240101*1200*^*00501*000000001*0*X*:~", Ta1Note::InvalidTestIndicator),
        ];
        for (bytes, note) in cases {
            let isa = parse_isa(bytes).expect("parses");
            assert_eq!(isa.check(), Some(*note), "{}", String::from_utf8_lossy(bytes));
        }
    }

    #[test]
    fn truncated() {
        assert_eq!(parse_isa(&GOOD[..50]), Err(IsaError::Truncated));
        assert_eq!(parse_isa(b"ISAX00"), Err(IsaError::BadElementSeparator));
    }
}
