// Batches: their operations checked and encoded for the engine, and chained batches
// (operations collected one call at a time, written atomically).
import { PpdbError, invalid } from './errors.js';
import { readOptions, readField } from './options.js';
import { checkData, checkEncoding, describe, encodeValue } from './encoding.js';
import { BatchWriter } from './wire.js';

/**
 * The operations and checks of `db.batch(operations, { checks })`, checked and encoded as
 * they are read (each operation straight into the batch's one buffer, the write batch
 * format of wire.js): `{ batch, count, checkKeys, versions }`. `valueEncoding` is the
 * call's (an operation may carry its own); `keyLength(length, what)` checks an encoded
 * key's length, `key(key, what)` encodes and checks a check's key, `maxValueSize` bounds
 * values. Anything invalid is INVALID_ARGUMENT, naming the operation or check.
 */
export function encodeBatch(operations, checks, { valueEncoding, maxValueSize, keyLength, key }) {
  const writer = new BatchWriter(operations.length);
  // Names for errors, made into strings only when one is thrown: building two strings per
  // operation was half of a large batch's encoding time in Node.
  const what = { i: 0, toString: () => `operation ${what.i}` };
  const keyWhat = { toString: () => `${what}: key` };
  for (let i = 0; i < operations.length; i++) {
    const op = operations[i];
    what.i = i;
    if (op === null || typeof op !== 'object') throw invalid(`${what} is not an object, got ${describe(op)}`);
    const type = readField(op, 'type', what);
    if (type === 'put') {
      const own = readField(op, 'valueEncoding', what);
      const encoding = own === undefined ? valueEncoding : checkEncoding(own, 'valueEncoding');
      const k = checkData(readField(op, 'key', what), keyWhat);
      const raw = readField(op, 'value', what);
      const value = encoding === 'json' || encoding === 'structured' ? encodeValue(raw, encoding) : checkData(raw, 'value');
      const [keyBytes, valueBytes] = writer.put(k, value);
      keyLength(keyBytes, keyWhat);
      if (valueBytes > maxValueSize) throw invalid(`value is ${valueBytes} bytes, the limit is ${maxValueSize}`);
    } else if (type === 'del') {
      keyLength(writer.del(checkData(readField(op, 'key', what), keyWhat)), keyWhat);
    } else {
      throw invalid(`${what} has type ${describe(type)}; expected 'put' or 'del'`);
    }
  }
  const versions = [];
  const checkKeys = Array.from(checks, (check, i) => {
    const what = `check ${i}`;
    if (check === null || typeof check !== 'object') throw invalid(`${what} is not an object, got ${describe(check)}`);
    const version = readField(check, 'version', what);
    if (version !== null && typeof version !== 'string') {
      throw invalid(`${what}: version must be a string from getWithVersion(), or null for absent`);
    }
    versions.push(version);
    return key(readField(check, 'key', what), `${what}: key`);
  });
  return { batch: writer.finish(), count: writer.count, checkKeys, versions };
}

/**
 * getMany's keys, checked and encoded as they are read into a batch of deletes (one per
 * key, in order: the layout the engine's getMany reads), so that a key makes no array of
 * its own; `keyLength(length, what)` checks each key's encoded length.
 */
export function encodeKeys(keys, keyLength) {
  const writer = new BatchWriter(keys.length);
  const what = { i: 0, toString: () => `key ${what.i}` };
  for (let i = 0; i < keys.length; i++) {
    what.i = i;
    keyLength(writer.del(checkData(keys[i], what)), what);
  }
  return writer.finish();
}

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
