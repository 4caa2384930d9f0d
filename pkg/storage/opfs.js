// A store's files in the Origin Private File System, through synchronous access handles
// (dedicated workers only). Handles can only be opened asynchronously, so the engine's
// synchronous `create` takes a pre-opened spare file from a pool that refills in the
// background. Each physical file starts with a header naming the logical file it holds:
//   magic "PPDB" | crc32 of the rest (u32 LE) | generation (f64 LE) | live (u8) |
//   name length (u8) | name (UTF-8), padded to HEADER bytes.
// Renames and removals rewrite one header (with a higher generation), so after a crash
// every logical name resolves to the live header with the highest generation.
import { PpdbError, storageCode } from '../api/errors.js';
import { serveOwner } from './owner.js';

const HEADER = 512;
/** Spare files the pool keeps open; below LOW_WATER, a write waits for the refill. */
const SPARES = 16;
const LOW_WATER = 8;
/** Handles opened at once (each open is a round trip to the browser's storage process). */
const PARALLEL_OPENS = 8;
const MAGIC = [0x50, 0x50, 0x44, 0x42];
const encoder = new TextEncoder();
const decoder = new TextDecoder();

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(bytes) {
  let crc = 0xffffffff;
  for (const b of bytes) crc = CRC_TABLE[(crc ^ b) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function encodeHeader(name, generation, live) {
  const header = new Uint8Array(HEADER);
  const view = new DataView(header.buffer);
  const nameBytes = encoder.encode(name);
  header.set(MAGIC, 0);
  view.setFloat64(8, generation, true);
  header[16] = live ? 1 : 0;
  header[17] = nameBytes.length;
  header.set(nameBytes, 18);
  view.setUint32(4, crc32(header.subarray(8)), true);
  return header;
}

function decodeHeader(header) {
  if (header.length < HEADER || MAGIC.some((b, i) => header[i] !== b)) return null;
  const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
  if (view.getUint32(4, true) !== crc32(header.subarray(8, HEADER))) return null;
  return {
    generation: view.getFloat64(8, true),
    live: header[16] === 1,
    name: decoder.decode(header.subarray(18, 18 + header[17])),
  };
}

/** The last error an OPFS call threw, to become a PpdbError's cause (see takeError). */
let lastError = null;

function io(what, fn) {
  try {
    return fn();
  } catch (err) {
    lastError = err;
    const ppdbCode = storageCode(err) === 'QUOTA_EXCEEDED' ? 'QUOTA_EXCEEDED' : 'IO';
    throw Object.assign(new Error(`${what}: ${err?.message ?? err}`), { ppdbCode });
  }
}

/** A fresh physical file name. */
const spareName = () => `f-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;

/**
 * `fn(item)` for every item at once; resolves to their results in order once all settled,
 * or rejects with the first failure once all settled (so no open is left running).
 */
async function settleAll(items, fn) {
  const settled = await Promise.allSettled(items.map(fn));
  const failed = settled.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((r) => r.value);
}

/** Views over shared (wasm) memory are copied before they reach the handle. */
const plain = (data) => (data.buffer instanceof ArrayBuffer ? data : data.slice());

export class OpfsFiles {
  #dir;
  #live = new Map(); // logical name -> { handle, physical }
  #spares = [];
  #generation = 0;
  #refilling = null;
  #closed = false;
  /** Handles opened by #load so far (closed if the open fails half way). */
  #loading = [];
  /** Attached workers' share of these files (see serveOthers), once asked for. */
  #serving = null;

  /** Opens the OPFS folder of store `name`, its files and a pool of spares. */
  static async open(name) {
    if (typeof FileSystemSyncAccessHandle === 'undefined') {
      throw new PpdbError('UNSUPPORTED', "storage 'opfs' needs a dedicated worker");
    }
    const root = await navigator.storage.getDirectory();
    const dir = await root.getDirectoryHandle(`ppdb-${name}`, { create: true });
    const files = new OpfsFiles(dir);
    try {
      await files.#load();
      // Enough spares for what an open creates (an empty store: CURRENT, a manifest, a log
      // segment); the rest of the pool fills in the background.
      await files.#refill(LOW_WATER);
      files.#refill().catch(() => {});
    } catch (err) {
      // Every handle this open took is given back, or the files stay locked for every
      // later open in this tab until the worker ends.
      await files.close();
      throw err;
    }
    return files;
  }

  /** Deletes the OPFS folder of store `name`. */
  static async destroy(name) {
    const root = await navigator.storage.getDirectory();
    await root.removeEntry(`ppdb-${name}`, { recursive: true }).catch((err) => {
      if (err?.name !== 'NotFoundError') throw err;
    });
  }

  constructor(dir) {
    this.#dir = dir;
  }

  async #openHandle(physical) {
    const file = await this.#dir.getFileHandle(physical, { create: true });
    try {
      return await file.createSyncAccessHandle();
    } catch (err) {
      if (err?.name === 'NoModificationAllowedError') {
        throw new PpdbError('LOCKED', 'the store is open in another worker or tab');
      }
      throw err;
    }
  }

  async #load() {
    const physicals = [];
    for await (const [physical, entry] of this.#dir.entries()) {
      if (entry.kind === 'file') physicals.push(physical);
    }
    // The handles open concurrently; the files are then read in the order listed.
    const opened = await settleAll(physicals, async (physical) => {
      const handle = await this.#openHandle(physical);
      this.#loading.push(handle);
      return handle;
    });
    const found = new Map();
    for (const [i, physical] of physicals.entries()) {
      const handle = opened[i];
      const header = new Uint8Array(HEADER);
      handle.read(header, { at: 0 });
      const meta = decodeHeader(header);
      const file = { handle, physical, meta };
      this.#generation = Math.max(this.#generation, meta?.generation ?? 0);
      const other = meta?.live ? found.get(meta.name) : undefined;
      if (meta?.live && (!other || other.meta.generation < meta.generation)) {
        if (other) this.#makeSpare(other);
        found.set(meta.name, file);
      } else {
        this.#makeSpare(file);
      }
    }
    for (const [name, file] of found) this.#live.set(name, file);
    this.#loading = [];
  }

  #makeSpare(file) {
    file.handle.truncate(0);
    file.handle.flush();
    this.#spares.push(file);
  }

  /**
   * Tops the pool of spare files up to `target` (asynchronously: opening handles is async),
   * PARALLEL_OPENS at a time. One refill runs at a time; a call during one waits for it,
   * then refills further if the pool is still short.
   */
  #refill(target = SPARES) {
    if (this.#refilling) return this.#refilling.then(() => (this.#spares.length < target ? this.#refill(target) : undefined));
    this.#refilling = (async () => {
      while (!this.#closed && this.#spares.length < target) {
        const count = Math.min(PARALLEL_OPENS, target - this.#spares.length);
        const physicals = Array.from({ length: count }, spareName);
        const settled = await Promise.allSettled(physicals.map((physical) => this.#openHandle(physical)));
        let failure = null;
        for (const [i, result] of settled.entries()) {
          if (result.status === 'rejected') failure ??= result.reason;
          else if (this.#closed) result.value.close();
          else this.#spares.push({ handle: result.value, physical: physicals[i] });
        }
        if (failure) throw failure;
      }
    })().finally(() => {
      this.#refilling = null;
    });
    return this.#refilling;
  }

  /** Resolves once enough spare files are open for the next writes to create files. */
  ready() {
    return this.#spares.length >= LOW_WATER ? undefined : this.#refill().catch(() => {});
  }

  #file(name) {
    const file = this.#live.get(name);
    if (!file) throw Object.assign(new Error(`${name}: no such file`), { ppdbCode: 'NOT_FOUND' });
    return file;
  }

  #writeHeader(file, name, live) {
    io(name, () => {
      file.handle.write(encodeHeader(name, ++this.#generation, live), { at: 0 });
      file.handle.flush();
    });
  }

  create(name) {
    const spare = this.#spares.shift();
    this.#refill().catch(() => {});
    if (!spare) throw Object.assign(new Error(`${name}: no spare file is ready yet`), { ppdbCode: 'IO' });
    io(name, () => spare.handle.truncate(HEADER));
    this.#writeHeader(spare, name, true);
    const old = this.#live.get(name);
    this.#live.set(name, spare);
    if (old) this.#free(old);
  }

  #free(file) {
    this.#writeHeader(file, '', false);
    this.#makeSpare(file);
  }

  append(name, data) {
    const { handle } = this.#file(name);
    io(name, () => {
      const at = handle.getSize();
      let written = 0;
      const bytes = plain(data);
      while (written < bytes.length) written += handle.write(bytes.subarray(written), { at: at + written });
    });
  }

  read(name, offset, into) {
    const { handle } = this.#file(name);
    return io(name, () => handle.read(into, { at: HEADER + offset }));
  }

  size(name) {
    return Math.max(0, io(name, () => this.#file(name).handle.getSize()) - HEADER);
  }

  sync(name) {
    io(name, () => this.#file(name).handle.flush());
  }

  truncate(name, len) {
    const { handle } = this.#file(name);
    io(name, () => {
      handle.truncate(HEADER + len);
      handle.flush();
    });
  }

  remove(name) {
    const file = this.#live.get(name);
    if (!file) return;
    this.#live.delete(name);
    this.#free(file);
  }

  list() {
    return [...this.#live.keys()];
  }

  rename(from, to) {
    const file = this.#file(from);
    this.#writeHeader(file, to, true);
    const old = this.#live.get(to);
    this.#live.delete(from);
    this.#live.set(to, file);
    if (old) this.#free(old);
  }

  /**
   * Makes this thread the I/O owner of these files, registered as `id` with the threaded
   * engine `wasm` over `memory`, for the Db with `options` (see ./owner.js): workers that
   * attach to the store reach them through it. Returns what they need (`attach()`'s
   * descriptor).
   */
  serveOthers(wasm, memory, id, options) {
    this.#serving ??= serveOwner(wasm, memory, id, options);
    return this.#serving.descriptor;
  }

  /** Closes every handle, after any refill in flight. */
  async close() {
    this.#closed = true;
    this.#serving?.stop();
    await this.#refilling?.catch(() => {});
    const handles = new Set([...this.#loading, ...[...this.#live.values(), ...this.#spares].map((f) => f.handle)]);
    for (const handle of handles) handle.close();
    this.#live.clear();
    this.#spares = [];
    this.#loading = [];
  }

  /** The last error an OPFS call threw (then forgotten). */
  takeError() {
    const err = lastError;
    lastError = null;
    return err;
  }
}
