//! Any bytes as a log segment: reading records, decoding batches and whole recovery must
//! give records or reported damage, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ppdb::storage::MemStorage;
use ppdb::wal::reader::{LogEvent, LogReader};
use ppdb::{Db, Options, RecoveryMode, Storage, WriteBatch};
use std::sync::Arc;

fuzz_target!(|data: &[u8]| {
    for event in LogReader::new(data) {
        if let LogEvent::Record { data, .. } = event {
            if let Ok(batch) = WriteBatch::from_encoded(&data) {
                for op in batch.iter() {
                    let _ = op;
                }
            }
        }
    }
    let _ = LogReader::starting_at(data, data.len() as u64 / 2).count();
    for mode in [RecoveryMode::Strict, RecoveryMode::SkipCorrupted] {
        let storage = Arc::new(MemStorage::new());
        storage.create("000001.wal").expect("create");
        storage.append("000001.wal", data).expect("append");
        let options = Options::default()
            .recovery_mode(mode)
            .background_work(false);
        let _ = Db::open(storage, options).map(|db| db.get(b"k").map(|_| ()));
    }
});
