//! Business-day arithmetic on a named holiday calendar.
//!
//! Why: decision clocks, retro windows and therapy timing count business days (SPEC section 4),
//! and a business day is Monday to Friday except the plan calendar's holidays. Calendar days and
//! months are here too so that every [`TimeLimit`] is applied in one place.

use std::collections::BTreeSet;

use chrono::{DateTime, Datelike, Days, Months, NaiveDate, NaiveTime, TimeDelta, Utc, Weekday};

use super::model::TimeLimit;

/// A holiday calendar (weekends are always non-business days).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Calendar {
    name: String,
    holidays: BTreeSet<NaiveDate>,
}

impl Calendar {
    pub fn new(name: impl Into<String>, holidays: impl IntoIterator<Item = NaiveDate>) -> Self {
        Self { name: name.into(), holidays: holidays.into_iter().collect() }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn holidays(&self) -> impl Iterator<Item = NaiveDate> + '_ {
        self.holidays.iter().copied()
    }

    pub fn is_holiday(&self, date: NaiveDate) -> bool {
        self.holidays.contains(&date)
    }

    /// Monday to Friday and not a holiday.
    pub fn is_business_day(&self, date: NaiveDate) -> bool {
        !matches!(date.weekday(), Weekday::Sat | Weekday::Sun) && !self.is_holiday(date)
    }

    /// The date `n` business days after `date` (`date` itself does not count, whatever it is).
    /// `n = 0` gives `date` back. `None` only past the end of chrono's dates.
    pub fn add_business_days(&self, date: NaiveDate, n: u32) -> Option<NaiveDate> {
        let mut current = date;
        let mut left = n;
        while left > 0 {
            current = current.succ_opt()?;
            if self.is_business_day(current) {
                left -= 1;
            }
        }
        Some(current)
    }

    /// Business days in (`from`, `to`]: how many business days after `from` `to` is. Zero when
    /// `to <= from`.
    pub fn business_days_between(&self, from: NaiveDate, to: NaiveDate) -> u32 {
        let mut count = 0u32;
        let mut current = from;
        while current < to {
            match current.succ_opt() {
                Some(next) => current = next,
                None => break,
            }
            if self.is_business_day(current) {
                count = count.saturating_add(1);
            }
        }
        count
    }

    /// The first business day on or after `date`.
    pub fn next_business_day_on_or_after(&self, date: NaiveDate) -> Option<NaiveDate> {
        let mut current = date;
        while !self.is_business_day(current) {
            current = current.succ_opt()?;
        }
        Some(current)
    }

    /// The last date inside a limit that starts on `date`: `date` + the limit in its unit
    /// (hours: the day on which they end, counted from the start of `date`). Used for windows such as "retro requests within N
    /// calendar days of the date of service" (inside when the arrival date ≤ this date).
    pub fn last_day_within(&self, date: NaiveDate, limit: TimeLimit) -> Option<NaiveDate> {
        match limit {
            TimeLimit::Hours(hours) => {
                // The day on which the last hour ends, counting from the start of `date`.
                let end = date.and_time(NaiveTime::MIN).checked_add_signed(TimeDelta::hours(i64::from(hours)))?;
                if end.time() == NaiveTime::MIN { end.date().pred_opt() } else { Some(end.date()) }
                    .map(|last| last.max(date))
            }
            TimeLimit::BusinessDays(n) => self.add_business_days(date, n),
            TimeLimit::CalendarDays(n) => date.checked_add_days(Days::new(u64::from(n))),
            TimeLimit::Months(n) => date.checked_add_months(Months::new(n)),
        }
    }

    /// Whether `date` falls within `limit` after `start` (inclusive).
    pub fn is_within(&self, start: NaiveDate, date: NaiveDate, limit: TimeLimit) -> bool {
        self.last_day_within(start, limit).is_some_and(|last| date <= last)
    }

    /// The deadline `limit` after the instant `start` (UTC): hours are added as hours; day counts
    /// keep the time of day; months are calendar months.
    pub fn deadline_after(&self, start: DateTime<Utc>, limit: TimeLimit) -> Option<DateTime<Utc>> {
        match limit {
            TimeLimit::Hours(hours) => start.checked_add_signed(TimeDelta::hours(i64::from(hours))),
            TimeLimit::BusinessDays(_) | TimeLimit::CalendarDays(_) | TimeLimit::Months(_) => {
                let date = self.last_day_within(start.date_naive(), limit)?;
                Some(date.and_time(start.time()).and_utc())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn us() -> Calendar {
        // Thanksgiving 2026-11-26, Christmas 2026-12-25 (Fri), New Year 2027-01-01 (Fri).
        Calendar::new("test", [d(2026, 11, 26), d(2026, 12, 25), d(2027, 1, 1)])
    }

    #[test]
    fn weekends_and_holidays_are_not_business_days() {
        let cal = us();
        assert!(cal.is_business_day(d(2026, 11, 23))); // Monday
        assert!(!cal.is_business_day(d(2026, 11, 28))); // Saturday
        assert!(!cal.is_business_day(d(2026, 11, 29))); // Sunday
        assert!(!cal.is_business_day(d(2026, 11, 26))); // holiday on a Thursday
        assert!(cal.is_business_day(d(2026, 11, 27)));
    }

    #[test]
    fn adding_business_days_skips_weekends_and_holidays() {
        let cal = us();
        assert_eq!(cal.add_business_days(d(2026, 11, 23), 0), Some(d(2026, 11, 23)));
        assert_eq!(cal.add_business_days(d(2026, 11, 23), 2), Some(d(2026, 11, 25)));
        // Wed + 2: Thu is a holiday, Fri counts, Sat/Sun skipped, Mon counts.
        assert_eq!(cal.add_business_days(d(2026, 11, 25), 2), Some(d(2026, 11, 30)));
        // From a Saturday: Monday is the first business day.
        assert_eq!(cal.add_business_days(d(2026, 11, 28), 1), Some(d(2026, 11, 30)));
    }

    #[test]
    fn year_end_crosses_two_friday_holidays() {
        let cal = us();
        // Thu 2026-12-24 + 1: Fri 25 holiday, weekend → Mon 28.
        assert_eq!(cal.add_business_days(d(2026, 12, 24), 1), Some(d(2026, 12, 28)));
        // Thu 2026-12-31 + 1: Fri 2027-01-01 holiday, weekend → Mon 2027-01-04.
        assert_eq!(cal.add_business_days(d(2026, 12, 31), 1), Some(d(2027, 1, 4)));
        assert_eq!(cal.business_days_between(d(2026, 12, 24), d(2027, 1, 4)), 5);
    }

    #[test]
    fn counting_is_the_inverse_of_adding() {
        let cal = us();
        let start = d(2026, 11, 20);
        for n in 0..40 {
            let end = cal.add_business_days(start, n).unwrap();
            assert_eq!(cal.business_days_between(start, end), n, "n = {n}");
        }
        assert_eq!(cal.business_days_between(d(2026, 12, 1), d(2026, 11, 1)), 0);
    }

    #[test]
    fn next_business_day_on_or_after() {
        let cal = us();
        assert_eq!(cal.next_business_day_on_or_after(d(2026, 12, 25)), Some(d(2026, 12, 28)));
        assert_eq!(cal.next_business_day_on_or_after(d(2026, 12, 28)), Some(d(2026, 12, 28)));
    }

    #[test]
    fn windows_in_each_unit() {
        let cal = us();
        let dos = d(2026, 11, 25);
        assert_eq!(cal.last_day_within(dos, TimeLimit::BusinessDays(1)), Some(d(2026, 11, 27)));
        assert_eq!(cal.last_day_within(dos, TimeLimit::CalendarDays(10)), Some(d(2026, 12, 5)));
        assert_eq!(cal.last_day_within(dos, TimeLimit::Hours(25)), Some(d(2026, 11, 26)));
        assert_eq!(cal.last_day_within(dos, TimeLimit::Hours(48)), Some(d(2026, 11, 26)));
        assert_eq!(cal.last_day_within(dos, TimeLimit::Hours(1)), Some(dos));
        assert_eq!(cal.last_day_within(d(2026, 1, 31), TimeLimit::Months(1)), Some(d(2026, 2, 28)));
        assert!(cal.is_within(dos, d(2026, 11, 27), TimeLimit::BusinessDays(1)));
        assert!(!cal.is_within(dos, d(2026, 11, 30), TimeLimit::BusinessDays(1)));
    }

    #[test]
    fn deadlines_keep_time_of_day() {
        let cal = us();
        let start = d(2026, 11, 25).and_hms_opt(15, 30, 0).unwrap().and_utc();
        assert_eq!(
            cal.deadline_after(start, TimeLimit::Hours(26)),
            Some(d(2026, 11, 26).and_hms_opt(17, 30, 0).unwrap().and_utc())
        );
        assert_eq!(
            cal.deadline_after(start, TimeLimit::BusinessDays(2)),
            Some(d(2026, 11, 30).and_hms_opt(15, 30, 0).unwrap().and_utc())
        );
    }
}
