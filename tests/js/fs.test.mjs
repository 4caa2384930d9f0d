// Stores on Node's fs: persistence, recovery, locking, real crashes (SIGKILL), workers.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { open, destroy, PpdbError } from '../../pkg/index.js';

const root = mkdtempSync(join(tmpdir(), 'ppdb-fs-'));
after(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;
const freshDir = () => join(root, `store-${++counter}`);

async function entries(db, options) {
  const out = [];
  for await (const entry of db.iterator(options)) out.push(entry);
  return out;
}

for (const [flavour, threads] of [['threaded', true], ['single', false]]) {
  describe(`fs storage, ${flavour} flavour`, () => {
    test('writes survive closing and reopening, and recovery reports them', async () => {
      const path = freshDir();
      let db = await open('notes', { storage: 'fs', path, threads });
      assert.equal(db.storage, 'fs');
      assert.equal(db.recovery.records, 0);
      for (let i = 0; i < 500; i++) await db.put(`k${String(i).padStart(4, '0')}`, `v${i}`);
      await db.batch([{ type: 'del', key: 'k0000' }, { type: 'put', key: 'z', value: 'last' }]);
      await db.close();
      assert.ok(readdirSync(path).some((f) => f.endsWith('.wal')), 'the log is on disk');

      db = await open('notes', { storage: 'fs', path, threads });
      assert.equal(db.recovery.records, 501);
      assert.equal(db.recovery.entries, 502);
      assert.equal(db.recovery.lastSequence, 502);
      assert.deepEqual(db.recovery.dropped, []);
      assert.equal(await db.get('k0000'), undefined);
      assert.equal(await db.get('k0499'), 'v499');
      assert.equal(await db.get('z'), 'last');
      assert.equal((await entries(db)).length, 500);
      await db.close();
    });

    test('relaxed writes are durable once flushed', async () => {
      const path = freshDir();
      const db = await open('relaxed', { storage: 'fs', path, threads, durability: 'relaxed', relaxedFlushInterval: 0 });
      await db.put('a', '1');
      assert.ok((await db.stats()).unsyncedLogBytes > 0);
      await db.flush();
      assert.equal((await db.stats()).unsyncedLogBytes, 0);
      await db.close();
      const again = await open('relaxed', { storage: 'fs', path, threads });
      assert.equal(await again.get('a'), '1');
      await again.close();
    });
  });
}

test('a second open of the same folder in this process is LOCKED until the first closes', async () => {
  const path = freshDir();
  const first = await open('locked', { storage: 'fs', path });
  await assert.rejects(open('locked', { storage: 'fs', path }), (err) => err instanceof PpdbError && err.code === 'LOCKED');
  await assert.rejects(destroy('locked', { storage: 'fs', path }), (err) => err.code === 'LOCKED');
  await first.close();
  const second = await open('locked', { storage: 'fs', path });
  await second.close();
});

function startChild(script, args) {
  const child = spawn(process.execPath, [new URL(`./fixtures/${script}`, import.meta.url).pathname, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = [];
  let waiting = null;
  let buffered = '';
  child.stdout.on('data', (chunk) => {
    buffered += chunk;
    const parts = buffered.split('\n');
    buffered = parts.pop();
    for (const line of parts) {
      lines.push(line);
      waiting?.();
    }
  });
  const until = (predicate) =>
    new Promise((resolve, reject) => {
      const check = () => {
        if (predicate(lines)) {
          waiting = null;
          resolve(lines);
        }
      };
      waiting = check;
      child.once('exit', (code) => reject(new Error(`child exited with ${code} before it was ready: ${lines.slice(-3)}`)));
      check();
    });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return { child, lines, until, exited };
}

test('another process holding the store makes open LOCKED; a killed holder leaves no lock', async () => {
  const path = freshDir();
  const holder = startChild('hold-open.mjs', [path]);
  await holder.until((lines) => lines.includes('open'));
  await assert.rejects(open('held', { storage: 'fs', path }), (err) => err.code === 'LOCKED');
  holder.child.kill('SIGKILL');
  await holder.exited;
  const db = await open('held', { storage: 'fs', path });
  assert.equal(await db.get('holder'), String(holder.child.pid));
  await db.close();
});

for (const flavour of ['threaded', 'single']) {
  test(`a process killed with SIGKILL mid-write loses no acknowledged write (${flavour})`, { timeout: 120_000 }, async () => {
    const path = freshDir();
    let next = 0;
    for (let round = 0; round < 3; round++) {
      const writer = startChild('crash-writer.mjs', [path, flavour, String(next)]);
      const target = next + 150 + Math.floor(Math.random() * 150);
      await writer.until((lines) => lines.some((l) => l === `ack ${target}`));
      writer.child.kill('SIGKILL');
      await writer.exited;
      const acked = writer.lines.filter((l) => l.startsWith('ack ')).map((l) => Number(l.slice(4)));

      const db = await open('crash', { storage: 'fs', path, threads: flavour === 'threaded', memtableSize: 64 * 1024 });
      assert.ok(db.recovery.dropped.every((d) => d.tornTail), `only a torn tail may be dropped: ${JSON.stringify(db.recovery.dropped)}`);
      for (const n of acked) {
        const key = String(n).padStart(8, '0');
        for (const prefix of ['a', 'b', 'c']) {
          assert.equal(await db.get(`${prefix}-${key}`), `batch-${n}-`.padEnd(200, 'x'), `acknowledged batch ${n} lost`);
        }
      }
      // Every entry is exactly what its batch wrote; batches are a gap-free run from 0 with
      // all three keys each (the batch in flight at the kill is all there or not at all).
      const perBatch = new Map();
      for (const [key, value] of await entries(db)) {
        const n = Number(key.slice(2));
        assert.equal(value, `batch-${n}-`.padEnd(200, 'x'), `${key} holds a value never written`);
        perBatch.set(n, (perBatch.get(n) ?? 0) + 1);
      }
      assert.ok([...perBatch.values()].every((c) => c === 3), 'a batch was half applied');
      assert.ok([...perBatch.keys()].every((n) => n < perBatch.size), 'batches are missing in the middle');
      assert.ok(perBatch.size > acked.at(-1), 'the last acknowledged batch is there');
      next = perBatch.size;
      await db.close();
    }
  });
}

test('a flipped byte in the middle of the log is CORRUPTION, or skipped and reported when asked', async () => {
  const path = freshDir();
  const db = await open('corrupt', { storage: 'fs', path });
  for (let i = 0; i < 300; i++) await db.put(`k${String(i).padStart(4, '0')}`, 'v'.repeat(300));
  await db.close();
  const wal = readdirSync(path).find((f) => f.endsWith('.wal'));
  const bytes = readFileSync(join(path, wal));
  bytes[2000] ^= 0xff;
  writeFileSync(join(path, wal), bytes);
  await assert.rejects(open('corrupt', { storage: 'fs', path }), (err) => err.code === 'CORRUPTION');
  const tolerant = await open('corrupt', { storage: 'fs', path, recovery: 'skip-corrupted' });
  assert.ok(tolerant.recovery.dropped.some((d) => !d.tornTail), 'the damage is reported');
  const found = await entries(tolerant);
  assert.ok(found.length > 100 && found.length < 300, `${found.length} entries`);
  assert.ok(found.every(([, v]) => v === 'v'.repeat(300)), 'damaged data must never be returned');
  await tolerant.close();
});

test('worker_threads attached to an fs store write through their own files', async () => {
  const path = freshDir();
  const db = await open('shared-fs', { storage: 'fs', path });
  const token = db.share();
  await Promise.all(
    [0, 1].map(
      (index) =>
        new Promise((resolve, reject) => {
          const w = new Worker(new URL('./fixtures/fs-worker.mjs', import.meta.url), { workerData: { token, index, count: 300 } });
          w.once('message', resolve);
          w.once('error', reject);
        }),
    ),
  );
  await db.close();
  const again = await open('shared-fs', { storage: 'fs', path });
  assert.equal((await entries(again)).length, 600);
  assert.equal(await again.get('w1-00299'), 'from worker 1');
  await again.close();
});

test('destroy deletes a closed store', async () => {
  const path = freshDir();
  const db = await open('gone', { storage: 'fs', path });
  await db.put('k', 'v');
  await db.close();
  await destroy('gone', { storage: 'fs', path });
  assert.equal(existsSync(path), false);
  const fresh = await open('gone', { storage: 'fs', path });
  assert.equal(await fresh.get('k'), undefined);
  await fresh.close();
});

test('memtables flush to tables that read back after reopening; a damaged table is CORRUPTION', { timeout: 60_000 }, async () => {
  const path = freshDir();
  let db = await open('tables', { storage: 'fs', path, memtableSize: 16 * 1024 });
  for (let i = 0; i < 3000; i++) await db.put(`k${String(i).padStart(5, '0')}`, `value ${i} `.repeat(4));
  await db.compact();
  let stats = await db.stats();
  assert.ok(stats.tablesPerLevel.reduce((a, b) => a + b, 0) > 0, `tables: ${stats.tablesPerLevel}`);
  assert.equal(stats.frozenMemtables, 0);
  await db.close();
  assert.ok(readdirSync(path).some((f) => f.endsWith('.sst')));

  db = await open('tables', { storage: 'fs', path, memtableSize: 16 * 1024 });
  assert.ok(db.recovery.records < 3000, 'flushed data is read from tables, not replayed');
  assert.equal(await db.get('k00000'), 'value 0 '.repeat(4));
  assert.equal(await db.get('k02999'), 'value 2999 '.repeat(4));
  assert.equal((await entries(db)).length, 3000);
  stats = await db.stats();
  assert.ok(stats.cacheHits + stats.cacheMisses > 0, 'reads went through the block cache');
  await db.close();

  const table = readdirSync(path).filter((f) => f.endsWith('.sst')).sort()[0];
  const bytes = readFileSync(join(path, table));
  bytes[100] ^= 0xff; // inside the first data block
  writeFileSync(join(path, table), bytes);
  db = await open('tables', { storage: 'fs', path });
  await assert.rejects(db.get('k00000'), (err) => err.code === 'CORRUPTION');
  await assert.rejects(entries(db), (err) => err.code === 'CORRUPTION');
  await db.close();
});

for (const [flavour, threads, expected] of [['threaded', true, 'worker'], ['single', false, 'steps']]) {
  test(`flushes and compactions run by themselves (${flavour}: ${expected})`, { timeout: 60_000 }, async () => {
    const path = freshDir();
    const db = await open('background', { storage: 'fs', path, threads, memtableSize: 32 * 1024 });
    assert.equal(db.maintenance, expected);
    const value = (i) => `value ${i} `.repeat(8);
    for (let i = 0; i < 20_000; i += 100) {
      const ops = [];
      for (let j = i; j < i + 100; j++) ops.push({ type: 'put', key: `k${String(j).padStart(6, '0')}`, value: value(j) });
      await db.batch(ops);
    }
    // No compact(): the background work alone writes the frozen memtables to tables and
    // compacts level 0.
    let stats;
    for (let tries = 0; tries < 600; tries++) {
      stats = await db.stats();
      if (stats.frozenMemtables === 0 && stats.compactedBytes > 0 && stats.tablesPerLevel[0] < 4) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal(stats.frozenMemtables, 0, JSON.stringify(stats));
    assert.ok(stats.compactedBytes > 0, `compacted: ${JSON.stringify(stats)}`);
    for (const i of [0, 777, 19_999]) assert.equal(await db.get(`k${String(i).padStart(6, '0')}`), value(i));
    await db.close();
    const again = await open('background', { storage: 'fs', path, threads });
    assert.equal((await entries(again)).length, 20_000);
    assert.equal(await again.get('k012345'), value(12_345));
    await again.close();
  });
}
