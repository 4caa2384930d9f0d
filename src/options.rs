//! Options for opening a store, with their defaults.

/// The hard ceiling for [`Options::max_key_size`].
pub const KEY_SIZE_LIMIT: usize = 64 * 1024;
/// The hard ceiling for [`Options::max_value_size`].
pub const VALUE_SIZE_LIMIT: usize = 256 * 1024 * 1024;
/// The largest encoded write batch accepted.
pub const BATCH_SIZE_LIMIT: usize = 512 * 1024 * 1024;

/// When a write is acknowledged relative to storage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Durability {
    /// A write returns after its log record is synced to storage. Concurrent writers share
    /// one sync (group commit).
    Sync,
    /// A write returns once it is in memory; the log is synced when
    /// [`Options::relaxed_flush_bytes`] accumulate, on a timer, or by `Db::flush`. A crash
    /// loses at most what was written since the last sync, and never half a batch.
    Relaxed,
}

/// What recovery does with damage in the middle of the log (damage at the very end of the
/// log, a torn last write, is always cut off and reported).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecoveryMode {
    /// Refuse to open with [`crate::Error::Corruption`].
    Strict,
    /// Skip the damaged records, open, and report what was dropped.
    SkipCorrupted,
}

/// How a store is opened. Build it with the `#[must_use]` setters:
/// `Options::default().memtable_size(8 << 20)`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Options {
    /// Longest key accepted, in bytes. Default 16 KiB; at most [`KEY_SIZE_LIMIT`].
    pub max_key_size: usize,
    /// Longest value accepted, in bytes. Default 16 MiB; at most [`VALUE_SIZE_LIMIT`].
    pub max_value_size: usize,
    /// Size of the memtable arena's largest chunks, in bytes. Default 1 MiB.
    pub arena_chunk_size: usize,
    /// Memory of the active memtable at which it is frozen and a new one (with a new log
    /// segment) takes the writes. Default 4 MiB.
    pub memtable_size: usize,
    /// Memory all memtables together may use; past it writes fail with `STORE_FULL` (the
    /// store stays readable). Default 256 MiB.
    pub memory_limit: usize,
    /// Default [`Durability::Sync`].
    pub durability: Durability,
    /// With relaxed durability, sync once this many log bytes are unsynced. Default 1 MiB.
    pub relaxed_flush_bytes: usize,
    /// With relaxed durability, sync at least this often, in milliseconds (natively a
    /// background thread; in wasm the JS package's timer). Default 100.
    pub relaxed_flush_interval_ms: u64,
    /// Default [`RecoveryMode::Strict`].
    pub recovery_mode: RecoveryMode,
    /// Bytes of decoded table blocks kept in memory, shared by all tables. Default 8 MiB.
    pub block_cache_size: usize,
    /// Layout of the tables memtables are flushed to.
    pub table: crate::table::TableOptions,
    /// Flush frozen memtables on a background thread (native only; in wasm the package
    /// drives the work). Default true.
    pub background_work: bool,
    /// Also switch memtables when write latency degrades (see [`LatencySwitch`]). Default
    /// off.
    pub latency_switch: Option<LatencySwitch>,
    /// How long, in milliseconds, a write waits for another thread's write (its
    /// publication, the gate, the log sync) before it concludes that thread stopped half
    /// way (a terminated worker) and fails with [`crate::Error::Io`]; writes are then
    /// refused until the store is reopened. Default 2000.
    pub stall_timeout_ms: u64,
}

/// A memtable switch on degraded write latency, besides the size limit: when the moving
/// average of put and batch latency passes `average_micros` and the active memtable holds
/// at least `min_memtable_bytes`, writes move to a fresh memtable (whose smaller skiplist
/// is faster to insert into) and the full one is flushed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LatencySwitch {
    /// The average write latency, in microseconds, that triggers a switch.
    pub average_micros: u64,
    /// The least memtable memory worth switching for.
    pub min_memtable_bytes: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            max_key_size: 16 * 1024,
            max_value_size: 16 * 1024 * 1024,
            arena_chunk_size: 1 << 20,
            memtable_size: 4 << 20,
            memory_limit: 256 << 20,
            durability: Durability::Sync,
            relaxed_flush_bytes: 1 << 20,
            relaxed_flush_interval_ms: 100,
            recovery_mode: RecoveryMode::Strict,
            block_cache_size: 8 << 20,
            table: crate::table::TableOptions::default(),
            background_work: true,
            latency_switch: None,
            stall_timeout_ms: crate::sync::stall::DEFAULT_LIMIT_MS,
        }
    }
}

impl Options {
    /// Switches memtables also when write latency degrades (see [`LatencySwitch`]).
    #[must_use]
    pub fn latency_switch(mut self, rule: Option<LatencySwitch>) -> Options {
        self.latency_switch = rule;
        self
    }

    /// Sets the longest key accepted (default 16 KiB; clamped to [`KEY_SIZE_LIMIT`]).
    #[must_use]
    pub fn max_key_size(mut self, bytes: usize) -> Options {
        self.max_key_size = bytes.min(KEY_SIZE_LIMIT);
        self
    }

    /// Sets the longest value accepted (default 16 MiB; clamped to [`VALUE_SIZE_LIMIT`]).
    #[must_use]
    pub fn max_value_size(mut self, bytes: usize) -> Options {
        self.max_value_size = bytes.min(VALUE_SIZE_LIMIT);
        self
    }

    /// Sets the memtable arena's largest chunk size (default 1 MiB; at least 4 KiB).
    #[must_use]
    pub fn arena_chunk_size(mut self, bytes: usize) -> Options {
        self.arena_chunk_size = bytes.max(4096);
        self
    }

    /// Sets the memtable size that triggers a switch (default 4 MiB; at least 256 bytes).
    #[must_use]
    pub fn memtable_size(mut self, bytes: usize) -> Options {
        self.memtable_size = bytes.max(256);
        self
    }

    /// Sets the memory limit of all memtables (default 256 MiB).
    #[must_use]
    pub fn memory_limit(mut self, bytes: usize) -> Options {
        self.memory_limit = bytes;
        self
    }

    /// Sets the durability (default [`Durability::Sync`]).
    #[must_use]
    pub fn durability(mut self, durability: Durability) -> Options {
        self.durability = durability;
        self
    }

    /// Sets the unsynced bytes that trigger a relaxed sync (default 1 MiB).
    #[must_use]
    pub fn relaxed_flush_bytes(mut self, bytes: usize) -> Options {
        self.relaxed_flush_bytes = bytes;
        self
    }

    /// Sets the relaxed sync interval in milliseconds (default 100; 0 turns the timer off).
    #[must_use]
    pub fn relaxed_flush_interval_ms(mut self, ms: u64) -> Options {
        self.relaxed_flush_interval_ms = ms;
        self
    }

    /// Sets the block cache size (default 8 MiB).
    #[must_use]
    pub fn block_cache_size(mut self, bytes: usize) -> Options {
        self.block_cache_size = bytes;
        self
    }

    /// Sets the table layout (block size, codec, bloom bits).
    #[must_use]
    pub fn table(mut self, table: crate::table::TableOptions) -> Options {
        self.table = table;
        self
    }

    /// Turns the native background flush thread on or off (default on); without it, call
    /// `Db::compact` or rely on writes flushing when memory runs short.
    #[must_use]
    pub fn background_work(mut self, on: bool) -> Options {
        self.background_work = on;
        self
    }

    /// Sets the recovery mode (default [`RecoveryMode::Strict`]).
    #[must_use]
    pub fn recovery_mode(mut self, mode: RecoveryMode) -> Options {
        self.recovery_mode = mode;
        self
    }

    /// Sets [`Options::stall_timeout_ms`] (at least 1).
    #[must_use]
    pub fn stall_timeout_ms(mut self, ms: u64) -> Options {
        self.stall_timeout_ms = ms.max(1);
        self
    }
}
