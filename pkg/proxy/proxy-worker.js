// The worker side of the main-thread proxy (the protocol is described in pkg/proxy/page.js).
// The page starts this dedicated module worker for an OPFS store, since OPFS sync access
// handles exist only in dedicated workers. It opens the store with the real package and
// runs each request on that Db, in the order the page made them; replies that settle in
// the same task go back as one message, their Uint8Arrays transferred.
//
// It imports open.js, not index.js: index.js reaches proxy.js, which starts this worker,
// and bundlers reject a worker whose module graph starts itself.
import { openHere } from '../api/open.js';
import { Outbox, isPlainObject, transferable } from './messages.js';
import { DB_GETTERS, isRemoteMethod } from '../api/methods.js';

let db = null;
/** Results the page cannot hold (iterators, snapshots), by the id of the request that made them. */
const held = new Map();

const outbox = new Outbox(
  (messages, transfer) => self.postMessage(messages, transfer),
  (message) => outbox.push({ id: message.id, error: { code: 'INTERNAL', message: `the result of request ${message.id} cannot be sent to the page` } }),
);

const failure = (code, message) => Object.assign(new Error(message), { name: 'PpdbError', code });

/** The values of the Db's getters (storage, flavour, name, closed, recovery, ...). */
const gettersOf = (target) => Object.fromEntries(DB_GETTERS.map((key) => [key, target[key]]));

/** False for what structured cloning would not carry intact: instances of classes (an iterator, a Snapshot). */
function crossesIntact(value) {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || ArrayBuffer.isView(value)) return true;
  return isPlainObject(value) || [Map, Set, Date, ArrayBuffer].some((type) => value instanceof type);
}

/** `args` with the held objects the request refers to put back: `refs` is `[[argIndex, property, heldId]]`. */
function withHeld(args, refs = []) {
  for (const [index, property, id] of refs) {
    const object = held.get(id);
    if (!object) throw failure('CLOSED', `the ${property} is closed`);
    args[index] = { ...args[index], [property]: object };
  }
  return args;
}

/** Requests that are not Db methods. */
const internal = {
  /** Opens the store; answers the Db's getters. */
  async open(name, options) {
    if (db) throw failure('INTERNAL', 'this worker already holds a store');
    db = await openHere(name, options);
    // Alerts raised in here are events of the page's Db too.
    db.addEventListener('alert', (event) => outbox.push({ event: 'alert', detail: event.detail }));
    return gettersOf(db);
  },

  /** Up to `count` more items of held iterator `id`: `{ items, done }`. */
  async 'iterator.next'(id, count) {
    const iterator = held.get(id);
    if (!iterator) throw failure('CLOSED', 'the iterator is closed');
    const items = [];
    while (items.length < count) {
      const step = await iterator.next();
      if (step.done) {
        held.delete(id);
        return { items, done: true };
      }
      items.push(step.value);
    }
    return { items, done: false };
  },

  /** Closes held object `id` (an iterator ended early, a snapshot closed on the page). */
  async release(id) {
    const object = held.get(id);
    held.delete(id);
    object?.close();
  },
};

/**
 * Runs request `{ id, method, args, held }`. Everything up to the Db call happens
 * synchronously, so requests start in the order the page made them, and an iterator is
 * held before the next request of the same message asks for its first items.
 */
async function perform({ id, method, args, held: refs }) {
  if (Object.hasOwn(internal, method)) return internal[method](...args);
  if (!db) throw failure('CLOSED', 'the store is not open');
  if (!isRemoteMethod(method)) throw failure('UNSUPPORTED', `Db has no method ${String(method)}`);
  const result = db[method](...withHeld(args, refs));
  const value = typeof result?.then === 'function' ? await result : result;
  if (crossesIntact(value)) return value;
  held.set(id, value);
  return null;
}

function answer(id, work) {
  work.then(
    (result) => {
      const transfer = new Set();
      outbox.push({ id, result: transferable(result, transfer, false) }, transfer);
    },
    (err) => {
      const code = err?.name === 'PpdbError' && typeof err.code === 'string' ? err.code : 'INTERNAL';
      outbox.push({ id, error: { code, message: String(err?.message ?? err) } });
    },
  );
}

// Each message is an array of requests. Anything else is a bug on the page side: the
// error is left uncaught, so the page sees an error event and fails every call.
self.addEventListener('message', ({ data }) => {
  if (!Array.isArray(data)) throw new TypeError('ppdb proxy worker: a message must be an array of requests');
  for (const request of data) answer(request.id, perform(request));
});
