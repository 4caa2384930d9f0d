// The threaded flavour's maintenance worker: flushes and compactions of a shared store run
// on a worker of their own (as the engine's thread does natively), so the threads that
// read and write never spend time on them. Used for stores that can be shared: Node fs
// (also under Deno and Bun), through node:worker_threads.
import { PpdbError } from './errors.js';
import { deliverLog } from './loader.js';

/**
 * Starts the maintenance worker for the store behind `token` (from `db.share()`).
 * Resolves once the worker has attached: `{ compact(), stop() }`.
 */
export async function startMaintainer(token) {
  const waiting = new Map();
  // The worker says 'ready' by itself once it has attached.
  const ready = new Promise((resolve, reject) => waiting.set('ready', { resolve, reject }));
  const { Worker } = await import('node:worker_threads');
  // The URL is a variable on purpose: written inside `new Worker(...)`, bundlers (Vite)
  // would try to build this Node-only worker for the browser, and fail.
  const script = new URL('./maintainer-worker.js', import.meta.url);
  const worker = new Worker(script, { workerData: token });
  // The store's own close() stops it; it must not keep a process alive by itself.
  worker.unref();
  let next = 0;
  let failed = null;
  const settle = (id, error) => {
    const entry = waiting.get(id);
    waiting.delete(id);
    if (!entry) return;
    if (error) entry.reject(new PpdbError(error.code ?? 'INTERNAL', error.message));
    else entry.resolve();
  };
  const ask = (type) =>
    new Promise((resolve, reject) => {
      if (failed) return reject(failed);
      const id = next++;
      waiting.set(id, { resolve, reject });
      worker.postMessage({ type, id });
    });
  worker.on('message', (message) => (message.log ? deliverLog(message.log) : settle(message.id, message.error)));
  worker.on('error', (err) => {
    failed = new PpdbError('INTERNAL', `the maintenance worker stopped: ${err.message}`);
    for (const { reject } of waiting.values()) reject(failed);
    waiting.clear();
  });
  await ready;
  return {
    /** Runs every pending flush and compaction on the worker. */
    compact: () => ask('compact'),
    /** Lets the worker finish its step, release its handle, and end. */
    async stop() {
      try {
        if (!failed) await ask('stop');
      } finally {
        await worker.terminate();
      }
    },
  };
}
