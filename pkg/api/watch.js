// The change feed. `db.watch(range)` is an async iterator of the changes committed to the
// store, in commit order: `{ type: 'put', key, value, sequence }` and `{ type: 'del', key,
// sequence }`. The Db publishes each write it commits (its operations and the sequence
// number of the first) to its ChangeFeed, which offers it to every Watcher; a watcher keeps
// the operations in its range and queues them, all of a batch at once.
//
// A watcher that starts `after` a sequence number first gets the changes since then, read
// back from the engine's memtables (Db.watch); where they no longer hold all of them, it
// reports the gap as `{ type: 'gap', sequence }`: changes up to `sequence` may be missing,
// so read the store again. A watcher whose reader falls MAX_QUEUED changes behind drops
// them and reports a gap the same way.
//
// `take()` is what crosses a proxy: once there is something, it resolves with every change
// queued and the watcher's position (every change up to that sequence number has been
// seen), so a watcher that follows a store in another tab resumes where it stopped when
// the store changes hands (pkg/proxy/tabs.js).
import { codecReady, decodeKey, decodeValue } from './encoding.js';
import { drain } from './iterator.js';

const HEADER = 12;

/** Reads a varint32 of `bytes` at `at`: `[value, next]`; throws past the end. */
function readVarint(bytes, at) {
  let value = 0;
  for (let shift = 0; shift < 35; shift += 7) {
    if (at >= bytes.length) throw new RangeError('the batch ends inside a length');
    const byte = bytes[at++];
    value += (byte & 0x7f) * 2 ** shift;
    if (byte < 0x80) return [value, at];
  }
  throw new RangeError('a length of the batch is too long');
}

/**
 * A batch in the write batch format read back: `{ sequence, ops }`, `ops` an array of
 * `{ put, key, value }` (`put` false for a delete, whose value is undefined), keys and
 * values views into `bytes`. Throws a RangeError for bytes that are not such a batch.
 */
export function readBatch(bytes) {
  if (bytes.length < HEADER) throw new RangeError('the batch is shorter than its header');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const sequence = view.getUint32(0, true) + view.getUint32(4, true) * 2 ** 32;
  const count = view.getUint32(8, true);
  const ops = [];
  let at = HEADER;
  const data = () => {
    const [length, start] = readVarint(bytes, at);
    if (start + length > bytes.length) throw new RangeError('the batch ends inside a key or value');
    at = start + length;
    return bytes.subarray(start, at);
  };
  for (let i = 0; i < count; i++) {
    const kind = bytes[at++];
    if (kind !== 0 && kind !== 1) throw new RangeError(`operation ${i} of the batch has kind ${kind}`);
    const key = data();
    ops.push({ put: kind === 1, key, value: kind === 1 ? data() : undefined });
  }
  return { sequence, ops };
}


/** Operations as `[{ put, key, value }]`: as they are, or read from an encoded batch. */
const opsOf = (ops) => (ops instanceof Uint8Array ? readBatch(ops).ops : ops);

/** A timer that does not keep Node running. */
const unrefTimer = (timer) => (timer?.unref?.(), timer);

/** Changes a watcher holds for a reader that does not keep up, at most. */
export const MAX_QUEUED = 100_000;

/** Bytewise order of two Uint8Arrays (the store's key order). */
export function compareBytes(a, b) {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) return a[i] - b[i];
  }
  return a.length - b.length;
}

function startsWith(key, prefix) {
  if (key.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) {
    if (key[i] !== prefix[i]) return false;
  }
  return true;
}

/** True if `key` is in `range` (checked range options: bounds and prefix as bytes). */
export function inRange(key, { gt, gte, lt, lte, prefix }) {
  if (prefix !== undefined && !startsWith(key, prefix)) return false;
  if (gt !== undefined && compareBytes(key, gt) <= 0) return false;
  if (gte !== undefined && compareBytes(key, gte) < 0) return false;
  if (lt !== undefined && compareBytes(key, lt) >= 0) return false;
  if (lte !== undefined && compareBytes(key, lte) > 0) return false;
  return true;
}

/** How long a write numbered past a missing one waits for it before the store is asked. */
export const HOLE_WAIT_MS = 100;

/**
 * The writes of one Db, as they commit, for its watchers. Writes arrive in commit order
 * from this thread; in a store shared with other threads (`db.share()`), theirs arrive as
 * messages and may come after later ones of this thread: a write numbered past a missing
 * one is held until that one arrives, or, after HOLE_WAIT_MS (its thread died between
 * committing and telling), `fill(after)` reads what is missing back from the store.
 */
export class ChangeFeed {
  #watchers = new Set();
  #position = 0;
  /** Writes numbered past a missing one: first sequence -> ops. */
  #held = new Map();
  #holeTimer = null;
  #fill;

  /**
   * `fill(after)`: `{ first, ops, last }`, the changes after `after` (`ops` null when the
   * store cannot list them all) and the store's last sequence number.
   */
  constructor(fill) {
    this.#fill = fill;
  }

  /** True while someone watches (writes are published only then). */
  get watched() {
    return this.#watchers.size > 0;
  }

  /** The sequence number of the last write published. */
  get position() {
    return this.#position;
  }

  /** Adds `watcher`; `position` is the store's last sequence number now. */
  add(watcher, position) {
    this.#position = Math.max(this.#position, position);
    this.#watchers.add(watcher);
  }

  /** Removes `watcher`; false if it was not there. */
  delete(watcher) {
    return this.#watchers.delete(watcher);
  }

  /**
   * A committed write: `ops` (`[{ put, key, value }]`, bytes; or the encoded batch), the
   * first at sequence `first`.
   */
  publish(first, written) {
    const ops = opsOf(written);
    if (first + ops.length - 1 <= this.#position) return; // before the watchers began, or told twice
    if (first > this.#position + 1) {
      this.#held.set(first, ops);
      this.#holeTimer ??= unrefTimer(setTimeout(() => this.#fillHole(), HOLE_WAIT_MS));
      return;
    }
    this.#deliver(first, ops);
    // What was held may follow on now.
    for (let next = this.#held.get(this.#position + 1); next; next = this.#held.get(this.#position + 1)) {
      const at = this.#position + 1;
      this.#held.delete(at);
      this.#deliver(at, next);
    }
    for (const held of this.#held.keys()) if (held <= this.#position) this.#held.delete(held);
    if (this.#held.size === 0) this.#clearHole();
  }

  #deliver(first, ops) {
    this.#position = Math.max(this.#position, first + ops.length - 1);
    for (const watcher of this.#watchers) watcher.offer(first, ops);
  }

  /** A hole that stayed: the store lists what is missing (or every watcher learns of a gap). */
  #fillHole() {
    this.#holeTimer = null;
    if (this.#held.size === 0) return;
    let found;
    try {
      found = this.#fill(this.#position);
    } catch {
      found = { ops: null, last: this.#position }; // the store stopped: its close ends the watchers
    }
    this.#held.clear();
    if (found.ops) return this.publish(found.first, found.ops);
    this.#position = Math.max(this.#position, found.last);
    for (const watcher of this.#watchers) watcher.gap(this.#position);
  }

  #clearHole() {
    clearTimeout(this.#holeTimer);
    this.#holeTimer = null;
  }

  /** Ends every watcher (the store closed): their readers see the end. */
  end() {
    this.#clearHole();
    this.#held.clear();
    for (const watcher of [...this.#watchers]) watcher.stop();
  }
}

/**
 * Starts a watch on `feed` after sequence number `after` (`now` is the store's last): the
 * changes between are read back first with `changesAfter(after)` (see ChangeFeed), or
 * reported as a gap. `range`, encodings, `limit` and `onClose` as for Watcher.
 */
export function startWatch(feed, { range, keyEncoding, valueEncoding, limit, after, now, changesAfter, onClose }) {
  const watcher = new Watcher({ range, keyEncoding, valueEncoding, position: Math.min(after, now), limit, onClose });
  if (after < now) {
    // Earlier changes, from the memtables (all of them, or a gap).
    const earlier = changesAfter(after);
    if (earlier.ops) watcher.offer(earlier.first, opsOf(earlier.ops));
    else watcher.gap(now);
  } else if (after > now) {
    // The caller saw changes this store does not have (lost in a crash before they were synced).
    watcher.gap(now);
  }
  // `limit: 0` asks for nothing: it has ended already.
  if (limit === 0) watcher.close();
  else feed.add(watcher, now);
  return watcher;
}

/**
 * An async iterator of changes over `take()` (which subclasses define, with `stop()`):
 * what a watch is to its reader, here or through a proxy.
 */
export class Changes {
  /** Taken, not yet returned. */
  #items = [];
  #at = 0;
  #finished = false;

  [Symbol.asyncIterator]() {
    return this;
  }

  /** The next change, as an iterator result. */
  async next() {
    while (this.#at >= this.#items.length) {
      if (this.#finished) return { done: true, value: undefined };
      const { changes, done } = await this.take();
      if (this.#finished) return { done: true, value: undefined };
      this.#items = changes;
      this.#at = 0;
      if (done) this.#finished = true;
    }
    return { done: false, value: this.#items[this.#at++] };
  }

  /** Every change until it ends (use with a `limit`), as an array. */
  all() {
    return drain(this);
  }

  /** Ends the watch (`break` in `for await` calls this). */
  async return() {
    this.close();
    return { done: true, value: undefined };
  }

  /** Stops watching; what was not read yet is dropped. Idempotent. */
  close() {
    this.#finished = true;
    this.#items = [];
    this.#at = 0;
    this.stop();
  }
}

/**
 * One `watch()` of a Db: an async iterator of changes (see the top of this file). Ending
 * the loop (`break`), `close()`, its `limit` or the store's close ends it.
 */
export class Watcher extends Changes {
  #range;
  #keyEncoding;
  #valueEncoding;
  #position;
  #start;
  #left;
  #onClose;
  /** Queued, not yet taken: `{ sequence, put, key, value }` (bytes) or `{ gap }`. */
  #queue = [];
  /** Resolves the pending take(), if any. */
  #wake = null;
  #pending = null;
  #ended = false;
  /** The value encoding's codec loading, until it has loaded (see codecReady). */
  #codec;

  /**
   * @internal `range`: checked range options; `position`: the sequence number it starts
   * after; `limit`: changes to deliver before it ends; `onClose` runs once when it ends.
   */
  constructor({ range, keyEncoding, valueEncoding, position, limit, onClose }) {
    super();
    this.#range = range;
    this.#keyEncoding = keyEncoding;
    this.#valueEncoding = valueEncoding;
    this.#position = position;
    this.#start = position;
    this.#left = limit ?? Infinity;
    this.#onClose = onClose;
    this.#codec = codecReady(valueEncoding);
  }

  /** Every change up to this sequence number has been queued (or was out of range). */
  get position() {
    return this.#position;
  }

  /** The sequence number it started after (what a proxy reports when it is made). */
  get opened() {
    return Promise.resolve(this.#start);
  }

  /** @internal A committed write (see ChangeFeed.publish). */
  offer(first, ops) {
    if (this.#ended) return;
    const last = first + ops.length - 1;
    if (last <= this.#position) return;
    const kept = [];
    for (let i = Math.max(0, this.#position + 1 - first); i < ops.length; i++) {
      const op = ops[i];
      if (inRange(op.key, this.#range)) kept.push({ sequence: first + i, put: op.put, key: op.key, value: op.value });
    }
    this.#position = last;
    if (kept.length === 0) return;
    if (this.#queue.length + kept.length > MAX_QUEUED) return this.gap(last);
    for (const change of kept) this.#queue.push(change);
    this.#notify();
  }

  /** @internal Changes up to `sequence` may be missing: what is queued goes, a gap is reported. */
  gap(sequence) {
    if (this.#ended) return;
    this.#queue = [{ gap: sequence }];
    this.#position = Math.max(this.#position, sequence);
    this.#notify();
  }

  #notify() {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  /** The queued changes as the caller reads them (at most what the limit leaves). */
  #drain() {
    const queue = this.#queue;
    this.#queue = [];
    const changes = [];
    for (const change of queue) {
      if (change.gap !== undefined) {
        changes.push({ type: 'gap', sequence: change.gap });
        continue;
      }
      if (this.#left === 0) break;
      this.#left--;
      // Bytes are copied: every watcher of a write gets its own.
      const key = this.#keyEncoding === 'bytes' ? change.key.slice() : decodeKey(change.key, this.#keyEncoding);
      if (!change.put) {
        changes.push({ type: 'del', key, sequence: change.sequence });
        continue;
      }
      const value = this.#valueEncoding === 'bytes' ? change.value.slice() : decodeValue(change.value, this.#valueEncoding);
      changes.push({ type: 'put', key, value, sequence: change.sequence });
    }
    if (this.#left === 0) this.stop();
    return { changes, position: this.#position, done: this.#ended };
  }

  /**
   * Waits for changes: `{ changes, position, done }`, every change queued (none if `wait`
   * ms passed first, or it ended). One take at a time; a second waits with the first.
   */
  take(wait) {
    if (this.#codec) {
      return this.#codec.then(() => {
        this.#codec = null;
        return this.take(wait);
      });
    }
    if (this.#queue.length > 0 || this.#ended) {
      try {
        return Promise.resolve(this.#drain());
      } catch (err) {
        this.stop();
        return Promise.reject(err);
      }
    }
    this.#pending ??= new Promise((resolve) => {
      const timer = wait === undefined ? null : setTimeout(() => this.#notify(), wait);
      this.#wake = () => {
        clearTimeout(timer);
        this.#pending = null;
        resolve();
      };
    }).then(() => (this.#queue.length > 0 || this.#ended ? this.take() : { changes: [], position: this.#position, done: false }));
    return this.#pending;
  }

  /** @internal Ends it (close() does, with what next() had taken). */
  stop() {
    if (this.#ended) return;
    this.#ended = true;
    this.#queue = [];
    this.#onClose?.(this);
    this.#notify();
  }
}
