// Durable writes in headless Chromium (16-byte keys, 100-byte values), one run of each
// workload per round, medians over rounds. Exports `runBrowser({ n, runs })`.
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

/** How long a freshly launched browser is left before a cold open is timed: its own start-up
 * (profile, GPU and network processes) otherwise shares the cores with the open. On this
 * 2-core machine cold opens in a worker ran 270-390 ms at once, 180-200 ms from 250 ms on. */
const SETTLE_MS = 1000;

/**
 * Builds bench/browser/open-latency.mjs and the package with Vite for production, as an app
 * ships them, into `dir`/bench/browser/built/ (served at /bench/browser/built/, beside a copy
 * of open.html).
 */
async function buildOpenLatency(dir) {
  const { build } = await import('vite');
  await build({
    configFile: false,
    logLevel: 'silent',
    root: repoRoot,
    base: '/bench/browser/built/',
    worker: { format: 'es' },
    build: {
      outDir: join(dir, 'bench', 'browser', 'built'),
      emptyOutDir: true,
      modulePreload: false,
      rollupOptions: {
        input: { 'open-latency': join(repoRoot, 'bench', 'browser', 'open-latency.mjs') },
        preserveEntrySignatures: 'strict',
        external: [/^node:/],
        output: { entryFileNames: '[name].js' },
      },
    },
  });
  await cp(join(repoRoot, 'bench', 'browser', 'open.html'), join(dir, 'bench', 'browser', 'open.html'));
}

/**
 * open() latency (bench/browser/open-latency.mjs) on a page and in a dedicated worker, each
 * sample in a fresh browser profile (nothing cached), timed SETTLE_MS after the page loaded:
 * the package as published, unbundled (its modules one request each), and a Vite production
 * build of it. Medians of `runs`, in milliseconds: `{ [build]: { worker, page } }`.
 */
export async function runOpenLatency({ runs }) {
  const dir = await mkdtemp(join(tmpdir(), 'ppdb-open-'));
  await buildOpenLatency(dir);
  const builds = { unbundled: { root: repoRoot, script: '/bench/browser/open-latency.mjs' }, vite: { root: dir, script: '/bench/browser/built/open-latency.js' } };
  const samples = Object.fromEntries(Object.keys(builds).map((b) => [b, { worker: [], page: [] }]));
  try {
    for (const [name, { root, script }] of Object.entries(builds)) {
      const server = await serve({ root, port: 0 });
      try {
        for (let round = 0; round < runs; round++) {
          for (const where of ['worker', 'page']) {
            const browser = await launch();
            try {
              const page = await openPage(browser.context, new URL('/bench/browser/open.html', server.url).href);
              await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
              const result = await page.evaluate(
                async ({ where, script }) => {
                  if (where === 'page') return (await import(script)).openLatency('opfs');
                  return new Promise((resolve) => {
                    const worker = new Worker(script, { type: 'module' });
                    worker.onmessage = ({ data }) => resolve(data);
                    worker.postMessage({ storage: 'opfs' });
                  });
                },
                { where, script },
              );
              if (result.error) throw new Error(`open() on a ${where} (${name}): ${result.error}`);
              samples[name][where].push(result);
            } finally {
              await browser.close();
            }
          }
        }
      } finally {
        await server.close();
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const medianOf = (list) => Object.fromEntries(['cold', 'warm', 'reopen'].map((k) => [k, median(list.map((s) => s[k]))]));
  return Object.fromEntries(Object.entries(samples).map(([name, { worker, page }]) => [name, { worker: medianOf(worker), page: medianOf(page) }]));
}
