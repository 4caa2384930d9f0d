//! One level of disjoint tables (levels 1 and up) as one sorted source. It holds one
//! table's cursor at a time and moves to the neighbouring table at either end, so a merge
//! over a version has one child per level instead of one per table: each step of a scan
//! compares a handful of keys, however many tables there are.

use super::version::TableFile;
use crate::error::Error;
use crate::iter::InternalIterator;
use crate::key;
use crate::table::TableIter;
use std::sync::Arc;

/// A cursor over tables with disjoint key ranges, sorted by key. Holding the tables keeps
/// them from being deleted while it reads.
pub struct LevelIter {
    files: Vec<Arc<TableFile>>,
    /// The file `current` reads.
    index: usize,
    current: Option<TableIter>,
    /// The first error of a table left behind.
    error: Option<Error>,
    /// The tables' cursors keep the blocks they read in the cache (see
    /// `Table::passing_iter`).
    keeps: bool,
}

impl LevelIter {
    /// A cursor over `files` (disjoint, sorted by key), not yet positioned.
    pub fn new(files: Vec<Arc<TableFile>>) -> LevelIter {
        LevelIter {
            files,
            index: 0,
            current: None,
            error: None,
            keeps: true,
        }
    }

    /// As `new`, for one pass (a compaction's): see `Table::passing_iter`.
    pub fn passing(files: Vec<Arc<TableFile>>) -> LevelIter {
        LevelIter {
            keeps: false,
            ..LevelIter::new(files)
        }
    }

    fn open(&mut self, index: usize) -> Option<&mut TableIter> {
        self.index = index;
        self.current = self.files.get(index).map(|f| f.table.cursor(self.keeps));
        self.current.as_mut()
    }

    /// True if the cursor is done with its table: keeps an error and stops there.
    fn exhausted(&mut self) -> bool {
        let Some(current) = &self.current else {
            return false;
        };
        if current.valid() {
            return false;
        }
        if let Err(err) = current.status() {
            self.error.get_or_insert(err);
            self.current = None;
            return false;
        }
        true
    }

    /// Past the end of a table: on to the first entry of the next one.
    fn skip_forward(&mut self) {
        while self.exhausted() {
            match self.open(self.index + 1) {
                Some(next) => next.seek_to_first(),
                None => return,
            }
        }
    }

    /// Before the start of a table: on to the last entry of the previous one.
    fn skip_backward(&mut self) {
        while self.exhausted() {
            if self.index == 0 {
                self.current = None;
                return;
            }
            if let Some(previous) = self.open(self.index - 1) {
                previous.seek_to_last();
            }
        }
    }
}

impl InternalIterator for LevelIter {
    fn valid(&self) -> bool {
        self.current.as_ref().is_some_and(|c| c.valid())
    }
    fn key(&self) -> &[u8] {
        self.current.as_ref().map_or(&[], |c| c.key())
    }
    fn value(&self) -> &[u8] {
        self.current.as_ref().map_or(&[], |c| c.value())
    }
    fn next(&mut self) {
        if let Some(current) = &mut self.current {
            current.next();
            self.skip_forward();
        }
    }
    fn prev(&mut self) {
        if let Some(current) = &mut self.current {
            current.prev();
            self.skip_backward();
        }
    }
    fn seek(&mut self, target: &[u8]) {
        // The first table whose largest key is at or after the target.
        let at = self
            .files
            .partition_point(|f| key::compare(&f.meta.largest, target).is_lt());
        if let Some(table) = self.open(at) {
            table.seek(target);
            self.skip_forward();
        }
    }
    fn seek_for_prev(&mut self, target: &[u8]) {
        // The last table whose smallest key is at or before the target.
        let after = self
            .files
            .partition_point(|f| key::compare(&f.meta.smallest, target).is_le());
        if after == 0 {
            self.current = None;
            return;
        }
        if let Some(table) = self.open(after - 1) {
            table.seek_for_prev(target);
            self.skip_backward();
        }
    }
    fn seek_to_first(&mut self) {
        if let Some(table) = self.open(0) {
            table.seek_to_first();
            self.skip_forward();
        }
    }
    fn seek_to_last(&mut self) {
        if let Some(table) = self.open(self.files.len().wrapping_sub(1)) {
            table.seek_to_last();
            self.skip_backward();
        }
    }
    fn status(&self) -> crate::Result<()> {
        if let Some(err) = &self.error {
            return Err(err.clone());
        }
        self.current.as_ref().map_or(Ok(()), |c| c.status())
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::key::{internal_key, ValueKind};
    use crate::storage::{MemStorage, Storage};
    use crate::table::{Table, TableBuilder, TableOptions};
    use crate::version::FileMeta;

    /// Three tables: keys 0-99, 100-199 and 300-399 (a gap between the last two).
    fn level() -> LevelIter {
        let storage: Arc<dyn Storage> = Arc::new(MemStorage::new());
        let files = [0u32..100, 100..200, 300..400]
            .into_iter()
            .enumerate()
            .map(|(n, keys)| {
                let name = format!("{n}.sst");
                let options = TableOptions {
                    block_size: 256,
                    ..TableOptions::default()
                };
                let mut builder =
                    TableBuilder::new(Arc::clone(&storage), &name, options).expect("builder");
                for k in keys {
                    let key = internal_key(format!("k{k:03}").as_bytes(), 1, ValueKind::Put);
                    builder.add(&key, &k.to_le_bytes()).expect("add");
                }
                let meta = builder.finish().expect("finish");
                let table = Table::open(Arc::clone(&storage), &name, n as u64, None);
                Arc::new(TableFile {
                    meta: FileMeta {
                        number: n as u64,
                        size: meta.size,
                        smallest: meta.smallest,
                        largest: meta.largest,
                    },
                    table: Arc::new(table.expect("open")),
                })
            })
            .collect();
        LevelIter::new(files)
    }

    fn user_key(it: &LevelIter) -> String {
        String::from_utf8(key::user_key(it.key()).to_vec()).expect("utf8")
    }

    #[test]
    fn walks_every_table_both_ways_and_seeks_across_gaps() {
        let mut it = level();
        it.seek_to_first();
        let mut forward = Vec::new();
        while it.valid() {
            forward.push(user_key(&it));
            it.next();
        }
        assert_eq!(forward.len(), 300);
        assert_eq!(
            (forward[0].as_str(), forward[299].as_str()),
            ("k000", "k399")
        );
        it.seek_to_last();
        let mut backward = Vec::new();
        while it.valid() {
            backward.push(user_key(&it));
            it.prev();
        }
        backward.reverse();
        assert_eq!(backward, forward);
        assert!(it.status().is_ok());

        let seek = |k: &str| internal_key(k.as_bytes(), 5, ValueKind::SEEK);
        let target = seek("k250");
        it.seek(&target);
        assert_eq!(
            user_key(&it),
            "k300",
            "into the gap: the next table's first key"
        );
        it.seek_for_prev(&target);
        assert_eq!(user_key(&it), "k199", "back across the gap");
        let target = seek("k150");
        it.seek(&target);
        assert_eq!(user_key(&it), "k150");
        it.seek(&seek("k999"));
        assert!(!it.valid());
        it.seek_for_prev(&internal_key(b"a", 0, ValueKind::Delete));
        assert!(!it.valid());
    }
}
