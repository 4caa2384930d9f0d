//! Native recovery speed: write N records (16-byte keys, 100-byte values) to a store on
//! `std::fs`, then time `Db::open` replaying them. Prints JSON with `--json`.
//! Environment: PPDB_BENCH_RECOVERY_N (default 1000000), PPDB_BENCH_RUNS (default 5).

use ppdb::storage::FsStorage;
use ppdb::{Db, Durability, Options, WriteBatch};
use std::sync::Arc;

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let n = env("PPDB_BENCH_RECOVERY_N", 1_000_000);
    let runs = env("PPDB_BENCH_RUNS", 5).max(1);
    let dir = std::env::temp_dir().join(format!("ppdb-bench-recovery-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    // One memtable and no flushes: everything stays in the log, which is what recovery replays.
    let options = Options::default()
        .durability(Durability::Relaxed)
        .memtable_size(768 << 20)
        .memory_limit(1 << 30)
        .background_work(false);
    {
        let storage = FsStorage::open(&dir).expect("storage");
        let db = Db::open(Arc::new(storage), options.clone()).expect("open");
        let value = [0x5au8; ppdb::bench::VALUE_LEN];
        for i in 0..n {
            let mut batch = WriteBatch::new();
            batch.put(&ppdb::bench::key(i), &value);
            db.write(&batch).expect("write");
        }
        db.close().expect("close");
    }
    let mut rates = Vec::new();
    let mut bytes = 0;
    for _ in 0..runs {
        let db = Db::open(
            Arc::new(FsStorage::open(&dir).expect("storage")),
            options.clone(),
        )
        .expect("reopen");
        let report = db.recovery();
        assert_eq!(report.records, n, "every record replayed");
        rates.push(report.records as f64 / (report.millis / 1000.0));
        bytes = report.bytes;
        db.close().expect("close");
    }
    rates.sort_by(f64::total_cmp);
    let median = rates[rates.len() / 2];
    let _ = std::fs::remove_dir_all(&dir);
    if std::env::args().any(|a| a == "--json") {
        println!(
            "{{\"n\":{n},\"runs\":{runs},\"records_per_sec\":{median:.0},\"log_bytes\":{bytes}}}"
        );
    } else {
        println!("native recovery: {n} records ({bytes} log bytes), median {median:.0} records/s");
    }
}
