// One store's keys and values on their way to the engine: checked against the store's size
// limits, encoded with its encodings (or a call's own), and written into the engine's
// scratch region (engine/scratch.js) for calls on a single key.
import { invalid } from './errors.js';
import { toBytes, checkData, encodeValue, decodeValue } from './encoding.js';
import { Scratch } from '../engine/scratch.js';

export class StoreData {
  #engine;
  #options;
  #call;

  /**
   * `engine`: the store's engine (its scratch region is made on first use); `options`: the
   * store's `maxKeySize`, `maxValueSize`, `keyEncoding` and `valueEncoding`; `call(fn)` runs
   * an engine call as the Db does.
   */
  constructor(engine, options, call) {
    this.#engine = engine;
    this.#options = options;
    this.#call = call;
  }

  /** `key` (a string or bytes) as bytes, checked against the key size limit. */
  key(key, what = 'key') {
    const bytes = toBytes(key, what);
    this.keyLength(bytes.length, what);
    return bytes;
  }

  /** Checks the length of an encoded key. */
  keyLength(length, what = 'key') {
    if (length > this.#options.maxKeySize) {
      throw invalid(`${what} is ${length} bytes, the limit is ${this.#options.maxKeySize}`);
    }
  }

  /** Checks the length of an encoded value. */
  valueLength(length) {
    if (length > this.#options.maxValueSize) {
      throw invalid(`value is ${length} bytes, the limit is ${this.#options.maxValueSize}`);
    }
  }

  /** `value` encoded with `encoding`, checked against the value size limit. */
  value(value, encoding) {
    const bytes = encodeValue(value, encoding);
    this.valueLength(bytes.length);
    return bytes;
  }

  /** The encodings of a call (checked options): its own, else the store's. */
  encodings(options) {
    return {
      keyEncoding: options.keyEncoding ?? this.#options.keyEncoding,
      valueEncoding: options.valueEncoding ?? this.#options.valueEncoding,
    };
  }

  /** A value's bytes decoded with `encoding` (`undefined` stays absent). */
  decode(bytes, encoding) {
    return bytes === undefined ? undefined : decodeValue(bytes, encoding);
  }

  /** The engine's scratch region, made on first use. */
  get scratch() {
    return (this.#engine.scratch ??= new Scratch(this.#engine));
  }

  /**
   * Writes the key of a single-key call at the start of the scratch region (with `room`
   * bytes more after it: `scratch.region(0)` is that region); returns its length in bytes.
   */
  scratchKey(key, room) {
    const input = typeof key === 'string' ? key : checkData(key, 'key');
    const scratch = this.scratch;
    const length = scratch.write(scratch.region(Scratch.room(input) + room), 0, input, 'key');
    this.keyLength(length);
    return length;
  }

  /** The answer of a scratch call: its number, or the error it left (as `call` reports it). */
  scratchAnswer(answer) {
    if (answer !== -2) return answer;
    const err = this.scratch.error();
    return this.#call(() => {
      throw err;
    });
  }
}
