// What both ends of the main-thread proxy (pkg/proxy/page.js on the page, pkg/proxy/worker-side.js
// in its worker) use to send messages: batching per task and transferred buffers. The
// protocol itself is described in pkg/proxy/page.js.
import { invalid } from '../api/errors.js';
import { isBytes, isDetached } from '../api/encoding.js';

/** True for `{ ... }` objects (not arrays, not instances of classes). */
export function isPlainObject(value) {
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * `value` ready to post, with the buffers of its Uint8Arrays (inside arrays and plain
 * objects too) added to `transfer` (a Set). With `copy` (the page: the caller still owns
 * what it passed) every Uint8Array is copied into a buffer of its own first, so no caller's
 * buffer is ever detached. Without it (the worker: results are its own) only views that do
 * not span a whole ArrayBuffer (subarrays, shared memory) are copied. Arrays and plain
 * objects are rebuilt as they are (holes, an array's other properties, a null prototype, a
 * `__proto__` key and cycles included), never changed in place; other values are left to
 * structured cloning. A detached Uint8Array is INVALID_ARGUMENT.
 */
export function transferable(value, transfer, copy, seen = new Map()) {
  if (isBytes(value)) {
    if (isDetached(value)) throw invalid('a Uint8Array whose buffer was detached (transferred) cannot be sent');
    const whole = value.buffer instanceof ArrayBuffer && value.byteOffset === 0 && value.byteLength === value.buffer.byteLength;
    const bytes = copy || !whole ? new Uint8Array(value) : value;
    transfer.add(bytes.buffer);
    return bytes;
  }
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return seen.get(value);
  let out;
  if (Array.isArray(value)) out = new Array(value.length);
  else if (isPlainObject(value)) out = Object.create(Object.getPrototypeOf(value));
  else return value;
  seen.set(value, out);
  for (const key of Object.keys(value)) {
    const item = transferable(value[key], transfer, copy, seen);
    Object.defineProperty(out, key, { value: item, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/**
 * Messages queued during one task and posted together, as one array, on a microtask.
 * `post(messages, transfer)` sends; `unsendable(message, error)` is told about a message
 * that cannot be cloned (its batch is then posted one message at a time, so the others
 * still go).
 */
export class Outbox {
  #post;
  #unsendable;
  #queue = [];

  constructor(post, unsendable) {
    this.#post = post;
    this.#unsendable = unsendable;
  }

  /** Queues `message` with the buffers (a Set) it transfers. */
  push(message, transfer = new Set()) {
    this.#queue.push({ message, transfer });
    if (this.#queue.length === 1) queueMicrotask(() => this.#flush());
  }

  #flush() {
    const queue = this.#queue;
    this.#queue = [];
    const transfer = new Set(queue.flatMap((entry) => [...entry.transfer]));
    try {
      this.#post(queue.map((entry) => entry.message), [...transfer]);
    } catch {
      // A value that cannot be cloned (a function, say): nothing was sent or detached.
      for (const { message, transfer } of queue) {
        try {
          this.#post([message], [...transfer]);
        } catch (err) {
          this.#unsendable(message, err);
        }
      }
    }
  }
}
