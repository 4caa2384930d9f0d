// Snapshots: a store at one point in time, read through the store it came from.
import { PpdbError, invalid } from './errors.js';
import { readOptions, RANGE, READ } from './options.js';

/** @internal How a store gets back its own handle of a snapshot. */
export const snapshotHandle = Symbol('snapshotHandle');

/**
 * A point-in-time view of a store (from `db.snapshot()`). Reads go through the store it
 * came from, with `{ snapshot: this }`; `handle` is whatever that store needs to find it
 * (the wasm handle, or the id the proxy worker holds it under).
 */
export class Snapshot {
  #db;
  #handle;
  #release;

  /** @internal `release(handle)` runs once, at `close()`. */
  constructor(db, handle, release) {
    this.#db = db;
    this.#handle = handle;
    this.#release = release;
  }

  /** @internal The handle, for a read of `db` with `{ snapshot }`. */
  [snapshotHandle](db) {
    if (db !== this.#db) throw invalid('the snapshot belongs to another store');
    if (this.#handle === null) throw new PpdbError('CLOSED', 'the snapshot is closed');
    return this.#handle;
  }

  /** As `db.get`, at the snapshot. */
  async get(key, options) {
    return this.#db.get(key, { ...readOptions(options, 'snapshot.get() options', READ), snapshot: this });
  }

  /** As `db.getMany`, at the snapshot. */
  async getMany(keys, options) {
    return this.#db.getMany(keys, { ...readOptions(options, 'snapshot.getMany() options', READ), snapshot: this });
  }

  /** As `db.has`, at the snapshot. */
  async has(key) {
    return this.#db.has(key, { snapshot: this });
  }

  /** As `db.hasMany`, at the snapshot. */
  async hasMany(keys) {
    return this.#db.hasMany(keys, { snapshot: this });
  }

  /** As `db.iterator`, at the snapshot. */
  iterator(options) {
    return this.#db.iterator({ ...readOptions(options, 'snapshot.iterator() options', [...RANGE, ...READ]), snapshot: this });
  }

  /** As `db.keys`, at the snapshot. */
  keys(options) {
    return this.#db.keys({ ...readOptions(options, 'snapshot.keys() options', [...RANGE, ...READ]), snapshot: this });
  }

  /** As `db.values`, at the snapshot. */
  values(options) {
    return this.#db.values({ ...readOptions(options, 'snapshot.values() options', [...RANGE, ...READ]), snapshot: this });
  }

  /** True once closed. */
  get closed() {
    return this.#handle === null;
  }

  /** Releases the snapshot (compaction may then drop what only it read). Idempotent. */
  close() {
    if (this.#handle === null) return;
    const handle = this.#handle;
    this.#handle = null;
    this.#release(handle);
  }
}
