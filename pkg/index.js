// ppdb: an embedded key-value store in WebAssembly.
//   import { open } from 'ppdb'
//   const db = await open('name', { storage: 'auto' })
import { Db, startBackgroundWorker } from './db.js';
import { PpdbError, invalid, callEngine } from './errors.js';
import { checkEncoding } from './encoding.js';
import { loadEngine, pickFlavour } from './loader.js';
import { openFiles, joinFiles, resolveStorage, destroyFiles } from './storage/index.js';

export { PpdbError };

const DURABILITY = ['sync', 'relaxed'];
const RECOVERY = ['strict', 'skip-corrupted'];

function checkOptions(name, options) {
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
  const { maxKeySize, maxValueSize, memtableSize, memoryLimit, durability, relaxedFlushBytes, recovery, blockCacheSize } = options;
  return { maxKeySize, maxValueSize, memtableSize, memoryLimit, durability, relaxedFlushBytes, recovery, blockCacheSize };
}

/**
 * Opens (creating it if needed) a store.
 * @param {string} name
 * @param {object} [options] see index.d.ts: storage, path, durability, recovery, threads,
 *   wasmModule, keyEncoding, valueEncoding, maxKeySize, maxValueSize, memtableSize, memoryLimit.
 */
export async function open(name, options = {}) {
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
  // Threaded flavour: flushes and compactions run on a worker of their own.
  if (engine.flavour === 'threaded' && files?.descriptor && options.backgroundWorker !== false) {
    await db[startBackgroundWorker]();
  }
  return db;
}

/** Deletes a store and all its data. It must not be open anywhere. */
export async function destroy(name, options = {}) {
  if (typeof name !== 'string' || name.length === 0) throw invalid('name must be a non-empty string');
  const storage = resolveStorage(options.storage ?? 'auto');
  if (storage !== 'memory') await destroyFiles(storage, name, options);
}

/**
 * Opens, in this thread (a Worker), the store another thread shared with `db.share()`.
 * Must run before this thread opens any store of its own.
 */
export async function attach(token) {
  if (token === null || typeof token !== 'object' || token.ppdb !== 1) {
    throw invalid('attach() takes the value returned by db.share()');
  }
  const { module, memory, id, options } = token;
  if (!(module instanceof WebAssembly.Module) || !(memory instanceof WebAssembly.Memory)) {
    throw invalid('the share token lost its module or memory in transit');
  }
  const engine = await loadEngine('threaded', { module, memory });
  const files = options.files ? await joinFiles(options.files, engine.wasm) : null;
  let handle;
  try {
    handle = callEngine(() => engine.wasm.DbHandle.attach(id));
  } catch (err) {
    await files?.close();
    throw err;
  }
  return new Db(handle, engine, { ...options, files, attached: true });
}

// NDJSON export and import (pkg/ndjson.js): backups and moving stores as text.
export { exportNdjson, importNdjson } from './ndjson.js';
