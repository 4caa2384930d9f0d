// The memtable benchmark inside wasm under Node, for both builds: put (1 writer; 2
// worker_threads writers on one shared memtable in the threaded build), get, full scan.
// Exports `runWasm({ n, runs })`; bench/run.mjs prints it beside the native figures.
import { readFile } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function load(flavour) {
  const wasm = await import(`../../target/bench-pkg/${flavour}/ppdb.js`);
  const module = await WebAssembly.compile(await readFile(new URL(`../../target/bench-pkg/${flavour}/ppdb_bg.wasm`, import.meta.url)));
  const exports = wasm.initSync({ module });
  return { wasm, module, memory: exports.memory };
}

function time(fn) {
  const start = performance.now();
  fn();
  return (performance.now() - start) / 1000;
}

function startWriter(engine) {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./memtable-worker.mjs', import.meta.url), {
      workerData: { module: engine.module, memory: engine.memory },
    });
    worker.once('message', () => resolve(worker));
    worker.once('error', reject);
  });
}

const fillIn = (worker, job) =>
  new Promise((resolve) => {
    worker.once('message', resolve);
    worker.postMessage(job);
  });

/** ops/s medians and bytes per entry for one build. */
async function runFlavour(flavour, n, runs) {
  const engine = await load(flavour);
  const { wasm } = engine;
  const samples = { put_1_writer: [], get: [], scan: [], put_2_writers: [] };
  let bytesPerEntry = 0;
  const writers = flavour === 'threaded' ? await Promise.all([startWriter(engine), startWriter(engine)]) : [];
  for (let run = 0; run < runs; run++) {
    const id = wasm.benchMemtableNew();
    samples.put_1_writer.push(time(() => wasm.benchMemtableFill(id, 0, n)));
    samples.get.push(time(() => {
      if (wasm.benchMemtableGet(id, n) !== n) throw new Error('lost keys');
    }));
    samples.scan.push(time(() => {
      if (wasm.benchMemtableScan(id) !== n) throw new Error('scan count');
    }));
    bytesPerEntry = wasm.benchMemtableSize(id)[0] / n;
    wasm.benchMemtableFree(id);
    if (writers.length) {
      const shared = wasm.benchMemtableNew();
      const start = performance.now();
      await Promise.all([fillIn(writers[0], { id: shared, start: 0, end: n / 2 }), fillIn(writers[1], { id: shared, start: n / 2, end: n })]);
      samples.put_2_writers.push((performance.now() - start) / 1000);
      if (wasm.benchMemtableSize(shared)[2] !== n) throw new Error('2 writers lost entries');
      wasm.benchMemtableFree(shared);
    }
  }
  await Promise.all(writers.map((w) => w.terminate()));
  const opsPerSec = {};
  for (const [name, secs] of Object.entries(samples)) if (secs.length) opsPerSec[name] = n / median(secs);
  return { opsPerSec, bytesPerEntry };
}

/** Both builds. */
export async function runWasm({ n, runs }) {
  return { threaded: await runFlavour('threaded', n, runs), single: await runFlavour('single', n, runs) };
}

/** The public API (JS -> wasm per call), for scale: put and get of `n` string entries. */
export async function runPackage({ n, runs }) {
  const { open } = await import('../../pkg/index.js');
  const put = [];
  const get = [];
  const value = 'v'.repeat(100);
  const keys = Array.from({ length: n }, (_, i) => `key-${String((i * 7919) % n).padStart(12, '0')}`);
  for (let run = 0; run < runs; run++) {
    const db = await open('bench', { storage: 'memory', keyEncoding: 'bytes', valueEncoding: 'bytes' });
    let start = performance.now();
    for (const k of keys) await db.put(k, value);
    put.push((performance.now() - start) / 1000);
    start = performance.now();
    for (const k of keys) await db.get(k);
    get.push((performance.now() - start) / 1000);
    await db.close();
  }
  return { put: n / median(put), get: n / median(get) };
}
