//! What a store tells about itself: operation counters, bytes in and out, latency
//! histograms (`histogram.rs`), and, assembled on demand by [`crate::Db::metrics`], gauges
//! of memory, cache, compression, log and levels. Recording is a few relaxed atomic adds:
//! cheap enough to stay on. `prometheus.rs` renders a report in the Prometheus text
//! format; `monitor.rs` raises alerts from rules over reports.

mod histogram;
pub mod monitor;
pub mod prometheus;

pub use histogram::{Counts, Histogram, Summary};

use crate::sync::atomic::{AtomicU64, Ordering};

/// Counted operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// Puts (each put of a batch counts).
    Put,
    /// Deletes (each delete of a batch counts).
    Delete,
    /// Batches written (`write`, `write_if`; single puts and deletes too).
    Batch,
    /// Point reads.
    Get,
    /// Scans opened.
    Scan,
    /// Conditional writes attempted.
    ConditionalWrite,
    /// Conditional writes refused with a conflict.
    Conflict,
    /// Memtables written to tables.
    Flush,
    /// Compactions run.
    Compaction,
    /// Memtable switches.
    Switch,
}

impl Op {
    /// Every operation, in report order.
    pub const ALL: [Op; 10] = [
        Op::Put,
        Op::Delete,
        Op::Batch,
        Op::Get,
        Op::Scan,
        Op::ConditionalWrite,
        Op::Conflict,
        Op::Flush,
        Op::Compaction,
        Op::Switch,
    ];

    /// Its name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Op::Put => "put",
            Op::Delete => "delete",
            Op::Batch => "batch",
            Op::Get => "get",
            Op::Scan => "scan",
            Op::ConditionalWrite => "conditional_write",
            Op::Conflict => "conflict",
            Op::Flush => "flush",
            Op::Compaction => "compaction",
            Op::Switch => "memtable_switch",
        }
    }
}

/// Timed operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timed {
    /// `get`, from call to value.
    Get,
    /// A single put or delete, from call to acknowledgement (durable under `sync`).
    Put,
    /// A batch of several operations, likewise.
    Batch,
    /// Appending log bytes to storage.
    WalWrite,
    /// Syncing the log (with the JS-side commits of OPFS and IndexedDB).
    WalSync,
    /// A memtable flush, busy time from start to the table being recorded.
    Flush,
    /// A compaction, busy time likewise.
    Compaction,
}

impl Timed {
    /// Every timed operation, in report order.
    pub const ALL: [Timed; 7] = [
        Timed::Get,
        Timed::Put,
        Timed::Batch,
        Timed::WalWrite,
        Timed::WalSync,
        Timed::Flush,
        Timed::Compaction,
    ];

    /// Its name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Timed::Get => "get",
            Timed::Put => "put",
            Timed::Batch => "batch",
            Timed::WalWrite => "wal_write",
            Timed::WalSync => "wal_sync",
            Timed::Flush => "flush",
            Timed::Compaction => "compaction",
        }
    }
}

/// The live counters and histograms of one store.
#[derive(Default)]
pub struct Metrics {
    ops: [AtomicU64; Op::ALL.len()],
    latency: [Histogram; Timed::ALL.len()],
    bytes_read: AtomicU64,
    wal_bytes: AtomicU64,
    /// Table block bytes before and after compression.
    table_raw_bytes: AtomicU64,
    table_stored_bytes: AtomicU64,
    /// Moving average of the timed puts' and batches' latency (µs, as f64 bits), for the
    /// latency switch.
    write_latency_ewma: AtomicU64,
}

/// One get, and one single-operation write (a put, a delete, a batch of one), in this many
/// is timed: a timing is two clock reads, which in a browser cost a tenth of a get and of a
/// put. Every operation is counted, and every batch of several operations is timed.
pub const SAMPLE: u64 = 8;

impl Metrics {
    /// True if the next get is one to time (one in [`SAMPLE`], the first among them).
    pub fn times_next_get(&self) -> bool {
        self.ops(Op::Get).is_multiple_of(SAMPLE)
    }

    /// True if the next write, of `operations` operations, is one to time: a batch of
    /// several always; a single put or delete one in [`SAMPLE`] writes (the first among them).
    pub fn times_next_write(&self, operations: usize) -> bool {
        operations > 1 || self.ops(Op::Batch).is_multiple_of(SAMPLE)
    }

    /// Counts `n` operations of a kind.
    pub fn count(&self, op: Op, n: u64) {
        self.ops[op as usize].fetch_add(n, Ordering::Relaxed);
    }

    /// Records a latency in microseconds.
    pub fn record(&self, timed: Timed, micros: u64) {
        self.latency[timed as usize].record(micros);
        if matches!(timed, Timed::Put | Timed::Batch) {
            // EWMA with weight 1/16; a lost update under contention only delays it.
            let old = f64::from_bits(self.write_latency_ewma.load(Ordering::Relaxed));
            let new = if old == 0.0 {
                micros as f64
            } else {
                old + (micros as f64 - old) / 16.0
            };
            self.write_latency_ewma
                .store(new.to_bits(), Ordering::Relaxed);
        }
    }

    /// Counts bytes returned to readers.
    pub fn read_bytes(&self, n: u64) {
        self.bytes_read.fetch_add(n, Ordering::Relaxed);
    }

    /// Counts bytes appended to the log.
    pub fn wal_bytes(&self, n: u64) {
        self.wal_bytes.fetch_add(n, Ordering::Relaxed);
    }

    /// Counts table block bytes before and after compression.
    pub fn table_bytes(&self, raw: u64, stored: u64) {
        self.table_raw_bytes.fetch_add(raw, Ordering::Relaxed);
        self.table_stored_bytes.fetch_add(stored, Ordering::Relaxed);
    }

    /// Starts the moving average of write latency afresh (after a memtable switch).
    pub fn reset_write_latency_average(&self) {
        self.write_latency_ewma.store(0, Ordering::Relaxed);
    }

    /// The moving average of write latency, in microseconds (0 before any write).
    pub fn write_latency_average(&self) -> f64 {
        f64::from_bits(self.write_latency_ewma.load(Ordering::Relaxed))
    }

    /// Operations of a kind so far.
    pub fn ops(&self, op: Op) -> u64 {
        self.ops[op as usize].load(Ordering::Relaxed)
    }

    /// The summary of a timed operation.
    pub fn latency(&self, timed: Timed) -> Summary {
        self.latency[timed as usize].summary()
    }

    /// The bucket counts of a timed operation now (for windows, see [`Counts::since`]).
    pub fn latency_counts(&self, timed: Timed) -> Counts {
        self.latency[timed as usize].counts()
    }

    /// Bytes returned to readers so far.
    pub fn bytes_read(&self) -> u64 {
        self.bytes_read.load(Ordering::Relaxed)
    }

    /// Log bytes appended so far.
    pub fn wal_bytes_written(&self) -> u64 {
        self.wal_bytes.load(Ordering::Relaxed)
    }

    /// Stored / raw bytes of the table blocks written (1.0 before any).
    pub fn compression_ratio(&self) -> f64 {
        let raw = self.table_raw_bytes.load(Ordering::Relaxed);
        let stored = self.table_stored_bytes.load(Ordering::Relaxed);
        if raw == 0 {
            1.0
        } else {
            stored as f64 / raw as f64
        }
    }
}

/// A timer for one operation: microseconds since it started.
pub struct Stopwatch(f64);

impl Stopwatch {
    /// Starts now.
    pub fn start() -> Stopwatch {
        Stopwatch(crate::clock::now_micros())
    }

    /// Microseconds since the start, rounded up (so anything measured takes at least 1).
    pub fn micros(&self) -> u64 {
        (crate::clock::now_micros() - self.0)
            .max(0.0)
            .ceil()
            .max(1.0) as u64
    }
}

/// Everything a store reports at one moment (see [`crate::Db::metrics`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    /// Operations by kind.
    pub ops: Vec<(&'static str, u64)>,
    /// Latency summaries by timed operation (microseconds).
    pub latency: Vec<(&'static str, Summary)>,
    /// Key and value bytes written by users.
    pub bytes_written: u64,
    /// Key and value bytes returned by reads and scans.
    pub bytes_read: u64,
    /// Bytes held by memtables.
    pub memtable_bytes: u64,
    /// Bytes held by the block cache.
    pub cache_bytes: u64,
    /// Block cache hits and misses.
    pub cache_hits: u64,
    /// Block cache misses.
    pub cache_misses: u64,
    /// Stored / raw bytes of table blocks written.
    pub compression_ratio: f64,
    /// Log bytes appended.
    pub wal_bytes: u64,
    /// Log bytes not yet synced.
    pub wal_unsynced_bytes: u64,
    /// Tables and their bytes, per level.
    pub levels: Vec<(usize, u64)>,
    /// Table bytes written per user byte.
    pub write_amplification: f64,
    /// Table bytes per byte of the deepest level (1.0 with no tables).
    pub space_amplification: f64,
    /// The memory limit of memtables.
    pub memory_limit: u64,
    /// Damaged or torn ranges of the log recovery dropped when the store opened.
    pub recovery_dropped: u64,
}

impl Report {
    /// A report of a store that has done nothing.
    pub fn empty() -> Report {
        Report {
            ops: Op::ALL.iter().map(|op| (op.name(), 0)).collect(),
            latency: Timed::ALL
                .iter()
                .map(|t| (t.name(), Summary::default()))
                .collect(),
            bytes_written: 0,
            bytes_read: 0,
            memtable_bytes: 0,
            cache_bytes: 0,
            cache_hits: 0,
            cache_misses: 0,
            compression_ratio: 1.0,
            wal_bytes: 0,
            wal_unsynced_bytes: 0,
            levels: Vec::new(),
            write_amplification: 0.0,
            space_amplification: 1.0,
            memory_limit: 0,
            recovery_dropped: 0,
        }
    }

    /// Hits / lookups of the block cache (1.0 before any lookup).
    pub fn cache_hit_rate(&self) -> f64 {
        let lookups = self.cache_hits + self.cache_misses;
        if lookups == 0 {
            1.0
        } else {
            self.cache_hits as f64 / lookups as f64
        }
    }

    /// The summary of a timed operation by name.
    pub fn latency_of(&self, name: &str) -> Summary {
        self.latency
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, s)| *s)
            .unwrap_or_default()
    }
}
