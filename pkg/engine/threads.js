// The memory of threads that ended. Every thread that joins a threaded engine's shared
// memory (a worker attached to a shared store, a store's maintenance worker, a page's proxy
// worker) gets a stack (2 MiB) and a thread-local block in it, which wasm-bindgen frees only
// when the thread itself calls `__wbindgen_thread_destroy`: a worker that is terminated, or
// simply ends, never does. Each would keep its 2 MiB for as long as the memory lives, and a
// page that starts and ends workers would run the memory out (1 GiB: about 470 workers).
//
// In browsers, a thread that joins holds a Web Lock for its whole life, named after the
// memory's key (a random integer kept in the memory: engineKey in src/wasm/threads.rs) and
// the addresses of its thread-local block and stack:
//   ppdb-thread:<key>:<tls>:<stack>
// and, once it holds it, says so on BroadcastChannel `ppdb-threads:<key>`, with the number
// of its heap (src/wasm/alloc.rs). The thread that made the memory asks for each lock it
// hears of; the browser grants it once the context holding it is gone (terminated, closed or
// crashed), and that thread then frees the two blocks and gives the heap to the next thread
// that starts (unless the thread ended inside it). A joined thread never releases its lock:
// it may run until its context ends.
// Not in Node (no Web Locks in Node 20; a worker's exit is seen only by its parent): there
// an ended thread's blocks stay allocated, as before.

// (the loader does not load this module in Node)
const possible = () => typeof BroadcastChannel === 'function' && Boolean(globalThis.navigator?.locks);

/** The key of the memory of `wasm` (proposing one, if no thread has yet). */
const keyOf = (wasm) => wasm.engineKey(Math.floor(Math.random() * 2 ** 52) + 1);
const lockName = (key, tls, stack) => `ppdb-thread:${key}:${tls}:${stack}`;
const channelName = (key) => `ppdb-threads:${key}`;

/**
 * Called by every thread of a threaded engine once its instance (`exports`) is up: a thread
 * that `joined` the memory takes its lock and tells the memory's maker (resolves once it has:
 * a worker that attaches and is terminated right after still gives its memory back); the
 * thread that made the memory frees the others' as they end.
 */
export function track(wasm, exports, joined) {
  if (!possible()) return undefined;
  return joined ? holdWhileAlive(wasm, exports) : reclaimEnded(wasm, exports);
}

/** In the thread that made the memory: frees the blocks of each thread that joins it, once its context is gone. */
function reclaimEnded(wasm, exports) {
  const key = keyOf(wasm);
  const channel = new BroadcastChannel(channelName(key));
  // A thread says so only while it holds its lock, so the lock is granted here only once
  // that thread's context is gone (at once if it went before the message came).
  channel.onmessage = ({ data }) => {
    const { tls, stack, heap } = data ?? {};
    if (![tls, stack, heap].every((n) => Number.isInteger(n) && n > 0)) return;
    navigator.locks
      .request(lockName(key, tls, stack), () => {
        // (0: the stack's size is the one wasm-bindgen gives every thread)
        exports.__wbindgen_thread_destroy(tls, stack, 0);
        // Its heap goes to the next thread, unless it ended inside it (src/wasm/alloc.rs).
        wasm.releaseHeap(heap);
      })
      .catch(() => {}); // the engine stopped (a trap), or the locks went with this context
  };
}

/** In a thread that joined the memory: holds its lock until its context ends, and tells the memory's maker. */
function holdWhileAlive(wasm, exports) {
  const key = keyOf(wasm);
  const tls = exports.__tls_base.value >>> 0;
  const stack = exports.__stack_alloc.value >>> 0;
  if (!tls || !stack) return undefined;
  const heap = wasm.threadHeap();
  return new Promise((told) => {
    navigator.locks
      .request(lockName(key, tls, stack), () => {
        const channel = new BroadcastChannel(channelName(key));
        channel.postMessage({ tls, stack, heap });
        channel.close();
        told();
        return new Promise(() => {}); // held until this context ends
      })
      .catch(told);
  });
}
