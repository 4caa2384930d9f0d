//! The memtable: recent writes, in memory, ordered by internal key.
//!
//! An insert-only [`SkipList`] over a lock-free [`Arena`]. Many writers insert at once
//! without locks; readers never lock or wait. [`Memtable::freeze`] turns it read-only:
//! writers register with [`Memtable::begin_write`], so the owner can tell when the last
//! in-flight insert has finished ([`Memtable::is_quiescent`]) before flushing it.

pub mod arena;
pub mod skiplist;

use crate::iter::InternalIterator;
use crate::key::{self, SequenceNumber, ValueKind, TRAILER_LEN};
use crate::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use arena::Arena;
use skiplist::{NodeRef, SkipList};
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
    /// An empty memtable whose arena allocates chunks of up to `chunk_size` bytes.
    pub fn new(chunk_size: usize) -> Memtable {
        Memtable::with_first_segment(chunk_size, 0)
    }

    /// An empty memtable whose entries are logged from segment `first_segment` on.
    pub fn with_first_segment(chunk_size: usize, first_segment: u64) -> Memtable {
        Memtable {
            list: SkipList::new(Arena::new(chunk_size), key::compare, height_seed()),
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

    /// Bytes of memory held (arena chunks).
    pub fn memory_usage(&self) -> usize {
        self.list.memory_usage()
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
        let node = self.list.seek(target)?;
        let found = key::parse(self.list.key(node)).filter(|f| f.user_key == user_key)?;
        Some(match found.kind {
            ValueKind::Put => (found.seq, Lookup::Found(self.list.value(node))),
            ValueKind::Delete => (found.seq, Lookup::Deleted),
        })
    }

    /// An iterator over the internal entries, holding the memtable alive.
    pub fn iter(self: &Arc<Self>) -> MemtableIter {
        MemtableIter {
            memtable: Arc::clone(self),
            node: None,
        }
    }
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
        let trailer = key::pack_trailer(seq, kind).to_le_bytes();
        debug_assert_eq!(trailer.len(), TRAILER_LEN);
        self.memtable.list.insert(&[user_key, &trailer], value);
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

    #[test]
    fn memory_stays_within_one_and_a_half_times_the_data_for_small_entries() {
        let mem = Memtable::new(1 << 20);
        let w = mem.begin_write().expect("not frozen");
        let value = [7u8; 100];
        for i in 0..100_000u64 {
            let mut user_key = [0u8; 16];
            user_key[8..].copy_from_slice(&i.to_be_bytes());
            w.add(i + 1, ValueKind::Put, &user_key, &value);
        }
        let ratio = mem.memory_usage() as f64 / mem.data_bytes() as f64;
        assert!(ratio <= 1.5, "memory / data = {ratio:.3}");
    }
}
