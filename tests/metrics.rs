//! Metrics agree with the operations performed; alerts fire on their rules; the latency
//! rule switches memtables.
#![cfg(not(target_arch = "wasm32"))]

use ppdb::metrics::monitor::{Monitor, Rule};
use ppdb::metrics::prometheus;
use ppdb::options::LatencySwitch;
use ppdb::storage::MemStorage;
use ppdb::{Db, Options, ScanOptions, WriteBatch};
use std::sync::Arc;

fn op(report: &ppdb::metrics::Report, name: &str) -> u64 {
    report
        .ops
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| *v)
        .expect("op")
}

#[test]
fn counters_and_latencies_match_the_operations_performed() {
    let storage = Arc::new(MemStorage::new());
    let options = Options::default()
        .memtable_size(32 * 1024)
        .background_work(false);
    let db = Db::open(storage, options).expect("open");
    for i in 0..1_000u32 {
        db.put(format!("k{i:04}").as_bytes(), &[7u8; 50])
            .expect("put");
    }
    for i in 0..100u32 {
        db.delete(format!("k{i:04}").as_bytes()).expect("delete");
    }
    let mut batch = WriteBatch::new();
    batch.put(b"b1", b"x").put(b"b2", b"y").delete(b"k0500");
    db.write(&batch).expect("batch");
    for i in 0..300u32 {
        db.get(format!("k{i:04}").as_bytes()).expect("get");
    }
    let scanned: usize = db
        .scan(ScanOptions::prefix(b"k"))
        .expect("scan")
        .map(|(k, v)| k.len() + v.len())
        .sum();
    db.compact().expect("compact");
    let report = db.metrics();
    assert_eq!(op(&report, "put"), 1_002);
    assert_eq!(op(&report, "delete"), 101);
    assert_eq!(op(&report, "batch"), 1_101);
    assert_eq!(op(&report, "get"), 300);
    assert_eq!(op(&report, "scan"), 1);
    assert!(op(&report, "flush") > 0 && op(&report, "memtable_switch") > 0);
    // One single-operation write in SAMPLE is timed (the 1st, 9th, ... of the 1,100 puts
    // and deletes); a batch of several operations always.
    let sample = ppdb::metrics::SAMPLE;
    assert_eq!(report.latency_of("put").count, 1_100_u64.div_ceil(sample));
    assert_eq!(report.latency_of("batch").count, 1);
    // One get in SAMPLE is timed: the 1st, 9th, ... of the 300.
    let timed = 300_u64.div_ceil(sample);
    assert_eq!(report.latency_of("get").count, timed);
    assert_eq!(report.latency_of("flush").count, op(&report, "flush"));
    assert!(report.latency_of("wal_sync").count > 0);
    let put = report.latency_of("put");
    assert!(put.p50 <= put.p90 && put.p90 <= put.p99 && put.p99 <= put.max);
    // Keys 100..300 were read back: 200 hits of 5 + 50 bytes; plus the scan.
    assert_eq!(report.bytes_read, 200 * 55 + scanned as u64);
    assert_eq!(report.bytes_written, 1_000 * 55 + 100 * 5 + 3 + 3 + 5);
    assert!(report.wal_bytes > report.bytes_written);
    assert!(
        report.compression_ratio > 0.0 && report.compression_ratio < 1.0,
        "{report:?}"
    );
    assert!(report.write_amplification > 0.0);
    assert!(report.levels.iter().map(|(n, _)| n).sum::<usize>() > 0);

    let text = prometheus::render(&report, Some(1 << 20));
    assert!(
        text.contains("ppdb_operations_total{op=\"put\"} 1002\n"),
        "{text}"
    );
    assert!(text.contains(&format!(
        "ppdb_latency_seconds_count{{op=\"get\"}} {timed}\n"
    )));
    assert!(text.contains("ppdb_memory_bytes{part=\"wasm\"} 1048576\n"));
}

#[test]
fn alerts_fire_when_a_rule_becomes_true() {
    let db = Db::open_in_memory(Options::default());
    let mut monitor = Monitor::new(vec![
        Rule::new(Some("slow puts".into()), "put.p99", true, 0.0).expect("rule"),
        Rule::new(None, "cacheHitRate", false, 0.5).expect("rule"),
    ]);
    assert!(db.check_alerts(&mut monitor).is_empty(), "nothing yet");
    db.put(b"k", b"v").expect("put");
    // Every latency is at least 1 µs, so the p99 of one put is above 0 ms.
    let alerts = db.check_alerts(&mut monitor);
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0].rule, "slow puts");
    assert!(alerts[0].value > 0.0);
    assert!(db.check_alerts(&mut monitor).is_empty(), "fires once");
}

#[test]
fn slow_writes_switch_memtables_before_they_are_full() {
    let run = |switch: Option<LatencySwitch>| {
        let db = Db::open(
            Arc::new(MemStorage::new()),
            Options::default()
                .background_work(false)
                .latency_switch(switch),
        )
        .expect("open");
        for i in 0..2_000u32 {
            db.put(format!("k{i:05}").as_bytes(), &[1u8; 100])
                .expect("put");
        }
        db.metrics()
    };
    let plain = run(None);
    assert_eq!(op(&plain, "memtable_switch"), 0, "4 MiB is far from full");
    // A threshold every write exceeds: switches as soon as the memtable holds 64 KiB.
    let switching = run(Some(LatencySwitch {
        average_micros: 0,
        min_memtable_bytes: 64 * 1024,
    }));
    let switches = op(&switching, "memtable_switch");
    assert!((2..=8).contains(&switches), "{switches} switches");
}
