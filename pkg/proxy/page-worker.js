// The page's proxy worker (pkg/proxy/proxy-worker.js): one dedicated module worker for every
// store a page opens through a worker (OPFS), each store on a MessageChannel of its own. The
// page's side of each store's channel is a StorePort, which Connection (./page.js) drives as
// it would a worker.

/** How long the page's proxy worker stays once no store uses it, for the next open. */
const IDLE_MS = 30_000;

/**
 * The page's proxy worker: one for every store the page opens through a worker, each store
 * on a MessageChannel of its own (the worker serves each port with a Server of its own), so
 * that a second store, or a store closed and opened again, opens without starting a worker
 * and loading the engine in it again. Stopped once no store has used it for IDLE_MS, or
 * when it fails: every store on it then fails with INTERNAL (a store shared with other tabs
 * fails over, see pkg/proxy/tabs.js), and the next open starts another.
 */
export class ProxyWorker {
  static #current = null;
  #worker;
  #ports = new Set();
  #idle;
  /** The page's shared memory this worker's threaded engine joined (threads: true), or null. */
  #memory = null;

  /**
   * A port to a Server of its own in the page's proxy worker (started on first use).
   * `memory`: the page's threaded engine's memory, for a store opened with threads: true. A
   * worker joins one such memory for good, so a page whose threaded engine was replaced
   * since (it died) gets a new worker; the old one stops once its stores closed.
   */
  static connect(memory = null) {
    let current = ProxyWorker.#current;
    if (!current || (memory && current.#memory && current.#memory !== memory)) current = ProxyWorker.#current = new ProxyWorker();
    current.#memory ??= memory;
    return current.#connect();
  }

  constructor() {
    // Written out in full so that bundlers (Vite, webpack, ...) emit the worker as a chunk.
    this.#worker = new Worker(new URL('./proxy-worker.js', import.meta.url), { type: 'module' });
    this.#worker.addEventListener('error', (event) => {
      this.#stop();
      for (const port of [...this.#ports]) port.dispatchEvent(new ErrorEvent('error', { message: event.message }));
    });
  }

  #connect() {
    clearTimeout(this.#idle);
    const channel = new MessageChannel();
    this.#worker.postMessage(null, [channel.port2]);
    const port = new StorePort(channel.port1, () => {
      this.#ports.delete(port);
      if (this.#ports.size === 0) this.#idle = setTimeout(() => this.#stop(), IDLE_MS);
    });
    this.#ports.add(port);
    return port;
  }

  #stop() {
    if (ProxyWorker.#current === this) ProxyWorker.#current = null;
    clearTimeout(this.#idle);
    this.#worker.terminate();
  }
}

/** One store's end of its channel to the proxy worker: what Connection expects of a worker. */
class StorePort extends EventTarget {
  #port;
  #left;

  constructor(port, left) {
    super();
    this.#port = port;
    this.#left = left;
    port.onmessage = ({ data }) => this.dispatchEvent(new MessageEvent('message', { data }));
    port.onmessageerror = () => this.dispatchEvent(new MessageEvent('messageerror'));
  }

  postMessage(messages, transfer) {
    this.#port.postMessage(messages, transfer);
  }

  /**
   * Leaves the worker: asks it to close this store (a no-op once the store closed) and to
   * close the channel, whose end there is then closed too; later replies are dropped.
   */
  terminate() {
    this.#port.postMessage([{ id: 0, method: 'close', args: [] }]);
    this.#port.onmessage = null;
    this.#left();
  }
}
