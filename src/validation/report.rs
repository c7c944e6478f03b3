//! What validation found, per interchange, functional group and transaction set: the data the
//! 999 and TA1 are written from, and the JSON lines of `umgate validate --json` (SPEC section 9).

use serde::Serialize;

use crate::grammar::SegmentError;
use crate::x12::{Delimiters, IsaHeader, Ta1Note};

/// Acknowledgment codes (TA104, IK501, AK901).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Ack {
    #[serde(rename = "A")]
    Accepted,
    #[serde(rename = "E")]
    AcceptedWithErrors,
    #[serde(rename = "P")]
    PartiallyAccepted,
    #[serde(rename = "R")]
    Rejected,
}

impl Ack {
    pub fn code(self) -> &'static str {
        match self {
            Ack::Accepted => "A",
            Ack::AcceptedWithErrors => "E",
            Ack::PartiallyAccepted => "P",
            Ack::Rejected => "R",
        }
    }
}

/// IK502..IK506: transaction set syntax error codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum SetCode {
    NotSupported,
    TrailerMissing,
    ControlNumberMismatch,
    SegmentCountMismatch,
    SegmentsInError,
    InvalidSetIdentifier,
    InvalidControlNumber,
    ControlNumberNotUnique,
    ConventionNotSupported,
}

impl SetCode {
    pub fn code(self) -> &'static str {
        match self {
            SetCode::NotSupported => "1",
            SetCode::TrailerMissing => "2",
            SetCode::ControlNumberMismatch => "3",
            SetCode::SegmentCountMismatch => "4",
            SetCode::SegmentsInError => "5",
            SetCode::InvalidSetIdentifier => "6",
            SetCode::InvalidControlNumber => "7",
            SetCode::ControlNumberNotUnique => "23",
            SetCode::ConventionNotSupported => "I6",
        }
    }
}

/// AK905..AK909: functional group syntax error codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum GroupCode {
    NotSupported,
    VersionNotSupported,
    TrailerMissing,
    ControlNumberMismatch,
    SetCountMismatch,
    InvalidControlNumber,
}

impl GroupCode {
    pub fn code(self) -> &'static str {
        match self {
            GroupCode::NotSupported => "1",
            GroupCode::VersionNotSupported => "2",
            GroupCode::TrailerMissing => "3",
            GroupCode::ControlNumberMismatch => "4",
            GroupCode::SetCountMismatch => "5",
            GroupCode::InvalidControlNumber => "6",
        }
    }
}

#[derive(Debug, Clone)]
pub struct SetReport {
    pub st01: String,
    pub st02: String,
    pub st03: String,
    /// The guide and transaction the set was validated against (empty when not supported).
    pub guide: String,
    pub transaction: String,
    pub ack: Ack,
    pub codes: Vec<SetCode>,
    pub errors: Vec<SegmentError>,
    /// Business unit identifier for CTX (e.g. `TRN02` and its value), where the guide has one.
    pub business_unit: Option<(String, String)>,
    /// Segments from ST to SE inclusive.
    pub segment_count: u32,
}

#[derive(Debug, Clone)]
pub struct GroupReport {
    pub gs01: String,
    pub gs02: String,
    pub gs03: String,
    pub gs06: String,
    pub gs08: String,
    pub ack: Ack,
    pub codes: Vec<GroupCode>,
    pub sets: Vec<SetReport>,
    /// GE01 as received, when readable.
    pub declared_sets: Option<u32>,
}

impl GroupReport {
    pub fn accepted_sets(&self) -> usize {
        self.sets.iter().filter(|s| s.ack != Ack::Rejected).count()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ta1Result {
    pub ack: Ack,
    pub note: Ta1Note,
}

#[derive(Debug, Clone)]
pub struct InterchangeReport {
    pub file: String,
    /// Byte offset of the ISA in the file.
    pub offset: u64,
    /// The header as received; `None` when it could not be read.
    pub header: Option<IsaHeader>,
    pub ta1: Option<Ta1Result>,
    pub groups: Vec<GroupReport>,
    /// A problem that stopped reading (not X12, unreadable header), for the user.
    pub problem: Option<String>,
    /// The interchange carries TA1 segments: it is an acknowledgment itself, logged and never
    /// answered with another TA1.
    pub acknowledgment: bool,
}

impl InterchangeReport {
    pub fn isa13(&self) -> Option<&str> {
        self.header.as_ref().map(IsaHeader::control_number)
    }

    pub fn delimiters(&self) -> Option<Delimiters> {
        self.header.as_ref().map(|h| h.delimiters)
    }

    /// Whether the interchange was rejected as a whole (TA1 R or unreadable).
    pub fn rejected(&self) -> bool {
        self.ta1.is_some_and(|t| t.ack == Ack::Rejected) || self.problem.is_some()
    }

    /// True when every group was accepted (A or E) and the interchange itself was not rejected.
    pub fn all_accepted(&self) -> bool {
        !self.rejected() && self.groups.iter().all(|g| matches!(g.ack, Ack::Accepted | Ack::AcceptedWithErrors))
    }

    /// The JSON line of `umgate validate --json`.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::json;
        let groups: Vec<_> = self
            .groups
            .iter()
            .map(|group| {
                let sets: Vec<_> = group
                    .sets
                    .iter()
                    .map(|set| {
                        let mut errors = Vec::new();
                        for error in &set.errors {
                            if error.elements.is_empty() {
                                errors.push(json!({
                                    "segment": error.segment_id, "position": error.position, "loop": error.loop_id,
                                    "code": error.code.code(), "element": null, "component": null, "element_code": null,
                                }));
                            }
                            for element in &error.elements {
                                errors.push(json!({
                                    "segment": error.segment_id, "position": error.position, "loop": error.loop_id,
                                    "code": error.code.code(), "element": element.position, "component": element.component,
                                    "element_code": element.code.code(),
                                }));
                            }
                        }
                        json!({
                            "st01": set.st01, "st02": set.st02, "ack": set.ack.code(),
                            "codes": set.codes.iter().map(|c| c.code()).collect::<Vec<_>>(),
                            "guide": set.guide, "transaction": set.transaction, "errors": errors,
                        })
                    })
                    .collect();
                json!({
                    "gs06": group.gs06, "ack": group.ack.code(),
                    "codes": group.codes.iter().map(|c| c.code()).collect::<Vec<_>>(),
                    "sets": sets,
                })
            })
            .collect();
        let mut line = json!({
            "file": self.file,
            "isa13": self.isa13(),
            "ta1": self.ta1.map(|t| json!({"ack": t.ack.code(), "note_code": t.note.code()})),
            "groups": groups,
        });
        if let Some(problem) = &self.problem {
            line["problem"] = json!(problem);
        }
        line
    }
}
