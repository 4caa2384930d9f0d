// Whether OPFS, whose API exists in this context, can hold a store (see opfsRefused).
import { describeError } from '../api/errors.js';

/** Sync access handles are an API of dedicated workers only. */
const syncHandlesHere = () => typeof FileSystemSyncAccessHandle !== 'undefined';

let opfsRefusal;
/**
 * Why OPFS, whose API exists here, cannot hold a store, or null; found once per context.
 * - `getDirectory()` rejects in private browsing: Safari (and WebKit on an ephemeral data
 *   store) with UnknownError, Firefox with SecurityError.
 * - `createSyncAccessHandle()` rejects with NotSupportedError where the engine has the API
 *   but cannot back it (WebKitGTK 2.50: only Apple's ports pass file handles to the web
 *   process). On a page, which has no sync access handles, a worker finds it out
 *   (probe-worker.js) when `worker` is set; otherwise the page's store opens in a worker
 *   that finds out for itself (openInThisContext in pkg/index.js).
 * Anything else is left to the store's own open, which reports it.
 */
export function opfsRefused({ worker = false } = {}) {
  if (!syncHandlesHere() && worker) return syncHandlesRefusedInWorker();
  opfsRefusal ??= probeOpfs();
  return opfsRefusal;
}

async function probeOpfs() {
  let root;
  try {
    root = await navigator.storage.getDirectory();
  } catch (err) {
    return { name: err?.name ?? 'Error', message: `the browser refuses OPFS here, as in private browsing (${describeError(err)})` };
  }
  if (!syncHandlesHere()) return null;
  const name = `.ppdb-probe-${Math.random().toString(36).slice(2)}`;
  try {
    (await (await root.getFileHandle(name, { create: true })).createSyncAccessHandle()).close();
  } catch (err) {
    if (err?.name === 'NotSupportedError') {
      return { name: err.name, message: `this browser cannot make OPFS sync access handles (${describeError(err)})` };
    }
  } finally {
    await root.removeEntry(name).catch(() => {});
  }
  return null;
}

let workerRefusal;
function syncHandlesRefusedInWorker() {
  workerRefusal ??= (async () => {
    const onPage = await probeOpfs();
    if (onPage) return onPage;
    const worker = new Worker(new URL('./probe-worker.js', import.meta.url), { type: 'module' });
    try {
      return await new Promise((resolve) => {
        worker.onmessage = ({ data }) => resolve(data);
        worker.onerror = () => resolve(null);
      });
    } finally {
      worker.terminate();
    }
  })();
  return workerRefusal;
}
