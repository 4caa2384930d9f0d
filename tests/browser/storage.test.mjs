// Durable storage: OPFS in dedicated workers, IndexedDB on pages; persistence, locking
// between contexts, and crashes (a worker terminated mid-write, a page left mid-write) that
// lose no acknowledged write. The workers' stores ask for WORKER_STORAGE: 'opfs', or in
// WebKitGTK 'auto', which opens IndexedDB there (see OPFS_ASKED).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { OPFS_ASKED, installStorageWorkerHelpers, launch, openPage, ppdbLoaded, repoRoot, serve, TIMEOUT } from './harness.mjs';

let browser;
let server;
let page;
const at = (path) => new URL(path, server.url).href;
const WORKER_STORAGE = OPFS_ASKED;

before(async () => {
  server = await serve({ root: repoRoot, port: 0 });
  browser = await launch();
  page = await openPage(browser.context, at('/tests/browser/fixtures/api.html'));
  await ppdbLoaded(page);
  await installStorageWorkerHelpers(page);
  await page.evaluate((storage) => {
    window.WORKER_STORAGE = storage;
  }, WORKER_STORAGE);
});

after(async () => {
  await browser?.close();
  await server?.close();
});

describe(`${WORKER_STORAGE === 'opfs' ? 'OPFS' : 'IndexedDB'} in a dedicated worker`, () => {
  test('a store written in one worker is read back in another', { timeout: TIMEOUT }, async () => {
    const result = await page.evaluate(async () => {
      const first = await startWorker();
      const a = await ask(first, { cmd: 'put-get', name: 'opfs-basic', storage: WORKER_STORAGE, key: 'k', value: 'v1' });
      first.terminate();
      const second = await startWorker();
      const b = await ask(second, { cmd: 'put-get', name: 'opfs-basic', storage: WORKER_STORAGE, key: 'k', value: 'v2' });
      second.terminate();
      return { a, b };
    });
    assert.equal(result.a.result.before, undefined);
    assert.equal(result.b.result.before, 'v1');
  });

  test('a second worker opening the same store exclusively gets LOCKED', { timeout: TIMEOUT }, async () => {
    const result = await page.evaluate(async () => {
      const holder = await startWorker();
      const held = await ask(holder, { cmd: 'open-hold', name: 'opfs-locked', storage: WORKER_STORAGE, exclusive: true });
      const other = await startWorker();
      const second = await ask(other, { cmd: 'open-hold', name: 'opfs-locked', storage: WORKER_STORAGE, exclusive: true });
      holder.terminate();
      other.terminate();
      return { held, second };
    });
    assert.equal(result.held.result, 'open');
    assert.equal(result.second.error?.code, 'LOCKED', JSON.stringify(result.second));
  });

  test('a worker terminated mid-write loses no acknowledged write', { timeout: 90_000 }, async () => {
    for (let round = 0; round < 2; round++) {
      const name = `opfs-crash-${round}`;
      const outcome = await page.evaluate(async (name) => {
        const writer = await startWorker();
        writer.postMessage({ cmd: 'write-loop', name, storage: WORKER_STORAGE });
        const target = 150 + Math.floor(Math.random() * 150);
        while (writer.acks.length < target) {
          if (writer.last?.error) return { error: writer.last.error };
          await new Promise((r) => setTimeout(r, 5));
        }
        writer.terminate();
        const acked = [...writer.acks];
        const checker = await startWorker();
        const checked = await ask(checker, { cmd: 'check', name, storage: WORKER_STORAGE, acked });
        checker.terminate();
        return { acked: acked.length, checked };
      }, name);
      assert.equal(outcome.error, undefined, JSON.stringify(outcome.error));
      const { missing, halfBatch, gapFree, wrong, batches, recovery } = outcome.checked.result ?? {};
      assert.ok(outcome.checked.result, JSON.stringify(outcome.checked.error));
      assert.deepEqual(missing, [], 'acknowledged batches were lost');
      assert.equal(halfBatch, false, 'a batch was half applied');
      assert.equal(gapFree, true, 'batches are missing in the middle');
      assert.equal(wrong, 0, 'entries hold values that were never written');
      assert.ok(batches >= outcome.acked, `${batches} batches for ${outcome.acked} acks`);
      assert.ok(recovery.dropped.every((d) => d.tornTail), JSON.stringify(recovery.dropped));
    }
  });
});

describe('larger than memory', () => {
  test('a worker writes 16x its memory budget to its storage, reads it all back, and wasm memory stays bounded', { timeout: 180_000 }, async () => {
    const budget = 2 << 20;
    const megabytes = 32;
    const outcome = await page.evaluate(async ({ budget, megabytes }) => {
      const worker = await startWorker();
      const answer = await ask(worker, { cmd: 'larger-than-memory', name: 'big', storage: WORKER_STORAGE, megabytes, budget });
      worker.terminate();
      return answer;
    }, { budget, megabytes });
    assert.ok(outcome.result, JSON.stringify(outcome.error));
    const { wrong, scanned, count, stats } = outcome.result;
    assert.equal(wrong, 0);
    assert.equal(scanned, count);
    const tables = stats.tablesPerLevel.reduce((a, b) => a + b, 0);
    assert.ok(tables > 1, `data went to tables: ${stats.tablesPerLevel}`);
    const margin = 14 << 20;
    assert.ok(stats.wasmMemoryBytes < budget + margin, `wasm memory ${stats.wasmMemoryBytes} for ${megabytes} MiB of data`);
    assert.ok(stats.wasmMemoryBytes < (megabytes << 20) / 2, 'the data cannot all be in memory');
  });
});

describe('IndexedDB on a page', () => {
  test('writes survive closing and reopening, and a worker cannot open the store exclusively while the page holds it', { timeout: TIMEOUT }, async () => {
    const result = await page.evaluate(async () => {
      let db = await ppdb.open('idb-basic', { storage: 'indexeddb' });
      const storage = db.storage;
      await db.put('k', 'v');
      await db.batch([{ type: 'put', key: 'k2', value: 'v2' }, { type: 'del', key: 'k' }]);
      const worker = await startWorker();
      const locked = await ask(worker, { cmd: 'open-hold', name: 'idb-basic', storage: 'indexeddb', exclusive: true });
      worker.terminate();
      await db.close();
      db = await ppdb.open('idb-basic', { storage: 'indexeddb' });
      const out = { storage, k: await db.get('k'), k2: await db.get('k2'), records: db.recovery.records, locked };
      await db.close();
      await ppdb.destroy('idb-basic', { storage: 'indexeddb' });
      return out;
    });
    assert.equal(result.storage, 'indexeddb');
    assert.equal(result.k, undefined);
    assert.equal(result.k2, 'v2');
    assert.equal(result.records, 2);
    assert.equal(result.locked.error?.code, 'LOCKED', JSON.stringify(result.locked));
  });

  test('a page reloaded mid-write loses no acknowledged write', { timeout: 90_000 }, async () => {
    const writer = await browser.context.newPage();
    const acked = [];
    writer.on('console', (msg) => {
      const text = msg.text();
      if (text.startsWith('ack ')) acked.push(Number(text.slice(4)));
      else if (msg.type() === 'error') console.error('[writer page]', text);
    });
    await writer.goto(at('/tests/browser/fixtures/idb.html?write=idb-crash'));
    const deadline = Date.now() + 60_000;
    while (acked.length < 100 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.ok(acked.length >= 100, `only ${acked.length} acks`);
    // Reload mid-write: the page is torn down wherever it is; the reloaded page checks.
    await writer.reload();
    await ppdbLoaded(writer);
    assert.equal(await writer.evaluate(() => sessionStorage.getItem('wrote:idb-crash')), '1', 'the reloaded page must not write');
    const result = await writer.evaluate(async (acked) => {
      const db = await ppdb.open('idb-crash', { storage: 'indexeddb' });
      const missing = [];
      for (const n of acked) {
        const key = String(n).padStart(8, '0');
        for (const p of ['a', 'b', 'c']) if ((await db.get(`${p}-${key}`)) !== `batch-${n}-`.padEnd(120, 'x')) missing.push(`${p}-${n}`);
      }
      let count = 0;
      for await (const _ of db.iterator()) count++;
      await db.close();
      return { missing, count };
    }, acked);
    await writer.close();
    assert.deepEqual(result.missing, []);
    assert.equal(result.count % 3, 0, 'a batch was half applied');
    assert.ok(result.count >= 3 * acked.length, `${result.count} entries for ${acked.length} acks`);
  });
});
