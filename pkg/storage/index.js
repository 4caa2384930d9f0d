// Where a store's files live: which storages exist here, and opening their JS side.
import { PpdbError, invalid } from '../errors.js';

const isNode = typeof process !== 'undefined' && Boolean(process.versions?.node);
export const STORAGES = ['auto', 'memory', 'fs'];

/** The storage `choice` means here ('auto': fs in Node, Deno and Bun; memory elsewhere). */
export function resolveStorage(choice) {
  if (!STORAGES.includes(choice)) {
    throw invalid(`storage must be one of ${STORAGES.join(', ')}, got ${String(choice)}`);
  }
  if (choice === 'auto') return isNode ? 'fs' : 'memory';
  if (choice === 'fs' && !isNode) throw new PpdbError('UNSUPPORTED', "storage 'fs' needs Node, Deno or Bun");
  return choice;
}

async function folder(name, options) {
  const { resolve } = await import('node:path');
  return resolve(options.path ?? name);
}

/**
 * Opens the files of store `name` for this thread: `{ id, descriptor, close() }`.
 * `descriptor` lets a worker open the same files (see joinFiles).
 */
export async function openFiles(storage, name, options, wasm) {
  const dir = await folder(name, options);
  const [{ mkdirSync }, { NodeFiles }, { lockFolder }] = await Promise.all([
    import('node:fs'),
    import('./node-fs.js'),
    import('./node-lock.js'),
  ]);
  mkdirSync(dir, { recursive: true });
  const unlock = lockFolder(dir);
  const files = new NodeFiles(dir);
  const id = wasm.registerFiles(files);
  return {
    id,
    descriptor: { kind: 'fs', dir, id },
    close() {
      wasm.unregisterFiles(id);
      files.close();
      unlock();
    },
  };
}

/** This thread's files for a store another thread opened (a worker attaching). */
export async function joinFiles(descriptor, wasm) {
  const { NodeFiles } = await import('./node-fs.js');
  const files = new NodeFiles(descriptor.dir);
  wasm.registerFilesAs(descriptor.id, files);
  return {
    id: descriptor.id,
    descriptor,
    close() {
      wasm.unregisterFiles(descriptor.id);
      files.close();
    },
  };
}

/** The part of an open store's files a share token carries. */
export function shareableFiles(files) {
  return files ? files.descriptor : undefined;
}

/** Deletes the folder of store `name`, unless it is open somewhere. */
export async function destroyFiles(storage, name, options) {
  const dir = await folder(name, options);
  const [{ existsSync, rmSync }, { lockFolder }] = await Promise.all([import('node:fs'), import('./node-lock.js')]);
  if (!existsSync(dir)) return;
  const unlock = lockFolder(dir);
  unlock();
  rmSync(dir, { recursive: true, force: true });
}
