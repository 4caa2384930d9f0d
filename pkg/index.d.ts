// Types of the ppdb package. See the README for the behaviour of each call.
//
// A store is a `Db<K, V>`: its keys read back as `K` and its values as `V`, as its
// `keyEncoding` and `valueEncoding` say (`open()` works both out from its options). Every
// read can ask for another encoding (`db.get(key, { valueEncoding: 'bytes' })`), and its
// result is then typed by that encoding instead.

import type { Data, KeyEncoding, Encoding, ValueEncoding, KeyTypes, ValueTypes, InputTypes, JsonValue, TypedArray, StructuredValue, ValueInput, KeyAs, ValueAs } from './encodings.js';
import type { DroppedRange, RecoveryReport, Stats, LatencySummary, Metrics, AlertRule, Alert, LogEntry } from './reports.js';

export * from './encodings.js';
export * from './reports.js';
export * from './errors.js';

/**
 * Where a store lives. 'auto' picks fs in Node/Deno/Bun; OPFS in a dedicated worker, and on
 * a page where OPFS exists (`navigator.storage.getDirectory`), through a worker the package
 * starts (see `Db`); IndexedDB where the browser refuses OPFS (private browsing in Firefox
 * and Safari) or its workers cannot make OPFS sync access handles (WebKitGTK), and elsewhere
 * in a browser; memory where nothing persists. `db.storage` tells which.
 */
export type StorageKind = 'auto' | 'memory' | 'fs' | 'opfs' | 'indexeddb';

/** The options of `open()` but the encodings (`OpenOptions` has them). */
export interface StoreOptions {
  /**
   * Default 'auto'. 'opfs' works in dedicated workers and on pages: a page's OPFS store
   * runs in a dedicated module worker the package starts and owns (OPFS sync access
   * handles exist only in workers), and `open()` resolves to a proxy `Db` whose every
   * call is answered from that worker. Options then cross to the worker by structured
   * cloning. 'indexeddb' keeps a page's store on the page itself. 'opfs' where the browser
   * refuses OPFS or cannot make sync access handles rejects with `UNSUPPORTED`.
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
   * stores, which run faster in the single one (true for an OPFS store a worker shares
   * with other workers: `share()`).
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
   * `open()` waits for it at most 250 ms (Firefox asks the user, whose answer may take
   * long or never come); the question stays asked.
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

/** Everything `open()` takes. `open()` types the store from the two encodings. */
export interface OpenOptions extends StoreOptions {
  /** How keys read back: 'utf8' (strings, the default) or 'bytes' (Uint8Array). */
  keyEncoding?: KeyEncoding;
  /** How values are stored and read back (default 'utf8'); see `ValueEncoding`. */
  valueEncoding?: ValueEncoding;
}

/**
 * A range of keys, in bytewise order (UTF-8 bytes for strings). Bounds are strings or
 * bytes whatever the key encoding. As in Level, `gte` wins over `gt` and `lte` over `lt`
 * when both are given.
 */
export interface RangeOptions {
  /** Keys after this one. */
  gt?: Data;
  /** Keys from this one on (wins over `gt`). */
  gte?: Data;
  /** Keys before this one. */
  lt?: Data;
  /** Keys up to this one (wins over `lt`). */
  lte?: Data;
  /** Keys that start with these bytes (with the bounds, if any). */
  prefix?: Data;
  /** Largest key first. */
  reverse?: boolean;
  /** Entries at most; -1 or Infinity for no limit. */
  limit?: number;
}

/**
 * A snapshot of the store a call reads, whatever the types of its reads: it must come
 * from that store's `snapshot()` (another's is INVALID_ARGUMENT).
 */
export type AnySnapshot = Snapshot<unknown, unknown>;

/** The options of a single read: a `valueEncoding` of its own. */
export interface GetOptions<VE extends ValueEncoding | undefined = ValueEncoding> {
  /** Decode the value(s) this way for this call only. */
  valueEncoding?: VE;
}

/** The options of `db.get()` and `db.getMany()`. */
export interface ReadOptions<VE extends ValueEncoding | undefined = ValueEncoding> extends GetOptions<VE> {
  /** Read at this point in time (from `db.snapshot()`). */
  snapshot?: AnySnapshot;
}

/** The options of `db.has()`, `db.hasMany()`. */
export interface HasOptions {
  /** Look at this point in time (from `db.snapshot()`). */
  snapshot?: AnySnapshot;
}

/** A range and the encodings of its keys and values (the options of a snapshot's iterators). */
export interface ScanOptions<KE extends KeyEncoding | undefined = KeyEncoding, VE extends ValueEncoding | undefined = ValueEncoding>
  extends RangeOptions {
  /** Decode keys this way for this iterator only. */
  keyEncoding?: KE;
  /** Decode values this way for this iterator only. */
  valueEncoding?: VE;
}

/** The options of `db.iterator()`, `db.keys()`, `db.values()`. */
export interface IteratorOptions<KE extends KeyEncoding | undefined = KeyEncoding, VE extends ValueEncoding | undefined = ValueEncoding>
  extends ScanOptions<KE, VE> {
  /** Read at this point in time (from `db.snapshot()`). */
  snapshot?: AnySnapshot;
}

/** The options of `db.clear()`: the keys to delete. */
export interface ClearOptions extends RangeOptions {
  /** Delete the keys of the range that this snapshot sees (keys written since, that it does not see, stay). */
  snapshot?: AnySnapshot;
}

/** The options of a write: the `valueEncoding` its value is encoded with. */
export interface WriteOptions<VE extends ValueEncoding | undefined = ValueEncoding> {
  /** Encode the value(s) this way for this call only. */
  valueEncoding?: VE;
}

/** A condition of a batch: `key` must still be at `version` (from getWithVersion; null: absent). */
export interface Check {
  key: Data;
  version: string | null;
}

/** The options of `db.batch(operations)`. */
export interface BatchOptions<VE extends ValueEncoding | undefined = ValueEncoding> extends WriteOptions<VE> {
  /** Write only if every check holds; otherwise reject with CONFLICT and write nothing. */
  checks?: readonly Check[];
}

/**
 * One operation of `db.batch(operations)` on a store whose values read as `V`. A put with
 * a `valueEncoding` of its own takes what that encoding takes.
 */
export type BatchOperation<V = string> =
  | { type: 'put'; key: Data; value: ValueInput<V>; valueEncoding?: undefined }
  | { type: 'put'; key: Data; value: Data; valueEncoding: 'utf8' | 'bytes' }
  | { type: 'put'; key: Data; value: JsonValue; valueEncoding: 'json' }
  | { type: 'put'; key: Data; value: StructuredValue; valueEncoding: 'structured' }
  | { type: 'del'; key: Data };

/** A value with the version of the write that set it. */
export interface Versioned<V = string> {
  value: V;
  /** Changes with every write of the key; compare-and-set with a batch's `checks`. */
  version: string;
}


/**
 * A value to post to a Worker, where `attach()` opens the same store. `K` and `V` name the
 * types of the store it came from, for `attach()` (they do not survive `postMessage`:
 * name them again at `attach<K, V>(event.data)`).
 */
export interface ShareToken<K = string, V = string> {
  readonly ppdb: 1;
}

/**
 * An async iterator over a range (from `iterator()`, `keys()` or `values()`), yielding `T`:
 * `[key, value]` entries, keys or values. `break` in `for await` ends it early, as
 * `close()` does.
 */
export interface DbIterator<T = [string, string]> extends AsyncIterableIterator<T> {
  /** Everything left, as an array; closes the iterator. */
  all(): Promise<T[]>;
  /**
   * Moves the iterator: the next entries are those from the first key at or after
   * `target` (at or before it, for a reverse iterator), within its range and snapshot,
   * toward the same limit. Entries fetched but not read are dropped; a target outside the
   * range ends it; on an iterator that has ended (or was closed) it does nothing.
   */
  seek(target: Data): void;
  /** Ends the iteration early (a `break` in `for await` does it too). */
  close(): void;
}

/** What `db.watch()` watches: a range of keys (no `reverse`), decoded as asked. */
export interface WatchOptions<KE extends KeyEncoding | undefined = KeyEncoding, VE extends ValueEncoding | undefined = ValueEncoding>
  extends Omit<RangeOptions, 'reverse' | 'limit'> {
  /** Changes to deliver, then the watch ends. */
  limit?: number;
  /** Decode the changes' keys this way. */
  keyEncoding?: KE;
  /** Decode the changes' values this way. */
  valueEncoding?: VE;
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
 * what you show again. Narrow on `type` before reading `key` or `value`.
 */
export type Change<K = string, V = string> =
  | { type: 'put'; key: K; value: V; sequence: number }
  | { type: 'del'; key: K; sequence: number }
  | { type: 'gap'; sequence: number };

/** The changes of `db.watch()`, as they commit; `break` or `close()` ends it. */
export interface Watch<K = string, V = string> extends AsyncIterableIterator<Change<K, V>> {
  /** Every change until it ends (with a `limit`), as an array. */
  all(): Promise<Change<K, V>[]>;
  /** Stops watching. */
  close(): void;
}

/**
 * The store at one point in time (from `db.snapshot()`), read with the types of that
 * store; release it with `close()`. Each read is that store's call with `{ snapshot }`.
 */
export interface Snapshot<K = string, V = string> {
  /** True once closed (reads then reject with CLOSED). */
  readonly closed: boolean;
  /** As `db.get`, at the snapshot. */
  get<VE extends ValueEncoding | undefined = undefined>(key: Data, options?: GetOptions<VE>): Promise<ValueAs<VE, V> | undefined>;
  /** As `db.getMany`, at the snapshot. */
  getMany<VE extends ValueEncoding | undefined = undefined>(
    keys: readonly Data[],
    options?: GetOptions<VE>,
  ): Promise<(ValueAs<VE, V> | undefined)[]>;
  /** As `db.has`, at the snapshot. */
  has(key: Data): Promise<boolean>;
  /** As `db.hasMany`, at the snapshot. */
  hasMany(keys: readonly Data[]): Promise<boolean[]>;
  /** As `db.iterator`, at the snapshot. */
  iterator<KE extends KeyEncoding | undefined = undefined, VE extends ValueEncoding | undefined = undefined>(
    options?: ScanOptions<KE, VE>,
  ): DbIterator<[KeyAs<KE, K>, ValueAs<VE, V>]>;
  /** As `db.keys`, at the snapshot. */
  keys<KE extends KeyEncoding | undefined = undefined>(options?: ScanOptions<KE>): DbIterator<KeyAs<KE, K>>;
  /** As `db.values`, at the snapshot. */
  values<VE extends ValueEncoding | undefined = undefined>(options?: ScanOptions<KeyEncoding, VE>): DbIterator<ValueAs<VE, V>>;
  /** Releases the snapshot (compaction may then drop what only it read). Idempotent. */
  close(): void;
}

/**
 * Operations collected one call at a time, written atomically by `write()`, for a store
 * whose values read as `V`.
 */
export interface ChainedBatch<V = string> {
  /** Operations added so far. */
  readonly length: number;
  /** Adds a put of a value the store takes. */
  put(key: Data, value: ValueInput<V>): this;
  /** Adds a put encoded with `valueEncoding` (and taking what that encoding takes). */
  put<VE extends ValueEncoding>(key: Data, value: InputTypes[VE], options: { valueEncoding: VE }): this;
  /** Adds a delete. */
  del(key: Data): this;
  /** Write only if `key` is still at `version` (null: absent). */
  check(key: Data, version: string | null): this;
  /** Drops the operations and checks added so far. */
  clear(): this;
  /**
   * Applies every operation atomically (as `db.batch`). A `valueEncoding` here encodes the
   * puts added without one of their own (their values were typed for the store's).
   */
  write(options?: WriteOptions): Promise<void>;
  /** Discards the batch. */
  close(): void;
}

/**
 * An open store whose keys read back as `K` and values as `V` (what `open()` infers from
 * `keyEncoding` and `valueEncoding`: `Db<string, string>` by default). Keys and range
 * bounds are strings or bytes whatever `K`; values written are `ValueInput<V>`.
 *
 * On a page, an OPFS store's Db is a proxy for the Db of a worker the package starts, with
 * the same type: the same methods and getters, each call sent to the worker and answered
 * through a promise, so the page never blocks. Calls made in the same task go to the
 * worker as one message, and replies come back batched the same way. Uint8Array keys,
 * values and bounds are copied and the copies transferred (the caller's buffers are never
 * detached); Uint8Array results arrive transferred; other values cross by structured
 * cloning (one that cannot be cloned, such as a function, rejects with INVALID_ARGUMENT).
 * Iterators and snapshots stay in the worker: an iterator pulls pages of entries, and
 * `break` or `close()` releases it there. `close()` closes the store and then terminates
 * the worker; if the worker dies, pending and later calls reject with INTERNAL. Opened with
 * `threads: true` on a cross-origin isolated page, the store lives in the page's shared
 * memory: `get`, `getMany`, `has`, `hasMany` and `getWithVersion` are answered on the page
 * from the memtables and cached blocks (the rest from the worker), and `share()` returns a
 * token for workers; otherwise `share()` throws UNSUPPORTED. A browser store shared by
 * several tabs is typed the same way.
 */
export interface Db<K = string, V = string> extends EventTarget {
  /**
   * Where flushes and compactions run: 'worker' (a worker of their own: threaded build on
   * Node fs), 'steps' (bounded steps of a few milliseconds on this thread, between other
   * tasks), or 'none' (memory stores, attached handles).
   */
  readonly maintenance: 'worker' | 'steps' | 'none';
  /** The wasm build the store runs on. */
  readonly flavour: 'threaded' | 'single';
  /** The name the store was opened with. */
  readonly name: string;
  /** The store's key encoding: what its calls use unless they name their own. */
  readonly keyEncoding: KeyEncoding;
  /** The store's value encoding: what its calls use unless they name their own. */
  readonly valueEncoding: ValueEncoding;
  /** Where the store lives ('auto' resolved). */
  readonly storage: Exclude<StorageKind, 'auto'>;
  /**
   * 'owner' if this context holds the store's files; 'client' if it forwards to the tab or
   * worker that does, or is a worker attached to a store whose files another thread holds.
   * An 'ownerchange' event reports a switch.
   */
  readonly role: 'owner' | 'client';
  /**
   * True if the data stays under storage pressure: Node files; a browser store when the
   * origin's storage is persisted (`persist: true` asks). False for memory stores.
   */
  readonly persisted: boolean;
  /** True once `close()` was called. */
  readonly closed: boolean;
  /** What opening found in the log (undefined for memory stores and attached handles). */
  readonly recovery: RecoveryReport | undefined;
  /** Sets `key` to `value`. */
  put(key: Data, value: ValueInput<V>, options?: WriteOptions<undefined>): Promise<void>;
  /** Sets `key` to `value`, encoded with `valueEncoding` (and taking what that encoding takes). */
  put<VE extends ValueEncoding>(key: Data, value: InputTypes[VE], options: { valueEncoding: VE }): Promise<void>;
  /** The value of `key`, or undefined when it is absent. */
  get<VE extends ValueEncoding | undefined = undefined>(key: Data, options?: ReadOptions<VE>): Promise<ValueAs<VE, V> | undefined>;
  /** The values of `keys` (undefined for absent ones), read at one point in time. */
  getMany<VE extends ValueEncoding | undefined = undefined>(
    keys: readonly Data[],
    options?: ReadOptions<VE>,
  ): Promise<(ValueAs<VE, V> | undefined)[]>;
  /** True if `key` is present. */
  has(key: Data, options?: HasOptions): Promise<boolean>;
  /** For each of `keys`, true if it is present, all at one point in time. */
  hasMany(keys: readonly Data[], options?: HasOptions): Promise<boolean[]>;
  /** The value and its version, for compare-and-set; undefined when absent. */
  getWithVersion<VE extends ValueEncoding | undefined = undefined>(
    key: Data,
    options?: GetOptions<VE>,
  ): Promise<Versioned<ValueAs<VE, V>> | undefined>;
  /** Removes `key` (no error when it is absent). */
  del(key: Data): Promise<void>;
  /** Applies every operation atomically (all or none); with `checks`, only if they hold. */
  batch(operations: readonly BatchOperation<V>[], options?: BatchOptions<undefined>): Promise<void>;
  /**
   * As above, puts without a `valueEncoding` of their own encoded with the options' one
   * (and taking what it takes).
   */
  batch<VE extends ValueEncoding>(
    operations: readonly BatchOperation<ValueTypes[VE]>[],
    options: BatchOptions<VE> & { valueEncoding: VE },
  ): Promise<void>;
  /** A chained batch: `db.batch().put(k, v).del(k).write()`. */
  batch(): ChainedBatch<V>;
  /**
   * `[key, value]` entries in key order (bytewise): `for await (const [key, value] of
   * db.iterator({ gte: 'a', lt: 'b', limit: 10 }))`.
   */
  iterator<KE extends KeyEncoding | undefined = undefined, VE extends ValueEncoding | undefined = undefined>(
    options?: IteratorOptions<KE, VE>,
  ): DbIterator<[KeyAs<KE, K>, ValueAs<VE, V>]>;
  /** Keys in key order; the options of `iterator()`. */
  keys<KE extends KeyEncoding | undefined = undefined>(options?: IteratorOptions<KE>): DbIterator<KeyAs<KE, K>>;
  /** Values in key order; the options of `iterator()`. */
  values<VE extends ValueEncoding | undefined = undefined>(options?: IteratorOptions<KeyEncoding, VE>): DbIterator<ValueAs<VE, V>>;
  /**
   * Deletes every key in the range (all keys without options), as `snapshot` sees it if
   * given, in atomic batches of up to 1,000 keys; resolves with how many.
   */
  clear(options?: ClearOptions): Promise<number>;
  /** A point-in-time view; reads through it ignore later writes. */
  snapshot(): Snapshot<K, V>;
  /**
   * The changes committed from now on, in commit order, made in any tab or worker of a
   * shared store: `for await (const change of db.watch({ prefix: 'todo:' }))`.
   */
  watch<KE extends KeyEncoding | undefined = undefined, VE extends ValueEncoding | undefined = undefined>(
    options?: WatchOptions<KE, VE>,
  ): Watch<KeyAs<KE, K>, ValueAs<VE, V>>;
  /** Makes every write so far durable. */
  flush(): Promise<void>;
  /** Writes every memtable to tables and runs the compactions the levels need. */
  compact(): Promise<void>;
  /** Sizes and counts. */
  stats(): Promise<Stats>;
  /** Counters, latency percentiles (ms) and gauges. */
  metrics(): Promise<Metrics>;
  /** The metrics in the Prometheus text exposition format. */
  metricsText(): Promise<string>;
  /**
   * Replaces the alert rules; a rule that becomes true dispatches an 'alert' event
   * (`event.detail`: Alert). A promise on a page's OPFS store (its engine is in a worker).
   */
  setAlerts(rules: readonly AlertRule[], options?: { interval?: number }): void | Promise<void>;
  /** Checks the rules now; returns (and dispatches) the alerts raised (a promise through the page proxy). */
  checkAlerts(): Alert[] | Promise<Alert[]>;
  /**
   * Threaded build, memory, fs, OPFS and IndexedDB stores: a token for attach() in a
   * Worker. An OPFS or IndexedDB store (opened with `threads: true`) keeps its files in
   * this thread, which answers the attached workers' file calls (and commits their
   * IndexedDB writes). On a page, an OPFS store opened with `threads: true` (its files in
   * the package's worker). UNSUPPORTED in the single-threaded build and on a page's other
   * OPFS stores (they live in the package's worker).
   */
  share(): ShareToken<K, V>;
  /** Closes this handle; the last handle to a store syncs its log. */
  close(): Promise<void>;
}

/**
 * Opens (creating it if needed) a store whose values are strings ('utf8', the default) or
 * bytes ('bytes'); keys read back as `keyEncoding` says.
 */
export function open<KE extends KeyEncoding | undefined = undefined, VE extends 'utf8' | 'bytes' | undefined = undefined>(
  name: string,
  options?: StoreOptions & { keyEncoding?: KE; valueEncoding?: VE },
): Promise<Db<KeyAs<KE, string>, ValueAs<VE, string>>>;
/** Opens a 'json' store with string keys: its values are `V` (default `JsonValue`): `open<Todo>('todos', { valueEncoding: 'json' })`. */
export function open<V = JsonValue>(name: string, options: StoreOptions & { keyEncoding?: 'utf8'; valueEncoding: 'json' }): Promise<Db<string, V>>;
/** Opens a 'json' store with bytes keys: its values are `V` (default `JsonValue`). */
export function open<V = JsonValue>(name: string, options: StoreOptions & { keyEncoding: 'bytes'; valueEncoding: 'json' }): Promise<Db<Uint8Array, V>>;
/** Opens a 'structured' store with string keys: its values are `V` (default `StructuredValue`). */
export function open<V = StructuredValue>(
  name: string,
  options: StoreOptions & { keyEncoding?: 'utf8'; valueEncoding: 'structured' },
): Promise<Db<string, V>>;
/** Opens a 'structured' store with bytes keys: its values are `V` (default `StructuredValue`). */
export function open<V = StructuredValue>(
  name: string,
  options: StoreOptions & { keyEncoding: 'bytes'; valueEncoding: 'structured' },
): Promise<Db<Uint8Array, V>>;
/** Opens a store whose encodings are known only at run time: its keys and values are typed loosely. */
export function open(name: string, options?: OpenOptions): Promise<Db<Data, unknown>>;

/** Deletes a store and all its data (same `storage` and `path` as `open`); LOCKED if it is open. */
export function destroy(name: string, options?: Pick<OpenOptions, 'storage' | 'path'>): Promise<void>;

/**
 * In a Worker, opens the store another thread shared with `db.share()`, with that store's
 * encodings. Call it before the worker opens stores of its own. An OPFS or IndexedDB store
 * attaches in dedicated workers only (UNSUPPORTED on a page); if the worker that owns its
 * files closes the store or dies, one attached worker takes them over and the others
 * follow (an 'ownerchange' event, as across tabs; `role` is 'owner' where the files went;
 * calls in flight fail with IO); a token shared before that attaches to the owner now. The
 * token's types do not survive `postMessage`: `attach<string, Todo>(event.data)` names them
 * again.
 */
export function attach<K = string, V = string>(token: ShareToken<K, V>): Promise<Db<K, V>>;

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

/** The options of `exportNdjson()`: the range to export, and progress. */
export interface ExportNdjsonOptions extends RangeOptions {
  /** Called every few thousand records and once at the end. */
  onProgress?: (progress: NdjsonProgress) => void;
}

/** The options of `importNdjson()`. */
export interface ImportNdjsonOptions {
  /** Called every few thousand records and once at the end. */
  onProgress?: (progress: NdjsonProgress) => void;
}

/** A web ReadableStream (`response.body`, `file.stream()`), typed structurally. */
export interface NdjsonReadableStream {
  getReader(): { read(): Promise<{ done: boolean; value?: string | Uint8Array }>; releaseLock(): void };
}

/**
 * The records of `db` (any store: keys and values are read as bytes) as NDJSON lines
 * (each a string ending in "\n"), in key order, from one snapshot: a header line
 * `{"ppdb":"export","version":1}`, then one record per line, `{"key":"text","value":"text"}`
 * where the bytes are UTF-8, `"keyBase64"` / `"valueBase64"` (per field) where they are
 * not. See docs/format.md.
 */
export function exportNdjson(db: Db<unknown, unknown>, options?: ExportNdjsonOptions): AsyncIterableIterator<string>;

/**
 * Puts the records of an NDJSON export (or record lines without the header) into `db`,
 * in batches of about 1,000 records or 1 MiB.
 * `source`: an async or sync iterable of string or Uint8Array chunks (Node streams too), a
 * web ReadableStream, or one string or Uint8Array; lines may be split anywhere between
 * chunks. A malformed line rejects with `PpdbError` `INVALID_ARGUMENT` naming its line
 * number, after every record before it has been written.
 */
export function importNdjson(
  db: Db<unknown, unknown>,
  source: AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array> | NdjsonReadableStream | string | Uint8Array,
  options?: ImportNdjsonOptions,
): Promise<NdjsonProgress>;
