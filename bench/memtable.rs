//! Native memtable benchmark: put (1 and 2 writers), get and full scan of N entries with
//! 16-byte keys and 100-byte values. `npm run bench` runs it beside the wasm benchmark and
//! prints the ratios; alone: `cargo bench --bench memtable`. Prints one JSON object with
//! `--json`. Environment: PPDB_BENCH_N (default 1000000), PPDB_BENCH_RUNS (default 5).

use ppdb::bench::{self, KEY_LEN, VALUE_LEN};
use ppdb::memtable::Memtable;
use std::sync::Arc;
use std::time::Instant;

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn timed(f: impl FnOnce()) -> f64 {
    let start = Instant::now();
    f();
    start.elapsed().as_secs_f64()
}

fn main() {
    let n = env("PPDB_BENCH_N", 1_000_000);
    let runs = env("PPDB_BENCH_RUNS", 5).max(1);
    let (mut put1, mut put2, mut get, mut scan, mut bytes) = (vec![], vec![], vec![], vec![], 0.0);
    for _ in 0..runs {
        let mem = Arc::new(Memtable::new(1 << 20));
        put1.push(timed(|| bench::fill(&mem, 0, n)));
        get.push(timed(|| assert_eq!(bench::get(&mem, n), n)));
        scan.push(timed(|| assert_eq!(bench::scan(&mem), n)));
        bytes = mem.memory_usage() as f64 / n as f64;

        let mem = Arc::new(Memtable::new(1 << 20));
        let half = n / 2;
        put2.push(timed(|| {
            std::thread::scope(|s| {
                s.spawn(|| bench::fill(&mem, 0, half));
                s.spawn(|| bench::fill(&mem, half, n));
            })
        }));
        assert_eq!(mem.len() as u64, n);
    }
    let ops = |secs: Vec<f64>| n as f64 / median(secs);
    let result = [
        ("put_1_writer", ops(put1)),
        ("put_2_writers", ops(put2)),
        ("get", ops(get)),
        ("scan", ops(scan)),
    ];
    let raw = (KEY_LEN + VALUE_LEN) as f64;
    if std::env::args().any(|a| a == "--json") {
        let fields: Vec<String> = result
            .iter()
            .map(|(name, v)| format!("\"{name}\":{v:.0}"))
            .collect();
        println!(
            "{{\"n\":{n},\"runs\":{runs},\"ops_per_sec\":{{{}}},\"bytes_per_entry\":{bytes:.1}}}",
            fields.join(",")
        );
    } else {
        println!(
            "memtable, {n} entries, {KEY_LEN}-byte keys, {VALUE_LEN}-byte values, median of {runs}"
        );
        for (name, v) in result {
            println!("  {name:<14} {:>12.0} ops/s", v);
        }
        println!(
            "  memory         {bytes:>12.1} bytes/entry ({:.2}x raw)",
            bytes / raw
        );
    }
}
