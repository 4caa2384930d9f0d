// The body of the maintenance worker (see maintainer.js): it attaches to the shared store
// and runs flushes and compactions whenever the store needs them. It may block: it is a
// worker, and nothing else runs on it.
import { loadEngine } from './loader.js';
import { joinFiles } from './storage/index.js';
import { callEngine } from './errors.js';

/** Bytes of entries per engine step: small enough that stop() is answered quickly. */
const STEP_BYTES = 1024 * 1024;
/** How often the worker looks for work while there is none. */
const POLL_MS = 10;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const { parentPort, workerData: token } = await import('node:worker_threads');
const post = (message) => parentPort.postMessage(message);
const engine = await loadEngine('threaded', { module: token.module, memory: token.memory });
const files = await joinFiles(token.options.files, engine.wasm);
const handle = callEngine(() => engine.wasm.DbHandle.attach(token.id));
// Log records of this thread go to the owner's logger (the level is the instance's).
engine.wasm.setLogCallback((entry) => post({ log: entry }));
let stopping = null;
const compactions = [];
post({ id: 'ready' });

/** Steps until nothing is pending; an error stays in the engine for the writers to see. */
function runPending() {
  while (!stopping && handle.needsMaintenance()) {
    if (!handle.maintain(STEP_BYTES)) return false;
  }
  return true;
}

parentPort.on('message', (message) => {
  if (message.type === 'compact') compactions.push(message.id);
  else if (message.type === 'stop') stopping = message.id;
});

while (stopping === null) {
  let done = true;
  let error = null;
  try {
    done = runPending();
  } catch (err) {
    error = { code: err.code, message: err.message };
  }
  if (done || error) {
    for (const id of compactions.splice(0)) post({ id, error });
  }
  await sleep(error ? POLL_MS * 10 : POLL_MS);
}
handle.close();
handle.free();
files.close();
post({ id: stopping });
