//! Property test: random puts, deletes, batches, snapshots and scans (with seeks) on a
//! `Db`, checked against a `BTreeMap` model after every step. Keys include the empty key.
#![cfg(not(target_arch = "wasm32"))]

use ppdb::storage::MemStorage;
use ppdb::{Db, Options, ScanOptions, Snapshot, WriteBatch};
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::Arc;

type Model = BTreeMap<Vec<u8>, Vec<u8>>;

#[derive(Clone, Debug)]
enum Op {
    Put(Vec<u8>, Vec<u8>),
    Delete(Vec<u8>),
    Batch(Vec<(Vec<u8>, Option<Vec<u8>>)>),
    TakeSnapshot,
    /// Flush every frozen memtable to tables.
    Compact,
    /// One small bounded step of flush or compaction (leaves jobs half done).
    MaintainStep(usize),
    /// Close and open the store again (on storage).
    Reopen,
    Scan {
        lower: Bound<Vec<u8>>,
        upper: Bound<Vec<u8>>,
        prefix: Option<Vec<u8>>,
        reverse: bool,
        limit: Option<usize>,
        on_snapshot: bool,
        /// After this many entries, `seek(target)`, then read the rest.
        seek: Option<(usize, Vec<u8>)>,
    },
}

/// Keys from a small alphabet so operations collide, including prefixes of each other
/// and the empty key.
fn key() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(prop::sample::select(vec![0u8, 1, b'a', b'b', 0xff]), 0..4)
}

fn value() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..20)
}

fn bound() -> impl Strategy<Value = Bound<Vec<u8>>> {
    prop_oneof![
        Just(Bound::Unbounded),
        key().prop_map(Bound::Included),
        key().prop_map(Bound::Excluded),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (key(), value()).prop_map(|(k, v)| Op::Put(k, v)),
        2 => key().prop_map(Op::Delete),
        2 => prop::collection::vec((key(), prop::option::of(value())), 0..6).prop_map(Op::Batch),
        1 => Just(Op::TakeSnapshot),
        1 => Just(Op::Compact),
        2 => (16usize..400).prop_map(Op::MaintainStep),
        1 => Just(Op::Reopen),
        3 => (
            bound(),
            bound(),
            prop::option::of(prop::collection::vec(prop::sample::select(vec![0u8, b'a', 0xff]), 0..2)),
            any::<bool>(),
            prop::option::of(0usize..5),
            any::<bool>(),
            prop::option::of((0usize..4, key())),
        )
            .prop_map(|(lower, upper, prefix, reverse, limit, on_snapshot, seek)| Op::Scan {
                lower,
                upper,
                prefix,
                reverse,
                limit,
                on_snapshot,
                seek,
            }),
    ]
}

fn in_bounds(key: &[u8], lower: &Bound<Vec<u8>>, upper: &Bound<Vec<u8>>) -> bool {
    let above = match lower {
        Bound::Unbounded => true,
        Bound::Included(l) => key >= l.as_slice(),
        Bound::Excluded(l) => key > l.as_slice(),
    };
    let below = match upper {
        Bound::Unbounded => true,
        Bound::Included(u) => key <= u.as_slice(),
        Bound::Excluded(u) => key < u.as_slice(),
    };
    above && below
}

fn check_reads(db_get: impl Fn(&[u8]) -> Option<Vec<u8>>, model: &Model) {
    for k in model.keys() {
        assert_eq!(db_get(k).as_ref(), model.get(k), "get({k:?})");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn the_store_matches_a_btreemap_model(ops in prop::collection::vec(op(), 1..60), on_storage in any::<bool>()) {
        // On storage, memtables are tiny so flushes to tables and reopens happen often.
        let storage = Arc::new(MemStorage::new());
        let options = Options::default().memtable_size(512).arena_chunk_size(4096).background_work(false);
        let open = || if on_storage {
            Db::open(storage.clone(), options.clone()).expect("open")
        } else {
            Db::open_in_memory(Options::default())
        };
        let mut db = open();
        let mut model = Model::new();
        let mut snapshot: Option<(Snapshot, Model)> = None;
        let mut deleted = Vec::new();
        for op in ops {
            match op {
                Op::Put(k, v) => {
                    db.put(&k, &v).expect("put");
                    model.insert(k, v);
                }
                Op::Delete(k) => {
                    db.delete(&k).expect("delete");
                    model.remove(&k);
                    deleted.push(k);
                }
                Op::Batch(entries) => {
                    let mut batch = WriteBatch::new();
                    for (k, v) in &entries {
                        match v {
                            Some(v) => { batch.put(k, v); model.insert(k.clone(), v.clone()); }
                            None => { batch.delete(k); model.remove(k); deleted.push(k.clone()); }
                        }
                    }
                    db.write(&batch).expect("batch");
                }
                Op::TakeSnapshot => snapshot = Some((db.snapshot(), model.clone())),
                Op::Compact => db.compact().expect("compact"),
                Op::MaintainStep(budget) => {
                    db.maintain_step(budget).expect("maintain step");
                }
                Op::Reopen => {
                    if on_storage {
                        snapshot = None;
                        drop(db);
                        db = open();
                    }
                }
                Op::Scan { lower, upper, prefix, reverse, limit, on_snapshot, seek } => {
                    let mut opts = ScanOptions::all().lower(lower.clone()).upper(upper.clone()).reverse(reverse);
                    if let Some(p) = &prefix { opts = opts.with_prefix(p); }
                    if let Some(l) = limit { opts = opts.limit(l); }
                    let (mut iter, source): (_, &Model) = match (&snapshot, on_snapshot) {
                        (Some((snap, snap_model)), true) => (snap.scan(opts).expect("scan"), snap_model),
                        _ => (db.scan(opts).expect("scan"), &model),
                    };
                    let range: Vec<_> = source
                        .iter()
                        .filter(|(k, _)| in_bounds(k, &lower, &upper))
                        .filter(|(k, _)| prefix.as_ref().is_none_or(|p| k.starts_with(p)))
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect();
                    let ordered = |mut entries: Vec<(Vec<u8>, Vec<u8>)>| {
                        if reverse { entries.reverse(); }
                        entries
                    };
                    let (got, mut want) = match &seek {
                        None => (iter.by_ref().collect::<Vec<_>>(), ordered(range)),
                        Some((before, target)) => {
                            let mut got: Vec<_> = iter.by_ref().take(*before).collect();
                            let mut want: Vec<_> = ordered(range.clone()).into_iter().take(*before).collect();
                            want.truncate(got.len());
                            iter.seek(target);
                            got.extend(iter.by_ref());
                            // A target outside the range (or the prefix) ends the scan.
                            let inside = in_bounds(target, &lower, &upper)
                                && prefix.as_ref().is_none_or(|p| target.starts_with(p));
                            if inside {
                                let from = |k: &Vec<u8>| if reverse { k <= target } else { k >= target };
                                want.extend(ordered(range.into_iter().filter(|(k, _)| from(k)).collect()));
                            }
                            (got, want)
                        }
                    };
                    if let Some(l) = limit { want.truncate(l); }
                    prop_assert_eq!(got, want);
                }
            }
            check_reads(|k| db.get(k).expect("get"), &model);
            for k in &deleted {
                prop_assert_eq!(db.get(k).expect("get"), model.get(k).cloned());
            }
            if let Some((snap, snap_model)) = &snapshot {
                check_reads(|k| snap.get(k).expect("get"), snap_model);
            }
        }
    }
}

#[test]
fn the_model_runs_reach_tables() {
    // A store on storage with 512-byte memtables flushes after a few writes.
    let storage = Arc::new(MemStorage::new());
    let options = Options::default()
        .memtable_size(512)
        .arena_chunk_size(4096)
        .background_work(false);
    let db = Db::open(storage, options).expect("open");
    for i in 0..50u8 {
        db.put(&[i], &[i; 20]).expect("put");
    }
    db.compact().expect("compact");
    let stats = db.stats();
    assert!(stats.flushed_bytes > 0 && stats.tables_per_level.iter().sum::<usize>() > 0);
    assert_eq!(db.scan(ScanOptions::all()).expect("scan").count(), 50);
}

#[test]
fn invalid_keys_and_values_are_rejected_and_nothing_is_written() {
    let db = Db::open_in_memory(Options::default().max_key_size(4).max_value_size(8));
    assert_eq!(
        db.put(b"12345", b"v").expect_err("long key").code(),
        "INVALID_ARGUMENT"
    );
    assert_eq!(
        db.put(b"k", &[0; 9]).expect_err("long value").code(),
        "INVALID_ARGUMENT"
    );
    assert_eq!(
        db.get(b"12345").expect_err("long key").code(),
        "INVALID_ARGUMENT"
    );
    let mut batch = WriteBatch::new();
    batch.put(b"ok", b"fine").put(b"12345", b"bad");
    assert!(db.write(&batch).is_err());
    assert_eq!(
        db.get(b"ok").expect("get"),
        None,
        "half a batch was applied"
    );
    assert_eq!(db.stats().sequence, 0);
}
