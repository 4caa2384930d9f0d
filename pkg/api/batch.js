// Chained batches: operations collected one call at a time, written atomically.
import { PpdbError } from './errors.js';
import { readOptions } from './options.js';

/** Operations collected one call at a time: `db.batch().put(k, v).del(k).write()`. */
export class ChainedBatch {
  #write;
  #operations = [];
  #checks = [];
  #written = false;

  /** @internal */
  constructor(write) {
    this.#write = write;
  }

  #open() {
    if (this.#written) throw new PpdbError('CLOSED', 'the batch was written or closed already');
  }

  /** Adds a put. Options: valueEncoding. */
  put(key, value, options) {
    this.#open();
    const { valueEncoding } = readOptions(options, 'batch.put() options', ['valueEncoding']);
    this.#operations.push(valueEncoding === undefined ? { type: 'put', key, value } : { type: 'put', key, value, valueEncoding });
    return this;
  }

  /** Adds a delete. Options: none yet (checked all the same). */
  del(key, options) {
    this.#open();
    readOptions(options, 'batch.del() options', []);
    this.#operations.push({ type: 'del', key });
    return this;
  }

  /** Writes only if `key` is still at `version` (from `getWithVersion`; null: absent). */
  check(key, version) {
    this.#open();
    this.#checks.push({ key, version });
    return this;
  }

  /** Drops the operations and checks added so far. */
  clear() {
    this.#open();
    this.#operations = [];
    this.#checks = [];
    return this;
  }

  /** Operations added so far. */
  get length() {
    return this.#operations.length;
  }

  /** Applies every operation atomically (see `db.batch`). Options: valueEncoding. */
  async write(options) {
    this.#open();
    const { valueEncoding } = readOptions(options, 'batch.write() options', ['valueEncoding']);
    this.#written = true;
    return this.#write(this.#operations, { valueEncoding, checks: this.#checks });
  }

  /** Discards the batch without writing. */
  close() {
    this.#written = true;
  }
}
