//! Sequence numbers: allocation to writers, and publication to readers in order.
//!
//! A writer takes a range of numbers with one `fetch_add`, inserts its entries, then
//! publishes: it advances `visible` to the end of its range once every earlier range is
//! published. Readers read at `visible`, so they see all of a batch or none of it. A writer
//! that finishes before an earlier one spins (with backoff, never `Atomics.wait`) until the
//! earlier one publishes; that wait lasts as long as the earlier writer's memtable inserts.

use crate::error::{Error, Result};
use crate::key::{SequenceNumber, MAX_SEQUENCE};
use crate::sync::atomic::{AtomicU64, Ordering};
use crossbeam_utils::Backoff;

/// Hands out sequence numbers and publishes them in order.
pub struct Sequencer {
    /// The last number handed out.
    allocated: AtomicU64,
    /// The last number whose write is complete and every earlier one too.
    visible: AtomicU64,
}

/// A range of sequence numbers being written; publishes when dropped, even on unwind, so a
/// failed writer never holds later writers up.
pub struct Reservation<'a> {
    sequencer: &'a Sequencer,
    first: SequenceNumber,
    last: SequenceNumber,
}

impl Sequencer {
    /// A sequencer whose last used number is `last`.
    pub fn new(last: SequenceNumber) -> Sequencer {
        Sequencer {
            allocated: AtomicU64::new(last),
            visible: AtomicU64::new(last),
        }
    }

    /// The newest number readers may see.
    pub fn visible(&self) -> SequenceNumber {
        self.visible.load(Ordering::Acquire)
    }

    /// Reserves `count` (at least 1) consecutive numbers.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] if the 56-bit sequence space would run out.
    pub fn reserve(&self, count: u64) -> Result<Reservation<'_>> {
        debug_assert!(count > 0);
        if self.allocated.load(Ordering::Relaxed) > MAX_SEQUENCE - count {
            return Err(Error::invalid("sequence numbers exhausted"));
        }
        let first = self.allocated.fetch_add(count, Ordering::Relaxed) + 1;
        Ok(Reservation {
            sequencer: self,
            first,
            last: first + count - 1,
        })
    }
}

impl Reservation<'_> {
    /// The first number of the range.
    pub fn first(&self) -> SequenceNumber {
        self.first
    }
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        let backoff = Backoff::new();
        while self.sequencer.visible.load(Ordering::Acquire) != self.first - 1 {
            backoff.snooze();
        }
        self.sequencer.visible.store(self.last, Ordering::Release);
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn ranges_are_consecutive_and_published_in_order() {
        let seq = Sequencer::new(10);
        let a = seq.reserve(3).expect("space left");
        let b = seq.reserve(2).expect("space left");
        assert_eq!((a.first(), b.first()), (11, 14));
        assert_eq!(seq.visible(), 10);
        std::thread::scope(|s| {
            let handle = s.spawn(move || drop(b));
            std::thread::sleep(std::time::Duration::from_millis(20));
            assert_eq!(seq.visible(), 10, "b must wait for a");
            drop(a);
            handle.join().expect("publisher");
        });
        assert_eq!(seq.visible(), 15);
    }

    #[test]
    fn concurrent_writers_end_with_every_number_visible() {
        let seq = Arc::new(Sequencer::new(0));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let seq = Arc::clone(&seq);
                std::thread::spawn(move || {
                    for i in 0..5_000 {
                        let r = seq.reserve(1 + i % 3).expect("space left");
                        assert!(seq.visible() < r.first());
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().expect("writer");
        }
        let total: u64 = 4 * (0..5_000).map(|i| 1 + i % 3).sum::<u64>();
        assert_eq!(seq.visible(), total);
    }

    #[test]
    fn the_sequence_space_ends_with_an_error() {
        let seq = Sequencer::new(MAX_SEQUENCE - 1);
        assert!(seq.reserve(2).is_err());
        drop(seq.reserve(1).expect("one left"));
        assert_eq!(seq.visible(), MAX_SEQUENCE);
    }
}
