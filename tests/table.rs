//! Tables: round trips through the builder and the reader, and damage detection.
#![cfg(not(target_arch = "wasm32"))]

use ppdb::iter::InternalIterator;
use ppdb::key::{self, ValueKind};
use ppdb::storage::{FaultyStorage, MemStorage};
use ppdb::table::{BlockCache, Compression, Table, TableBuilder, TableOptions};
use ppdb::Storage;
use std::sync::Arc;

/// Entries in internal-key order: several versions of some keys, a few deletes.
fn entries(n: u32) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut out: Vec<(Vec<u8>, Vec<u8>)> = (0..n)
        .flat_map(|i| {
            let user = format!("user-{:06}", i * 7).into_bytes();
            let versions = if i % 10 == 0 { 2 } else { 1 };
            (0..versions).map(move |v| {
                let seq = u64::from(i) * 4 + v;
                let kind = if i % 13 == 0 && v == 0 {
                    ValueKind::Delete
                } else {
                    ValueKind::Put
                };
                let value = if kind == ValueKind::Put {
                    format!("value {i} v{v} ")
                        .repeat(1 + (i % 5) as usize)
                        .into_bytes()
                } else {
                    Vec::new()
                };
                (key::internal_key(&user, seq, kind), value)
            })
        })
        .collect();
    out.sort_by(|a, b| key::compare(&a.0, &b.0));
    out
}

fn write_table(
    storage: &Arc<dyn Storage>,
    name: &str,
    data: &[(Vec<u8>, Vec<u8>)],
    options: TableOptions,
) -> u64 {
    let mut builder = TableBuilder::new(Arc::clone(storage), name, options).expect("create");
    for (k, v) in data {
        builder.add(k, v).expect("add");
    }
    let meta = builder.finish().expect("finish");
    assert_eq!(meta.entries, data.len() as u64);
    assert_eq!(meta.smallest, data[0].0);
    assert_eq!(meta.largest, data[data.len() - 1].0);
    meta.size
}

fn read_all(table: &Arc<Table>, reverse: bool) -> ppdb::Result<Vec<(Vec<u8>, Vec<u8>)>> {
    let mut it = table.iter();
    let mut out = Vec::new();
    if reverse {
        it.seek_to_last();
    } else {
        it.seek_to_first();
    }
    while it.valid() {
        out.push((it.key().to_vec(), it.value().to_vec()));
        if reverse {
            it.prev();
        } else {
            it.next();
        }
    }
    it.status()?;
    if reverse {
        out.reverse();
    }
    Ok(out)
}

#[test]
fn tables_round_trip_with_every_codec_and_block_size() {
    let data = entries(3_000);
    for compression in [Compression::None, Compression::Lz4] {
        for block_size in [64, 4096, 64 * 1024] {
            let storage: Arc<dyn Storage> = Arc::new(MemStorage::new());
            let options = TableOptions {
                block_size,
                compression,
                ..TableOptions::default()
            };
            let size = write_table(&storage, "t.sst", &data, options);
            let table =
                Arc::new(Table::open(Arc::clone(&storage), "t.sst", 1, None).expect("open"));
            assert_eq!(table.size(), size);
            assert_eq!(
                read_all(&table, false).expect("forward"),
                data,
                "{compression:?} {block_size}"
            );
            assert_eq!(
                read_all(&table, true).expect("backward"),
                data,
                "{compression:?} {block_size}"
            );
            for (k, _) in data.iter().step_by(11) {
                let user = key::user_key(k);
                let seek = key::internal_key(user, key::MAX_SEQUENCE, ValueKind::SEEK);
                let found = table.get(&seek).expect("get").expect("present");
                // The newest version: the first of the user key's entries (sequence descending).
                let (newest, value) = data
                    .iter()
                    .find(|(other, _)| key::user_key(other) == user)
                    .expect("listed");
                let parsed = key::parse(newest).expect("an internal key");
                assert_eq!((found.seq, found.kind), (parsed.seq, parsed.kind));
                assert_eq!(&found.value, value);
            }
        }
    }
}

#[test]
fn lz4_makes_repetitive_tables_smaller() {
    let data = entries(3_000);
    let storage: Arc<dyn Storage> = Arc::new(MemStorage::new());
    let plain = write_table(
        &storage,
        "a",
        &data,
        TableOptions {
            compression: Compression::None,
            ..TableOptions::default()
        },
    );
    let packed = write_table(&storage, "b", &data, TableOptions::default());
    assert!(packed * 2 < plain, "lz4 {packed} vs plain {plain}");
}

#[test]
fn the_bloom_filter_spares_reads_of_absent_keys() {
    let data = entries(2_000);
    let storage: Arc<dyn Storage> = Arc::new(MemStorage::new());
    write_table(&storage, "t", &data, TableOptions::default());
    let cache = Arc::new(BlockCache::new(1 << 20));
    let table = Table::open(Arc::clone(&storage), "t", 7, Some(Arc::clone(&cache))).expect("open");
    for i in 0..1_000 {
        let absent = key::internal_key(
            format!("absent-{i}").as_bytes(),
            key::MAX_SEQUENCE,
            ValueKind::SEEK,
        );
        let _ = table.get(&absent).expect("get");
    }
    let stats = cache.stats();
    assert!(
        stats.hits + stats.misses < 50,
        "the filter should stop most lookups: {stats:?}"
    );
    let present = key::internal_key(
        key::user_key(&data[5].0),
        key::MAX_SEQUENCE,
        ValueKind::SEEK,
    );
    table.get(&present).expect("get");
    table.get(&present).expect("get");
    assert!(
        cache.stats().hits > stats.hits,
        "the second read hits the cache"
    );
}

#[test]
fn a_scan_reads_several_blocks_per_storage_call() {
    let data = entries(20_000);
    let inner: Arc<dyn Storage> = Arc::new(MemStorage::new());
    write_table(&inner, "t", &data, TableOptions::default());
    let counted = Arc::new(FaultyStorage::new(Arc::clone(&inner), 1));
    for reverse in [false, true] {
        // Each block a scan loads is a cache miss; the storage calls are counted.
        let cache = Arc::new(BlockCache::new(64 << 20));
        let table = Table::open(
            counted.clone() as Arc<dyn Storage>,
            "t",
            1,
            Some(Arc::clone(&cache)),
        );
        let table = Arc::new(table.expect("open"));
        let before = counted.ops();
        assert_eq!(read_all(&table, reverse).expect("scan"), data);
        let (reads, blocks) = (counted.ops() - before, cache.stats().misses);
        assert!(blocks > 50, "{blocks} blocks");
        assert!(
            reads * 8 <= blocks,
            "reverse {reverse}: {reads} reads for {blocks} blocks"
        );
    }
    // A seek starts over with a small window, and still reads what follows it.
    let table = Arc::new(Table::open(Arc::clone(&inner), "t", 2, None).expect("open"));
    let mut it = table.iter();
    let middle = data.len() / 2;
    it.seek(&data[middle].0);
    let mut rest = Vec::new();
    while it.valid() {
        rest.push((it.key().to_vec(), it.value().to_vec()));
        it.next();
    }
    it.status().expect("scan");
    assert_eq!(rest, data[middle..]);
}

#[test]
fn a_passing_cursor_reads_cached_blocks_and_keeps_none() {
    // A compaction's pass leaves the cache to the reads: it takes the blocks the cache
    // holds, and those it reads are not kept.
    let data = entries(5_000);
    let storage: Arc<dyn Storage> = Arc::new(MemStorage::new());
    write_table(&storage, "t", &data, TableOptions::default());
    let cache = Arc::new(BlockCache::new(64 << 20));
    let table = Table::open(Arc::clone(&storage), "t", 1, Some(Arc::clone(&cache)));
    let table = Arc::new(table.expect("open"));
    let first = &data[0].0;
    let mut it = table.iter();
    it.seek(first);
    let cached = cache.stats().bytes;
    assert!(cached > 0, "a read keeps its block");

    let mut pass = table.passing_iter();
    pass.seek_to_first();
    let mut read = Vec::new();
    while pass.valid() {
        read.push((pass.key().to_vec(), pass.value().to_vec()));
        pass.next();
    }
    pass.status().expect("pass");
    assert_eq!(read, data);
    let stats = cache.stats();
    assert_eq!(stats.bytes, cached, "the pass kept no block");
    assert!(stats.hits >= 1, "the pass took the cached block");

    assert_eq!(read_all(&table, false).expect("scan"), data);
    assert!(
        cache.stats().bytes > cached * 10,
        "a scan keeps what it reads"
    );
}

#[test]
fn a_flipped_byte_anywhere_is_corruption_or_harmless_never_wrong_data() {
    let data = entries(500);
    let inner: Arc<dyn Storage> = Arc::new(MemStorage::new());
    let size = write_table(
        &inner,
        "t",
        &data,
        TableOptions {
            block_size: 512,
            ..TableOptions::default()
        },
    );
    let faulty = Arc::new(FaultyStorage::new(Arc::clone(&inner), 1));
    let original = inner.read_all("t").expect("read");
    let mut detected = 0;
    for offset in (0..size).step_by(7) {
        faulty.flip_byte("t", offset).expect("flip");
        let result = Table::open(faulty.clone() as Arc<dyn Storage>, "t", offset, None)
            .map(Arc::new)
            // Forward and backward in turn: both read the file ahead.
            .and_then(|t| read_all(&t, offset % 2 == 1));
        match result {
            Ok(read) => assert_eq!(
                read, data,
                "a flipped byte at {offset} changed what was read"
            ),
            Err(err) => {
                assert_eq!(err.code(), "CORRUPTION", "at {offset}: {err}");
                detected += 1;
            }
        }
        inner.create("t").expect("restore");
        inner.append("t", &original).expect("restore");
    }
    assert!(
        detected > (size / 7) as usize * 9 / 10,
        "only {detected} of {} flips detected",
        size / 7
    );
}

#[test]
fn a_file_that_is_not_a_table_is_corruption() {
    let storage: Arc<dyn Storage> = Arc::new(MemStorage::new());
    storage.create("x").expect("create");
    storage.append("x", &[7u8; 200]).expect("append");
    assert_eq!(
        Table::open(Arc::clone(&storage), "x", 1, None)
            .err()
            .expect("not a table")
            .code(),
        "CORRUPTION"
    );
    storage.create("short").expect("create");
    assert_eq!(
        Table::open(storage, "short", 2, None)
            .err()
            .expect("empty")
            .code(),
        "CORRUPTION"
    );
}
