// The page's side of the engine worker (engine-worker.js): start it, send it requests,
// listen to its events, and kill it.
export class Engine {
  #worker;
  #calls = new Map();
  #nextId = 0;
  #onEvent;

  /**
   * Starts a worker and resolves once its store is open, with `{ storage, flavour, role,
   * recovery }`; rejects with the store's error. `onEvent(message)` gets its events.
   */
  static start(onEvent = () => {}) {
    const engine = new Engine();
    engine.#onEvent = onEvent;
    engine.#worker = new Worker('/www/engine-worker.js', { type: 'module', name: 'ppdb engine' });
    return new Promise((resolve, reject) => {
      engine.#worker.onerror = (event) => {
        const error = new Error(event.message || 'the engine worker failed');
        reject(error); // before 'ready'; after it, the calls waiting for an answer fail
        engine.#failAll(error);
      };
      engine.#worker.onmessage = ({ data }) => {
        if (data.id !== undefined) return engine.#answer(data);
        if (data.event === 'ready') resolve({ engine, storage: data.storage, flavour: data.flavour, recovery: data.recovery, role: data.role });
        else if (data.event === 'failed') reject(Object.assign(new Error(data.error.message), data.error));
        else engine.#onEvent(data);
      };
    });
  }

  #answer({ id, result, error }) {
    const call = this.#calls.get(id);
    this.#calls.delete(id);
    if (error) call?.reject(Object.assign(new Error(error.message), error));
    else call?.resolve(result);
  }

  /** Sends `{ cmd, ...args }`; resolves with the result, rejects with `{ code, message }`. */
  call(cmd, args = {}) {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#calls.set(id, { resolve, reject });
      this.#worker.postMessage({ id, cmd, ...args });
    });
  }

  #failAll(error) {
    for (const { reject } of this.#calls.values()) reject(error);
    this.#calls.clear();
  }

  /** Terminates the worker at once, mid-write if it is writing: no close, no flush. */
  kill() {
    this.#worker.terminate();
    this.#failAll(Object.assign(new Error('the engine worker was terminated'), { code: 'TERMINATED' }));
  }
}
