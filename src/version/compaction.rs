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
    /// Bytes of the output blocks before compression.
    pub raw_bytes: u64,
    /// Bytes of the output blocks as stored.
    pub stored_bytes: u64,
}

impl Compaction {
    /// True if a level below the output holds `user_key` (so a tombstone must stay).
    fn deeper_levels_hold(&self, version: &Version, user_key: &[u8]) -> bool {
        version.levels[self.level + 2..].iter().flatten().any(|f| {
            key::user_key(&f.meta.smallest) <= user_key
                && user_key <= key::user_key(&f.meta.largest)
        })
    }

    /// Merges the inputs into new tables of `level + 1`, numbered by `new_number`, in one go.
    ///
    /// # Errors
    /// Corruption in an input; storage errors.
    pub fn run(
        self,
        version: Arc<Version>,
        storage: Arc<dyn Storage>,
        options: TableOptions,
        oldest_snapshot: SequenceNumber,
        new_number: &dyn Fn() -> u64,
    ) -> Result<Outcome> {
        let mut merge = Merge::new(self, version, storage, options, oldest_snapshot);
        while !merge.step(usize::MAX, new_number)? {}
        merge.finish()
    }
}

/// A compaction in progress: the merge can stop after any entry and go on later, so the
/// single-threaded build runs it in bounded steps between other work.
pub struct Merge {
    compaction: Compaction,
    /// The version the inputs were picked from (keeps them alive while merging).
    version: Arc<Version>,
    storage: Arc<dyn Storage>,
    options: TableOptions,
    oldest_snapshot: SequenceNumber,
    merged: MergingIterator,
    edit: VersionEdit,
    builder: Option<(u64, TableBuilder)>,
    bytes_written: u64,
    raw_bytes: u64,
    stored_bytes: u64,
    /// Numbers of the tables written so far (finished or not).
    outputs: Vec<u64>,
    current_user: Option<Vec<u8>>,
    /// Sequence of the previous (newer) entry of the same user key.
    newer_seq: SequenceNumber,
}

impl Merge {
    /// Positions a merge of `compaction`'s inputs at their first entry.
    pub fn new(
        compaction: Compaction,
        version: Arc<Version>,
        storage: Arc<dyn Storage>,
        options: TableOptions,
        oldest_snapshot: SequenceNumber,
    ) -> Merge {
        // Newest sources first: level-0 tables are newest first already; the next level's
        // tables are disjoint, so one cursor walks them.
        let mut children: Vec<Box<dyn InternalIterator>> = compaction
            .inputs
            .iter()
            .map(|f| Box::new(f.table.passing_iter()) as Box<dyn InternalIterator>)
            .collect();
        if !compaction.next.is_empty() {
            children.push(Box::new(super::level_iter::LevelIter::passing(
                compaction.next.clone(),
            )));
        }
        let mut merged = MergingIterator::new(children);
        merged.seek_to_first();
        let mut edit = VersionEdit::default();
        for file in &compaction.inputs {
            edit.deleted
                .push((compaction.level as u32, file.meta.number));
        }
        for file in &compaction.next {
            edit.deleted
                .push((compaction.level as u32 + 1, file.meta.number));
        }
        Merge {
            compaction,
            version,
            storage,
            options,
            oldest_snapshot,
            merged,
            edit,
            builder: None,
            bytes_written: 0,
            raw_bytes: 0,
            stored_bytes: 0,
            outputs: Vec::new(),
            current_user: None,
            newer_seq: SequenceNumber::MAX,
        }
    }

    /// The compaction being run.
    pub fn compaction(&self) -> &Compaction {
        &self.compaction
    }

    /// Numbers of the tables this merge has created (to delete if it is abandoned).
    pub fn outputs(&self) -> &[u64] {
        &self.outputs
    }

    /// Merges entries until about `budget` bytes of keys and values have passed; returns
    /// true once every input has been read.
    ///
    /// # Errors
    /// Corruption in an input; storage errors.
    pub fn step(&mut self, budget: usize, new_number: &dyn Fn() -> u64) -> Result<bool> {
        let mut spent = 0usize;
        while self.merged.valid() && spent < budget {
            spent += self.merged.key().len() + self.merged.value().len();
            self.merge_current(new_number)?;
            self.merged.next();
        }
        self.merged.status()?;
        Ok(!self.merged.valid())
    }

    fn merge_current(&mut self, new_number: &dyn Fn() -> u64) -> Result<()> {
        let (new_user, seq, kind) = {
            let Some(parsed) = key::parse(self.merged.key()) else {
                return Ok(());
            };
            let new_user = self.current_user.as_deref() != Some(parsed.user_key);
            if new_user {
                self.current_user = Some(parsed.user_key.to_vec());
            }
            (new_user, parsed.seq, parsed.kind)
        };
        if new_user {
            self.newer_seq = SequenceNumber::MAX;
            // Only start a new table between user keys, so a key never spans two.
            if self
                .builder
                .as_ref()
                .is_some_and(|(_, b)| b.estimated_size() >= TARGET_TABLE_SIZE)
            {
                self.finish_table()?;
            }
        }
        let hidden = self.newer_seq <= self.oldest_snapshot;
        let dead_tombstone = kind == ValueKind::Delete
            && seq <= self.oldest_snapshot
            && !self.compaction.deeper_levels_hold(
                &self.version,
                self.current_user.as_deref().unwrap_or_default(),
            );
        self.newer_seq = seq;
        if hidden || dead_tombstone {
            return Ok(());
        }
        if self.builder.is_none() {
            let number = new_number();
            self.outputs.push(number);
            let builder =
                TableBuilder::new(Arc::clone(&self.storage), &table_name(number), self.options)?;
            self.builder = Some((number, builder));
        }
        if let Some((_, b)) = self.builder.as_mut() {
            b.add(self.merged.key(), self.merged.value())?;
        }
        Ok(())
    }

    fn finish_table(&mut self) -> Result<()> {
        let Some((number, builder)) = self.builder.take() else {
            return Ok(());
        };
        let meta = builder.finish()?;
        self.bytes_written += meta.size;
        self.raw_bytes += meta.raw_bytes;
        self.stored_bytes += meta.stored_bytes;
        self.edit.added.push((
            self.compaction.level as u32 + 1,
            FileMeta {
                number,
                size: meta.size,
                smallest: meta.smallest,
                largest: meta.largest,
            },
        ));
        Ok(())
    }

    /// Finishes the last table; the outcome's edit installs the outputs.
    ///
    /// # Errors
    /// Storage errors.
    pub fn finish(mut self) -> Result<Outcome> {
        self.finish_table()?;
        Ok(Outcome {
            edit: self.edit,
            bytes_written: self.bytes_written,
            raw_bytes: self.raw_bytes,
            stored_bytes: self.stored_bytes,
        })
    }
}
