//! Publication of sequence numbers to readers, in order.
//!
//! Writers get their sequence numbers from the log segment (`wal/segment.rs`), insert their
//! entries, then publish: `visible` moves to the end of their range once every earlier range
//! is published. Readers read at `visible`, so they see all of a batch or none of it. A writer
//! that finishes before an earlier one spins (with backoff, never `Atomics.wait`) until the
//! earlier one publishes; that wait lasts as long as the earlier writer's memtable inserts.
//!
//! An earlier writer that never publishes (its thread was terminated between reserving and
//! publishing) would hold every later one forever: the wait is bounded (`sync::stall`), and
//! a writer that gives up marks the publisher broken. Nothing after the hole ever becomes
//! visible (a half-inserted batch stays unseen), every later write fails at once, and
//! readers go on reading at `visible`; reopening the store recovers the log up to the hole.

use crate::error::{Error, Result};
use crate::key::SequenceNumber;
use crate::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use crate::sync::stall::Stall;

/// The newest sequence number readers may see.
pub struct Publisher {
    visible: AtomicU64,
    /// Set once a writer gave up waiting for an earlier one.
    broken: AtomicBool,
}

impl Publisher {
    /// A publisher whose last published number is `last`.
    pub fn new(last: SequenceNumber) -> Publisher {
        Publisher {
            visible: AtomicU64::new(last),
            broken: AtomicBool::new(false),
        }
    }

    /// Fails once a writer stopped between reserving and publishing (see the module docs).
    ///
    /// # Errors
    /// [`Error::Io`] naming the sequence number that was never published.
    pub fn check(&self) -> Result<()> {
        if !self.broken.load(Ordering::Acquire) {
            return Ok(());
        }
        Err(Error::Io(format!(
            "a writer stopped before publishing sequence {} (a worker terminated mid-write?); \
             writes are refused until the store is reopened",
            self.visible() + 1
        )))
    }

    /// The newest number readers may see.
    pub fn visible(&self) -> SequenceNumber {
        self.visible.load(Ordering::Acquire)
    }

    /// Publishes `first..=last` once everything before `first` is published; `before` runs
    /// just before, in publication order (the log uses it to advance its published end).
    ///
    /// # Errors
    /// [`Error::Io`] if the writer of an earlier number does not publish within
    /// `limit_ms` (this range then stays unpublished, and the publisher is broken).
    pub fn publish(
        &self,
        first: SequenceNumber,
        last: SequenceNumber,
        limit_ms: u64,
        before: impl FnOnce(),
    ) -> Result<()> {
        let mut stall = Stall::new(limit_ms);
        while self.visible.load(Ordering::Acquire) != first - 1 {
            if self.broken.load(Ordering::Acquire) {
                return self.check();
            }
            if !stall.snooze() {
                self.broken.store(true, Ordering::Release);
                return self.check();
            }
        }
        before();
        self.visible.store(last, Ordering::Release);
        Ok(())
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
                publisher.publish(14, 15, 10_000, || {
                    assert_eq!(order.swap(2, Ordering::SeqCst), 1, "14..15 went first");
                })
            });
            std::thread::sleep(std::time::Duration::from_millis(20));
            assert_eq!(publisher.visible(), 10, "14..15 must wait for 11..13");
            publisher
                .publish(11, 13, 10_000, || order.store(1, Ordering::SeqCst))
                .expect("publish");
            later.join().expect("publisher").expect("publish");
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
                        publisher
                            .publish(first, first + count - 1, 10_000, || {})
                            .expect("publish");
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().expect("writer");
        }
        assert_eq!(publisher.visible(), next.load(Ordering::SeqCst));
    }

    #[test]
    fn a_writer_that_never_publishes_breaks_the_publisher_instead_of_hanging_the_next() {
        let publisher = Publisher::new(10);
        // 11 was reserved by a writer that stopped; 12 waits for it.
        let err = publisher.publish(12, 12, 50, || {}).expect_err("gives up");
        assert_eq!(err.code(), "IO");
        assert_eq!(publisher.visible(), 10, "nothing after the hole is visible");
        assert!(publisher.check().is_err(), "later writes are refused");
        let started = crate::clock::now_ms();
        assert!(publisher.publish(13, 13, 10_000, || {}).is_err());
        assert!(
            crate::clock::now_ms() - started < 1_000.0,
            "later waiters give up at once"
        );
    }
}
