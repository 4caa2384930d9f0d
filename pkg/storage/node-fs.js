// The files of a store in a folder, through Node's synchronous fs calls (Deno and Bun
// provide node:fs too). The engine calls these methods from wasm (see src/storage/js.rs);
// every error carries a `ppdbCode`.
import fs from 'node:fs';
import { join } from 'node:path';

const LOCK = 'LOCK';

function codeOf(err) {
  if (err?.code === 'ENOENT') return 'NOT_FOUND';
  if (err?.code === 'ENOSPC' || err?.code === 'EDQUOT') return 'QUOTA_EXCEEDED';
  return 'IO';
}

/** Runs an fs call, turning its error into one the engine understands. */
function io(what, fn) {
  try {
    return fn();
  } catch (err) {
    throw Object.assign(new Error(`${what}: ${err.message}`), { ppdbCode: codeOf(err) });
  }
}

export class NodeFiles {
  #dir;
  #fds = new Map();

  constructor(dir) {
    this.#dir = dir;
  }

  #path(name) {
    return join(this.#dir, name);
  }

  #fd(name) {
    let fd = this.#fds.get(name);
    if (fd === undefined) {
      fd = io(name, () => fs.openSync(this.#path(name), 'r+'));
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
    io('sync folder', () => {
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
    this.#fds.set(name, io(name, () => fs.openSync(this.#path(name), 'w+')));
    this.#syncDir();
  }

  append(name, data) {
    const fd = this.#fd(name);
    io(name, () => {
      const end = fs.fstatSync(fd).size;
      let written = 0;
      while (written < data.length) written += fs.writeSync(fd, data, written, data.length - written, end + written);
    });
  }

  read(name, offset, len) {
    const fd = this.#fd(name);
    const buf = new Uint8Array(len);
    const n = io(name, () => fs.readSync(fd, buf, 0, len, offset));
    return buf.subarray(0, n);
  }

  size(name) {
    return io(name, () => fs.statSync(this.#path(name)).size);
  }

  sync(name) {
    const fd = this.#fd(name);
    io(name, () => fs.fdatasyncSync(fd));
  }

  truncate(name, len) {
    const fd = this.#fd(name);
    io(name, () => {
      fs.ftruncateSync(fd, len);
      fs.fsyncSync(fd);
    });
  }

  remove(name) {
    this.#forget(name);
    try {
      fs.unlinkSync(this.#path(name));
    } catch (err) {
      if (err.code !== 'ENOENT') throw Object.assign(err, { ppdbCode: codeOf(err) });
      return;
    }
    this.#syncDir();
  }

  list() {
    return io('list', () =>
      fs.readdirSync(this.#dir, { withFileTypes: true })
        .filter((e) => e.isFile() && e.name !== LOCK && !e.name.startsWith('.'))
        .map((e) => e.name),
    );
  }

  rename(from, to) {
    this.#forget(from);
    this.#forget(to);
    io(from, () => fs.renameSync(this.#path(from), this.#path(to)));
    this.#syncDir();
  }

  /** Closes every open file. */
  close() {
    for (const name of [...this.#fds.keys()]) this.#forget(name);
  }
}
