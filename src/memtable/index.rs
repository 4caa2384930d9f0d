//! The point index of a memtable: user key → the node of its newest version, so that a get
//! finds a key with one hash probe instead of a skiplist descent (about 25 nodes, each a
//! likely cache miss, in a memtable of 100,000 entries).
//!
//! A fixed-size, lock-free, open-addressing hash table (linear probing) of node pointers,
//! filled by every insert after its node is linked; slots only ever go from empty to a
//! node, and from a node to a newer version of the same key. Writers record before they
//! publish their sequence numbers, so a reader that can see a version finds it (or a
//! newer one) here. A version that does not fit (the table too full, or its probe too
//! long) turns the index off for good, before it is published: from then on every get
//! of this memtable descends the skiplist, as readers that see that version check.

use super::skiplist::{NodeRef, SkipList};
use crate::key;
use crate::sync::atomic::{AtomicBool, AtomicPtr, AtomicUsize, Ordering};
use std::ptr;

/// The longest probe sequence a key may take; past it, the index turns off.
const MAX_PROBES: usize = 32;

/// What the index says of a user key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Probe {
    /// The node of its newest version in this memtable.
    Newest(NodeRef),
    /// No version of it in this memtable (none a reader could see).
    Absent,
    /// The index is off: ask the skiplist.
    Off,
}

/// A memtable's point index (see the module docs).
pub struct PointIndex {
    slots: Box<[AtomicPtr<u8>]>,
    used: AtomicUsize,
    on: AtomicBool,
}

impl PointIndex {
    /// An index of `slots` slots (rounded up to a power of two); it holds up to three
    /// quarters of that many keys.
    pub fn new(slots: usize) -> PointIndex {
        let slots = slots.next_power_of_two();
        PointIndex {
            slots: (0..slots)
                .map(|_| AtomicPtr::new(ptr::null_mut()))
                .collect(),
            used: AtomicUsize::new(0),
            on: AtomicBool::new(true),
        }
    }

    /// Bytes the index takes.
    pub fn memory_usage(&self) -> usize {
        self.slots.len() * std::mem::size_of::<AtomicPtr<u8>>()
    }

    /// True while the index answers gets (see the module docs).
    pub fn is_on(&self) -> bool {
        self.on.load(Ordering::Acquire)
    }

    fn start(&self, user_key: &[u8]) -> usize {
        xxhash_rust::xxh3::xxh3_64(user_key) as usize & (self.slots.len() - 1)
    }

    /// Records `node` (of `list`), just linked, as a version of its user key: it takes the
    /// key's slot unless a newer version holds it. Call before the version is published.
    pub fn record(&self, list: &SkipList, node: NodeRef) {
        if !self.is_on() {
            return;
        }
        let internal = list.key(node);
        let user = key::user_key(internal);
        let seq = key::sequence(internal);
        let mask = self.slots.len() - 1;
        let mut at = self.start(user);
        let mut probes = 0;
        while probes < MAX_PROBES {
            let slot = &self.slots[at];
            let held = slot.load(Ordering::Acquire);
            let replace = if held.is_null() {
                if self.used.load(Ordering::Relaxed) >= self.slots.len() / 4 * 3 {
                    break; // too full to take another key
                }
                true
            } else {
                // SAFETY: slots hold only nodes of `list`, recorded by `record`.
                let other = list.key(unsafe { NodeRef::from_raw(held) });
                if key::user_key(other) != user {
                    at = (at + 1) & mask;
                    probes += 1;
                    continue;
                }
                key::sequence(other) < seq
            };
            if !replace {
                return; // a newer version holds the slot
            }
            match slot.compare_exchange(held, node.as_raw(), Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => {
                    if held.is_null() {
                        self.used.fetch_add(1, Ordering::Relaxed);
                    }
                    return;
                }
                // Another writer took the slot meanwhile: look at it again.
                Err(_) => continue,
            }
        }
        self.on.store(false, Ordering::Release);
    }

    /// The node of `user_key`'s newest version, or whether the index cannot tell.
    pub fn find(&self, list: &SkipList, user_key: &[u8]) -> Probe {
        if !self.is_on() {
            return Probe::Off;
        }
        let mask = self.slots.len() - 1;
        let mut at = self.start(user_key);
        for _ in 0..MAX_PROBES {
            let held = self.slots[at].load(Ordering::Acquire);
            if held.is_null() {
                return Probe::Absent;
            }
            // SAFETY: slots hold only nodes of `list`, recorded by `record`.
            let node = unsafe { NodeRef::from_raw(held) };
            if key::user_key(list.key(node)) == user_key {
                return Probe::Newest(node);
            }
            at = (at + 1) & mask;
        }
        // A key that took every probe would have turned the index off (checked above, but
        // that may have happened since): not here.
        if self.is_on() {
            Probe::Absent
        } else {
            Probe::Off
        }
    }
}
