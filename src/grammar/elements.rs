//! Element-level checks of one segment against its usage: presence, repetitions, components,
//! lengths, data types, code lists and the X12 syntax rules between elements.

use super::errors::{ElementCode, ElementError};
use super::model::{DataType, ElementUsage, SegmentUsage, SyntaxRule, Usage};
use crate::x12::Delimiters;
use crate::x12::lexer::{components, repetitions};

/// Checks the elements of a segment (element 1 first) and returns the element errors.
pub fn check_elements(usage: &SegmentUsage, elements: &[&[u8]], delimiters: &Delimiters) -> Vec<ElementError> {
    let mut errors = Vec::new();
    for (index, definition) in usage.elements.iter().enumerate() {
        let value = elements.get(index).copied().unwrap_or(&[]);
        check_element(index + 1, definition, value, delimiters, &mut errors);
    }
    if elements.len() > usage.elements.len() {
        // Empty trailing elements past the definition are tolerated; data is not.
        if let Some(extra) = elements[usage.elements.len()..].iter().position(|e| !e.is_empty()) {
            let position = usage.elements.len() + extra + 1;
            errors.push(ElementError {
                position,
                component: None,
                repetition: None,
                reference: String::new(),
                code: ElementCode::TooManyElements,
                bad_value: None,
            });
        }
    }
    check_date_formats(usage, elements, &mut errors);
    let present = |position: usize| elements.get(position - 1).is_some_and(|e| !e.is_empty());
    for rule in &usage.rules {
        check_rule(rule, usage, &present, &mut errors);
    }
    // One report per element: a required element that is missing is not also a rule breach.
    errors.sort_by_key(|e| (e.position, e.component, e.repetition));
    errors.dedup_by_key(|e| (e.position, e.component, e.repetition));
    errors
}

fn check_element(
    position: usize,
    definition: &ElementUsage,
    value: &[u8],
    delimiters: &Delimiters,
    errors: &mut Vec<ElementError>,
) {
    if value.is_empty() {
        if definition.usage == Usage::Required {
            errors.push(element_error(position, definition, ElementCode::RequiredMissing, None, None, None));
        }
        return;
    }
    if definition.usage == Usage::NotUsed {
        errors.push(element_error(position, definition, ElementCode::NotUsedPresent, None, None, Some(value)));
        return;
    }
    // The hot path allocates nothing: repetitions and components are walked, not collected.
    if definition.repeat == 1 {
        if delimiters.repetition.is_some_and(|sep| value.contains(&sep)) {
            errors.push(element_error(position, definition, ElementCode::TooManyRepetitions, None, None, Some(value)));
            return;
        }
        check_repetition(position, definition, value, None, delimiters, errors);
        return;
    }
    if repetitions(value, delimiters).count() > definition.repeat as usize {
        errors.push(element_error(position, definition, ElementCode::TooManyRepetitions, None, None, Some(value)));
        return;
    }
    for (r, repetition) in repetitions(value, delimiters).enumerate() {
        check_repetition(position, definition, repetition, Some(r + 1), delimiters, errors);
    }
}

fn element_error(
    position: usize,
    definition: &ElementUsage,
    code: ElementCode,
    component: Option<usize>,
    repetition: Option<usize>,
    bad: Option<&[u8]>,
) -> ElementError {
    ElementError {
        position,
        component,
        repetition,
        reference: definition.ref_id.clone(),
        code,
        bad_value: bad.map(|b| String::from_utf8_lossy(b).into_owned()),
    }
}

fn check_repetition(
    position: usize,
    definition: &ElementUsage,
    value: &[u8],
    repetition: Option<usize>,
    delimiters: &Delimiters,
    errors: &mut Vec<ElementError>,
) {
    if !definition.is_composite() {
        if let Some(code) = check_simple(definition, value, delimiters) {
            errors.push(element_error(position, definition, code, None, repetition, Some(value)));
        }
        return;
    }
    let defined = definition.components.len();
    if components(value, delimiters).skip(defined).any(|part| !part.is_empty()) {
        errors.push(element_error(position, definition, ElementCode::TooManyComponents, None, repetition, Some(value)));
        return;
    }
    let mut parts = components(value, delimiters);
    for (c, component) in definition.components.iter().enumerate() {
        let part = parts.next().unwrap_or(&[]);
        let code = if part.is_empty() {
            (component.usage == Usage::Required).then_some(ElementCode::RequiredMissing)
        } else if component.usage == Usage::NotUsed {
            Some(ElementCode::NotUsedPresent)
        } else {
            check_simple(component, part, delimiters)
        };
        if let Some(code) = code {
            let bad = (!part.is_empty()).then_some(part);
            errors.push(element_error(position, component, code, Some(c + 1), repetition, bad));
        }
    }
}

/// The first problem of a simple (non-composite) value that is present.
pub fn check_simple(definition: &ElementUsage, value: &[u8], delimiters: &Delimiters) -> Option<ElementCode> {
    if value.iter().any(|b| *b < 0x20 || *b == 0x7f || *b == delimiters.component) {
        return Some(ElementCode::InvalidCharacter);
    }
    let data_type = definition.data_type?;
    let length = match data_type {
        DataType::Numeric(_) | DataType::Decimal => value.iter().filter(|b| b.is_ascii_digit()).count(),
        _ => value.len(),
    };
    match data_type {
        DataType::Numeric(_) if !is_numeric(value) => return Some(ElementCode::InvalidCharacter),
        DataType::Decimal if !is_decimal(value) => return Some(ElementCode::InvalidCharacter),
        DataType::Date if !is_date(value) => return Some(ElementCode::InvalidDate),
        DataType::Time if !is_time(value) => return Some(ElementCode::InvalidTime),
        _ => {}
    }
    if length < definition.min as usize {
        return Some(ElementCode::TooShort);
    }
    if length > definition.max as usize {
        return Some(ElementCode::TooLong);
    }
    if let Some(codes) = &definition.codes {
        if !codes.iter().any(|code| code.as_bytes() == value) {
            return Some(ElementCode::InvalidCode);
        }
    }
    None
}

/// Data element 1250 (date/time period format qualifier) says how the 1251 after it is written:
/// a rule of the X12 data dictionary, so it holds in every guide.
fn check_date_formats(usage: &SegmentUsage, elements: &[&[u8]], errors: &mut Vec<ElementError>) {
    for (index, pair) in usage.elements.windows(2).enumerate() {
        if pair[0].ref_id != "1250" || pair[1].ref_id != "1251" {
            continue;
        }
        let (Some(format), Some(value)) = (elements.get(index), elements.get(index + 1)) else { continue };
        if value.is_empty() || errors.iter().any(|e| e.position == index + 2) {
            continue;
        }
        let valid = match *format {
            b"D8" => value.len() == 8 && is_date(value),
            b"RD8" => {
                value.len() == 17
                    && value[8] == b'-'
                    && is_date(&value[..8])
                    && is_date(&value[9..])
                    && value[..8] <= value[9..]
            }
            b"DT" => value.len() == 12 && is_date(&value[..8]) && is_time(&value[8..]),
            b"TM" => is_time(value),
            _ => true,
        };
        if !valid {
            errors.push(ElementError {
                position: index + 2,
                component: None,
                repetition: None,
                reference: "1251".into(),
                code: if *format == b"TM" { ElementCode::InvalidTime } else { ElementCode::InvalidDate },
                bad_value: Some(String::from_utf8_lossy(value).into_owned()),
            });
        }
    }
}

fn is_numeric(value: &[u8]) -> bool {
    let digits = value.strip_prefix(b"-").unwrap_or(value);
    !digits.is_empty() && digits.iter().all(u8::is_ascii_digit)
}

fn is_decimal(value: &[u8]) -> bool {
    let body = value.strip_prefix(b"-").unwrap_or(value);
    let mut dots = 0;
    let mut digits = 0;
    for b in body {
        match b {
            b'.' => dots += 1,
            b'0'..=b'9' => digits += 1,
            _ => return false,
        }
    }
    dots <= 1 && digits > 0
}

/// CCYYMMDD, or YYMMDD (6 digits, read as 20YY), a real calendar date. Checked by hand: dates
/// are in most segments, and a general date parser costs more than the rest of the segment.
pub fn is_date(value: &[u8]) -> bool {
    if !value.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let number = |digits: &[u8]| digits.iter().fold(0u32, |n, d| n * 10 + u32::from(d - b'0'));
    let (year, rest) = match value.len() {
        8 => (number(&value[..4]), &value[4..]),
        6 => (2000 + number(&value[..2]), &value[2..]),
        _ => return false,
    };
    let (month, day) = (number(&rest[..2]), number(&rest[2..]));
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days_in_month).contains(&day)
}

/// HHMM, HHMMSS or HHMMSSd..d with real hours, minutes and seconds.
pub fn is_time(value: &[u8]) -> bool {
    if !value.iter().all(u8::is_ascii_digit) || !matches!(value.len(), 4 | 6 | 7 | 8) {
        return false;
    }
    let two = |i: usize| (value[i] - b'0') * 10 + (value[i + 1] - b'0');
    two(0) < 24 && two(2) < 60 && (value.len() < 6 || two(4) < 60)
}

fn check_rule(
    rule: &SyntaxRule,
    usage: &SegmentUsage,
    present: &dyn Fn(usize) -> bool,
    errors: &mut Vec<ElementError>,
) {
    let missing = |position: usize, code: ElementCode| ElementError {
        position,
        component: None,
        repetition: None,
        reference: usage.elements.get(position - 1).map(|e| e.ref_id.clone()).unwrap_or_default(),
        code,
        bad_value: None,
    };
    match rule {
        SyntaxRule::Paired(positions) => {
            if positions.iter().any(|p| present(*p)) {
                for p in positions.iter().filter(|p| !present(**p)) {
                    errors.push(missing(*p, ElementCode::ConditionalRequiredMissing));
                }
            }
        }
        SyntaxRule::AtLeastOne(positions) => {
            if !positions.iter().any(|p| present(*p)) {
                errors.push(missing(positions[0], ElementCode::ConditionalRequiredMissing));
            }
        }
        SyntaxRule::Exclusion(positions) => {
            if let Some(second) = positions.iter().filter(|p| present(**p)).nth(1) {
                errors.push(missing(*second, ElementCode::ExclusionViolated));
            }
        }
        SyntaxRule::Conditional(first, rest) => {
            if present(*first) {
                for p in rest.iter().filter(|p| !present(**p)) {
                    errors.push(missing(*p, ElementCode::ConditionalRequiredMissing));
                }
            }
        }
        SyntaxRule::ListConditional(first, rest) => {
            if present(*first) && !rest.iter().any(|p| present(*p)) {
                errors.push(missing(rest[0], ElementCode::ConditionalRequiredMissing));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_times() {
        assert!(is_date(b"20240229") && !is_date(b"20230229") && is_date(b"240101") && !is_date(b"2024010"));
        assert!(is_date(b"20000229") && !is_date(b"19000229") && !is_date(b"20241301") && !is_date(b"20240100"));
        assert!(is_date(b"20241231") && !is_date(b"20240431") && !is_date(b"2024-1-01") && !is_date(b"20240132"));
        assert!(
            is_time(b"1200") && is_time(b"235959") && is_time(b"1030451") && !is_time(b"3339") && !is_time(b"1260")
        );
    }

    #[test]
    fn numbers() {
        assert!(is_numeric(b"-12") && !is_numeric(b"1.2") && !is_numeric(b"-"));
        assert!(is_decimal(b"10.00") && is_decimal(b"-.5") && !is_decimal(b"1.2.3") && !is_decimal(b"."));
    }
}
