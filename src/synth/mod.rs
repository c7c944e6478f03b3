//! Synthetic interchanges for benchmarks and tests (`umgate gen`): deterministic 278 requests
//! and 270 inquiries about fake people, valid against our own validator, written as a stream.
//!
//! Why it is built this way:
//! * Same arguments, same bytes, on every machine and every version: our own PRNG
//!   ([`rng::SplitMix64`]), dates relative to a base date derived from the seed (never the clock).
//! * Memory flat in `--count`: each transaction, member and provider is a pure function of
//!   (seed, index), written as soon as it is made; nothing is collected.
//! * Routable: members come from a pool whose roster ([`write_roster`]) lists them with the plans
//!   of SPEC section 8, and service codes come from the seed programs.

mod codes;
mod names;
mod people;
mod rng;
mod segments;
mod transactions;

use std::io::Write;

pub use people::{is_valid_npi, npi_check_digit};
pub use rng::SplitMix64;

use people::{BaseDate, Member, PROVIDERS_PER_POOL, Provider};
use segments::SegmentBuffer;
use transactions::Context;

/// Which transaction sets to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransactionKind {
    /// 278 requests for review, 005010X217 (GS01 HI).
    Request278,
    /// 270 eligibility inquiries, 005010X279A1 (GS01 HS).
    Inquiry270,
}

impl TransactionKind {
    fn functional_group(self) -> &'static str {
        match self {
            TransactionKind::Request278 => "HI",
            TransactionKind::Inquiry270 => "HS",
        }
    }

    fn guide(self) -> &'static str {
        match self {
            TransactionKind::Request278 => "005010X217",
            TransactionKind::Inquiry270 => "005010X279A1",
        }
    }
}

/// The largest `--count`: ST02, GS06 and ISA13 stay within their nine digits.
pub const MAX_COUNT: u64 = 999_999_999;

/// What to generate.
#[derive(Debug, Clone)]
pub struct GenOptions {
    pub kind: TransactionKind,
    /// Transaction sets in total.
    pub count: u64,
    pub seed: u64,
    /// Transaction sets per functional group (GS/GE); the last group takes the rest.
    pub per_group: u64,
    /// Functional groups per interchange (ISA/IEA); the last interchange takes the rest.
    pub groups_per_interchange: u64,
    /// Size of the member pool requests are drawn from (default: half of `count`, at least 1).
    pub members: Option<u64>,
    /// ISA06 / GS02.
    pub sender_id: String,
    /// ISA08 / GS03.
    pub receiver_id: String,
}

impl GenOptions {
    /// The defaults of `umgate gen`: seed 1, 1000 sets per group, one group per interchange.
    pub fn new(kind: TransactionKind, count: u64) -> Self {
        GenOptions {
            kind,
            count,
            seed: 1,
            per_group: 1000,
            groups_per_interchange: 1,
            members: None,
            sender_id: "UMGATESYNTH".into(),
            receiver_id: "UMGATE".into(),
        }
    }

    pub fn member_pool(&self) -> u64 {
        self.members.unwrap_or(self.count.div_ceil(2)).max(1)
    }

    /// Functional groups in the output.
    pub fn groups(&self) -> u64 {
        self.count.div_ceil(self.per_group.max(1))
    }

    /// Interchanges in the output.
    pub fn interchanges(&self) -> u64 {
        self.groups().div_ceil(self.groups_per_interchange.max(1))
    }

    pub fn check(&self) -> Result<(), SynthError> {
        let positive = [
            ("--count", self.count),
            ("--per-group", self.per_group),
            ("--per-interchange", self.groups_per_interchange),
            ("--members", self.member_pool()),
        ];
        for (flag, value) in positive {
            if value == 0 {
                return Err(SynthError::Zero { flag });
            }
        }
        if self.count > MAX_COUNT {
            return Err(SynthError::TooMany { count: self.count });
        }
        if let Some(members) = self.members {
            if members > MAX_COUNT {
                return Err(SynthError::TooManyMembers { members });
            }
        }
        for (flag, id) in [("--sender", &self.sender_id), ("--receiver", &self.receiver_id)] {
            let printable = id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b' ');
            if id.trim().len() < 2 || id.len() > 15 || !printable {
                return Err(SynthError::BadIdentifier { flag, id: id.clone() });
            }
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    #[error("{flag} must be at least 1")]
    Zero { flag: &'static str },
    #[error("--count {count} is more than {MAX_COUNT} (control numbers have nine digits)")]
    TooMany { count: u64 },
    #[error("--members {members} is more than {MAX_COUNT} (member IDs have nine digits)")]
    TooManyMembers { members: u64 },
    #[error("{flag} {id:?}: expected 2 to 15 letters, digits or spaces (ISA06/ISA08 are fixed width)")]
    BadIdentifier { flag: &'static str, id: String },
    #[error("writing the output: {0}")]
    Io(#[from] std::io::Error),
}

/// What a run wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Summary {
    pub interchanges: u64,
    pub groups: u64,
    pub transactions: u64,
    pub bytes: u64,
}

/// Bytes handed to the writer at once.
const CHUNK: usize = 256 * 1024;

/// Writes the interchanges `options` describe to `out`, as they are made (buffered here; pass an
/// unbuffered file or stdout).
pub fn generate<W: Write>(options: &GenOptions, out: W) -> Result<Summary, SynthError> {
    options.check()?;
    let mut out = std::io::BufWriter::with_capacity(CHUNK, out);
    let context =
        Context { seed: options.seed, base: BaseDate::for_seed(options.seed), member_pool: options.member_pool() };
    let (functional_group, guide) = (options.kind.functional_group(), options.kind.guide());
    let base = &context.base;
    let mut buffer = SegmentBuffer::with_capacity(CHUNK + 64 * 1024);
    let mut summary = Summary::default();
    let total_groups = options.groups();
    let mut next_set = 0u64;
    for interchange in 1..=options.interchanges() {
        let first_group = (interchange - 1) * options.groups_per_interchange;
        let groups_here = options.groups_per_interchange.min(total_groups - first_group);
        write_isa(&mut buffer, options, base, interchange);
        for group in first_group + 1..=first_group + groups_here {
            let sets_here = options.per_group.min(options.count - next_set);
            buffer.start("GS").el(functional_group).el(options.sender_id.trim()).el(options.receiver_id.trim());
            buffer.date(base.ymd).el("").padded(u64::from(base.time), 4).num(group).el("X").el(guide).end();
            for _ in 0..sets_here {
                next_set += 1;
                match options.kind {
                    TransactionKind::Request278 => transactions::write_278(&mut buffer, &context, next_set),
                    TransactionKind::Inquiry270 => transactions::write_270(&mut buffer, &context, next_set),
                }
                if buffer.bytes().len() >= CHUNK {
                    out.write_all(buffer.bytes())?;
                    summary.bytes += buffer.bytes().len() as u64;
                    buffer.clear();
                }
            }
            buffer.start("GE").num(sets_here).num(group).end();
        }
        buffer.start("IEA").num(groups_here).el("").padded(interchange, 9).end();
        summary.groups += groups_here;
        summary.interchanges += 1;
    }
    out.write_all(buffer.bytes())?;
    summary.bytes += buffer.bytes().len() as u64;
    summary.transactions = next_set;
    out.flush()?;
    Ok(summary)
}

/// The fixed-width ISA of interchange `control`: 106 bytes up to its terminator.
fn write_isa(buffer: &mut SegmentBuffer, options: &GenOptions, base: &BaseDate, control: u64) {
    let header = format!(
        "ISA*00*{:10}*00*{:10}*ZZ*{:<15}*ZZ*{:<15}*{:06}*{:04}*^*00501*{:09}*0*T*:",
        "",
        "",
        options.sender_id,
        options.receiver_id,
        base.ymd.yymmdd(),
        base.time,
        control
    );
    buffer.verbatim(&header).end();
}

/// The roster CSV header (SPEC section 9, `umgate roster import`).
pub const ROSTER_HEADER: &str =
    "member_id,first_name,last_name,birth_date,gender,plan,line_of_business,coverage_start,coverage_end";

/// Writes the roster of the member pool `generate` draws from with the same options: every
/// member ID the interchanges carry is listed, with the same name, birth date and gender.
/// Returns the number of members written.
pub fn write_roster<W: Write>(options: &GenOptions, out: W) -> Result<u64, SynthError> {
    options.check()?;
    let mut out = std::io::BufWriter::with_capacity(CHUNK, out);
    let base = BaseDate::for_seed(options.seed);
    writeln!(out, "{ROSTER_HEADER}")?;
    let members = options.member_pool();
    for index in 0..members {
        let m = Member::of(options.seed, index, &base);
        writeln!(
            out,
            "{},{},{},{},{},{},{},{},{}",
            m.id(),
            m.first_name,
            m.last_name,
            m.birth_date.iso(),
            m.gender.code(),
            m.plan.key,
            m.line_of_business.as_str(),
            m.coverage_start.iso(),
            m.coverage_end.iso()
        )?;
    }
    out.flush()?;
    Ok(members)
}

/// The provider registry CSV header (`umgate provider import`).
pub const PROVIDERS_HEADER: &str = "npi,name,tin,plans";

/// Writes the requesting-provider pools `generate` draws from as a provider registry file, each
/// provider on file for every plan (`*`), so that plans requiring the requester on file accept
/// the generated requests. Returns the number of rows written (an NPI drawn twice is listed twice;
/// the import keeps one).
pub fn write_providers<W: Write>(options: &GenOptions, out: W) -> Result<u64, SynthError> {
    options.check()?;
    let mut out = std::io::BufWriter::with_capacity(CHUNK, out);
    writeln!(out, "{PROVIDERS_HEADER}")?;
    let mut rows = 0;
    for program in codes::Program::OUTPATIENT.into_iter().chain([codes::Program::Admission]) {
        for index in 0..PROVIDERS_PER_POOL {
            let provider = Provider::of(options.seed, program, index);
            let name = match provider.person {
                Some((last, first)) => format!("{last} {first}"),
                None => format!("{} {}", provider.organisation.0, provider.organisation.1),
            };
            writeln!(out, "{},{},,*", provider.npi(), name.to_ascii_uppercase())?;
            rows += 1;
        }
    }
    out.flush()?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(options: &GenOptions) -> Vec<u8> {
        let mut out = Vec::new();
        generate(options, &mut out).expect("generates");
        out
    }

    fn text(options: &GenOptions) -> String {
        String::from_utf8(bytes(options)).expect("ASCII")
    }

    /// The segments of `text` with id `id`.
    fn segments<'a>(text: &'a str, id: &str) -> Vec<Vec<&'a str>> {
        text.split("~\n").filter(|s| s.split('*').next() == Some(id)).map(|s| s.split('*').collect()).collect()
    }

    #[test]
    fn same_seed_same_bytes_other_seed_other_bytes() {
        for kind in [TransactionKind::Request278, TransactionKind::Inquiry270] {
            let mut options = GenOptions::new(kind, 300);
            options.seed = 42;
            assert_eq!(bytes(&options), bytes(&options));
            let mut other = options.clone();
            other.seed = 43;
            assert_ne!(bytes(&options), bytes(&other));
        }
    }

    #[test]
    fn regrouping_changes_the_envelopes_only() {
        let options = GenOptions::new(TransactionKind::Request278, 50);
        let mut regrouped = options.clone();
        regrouped.per_group = 7;
        regrouped.groups_per_interchange = 3;
        let sets = |text: &str| -> Vec<String> {
            text.split("~\n")
                .filter(|s| !matches!(s.get(..3), Some("ISA" | "IEA")) && !matches!(s.get(..2), Some("GS" | "GE")))
                .map(str::to_owned)
                .collect()
        };
        assert_eq!(sets(&text(&options)), sets(&text(&regrouped)));
    }

    #[test]
    fn grouping_math() {
        let mut options = GenOptions::new(TransactionKind::Inquiry270, 10);
        options.per_group = 3;
        options.groups_per_interchange = 2;
        assert_eq!((options.groups(), options.interchanges()), (4, 2));
        let text = text(&options);
        let ge: Vec<_> = segments(&text, "GE").iter().map(|s| (s[1].to_owned(), s[2].to_owned())).collect();
        let expected = [("3", "1"), ("3", "2"), ("3", "3"), ("1", "4")];
        assert_eq!(ge, expected.map(|(a, b)| (a.to_owned(), b.to_owned())));
        let gs06: Vec<_> = segments(&text, "GS").iter().map(|s| s[6].to_owned()).collect();
        assert_eq!(gs06, ["1", "2", "3", "4"]);
        let iea: Vec<_> = segments(&text, "IEA").iter().map(|s| (s[1].to_owned(), s[2].to_owned())).collect();
        assert_eq!(iea, [("2".to_owned(), "000000001".to_owned()), ("2".to_owned(), "000000002".to_owned())]);
        let isa13: Vec<_> = segments(&text, "ISA").iter().map(|s| s[13].to_owned()).collect();
        assert_eq!(isa13, ["000000001", "000000002"]);

        options.count = 1;
        assert_eq!((options.groups(), options.interchanges()), (1, 1));
        options.count = 6;
        options.per_group = 1;
        options.groups_per_interchange = 4;
        assert_eq!((options.groups(), options.interchanges()), (6, 2));
    }

    #[test]
    fn isa_is_fixed_width_and_counts_agree() {
        for kind in [TransactionKind::Request278, TransactionKind::Inquiry270] {
            let mut options = GenOptions::new(kind, 120);
            options.per_group = 50;
            let text = text(&options);
            for isa in text.split("~\n").filter(|s| s.starts_with("ISA")) {
                assert_eq!(isa.len() + 1, crate::x12::isa::ISA_LENGTH, "{isa}");
            }
            // SE01 counts ST..SE; SE02 = ST02; ST02 unique.
            let mut in_set = 0;
            let mut st02 = String::new();
            let mut seen = std::collections::HashSet::new();
            for segment in text.split("~\n") {
                let elements: Vec<&str> = segment.split('*').collect();
                match elements[0] {
                    "ST" => {
                        in_set = 1;
                        st02 = elements[2].to_owned();
                        assert!(seen.insert(st02.clone()));
                    }
                    "SE" => {
                        in_set += 1;
                        assert_eq!(elements[1], in_set.to_string());
                        assert_eq!(elements[2], st02);
                        in_set = 0;
                    }
                    _ if in_set > 0 => in_set += 1,
                    _ => {}
                }
            }
            assert_eq!(seen.len(), 120);
        }
    }

    #[test]
    fn npis_in_the_output_are_valid_and_members_are_on_the_roster() {
        let options = GenOptions::new(TransactionKind::Request278, 400);
        let text = text(&options);
        let mut roster = Vec::new();
        write_roster(&options, &mut roster).expect("roster");
        let roster = String::from_utf8(roster).expect("ASCII");
        let mut lines = roster.lines();
        assert_eq!(lines.next(), Some(ROSTER_HEADER));
        let rows: std::collections::HashMap<&str, Vec<&str>> =
            lines.map(|l| l.split(',').collect::<Vec<_>>()).map(|r| (r[0], r)).collect();
        assert_eq!(rows.len() as u64, options.member_pool());
        let mut npis = 0;
        for nm1 in segments(&text, "NM1") {
            if nm1.get(8) == Some(&"XX") {
                assert!(is_valid_npi(nm1[9]), "{nm1:?}");
                npis += 1;
            }
            if nm1[1] == "IL" {
                let row = rows.get(nm1[9]).expect("member on the roster");
                assert_eq!((row[1], row[2]), (nm1[4], nm1[3]));
            }
        }
        assert!(npis >= 400);
    }

    #[test]
    fn requests_mix_programs_and_categories() {
        let text = text(&GenOptions::new(TransactionKind::Request278, 2000));
        let um01: std::collections::HashSet<_> = segments(&text, "UM").iter().map(|s| s[1].to_owned()).collect();
        for category in ["HS", "SC", "AR"] {
            assert!(um01.contains(category), "{category}");
        }
        for code in ["ZZ:RCBREA", "ZZ:MSMPT", "HC:62323", "HC:J9263", "HC:77427"] {
            assert!(text.contains(code), "{code}");
        }
        assert!(text.contains("SV2*0120"));
        assert!(!text.contains("C18.9"));
    }

    #[test]
    fn bad_options_are_refused() {
        let mut options = GenOptions::new(TransactionKind::Request278, 0);
        assert!(matches!(options.check(), Err(SynthError::Zero { flag: "--count" })));
        options.count = MAX_COUNT + 1;
        assert!(matches!(options.check(), Err(SynthError::TooMany { .. })));
        options.count = 5;
        options.sender_id = "WAY*TOO*LONG*SENDER".into();
        assert!(matches!(options.check(), Err(SynthError::BadIdentifier { .. })));
    }
}
