// The body of the maintenance worker (see maintainer.js): it attaches to the stores of one
// engine's shared memory and runs their flushes and compactions whenever they need them.
// It may block: it is a worker, and nothing else runs on it.
import { loadEngine } from '../engine/loader.js';
import { joinFiles } from '../storage/index.js';
import { callEngine } from '../api/errors.js';

/** Bytes of entries per engine step: small enough that stop() is answered quickly. */
const STEP_BYTES = 1024 * 1024;
/** The longest one store's work runs before the others get their turn (ms). */
const TURN_MS = 20;
/** How often the worker looks for work while there is none. */
const POLL_MS = 10;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const { parentPort } = await import('node:worker_threads');
const post = (message) => parentPort.postMessage(message);
const closedError = { code: 'CLOSED', message: 'the store is closed' };

let engine = null;
/** The stores served, by the number maintainer.js gave them. */
const stores = new Map();

async function attach(store, token, id) {
  try {
    engine ??= await loadEngine('threaded', { module: token.module, memory: token.memory });
    // Log records of this thread go to the owner's logger (the level is the instance's).
    engine.wasm.setLogCallback((entry) => post({ log: entry }));
    const files = await joinFiles(token.options.files, engine.wasm);
    const handle = callEngine(() => engine.wasm.DbHandle.attach(token.id));
    stores.set(store, { handle, files, compactions: [], stopping: null, backoff: 0 });
    post({ id });
  } catch (err) {
    post({ id, error: { code: err.code, message: err.message } });
  }
}

parentPort.on('message', (message) => {
  if (message.type === 'attach') return attach(message.store, message.token, message.id);
  const entry = stores.get(message.store);
  if (!entry) return post({ id: message.id, error: closedError });
  if (message.type === 'compact') entry.compactions.push(message.id);
  else if (message.type === 'stop') entry.stopping = message.id;
});

/** Steps through `entry`'s pending work for one turn: 'done', 'more' (its turn ended), or
 * 'waiting' (for writers to leave a memtable, or for storage). */
function turn(entry) {
  const started = Date.now();
  while (entry.stopping === null && entry.handle.needsMaintenance()) {
    if (!entry.handle.maintain(STEP_BYTES)) return 'waiting';
    if (Date.now() - started > TURN_MS) return 'more';
  }
  return 'done';
}

function release(store, entry) {
  entry.handle.close();
  entry.handle.free();
  entry.files.close();
  stores.delete(store);
  for (const id of entry.compactions.splice(0)) post({ id, error: closedError });
  post({ id: entry.stopping });
}

for (;;) {
  let busy = false;
  for (const [store, entry] of stores) {
    if (entry.stopping !== null) {
      release(store, entry);
      continue;
    }
    if (entry.backoff > Date.now()) continue;
    let outcome = 'done';
    let error = null;
    try {
      outcome = turn(entry);
    } catch (err) {
      // The error stays in the engine for the writers to see; look again later.
      error = { code: err.code, message: err.message };
      entry.backoff = Date.now() + POLL_MS * 10;
    }
    if (outcome === 'done' || error) {
      for (const id of entry.compactions.splice(0)) post({ id, error });
    }
    if (outcome === 'more') busy = true;
  }
  await sleep(busy ? 0 : POLL_MS);
}
