// The serving end of the proxy protocol (described in pkg/proxy/page.js): runs requests on a
// Db for one remote caller, in the order it made them, holding what cannot cross (iterators,
// snapshots) under the ids of the requests that made them. The proxy worker serves its page
// with one (pkg/proxy/worker-side.js); a tab that owns a shared store serves each client
// context with one (pkg/proxy/tabs.js).
import { Outbox, isPlainObject, transferable } from './messages.js';
import { DB_GETTERS, isRemoteMethod } from '../api/methods.js';
import { holdAtEnd, seekUnread } from '../api/iterator.js';

/** An error that crosses back as `{ code, message }` (a PpdbError on the caller's side). */
export const failure = (code, message) => Object.assign(new Error(message), { name: 'PpdbError', code });

/** The values of a Db's getters (storage, flavour, name, closed, recovery, ...). */
export const gettersOf = (target) => Object.fromEntries(DB_GETTERS.map((key) => [key, target[key]]));

/** False for what structured cloning would not carry intact: instances of classes (an iterator, a Snapshot). */
function crossesIntact(value) {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || ArrayBuffer.isView(value)) return true;
  return isPlainObject(value) || [Map, Set, Date, ArrayBuffer].some((type) => value instanceof type);
}

export class Server {
  #db = null;
  /** Results the caller cannot hold (iterators, snapshots), by the id of the request that made them. */
  #held = new Map();
  /** Held iterators' requests in order, and items sent (see #inOrder). */
  #iterators = new Map();
  #outbox;
  #internal;

  /**
   * `send(messages, transfer)` posts replies (an array per task); `db` is the store served,
   * or null until an `open` request (`internal`: requests of the caller's own, by name,
   * run with this Server as `this`).
   */
  constructor(send, { db = null, internal = {} } = {}) {
    this.#db = db;
    this.#internal = internal;
    // A result that cannot be cloned is answered with an error instead (once: an error
    // that cannot be sent either, to a closed channel, is dropped).
    this.#outbox = new Outbox(send, (message) => {
      if (message.error === undefined && message.id !== undefined) {
        this.#outbox.push({ id: message.id, error: { code: 'INTERNAL', message: `the result of request ${message.id} cannot be sent back` } });
      }
    });
  }

  /** The store served (set by an `open` request). */
  get db() {
    return this.#db;
  }

  set db(db) {
    this.#db = db;
  }

  /** Sends event `type` with `detail` to the caller (an alert, an owner change). */
  event(type, detail) {
    this.#outbox.push({ event: type, detail });
  }

  /** Runs each request of one message. */
  handle(requests) {
    for (const request of requests) this.#answer(request.id, this.#perform(request));
  }

  /** Closes what the caller still holds (it went away). */
  release() {
    for (const object of this.#held.values()) object.close();
    this.#held.clear();
    this.#iterators.clear();
  }

  /** `args` with the held objects the request refers to put back: `refs` is `[[argIndex, property, heldId]]`. */
  #withHeld(args, refs = []) {
    for (const [index, property, id] of refs) {
      const object = this.#held.get(id);
      if (!object) throw failure('CLOSED', `the ${property} is closed`);
      args[index] = { ...args[index], [property]: object };
    }
    return args;
  }

  /** Up to `count` more items of held iterator `id`: `{ items, done }`. */
  #nextItems(id, count) {
    return this.#inOrder(id, async (state) => {
      const iterator = this.#held.get(id);
      if (!iterator) throw failure('CLOSED', 'the iterator is closed');
      const items = [];
      while (items.length < count) {
        const step = await iterator.next();
        // At its end it stays held (a seek may follow) until the page releases it.
        if (step.done) break;
        items.push(step.value);
      }
      state.sent += items.length;
      return { items, done: items.length < count };
    });
  }

  /** Seeks held iterator `id` to `target`; the caller used `consumed` of the items sent since the last seek. */
  #seek(id, target, consumed) {
    return this.#inOrder(id, (state) => {
      const unread = Math.max(0, state.sent - consumed);
      state.sent = consumed;
      this.#held.get(id)?.[seekUnread](target, unread);
      return null;
    });
  }

  /**
   * Runs `work(state)` once the earlier requests on held iterator `id` are done (a page of
   * items may take several awaits; a seek must not land in the middle of one). `state` is
   * `{ sent, queue }`: the items sent since its last seek, and the last request queued.
   */
  #inOrder(id, work) {
    let state = this.#iterators.get(id);
    if (!state) this.#iterators.set(id, (state = { sent: 0, queue: Promise.resolve() }));
    const run = state.queue.then(() => work(state));
    state.queue = run.catch(() => {});
    return run;
  }

  /** Changes of held watch `id`, once there are some or `wait` ms passed: `{ changes, position, done }`. */
  async #nextChanges(id, wait) {
    const watch = this.#held.get(id);
    if (!watch) throw failure('CLOSED', 'the watch is closed');
    const taken = await watch.take(wait);
    if (taken.done) this.#held.delete(id);
    return taken;
  }

  /**
   * Runs request `{ id, method, args, held }`. Everything up to the Db call happens
   * synchronously, so requests start in the order they were made, and an iterator is
   * held before the next request of the same message asks for its first items.
   */
  async #perform({ id, method, args, held: refs }) {
    if (Object.hasOwn(this.#internal, method)) return this.#internal[method].apply(this, args);
    if (method === 'iterator.next') return this.#nextItems(...args);
    if (method === 'watch.next') return this.#nextChanges(...args);
    if (method === 'iterator.seek') return this.#seek(...args);
    if (method === 'release') {
      const object = this.#held.get(args[0]);
      this.#held.delete(args[0]);
      this.#iterators.delete(args[0]);
      return object?.close();
    }
    if (!this.#db) throw failure('CLOSED', 'the store is not open');
    if (!isRemoteMethod(method)) throw failure('UNSUPPORTED', `Db has no method ${String(method)}`);
    const result = this.#db[method](...this.#withHeld(args, refs));
    const value = typeof result?.then === 'function' ? await result : result;
    if (crossesIntact(value)) return value;
    this.#held.set(id, value);
    value[holdAtEnd]?.();
    // A watch tells where it starts, so its follower can resume from there.
    return typeof value.take === 'function' ? { position: await value.opened } : null;
  }

  #answer(id, work) {
    work.then(
      (result) => {
        const transfer = new Set();
        this.#outbox.push({ id, result: transferable(result, transfer, false) }, transfer);
      },
      (err) => {
        const code = err?.name === 'PpdbError' && typeof err.code === 'string' ? err.code : 'INTERNAL';
        this.#outbox.push({ id, error: { code, message: String(err?.message ?? err) } });
      },
    );
  }
}
