//! Day arithmetic on a plan's calendar: business days skip weekends and the plan's holidays
//! (the policy decides which days are business days); windows and decision clocks use these.

use chrono::{DateTime, Days, Duration, Months, NaiveDate, Utc};

use super::terms::{DayCount, DecisionTime, UmPolicy, Validity};

/// `day` moved forward by `count` business days of `plan`.
pub fn add_business_days<P: UmPolicy + ?Sized>(policy: &P, plan: &str, day: NaiveDate, count: u32) -> NaiveDate {
    let mut current = day;
    let mut left = count;
    while left > 0 {
        match current.succ_opt() {
            Some(next) => current = next,
            None => return current,
        }
        if policy.is_business_day(plan, current) {
            left -= 1;
        }
    }
    current
}

/// Business days `d` of `plan` with `from < d <= to` (0 when `to <= from`).
pub fn business_days_after<P: UmPolicy + ?Sized>(policy: &P, plan: &str, from: NaiveDate, to: NaiveDate) -> u32 {
    from.iter_days().skip(1).take_while(|day| *day <= to).filter(|day| policy.is_business_day(plan, *day)).count()
        as u32
}

/// Whether `to` lies more than `window` after `from` (the day `from` itself is day 0).
pub fn beyond_window<P: UmPolicy + ?Sized>(
    policy: &P,
    plan: &str,
    window: DayCount,
    from: NaiveDate,
    to: NaiveDate,
) -> bool {
    match window {
        DayCount::Calendar(days) => (to - from).num_days() > i64::from(days),
        DayCount::Business(days) => business_days_after(policy, plan, from, to) > days,
        DayCount::Months(months) => from.checked_add_months(Months::new(months)).is_none_or(|end| to > end),
    }
}

/// The last day inside `window` after `from`.
pub fn window_end<P: UmPolicy + ?Sized>(policy: &P, plan: &str, window: DayCount, from: NaiveDate) -> NaiveDate {
    match window {
        DayCount::Calendar(days) => from.checked_add_days(Days::new(u64::from(days))).unwrap_or(from),
        DayCount::Business(days) => add_business_days(policy, plan, from, days),
        DayCount::Months(months) => from.checked_add_months(Months::new(months)).unwrap_or(from),
    }
}

/// When a decision received at `received` is due.
pub fn decision_due<P: UmPolicy + ?Sized>(
    policy: &P,
    plan: &str,
    time: DecisionTime,
    received: DateTime<Utc>,
) -> DateTime<Utc> {
    match time {
        DecisionTime::Hours(hours) => received + Duration::hours(i64::from(hours)),
        DecisionTime::CalendarDays(days) => received + Duration::days(i64::from(days)),
        DecisionTime::Months(months) => received.checked_add_months(Months::new(months)).unwrap_or(received),
        DecisionTime::BusinessDays(days) => {
            let date = add_business_days(policy, plan, received.date_naive(), days);
            received + Duration::days((date - received.date_naive()).num_days())
        }
    }
}

/// The last day of an approval valid `validity` from `decided`.
pub fn validity_end<P: UmPolicy + ?Sized>(policy: &P, plan: &str, validity: Validity, decided: NaiveDate) -> NaiveDate {
    match validity {
        Validity::Days(days) => decided.checked_add_days(Days::new(u64::from(days))).unwrap_or(decided),
        Validity::BusinessDays(days) => add_business_days(policy, plan, decided, days),
        Validity::Months(months) => decided.checked_add_months(Months::new(months)).unwrap_or(decided),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::domain::terms::test_support::WeekdayPolicy;
    use chrono::TimeZone;

    fn day(m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, d).unwrap()
    }

    #[test]
    fn business_days_skip_weekends_and_holidays() {
        // 2026-07-03 (Friday) is the holiday of the test policy.
        let policy = WeekdayPolicy { holidays: vec![day(7, 3)] };
        assert_eq!(add_business_days(&policy, "p", day(7, 2), 1), day(7, 6));
        assert_eq!(business_days_after(&policy, "p", day(7, 2), day(7, 6)), 1);
        assert_eq!(business_days_after(&policy, "p", day(7, 6), day(7, 2)), 0);
        assert!(!beyond_window(&policy, "p", DayCount::Business(1), day(7, 2), day(7, 6)));
        assert!(beyond_window(&policy, "p", DayCount::Business(1), day(7, 2), day(7, 7)));
        assert!(!beyond_window(&policy, "p", DayCount::Calendar(30), day(7, 1), day(7, 31)));
        assert!(beyond_window(&policy, "p", DayCount::Calendar(30), day(7, 1), day(8, 1)));
    }

    #[test]
    fn decision_clock_in_hours_and_business_days() {
        let policy = WeekdayPolicy { holidays: vec![] };
        let friday = Utc.with_ymd_and_hms(2026, 7, 10, 15, 0, 0).unwrap();
        assert_eq!(
            decision_due(&policy, "p", DecisionTime::Hours(24), friday),
            Utc.with_ymd_and_hms(2026, 7, 11, 15, 0, 0).unwrap()
        );
        assert_eq!(
            decision_due(&policy, "p", DecisionTime::BusinessDays(2), friday),
            Utc.with_ymd_and_hms(2026, 7, 14, 15, 0, 0).unwrap()
        );
        assert_eq!(validity_end(&policy, "p", Validity::Months(8), day(1, 31)), day(9, 30));
    }
}
