// attach(): a Db in this thread over a store another thread shared (`db.share()`), loaded on
// first use (pkg/index.js checks the token first). A store whose files another thread owns
// (OPFS, IndexedDB) is attached with failover (./failover.js).
import { Db } from './db.js';
import { callEngine } from './errors.js';
import { codecReady } from './encoding.js';
import { loadEngine } from '../engine/loader.js';
import { joinFiles } from '../storage/index.js';

/** A Db over the store shared as `id` in the threaded engine `{ module, memory }`. */
export async function attachHere(module, memory, id, options) {
  await codecReady(options.valueEncoding);
  const engine = await loadEngine('threaded', { module, memory });
  if (options.files?.kind === 'owner' && options.failover) {
    return (await import('./failover.js')).attachWithFailover(engine, id, options);
  }
  const files = options.files ? await joinFiles(options.files, engine.wasm) : null;
  return attachHandle(engine, id, options, files);
}

/** A Db over the store shared as `id` in `engine`, with this thread's `files` of it. */
export async function attachHandle(engine, id, options, files) {
  let handle;
  try {
    handle = callEngine(() => engine.wasm.DbHandle.attach(id));
  } catch (err) {
    await files?.close();
    throw err;
  }
  return new Db(handle, engine, { ...options, files, attached: true });
}
