// The threaded flavour: a shared memory, and worker_threads writing one store.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { open, attach, PpdbError } from '../../pkg/index.js';

async function memoryImport(flavour) {
  const bytes = await readFile(new URL(`../../pkg/wasm/${flavour}/ppdb_bg.wasm`, import.meta.url));
  const module = await WebAssembly.compile(bytes);
  return { module, imported: WebAssembly.Module.imports(module).filter((i) => i.kind === 'memory') };
}

test('the threaded module imports a shared memory', async () => {
  const { imported } = await memoryImport('threaded');
  assert.equal(imported.length, 1, 'the threaded module must import its memory');
  const db = await open('shared-memory', { storage: 'memory' });
  assert.equal(db.flavour, 'threaded');
  assert.ok(db.share().memory.buffer instanceof SharedArrayBuffer);
  await db.close();
});

test('the single-threaded module owns a plain, unshared memory', async () => {
  const { module, imported } = await memoryImport('single');
  assert.equal(imported.length, 0);
  const wasm = await import('../../pkg/wasm/single/ppdb.js');
  const exports = wasm.initSync({ module });
  assert.ok(exports.memory.buffer instanceof ArrayBuffer);
  assert.ok(!(exports.memory.buffer instanceof SharedArrayBuffer));
});

function runWorker(token, index, count, padding) {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./fixtures/writer-worker.mjs', import.meta.url), {
      workerData: { token, index, count, padding },
    });
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => code !== 0 && reject(new Error(`worker exited with ${code}`)));
  });
}

test('several worker_threads write one shared store concurrently and every write lands', async () => {
  const WORKERS = 4;
  const COUNT = 3000;
  const db = await open('many-writers', { storage: 'memory' });
  await db.put('written-before-sharing', 'hello');
  const token = db.share();
  const results = await Promise.all(Array.from({ length: WORKERS }, (_, i) => runWorker(token, i, COUNT)));
  for (const { seen } of results) assert.equal(seen, 'hello', 'a worker must see writes made before sharing');
  const found = new Map();
  for await (const [key, value] of db.iterator({ gte: 'w0-', lt: 'w:' })) found.set(key, value);
  assert.equal(found.size, WORKERS * COUNT);
  for (let w = 0; w < WORKERS; w++) {
    for (let j = 0; j < COUNT; j += 97) {
      assert.equal(found.get(`w${w}-${String(j).padStart(6, '0')}`), `value ${w}/${j}`);
    }
  }
  const stats = await db.stats();
  assert.equal(stats.sequence, WORKERS * COUNT + 1, 'every write got its own sequence number');
  await db.close();
});

test('attaching after the last handle closed rejects with CLOSED', async () => {
  const db = await open('outlive', { storage: 'memory' });
  const token = db.share();
  await db.close();
  await assert.rejects(attach(token), (err) => err instanceof PpdbError && err.code === 'CLOSED');
});

test('attach rejects a value that is not a share token', async () => {
  await assert.rejects(attach({ id: 1 }), (err) => err.code === 'INVALID_ARGUMENT');
  await assert.rejects(attach(null), (err) => err.code === 'INVALID_ARGUMENT');
});

// Memory a thread frees in its own heap serves only that thread (src/wasm/alloc.rs), so
// large blocks (memtable chunks among them) come from the heap all threads share: threads
// that write one after another reuse the memtables the ones before them filled and freed,
// where heaps of their own would each have kept their own.
test('worker_threads writing one after another reuse the memtable memory the ones before them freed', async () => {
  const root = mkdtempSync(join(tmpdir(), 'ppdb-heaps-'));
  const db = await open('heaps', { path: join(root, 'store'), memtableSize: 2 * 2 ** 20 });
  const token = db.share();
  const sizes = [];
  try {
    // 16 MiB of values each: eight memtables filled, flushed and freed per writer.
    for (let i = 0; i < 5; i++) {
      await runWorker(token, i, 16_000, 1000);
      await db.flush();
      sizes.push((await db.stats()).wasmMemoryBytes);
    }
  } finally {
    await db.close();
    rmSync(root, { recursive: true, force: true });
  }
  // Each thread's stack and its heap's small blocks stay (about 3 MiB measured); its
  // memtables' memory does not (with a heap per thread for every block: 10 MiB a writer).
  const growth = sizes.at(-1) - sizes[0];
  assert.ok(growth <= 20 * 2 ** 20, `wasm memory grew ${(growth / 2 ** 20).toFixed(1)} MiB over 4 more writers: ${sizes}`);
});
