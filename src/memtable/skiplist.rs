//! A lock-free, insert-only skiplist over an [`Arena`].
//!
//! # Concurrency contract (after LevelDB's `db/skiplist.h` and RocksDB's InlineSkipList)
//! - Any number of threads may insert at once; none of them takes a lock. A node is built
//!   completely (key, value, its own links) before it is published, level 0 first, by a
//!   compare-and-swap with release ordering on its predecessor's link. A failed swap means
//!   another writer linked a node there: the writer searches again from the same
//!   predecessor, on that level only.
//! - Readers never lock, wait or retry: they load links with acquire ordering, so a node they
//!   reach is fully initialized. A node becomes visible to iteration once linked at level 0;
//!   higher levels only speed searches up.
//! - Nodes are never removed or changed after publication and live until the list is
//!   dropped (they are arena memory), so a reader may hold a node pointer for as long as it
//!   holds the list.
//! - Keys must be unique (internal keys are: each carries its own sequence number).
//!
//! # Node layout (one arena allocation)
//! `meta: u32` (key length in the low 24 bits, tower height in the high 8),
//! `value_len: u32`, `height` links (`AtomicPtr<Node>`), the key bytes, the value bytes.

use super::arena::{Arena, ALIGN};
use crate::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};
use std::cmp::Ordering as CmpOrdering;
use std::mem::size_of;
use std::ptr::{self, NonNull};

mod splice;
pub use splice::Splice;

/// The tallest tower. With a branching factor of 4, searches stay logarithmic up to about
/// 4^MAX_HEIGHT entries.
pub const MAX_HEIGHT: usize = 16;
/// Longest key a node can hold (24 bits of `meta`).
pub const MAX_KEY_LEN: usize = (1 << 24) - 1;

/// How keys are ordered.
pub type Comparator = fn(&[u8], &[u8]) -> CmpOrdering;

#[repr(C)]
struct Node {
    meta: u32,
    value_len: u32,
}

const LINK: usize = size_of::<AtomicPtr<Node>>();
const HEADER: usize = size_of::<Node>();
const _: () = assert!(HEADER.is_multiple_of(ALIGN) || ALIGN.is_multiple_of(HEADER));

/// A published node of a list. Valid (and its bytes unchanged) while the list is alive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NodeRef(NonNull<Node>);

impl NodeRef {
    fn ptr(self) -> *mut Node {
        self.0.as_ptr()
    }

    /// The node's address, to keep in an atomic (the memtable's point index).
    pub(crate) fn as_raw(self) -> *mut u8 {
        self.0.as_ptr().cast()
    }

    /// The node at an address `as_raw` gave.
    ///
    /// # Safety
    /// `raw` must come from `as_raw` of a node of a list that is still alive.
    pub(crate) unsafe fn from_raw(raw: *mut u8) -> NodeRef {
        // SAFETY: guaranteed by the caller: a node's address, never null.
        NodeRef(unsafe { NonNull::new_unchecked(raw.cast()) })
    }
}

/// Link `level` of `node`.
///
/// # Safety
/// `node` must be a live node of a list whose tower is taller than `level`.
unsafe fn link<'a>(node: *mut Node, level: usize) -> &'a AtomicPtr<Node> {
    // SAFETY: the caller guarantees the tower holds `level`; links start right after the
    // header and are aligned because nodes and the header are.
    unsafe { &*((node as *const u8).add(HEADER + level * LINK) as *const AtomicPtr<Node>) }
}

/// The height of a node's tower.
///
/// # Safety
/// `node` must be a live node.
unsafe fn height(node: *mut Node) -> usize {
    // SAFETY: guaranteed by the caller.
    (unsafe { (*node).meta } >> 24) as usize
}

/// The key bytes of a node.
///
/// # Safety
/// `node` must be a live node; the slice must not outlive the list.
unsafe fn node_key<'a>(node: *mut Node) -> &'a [u8] {
    // SAFETY: the key follows the tower inside the node's allocation and is never written
    // after publication.
    unsafe {
        let len = ((*node).meta & 0x00ff_ffff) as usize;
        let start = (node as *const u8).add(HEADER + height(node) * LINK);
        std::slice::from_raw_parts(start, len)
    }
}

/// The value bytes of a node.
///
/// # Safety
/// As for [`node_key`].
unsafe fn value<'a>(node: *mut Node) -> &'a [u8] {
    // SAFETY: the value follows the key inside the node's allocation.
    unsafe {
        let key = node_key(node);
        std::slice::from_raw_parts(key.as_ptr().add(key.len()), (*node).value_len as usize)
    }
}

/// The lock-free skiplist. `Send + Sync`; see the module docs for the contract.
pub struct SkipList {
    arena: Arena,
    head: NonNull<Node>,
    /// Height of the tallest tower so far (only grows).
    max_height: AtomicUsize,
    len: AtomicUsize,
    cmp: Comparator,
    seed: u64,
}

// SAFETY: nodes are reached only through atomics with acquire/release ordering and are
// immutable once published; the arena itself is Send + Sync.
unsafe impl Send for SkipList {}
// SAFETY: as above.
unsafe impl Sync for SkipList {}

impl SkipList {
    /// An empty list ordered by `cmp`, allocating from `arena`. `seed` varies tower heights
    /// between lists.
    pub fn new(arena: Arena, cmp: Comparator, seed: u64) -> SkipList {
        let head = Self::alloc_node(&arena, MAX_HEIGHT, 0, 0);
        SkipList {
            arena,
            head,
            max_height: AtomicUsize::new(1),
            len: AtomicUsize::new(0),
            cmp,
            seed,
        }
    }

    /// Allocates a node whose links are null and whose key and value are zeroed.
    fn alloc_node(arena: &Arena, height: usize, key_len: usize, value_len: usize) -> NonNull<Node> {
        let size = HEADER + height * LINK + key_len + value_len;
        let node = arena.allocate(size).cast::<Node>();
        // SAFETY: the allocation is large enough and aligned for the header and the links,
        // and is private to this thread until published.
        unsafe {
            ptr::write(
                node.as_ptr(),
                Node {
                    meta: key_len as u32 | (height as u32) << 24,
                    value_len: value_len as u32,
                },
            );
            let links = (node.as_ptr() as *mut u8).add(HEADER) as *mut AtomicPtr<Node>;
            for level in 0..height {
                ptr::write(links.add(level), AtomicPtr::new(ptr::null_mut()));
            }
        }
        node
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.len.load(Ordering::Relaxed)
    }

    /// True when the list holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes of memory the list holds (its arena's chunks).
    pub fn memory_usage(&self) -> usize {
        self.arena.memory_usage()
    }

    /// Bytes its nodes take in the arena.
    pub fn used_bytes(&self) -> usize {
        self.arena.used()
    }

    /// A tower height from the key: 1, then one more with probability 1/4 per level.
    fn height_for(&self, key_parts: &[&[u8]]) -> usize {
        let mut bits = self.seed;
        for part in key_parts {
            bits = xxhash_rust::xxh3::xxh3_64(part) ^ bits.rotate_left(17);
        }
        let mut height = 1;
        while height < MAX_HEIGHT && bits & 3 == 0 {
            height += 1;
            bits >>= 2;
        }
        height
    }

    /// Inserts the key made of `key_parts` (concatenated) with `value`. Lock-free; safe to
    /// call from many threads at once. The key must not be in the list already and must be
    /// at most [`MAX_KEY_LEN`] bytes (the memtable guarantees both). Answers the new node,
    /// linked on every level of its tower. A writer inserting several keys saves searches
    /// with a [`Splice`] (see [`SkipList::splice`]).
    pub fn insert(&self, key_parts: &[&[u8]], value: &[u8]) -> NodeRef {
        self.splice().insert(key_parts, value)
    }

    /// A splice for a run of inserts by one writer, empty: its first insert searches from
    /// the head.
    pub fn splice(&self) -> Splice<'_> {
        Splice::new(self)
    }

    /// Raises the list's height to at least `height`; answers the height to search from.
    fn raise_height(&self, height: usize) -> usize {
        let mut list_height = self.max_height.load(Ordering::Relaxed);
        while height > list_height {
            match self.max_height.compare_exchange_weak(
                list_height,
                height,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => break,
                Err(actual) => list_height = actual,
            }
        }
        list_height.max(height)
    }

    /// On `level`, starting at `before` (whose key is below `key`), the last node with a key
    /// below `key` and the node after it.
    fn find_splice_for_level(
        &self,
        key: &[u8],
        before: *mut Node,
        level: usize,
    ) -> (*mut Node, *mut Node) {
        let mut x = before;
        loop {
            // SAFETY: `x` is the head or a node reached on this level, so its tower reaches
            // `level`; published nodes stay alive while the list is.
            let next = unsafe { link(x, level).load(Ordering::Acquire) };
            // SAFETY: `next` is a published node.
            if next.is_null() || (self.cmp)(unsafe { node_key(next) }, key) != CmpOrdering::Less {
                return (x, next);
            }
            x = next;
        }
    }

    /// The first node whose key is at or after `target`.
    pub fn seek(&self, target: &[u8]) -> Option<NodeRef> {
        let mut x = self.head.as_ptr();
        let mut next = ptr::null_mut();
        for level in (0..self.max_height.load(Ordering::Relaxed)).rev() {
            (x, next) = self.find_splice_for_level(target, x, level);
        }
        NonNull::new(next).map(NodeRef)
    }

    /// The last node whose key is before `target`.
    pub fn seek_before(&self, target: &[u8]) -> Option<NodeRef> {
        let mut x = self.head.as_ptr();
        for level in (0..self.max_height.load(Ordering::Relaxed)).rev() {
            x = self.find_splice_for_level(target, x, level).0;
        }
        self.not_head(x)
    }

    /// The last node whose key is at or before `target`.
    pub fn seek_for_prev(&self, target: &[u8]) -> Option<NodeRef> {
        match self.seek(target) {
            Some(node) if (self.cmp)(self.key(node), target) == CmpOrdering::Equal => Some(node),
            _ => self.seek_before(target),
        }
    }

    /// The first node.
    pub fn first(&self) -> Option<NodeRef> {
        // SAFETY: the head's tower has MAX_HEIGHT links.
        NonNull::new(unsafe { link(self.head.as_ptr(), 0).load(Ordering::Acquire) }).map(NodeRef)
    }

    /// The last node.
    pub fn last(&self) -> Option<NodeRef> {
        let mut x = self.head.as_ptr();
        for level in (0..self.max_height.load(Ordering::Relaxed)).rev() {
            loop {
                // SAFETY: `x` is the head or a node reached on this level.
                let next = unsafe { link(x, level).load(Ordering::Acquire) };
                if next.is_null() {
                    break;
                }
                x = next;
            }
        }
        self.not_head(x)
    }

    /// The node after `node`.
    pub fn next(&self, node: NodeRef) -> Option<NodeRef> {
        // SAFETY: `node` is a live node of this list; every tower has level 0.
        NonNull::new(unsafe { link(node.ptr(), 0).load(Ordering::Acquire) }).map(NodeRef)
    }

    /// The node before `node` (a search: O(log n)).
    pub fn prev(&self, node: NodeRef) -> Option<NodeRef> {
        self.seek_before(self.key(node))
    }

    /// The key of `node`.
    pub fn key(&self, node: NodeRef) -> &[u8] {
        // SAFETY: `node` belongs to this list, which outlives the returned slice.
        unsafe { node_key(node.ptr()) }
    }

    /// The value of `node`.
    pub fn value(&self, node: NodeRef) -> &[u8] {
        // SAFETY: as for `key`.
        unsafe { value(node.ptr()) }
    }

    fn not_head(&self, x: *mut Node) -> Option<NodeRef> {
        if x == self.head.as_ptr() {
            None
        } else {
            NonNull::new(x).map(NodeRef)
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::collections::BTreeSet;
    use std::sync::Arc;

    pub(super) fn list() -> SkipList {
        SkipList::new(Arena::new(4096), |a, b| a.cmp(b), 7)
    }

    pub(super) fn keys_forward(list: &SkipList) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        let mut node = list.first();
        while let Some(n) = node {
            out.push(list.key(n).to_vec());
            node = list.next(n);
        }
        out
    }

    #[test]
    fn an_empty_list_has_no_nodes() {
        let list = list();
        assert!(list.is_empty());
        assert_eq!(list.first(), None);
        assert_eq!(list.last(), None);
        assert_eq!(list.seek(b"a"), None);
        assert_eq!(list.seek_for_prev(b"z"), None);
    }

    #[test]
    fn entries_come_out_sorted_with_their_values() {
        let list = list();
        for k in [5u32, 1, 9, 3, 7, 2, 8] {
            list.insert(&[&k.to_be_bytes()], format!("v{k}").as_bytes());
        }
        let keys = keys_forward(&list);
        let want: Vec<Vec<u8>> = [1u32, 2, 3, 5, 7, 8, 9]
            .iter()
            .map(|k| k.to_be_bytes().to_vec())
            .collect();
        assert_eq!(keys, want);
        let node = list.seek(&7u32.to_be_bytes()).expect("present");
        assert_eq!(list.value(node), b"v7");
        assert_eq!(list.len(), 7);
    }

    #[test]
    fn keys_split_in_parts_are_stored_whole() {
        let list = list();
        list.insert(&[b"ab", b"cd"], b"x");
        let node = list.first().expect("one node");
        assert_eq!(list.key(node), b"abcd");
        assert_eq!(list.value(node), b"x");
    }

    #[test]
    fn seeks_find_neighbours_in_both_directions() {
        let list = list();
        for k in [10u8, 20, 30] {
            list.insert(&[&[k]], &[]);
        }
        let key = |n: Option<NodeRef>| n.map(|n| list.key(n)[0]);
        assert_eq!(key(list.seek(&[15])), Some(20));
        assert_eq!(key(list.seek(&[20])), Some(20));
        assert_eq!(key(list.seek(&[31])), None);
        assert_eq!(key(list.seek_before(&[20])), Some(10));
        assert_eq!(key(list.seek_before(&[10])), None);
        assert_eq!(key(list.seek_for_prev(&[20])), Some(20));
        assert_eq!(key(list.seek_for_prev(&[25])), Some(20));
        assert_eq!(key(list.seek_for_prev(&[5])), None);
        assert_eq!(key(list.last()), Some(30));
        let last = list.last().expect("non-empty");
        assert_eq!(key(list.prev(last)), Some(20));
    }

    /// Every level in key order, each level's nodes also on the level below.
    pub(super) fn assert_well_linked(list: &SkipList) {
        let mut below: Option<BTreeSet<*mut Node>> = None;
        for level in 0..MAX_HEIGHT {
            let mut on_level = BTreeSet::new();
            let mut prev: Option<&[u8]> = None;
            // SAFETY: the head's tower has MAX_HEIGHT links; nodes reached on a level have
            // towers that reach it.
            let mut x = unsafe { link(list.head.as_ptr(), level).load(Ordering::Acquire) };
            while !x.is_null() {
                // SAFETY: a published node.
                let key = unsafe { node_key(x) };
                assert!(prev.is_none_or(|p| p < key), "level {level} out of order");
                // SAFETY: a published node.
                assert!(unsafe { height(x) } > level);
                if let Some(below) = &below {
                    assert!(below.contains(&x), "a node on level {level} but not below");
                }
                on_level.insert(x);
                prev = Some(key);
                // SAFETY: as above.
                x = unsafe { link(x, level).load(Ordering::Acquire) };
            }
            below = Some(on_level);
        }
    }

    #[test]
    fn concurrent_writers_and_readers_see_a_consistent_sorted_list() {
        const WRITERS: u32 = 4;
        const PER_WRITER: u32 = 20_000;
        let list = Arc::new(SkipList::new(Arena::new(64 * 1024), |a, b| a.cmp(b), 1));
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| {
                let list = Arc::clone(&list);
                std::thread::spawn(move || {
                    // Half the writers keep a splice, made stale by the others at every
                    // step.
                    let mut splice = list.splice();
                    for i in 0..PER_WRITER {
                        // Interleave the writers' keys so they contend for the same spots.
                        let k = i * WRITERS + w;
                        if w % 2 == 0 {
                            splice.insert(&[&k.to_be_bytes()], &k.to_le_bytes());
                        } else {
                            list.insert(&[&k.to_be_bytes()], &k.to_le_bytes());
                        }
                    }
                })
            })
            .collect();
        // A reader scans while the writers run: every pass must be sorted, with values that
        // match their keys, and never shrink.
        let reader = {
            let list = Arc::clone(&list);
            std::thread::spawn(move || {
                let mut last_len = 0;
                for _ in 0..50 {
                    let mut n = 0usize;
                    let mut prev: Option<Vec<u8>> = None;
                    let mut node = list.first();
                    while let Some(x) = node {
                        let k = list.key(x);
                        assert_eq!(list.value(x), {
                            let mut v = [0u8; 4];
                            v.copy_from_slice(k);
                            u32::from_be_bytes(v).to_le_bytes()
                        });
                        if let Some(p) = &prev {
                            assert!(p.as_slice() < k, "out of order");
                        }
                        prev = Some(k.to_vec());
                        n += 1;
                        node = list.next(x);
                    }
                    assert!(n >= last_len);
                    last_len = n;
                }
            })
        };
        for w in writers {
            w.join().expect("writer");
        }
        reader.join().expect("reader");
        let keys = keys_forward(&list);
        assert_eq!(keys.len(), (WRITERS * PER_WRITER) as usize);
        let set: BTreeSet<_> = keys.iter().cloned().collect();
        assert_eq!(set.len(), keys.len());
        assert!(keys.windows(2).all(|w| w[0] < w[1]));
        assert_well_linked(&list);
        for k in (0..WRITERS * PER_WRITER).step_by(997) {
            let node = list.seek(&k.to_be_bytes()).expect("inserted key");
            assert_eq!(list.key(node), k.to_be_bytes());
        }
    }
}
