//! Workloads shared by the native benchmark (`bench/memtable.rs`) and the wasm one
//! (`bench/node/memtable.mjs` through `wasm::bench`), so both measure the same code.

use crate::key::ValueKind;
use crate::memtable::Memtable;
use std::sync::Arc;

/// Key length of the benchmark entries.
pub const KEY_LEN: usize = 16;
/// Value length of the benchmark entries.
pub const VALUE_LEN: usize = 100;

/// The `i`-th benchmark key: 16 bytes, unique, in a scrambled order.
pub fn key(i: u64) -> [u8; KEY_LEN] {
    let mut out = [0u8; KEY_LEN];
    out[..8].copy_from_slice(&i.wrapping_mul(0x9E37_79B9_7F4A_7C15).to_be_bytes());
    out[8..].copy_from_slice(&i.to_be_bytes());
    out
}

/// Inserts entries `start..end` (sequence number `i + 1` for entry `i`).
pub fn fill(memtable: &Memtable, start: u64, end: u64) {
    let value = [0x5au8; VALUE_LEN];
    if let Some(writer) = memtable.begin_write() {
        for i in start..end {
            writer.add(i + 1, ValueKind::Put, &key(i), &value);
        }
    }
}

/// Looks up `n` of the first `n` keys in a scattered order; returns how many were found.
pub fn get(memtable: &Memtable, n: u64) -> u64 {
    let mut found = 0;
    for i in 0..n {
        let k = key(i.wrapping_mul(7919) % n.max(1));
        if matches!(
            memtable.get(&k, u64::MAX >> 8),
            crate::memtable::Lookup::Found(_)
        ) {
            found += 1;
        }
    }
    found
}

/// Walks every entry in order; returns the count.
pub fn scan(memtable: &Arc<Memtable>) -> u64 {
    use crate::iter::InternalIterator;
    let mut it = memtable.iter();
    it.seek_to_first();
    let mut n = 0;
    while it.valid() {
        n += 1;
        it.next();
    }
    n
}
