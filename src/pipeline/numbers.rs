//! The numbers in answers: control numbers of the answer interchanges (ISA13) and their groups
//! (GS06), case numbers, certification and line authorization numbers.
//!
//! Why counters in memory, advanced by the recording transaction: a number must be spent if and
//! only if the answer carrying it is recorded, so that a process killed at any moment and started
//! again on the same input writes the very same answers, with no gap. A writer reads the four
//! sequences once ([`Counters::load`]), hands numbers out from memory while it decides and writes,
//! and the transaction that records an interchange's answers moves each sequence from the value
//! it read to the last value used, on condition that it was not moved meanwhile
//! ([`crate::storage::sequences`]). A single writer never conflicts; a second one (another
//! instance, a review command, the notification drain) makes the condition fail: the loser rolls
//! back, reads the sequences again and decides the interchange again.
//! Under the fixed-time test mode the control numbers count from 1 for the run instead
//! ([`NumberSource::Fixed`]), so that golden files are reproducible on any database.

use crate::ack::{ControlNumbers, Counter};
use crate::storage::repository::{AUTHORIZATION_NUMBER_SEQUENCE, CASE_NUMBER_SEQUENCE};
use crate::storage::{Advance, Store, StoreError};

/// Sequence of outbound interchange control numbers (ISA13).
pub const INTERCHANGE_SEQUENCE: &str = "outbound_interchange_control_number";
/// Sequence of outbound group control numbers (GS06).
pub const GROUP_SEQUENCE: &str = "outbound_group_control_number";

/// The largest ISA13 (nine digits); sequences wrap back to 1 after it.
const MAX_CONTROL_NUMBER: i64 = 999_999_999;

/// The sequences an answer takes numbers from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sequence {
    Interchange = 0,
    Group = 1,
    Case = 2,
    Authorization = 3,
}

const NAMES: [&str; 4] = [INTERCHANGE_SEQUENCE, GROUP_SEQUENCE, CASE_NUMBER_SEQUENCE, AUTHORIZATION_NUMBER_SEQUENCE];

/// The next numbers of the four sequences, held in memory by one writer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counters {
    /// Each sequence's value up to which numbers were handed to a recording already (the value
    /// read from the store, then the `to` of the last [`Counters::advances`]).
    planned: [i64; 4],
    /// The last number handed out.
    last: [i64; 4],
}

impl Counters {
    /// The sequences as the store has them now.
    pub async fn load(store: &Store) -> Result<Counters, StoreError> {
        let values = store.sequence_values(&NAMES).await?;
        let mut planned = [0; 4];
        for (slot, value) in planned.iter_mut().zip(values) {
            *slot = value;
        }
        Ok(Counters { planned, last: planned })
    }

    /// Counters starting after these values (tests).
    pub fn starting_after(values: [i64; 4]) -> Counters {
        Counters { planned: values, last: values }
    }

    /// Takes `count` consecutive numbers; returns the first (the next one when `count` is 0).
    pub fn take(&mut self, sequence: Sequence, count: u32) -> i64 {
        let slot = &mut self.last[sequence as usize];
        let first = *slot + 1;
        *slot += i64::from(count);
        first
    }

    /// The advances that spend the numbers taken since the previous call, for the transaction
    /// that records the answers carrying them. The numbers taken later go to the next recording;
    /// if this one fails, the counters must be loaded again.
    pub fn advances(&mut self) -> Vec<Advance> {
        let advances = NAMES
            .iter()
            .zip(self.planned.iter().zip(&self.last))
            .filter(|(_, (from, to))| from != to)
            .map(|(name, (from, to))| Advance { name, from: *from, to: *to })
            .collect();
        self.planned = self.last;
        advances
    }
}

/// Counts the numbers asked for, without handing out real ones.
#[derive(Debug, Default, Clone, Copy)]
pub struct Tally {
    pub interchanges: u32,
    pub groups: u32,
}

impl ControlNumbers for Tally {
    fn next_interchange(&mut self) -> u32 {
        self.interchanges += 1;
        self.interchanges
    }
    fn next_group(&mut self) -> u32 {
        self.groups += 1;
        self.groups
    }
}

/// Control numbers taken for one interchange's answers.
#[derive(Debug, Clone)]
pub struct Reserved {
    next_interchange: i64,
    next_group: i64,
}

/// Maps a sequence value onto 1..=999,999,999.
fn wrap(value: i64) -> u32 {
    u32::try_from((value - 1).rem_euclid(MAX_CONTROL_NUMBER) + 1).unwrap_or(1)
}

impl ControlNumbers for Reserved {
    fn next_interchange(&mut self) -> u32 {
        let n = wrap(self.next_interchange);
        self.next_interchange += 1;
        n
    }
    fn next_group(&mut self) -> u32 {
        let n = wrap(self.next_group);
        self.next_group += 1;
        n
    }
}

/// Where a run's control numbers come from.
#[derive(Debug, Clone)]
pub enum NumberSource {
    /// The store's sequences, through the writer's [`Counters`]: unique across runs and
    /// instances, spent only with the answers that carry them.
    Store,
    /// Counting from 1 for this run (fixed-time test mode): reproducible.
    Fixed(Counter),
}

impl NumberSource {
    /// Control numbers for answers that take `need` of them: from `counters` (the store's
    /// sequences) or from the run's own count.
    pub fn take(&mut self, counters: &mut Counters, need: Tally) -> Box<dyn ControlNumbers + Send> {
        match self {
            NumberSource::Fixed(counter) => {
                let start = counter.clone();
                for _ in 0..need.interchanges {
                    counter.next_interchange();
                }
                for _ in 0..need.groups {
                    counter.next_group();
                }
                Box::new(start)
            }
            NumberSource::Store => Box::new(Reserved {
                next_interchange: counters.take(Sequence::Interchange, need.interchanges),
                next_group: counters.take(Sequence::Group, need.groups),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_values_wrap_into_nine_digits() {
        assert_eq!(wrap(1), 1);
        assert_eq!(wrap(999_999_999), 999_999_999);
        assert_eq!(wrap(1_000_000_000), 1);
    }

    #[test]
    fn reserved_blocks_count_up() {
        let mut reserved = Reserved { next_interchange: 41, next_group: 7 };
        assert_eq!((reserved.next_interchange(), reserved.next_interchange(), reserved.next_group()), (41, 42, 7));
    }

    #[test]
    fn advances_cover_what_was_taken_since_the_last_call() {
        let mut counters = Counters::starting_after([10, 20, 0, 5]);
        assert_eq!(counters.take(Sequence::Interchange, 2), 11);
        assert_eq!(counters.take(Sequence::Case, 1), 1);
        assert_eq!(
            counters.advances(),
            vec![
                Advance { name: INTERCHANGE_SEQUENCE, from: 10, to: 12 },
                Advance { name: CASE_NUMBER_SEQUENCE, from: 0, to: 1 },
            ]
        );
        assert_eq!(counters.take(Sequence::Interchange, 0), 13, "nothing taken");
        assert_eq!(counters.take(Sequence::Interchange, 1), 13);
        assert_eq!(counters.advances(), vec![Advance { name: INTERCHANGE_SEQUENCE, from: 12, to: 13 }]);
        assert!(counters.advances().is_empty());
    }

    #[test]
    fn store_numbers_come_from_the_counters_and_fixed_ones_from_the_run() {
        let mut counters = Counters::starting_after([100, 200, 0, 0]);
        let need = Tally { interchanges: 2, groups: 1 };
        let mut numbers = NumberSource::Store.take(&mut counters, need);
        assert_eq!((numbers.next_interchange(), numbers.next_interchange(), numbers.next_group()), (101, 102, 201));
        let mut fixed = NumberSource::Fixed(Counter::starting_at(1));
        let mut first = fixed.take(&mut counters, need);
        assert_eq!((first.next_interchange(), first.next_group()), (1, 1));
        let mut second = fixed.take(&mut counters, need);
        assert_eq!((second.next_interchange(), second.next_group()), (3, 2));
        assert_eq!(counters.advances().len(), 2, "fixed numbers take nothing from the store");
    }
}
