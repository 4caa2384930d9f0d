// open() latency of an empty OPFS store, in milliseconds, where this module runs (a page
// or a dedicated worker; bench/browser/run.mjs loads it into a fresh browser profile, so the
// first open is cold: the package, its wasm and the compiled code come from no cache).
//   cold    import('/pkg/index.js') and the first open(): loading and compiling the engine
//   warm    opening a second store once the engine is loaded
//   reopen  closing a store and opening it again
export async function openLatency(storage = 'opfs') {
  const started = performance.now();
  const { open, destroy } = await import('/pkg/index.js');
  const first = await open('bench-open-a', { storage });
  const cold = performance.now() - started;
  let at = performance.now();
  const second = await open('bench-open-b', { storage });
  const warm = performance.now() - at;
  await second.close();
  at = performance.now();
  const again = await open('bench-open-b', { storage });
  const reopen = performance.now() - at;
  await Promise.all([first.close(), again.close()]);
  await Promise.all([destroy('bench-open-a', { storage }), destroy('bench-open-b', { storage })]);
  return { cold, warm, reopen };
}

// As a worker: answers one measurement.
if (typeof WorkerGlobalScope !== 'undefined' && self instanceof WorkerGlobalScope) {
  self.onmessage = async ({ data }) => {
    try {
      self.postMessage(await openLatency(data.storage));
    } catch (err) {
      self.postMessage({ error: `${err?.code ?? err?.name}: ${err?.message ?? err}` });
    }
  };
}
