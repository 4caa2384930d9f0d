// A store's files in IndexedDB: held in memory (the engine reads and writes them
// synchronously), written behind by `commit()`, one transaction with durability 'strict'
// for everything changed since the last commit. Records: key [file, offset] -> bytes.
import { PpdbError, storageCode, describeError } from '../api/errors.js';
import { serveOwner } from './owner.js';

const STORE = 'chunks';

function request(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function quotaOr(err) {
  const code = storageCode(err) === 'QUOTA_EXCEEDED' ? 'QUOTA_EXCEEDED' : 'IO';
  return new PpdbError(code, `IndexedDB: ${describeError(err)}`, { cause: err });
}

const fileRange = (name) => IDBKeyRange.bound([name, 0], [name, Infinity]);

function notFound(name) {
  return Object.assign(new Error(`${name}: no such file`), { ppdbCode: 'NOT_FOUND' });
}

class MemFile {
  parts = [];
  size = 0;
  committed = 0;
  rewrite = true;

  bytes() {
    if (this.parts.length !== 1) {
      const all = new Uint8Array(this.size);
      let at = 0;
      for (const p of this.parts) {
        all.set(p, at);
        at += p.length;
      }
      this.parts = [all];
    }
    return this.parts[0] ?? new Uint8Array(0);
  }
}

export class IdbFiles {
  #db;
  #files = new Map();
  #removed = new Set();
  #pending = null;
  /** The error of a failed commit: nothing is committed after it (see commit). */
  #failed = null;
  /** The commit in flight: commits run one after the other. */
  #chain = Promise.resolve();
  /** Attached workers' share of these files (see serveOthers), once asked for. */
  #serving = null;

  /** Opens (creating) the IndexedDB database of store `name` and loads its files. */
  static async open(name) {
    const req = indexedDB.open(`ppdb:${name}`, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    const db = await request(req).catch((err) => {
      throw quotaOr(err);
    });
    const files = new IdbFiles(db);
    await files.#load();
    return files;
  }

  /** Deletes the database of store `name`. */
  static async destroy(name) {
    await request(indexedDB.deleteDatabase(`ppdb:${name}`));
  }

  constructor(db) {
    this.#db = db;
  }

  async #load() {
    const tx = this.#db.transaction(STORE, 'readonly');
    const store = tx.objectStore(STORE);
    const [keys, values] = await Promise.all([request(store.getAllKeys()), request(store.getAll())]);
    for (let i = 0; i < keys.length; i++) {
      const [name, offset] = keys[i];
      let file = this.#files.get(name);
      if (!file) {
        file = new MemFile();
        file.rewrite = false;
        this.#files.set(name, file);
      }
      // Keys sort by offset; a gap means a lost commit, and nothing after it is trusted.
      if (offset !== file.size) continue;
      file.parts.push(new Uint8Array(values[i]));
      file.size += values[i].byteLength;
      file.committed = file.size;
    }
  }

  #file(name) {
    const file = this.#files.get(name);
    if (!file) throw notFound(name);
    return file;
  }

  create(name) {
    this.#files.set(name, new MemFile());
  }

  append(name, data) {
    const file = this.#file(name);
    file.parts.push(data.slice()); // a copy: the view is over wasm memory
    file.size += data.length;
  }

  read(name, offset, into) {
    const bytes = this.#file(name).bytes();
    const read = bytes.subarray(offset, Math.min(offset + into.length, bytes.length));
    into.set(read);
    return read.length;
  }

  size(name) {
    return this.#file(name).size;
  }

  sync(name) {
    this.#file(name);
  }

  truncate(name, len) {
    const file = this.#file(name);
    const bytes = file.bytes().slice(0, len);
    file.parts = [bytes];
    file.size = bytes.length;
    file.rewrite = true;
  }

  remove(name) {
    if (this.#files.delete(name)) this.#removed.add(name);
  }

  list() {
    return [...this.#files.keys()];
  }

  rename(from, to) {
    const file = this.#file(from);
    this.#files.delete(from);
    this.#removed.add(from);
    file.rewrite = true;
    this.#files.set(to, file);
  }

  /**
   * Writes every change since the last commit in one strict transaction. Nothing counts as
   * committed until the transaction completes. A failed commit (QuotaExceededError, an
   * aborted transaction) fails every later one too, with the same error: what the store
   * acknowledged is in IndexedDB, and nothing written after the failure will be, so a
   * reload finds exactly the acknowledged writes. Commits run one at a time (a commit
   * waits for the one before it), so one that fails can never leave a hole that a later,
   * successful one writes past.
   */
  commit() {
    const run = this.#chain.then(() => this.#commitNow());
    this.#chain = run.catch(() => {});
    return run;
  }

  #commitNow() {
    if (this.#failed) return Promise.reject(this.#failed);
    let tx;
    const done = [];
    try {
      tx = this.#db.transaction(STORE, 'readwrite', { durability: 'strict' });
      const store = tx.objectStore(STORE);
      const removed = [...this.#removed];
      for (const name of removed) if (!this.#files.has(name)) store.delete(fileRange(name));
      done.push(() => removed.forEach((name) => this.#removed.delete(name)));
      for (const [name, file] of this.#files) {
        const size = file.size;
        if (file.rewrite) {
          store.delete(fileRange(name));
          store.put(file.bytes().slice(), [name, 0]);
        } else if (size > file.committed) {
          store.put(file.bytes().slice(file.committed, size), [name, file.committed]);
        } else {
          continue;
        }
        file.rewrite = false; // later changes are the next commit's
        done.push(() => {
          file.committed = size;
        });
      }
    } catch (err) {
      this.#failed = quotaOr(err);
      return Promise.reject(this.#failed);
    }
    return new Promise((resolve, reject) => {
      tx.oncomplete = () => {
        for (const apply of done) apply();
        resolve();
      };
      tx.onabort = tx.onerror = (event) => {
        this.#failed ??= quotaOr(tx.error ?? event?.target?.error);
        reject(this.#failed);
      };
    });
  }

  /** No storage error is kept here: IndexedDB errors surface in commit(). */
  takeError() {
    return null;
  }

  /**
   * Makes this thread the I/O owner of these files, registered as `id` with the threaded
   * engine `wasm` over `memory`, for the Db with `options`: workers that attach to the
   * store reach them through it, and ask it for their commits (./owner.js). Returns what
   * they need (`attach()`'s descriptor).
   */
  serveOthers(wasm, memory, id, options) {
    this.#serving ??= serveOwner(wasm, memory, id, options, () => this.commit());
    return this.#serving.descriptor;
  }

  close() {
    this.#serving?.stop();
    this.#db.close();
  }
}
