// Opening a store in this context: the engine, its files and the Db all live here. This is
// what `open()` runs in Node, in workers, and on a page for memory and IndexedDB stores.
// A page's OPFS stores run it inside the proxy worker (pkg/proxy-worker.js), which imports
// this module rather than index.js so that its module graph never reaches pkg/proxy.js
// (bundlers such as Vite reject a worker that starts itself).
import { Db, startBackgroundWorker } from './db.js';
import { invalid, callEngine } from './errors.js';
import { checkEncoding } from './encoding.js';
import { loadEngine, pickFlavour } from './loader.js';
import { openFiles, resolveStorage } from './storage/index.js';

const DURABILITY = ['sync', 'relaxed'];
const RECOVERY = ['strict', 'skip-corrupted'];

/** Checks the name and options of `open()`; throws INVALID_ARGUMENT. */
export function checkOptions(name, options) {
  if (typeof name !== 'string' || name.length === 0) throw invalid('name must be a non-empty string');
  if (options === null || typeof options !== 'object') throw invalid('options must be an object');
  for (const limit of ['maxKeySize', 'maxValueSize', 'memtableSize', 'memoryLimit', 'relaxedFlushBytes', 'blockCacheSize']) {
    const v = options[limit];
    if (v !== undefined && !(Number.isInteger(v) && v > 0)) throw invalid(`${limit} must be a positive integer`);
  }
  const interval = options.relaxedFlushInterval;
  if (interval !== undefined && !(Number.isInteger(interval) && interval >= 0)) {
    throw invalid('relaxedFlushInterval must be a non-negative integer (milliseconds)');
  }
  if (options.durability !== undefined && !DURABILITY.includes(options.durability)) {
    throw invalid(`durability must be one of ${DURABILITY.join(', ')}`);
  }
  if (options.recovery !== undefined && !RECOVERY.includes(options.recovery)) {
    throw invalid(`recovery must be one of ${RECOVERY.join(', ')}`);
  }
  if (options.path !== undefined && typeof options.path !== 'string') throw invalid('path must be a string');
  if (options.wasmModule !== undefined && !(options.wasmModule instanceof WebAssembly.Module)) {
    throw invalid('wasmModule must be a WebAssembly.Module (of pkg/wasm/single/ppdb_bg.wasm)');
  }
}

/** What the engine is told (the rest stays in JS). */
function engineOptions(options) {
  const { maxKeySize, maxValueSize, memtableSize, memoryLimit, durability, relaxedFlushBytes, recovery, blockCacheSize, latencySwitch } = options;
  return { maxKeySize, maxValueSize, memtableSize, memoryLimit, durability, relaxedFlushBytes, recovery, blockCacheSize, latencySwitch };
}

/**
 * Opens (creating it if needed) store `name` in this context, with the options of `open()`
 * (see index.d.ts).
 */
export async function openHere(name, options = {}) {
  checkOptions(name, options);
  const storage = resolveStorage(options.storage ?? 'auto');
  const keyEncoding = checkEncoding(options.keyEncoding ?? 'utf8', 'keyEncoding');
  const valueEncoding = checkEncoding(options.valueEncoding ?? 'utf8', 'valueEncoding');
  // wasmModule: runtimes that cannot compile wasm at run time (workerd) pass it precompiled.
  const engine = await loadEngine(pickFlavour(options.threads, options.wasmModule), undefined, options.wasmModule);
  const settings = engineOptions(options);
  let handle;
  let files = null;
  if (storage === 'memory') {
    handle = callEngine(() => engine.wasm.DbHandle.openMemory(settings));
  } else {
    files = await openFiles(storage, name, options, engine.wasm);
    // Where the JS side makes writes durable (group commit), the engine only logs them.
    const engineSettings = files.groupCommit ? { ...settings, durability: 'relaxed' } : settings;
    try {
      handle = callEngine(() => engine.wasm.DbHandle.openStorage(files.id, engineSettings));
    } catch (err) {
      await files.close();
      throw err;
    }
  }
  const db = new Db(handle, engine, {
    name,
    storage,
    files,
    keyEncoding,
    valueEncoding,
    durability: options.durability ?? 'sync',
    relaxedFlushInterval: options.relaxedFlushInterval ?? 100,
    maxKeySize: handle.maxKeySize,
    maxValueSize: handle.maxValueSize,
  });
  if (options.alerts !== undefined) {
    try {
      db.setAlerts(options.alerts, { interval: options.alertInterval });
    } catch (err) {
      await db.close();
      throw err;
    }
  }
  // Threaded flavour: flushes and compactions run on a worker of their own.
  if (engine.flavour === 'threaded' && files?.descriptor && options.backgroundWorker !== false) {
    await db[startBackgroundWorker]();
  }
  return db;
}
