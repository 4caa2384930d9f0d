//! A [`Report`] in the Prometheus text exposition format (version 0.0.4): counters end in
//! `_total`, latencies are summaries in seconds (quantiles 0.5, 0.9, 0.99 and 1 for the
//! maximum, with `_sum` and `_count`), everything else is a gauge.

use super::Report;
use std::fmt::Write;

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn sample(out: &mut String, name: &str, labels: &[(&str, &str)], value: f64) {
    out.push_str(name);
    if !labels.is_empty() {
        out.push('{');
        for (i, (k, v)) in labels.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            // Label values here are fixed identifiers and numbers: nothing to escape.
            let _ = write!(out, "{k}=\"{v}\"");
        }
        out.push('}');
    }
    let _ = writeln!(out, " {value}");
}

fn gauge(out: &mut String, name: &str, help: &str, value: f64) {
    family(out, name, "gauge", help);
    sample(out, name, &[], value);
}

/// The text of `report`; `wasm_memory` (bytes) is known to the JS side only.
pub fn render(report: &Report, wasm_memory: Option<u64>) -> String {
    let mut out = String::with_capacity(4096);
    family(
        &mut out,
        "ppdb_operations_total",
        "counter",
        "Operations by kind.",
    );
    for (op, n) in &report.ops {
        sample(&mut out, "ppdb_operations_total", &[("op", op)], *n as f64);
    }
    family(
        &mut out,
        "ppdb_bytes_written_total",
        "counter",
        "Key and value bytes written by users.",
    );
    sample(
        &mut out,
        "ppdb_bytes_written_total",
        &[],
        report.bytes_written as f64,
    );
    family(
        &mut out,
        "ppdb_bytes_read_total",
        "counter",
        "Key and value bytes returned by reads and scans.",
    );
    sample(
        &mut out,
        "ppdb_bytes_read_total",
        &[],
        report.bytes_read as f64,
    );
    family(
        &mut out,
        "ppdb_latency_seconds",
        "summary",
        "Latency by operation; quantile 1 is the maximum.",
    );
    for (op, s) in &report.latency {
        let secs = |micros: u64| micros as f64 / 1e6;
        for (q, v) in [
            ("0.5", s.p50),
            ("0.9", s.p90),
            ("0.99", s.p99),
            ("1", s.max),
        ] {
            sample(
                &mut out,
                "ppdb_latency_seconds",
                &[("op", op), ("quantile", q)],
                secs(v),
            );
        }
        sample(
            &mut out,
            "ppdb_latency_seconds_sum",
            &[("op", op)],
            secs(s.sum),
        );
        sample(
            &mut out,
            "ppdb_latency_seconds_count",
            &[("op", op)],
            s.count as f64,
        );
    }
    family(
        &mut out,
        "ppdb_memory_bytes",
        "gauge",
        "Memory in use by part.",
    );
    sample(
        &mut out,
        "ppdb_memory_bytes",
        &[("part", "memtables")],
        report.memtable_bytes as f64,
    );
    sample(
        &mut out,
        "ppdb_memory_bytes",
        &[("part", "cache")],
        report.cache_bytes as f64,
    );
    if let Some(bytes) = wasm_memory {
        sample(
            &mut out,
            "ppdb_memory_bytes",
            &[("part", "wasm")],
            bytes as f64,
        );
    }
    gauge(
        &mut out,
        "ppdb_memory_limit_bytes",
        "The memory limit of memtables.",
        report.memory_limit as f64,
    );
    family(
        &mut out,
        "ppdb_cache_lookups_total",
        "counter",
        "Block cache lookups by result.",
    );
    sample(
        &mut out,
        "ppdb_cache_lookups_total",
        &[("result", "hit")],
        report.cache_hits as f64,
    );
    sample(
        &mut out,
        "ppdb_cache_lookups_total",
        &[("result", "miss")],
        report.cache_misses as f64,
    );
    gauge(
        &mut out,
        "ppdb_cache_hit_ratio",
        "Block cache hits per lookup.",
        report.cache_hit_rate(),
    );
    gauge(
        &mut out,
        "ppdb_compression_ratio",
        "Stored bytes per raw byte of the table blocks written.",
        report.compression_ratio,
    );
    family(
        &mut out,
        "ppdb_wal_bytes_total",
        "counter",
        "Log bytes appended to storage.",
    );
    sample(
        &mut out,
        "ppdb_wal_bytes_total",
        &[],
        report.wal_bytes as f64,
    );
    gauge(
        &mut out,
        "ppdb_wal_unsynced_bytes",
        "Log bytes not yet synced.",
        report.wal_unsynced_bytes as f64,
    );
    family(&mut out, "ppdb_level_tables", "gauge", "Tables per level.");
    for (level, (tables, _)) in report.levels.iter().enumerate() {
        sample(
            &mut out,
            "ppdb_level_tables",
            &[("level", &level.to_string())],
            *tables as f64,
        );
    }
    family(
        &mut out,
        "ppdb_level_bytes",
        "gauge",
        "Table bytes per level.",
    );
    for (level, (_, bytes)) in report.levels.iter().enumerate() {
        sample(
            &mut out,
            "ppdb_level_bytes",
            &[("level", &level.to_string())],
            *bytes as f64,
        );
    }
    gauge(
        &mut out,
        "ppdb_write_amplification",
        "Table bytes written per user byte.",
        report.write_amplification,
    );
    gauge(
        &mut out,
        "ppdb_space_amplification",
        "Table bytes per byte of the deepest level.",
        report.space_amplification,
    );
    gauge(
        &mut out,
        "ppdb_recovery_dropped_ranges",
        "Damaged or torn log ranges recovery dropped when the store opened.",
        report.recovery_dropped as f64,
    );
    out
}
