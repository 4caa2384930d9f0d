// Durable writes in headless Chromium (16-byte keys, 100-byte values), one run of each
// workload per round, medians over rounds. Exports `runBrowser({ n, runs })`.
import { median, medians } from '../js/db-bench.mjs';
import { launch, openPage, repoRoot, serve } from '../../tests/browser/harness.mjs';

export const WORKLOADS = [
  { label: 'ppdb OPFS, sync, 1 writer', kind: 'ppdb', storage: 'opfs', durability: 'sync', writers: 1 },
  { label: 'ppdb OPFS, sync, 2 writers', kind: 'ppdb', storage: 'opfs', durability: 'sync', writers: 2 },
  { label: 'ppdb OPFS, sync, 4 writers', kind: 'ppdb', storage: 'opfs', durability: 'sync', writers: 4 },
  { label: 'ppdb OPFS, relaxed', kind: 'ppdb', storage: 'opfs', durability: 'relaxed', writers: 1, scale: 10 },
  { label: 'ppdb IndexedDB, sync, 1 writer', kind: 'ppdb', storage: 'indexeddb', durability: 'sync', writers: 1 },
  { label: 'ppdb IndexedDB, sync, 4 writers', kind: 'ppdb', storage: 'indexeddb', durability: 'sync', writers: 4 },
  { label: 'raw IndexedDB, 1 strict tx per put', kind: 'raw-idb', writers: 1 },
];

/** Runs `fn(inWorker)` with a cross-origin-isolated page in headless Chromium, where
 * `inWorker(script, message)` runs one job in a fresh dedicated worker and answers its reply. */
async function withChromium(fn) {
  const server = await serve({ root: repoRoot, port: 0 });
  const browser = await launch();
  try {
    const page = await openPage(browser.context, new URL('/tests/browser/fixtures/api.html', server.url).href);
    const inWorker = (script, message) =>
      page.evaluate(
        ({ script, message }) =>
          new Promise((resolve) => {
            const worker = new Worker(script, { type: 'module' });
            worker.onmessage = ({ data }) => {
              worker.terminate();
              resolve(data);
            };
            worker.postMessage(message);
          }),
        { script, message },
      );
    return await fn(inWorker);
  } finally {
    await browser.close();
    await server.close();
  }
}

export async function runBrowser({ n, runs }) {
  return withChromium(async (inWorker) => {
    const samples = new Map(WORKLOADS.map((w) => [w.label, []]));
    for (let round = 0; round < runs; round++) {
      for (const workload of WORKLOADS) {
        const count = n * (workload.scale ?? 1);
        const result = await inWorker('/bench/browser/durable-worker.mjs', { ...workload, n: count });
        if (result.error) throw new Error(`${workload.label}: ${result.error}`);
        samples.get(workload.label).push(count / result.seconds);
      }
    }
    return WORKLOADS.map((w) => ({ label: w.label, opsPerSec: median(samples.get(w.label)) }));
  });
}

/** db_bench in a dedicated worker on OPFS: medians over `rounds` of bench/js/db-bench.mjs. */
export async function runBrowserDbBench({ n, rounds }) {
  return withChromium(async (inWorker) => {
    const results = [];
    for (let round = 0; round < rounds; round++) {
      const result = await inWorker('/bench/browser/db-bench-worker.mjs', { n });
      if (result.error) throw new Error(`db_bench in Chromium: ${result.error}`);
      results.push(result);
    }
    return medians(results);
  });
}
