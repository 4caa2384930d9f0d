// The public Db: an async API over the synchronous wasm handle. It validates its input
// before anything reaches wasm, so bad input is a rejected promise, never a trap.
import { PpdbError, invalid, callEngine } from './errors.js';
import { toBytes, fromBytes } from './encoding.js';
import { Iterator } from './iterator.js';
import { nextTask } from './tasks.js';

/** Keys and values one engine maintenance step flushes or merges (about 1 ms of work). */
const STEP_BYTES = 64 * 1024;
/** The longest the package runs maintenance steps before yielding the thread. */
const SLICE_MS = 4;
/** How often the package looks for background work while there is none. */
const IDLE_CHECK_MS = 100;
/** Bytes per step of an explicit `compact()`, which yields between steps. */
const COMPACT_STEP_BYTES = 1024 * 1024;

/** @internal Moves background work to a worker of its own (threaded flavour, see open()). */
export const startBackgroundWorker = Symbol('startBackgroundWorker');

export class Db {
  #handle;
  #engine;
  #options;
  #closed = false;
  #timer = null;
  #maintenance = null;
  #maintaining = false;
  #maintainer = null;
  #recovery;
  #syncing = null;

  /** @internal Use `open()` or `attach()`. */
  constructor(handle, engine, options) {
    this.#handle = handle;
    this.#engine = engine;
    this.#options = options;
    this.#recovery = options.files && !options.attached ? this.#call(() => handle.recovery()) : undefined;
    // Relaxed durability: sync on a timer (the engine syncs by size as well).
    if (options.files && options.durability === 'relaxed' && options.relaxedFlushInterval > 0) {
      this.#timer = setInterval(() => {
        if (!this.#closed && !this.#engine.dead) {
          // An error poisons the store; the next write reports it.
          this.#flushNow().catch(() => {});
        }
      }, options.relaxedFlushInterval);
      this.#timer.unref?.();
    }
    // Flush frozen memtables to tables and compact in the background (natively the
    // engine has a thread for this; in wasm the package drives it).
    if (options.files && !options.attached) {
      this.#maintenance = setInterval(() => this.#maintain(), IDLE_CHECK_MS);
      this.#maintenance.unref?.();
    }
  }

  /**
   * Runs background work in slices of at most SLICE_MS, each made of bounded engine steps,
   * with other tasks (user calls, storage callbacks) between slices, until none is left.
   */
  async #maintain() {
    if (this.#maintaining) return;
    this.#maintaining = true;
    try {
      while (!this.#closed && !this.#engine.dead && this.#handle.needsMaintenance()) {
        const started = Date.now();
        let worked = false;
        while (Date.now() - started < SLICE_MS && this.#handle.maintain(STEP_BYTES)) worked = true;
        // Nothing to do now (a flush waits for storage or writers): try at the next tick.
        if (!worked) break;
        await nextTask();
      }
    } catch {
      // The engine keeps the error; the next write reports it.
    } finally {
      this.#maintaining = false;
    }
  }

  /**
   * Starts the maintenance worker; the owner thread stops running flushes and compactions
   * itself. Where no worker can start, the work stays on this thread.
   */
  async [startBackgroundWorker]() {
    const { startMaintainer } = await import('./maintainer.js');
    try {
      this.#maintainer = await startMaintainer(this.share());
    } catch {
      return;
    }
    clearInterval(this.#maintenance);
    this.#maintenance = null;
  }

  /**
   * Where flushes and compactions run: 'worker' (a worker of their own), 'steps' (bounded
   * steps on this thread, between other tasks), or 'none' (memory stores, attached handles).
   */
  get maintenance() {
    if (this.#maintainer) return 'worker';
    return this.#maintenance ? 'steps' : 'none';
  }

  /**
   * What opening found in the log: `{ segments, records, entries, bytes, millis,
   * lastSequence, dropped }` (`undefined` for memory stores and attached handles).
   */
  get recovery() {
    return this.#recovery;
  }

  /** Where the store lives: 'memory' or 'fs'. */
  get storage() {
    return this.#options.storage;
  }

  /** 'threaded' or 'single': the wasm build this store runs on. */
  get flavour() {
    return this.#engine.flavour;
  }

  /** The name the store was opened with. */
  get name() {
    return this.#options.name;
  }

  /** True once `close()` was called. */
  get closed() {
    return this.#closed;
  }

  #call(fn) {
    if (this.#engine.dead) throw new PpdbError('INTERNAL', 'the engine stopped after an earlier failure');
    return callEngine(fn, () => {
      this.#engine.dead = true;
    });
  }

  #live() {
    if (this.#closed) throw new PpdbError('CLOSED', 'the store is closed');
  }

  #key(key) {
    const bytes = toBytes(key, 'key');
    if (bytes.length === 0) throw invalid('key is empty');
    if (bytes.length > this.#options.maxKeySize) {
      throw invalid(`key is ${bytes.length} bytes, the limit is ${this.#options.maxKeySize}`);
    }
    return bytes;
  }

  #value(value) {
    const bytes = toBytes(value, 'value');
    if (bytes.length > this.#options.maxValueSize) {
      throw invalid(`value is ${bytes.length} bytes, the limit is ${this.#options.maxValueSize}`);
    }
    return bytes;
  }

  /** Syncs the log, then commits what the JS side holds (IndexedDB). */
  async #flushNow() {
    this.#call(() => this.#handle.flush());
    await this.#options.files?.commit?.();
  }

  /**
   * With JS-side durability (OPFS, IndexedDB) and 'sync', resolves after a flush that
   * covers every write made so far; writes until the next task share it (group commit).
   */
  #durable() {
    if (!this.#options.files?.groupCommit || this.#options.durability !== 'sync') return undefined;
    if (!this.#syncing) {
      this.#syncing = nextTask().then(() => {
        this.#syncing = null;
        return this.#flushNow();
      });
    }
    return this.#syncing;
  }

  /** Waits, if needed, until the storage can create files (OPFS opens them asynchronously). */
  async #ready() {
    await this.#options.files?.ready?.();
  }

  /** Sets `key` to `value`. */
  async put(key, value) {
    this.#live();
    const k = this.#key(key);
    const v = this.#value(value);
    await this.#ready();
    this.#call(() => this.#handle.put(k, v));
    await this.#durable();
  }

  /** The value of `key`, or `undefined` when it is absent. */
  async get(key, options = {}) {
    this.#live();
    const k = this.#key(key);
    const bytes = this.#call(() => this.#handle.get(k));
    return bytes === undefined ? undefined : fromBytes(bytes, options.valueEncoding ?? this.#options.valueEncoding);
  }

  /** Removes `key` (no error when it is absent). */
  async del(key) {
    this.#live();
    const k = this.#key(key);
    await this.#ready();
    this.#call(() => this.#handle.del(k));
    await this.#durable();
  }

  /** Applies `[{ type: 'put', key, value }, { type: 'del', key }]` atomically. */
  async batch(operations) {
    this.#live();
    if (!Array.isArray(operations)) throw invalid('batch() takes an array of operations');
    const encoded = operations.map((op, i) => {
      if (op === null || typeof op !== 'object') throw invalid(`operation ${i} is not an object`);
      if (op.type === 'put') return ['put', this.#key(op.key), this.#value(op.value)];
      if (op.type === 'del') return ['del', this.#key(op.key)];
      throw invalid(`operation ${i} has type ${String(op.type)}; expected 'put' or 'del'`);
    });
    await this.#ready();
    const batch = new this.#engine.wasm.BatchHandle();
    try {
      for (const [type, key, value] of encoded) {
        if (type === 'put') batch.put(key, value);
        else batch.del(key);
      }
      this.#call(() => this.#handle.write(batch));
    } finally {
      batch.free();
    }
    await this.#durable();
  }

  /**
   * Entries in key order (bytewise), as `[key, value]`:
   * `for await (const [key, value] of db.iterator({ gte: 'a', lt: 'b', limit: 10 }))`.
   * Options: gt, gte, lt, lte, prefix (string or Uint8Array), reverse, limit,
   * keyEncoding, valueEncoding.
   */
  iterator(options = {}) {
    this.#live();
    if (options === null || typeof options !== 'object') throw invalid('iterator() options must be an object');
    const bound = (name) => (options[name] === undefined ? undefined : toBytes(options[name], name));
    const limit = options.limit;
    if (limit !== undefined && limit !== Infinity && limit !== -1 && !(Number.isInteger(limit) && limit >= 0)) {
      throw invalid('limit must be a non-negative integer');
    }
    const finiteLimit = limit === undefined || limit === Infinity || limit === -1 ? undefined : Math.min(limit, 2 ** 32 - 1);
    const handle = this.#call(() =>
      this.#handle.iterator(
        bound('gt'),
        bound('gte'),
        bound('lt'),
        bound('lte'),
        bound('prefix'),
        Boolean(options.reverse),
        finiteLimit,
      ),
    );
    return new Iterator(
      handle,
      (fn) => this.#call(fn),
      options.keyEncoding ?? this.#options.keyEncoding,
      options.valueEncoding ?? this.#options.valueEncoding,
    );
  }

  /** Syncs every write to storage (what makes relaxed writes durable). */
  async flush() {
    this.#live();
    await this.#flushNow();
  }

  /** Writes every frozen memtable to tables. */
  async compact() {
    this.#live();
    if (this.#maintainer) {
      await this.#maintainer.compact();
      return;
    }
    // Step by step, yielding between steps, so storages that open files asynchronously
    // (OPFS) keep up and the thread is never held for a whole compaction at once.
    let stalls = 0;
    while (this.#call(() => this.#handle.needsMaintenance())) {
      await this.#ready();
      if (this.#call(() => this.#handle.maintain(COMPACT_STEP_BYTES))) stalls = 0;
      else if (++stalls > 200) throw new PpdbError('IO', 'flush or compaction cannot make progress');
      await nextTask();
    }
  }

  /**
   * Sizes and counts: `{ memtableEntries, memtableBytes, dataBytes, frozenMemtables,
   * sequence, unsyncedLogBytes, tablesPerLevel, tableBytesPerLevel, cacheHits, cacheMisses,
   * cacheBytes, userBytes, flushedBytes, compactedBytes, wasmMemoryBytes }`.
   */
  async stats() {
    this.#live();
    const stats = this.#call(() => this.#handle.stats());
    stats.wasmMemoryBytes = this.#engine.ownMemory?.buffer.byteLength ?? 0;
    return stats;
  }

  /**
   * A token to post to a Worker (threaded flavour), where `attach(token)` opens this same
   * store. Throws UNSUPPORTED in the single flavour.
   */
  share() {
    this.#live();
    if (this.#options.files && !this.#options.files.descriptor) {
      throw new PpdbError('UNSUPPORTED', `a store on ${this.#options.storage} cannot be shared with workers yet`);
    }
    const id = this.#call(() => this.#handle.share());
    const { name, storage, files, keyEncoding, valueEncoding, maxKeySize, maxValueSize } = this.#options;
    return {
      ppdb: 1,
      id,
      module: this.#engine.module,
      memory: this.#engine.memory,
      options: { name, storage, files: files?.descriptor, keyEncoding, valueEncoding, maxKeySize, maxValueSize },
    };
  }

  /**
   * Closes this handle; the last handle to a store syncs its log. Other handles (attached
   * in workers) keep the store open.
   */
  async close() {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    if (this.#maintenance) clearInterval(this.#maintenance);
    try {
      // The worker's handle goes first, so this one is the last and closes the store.
      await this.#maintainer?.stop().catch(() => {});
      if (this.#options.files && !this.#engine.dead) await this.#flushNow();
    } finally {
      this.#handle.close();
      this.#handle.free();
      await this.#options.files?.close();
    }
  }
}
