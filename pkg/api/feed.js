// The part of the change feed every Db carries: it tells the watchers of each committed
// write (here, and in the threads sharing the store) and starts watches. The watches
// themselves (pkg/api/watch.js) load on the first watch(), which most pages never make.
//
// Threads sharing a store (db.share(), attach()) hold one descriptor, `{ channel,
// watchers }`: the name of the BroadcastChannel they tell their writes on, and the number
// of threads watching (an Int32Array over a SharedArrayBuffer), so that a thread whose
// store nobody watches pays one Atomics.load per write and sends nothing.
/** pkg/api/watch.js, once the first watch() loaded it. */
let watching = null;

/**
 * A watch whose code is still loading: its calls wait for the watch `made` resolves to.
 * What is written meanwhile is read back from the memtables when it starts.
 */
class PendingWatch {
  #made;

  constructor(made) {
    this.#made = made;
    made.catch(() => {}); // next() reports it
  }

  [Symbol.asyncIterator]() {
    return this;
  }

  async next() {
    return (await this.#made).next();
  }

  async return() {
    this.close();
    return { done: true, value: undefined };
  }

  close() {
    this.#made.then((watch) => watch.close(), () => {});
  }

  async all() {
    return (await this.#made).all();
  }

  async take(wait) {
    return (await this.#made).take(wait);
  }

  get opened() {
    return this.#made.then((watch) => watch.opened);
  }
}

/** A watch that has ended already (its store closed), starting after `after`. */
function ended(after) {
  const watch = new watching.Watcher({ range: {}, keyEncoding: 'bytes', valueEncoding: 'bytes', position: after });
  watch.close();
  return watch;
}

/** One Db's end of the change feed. */
export class StoreFeed {
  /** `lastSequence()` and `changesSince(after)` call the engine (as Db's #call does). */
  #engine;
  /** The ChangeFeed of pkg/api/watch.js, made by the first watch that starts. */
  #feed = null;
  /** The descriptor shared with other threads (see the top of this file), or null. */
  #shared;
  /** This thread's end of `#shared.channel`, once needed. */
  #relay = null;
  /** Set by end(): a watch whose code loads after the store closed has ended. */
  #ended = false;

  /** `engine`: `{ lastSequence(), changesSince(after) }`; `shared`: a descriptor from a share token, or null. */
  constructor(engine, shared = null) {
    this.#engine = engine;
    this.#shared = shared;
  }

  /** True if a write must be told: someone watches here, or (shared) in another thread. */
  get watched() {
    return Boolean(this.#feed?.watched) || (this.#shared !== null && Atomics.load(this.#shared.watchers, 0) > 0);
  }

  /**
   * Tells watchers of a write, here and in the threads sharing the store: `ops`, its
   * operations (or its batch, encoded), the first at sequence `first`.
   */
  publish(first, ops) {
    const here = Boolean(this.#feed?.watched);
    if (here) this.#feed.publish(first, ops);
    if (this.#shared !== null && Atomics.load(this.#shared.watchers, 0) > (here ? 1 : 0)) this.#channel().postMessage({ first, ops });
  }

  /**
   * A watch (see Db.watch) of `checked` options (`reverse` refused by the caller) in
   * `keyEncoding` and `valueEncoding`, started now or after `checked.after`.
   */
  watch(checked, keyEncoding, valueEncoding) {
    const current = this.#engine.lastSequence();
    const after = checked.after ?? current;
    const start = (now) => {
      this.#feed ??= new watching.ChangeFeed((from) => this.#changesAfter(from));
      const listening = this.#feed.watched;
      const watcher = watching.startWatch(this.#feed, {
        range: checked,
        keyEncoding,
        valueEncoding,
        limit: checked.limit,
        after,
        now,
        changesAfter: (from) => this.#changesAfter(from),
        onClose: (w) => this.#unwatch(w),
      });
      if (!listening && this.#feed.watched) this.#listen(true);
      return watcher;
    };
    if (watching) return start(current);
    return new PendingWatch(
      import('./watch.js').then((module) => {
        watching = module;
        // The store closed while the code loaded: the watch has ended, as those it had.
        if (this.#ended) return ended(after);
        return start(this.#engine.lastSequence());
      }),
    );
  }

  /** The descriptor to hand to the threads the store is shared with (made on first use). */
  share() {
    if (this.#shared === null) {
      // From now on the store's writes may come from other threads: they tell them here.
      this.#shared = { channel: `ppdb-changes:${crypto.randomUUID()}`, watchers: new Int32Array(new SharedArrayBuffer(4)) };
      if (this.#feed?.watched) this.#listen(true);
    }
    return this.#shared;
  }

  /** Ends every watch (the store closed) and this thread's channel. */
  end() {
    this.#ended = true;
    this.#feed?.end();
    this.#relay?.close();
  }

  #unwatch(watcher) {
    if (this.#feed.delete(watcher) && !this.#feed.watched) this.#listen(false);
  }

  /** `{ first, ops, last }`: the changes after `after` from the memtables, as a batch (`ops` null: not all there). */
  #changesAfter(after) {
    const last = this.#engine.lastSequence();
    return { first: after + 1, ops: this.#engine.changesSince(after) ?? null, last };
  }

  /** This thread's end of the channel the threads sharing the store tell their writes on. */
  #channel() {
    if (this.#relay === null) {
      this.#relay = new BroadcastChannel(this.#shared.channel);
      this.#relay.unref?.(); // Node: a channel does not keep the process running
    }
    return this.#relay;
  }

  /** Starts (or stops) hearing the writes of the other threads sharing the store. */
  #listen(on) {
    if (this.#shared === null) return;
    Atomics.add(this.#shared.watchers, 0, on ? 1 : -1);
    this.#channel().onmessage = on
      ? ({ data }) => {
          if (Number.isSafeInteger(data?.first) && (Array.isArray(data.ops) || data.ops instanceof Uint8Array)) this.#feed.publish(data.first, data.ops);
        }
      : null;
    if (on) this.#relay.unref?.();
  }
}
