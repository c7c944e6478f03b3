//! Determination arithmetic shared by intake and review: the approved period (validity from the
//! policy, counted from the determination) and the approved lines and quantities.

use chrono::NaiveDate;

use crate::domain::calendar::validity_end;
use crate::domain::model::{Case, LineStatus, Quantity};
use crate::domain::terms::{Cited, UmPolicy, Validity};

/// Which validity applies to an approval, and from when it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ValidityRule<'a> {
    pub validity: Option<&'a Cited<Validity>>,
    /// Counted from the requested start of service instead of the determination.
    pub from_requested_start: bool,
}

/// The approved period for lines starting at `earliest_service` and decided on `decided`, and
/// the configuration entry of the validity used (if any). Without a configured validity the
/// period is the requested dates.
pub fn approval_period<P: UmPolicy + ?Sized>(
    policy: &P,
    plan: &str,
    rule: ValidityRule<'_>,
    earliest_service: NaiveDate,
    latest_service: NaiveDate,
    decided: NaiveDate,
) -> (NaiveDate, NaiveDate, Option<String>) {
    match rule.validity {
        Some(validity) => {
            // A validity runs from the determination (or the requested start): the period starts
            // then, or at the date of service of a retrospective request.
            let from = earliest_service.min(decided);
            let counted_from = if rule.from_requested_start { earliest_service } else { decided };
            (
                from,
                validity_end(policy, plan, validity.value, counted_from).max(from),
                Some(validity.config_path.clone()),
            )
        }
        None => (earliest_service, latest_service.max(earliest_service), None),
    }
}

/// How one line ends up in a reviewer's or the rules' determination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineOutcome {
    Approve,
    /// Approved with changes (fewer units, alternative).
    Modify(Option<Quantity>),
    Deny,
}

/// Applies per-line outcomes to the lines still pending, with the approved period on the
/// approved ones. Returns the config path of the validity used.
pub fn apply_line_outcomes<P: UmPolicy + ?Sized>(
    policy: &P,
    case: &mut Case,
    rule: ValidityRule<'_>,
    outcomes: &[LineOutcome],
    decided: NaiveDate,
) -> Option<String> {
    let approving: Vec<usize> = (0..case.lines.len())
        .filter(|&index| {
            case.lines[index].status == LineStatus::Pending
                && matches!(outcomes.get(index), Some(LineOutcome::Approve | LineOutcome::Modify(_)))
        })
        .collect();
    let earliest = approving.iter().map(|&index| case.lines[index].requested.service_from).min();
    let latest = approving
        .iter()
        .map(|&index| {
            let line = &case.lines[index].requested;
            line.service_to.unwrap_or(line.service_from)
        })
        .max();
    let mut validity_path = None;
    let period = match (earliest, latest) {
        (Some(earliest), Some(latest)) => {
            let (from, to, path) = approval_period(policy, &case.plan, rule, earliest, latest, decided);
            validity_path = path;
            Some((from, to))
        }
        _ => None,
    };
    for (index, line) in case.lines.iter_mut().enumerate() {
        if line.status != LineStatus::Pending {
            continue;
        }
        match outcomes.get(index).copied().unwrap_or(LineOutcome::Deny) {
            LineOutcome::Approve => {
                line.status = LineStatus::Approved;
                line.approved_quantity = line.requested.quantity;
            }
            LineOutcome::Modify(quantity) => {
                line.status = LineStatus::Modified;
                line.approved_quantity = quantity.or(line.requested.quantity);
            }
            LineOutcome::Deny => {
                line.status = LineStatus::Denied;
                continue;
            }
        }
        if let Some((from, to)) = period {
            line.approved_from = Some(from);
            line.approved_to = Some(to);
        }
    }
    if let Some((from, to)) = period {
        case.approved_from = Some(from);
        case.approved_to = Some(to);
    }
    validity_path
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::domain::model::test_support::sample_case;
    use crate::domain::model::{CaseStatus, QuantityKind};
    use crate::domain::terms::cited;
    use crate::domain::terms::test_support::WeekdayPolicy;
    use chrono::{TimeZone, Utc};

    #[test]
    fn lines_get_the_period_and_quantities_without_validity_the_requested_dates() {
        let received = Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap();
        let mut case = sample_case("C1", received);
        case.lines[0].requested.quantity = Some(Quantity { kind: QuantityKind::Visits, value: 12 });
        case.lines[0].requested.service_to = NaiveDate::from_ymd_opt(2026, 4, 30);
        let mut second = case.lines[0].clone();
        second.requested.service_code = "J0640".into();
        case.lines.push(second);
        case.status = CaseStatus::Pended;
        let path = apply_line_outcomes(
            &WeekdayPolicy { holidays: vec![] },
            &mut case,
            ValidityRule { validity: None, from_requested_start: false },
            &[LineOutcome::Modify(Some(Quantity { kind: QuantityKind::Visits, value: 8 })), LineOutcome::Deny],
            received.date_naive(),
        );
        assert_eq!(path, None);
        assert_eq!(case.lines[0].status, LineStatus::Modified);
        assert_eq!(case.lines[0].approved_quantity.map(|q| q.value), Some(8));
        assert_eq!(case.lines[0].approved_to, NaiveDate::from_ymd_opt(2026, 4, 30));
        assert_eq!(case.lines[1].status, LineStatus::Denied);
        assert_eq!(case.lines[1].approved_from, None);
        assert_eq!(case.approved_from, Some(received.date_naive()));
    }

    #[test]
    fn without_validity_a_future_request_is_approved_for_its_requested_dates() {
        let day = |m, d| NaiveDate::from_ymd_opt(2026, m, d).unwrap();
        let none = ValidityRule { validity: None, from_requested_start: false };
        // Decided on 03-04 for services 03-09 to 05-08: the approval does not start before them.
        assert_eq!(
            approval_period(&WeekdayPolicy { holidays: vec![] }, "p", none, day(3, 9), day(5, 8), day(3, 4)),
            (day(3, 9), day(5, 8), None)
        );
        // Retrospective: the requested dates too.
        assert_eq!(
            approval_period(&WeekdayPolicy { holidays: vec![] }, "p", none, day(2, 2), day(2, 20), day(3, 4)),
            (day(2, 2), day(2, 20), None)
        );
    }

    #[test]
    fn validity_counts_from_the_determination_or_the_requested_start() {
        let day = |m, d| NaiveDate::from_ymd_opt(2026, m, d).unwrap();
        let sixty = cited(Validity::Days(60), "test.validity");
        let from_decision = ValidityRule { validity: Some(&sixty), from_requested_start: false };
        assert_eq!(
            approval_period(&WeekdayPolicy { holidays: vec![] }, "p", from_decision, day(3, 10), day(3, 10), day(3, 2)),
            (day(3, 2), day(5, 1), Some("test.validity".into()))
        );
        let from_start = ValidityRule { validity: Some(&sixty), from_requested_start: true };
        assert_eq!(
            approval_period(&WeekdayPolicy { holidays: vec![] }, "p", from_start, day(3, 10), day(3, 10), day(3, 2)).1,
            day(5, 9)
        );
    }
}
