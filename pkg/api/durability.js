// When a store's writes become durable: decided here and nowhere else.
//
// Where the engine can sync its own files (Node fs, memory), it is told the store's
// durability and does everything: 'sync' syncs the log before a write returns (group commit
// across threads), 'relaxed' syncs by size, and the timer here syncs by time.
//
// Where the JS side makes files durable (`files.groupCommit`: OPFS, whose flush is cheap
// only once per task, and IndexedDB, which commits in a transaction of its own), the engine
// only logs (it is told 'relaxed') and this module commits: with 'sync', once after every
// task that wrote (every write of that task waits for the same commit), and with 'relaxed',
// on the timer and by the engine's size limit. A commit that fails poisons the store: its
// writes are not acknowledged, and every later write is refused with the same error until
// the store is reopened (a later commit would otherwise make some of them durable).
//
// A process (Node, Deno, Bun) that ends without closing its stores (it reaches its end, or
// calls process.exit()) syncs their relaxed writes as it exits: the engine's sync of an fs
// store is synchronous, so it runs in the process's 'exit' event. A kill (SIGKILL, or a
// signal with no handler) loses what was not synced yet, up to relaxedFlushInterval.
import { PpdbError } from './errors.js';
import { nextTask } from '../engine/tasks.js';

/** The durability the engine is told for a store on `files` (null: memory). */
export function engineDurability(files, durability) {
  return files?.groupCommit ? 'relaxed' : durability;
}

export class Durability {
  #handle;
  #files;
  #durability;
  #call;
  #alive;
  #timer = null;
  #pending = null;
  #failed = null;

  /**
   * `call(fn)` runs an engine call as the Db does (errors mapped, a trap marks the engine
   * dead); `alive()` is false once the store closed or its engine died; `interval`: how
   * often relaxed writes are synced, in milliseconds (0: never by time).
   */
  constructor({ handle, files, durability, interval, call, alive }) {
    this.#handle = handle;
    this.#files = files;
    this.#durability = durability;
    this.#call = call;
    this.#alive = alive;
    if (files && durability === 'relaxed' && interval > 0) {
      this.#timer = setInterval(() => {
        // An error poisons the store; the next write reports it.
        if (this.#alive()) this.commit().catch(() => {});
      }, interval);
      this.#timer.unref?.();
    }
    // Relaxed writes the engine syncs itself (fs) are synced once more as the process exits.
    if (durability === 'relaxed') files?.syncAtExit?.(this, true);
  }

  /** Syncs the log at once, synchronously (the process exits); errors are past reporting. */
  syncNow() {
    if (!this.#alive() || this.#failed) return;
    try {
      this.#call(() => this.#handle.flush());
    } catch {
      // The process is ending: nothing is left to tell.
    }
  }

  /** The error of a failed commit, or null. */
  get failed() {
    return this.#failed;
  }

  /**
   * What a write awaits before it resolves: with JS-side durability and 'sync', the commit
   * after this task (shared by every write until then); otherwise nothing (undefined).
   */
  afterWrite() {
    if (!this.#files?.groupCommit || this.#durability !== 'sync') return undefined;
    this.#pending ??= nextTask().then(() => {
      this.#pending = null;
      return this.commit();
    });
    return this.#pending;
  }

  /** Syncs the log, then commits what the JS side holds (IndexedDB). */
  async commit() {
    if (this.#failed) throw this.#failed;
    this.#call(() => this.#handle.flush());
    const commit = this.#files?.commit;
    if (!commit) return;
    const started = performance.now();
    try {
      await commit();
    } catch (err) {
      this.#failed ??= err instanceof PpdbError ? err : new PpdbError('IO', String(err?.message ?? err), { cause: err });
      throw this.#failed;
    }
    // The engine's own syncs are timed inside it; this commit happens out here.
    if (this.#alive()) this.#call(() => this.#handle.recordLatency('wal_sync', performance.now() - started));
  }

  /** Stops the timer (close). */
  stop() {
    clearInterval(this.#timer);
    this.#timer = null;
    this.#files?.syncAtExit?.(this, false);
  }
}
