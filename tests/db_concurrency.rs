//! Concurrency: several threads write one store; readers must see whole batches only.

use ppdb::{Db, Options, ScanOptions, WriteBatch};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

const KEYS_PER_BATCH: usize = 8;

#[test]
fn readers_see_all_of_a_batch_or_none_of_it() {
    let db = Db::open_in_memory(Options::default());
    let stop = Arc::new(AtomicBool::new(false));
    // Each writer rewrites its own group of keys, all with the same generation number.
    let writers: Vec<_> = (0..3u8)
        .map(|w| {
            let db = db.clone();
            std::thread::spawn(move || {
                for generation in 0..3_000u32 {
                    let mut batch = WriteBatch::new();
                    for k in 0..KEYS_PER_BATCH {
                        batch.put(&[w, k as u8], &generation.to_be_bytes());
                    }
                    db.write(&batch).expect("write");
                }
            })
        })
        .collect();
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let db = db.clone();
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                let mut checks = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let snapshot = db.snapshot();
                    for w in 0..3u8 {
                        let group: Vec<_> = snapshot
                            .scan(ScanOptions::prefix(&[w]))
                            .expect("scan")
                            .map(|(_, v)| v)
                            .collect();
                        assert!(
                            group.is_empty()
                                || (group.len() == KEYS_PER_BATCH
                                    && group.iter().all(|v| v == &group[0])),
                            "torn batch: {group:?}"
                        );
                        let gets: Vec<_> = (0..KEYS_PER_BATCH)
                            .map(|k| snapshot.get(&[w, k as u8]).expect("get"))
                            .collect();
                        assert!(gets.iter().all(|v| v == &gets[0]), "torn batch via get");
                        checks += 1;
                    }
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
