// A thread that dies mid-write (a worker_threads Worker terminated in a tight write loop)
// must never hang the others: they keep writing, or get a clear PpdbError (IO from the
// engine's bounded waits, or INTERNAL when the thread died holding an engine lock, whose
// data can then not be trusted), within a bounded time, and close() settles. Every write
// acknowledged before is there when the store is opened again. A thread that dies inside
// the memory allocator is not noticed at all: each thread has a heap of its own.
// `PPDB_DYING_ROUNDS=<n>` runs more rounds (default 20).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { open } from '../../pkg/index.js';

const ROUNDS = Number(process.env.PPDB_DYING_ROUNDS ?? 20);
const STALL_MS = 300;

function start(script, workerData, onMessage) {
  const worker = new Worker(new URL(`./fixtures/${script}`, import.meta.url), { workerData });
  worker.on('message', onMessage);
  return worker;
}

const deadline = (ms, what) => new Promise((_, reject) => setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms (a hang)`)), ms).unref());

test(`a writer thread terminated mid-write ${ROUNDS} times never hangs the others`, { timeout: ROUNDS * 20_000 }, async () => {
  const root = mkdtempSync(join(tmpdir(), 'ppdb-dying-'));
  const path = join(root, 'store');
  const acked = new Set();
  const outcomes = { clean: 0, IO: 0, INTERNAL: 0 };
  try {
    for (let round = 0; round < ROUNDS; round++) {
      let token;
      let report;
      const tokenReady = new Promise((resolve) => {
        report = new Promise((done) => {
          var host = start('dying-host.mjs', { path, round, stallTimeout: STALL_MS }, (message) => {
            if (message.token) resolve({ host, token: message.token });
            else done(message);
          });
          host.on('error', (err) => done({ crashed: err }));
        });
      });
      ({ token } = await tokenReady);
      const { host } = await tokenReady;
      let writerReady;
      const ready = new Promise((resolve) => (writerReady = resolve));
      const writer = start('dying-writer.mjs', { token, round }, (message) => {
        if (message === 'ready') writerReady();
        else for (const key of message.acked) acked.add(key);
      });
      writer.on('error', () => {});
      await ready;
      await new Promise((resolve) => setTimeout(resolve, 10 + Math.random() * 80));
      await writer.terminate();
      host.postMessage('finish');
      const result = await Promise.race([report, deadline(2 * STALL_MS + 8_000, `round ${round}: the host`)]);
      assert.ok(!result.crashed, `round ${round}: the host crashed: ${result.crashed?.stack}`);
      for (const key of result.acked) acked.add(key);
      for (const err of result.errors) {
        assert.equal(err.name, 'PpdbError', `round ${round}: ${JSON.stringify(err)}`);
        assert.ok(['IO', 'INTERNAL'].includes(err.code), `round ${round}: ${JSON.stringify(err)}`);
      }
      assert.ok(!result.closeError || result.closeError.name === 'PpdbError', `round ${round}: close: ${JSON.stringify(result.closeError)}`);
      outcomes[result.errors[0]?.code ?? 'clean']++;
      await host.terminate();
      // Every acknowledged write is there (a fresh engine: this thread's own).
      const db = await open('dying', { path, threads: false });
      const keys = new Set(await db.keys().all());
      await db.close();
      const missing = [...acked].filter((key) => !keys.has(key));
      assert.deepEqual(missing.slice(0, 5), [], `round ${round}: ${missing.length} acknowledged writes are missing`);
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  console.log(`dying-thread: ${ROUNDS} rounds, host outcomes ${JSON.stringify(outcomes)}, ${acked.size} acknowledged writes checked`);
});

// Every thread allocates from a heap of its own (src/wasm/alloc.rs): one terminated in the
// middle of `malloc` or `free` leaves its heap half-updated, and no one else enters it. With
// one shared heap (std's allocator), about one such termination in ten left the heap
// locked, and every thread of the context stopped at its next allocation.
const ALLOCATOR_ROUNDS = 40;

test(`a thread terminated inside the memory allocator ${ALLOCATOR_ROUNDS} times: the others allocate, write and free on, and nothing is lost`, { timeout: 120_000 }, async () => {
  const root = mkdtempSync(join(tmpdir(), 'ppdb-dying-alloc-'));
  const path = join(root, 'store');
  // A small memtable: the dead threads' memtable memory is freed by this one as it flushes.
  const db = await open('dying-alloc', { path, stallTimeout: STALL_MS, memtableSize: 64 * 1024, threads: true });
  const token = db.share();
  let written = 0;
  try {
    for (let round = 0; round < ALLOCATOR_ROUNDS; round++) {
      let ready;
      const started = new Promise((resolve) => (ready = resolve));
      const worker = start('dying-allocator.mjs', { token, round }, (message) => message === 'ready' && ready());
      worker.on('error', () => {});
      await Promise.race([started, deadline(20_000, `round ${round}: the allocating thread`)]);
      await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 30));
      await worker.terminate();
      // Within the stall limit this thread needs the allocator many times over.
      for (let i = 0; i < 300; i++, written++) await db.put(`h-${String(written).padStart(6, '0')}`, 'h'.repeat(i % 700));
      const values = await db.values({ gte: `a-${round}-`, lt: `a-${round}-~` }).all();
      assert.equal(values.length, 100, `round ${round}: the dead thread's writes`);
    }
  } finally {
    await db.close().catch(() => {});
  }
  const again = await open('dying-alloc', { path, threads: false });
  const keys = await again.keys({ gte: 'h-', lt: 'h-~' }).all();
  const theirs = await again.keys({ gte: 'a-', lt: 'a-~' }).all();
  await again.close();
  rmSync(root, { recursive: true, force: true });
  assert.equal(keys.length, written);
  assert.equal(theirs.length, 100 * ALLOCATOR_ROUNDS);
});
