// An async iterator over a range, pulling entries from wasm in growing pages: each page is
// one call and one buffer (see wire.js), read entry by entry with views into it.
import { PageReader } from './wire.js';

const FIRST_PAGE = 16;
const MAX_PAGE = 4096;
/** A page stops at about this many bytes, however many entries it holds. */
const PAGE_BYTES = 256 * 1024;

export class Iterator {
  #handle;
  #call;
  #decodeKey;
  #decodeValue;
  #mode;
  #onClose;
  /** The page being read, or null. */
  #page = null;
  #pageSize = FIRST_PAGE;
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
    let entry = this.#page?.next() ?? null;
    if (entry === null && !this.#done) {
      this.#fill();
      entry = this.#page?.next() ?? null;
    }
    if (entry === null) return { done: true, value: undefined };
    const [key, value] = entry;
    if (this.#mode === 'keys') return { done: false, value: this.#call(() => this.#decodeKey(key)) };
    if (this.#mode === 'values') return { done: false, value: this.#call(() => this.#decodeValue(value)) };
    return { done: false, value: this.#call(() => [this.#decodeKey(key), this.#decodeValue(value)]) };
  }

  /** Everything left, as an array; closes the iterator. */
  all() {
    return drain(this);
  }

  #fill() {
    let bytes;
    try {
      bytes = this.#call(() => this.#handle.nextPage(this.#pageSize, PAGE_BYTES, this.#mode !== 'keys'));
    } catch (err) {
      this.close();
      throw err;
    }
    this.#page = new PageReader(bytes, this.#mode !== 'keys');
    this.#pageSize = Math.min(this.#pageSize * 2, MAX_PAGE);
    if (this.#page.empty) this.close();
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
    this.#page = null;
    this.#handle.free();
    this.#onClose?.(this);
  }
}

/**
 * Everything left of `iterator` (this module's, or the page proxy's), as an array; closes
 * it, also when a step fails.
 */
export async function drain(iterator) {
  const out = [];
  try {
    for (let step = await iterator.next(); !step.done; step = await iterator.next()) out.push(step.value);
  } finally {
    iterator.close();
  }
  return out;
}
