//! The store against a model (a `BTreeMap`), after redb's fuzzer: the input is a program of
//! puts, deletes, batches, snapshots, syncs, bounded flush and compaction steps, compactions,
//! clean reopens, injected I/O errors and crashes (unsynced bytes lost, torn or garbage) on
//! the fault-injecting storage. Every read must match the model; after a crash every
//! acknowledged (synced) write is there; a write that failed may or may not be.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ppdb::storage::{Faults, FaultyStorage, MemStorage};
use ppdb::{Db, Options, ScanOptions, WriteBatch};
use std::collections::BTreeMap;
use std::sync::Arc;

type Model = BTreeMap<Vec<u8>, Vec<u8>>;

fn options() -> Options {
    Options::default()
        .memtable_size(4 * 1024)
        .background_work(false)
}

fn key(byte: u8) -> Vec<u8> {
    format!("key{:02}", byte % 40).into_bytes()
}

fn value(byte: u8, step: usize) -> Vec<u8> {
    format!("v{step}-").repeat(1 + byte as usize % 40).into_bytes()
}

fn contents(db: &Db) -> Option<Model> {
    let mut scan = db.scan(ScanOptions::all()).ok()?;
    let found: Model = scan.by_ref().collect();
    scan.status().ok().map(|()| found)
}

/// Opens the store after a crash or a failure: what it holds must be the model, or the
/// model with the one write whose outcome was unknown.
fn reopen(storage: &Arc<FaultyStorage>, model: &mut Model, uncertain: &mut Option<Model>) -> Db {
    storage.restart();
    let db = Db::open(storage.clone(), options()).expect("the store opens after a crash");
    let found = contents(&db).expect("a scan after reopening");
    match uncertain.take() {
        Some(with) if found == with => *model = with,
        _ => assert_eq!(&found, model, "after reopening"),
    }
    db
}

fuzz_target!(|data: &[u8]| {
    let storage = Arc::new(FaultyStorage::new(Arc::new(MemStorage::new()), 7));
    let mut db = Some(Db::open(storage.clone(), options()).expect("open"));
    let mut model = Model::new();
    // After a failed write: the model as it would be had that write landed.
    let mut uncertain: Option<Model> = None;
    let mut failed = false;
    // Injected I/O errors are due: reads of tables may fail too (with IO), never lie.
    let mut faulty = false;
    // Each snapshot with what it must see: the model then, or (taken after a failed write)
    // the model with that write, which may have landed.
    let mut snapshots: Vec<(ppdb::Snapshot, Model, Option<Model>)> = Vec::new();
    for (step, op) in data.chunks(3).enumerate() {
        let [code, a, b] = [op[0], *op.get(1).unwrap_or(&0), *op.get(2).unwrap_or(&0)];
        let Some(store) = db.as_ref() else { break };
        let mut batch = WriteBatch::new();
        let mut next = model.clone();
        match code % 12 {
            0..=3 => {
                batch.put(&key(a), &value(b, step));
                next.insert(key(a), value(b, step));
            }
            4 => {
                batch.delete(&key(a));
                next.remove(&key(a));
            }
            5 => {
                for i in 0..(b % 6) {
                    let k = key(a.wrapping_add(i * 7));
                    if i % 3 == 2 {
                        batch.delete(&k);
                        next.remove(&k);
                    } else {
                        batch.put(&k, &value(b.wrapping_add(i), step));
                        next.insert(k, value(b.wrapping_add(i), step));
                    }
                }
            }
            6 => {
                if b % 2 == 0 && snapshots.len() < 4 {
                    let maybe = if failed { uncertain.clone() } else { None };
                    snapshots.push((store.snapshot(), model.clone(), maybe));
                } else if let Some((snapshot, seen, maybe)) = snapshots.pop() {
                    let mut scan = snapshot.scan(ScanOptions::all()).expect("scan");
                    let found: Model = scan.by_ref().collect();
                    if scan.status().is_ok() {
                        if maybe.as_ref() != Some(&found) {
                            assert_eq!(&found, &seen, "a snapshot sees what was there when it was taken");
                        }
                    } else {
                        assert!(faulty, "a snapshot scan failed without a fault");
                    }
                }
                continue;
            }
            7 => {
                let _ = store.maintain_step(64 + a as usize * 64);
                continue;
            }
            8 => {
                let _ = store.compact();
                continue;
            }
            9 => {
                // A clean close and reopen.
                snapshots.clear();
                let closing = db.take().expect("open");
                let _ = closing.close();
                storage.restart();
                let reopened = Db::open(storage.clone(), options()).expect("reopen");
                if let Some(found) = contents(&reopened) {
                    if uncertain.as_ref().is_some_and(|with| *with == found) {
                        model = found.clone();
                    }
                    assert_eq!(found, model, "after a clean reopen");
                }
                uncertain = None;
                failed = false;
                faulty = false;
                db = Some(reopened);
                continue;
            }
            10 => {
                // An I/O error a few storage calls from now.
                storage.set_faults(Faults {
                    fail_at: Some(1 + (a % 8) as u64),
                    ..Faults::default()
                });
                faulty = true;
                continue;
            }
            _ => {
                // A crash: unsynced bytes lost, torn, or garbage.
                snapshots.clear();
                storage.set_faults(Faults {
                    torn_writes: a % 2 == 0,
                    garbage_tails: b % 2 == 0,
                    ..Faults::default()
                });
                let _ = storage.crash();
                drop(db.take());
                db = Some(reopen(&storage, &mut model, &mut uncertain));
                failed = false;
                faulty = false;
                continue;
            }
        }
        match store.write(&batch) {
            Ok(_) => {
                assert!(!failed || batch.is_empty(), "a write succeeded after the store failed");
                model = next;
            }
            Err(err) => {
                assert!(
                    matches!(err.code(), "IO" | "QUOTA_EXCEEDED"),
                    "a write failed with {err}"
                );
                if !failed && !batch.is_empty() {
                    uncertain = Some(next);
                }
                failed = true;
            }
        }
        if !failed {
            for k in [key(a), key(b)] {
                match store.get(&k) {
                    Ok(found) => assert_eq!(found, model.get(&k).cloned(), "get at step {step}"),
                    Err(err) => assert!(faulty && err.code() == "IO", "get failed: {err}"),
                }
            }
        }
    }
    if let Some(store) = db.take() {
        match contents(&store) {
            Some(found) if !failed => assert_eq!(found, model, "at the end"),
            None => assert!(faulty, "the last scan failed without a fault"),
            _ => {}
        }
        drop(store);
        db = Some(reopen(&storage, &mut model, &mut uncertain));
        drop(db);
    }
});
