//! LevelDB's `db_bench` workloads (16-byte keys, 100-byte values, writes not synced) on
//! ppdb and fjall in one run, on `std::fs` in a temporary folder. Prints ops/s medians over
//! rounds and ppdb/fjall ratios, space amplification (files / live data) and ppdb's write
//! amplification; `--json` prints one JSON object instead.
//! Environment: PPDB_BENCH_DB_N (default 1000000), PPDB_BENCH_DB_ROUNDS (default 3).

use ppdb::storage::FsStorage;
use ppdb::{Db, Durability, Options, ScanOptions, WriteBatch};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

const VALUE_LEN: usize = 100;
const WORKLOADS: [&str; 7] = [
    "fillseq",
    "fillrandom",
    "overwrite",
    "readrandom",
    "readseq",
    "readreverse",
    "readrandom after compact",
];

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Key `i` in sequential order (16 bytes).
fn seq_key(i: u64) -> [u8; 16] {
    let mut k = [b'0'; 16];
    k.copy_from_slice(format!("{i:016}").as_bytes());
    k
}

/// A 100-byte value that compresses to about half, as db_bench's: 50 pseudo-random bytes,
/// then 50 bytes repeating them.
fn value_for(i: u64) -> [u8; VALUE_LEN] {
    let mut v = [0u8; VALUE_LEN];
    let mut x = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    for b in v.iter_mut().take(VALUE_LEN / 2) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = x as u8;
    }
    let (head, tail) = v.split_at_mut(VALUE_LEN / 2);
    tail.copy_from_slice(head);
    v
}

/// The `i`-th key of a random permutation of `0..n` (a multiplicative hash, odd multiplier).
fn random_index(i: u64, n: u64) -> u64 {
    (i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 11) % n
}

fn dir_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .map(|e| {
                    if e.path().is_dir() {
                        dir_size(&e.path())
                    } else {
                        e.metadata().map_or(0, |m| m.len())
                    }
                })
                .sum()
        })
        .unwrap_or(0)
}

/// One engine under test.
trait Engine {
    fn put(&self, key: &[u8], value: &[u8]);
    fn get(&self, key: &[u8]) -> bool;
    fn scan(&self, reverse: bool) -> u64;
    fn compact(&self);
    fn write_amplification(&self) -> Option<f64>;
}

struct Ppdb(Db);

impl Engine for Ppdb {
    fn put(&self, key: &[u8], value: &[u8]) {
        let mut batch = WriteBatch::new();
        batch.put(key, value);
        self.0.write(&batch).expect("ppdb write");
    }
    fn get(&self, key: &[u8]) -> bool {
        self.0.get(key).expect("ppdb get").is_some()
    }
    fn scan(&self, reverse: bool) -> u64 {
        let mut it = self
            .0
            .scan(ScanOptions::all().reverse(reverse))
            .expect("ppdb scan");
        let n = it.by_ref().count() as u64;
        it.status().expect("ppdb scan status");
        n
    }
    fn compact(&self) {
        self.0.flush().expect("ppdb flush");
        self.0.compact().expect("ppdb compact");
    }
    fn write_amplification(&self) -> Option<f64> {
        let s = self.0.stats();
        Some((s.flushed_bytes + s.compacted_bytes) as f64 / s.user_bytes.max(1) as f64)
    }
}

struct Fjall(fjall::Database, fjall::Keyspace);

impl Engine for Fjall {
    fn put(&self, key: &[u8], value: &[u8]) {
        self.1.insert(key, value).expect("fjall insert");
    }
    fn get(&self, key: &[u8]) -> bool {
        self.1.get(key).expect("fjall get").is_some()
    }
    fn scan(&self, reverse: bool) -> u64 {
        let mut n = 0;
        if reverse {
            for kv in self.1.iter().rev() {
                kv.into_inner().expect("fjall scan");
                n += 1;
            }
        } else {
            for kv in self.1.iter() {
                kv.into_inner().expect("fjall scan");
                n += 1;
            }
        }
        n
    }
    fn compact(&self) {
        self.0
            .persist(fjall::PersistMode::SyncAll)
            .expect("fjall persist");
        self.1.major_compact().expect("fjall compact");
    }
    fn write_amplification(&self) -> Option<f64> {
        None
    }
}

fn open(name: &str, dir: &Path) -> Box<dyn Engine> {
    match name {
        "ppdb" => {
            let options = Options::default()
                .durability(Durability::Relaxed)
                .memory_limit(512 << 20);
            Box::new(Ppdb(
                Db::open(Arc::new(FsStorage::open(dir).expect("dir")), options).expect("open ppdb"),
            ))
        }
        _ => {
            let db = fjall::Database::builder(dir).open().expect("open fjall");
            let ks = db
                .keyspace("bench", fjall::KeyspaceCreateOptions::default)
                .expect("keyspace");
            Box::new(Fjall(db, ks))
        }
    }
}

fn timed(n: u64, f: impl FnOnce()) -> f64 {
    let start = Instant::now();
    f();
    n as f64 / start.elapsed().as_secs_f64()
}

/// One round of every workload on `engine`; ops/s by workload, plus space amplification.
fn round(
    engine_name: &str,
    root: &Path,
    n: u64,
) -> (BTreeMap<&'static str, f64>, f64, Option<f64>) {
    let mut out = BTreeMap::new();
    let seq_dir = root.join(format!("{engine_name}-seq"));
    {
        let db = open(engine_name, &seq_dir);
        out.insert(
            "fillseq",
            timed(n, || {
                (0..n).for_each(|i| db.put(&seq_key(i), &value_for(i)))
            }),
        );
    }
    let _ = std::fs::remove_dir_all(&seq_dir);
    let dir = root.join(engine_name);
    let db = open(engine_name, &dir);
    out.insert(
        "fillrandom",
        timed(n, || {
            (0..n).for_each(|i| db.put(&seq_key(random_index(i, n)), &value_for(i)))
        }),
    );
    out.insert(
        "overwrite",
        timed(n, || {
            (0..n).for_each(|i| db.put(&seq_key(random_index(i + n, n)), &value_for(i + n)))
        }),
    );
    out.insert(
        "readrandom",
        timed(n, || {
            (0..n).for_each(|i| {
                db.get(&seq_key(random_index(i * 7 + 3, n)));
            })
        }),
    );
    out.insert(
        "readseq",
        timed(n, || {
            db.scan(false);
        }),
    );
    out.insert(
        "readreverse",
        timed(n, || {
            db.scan(true);
        }),
    );
    db.compact();
    out.insert(
        "readrandom after compact",
        timed(n, || {
            (0..n).for_each(|i| {
                db.get(&seq_key(random_index(i * 11 + 5, n)));
            })
        }),
    );
    let live = db.scan(false) * (16 + VALUE_LEN as u64);
    let space = dir_size(&dir) as f64 / live.max(1) as f64;
    let write_amp = db.write_amplification();
    drop(db);
    let _ = std::fs::remove_dir_all(&dir);
    (out, space, write_amp)
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn main() {
    let n = env("PPDB_BENCH_DB_N", 1_000_000);
    let rounds = env("PPDB_BENCH_DB_ROUNDS", 3).max(1);
    let root: PathBuf = std::env::temp_dir().join(format!("ppdb-db-bench-{}", std::process::id()));
    let mut results = BTreeMap::new();
    for engine in ["ppdb", "fjall"] {
        let mut samples: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
        let (mut spaces, mut amps) = (Vec::new(), Vec::new());
        for _ in 0..rounds {
            let (ops, space, amp) = round(engine, &root, n);
            for (k, v) in ops {
                samples.entry(k).or_default().push(v);
            }
            spaces.push(space);
            amps.extend(amp);
        }
        let ops: BTreeMap<&str, f64> = samples.into_iter().map(|(k, v)| (k, median(v))).collect();
        let amp = (!amps.is_empty()).then(|| median(amps));
        results.insert(engine, (ops, median(spaces), amp));
    }
    let _ = std::fs::remove_dir_all(&root);
    let (ppdb, fjall) = (&results["ppdb"], &results["fjall"]);
    if std::env::args().any(|a| a == "--json") {
        let fields: Vec<String> = WORKLOADS
            .iter()
            .map(|w| {
                format!(
                    "\"{w}\":{{\"ppdb\":{:.0},\"fjall\":{:.0}}}",
                    ppdb.0[w], fjall.0[w]
                )
            })
            .collect();
        println!(
            "{{\"n\":{n},\"rounds\":{rounds},\"ops_per_sec\":{{{}}},\"space_amplification\":{{\"ppdb\":{:.3},\"fjall\":{:.3}}},\"write_amplification\":{{\"ppdb\":{:.3}}}}}",
            fields.join(","),
            ppdb.1,
            fjall.1,
            ppdb.2.unwrap_or(0.0)
        );
        return;
    }
    println!(
        "db_bench, {n} entries (16-byte keys, 100-byte values), median of {rounds} rounds, ops/s"
    );
    println!(
        "{:<26} {:>12} {:>12} {:>12}",
        "workload", "ppdb", "fjall", "ppdb/fjall"
    );
    for w in WORKLOADS {
        println!(
            "{w:<26} {:>12.0} {:>12.0} {:>12.2}",
            ppdb.0[w],
            fjall.0[w],
            ppdb.0[w] / fjall.0[w]
        );
    }
    println!(
        "space amplification: ppdb {:.2}, fjall {:.2}",
        ppdb.1, fjall.1
    );
    println!(
        "write amplification (table bytes / user bytes): ppdb {:.2}",
        ppdb.2.unwrap_or(0.0)
    );
}
