// A watch of a store shared across tabs (pkg/proxy/tabs.js) that follows it from owner to
// owner, so that no change is missed or repeated when the owner changes.
import { PpdbError } from '../api/errors.js';
import { Changes } from '../api/watch.js';

/** How long a watch whose owner closed the store waits before it watches again. */
const RETRY_WATCH_MS = 50;

/** watch() options must be an object (checked in full by the owner's Db). */
function checkOptions(options) {
  if (options !== undefined && (options === null || typeof options !== 'object' || Array.isArray(options))) {
    throw new PpdbError('INVALID_ARGUMENT', 'watch() options must be an object');
  }
}

/**
 * A watch of a shared store, from owner to owner: it watches at the owner of the moment,
 * and when that owner goes (its take rejects with OWNER_CHANGED) it watches again at the
 * next one, after the last sequence number it saw (that owner reads back what it missed
 * from its memtables, or reports a gap). Changes it already gave are not given again.
 */
export class FollowingWatch extends Changes {
  #ready;
  #method;
  #options;
  #onStop;
  #inner = null;
  /** Every change up to here has been given (undefined until the first owner answers). */
  #position;
  #left;
  #stopped = false;

  /**
   * `ready()` resolves to the Db calls go to now (`target`, if known, is it: the watch
   * starts there at once, so bad options throw here); `options` are those of `watch()`.
   */
  constructor(ready, method, options, onStop, target) {
    super();
    this.#ready = ready;
    this.#method = method;
    this.#onStop = onStop;
    if (target) this.#inner = target[method](options);
    else checkOptions(options);
    this.#options = { ...options };
    this.#position = this.#options.after;
    this.#left = this.#options.limit ?? Infinity;
    this.#inner?.opened.then((start) => (this.#position ??= start), () => {});
  }

  get position() {
    return this.#position;
  }

  get opened() {
    return this.#watching().then(() => this.#position);
  }

  /** The watch at the owner of the moment, made (after what was seen) if there is none. */
  async #watching() {
    if (this.#inner) return this.#inner;
    const target = await this.#ready();
    if (this.#stopped) return null;
    const left = Number.isFinite(this.#left) ? { limit: this.#left } : {};
    const after = this.#position === undefined ? {} : { after: this.#position };
    const inner = target[this.#method]({ ...this.#options, ...left, ...after });
    this.#inner = inner;
    const start = await inner.opened;
    this.#position ??= start;
    return inner;
  }

  async take(wait) {
    for (;;) {
      if (this.#stopped) return { changes: [], position: this.#position, done: true };
      let taken;
      try {
        const inner = await this.#watching();
        if (!inner) continue;
        taken = await inner.take(wait);
      } catch (err) {
        if (this.#stopped) continue;
        // The owner went (or closed the store under the watch, on its way out).
        if (err?.code !== 'OWNER_CHANGED' && err?.code !== 'CLOSED') throw err;
        if (err.code === 'CLOSED') await new Promise((resolve) => setTimeout(resolve, RETRY_WATCH_MS));
        const unknown = this.#position === undefined;
        this.#inner = null;
        if (unknown) {
          // Made, but where it started is unknown: what happened meanwhile may be missed.
          await this.#watching().catch(() => {});
          return { changes: [{ type: 'gap', sequence: this.#position ?? 0 }], position: this.#position, done: false };
        }
        continue;
      }
      // What an earlier owner gave already is not given again; after a gap, the owner's
      // numbering is the one to follow (a store that lost writes numbers anew).
      let seen = this.#position ?? -1;
      let gap = false;
      const changes = [];
      for (const change of taken.changes) {
        if (change.type === 'gap') {
          gap = true;
          seen = change.sequence;
          changes.push(change);
        } else if (change.sequence > seen) {
          seen = change.sequence;
          this.#left--;
          changes.push(change);
        }
      }
      this.#position = gap ? taken.position : Math.max(seen, taken.position);
      if (taken.done) {
        // Its limit reached, it ends; otherwise the store closed at its owner: follow it.
        if (this.#left <= 0) this.stop();
        else this.#inner = null;
      }
      return { changes, position: this.#position, done: this.#stopped };
    }
  }

  /** @internal */
  stop() {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#onStop?.(this);
    this.#inner?.close();
  }
}
