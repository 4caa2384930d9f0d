// A worker's Db attached to a shared OPFS or IndexedDB store (attach()) whose files another
// thread owns, and what happens when that owner goes: it closes the store, or it dies (a
// Worker terminated). Every attached worker waits for the owner's Web Lock
// (pkg/storage/owner.js); once it is granted, the owner is gone. Then, one at a time (the
// failover lock, `ppdb-failover:<base>`), the attached workers look at the store's failover
// state, words in shared memory that record the current owner (pkg/storage/owner.js,
// recordOwner): the first finds no newer owner there, opens the files itself (recovering
// the log as any open does) and shares the store, becoming the owner of the next
// generation, and records it; the others find that generation and attach to it.
//
// A page's store (opened on a page with `threads: true`: its files in the page's worker) is
// the page's to open again: if that worker dies, the page opens the store in a new worker
// (pkg/proxy/page.js), which records itself as the next owner, and the attached workers wait
// for it (up to PAGE_REOPEN_WAIT) and attach to it, rather than take the files the page
// waits for. Only if the page closes the store (or does not open it again in time) does an
// attached worker take the files over.
//
// attach() returns a FailoverDb: each call goes to the Db of the store's current owner.
// Calls in flight at the old one when its owner went fail (IO, or CLOSED), as its
// iterators, snapshots and watches do; later calls go to the new one. An 'ownerchange'
// event tells of each change (`detail.role`: 'owner' where this worker took the files over,
// else 'client'; `detail.previous`: its role before), as a store shared across tabs does.
//
// Nothing acknowledged is lost: a `sync` write resolved only once the old owner had synced
// (or committed) it, and the new owner opens the files as they are. `relaxed` writes the
// old owner had not synced yet when it died are lost, as when a process crashes.
import { defineDbSurface } from './methods.js';
import { openHere } from './open.js';
import { attachHandle } from './attach.js';
import { OWNER, readersFiles, recordOwner } from '../storage/owner.js';

/** How long a worker taking the files over waits for the old owner's Web Lock on them (ms). */
const TAKE_OVER_WAIT = 10_000;
/** How long attached workers wait for a page to open its store again in a new worker (ms). */
const PAGE_REOPEN_WAIT = 10_000;

/**
 * A Db over the store shared as `id` in `engine`, its files owned by another thread (see
 * the top): the first owner's, or (a token shared after a failover) a later one's.
 */
export async function attachWithFailover(engine, id, options) {
  // A token from before a failover: attach to the owner now.
  const newest = Atomics.load(options.failover.state, OWNER.generation);
  if (newest > options.failover.generation) {
    const failover = { ...options.failover, generation: newest };
    const owner = currentOwner(failover, options.storage);
    id = owner.id;
    options = { ...options, failover, files: owner.files };
  }
  const files = readersFiles(options.files);
  const db = await attachHandle(engine, id, options, files);
  return new FailoverDb(db, files, engine, options);
}

/**
 * The store of owner `failover.generation`, as the failover state records it: `{ id, files }`,
 * its share id and its files' descriptor (pkg/storage/owner.js).
 */
function currentOwner({ state, base, generation }, storage) {
  return {
    id: Atomics.load(state, OWNER.shareId),
    files: { kind: 'owner', id: Atomics.load(state, OWNER.filesId), name: `${base}:${generation}`, commits: storage === 'indexeddb' },
  };
}

/**
 * Resolves once the page whose store it is has opened it again after owner `generation`
 * (see the top), has closed it, or has not opened it again within PAGE_REOPEN_WAIT.
 */
async function pageReopened(state, generation) {
  for (const started = Date.now(); Date.now() - started < PAGE_REOPEN_WAIT; ) {
    if (Atomics.load(state, OWNER.generation) > generation || Atomics.load(state, OWNER.page) === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** @internal A Db whose calls go to the current owner's store (see the top); use attach(). */
export class FailoverDb extends EventTarget {
  /** The Db of the current owner's store: attached (`#files` its files), or owned here. */
  #db;
  #files;
  #engine;
  /** The attach() token's options. */
  #options;
  /** The current owner's `{ state, base, generation, reopen }` (see the top). */
  #failover;
  #closed = false;

  constructor(db, files, engine, options) {
    super();
    this.#engine = engine;
    this.#options = options;
    this.#failover = options.failover;
    this.#use(db, files);
  }

  static {
    // Every call and getter goes to the current store's Db (close() is this class's own).
    defineDbSurface(
      FailoverDb,
      (method) =>
        method === 'close'
          ? undefined
          : function (...args) {
              return this.#db[method](...args);
            },
      (getter) =>
        function () {
          return this.#db[getter];
        },
    );
  }

  /** Makes `db` the current store; `files`: this thread's files of it if attached (null if owned here). */
  #use(db, files) {
    this.#db = db;
    this.#files = files;
    db.addEventListener('alert', ({ detail }) => this.dispatchEvent(new CustomEvent('alert', { detail })));
    files?.ownerGone.then(() => this.#failOver(files));
  }

  /** The owner of the store attached through `files` is gone: take over, or follow who did. */
  async #failOver(files) {
    if (this.#closed || files !== this.#files) return;
    // Calls waiting for the old owner fail now rather than at the stall limit.
    this.#engine.wasm.ownerGone(files.id);
    const old = this.#db;
    const { state, base, generation } = this.#failover;
    if (Atomics.load(state, OWNER.page) === 1) await pageReopened(state, generation);
    try {
      await navigator.locks.request(`ppdb-failover:${base}`, async () => {
        if (this.#closed) return;
        const newest = Atomics.load(state, OWNER.generation);
        if (newest > generation) await this.#follow(newest);
        else await this.#takeOver(generation + 1);
      });
    } catch {
      // The files could not be taken over (another context holds them, or storage failed):
      // calls keep failing with the old owner's IO until the store is opened again.
      return;
    }
    old.close().catch(() => {});
    if (this.#db !== old) this.dispatchEvent(new CustomEvent('ownerchange', { detail: { role: this.role, previous: old.role } }));
  }

  /** Opens the files here, shares them as owner `generation`, and records that in the state. */
  async #takeOver(generation) {
    const failover = { ...this.#failover, generation };
    const reopen = { ...failover.reopen, storage: this.#options.storage, threads: true };
    reopen.lockTimeout = Math.max(reopen.lockTimeout ?? 0, TAKE_OVER_WAIT);
    const db = await openHere(this.#options.name, reopen, failover);
    const token = db.share();
    if (this.#closed) {
      await db.close();
      return;
    }
    recordOwner(failover, token, false);
    this.#failover = failover;
    this.#use(db, null);
  }

  /** Attaches to owner `generation`, recorded in the state by whoever took the files over. */
  async #follow(generation) {
    const failover = { ...this.#failover, generation };
    const owner = currentOwner(failover, this.#options.storage);
    const files = readersFiles(owner.files);
    const db = await attachHandle(this.#engine, owner.id, { ...this.#options, failover }, files);
    if (this.#closed) {
      await db.close();
      return;
    }
    this.#failover = failover;
    this.#use(db, files);
  }

  /** True once `close()` was called. */
  get closed() {
    return this.#closed;
  }

  /** Closes this worker's handle (the owner's, if it took the files over). */
  async close() {
    this.#closed = true;
    return this.#db.close();
  }
}
