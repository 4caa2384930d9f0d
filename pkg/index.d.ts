// Types of the ppdb package. See the README for the behaviour of each call.

/** Keys and values are strings (stored as UTF-8) or bytes. */
export type Data = string | Uint8Array;
/** How keys or values come back: 'utf8' as strings (the default), 'bytes' as Uint8Array. */
export type Encoding = 'utf8' | 'bytes';
/** How keys come back. */
export type KeyEncoding = Encoding;
/**
 * How values are stored and come back: 'utf8', 'bytes', or 'json' (structured values,
 * stored as JSON text through serde-wasm-bindgen: objects, arrays, strings, numbers,
 * booleans, null; a BigInt within 64 bits becomes a number; functions and symbols are
 * refused with INVALID_ARGUMENT).
 */
export type ValueEncoding = Encoding | 'json';
/**
 * Where a store lives. 'auto' picks fs in Node/Deno/Bun; OPFS in a dedicated worker, and on
 * a page where OPFS exists (`navigator.storage.getDirectory`), through a worker the package
 * starts (see `Db`); IndexedDB elsewhere in a browser; memory where nothing persists.
 */
export type StorageKind = 'auto' | 'memory' | 'fs' | 'opfs' | 'indexeddb';

export interface OpenOptions {
  /**
   * Default 'auto'. 'opfs' works in dedicated workers and on pages: a page's OPFS store
   * runs in a dedicated module worker the package starts and owns (OPFS sync access
   * handles exist only in workers), and `open()` resolves to a proxy `Db` whose every
   * call is answered from that worker. Options then cross to the worker by structured
   * cloning. 'indexeddb' keeps a page's store on the page itself.
   */
  storage?: StorageKind;
  /** fs: the store's folder (default `./<name>`). */
  path?: string;
  /** 'sync' (default): writes resolve once durable. 'relaxed': once in memory; synced on a timer and by flush(). */
  durability?: 'sync' | 'relaxed';
  /** Relaxed durability: sync at least this often, in milliseconds (default 100; 0 turns the timer off). */
  relaxedFlushInterval?: number;
  /** Relaxed durability: sync once this many log bytes are pending (default 1 MiB). */
  relaxedFlushBytes?: number;
  /** 'strict' (default): damage in the middle of the log fails open with CORRUPTION; 'skip-corrupted' skips and reports it. */
  recovery?: 'strict' | 'skip-corrupted';
  /**
   * false forces the single-threaded build; true requires the threaded one. Left out: the
   * threaded build where shared memory exists, except for a browser's OPFS and IndexedDB
   * stores, which run faster in the single one (they cannot be shared yet).
   */
  threads?: boolean;
  /**
   * A browser's OPFS and IndexedDB stores are shared by every tab and worker of the origin
   * that opens them (one owns the files, the others forward to it). true opens the files
   * in this context only: LOCKED if the store is open anywhere else.
   */
  exclusive?: boolean;
  /** Milliseconds to wait for another context to release the store's files before LOCKED (default 0). */
  lockTimeout?: number;
  /**
   * Browser stores: ask the browser to keep the origin's storage under storage pressure
   * (`navigator.storage.persist()`, from a page); `db.persisted` tells the answer.
   */
  persist?: boolean;
  /**
   * Threaded build on Node fs: run flushes and compactions on a worker of their own
   * (default true). With false, or in the single-threaded build, the package runs them on
   * this thread in bounded steps of a few milliseconds between other tasks.
   */
  backgroundWorker?: boolean;
  /** Alert rules, checked every `alertInterval` ms (see `Db.setAlerts`). */
  alerts?: AlertRule[];
  /** How often alert rules are checked, in milliseconds (default 1000). */
  alertInterval?: number;
  /**
   * Also switch memtables when write latency degrades: once the moving average of put and
   * batch latency passes `averageMicros` and the active memtable holds at least
   * `minMemtableBytes`, writes go to a fresh memtable and the full one is flushed.
   */
  latencySwitch?: { averageMicros: number; minMemtableBytes: number };
  /**
   * How long (ms, default 2000) a write waits for another thread's write (its publication,
   * the write gate, the log sync) before it concludes that thread stopped half way (a
   * terminated worker) and fails with IO; writes are then refused until the store is reopened.
   */
  stallTimeout?: number;
  /**
   * The single-threaded build precompiled (`pkg/wasm/single/ppdb_bg.wasm`, exported as
   * `ppdb/wasm/single.wasm`), for runtimes that cannot compile wasm from bytes at run time,
   * such as Cloudflare workerd (bind it as a wasm module). Implies the single build; used
   * the first time that build loads in this context.
   */
  wasmModule?: WebAssembly.Module;
  keyEncoding?: KeyEncoding;
  valueEncoding?: ValueEncoding;
  /** Longest key, in bytes (default 16 KiB). */
  maxKeySize?: number;
  /** Longest value, in bytes (default 16 MiB). */
  maxValueSize?: number;
  /** Memtable size that triggers a switch and a flush to a table (default 4 MiB). */
  memtableSize?: number;
  /** Memory all memtables may use; past it writes flush to tables first, and fail with STORE_FULL only if they cannot (default 256 MiB). */
  memoryLimit?: number;
  /** Bytes of table blocks cached in memory, filled as blocks are read (default 32 MiB). */
  blockCacheSize?: number;
}

/** A range of keys (bytewise order). */
export interface RangeOptions {
  gt?: Data;
  gte?: Data;
  lt?: Data;
  lte?: Data;
  prefix?: Data;
  reverse?: boolean;
  /** Entries at most; -1 or Infinity for no limit. */
  limit?: number;
}

export interface IteratorOptions extends RangeOptions {
  keyEncoding?: KeyEncoding;
  valueEncoding?: ValueEncoding;
  /** Read at this point in time (from `db.snapshot()`). */
  snapshot?: Snapshot;
}

export interface ReadOptions {
  valueEncoding?: ValueEncoding;
  /** Read at this point in time (from `db.snapshot()`). */
  snapshot?: Snapshot;
}

export interface WriteOptions {
  valueEncoding?: ValueEncoding;
}

/** A condition of a batch: `key` must still be at `version` (from getWithVersion; null: absent). */
export interface Check {
  key: Data;
  version: string | null;
}

export interface BatchOptions extends WriteOptions {
  /** Write only if every check holds; otherwise reject with CONFLICT and write nothing. */
  checks?: Check[];
}

export type BatchOperation =
  | { type: 'put'; key: Data; value: unknown; valueEncoding?: ValueEncoding }
  | { type: 'del'; key: Data };

/** A value with the version of the write that set it. */
export interface Versioned<V = any> {
  value: V;
  /** Changes with every write of the key; compare-and-set with a batch's `checks`. */
  version: string;
}

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

export interface RecoveryReport {
  segments: number;
  records: number;
  entries: number;
  bytes: number;
  millis: number;
  lastSequence: number;
  dropped: DroppedRange[];
}

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

/** A value to post to a Worker, where attach() opens the same store. */
export interface ShareToken {
  readonly ppdb: 1;
}

export interface DbIterator<T = [any, any]> extends AsyncIterableIterator<T> {
  /** Everything left, as an array; closes the iterator. */
  all(): Promise<T[]>;
  /** Ends the iteration early (a `break` in `for await` does it too). */
  close(): void;
}

/** What `db.watch()` watches: a range of keys (no `reverse`), decoded as asked. */
export interface WatchOptions extends Omit<RangeOptions, 'reverse' | 'limit'> {
  /** Changes to deliver, then the watch ends. */
  limit?: number;
  keyEncoding?: KeyEncoding;
  valueEncoding?: ValueEncoding;
  /**
   * Start after this sequence number (a change's `sequence`) instead of now: the store
   * lists the changes since then while its memtables hold them, else reports a gap.
   */
  after?: number;
}

/**
 * One committed change. `sequence` numbers the store's writes in commit order (the
 * operations of a batch have consecutive ones). A 'gap' says changes up to `sequence` may
 * be missing (the store could no longer list them, or the reader fell far behind): read
 * what you show again.
 */
export type Change<K = any, V = any> =
  | { type: 'put'; key: K; value: V; sequence: number }
  | { type: 'del'; key: K; sequence: number }
  | { type: 'gap'; sequence: number };

/** The changes of `db.watch()`, as they commit; `break` or `close()` ends it. */
export interface Watch<K = any, V = any> extends AsyncIterableIterator<Change<K, V>> {
  /** Every change until it ends (with a `limit`), as an array. */
  all(): Promise<Change<K, V>[]>;
  /** Stops watching. */
  close(): void;
}

/** The store at one point in time (from `db.snapshot()`); release it with `close()`. */
export interface Snapshot {
  readonly closed: boolean;
  get(key: Data, options?: Omit<ReadOptions, 'snapshot'>): Promise<any | undefined>;
  getMany(keys: Data[], options?: Omit<ReadOptions, 'snapshot'>): Promise<(any | undefined)[]>;
  iterator(options?: Omit<IteratorOptions, 'snapshot'>): DbIterator<[any, any]>;
  keys(options?: Omit<IteratorOptions, 'snapshot'>): DbIterator<any>;
  values(options?: Omit<IteratorOptions, 'snapshot'>): DbIterator<any>;
  close(): void;
}

/** Operations collected one call at a time, written atomically by `write()`. */
export interface ChainedBatch {
  readonly length: number;
  put(key: Data, value: unknown, options?: WriteOptions): this;
  del(key: Data): this;
  /** Write only if `key` is still at `version` (null: absent). */
  check(key: Data, version: string | null): this;
  /** Drops the operations and checks added so far. */
  clear(): this;
  write(options?: WriteOptions): Promise<void>;
  /** Discards the batch. */
  close(): void;
}

/**
 * An open store. On a page, an OPFS store's Db is a proxy for the Db of a worker the
 * package starts: the same methods and getters, each call sent to the worker and answered
 * through a promise, so the page never blocks. Calls made in the same task go to the
 * worker as one message, and replies come back batched the same way. Uint8Array keys,
 * values and bounds are copied and the copies transferred (the caller's buffers are never
 * detached); Uint8Array results arrive transferred; other values cross by structured
 * cloning (one that cannot be cloned, such as a function, rejects with INVALID_ARGUMENT).
 * Iterators and snapshots stay in the worker: an iterator pulls pages of entries, and
 * `break` or `close()` releases it there. `share()` throws UNSUPPORTED. `close()` closes
 * the store and then terminates the worker; if the worker dies, pending and later calls
 * reject with INTERNAL.
 */
export interface Db extends EventTarget {
  /**
   * Where flushes and compactions run: 'worker' (a worker of their own: threaded build on
   * Node fs), 'steps' (bounded steps of a few milliseconds on this thread, between other
   * tasks), or 'none' (memory stores, attached handles).
   */
  readonly maintenance: 'worker' | 'steps' | 'none';
  readonly flavour: 'threaded' | 'single';
  readonly name: string;
  readonly storage: Exclude<StorageKind, 'auto'>;
  /**
   * 'owner' if this context holds the store's files; 'client' if it forwards to the tab or
   * worker that does (a shared browser store). An 'ownerchange' event reports a switch.
   */
  readonly role: 'owner' | 'client';
  /**
   * True if the data stays under storage pressure: Node files; a browser store when the
   * origin's storage is persisted (`persist: true` asks). False for memory stores.
   */
  readonly persisted: boolean;
  readonly closed: boolean;
  /** What opening found in the log (undefined for memory stores and attached handles). */
  readonly recovery: RecoveryReport | undefined;
  put(key: Data, value: unknown, options?: WriteOptions): Promise<void>;
  get(key: Data, options?: ReadOptions): Promise<any | undefined>;
  /** The values of `keys` (undefined for absent ones), read at one point in time. */
  getMany(keys: Data[], options?: ReadOptions): Promise<(any | undefined)[]>;
  /** The value and its version, for compare-and-set; undefined when absent. */
  getWithVersion(key: Data, options?: Omit<ReadOptions, 'snapshot'>): Promise<Versioned | undefined>;
  del(key: Data): Promise<void>;
  /** Applies every operation atomically (all or none); with `checks`, only if they hold. */
  batch(operations: BatchOperation[], options?: BatchOptions): Promise<void>;
  /** A chained batch: `db.batch().put(k, v).del(k).write()`. */
  batch(): ChainedBatch;
  /** `[key, value]` entries in key order. */
  iterator(options?: IteratorOptions): DbIterator<[any, any]>;
  /** Keys in key order. */
  keys(options?: IteratorOptions): DbIterator<any>;
  /** Values in key order. */
  values(options?: IteratorOptions): DbIterator<any>;
  /** Deletes every key in the range (all keys without options); resolves with how many. */
  clear(options?: RangeOptions): Promise<number>;
  /** A point-in-time view; reads through it ignore later writes. */
  snapshot(): Snapshot;
  /**
   * The changes committed from now on, in commit order, made in any tab or worker of a
   * shared store: `for await (const change of db.watch({ prefix: 'todo:' }))`.
   */
  watch(options?: WatchOptions): Watch;
  /** Makes every write so far durable. */
  flush(): Promise<void>;
  /** Writes every frozen memtable to tables. */
  compact(): Promise<void>;
  stats(): Promise<Stats>;
  /** Counters, latency percentiles (ms) and gauges. */
  metrics(): Promise<Metrics>;
  /** The metrics in the Prometheus text exposition format. */
  metricsText(): Promise<string>;
  /**
   * Replaces the alert rules; a rule that becomes true dispatches an 'alert' event
   * (`event.detail`: Alert). A promise on a page's OPFS store (its engine is in a worker).
   */
  setAlerts(rules: AlertRule[], options?: { interval?: number }): void | Promise<void>;
  /** Checks the rules now; returns (and dispatches) the alerts raised (a promise through the page proxy). */
  checkAlerts(): Alert[] | Promise<Alert[]>;
  /**
   * Threaded build, memory or fs stores: a token for attach() in a Worker. UNSUPPORTED on
   * OPFS and IndexedDB stores (including a page's OPFS store, which lives in its own worker).
   */
  share(): ShareToken;
  close(): Promise<void>;
}

/** Every rejection of the package. */
export class PpdbError extends Error {
  readonly name: 'PpdbError';
  /** 'INVALID_ARGUMENT' | 'CLOSED' | 'UNSUPPORTED' | 'LOCKED' | 'STORE_FULL' | 'QUOTA_EXCEEDED' | 'IO' | 'CORRUPTION' | 'NOT_FOUND' | 'CONFLICT' | 'OWNER_CHANGED' | 'INTERNAL' */
  readonly code: string;
  /** The error behind it, when there is one: the OS or browser storage error, the caller's throwing getter. */
  readonly cause?: unknown;
}

export function open(name: string, options?: OpenOptions): Promise<Db>;
export function destroy(name: string, options?: Pick<OpenOptions, 'storage' | 'path'>): Promise<void>;
export function attach(token: ShareToken): Promise<Db>;
/**
 * Routes the engine's log to `onLog` (or the console) from `level` up; quiet ('off') by
 * default. Applies to every engine of this context (page, worker, Node thread).
 */
export function setLogger(options?: { level?: 'off' | 'error' | 'warn' | 'info' | 'debug' | 'trace'; onLog?: (entry: LogEntry) => void }): Promise<void>;

/** How far an NDJSON export or import got. */
export interface NdjsonProgress {
  /** Records written (export: lines after the header; import: records put). */
  records: number;
  /** UTF-8 bytes of NDJSON produced (export) or read (import). */
  bytes: number;
}

export interface ExportNdjsonOptions extends Pick<IteratorOptions, 'gt' | 'gte' | 'lt' | 'lte' | 'prefix' | 'reverse' | 'limit'> {
  /** Called every few thousand records and once at the end. */
  onProgress?: (progress: NdjsonProgress) => void;
}

export interface ImportNdjsonOptions {
  /** Called every few thousand records and once at the end. */
  onProgress?: (progress: NdjsonProgress) => void;
}

/** A web ReadableStream (`response.body`, `file.stream()`), typed structurally. */
export interface NdjsonReadableStream {
  getReader(): { read(): Promise<{ done: boolean; value?: string | Uint8Array }>; releaseLock(): void };
}

/**
 * The records of `db` as NDJSON lines (each a string ending in "\n"), in key order, from
 * one snapshot: a header line `{"ppdb":"export","version":1}`, then one record per line,
 * `{"key":"text","value":"text"}` where the bytes are UTF-8, `"keyBase64"` /
 * `"valueBase64"` (per field) where they are not. See docs/format.md.
 */
export function exportNdjson(db: Db, options?: ExportNdjsonOptions): AsyncIterableIterator<string>;

/**
 * Puts the records of an NDJSON export (or record lines without the header) into `db`,
 * in batches of about 1,000 records or 1 MiB. `source`: an async or sync iterable of
 * string or Uint8Array chunks (Node streams too), a web ReadableStream, or one string or
 * Uint8Array; lines may be split anywhere between chunks. A malformed line rejects with
 * `PpdbError` `INVALID_ARGUMENT` naming its line number, after every record before it
 * has been written.
 */
export function importNdjson(
  db: Db,
  source: AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array> | NdjsonReadableStream | string | Uint8Array,
  options?: ImportNdjsonOptions,
): Promise<NdjsonProgress>;
