//! Flushing and compaction. A frozen memtable becomes a level-0 table; the manifest
//! records it; only then are the log segments it covered deleted. Both kinds of work are
//! jobs that can stop after any entry and resume at the next step, so the single-threaded
//! build runs them in bounded steps (`Db::maintain_step`) between other work. Natively a
//! background thread runs them; a writer short of memory runs a flush inline.

use super::state::MemState;
use super::Db;
use crate::error::{Error, Result};
use crate::iter::InternalIterator;
use crate::memtable::{Memtable, MemtableIter};
use crate::metrics::{Metrics, Op, Stopwatch, Timed};
use crate::sync::atomic::Ordering;
use crate::table::TableBuilder;
use crate::version::compaction::Merge;
use crate::version::{table_name, FileMeta, VersionEdit};
use crate::wal::parse_segment_name;
use std::sync::Arc;

/// Bytes of entries per step of the native background thread.
#[cfg(not(target_arch = "wasm32"))]
const BACKGROUND_STEP_BYTES: usize = 1 << 20;

/// Work in progress between maintenance steps. Only touched by the holder of the
/// maintenance try-lock.
#[derive(Default)]
pub(super) struct Jobs {
    flush: Option<FlushJob>,
    merge: Option<Merge>,
    /// Microseconds of steps spent on the merge so far.
    merge_busy: u64,
}

/// A memtable being written as a table.
struct FlushJob {
    memtable: Arc<Memtable>,
    entries: MemtableIter,
    /// `None` for an empty memtable (nothing to write, only the edit).
    table: Option<(u64, TableBuilder)>,
    /// Log segments below this number are covered once the table is recorded.
    log_number: u64,
    /// Microseconds of steps spent on it so far.
    busy: u64,
}

impl FlushJob {
    /// Adds entries until about `budget` bytes have passed; true once all are in.
    fn advance(&mut self, budget: usize) -> Result<bool> {
        let Some((_, builder)) = self.table.as_mut() else {
            return Ok(true);
        };
        let mut spent = 0usize;
        while self.entries.valid() && spent < budget {
            spent += self.entries.key().len() + self.entries.value().len();
            builder.add(self.entries.key(), self.entries.value())?;
            self.entries.next();
        }
        Ok(!self.entries.valid())
    }

    /// Writes the table's last blocks, index and footer; describes it.
    fn finish_table(&mut self, metrics: &Metrics) -> Result<Option<FileMeta>> {
        let Some((number, builder)) = self.table.take() else {
            return Ok(None);
        };
        let meta = builder.finish()?;
        metrics.table_bytes(meta.raw_bytes, meta.stored_bytes);
        Ok(Some(FileMeta {
            number,
            size: meta.size,
            smallest: meta.smallest,
            largest: meta.largest,
        }))
    }
}

/// Deletes the tables a job wrote before it was abandoned (they are in no version).
fn abandon(storage: &dyn crate::storage::Storage, tables: &[u64]) {
    for &number in tables {
        let _ = storage.delete(&table_name(number));
    }
}

impl Db {
    /// Runs background work (flushes of frozen memtables first, then compactions) until
    /// one job has finished; returns whether there was any. Safe to call from any thread.
    ///
    /// # Errors
    /// Storage errors; they also make writes fail until the store is reopened.
    pub fn maintain(&self) -> Result<bool> {
        self.maintain_step(usize::MAX)
    }

    /// Does a bounded step of background work: about `budget` bytes of keys and values
    /// flushed or merged (plus, when a job ends, its table's index and the manifest
    /// edit). Jobs resume where the previous step stopped. Returns whether there was any
    /// work; `false` also while another thread holds the work.
    ///
    /// # Errors
    /// As [`Db::maintain`].
    pub fn maintain_step(&self, budget: usize) -> Result<bool> {
        Ok(self.try_maintain(budget)?.unwrap_or(false))
    }

    /// As [`Db::maintain_step`], but `None` when another thread holds the work.
    pub(super) fn try_maintain(&self, budget: usize) -> Result<Option<bool>> {
        let inner = &*self.inner;
        let Some(held) = inner.maintenance.try_lock() else {
            return Ok(None);
        };
        // Never contended: only the maintenance holder takes it.
        let mut jobs = inner.jobs.lock();
        let result = self
            .step_flush(&mut jobs, budget)
            .and_then(|flushed| {
                if flushed {
                    Ok(true)
                } else {
                    self.step_merge(&mut jobs, budget)
                }
            })
            .and_then(|worked| self.delete_obsolete().map(|()| worked));
        inner.job_pending.store(
            jobs.flush.is_some() || jobs.merge.is_some(),
            Ordering::Release,
        );
        drop(jobs);
        drop(held);
        if let (Err(err), Some(log)) = (&result, &inner.log) {
            log::error!(error = err.to_string().as_str(); "background work failed; writes stop until reopened");
            log.poison(err.clone());
        }
        result.map(Some)
    }

    /// True while frozen memtables wait for a flush, a job is half done, or a level needs
    /// a compaction.
    pub fn needs_maintenance(&self) -> bool {
        let Some(versions) = &self.inner.versions else {
            return false;
        };
        self.inner.job_pending.load(Ordering::Acquire)
            || !self.inner.state.load().frozen.is_empty()
            || crate::version::compaction::pick(&versions.peek()).is_some()
    }

    /// How many tables level 0 holds now (0 for a store in memory). Writers look at it to
    /// pay for the compaction work they make (see the package's maintenance).
    pub fn level0_tables(&self) -> usize {
        self.inner
            .versions
            .as_ref()
            .map_or(0, |versions| versions.peek().levels[0].len())
    }

    /// Writes every memtable to tables (the active one too, so the log it held is
    /// deleted), waiting for in-flight writers, then runs compactions until no level needs
    /// one.
    ///
    /// # Errors
    /// As [`Db::maintain`]; [`crate::Error::Io`] if storage keeps refusing the work.
    pub fn compact(&self) -> Result<()> {
        self.freeze_memtable()?;
        let backoff = crossbeam_utils::Backoff::new();
        let mut stalls = 0u32;
        while self.needs_maintenance() {
            if self.maintain()? {
                stalls = 0;
            } else {
                stalls += 1;
                if stalls > 100_000 {
                    return Err(crate::Error::Io(
                        "flush or compaction cannot make progress".into(),
                    ));
                }
                backoff.snooze();
            }
        }
        self.delete_obsolete()
    }

    /// Advances the flush of the oldest frozen memtable (starting it if needed).
    fn step_flush(&self, jobs: &mut Jobs, budget: usize) -> Result<bool> {
        if jobs.flush.is_none() {
            jobs.flush = self.start_flush()?;
        }
        let Some(job) = jobs.flush.as_mut() else {
            return Ok(false);
        };
        let timer = Stopwatch::start();
        let done = job.advance(budget);
        if matches!(done, Ok(false)) {
            job.busy += timer.micros();
            return Ok(true);
        }
        let Some(mut job) = jobs.flush.take() else {
            return Ok(false);
        };
        let Some(log) = &self.inner.log else {
            return Ok(false);
        };
        let number = job.table.as_ref().map(|(n, _)| *n);
        let metrics = &self.inner.metrics;
        let meta = match done.and_then(|_| job.finish_table(metrics)) {
            Ok(meta) => meta,
            Err(err @ Error::Corruption(_)) => return Err(err),
            // A table that cannot be written yet (no space, no file handle) is retried
            // later; nothing has changed.
            Err(_) => {
                abandon(log.storage().as_ref(), number.as_slice());
                return Ok(false);
            }
        };
        let busy = job.busy;
        self.install_flush(job, meta)?;
        metrics.count(Op::Flush, 1);
        let micros = busy + timer.micros();
        metrics.record(Timed::Flush, micros);
        log::info!(table = number.unwrap_or(0), micros = micros; "flushed a memtable to level 0");
        Ok(true)
    }

    /// The flush of the oldest frozen memtable, once its writers are done.
    fn start_flush(&self) -> Result<Option<FlushJob>> {
        let inner = &*self.inner;
        let (Some(versions), Some(log)) = (&inner.versions, &inner.log) else {
            return Ok(None);
        };
        let state = inner.state.load_full();
        let Some(oldest) = state.frozen.last().cloned() else {
            return Ok(None);
        };
        if !oldest.is_quiescent() {
            return Ok(None);
        }
        // Its log records are synced first, so the segment leaves the log's live list.
        log.flush(inner.options.stall_timeout_ms)?;
        let newer = match state.frozen.len() {
            1 => &state.active,
            n => &state.frozen[n - 2],
        };
        let table = if oldest.is_empty() {
            None
        } else {
            let number = versions.new_table_number();
            let builder = TableBuilder::new(
                Arc::clone(log.storage()),
                &table_name(number),
                inner.options.table,
            );
            match builder {
                Ok(builder) => Some((number, builder)),
                Err(_) => {
                    abandon(log.storage().as_ref(), &[number]);
                    return Ok(None);
                }
            }
        };
        let mut entries = oldest.iter();
        entries.seek_to_first();
        Ok(Some(FlushJob {
            log_number: newer.first_segment(),
            memtable: oldest,
            entries,
            table,
            busy: 0,
        }))
    }

    /// Records the flushed table, retires the memtable and the segments it covered.
    fn install_flush(&self, job: FlushJob, table: Option<FileMeta>) -> Result<()> {
        let inner = &*self.inner;
        let (Some(versions), Some(log)) = (&inner.versions, &inner.log) else {
            return Ok(());
        };
        let mut edit = VersionEdit {
            log_number: Some(job.log_number),
            last_sequence: Some(job.memtable.max_sequence()),
            ..VersionEdit::default()
        };
        if let Some(meta) = table {
            inner.flushed_bytes.fetch_add(meta.size, Ordering::Relaxed);
            edit.added.push((0, meta));
        }
        versions.log_and_apply(edit)?;
        let oldest = job.memtable;
        inner.state.rcu(|current| MemState {
            active: Arc::clone(&current.active),
            segment: Arc::clone(&current.segment),
            frozen: current
                .frozen
                .iter()
                .filter(|m| !Arc::ptr_eq(m, &oldest))
                .cloned()
                .collect(),
        });
        for name in log.storage().list()? {
            if parse_segment_name(&name).is_some_and(|n| n < job.log_number) {
                log.storage().delete(&name)?;
            }
        }
        Ok(())
    }

    /// Advances the compaction in progress, or starts the one the version needs most.
    fn step_merge(&self, jobs: &mut Jobs, budget: usize) -> Result<bool> {
        let inner = &*self.inner;
        let (Some(versions), Some(log)) = (&inner.versions, &inner.log) else {
            return Ok(false);
        };
        if jobs.merge.is_none() {
            let version = versions.current();
            let Some(compaction) = crate::version::compaction::pick(&version) else {
                return Ok(false);
            };
            jobs.merge_busy = 0;
            jobs.merge = Some(Merge::new(
                compaction,
                version,
                Arc::clone(log.storage()),
                inner.options.table,
                self.oldest_snapshot(),
            ));
        }
        let Some(merge) = jobs.merge.as_mut() else {
            return Ok(false);
        };
        let timer = Stopwatch::start();
        let done = merge.step(budget, &|| versions.new_table_number());
        if matches!(done, Ok(false)) {
            jobs.merge_busy += timer.micros();
            return Ok(true);
        }
        let busy = std::mem::take(&mut jobs.merge_busy);
        let Some(merge) = jobs.merge.take() else {
            return Ok(false);
        };
        let outputs = merge.outputs().to_vec();
        let replaced: Vec<Arc<crate::version::TableFile>> = {
            let c = merge.compaction();
            c.inputs.iter().chain(&c.next).cloned().collect()
        };
        let outcome = match done.and_then(|_| merge.finish()) {
            Ok(outcome) => outcome,
            Err(err @ Error::Corruption(_)) => {
                abandon(log.storage().as_ref(), &outputs);
                return Err(err);
            }
            // Outputs that cannot be written yet: drop them, retry later.
            Err(_) => {
                abandon(log.storage().as_ref(), &outputs);
                return Ok(false);
            }
        };
        let replaced_count = replaced.len();
        versions.log_and_apply(outcome.edit)?;
        inner
            .compacted_bytes
            .fetch_add(outcome.bytes_written, Ordering::Relaxed);
        let metrics = &inner.metrics;
        metrics.table_bytes(outcome.raw_bytes, outcome.stored_bytes);
        metrics.count(Op::Compaction, 1);
        let micros = busy + timer.micros();
        metrics.record(Timed::Compaction, micros);
        log::info!(
            inputs = replaced_count,
            outputs = outputs.len(),
            bytes = outcome.bytes_written,
            micros = micros;
            "compacted"
        );
        inner.obsolete.lock().extend(replaced);
        Ok(true)
    }

    /// Deletes replaced tables that no reader holds any more.
    fn delete_obsolete(&self) -> Result<()> {
        let inner = &*self.inner;
        let (Some(versions), Some(log)) = (&inner.versions, &inner.log) else {
            return Ok(());
        };
        let unused: Vec<Arc<crate::version::TableFile>> = {
            let mut obsolete = inner.obsolete.lock();
            // Unused means no version lists it and no reader (a scan's iterator holds the
            // table itself) still reads it.
            let (unused, held) = obsolete
                .drain(..)
                .partition(|f| Arc::strong_count(f) == 1 && Arc::strong_count(&f.table) == 1);
            *obsolete = held;
            unused
        };
        for file in unused {
            log.storage().delete(&table_name(file.meta.number))?;
            versions.cache().forget_table(file.meta.number);
        }
        Ok(())
    }

    /// Natively: a thread that flushes frozen memtables when woken (after a memtable
    /// switch); it ends when the store is dropped.
    pub(super) fn start_worker(&self) {
        #[cfg(not(target_arch = "wasm32"))]
        if self.inner.options.background_work && self.inner.versions.is_some() {
            let weak = Arc::downgrade(&self.inner);
            let handle = std::thread::spawn(move || loop {
                std::thread::park_timeout(std::time::Duration::from_millis(200));
                let Some(inner) = weak.upgrade() else { return };
                let closing = || inner.closing.load(Ordering::Acquire);
                if closing() {
                    return;
                }
                let db = Db {
                    inner: Arc::clone(&inner),
                    user: false,
                };
                // Bounded steps, so a close is answered between two of them.
                while !closing() && matches!(db.maintain_step(BACKGROUND_STEP_BYTES), Ok(true)) {}
            });
            *self.inner.worker.lock() = Some(handle.thread().clone());
        }
    }

    /// Wakes the background thread, if there is one.
    pub(super) fn wake_worker(&self) {
        if let Some(thread) = &*self.inner.worker.lock() {
            thread.unpark();
        }
    }
}
