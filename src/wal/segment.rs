//! One log segment: the log of one memtable generation.
//!
//! A single `AtomicU64` holds the segment's whole reservation state:
//! `sealed (1 bit) | operations so far (23 bits) | log end offset (40 bits)`. A writer
//! reserves its sequence numbers and its log space in one compare-and-swap, so the order of
//! records in the log is the order of their sequence numbers, with no lock. Writers then copy
//! their framed record into the [`LogBuffer`] and publish in sequence order (see
//! `db/sequence.rs`), which advances `published`. The flusher appends the published prefix
//! to storage and syncs it (group commit: one sync covers every writer published so far).
//!
//! Sealing sets the top bit: no reservation succeeds afterwards, and the writer that sealed
//! starts the next segment, whose first sequence number follows the sealed one's last.

use super::buffer::{LogBuffer, MAX_SEGMENT_LEN};
use super::format::framed_len;
use crate::error::Result;
use crate::key::SequenceNumber;
use crate::storage::Storage;
use crate::sync::atomic::{AtomicU64, Ordering};

const OFFSET_BITS: u32 = 40;
const OFFSET_MASK: u64 = (1 << OFFSET_BITS) - 1;
const COUNT_BITS: u32 = 23;
/// The most operations one segment holds.
pub const MAX_OPERATIONS: u64 = (1 << COUNT_BITS) - 1;
const SEALED: u64 = 1 << 63;

fn unpack(state: u64) -> (bool, u64, u64) {
    (
        state & SEALED != 0,
        (state >> OFFSET_BITS) & MAX_OPERATIONS,
        state & OFFSET_MASK,
    )
}

fn pack(count: u64, offset: u64) -> u64 {
    (count << OFFSET_BITS) | offset
}

/// Space and sequence numbers reserved by one writer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Slot {
    /// The sequence number of the batch's first operation.
    pub first_seq: SequenceNumber,
    /// The last sequence number of the batch.
    pub last_seq: SequenceNumber,
    /// Where the framed record starts in the segment file.
    pub offset: u64,
    /// Where it ends.
    pub end: u64,
}

/// A log segment being written (or, for stores without storage, only a sequence range).
pub struct Segment {
    number: u64,
    name: String,
    /// The last sequence number before this segment.
    base: SequenceNumber,
    /// False for in-memory stores: no framing, no buffer, no flushing.
    logged: bool,
    state: AtomicU64,
    buffer: LogBuffer,
    /// Every byte below is written to the buffer.
    published: AtomicU64,
    /// Every byte below is appended to storage.
    flushed: AtomicU64,
    /// Every byte below is synced.
    synced: AtomicU64,
}

impl Segment {
    /// A new (empty) segment `number`, whose first sequence number will be `base + 1`.
    pub fn new(number: u64, base: SequenceNumber, logged: bool) -> Segment {
        Segment {
            number,
            name: super::segment_name(number),
            base,
            logged,
            state: AtomicU64::new(0),
            buffer: LogBuffer::new(),
            published: AtomicU64::new(0),
            flushed: AtomicU64::new(0),
            synced: AtomicU64::new(0),
        }
    }

    /// Segment `number` as it is on storage, `start` bytes long (its records end there),
    /// to go on writing after them; its next sequence number is `base + 1`.
    pub fn resume(number: u64, base: SequenceNumber, start: u64) -> Segment {
        let segment = Segment::new(number, base, true);
        segment.state.store(pack(0, start), Ordering::Relaxed);
        segment.published.store(start, Ordering::Relaxed);
        segment.flushed.store(start, Ordering::Relaxed);
        segment.synced.store(start, Ordering::Relaxed);
        segment
    }

    /// Sets the last sequence number before this segment (before it is shared).
    pub fn set_base(&mut self, base: SequenceNumber) {
        self.base = base;
    }

    /// The segment number.
    pub fn number(&self) -> u64 {
        self.number
    }

    /// The file name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// True if records are written to storage.
    pub fn is_logged(&self) -> bool {
        self.logged
    }

    /// Reserves `count` sequence numbers and room for a `payload_len`-byte record. `None`
    /// when the segment is sealed or full: the caller switches to the next one.
    pub fn reserve(&self, count: u64, payload_len: usize) -> Option<Slot> {
        let mut current = self.state.load(Ordering::Acquire);
        loop {
            let (sealed, ops, offset) = unpack(current);
            if sealed || ops + count > MAX_OPERATIONS {
                return None;
            }
            let end = if self.logged {
                offset + framed_len(offset, payload_len)
            } else {
                0
            };
            if end > MAX_SEGMENT_LEN {
                return None;
            }
            match self.state.compare_exchange_weak(
                current,
                pack(ops + count, end),
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => {
                    return Some(Slot {
                        first_seq: self.base + ops + 1,
                        last_seq: self.base + ops + count,
                        offset,
                        end,
                    })
                }
                Err(actual) => current = actual,
            }
        }
    }

    /// Seals the segment: no reservation succeeds afterwards. Returns the last sequence
    /// number it holds, or `None` if it was already sealed (someone else is switching).
    pub fn seal(&self) -> Option<SequenceNumber> {
        let previous = self.state.fetch_or(SEALED, Ordering::AcqRel);
        let (was_sealed, ops, _) = unpack(previous);
        (!was_sealed).then_some(self.base + ops)
    }

    /// True once sealed.
    pub fn is_sealed(&self) -> bool {
        unpack(self.state.load(Ordering::Acquire)).0
    }

    /// True when sealed and every reserved record is published.
    pub fn is_complete(&self) -> bool {
        let (sealed, _, end) = unpack(self.state.load(Ordering::Acquire));
        sealed && self.published.load(Ordering::Acquire) >= end
    }

    /// Copies a framed record into its reserved slot.
    pub fn write(&self, slot: &Slot, framed: &[u8]) {
        debug_assert_eq!(slot.offset + framed.len() as u64, slot.end);
        self.buffer.write(slot.offset, framed);
    }

    /// Marks every record up to `end` written. Called in sequence order only.
    pub fn publish(&self, end: u64) {
        if self.logged {
            self.published.store(end, Ordering::Release);
        }
    }

    /// The end of what is published (written in sequence order up to there).
    pub fn published(&self) -> u64 {
        self.published.load(Ordering::Acquire)
    }

    /// The end of what is appended to storage (the file's length).
    pub fn flushed(&self) -> u64 {
        self.flushed.load(Ordering::Acquire)
    }

    /// The synced end.
    pub fn synced(&self) -> u64 {
        self.synced.load(Ordering::Acquire)
    }

    /// Bytes published but not yet flushed.
    pub fn unflushed(&self) -> u64 {
        self.published
            .load(Ordering::Acquire)
            .saturating_sub(self.flushed.load(Ordering::Acquire))
    }

    /// Appends the published, unflushed bytes to storage and syncs them. Only one thread
    /// at a time may call this (the log's flush lock).
    ///
    /// # Errors
    /// Errors of the storage.
    pub fn flush(&self, storage: &dyn Storage, metrics: &crate::metrics::Metrics) -> Result<()> {
        use crate::metrics::{Stopwatch, Timed};
        if !self.logged {
            return Ok(());
        }
        let published = self.published.load(Ordering::Acquire);
        let flushed = self.flushed.load(Ordering::Acquire);
        if published > flushed {
            let mut bytes = Vec::new();
            self.buffer
                .read(flushed, (published - flushed) as usize, &mut bytes);
            let timer = Stopwatch::start();
            storage.append(&self.name, &bytes)?;
            metrics.record(Timed::WalWrite, timer.micros());
            metrics.wal_bytes(bytes.len() as u64);
            self.flushed.store(published, Ordering::Release);
            self.buffer.release_below(published);
        }
        if self.synced.load(Ordering::Acquire) < published {
            let timer = Stopwatch::start();
            storage.sync(&self.name)?;
            metrics.record(Timed::WalSync, timer.micros());
            self.synced.store(published, Ordering::Release);
        }
        Ok(())
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::storage::MemStorage;
    use crate::wal::format::frame;
    use crate::wal::reader::{LogEvent, LogReader};

    #[test]
    fn reservations_hand_out_consecutive_sequences_and_adjacent_space() {
        let segment = Segment::new(1, 100, true);
        let a = segment.reserve(3, 10).expect("room");
        let b = segment.reserve(1, 20).expect("room");
        assert_eq!((a.first_seq, a.last_seq, a.offset), (101, 103, 0));
        assert_eq!((b.first_seq, b.last_seq, b.offset), (104, 104, a.end));
        assert_eq!(segment.seal(), Some(104));
        assert_eq!(segment.seal(), None, "sealing twice");
        assert_eq!(segment.reserve(1, 1), None);
    }

    #[test]
    fn flushed_records_read_back_in_order() {
        let storage = MemStorage::new();
        storage.create("000001.wal").expect("create");
        let segment = Segment::new(1, 0, true);
        for payload in [b"first".as_slice(), b"second", &[9u8; 40_000]] {
            let slot = segment.reserve(1, payload.len()).expect("room");
            let mut framed = Vec::new();
            frame(slot.offset, payload, &mut framed);
            segment.write(&slot, &framed);
            segment.publish(slot.end);
        }
        segment
            .flush(&storage, &crate::metrics::Metrics::default())
            .expect("flush");
        assert_eq!(segment.unflushed(), 0);
        let data = storage.read_all("000001.wal").expect("read");
        let records: Vec<Vec<u8>> = LogReader::new(&data)
            .map(|e| match e {
                LogEvent::Record { data, .. } => data,
                other => panic!("unexpected {other:?}"),
            })
            .collect();
        assert_eq!(
            records,
            vec![b"first".to_vec(), b"second".to_vec(), vec![9u8; 40_000]]
        );
    }

    #[test]
    fn a_segment_refuses_more_than_its_operation_limit() {
        let segment = Segment::new(1, 0, false);
        assert!(segment.reserve(MAX_OPERATIONS, 0).is_some());
        assert!(segment.reserve(1, 0).is_none());
    }
}
