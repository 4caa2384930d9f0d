//! A version: the set of live tables, per level, at one point. Immutable; readers hold one
//! (an `Arc`) for as long as they read, so its tables stay open.
//!
//! Level 0 holds flushed memtables, newest first; their key ranges may overlap. Levels 1 and
//! up (filled by compaction) hold tables with disjoint ranges, sorted by key.

use super::edit::{FileMeta, VersionEdit};
use super::level_iter::LevelIter;
use crate::error::Result;
use crate::iter::InternalIterator;
use crate::key;
use crate::sort::insertion_sort;
use crate::table::Table;
use std::sync::Arc;

/// Levels of the tree.
pub const LEVELS: usize = 7;

/// A live table: what the manifest says of it, and the open file.
pub struct TableFile {
    /// Number, size, key range.
    pub meta: FileMeta,
    /// The open table.
    pub table: Arc<Table>,
}

/// The live tables at one point.
#[derive(Clone, Default)]
pub struct Version {
    /// Tables per level (level 0 newest first; others sorted by smallest key).
    pub levels: [Vec<Arc<TableFile>>; LEVELS],
}

impl Version {
    /// This version with `edit` applied; `open` opens added tables.
    ///
    /// # Errors
    /// Errors opening a table.
    pub fn apply(
        &self,
        edit: &VersionEdit,
        open: &dyn Fn(&FileMeta) -> Result<Arc<Table>>,
    ) -> Result<Version> {
        let mut next = self.clone();
        for &(level, number) in &edit.deleted {
            if let Some(files) = next.levels.get_mut(level as usize) {
                files.retain(|f| f.meta.number != number);
            }
        }
        for (level, meta) in &edit.added {
            let level = (*level as usize).min(LEVELS - 1);
            let file = Arc::new(TableFile {
                table: open(meta)?,
                meta: meta.clone(),
            });
            next.levels[level].push(file);
        }
        // Level 0 newest first; deeper levels by their smallest key.
        insertion_sort(&mut next.levels[0], |a, b| a.meta.number > b.meta.number);
        for level in next.levels.iter_mut().skip(1) {
            insertion_sort(level, |a, b| {
                key::compare(&a.meta.smallest, &b.meta.smallest).is_lt()
            });
        }
        Ok(next)
    }

    /// Every table, level by level.
    pub fn files(&self) -> impl Iterator<Item = (usize, &Arc<TableFile>)> {
        self.levels
            .iter()
            .enumerate()
            .flat_map(|(level, files)| files.iter().map(move |f| (level, f)))
    }

    /// The newest version of the user key of `seek` (an internal key at a snapshot) in the
    /// tables, if a table holds a visible one: `read(seq, kind, value)` is called with it
    /// (its value borrowed from its block), and the answer says whether it was.
    ///
    /// # Errors
    /// [`crate::Error::Corruption`] for damaged tables; storage errors.
    pub fn get(
        &self,
        seek: &[u8],
        read: &mut dyn FnMut(key::SequenceNumber, key::ValueKind, &[u8]),
    ) -> Result<bool> {
        let user = key::user_key(seek);
        let overlaps = |f: &&Arc<TableFile>| {
            key::user_key(&f.meta.smallest) <= user && user <= key::user_key(&f.meta.largest)
        };
        for (level, files) in self.levels.iter().enumerate() {
            // Level 0 tables overlap (newest first); a deeper level has one table per key.
            let candidates = if level == 0 {
                files.as_slice()
            } else {
                let at = files.partition_point(|f| key::compare(&f.meta.largest, seek).is_lt());
                &files[at..(at + 1).min(files.len())]
            };
            for file in candidates.iter().filter(overlaps) {
                if file.table.get_with(seek, read)? {
                    return Ok(true);
                }
            }
        }
        Ok(false)
    }

    /// Cursors for a merged scan, newest first: one per level-0 table, then one per
    /// deeper level (its tables are disjoint, so one cursor walks them all).
    pub fn iters(&self) -> Vec<Box<dyn InternalIterator>> {
        let level0 = self.levels[0]
            .iter()
            .map(|f| Box::new(f.table.iter()) as Box<dyn InternalIterator>);
        let deeper = self.levels[1..]
            .iter()
            .filter(|files| !files.is_empty())
            .map(|files| Box::new(LevelIter::new(files.clone())) as Box<dyn InternalIterator>);
        level0.chain(deeper).collect()
    }

    /// Number of tables and their bytes, per level.
    pub fn level_sizes(&self) -> Vec<(usize, u64)> {
        self.levels
            .iter()
            .map(|files| (files.len(), files.iter().map(|f| f.meta.size).sum()))
            .collect()
    }
}
