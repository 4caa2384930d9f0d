// An async iterator over a range, pulling entries from wasm in growing pages: each page is
// one call and one buffer (see wire.js), read entry by entry with views into it.
import { codecReady, decodeKey, decodeValue, toBytes } from './encoding.js';
import { PageReader } from './wire.js';

const FIRST_PAGE = 16;
const MAX_PAGE = 4096;
/** A page stops at about this many bytes, however many entries it holds. */
const PAGE_BYTES = 256 * 1024;

/** @internal Keeps an iterator at its end instead of releasing it, so a seek may follow. */
export const holdAtEnd = Symbol('holdAtEnd');
/** @internal `iterator[seekUnread](target, unread)`: seek, with `unread` entries read ahead and dropped. */
export const seekUnread = Symbol('seekUnread');

export class Iterator {
  #handle;
  #memory;
  #call;
  #keyEncoding;
  #valueEncoding;
  #mode;
  #onClose;
  /** The page being read, or null. */
  #page = null;
  #pageSize = FIRST_PAGE;
  #done = false;
  /** Why it ended, if not by reaching its end or by its own close(): the store closed. */
  #ended = null;
  /** Released by its holder, not at its end (see holdAtEnd). */
  #hold = false;
  /** The value encoding's codec loading, until it has loaded (see codecReady). */
  #codec;

  /**
   * @internal `memory` is the engine's scratch (views of wasm memory: engine/scratch.js);
   * `keyEncoding`/`valueEncoding` say what the caller reads; `mode` is 'entries', 'keys' or
   * 'values'; `onClose` runs once when it is released.
   */
  constructor(handle, { memory, call, keyEncoding, valueEncoding, mode = 'entries', onClose }) {
    this.#handle = handle;
    this.#memory = memory;
    this.#call = call;
    this.#keyEncoding = keyEncoding;
    this.#valueEncoding = valueEncoding;
    this.#mode = mode;
    this.#onClose = onClose;
    this.#codec = mode === 'keys' ? null : codecReady(valueEncoding);
  }

  [Symbol.asyncIterator]() {
    return this;
  }

  /** The next `[key, value]` (or key, or value, for `keys()` and `values()`), as an iterator result. */
  async next() {
    if (this.#codec) await this.#codec;
    this.#codec = null;
    if (this.#ended) throw this.#ended;
    let more = this.#page?.next() ?? false;
    if (!more && !this.#done) {
      this.#fill();
      more = this.#page?.next() ?? false;
    }
    if (!more) return { done: true, value: undefined };
    try {
      if (this.#mode === 'keys') return { done: false, value: this.#key() };
      if (this.#mode === 'values') return { done: false, value: this.#value() };
      return { done: false, value: [this.#key(), this.#value()] };
    } catch (err) {
      // A value its encoding cannot read: reported as an engine call's failure would be.
      return this.#call(() => {
        throw err;
      });
    }
  }

  #key() {
    const page = this.#page;
    if (this.#keyEncoding === 'bytes') return page.key;
    return page.keyText() ?? decodeKey(page.key, this.#keyEncoding);
  }

  #value() {
    const page = this.#page;
    if (this.#valueEncoding === 'bytes') return page.value;
    // Bytes are asked for (a copy of the page) only when the text is not ASCII.
    const text = page.valueText();
    return decodeValue(text === null ? page.value : null, this.#valueEncoding, text);
  }

  /**
   * Moves the iterator: the next entries are those from the first key at or after
   * `target` (at or before it, for a reverse iterator), within the iterator's range and
   * snapshot and toward the same limit; a target outside the range ends it. An iterator
   * that has reached its end (or was closed) has let go of its data: seek() does nothing.
   */
  seek(target) {
    this[seekUnread](target, 0);
  }

  /** @internal See seekUnread: the proxy worker's seek for its page. */
  [seekUnread](target, unread) {
    const bytes = toBytes(target, 'seek() target');
    if (this.#done) return;
    // The entries of the page not read yet do not count toward the limit.
    while (this.#page?.next()) unread++;
    this.#call(() => this.#handle.seek(bytes, unread));
    this.#page = null;
    this.#pageSize = FIRST_PAGE;
  }

  /** @internal See holdAtEnd. */
  [holdAtEnd]() {
    this.#hold = true;
  }

  /** Everything left, as an array; closes the iterator. */
  all() {
    return drain(this);
  }

  #fill() {
    let length;
    let pointer;
    try {
      length = this.#call(() => this.#handle.nextPage(this.#pageSize, PAGE_BYTES, this.#mode !== 'keys'));
      pointer = this.#handle.pagePointer();
    } catch (err) {
      this.close();
      throw err;
    }
    const memory = this.#memory;
    // Read where it lies, or (memory TextDecoder will not read: shared, in browsers) copied.
    const values = this.#mode !== 'keys';
    if (memory.decodesViews) this.#page = new PageReader(() => memory.view(pointer, length), length, values);
    else this.#page = PageReader.owning(memory.view(pointer, length).slice(), values);
    this.#pageSize = Math.min(this.#pageSize * 2, MAX_PAGE);
    if (this.#page.empty && !this.#hold) this.close();
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
