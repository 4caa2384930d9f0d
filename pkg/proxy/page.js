// The main-thread proxy. OPFS sync access handles exist only in dedicated workers, and a
// page must never block, so on a page `open(name, { storage: 'opfs' })` starts a dedicated
// module worker of the package's (pkg/proxy/proxy-worker.js), opens the store there with the
// real package, and returns a ProxyDb: the same methods, each answered through a promise.
//
// Protocol. Every message, either way, is an array (a batch):
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
import { PpdbError, invalid } from '../api/errors.js';
import { checkData } from '../api/encoding.js';
import { Outbox, isPlainObject, transferable } from './messages.js';
import { DB_METHODS, DB_GETTERS } from '../api/methods.js';
import { encodeArguments } from './values.js';

/** Items per 'iterator.next' request: the first, then doubling up to the largest. */
const FIRST_PAGE = 16;
const MAX_PAGE = 1024;

const closedError = () => new PpdbError('CLOSED', 'the store is closed');


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

  /** Terminates the worker; pending and later requests reject with `reason`. Idempotent. */
  end(reason) {
    if (this.#ended) return;
    this.#ended = reason;
    this.#worker.terminate();
    for (const { reject } of this.#pending.values()) reject(reason);
    this.#pending.clear();
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

/**
 * A Db whose store runs in the proxy worker (an OPFS store opened on a page). Its methods
 * are made from the table of Db's methods (pkg/api/methods.js): each is sent to the
 * worker's Db by name with its arguments, and every one answers through a promise
 * (iterators and snapshots are returned at once and pull from the worker). `share()` is
 * UNSUPPORTED; calls after `close()` reject with CLOSED, and after the worker died (an
 * error event) with INTERNAL.
 */
export class ProxyDb extends EventTarget {
  #connection;
  #getters;
  #closed = false;
  #watches = new Set();

  /** @internal Use `open()`. `getters`: the worker Db's getters, read once it opened. */
  constructor(connection, getters) {
    super();
    this.#connection = connection;
    this.#getters = getters;
    // Snapshots passed in options must be this store's.
    connection.owner = this;
    // Events of the worker's Db ('alert') are dispatched here.
    connection.onEvent = (type, detail) => this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  static {
    const kinds = {
      call: (method) =>
        function (...args) {
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
      // The store lives in the proxy worker, whose memory the page cannot share.
      share: () =>
        function () {
          throw new PpdbError('UNSUPPORTED', 'a store opened on OPFS from a page runs in a worker of its own and cannot be shared');
        },
      // Closes the store in the worker (syncing it), then terminates the worker.
      close: (method) =>
        async function () {
          if (this.#closed) return;
          this.#closed = true;
          // Their loops end (as a Db's do when it closes).
          for (const watch of [...this.#watches]) watch.close();
          try {
            await this.#connection.call(method, []);
          } finally {
            this.#connection.end(closedError());
          }
        },
    };
    for (const [method, kind] of Object.entries(DB_METHODS)) {
      const value = kinds[kind](method);
      Object.defineProperty(value, 'name', { value: method });
      Object.defineProperty(ProxyDb.prototype, method, { value, writable: true, configurable: true });
    }
    for (const getter of DB_GETTERS) {
      if (getter === 'closed') continue;
      Object.defineProperty(ProxyDb.prototype, getter, {
        get() {
          return this.#getters[getter];
        },
        configurable: true,
      });
    }
  }

  #call(method, args) {
    if (this.#closed) return Promise.reject(closedError());
    try {
      const encoded = encodeArguments(method, args, this.#getters.valueEncoding);
      if (Array.isArray(encoded)) return this.#connection.call(method, encoded);
      return encoded.then((ready) => (this.#closed ? Promise.reject(closedError()) : this.#connection.call(method, ready)));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** True once `close()` was called. */
  get closed() {
    return this.#closed;
  }
}

/**
 * Opens store `name` in a new proxy worker (on a page, for OPFS); resolves to its ProxyDb.
 * `options` are those of `open()`; they must survive structured cloning.
 */
export async function openThroughWorker(name, options) {
  // Written out in full so that bundlers (Vite, webpack, ...) emit the worker as a chunk.
  const worker = new Worker(new URL('./proxy-worker.js', import.meta.url), { type: 'module' });
  const connection = new Connection(worker);
  try {
    return new ProxyDb(connection, await connection.call('open', [name, options]));
  } catch (err) {
    connection.end(err);
    throw err;
  }
}
