//! The memtable: recent writes, in memory, ordered by internal key.
//!
//! An insert-only [`SkipList`] over a lock-free [`Arena`], with a point index that
//! finds a key's newest version without a descent. Many writers insert at once without
//! locks; readers never lock or wait. [`Memtable::freeze`] turns it read-only:
//! writers register with [`Memtable::begin_write`], so the owner can tell when the last
//! in-flight insert has finished ([`Memtable::is_quiescent`]) before flushing it.

pub mod arena;
mod batch_order;
pub(crate) mod index;
pub mod skiplist;

use crate::iter::InternalIterator;
use crate::key::{self, SequenceNumber, ValueKind, TRAILER_LEN};
use crate::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use arena::Arena;
use index::{PointIndex, Probe};
use skiplist::{NodeRef, SkipList, Splice};
use std::sync::Arc;

/// What the memtable knows about a key at a snapshot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lookup<'a> {
    /// The newest visible version is a put of this value.
    Found(&'a [u8]),
    /// The newest visible version is a delete.
    Deleted,
    /// No visible version here: look in older data.
    Absent,
}

/// An in-memory, ordered, insert-only table of internal keys.
pub struct Memtable {
    list: SkipList,
    index: PointIndex,
    frozen: AtomicBool,
    writers: AtomicUsize,
    /// User key and value bytes inserted (what a user would call the data size).
    data_bytes: AtomicUsize,
    /// The oldest log segment holding its entries (segments from here on are needed
    /// until it is flushed).
    first_segment: u64,
    /// The largest sequence number inserted.
    max_seq: crate::sync::atomic::AtomicU64,
}

/// A registered writer; while one is alive the memtable is not quiescent.
pub struct WriteGuard<'a> {
    memtable: &'a Memtable,
}

impl Memtable {
    /// An empty memtable whose arena allocates chunks of up to `chunk_size` bytes, sized
    /// for the default `memtable_size`.
    pub fn new(chunk_size: usize) -> Memtable {
        Memtable::with_first_segment(chunk_size, 0, crate::Options::default().memtable_size)
    }

    /// An empty memtable of a store opened with `options`, whose entries are logged from
    /// segment `first_segment` on.
    pub fn for_store(options: &crate::Options, first_segment: u64) -> Memtable {
        // (No memtable outgrows the store's memory limit.)
        let size = options.memtable_size.min(options.memory_limit);
        Memtable::with_first_segment(options.arena_chunk_size, first_segment, size)
    }

    /// An empty memtable whose entries are logged from segment `first_segment` on, sized
    /// for about `size` bytes of entries (the store's `memtable_size`).
    pub fn with_first_segment(chunk_size: usize, first_segment: u64, size: usize) -> Memtable {
        Memtable {
            list: SkipList::new(Arena::new(chunk_size), key::compare, height_seed()),
            index: PointIndex::new(index_slots(size)),
            frozen: AtomicBool::new(false),
            writers: AtomicUsize::new(0),
            data_bytes: AtomicUsize::new(0),
            first_segment,
            max_seq: crate::sync::atomic::AtomicU64::new(0),
        }
    }

    /// The oldest log segment holding its entries.
    pub fn first_segment(&self) -> u64 {
        self.first_segment
    }

    /// The largest sequence number inserted (0 when empty).
    pub fn max_sequence(&self) -> SequenceNumber {
        self.max_seq.load(Ordering::Acquire)
    }

    /// Registers a writer, or `None` once the memtable is frozen.
    pub fn begin_write(&self) -> Option<WriteGuard<'_>> {
        self.writers.fetch_add(1, Ordering::SeqCst);
        if self.frozen.load(Ordering::SeqCst) {
            self.writers.fetch_sub(1, Ordering::SeqCst);
            return None;
        }
        Some(WriteGuard { memtable: self })
    }

    /// Makes the memtable read-only: `begin_write` fails from now on. Writers already
    /// registered finish their inserts.
    pub fn freeze(&self) {
        self.frozen.store(true, Ordering::SeqCst);
    }

    /// True once frozen.
    pub fn is_frozen(&self) -> bool {
        self.frozen.load(Ordering::SeqCst)
    }

    /// True when frozen and no insert is in flight: the contents are final.
    pub fn is_quiescent(&self) -> bool {
        self.is_frozen() && self.writers.load(Ordering::SeqCst) == 0
    }

    /// Number of entries (every version of every key).
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// True when nothing was inserted.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Bytes of memory held (arena chunks and the point index).
    pub fn memory_usage(&self) -> usize {
        self.list.memory_usage() + self.index.memory_usage()
    }

    /// Bytes its entries take in the arena (what decides when it is full; the arena holds
    /// a little more in the unused end of its current chunk).
    pub fn approximate_size(&self) -> usize {
        self.list.used_bytes()
    }

    /// User key and value bytes inserted.
    pub fn data_bytes(&self) -> usize {
        self.data_bytes.load(Ordering::Relaxed)
    }

    /// The newest version of `user_key` visible at `seq`.
    pub fn get(&self, user_key: &[u8], seq: SequenceNumber) -> Lookup<'_> {
        self.get_versioned(user_key, seq)
            .map_or(Lookup::Absent, |(_, found)| found)
    }

    /// The newest version of `user_key` visible at `seq` with its sequence number, or
    /// `None` if this memtable holds no visible version of it.
    pub fn get_versioned(
        &self,
        user_key: &[u8],
        seq: SequenceNumber,
    ) -> Option<(SequenceNumber, Lookup<'_>)> {
        let node = match self.index.find(&self.list, user_key) {
            Probe::Absent => return None,
            // The newest version, unless the reader's snapshot is older than it.
            Probe::Newest(node) if key::sequence(self.list.key(node)) <= seq => node,
            _ => self.seek(user_key, seq)?,
        };
        let found = key::parse(self.list.key(node)).filter(|f| f.user_key == user_key)?;
        Some(match found.kind {
            ValueKind::Put => (found.seq, Lookup::Found(self.list.value(node))),
            ValueKind::Delete => (found.seq, Lookup::Deleted),
        })
    }

    /// The first node at or after `user_key`'s version at `seq` (a skiplist descent).
    fn seek(&self, user_key: &[u8], seq: SequenceNumber) -> Option<NodeRef> {
        // Build the seek key on the stack for ordinary keys; allocate only for long ones.
        let mut stack = [0u8; 128];
        let heap;
        let len = user_key.len() + TRAILER_LEN;
        let target: &[u8] = if len <= stack.len() {
            key::write_internal_key(&mut stack[..len], user_key, seq, ValueKind::SEEK);
            &stack[..len]
        } else {
            heap = key::internal_key(user_key, seq, ValueKind::SEEK);
            &heap
        };
        self.list.seek(target)
    }

    /// An iterator over the internal entries, holding the memtable alive.
    pub fn iter(self: &Arc<Self>) -> MemtableIter {
        MemtableIter {
            memtable: Arc::clone(self),
            node: None,
        }
    }
}

/// Point index slots for a memtable of `size` bytes of entries: one per 16 bytes, so that
/// it holds the keys of about three times `size` in entries of 64 bytes (a batch larger
/// than the memtable goes in whole), at 4 (wasm) or 8 bytes a slot.
fn index_slots(size: usize) -> usize {
    (size / 16).clamp(1 << 8, 1 << 22)
}

/// A per-process random seed for tower heights (fixed under loom, which needs determinism).
fn height_seed() -> u64 {
    #[cfg(loom)]
    return 0;
    #[cfg(not(loom))]
    {
        use std::hash::BuildHasher;
        std::collections::hash_map::RandomState::new().hash_one(0u8)
    }
}

impl WriteGuard<'_> {
    /// Inserts one version of `user_key`. Each `(user_key, seq)` must be new.
    pub fn add(&self, seq: SequenceNumber, kind: ValueKind, user_key: &[u8], value: &[u8]) {
        self.insert(&mut self.memtable.list.splice(), seq, kind, user_key, value);
    }

    fn insert(
        &self,
        splice: &mut Splice<'_>,
        seq: SequenceNumber,
        kind: ValueKind,
        user_key: &[u8],
        value: &[u8],
    ) {
        let trailer = key::pack_trailer(seq, kind).to_le_bytes();
        debug_assert_eq!(trailer.len(), TRAILER_LEN);
        let node = splice.insert(&[user_key, &trailer], value);
        self.memtable.index.record(&self.memtable.list, node);
        self.memtable
            .data_bytes
            .fetch_add(user_key.len() + value.len(), Ordering::Relaxed);
        let max = &self.memtable.max_seq;
        let mut current = max.load(Ordering::Relaxed);
        while seq > current {
            match max.compare_exchange_weak(current, seq, Ordering::AcqRel, Ordering::Relaxed) {
                Ok(_) => break,
                Err(actual) => current = actual,
            }
        }
    }
}

impl Drop for WriteGuard<'_> {
    fn drop(&mut self) {
        self.memtable.writers.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A cursor over a memtable's internal entries.
pub struct MemtableIter {
    memtable: Arc<Memtable>,
    node: Option<NodeRef>,
}

// SAFETY: the node pointer refers to arena memory owned by the memtable, which this
// iterator keeps alive through its Arc; nodes are immutable once published.
unsafe impl Send for MemtableIter {}

impl MemtableIter {
    fn list(&self) -> &SkipList {
        &self.memtable.list
    }

    fn current(&self) -> NodeRef {
        match self.node {
            Some(node) => node,
            None => panic!("memtable iterator used while not valid"),
        }
    }
}

impl InternalIterator for MemtableIter {
    fn valid(&self) -> bool {
        self.node.is_some()
    }
    fn key(&self) -> &[u8] {
        self.list().key(self.current())
    }
    fn value(&self) -> &[u8] {
        self.list().value(self.current())
    }
    fn next(&mut self) {
        self.node = self.list().next(self.current());
    }
    fn prev(&mut self) {
        self.node = self.list().prev(self.current());
    }
    fn seek(&mut self, target: &[u8]) {
        self.node = self.list().seek(target);
    }
    fn seek_for_prev(&mut self, target: &[u8]) {
        self.node = self.list().seek_for_prev(target);
    }
    fn seek_to_first(&mut self) {
        self.node = self.list().first();
    }
    fn seek_to_last(&mut self) {
        self.node = self.list().last();
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn get_returns_the_newest_version_visible_at_the_snapshot() {
        let mem = Memtable::new(4096);
        let w = mem.begin_write().expect("not frozen");
        w.add(1, ValueKind::Put, b"k", b"one");
        w.add(2, ValueKind::Put, b"k", b"two");
        w.add(3, ValueKind::Delete, b"k", b"");
        w.add(4, ValueKind::Put, b"l", b"other");
        assert_eq!(mem.get(b"k", 0), Lookup::Absent);
        assert_eq!(mem.get(b"k", 1), Lookup::Found(b"one"));
        assert_eq!(mem.get(b"k", 2), Lookup::Found(b"two"));
        assert_eq!(mem.get(b"k", 3), Lookup::Deleted);
        assert_eq!(mem.get(b"k", 99), Lookup::Deleted);
        assert_eq!(mem.get(b"j", 99), Lookup::Absent);
        assert_eq!(mem.get(b"l", 99), Lookup::Found(b"other"));
        assert_eq!(mem.data_bytes(), (1 + 3) + (1 + 3) + 1 + (1 + 5));
    }

    #[test]
    fn a_frozen_memtable_refuses_new_writers_and_waits_for_running_ones() {
        let mem = Memtable::new(4096);
        let running = mem.begin_write().expect("not frozen yet");
        mem.freeze();
        assert!(mem.begin_write().is_none());
        assert!(!mem.is_quiescent(), "a writer is still inserting");
        running.add(1, ValueKind::Put, b"late", b"but accepted");
        drop(running);
        assert!(mem.is_quiescent());
        assert_eq!(mem.get(b"late", 1), Lookup::Found(b"but accepted"));
    }

    #[test]
    fn iteration_walks_internal_keys_both_ways() {
        let mem = Arc::new(Memtable::new(4096));
        let w = mem.begin_write().expect("not frozen");
        w.add(1, ValueKind::Put, b"a", b"1");
        w.add(2, ValueKind::Put, b"b", b"2");
        w.add(3, ValueKind::Put, b"a", b"3");
        drop(w);
        let mut it = mem.iter();
        it.seek_to_first();
        let mut forward = Vec::new();
        while it.valid() {
            let parsed = key::parse(it.key()).expect("valid key");
            forward.push((parsed.user_key.to_vec(), parsed.seq));
            it.next();
        }
        assert_eq!(
            forward,
            vec![(b"a".to_vec(), 3), (b"a".to_vec(), 1), (b"b".to_vec(), 2)]
        );
        it.seek_to_last();
        let mut backward = Vec::new();
        while it.valid() {
            backward.push(key::parse(it.key()).expect("valid key").seq);
            it.prev();
        }
        assert_eq!(backward, vec![2, 1, 3]);
    }

    /// What the skiplist alone says of `user_key` at `seq` (the index's reference).
    fn by_descent(
        mem: &Memtable,
        user_key: &[u8],
        seq: SequenceNumber,
    ) -> Option<(u64, Vec<u8>, bool)> {
        let node = mem.seek(user_key, seq)?;
        let found = key::parse(mem.list.key(node)).filter(|f| f.user_key == user_key)?;
        Some((
            found.seq,
            mem.list.value(node).to_vec(),
            found.kind == ValueKind::Delete,
        ))
    }

    fn by_get(
        mem: &Memtable,
        user_key: &[u8],
        seq: SequenceNumber,
    ) -> Option<(u64, Vec<u8>, bool)> {
        mem.get_versioned(user_key, seq)
            .map(|(found, lookup)| match lookup {
                Lookup::Found(value) => (found, value.to_vec(), false),
                _ => (found, Vec::new(), true),
            })
    }

    /// Versions of `keys` keys (puts and deletes, in a scrambled key order) at sequence
    /// numbers 1..=n, into a memtable sized for `size` bytes.
    fn scrambled(size: usize, n: u64, keys: u64) -> Memtable {
        let mem = Memtable::with_first_segment(4096, 0, size);
        {
            let w = mem.begin_write().expect("not frozen");
            for seq in 1..=n {
                let k = format!("key{}", (seq * 7919) % keys);
                let kind = if seq % 5 == 0 {
                    ValueKind::Delete
                } else {
                    ValueKind::Put
                };
                let value = if kind == ValueKind::Put {
                    format!("v{seq}")
                } else {
                    String::new()
                };
                w.add(seq, kind, k.as_bytes(), value.as_bytes());
            }
        }
        mem
    }

    #[test]
    fn the_point_index_answers_what_the_skiplist_does_at_every_snapshot() {
        let mem = scrambled(4 << 20, 2_000, 200);
        assert!(mem.index.is_on());
        for k in 0..210 {
            let k = format!("key{k}");
            for seq in [0, 1, 2, 10, 199, 200, 201, 999, 1_000, 1_999, 2_000, 5_000] {
                assert_eq!(
                    by_get(&mem, k.as_bytes(), seq),
                    by_descent(&mem, k.as_bytes(), seq),
                    "{k} at {seq}"
                );
            }
        }
        // Keys next to present ones (a prefix, a longer key) are absent.
        assert_eq!(mem.get(b"key1x", 9_999), Lookup::Absent);
        assert_eq!(mem.get(b"key", 9_999), Lookup::Absent);
    }

    #[test]
    fn a_full_point_index_turns_off_and_gets_still_answer() {
        // The smallest index (256 slots) holds 192 keys; 1,500 turn it off part way.
        let mem = scrambled(0, 3_000, 1_500);
        assert!(!mem.index.is_on());
        for k in 0..1_510 {
            let k = format!("key{k}");
            for seq in [0, 3, 1_500, 3_000] {
                assert_eq!(
                    by_get(&mem, k.as_bytes(), seq),
                    by_descent(&mem, k.as_bytes(), seq),
                    "{k} at {seq}"
                );
            }
        }
    }

    #[test]
    fn concurrent_writers_of_the_same_keys_leave_the_newest_version_indexed() {
        let mem = Arc::new(Memtable::with_first_segment(1 << 16, 0, 1 << 20));
        let threads: Vec<_> = (0..4u64)
            .map(|t| {
                let mem = Arc::clone(&mem);
                std::thread::spawn(move || {
                    let w = mem.begin_write().expect("not frozen");
                    // Thread t writes sequence numbers t+1, t+5, t+9, ...: every key gets
                    // versions from every thread, in racing order.
                    for i in 0..5_000u64 {
                        let seq = i * 4 + t + 1;
                        w.add(
                            seq,
                            ValueKind::Put,
                            format!("k{}", i % 500).as_bytes(),
                            &seq.to_le_bytes(),
                        );
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().expect("writer");
        }
        assert!(mem.index.is_on());
        for k in 0..500u64 {
            let newest = (0..20_000u64)
                .filter(|seq| (seq / 4) % 500 == k)
                .max()
                .expect("written")
                + 1;
            let key = format!("k{k}");
            assert_eq!(
                mem.get(key.as_bytes(), u64::MAX >> 8),
                Lookup::Found(&newest.to_le_bytes()),
                "{key}"
            );
            assert_eq!(
                by_get(&mem, key.as_bytes(), newest - 1),
                by_descent(&mem, key.as_bytes(), newest - 1)
            );
        }
    }

    #[test]
    fn memory_stays_within_one_and_a_half_times_the_data_for_small_entries() {
        const CHUNK: usize = 1 << 20;
        let mem = Memtable::new(CHUNK);
        let w = mem.begin_write().expect("not frozen");
        let value = [7u8; 100];
        for i in 0..100_000u64 {
            let mut user_key = [0u8; 16];
            user_key[8..].copy_from_slice(&i.to_be_bytes());
            w.add(i + 1, ValueKind::Put, &user_key, &value);
        }
        // The newest chunk is held whole, however little of it is used yet.
        let ratio = (mem.memory_usage() - CHUNK) as f64 / mem.data_bytes() as f64;
        assert!(ratio <= 1.5, "memory / data = {ratio:.3}");
    }
}
