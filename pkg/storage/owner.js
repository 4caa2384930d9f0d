// The I/O owner of a shared browser store (OPFS, IndexedDB): the thread that opened it
// answers the file calls of every worker attached to it (their engine posts each call into
// shared memory and waits: src/storage/remote/). Here the owner's event loop waits on the
// queue's doorbell word with Atomics.waitAsync (never blocking), runs what waits, and waits
// again. Inside the engine, every wait of the owner for another thread serves the queue too.
//
// The owner holds a Web Lock (`ppdb-alive:<name>`) for as long as it serves: every
// attached worker asks for it too, and is granted it once the owner closed the store or
// died. That is how attached workers learn that the owner is gone: their commits waiting
// fail with IO at once, and they take the files over (pkg/api/failover.js).
//
// An IndexedDB store's writes become durable in a transaction the owner commits (an async
// call: it cannot run inside the queue's synchronous answers). So the owner also serves
// commit requests on a BroadcastChannel (`ppdb-commits:<name>`): an attached worker's
// write, its log synced into the owner's files through the queue, asks for a commit and
// resolves once the owner's next commit is done; requests that arrive together share one.

import { PpdbError } from '../api/errors.js';

/** How often the owner looks for calls where Atomics.waitAsync does not exist (ms). */
const POLL_MS = 1;
/** How long the engine holds a log sync for the owner's own next flush (remote::HOLD_SYNC_MS). */
const HELD_MS = 1;

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
      // Log syncs may be held for this thread's own next flush, which covers them: they
      // are served within HELD_MS, by that flush or by the next turn here.
      const held = wasm.serveFiles(id);
      if (typeof Atomics.waitAsync === 'function') {
        // Calls posted since `rung` was read changed the word: this returns at once.
        const { async, value } = Atomics.waitAsync(words, doorbell, rung, held ? HELD_MS : Infinity);
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
 * Makes this thread the I/O owner of files `id` of the threaded engine `wasm` over
 * `memory`, for the store whose Db has `options`: it answers attached workers' file calls,
 * holds the owner's lock, and with `commit` (the owner's IndexedDB commit) answers their
 * commit requests. Returns `{ descriptor, stop }`: what attached workers need (in share()'s
 * token), and a function that stops it all. The first owner of a store sets
 * `options.failover` (see pkg/api/failover.js): the shared state its successors update;
 * the owner's names are its `base` and generation.
 */
export function serveOwner(wasm, memory, id, options, commit) {
  const failover = (options.failover ??= {
    // The current owner, see recordOwner.
    state: new Int32Array(new SharedArrayBuffer(16)),
    base: crypto.randomUUID(),
    generation: 0,
    reopen: options.reopen,
  });
  const name = `${failover.base}:${failover.generation}`;
  const stopFiles = serveFiles(wasm, memory, id);
  const channel = commit ? serveCommits(`ppdb-commits:${name}`, commit) : null;
  let release = null;
  let stopped = false;
  navigator.locks.request(`ppdb-alive:${name}`, () => (stopped ? undefined : new Promise((resolve) => (release = resolve))));
  return {
    descriptor: { kind: 'owner', id, name, commits: Boolean(commit) },
    stop() {
      stopped = true;
      stopFiles();
      channel?.close();
      // Granted to the attached workers waiting for it as soon as this thread lets go (or dies).
      release?.();
    },
  };
}

/** The words of a store's failover state (`failover.state`, shared by all its threads). */
export const OWNER = { generation: 0, shareId: 1, filesId: 2, page: 3 };

/**
 * Records the owner of `failover.generation` in the store's failover state: its share() token
 * (`token.id`, its files' id) and whether it is a page's store (its files in the page's
 * worker, which the page opens again in a new worker if that one dies), the generation
 * last, as attached workers read it first (pkg/api/failover.js).
 */
export function recordOwner({ state, generation }, token, page) {
  Atomics.store(state, OWNER.shareId, token.id);
  Atomics.store(state, OWNER.filesId, token.options.files.id);
  Atomics.store(state, OWNER.page, page ? 1 : 0);
  Atomics.store(state, OWNER.generation, generation);
}

/**
 * Answers commit requests on channel `name`, running `commit()` once for every request that
 * arrived before it started. Returns the channel (close it to stop).
 */
function serveCommits(name, commit) {
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
  return channel;
}

/**
 * A worker's files object for a store whose files another thread owns (`descriptor`:
 * `{ kind: 'owner', id, name, commits }` from share()): this thread registers nothing, and
 * its engine sends each file call to the owner and waits for the answer, which only a
 * worker may do.
 */
export function ownersFiles(descriptor) {
  if (typeof WorkerGlobalScope === 'undefined') {
    throw new PpdbError('UNSUPPORTED', 'an OPFS or IndexedDB store can be attached in a dedicated worker only: its file calls wait for the thread that owns the files, and a page must not wait');
  }
  return readersFiles(descriptor);
}

/**
 * An attached worker's commits of an IndexedDB store whose owner serves them on channel
 * `name` (serveCommits): `{ commit(), close() }`. `commit()` resolves once the owner's
 * commit after the request is done, or rejects with its error, or with IO once `gone`
 * (a promise) settles: the owner is gone.
 */
function commitsAt(name, gone) {
  const channel = new BroadcastChannel(name);
  const me = crypto.randomUUID();
  const waiting = new Map();
  let nextId = 0;
  let failed = null;
  const fail = (err) => {
    failed ??= err;
    for (const { reject } of waiting.values()) reject(failed);
    waiting.clear();
  };
  channel.onmessage = ({ data }) => {
    const pending = data?.to === me && waiting.get(data.done);
    if (!pending) return;
    waiting.delete(data.done);
    if (data.error) pending.reject(new PpdbError(data.error.code, data.error.message));
    else pending.resolve();
  };
  gone.then(() => fail(new PpdbError('IO', "the thread that owns the store's files closed them or stopped; open the store again")));
  return {
    commit() {
      if (failed) return Promise.reject(failed);
      const id = nextId++;
      return new Promise((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        channel.postMessage({ commit: id, from: me });
      });
    },
    close() {
      channel.close();
      fail(new PpdbError('CLOSED', 'the store is closed'));
    },
  };
}

/**
 * The files object of a thread that does not own them. On a page (pkg/proxy/page.js) the
 * engine never waits for the owner: a read that needs its I/O fails at once (WOULD_BLOCK),
 * and the page asks the store's worker instead. `ownerGone` (a promise) settles once the
 * owner closed the files or died; never on a page, which goes with its worker.
 */
export function readersFiles(descriptor) {
  const stop = new AbortController();
  const never = new Promise(() => {});
  // Granted only once the owner let go of its lock: it closed the store or died.
  const ownerGone =
    typeof WorkerGlobalScope === 'undefined'
      ? never
      : navigator.locks.request(`ppdb-alive:${descriptor.name}`, { signal: stop.signal }, () => {}).then(
          () => true,
          () => never,
        );
  // IndexedDB: the owner commits (see serveCommits).
  const commits = descriptor.commits ? commitsAt(`ppdb-commits:${descriptor.name}`, ownerGone) : null;
  return {
    id: descriptor.id,
    descriptor,
    ownerGone,
    // As at the owner: this thread's writes are made durable once per task that wrote.
    groupCommit: true,
    commit: commits && (() => commits.commit()),
    takeError: () => null,
    close() {
      stop.abort();
      commits?.close();
    },
  };
}
