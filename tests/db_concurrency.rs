//! Concurrency: several threads write one store; readers must see whole batches only.

use ppdb::{Db, Options, ScanOptions, Snapshot, WriteBatch};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

const KEYS_PER_BATCH: usize = 8;
/// Batches each writer makes when writers race on the same keys.
const GENS: u32 = 1_000;

/// Runs `write(db, w)` on `writers` threads while two readers run `check` on snapshot after
/// snapshot; returns once the writers are done and each reader checked at least once.
fn race_readers_with_writers(db: &Db, writers: u32, write: fn(&Db, u32), check: fn(&Snapshot)) {
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..writers)
        .map(|w| {
            let db = db.clone();
            std::thread::spawn(move || write(&db, w))
        })
        .collect();
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let db = db.clone();
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                let mut checks = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    check(&db.snapshot());
                    checks += 1;
                }
                checks
            })
        })
        .collect();
    for w in writers {
        w.join().expect("writer");
    }
    stop.store(true, Ordering::Relaxed);
    for r in readers {
        assert!(r.join().expect("reader") > 0);
    }
}

#[test]
fn readers_see_all_of_a_batch_or_none_of_it() {
    let db = Db::open_in_memory(Options::default());
    // Each writer rewrites its own group of keys, all with the same generation number.
    let write = |db: &Db, w: u32| {
        for generation in 0..3_000u32 {
            let mut batch = WriteBatch::new();
            for k in 0..KEYS_PER_BATCH {
                batch.put(&[w as u8, k as u8], &generation.to_be_bytes());
            }
            db.write(&batch).expect("write");
        }
    };
    let check = |snapshot: &Snapshot| {
        for w in 0..3u8 {
            let group: Vec<_> = snapshot
                .scan(ScanOptions::prefix(&[w]))
                .expect("scan")
                .map(|(_, v)| v)
                .collect();
            assert!(
                group.is_empty()
                    || (group.len() == KEYS_PER_BATCH && group.iter().all(|v| v == &group[0])),
                "torn batch: {group:?}"
            );
            let gets: Vec<_> = (0..KEYS_PER_BATCH)
                .map(|k| snapshot.get(&[w, k as u8]).expect("get"))
                .collect();
            assert!(gets.iter().all(|v| v == &gets[0]), "torn batch via get");
        }
    };
    race_readers_with_writers(&db, 3, write, check);
    for w in 0..3u8 {
        for k in 0..KEYS_PER_BATCH as u8 {
            assert_eq!(
                db.get(&[w, k]).expect("get"),
                Some(2_999u32.to_be_bytes().to_vec())
            );
        }
    }
    assert_eq!(db.stats().sequence, 3 * 3_000 * KEYS_PER_BATCH as u64);
}

#[test]
fn writers_racing_on_the_same_keys_never_show_a_torn_batch_through_gets() {
    // Every writer writes all the keys in each batch, so the memtable's point index takes
    // versions of one key from several threads at once; a reader's gets at one snapshot
    // must still all come from one batch, and each thread must read its own last write or
    // a newer one.
    let db = Db::open_in_memory(Options::default());
    let write = |db: &Db, w: u32| {
        for generation in 0..GENS {
            let stamp = ((w << 16) | generation).to_be_bytes();
            let mut batch = WriteBatch::new();
            for k in 0..KEYS_PER_BATCH as u8 {
                batch.put(&[k], &stamp);
            }
            let seq = db.write(&batch).expect("write");
            // Key 0 is the batch's first operation: its version is `seq`.
            let (_, version) = db.get_with_version(&[0]).expect("get").expect("present");
            assert!(
                version >= seq,
                "thread {w} read version {version}, older than its write {seq}"
            );
        }
    };
    let check = |snapshot: &Snapshot| {
        let gets: Vec<_> = (0..KEYS_PER_BATCH as u8)
            .map(|k| snapshot.get(&[k]).expect("get"))
            .collect();
        assert!(
            gets.iter().all(|v| v == &gets[0]),
            "torn batch via get: {gets:?}"
        );
    };
    race_readers_with_writers(&db, 3, write, check);
    let last: Vec<_> = (0..KEYS_PER_BATCH as u8)
        .map(|k| db.get(&[k]).expect("get"))
        .collect();
    assert!(last.iter().all(|v| v == &last[0] && v.is_some()));
}

#[test]
fn a_snapshot_ignores_later_writes() {
    let db = Db::open_in_memory(Options::default());
    db.put(b"a", b"1").expect("put");
    let snap = db.snapshot();
    db.put(b"a", b"2").expect("put");
    db.delete(b"a").expect("delete");
    db.put(b"b", b"new").expect("put");
    assert_eq!(snap.get(b"a").expect("get"), Some(b"1".to_vec()));
    assert_eq!(snap.get(b"b").expect("get"), None);
    assert_eq!(snap.scan(ScanOptions::all()).expect("scan").count(), 1);
    assert_eq!(db.get(b"a").expect("get"), None);
}

/// Reads a counter with its version, then writes counter + 1 on condition that the version
/// is unchanged, retrying on conflict.
fn increment(db: &Db, key: &[u8]) -> u32 {
    let mut conflicts = 0;
    loop {
        let current = db.get_with_version(key).expect("get");
        let (count, version) = match &current {
            Some((value, version)) => (
                u64::from_le_bytes(value.as_slice().try_into().expect("8 bytes")),
                Some(*version),
            ),
            None => (0, None),
        };
        let mut batch = WriteBatch::new();
        batch.put(key, &(count + 1).to_le_bytes());
        match db.write_if(&[(key, version)], &batch) {
            Ok(_) => return conflicts,
            Err(ppdb::Error::Conflict(_)) => conflicts += 1,
            Err(err) => panic!("write_if: {err}"),
        }
    }
}

#[test]
fn conditional_writes_lose_no_increment_among_concurrent_writers() {
    let db = Db::open_in_memory(Options::default());
    const THREADS: u32 = 4;
    const INCREMENTS: u32 = 2_000;
    let stop = Arc::new(AtomicBool::new(false));
    // Unconditional writers on other keys keep the gate busy meanwhile.
    let noise = {
        let (db, stop) = (db.clone(), Arc::clone(&stop));
        std::thread::spawn(move || {
            let mut i = 0u32;
            while !stop.load(Ordering::Relaxed) {
                db.put(format!("noise{}", i % 100).as_bytes(), &i.to_le_bytes())
                    .expect("put");
                i += 1;
            }
        })
    };
    let counters: Vec<_> = (0..THREADS)
        .map(|_| {
            let db = db.clone();
            std::thread::spawn(move || {
                (0..INCREMENTS)
                    .map(|_| increment(&db, b"counter"))
                    .sum::<u32>()
            })
        })
        .collect();
    let conflicts: u32 = counters
        .into_iter()
        .map(|t| t.join().expect("thread"))
        .sum();
    stop.store(true, Ordering::Relaxed);
    noise.join().expect("noise");
    let (value, _) = db.get_with_version(b"counter").expect("get").expect("set");
    let count = u64::from_le_bytes(value.as_slice().try_into().expect("8 bytes"));
    assert_eq!(
        count,
        u64::from(THREADS * INCREMENTS),
        "{conflicts} conflicts retried"
    );
}

#[test]
fn a_conditional_write_checks_versions_absence_and_deletes() {
    let db = Db::open_in_memory(Options::default());
    let mut batch = WriteBatch::new();
    batch.put(b"a", b"1");
    db.write_if(&[(b"a".as_slice(), None)], &batch)
        .expect("absent as expected");
    let (_, v1) = db.get_with_version(b"a").expect("get").expect("set");
    assert!(matches!(
        db.write_if(&[(b"a".as_slice(), None)], &batch),
        Err(ppdb::Error::Conflict(_))
    ));
    db.put(b"a", b"2").expect("put");
    let mut other = WriteBatch::new();
    other.put(b"b", b"x");
    let err = db
        .write_if(&[(b"a".as_slice(), Some(v1))], &other)
        .expect_err("a moved on");
    assert_eq!(err.code(), "CONFLICT");
    assert_eq!(
        db.get(b"b").expect("get"),
        None,
        "nothing written on conflict"
    );
    let (value, v2) = db.get_with_version(b"a").expect("get").expect("set");
    assert_eq!(value, b"2");
    assert!(v2 > v1);
    db.delete(b"a").expect("delete");
    assert_eq!(db.get_with_version(b"a").expect("get"), None);
    db.write_if(&[(b"a".as_slice(), None)], &WriteBatch::new())
        .expect("a deleted key checks as absent");
}

#[test]
fn versions_survive_flushes_to_tables() {
    let storage = Arc::new(ppdb::storage::MemStorage::new());
    let db = Db::open(
        storage,
        Options::default()
            .memtable_size(4096)
            .background_work(false),
    )
    .expect("open");
    db.put(b"k", b"v").expect("put");
    let (_, version) = db.get_with_version(b"k").expect("get").expect("set");
    for i in 0..500u32 {
        db.put(format!("filler{i}").as_bytes(), &[0u8; 32])
            .expect("put");
    }
    db.compact().expect("compact");
    assert!(db.stats().tables_per_level.iter().sum::<usize>() > 0);
    assert_eq!(
        db.get_with_version(b"k").expect("get"),
        Some((b"v".to_vec(), version))
    );
}
