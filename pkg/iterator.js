// An async iterator over a range, pulling entries from wasm in growing batches.
import { fromBytes } from './encoding.js';

const FIRST_BATCH = 16;
const MAX_BATCH = 1024;

export class Iterator {
  #handle;
  #call;
  #keyEncoding;
  #valueEncoding;
  #buffer = [];
  #at = 0;
  #batch = FIRST_BATCH;
  #done = false;

  /** @internal */
  constructor(handle, call, keyEncoding, valueEncoding) {
    this.#handle = handle;
    this.#call = call;
    this.#keyEncoding = keyEncoding;
    this.#valueEncoding = valueEncoding;
  }

  [Symbol.asyncIterator]() {
    return this;
  }

  /** The next `[key, value]`, as an iterator result. */
  async next() {
    if (this.#at >= this.#buffer.length && !this.#done) this.#fill();
    if (this.#at >= this.#buffer.length) return { done: true, value: undefined };
    const key = fromBytes(this.#buffer[this.#at], this.#keyEncoding);
    const value = fromBytes(this.#buffer[this.#at + 1], this.#valueEncoding);
    this.#at += 2;
    return { done: false, value: [key, value] };
  }

  #fill() {
    this.#buffer = this.#call(() => this.#handle.nextBatch(this.#batch));
    this.#at = 0;
    this.#batch = Math.min(this.#batch * 2, MAX_BATCH);
    if (this.#buffer.length === 0) this.close();
  }

  /** Ends the iteration early (`break` in `for await` calls this). */
  async return() {
    this.close();
    return { done: true, value: undefined };
  }

  /** Releases the scan. Idempotent. */
  close() {
    if (this.#done) return;
    this.#done = true;
    this.#buffer = [];
    this.#handle.free();
  }
}
