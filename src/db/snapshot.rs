//! Snapshots: reads at a fixed sequence number.

use super::Db;
use crate::error::Result;
use crate::iter::{DbIter, ScanOptions};
use crate::key::SequenceNumber;

/// A read-only view of a store at one point in time. Writes made after the snapshot was
/// taken are invisible through it. While it lives, compaction keeps the versions it reads.
#[derive(Debug)]
pub struct Snapshot {
    db: Db,
    seq: SequenceNumber,
}

impl Clone for Snapshot {
    fn clone(&self) -> Snapshot {
        self.db.retain_snapshot(self.seq);
        Snapshot {
            db: self.db.clone(),
            seq: self.seq,
        }
    }
}

impl Drop for Snapshot {
    fn drop(&mut self) {
        self.db.release_snapshot(self.seq);
    }
}

impl Snapshot {
    pub(super) fn new(db: Db, seq: SequenceNumber) -> Snapshot {
        Snapshot { db, seq }
    }

    /// The sequence number the snapshot reads at.
    pub fn sequence(&self) -> SequenceNumber {
        self.seq
    }

    /// The value of `key` at the snapshot.
    ///
    /// # Errors
    /// As [`Db::get`].
    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.db.get_at(key, self.seq)
    }

    /// The entries within `options` at the snapshot.
    ///
    /// # Errors
    /// As [`Db::scan`].
    pub fn scan(&self, options: ScanOptions) -> Result<DbIter> {
        self.db.scan_at(options, self.seq)
    }
}
