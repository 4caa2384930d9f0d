// The I/O owner of a shared browser store (OPFS, IndexedDB): the thread that opened it
// answers the file calls of every worker attached to it (their engine posts each call into
// shared memory and waits: src/storage/remote/). Here the owner's event loop waits on the
// queue's doorbell word with Atomics.waitAsync (never blocking), runs what waits, and waits
// again. Inside the engine, every wait of the owner for another thread serves the queue too.
//
// An IndexedDB store's writes become durable in a transaction the owner commits (an async
// call: it cannot run inside the queue's synchronous answers). So the owner also serves
// commit requests on a BroadcastChannel (serveCommits): an attached worker's write, its log
// synced into the owner's files through the queue, asks for a commit and resolves once the
// owner's next commit is done; requests that arrive together share one. The owner holds a
// Web Lock while it serves: when an attached worker is granted that lock, the owner closed
// the store or died, and its commits waiting and later fail with IO instead of hanging.

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
    throw new PpdbError('UNSUPPORTED', 'an OPFS or IndexedDB store can be attached in a dedicated worker only: its file calls wait for the thread that owns the files, and a page must not wait');
  }
  return readersFiles(descriptor);
}

/**
 * Answers the commit requests of attached workers (see the top) on channel `name`, running
 * `commit()` (the owner's IndexedDB commit) once for every request that arrived before it
 * started. Returns `{ descriptor, stop }`: what attached workers need (in share()'s token),
 * and a function that stops it (their commits then fail with IO).
 */
export function serveCommits(commit) {
  const name = `ppdb-commits:${crypto.randomUUID()}`;
  const channel = new BroadcastChannel(name);
  let next = null; // the commit that has not started yet: requests join it
  let last = Promise.resolve();
  channel.onmessage = ({ data }) => {
    if (!Number.isInteger(data?.commit)) return;
    if (!next) {
      next = last.then(() => {
        next = null;
        return commit();
      });
      last = next.catch(() => {});
    }
    next.then(
      () => channel.postMessage({ done: data.commit, to: data.from }),
      (err) => channel.postMessage({ done: data.commit, to: data.from, error: { code: err?.code ?? 'IO', message: String(err?.message ?? err) } }),
    );
  };
  let release = null;
  let stopped = false;
  navigator.locks.request(name, () => (stopped ? undefined : new Promise((resolve) => (release = resolve))));
  return {
    descriptor: name,
    stop() {
      stopped = true;
      channel.close();
      // Granted to a waiting attached worker as soon as this thread lets go (or dies).
      release?.();
    },
  };
}

/**
 * An attached worker's commits of an IndexedDB store whose owner serves them on channel
 * `name` (serveCommits): `{ commit(), close() }`. `commit()` resolves once the owner's
 * commit after the request is done, or rejects with its error, or with IO once the owner
 * is gone.
 */
function commitsAt(name) {
  const channel = new BroadcastChannel(name);
  const me = crypto.randomUUID();
  const waiting = new Map();
  let nextId = 0;
  let gone = null;
  const fail = (err) => {
    gone ??= err;
    for (const { reject } of waiting.values()) reject(gone);
    waiting.clear();
  };
  channel.onmessage = ({ data }) => {
    const pending = data?.to === me && waiting.get(data.done);
    if (!pending) return;
    waiting.delete(data.done);
    if (data.error) pending.reject(new PpdbError(data.error.code, data.error.message));
    else pending.resolve();
  };
  // Granted only once the owner let go of it: it closed the store or died.
  const stop = new AbortController();
  navigator.locks
    .request(name, { signal: stop.signal }, () => fail(new PpdbError('IO', "the thread that owns the store's files closed them or stopped; open the store again")))
    .catch(() => {});
  return {
    commit() {
      if (gone) return Promise.reject(gone);
      const id = nextId++;
      return new Promise((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        channel.postMessage({ commit: id, from: me });
      });
    },
    close() {
      stop.abort();
      channel.close();
      fail(new PpdbError('CLOSED', 'the store is closed'));
    },
  };
}

/**
 * The files object of a thread that does not own them. On a page (pkg/proxy/page.js) the
 * engine never waits for the owner: a read that needs its I/O fails at once (WOULD_BLOCK),
 * and the page asks the store's worker instead.
 */
export function readersFiles(descriptor) {
  // IndexedDB: the owner commits (see serveCommits).
  const commits = descriptor.commits ? commitsAt(descriptor.commits) : null;
  return {
    id: descriptor.id,
    descriptor,
    // As at the owner: this thread's writes are made durable once per task that wrote.
    groupCommit: true,
    commit: commits && (() => commits.commit()),
    takeError: () => null,
    close() {
      commits?.close();
    },
  };
}
