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

/** The peer benchmark's peers, in its table's order (names as bench/browser/peers.mjs gives them). */
export const PEER_NAMES = ['JS Map', 'ppdb OPFS', 'ppdb IndexedDB', 'sqlite-wasm OPFS', 'IndexedDB', 'idb-keyval', 'Dexie'];
export const PEER_WORKLOADS = ['fillseq', 'fillrandom', 'readrandom', 'readseq', 'put_each relaxed', 'put_each sync'];

/**
 * The peer benchmark (bench/browser/peers-worker.mjs): each peer in a fresh dedicated worker,
 * `runs` rounds, medians. Answers `{ [peer]: { [workload]: ops/s } }`; a peer that failed
 * has `{ error }`.
 */
export async function runPeers({ n, runs, reads = Math.ceil(n / 5), puts = Math.ceil(n / 5), syncPuts = Math.min(n, 1000) }) {
  return withChromium(async (inWorker) => {
    const samples = Object.fromEntries(PEER_NAMES.map((peer) => [peer, []]));
    const errors = {};
    for (let round = 0; round < runs; round++) {
      for (const peer of PEER_NAMES) {
        if (errors[peer]) continue;
        const result = await inWorker('/bench/browser/peers-worker.mjs', { peer, n, reads, puts, syncPuts });
        if (result.error) errors[peer] = result.error;
        else samples[peer].push(result.opsPerSec);
      }
    }
    return Object.fromEntries(
      PEER_NAMES.map((peer) => [
        peer,
        errors[peer] ? { error: errors[peer] } : Object.fromEntries(PEER_WORKLOADS.map((w) => [w, median(samples[peer].map((s) => s[w]))])),
      ]),
    );
  });
}

/**
 * open() latency (bench/browser/open-latency.mjs) on a page and in a dedicated worker, each
 * sample in a fresh browser profile (nothing cached): medians of `runs`, in milliseconds.
 */
export async function runOpenLatency({ runs }) {
  const server = await serve({ root: repoRoot, port: 0 });
  const samples = { worker: [], page: [] };
  try {
    for (let round = 0; round < runs; round++) {
      for (const where of ['worker', 'page']) {
        const browser = await launch();
        try {
          const page = await openPage(browser.context, new URL('/bench/browser/open.html', server.url).href);
          const result = await page.evaluate(async (where) => {
            if (where === 'page') return (await import('/bench/browser/open-latency.mjs')).openLatency('opfs');
            return new Promise((resolve) => {
              const worker = new Worker('/bench/browser/open-latency.mjs', { type: 'module' });
              worker.onmessage = ({ data }) => resolve(data);
              worker.postMessage({ storage: 'opfs' });
            });
          }, where);
          if (result.error) throw new Error(`open() on a ${where}: ${result.error}`);
          samples[where].push(result);
        } finally {
          await browser.close();
        }
      }
    }
  } finally {
    await server.close();
  }
  const medianOf = (list) => Object.fromEntries(['cold', 'warm', 'reopen'].map((k) => [k, median(list.map((s) => s[k]))]));
  return { worker: medianOf(samples.worker), page: medianOf(samples.page) };
}
