// The public Db: an async API over the synchronous wasm handle. It validates its input
// before anything reaches wasm, so bad input is a rejected promise, never a trap.
import { PpdbError, invalid, closed, callEngine } from './errors.js';
import { decodeValue, describe, codecReady, codecLoading, CODEC_PENDING } from './encoding.js';
import { Scratch } from '../engine/scratch.js';
import { StoreData } from './data.js';
import { readOptions, RANGE, READ, WATCH } from './options.js';
import { Iterator } from './iterator.js';
import { recycleBatch, unpackValues } from './wire.js';
import { Snapshot, snapshotHandle } from './snapshot.js';
import { ChainedBatch, encodeBatch, encodeKeys } from './batch.js';
import { Durability } from './durability.js';
import { Maintenance } from './maintenance.js';
import { StoreFeed } from './feed.js';
import { Observer } from './observer.js';

/** Strings up to this many UTF-16 units go into the scratch region as they are (UTF-8
 * takes at most 3 bytes each); longer ones are encoded to their exact size first. */
const SCRATCH_TEXT = 64 * 1024;

/** Checked range options (see options.js) as `DbHandle.iterator` takes them. */
function rangeArguments(range) {
  return [range.gt, range.gte, range.lt, range.lte, range.prefix, range.reverse ?? false, range.limit];
}

/** @internal Moves background work to a worker of its own (threaded flavour, see open()). */
export const startBackgroundWorker = Symbol('startBackgroundWorker');

/**
 * A store. It is an EventTarget: `db.addEventListener('alert', (event) => event.detail)`
 * receives `{ rule, value, threshold, time }` when an alert rule becomes true.
 */
export class Db extends EventTarget {
  #handle;
  #engine;
  #options;
  #closed = false;
  #durability;
  #maintenance;
  #iterators = new Set();
  /** Metrics, stats and alert rules (pkg/api/observer.js). */
  #observer;
  #snapshots = new Set();
  #recovery;
  /** Settles when close() has synced and released the store. */
  #closing = null;
  /** Tells watchers of the writes committed here, and starts watches (pkg/api/feed.js). */
  #feed;
  /** Its keys and values checked and encoded for the engine (pkg/api/data.js). */
  #data;

  /** @internal Use `open()` or `attach()`. */
  constructor(handle, engine, options) {
    super();
    this.#handle = handle;
    this.#engine = engine;
    this.#options = options;
    this.#data = new StoreData(engine, options, (fn) => this.#call(fn));
    this.#feed = new StoreFeed(
      {
        lastSequence: () => this.#call(() => handle.lastSequence()),
        changesSince: (after) => this.#call(() => handle.changesSince(after)),
      },
      options.changes,
    );
    this.#recovery = options.files && !options.attached ? this.#call(() => handle.recovery()) : undefined;
    const call = (fn) => this.#call(fn);
    const alive = () => !this.#closed && !this.#engine.dead;
    // When writes become durable (pkg/api/durability.js).
    this.#durability = new Durability({
      handle,
      files: options.files,
      durability: options.durability,
      interval: options.relaxedFlushInterval,
      call,
      alive,
    });
    this.#observer = new Observer({ handle, engine, call, alive, dispatch: (alert) => this.dispatchEvent(new CustomEvent('alert', { detail: alert })) });
    // Where and when flushes and compactions run (pkg/api/maintenance.js).
    this.#maintenance = new Maintenance({ handle, call, alive, steps: Boolean(options.files && !options.attached) });
  }

  /** Moves background work to the maintenance worker (threaded flavour, see open()). */
  async [startBackgroundWorker]() {
    await this.#maintenance.startWorker(this.share());
  }

  /**
   * Where flushes and compactions run: 'worker' (a worker of their own), 'steps' (bounded
   * steps on this thread, between other tasks), or 'none' (memory stores, attached handles).
   */
  get maintenance() {
    return this.#maintenance.where;
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

  /** The store's encodings: what its calls use unless they name their own. */
  get keyEncoding() {
    return this.#options.keyEncoding;
  }

  get valueEncoding() {
    return this.#options.valueEncoding;
  }

  /**
   * True if the store's data stays under storage pressure: files in Node; in a browser,
   * when the origin's storage is persisted (`open(name, { persist: true })` asks for it).
   */
  get persisted() {
    return this.#options.persisted ?? this.#options.storage === 'fs';
  }

  /**
   * 'owner': this context holds the store's files; 'client' where another thread holds
   * them (attached to a shared browser store; a store shared across tabs may be one too).
   */
  get role() {
    return this.#options.files?.descriptor?.kind === 'owner' ? 'client' : 'owner';
  }

  /** True once `close()` was called. */
  get closed() {
    return this.#closed;
  }

  #call(fn) {
    if (this.#engine.dead) throw new PpdbError('INTERNAL', 'the engine stopped after an earlier failure');
    return callEngine(
      fn,
      () => {
        this.#engine.dead = true;
      },
      () => this.#options.files?.takeError?.(),
    );
  }

  #live() {
    if (this.#closed) throw closed();
  }

  /** As #live, for writes: also refused after a failed commit (until reopened). */
  #writable() {
    this.#live();
    if (this.#durability.failed) throw this.#durability.failed;
  }

  /** The wasm snapshot handle a read asks for with `{ snapshot }`, or null. */
  #snapshotOf(options) {
    if (options.snapshot === undefined) return null;
    if (!(options.snapshot instanceof Snapshot)) throw invalid(`snapshot must come from db.snapshot(), got ${describe(options.snapshot)}`);
    return options.snapshot[snapshotHandle](this);
  }

  /**
   * What a write awaits once it wrote `bytes`: the background work it owes, if level 0 is
   * past its stop trigger (pkg/api/maintenance.js), then its durability.
   */
  #afterWrite(bytes) {
    const stall = this.#maintenance.help(bytes);
    return stall ? stall.then(() => this.#durability.afterWrite()) : this.#durability.afterWrite();
  }

  /** Waits for the codec of `encoding` (see codecReady); CLOSED if the store closed meanwhile. */
  async #codec(encoding) {
    await codecReady(encoding);
    this.#live();
  }

  /** Makes every write so far durable; once close() has begun, its final sync does. */
  async #flushNow() {
    if (this.#closed) return this.#closing;
    return this.#durability.commit();
  }

  /**
   * A promise while the storage cannot create files yet (OPFS opens them asynchronously),
   * else undefined: a write awaits only that, as every await costs a turn of the queue.
   */
  #ready() {
    return this.#options.files?.ready?.();
  }

  /** Sets `key` to `value`. Options: valueEncoding. */
  async put(key, value, options) {
    this.#writable();
    const { valueEncoding } = this.#data.encodings(readOptions(options, 'put() options', ['valueEncoding']));
    // The value as bytes, or (utf8 text of a reasonable size) as the string itself,
    // written straight into the scratch region after the key.
    const direct = typeof value === 'string' && (valueEncoding === 'utf8' || valueEncoding === 'bytes') && value.length <= SCRATCH_TEXT;
    // Writes wait while a codec loads, so that they stay in the order they were made.
    const loading = codecReady(valueEncoding) ?? codecLoading();
    if (loading) await loading;
    // (Direct text is checked as it is written.)
    const v = direct ? value : this.#data.value(value, valueEncoding);
    const ready = this.#ready();
    if (ready) await ready;
    this.#writable();
    const keyLength = this.#data.scratchKey(key, Scratch.room(v));
    const region = this.#data.scratch.region(0);
    const valueLength = this.#data.scratch.write(region, keyLength, v, 'value');
    this.#data.valueLength(valueLength);
    // Watched: the operation's bytes, taken before the call (which may move wasm memory).
    const op = this.#feed.watched ? { put: true, key: region.slice(0, keyLength), value: region.slice(keyLength, keyLength + valueLength) } : null;
    const sequence = this.#data.scratchAnswer(this.#call(() => this.#handle.putScratch(keyLength, valueLength)));
    if (op) this.#feed.publish(sequence, [op]);
    const after = this.#afterWrite(keyLength + valueLength);
    if (after) await after;
  }

  /**
   * The value of `key`, or `undefined` when it is absent. Options: valueEncoding,
   * snapshot (read at that point in time).
   */
  async get(key, options) {
    this.#live();
    const checked = readOptions(options, 'get() options', READ);
    const { valueEncoding } = this.#data.encodings(checked);
    // (After a wait for the codec, the store or the snapshot may have closed meanwhile.)
    if (codecReady(valueEncoding)) await this.#codec(valueEncoding);
    const snapshot = this.#snapshotOf(checked);
    if (snapshot) {
      const k = this.#data.key(key);
      return this.#data.decode(this.#call(() => snapshot.get(k)), valueEncoding);
    }
    const keyLength = this.#data.scratchKey(key, 0);
    const length = this.#data.scratchAnswer(this.#call(() => this.#handle.getScratch(keyLength)));
    if (length === -1) return undefined;
    const scratch = this.#data.scratch;
    // Bytes are the caller's own (a copy); text and JSON are decoded from the region.
    return valueEncoding === 'bytes' ? scratch.result(length) : decodeValue(scratch.peek(length), valueEncoding);
  }

  /**
   * The values of `keys` (`undefined` for absent ones), all read at one point in time.
   * Options: valueEncoding, snapshot.
   */
  async getMany(keys, options) {
    this.#live();
    if (!Array.isArray(keys)) throw invalid(`getMany() takes an array of keys, got ${describe(keys)}`);
    const checked = readOptions(options, 'getMany() options', READ);
    const { valueEncoding } = this.#data.encodings(checked);
    const encoded = encodeKeys(keys, (length, what) => this.#data.keyLength(length, what));
    if (codecReady(valueEncoding)) await this.#codec(valueEncoding);
    const snapshot = this.#snapshotOf(checked);
    // One crossing for all the keys, one buffer back.
    const packed = this.#call(() => (snapshot ?? this.#handle).getMany(encoded));
    recycleBatch(encoded);
    // Array.from, not map: absent keys are holes.
    return Array.from(unpackValues(packed, keys.length), (bytes) => this.#data.decode(bytes, valueEncoding));
  }

  /** True if `key` is present. Options: snapshot. */
  async has(key, options) {
    this.#live();
    const snapshot = this.#snapshotOf(readOptions(options, 'has() options', ['snapshot']));
    if (snapshot) {
      const k = this.#data.key(key);
      return this.#call(() => snapshot.get(k)) !== undefined;
    }
    const keyLength = this.#data.scratchKey(key, 0);
    return this.#data.scratchAnswer(this.#call(() => this.#handle.getScratch(keyLength))) !== -1;
  }

  /** For each of `keys`, true if it is present, all at one point in time. Options: snapshot. */
  async hasMany(keys, options) {
    const { snapshot } = readOptions(options, 'hasMany() options', ['snapshot']);
    const values = await this.getMany(keys, { snapshot, valueEncoding: 'bytes' });
    return values.map((value) => value !== undefined);
  }

  /**
   * `{ value, version }` of `key`, or `undefined` when it is absent. `version` (a string)
   * changes with every write of the key; pass it to a batch's `checks` to write only if
   * the key has not changed since (compare-and-set). Options: valueEncoding.
   */
  async getWithVersion(key, options) {
    this.#live();
    const { valueEncoding } = this.#data.encodings(readOptions(options, 'getWithVersion() options', ['valueEncoding']));
    const k = this.#data.key(key);
    if (codecReady(valueEncoding)) await this.#codec(valueEncoding);
    const found = this.#call(() => this.#handle.getWithVersion(k));
    return found && { value: this.#data.decode(found.value, valueEncoding), version: found.version };
  }

  /** Removes `key` (no error when it is absent). */
  async del(key, options) {
    this.#writable();
    readOptions(options, 'del() options', []);
    if (codecLoading()) await codecLoading();
    const ready = this.#ready();
    if (ready) await ready;
    this.#writable();
    const keyLength = this.#data.scratchKey(key, 0);
    const op = this.#feed.watched ? { put: false, key: this.#data.scratch.region(0).slice(0, keyLength) } : null;
    const sequence = this.#data.scratchAnswer(this.#call(() => this.#handle.delScratch(keyLength)));
    if (op) this.#feed.publish(sequence, [op]);
    const after = this.#afterWrite(keyLength);
    if (after) await after;
  }

  /**
   * With operations: applies `[{ type: 'put', key, value }, { type: 'del', key }]`
   * atomically. Options: valueEncoding (each operation may carry its own), and `checks:
   * [{ key, version }]` to apply the batch only if every key is still at that version
   * (from `getWithVersion`; `null` for absent), else reject with CONFLICT and write nothing.
   * Without operations: a chained batch, `db.batch().put(k, v).del(k).write()`.
   */
  batch(operations, options) {
    if (operations === undefined) {
      this.#live();
      return new ChainedBatch((ops, opts) => this.batch(ops, opts));
    }
    return this.#batch(operations, options);
  }

  async #batch(operations, options) {
    this.#writable();
    if (!Array.isArray(operations)) throw invalid(`batch() takes an array of operations, got ${describe(operations)}`);
    const checked = readOptions(options, 'batch() options', ['valueEncoding', 'checks']);
    const { valueEncoding } = this.#data.encodings(checked);
    const encode = () =>
      encodeBatch(operations, checked.checks ?? [], {
        valueEncoding,
        maxValueSize: this.#options.maxValueSize,
        keyLength: (length, what) => this.#data.keyLength(length, what),
        key: (key, what) => this.#data.key(key, what),
      });
    if (codecLoading()) await codecLoading();
    let encoded;
    while (!encoded) {
      try {
        encoded = encode();
      } catch (err) {
        if (err !== CODEC_PENDING) throw err;
        await codecLoading(); // an operation's encoding needs a codec: once loaded, again
      }
    }
    const { batch, count, checkKeys, versions } = encoded;
    const ready = this.#ready();
    if (ready) await ready;
    this.#writable();
    // The whole batch in one buffer, one crossing.
    let sequence;
    if (checkKeys.length > 0) {
      sequence = this.#call(() => this.#handle.writeIf(batch, checkKeys, versions));
    } else if (count > 0) {
      sequence = this.#call(() => this.#handle.write(batch));
    }
    // Watchers keep the batch's bytes; else its buffer serves the next batch.
    if (count > 0 && this.#feed.watched) this.#feed.publish(sequence, batch);
    else recycleBatch(batch);
    const after = this.#afterWrite(batch.length);
    if (after) await after;
  }

  /**
   * Entries in key order (bytewise), as `[key, value]`:
   * `for await (const [key, value] of db.iterator({ gte: 'a', lt: 'b', limit: 10 }))`.
   * Options: gt, gte, lt, lte, prefix (string or Uint8Array), reverse, limit,
   * keyEncoding, valueEncoding, snapshot.
   */
  iterator(options) {
    return this.#iterate(options, 'entries', 'iterator() options');
  }

  /** Keys in key order; the options of `iterator()`. */
  keys(options) {
    return this.#iterate(options, 'keys', 'keys() options');
  }

  /** Values in key order; the options of `iterator()`. */
  values(options) {
    return this.#iterate(options, 'values', 'values() options');
  }

  #iterate(options, mode, what) {
    this.#live();
    const checked = readOptions(options, what, [...RANGE, ...READ]);
    const { keyEncoding, valueEncoding } = this.#data.encodings(checked);
    const source = this.#snapshotOf(checked) ?? this.#handle;
    const handle = this.#call(() => source.iterator(...rangeArguments(checked)));
    const iterator = new Iterator(handle, {
      memory: this.#data.scratch,
      call: (fn) => this.#call(fn),
      keyEncoding,
      valueEncoding,
      mode,
      onClose: (it) => this.#iterators.delete(it),
    });
    this.#iterators.add(iterator);
    return iterator;
  }

  /**
   * The changes committed to the store from now on, in commit order, as an async iterator
   * of `{ type: 'put', key, value, sequence }` and `{ type: 'del', key, sequence }` (the
   * operations of a batch together). Options: gt, gte, lt, lte, prefix (keys to watch),
   * limit (changes to deliver, then it ends), keyEncoding, valueEncoding, and `after: n`
   * to start after sequence number n (a change's `sequence`) instead of now; changes
   * the store can no longer list are reported as `{ type: 'gap', sequence }`. Ending the
   * loop, `close()`, or closing the store ends it.
   */
  watch(options) {
    this.#live();
    const checked = readOptions(options, 'watch() options', WATCH);
    if (checked.reverse) throw invalid('watch() delivers changes in commit order: reverse is not one of its options');
    const { keyEncoding, valueEncoding } = this.#data.encodings(checked);
    return this.#feed.watch(checked, keyEncoding, valueEncoding);
  }

  /**
   * Deletes every key in a range (the range options of `iterator()`; all keys without
   * options), as `snapshot` sees it if given, else as the store is now, in atomic batches
   * of up to 1,000 keys. Resolves with the number of keys deleted.
   */
  async clear(options) {
    this.#writable();
    const { snapshot: given, ...range } = readOptions(options, 'clear() options', [...RANGE, 'snapshot']);
    if (given !== undefined) this.#snapshotOf({ snapshot: given });
    // The point in time is now, before ./clear.js loads (on first use).
    const snapshot = given ?? this.snapshot();
    try {
      return await (await import('./clear.js')).clearRange(this, range, snapshot);
    } finally {
      if (given === undefined) snapshot.close();
    }
  }

  /**
   * A point-in-time view: reads through it (`snapshot.get`, `snapshot.iterator`, or
   * `db.get(key, { snapshot })`) see the store as it was now. Release it with `close()`.
   */
  snapshot() {
    this.#live();
    const handle = this.#call(() => this.#handle.snapshot());
    const snapshot = new Snapshot(this, handle, () => {
      handle.free();
      this.#snapshots.delete(snapshot);
    });
    this.#snapshots.add(snapshot);
    return snapshot;
  }

  /** Syncs every write to storage (what makes relaxed writes durable). */
  async flush() {
    this.#live();
    await this.#flushNow();
  }

  /**
   * Writes every memtable to tables (the active one too, so the log it held is deleted)
   * and runs the compactions the levels need.
   */
  async compact() {
    this.#writable();
    await this.#ready();
    this.#writable();
    this.#call(() => this.#handle.freezeMemtable());
    await this.#maintenance.compact({ ready: () => this.#ready(), live: () => this.#live() });
  }

  /**
   * Counters, latencies and gauges (see index.d.ts `Metrics`): operations by kind, bytes,
   * latency percentiles, memory, cache hit rate, tables and amplification.
   */
  async metrics() {
    this.#live();
    return this.#observer.metrics();
  }

  /** The metrics in the Prometheus text exposition format (for a /metrics endpoint). */
  async metricsText() {
    this.#live();
    return this.#observer.metricsText();
  }

  /**
   * Replaces the alert rules: `[{ metric, above | below, name? }]`, checked every
   * `interval` ms (default 1000); a rule that becomes true dispatches an 'alert' event
   * (metrics named in pkg/api/observer.js).
   */
  setAlerts(rules, options) {
    this.#live();
    this.#observer.setAlerts(rules, options);
  }

  /** Checks the alert rules now (the timer does it too); returns the alerts raised. */
  checkAlerts() {
    return this.#closed || this.#engine.dead ? [] : this.#observer.checkAlerts();
  }

  /** Sizes and counts (see index.d.ts `Stats`). */
  async stats() {
    this.#live();
    return this.#observer.stats();
  }

  /**
   * A token to post to a Worker (threaded flavour), where `attach(token)` opens this same
   * store. Throws UNSUPPORTED in the single flavour. An OPFS or IndexedDB store's files
   * stay with this thread, which answers the attached workers' file calls and commits
   * (pkg/storage/owner.js).
   */
  share() {
    this.#live();
    const { name, storage, files, keyEncoding, valueEncoding, maxKeySize, maxValueSize, durability, relaxedFlushInterval } = this.#options;
    if (files && !files.descriptor && !(files.share && this.#engine.memory)) {
      throw new PpdbError('UNSUPPORTED', `a store on ${storage} cannot be shared with workers${files.share ? ' without threads: true' : ''}`);
    }
    const id = this.#call(() => this.#handle.share());
    // (An owner's files.share also sets this.#options.failover: pkg/storage/owner.js.)
    const descriptor = files?.descriptor ?? this.#call(() => files?.share(this.#engine.memory, this.#options));
    return {
      ppdb: 1,
      id,
      module: this.#engine.module,
      memory: this.#engine.memory,
      options: {
        name, storage, files: descriptor, keyEncoding, valueEncoding, maxKeySize, maxValueSize, changes: this.#feed.share(), failover: this.#options.failover,
        // Where the JS side makes writes durable (OPFS), each thread does it for its own.
        ...(files?.groupCommit && { durability, relaxedFlushInterval }),
      },
    };
  }

  /**
   * Closes this handle; the last handle to a store syncs its log. Other handles (attached
   * in workers) keep the store open.
   */
  async close() {
    if (this.#closed) return this.#closing;
    this.#closed = true;
    this.#durability.stop();
    this.#maintenance.stop();
    this.#observer.stop();
    this.#closing = this.#release();
    return this.#closing;
  }

  /** close(): ends iterators and snapshots, the maintenance worker, syncs, frees. */
  async #release() {
    try {
      for (const iterator of [...this.#iterators]) iterator.close(closed());
      for (const snapshot of [...this.#snapshots]) snapshot.close();
      this.#feed.end();
      // The worker's handle goes first, so this one is the last and closes the store.
      await this.#maintenance.release();
      if (this.#options.files && !this.#engine.dead && !this.#durability.failed) await this.#durability.commit();
    } finally {
      // A dead engine (a trap) is not called again: it cannot be trusted to return. Its
      // files are closed and their lock released all the same.
      if (!this.#engine.dead) {
        this.#handle.close();
        this.#handle.free();
        // The close itself was recorded in the files (where the log ends): commit that too.
        if (!this.#durability.failed) await this.#options.files?.commit?.().catch(() => {});
      }
      await this.#options.files?.close();
    }
  }
}
