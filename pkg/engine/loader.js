// Loads one of the two wasm flavours, once per context (page, worker, Node thread).
//   'threaded': shared memory (Node; cross-origin-isolated pages and their workers)
//   'single':   no threads; runs everywhere
import { PpdbError } from '../api/errors.js';
import { readOptions } from '../api/options.js';

const isNode = typeof process !== 'undefined' && Boolean(process.versions?.node);

// Static import() paths and `new URL(..., import.meta.url)` keep bundlers able to follow them.
const flavours = {
  single: {
    bindings: () => import('../wasm/single/ppdb.js'),
    url: () => new URL('../wasm/single/ppdb_bg.wasm', import.meta.url),
  },
  threaded: {
    bindings: () => import('../wasm/threaded/ppdb.js'),
    url: () => new URL('../wasm/threaded/ppdb_bg.wasm', import.meta.url),
  },
};

/** True where the threaded flavour can run here. */
export function sharedMemoryAvailable() {
  if (typeof SharedArrayBuffer === 'undefined') return false;
  return isNode || globalThis.crossOriginIsolated === true;
}

/**
 * The flavour for `open(..., { threads, wasmModule })` of a store on `storage`. A given
 * `wasmModule` is the single flavour's (edge runtimes such as workerd cannot compile wasm
 * from bytes). Left to choose, a browser's OPFS and IndexedDB stores get the single flavour
 * even where shared memory exists: the single build runs them faster (measured in Chromium
 * workers: gets about 1.4x, scans 1.2-1.7x; strings cross as views of its memory, which
 * browsers refuse for shared memory). An OPFS store to share with workers asks for
 * `threads: true`.
 */
export function pickFlavour(threads, wasmModule, storage) {
  if (wasmModule !== undefined) {
    if (threads === true) throw new PpdbError('INVALID_ARGUMENT', 'wasmModule is the single-threaded build; it cannot be used with threads: true');
    return 'single';
  }
  if (threads === false) return 'single';
  const available = sharedMemoryAvailable();
  if (threads === true && !available) {
    throw new PpdbError(
      'UNSUPPORTED',
      'threads: true needs shared memory (Node, or a cross-origin-isolated page)',
    );
  }
  if (threads === undefined && !isNode && (storage === 'opfs' || storage === 'indexeddb')) return 'single';
  return available ? 'threaded' : 'single';
}

async function compile(flavour) {
  const url = flavours[flavour].url();
  if (url.protocol === 'file:') {
    return WebAssembly.compile(await (await import('#node')).readWasm(url));
  }
  const response = await fetch(url);
  if (!response.ok) throw new PpdbError('IO', `could not load ${url}: HTTP ${response.status}`);
  return WebAssembly.compileStreaming
    ? WebAssembly.compileStreaming(response)
    : WebAssembly.compile(await response.arrayBuffer());
}

const engines = new Map();

/** What `setLogger` asked for, applied to every engine of this context. */
let logging = null;

/**
 * Hands a log record made on another thread (the maintenance worker) to this context's
 * logger: the `onLog` callback, or the console in the engine's one format.
 */
export function deliverLog(entry) {
  if (logging?.onLog) {
    logging.onLog(entry);
    return;
  }
  const fields = Object.entries(entry.fields).map(([k, v]) => `${k}=${v}`);
  const line = `[ppdb] ${entry.level.toUpperCase()} ${entry.module}: ${entry.message}${fields.length ? ` {${fields.join(' ')}}` : ''}`;
  (entry.level === 'error' ? console.error : entry.level === 'warn' ? console.warn : console.log)(line);
}

/**
 * Routes the engine's log (`{ level, module, message, fields, time }`) to `onLog`, or to
 * the console without one, from `level` up ('error', 'warn', 'info', 'debug', 'trace';
 * 'off' silences it, the default).
 */
export async function setLogger(options) {
  const { level = 'info', onLog } = readOptions(options, 'setLogger() options', ['level', 'onLog']);
  logging = { level, onLog };
  for (const loading of engines.values()) {
    const engine = await loading.catch(() => null);
    engine?.wasm.setLogger(level, onLog);
  }
}

/**
 * The engine of `flavour` in this context: `{ flavour, wasm, module, memory, dead }`.
 * `shared` ({ module, memory }) joins the instance of another thread instead of starting
 * a new one (threaded flavour only). `precompiled`: a WebAssembly.Module of `flavour` to
 * use instead of fetching and compiling the package's .wasm file (used on first load only).
 */
export function loadEngine(flavour, shared, precompiled) {
  const loaded = engines.get(flavour);
  if (loaded) {
    return loaded.then((engine) => {
      if (shared && engine.memory !== shared.memory) {
        throw new PpdbError(
          'UNSUPPORTED',
          'this context already runs its own ppdb engine; call attach() before open()',
        );
      }
      return engine;
    });
  }
  const loading = (async () => {
    const [wasm, module] = await Promise.all([
      flavours[flavour].bindings(),
      shared ? shared.module : (precompiled ?? compile(flavour)),
    ]);
    // The threaded module imports its memory: the given one, or a new shared one.
    const exports = wasm.initSync({ module, memory: shared?.memory });
    // Long waits for other threads sleep where this context may block (not a page).
    wasm.initEngine(isNode || typeof WorkerGlobalScope === 'function');
    if (logging) wasm.setLogger(logging.level, logging.onLog);
    const memory = flavour === 'threaded' ? exports.memory : null;
    // Threads that end give their stacks back in browsers (./threads.js; the engine runs
    // without it). Node cannot tell of a worker's end: it loads nothing for it.
    if (memory && !isNode) await import('./threads.js').then((threads) => threads.track(wasm, exports, Boolean(shared)), () => {});
    // `ownMemory`: the instance's memory in either flavour (for its size in stats()).
    return { flavour, wasm, module, memory, ownMemory: exports.memory, dead: false };
  })();
  engines.set(flavour, loading);
  loading.catch(() => engines.delete(flavour));
  return loading;
}
