// An async iterator over a range, pulling entries from wasm in growing batches.

const FIRST_BATCH = 16;
const MAX_BATCH = 1024;

export class Iterator {
  #handle;
  #call;
  #decodeKey;
  #decodeValue;
  #mode;
  #onClose;
  #buffer = [];
  #at = 0;
  #batch = FIRST_BATCH;
  #done = false;
  /** Why it ended, if not by reaching its end or by its own close(): the store closed. */
  #ended = null;

  /**
   * @internal `decodeKey`/`decodeValue` turn engine bytes into what the caller asked for;
   * `mode` is 'entries', 'keys' or 'values'; `onClose` runs once when it is released.
   */
  constructor(handle, { call, decodeKey, decodeValue, mode = 'entries', onClose }) {
    this.#handle = handle;
    this.#call = call;
    this.#decodeKey = decodeKey;
    this.#decodeValue = decodeValue;
    this.#mode = mode;
    this.#onClose = onClose;
  }

  [Symbol.asyncIterator]() {
    return this;
  }

  /** The next `[key, value]` (or key, or value, for `keys()` and `values()`), as an iterator result. */
  async next() {
    if (this.#ended) throw this.#ended;
    if (this.#at >= this.#buffer.length && !this.#done) this.#fill();
    if (this.#at >= this.#buffer.length) return { done: true, value: undefined };
    const key = this.#buffer[this.#at];
    const value = this.#buffer[this.#at + 1];
    this.#at += 2;
    if (this.#mode === 'keys') return { done: false, value: this.#call(() => this.#decodeKey(key)) };
    if (this.#mode === 'values') return { done: false, value: this.#call(() => this.#decodeValue(value)) };
    return { done: false, value: this.#call(() => [this.#decodeKey(key), this.#decodeValue(value)]) };
  }

  /** Everything left, as an array; closes the iterator. */
  async all() {
    const out = [];
    try {
      for (let step = await this.next(); !step.done; step = await this.next()) out.push(step.value);
    } finally {
      this.close();
    }
    return out;
  }

  #fill() {
    try {
      this.#buffer = this.#call(() => this.#handle.nextBatch(this.#batch));
    } catch (err) {
      this.close();
      throw err;
    }
    this.#at = 0;
    this.#batch = Math.min(this.#batch * 2, MAX_BATCH);
    if (this.#buffer.length === 0) this.close();
  }

  /** Ends the iteration early (`break` in `for await` calls this). */
  async return() {
    this.close();
    return { done: true, value: undefined };
  }

  /**
   * Releases the scan. Idempotent. `reason` (the store closing) makes later `next()` calls
   * reject with it rather than end as if the range were done.
   */
  close(reason) {
    if (this.#done) return;
    this.#done = true;
    this.#ended = reason ?? null;
    this.#buffer = [];
    this.#handle.free();
    this.#onClose?.(this);
  }
}
