// Where and when a store's background work runs: flushing frozen memtables to tables and
// compacting them (natively the engine has a thread for this; in wasm the package drives
// it). One of:
//   'worker'  the threaded build on Node fs: a maintenance worker of the engine's
//             (pkg/node/maintainer.js) steps through every store's jobs
//   'steps'   bounded engine steps on the store's own thread: slices of at most SLICE_MS
//             between other tasks, looked for every IDLE_CHECK_MS, and work from inside the
//             writes themselves, by what they write (see help()): level 0 stays bounded
//             under sustained writes, as LevelDB's slowdown and stop triggers bound it
//   'none'    memory stores and attached handles (the owner's thread does the work)
import { PpdbError } from './errors.js';
import { nextTask } from '../engine/tasks.js';

/** Keys and values one engine maintenance step flushes or merges (about 1 ms of work). */
const STEP_BYTES = 64 * 1024;
/** The longest the package runs maintenance steps before yielding the thread. */
const SLICE_MS = 4;
/** How often the package looks for background work while there is none. */
const IDLE_CHECK_MS = 100;
/** Writes, or bytes written, between looks for background work from inside a write (see help()). */
const HELP_EVERY = 64;
const HELP_BYTES = 256 * 1024;
/**
 * Level 0's triggers, in tables. From `slowdown`, writers do compaction work for what they
 * write (LevelDB slows writes at 8); from `stop`, a write waits until level 0 is back under
 * `slowdown` (LevelDB stops at 12). The bulk-load benchmark sets both to Infinity to measure
 * a load without them.
 */
export const level0Triggers = { slowdown: 8, stop: 12 };
/** Past the slowdown trigger, the bytes of steps a writer runs per byte it wrote (compaction rewrites each byte several times). */
const SLOWDOWN_PAY = 4;
/** How long a writer pauses for the maintenance worker past the slowdown trigger, and the longest it waits for it to make progress past the stop trigger. */
const WORKER_PAUSE_MS = 1;
const WORKER_STALL_MS = 5000;
/** Bytes per step of an explicit `compact()`, which yields between steps. */
const COMPACT_STEP_BYTES = 1024 * 1024;

export class Maintenance {
  #handle;
  #call;
  #alive;
  #timer = null;
  #running = false;
  #sinceHelp = 0;
  #written = 0;
  /** The wait of writes past the stop trigger, while it lasts. */
  #stall = null;
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
   * Called by every write after it wrote `bytes`. Code that awaits call after call never
   * gives the event loop a task, only microtasks, so the timer that runs the slices never
   * fires: writers pay for the work they make, as in LevelDB, and reads never wait for it.
   * Every HELP_EVERY writes or HELP_BYTES written it looks at level 0 (level0Triggers):
   * under `slowdown` it runs one bounded step (about a millisecond) if work is waiting; from
   * `slowdown`, steps worth SLOWDOWN_PAY times what was written; from `stop` it returns a
   * promise the write awaits: slices of work with other tasks between them (a page stays
   * responsive) until level 0 is back under `slowdown`. Otherwise undefined.
   */
  help(bytes) {
    if ((!this.#timer && !this.#worker) || !this.#alive()) return undefined;
    this.#written += bytes;
    if (++this.#sinceHelp < HELP_EVERY && this.#written < HELP_BYTES) return this.#stall ?? undefined;
    const written = this.#written;
    this.#sinceHelp = 0;
    this.#written = 0;
    try {
      const level0 = this.#call(() => this.#handle.level0Tables());
      const { slowdown, stop } = level0Triggers;
      if (this.#worker) {
        // The worker does the work: past the slowdown trigger a writer pauses for it.
        if (level0 >= slowdown) {
          this.#stall ??= this.#waitForWorker(level0 >= stop).finally(() => {
            this.#stall = null;
          });
        }
        return this.#stall ?? undefined;
      }
      if (level0 >= stop) {
        this.#stall ??= this.#drain().finally(() => {
          this.#stall = null;
        });
        return this.#stall;
      }
      let budget = level0 >= slowdown ? SLOWDOWN_PAY * written : STEP_BYTES;
      this.#call(() => {
        while (budget > 0 && this.#handle.needsMaintenance() && this.#handle.maintain(STEP_BYTES)) budget -= STEP_BYTES;
      });
    } catch {
      // The engine keeps the error (a trap marks it dead); the next write reports it.
    }
    return this.#stall ?? undefined;
  }

  /**
   * The maintenance worker's turn: a pause of WORKER_PAUSE_MS (LevelDB's slowdown sleeps a
   * millisecond a write), or with `stop`, pauses until level 0 is back under the slowdown trigger,
   * bounded: after WORKER_STALL_MS without level 0 shrinking (a worker that died) writes go
   * on.
   */
  async #waitForWorker(stop) {
    let level0 = Infinity;
    let since = Date.now();
    try {
      do {
        await new Promise((resolve) => setTimeout(resolve, WORKER_PAUSE_MS));
        if (!this.#alive()) return;
        const now = this.#call(() => this.#handle.level0Tables());
        if (now < level0) since = Date.now();
        level0 = now;
      } while (stop && level0 >= level0Triggers.slowdown && Date.now() - since < WORKER_STALL_MS);
    } catch {
      // The engine keeps the error; the next call reports it.
    }
  }

  /** Runs slices of work, a task apart, until level 0 is under the slowdown trigger (or nothing can be done now). */
  async #drain() {
    try {
      while (this.#alive() && this.#call(() => this.#handle.level0Tables()) >= level0Triggers.slowdown) {
        const started = Date.now();
        let worked = false;
        this.#call(() => {
          while (Date.now() - started < SLICE_MS && this.#handle.maintain(STEP_BYTES)) worked = true;
        });
        if (!worked) return;
        await nextTask();
      }
    } catch {
      // The engine keeps the error; the write that waited reports it.
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
