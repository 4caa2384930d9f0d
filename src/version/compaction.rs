//! Leveled compaction: picking what to merge, and merging it.
//!
//! Level 0 is compacted into level 1 once it holds `L0_TRIGGER` tables; level `n >= 1` into
//! `n + 1` once its bytes pass `level_bytes(n)` (a size ratio of 10 between levels). The
//! merge keeps, for each user key, the newest version and every older version a live
//! snapshot may still read; a tombstone goes only when no snapshot needs it and no deeper
//! level holds the key (otherwise an older value would reappear).

use super::edit::{FileMeta, VersionEdit};
use super::manifest::table_name;
use super::version::{TableFile, Version, LEVELS};
use crate::error::Result;
use crate::iter::{InternalIterator, MergingIterator};
use crate::key::{self, SequenceNumber, ValueKind};
use crate::storage::Storage;
use crate::table::{TableBuilder, TableOptions};
use std::sync::Arc;

/// Level-0 tables that trigger a compaction into level 1.
pub const L0_TRIGGER: usize = 4;
/// Target size of the tables a compaction writes.
pub const TARGET_TABLE_SIZE: u64 = 2 << 20;

/// The most bytes level `level` (1 and up) should hold: 8 MiB, times 10 per level.
pub fn level_bytes(level: usize) -> u64 {
    (8u64 << 20) * 10u64.pow(level.saturating_sub(1) as u32)
}

/// A compaction to run: input tables of `level` and `level + 1`.
pub struct Compaction {
    /// The level compacted; outputs go to `level + 1`.
    pub level: usize,
    /// Tables of `level`.
    pub inputs: Vec<Arc<TableFile>>,
    /// Overlapping tables of `level + 1`.
    pub next: Vec<Arc<TableFile>>,
}

fn user_range(files: &[Arc<TableFile>]) -> Option<(Vec<u8>, Vec<u8>)> {
    let smallest = files
        .iter()
        .map(|f| key::user_key(&f.meta.smallest))
        .min()?;
    let largest = files.iter().map(|f| key::user_key(&f.meta.largest)).max()?;
    Some((smallest.to_vec(), largest.to_vec()))
}

fn overlapping(files: &[Arc<TableFile>], lo: &[u8], hi: &[u8]) -> Vec<Arc<TableFile>> {
    files
        .iter()
        .filter(|f| key::user_key(&f.meta.largest) >= lo && key::user_key(&f.meta.smallest) <= hi)
        .cloned()
        .collect()
}

/// The compaction the version needs most, if any.
pub fn pick(version: &Version) -> Option<Compaction> {
    let level = if version.levels[0].len() >= L0_TRIGGER {
        0
    } else {
        (1..LEVELS - 1).find(|&l| {
            version.levels[l].iter().map(|f| f.meta.size).sum::<u64>() > level_bytes(l)
        })?
    };
    let inputs: Vec<Arc<TableFile>> = if level == 0 {
        version.levels[0].clone()
    } else {
        // The oldest table of the level (lowest number) goes down first.
        version.levels[level]
            .iter()
            .min_by_key(|f| f.meta.number)
            .cloned()
            .into_iter()
            .collect()
    };
    let (lo, hi) = user_range(&inputs)?;
    let next = overlapping(&version.levels[level + 1], &lo, &hi);
    Some(Compaction {
        level,
        inputs,
        next,
    })
}

/// What a compaction wrote.
pub struct Outcome {
    /// The edit installing its outputs in place of its inputs.
    pub edit: VersionEdit,
    /// Bytes written.
    pub bytes_written: u64,
}

impl Compaction {
    /// True if a level below the output holds `user_key` (so a tombstone must stay).
    fn deeper_levels_hold(&self, version: &Version, user_key: &[u8]) -> bool {
        version.levels[self.level + 2..].iter().flatten().any(|f| {
            key::user_key(&f.meta.smallest) <= user_key
                && user_key <= key::user_key(&f.meta.largest)
        })
    }

    /// Merges the inputs into new tables of `level + 1`, numbered by `new_number`.
    ///
    /// # Errors
    /// Corruption in an input; storage errors.
    pub fn run(
        &self,
        version: &Version,
        storage: &dyn Storage,
        options: TableOptions,
        oldest_snapshot: SequenceNumber,
        new_number: &dyn Fn() -> u64,
    ) -> Result<Outcome> {
        // Newest sources first: level-0 tables are newest first already.
        let children: Vec<Box<dyn InternalIterator>> = self
            .inputs
            .iter()
            .chain(&self.next)
            .map(|f| Box::new(f.table.iter()) as Box<dyn InternalIterator>)
            .collect();
        let mut merged = MergingIterator::new(children);
        merged.seek_to_first();
        let output_level = (self.level + 1) as u32;
        let mut edit = VersionEdit::default();
        for file in self.inputs.iter().chain(&self.next) {
            let level = if self.inputs.iter().any(|i| Arc::ptr_eq(i, file)) {
                self.level
            } else {
                self.level + 1
            };
            edit.deleted.push((level as u32, file.meta.number));
        }
        let mut builder: Option<(u64, TableBuilder<'_>)> = None;
        let mut bytes_written = 0;
        let mut current_user: Option<Vec<u8>> = None;
        // Sequence of the previous (newer) entry of the same user key.
        let mut newer_seq = SequenceNumber::MAX;
        let finish =
            |builder: Option<(u64, TableBuilder<'_>)>, edit: &mut VersionEdit| -> Result<u64> {
                let Some((number, builder)) = builder else {
                    return Ok(0);
                };
                let meta = builder.finish()?;
                let size = meta.size;
                edit.added.push((
                    output_level,
                    FileMeta {
                        number,
                        size,
                        smallest: meta.smallest,
                        largest: meta.largest,
                    },
                ));
                Ok(size)
            };
        while merged.valid() {
            let Some(parsed) = key::parse(merged.key()) else {
                merged.next();
                continue;
            };
            if current_user.as_deref() != Some(parsed.user_key) {
                current_user = Some(parsed.user_key.to_vec());
                newer_seq = SequenceNumber::MAX;
                // Only start a new table between user keys, so a key never spans two.
                if builder
                    .as_ref()
                    .is_some_and(|(_, b)| b.estimated_size() >= TARGET_TABLE_SIZE)
                {
                    bytes_written += finish(builder.take(), &mut edit)?;
                }
            }
            let hidden = newer_seq <= oldest_snapshot;
            let dead_tombstone = parsed.kind == ValueKind::Delete
                && parsed.seq <= oldest_snapshot
                && !self.deeper_levels_hold(version, parsed.user_key);
            newer_seq = parsed.seq;
            if !hidden && !dead_tombstone {
                if builder.is_none() {
                    let number = new_number();
                    builder = Some((
                        number,
                        TableBuilder::new(storage, &table_name(number), options)?,
                    ));
                }
                if let Some((_, b)) = builder.as_mut() {
                    b.add(merged.key(), merged.value())?;
                }
            }
            merged.next();
        }
        merged.status()?;
        bytes_written += finish(builder.take(), &mut edit)?;
        Ok(Outcome {
            edit,
            bytes_written,
        })
    }
}
