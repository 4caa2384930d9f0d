// ppdb: an embedded key-value store in WebAssembly.
//   import { open } from 'ppdb'
//   const db = await open('name', { storage: 'memory' })
import { Db } from './db.js';
import { PpdbError, invalid } from './errors.js';
import { checkEncoding } from './encoding.js';
import { loadEngine, pickFlavour } from './loader.js';

export { PpdbError };

const STORAGES = ['memory'];

/**
 * Opens (creates) a store.
 * @param {string} name
 * @param {object} [options] storage ('memory'), threads (false forces the single-threaded
 *   build), keyEncoding / valueEncoding ('utf8' default, or 'bytes'), maxKeySize,
 *   maxValueSize.
 */
export async function open(name, options = {}) {
  if (typeof name !== 'string' || name.length === 0) throw invalid('name must be a non-empty string');
  if (options === null || typeof options !== 'object') throw invalid('options must be an object');
  const storage = options.storage ?? 'memory';
  if (!STORAGES.includes(storage)) {
    throw new PpdbError('UNSUPPORTED', `storage '${storage}' is not available yet; use 'memory'`);
  }
  const keyEncoding = checkEncoding(options.keyEncoding ?? 'utf8', 'keyEncoding');
  const valueEncoding = checkEncoding(options.valueEncoding ?? 'utf8', 'valueEncoding');
  for (const limit of ['maxKeySize', 'maxValueSize']) {
    const v = options[limit];
    if (v !== undefined && !(Number.isInteger(v) && v > 0)) throw invalid(`${limit} must be a positive integer`);
  }
  const engine = await loadEngine(pickFlavour(options.threads));
  const handle = engine.wasm.DbHandle.openMemory(options.maxKeySize ?? 0, options.maxValueSize ?? 0);
  return new Db(handle, engine, {
    name,
    keyEncoding,
    valueEncoding,
    maxKeySize: handle.maxKeySize,
    maxValueSize: handle.maxValueSize,
  });
}

/**
 * Opens, in this thread (a Worker), the store another thread shared with `db.share()`.
 * Must run before this thread opens any store of its own.
 */
export async function attach(token) {
  if (token === null || typeof token !== 'object' || token.ppdb !== 1) {
    throw invalid('attach() takes the value returned by db.share()');
  }
  const { module, memory, id, options } = token;
  if (!(module instanceof WebAssembly.Module) || !(memory instanceof WebAssembly.Memory)) {
    throw invalid('the share token lost its module or memory in transit');
  }
  const engine = await loadEngine('threaded', { module, memory });
  let handle;
  try {
    handle = engine.wasm.DbHandle.attach(id);
  } catch (err) {
    throw new PpdbError(err?.code ?? 'CLOSED', err?.message ?? 'the shared store is closed');
  }
  return new Db(handle, engine, options);
}
