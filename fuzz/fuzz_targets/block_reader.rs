//! Any bytes as a block: iterating and seeking must not panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ppdb::iter::InternalIterator;
use ppdb::table::block::Block;
use std::sync::Arc;

fuzz_target!(|data: &[u8]| {
    let Ok(block) = Block::new(data.to_vec()) else {
        return;
    };
    let block = Arc::new(block);
    let mut it = block.iter(|a, b| a.cmp(b));
    it.seek_to_first();
    let mut n = 0;
    while it.valid() && n < 10_000 {
        it.next();
        n += 1;
    }
    it.seek_to_last();
    let mut n = 0;
    while it.valid() && n < 10_000 {
        it.prev();
        n += 1;
    }
    it.seek(data.get(..8).unwrap_or(data));
    it.seek_for_prev(data.get(..8).unwrap_or(data));
    let _ = it.status();
});
