// The main-thread proxy. OPFS sync access handles exist only in dedicated workers, and a
// page must never block, so on a page `open(name, { storage: 'opfs' })` opens the store in
// the page's proxy worker (pkg/proxy/proxy-worker.js, a dedicated module worker of the
// package's, started by the first such open and shared by the page's stores) with the real
// package, and returns a ProxyDb: the same methods, each answered through a promise.
//
// Protocol. Each store talks to the worker through a MessageChannel of its own, whose port
// the page hands over in a message of its own. Every message on a channel, either way, is
// an array (a batch):
//   page -> worker   [{ id, method, args, held? }, ...]   every request made during one task, in order
//   worker -> page   [{ id, result } | { id, error: { code, message } }, ...]
//                    every reply that settled during one task
// `method` is a Db method ('put', 'get', 'iterator', ...), called on the worker's Db with
// `args` (structured clones: the worker's Db applies keyEncoding/valueEncoding and every
// check), or one of the proxy's own:
//   'open'           [name, options]   -> the Db's getters { storage, flavour, name, ... }
//   'iterator.next'  [heldId, count]   -> { items, done }: up to `count` more items
//   'iterator.seek'  [heldId, target, consumed] -> null: the held iterator's seek(target), the
//                                       caller having used `consumed` of the items sent
//   'watch.next'     [heldId, wait]    -> { changes, position, done }: a held watch's changes,
//                                         once it has some or `wait` ms passed
//   'release'        [heldId]          -> closes a held iterator, snapshot or watch
//   'close'          []                -> closes the store, then the channel (the worker stays
//                                         for the page's other stores)
// A result that structured cloning would not carry intact (the iterator of iterator(),
// keys() or values(); the Snapshot of snapshot(); the watch of watch()) stays in the worker,
// held under the id of the request that made it; the reply is null (a watch: `{ position }`,
// where it starts) and the page wraps that id (a ProxyIterator, a Snapshot whose handle is
// that id, a ProxyWatch). A request that passes a held snapshot in an options object (`{ snapshot }`)
// sends `null` in its place and `held: [[argIndex, property, heldId]]`, which the worker
// resolves. Errors cross as { code, message } and are thrown again here as PpdbError with
// the same code. Uint8Arrays are transferred, not copied by postMessage: the page first
// copies those the caller passed (its own buffers are never detached), the worker sends its
// results as they are.
import { ChainedBatch } from '../api/batch.js';
import { drain, holdAtEnd, seekUnread } from '../api/iterator.js';
import { Snapshot, snapshotHandle } from '../api/snapshot.js';
import { Changes } from '../api/watch.js';
import { PpdbError, invalid, callEngine } from '../api/errors.js';
import { checkData, codecReady } from '../api/encoding.js';
import { loadEngine, sharedMemoryAvailable } from '../engine/loader.js';
import { Outbox, isPlainObject, transferable } from './messages.js';
import { defineDbSurface } from '../api/methods.js';
import { encodeArguments } from './values.js';
import { ProxyWorker } from './page-worker.js';

/** Items per 'iterator.next' request: the first, then doubling up to the largest. */
const FIRST_PAGE = 16;
const MAX_PAGE = 1024;

const closedError = () => new PpdbError('CLOSED', 'the store is closed');

/** A ProxyDb's promise of the reason its worker stopped while the store was open. */
export const workerStopped = Symbol('workerStopped');


/** The page's end of the worker: requests out, batched per task; replies back to their promises. */
export class Connection {
  #worker;
  #outbox;
  #pending = new Map(); // request id -> { resolve, reject }
  #nextId = 1;
  #ended = null;

  constructor(worker) {
    this.#worker = worker;
    this.#outbox = new Outbox(
      (messages, transfer) => worker.postMessage(messages, transfer),
      (request, err) => this.#settle({ id: request.id, error: { code: 'INVALID_ARGUMENT', message: `the arguments of ${request.method}() cannot be sent to the worker: ${err?.message ?? err}` } }),
    );
    worker.addEventListener('message', ({ data }) => {
      for (const reply of data) {
        if (reply.event) this.onEvent?.(reply.event, reply.detail);
        else this.#settle(reply);
      }
    });
    worker.addEventListener('error', (event) => {
      this.end(new PpdbError('INTERNAL', `the ppdb worker stopped: ${event.message || 'it could not start'}`));
    });
    worker.addEventListener('messageerror', () => {
      this.end(new PpdbError('INTERNAL', 'a message from the ppdb worker could not be read'));
    });
  }

  /** Queues request `method(...args)`: `{ id, reply }`, `reply` a promise of its result. */
  send(method, args) {
    const id = this.#nextId++;
    const reply = new Promise((resolve, reject) => {
      if (this.#ended) return reject(this.#ended);
      const transfer = new Set();
      let request;
      try {
        request = { id, method, ...this.#withoutHeld(args) };
        request.args = transferable(request.args, transfer, true);
      } catch (err) {
        // A getter of the caller's that throws, a value nested too deeply, a snapshot of
        // another store: refused here, before anything is sent.
        if (err instanceof PpdbError) return reject(err);
        return reject(invalid(`the arguments of ${method}() cannot be sent to the worker: ${err?.message ?? err}`, err));
      }
      this.#pending.set(id, { resolve, reject });
      this.#outbox.push(request, transfer);
    });
    return { id, reply };
  }

  /** `{ args, held }`: snapshots in options objects replaced by references (see the protocol). */
  #withoutHeld(args) {
    const held = [];
    args = args.map((arg, index) => {
      if (!isPlainObject(arg)) return arg;
      const entries = Object.entries(arg).map(([property, value]) => {
        if (!(value instanceof Snapshot)) return [property, value];
        held.push([index, property, value[snapshotHandle](this.owner)]);
        return [property, null];
      });
      return Object.fromEntries(entries);
    });
    return held.length > 0 ? { args, held } : { args };
  }

  /** The result of `method(...args)` in the worker. */
  call(method, args) {
    return this.send(method, args).reply;
  }

  #settle({ id, result, error }) {
    const pending = this.#pending.get(id);
    if (!pending) return;
    this.#pending.delete(id);
    if (error) pending.reject(new PpdbError(error.code, error.message));
    else pending.resolve(result);
  }

  /** True once the worker is gone (closed, or it died). */
  get ended() {
    return this.#ended !== null;
  }

  /**
   * Ends the connection (the other end's `terminate()`: a store leaves the proxy worker, a
   * client says goodbye to its owner); pending and later requests reject with `reason`.
   * Idempotent.
   */
  end(reason) {
    if (this.#ended) return;
    this.#ended = reason;
    this.#worker.terminate();
    for (const { reject } of this.#pending.values()) reject(reason);
    this.#pending.clear();
    this.onEnd?.(reason);
  }
}

/**
 * An async iterator on the page over an iterator in the worker: it pulls pages of items
 * ('iterator.next'). The worker holds its iterator until the page lets it go: at the end
 * (once the caller has seen it), by `break` in `for await`, or by `close()`; until then
 * `seek()` may move it, also back from its end.
 */
class ProxyIterator {
  #connection;
  #id;
  #opened;
  #items = [];
  #at = 0;
  #page = FIRST_PAGE;
  #finished = false; // the worker has no more items from where it stands (or failed)
  #closed = false; // let go of on the page
  #filling = null;
  /** Counts seeks: a page asked for before the latest seek is dropped. */
  #seeks = 0;
  /** Items handed to the caller, counted from the latest seek's view (see seekUnread). */
  #consumed = 0;
  /** Let go of by its holder, not at its end (see holdAtEnd). */
  #hold = false;

  /** @internal Sends `method(...args)`, which returns an iterator in the worker. */
  constructor(connection, method, args) {
    const { id, reply } = connection.send(method, args);
    this.#connection = connection;
    this.#id = id;
    this.#opened = reply;
    reply.catch(() => {}); // next() reports it
  }

  [Symbol.asyncIterator]() {
    return this;
  }

  /** The next item (`[key, value]` for `iterator()`), as an iterator result. */
  async next() {
    while (this.#at >= this.#items.length) {
      if (this.#closed) return { done: true, value: undefined };
      if (this.#finished) {
        if (!this.#hold) this.close();
        return { done: true, value: undefined };
      }
      this.#filling ??= this.#fill().finally(() => {
        this.#filling = null;
      });
      await this.#filling;
    }
    this.#consumed++;
    return { done: false, value: this.#items[this.#at++] };
  }

  async #fill() {
    // Sent at once: the request that creates the iterator may still be in flight.
    const page = this.#connection.call('iterator.next', [this.#id, this.#page]);
    page.catch(() => {});
    const seeks = this.#seeks;
    try {
      await this.#opened; // a bad option or a closed store: its error is the one to report
      const { items, done } = await page;
      if (this.#closed || seeks !== this.#seeks) return;
      this.#finished = done;
      this.#items = items;
      this.#at = 0;
      this.#page = Math.min(this.#page * 2, MAX_PAGE);
    } catch (err) {
      this.close();
      throw err;
    }
  }

  /** As the worker's iterator's `seek(target)`; the items fetched ahead are dropped. */
  seek(target) {
    this[seekUnread](target, 0);
  }

  /** @internal See seekUnread (pkg/api/iterator.js). */
  [seekUnread](target, unread) {
    const input = checkData(target, 'seek() target');
    if (this.#closed) return;
    this.#seeks++;
    this.#items = [];
    this.#at = 0;
    this.#page = FIRST_PAGE;
    this.#finished = false;
    // The worker counts what it sent; what the caller used is the rest (the limit counts that).
    this.#consumed -= unread;
    this.#connection.call('iterator.seek', [this.#id, input, this.#consumed]).catch(() => {}); // next() reports it
  }

  /** @internal See holdAtEnd (pkg/api/iterator.js). */
  [holdAtEnd]() {
    this.#hold = true;
  }

  /** Everything left, as an array; closes the iterator. */
  all() {
    return drain(this);
  }

  /** Ends the iteration early (`break` in `for await` calls this). */
  async return() {
    this.close();
    return { done: true, value: undefined };
  }

  /** Releases the worker's iterator. Idempotent. */
  close() {
    if (this.#closed) return;
    this.#closed = true;
    this.#items = [];
    this.#at = 0;
    this.#connection.call('release', [this.#id]).catch(() => {});
  }
}

/** How long a 'watch.next' waits before it answers with no changes (and the position). */
const WATCH_WAIT_MS = 5_000;

/**
 * A watch on the page over a watch in the worker: `take()` asks for its changes
 * ('watch.next'), one request at a time; `close()` releases it.
 */
export class ProxyWatch extends Changes {
  #connection;
  #id;
  #opened;
  #position;
  #stopped = false;
  #onStop;

  /** @internal Sends `method(...args)`, which makes a watch in the worker. */
  constructor(connection, method, args, onStop) {
    super();
    const { id, reply } = connection.send(method, args);
    this.#connection = connection;
    this.#id = id;
    this.#onStop = onStop;
    this.#opened = reply.then(({ position }) => (this.#position ??= position));
    this.#opened.catch(() => {}); // take() reports it
  }

  /** The sequence number it started after, once the worker made it. */
  get opened() {
    return this.#opened;
  }

  /** Every change up to this sequence number has been taken (undefined before it opened). */
  get position() {
    return this.#position;
  }

  /** `{ changes, position, done }`, as Watcher.take (see pkg/api/watch.js). */
  async take(wait = WATCH_WAIT_MS) {
    if (this.#stopped) return { changes: [], position: this.#position, done: true };
    const next = this.#connection.call('watch.next', [this.#id, wait]);
    next.catch(() => {});
    await this.#opened;
    const taken = await next;
    if (this.#stopped) return { changes: [], position: this.#position, done: true };
    this.#position = taken.position;
    if (taken.done) this.#stopped = true;
    return taken;
  }

  /** @internal Releases the worker's watch. */
  stop() {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#onStop?.(this);
    this.#connection.call('release', [this.#id]).catch(() => {});
  }
}

/** The reads a page answers itself from shared memory when it can (their options are argument 1). */
const DIRECT_READS = new Set(['get', 'getMany', 'has', 'hasMany', 'getWithVersion']);

/**
 * A Db whose store runs in the proxy worker (an OPFS store opened on a page). Its methods
 * are made from the table of Db's methods (pkg/api/methods.js): each is sent to the
 * worker's Db by name with its arguments, and every one answers through a promise
 * (iterators and snapshots are returned at once and pull from the worker). Calls after
 * `close()` reject with CLOSED, and after the worker died (an error event) with INTERNAL.
 *
 * Opened with `threads: true`, the store lives in the page's shared memory (the worker
 * joined the page's engine), and the page holds a Db attached to it (`direct`): a read is
 * answered on the page, in the same task, from the memtables and cached blocks; a read
 * that would need the worker's file I/O (a block not in the cache) fails at once in the
 * engine (WOULD_BLOCK: a page never waits) and goes to the worker as any other call. A
 * read made while a write sent earlier is still on its way goes to the worker too, so
 * calls keep their order. `share()` then hands out the worker's token; otherwise it is
 * UNSUPPORTED.
 */
export class ProxyDb extends EventTarget {
  #connection;
  #getters;
  #closed = false;
  #watches = new Set();
  /** The page's own Db over the store's shared memory (threads: true), or null. */
  #direct;
  /** The worker Db's share() token (threads: true), or null. */
  #token;
  /** Calls other than reads sent and not answered yet: reads go to the worker meanwhile. */
  #writing = 0;
  #stoppedWith;
  #workerStopped = new Promise((resolve) => (this.#stoppedWith = resolve));
  /** Reads answered on the page, and those sent to the worker (stats().pageReads). */
  #reads = { direct: 0, forwarded: 0 };

  /**
   * @internal Use `open()`. `getters`: the worker Db's getters, read once it opened;
   * `direct` and `token`: see the class (threads: true).
   */
  constructor(connection, getters, direct = null, token = null) {
    super();
    this.#connection = connection;
    this.#getters = getters;
    this.#direct = direct;
    this.#token = token;
    // Snapshots passed in options must be this store's.
    connection.owner = this;
    // Events of the worker's Db ('alert') are dispatched here.
    connection.onEvent = (type, detail) => this.dispatchEvent(new CustomEvent(type, { detail }));
    // The worker stopped under an open store (pkg/proxy/tabs.js fails over from it).
    connection.onEnd = (reason) => {
      if (!this.#closed) this.#stoppedWith(reason);
    };
  }

  /** @internal Resolves with why, if the worker stops while the store is open here. */
  get [workerStopped]() {
    return this.#workerStopped;
  }

  static {
    const kinds = {
      call: (method) =>
        DIRECT_READS.has(method)
          ? function (...args) {
              if (this.#canReadHere(args[1])) return this.#readHere(method, args);
              if (this.#direct) this.#reads.forwarded++;
              return this.#call(method, args);
            }
          : function (...args) {
              return this.#call(method, args);
            },
      iterate: (method) =>
        function (...args) {
          if (this.#closed) throw closedError();
          return new ProxyIterator(this.#connection, method, args);
        },
      // `batch(operations, options?)`; `batch()` collects a chained batch here, sent by its `write()`.
      batch: (method) =>
        function (...args) {
          if (args[0] !== undefined) return this.#call(method, args);
          if (this.#closed) throw closedError();
          return new ChainedBatch((operations, options) => this.#call(method, [operations, options]));
        },
      // Changes as they commit: the worker holds the watch, its changes cross back.
      watch: (method) =>
        function (...args) {
          if (this.#closed) throw closedError();
          const watch = new ProxyWatch(this.#connection, method, args, (w) => this.#watches.delete(w));
          this.#watches.add(watch);
          return watch;
        },
      // A point-in-time view, held in the worker; release it with its `close()`.
      snapshot: (method) =>
        function () {
          if (this.#closed) throw closedError();
          const { id, reply } = this.#connection.send(method, []);
          reply.catch(() => {}); // reads through it report the worker's error
          return new Snapshot(this, id, (heldId) => this.#connection.call('release', [heldId]).catch(() => {}));
        },
      // The worker's token where the store is in shared memory (threads: true).
      share: () =>
        function () {
          if (this.#closed) throw closedError();
          if (this.#token) return this.#token;
          throw new PpdbError('UNSUPPORTED', 'a store opened on OPFS from a page runs in a worker of its own: open it with threads: true to share it');
        },
      // Closes the store in the worker (syncing it), then leaves the worker.
      close: (method) =>
        async function () {
          if (this.#closed) return;
          this.#closed = true;
          // Their loops end (as a Db's do when it closes).
          for (const watch of [...this.#watches]) watch.close();
          // The page's handle goes first: the worker's, the last, syncs and closes the store.
          await this.#direct?.close().catch(() => {});
          try {
            await this.#connection.call(method, []);
          } finally {
            this.#connection.end(closedError());
          }
        },
    };
    defineDbSurface(
      ProxyDb,
      (method, kind) => kinds[kind](method),
      (getter) =>
        function () {
          return this.#getters[getter];
        },
    );
  }

  #call(method, args) {
    if (this.#closed) return Promise.reject(closedError());
    let reply;
    try {
      const encoded = encodeArguments(method, args, this.#getters.valueEncoding);
      reply = Array.isArray(encoded)
        ? this.#connection.call(method, encoded)
        : encoded.then((ready) => (this.#closed ? Promise.reject(closedError()) : this.#connection.call(method, ready)));
    } catch (err) {
      return Promise.reject(err);
    }
    if (this.#direct && !DIRECT_READS.has(method)) {
      this.#writing++;
      reply.then(
        () => this.#writing--,
        () => this.#writing--,
      );
    }
    if (method === 'stats' && this.#direct) return reply.then((stats) => ({ ...stats, pageReads: { ...this.#reads } }));
    return reply;
  }

  /**
   * True if a read with `options` can be answered on the page: the store is in shared
   * memory, nothing sent before it is still on its way, and it reads no snapshot (those are
   * the worker's).
   */
  #canReadHere(options) {
    if (!this.#direct || this.#writing > 0 || this.#closed || this.#connection.ended) return false;
    if (options === undefined) return true;
    if (options === null || typeof options !== 'object') return false;
    try {
      return !('snapshot' in options);
    } catch {
      return true; // a hostile object: the page's Db refuses it with a PpdbError, as readOptions does
    }
  }

  /** `method(...args)` on the page's Db; sent to the worker if it needs the worker's I/O. */
  async #readHere(method, args) {
    try {
      const result = await this.#direct[method](...args);
      this.#reads.direct++;
      return result;
    } catch (err) {
      // The engine's WouldBlock (src/wasm/error.rs), which callEngine wraps as INTERNAL.
      if (err?.cause?.name !== 'WouldBlock') throw err;
      this.#reads.forwarded++;
      return this.#call(method, args);
    }
  }

  /** True once `close()` was called. */
  get closed() {
    return this.#closed;
  }
}

/**
 * The failover state (pkg/api/failover.js) of each store opened here with threads: true
 * whose worker stopped under it, by name: workers attached to the store wait for the page
 * to open it again, and the next open of it here continues that state as its next owner.
 */
const orphaned = new Map();

/**
 * Opens store `name` in the page's proxy worker; resolves to its ProxyDb. `options` are
 * those of `open()`; they must survive structured cloning.
 */
export async function openThroughWorker(name, options) {
  // threads: true puts the store in the page's shared memory (see ProxyDb); the worker
  // joins the page's engine, loaded first.
  const engine = options.threads === true && sharedMemoryAvailable() ? await loadEngine('threaded') : null;
  const connection = new Connection(ProxyWorker.connect(engine?.memory));
  const previous = engine ? orphaned.get(name) : undefined;
  if (previous) orphaned.delete(name);
  try {
    if (!engine) return new ProxyDb(connection, await connection.call('open', [name, options]));
    const { getters, token } = await connection.call('open', [name, options, { module: engine.module, memory: engine.memory }, previous]);
    const db = new ProxyDb(connection, getters, await attachHere(token, engine), token);
    // Shared across tabs, the store is opened again here (or at the tab that takes it over:
    // see pkg/proxy/tabs.js); `exclusive`, it is not, and the attached workers take it over.
    const { failover } = token.options;
    db[workerStopped].then(async () => {
      if (!options.exclusive) return orphaned.set(name, failover);
      const { OWNER } = await import('../storage/owner.js');
      Atomics.store(failover.state, OWNER.page, 0);
    });
    return db;
  } catch (err) {
    if (previous && !orphaned.has(name)) orphaned.set(name, previous);
    connection.end(err);
    throw err;
  }
}

/** The page's Db over the store the worker shared (`token`), in the page's engine. */
async function attachHere(token, engine) {
  const [{ Db }, { readersFiles }] = await Promise.all([import('../api/db.js'), import('../storage/owner.js')]);
  await codecReady(token.options.valueEncoding);
  const handle = callEngine(() => engine.wasm.DbHandle.attach(token.id));
  // The page's Db only reads: no change feed (watches are the worker's), and no relaxed
  // flushes (the worker's Db makes the writes durable).
  return new Db(handle, engine, { ...token.options, relaxedFlushInterval: 0, changes: undefined, files: readersFiles(token.options.files), attached: true });
}
