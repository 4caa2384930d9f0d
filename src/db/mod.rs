//! The store: a handle (`Db`) over shared state, with the write path (`write.rs`), reads
//! and scans, and snapshots (`snapshot.rs`).

mod sequence;
mod snapshot;
mod write;

pub use snapshot::Snapshot;

use crate::error::Result;
use crate::iter::{DbIter, MergingIterator, ScanOptions};
use crate::key::SequenceNumber;
use crate::memtable::{Lookup, Memtable};
use crate::options::Options;
use sequence::Sequencer;
use std::sync::Arc;

/// A handle to an open store. Cheap to clone; every clone (on any thread) reaches the same
/// data. The store lives until the last handle is dropped.
#[derive(Clone)]
pub struct Db {
    inner: Arc<DbInner>,
}

struct DbInner {
    options: Options,
    memtable: Arc<Memtable>,
    sequencer: Sequencer,
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
    /// The newest sequence number.
    pub sequence: SequenceNumber,
}

impl Db {
    /// Opens an empty store held in memory.
    pub fn open_in_memory(options: Options) -> Db {
        Db {
            inner: Arc::new(DbInner {
                memtable: Arc::new(Memtable::new(options.arena_chunk_size)),
                options,
                sequencer: Sequencer::new(0),
            }),
        }
    }

    /// The options the store was opened with.
    pub fn options(&self) -> &Options {
        &self.inner.options
    }

    /// The value of `key`, or `None` if it is absent.
    ///
    /// # Errors
    /// [`crate::Error::InvalidArgument`] for an empty or oversized key.
    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.get_at(key, self.inner.sequencer.visible())
    }

    fn get_at(&self, key: &[u8], seq: SequenceNumber) -> Result<Option<Vec<u8>>> {
        write::check_key(&self.inner.options, key)?;
        Ok(match self.inner.memtable.get(key, seq) {
            Lookup::Found(value) => Some(value.to_vec()),
            Lookup::Deleted | Lookup::Absent => None,
        })
    }

    /// The entries within `options`, read at the current sequence number.
    ///
    /// # Errors
    /// None yet; reading tables will be able to report corruption.
    pub fn scan(&self, options: ScanOptions) -> Result<DbIter> {
        self.scan_at(options, self.inner.sequencer.visible())
    }

    fn scan_at(&self, options: ScanOptions, seq: SequenceNumber) -> Result<DbIter> {
        let merged = MergingIterator::new(vec![Box::new(self.inner.memtable.iter())]);
        Ok(DbIter::new(merged, seq, options))
    }

    /// A consistent view of the store as it is now; later writes do not show through it.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot::new(self.clone(), self.inner.sequencer.visible())
    }

    /// Sizes and counts.
    pub fn stats(&self) -> DbStats {
        let mem = &self.inner.memtable;
        DbStats {
            memtable_entries: mem.len(),
            memtable_bytes: mem.memory_usage(),
            data_bytes: mem.data_bytes(),
            sequence: self.inner.sequencer.visible(),
        }
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

/// A reference to a store that does not keep it open; see [`Db::downgrade`].
#[derive(Clone)]
pub struct WeakDb(std::sync::Weak<DbInner>);

impl WeakDb {
    /// The store, if some handle still keeps it open.
    pub fn upgrade(&self) -> Option<Db> {
        self.0.upgrade().map(|inner| Db { inner })
    }
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db").field("stats", &self.stats()).finish()
    }
}
