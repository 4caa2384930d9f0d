// The layouts data crosses the JS/wasm boundary in (docs/format.md, "The JS boundary"): one
// buffer per call and direction, so a batch, a getMany or a page of a scan costs one call,
// however many entries it holds. Integers are u32 little-endian unless stated.
//   batch:  the log's write batch format: sequence u64 (0 here), count u32, then per
//           operation kind u8 (1 put, 0 delete), key_len varint32, key, (put) value_len
//           varint32, value (read back by watch.js: the changes a feed reads from the
//           memtables come in it, and so do the batches of other threads)
//   keys:   for getMany, a batch of deletes, one per key, in order
//   values: getMany's answer, len u32 (0xffffffff: absent) then the bytes, per key
//   page:   a scan's entries, key_len u32, value_len u32, key, value per entry (keys only:
//           key_len u32, key); a length's top bit is set when its bytes are not all ASCII

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
 * Batches expected to fit in this many bytes are written into one buffer of this size,
 * reused from one batch to the next (see recycleBatch): a new Uint8Array past 64 bytes
 * costs 0.5-0.9 µs in Node and in Chromium, and more in garbage collection; in Node a
 * batch of two 100-byte puts spent about a third of its time making its two arrays.
 */
const REUSED = 64 * 1024;
/** The buffer the next small batch writes into (null while a batch holds it). */
let spare = null;

/**
 * Gives `batch` (a BatchWriter's finish(): a batch, or getMany's keys) back for the next
 * batch to write into, once nothing holds it any more (it was copied into wasm memory, and
 * no watcher keeps it).
 */
export function recycleBatch(batch) {
  if (batch.buffer.byteLength === REUSED) spare = new Uint8Array(batch.buffer);
}

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
    const size = HEADER + Math.max(1, count) * 64;
    this.#out = size > REUSED ? new Uint8Array(size) : (spare ?? new Uint8Array(REUSED));
    if (size <= REUSED) spare = null;
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
    // The header: sequence 0 (a reused buffer's first 8 bytes stay zero), then the count.
    new DataView(this.#out.buffer).setUint32(8, this.#count, true);
    return this.#out.subarray(0, this.#at);
  }
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

/** The top bit of a page length: the bytes it measures are not all ASCII. */
const NOT_ASCII = 0x80000000;
/** ASCII text of a page is taken from strings decoded this many bytes at a time (at least). */
const CHUNK = 16 * 1024;
// windows-1252 (what 'latin1' means to TextDecoder) turns each byte into one character and
// ASCII into itself, so a chunk's string indexes like its bytes. Where a runtime lacks it,
// every string is decoded on its own.
const singleByte = (() => {
  try {
    return new TextDecoder('latin1');
  } catch {
    return null;
  }
})();

/**
 * Reads a page of a scan entry by entry: `next()` steps to an entry (false at the end), then
 * `key` and `value` are its bytes (views of a copy of the page, the caller's own), and
 * `keyText()`/`valueText()` its ASCII text, or null for bytes that are not ASCII.
 * The page is read where the engine left it (`bytes()` gives the view of it now: a view of
 * wasm memory goes empty when memory grows, and is asked for again); only bytes handed out
 * are copied, the whole page at once. ASCII text comes out of strings decoded a chunk at a
 * time (one decode call for a run of entries, then a substring each), not one call per
 * string; a substring can keep its chunk (16 KiB) in memory while the caller holds it.
 */
export class PageReader {
  #source;
  #bytes;
  #length;
  #copy = null;
  #at = 0;
  #values;
  #keyStart = 0;
  #keyEnd = 0;
  #keyAscii = false;
  #valueStart = 0;
  #valueEnd = 0;
  #valueAscii = false;
  #chunk = '';
  #chunkStart = 0;
  #chunkEnd = 0;

  /** `bytes()`: a view of the page's `length` bytes; `values` false: the page holds keys only. */
  constructor(bytes, length, values) {
    this.#source = bytes;
    this.#bytes = bytes();
    this.#length = length;
    this.#values = values;
  }

  /** A reader of `bytes`, a page that is already the caller's own (bytes handed out are views of it). */
  static owning(bytes, values) {
    const reader = new PageReader(() => bytes, bytes.length, values);
    reader.#copy = bytes;
    return reader;
  }

  /** True when the page holds no entries (the end of the scan). */
  get empty() {
    return this.#length === 0;
  }

  #live() {
    if (this.#bytes.length !== this.#length) this.#bytes = this.#source();
    return this.#bytes;
  }

  #field(bytes, at) {
    return (bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16) | (bytes[at + 3] << 24)) >>> 0;
  }

  /** Steps to the next entry; false after the last. */
  next() {
    if (this.#at >= this.#length) return false;
    const bytes = this.#live();
    const keyField = this.#field(bytes, this.#at);
    let at = this.#at + 4;
    let valueField = 0;
    if (this.#values) {
      valueField = this.#field(bytes, at);
      at += 4;
    }
    this.#keyStart = at;
    this.#keyEnd = at + (keyField & ~NOT_ASCII);
    this.#keyAscii = (keyField & NOT_ASCII) === 0;
    this.#valueStart = this.#keyEnd;
    this.#valueEnd = this.#keyEnd + (valueField & ~NOT_ASCII);
    this.#valueAscii = (valueField & NOT_ASCII) === 0;
    this.#at = this.#valueEnd;
    return true;
  }

  #owned() {
    this.#copy ??= this.#live().slice();
    return this.#copy;
  }

  /** The entry's key bytes. */
  get key() {
    return this.#owned().subarray(this.#keyStart, this.#keyEnd);
  }

  /** The entry's value bytes (empty when only keys were read). */
  get value() {
    return this.#owned().subarray(this.#valueStart, this.#valueEnd);
  }

  /** The key as a string if it is ASCII, else null (decode `key` as UTF-8 then). */
  keyText() {
    return this.#keyAscii ? this.#text(this.#keyStart, this.#keyEnd) : null;
  }

  /** The value as a string if it is ASCII, else null. */
  valueText() {
    return this.#valueAscii ? this.#text(this.#valueStart, this.#valueEnd) : null;
  }

  #text(start, end) {
    if (singleByte === null) return null;
    if (start < this.#chunkStart || end > this.#chunkEnd) {
      this.#chunkStart = start;
      this.#chunkEnd = Math.min(this.#length, Math.max(end, start + CHUNK));
      this.#chunk = singleByte.decode((this.#copy ?? this.#live()).subarray(start, this.#chunkEnd));
    }
    return this.#chunk.substring(start - this.#chunkStart, end - this.#chunkStart);
  }
}
