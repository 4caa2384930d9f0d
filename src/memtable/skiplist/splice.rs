//! A writer's [`Splice`]: where its last insert went, so that its next insert near there
//! searches only the lowest levels. A part of the skiplist (it reads the list's nodes and
//! links directly); the concurrency contract is the list's (see its module docs).

use super::{link, node_key, Node, NodeRef, SkipList, HEADER, LINK, MAX_HEIGHT, MAX_KEY_LEN};
use crate::sync::atomic::Ordering;
use std::cmp::Ordering as CmpOrdering;
use std::ptr::{self, NonNull};

/// Where one writer's last insert went (RocksDB's `Splice`): on each level, the last node
/// before that key and the node after it. The next insert checks, from level 0 up, for
/// the first level whose pair still brackets its key with no node between them, and
/// searches only the levels below that one, from there, instead of descending from the
/// head: keys inserted in ascending order (a sorted batch) take a constant number of
/// steps each. Other writers' inserts make a splice stale, never wrong: a pair that no
/// longer brackets the key, or has nodes between it, is not used.
///
/// Invariant: `prev[l + 1]` is at or before `prev[l]`, `next[l]` at or before
/// `next[l + 1]` (null is after every node), so a level that brackets a key means every
/// level above it does.
pub struct Splice<'a> {
    list: &'a SkipList,
    prev: [*mut Node; MAX_HEIGHT + 1],
    next: [*mut Node; MAX_HEIGHT + 1],
    /// The levels it holds (0 before its first insert).
    height: usize,
}

impl<'a> Splice<'a> {
    /// An empty splice of `list` (see [`SkipList::splice`]).
    pub(super) fn new(list: &'a SkipList) -> Splice<'a> {
        Splice {
            list,
            prev: [list.head.as_ptr(); MAX_HEIGHT + 1],
            next: [ptr::null_mut(); MAX_HEIGHT + 1],
            height: 0,
        }
    }

    /// As [`SkipList::insert`], starting from where this splice's last insert went.
    pub fn insert(&mut self, key_parts: &[&[u8]], value: &[u8]) -> NodeRef {
        let list = self.list;
        let key_len: usize = key_parts.iter().map(|part| part.len()).sum();
        assert!(key_len <= MAX_KEY_LEN, "skiplist key too long");
        let height = list.height_for(key_parts);
        let node = SkipList::alloc_node(&list.arena, height, key_len, value.len()).as_ptr();
        // SAFETY: the node is private until linked below; its key and value regions were
        // sized for exactly these bytes.
        let key = unsafe {
            let mut at = (node as *mut u8).add(HEADER + height * LINK);
            for part in key_parts {
                ptr::copy_nonoverlapping(part.as_ptr(), at, part.len());
                at = at.add(part.len());
            }
            ptr::copy_nonoverlapping(value.as_ptr(), at, value.len());
            node_key(node)
        };

        let search_height = list.raise_height(height);
        // Levels from here down are searched again; above, the splice brackets the key.
        let mut recompute = search_height;
        if self.height >= search_height {
            recompute = 0;
            while recompute < search_height && !self.brackets(key, recompute) {
                recompute += 1;
            }
        }
        self.prev[search_height] = list.head.as_ptr();
        self.next[search_height] = ptr::null_mut();
        self.height = search_height;
        for level in (0..recompute).rev() {
            (self.prev[level], self.next[level]) =
                list.find_splice_for_level(key, self.prev[level + 1], level);
        }

        for level in 0..height {
            loop {
                // SAFETY: `node` has `height` links; `prev[level]` is a live node whose
                // tower reaches `level` (it was found on that level, or is the head).
                unsafe {
                    link(node, level).store(self.next[level], Ordering::Relaxed);
                    if link(self.prev[level], level)
                        .compare_exchange(
                            self.next[level],
                            node,
                            Ordering::Release,
                            Ordering::Relaxed,
                        )
                        .is_ok()
                    {
                        break;
                    }
                }
                // Someone linked a node after `prev[level]`: search this level again.
                let (p, n) = list.find_splice_for_level(key, self.prev[level], level);
                debug_assert!(
                    // SAFETY: `n` is null or a published node.
                    n.is_null() || (list.cmp)(unsafe { node_key(n) }, key) != CmpOrdering::Equal,
                    "duplicate skiplist key"
                );
                self.prev[level] = p;
                self.next[level] = n;
            }
        }
        // The next key, if it comes after this one, goes between the node and its nexts.
        self.prev[..height].fill(node);
        list.len.fetch_add(1, Ordering::Relaxed);
        // SAFETY: `node` came from the arena: never null.
        NodeRef(unsafe { NonNull::new_unchecked(node) })
    }

    /// True when `key` goes between `prev[level]` and `next[level]`, nothing between them.
    fn brackets(&self, key: &[u8], level: usize) -> bool {
        let (list, prev, next) = (self.list, self.prev[level], self.next[level]);
        // SAFETY: `prev[level]` is the head or a node found on `level` (or inserted with a
        // tower above it); `next[level]` is null or a published node.
        unsafe {
            link(prev, level).load(Ordering::Acquire) == next
                && (prev == list.head.as_ptr() || (list.cmp)(node_key(prev), key).is_lt())
                && (next.is_null() || (list.cmp)(node_key(next), key).is_gt())
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::super::tests::{assert_well_linked, keys_forward, list};
    use super::*;
    use crate::memtable::arena::Arena;

    /// A pseudo-random permutation of 0..n.
    fn shuffled(n: u32, mut x: u32) -> Vec<u32> {
        let mut order: Vec<u32> = (0..n).collect();
        for i in (1..order.len()).rev() {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            order.swap(i, x as usize % (i + 1));
        }
        order
    }

    #[test]
    fn a_splice_inserts_keys_in_any_order_where_they_belong() {
        const N: u32 = 5_000;
        let orders: [(&str, Vec<u32>); 5] = [
            ("ascending", (0..N).collect()),
            ("descending", (0..N).rev().collect()),
            ("random", shuffled(N, 9)),
            // Ascending runs that jump back: the splice is stale at every jump.
            (
                "runs",
                (0..N).map(|i| (i % 100) * (N / 100) + i / 100).collect(),
            ),
            (
                "evens then odds",
                (0..N).map(|i| (i * 2) % N + (i * 2) / N).collect(),
            ),
        ];
        for (name, order) in orders {
            let list = list();
            let mut splice = list.splice();
            for k in &order {
                splice.insert(&[&k.to_be_bytes()], &k.to_le_bytes());
            }
            let keys = keys_forward(&list);
            let want: Vec<Vec<u8>> = (0..N).map(|k| k.to_be_bytes().to_vec()).collect();
            assert_eq!(keys, want, "{name}");
            assert_eq!(list.len(), N as usize, "{name}");
            assert_well_linked(&list);
            for k in (0..N).step_by(97) {
                let node = list.seek(&k.to_be_bytes()).expect("inserted");
                assert_eq!(list.value(node), k.to_le_bytes(), "{name}");
            }
        }
    }

    #[test]
    fn a_splice_inserts_ascending_keys_in_a_few_comparisons_each() {
        use std::sync::atomic::AtomicUsize;
        static COMPARES: AtomicUsize = AtomicUsize::new(0);
        fn counting(a: &[u8], b: &[u8]) -> CmpOrdering {
            COMPARES.fetch_add(1, Ordering::Relaxed);
            a.cmp(b)
        }
        const N: u32 = 20_000;
        let per_insert = |with_splice: bool| {
            let list = SkipList::new(Arena::new(64 * 1024), counting, 3);
            for k in 0..N / 2 {
                list.insert(&[&(k * 2).to_be_bytes()], &[]);
            }
            COMPARES.store(0, Ordering::Relaxed);
            let mut splice = list.splice();
            for k in N..2 * N {
                if with_splice {
                    splice.insert(&[&k.to_be_bytes()], &[]);
                } else {
                    list.insert(&[&k.to_be_bytes()], &[]);
                }
            }
            assert_well_linked(&list);
            COMPARES.load(Ordering::Relaxed) as f64 / N as f64
        };
        let (searching, spliced) = (per_insert(false), per_insert(true));
        assert!(
            searching > 10.0,
            "a search from the head took {searching:.1} comparisons"
        );
        assert!(
            spliced < 3.0,
            "an insert after the last took {spliced:.1} comparisons"
        );
    }
}
