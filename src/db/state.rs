//! The memtables and log segment writes go to, swapped atomically at a memtable switch.
//!
//! A switch seals the current segment (so no new write can reserve in it), starts the next
//! segment, freezes the full memtable, and publishes a new state. Writers that lose the race
//! to a seal simply retry on the new state; writers already inside the old segment finish
//! there. Readers load the published sequence number first and the state second, so every
//! entry they may see is in a memtable of the state they hold.

use crate::memtable::Memtable;
use crate::wal::segment::Segment;
use std::sync::Arc;

/// One consistent set of memtables and the segment being written.
pub struct MemState {
    /// Takes new writes.
    pub active: Arc<Memtable>,
    /// The log segment of `active`'s writes.
    pub segment: Arc<Segment>,
    /// Full memtables, newest first, kept until they are written to tables.
    pub frozen: Vec<Arc<Memtable>>,
}

impl MemState {
    /// Memory held by every memtable.
    pub fn memory_usage(&self) -> usize {
        self.active.memory_usage() + self.frozen.iter().map(|m| m.memory_usage()).sum::<usize>()
    }

    /// Every memtable, newest first.
    pub fn memtables(&self) -> impl Iterator<Item = &Arc<Memtable>> {
        std::iter::once(&self.active).chain(self.frozen.iter())
    }
}
