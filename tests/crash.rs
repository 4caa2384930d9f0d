//! Crash tests on the fault-injecting storage: random puts, deletes, batches, log syncs,
//! memtable switches, flushes to tables and reopens, a crash at a random operation (unsynced bytes lost or
//! torn, sometimes garbage), then recovery. After each crash the store must open, hold every
//! write acknowledged under `sync` (under `relaxed`, every write up to the last flush), hold
//! no half batch and nothing that was never written.
//!
//! `PPDB_CRASH_SEEDS` sets how many seeds run (default 1000, each one or more crashes);
//! `PPDB_CRASH_SEED` the first seed (default: from the clock, printed).

use ppdb::storage::{Faults, FaultyStorage, MemStorage};
use ppdb::{Db, Durability, Options, ScanOptions, Storage, WriteBatch};
use std::collections::BTreeMap;
use std::sync::Arc;

type Model = BTreeMap<Vec<u8>, Vec<u8>>;

/// Recoveries that found tables (so crashes around flushes really are exercised).
static WITH_TABLES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
/// Sessions that ran a compaction before crashing.
static WITH_COMPACTIONS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
/// Operations of one batch: a value to put, or `None` to delete.
type Ops = Vec<(Vec<u8>, Option<Vec<u8>>)>;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn contents(db: &Db) -> Model {
    db.scan(ScanOptions::all()).expect("scan").collect()
}

fn apply(model: &mut Model, ops: &Ops) {
    for (k, v) in ops {
        match v {
            Some(v) => model.insert(k.clone(), v.clone()),
            None => model.remove(k),
        };
    }
}

fn random_ops(rng: &mut Rng, tag: &str) -> Ops {
    let count = if rng.below(5) == 0 {
        2 + rng.below(5)
    } else {
        1
    };
    (0..count)
        .map(|i| {
            let key = format!("key{:03}", rng.below(60)).into_bytes();
            if rng.below(5) == 0 {
                (key, None)
            } else {
                let len = if rng.below(20) == 0 {
                    2000 + rng.below(3000)
                } else {
                    rng.below(40)
                };
                let mut value = format!("{tag}-{i}:").into_bytes();
                value.resize(value.len() + len as usize, b'x');
                (key, Some(value))
            }
        })
        .collect()
}

/// Runs one seed: several sessions, each ended by a crash or a clean reopen.
fn run_seed(seed: u64) -> Result<u32, String> {
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let storage = Arc::new(FaultyStorage::new(Arc::new(MemStorage::new()), seed));
    let relaxed = rng.below(4) == 0;
    let options = Options::default()
        .memtable_size(4096 + rng.below(8192) as usize)
        .arena_chunk_size(4096)
        .durability(if relaxed {
            Durability::Relaxed
        } else {
            Durability::Sync
        })
        .relaxed_flush_bytes(256 + rng.below(4096) as usize)
        .relaxed_flush_interval_ms(0)
        // Flushes run as steps of the test, so a crash can hit them anywhere and a crashed
        // instance leaves no thread behind (as a dead process would not).
        .background_work(false);
    // States after each acknowledged write; every state from `durable` on may survive.
    let mut history: Vec<Model> = vec![Model::new()];
    let mut durable = 0usize;
    let mut crashes = 0;
    for session in 0..3 {
        storage.set_faults(Faults {
            fail_at: Some(1 + rng.below(250)),
            torn_writes: true,
            garbage_tails: rng.below(2) == 0,
            ..Faults::default()
        });
        let mut pending: Option<Ops> = None;
        if let Ok(db) = Db::open(storage.clone(), options.clone()) {
            for step in 0..400 {
                let choice = rng.below(100);
                if choice < 4 {
                    if db.flush().is_err() {
                        break;
                    }
                    durable = history.len() - 1;
                    continue;
                }
                if choice < 10 {
                    // Flush or compact, whole or in a small step that leaves the job
                    // half done (crash points inside flushes and compactions).
                    let budget = if rng.below(3) == 0 { 2048 } else { usize::MAX };
                    if db.maintain_step(budget).is_err() {
                        break;
                    }
                    continue;
                }
                let ops = random_ops(&mut rng, &format!("s{seed}-{session}-{step}"));
                let mut batch = WriteBatch::new();
                for (k, v) in &ops {
                    match v {
                        Some(v) => batch.put(k, v),
                        None => batch.delete(k),
                    };
                }
                match db.write(&batch) {
                    Ok(_) => {
                        let mut next = history.last().cloned().unwrap_or_default();
                        apply(&mut next, &ops);
                        history.push(next);
                        if !relaxed {
                            durable = history.len() - 1;
                        }
                    }
                    Err(_) => {
                        pending = Some(ops);
                        break;
                    }
                }
            }
            if db.stats().compacted_bytes > 0 {
                WITH_COMPACTIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            // The crash: unsynced bytes are lost or torn, and the old handle dies with it.
            storage.crash().map_err(|e| format!("crash: {e}"))?;
            drop(db);
        } else {
            storage.crash().map_err(|e| format!("crash: {e}"))?;
        }
        crashes += 1;
        storage.restart();

        let db = Db::open(storage.clone(), options.clone())
            .map_err(|e| format!("session {session}: reopening after the crash failed: {e}"))?;
        if db.stats().tables_per_level.iter().sum::<usize>() > 0 {
            WITH_TABLES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        if let Some(d) = db.recovery().dropped.iter().find(|d| !d.torn_tail) {
            return Err(format!(
                "session {session}: corruption reported after a crash: {d:?}"
            ));
        }
        let found = contents(&db);
        let mut candidates: Vec<Model> = history[durable..].to_vec();
        if let Some(ops) = &pending {
            let mut with_pending = history.last().cloned().unwrap_or_default();
            apply(&mut with_pending, ops);
            candidates.push(with_pending);
        }
        let Some(position) = candidates.iter().position(|c| *c == found) else {
            let want = &history[durable];
            let missing: Vec<_> = want
                .iter()
                .filter(|(k, v)| found.get(*k) != Some(v))
                .map(|(k, _)| String::from_utf8_lossy(k).to_string())
                .take(5)
                .collect();
            return Err(format!(
                "session {session}: recovered state matches no acknowledged prefix \
                 ({} keys found, {} expected at the last durable write; differing keys {missing:?}; report {:?})",
                found.len(),
                want.len(),
                db.recovery()
            ));
        };
        // Whatever survived is the new truth.
        let survived = candidates.swap_remove(position);
        history = vec![survived];
        durable = 0;
        drop(db);
    }
    Ok(crashes)
}

#[test]
fn every_acknowledged_write_survives_random_crashes() {
    let seeds: u64 = std::env::var("PPDB_CRASH_SEEDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let first: u64 = std::env::var("PPDB_CRASH_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_secs())
        });
    println!("crash test: seeds {first}..{} (PPDB_CRASH_SEED={first} PPDB_CRASH_SEEDS={seeds} to repeat)", first + seeds);
    let mut crashes = 0;
    for seed in first..first + seeds {
        match run_seed(seed) {
            Ok(n) => crashes += n,
            Err(message) => panic!("seed {seed} failed (rerun with PPDB_CRASH_SEED={seed} PPDB_CRASH_SEEDS=1): {message}"),
        }
    }
    let with_tables = WITH_TABLES.load(std::sync::atomic::Ordering::Relaxed);
    let with_compactions = WITH_COMPACTIONS.load(std::sync::atomic::Ordering::Relaxed);
    println!(
        "crash test: {crashes} crashes recovered, {with_tables} with tables, \
         {with_compactions} sessions compacted before crashing"
    );
    assert!(
        with_compactions * 20 > u64::from(crashes),
        "too few sessions compacted: {with_compactions}"
    );
    assert!(crashes >= 1000 || seeds < 334);
    assert!(
        with_tables * 5 > u64::from(crashes),
        "too few recoveries involved tables: {with_tables}"
    );
}

#[test]
fn a_flipped_byte_in_the_middle_of_the_log_is_corruption() {
    let storage = Arc::new(FaultyStorage::new(Arc::new(MemStorage::new()), 7));
    {
        let db = Db::open(storage.clone(), Options::default()).expect("open");
        for i in 0..200u32 {
            db.put(format!("k{i:04}").as_bytes(), &[b'v'; 300])
                .expect("put");
        }
    }
    let segment = storage
        .list()
        .expect("list")
        .into_iter()
        .find(|n| n.ends_with(".wal"))
        .expect("a segment");
    storage.flip_byte(&segment, 1000).expect("flip");
    let err = Db::open(storage.clone(), Options::default()).expect_err("strict recovery refuses");
    assert_eq!(err.code(), "CORRUPTION");

    let db = Db::open(
        storage.clone(),
        Options::default().recovery_mode(ppdb::RecoveryMode::SkipCorrupted),
    )
    .expect("tolerant recovery opens");
    let dropped = &db.recovery().dropped;
    assert!(
        dropped.iter().any(|d| !d.torn_tail),
        "the skipped damage is reported: {dropped:?}"
    );
    let found = contents(&db);
    assert!(
        found.len() < 200 && found.len() > 100,
        "records after the damaged block survive: {}",
        found.len()
    );
    for (k, v) in &found {
        assert!(
            k.starts_with(b"k") && v == &vec![b'v'; 300],
            "damaged data must never be returned"
        );
    }
}
