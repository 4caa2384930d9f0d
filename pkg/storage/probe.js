// Whether OPFS, whose API exists in this context, can hold a store (see opfsRefused).
import { describeError } from '../api/errors.js';

/** Sync access handles are an API of dedicated workers only. */
const syncHandlesHere = () => typeof FileSystemSyncAccessHandle !== 'undefined';

let refusal;
let syncRefusal;
/**
 * Why OPFS, whose API exists here, cannot hold a store (a message), or null; found once
 * per context.
 * - `getDirectory()` rejects in private browsing: Safari (and WebKit on an ephemeral data
 *   store) with UnknownError, Firefox with SecurityError.
 * - In a worker, `createSyncAccessHandle()` rejects with NotSupportedError where the engine
 *   has the API but cannot back it (WebKitGTK 2.50: only Apple's ports pass file handles
 *   to the web process). A page has no sync access handles: with `askWorker` a worker
 *   finds out for it (probe-worker.js); else the store's worker does, when it opens.
 * Anything else is left to the store's own open, which reports it.
 */
export function opfsRefused({ askWorker = false } = {}) {
  refusal ??= navigator.storage.getDirectory().then(
    () => null,
    (err) => `the browser refuses OPFS here, as in private browsing (${describeError(err)})`,
  );
  if (!syncHandlesHere() && !askWorker) return refusal;
  syncRefusal ??= refusal.then((refused) => refused ?? (syncHandlesHere() ? probeSyncHandles() : verdictOfWorker()));
  return syncRefusal;
}

/** A sync access handle on a scratch file: 2-5 ms in Chromium and Firefox. */
async function probeSyncHandles() {
  const root = await navigator.storage.getDirectory();
  const refused = await trySyncHandle(root, '.ppdb-probe');
  // Held: another context probing, or WebKitGTK, which keeps a file locked once a handle
  // on it failed (InvalidStateError ever after); a fresh file tells (8-30 ms).
  if (refused !== 'locked') return refused;
  const name = `.ppdb-probe-${Math.random().toString(36).slice(2)}`;
  try {
    const fresh = await trySyncHandle(root, name);
    return fresh === 'locked' ? null : fresh;
  } finally {
    await root.removeEntry(name).catch(() => {});
  }
}

/** null: a handle on file `name` opened; 'locked'; or why an engine without them refuses. */
async function trySyncHandle(root, name) {
  try {
    (await (await root.getFileHandle(name, { create: true })).createSyncAccessHandle()).close();
    return null;
  } catch (err) {
    if (err?.name === 'NoModificationAllowedError' || err?.name === 'InvalidStateError') return 'locked';
    if (err?.name === 'NotSupportedError') return `this browser cannot make OPFS sync access handles (${describeError(err)})`;
    return null;
  }
}

async function verdictOfWorker() {
  const worker = new Worker(new URL('./probe-worker.js', import.meta.url), { type: 'module' });
  try {
    return await new Promise((resolve) => {
      worker.onmessage = ({ data }) => resolve(data);
      worker.onerror = () => resolve(null);
    });
  } finally {
    worker.terminate();
  }
}
