//! Any bytes as a table file: opening and reading must give data or an error, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ppdb::iter::InternalIterator;
use ppdb::storage::MemStorage;
use ppdb::table::Table;
use ppdb::Storage;
use std::sync::Arc;

fuzz_target!(|data: &[u8]| {
    let storage = Arc::new(MemStorage::new());
    storage.create("t.sst").expect("create");
    storage.append("t.sst", data).expect("append");
    let Ok(table) = Table::open(storage, "t.sst", 1, None) else {
        return;
    };
    let table = Arc::new(table);
    let mut it = table.iter();
    it.seek_to_first();
    let mut n = 0;
    while it.valid() && n < 10_000 {
        let _ = (it.key(), it.value());
        it.next();
        n += 1;
    }
    it.seek_to_last();
    if it.valid() {
        it.prev();
    }
    it.seek(b"key\0\0\0\0\0\0\0\x01");
    let _ = it.status();
    let _ = table.get(b"key\0\0\0\0\0\0\0\x01");
});
