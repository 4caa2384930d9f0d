// The I/O owner of a shared OPFS store: the worker that opened it answers the file calls
// of every worker attached to it (their engine posts each call into shared memory and
// waits: src/storage/remote/). Here the owner's event loop waits on the queue's doorbell
// word with Atomics.waitAsync (never blocking), runs what waits, and waits again. Inside
// the engine, every wait of the owner for another thread serves the queue too.

import { PpdbError } from '../api/errors.js';

/** How often the owner looks for calls where Atomics.waitAsync does not exist (ms). */
const POLL_MS = 1;

/**
 * Starts answering other threads' calls to files `id` (this thread's) of the threaded
 * engine `wasm` over `memory`; returns a function that stops it (and fails their waiting
 * and later calls with IO).
 */
export function serveFiles(wasm, memory, id) {
  const doorbell = wasm.ownFiles(id) >>> 2;
  let serving = true;
  (async () => {
    while (serving) {
      // A view per turn: the memory's buffer is replaced when it grows.
      const words = new Int32Array(memory.buffer);
      const rung = Atomics.load(words, doorbell);
      wasm.serveFiles(id);
      if (typeof Atomics.waitAsync === 'function') {
        // Calls posted since `rung` was read changed the word: this returns at once.
        const { async, value } = Atomics.waitAsync(words, doorbell, rung);
        if (async) await value;
      } else {
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      }
    }
  })();
  return () => {
    if (!serving) return;
    serving = false;
    // Wakes the loop above, which then ends.
    Atomics.add(new Int32Array(memory.buffer), doorbell, 1);
    Atomics.notify(new Int32Array(memory.buffer), doorbell);
  };
}

/**
 * A worker's files object for a store whose files another thread owns (`descriptor`:
 * `{ kind: 'owner', id }` from share()): this thread registers nothing, and its engine
 * sends each file call to the owner and waits for the answer, which only a worker may do.
 */
export function ownersFiles(descriptor) {
  if (typeof WorkerGlobalScope === 'undefined') {
    throw new PpdbError('UNSUPPORTED', 'an OPFS store can be attached in a dedicated worker only: its file calls wait for the worker that owns the files, and a page must not wait');
  }
  return readersFiles(descriptor);
}

/**
 * The files object of a thread that does not own them. On a page (pkg/proxy/page.js) the
 * engine never waits for the owner: a read that needs its I/O fails at once (WOULD_BLOCK),
 * and the page asks the store's worker instead.
 */
export function readersFiles(descriptor) {
  return {
    id: descriptor.id,
    descriptor,
    // As at the owner: this thread's writes are made durable once per task that wrote.
    groupCommit: true,
    commit: null,
    takeError: () => null,
    close() {},
  };
}
