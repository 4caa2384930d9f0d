// One durable OPFS store shared by the dedicated workers of a cross-origin isolated page
// (threaded build, db.share() and attach()): awaited puts and gets spread over 1, 2 and 4
// workers, in headless Chromium, with ratios to one worker; and the page's own awaited gets
// of memtable-resident keys, in the page's shared memory (`threads: true`) against through
// the proxy worker (the default). Medians over rounds.
// `npm run bench` runs it with the rest; `node bench/browser/shared.mjs` alone.
//   PPDB_BENCH_SHARED_N (sync puts per round, default 2000; relaxed puts and gets: 200x,
//   the gets over a store of 50x)
//   PPDB_BENCH_SHARED_RUNS (rounds, default 5)
//   PPDB_BENCH_SHARED_STORAGE ('opfs', default; 'memory': the engine's own scaling, no files)
import { fileURLToPath } from 'node:url';
import { median } from '../js/db-bench.mjs';
import { fmt, ratio, printTable, markdownTable } from '../js/tables.mjs';
import { launch, openPage, repoRoot, serve } from '../../tests/browser/harness.mjs';

/** The workloads: each spreads its operations evenly over `workers` workers. */
const WORKLOADS = [
  ...[1, 2, 4].map((workers) => ({ op: 'put', durability: 'sync', workers })),
  ...[1, 2, 4].map((workers) => ({ op: 'put', durability: 'relaxed', workers, scale: 200 })),
  ...[1, 2, 4].map((workers) => ({ op: 'get', durability: 'relaxed', workers, scale: 200, fill: 50 })),
];
const label = (w) => `${w.op === 'get' ? 'readrandom' : `put, ${w.durability}`}, ${w.workers} worker${w.workers > 1 ? 's' : ''}`;

/** Runs one workload on the page: answers its operations per second. */
function runOnPage({ op, storage, durability, workers, n, fill }) {
  const call = (worker, message) =>
    new Promise((resolve, reject) => {
      worker.onmessage = ({ data }) => (data.error ? reject(new Error(data.error)) : resolve(data.result));
      worker.postMessage(message);
    });
  const spawn = () => new Worker('/bench/browser/shared-worker.mjs', { type: 'module' });
  return (async () => {
    const name = 'bench-shared';
    const all = Array.from({ length: workers }, spawn);
    const token = await call(all[0], { cmd: 'own', name, storage, durability });
    await Promise.all(all.slice(1).map((worker) => call(worker, { cmd: 'attach', token })));
    await Promise.all(all.map((worker) => call(worker, { cmd: 'keys', count: op === 'get' ? fill : n })));
    if (op === 'get') {
      await call(all[0], { cmd: 'put', from: 0, to: fill });
      await call(all[0], { cmd: 'flush' });
    }
    const per = Math.ceil(n / workers);
    const start = performance.now();
    await Promise.all(
      all.map((worker, w) =>
        op === 'put' ? call(worker, { cmd: 'put', from: w * per, to: Math.min(n, (w + 1) * per) }) : call(worker, { cmd: 'get', n: fill, count: per }),
      ),
    );
    if (durability === 'relaxed' && op === 'put') await call(all[0], { cmd: 'flush' });
    const seconds = (performance.now() - start) / 1000;
    for (const worker of all.slice(1)) await call(worker, { cmd: 'close' });
    await call(all[0], { cmd: 'close', name, storage });
    for (const worker of all) worker.terminate();
    return (per * workers) / seconds;
  })();
}

/**
 * On the page: awaited gets of random keys of `keys` (all in the memtable) from an OPFS
 * store opened on the page, `threads` true (read in the page's shared memory) or false
 * (through the proxy worker); answers gets per second.
 */
function pageGets({ threads, keys, n }) {
  return (async () => {
    const name = 'bench-page-gets';
    await ppdb.destroy(name, { storage: 'opfs' });
    const db = await ppdb.open(name, { storage: 'opfs', threads, exclusive: true, durability: 'relaxed' });
    const key = (i) => `key${String(i).padStart(8, '0')}`;
    await db.batch(Array.from({ length: keys }, (_, i) => ({ type: 'put', key: key(i), value: 'v'.repeat(100) })));
    const order = Array.from({ length: n }, () => key(Math.floor(Math.random() * keys)));
    for (let i = 0; i < 1000; i++) await db.get(order[i]);
    const start = performance.now();
    for (let i = 0; i < n; i++) {
      if ((await db.get(order[i])) === undefined) throw new Error(`${order[i]} is missing`);
    }
    const perSec = n / ((performance.now() - start) / 1000);
    await db.close();
    await ppdb.destroy(name, { storage: 'opfs' });
    return perSec;
  })();
}

/** The page's gets: through the proxy worker, then in shared memory (10x as many). */
const PAGE_GETS = [
  { threads: false, label: 'page get, through the proxy worker', scale: 5 },
  { threads: true, label: 'page get, in shared memory (threads: true)', scale: 50 },
];

/** Measures every workload `runs` times; answers `[{ ...workload, label, opsPerSec }]`. */
export async function runShared({
  n = Number(process.env.PPDB_BENCH_SHARED_N ?? 2000),
  runs = Number(process.env.PPDB_BENCH_SHARED_RUNS ?? 5),
  storage = process.env.PPDB_BENCH_SHARED_STORAGE ?? 'opfs',
} = {}) {
  const server = await serve({ root: repoRoot, port: 0 });
  const browser = await launch();
  try {
    const page = await openPage(browser.context, new URL('/tests/browser/fixtures/api.html', server.url).href);
    const samples = WORKLOADS.map(() => []);
    const pageSamples = PAGE_GETS.map(() => []);
    for (let round = 0; round < runs; round++) {
      for (const [i, w] of WORKLOADS.entries()) {
        samples[i].push(await page.evaluate(runOnPage, { ...w, storage, n: n * (w.scale ?? 1), fill: n * (w.fill ?? 0) }));
      }
      if (storage !== 'opfs') continue;
      for (const [i, w] of PAGE_GETS.entries()) pageSamples[i].push(await page.evaluate(pageGets, { threads: w.threads, keys: 5 * n, n: w.scale * n }));
    }
    const results = WORKLOADS.map((w, i) => ({ ...w, label: label(w), n: n * (w.scale ?? 1), opsPerSec: median(samples[i]) }));
    const pageGetsResults = storage === 'opfs' ? PAGE_GETS.map((w, i) => ({ ...w, op: 'page-get', n: w.scale * n, opsPerSec: median(pageSamples[i]) })) : [];
    return [...results, ...pageGetsResults];
  } finally {
    await browser.close();
    await server.close();
  }
}

/** Runs the benchmark and prints it; answers `{ report, markdown }`. */
export async function benchShared(options = {}) {
  const runs = options.runs ?? Number(process.env.PPDB_BENCH_SHARED_RUNS ?? 5);
  const storage = options.storage ?? process.env.PPDB_BENCH_SHARED_STORAGE ?? 'opfs';
  const results = await runShared({ ...options, runs, storage });
  const workers = results.filter((r) => r.op !== 'page-get');
  const one = (w) => workers.find((r) => r.op === w.op && r.durability === w.durability && r.workers === 1);
  const rows = [['workload', 'operations', 'ops/s', 'x 1 worker'], ...workers.map((r) => [r.label, fmt(r.n), fmt(r.opsPerSec), ratio(r.opsPerSec, one(r).opsPerSec)])];
  const what = storage === 'opfs' ? 'OPFS' : storage;
  console.log(`\none ${what} store shared by the workers of a page (Chromium, threaded build, one await per call; ops/s, median of ${runs}):`);
  printTable(rows);
  const markdown = [`### One ${what} store shared by a page's workers (Chromium; ops/s, median of ${runs})`, '', markdownTable(rows), ''];
  const pageGetsResults = results.filter((r) => r.op === 'page-get');
  if (pageGetsResults.length) {
    const proxy = pageGetsResults.find((r) => !r.threads).opsPerSec;
    const pageRows = [['workload', 'gets', 'ops/s', 'x proxy'], ...pageGetsResults.map((r) => [r.label, fmt(r.n), fmt(r.opsPerSec), ratio(r.opsPerSec, proxy)])];
    console.log(`\nthe page's awaited gets of memtable-resident keys (${fmt(5 * (options.n ?? Number(process.env.PPDB_BENCH_SHARED_N ?? 2000)))} keys; ops/s, median of ${runs}):`);
    printTable(pageRows);
    markdown.push(`### The page's gets of memtable-resident keys (Chromium; ops/s, median of ${runs})`, '', markdownTable(pageRows), '');
  }
  return { report: { storage, runs, results }, markdown: markdown.join('\n') };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await benchShared();
