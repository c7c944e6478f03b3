//! Fake members and providers, each a pure function of (seed, index): the roster and the
//! interchanges agree on every member without either being kept in memory, so generation stays
//! flat in memory however many transactions are asked for.

use chrono::{Datelike, Days, NaiveDate};

use super::codes::{LineOfBusiness, PLANS, Plan, Program};
use super::names::{CITIES, FEMALE_FIRST_NAMES, LAST_NAMES, MALE_FIRST_NAMES, PLACE_WORDS, STREET_KINDS, STREETS};
use super::rng::SplitMix64;
use super::segments::Ymd;

/// Stream domains of [`SplitMix64::for_item`].
pub(crate) mod domain {
    pub const BASE: u64 = 1;
    pub const MEMBER: u64 = 2;
    pub const PROVIDER: u64 = 3;
    pub const TRANSACTION: u64 = 4;
}

/// The fixed day all dates of one seed are relative to: a day of 2025, chosen by the seed (never
/// the clock, so that output never changes), with the time written in the envelopes.
#[derive(Debug, Clone, Copy)]
pub struct BaseDate {
    pub date: NaiveDate,
    pub ymd: Ymd,
    /// HHMM.
    pub time: u32,
}

impl BaseDate {
    pub fn for_seed(seed: u64) -> Self {
        let mut rng = SplitMix64::for_item(seed, domain::BASE, 0);
        let first = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap_or(NaiveDate::MIN);
        let date = first + Days::new(rng.below(365));
        let time = rng.between(7, 18) as u32 * 100 + rng.below(60) as u32;
        BaseDate { date, ymd: Ymd::of(date), time }
    }

    /// The base date moved by `days` (negative: earlier).
    pub fn offset(&self, days: i64) -> Ymd {
        let moved = if days >= 0 {
            self.date.checked_add_days(Days::new(days.unsigned_abs()))
        } else {
            self.date.checked_sub_days(Days::new(days.unsigned_abs()))
        };
        Ymd::of(moved.unwrap_or(self.date))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gender {
    Female,
    Male,
}

impl Gender {
    pub fn code(self) -> &'static str {
        match self {
            Gender::Female => "F",
            Gender::Male => "M",
        }
    }
}

/// A member of the pool: what the 278/270 says of the subscriber and what the roster lists.
#[derive(Debug, Clone)]
pub struct Member {
    /// The number after `M` in the member ID (nine digits).
    pub number: u64,
    pub first_name: &'static str,
    pub last_name: &'static str,
    pub gender: Gender,
    pub birth_date: Ymd,
    pub plan: &'static Plan,
    pub line_of_business: LineOfBusiness,
    pub coverage_start: Ymd,
    pub coverage_end: Ymd,
}

/// Multiplier that scatters member indices over nine-digit numbers: 3^18 is coprime to 10^9, so
/// index -> index * 3^18 + offset (mod 10^9) is a bijection and member IDs never collide.
const MEMBER_SCATTER: u64 = 387_420_489;
const NINE_DIGITS: u64 = 1_000_000_000;

impl Member {
    /// Member `index` (0-based) of the pool of `seed`.
    pub fn of(seed: u64, index: u64, base: &BaseDate) -> Self {
        let mut rng = SplitMix64::for_item(seed, domain::MEMBER, index);
        let offset = SplitMix64::for_item(seed, domain::MEMBER, u64::MAX).next_u64() % NINE_DIGITS;
        let number = (index % NINE_DIGITS * MEMBER_SCATTER + offset) % NINE_DIGITS;
        let gender = if rng.percent(50) { Gender::Female } else { Gender::Male };
        let first_name = match gender {
            Gender::Female => *rng.pick(FEMALE_FIRST_NAMES),
            Gender::Male => *rng.pick(MALE_FIRST_NAMES),
        };
        let last_name = *rng.pick(LAST_NAMES);
        let plan = rng.weighted(PLANS, |p| p.weight);
        let line_of_business = rng.weighted(plan.lines_of_business, |(_, w)| *w).0;
        let (youngest, oldest) = line_of_business.ages();
        let age_days = rng.between(youngest * 365 + 1, oldest * 365 + 300);
        let birth_date = base.offset(-(age_days as i64));
        // Covered from the first of a month up to four years back, to the end of next year: every
        // generated service date falls inside.
        let months_back = rng.between(1, 48) as i64;
        let start = base.offset(-months_back * 30);
        let coverage_start = Ymd(start.0 / 100 * 100 + 1);
        let coverage_end = Ymd((base.date.year().unsigned_abs() + 1) * 10_000 + 1231);
        Member {
            number,
            first_name,
            last_name,
            gender,
            birth_date,
            plan,
            line_of_business,
            coverage_start,
            coverage_end,
        }
    }

    /// The member ID as sent in NM109 and listed in the roster: `M` and nine digits.
    pub fn id(&self) -> String {
        format!("M{:09}", self.number)
    }
}

/// Providers per program pool: enough variety, few enough that requesters recur.
pub const PROVIDERS_PER_POOL: u64 = 250;

/// A fake provider: a person (NM102 1) or an organisation (NM102 2).
#[derive(Debug, Clone)]
pub struct Provider {
    pub npi: [u8; 10],
    pub person: Option<(&'static str, &'static str)>,
    pub organisation: (&'static str, &'static str),
    /// Ten characters for TRN03: `1` and nine digits, as an EIN-based originator id.
    pub originator: [u8; 10],
    pub address: Address,
    /// Last four digits of a phone number in the 555-01XX range reserved for fiction.
    pub phone: u64,
}

/// A fake street address.
#[derive(Debug, Clone)]
pub struct Address {
    pub number: u64,
    pub street: &'static str,
    pub kind: &'static str,
    pub city: &'static str,
    pub state: &'static str,
    pub zip_prefix: &'static str,
    pub zip_suffix: u64,
    pub area_code: &'static str,
}

impl Provider {
    /// Provider `index` of the pool of `program`.
    pub fn of(seed: u64, program: Program, index: u64) -> Self {
        let mut rng = SplitMix64::for_item(seed, domain::PROVIDER, program.pool() * 1_000_000 + index);
        let mut npi = [0u8; 10];
        npi[0] = if rng.percent(50) { b'1' } else { b'2' };
        for digit in &mut npi[1..9] {
            *digit = b'0' + rng.below(10) as u8;
        }
        npi[9] = b'0' + npi_check_digit(&npi[..9]);
        let mut originator = [b'1'; 10];
        for digit in &mut originator[1..] {
            *digit = b'0' + rng.below(10) as u8;
        }
        let first = if rng.percent(50) { *rng.pick(FEMALE_FIRST_NAMES) } else { *rng.pick(MALE_FIRST_NAMES) };
        let person = (program != Program::Admission).then(|| (*rng.pick(LAST_NAMES), first));
        let organisation = (*rng.pick(PLACE_WORDS), program.practice_suffix());
        let (city, state, zip_prefix, area_code) = *rng.pick(CITIES);
        let address = Address {
            number: rng.between(1, 9999),
            street: rng.word(STREETS),
            kind: rng.word(STREET_KINDS),
            city,
            state,
            zip_prefix,
            zip_suffix: rng.below(100),
            area_code,
        };
        let phone = rng.between(100, 199);
        Provider { npi, person, organisation, originator, address, phone }
    }

    pub fn npi(&self) -> &str {
        std::str::from_utf8(&self.npi).unwrap_or("")
    }

    pub fn originator(&self) -> &str {
        std::str::from_utf8(&self.originator).unwrap_or("")
    }
}

/// The NPI check digit: Luhn over the nine leading digits prefixed with 80840 (the NPI's
/// issuer prefix), as the NPI standard defines it.
pub fn npi_check_digit(first_nine: &[u8]) -> u8 {
    let mut sum = 0u32;
    // Digits from the right of the payload: the rightmost is doubled, then every second one.
    let digits = b"80840".iter().chain(first_nine).rev();
    for (position, digit) in digits.enumerate() {
        let mut value = u32::from(digit - b'0');
        if position % 2 == 0 {
            value *= 2;
            if value > 9 {
                value -= 9;
            }
        }
        sum += value;
    }
    ((10 - sum % 10) % 10) as u8
}

/// Whether `text` is ten digits whose last is the NPI check digit of the others.
pub fn is_valid_npi(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 10 && bytes.iter().all(u8::is_ascii_digit) && bytes[9] - b'0' == npi_check_digit(&bytes[..9])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn npi_check_digit_matches_the_standard_example() {
        // The worked example of the NPI standard: 123456789 -> check digit 3.
        assert_eq!(npi_check_digit(b"123456789"), 3);
        assert!(is_valid_npi("1234567893"));
        assert!(!is_valid_npi("1234567890"));
        assert!(!is_valid_npi("123456789"));
    }

    #[test]
    fn every_generated_npi_is_valid() {
        for program in [
            Program::RadiationOncology,
            Program::Therapy,
            Program::MskPain,
            Program::MedicalOncology,
            Program::Admission,
        ] {
            for index in 0..PROVIDERS_PER_POOL {
                let provider = Provider::of(9, program, index);
                assert!(is_valid_npi(provider.npi()), "{}", provider.npi());
                assert_eq!(provider.originator().len(), 10);
            }
        }
    }

    #[test]
    fn member_ids_are_unique_and_nine_digits() {
        let base = BaseDate::for_seed(3);
        let mut seen = std::collections::HashSet::new();
        for index in 0..20_000 {
            let member = Member::of(3, index, &base);
            let id = member.id();
            assert_eq!(id.len(), 10);
            assert!(seen.insert(id));
            assert!(member.coverage_start < base.ymd && base.offset(200) < member.coverage_end);
            assert!(member.birth_date < base.ymd);
        }
    }

    #[test]
    fn base_date_depends_on_the_seed_only() {
        assert_eq!(BaseDate::for_seed(1).ymd, BaseDate::for_seed(1).ymd);
        let dates: std::collections::HashSet<_> = (0..20).map(|s| BaseDate::for_seed(s).ymd).collect();
        assert!(dates.len() > 10);
    }
}
