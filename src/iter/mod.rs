//! Iterators: the cursor trait every sorted source implements, the merge of several sources,
//! and the user-facing iterator that reads one snapshot within bounds.

mod merging;

pub use merging::MergingIterator;

use crate::key::{self, SequenceNumber, ValueKind, MAX_SEQUENCE};
use std::cmp::Ordering;
use std::ops::Bound;

/// A cursor over internal entries in internal-key order (memtables, later tables).
pub trait InternalIterator: Send {
    /// True when positioned on an entry.
    fn valid(&self) -> bool;
    /// The internal key of the current entry. Only while `valid`.
    fn key(&self) -> &[u8];
    /// The value of the current entry. Only while `valid`.
    fn value(&self) -> &[u8];
    /// Moves to the next entry. Only while `valid`.
    fn next(&mut self);
    /// Moves to the previous entry. Only while `valid`.
    fn prev(&mut self);
    /// Moves to the first entry at or after `target`.
    fn seek(&mut self, target: &[u8]);
    /// Moves to the last entry at or before `target`.
    fn seek_for_prev(&mut self, target: &[u8]);
    /// Moves to the first entry.
    fn seek_to_first(&mut self);
    /// Moves to the last entry.
    fn seek_to_last(&mut self);
    /// The first error met (a corrupt table block); iteration stops at one.
    fn status(&self) -> crate::Result<()> {
        Ok(())
    }
}

/// Which keys a scan visits, in which order, and how many.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScanOptions {
    /// Lowest key (default: unbounded).
    pub lower: Bound<Vec<u8>>,
    /// Highest key (default: unbounded).
    pub upper: Bound<Vec<u8>>,
    /// Walk from the highest key down.
    pub reverse: bool,
    /// Stop after this many entries.
    pub limit: Option<usize>,
}

impl Default for ScanOptions {
    fn default() -> ScanOptions {
        ScanOptions {
            lower: Bound::Unbounded,
            upper: Bound::Unbounded,
            reverse: false,
            limit: None,
        }
    }
}

impl ScanOptions {
    /// Every key, in order.
    pub fn all() -> ScanOptions {
        ScanOptions::default()
    }

    /// Keys starting with `prefix`.
    pub fn prefix(prefix: &[u8]) -> ScanOptions {
        ScanOptions::default().with_prefix(prefix)
    }

    /// Narrows the range to keys starting with `prefix` (intersecting any bounds already set).
    #[must_use]
    pub fn with_prefix(mut self, prefix: &[u8]) -> ScanOptions {
        self.lower = tighter_lower(self.lower, Bound::Included(prefix.to_vec()));
        if let Some(end) = prefix_successor(prefix) {
            self.upper = tighter_upper(self.upper, Bound::Excluded(end));
        }
        self
    }

    /// Narrows the lower bound (keeps the tighter of this and any bound already set).
    #[must_use]
    pub fn lower(mut self, bound: Bound<Vec<u8>>) -> ScanOptions {
        self.lower = tighter_lower(self.lower, bound);
        self
    }

    /// Narrows the upper bound (keeps the tighter of this and any bound already set).
    #[must_use]
    pub fn upper(mut self, bound: Bound<Vec<u8>>) -> ScanOptions {
        self.upper = tighter_upper(self.upper, bound);
        self
    }

    /// Keys greater than `key`.
    #[must_use]
    pub fn gt(self, key: &[u8]) -> ScanOptions {
        self.lower(Bound::Excluded(key.to_vec()))
    }

    /// Keys greater than or equal to `key`.
    #[must_use]
    pub fn gte(self, key: &[u8]) -> ScanOptions {
        self.lower(Bound::Included(key.to_vec()))
    }

    /// Keys less than `key`.
    #[must_use]
    pub fn lt(self, key: &[u8]) -> ScanOptions {
        self.upper(Bound::Excluded(key.to_vec()))
    }

    /// Keys less than or equal to `key`.
    #[must_use]
    pub fn lte(self, key: &[u8]) -> ScanOptions {
        self.upper(Bound::Included(key.to_vec()))
    }

    /// Walks the range from its end.
    #[must_use]
    pub fn reverse(mut self, reverse: bool) -> ScanOptions {
        self.reverse = reverse;
        self
    }

    /// Stops after `limit` entries.
    #[must_use]
    pub fn limit(mut self, limit: usize) -> ScanOptions {
        self.limit = Some(limit);
        self
    }

    fn below_upper(&self, key: &[u8]) -> bool {
        match &self.upper {
            Bound::Unbounded => true,
            Bound::Included(u) => key <= u.as_slice(),
            Bound::Excluded(u) => key < u.as_slice(),
        }
    }

    fn above_lower(&self, key: &[u8]) -> bool {
        match &self.lower {
            Bound::Unbounded => true,
            Bound::Included(l) => key >= l.as_slice(),
            Bound::Excluded(l) => key > l.as_slice(),
        }
    }
}

/// The smallest key greater than every key starting with `prefix`; `None` if there is
/// none (the prefix is empty or all 0xff).
pub fn prefix_successor(prefix: &[u8]) -> Option<Vec<u8>> {
    let last = prefix.iter().rposition(|&b| b != 0xff)?;
    let mut end = prefix[..=last].to_vec();
    end[last] += 1;
    Some(end)
}

fn tighter_lower(a: Bound<Vec<u8>>, b: Bound<Vec<u8>>) -> Bound<Vec<u8>> {
    match (&a, &b) {
        (Bound::Unbounded, _) => b,
        (_, Bound::Unbounded) => a,
        (Bound::Included(x) | Bound::Excluded(x), Bound::Included(y) | Bound::Excluded(y)) => {
            match x.cmp(y) {
                Ordering::Greater => a,
                Ordering::Less => b,
                Ordering::Equal if matches!(a, Bound::Excluded(_)) => a,
                Ordering::Equal => b,
            }
        }
    }
}

fn tighter_upper(a: Bound<Vec<u8>>, b: Bound<Vec<u8>>) -> Bound<Vec<u8>> {
    match (&a, &b) {
        (Bound::Unbounded, _) => b,
        (_, Bound::Unbounded) => a,
        (Bound::Included(x) | Bound::Excluded(x), Bound::Included(y) | Bound::Excluded(y)) => {
            match x.cmp(y) {
                Ordering::Less => a,
                Ordering::Greater => b,
                Ordering::Equal if matches!(a, Bound::Excluded(_)) => a,
                Ordering::Equal => b,
            }
        }
    }
}

/// The user's view of a store at one sequence number: the newest visible version of each
/// key in the range, deletes hidden, in key order (or reverse), up to the limit.
pub struct DbIter {
    inner: MergingIterator,
    snapshot: SequenceNumber,
    options: ScanOptions,
    /// The user key whose versions the forward walk has already dealt with (its buffer is
    /// reused from key to key).
    done_key: Option<Vec<u8>>,
    /// The forward walk stands on the entry it returned last: step off it first.
    step_pending: bool,
    /// The entry the backward walk returned last: it has stepped past the entry's versions,
    /// so it keeps a copy (the buffers reused from entry to entry).
    back_key: Vec<u8>,
    back_value: Vec<u8>,
    remaining: usize,
    started: bool,
    /// The scan reached the end of its range (a seek may move it back into it).
    ended: bool,
    /// Where the bytes this scan returned are counted, when it ends.
    metrics: Option<(std::sync::Arc<crate::metrics::Metrics>, u64)>,
}

impl Drop for DbIter {
    fn drop(&mut self) {
        if let Some((metrics, bytes)) = &self.metrics {
            metrics.read_bytes(*bytes);
        }
    }
}

impl DbIter {
    /// Counts the key and value bytes this scan returns into `metrics` (once, at its end).
    #[must_use]
    pub fn counting_into(mut self, metrics: std::sync::Arc<crate::metrics::Metrics>) -> DbIter {
        self.metrics = Some((metrics, 0));
        self
    }

    /// Reads `inner` at `snapshot` within `options`.
    pub fn new(inner: MergingIterator, snapshot: SequenceNumber, options: ScanOptions) -> DbIter {
        DbIter {
            inner,
            snapshot,
            remaining: options.limit.unwrap_or(usize::MAX),
            options,
            done_key: None,
            step_pending: false,
            back_key: Vec::new(),
            back_value: Vec::new(),
            started: false,
            ended: false,
            metrics: None,
        }
    }

    fn start(&mut self) {
        self.started = true;
        if self.options.reverse {
            match &self.options.upper {
                Bound::Unbounded => self.inner.seek_to_last(),
                // (key, 0, Delete) is the largest internal key with this user key.
                Bound::Included(k) => {
                    self.inner
                        .seek_for_prev(&key::internal_key(k, 0, ValueKind::Delete))
                }
                // (key, MAX, SEEK) is the smallest; no entry equals it, so this lands before.
                Bound::Excluded(k) => {
                    self.inner
                        .seek_for_prev(&key::internal_key(k, MAX_SEQUENCE, ValueKind::SEEK))
                }
            }
        } else {
            match &self.options.lower {
                Bound::Unbounded => self.inner.seek_to_first(),
                Bound::Included(k) | Bound::Excluded(k) => {
                    let target = key::internal_key(k, MAX_SEQUENCE, ValueKind::SEEK);
                    if matches!(self.options.lower, Bound::Excluded(_)) {
                        self.done_key = Some(k.clone());
                    }
                    self.inner.seek(&target);
                }
            }
        }
    }

    /// Moves the scan so that it goes on from the first key at or after `target` (at or
    /// before it, for a reverse scan), as Level's `iterator.seek()`: within the scan's range,
    /// at its snapshot, counting toward the same limit. A target outside the range ends the
    /// scan; a later seek may start it again, also after it reached its end.
    pub fn seek(&mut self, target: &[u8]) {
        self.started = true;
        self.step_pending = false;
        self.done_key = None;
        self.ended = !(self.options.above_lower(target) && self.options.below_upper(target));
        if self.ended {
            return;
        }
        if self.options.reverse {
            // (target, 0, Delete) is the largest internal key with this user key.
            self.inner
                .seek_for_prev(&key::internal_key(target, 0, ValueKind::Delete));
        } else {
            self.inner
                .seek(&key::internal_key(target, MAX_SEQUENCE, ValueKind::SEEK));
        }
    }

    /// Gives back `count` entries this scan returned that its caller dropped unread (a page
    /// read ahead, before a seek): they do not count toward the limit.
    #[cfg(target_arch = "wasm32")]
    pub(crate) fn unread(&mut self, count: usize) {
        if self.options.limit.is_some() {
            self.remaining = self.remaining.saturating_add(count);
        }
    }

    /// Moves to the next visible entry forward and leaves `inner` on it; false at the end.
    fn step_forward(&mut self) -> bool {
        if std::mem::take(&mut self.step_pending) {
            self.inner.next();
        }
        while self.inner.valid() {
            let Some(parsed) = key::parse(self.inner.key()) else {
                self.inner.next();
                continue;
            };
            if parsed.seq > self.snapshot || self.done_key.as_deref() == Some(parsed.user_key) {
                self.inner.next();
                continue;
            }
            if !self.options.below_upper(parsed.user_key) {
                return false;
            }
            let done = self.done_key.get_or_insert_with(Vec::new);
            done.clear();
            done.extend_from_slice(parsed.user_key);
            if parsed.kind == ValueKind::Put {
                self.step_pending = true;
                return true;
            }
            self.inner.next();
        }
        false
    }

    /// Moves to the next visible entry backward, copied into `back_key` and `back_value`;
    /// false at the end.
    fn step_backward(&mut self) -> bool {
        while self.inner.valid() {
            self.back_key.clear();
            self.back_key
                .extend_from_slice(key::user_key(self.inner.key()));
            if !self.options.above_lower(&self.back_key) {
                return false;
            }
            // Walking backward meets a key's versions oldest first: the last visible one wins.
            let mut newest = None;
            while self.inner.valid() && key::user_key(self.inner.key()) == self.back_key.as_slice()
            {
                if let Some(parsed) = key::parse(self.inner.key()) {
                    if parsed.seq <= self.snapshot {
                        if parsed.kind == ValueKind::Put {
                            self.back_value.clear();
                            self.back_value.extend_from_slice(self.inner.value());
                        }
                        newest = Some(parsed.kind);
                    }
                }
                self.inner.prev();
            }
            if newest == Some(ValueKind::Put) {
                return true;
            }
        }
        false
    }
}

impl DbIter {
    /// The error that ended the iteration early, if any (a damaged table: `Corruption`).
    /// Check it once the iterator returns `None`; damaged data is never returned.
    ///
    /// # Errors
    /// The first error of any source.
    pub fn status(&self) -> crate::Result<()> {
        self.inner.status()
    }
}

impl DbIter {
    /// Steps to the next entry and hands its key and value to `visit`, borrowed (no copies
    /// are made for it); `None` at the end.
    pub fn next_with<R>(&mut self, visit: impl FnOnce(&[u8], &[u8]) -> R) -> Option<R> {
        if self.remaining == 0 || self.ended {
            return None;
        }
        if !self.started {
            self.start();
        }
        let (key, value): (&[u8], &[u8]) = if self.options.reverse {
            if !self.step_backward() {
                return self.end();
            }
            (&self.back_key, &self.back_value)
        } else if self.step_forward() {
            (key::user_key(self.inner.key()), self.inner.value())
        } else {
            return self.end();
        };
        self.remaining -= 1;
        if let Some((_, bytes)) = &mut self.metrics {
            *bytes += (key.len() + value.len()) as u64;
        }
        Some(visit(key, value))
    }

    fn end<R>(&mut self) -> Option<R> {
        self.ended = true;
        None
    }
}

impl Iterator for DbIter {
    type Item = (Vec<u8>, Vec<u8>);

    fn next(&mut self) -> Option<Self::Item> {
        self.next_with(|key, value| (key.to_vec(), value.to_vec()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_successor_increments_the_last_byte_that_can_grow() {
        assert_eq!(prefix_successor(b"ab"), Some(b"ac".to_vec()));
        assert_eq!(prefix_successor(b"a\xff"), Some(b"b".to_vec()));
        assert_eq!(prefix_successor(b"\xff\xff"), None);
        assert_eq!(prefix_successor(b""), None);
    }

    #[test]
    fn a_prefix_intersects_existing_bounds() {
        let opts = ScanOptions::all()
            .lower(Bound::Excluded(b"abc".to_vec()))
            .upper(Bound::Included(b"zzz".to_vec()))
            .with_prefix(b"ab");
        assert_eq!(opts.lower, Bound::Excluded(b"abc".to_vec()));
        assert_eq!(opts.upper, Bound::Excluded(b"ac".to_vec()));
        let opts = ScanOptions::all()
            .lower(Bound::Included(b"a".to_vec()))
            .with_prefix(b"ab");
        assert_eq!(opts.lower, Bound::Included(b"ab".to_vec()));
    }
}
