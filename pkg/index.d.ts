// Types of the ppdb package. See the README for the behaviour of each call.

/** Keys and values are strings (stored as UTF-8) or bytes. */
export type Data = string | Uint8Array;
/** How keys or values come back: 'utf8' as strings (the default), 'bytes' as Uint8Array. */
export type Encoding = 'utf8' | 'bytes';
/** Where a store lives; 'auto' picks fs in Node/Deno/Bun, OPFS in a dedicated worker, IndexedDB on a page. */
export type StorageKind = 'auto' | 'memory' | 'fs' | 'opfs' | 'indexeddb';

export interface OpenOptions {
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
  /** false forces the single-threaded build; true requires the threaded one. */
  threads?: boolean;
  /**
   * Threaded build on Node fs: run flushes and compactions on a worker of their own
   * (default true). With false, or in the single-threaded build, the package runs them on
   * this thread in bounded steps of a few milliseconds between other tasks.
   */
  backgroundWorker?: boolean;
  /**
   * The single-threaded build precompiled (`pkg/wasm/single/ppdb_bg.wasm`, exported as
   * `ppdb/wasm/single.wasm`), for runtimes that cannot compile wasm from bytes at run time,
   * such as Cloudflare workerd (bind it as a wasm module). Implies the single build; used
   * the first time that build loads in this context.
   */
  wasmModule?: WebAssembly.Module;
  keyEncoding?: Encoding;
  valueEncoding?: Encoding;
  /** Longest key, in bytes (default 16 KiB). */
  maxKeySize?: number;
  /** Longest value, in bytes (default 16 MiB). */
  maxValueSize?: number;
  /** Memtable size that triggers a switch and a flush to a table (default 4 MiB). */
  memtableSize?: number;
  /** Memory all memtables may use; past it writes flush to tables first, and fail with STORE_FULL only if they cannot (default 256 MiB). */
  memoryLimit?: number;
  /** Bytes of table blocks cached in memory (default 8 MiB). */
  blockCacheSize?: number;
}

export interface IteratorOptions {
  gt?: Data;
  gte?: Data;
  lt?: Data;
  lte?: Data;
  prefix?: Data;
  reverse?: boolean;
  /** Entries at most; -1 or Infinity for no limit. */
  limit?: number;
  keyEncoding?: Encoding;
  valueEncoding?: Encoding;
}

export type BatchOperation = { type: 'put'; key: Data; value: Data } | { type: 'del'; key: Data };

export interface DroppedRange {
  segment: string;
  offset: number;
  bytes: number;
  reason: string;
  /** true for an unsynced tail cut off after a crash; false for skipped damage. */
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

/** A value to post to a Worker, where attach() opens the same store. */
export interface ShareToken {
  readonly ppdb: 1;
}

export interface DbIterator<K = any, V = any> extends AsyncIterableIterator<[K, V]> {
  /** Ends the iteration early (a `break` in `for await` does it too). */
  close(): void;
}

export interface Db {
  /**
   * Where flushes and compactions run: 'worker' (a worker of their own: threaded build on
   * Node fs), 'steps' (bounded steps of a few milliseconds on this thread, between other
   * tasks), or 'none' (memory stores, attached handles).
   */
  readonly maintenance: 'worker' | 'steps' | 'none';
  readonly flavour: 'threaded' | 'single';
  readonly name: string;
  readonly storage: Exclude<StorageKind, 'auto'>;
  readonly closed: boolean;
  /** What opening found in the log (undefined for memory stores and attached handles). */
  readonly recovery: RecoveryReport | undefined;
  put(key: Data, value: Data): Promise<void>;
  get(key: Data, options?: { valueEncoding?: Encoding }): Promise<any | undefined>;
  del(key: Data): Promise<void>;
  batch(operations: BatchOperation[]): Promise<void>;
  iterator(options?: IteratorOptions): DbIterator;
  /** Makes every write so far durable. */
  flush(): Promise<void>;
  /** Writes every frozen memtable to tables. */
  compact(): Promise<void>;
  stats(): Promise<Stats>;
  /** Threaded build, memory or fs stores: a token for attach() in a Worker. */
  share(): ShareToken;
  close(): Promise<void>;
}

/** Every rejection of the package. */
export class PpdbError extends Error {
  readonly name: 'PpdbError';
  /** 'INVALID_ARGUMENT' | 'CLOSED' | 'UNSUPPORTED' | 'LOCKED' | 'STORE_FULL' | 'QUOTA_EXCEEDED' | 'IO' | 'CORRUPTION' | 'NOT_FOUND' | 'INTERNAL' */
  readonly code: string;
}

export function open(name: string, options?: OpenOptions): Promise<Db>;
export function destroy(name: string, options?: Pick<OpenOptions, 'storage' | 'path'>): Promise<void>;
export function attach(token: ShareToken): Promise<Db>;

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
