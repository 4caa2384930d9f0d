//! Publication of sequence numbers to readers, in order.
//!
//! Writers get their sequence numbers from the log segment (`wal/segment.rs`), insert their
//! entries, then publish: `visible` moves to the end of their range once every earlier range
//! is published. Readers read at `visible`, so they see all of a batch or none of it. A writer
//! that finishes before an earlier one spins (with backoff, never `Atomics.wait`) until the
//! earlier one publishes; that wait lasts as long as the earlier writer's memtable inserts.

use crate::key::SequenceNumber;
use crate::sync::atomic::{AtomicU64, Ordering};
use crossbeam_utils::Backoff;

/// The newest sequence number readers may see.
pub struct Publisher {
    visible: AtomicU64,
}

impl Publisher {
    /// A publisher whose last published number is `last`.
    pub fn new(last: SequenceNumber) -> Publisher {
        Publisher {
            visible: AtomicU64::new(last),
        }
    }

    /// The newest number readers may see.
    pub fn visible(&self) -> SequenceNumber {
        self.visible.load(Ordering::Acquire)
    }

    /// Publishes `first..=last` once everything before `first` is published; `before` runs
    /// just before, in publication order (the log uses it to advance its published end).
    pub fn publish(&self, first: SequenceNumber, last: SequenceNumber, before: impl FnOnce()) {
        let backoff = Backoff::new();
        while self.visible.load(Ordering::Acquire) != first - 1 {
            backoff.snooze();
        }
        before();
        self.visible.store(last, Ordering::Release);
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU64 as StdU64;
    use std::sync::Arc;

    #[test]
    fn a_later_range_waits_for_the_earlier_one() {
        let publisher = Publisher::new(10);
        let order = StdU64::new(0);
        std::thread::scope(|s| {
            let later = s.spawn(|| {
                publisher.publish(14, 15, || {
                    assert_eq!(order.swap(2, Ordering::SeqCst), 1, "14..15 went first");
                })
            });
            std::thread::sleep(std::time::Duration::from_millis(20));
            assert_eq!(publisher.visible(), 10, "14..15 must wait for 11..13");
            publisher.publish(11, 13, || order.store(1, Ordering::SeqCst));
            later.join().expect("publisher");
        });
        assert_eq!(publisher.visible(), 15);
    }

    #[test]
    fn concurrent_publishers_end_with_every_number_visible() {
        let publisher = Arc::new(Publisher::new(0));
        let next = Arc::new(StdU64::new(0));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let (publisher, next) = (Arc::clone(&publisher), Arc::clone(&next));
                std::thread::spawn(move || {
                    for i in 0..5_000u64 {
                        let count = 1 + i % 3;
                        let first = next.fetch_add(count, Ordering::SeqCst) + 1;
                        publisher.publish(first, first + count - 1, || {});
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().expect("writer");
        }
        assert_eq!(publisher.visible(), next.load(Ordering::SeqCst));
    }
}
