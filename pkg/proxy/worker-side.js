// The worker side of the main-thread proxy (the protocol is described in pkg/proxy/page.js),
// loaded by the proxy worker's entry (pkg/proxy/proxy-worker.js). It opens the store with the
// real package and serves the page's requests on that Db (pkg/proxy/server.js); replies that
// settle in the same task go back as one message, their Uint8Arrays transferred. A store
// opened with `threads: true` opens in the page's own shared memory, whose engine this
// worker joins: the page then reads it directly (see pkg/proxy/page.js).
//
// It imports open.js, not index.js: index.js reaches proxy.js, which starts this worker,
// and bundlers reject a worker whose module graph starts itself.
import { openHere } from '../api/open.js';
import { loadEngine } from '../engine/loader.js';
import { Server, failure, gettersOf } from './server.js';

/** Serves the page: first the `early` message events (taken before this module loaded), then every later one. */
export function servePage(early) {
  const server = new Server((messages, transfer) => self.postMessage(messages, transfer), {
    internal: {
      /**
       * Opens the store; answers the Db's getters. With `engine` (`{ module, memory }`, the
       * page's threaded engine) the store opens in the page's memory, and the answer is
       * `{ getters, token }`, `token` what the page attaches to (`db.share()`).
       */
      async open(name, options, engine) {
        if (this.db) throw failure('INTERNAL', 'this worker already holds a store');
        if (engine) await loadEngine('threaded', engine);
        const db = await openHere(name, options);
        this.db = db;
        // Alerts raised in here are events of the page's Db too.
        db.addEventListener('alert', (event) => this.event('alert', event.detail));
        return engine ? { getters: gettersOf(db), token: db.share() } : gettersOf(db);
      },
    },
  });

  // Each message is an array of requests. Anything else is a bug on the page side: the
  // error is left uncaught, so the page sees an error event and fails every call.
  const handle = ({ data }) => {
    if (!Array.isArray(data)) throw new TypeError('ppdb proxy worker: a message must be an array of requests');
    server.handle(data);
  };
  self.addEventListener('message', handle);
  for (const event of early) handle(event);
}
