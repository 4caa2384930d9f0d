// Types of what a store reports about itself: its recovery, stats, metrics, alert rules and
// alerts, and the engine's log records (re-exported by index.d.ts).

/** A range of the log that recovery dropped (see `RecoveryReport`). */
export interface DroppedRange {
  /** The file: a log segment (`000007.wal`), or the manifest for an edit torn by a crash. */
  file: string;
  offset: number;
  bytes: number;
  reason: string;
  /** true for an unsynced tail cut off after a crash (never acknowledged as durable);
   * false for damage that cost synced writes (only under recovery: 'skip-corrupted'). */
  tornTail: boolean;
}

/** What opening a store found in its log (`db.recovery`). */
export interface RecoveryReport {
  segments: number;
  records: number;
  entries: number;
  bytes: number;
  millis: number;
  lastSequence: number;
  dropped: DroppedRange[];
}

/** What `db.stats()` returns: sizes and counts. */
export interface Stats {
  memtableEntries: number;
  memtableBytes: number;
  dataBytes: number;
  frozenMemtables: number;
  sequence: number;
  unsyncedLogBytes: number;
  tablesPerLevel: number[];
  tableBytesPerLevel: number[];
  cacheHits: number;
  cacheMisses: number;
  cacheBytes: number;
  /** Key and value bytes written by users. */
  userBytes: number;
  /** Table bytes written by flushes and by compactions: (flushed + compacted) / user is the write amplification. */
  flushedBytes: number;
  compactedBytes: number;
  /** Size of the wasm instance's memory. */
  wasmMemoryBytes: number;
  /**
   * A page's OPFS store opened with `threads: true` only: its reads answered on the page in
   * shared memory (`direct`), and those sent to the store's worker (`forwarded`: a block not
   * in the cache, a snapshot, a write still on its way), counted since it opened.
   */
  pageReads?: { direct: number; forwarded: number };
}

/** Latency of one kind of operation, in milliseconds. */
export interface LatencySummary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

/** What `db.metrics()` returns. */
export interface Metrics {
  operations: {
    put: number;
    delete: number;
    batch: number;
    get: number;
    scan: number;
    conditionalWrite: number;
    conflict: number;
    flush: number;
    compaction: number;
    memtableSwitch: number;
  };
  /** Key and value bytes written by users and returned by reads and scans. */
  bytes: { written: number; read: number };
  /**
   * In the engine, call to acknowledgement. On OPFS and IndexedDB the JS-side group commit
   * that makes `sync` writes durable is timed as `walSync`, not as part of `put`.
   */
  latency: {
    /** One get in 8 is timed (the 1st, 9th, ...): `count` is the gets timed. */
    get: LatencySummary;
    /** A write of one operation (put, del, a batch of one); one in 8 is timed, as gets are. */
    put: LatencySummary;
    batch: LatencySummary;
    walWrite: LatencySummary;
    walSync: LatencySummary;
    flush: LatencySummary;
    compaction: LatencySummary;
  };
  /** Bytes: the wasm instance's memory, memtables, block cache, and the memtable limit. */
  memory: { wasm: number; memtables: number; cache: number; limit: number };
  cache: { hits: number; misses: number; hitRate: number };
  /** Stored / raw bytes of the table blocks written. */
  compressionRatio: number;
  wal: { bytes: number; unsyncedBytes: number };
  levels: { tables: number; bytes: number }[];
  /** Table bytes written per user byte. */
  writeAmplification: number;
  /** Table bytes per byte of the deepest level. */
  spaceAmplification: number;
  /** Log ranges recovery dropped when the store opened. */
  recoveryDropped: number;
}

/**
 * A rule over the metrics: `metric` is `<op>.p50|p90|p99|max` (ms; op one of get, put,
 * batch, walWrite, walSync, flush, compaction; or wal_write, wal_sync as in Prometheus), `cacheHitRate`, `memoryUse` (memtables /
 * limit), `recoveryDropped`, `walUnsyncedBytes`, `writeAmplification` or
 * `spaceAmplification`; it fires when the value goes above `above` (or below `below`).
 * Latency metrics are those of the operations since the previous check.
 */
export type AlertRule = { metric: string; name?: string } & ({ above: number; below?: never } | { below: number; above?: never });

/** The detail of an 'alert' event. */
export interface Alert {
  rule: string;
  value: number;
  threshold: number;
  /** Milliseconds since the epoch. */
  time: number;
}

/** One log record of the engine. */
export interface LogEntry {
  level: 'error' | 'warn' | 'info' | 'debug' | 'trace';
  module: string;
  message: string;
  fields: Record<string, string>;
  time: number;
}
