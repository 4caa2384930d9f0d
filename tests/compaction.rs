//! Leveled compaction: data stays right, levels stay within their triggers, snapshots keep
//! what they read, tombstones leave the bottom level, and memory stays bounded.
#![cfg(not(target_arch = "wasm32"))]

use ppdb::storage::MemStorage;
use ppdb::version::compaction::L0_TRIGGER;
use ppdb::{Db, Options, ScanOptions, Storage};
use std::collections::BTreeMap;
use std::sync::Arc;

fn options() -> Options {
    Options::default()
        .memtable_size(16 * 1024)
        .background_work(false)
}

fn tables_on_storage(storage: &MemStorage) -> usize {
    storage
        .list()
        .expect("list")
        .iter()
        .filter(|n| n.ends_with(".sst"))
        .count()
}

#[test]
fn compaction_keeps_every_key_right_and_level_zero_small() {
    let storage = Arc::new(MemStorage::new());
    let db = Db::open(storage.clone(), options()).expect("open");
    let mut model = BTreeMap::new();
    for round in 0..6u32 {
        for i in 0..2_000u32 {
            let key = format!("k{:05}", (i * 7 + round) % 3_000).into_bytes();
            if i % 11 == 0 {
                db.delete(&key).expect("delete");
                model.remove(&key);
            } else {
                let value = format!("round {round} value {i}").repeat(3).into_bytes();
                db.put(&key, &value).expect("put");
                model.insert(key, value);
            }
        }
        db.compact().expect("compact");
    }
    let stats = db.stats();
    assert!(
        stats.tables_per_level[0] < L0_TRIGGER,
        "{:?}",
        stats.tables_per_level
    );
    assert!(
        stats.tables_per_level[1] > 0,
        "{:?}",
        stats.tables_per_level
    );
    assert!(stats.compacted_bytes > 0);
    let found: BTreeMap<Vec<u8>, Vec<u8>> = db.scan(ScanOptions::all()).expect("scan").collect();
    assert_eq!(found, model);
    let live: usize = stats.tables_per_level.iter().sum();
    assert_eq!(
        tables_on_storage(&storage),
        live,
        "replaced tables are deleted"
    );
    drop(db);
    let db = Db::open(storage, options()).expect("reopen");
    let again: BTreeMap<Vec<u8>, Vec<u8>> = db.scan(ScanOptions::all()).expect("scan").collect();
    assert_eq!(again, model);
}

#[test]
fn a_snapshot_keeps_reading_what_it_saw_across_compactions() {
    let db = Db::open(Arc::new(MemStorage::new()), options()).expect("open");
    for i in 0..3_000u32 {
        db.put(format!("k{i:05}").as_bytes(), b"old").expect("put");
    }
    let snapshot = db.snapshot();
    for i in 0..3_000u32 {
        if i % 2 == 0 {
            db.delete(format!("k{i:05}").as_bytes()).expect("delete");
        } else {
            db.put(format!("k{i:05}").as_bytes(), b"new").expect("put");
        }
    }
    for _ in 0..3 {
        for i in 0..3_000u32 {
            db.put(format!("filler{i:05}").as_bytes(), &[0u8; 50])
                .expect("put");
        }
        db.compact().expect("compact");
    }
    assert!(db.stats().compacted_bytes > 0, "compactions ran");
    assert_eq!(snapshot.get(b"k00000").expect("get"), Some(b"old".to_vec()));
    assert_eq!(snapshot.get(b"k00001").expect("get"), Some(b"old".to_vec()));
    assert_eq!(
        snapshot
            .scan(ScanOptions::prefix(b"k"))
            .expect("scan")
            .count(),
        3_000
    );
    assert_eq!(db.get(b"k00000").expect("get"), None);
    assert_eq!(db.get(b"k00001").expect("get"), Some(b"new".to_vec()));
}

#[test]
fn tombstones_leave_the_bottom_level_when_no_snapshot_needs_them() {
    let db = Db::open(Arc::new(MemStorage::new()), options()).expect("open");
    for i in 0..5_000u32 {
        db.put(format!("k{i:05}").as_bytes(), &[7u8; 100])
            .expect("put");
    }
    db.compact().expect("compact");
    for i in 0..5_000u32 {
        db.delete(format!("k{i:05}").as_bytes()).expect("delete");
    }
    // Enough further flushes for level 0 to compact everything down.
    for round in 0..8u32 {
        for i in 0..300u32 {
            db.put(format!("z{round}-{i:04}").as_bytes(), b"x")
                .expect("put");
        }
        db.compact().expect("compact");
    }
    let stats = db.stats();
    let table_bytes: u64 = stats.table_bytes_per_level.iter().sum();
    assert!(
        table_bytes < 100_000,
        "deleted data and its tombstones should be gone: {table_bytes} bytes"
    );
    assert_eq!(db.scan(ScanOptions::prefix(b"k")).expect("scan").count(), 0);
    assert_eq!(
        db.scan(ScanOptions::prefix(b"z")).expect("scan").count(),
        2_400
    );
}

#[test]
fn a_store_many_times_its_memory_budget_stays_within_it() {
    // 1 MiB of memtables, 1 MiB of cache; 24 MiB of data.
    let options = options()
        .memtable_size(256 * 1024)
        .memory_limit(1 << 20)
        .block_cache_size(1 << 20);
    let db = Db::open(Arc::new(MemStorage::new()), options).expect("open");
    let value = [3u8; 1000];
    let mut peak = 0;
    for i in 0..24_000u32 {
        db.put(format!("key{i:06}").as_bytes(), &value)
            .expect("writes never fail: memtables flush");
        peak = peak.max(db.stats().memtable_bytes);
    }
    assert!(
        peak <= (1 << 20) + (512 << 10),
        "memtables peaked at {peak} bytes"
    );
    db.compact().expect("compact");
    for i in (0..24_000u32).step_by(97) {
        assert_eq!(
            db.get(format!("key{i:06}").as_bytes())
                .expect("get")
                .as_deref(),
            Some(&value[..])
        );
    }
    assert_eq!(db.scan(ScanOptions::all()).expect("scan").count(), 24_000);
    assert!(db.stats().cache.bytes <= 1 << 20);
}

#[test]
fn a_scan_keeps_reading_tables_that_a_compaction_replaced_meanwhile() {
    let storage = Arc::new(MemStorage::new());
    let db = Db::open(storage.clone(), options()).expect("open");
    for i in 0..4_000u32 {
        db.put(format!("k{i:05}").as_bytes(), &[5u8; 100])
            .expect("put");
    }
    db.compact().expect("compact");
    let mut scan = db.scan(ScanOptions::all()).expect("scan");
    let first: Vec<_> = scan.by_ref().take(10).collect();
    // Rewrite everything so compactions replace every table the scan is reading.
    for round in 0..3u8 {
        for i in 0..4_000u32 {
            db.put(format!("k{i:05}").as_bytes(), &[round; 100])
                .expect("put");
        }
        db.compact().expect("compact");
    }
    let rest = scan.by_ref().count();
    scan.status().expect("the scan's tables stayed readable");
    assert_eq!(first.len() + rest, 4_000);
    assert!(
        first.iter().all(|(_, v)| v == &vec![5u8; 100]),
        "the scan reads its own point in time"
    );
    drop(scan);
    db.compact().expect("compact");
    let live: usize = db.stats().tables_per_level.iter().sum();
    assert_eq!(
        tables_on_storage(&storage),
        live,
        "tables are deleted once the scan is done"
    );
}

#[test]
fn a_flipped_byte_in_the_manifest_is_corruption_not_an_empty_store() {
    let storage = Arc::new(ppdb::storage::FaultyStorage::new(
        Arc::new(MemStorage::new()),
        9,
    ));
    {
        let db = Db::open(storage.clone(), options()).expect("open");
        for i in 0..3_000u32 {
            db.put(format!("k{i:05}").as_bytes(), &[1u8; 100])
                .expect("put");
        }
        db.compact().expect("compact");
    }
    // Reopening rewrote the manifest as one snapshot record; damage it.
    drop(Db::open(storage.clone(), options()).expect("reopen"));
    let manifest = storage
        .list()
        .expect("list")
        .into_iter()
        .find(|n| n.starts_with("MANIFEST-"))
        .expect("a manifest");
    storage.flip_byte(&manifest, 20).expect("flip");
    let err = Db::open(storage, options())
        .expect_err("a damaged manifest must not open as an empty store");
    assert_eq!(err.code(), "CORRUPTION", "{err}");
}

/// Bytes of all tables on storage, finished or being written.
fn table_bytes_on_storage(storage: &MemStorage) -> u64 {
    storage
        .list()
        .expect("list")
        .iter()
        .filter(|n| n.ends_with(".sst"))
        .map(|n| storage.len(n).expect("len"))
        .sum()
}

#[test]
fn flushes_and_compactions_run_in_bounded_steps_that_resume() {
    let storage = Arc::new(MemStorage::new());
    let db = Db::open(storage.clone(), options().memtable_size(64 * 1024)).expect("open");
    let mut model = BTreeMap::new();
    const BUDGET: usize = 4096;
    let (mut steps, mut largest_step) = (0u32, 0u64);
    for round in 0..12u32 {
        for i in 0..1_500u32 {
            let key = format!("k{:05}", (i * 13 + round * 7) % 4_000).into_bytes();
            let value = format!("value {round} {i}").repeat(4).into_bytes();
            db.put(&key, &value).expect("put");
            model.insert(key, value);
        }
        // Steps interleave with reads and writes: everything stays visible throughout.
        while db.needs_maintenance() {
            let before = table_bytes_on_storage(&storage);
            assert!(db.maintain_step(BUDGET).expect("step"), "work was pending");
            steps += 1;
            largest_step =
                largest_step.max(table_bytes_on_storage(&storage).saturating_sub(before));
            if steps % 7 == 0 {
                let key = format!("k{:05}", steps % 4_000).into_bytes();
                assert_eq!(db.get(&key).expect("get"), model.get(&key).cloned());
                db.put(b"extra", &steps.to_le_bytes()).expect("put");
                model.insert(b"extra".to_vec(), steps.to_le_bytes().to_vec());
            }
        }
    }
    let stats = db.stats();
    assert!(stats.compacted_bytes > 0, "compactions ran: {stats:?}");
    let written = stats.flushed_bytes + stats.compacted_bytes;
    // Each step handles about BUDGET bytes of entries, so the work took many steps; one
    // step writes at most the table builder's 64 KiB buffer plus a table's tail.
    assert!(
        u64::from(steps) * 4 * BUDGET as u64 > written,
        "{steps} steps for {written} bytes"
    );
    assert!(
        largest_step <= 96 * 1024,
        "a step wrote {largest_step} bytes"
    );
    let found: BTreeMap<Vec<u8>, Vec<u8>> = db.scan(ScanOptions::all()).expect("scan").collect();
    assert_eq!(found, model);
    drop(db);
    let db = Db::open(storage, options()).expect("reopen");
    let again: BTreeMap<Vec<u8>, Vec<u8>> = db.scan(ScanOptions::all()).expect("scan").collect();
    assert_eq!(again, model);
}

#[test]
fn a_half_done_job_left_by_a_closed_store_leaves_no_trace() {
    let storage = Arc::new(MemStorage::new());
    let db = Db::open(storage.clone(), options()).expect("open");
    for i in 0..3_000u32 {
        db.put(format!("k{i:05}").as_bytes(), &[3u8; 64])
            .expect("put");
    }
    assert!(db.maintain_step(512).expect("step"));
    drop(db);
    let db = Db::open(storage.clone(), options()).expect("reopen");
    assert_eq!(db.scan(ScanOptions::all()).expect("scan").count(), 3_000);
    db.compact().expect("compact");
    let live: usize = db.stats().tables_per_level.iter().sum();
    assert_eq!(tables_on_storage(&storage), live, "no orphan tables");
}
