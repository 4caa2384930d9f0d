// The files of a store in a folder, through Node's synchronous fs calls (Deno and Bun
// provide node:fs too). The engine calls these methods from wasm (see src/storage/js.rs);
// every error carries a `ppdbCode`.
import fs from 'node:fs';
import { join } from 'node:path';
import { storageCode } from '../api/errors.js';

const LOCK = 'LOCK';

export class NodeFiles {
  #dir;
  #fds = new Map();
  #lastError = null;

  /**
   * Runs an fs call, turning its error into one the engine understands (`ppdbCode`); the
   * original is kept for the PpdbError the call ends in (see takeError).
   */
  #io(what, fn) {
    try {
      return fn();
    } catch (err) {
      this.#lastError = err;
      throw Object.assign(new Error(`${what}: ${err.message}`), { ppdbCode: storageCode(err) });
    }
  }

  /** The last error an fs call threw (then forgotten), to become a PpdbError's cause. */
  takeError() {
    const err = this.#lastError;
    this.#lastError = null;
    return err;
  }

  constructor(dir) {
    this.#dir = dir;
  }

  #path(name) {
    return join(this.#dir, name);
  }

  #fd(name) {
    let fd = this.#fds.get(name);
    if (fd === undefined) {
      fd = this.#io(name, () => fs.openSync(this.#path(name), 'r+'));
      this.#fds.set(name, fd);
    }
    return fd;
  }

  #forget(name) {
    const fd = this.#fds.get(name);
    if (fd !== undefined) {
      this.#fds.delete(name);
      fs.closeSync(fd);
    }
  }

  #syncDir() {
    this.#io('sync folder', () => {
      const fd = fs.openSync(this.#dir, 'r');
      try {
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
    });
  }

  create(name) {
    this.#forget(name);
    this.#fds.set(name, this.#io(name, () => fs.openSync(this.#path(name), 'w+')));
    this.#syncDir();
  }

  append(name, data) {
    const fd = this.#fd(name);
    this.#io(name, () => {
      const end = fs.fstatSync(fd).size;
      let written = 0;
      while (written < data.length) written += fs.writeSync(fd, data, written, data.length - written, end + written);
    });
  }

  read(name, offset, into) {
    const fd = this.#fd(name);
    return this.#io(name, () => fs.readSync(fd, into, 0, into.length, offset));
  }

  size(name) {
    return this.#io(name, () => fs.statSync(this.#path(name)).size);
  }

  sync(name) {
    const fd = this.#fd(name);
    this.#io(name, () => fs.fdatasyncSync(fd));
  }

  truncate(name, len) {
    const fd = this.#fd(name);
    this.#io(name, () => {
      fs.ftruncateSync(fd, len);
      fs.fsyncSync(fd);
    });
  }

  remove(name) {
    this.#forget(name);
    try {
      fs.unlinkSync(this.#path(name));
    } catch (err) {
      if (err.code !== 'ENOENT') {
        this.#lastError = err;
        throw Object.assign(new Error(`${name}: ${err.message}`), { ppdbCode: storageCode(err) });
      }
      return;
    }
    this.#syncDir();
  }

  list() {
    return this.#io('list', () =>
      fs.readdirSync(this.#dir, { withFileTypes: true })
        .filter((e) => e.isFile() && e.name !== LOCK && !e.name.startsWith('.'))
        .map((e) => e.name),
    );
  }

  rename(from, to) {
    this.#forget(from);
    this.#forget(to);
    this.#io(from, () => fs.renameSync(this.#path(from), this.#path(to)));
    this.#syncDir();
  }

  /** Closes every open file. */
  close() {
    for (const name of [...this.#fds.keys()]) this.#forget(name);
  }
}
