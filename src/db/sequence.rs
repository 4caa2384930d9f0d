//! Publication of sequence numbers to readers, in order.
//!
//! Writers get their sequence numbers from the log segment (`wal/segment.rs`), insert their
//! entries, then publish: `visible` moves to the end of their range once every earlier range
//! is published. Readers read at `visible`, so they see all of a batch or none of it.
//!
//! A writer that finishes before an earlier one posts its range in a small ring and waits
//! (`sync::stall`: it spins, then naps where its thread may sleep). Whoever publishes
//! publishes the posted ranges that follow its own too, in the same log segment: so a
//! waiting writer never holds up the ones after it, even asleep or off its core (with more
//! writers than cores, handing the turn from writer to writer made every write wait for a
//! thread to wake). A range its writer could not post (its ring slot busy) or that starts
//! another segment is published by its writer, on its turn.
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

/// Posted ranges, by first sequence number modulo this.
const RING: usize = 64;
/// A ring slot's `first` while no range is posted there.
const EMPTY: u64 = 0;
/// A ring slot's `first` while a writer fills it in.
const FILLING: u64 = u64::MAX;

/// A writer's sequence numbers, and where its log record ends.
#[derive(Clone, Copy, Debug)]
pub struct Range {
    pub first: SequenceNumber,
    pub last: SequenceNumber,
    /// The number of the log segment holding its record.
    pub segment: u64,
    /// The end of its record in that segment.
    pub end: u64,
}

/// A ring slot: a range whose writer waits for an earlier one to publish.
#[derive(Default)]
struct Posted {
    /// The range's first number once posted (`EMPTY`, `FILLING`); the fields after it
    /// are written before it (release) and read after it (acquire).
    first: AtomicU64,
    last: AtomicU64,
    segment: AtomicU64,
    end: AtomicU64,
}

/// The newest sequence number readers may see.
pub struct Publisher {
    visible: AtomicU64,
    /// Set once a writer gave up waiting for an earlier one.
    broken: AtomicBool,
    posted: [Posted; RING],
}

impl Publisher {
    /// A publisher whose last published number is `last`.
    pub fn new(last: SequenceNumber) -> Publisher {
        Publisher {
            visible: AtomicU64::new(last),
            broken: AtomicBool::new(false),
            posted: std::array::from_fn(|_| Posted::default()),
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
        Err(self.hole())
    }

    /// The error of a publisher broken at `visible + 1`.
    fn hole(&self) -> Error {
        Error::Io(format!(
            "a writer stopped before publishing sequence {} (a worker terminated mid-write?); \
             writes are refused until the store is reopened",
            self.visible() + 1
        ))
    }

    /// The newest number readers may see.
    pub fn visible(&self) -> SequenceNumber {
        self.visible.load(Ordering::Acquire)
    }

    /// Returns once `range` is published: by this thread once everything before it is,
    /// or by the thread publishing before it. `publish_end` runs before ranges become
    /// visible, in publication order, with the end of the last one (the log advances its
    /// published end with it); only ranges of `range.segment` are published with it.
    ///
    /// # Errors
    /// [`Error::Io`] if the writer of an earlier number does not publish within
    /// `limit_ms` (this range then stays unpublished, and the publisher is broken).
    pub fn publish(&self, range: Range, limit_ms: u64, publish_end: impl Fn(u64)) -> Result<()> {
        let mut stall = Stall::new(limit_ms);
        // In the ring; taken from it by a publishing thread (which then publishes it: this
        // one only waits); given one more wait once taken.
        let (mut posted, mut taken, mut extended) = (false, false, false);
        loop {
            let visible = self.visible.load(Ordering::Acquire);
            if visible >= range.last {
                return Ok(()); // published with an earlier range
            }
            if !taken && visible == range.first - 1 {
                if !posted || self.retract(range.first) {
                    self.publish_from(range, &publish_end);
                    return self.outcome(range);
                }
                taken = true;
            }
            if self.broken.load(Ordering::Acquire) {
                return self.outcome(range);
            }
            if !posted && visible < range.first - 1 {
                posted = self.post(range);
            }
            if !stall.snooze() {
                // Past the limit: taken back from the ring, this range and everything after
                // it never become visible; taken by a publishing thread, it is being
                // published this very moment, unless that thread stopped too (one stalled
                // past both waits, not stopped, could still publish it after this error).
                if posted && !taken && !self.retract(range.first) {
                    taken = true;
                }
                if taken && !extended {
                    extended = true;
                    stall = Stall::new(limit_ms);
                    continue;
                }
                self.broken.store(true, Ordering::Release);
                return self.outcome(range);
            }
        }
    }

    /// Ok once `range` is visible; otherwise the publisher is broken (nothing else stops
    /// a publication), and that is the error.
    fn outcome(&self, range: Range) -> Result<()> {
        if self.visible() >= range.last {
            return Ok(());
        }
        Err(self.hole())
    }

    /// Publishes `range` (its turn: every earlier number is visible), and every posted
    /// range of its segment after it. The turn passes with each store of `visible`; this
    /// thread keeps it only by taking the next range from the ring before its writer
    /// takes it back, so one thread at a time publishes.
    fn publish_from(&self, range: Range, publish_end: &impl Fn(u64)) {
        let (mut last, mut end) = (range.last, range.end);
        let mut published = range.first - 1;
        loop {
            while let Some((next_last, next_end)) = self.take(last + 1, range.segment) {
                (last, end) = (next_last, next_end);
            }
            if last == published || self.broken.load(Ordering::Acquire) {
                return; // nothing taken since (its writer publishes it), or nothing may
            }
            publish_end(end);
            self.visible.store(last, Ordering::Release);
            published = last;
        }
    }

    fn slot(&self, first: SequenceNumber) -> &Posted {
        &self.posted[(first % RING as u64) as usize]
    }

    /// Posts `range` for the thread publishing before it; false if its slot is busy.
    fn post(&self, range: Range) -> bool {
        let slot = self.slot(range.first);
        if slot
            .first
            .compare_exchange(EMPTY, FILLING, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            return false;
        }
        slot.last.store(range.last, Ordering::Relaxed);
        slot.segment.store(range.segment, Ordering::Relaxed);
        slot.end.store(range.end, Ordering::Relaxed);
        slot.first.store(range.first, Ordering::Release);
        true
    }

    /// Takes back the range posted at `first`; false if a publishing thread took it.
    fn retract(&self, first: SequenceNumber) -> bool {
        self.slot(first)
            .first
            .compare_exchange(first, EMPTY, Ordering::AcqRel, Ordering::Relaxed)
            .is_ok()
    }

    /// Takes the range posted at `first` in `segment` to publish it: its last number and
    /// end. A slot's fields change only while it is not posted, and a first number is
    /// posted at most once, so fields read while it held `first` are that range's if the
    /// take succeeds.
    fn take(&self, first: SequenceNumber, segment: u64) -> Option<(SequenceNumber, u64)> {
        let slot = self.slot(first);
        if slot.first.load(Ordering::Acquire) != first {
            return None;
        }
        let (last, end) = (
            slot.last.load(Ordering::Relaxed),
            slot.end.load(Ordering::Relaxed),
        );
        if slot.segment.load(Ordering::Relaxed) != segment {
            return None;
        }
        slot.first
            .compare_exchange(first, EMPTY, Ordering::AcqRel, Ordering::Relaxed)
            .ok()
            .map(|_| (last, end))
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU64 as StdU64;
    use std::sync::{Arc, Mutex};

    fn range(first: u64, last: u64, segment: u64) -> Range {
        Range {
            first,
            last,
            segment,
            end: last * 10,
        }
    }

    #[test]
    fn a_later_range_waits_for_the_earlier_one_which_publishes_both() {
        let publisher = Publisher::new(10);
        let ends = Mutex::new(Vec::new());
        std::thread::scope(|s| {
            let later = s.spawn(|| {
                publisher.publish(range(14, 15, 1), 10_000, |end| {
                    ends.lock().expect("ends").push(("later", end));
                })
            });
            std::thread::sleep(std::time::Duration::from_millis(20));
            assert_eq!(publisher.visible(), 10, "14..15 must wait for 11..13");
            publisher
                .publish(range(11, 13, 1), 10_000, |end| {
                    ends.lock().expect("ends").push(("earlier", end));
                })
                .expect("publish");
            later.join().expect("publisher").expect("publish");
        });
        assert_eq!(publisher.visible(), 15);
        // The waiting range was posted, so the earlier writer published it too, its log
        // end with it (or, had it not been posted yet, it published itself after).
        let ends = ends.into_inner().expect("ends");
        assert!(
            ends == [("earlier", 150)] || ends == [("earlier", 130), ("later", 150)],
            "{ends:?}"
        );
    }

    #[test]
    fn a_range_of_another_segment_is_published_by_its_own_writer() {
        let publisher = Publisher::new(10);
        let ends = Mutex::new(Vec::new());
        std::thread::scope(|s| {
            let later = s.spawn(|| {
                publisher.publish(range(12, 12, 2), 10_000, |end| {
                    ends.lock().expect("ends").push((2, end));
                })
            });
            std::thread::sleep(std::time::Duration::from_millis(20));
            publisher
                .publish(range(11, 11, 1), 10_000, |end| {
                    ends.lock().expect("ends").push((1, end));
                })
                .expect("publish");
            later.join().expect("publisher").expect("publish");
        });
        assert_eq!(publisher.visible(), 12);
        assert_eq!(ends.into_inner().expect("ends"), [(1, 110), (2, 120)]);
    }

    #[test]
    fn concurrent_publishers_end_with_every_number_visible_and_ends_in_order() {
        let publisher = Arc::new(Publisher::new(0));
        let next = Arc::new(StdU64::new(0));
        let last_end = Arc::new(Mutex::new(0));
        // More writers than cores: the ones waiting are taken along, not waited for.
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let (publisher, next) = (Arc::clone(&publisher), Arc::clone(&next));
                let last_end = Arc::clone(&last_end);
                std::thread::spawn(move || {
                    for i in 0..5_000u64 {
                        let count = 1 + i % 3;
                        let first = next.fetch_add(count, Ordering::SeqCst) + 1;
                        let published =
                            publisher.publish(range(first, first + count - 1, 1), 10_000, |end| {
                                let mut last = last_end.lock().expect("end");
                                assert!(end > *last, "ends published in order");
                                *last = end;
                            });
                        published.expect("publish");
                        assert!(publisher.visible() >= first + count - 1);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().expect("writer");
        }
        let total = next.load(Ordering::SeqCst);
        assert_eq!(publisher.visible(), total);
        assert_eq!(*last_end.lock().expect("end"), total * 10);
    }

    #[test]
    fn a_writer_that_never_publishes_breaks_the_publisher_instead_of_hanging_the_next() {
        let publisher = Publisher::new(10);
        // 11 was reserved by a writer that stopped; 12 waits for it.
        let err = publisher
            .publish(range(12, 12, 1), 50, |_| {})
            .expect_err("gives up");
        assert_eq!(err.code(), "IO");
        assert_eq!(publisher.visible(), 10, "nothing after the hole is visible");
        assert!(publisher.check().is_err(), "later writes are refused");
        let started = crate::clock::now_ms();
        assert!(publisher.publish(range(13, 13, 1), 10_000, |_| {}).is_err());
        assert!(
            crate::clock::now_ms() - started < 1_000.0,
            "later waiters give up at once"
        );
        // The one stopped writer comes back: its range is not published after the hole.
        assert!(publisher.publish(range(11, 11, 1), 10_000, |_| {}).is_err());
        assert_eq!(publisher.visible(), 10);
    }
}
