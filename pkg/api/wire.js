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

/** `ops` (`['put', key, value]` or `['del', key]`, bytes) as one encoded batch. */
export function encodeBatch(ops) {
  let size = HEADER;
  for (const [type, key, value] of ops) {
    size += 1 + varintLength(key.length) + key.length;
    if (type === 'put') size += varintLength(value.length) + value.length;
  }
  const out = new Uint8Array(size);
  new DataView(out.buffer).setUint32(8, ops.length, true);
  let at = HEADER;
  for (const [type, key, value] of ops) {
    out[at++] = type === 'put' ? 1 : 0;
    at = writeVarint(out, at, key.length);
    out.set(key, at);
    at += key.length;
    if (type === 'put') {
      at = writeVarint(out, at, value.length);
      out.set(value, at);
      at += value.length;
    }
  }
  return out;
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
