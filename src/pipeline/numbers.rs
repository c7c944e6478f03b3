//! Control numbers of the answer interchanges (ISA13) and their groups (GS06).
//!
//! Why reserved blocks: the acknowledgment writers ask for numbers synchronously, one at a time,
//! while the store hands them out asynchronously and must never give one twice, even to two runs
//! or two instances. So the numbers an interchange's answers take are counted first (the small
//! TA1 and 999 written with a counting stand-in, the replies counted from their sets); exactly that
//! many are then reserved from the store's sequences in one statement each, and the answers
//! written from the reserved blocks.
//! Under the fixed-time test mode the numbers count from 1 for the run instead, so that golden
//! files are reproducible.

use crate::ack::{ControlNumbers, Counter};
use crate::storage::{Store, StoreError};

/// Sequence of outbound interchange control numbers (ISA13).
pub const INTERCHANGE_SEQUENCE: &str = "outbound_interchange_control_number";
/// Sequence of outbound group control numbers (GS06).
pub const GROUP_SEQUENCE: &str = "outbound_group_control_number";

/// The largest ISA13 (nine digits); sequences wrap back to 1 after it.
const MAX_CONTROL_NUMBER: i64 = 999_999_999;

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

/// Numbers reserved for one interchange's answers.
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
    /// The store's sequences: unique across runs and instances.
    Store,
    /// Counting from 1 for this run (fixed-time test mode): reproducible.
    Fixed(Counter),
}

impl NumberSource {
    /// Numbers for answers that take `need` of them.
    pub async fn reserve(&mut self, store: &Store, need: Tally) -> Result<Box<dyn ControlNumbers + Send>, StoreError> {
        match self {
            NumberSource::Fixed(counter) => {
                let start = counter.clone();
                for _ in 0..need.interchanges {
                    counter.next_interchange();
                }
                for _ in 0..need.groups {
                    counter.next_group();
                }
                Ok(Box::new(start))
            }
            NumberSource::Store => {
                let next_interchange = match need.interchanges {
                    0 => 1,
                    n => store.reserve_values(INTERCHANGE_SEQUENCE, i64::from(n)).await?,
                };
                let next_group = match need.groups {
                    0 => 1,
                    n => store.reserve_values(GROUP_SEQUENCE, i64::from(n)).await?,
                };
                Ok(Box::new(Reserved { next_interchange, next_group }))
            }
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
}
