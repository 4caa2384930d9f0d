// The worker side of the main-thread proxy (the protocol is described in pkg/proxy/page.js),
// loaded by the proxy worker's entry (pkg/proxy/proxy-worker.js). It opens the store with the
// real package and serves the page's requests on that Db (pkg/proxy/server.js); replies that
// settle in the same task go back as one message, their Uint8Arrays transferred. One worker
// serves every store of its page, each through a MessageChannel of its own. A store
// opened with `threads: true` opens in the page's own shared memory, whose engine this
// worker joins: the page then reads it directly (see pkg/proxy/page.js).
//
// It imports open.js, not index.js: index.js reaches proxy.js, which starts this worker,
// and bundlers reject a worker whose module graph starts itself.
import { openHere } from '../api/open.js';
import { loadEngine } from '../engine/loader.js';
import { OWNER, recordOwner } from '../storage/owner.js';
import { Server, failure, gettersOf } from './server.js';

/**
 * Serves the page: each message (first the `early` events, taken before this module loaded,
 * then every later one) brings the port of one store, served by a Server of its own.
 */
export function servePage(early) {
  // Anything else is a bug on the page side: the error is left uncaught, so the page sees an
  // error event and fails every call.
  const connect = ({ ports }) => {
    if (ports.length !== 1) throw new TypeError('ppdb proxy worker: a message must bring the port of one store');
    serveStore(ports[0]);
  };
  self.addEventListener('message', connect);
  for (const event of early) connect(event);
}

let joined = null;
/**
 * Joins the page's threaded engine (`{ module, memory }`), once: every store opened with
 * threads: true brings it again, but its memory arrives as a new Memory object each time,
 * which the loader would take for another engine's. The page sends this worker one memory
 * only (see ProxyWorker in ./page-worker.js).
 */
function joinPage(engine) {
  if (!joined) {
    joined = loadEngine('threaded', engine);
    joined.catch(() => (joined = null)); // the next store tries again
  }
  return joined;
}

/** Serves the requests that come through `port`: one store, opened by its first request. */
function serveStore(port) {
  const server = new Server((messages, transfer) => port.postMessage(messages, transfer), {
    internal: {
      /**
       * Opens the store; answers the Db's getters. With `engine` (`{ module, memory }`, the
       * page's threaded engine) the store opens in the page's memory, and the answer is
       * `{ getters, token }`, `token` what the page attaches to (`db.share()`), and the
       * store is recorded as the page's in its failover state. `previous`: the failover
       * state of this store as the page opened it before, in a worker that died; this
       * worker becomes its next owner, which the workers attached to it wait for
       * (pkg/api/failover.js), recorded under the lock with which they would take it over.
       */
      async open(name, options, engine, previous) {
        if (this.db) throw failure('INTERNAL', 'this channel already serves a store');
        if (engine) await joinPage(engine);
        const opening = async (failover) => {
          const db = await openHere(name, options, failover);
          if (!engine) return { db, token: null };
          const token = db.share();
          recordOwner(token.options.failover, token, true);
          return { db, token };
        };
        const { db, token } = previous
          ? await navigator.locks.request(`ppdb-failover:${previous.base}`, () => opening({ ...previous, generation: Atomics.load(previous.state, OWNER.generation) + 1 }))
          : await opening(undefined);
        this.db = db;
        this.failover = token?.options.failover;
        // Alerts raised in here are events of the page's Db too.
        db.addEventListener('alert', (event) => this.event('alert', event.detail));
        return token ? { getters: gettersOf(db), token } : gettersOf(db);
      },
      /**
       * Closes the store (the page's close(), or the page leaving the channel), then the
       * channel, once this answer is posted: what the page still held here goes with it.
       */
      async close() {
        // The page lets its store go: a worker attached to it takes the files over at once.
        if (this.failover) Atomics.store(this.failover.state, OWNER.page, 0);
        try {
          await this.db?.close();
        } finally {
          setTimeout(() => {
            this.release();
            port.close();
          });
        }
      },
    },
  });
  // Each message is an array of requests (see connect above for anything else).
  port.onmessage = ({ data }) => {
    if (!Array.isArray(data)) throw new TypeError('ppdb proxy worker: a message must be an array of requests');
    server.handle(data);
  };
}
