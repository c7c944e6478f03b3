//! Why a valid 278 request cannot become a case: a business value the guide lets through but
//! the UM intake needs (member ID, date of birth, a date of service, a procedure code) is missing
//! or unreadable. Each problem names the loop where it lies and the AAA codes that answer it.
//! Display never shows the values themselves (they are protected health information).

use std::fmt;

/// Where in the 278 request a problem lies (the response carries its AAA there).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Location {
    /// 2010A: the UMO.
    Umo,
    /// 2010B: the requester.
    Requester,
    /// 2010C: the subscriber.
    Subscriber,
    /// 2010D: the dependent.
    Dependent,
    /// 2000E: the patient event.
    Event,
    /// 2000F: the service line at this index (0-based, in document order).
    ServiceLine(usize),
}

impl Location {
    /// The guide's loop id.
    pub fn loop_id(self) -> &'static str {
        match self {
            Location::Umo => "2010A",
            Location::Requester => "2010B",
            Location::Subscriber => "2010C",
            Location::Dependent => "2010D",
            Location::Event => "2000E",
            Location::ServiceLine(_) => "2000F",
        }
    }
}

/// What is wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProblemKind {
    MissingMemberId,
    MissingBirthDate,
    InvalidBirthDate,
    MissingRequesterNpi,
    NoPatientEvent,
    NoServiceLines,
    MissingDateOfService,
    InvalidDateOfService,
    MissingProcedureCode,
    InvalidQuantity,
}

impl ProblemKind {
    /// AAA03 (reject reason, X12 element 901) from the list the guide gives at that loop.
    pub fn reject_reason(self) -> &'static str {
        match self {
            // Invalid/Missing Subscriber/Insured ID.
            ProblemKind::MissingMemberId => "72",
            // Invalid/Missing Date-of-Birth.
            ProblemKind::MissingBirthDate | ProblemKind::InvalidBirthDate => "58",
            // Invalid/Missing Provider Identification.
            ProblemKind::MissingRequesterNpi => "43",
            // Required application data missing.
            ProblemKind::NoPatientEvent | ProblemKind::NoServiceLines | ProblemKind::MissingProcedureCode => "15",
            // Invalid/Missing Date(s) of Service.
            ProblemKind::MissingDateOfService | ProblemKind::InvalidDateOfService => "57",
            // Input Errors.
            ProblemKind::InvalidQuantity => "33",
        }
    }

    /// AAA04 follow-up action: every mapping problem can be corrected by the submitter.
    pub fn follow_up(self) -> &'static str {
        "C"
    }

    fn describe(self) -> &'static str {
        match self {
            ProblemKind::MissingMemberId => "member ID missing",
            ProblemKind::MissingBirthDate => "date of birth missing",
            ProblemKind::InvalidBirthDate => "date of birth unreadable",
            ProblemKind::MissingRequesterNpi => "requester NPI missing",
            ProblemKind::NoPatientEvent => "no patient event",
            ProblemKind::NoServiceLines => "no service line",
            ProblemKind::MissingDateOfService => "date of service missing",
            ProblemKind::InvalidDateOfService => "date of service unreadable",
            ProblemKind::MissingProcedureCode => "procedure code missing",
            ProblemKind::InvalidQuantity => "quantity is not a whole positive number",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Problem {
    pub location: Location,
    pub kind: ProblemKind,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.location {
            Location::ServiceLine(index) => write!(f, "2000F #{}: {}", index + 1, self.kind.describe()),
            location => write!(f, "{}: {}", location.loop_id(), self.kind.describe()),
        }
    }
}

/// A 278 request that cannot be mapped to a case; never empty.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct MappingError {
    pub problems: Vec<Problem>,
}

impl fmt::Display for MappingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "278 request cannot be mapped: ")?;
        for (i, problem) in self.problems.iter().enumerate() {
            if i > 0 {
                write!(f, "; ")?;
            }
            write!(f, "{problem}")?;
        }
        Ok(())
    }
}
