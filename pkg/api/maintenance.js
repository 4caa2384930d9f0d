// Where and when a store's background work runs: flushing frozen memtables to tables and
// compacting them (natively the engine has a thread for this; in wasm the package drives
// it). One of:
//   'worker'  the threaded build on Node fs: a maintenance worker of the engine's
//             (pkg/node/maintainer.js) steps through every store's jobs
//   'steps'   bounded engine steps on the store's own thread: slices of at most SLICE_MS
//             between other tasks, looked for every IDLE_CHECK_MS, and one step from inside
//             every HELP_EVERY-th write (see help())
//   'none'    memory stores and attached handles (the owner's thread does the work)
import { PpdbError } from './errors.js';
import { nextTask } from '../engine/tasks.js';

/** Keys and values one engine maintenance step flushes or merges (about 1 ms of work). */
const STEP_BYTES = 64 * 1024;
/** The longest the package runs maintenance steps before yielding the thread. */
const SLICE_MS = 4;
/** How often the package looks for background work while there is none. */
const IDLE_CHECK_MS = 100;
/** Writes between looks for background work from inside a write (see help()). */
const HELP_EVERY = 64;
/** Bytes per step of an explicit `compact()`, which yields between steps. */
const COMPACT_STEP_BYTES = 1024 * 1024;

export class Maintenance {
  #handle;
  #call;
  #alive;
  #timer = null;
  #running = false;
  #sinceHelp = 0;
  #worker = null;

  /**
   * `steps`: this thread runs the store's background work (a store on files, not attached).
   * `call(fn)` runs an engine call as the Db does; `alive()` is false once the store closed
   * or its engine died.
   */
  constructor({ handle, call, alive, steps }) {
    this.#handle = handle;
    this.#call = call;
    this.#alive = alive;
    if (steps) {
      this.#timer = setInterval(() => this.#run(), IDLE_CHECK_MS);
      this.#timer.unref?.();
    }
  }

  /** 'worker', 'steps' or 'none' (see above). */
  get where() {
    if (this.#worker) return 'worker';
    return this.#timer ? 'steps' : 'none';
  }

  /**
   * Runs background work in slices of at most SLICE_MS, each made of bounded engine steps,
   * with other tasks (user calls, storage callbacks) between slices, until none is left.
   */
  async #run() {
    if (this.#running) return;
    this.#running = true;
    try {
      while (this.#alive() && this.#handle.needsMaintenance()) {
        const started = Date.now();
        let worked = false;
        while (Date.now() - started < SLICE_MS && this.#handle.maintain(STEP_BYTES)) worked = true;
        // Nothing to do now (a flush waits for storage or writers): try at the next tick.
        if (!worked) break;
        await nextTask();
      }
    } catch {
      // The engine keeps the error; the next write reports it.
    } finally {
      this.#running = false;
    }
  }

  /**
   * Called by every write: every HELP_EVERY writes, runs one bounded maintenance step
   * (about a millisecond) if work is waiting. Code that awaits call after call never gives
   * the event loop a task, only microtasks, so the timer that runs the slices never fires:
   * frozen memtables would pile up (to the memory limit), and every read would look
   * through each of them. Writers pay for the work they make, as in LevelDB; reads never
   * wait for it.
   */
  help() {
    if (++this.#sinceHelp < HELP_EVERY || !this.#timer || !this.#alive()) return;
    this.#sinceHelp = 0;
    try {
      this.#call(() => this.#handle.needsMaintenance() && this.#handle.maintain(STEP_BYTES));
    } catch {
      // The engine keeps the error (a trap marks it dead); the next write reports it.
    }
  }

  /**
   * Moves the work to the maintenance worker, attached through `token` (from `db.share()`);
   * this thread stops running it. Where no worker can start, the work stays here.
   */
  async startWorker(token) {
    const { startMaintainer } = await import('#node');
    try {
      this.#worker = await startMaintainer(token);
    } catch {
      return;
    }
    clearInterval(this.#timer);
    this.#timer = null;
  }

  /**
   * Runs every pending flush and compaction (the caller froze the active memtable): on the
   * worker, or here step by step, yielding between steps, so storages that open files
   * asynchronously (OPFS) keep up and the thread is never held for a whole compaction at
   * once. `ready()` waits for storage; `live()` throws once the store closed.
   */
  async compact({ ready, live }) {
    if (this.#worker) return this.#worker.compact();
    let stalls = 0;
    while (this.#call(() => this.#handle.needsMaintenance())) {
      await ready();
      live();
      if (this.#call(() => this.#handle.maintain(COMPACT_STEP_BYTES))) stalls = 0;
      else if (++stalls > 200) throw new PpdbError('IO', 'flush or compaction cannot make progress');
      await nextTask();
      live();
    }
  }

  /** Stops looking for work on this thread (close). */
  stop() {
    clearInterval(this.#timer);
  }

  /** Detaches the maintenance worker, if any (close: its handle goes before this one). */
  async release() {
    await this.#worker?.stop().catch(() => {});
  }
}
