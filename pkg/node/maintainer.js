// The threaded flavour's maintenance worker: flushes and compactions of shared stores run
// on a worker of their own (as the engine's thread does natively), so the threads that
// read and write never spend time on them. Used for stores that can be shared: Node fs
// (also under Deno and Bun), through node:worker_threads.
//
// One worker serves every store of an engine (a wasm memory): it is started with the
// first store and stays, unreferenced, for the next ones, so an open does not pay for a
// thread start, and no open leaves a thread's stack behind in the shared memory.
//
// Messages: to the worker `{ type: 'attach', store, token }`, `{ type: 'compact' | 'stop',
// store, id }`; back `{ id, error? }` (an answer), or `{ log }` (a log record).
import { PpdbError } from '../api/errors.js';
import { deliverLog } from '../engine/loader.js';

/** The worker of each engine, by its memory. */
const workers = new Map();

async function spawn() {
  const { Worker } = await import('node:worker_threads');
  // The URL is a variable on purpose: written inside `new Worker(...)`, bundlers (Vite)
  // would try to build this Node-only worker for the browser, and fail.
  const script = new URL('./maintainer-worker.js', import.meta.url);
  const worker = new Worker(script);
  const waiting = new Map();
  let failed = null;
  let next = 0;
  const fail = (err) => {
    failed = new PpdbError('INTERNAL', `the maintenance worker stopped: ${err?.message ?? err}`, { cause: err });
    for (const { reject } of waiting.values()) reject(failed);
    waiting.clear();
  };
  // Referenced only while an answer is awaited: then the process must wait for it; else
  // the worker must not keep the process alive (it serves stores as long as it runs).
  const settled = () => {
    if (waiting.size === 0) worker.unref();
  };
  worker.on('message', (message) => {
    if (message.log) return deliverLog(message.log);
    const entry = waiting.get(message.id);
    waiting.delete(message.id);
    settled();
    if (!entry) return;
    if (message.error) entry.reject(new PpdbError(message.error.code ?? 'INTERNAL', message.error.message));
    else entry.resolve();
  });
  worker.on('error', fail);
  worker.on('exit', () => fail(new Error('it exited')));
  worker.unref(); // after the listeners: adding one refs the worker again
  return {
    /** Sends `message` with a fresh id; resolves with the worker's answer. */
    ask(message, transfer) {
      return new Promise((resolve, reject) => {
        if (failed) return reject(failed);
        const id = next++;
        waiting.set(id, { resolve, reject });
        worker.ref();
        worker.postMessage({ ...message, id }, transfer);
      });
    },
  };
}

let stores = 0;

/**
 * Hands the store behind `token` (from `db.share()`) to the maintenance worker of its
 * engine, starting that worker if needed. Resolves once the worker has attached:
 * `{ compact(), stop() }`.
 */
export async function startMaintainer(token) {
  let starting = workers.get(token.memory);
  if (!starting) {
    starting = spawn();
    workers.set(token.memory, starting);
    starting.catch(() => workers.delete(token.memory));
  }
  const worker = await starting;
  const store = stores++;
  await worker.ask({ type: 'attach', store, token });
  let stopped = false;
  return {
    /** Runs every pending flush and compaction on the worker. */
    async compact() {
      if (stopped) throw new PpdbError('CLOSED', 'the store is closed');
      await worker.ask({ type: 'compact', store });
    },
    /**
     * Lets the worker finish its step and release its handle of the store. A compaction
     * still waiting is rejected with CLOSED (by the worker).
     */
    async stop() {
      if (stopped) return;
      stopped = true;
      await worker.ask({ type: 'stop', store });
    },
  };
}
