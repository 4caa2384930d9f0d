//! The merge of several sorted sources into one stream (memtables and tables, for a read or
//! a compaction).

use super::InternalIterator;
use crate::key;
use std::cmp::Ordering;

/// Merges sorted sources into one sorted stream. A seek fixes the direction: `seek` and
/// `seek_to_first` go forward (`next`), `seek_for_prev` and `seek_to_last` backward (`prev`).
/// When two sources hold the same key, the one listed first wins the tie.
///
/// The source of the current entry stands apart; the other positioned sources sit in a
/// binary heap, the next to emit at its root. A step advances the current source and compares
/// its entry with the root's once: in a long run from one source (a scan of a compacted store
/// reads mostly the deepest level) that is all it costs, where comparing every source each
/// step cost one comparison per source and two dynamic calls more (RocksDB's MergingIterator
/// keeps its sources in a heap for the same reason).
pub struct MergingIterator {
    children: Vec<Box<dyn InternalIterator>>,
    /// The index of the current entry's source (`None`: not valid).
    current: Option<usize>,
    /// Indices of the other valid children, a heap by [`MergingIterator::before`].
    heap: Vec<usize>,
    forward: bool,
}

impl MergingIterator {
    /// Merges `children`, newest first.
    pub fn new(children: Vec<Box<dyn InternalIterator>>) -> MergingIterator {
        let heap = Vec::with_capacity(children.len());
        MergingIterator {
            children,
            current: None,
            heap,
            forward: true,
        }
    }

    /// True if child `a`'s entry comes out before child `b`'s: its key is lower (higher when
    /// going backward), or the keys are equal and `a` is listed first.
    fn before(&self, a: usize, b: usize) -> bool {
        let order = key::compare(self.children[a].key(), self.children[b].key());
        let order = if self.forward { order } else { order.reverse() };
        order.then(a.cmp(&b)) == Ordering::Less
    }

    /// Restores the heap below `at`, whose child may now come out later than its own children.
    /// (Not inlined: its callers are many, and a step that keeps its source, the common
    /// case, does not call it.)
    #[inline(never)]
    fn sift_down(&mut self, mut at: usize) {
        let len = self.heap.len();
        loop {
            let left = 2 * at + 1;
            if left >= len {
                return;
            }
            let right = left + 1;
            let first = if right < len && self.before(self.heap[right], self.heap[left]) {
                right
            } else {
                left
            };
            if !self.before(self.heap[first], self.heap[at]) {
                return;
            }
            self.heap.swap(at, first);
            at = first;
        }
    }

    /// Takes the heap's root out of it (`None` if empty).
    fn pop(&mut self) -> Option<usize> {
        if self.heap.is_empty() {
            return None;
        }
        let root = self.heap.swap_remove(0);
        self.sift_down(0);
        Some(root)
    }

    /// Rebuilds the heap from every valid child (after they were all positioned), the first
    /// to emit taken out as the current one.
    fn heapify(&mut self) {
        self.heap.clear();
        for i in 0..self.children.len() {
            if self.children[i].valid() {
                self.heap.push(i);
            }
        }
        for at in (0..self.heap.len() / 2).rev() {
            self.sift_down(at);
        }
        self.current = self.pop();
    }

    /// After current child `i` moved: it stays current while its entry comes first, trades
    /// places with the heap's root when not, and gives way to the root when exhausted.
    fn settle(&mut self, i: usize) {
        if !self.children[i].valid() {
            self.current = self.pop();
        } else if let Some(&root) = self.heap.first() {
            if self.before(root, i) {
                self.heap[0] = i;
                self.sift_down(0);
                self.current = Some(root);
            }
        }
    }

    fn each(&mut self, forward: bool, position: impl Fn(&mut dyn InternalIterator)) {
        self.forward = forward;
        for child in &mut self.children {
            position(child.as_mut());
        }
        self.heapify();
    }

    fn current_child(&self) -> &dyn InternalIterator {
        match self.current {
            Some(i) => self.children[i].as_ref(),
            None => panic!("merging iterator used while not valid"),
        }
    }
}

impl InternalIterator for MergingIterator {
    fn valid(&self) -> bool {
        self.current.is_some()
    }
    fn key(&self) -> &[u8] {
        self.current_child().key()
    }
    fn value(&self) -> &[u8] {
        self.current_child().value()
    }
    fn next(&mut self) {
        debug_assert!(self.forward, "next() after a backward seek");
        if let Some(i) = self.current {
            self.children[i].next();
            self.settle(i);
        }
    }
    fn prev(&mut self) {
        debug_assert!(!self.forward, "prev() after a forward seek");
        if let Some(i) = self.current {
            self.children[i].prev();
            self.settle(i);
        }
    }
    fn seek(&mut self, target: &[u8]) {
        self.each(true, |c| c.seek(target));
    }
    fn seek_for_prev(&mut self, target: &[u8]) {
        self.each(false, |c| c.seek_for_prev(target));
    }
    fn seek_to_first(&mut self) {
        self.each(true, |c| c.seek_to_first());
    }
    fn seek_to_last(&mut self) {
        self.each(false, |c| c.seek_to_last());
    }
    fn status(&self) -> crate::Result<()> {
        self.children.iter().try_for_each(|c| c.status())
    }
}

// (proptest is a native dev-dependency.)
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::key::{internal_key, ValueKind};
    use proptest::prelude::*;

    /// A sorted source held in a vector.
    struct Source {
        entries: Vec<(Vec<u8>, Vec<u8>)>,
        /// The position: `entries.len()` (or any value past it) when not valid.
        at: usize,
    }

    impl Source {
        fn new(mut entries: Vec<(Vec<u8>, Vec<u8>)>) -> Source {
            entries.sort_by(|a, b| key::compare(&a.0, &b.0));
            entries.dedup_by(|a, b| a.0 == b.0);
            let at = entries.len();
            Source { entries, at }
        }
    }

    impl InternalIterator for Source {
        fn valid(&self) -> bool {
            self.at < self.entries.len()
        }
        fn key(&self) -> &[u8] {
            &self.entries[self.at].0
        }
        fn value(&self) -> &[u8] {
            &self.entries[self.at].1
        }
        fn next(&mut self) {
            self.at += 1;
        }
        fn prev(&mut self) {
            self.at = self.at.checked_sub(1).unwrap_or(usize::MAX);
        }
        fn seek(&mut self, target: &[u8]) {
            self.at = self
                .entries
                .partition_point(|(k, _)| key::compare(k, target) == Ordering::Less);
        }
        fn seek_for_prev(&mut self, target: &[u8]) {
            let after = self
                .entries
                .partition_point(|(k, _)| key::compare(k, target) != Ordering::Greater);
            self.at = after.checked_sub(1).unwrap_or(usize::MAX);
        }
        fn seek_to_first(&mut self) {
            self.at = 0;
        }
        fn seek_to_last(&mut self) {
            self.at = self.entries.len().checked_sub(1).unwrap_or(usize::MAX);
        }
    }

    /// Sources of internal keys over a small key space, so that keys repeat within and across
    /// sources (the same sequence number in two sources too); each value names its source.
    fn sources() -> impl Strategy<Value = Vec<Vec<(Vec<u8>, Vec<u8>)>>> {
        let entry = (0u8..12, 0u64..4)
            .prop_map(|(user, seq)| internal_key(&[b'k', user], seq, ValueKind::Put));
        proptest::collection::vec(proptest::collection::vec(entry, 0..20), 0..7).prop_map(
            |sources| {
                sources
                    .into_iter()
                    .enumerate()
                    .map(|(i, keys)| keys.into_iter().map(|k| (k, vec![i as u8])).collect())
                    .collect()
            },
        )
    }

    /// Every entry of every source, in merge order (ties: the source listed first).
    fn expected(sources: &[Vec<(Vec<u8>, Vec<u8>)>]) -> Vec<(Vec<u8>, Vec<u8>)> {
        let mut all: Vec<_> = sources
            .iter()
            .flat_map(|s| Source::new(s.clone()).entries)
            .collect();
        // (a stable sort keeps the sources' order among equal keys)
        all.sort_by(|a, b| key::compare(&a.0, &b.0));
        all
    }

    fn merged(sources: &[Vec<(Vec<u8>, Vec<u8>)>]) -> MergingIterator {
        let children = sources
            .iter()
            .map(|s| Box::new(Source::new(s.clone())) as Box<dyn InternalIterator>)
            .collect();
        MergingIterator::new(children)
    }

    fn drain(it: &mut MergingIterator, forward: bool) -> Vec<(Vec<u8>, Vec<u8>)> {
        let mut out = Vec::new();
        while it.valid() {
            out.push((it.key().to_vec(), it.value().to_vec()));
            if forward {
                it.next();
            } else {
                it.prev();
            }
        }
        out
    }

    proptest! {
        #[test]
        fn merges_in_order_with_ties_to_the_first_source(sources in sources(), target in (0u8..13, 0u64..5)) {
            let all = expected(&sources);
            let mut it = merged(&sources);
            it.seek_to_first();
            prop_assert_eq!(drain(&mut it, true), all.clone());

            // Backward, equal keys still come out source by source, the first listed first.
            let mut backward = all.clone();
            backward.reverse();
            let mut start = 0;
            for end in 1..=backward.len() {
                if end == backward.len() || backward[end].0 != backward[start].0 {
                    backward[start..end].reverse();
                    start = end;
                }
            }
            it.seek_to_last();
            prop_assert_eq!(drain(&mut it, false), backward.clone());

            let target = internal_key(&[b'k', target.0], target.1, ValueKind::Put);
            it.seek(&target);
            let from: Vec<_> = all.iter().filter(|(k, _)| key::compare(k, &target) != Ordering::Less).cloned().collect();
            prop_assert_eq!(drain(&mut it, true), from);
            it.seek_for_prev(&target);
            let upto: Vec<_> = backward.iter().filter(|(k, _)| key::compare(k, &target) != Ordering::Greater).cloned().collect();
            prop_assert_eq!(drain(&mut it, false), upto);
        }
    }
}
