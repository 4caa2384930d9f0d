//! Damage to a store's files, the way LevelDB's `db/corruption_test.cc` damages them, but
//! exhaustively: every byte of `CURRENT`, the manifest, a log segment and a table is
//! flipped (with several bit patterns), one flip at a time, and the store is opened. For
//! every flip the open either fails with `CORRUPTION` (leaving the files as they were), or
//! succeeds and every read is exact or fails with `CORRUPTION`: never fewer, other or more
//! keys. `PPDB_CORRUPTION_PATTERNS=all` flips every single bit and 0xff (longer).
#![cfg(not(target_arch = "wasm32"))]

use ppdb::options::RecoveryMode;
use ppdb::storage::MemStorage;
use ppdb::{Db, Error, Options, ScanOptions, Storage};
use std::collections::BTreeMap;
use std::sync::Arc;

type Files = BTreeMap<String, Vec<u8>>;
type Model = BTreeMap<Vec<u8>, Vec<u8>>;

fn options(mode: RecoveryMode) -> Options {
    Options::default()
        .memtable_size(2 * 1024)
        .background_work(false)
        .recovery_mode(mode)
}

/// A small store with tables in two levels, a manifest of several edits and a log that
/// holds the latest writes; `clean`: closed, else the files as a crash would leave them
/// (every write here is synced).
fn build_store(clean: bool) -> (Files, Model) {
    let storage = Arc::new(MemStorage::new());
    let db = Db::open(storage.clone(), options(RecoveryMode::Strict)).expect("open");
    let mut model = Model::new();
    for round in 0..3u32 {
        for i in 0..60u32 {
            let key = format!("key{:03}", (i * 7 + round * 13) % 90).into_bytes();
            if (i + round) % 9 == 0 {
                db.delete(&key).expect("delete");
                model.remove(&key);
            } else {
                let value = format!("value {round}.{i}").into_bytes();
                db.put(&key, &value).expect("put");
                model.insert(key, value);
            }
        }
        db.compact().expect("compact");
    }
    // More than a memtable holds: the log keeps a frozen memtable's segment and the
    // active one's (no background work flushes the frozen one).
    for i in 0..24u32 {
        let key = format!("late{i:02}").into_bytes();
        let value = format!("in the log {i:02} {}", "x".repeat(60)).into_bytes();
        db.put(&key, &value).expect("put");
        model.insert(key, value);
    }
    let files = if clean {
        db.close().expect("close");
        storage.files()
    } else {
        let files = storage.files();
        drop(db);
        files
    };
    let tables = files.keys().filter(|n| n.ends_with(".sst")).count();
    assert!(tables >= 2, "the store has tables: {:?}", files.keys());
    (files, model)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Outcome {
    /// Open failed with CORRUPTION.
    Refused,
    /// Opened, and a read failed with CORRUPTION.
    DetectedByRead,
    /// Opened, and every key read back exactly.
    Exact,
}

/// Opens `files` and checks what it reads against `model`.
fn check(files: &Files, model: &Model, mode: RecoveryMode) -> Result<(Outcome, usize), String> {
    let storage = Arc::new(MemStorage::with_files(files.clone()));
    let db = match Db::open(storage.clone(), options(mode)) {
        Ok(db) => db,
        Err(Error::Corruption(_)) => {
            if storage.files() != *files {
                return Err("an open that failed changed the files".into());
            }
            return Ok((Outcome::Refused, 0));
        }
        Err(other) => return Err(format!("open failed with {} ({other})", other.code())),
    };
    let dropped = db.recovery().dropped.len();
    let mut scan = db.scan(ScanOptions::all()).map_err(|e| e.to_string())?;
    let found: Model = scan.by_ref().collect();
    let mut outcome = Outcome::Exact;
    match scan.status() {
        Ok(()) if found != *model => {
            let missing = model.keys().filter(|k| !found.contains_key(*k)).count();
            let extra = found.keys().filter(|k| !model.contains_key(*k)).count();
            let changed = found
                .iter()
                .filter(|(k, v)| model.get(*k).is_some_and(|m| m != *v))
                .count();
            return Err(format!(
                "opened with other data: {missing} keys missing, {extra} extra, {changed} changed \
                 (recovery dropped {dropped})"
            ));
        }
        Ok(()) => {}
        Err(Error::Corruption(_)) => outcome = Outcome::DetectedByRead,
        Err(other) => return Err(format!("the scan failed with {other}")),
    }
    for (key, value) in model {
        match db.get(key) {
            Ok(Some(v)) if v == *value => {}
            Ok(other) => {
                return Err(format!(
                    "get({}) gave {:?}",
                    String::from_utf8_lossy(key),
                    other.map(|v| String::from_utf8_lossy(&v).into_owned())
                ))
            }
            Err(Error::Corruption(_)) => outcome = Outcome::DetectedByRead,
            Err(other) => return Err(format!("get failed with {other}")),
        }
    }
    Ok((outcome, dropped))
}

fn patterns() -> Vec<u8> {
    match std::env::var("PPDB_CORRUPTION_PATTERNS").as_deref() {
        Ok("all") => vec![0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0xff],
        _ => vec![0x01, 0x80, 0xff],
    }
}

/// Flips every byte of `file` with every pattern; returns the outcomes counted.
fn flip_every_byte(files: &Files, model: &Model, file: &str) -> BTreeMap<Outcome, usize> {
    let original = &files[file];
    let mut outcomes = BTreeMap::new();
    let mut failures = Vec::new();
    for at in 0..original.len() {
        for pattern in patterns() {
            let mut damaged = files.clone();
            if let Some(bytes) = damaged.get_mut(file) {
                bytes[at] ^= pattern;
            }
            match check(&damaged, model, RecoveryMode::Strict) {
                Ok((outcome, _)) => *outcomes.entry(outcome).or_insert(0) += 1,
                Err(problem) => {
                    failures.push(format!("{file} byte {at} ^ {pattern:#04x}: {problem}"))
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} flips went wrong, e.g.:\n{}",
        failures.len(),
        original.len() * patterns().len(),
        failures[..failures.len().min(12)].join("\n")
    );
    println!("{file} ({} bytes): {outcomes:?}", original.len());
    outcomes
}

fn the_file(files: &Files, predicate: impl Fn(&str) -> bool) -> String {
    files
        .keys()
        .find(|n| predicate(n))
        .cloned()
        .unwrap_or_else(|| panic!("no such file among {:?}", files.keys()))
}

#[test]
fn the_store_as_built_reads_back_exactly() {
    for clean in [true, false] {
        let (files, model) = build_store(clean);
        assert_eq!(
            check(&files, &model, RecoveryMode::Strict),
            Ok((Outcome::Exact, 0))
        );
    }
}

#[test]
fn every_flip_in_current_is_refused_or_harmless() {
    for clean in [true, false] {
        let (files, model) = build_store(clean);
        let outcomes = flip_every_byte(&files, &model, "CURRENT");
        assert!(outcomes.get(&Outcome::Refused) > Some(&0));
    }
}

#[test]
fn every_flip_in_the_manifest_is_refused_or_harmless() {
    for clean in [true, false] {
        let (files, model) = build_store(clean);
        let manifest = the_file(&files, |n| n.starts_with("MANIFEST-"));
        let outcomes = flip_every_byte(&files, &model, &manifest);
        assert!(outcomes.get(&Outcome::Refused) > Some(&0));
    }
}

#[test]
fn every_flip_in_a_table_is_refused_or_detected_or_harmless() {
    for clean in [true, false] {
        let (files, model) = build_store(clean);
        let table = the_file(&files, |n| n.ends_with(".sst"));
        let outcomes = flip_every_byte(&files, &model, &table);
        assert!(
            outcomes.get(&Outcome::DetectedByRead) > Some(&0),
            "flips in data blocks are found by reads"
        );
    }
}

#[test]
fn every_flip_in_the_log_of_a_cleanly_closed_store_is_refused_or_harmless() {
    let (files, model) = build_store(true);
    let segments: Vec<String> = files
        .keys()
        .filter(|n| n.ends_with(".wal") && !files[*n].is_empty())
        .cloned()
        .collect();
    assert!(
        segments.len() >= 2,
        "an older segment and the newest: {segments:?}"
    );
    for segment in segments {
        let outcomes = flip_every_byte(&files, &model, &segment);
        assert!(outcomes.get(&Outcome::Refused) > Some(&0));
    }
}

#[test]
fn skip_corrupted_opens_a_damaged_log_and_reports_whatever_it_lost() {
    let (files, model) = build_store(true);
    let segment = files
        .keys()
        .rfind(|n| n.ends_with(".wal") && !files[*n].is_empty())
        .cloned()
        .expect("a segment with records");
    let len = files[&segment].len();
    for at in (0..len).step_by(7) {
        let mut damaged = files.clone();
        if let Some(bytes) = damaged.get_mut(&segment) {
            bytes[at] ^= 0x55;
        }
        let storage = Arc::new(MemStorage::with_files(damaged));
        let db = Db::open(storage, options(RecoveryMode::SkipCorrupted))
            .unwrap_or_else(|e| panic!("byte {at}: skip-corrupted refused: {e}"));
        let found: Model = db.scan(ScanOptions::all()).expect("scan").collect();
        if found != model {
            let dropped = &db.recovery().dropped;
            assert!(
                !dropped.is_empty() && dropped.iter().all(|d| !d.torn_tail && d.file == segment),
                "byte {at}: data differs, yet recovery reports {dropped:?}"
            );
        }
    }
}

#[test]
fn a_flipped_byte_in_a_manifest_of_several_edits_never_deletes_tables() {
    // The reported case: the manifest's second record damaged used to read as a torn
    // tail, and the open deleted every table the lost edits listed.
    let (files, model) = build_store(true);
    let manifest = the_file(&files, |n| n.starts_with("MANIFEST-"));
    let tables: Vec<&String> = files.keys().filter(|n| n.ends_with(".sst")).collect();
    for at in 0..files[&manifest].len() {
        let mut damaged = files.clone();
        if let Some(bytes) = damaged.get_mut(&manifest) {
            bytes[at] ^= 1;
        }
        let storage = Arc::new(MemStorage::with_files(damaged));
        match Db::open(storage.clone(), options(RecoveryMode::Strict)) {
            Err(e) => {
                assert_eq!(e.code(), "CORRUPTION", "byte {at}: {e}");
                assert!(
                    e.to_string().contains("MANIFEST-"),
                    "byte {at}: names the file: {e}"
                );
            }
            Ok(db) => {
                let found: Model = db.scan(ScanOptions::all()).expect("scan").collect();
                assert_eq!(found, model, "byte {at}");
            }
        }
        let left = storage.list().expect("list");
        for table in &tables {
            assert!(
                left.contains(table)
                    || Db::open(storage.clone(), options(RecoveryMode::Strict)).is_ok(),
                "byte {at}: {table} was deleted"
            );
        }
    }
}
