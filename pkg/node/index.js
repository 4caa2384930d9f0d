// What only Node, Deno and Bun have: the `fs` storage (a store's folder, its LOCK file), the
// wasm read from a file, and the maintenance worker (node:worker_threads). The package
// reaches this module as `#node` (package.json "imports"): under the "node" condition it is
// this file, everywhere else (browsers, workerd, bundlers building for them) absent.js, so
// a browser build never sees a `node:` import.
import { mkdirSync, existsSync, statSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { invalid, storageError } from '../api/errors.js';
import { NodeFiles } from './fs.js';
import { lockFolder } from './lock.js';

export { startMaintainer } from './maintainer.js';

/** The folder of store `name` (`options.path`, else `./<name>`), absolute. */
const folder = (name, options) => resolve(options.path ?? name);

/** The bytes of the wasm file at `url` (a file: URL). */
export const readWasm = (url) => readFile(url);

/**
 * Opens the folder of store `name`, locked: `{ dir, files, unlock }` (`files` the NodeFiles
 * the engine reads and writes through).
 */
export function openFolder(name, options) {
  const dir = folder(name, options);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw storageError(`could not create the folder ${dir}`, err);
  }
  const unlock = lockFolder(dir);
  return { dir, files: new NodeFiles(dir), unlock };
}

/** Stores (their Durability) whose relaxed writes are synced once more as the process exits. */
const atExit = new Set();
let exitHook = false;

/** Adds `store` (`on`) to those synced as the process exits, or takes it off. */
export function syncAtExit(store, on) {
  if (!on) {
    atExit.delete(store);
    return;
  }
  atExit.add(store);
  if (exitHook) return;
  exitHook = true;
  process.once('exit', () => {
    for (const each of atExit) each.syncNow();
  });
}

/** This thread's files of a folder another thread opened (a worker attaching). */
export const joinFolder = (dir) => new NodeFiles(dir);

/** Deletes the folder of store `name`, unless it is open somewhere (LOCKED). */
export function destroyFolder(name, options) {
  const dir = folder(name, options);
  if (!existsSync(dir)) return;
  if (!statSync(dir).isDirectory()) throw invalid(`${dir} is not a store's folder`);
  const unlock = lockFolder(dir);
  unlock();
  try {
    rmSync(dir, { recursive: true, force: true });
  } catch (err) {
    throw storageError(`could not delete ${dir}`, err);
  }
}
