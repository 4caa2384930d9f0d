// The layouts data crosses the JS/wasm boundary in (docs/format.md, "The JS boundary"): one
// buffer per call and direction, so a batch, a getMany or a page of a scan costs one call,
// however many entries it holds. Integers are u32 little-endian unless stated.
//   batch:  the log's write batch format: sequence u64 (0 here), count u32, then per
//           operation kind u8 (1 put, 0 delete), key_len varint32, key, (put) value_len
//           varint32, value
//   keys:   for getMany, len u32 then the bytes, per key
//   values: getMany's answer, len u32 (0xffffffff: absent) then the bytes, per key
//   page:   a scan's entries, key_len u32, value_len u32, key, value per entry (keys only:
//           key_len u32, key)

import { ENCODE_SHORT, asciiInto } from './text.js';

const ABSENT = 0xffffffff;
const HEADER = 12;

const varintLength = (n) => (n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5);

function writeVarint(out, at, n) {
  while (n >= 0x80) {
    out[at++] = (n & 0x7f) | 0x80;
    n >>>= 7;
  }
  out[at++] = n;
  return at;
}

/** Strings up to this many UTF-16 units are encoded in place (room for 3 bytes each). */
const IN_PLACE = 4096;
const encoder = new TextEncoder();

/**
 * Encodes a batch as it is checked: each key and value goes straight into one growing
 * buffer (strings with `TextEncoder.encodeInto`), so a batch of n operations makes one
 * buffer, not 2n arrays and a copy. `put(key, value)` and `del(key)` take well-formed
 * strings or bytes (checked by the caller) and return the byte lengths they wrote;
 * `finish()` answers the encoded batch.
 */
export class BatchWriter {
  #out;
  #at = HEADER;
  #count = 0;

  /** `count`: the operations expected (sizes the first buffer). */
  constructor(count) {
    this.#out = new Uint8Array(HEADER + Math.max(1, count) * 64);
  }

  #room(bytes) {
    if (this.#at + bytes <= this.#out.length) return;
    const grown = new Uint8Array(Math.max(this.#out.length * 2, this.#at + bytes));
    grown.set(this.#out.subarray(0, this.#at));
    this.#out = grown;
  }

  /** Appends `data` with its varint length; returns its length in bytes. */
  #data(data) {
    if (typeof data === 'string' && data.length <= ENCODE_SHORT && data.length < 0x80) {
      this.#room(1 + data.length);
      const written = asciiInto(data, this.#out, this.#at + 1);
      if (written >= 0) {
        this.#out[this.#at] = written; // a one-byte varint: under 128
        this.#at += 1 + written;
        return written;
      }
    }
    if (typeof data === 'string' && data.length <= IN_PLACE) {
      // Encoded after room for the longest varint it may need, then moved up to the real one.
      const most = data.length * 3;
      const reserved = varintLength(most);
      this.#room(reserved + most);
      const { written } = encoder.encodeInto(data, this.#out.subarray(this.#at + reserved, this.#at + reserved + most));
      const needed = varintLength(written);
      if (needed < reserved) this.#out.copyWithin(this.#at + needed, this.#at + reserved, this.#at + reserved + written);
      this.#at = writeVarint(this.#out, this.#at, written) + written;
      return written;
    }
    const bytes = typeof data === 'string' ? encoder.encode(data) : data;
    this.#room(5 + bytes.length);
    this.#at = writeVarint(this.#out, this.#at, bytes.length);
    this.#out.set(bytes, this.#at);
    this.#at += bytes.length;
    return bytes.length;
  }

  /** Appends a put; returns `[keyLength, valueLength]` in bytes. */
  put(key, value) {
    this.#room(1);
    this.#out[this.#at++] = 1;
    this.#count++;
    return [this.#data(key), this.#data(value)];
  }

  /** Appends a delete; returns the key's length in bytes. */
  del(key) {
    this.#room(1);
    this.#out[this.#at++] = 0;
    this.#count++;
    return this.#data(key);
  }

  /** The number of operations written. */
  get count() {
    return this.#count;
  }

  /** The encoded batch. */
  finish() {
    new DataView(this.#out.buffer).setUint32(8, this.#count, true);
    return this.#out.subarray(0, this.#at);
  }
}

/** Keys (bytes) packed for getMany. */
export function packKeys(keys) {
  let size = 0;
  for (const key of keys) size += 4 + key.length;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let at = 0;
  for (const key of keys) {
    view.setUint32(at, key.length, true);
    out.set(key, at + 4);
    at += 4 + key.length;
  }
  return out;
}

/** getMany's answer: an array of `count` values, views into `bytes` (`undefined`: absent). */
export function unpackValues(bytes, count) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Array(count);
  let at = 0;
  for (let i = 0; i < count; i++) {
    const len = view.getUint32(at, true);
    at += 4;
    if (len === ABSENT) continue;
    out[i] = bytes.subarray(at, at + len);
    at += len;
  }
  return out;
}

/** Reads a page of a scan entry by entry: `next()` gives `[key, value]` views, or null at its end. */
export class PageReader {
  #bytes;
  #view;
  #at = 0;
  #values;

  constructor(bytes, values) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#values = values;
  }

  /** True when the page holds no entries (the end of the scan). */
  get empty() {
    return this.#bytes.length === 0;
  }

  next() {
    if (this.#at >= this.#bytes.length) return null;
    const keyLength = this.#view.getUint32(this.#at, true);
    let at = this.#at + 4;
    let valueLength = 0;
    if (this.#values) {
      valueLength = this.#view.getUint32(at, true);
      at += 4;
    }
    const key = this.#bytes.subarray(at, at + keyLength);
    at += keyLength;
    const value = this.#values ? this.#bytes.subarray(at, at + valueLength) : undefined;
    this.#at = at + valueLength;
    return [key, value];
  }
}
