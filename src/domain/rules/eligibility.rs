//! Intake checks that can reject a request before it becomes a case (SPEC §8): the member must be
//! on the roster with the date of birth sent and covered on the date of service, and the
//! requesting NPI must be well formed and, where the plan requires it, on file in the provider
//! registry. These are business rejects (AAA in the 278 response).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::domain::model::{CaseRequest, MemberRecord};

/// Why a request was rejected at intake. The X12 mapping turns these into AAA codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "snake_case")]
pub enum IntakeRejection {
    #[error("member not found on the roster")]
    MemberNotFound,
    #[error("date of birth does not match the roster")]
    BirthDateMismatch,
    /// The date of service is before the member's date of birth (a typo in either date, more
    /// often than not): told apart from "not covered" so the requester knows what to correct.
    #[error("date of service before the date of birth")]
    ServiceBeforeBirth,
    #[error("member not covered on the date of service")]
    NotCoveredOnDateOfService,
    #[error("requesting provider NPI is not valid")]
    InvalidRequestingProvider,
    #[error("request has no service line")]
    NoServiceLines,
    /// The plan requires requesting providers on file and this NPI is not in the registry (or
    /// not on file for the member's plan).
    #[error("requesting provider is not on file")]
    RequesterNotOnFile,
}

/// Checks the member and requesting provider; returns the roster entry to route with.
pub fn check_eligibility<'m>(
    request: &CaseRequest,
    member: Option<&'m MemberRecord>,
) -> Result<(&'m MemberRecord, NaiveDate), IntakeRejection> {
    let date_of_service = request.date_of_service().ok_or(IntakeRejection::NoServiceLines)?;
    let member = member.ok_or(IntakeRejection::MemberNotFound)?;
    if member.birth_date != request.member.birth_date {
        return Err(IntakeRejection::BirthDateMismatch);
    }
    if date_of_service < member.birth_date {
        return Err(IntakeRejection::ServiceBeforeBirth);
    }
    if !member.covered_on(date_of_service) {
        return Err(IntakeRejection::NotCoveredOnDateOfService);
    }
    if !npi_is_valid(&request.requesting_provider.npi) {
        return Err(IntakeRejection::InvalidRequestingProvider);
    }
    Ok((member, date_of_service))
}

/// NPI check digit: Luhn over the 9 digits prefixed with the card issuer prefix 80840.
pub fn npi_is_valid(npi: &str) -> bool {
    let bytes = npi.as_bytes();
    if bytes.len() != 10 || !bytes.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let digits: Vec<u32> = b"80840".iter().chain(&bytes[..9]).map(|b| u32::from(b - b'0')).collect();
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(index, &digit)| {
            if index % 2 == 0 {
                let doubled = digit * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                digit
            }
        })
        .sum();
    let check = (10 - sum % 10) % 10;
    check == u32::from(bytes[9] - b'0')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[allow(clippy::unwrap_used)]
    #[test]
    fn a_date_of_service_before_the_birth_date_is_told_apart_from_no_coverage() {
        use crate::domain::model::test_support::{sample_member, sample_request};
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        let member = MemberRecord { birth_date: day(2021, 6, 1), coverage_start: day(2021, 6, 1), ..sample_member() };
        let mut request = sample_request("J9263", day(2021, 5, 31));
        request.member.birth_date = member.birth_date;
        assert_eq!(check_eligibility(&request, Some(&member)).err(), Some(IntakeRejection::ServiceBeforeBirth));
        request.lines[0].service_from = day(2021, 6, 1);
        assert!(check_eligibility(&request, Some(&member)).is_ok(), "born that day: covered");
        let ended = MemberRecord { coverage_end: Some(day(2021, 6, 1)), ..member.clone() };
        request.lines[0].service_from = day(2021, 6, 2);
        assert_eq!(check_eligibility(&request, Some(&ended)).err(), Some(IntakeRejection::NotCoveredOnDateOfService));
    }

    #[test]
    fn npi_check_digit() {
        assert!(npi_is_valid("1234567893"));
        assert!(!npi_is_valid("1234567890"));
        assert!(!npi_is_valid("123456789"));
        assert!(!npi_is_valid("12345678a3"));
    }
}
