//! Flushing: a frozen memtable becomes a level-0 table; the manifest records it; only then
//! are the log segments it covered deleted. Natively a background thread does it; in wasm
//! the package calls `Db::maintain`; a writer short of memory does it inline.

use super::state::MemState;
use super::Db;
use crate::error::Result;
use crate::iter::InternalIterator;
use crate::sync::atomic::Ordering;
use crate::table::TableBuilder;
use crate::version::{table_name, FileMeta, VersionEdit};
use crate::wal::parse_segment_name;
use std::sync::Arc;

impl Db {
    /// Does one step of background work (flush the oldest frozen memtable); returns
    /// whether there was any. Safe to call from any thread at any time.
    ///
    /// # Errors
    /// Storage errors; they also make writes fail until the store is reopened.
    pub fn maintain(&self) -> Result<bool> {
        let inner = &*self.inner;
        let Some(held) = inner.maintenance.try_lock() else {
            return Ok(false);
        };
        let result = self
            .flush_oldest()
            .and_then(|flushed| {
                if flushed {
                    Ok(true)
                } else {
                    self.compact_step()
                }
            })
            .and_then(|worked| self.delete_obsolete().map(|()| worked));
        drop(held);
        if let (Err(err), Some(log)) = (&result, &inner.log) {
            log.poison(err.clone());
        }
        result
    }

    /// True while frozen memtables wait for a flush or a level needs a compaction.
    pub fn needs_maintenance(&self) -> bool {
        let Some(versions) = &self.inner.versions else {
            return false;
        };
        !self.inner.state.load().frozen.is_empty()
            || crate::version::compaction::pick(&versions.current()).is_some()
    }

    /// Flushes every frozen memtable to tables (waiting for in-flight writers), then runs
    /// compactions until no level needs one.
    ///
    /// # Errors
    /// As [`Db::maintain`]; [`crate::Error::Io`] if storage keeps refusing the work.
    pub fn compact(&self) -> Result<()> {
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

    /// Runs the compaction the current version needs most, if any.
    fn compact_step(&self) -> Result<bool> {
        let inner = &*self.inner;
        let (Some(versions), Some(log)) = (&inner.versions, &inner.log) else {
            return Ok(false);
        };
        let version = versions.current();
        let Some(compaction) = crate::version::compaction::pick(&version) else {
            return Ok(false);
        };
        let run = compaction.run(
            &version,
            &**log.storage(),
            inner.options.table,
            self.oldest_snapshot(),
            &|| versions.new_table_number(),
        );
        let outcome = match run {
            Ok(outcome) => outcome,
            // Outputs that cannot be written yet: drop the partial ones, retry later.
            Err(err) if !matches!(err, crate::Error::Corruption(_)) => {
                let names = log.storage().list()?;
                for name in crate::version::manifest::unlisted_tables(&names, &version) {
                    let _ = log.storage().delete(name);
                }
                return Ok(false);
            }
            Err(err) => return Err(err),
        };
        versions.log_and_apply(outcome.edit)?;
        inner
            .compacted_bytes
            .fetch_add(outcome.bytes_written, Ordering::Relaxed);
        let mut obsolete = inner.obsolete.lock();
        obsolete.extend(compaction.inputs.iter().chain(&compaction.next).cloned());
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

    fn flush_oldest(&self) -> Result<bool> {
        let inner = &*self.inner;
        let (Some(versions), Some(log)) = (&inner.versions, &inner.log) else {
            return Ok(false);
        };
        let state = inner.state.load_full();
        let Some(oldest) = state.frozen.last().cloned() else {
            return Ok(false);
        };
        if !oldest.is_quiescent() {
            return Ok(false);
        }
        // Its log records are synced first, so the segment leaves the log's live list.
        log.flush()?;
        let newer = match state.frozen.len() {
            1 => &state.active,
            n => &state.frozen[n - 2],
        };
        let log_number = newer.first_segment();
        let mut edit = VersionEdit {
            log_number: Some(log_number),
            last_sequence: Some(oldest.max_sequence()),
            ..VersionEdit::default()
        };
        if !oldest.is_empty() {
            let number = versions.new_table_number();
            let built = build_table(&**log.storage(), number, inner.options.table, &oldest);
            // A table that cannot be written yet (no space, no file handle) is retried later;
            // nothing has changed.
            let Some(meta) = retry_later(log.storage().as_ref(), number, built) else {
                return Ok(false);
            };
            inner.flushed_bytes.fetch_add(meta.size, Ordering::Relaxed);
            edit.added.push((0, meta));
        }
        versions.log_and_apply(edit)?;
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
            if parse_segment_name(&name).is_some_and(|n| n < log_number) {
                log.storage().delete(&name)?;
            }
        }
        Ok(true)
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
                while !closing() && matches!(db.maintain(), Ok(true)) {}
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

/// Writes a memtable as table `number`.
fn build_table(
    storage: &dyn crate::storage::Storage,
    number: u64,
    options: crate::table::TableOptions,
    memtable: &Arc<crate::memtable::Memtable>,
) -> Result<FileMeta> {
    let mut builder = TableBuilder::new(storage, &table_name(number), options)?;
    let mut entries = memtable.iter();
    entries.seek_to_first();
    while entries.valid() {
        builder.add(entries.key(), entries.value())?;
        entries.next();
    }
    let meta = builder.finish()?;
    Ok(FileMeta {
        number,
        size: meta.size,
        smallest: meta.smallest,
        largest: meta.largest,
    })
}

/// The built table, or `None` (its partial file deleted) if storage could not take it now.
fn retry_later(
    storage: &dyn crate::storage::Storage,
    number: u64,
    built: Result<FileMeta>,
) -> Option<FileMeta> {
    match built {
        Ok(meta) => Some(meta),
        Err(_) => {
            let _ = storage.delete(&table_name(number));
            None
        }
    }
}
