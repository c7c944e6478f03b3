//! A small pseudo-random generator of our own, so that `umgate gen` output is byte-identical on
//! every machine and every version: `rand`'s `StdRng` documents that its algorithm may change
//! between releases, and a generator whose files are benchmark inputs and test fixtures must never
//! drift. SplitMix64 is a handful of lines, fully specified, fast, and good enough for fake data.

/// SplitMix64 (Steele, Lea, Flood 2014), exactly as in the reference implementation.
#[derive(Debug, Clone)]
pub struct SplitMix64 {
    state: u64,
}

const GOLDEN_GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64 { state: seed }
    }

    /// A generator for item `index` of stream `domain` under `seed`: every transaction, member and
    /// provider gets its own, so that each is a function of (seed, index) alone and does not
    /// depend on how many values the items before it drew.
    pub fn for_item(seed: u64, domain: u64, index: u64) -> Self {
        let mut outer = SplitMix64::new(seed ^ domain.wrapping_mul(GOLDEN_GAMMA));
        let base = outer.next_u64();
        let mut inner = SplitMix64::new(base ^ index.wrapping_mul(0xD1B5_4A32_D192_ED03));
        SplitMix64::new(inner.next_u64())
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GOLDEN_GAMMA);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A value in `0..bound` (`bound` > 0), by the multiply-shift reduction (no modulo bias worth
    /// speaking of at these bounds, and no division).
    pub fn below(&mut self, bound: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(bound.max(1))) >> 64) as u64
    }

    /// A value in `low..=high`.
    pub fn between(&mut self, low: u64, high: u64) -> u64 {
        low + self.below(high.saturating_sub(low) + 1)
    }

    /// True with probability `percent` / 100.
    pub fn percent(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    /// One item of a non-empty slice.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// One word of a non-empty word list.
    pub fn word(&mut self, words: &[&'static str]) -> &'static str {
        words[self.below(words.len() as u64) as usize]
    }

    /// One item of a non-empty slice, chosen with the relative weights `weight` gives.
    pub fn weighted<'a, T>(&mut self, items: &'a [T], weight: impl Fn(&T) -> u64) -> &'a T {
        let total: u64 = items.iter().map(&weight).sum();
        let mut roll = self.below(total);
        for item in items {
            let w = weight(item);
            if roll < w {
                return item;
            }
            roll -= w;
        }
        &items[items.len() - 1]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_reference_stream() {
        // First outputs of the reference splitmix64.c seeded with 1234567.
        let mut rng = SplitMix64::new(1_234_567);
        assert_eq!(rng.next_u64(), 6_457_827_717_110_365_317);
        assert_eq!(rng.next_u64(), 3_203_168_211_198_807_973);
    }

    #[test]
    fn bounds_hold() {
        let mut rng = SplitMix64::new(7);
        for _ in 0..10_000 {
            assert!(rng.below(3) < 3);
            let v = rng.between(5, 9);
            assert!((5..=9).contains(&v));
        }
        assert_eq!(*rng.weighted(&[(1, 0), (2, 0), (3, 5)], |(_, w)| *w), (3, 5));
    }
}
