// Opening a store in this context: the engine, its files and the Db all live here. This is
// what `open()` runs in Node, in workers, and on a page for memory and IndexedDB stores.
// A page's OPFS stores run it inside the proxy worker (pkg/proxy/worker-side.js), which imports
// this module rather than index.js so that its module graph never reaches pkg/proxy/page.js
// (bundlers such as Vite reject a worker that starts itself).
import { Db, startBackgroundWorker } from './db.js';
import { engineDurability } from './durability.js';
import { callEngine } from './errors.js';
import { codecReady } from './encoding.js';
import { checkOpen } from './options.js';
import { loadEngine, pickFlavour } from '../engine/loader.js';
import { openFiles, persistence, resolveStorage } from '../storage/index.js';

/**
 * The block cache of a store on files, unless the caller sets one. Every block the cache
 * misses is a call out to JS storage and a decompression; measured in a Chromium worker on
 * OPFS (200,000 entries, 23 MB before compression), random gets ran at 69-95k/s with 8 MiB,
 * 103k/s with 16 MiB and 129k/s with 32 MiB (97% hits). The cache fills only as blocks are read.
 */
const BLOCK_CACHE = 32 << 20;

/** What the engine is told (the rest stays in JS). */
function engineOptions(options) {
  const { maxKeySize, maxValueSize, memtableSize, memoryLimit, durability, relaxedFlushBytes, recovery, blockCacheSize = BLOCK_CACHE, latencySwitch, stallTimeout } = options;
  return { maxKeySize, maxValueSize, memtableSize, memoryLimit, durability, relaxedFlushBytes, recovery, blockCacheSize, latencySwitch, stallTimeout };
}

/**
 * Opens (creating it if needed) store `name` in this context, with the options of `open()`
 * (see index.d.ts). `failover`: the state of a shared store this context takes over
 * (./failover.js).
 */
export async function openHere(name, given, failover) {
  const options = checkOpen(name, given);
  const storage = await resolveStorage(options.storage ?? 'auto');
  const keyEncoding = options.keyEncoding ?? 'utf8';
  const valueEncoding = options.valueEncoding ?? 'utf8';
  // The 'structured' codec, if the store's values use it.
  await codecReady(valueEncoding);
  // wasmModule: runtimes that cannot compile wasm at run time (workerd) pass it precompiled.
  const loading = loadEngine(pickFlavour(options.threads, options.wasmModule, storage), undefined, options.wasmModule);
  const settings = engineOptions(options);
  let engine;
  let handle;
  let files = null;
  if (storage === 'memory') {
    engine = await loading;
    handle = callEngine(() => engine.wasm.DbHandle.openMemory(settings));
  } else {
    // The files open (locks, handles, folders) while the engine loads and compiles.
    const wasmReady = loading.then((e) => e.wasm);
    wasmReady.catch(() => {}); // awaited by openFiles, unless it failed first
    [engine, files] = await Promise.all([loading, openFiles(storage, name, options, wasmReady)]);
    // Who makes writes durable, the engine or the JS side: pkg/api/durability.js.
    const engineSettings = { ...settings, durability: engineDurability(files, options.durability ?? 'sync') };
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
    persisted: await persistence(storage),
    keyEncoding,
    valueEncoding,
    durability: options.durability ?? 'sync',
    relaxedFlushInterval: options.relaxedFlushInterval ?? 100,
    maxKeySize: handle.maxKeySize,
    maxValueSize: handle.maxValueSize,
    // A store shared with workers is opened again this way if its owner goes (./failover.js).
    reopen: options,
    failover,
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
