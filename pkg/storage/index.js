// Where a store's files live: which storages exist here, and opening their JS side.
//   fs         Node, Deno, Bun: a folder, a LOCK file (pkg/node/, imported as #node)
//   opfs       dedicated workers: OPFS sync access handles (pkg/storage/opfs.js); pages
//              reach it through a worker of the package's (pkg/proxy/page.js)
//   indexeddb  pages and workers: in memory, committed behind (pkg/storage/idb.js)
//   memory     anywhere: nothing persists
import { PpdbError, invalid, storageError } from '../api/errors.js';

const isNode = typeof process !== 'undefined' && Boolean(process.versions?.node);
const hasOpfs = () => typeof FileSystemSyncAccessHandle !== 'undefined' && Boolean(globalThis.navigator?.storage?.getDirectory);
const hasIdb = () => typeof indexedDB !== 'undefined';

/**
 * True on a page (a window) where OPFS exists: sync access handles only exist in dedicated
 * workers, so `open()` runs an OPFS store there in a worker of the package's (pkg/proxy/page.js).
 */
export const opfsThroughWorker = () =>
  !hasOpfs() && typeof document !== 'undefined' && typeof Worker === 'function' && Boolean(globalThis.navigator?.storage?.getDirectory);

/**
 * Whether the store's data stays under storage pressure: a browser keeps an origin's
 * storage only while it is "persisted" (`navigator.storage.persist()`, which a page may
 * ask: see askPersistence), else may evict it all; files in Node stay; memory does not.
 */
export async function persistence(storage) {
  if (storage === 'memory') return false;
  if (storage === 'fs') return true;
  try {
    return (await globalThis.navigator?.storage?.persisted?.()) ?? false;
  } catch {
    return false;
  }
}

/**
 * How long `open()` waits for the browser's answer to `persist()`. Chromium answers at once
 * (its heuristics, about 1 ms here); Firefox asks the user, and its promise settles only
 * once the user has answered (headless: never), so an open that waited for it could wait
 * for good. The question stays asked: a later grant persists the whole origin, this
 * store included.
 */
const PERSIST_WAIT_MS = 250;

/** `open(name, { persist: true })` on a page: asks the browser to keep the origin's storage. */
export async function askPersistence() {
  let timer;
  try {
    const asked = globalThis.navigator?.storage?.persist?.();
    await Promise.race([asked, new Promise((resolve) => (timer = setTimeout(resolve, PERSIST_WAIT_MS)))]);
    asked?.catch?.(() => {});
  } catch {
    // Refused or unavailable: `db.persisted` reports what holds.
  } finally {
    clearTimeout(timer);
  }
}

export const STORAGES = ['auto', 'memory', 'fs', 'opfs', 'indexeddb'];

/** The storage `choice` means here. 'auto': fs in Node, Deno and Bun; OPFS in a dedicated
 * worker, and on a page where OPFS exists (through a worker), unless OPFS cannot hold a
 * store here (opfsRefused); IndexedDB elsewhere in a browser; memory where nothing persists.
 * `askWorker`: on a page, also what its workers find (see opfsRefused in ./probe.js). */
export async function resolveStorage(choice, { askWorker = false } = {}) {
  if (!STORAGES.includes(choice)) {
    throw invalid(`storage must be one of ${STORAGES.join(', ')}, got ${String(choice)}`);
  }
  const opfsHere = hasOpfs() || opfsThroughWorker();
  if (choice === 'auto') {
    if (isNode) return 'fs';
    if (opfsHere && !(await opfsRefused(askWorker))) return 'opfs';
    if (hasIdb()) return 'indexeddb';
    return 'memory';
  }
  if (choice === 'fs' && !isNode) throw new PpdbError('UNSUPPORTED', "storage 'fs' needs Node, Deno or Bun");
  if (choice === 'opfs') {
    if (!opfsHere) throw new PpdbError('UNSUPPORTED', "storage 'opfs' needs a dedicated worker or a page where OPFS exists");
    const refused = await opfsRefused(askWorker);
    if (refused) throw new PpdbError('UNSUPPORTED', `${refused}; IndexedDB may still work`);
  }
  if (choice === 'indexeddb' && !hasIdb()) throw new PpdbError('UNSUPPORTED', 'IndexedDB is not available here');
  return choice;
}

/** Why OPFS cannot hold a store here, or null (./probe.js, loaded where OPFS exists). */
async function opfsRefused(askWorker) {
  return (await import('./probe.js')).opfsRefused({ askWorker });
}

/** Tells the engine to forget files `id`; an engine that stopped (a trap) is past caring. */
function unregister(wasm, id) {
  try {
    wasm.unregisterFiles(id);
  } catch {
    // the instance trapped before: the files are closed and the lock released all the same
  }
}

/**
 * Holds the Web Lock of store `name` until the returned function is called; waits up to
 * `wait` ms for another context to release it (0: LOCKED at once).
 */
function webLock(name, wait = 0) {
  if (!globalThis.navigator?.locks) return Promise.resolve(() => {});
  const locked = () => new PpdbError('LOCKED', `store '${name}' is open in another tab or worker`);
  const options = wait > 0 ? { signal: AbortSignal.timeout(wait) } : { ifAvailable: true };
  return new Promise((resolve, reject) => {
    navigator.locks
      .request(`ppdb:${name}`, options, (lock) => {
        if (!lock) {
          reject(locked());
          return undefined;
        }
        return new Promise((release) => resolve(release));
      })
      .catch((err) => reject(err?.name === 'TimeoutError' || err?.name === 'AbortError' ? locked() : err));
  });
}

/** The engine's bindings, once `wasmReady` settles; if it fails, `undo()` runs first. */
async function engineOr(wasmReady, undo) {
  try {
    return await wasmReady;
  } catch (err) {
    await undo();
    throw err;
  }
}

/** The module of a browser storage's files: OpfsFiles or IdbFiles (imported once, on first use). */
export async function browserFiles(storage) {
  return storage === 'opfs' ? (await import('./opfs.js')).OpfsFiles : (await import('./idb.js')).IdbFiles;
}

async function openBrowserFiles(storage, name, wasmReady, lockTimeout) {
  const release = await webLock(name, lockTimeout);
  let files;
  try {
    files = await (await browserFiles(storage)).open(name);
  } catch (err) {
    release();
    // OPFS without sync access handles behind it (WebKitGTK): NotSupportedError, UNSUPPORTED.
    throw storageError(`could not open the ${storage === 'opfs' ? 'OPFS' : 'IndexedDB'} files of store '${name}'`, err);
  }
  const wasm = await engineOr(wasmReady, async () => {
    await files.close();
    release();
  });
  const id = wasm.registerFiles(files);
  return {
    id,
    descriptor: null,
    // Writes are made durable by the JS side, shared by every write of a turn.
    groupCommit: true,
    commit: storage === 'indexeddb' ? () => files.commit() : null,
    ready: storage === 'opfs' ? () => files.ready() : null,
    takeError: () => files.takeError(),
    // OPFS in the threaded engine: this thread answers the file calls of attached workers.
    share: files.serveOthers ? (memory, owner) => files.serveOthers(wasm, memory, id, owner) : null,
    async close() {
      try {
        unregister(wasm, id);
        await files.close();
      } finally {
        release();
      }
    },
  };
}

/**
 * Opens the files of store `name` for this thread: `{ id, descriptor, groupCommit, commit,
 * syncAtExit, close() }`. `descriptor` (fs only) lets a worker open the same files (see
 * joinFiles); `syncAtExit` (fs only: pkg/node/index.js) syncs a store as the process exits.
 * `wasmReady`: the engine's bindings, or a promise of them: the files open while the
 * engine loads, and are registered with it once both are done (closed again if it fails).
 */
export async function openFiles(storage, name, options, wasmReady) {
  if (storage !== 'fs') return openBrowserFiles(storage, name, wasmReady, options.lockTimeout);
  const node = await import('#node');
  const { dir, files, unlock } = node.openFolder(name, options);
  const wasm = await engineOr(wasmReady, () => {
    files.close();
    unlock();
  });
  const id = wasm.registerFiles(files);
  return {
    id,
    descriptor: { kind: 'fs', dir, id },
    groupCommit: false,
    commit: null,
    syncAtExit: node.syncAtExit,
    takeError: () => files.takeError(),
    close() {
      try {
        unregister(wasm, id);
        files.close();
      } finally {
        unlock();
      }
    },
  };
}

/** This thread's files for a store another thread opened (a worker attaching). */
export async function joinFiles(descriptor, wasm) {
  if (descriptor.kind === 'owner') return (await import('./owner.js')).ownersFiles(descriptor);
  const node = await import('#node');
  const files = node.joinFolder(descriptor.dir);
  wasm.registerFilesAs(descriptor.id, files);
  return {
    id: descriptor.id,
    descriptor,
    groupCommit: false,
    commit: null,
    syncAtExit: node.syncAtExit,
    takeError: () => files.takeError(),
    close() {
      unregister(wasm, descriptor.id);
      files.close();
    },
  };
}

/** Deletes store `name`, unless it is open somewhere. */
export async function destroyFiles(storage, name, options) {
  if (storage !== 'fs') {
    const release = await webLock(name);
    try {
      await (await browserFiles(storage)).destroy(name);
    } catch (err) {
      throw storageError(`could not delete store '${name}'`, err);
    } finally {
      release();
    }
    return;
  }
  (await import('#node')).destroyFolder(name, options);
}
