//! The log as a whole: the segments not yet fully synced, in order, and the flush that
//! appends and syncs them (group commit).
//!
//! One thread flushes at a time (a try-lock: others wait for its result instead of
//! queueing). Segments are flushed oldest first, and a sealed segment must be complete
//! before a later one is flushed, so storage always holds a prefix of the log: a crash
//! loses a suffix of the writes, never a write in the middle.
//!
//! A storage error poisons the log: the error is kept and every later write fails with it
//! until the store is reopened (recovery then decides what was durable).

use super::segment::Segment;
use crate::error::{Error, Result};
use crate::storage::{OwnerWork, Storage};
use crate::sync::atomic::{AtomicBool, Ordering};
use crate::sync::stall::Stall;
use crate::sync::{SpinLock, TryLock};
use std::collections::VecDeque;
use std::sync::{Arc, Weak};

/// The log of a store with storage.
pub struct Log {
    storage: Arc<dyn Storage>,
    /// Segments with bytes not yet synced (or still being written), oldest first.
    live: SpinLock<VecDeque<Arc<Segment>>>,
    flushing: TryLock,
    poisoned: AtomicBool,
    error: SpinLock<Option<Error>>,
    metrics: Arc<crate::metrics::Metrics>,
    /// This log, for a flush sent to the thread owning the files (see `try_flush`).
    this: Weak<Log>,
}

impl Log {
    /// A log writing to `storage`.
    pub fn new(storage: Arc<dyn Storage>, metrics: Arc<crate::metrics::Metrics>) -> Arc<Log> {
        Arc::new_cyclic(|this| Log {
            metrics,
            storage,
            live: SpinLock::new(VecDeque::new()),
            flushing: TryLock::new(),
            poisoned: AtomicBool::new(false),
            error: SpinLock::new(None),
            this: this.clone(),
        })
    }

    /// The storage the log writes to.
    pub fn storage(&self) -> &Arc<dyn Storage> {
        &self.storage
    }

    /// Creates the (empty) file of a segment. A failure does not poison the log: the
    /// caller may keep writing to the current segment and try again later.
    ///
    /// # Errors
    /// Storage errors.
    pub fn create_file(&self, segment: &Segment) -> Result<()> {
        if segment.is_logged() {
            self.storage.create(segment.name())?;
        }
        Ok(())
    }

    /// Adds a segment (whose file exists) as the newest.
    pub fn add_segment(&self, segment: Arc<Segment>) {
        self.live.lock().push_back(segment);
    }

    /// As `poison`, except for a flush this thread may not wait for
    /// ([`Error::WouldBlock`]: a page asking the files' owner): nothing was tried, so
    /// nothing is in doubt, and the owner's flushes go on.
    fn poison_unless_refused(&self, err: Error) -> Error {
        if matches!(err, Error::WouldBlock(_)) {
            return err;
        }
        self.poison(err)
    }

    /// The error that poisoned the log, if any.
    pub fn check(&self) -> Result<()> {
        if !self.poisoned.load(Ordering::Acquire) {
            return Ok(());
        }
        Err(self
            .error
            .lock()
            .clone()
            .unwrap_or_else(|| Error::Io("the log failed".into())))
    }

    /// Keeps `err` as the reason writes fail from now on (until the store is reopened).
    pub fn poison(&self, err: Error) -> Error {
        let mut slot = self.error.lock();
        if slot.is_none() {
            *slot = Some(err.clone());
        }
        self.poisoned.store(true, Ordering::Release);
        err
    }

    /// Returns once `segment` is synced up to `end`: flushes itself if no one else is
    /// flushing, else waits for the flusher (whose sync may cover these bytes too).
    ///
    /// # Errors
    /// The storage error that poisoned the log.
    pub fn sync_to(&self, segment: &Arc<Segment>, end: u64, limit_ms: u64) -> Result<()> {
        let mut stall = Stall::new(limit_ms);
        loop {
            if segment.synced() >= end {
                return Ok(());
            }
            self.check()?;
            if self.flush_unless_synced(segment, end)? {
                stall = Stall::new(limit_ms); // progress
                continue;
            }
            stall.wait("a sync").map_err(|err| self.poison(err))?;
        }
    }

    /// Returns once everything published so far is appended and synced: by this thread,
    /// or by a flush of another that covered it (threads syncing at once share one flush).
    ///
    /// # Errors
    /// The storage error that poisoned the log; [`Error::Io`] if another thread holds the
    /// flush for longer than `limit_ms`.
    pub fn flush(&self, limit_ms: u64) -> Result<()> {
        // Each segment's end as published now (a new, empty segment can follow an older
        // one with bytes to sync: every one is waited for).
        let ends: Vec<(Arc<Segment>, u64)> = self
            .live
            .lock()
            .iter()
            .map(|segment| (Arc::clone(segment), segment.published()))
            .collect();
        for (segment, end) in ends {
            self.sync_to(&segment, end, limit_ms)?;
        }
        self.check()
    }

    /// Flushes if no one else is; `Ok(false)` if someone else was.
    ///
    /// # Errors
    /// The storage error that poisoned the log.
    pub fn try_flush(&self) -> Result<bool> {
        self.check()?;
        self.flush_while(|| true)
    }

    /// As `try_flush`, for a sync of `segment` up to `end`: a thread without the files
    /// asks the owner, which answers at once once a flush of its own covered these
    /// bytes (it looks as each of its flushes ends), and flushes only if none did.
    fn flush_unless_synced(&self, segment: &Arc<Segment>, end: u64) -> Result<bool> {
        let segment = Arc::clone(segment);
        self.flush_while(move || segment.synced() < end)
    }

    /// Flushes here if this thread may, else at the owner of the files, for as long as
    /// `needed` answers true there.
    fn flush_while(&self, needed: impl Fn() -> bool + Send + 'static) -> Result<bool> {
        if self.flushes_here() {
            return self.flush_here();
        }
        // The thread owning the files flushes: this one holds nothing while it waits, so
        // its death (a worker terminated) cannot leave the flush held.
        let this = self.this.clone();
        let flush = move || this.upgrade().map_or(Ok(false), |log| log.try_flush());
        let flushed = self.storage.at_owner(OwnerWork::new(flush, needed));
        flushed.map_err(|err| self.poison_unless_refused(err))
    }

    /// True where this thread may flush itself: it owns the files (or threads cannot be:
    /// the single-threaded wasm build).
    fn flushes_here(&self) -> bool {
        cfg!(all(target_arch = "wasm32", not(target_feature = "atomics")))
            || self.storage.owned_here()
    }

    /// Flushes here, if no one else is; `Ok(false)` if someone else was.
    fn flush_here(&self) -> Result<bool> {
        let Some(held) = self.flushing.try_lock() else {
            return Ok(false);
        };
        let flushed = self.flush_locked();
        drop(held);
        // Other threads' syncs waiting for this one (the files' owner) are answered now,
        // not when this thread next calls into the engine or turns its event loop: those
        // the flush just made covered without another (group commit across workers).
        crate::storage::remote::serve_waiting();
        flushed.map(|()| true)
    }

    fn flush_locked(&self) -> Result<()> {
        let segments: Vec<Arc<Segment>> = self.live.lock().iter().cloned().collect();
        for segment in segments {
            if let Err(err) = segment.flush(&*self.storage, &self.metrics) {
                return Err(self.poison(err));
            }
            if !segment.is_complete() {
                // Still being written (the current one, or a sealed one with writers in
                // flight): later segments wait, so storage keeps a prefix of the log.
                break;
            }
            if segment.unflushed() == 0 {
                let mut live = self.live.lock();
                if live.front().is_some_and(|s| Arc::ptr_eq(s, &segment)) {
                    live.pop_front();
                }
            }
        }
        Ok(())
    }

    /// Bytes published in the newest segments but not yet synced.
    pub fn unflushed(&self) -> u64 {
        self.live.lock().iter().map(|s| s.unflushed()).sum()
    }
}
