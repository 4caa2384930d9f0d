//! The store: a handle (`Db`) over shared state, with the write path (`write.rs`), reads
//! and scans, snapshots (`snapshot.rs`), memtable generations (`state.rs`) and recovery
//! (`recovery.rs`).

mod changes;
mod flush;
mod read;
mod recovery;
mod sequence;
mod snapshot;
mod state;
mod write;

pub use recovery::{Dropped, RecoveryReport};
pub use snapshot::Snapshot;

use crate::error::Result;
use crate::iter::InternalIterator;
use crate::key::SequenceNumber;
use crate::memtable::Memtable;
use crate::metrics::{Metrics, Op, Timed};
use crate::options::Options;
use crate::storage::Storage;
use crate::wal::log::Log;
use crate::wal::segment::Segment;
use arc_swap::ArcSwap;
use sequence::Publisher;
use state::MemState;
use std::sync::Arc;

/// A handle to an open store. Cheap to clone; every clone (on any thread) reaches the same
/// data. The store lives until the last handle is dropped (or closed with [`Db::close`]),
/// which syncs the log.
pub struct Db {
    inner: Arc<DbInner>,
    /// False for the background worker's own handle, which does not keep the store open.
    user: bool,
}

impl Clone for Db {
    fn clone(&self) -> Db {
        Db::user_handle(Arc::clone(&self.inner))
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        if self.user
            && self
                .inner
                .users
                .fetch_sub(1, crate::sync::atomic::Ordering::AcqRel)
                == 1
        {
            // The last user handle: background work stops after its current step, and
            // (natively) the store closes before this returns, so it can be opened again.
            self.inner
                .closing
                .store(true, crate::sync::atomic::Ordering::Release);
            self.wake_worker();
            #[cfg(not(target_arch = "wasm32"))]
            {
                let mut stall = crate::sync::stall::Stall::new(self.inner.options.stall_timeout_ms);
                while Arc::strong_count(&self.inner) > 1 && stall.snooze() {}
            }
        }
    }
}

struct DbInner {
    /// User handles alive; at 0 the store closes.
    users: crate::sync::atomic::AtomicUsize,
    /// Set when the last user handle is gone.
    closing: crate::sync::atomic::AtomicBool,
    options: Options,
    state: ArcSwap<MemState>,
    publisher: Publisher,
    /// Writers pass it together; a conditional write closes it (see `write_if`).
    gate: crate::sync::WriteGate,
    /// Held (try-lock) by the one writer switching memtables.
    switching: crate::sync::TryLock,
    /// `None` for in-memory stores.
    log: Option<Arc<Log>>,
    /// The live tables (`None` for in-memory stores).
    versions: Option<crate::version::VersionSet>,
    /// Held (try-lock) by the one thread flushing or compacting.
    maintenance: crate::sync::TryLock,
    /// Flush and compaction in progress (taken only by the maintenance holder).
    jobs: crate::sync::SpinLock<flush::Jobs>,
    /// True while a job is half done (readable without the jobs lock).
    job_pending: crate::sync::atomic::AtomicBool,
    /// The native background thread, woken when there is work.
    worker: crate::sync::SpinLock<Option<std::thread::Thread>>,
    /// Sequence numbers of live snapshots (with counts), for compaction.
    snapshots: crate::sync::SpinLock<std::collections::BTreeMap<SequenceNumber, usize>>,
    /// Tables replaced by compaction, deleted once no reader holds them.
    obsolete: crate::sync::SpinLock<Vec<Arc<crate::version::TableFile>>>,
    /// Bytes of keys and values written by users.
    user_bytes: crate::sync::atomic::AtomicU64,
    /// Table bytes written by flushes.
    flushed_bytes: crate::sync::atomic::AtomicU64,
    /// Table bytes written by compactions.
    compacted_bytes: crate::sync::atomic::AtomicU64,
    recovery: RecoveryReport,
    /// Counters and latency histograms.
    metrics: Arc<Metrics>,
    /// Dropped last of all the fields (fields drop in declaration order), so once no
    /// strong reference to it remains, the storage has been released too.
    dropped: Arc<()>,
}

/// Sizes a store reports about itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DbStats {
    /// Entries in memtables (every version of every key, tombstones included).
    pub memtable_entries: usize,
    /// Bytes of memory held by memtables.
    pub memtable_bytes: usize,
    /// User key and value bytes written to memtables.
    pub data_bytes: usize,
    /// Frozen memtables waiting to be written to tables.
    pub frozen_memtables: usize,
    /// Tables per level.
    pub tables_per_level: [usize; crate::version::LEVELS],
    /// Table bytes per level.
    pub table_bytes_per_level: [u64; crate::version::LEVELS],
    /// Block cache hits, misses and bytes.
    pub cache: crate::table::CacheStats,
    /// Key and value bytes written by users.
    pub user_bytes: u64,
    /// Table bytes written by flushes.
    pub flushed_bytes: u64,
    /// Table bytes written by compactions.
    pub compacted_bytes: u64,
    /// The newest sequence number.
    pub sequence: SequenceNumber,
    /// Log bytes written but not yet synced.
    pub unsynced_log_bytes: u64,
}

impl Db {
    /// Opens an empty store held in memory: nothing is logged or persisted.
    pub fn open_in_memory(options: Options) -> Db {
        let state = MemState {
            active: Arc::new(Memtable::for_store(&options, 0)),
            segment: Arc::new(Segment::new(1, 0, false)),
            frozen: Vec::new(),
        };
        let metrics = Arc::new(Metrics::default());
        Db::from_parts(
            options,
            state,
            0,
            None,
            None,
            RecoveryReport::default(),
            metrics,
        )
    }

    /// Opens the store in `storage`, replaying its log (see [`Db::recovery`]); new writes
    /// go on in the newest log segment. Nothing on storage changes unless the open
    /// succeeds.
    ///
    /// # Errors
    /// Storage errors; [`crate::Error::Corruption`], naming the file, for a damaged
    /// `CURRENT` or manifest, a missing or damaged table, and, under
    /// [`crate::options::RecoveryMode::Strict`], a log that lost acknowledged writes.
    pub fn open(storage: Arc<dyn Storage>, options: Options) -> Result<Db> {
        let cache = Arc::new(crate::table::BlockCache::new(options.block_cache_size));
        // Read everything first; change storage only once the whole store has checked
        // out, so an open that fails leaves the files as it found them.
        let (versions, loaded) = crate::version::VersionSet::load(Arc::clone(&storage), cache)?;
        let mut recovered = recovery::recover(
            &*storage,
            &options,
            loaded.log_number,
            loaded.last_sequence,
            loaded.log_end,
        )?;
        let obsolete = obsolete_tables(&versions, &loaded, &mut recovered, &options)?;
        versions.commit(&loaded, &obsolete)?;
        recovered.commit(&*storage)?;
        if let Some((manifest, offset, bytes, reason)) = &loaded.torn {
            recovered.report.dropped.push(Dropped {
                file: manifest.clone(),
                offset: *offset,
                bytes: *bytes,
                reason: format!("{reason} (an edit that never took effect)"),
                torn_tail: true,
            });
        }
        let metrics = Arc::new(Metrics::default());
        let log = Log::new(storage, Arc::clone(&metrics));
        let (number, length) = recovered.segment;
        let segment = if recovered.new_segment {
            let segment = Segment::new(number, recovered.last_sequence, true);
            log.create_file(&segment)?;
            segment
        } else {
            // The newest segment goes on, so an open adds no file.
            Segment::resume(number, recovered.last_sequence, length)
        };
        let segment = Arc::new(segment);
        log.add_segment(Arc::clone(&segment));
        let mut memtables = recovered.memtables.into_iter();
        let active = memtables
            .next()
            .unwrap_or_else(|| Arc::new(Memtable::for_store(&options, 0)));
        let state = MemState {
            active,
            segment,
            frozen: memtables.collect(),
        };
        let db = Db::from_parts(
            options,
            state,
            recovered.last_sequence,
            Some(log),
            Some(versions),
            recovered.report,
            metrics,
        );
        let report = db.recovery();
        log::info!(
            segments = report.segments,
            records = report.records,
            dropped = report.dropped.len(),
            millis = report.millis;
            "opened a store"
        );
        db.start_flush_timer();
        db.start_worker();
        Ok(db)
    }

    fn from_parts(
        options: Options,
        state: MemState,
        last: SequenceNumber,
        log: Option<Arc<Log>>,
        versions: Option<crate::version::VersionSet>,
        recovery: RecoveryReport,
        metrics: Arc<Metrics>,
    ) -> Db {
        Db::user_handle(Arc::new(DbInner {
            users: crate::sync::atomic::AtomicUsize::new(0),
            closing: crate::sync::atomic::AtomicBool::new(false),
            options,
            state: ArcSwap::from_pointee(state),
            publisher: Publisher::new(last),
            switching: crate::sync::TryLock::new(),
            log,
            versions,
            maintenance: crate::sync::TryLock::new(),
            gate: crate::sync::WriteGate::new(),
            jobs: crate::sync::SpinLock::new(flush::Jobs::default()),
            job_pending: crate::sync::atomic::AtomicBool::new(false),
            worker: crate::sync::SpinLock::new(None),
            snapshots: crate::sync::SpinLock::new(std::collections::BTreeMap::new()),
            obsolete: crate::sync::SpinLock::new(Vec::new()),
            user_bytes: crate::sync::atomic::AtomicU64::new(0),
            flushed_bytes: crate::sync::atomic::AtomicU64::new(0),
            compacted_bytes: crate::sync::atomic::AtomicU64::new(0),
            recovery,
            metrics,
            dropped: Arc::new(()),
        }))
    }

    /// A counted user handle.
    fn user_handle(inner: Arc<DbInner>) -> Db {
        inner
            .users
            .fetch_add(1, crate::sync::atomic::Ordering::AcqRel);
        Db { inner, user: true }
    }

    /// Closes this handle after syncing the log. If it is the last one, also waits until
    /// background work has stopped and the store is closed, so it can be opened again at
    /// once (merely dropping the last handle closes it a moment later).
    ///
    /// # Errors
    /// The error of the final sync (the store closes all the same).
    pub fn close(self) -> Result<()> {
        let synced = self.flush();
        let last = self
            .inner
            .users
            .load(crate::sync::atomic::Ordering::Acquire)
            == 1;
        // The store (and its files) is gone once its last field is.
        let gone = Arc::downgrade(&self.inner.dropped);
        let limit = self.inner.options.stall_timeout_ms;
        drop(self);
        if last {
            // Only the background thread's step can hold it now; bounded all the same.
            let mut stall = crate::sync::stall::Stall::new(limit);
            while gone.strong_count() > 0 && stall.snooze() {}
        }
        synced
    }

    /// Natively, relaxed durability syncs on a background thread every
    /// `relaxed_flush_interval_ms`; it stops when the store is dropped. (In wasm the JS
    /// package calls [`Db::flush`] on a timer.)
    fn start_flush_timer(&self) {
        #[cfg(not(target_arch = "wasm32"))]
        if self.inner.options.durability == crate::options::Durability::Relaxed
            && self.inner.options.relaxed_flush_interval_ms > 0
        {
            let weak = Arc::downgrade(&self.inner);
            let every =
                std::time::Duration::from_millis(self.inner.options.relaxed_flush_interval_ms);
            std::thread::spawn(move || loop {
                std::thread::sleep(every);
                match weak.upgrade() {
                    Some(inner) => {
                        if let Some(log) = &inner.log {
                            let _ = log.flush(inner.options.stall_timeout_ms);
                        }
                    }
                    None => return,
                }
            });
        }
    }

    /// The options the store was opened with.
    pub fn options(&self) -> &Options {
        &self.inner.options
    }

    /// What recovery found when the store was opened.
    pub fn recovery(&self) -> &RecoveryReport {
        &self.inner.recovery
    }

    /// A consistent view of the store as it is now; later writes do not show through it.
    /// Compaction keeps what it needs until it is dropped.
    pub fn snapshot(&self) -> Snapshot {
        let mut live = self.inner.snapshots.lock();
        let seq = self.inner.publisher.visible();
        *live.entry(seq).or_insert(0) += 1;
        drop(live);
        Snapshot::new(self.clone(), seq)
    }

    pub(crate) fn release_snapshot(&self, seq: SequenceNumber) {
        let mut live = self.inner.snapshots.lock();
        if let Some(count) = live.get_mut(&seq) {
            *count -= 1;
            if *count == 0 {
                live.remove(&seq);
            }
        }
    }

    pub(crate) fn retain_snapshot(&self, seq: SequenceNumber) {
        *self.inner.snapshots.lock().entry(seq).or_insert(0) += 1;
    }

    /// The oldest sequence number a reader may still read at.
    fn oldest_snapshot(&self) -> SequenceNumber {
        let live = self.inner.snapshots.lock();
        live.keys()
            .next()
            .copied()
            .unwrap_or_else(|| self.inner.publisher.visible())
    }

    /// Syncs every logged write to storage (with relaxed durability, this is what makes
    /// earlier writes durable). A no-op for in-memory stores.
    ///
    /// # Errors
    /// The storage error, which also makes later writes fail until the store is reopened.
    pub fn flush(&self) -> Result<()> {
        match &self.inner.log {
            Some(log) => log.flush(self.inner.options.stall_timeout_ms),
            None => Ok(()),
        }
    }

    /// Everything the store tells about itself now: operation counters, bytes in and
    /// out, latency summaries, memory, cache, compression, log and level gauges, write
    /// and space amplification (see [`crate::metrics::Report`]).
    pub fn metrics(&self) -> crate::metrics::Report {
        let inner = &*self.inner;
        let metrics = &inner.metrics;
        let stats = self.stats();
        let levels: Vec<(usize, u64)> = stats
            .tables_per_level
            .iter()
            .zip(stats.table_bytes_per_level)
            .map(|(&n, b)| (n, b))
            .collect();
        let table_bytes: u64 = levels.iter().map(|(_, b)| b).sum();
        let deepest = levels.iter().rev().map(|(_, b)| *b).find(|&b| b > 0);
        crate::metrics::Report {
            ops: Op::ALL
                .iter()
                .map(|&op| (op.name(), metrics.ops(op)))
                .collect(),
            latency: Timed::ALL
                .iter()
                .map(|&t| (t.name(), metrics.latency(t)))
                .collect(),
            bytes_written: stats.user_bytes,
            bytes_read: metrics.bytes_read(),
            memtable_bytes: stats.memtable_bytes as u64,
            cache_bytes: stats.cache.bytes as u64,
            cache_hits: stats.cache.hits,
            cache_misses: stats.cache.misses,
            compression_ratio: metrics.compression_ratio(),
            wal_bytes: metrics.wal_bytes_written(),
            wal_unsynced_bytes: stats.unsynced_log_bytes,
            levels,
            write_amplification: (stats.flushed_bytes + stats.compacted_bytes) as f64
                / stats.user_bytes.max(1) as f64,
            space_amplification: deepest.map_or(1.0, |d| table_bytes as f64 / d as f64),
            memory_limit: inner.options.memory_limit as u64,
            recovery_dropped: inner.recovery.dropped.len() as u64,
        }
    }

    /// The alerts of `monitor`'s rules that became true since its previous check (see
    /// [`crate::metrics::monitor::Monitor::check`]).
    pub fn check_alerts(
        &self,
        monitor: &mut crate::metrics::monitor::Monitor,
    ) -> Vec<crate::metrics::monitor::Alert> {
        monitor.check(&self.metrics(), &self.inner.metrics, crate::clock::now_ms())
    }

    /// Records a latency measured outside the engine (the JS side's commits).
    pub fn record_latency(&self, timed: Timed, micros: u64) {
        self.inner.metrics.record(timed, micros);
    }

    /// Sizes and counts (see [`DbStats`]).
    pub fn stats(&self) -> DbStats {
        let state = self.inner.state.load();
        let mut stats = DbStats {
            memtable_entries: 0,
            memtable_bytes: 0,
            data_bytes: 0,
            frozen_memtables: state.frozen.len(),
            tables_per_level: Default::default(),
            table_bytes_per_level: Default::default(),
            cache: Default::default(),
            user_bytes: self
                .inner
                .user_bytes
                .load(crate::sync::atomic::Ordering::Relaxed),
            flushed_bytes: self
                .inner
                .flushed_bytes
                .load(crate::sync::atomic::Ordering::Relaxed),
            compacted_bytes: self
                .inner
                .compacted_bytes
                .load(crate::sync::atomic::Ordering::Relaxed),
            sequence: self.inner.publisher.visible(),
            unsynced_log_bytes: self.inner.log.as_ref().map_or(0, |l| l.unflushed()),
        };
        if let Some(versions) = &self.inner.versions {
            for (level, (count, bytes)) in versions.current().level_sizes().into_iter().enumerate()
            {
                stats.tables_per_level[level] = count;
                stats.table_bytes_per_level[level] = bytes;
            }
            stats.cache = versions.cache().stats();
        }
        for m in state.memtables() {
            stats.memtable_entries += m.len();
            stats.memtable_bytes += m.memory_usage();
            stats.data_bytes += m.data_bytes();
        }
        stats
    }

    /// A handle that does not keep the store alive.
    pub fn downgrade(&self) -> WeakDb {
        WeakDb(Arc::downgrade(&self.inner))
    }

    /// An opaque address that identifies the shared state of this store within the process
    /// (used to share a store between wasm threads).
    pub fn identity(&self) -> usize {
        Arc::as_ptr(&self.inner) as usize
    }
}

/// The table files that the open may delete: after an intact manifest, every table it does
/// not list; after a torn one (its last edit never took effect), those whose writes are all
/// in listed tables or in the log replayed. A table the torn edit added holds writes the
/// log may no longer have (their segments deleted): that is corruption, not a torn write.
fn obsolete_tables(
    versions: &crate::version::VersionSet,
    loaded: &crate::version::manifest::Loaded,
    recovered: &mut recovery::Recovered,
    options: &Options,
) -> Result<Vec<u64>> {
    if loaded.torn.is_none() {
        return Ok(loaded.unlisted.clone());
    }
    let storage = versions.storage();
    let mut proven = Vec::new();
    for &number in &loaded.unlisted {
        let name = crate::version::table_name(number);
        // A table that cannot be read was never finished, so no edit added it; it is left
        // for an open after an intact manifest.
        let Ok(table) = crate::table::Table::open(Arc::clone(storage), &name, number, None) else {
            continue;
        };
        let table = Arc::new(table);
        let newest = table_max_sequence(&table)?;
        let lossless = recovered.report.dropped.iter().all(|d| d.torn_tail);
        if newest <= loaded.last_sequence || (lossless && newest <= recovered.last_sequence) {
            proven.push(number);
            continue;
        }
        let problem = format!(
            "{name} holds writes up to sequence {newest}, which neither the manifest (whose last \
             edit is damaged) nor the log (up to {}) has",
            recovered.last_sequence
        );
        if options.recovery_mode == crate::options::RecoveryMode::Strict {
            return Err(crate::Error::Corruption(problem));
        }
        recovered.report.dropped.push(Dropped {
            file: name,
            offset: 0,
            bytes: table.size(),
            reason: problem,
            torn_tail: false,
        });
    }
    Ok(proven)
}

/// The largest sequence number in a table.
fn table_max_sequence(table: &Arc<crate::table::Table>) -> Result<SequenceNumber> {
    let mut iter = table.iter();
    iter.seek_to_first();
    let mut newest = 0;
    while iter.valid() {
        if let Some(parsed) = crate::key::parse(iter.key()) {
            newest = newest.max(parsed.seq);
        }
        iter.next();
    }
    iter.status()?;
    Ok(newest)
}

impl Drop for DbInner {
    fn drop(&mut self) {
        let Some(log) = &self.log else { return };
        // Best effort: a failed final sync loses only unacknowledged relaxed writes.
        if log.flush(self.options.stall_timeout_ms).is_err() || log.check().is_err() {
            return;
        }
        // A clean close: the next open knows exactly where the log must end.
        let state = self.state.load();
        if let Some(versions) = &self.versions {
            let _ = versions.record_close(crate::version::LogEnd {
                segment: state.segment.number(),
                length: state.segment.flushed(),
                last_sequence: self.publisher.visible(),
            });
        }
    }
}

/// A reference to a store that does not keep it open; see [`Db::downgrade`].
#[derive(Clone)]
pub struct WeakDb(std::sync::Weak<DbInner>);

impl WeakDb {
    /// The store, if some handle still keeps it open.
    pub fn upgrade(&self) -> Option<Db> {
        self.0.upgrade().map(Db::user_handle)
    }
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db").field("stats", &self.stats()).finish()
    }
}
