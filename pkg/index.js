// ppdb: an embedded key-value store in WebAssembly.
//   import { open } from 'ppdb'
//   const db = await open('name', { storage: 'auto' })
import { PpdbError, invalid } from './api/errors.js';
import { loadEngine, pickFlavour } from './engine/loader.js';
import { askPersistence, browserFiles, resolveStorage, destroyFiles, opfsThroughWorker } from './storage/index.js';
import { checkName, checkOpen, readOptions, readField, checkStore, RANGE } from './api/options.js';
import { describe } from './api/encoding.js';

export { PpdbError };
export { setLogger } from './engine/loader.js';

// WebKit runs a module worker's entry a second time when a module imports it, and the
// chunks a bundler splits off the worker do: the app's worker code (with this module in
// its entry chunk) then runs twice. Said once, where it happens.
const EVALUATED = Symbol.for('ppdb.evaluated');
if (globalThis[EVALUATED] && typeof WorkerGlobalScope === 'function') {
  console.warn("ppdb: this worker's module ran twice, as WebKit runs a bundled module worker's entry again: make the entry only import() its code (ppdb's README: Vite and other bundlers)");
}
globalThis[EVALUATED] = true;

/**
 * Opens (creating it if needed) a store.
 * @param {string} name
 * @param {object} [options] see index.d.ts: storage, path, durability, recovery, threads,
 *   wasmModule, keyEncoding, valueEncoding, maxKeySize, maxValueSize, memtableSize, memoryLimit.
 * On a page, OPFS stores (`storage: 'opfs'`, and `'auto'` where OPFS exists) are opened in a
 * dedicated worker of the package's and answered through a promise proxy (pkg/proxy/page.js).
 */
export async function open(name, given) {
  const options = checkOpen(name, given);
  const choice = options.storage ?? 'auto';
  // Browser stores are shared by every tab and worker of the origin that opens them
  // (pkg/proxy/tabs.js), unless `exclusive`: the election's modules, and (for a storage
  // named) what owning the store takes, load while the storage is probed.
  const shared = choice !== 'memory' && choice !== 'fs' && !options.exclusive && canShare();
  const election = shared ? import('./proxy/tabs.js') : undefined;
  election?.catch(() => {}); // awaited below, where it is needed
  if (shared && choice !== 'auto') warmUp(name, options, choice);
  const storage = await resolveStorage(choice);
  // Asked here: only a page can ask (its store may open in a worker, or at another tab).
  if (options.persist && storage !== 'memory' && storage !== 'fs') await askPersistence();
  if (shared && (storage === 'opfs' || storage === 'indexeddb')) {
    if (choice === 'auto') warmUp(name, options, storage);
    const { openShared } = await election;
    return openShared(name, { ...options, storage }, (owned, opening) => openInThisContext(owned, opening, choice));
  }
  return openInThisContext(name, { ...options, storage }, choice);
}

/** True where contexts can elect an owner and talk to it (Web Locks, BroadcastChannel). */
const canShare = () => typeof BroadcastChannel === 'function' && Boolean(globalThis.navigator?.locks) && typeof crypto?.randomUUID === 'function';

/**
 * While a shared store's election runs (pkg/proxy/tabs.js and its modules load, the owner
 * lock is asked for), starts loading what owning it in this context takes: the engine's
 * module, compiled, and the storage's and the Db's modules. Skipped where the store would
 * open in a worker (a page's OPFS: the worker loads them) or another context owns it
 * already (this one will forward to it). Nothing waits for it; its failures are left to the
 * open that needs what failed.
 */
function warmUp(name, options, storage) {
  if (storage === 'opfs' && opfsThroughWorker()) return;
  navigator.locks
    .query()
    .then(({ held }) => {
      if (held.some((lock) => lock.name === `ppdb-owner:${name}`)) return;
      loadEngine(pickFlavour(options.threads, options.wasmModule, storage), undefined, options.wasmModule).catch(() => {});
      browserFiles(storage).catch(() => {});
      import('./api/open.js').catch(() => {});
    })
    .catch(() => {});
}

/**
 * Opens the store's files in this context (on a page, OPFS through a worker of its own).
 * The Db and what it needs load on the first open here: a page whose stores all open in
 * workers (OPFS) never loads them. `choice`: the storage asked for; 'auto' goes to the page's
 * worker as it is, which opens IndexedDB where it cannot make sync access handles.
 */
async function openInThisContext(name, options, choice) {
  if (options.storage === 'opfs' && opfsThroughWorker()) {
    const { openThroughWorker } = await import('./proxy/page.js');
    return openThroughWorker(name, choice === 'auto' ? { ...options, storage: choice } : options);
  }
  return (await import('./api/open.js')).openHere(name, options);
}

/** Deletes a store and all its data. It must not be open anywhere. */
export async function destroy(name, given) {
  checkName(name);
  const options = readOptions(given, 'destroy() options', ['storage', 'path']);
  // On a page, 'auto' must name the storage its OPFS worker would pick (see openInThisContext).
  const storage = await resolveStorage(options.storage ?? 'auto', { askWorker: true });
  if (storage !== 'memory') await destroyFiles(storage, name, options);
}

/**
 * Opens, in this thread (a Worker), the store another thread shared with `db.share()`.
 * Must run before this thread opens any store of its own.
 */
export async function attach(token) {
  if (token === null || typeof token !== 'object' || readField(token, 'ppdb', 'the token') !== 1) {
    throw invalid(`attach() takes the value returned by db.share(), got ${describe(token)}`);
  }
  const [module, memory, id, options] = ['module', 'memory', 'id', 'options'].map((name) => readField(token, name, 'the token'));
  if (!(module instanceof WebAssembly.Module) || !(memory instanceof WebAssembly.Memory)) {
    throw invalid('the share token lost its module or memory in transit');
  }
  if (!Number.isInteger(id) || options === null || typeof options !== 'object') {
    throw invalid('the share token is incomplete: pass the whole value db.share() returned');
  }
  const { changes } = options;
  if (changes !== undefined && !(typeof changes?.channel === 'string' && changes.watchers instanceof Int32Array && changes.watchers.buffer instanceof SharedArrayBuffer)) {
    throw invalid('the share token lost its change feed in transit: pass the whole value db.share() returned');
  }
  return (await import('./api/attach.js')).attachHere(module, memory, id, options);
}

// NDJSON export and import (pkg/api/ndjson.js), backups and moving stores as text: loaded on
// first use, as most pages never call them. Bad arguments still throw at once.

/** The store's entries as NDJSON lines (see index.d.ts). */
export function exportNdjson(db, options) {
  checkStore(db, 'exportNdjson()');
  const checked = readOptions(options, 'exportNdjson() options', [...RANGE, 'onProgress']);
  return (async function* lines() {
    yield* (await import('./api/ndjson.js')).exportLines(db, checked);
  })();
}

/** Writes the records of an NDJSON source into the store (see index.d.ts). */
export async function importNdjson(db, source, options) {
  return (await import('./api/ndjson.js')).importNdjson(db, source, options);
}
