// db.watch(): the change feed in Node, in both flavours. Changes arrive in commit order, a
// batch together, filtered by range, decoded as asked; `after` resumes from the memtables
// (also after a reopen), and what the store can no longer list is reported as a gap.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open, PpdbError } from '../../pkg/index.js';
import { MAX_QUEUED, compareBytes } from '../../pkg/api/watch.js';

const enc = new TextEncoder();

/** The next `count` changes of `watch`, or fails after `ms`. */
async function nextChanges(watch, count, ms = 5000) {
  const out = [];
  const timer = setTimeout(() => watch.close(), ms);
  try {
    while (out.length < count) {
      const step = await watch.next();
      if (step.done) break;
      out.push(step.value);
    }
  } finally {
    clearTimeout(timer);
  }
  assert.equal(out.length, count, `expected ${count} changes, got ${JSON.stringify(out)}`);
  return out;
}

function rejectsWith(fn, code) {
  return assert.rejects(fn, (err) => err instanceof PpdbError && err.code === code);
}

for (const [flavour, threads] of [['threaded', true], ['single', false]]) {
  describe(`${flavour} flavour`, () => {
    test('a batch a watcher has not read yet keeps its bytes while later batches are written (batches reuse one buffer when no one watches)', async () => {
      const db = await open('watch-batch-bytes', { storage: 'memory', threads });
      await db.batch([{ type: 'put', key: 'before', value: 'unwatched' }]);
      const watch = db.watch();
      await db.batch([{ type: 'put', key: 'k1', value: 'first' }, { type: 'put', key: 'k2', value: 'batch' }]);
      await db.batch([{ type: 'put', key: 'x9', value: 'later' }, { type: 'del', key: 'zz' }]);
      const changes = await nextChanges(watch, 4);
      assert.deepEqual(
        changes.map(({ type, key, value }) => [type, key, value]),
        [
          ['put', 'k1', 'first'],
          ['put', 'k2', 'batch'],
          ['put', 'x9', 'later'],
          ['del', 'zz', undefined],
        ],
      );
      watch.close();
      await db.batch([{ type: 'put', key: 'after', value: 'unwatched again' }]);
      assert.equal(await db.get('k1'), 'first');
      assert.equal(await db.get('after'), 'unwatched again');
      await db.close();
    });

    test('changes arrive in commit order, each with its sequence number, a batch together', async () => {
      const db = await open('watch-order', { storage: 'memory', threads });
      const watch = db.watch();
      await db.put('a', '1');
      await db.batch([
        { type: 'put', key: 'b', value: '2' },
        { type: 'del', key: 'a' },
        { type: 'put', key: 'c', value: '3' },
      ]);
      await db.del('b');
      const changes = await nextChanges(watch, 5);
      assert.deepEqual(
        changes.map(({ type, key, value }) => [type, key, value]),
        [
          ['put', 'a', '1'],
          ['put', 'b', '2'],
          ['del', 'a', undefined],
          ['put', 'c', '3'],
          ['del', 'b', undefined],
        ],
      );
      const sequences = changes.map((c) => c.sequence);
      for (let i = 1; i < sequences.length; i++) assert.equal(sequences[i], sequences[0] + i, 'consecutive sequence numbers');
      assert.ok(!('value' in changes[2]), 'a delete has no value');
      watch.close();
      assert.deepEqual(await watch.next(), { done: true, value: undefined });
      await db.close();
    });

    test('ranges filter, as iterator() does; reverse is refused', async () => {
      const db = await open('watch-range', { storage: 'memory', threads });
      const prefixed = db.watch({ prefix: 'user:' });
      const bounded = db.watch({ gt: 'b', lte: 'd' });
      const below = db.watch({ lt: 'b' });
      for (const key of ['a', 'b', 'c', 'd', 'e', 'user:1', 'user', 'users']) await db.put(key, key);
      assert.deepEqual((await nextChanges(prefixed, 1)).map((c) => c.key), ['user:1']);
      assert.deepEqual((await nextChanges(bounded, 2)).map((c) => c.key), ['c', 'd']);
      assert.deepEqual((await nextChanges(below, 1)).map((c) => c.key), ['a']);
      assert.throws(() => db.watch({ reverse: true }), (err) => err.code === 'INVALID_ARGUMENT');
      assert.throws(() => db.watch({ after: -1 }), (err) => err.code === 'INVALID_ARGUMENT');
      assert.throws(() => db.watch('a'), (err) => err.code === 'INVALID_ARGUMENT');
      for (const w of [prefixed, bounded, below]) w.close();
      await db.close();
      assert.throws(() => db.watch(), (err) => err.code === 'CLOSED');
    });

    test('values are decoded as asked: json, utf8, bytes (each watcher its own copy)', async () => {
      const db = await open('watch-encodings', { storage: 'memory', threads, valueEncoding: 'json' });
      const asJson = db.watch();
      const asBytes = db.watch({ keyEncoding: 'bytes', valueEncoding: 'bytes' });
      const asBytesToo = db.watch({ valueEncoding: 'bytes' });
      await db.put('k', { n: 1, list: [1, 'two'] });
      const [json] = await nextChanges(asJson, 1);
      assert.deepEqual(json.value, { n: 1, list: [1, 'two'] });
      const [bytes] = await nextChanges(asBytes, 1);
      assert.ok(bytes.key instanceof Uint8Array && bytes.value instanceof Uint8Array);
      assert.deepEqual([...bytes.key], [...enc.encode('k')]);
      bytes.value.fill(0);
      const [other] = await nextChanges(asBytesToo, 1);
      assert.equal(new TextDecoder().decode(other.value), '{"n":1,"list":[1,"two"]}', 'another watcher did not see the first one change its bytes');
      // A value its encoding cannot read ends that watch with the error, as an iterator.
      await db.put('bad', 'not json', { valueEncoding: 'utf8' });
      await rejectsWith(() => asJson.next(), 'INVALID_ARGUMENT');
      asBytes.close();
      asBytesToo.close();
      await db.close();
    });

    test('limit ends it; break and close release it; closing the store ends every loop', async () => {
      const db = await open('watch-end', { storage: 'memory', threads });
      const limited = db.watch({ limit: 2 });
      const loop = (async () => {
        const seen = [];
        for await (const change of db.watch()) {
          seen.push(change.key);
          if (seen.length === 3) break;
        }
        return seen;
      })();
      const untilClose = (async () => {
        let n = 0;
        for await (const _ of db.watch()) n++;
        return n;
      })();
      for (const key of ['a', 'b', 'c', 'd']) await db.put(key, 'v');
      assert.deepEqual((await limited.all()).map((c) => c.key), ['a', 'b']);
      assert.deepEqual(await db.watch({ limit: 0 }).all(), [], 'limit 0: nothing, at once');
      assert.deepEqual(await loop, ['a', 'b', 'c']);
      await db.close();
      assert.equal(await untilClose, 4, 'the loop ended when the store closed, after what it had');
    });

    test('a watch that falls far behind reports a gap instead of holding everything', async () => {
      const db = await open('watch-overflow', { storage: 'memory', threads });
      const watch = db.watch();
      const batch = Array.from({ length: 1000 }, (_, i) => ({ type: 'put', key: `k${i}`, value: 'v' }));
      for (let i = 0; i <= MAX_QUEUED / 1000; i++) await db.batch(batch);
      const [first] = await nextChanges(watch, 1);
      assert.equal(first.type, 'gap');
      assert.ok(first.sequence >= MAX_QUEUED);
      await db.put('after', 'v');
      const [next] = await nextChanges(watch, 1);
      assert.equal(next.key, 'after');
      assert.equal(next.sequence, first.sequence + 1, 'nothing after the gap is missed');
      watch.close();
      await db.close();
    });

    test('a random workload: each watcher gets exactly the changes of its range, in order', async () => {
      const db = await open('watch-model', { storage: 'memory', threads });
      const ranges = [{}, { prefix: 'a' }, { gte: 'b', lt: 'd' }, { gt: 'c' }, { lte: 'b5' }];
      const watches = ranges.map((range) => db.watch({ ...range, keyEncoding: 'bytes' }));
      const log = [];
      let seed = 7;
      const random = (n) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
      const key = () => `${'abcde'[random(5)]}${random(10)}`;
      for (let step = 0; step < 300; step++) {
        const kind = random(3);
        if (kind === 0) {
          const k = key();
          await db.put(k, `v${step}`);
          log.push(['put', k]);
        } else if (kind === 1) {
          const k = key();
          await db.del(k);
          log.push(['del', k]);
        } else {
          const ops = Array.from({ length: 1 + random(5) }, () => (random(2) ? { type: 'put', key: key(), value: 'b' } : { type: 'del', key: key() }));
          await db.batch(ops);
          for (const op of ops) log.push([op.type, op.key]);
        }
      }
      const within = (k, { prefix, gt, gte, lt, lte }) => {
        const b = enc.encode(k);
        const cmp = (bound) => compareBytes(b, enc.encode(bound));
        return (prefix === undefined || k.startsWith(prefix)) && (gt === undefined || cmp(gt) > 0) && (gte === undefined || cmp(gte) >= 0) && (lt === undefined || cmp(lt) < 0) && (lte === undefined || cmp(lte) <= 0);
      };
      for (const [i, watch] of watches.entries()) {
        const expected = log.filter(([, k]) => within(k, ranges[i]));
        const got = await nextChanges(watch, expected.length);
        assert.deepEqual(
          got.map((c) => [c.type, new TextDecoder().decode(c.key)]),
          expected,
          `range ${JSON.stringify(ranges[i])}`,
        );
        for (let j = 1; j < got.length; j++) assert.ok(got[j].sequence > got[j - 1].sequence);
        watch.close();
      }
      await db.close();
    });
  });
}

test('a watch reports where it started, not how far it got: a proxy resumes from there', async () => {
  const db = await open('watch-opened', { storage: 'memory' });
  await db.put('before', '0');
  const start = (await db.stats()).sequence;
  // Written while the watch starts (its code may still be loading): still delivered.
  const watch = db.watch();
  await db.put('during', '1');
  assert.equal(await watch.opened, start);
  const taken = await watch.take();
  assert.deepEqual(taken.changes.map((c) => [c.key, c.sequence]), [['during', start + 1]]);
  assert.equal(taken.position, start + 1);
  assert.equal(await watch.opened, start, 'still where it started');
  watch.close();
  await db.close();
});

test('after: resumes from the memtables, across a reopen; a gap once they were written to tables', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ppdb-watch-'));
  try {
    let db = await open('resume', { storage: 'fs', path: dir });
    await db.put('a', '1');
    const first = await nextChanges(db.watch({ after: 0 }), 1);
    const mark = first[0].sequence;
    await db.batch([
      { type: 'put', key: 'b', value: '2' },
      { type: 'del', key: 'a' },
    ]);
    await db.put('c', '3');
    await db.close();
    // Reopened: recovery replays the log into the memtable, which answers `after`.
    db = await open('resume', { storage: 'fs', path: dir });
    const resumed = db.watch({ after: mark });
    const got = await nextChanges(resumed, 3);
    assert.deepEqual(
      got.map(({ type, key, sequence }) => [type, key, sequence]),
      [
        ['put', 'b', mark + 1],
        ['del', 'a', mark + 2],
        ['put', 'c', mark + 3],
      ],
    );
    // And then live, with nothing repeated.
    await db.put('d', '4');
    assert.deepEqual((await nextChanges(resumed, 1)).map((c) => [c.key, c.sequence]), [['d', mark + 4]]);
    resumed.close();
    // Ahead of the store (changes it lost): a gap, then live.
    const ahead = db.watch({ after: mark + 100 });
    await db.put('e', '5');
    const [gap, live] = await nextChanges(ahead, 2);
    assert.deepEqual(gap, { type: 'gap', sequence: mark + 4 });
    assert.equal(live.key, 'e');
    ahead.close();
    // Written to tables: the store cannot list them any more.
    await db.compact();
    const late = db.watch({ after: mark });
    const [reported] = await nextChanges(late, 1);
    assert.equal(reported.type, 'gap');
    assert.equal(reported.sequence, mark + 5);
    late.close();
    await db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('worker_threads sharing a store: a watch sees the writes of every thread, once each, in order, batches whole', async () => {
  const { Worker } = await import('node:worker_threads');
  const WORKERS = 3;
  const COUNT = 1000;
  const db = await open('watch-threads', { storage: 'memory', threads: true });
  const watch = db.watch({ keyEncoding: 'utf8' });
  const token = db.share();
  // A watcher in a worker too, for this thread's writes.
  const watcher = new Worker(new URL('./fixtures/watcher-worker.mjs', import.meta.url), { workerData: { token, prefix: 'main-', count: 200 } });
  const watched = new Promise((resolve, reject) => {
    watcher.on('message', (m) => m.changes && resolve(m.changes));
    watcher.once('error', reject);
  });
  await new Promise((resolve) => watcher.once('message', resolve)); // watching
  const writers = Array.from(
    { length: WORKERS },
    (_, index) =>
      new Promise((resolve, reject) => {
        const worker = new Worker(new URL('./fixtures/writer-worker.mjs', import.meta.url), { workerData: { token, index, count: COUNT } });
        worker.once('message', resolve);
        worker.once('error', reject);
      }),
  );
  for (let i = 0; i < 200; i++) await db.put(`main-${String(i).padStart(4, '0')}`, 'm');
  await Promise.all(writers);
  const total = WORKERS * COUNT + 200;
  const changes = await nextChanges(watch, total, 20_000);
  const first = changes[0].sequence;
  changes.forEach((change, i) => assert.equal(change.sequence, first + i, 'consecutive: none missed, none twice'));
  assert.equal(new Set(changes.map((c) => c.key)).size, total);
  // The writers write batches of 10 of their own keys: each arrives whole, in a row.
  for (let i = 0; i < changes.length; ) {
    const key = changes[i].key;
    if (key.startsWith('main-')) {
      i++;
      continue;
    }
    const writer = key.slice(0, key.indexOf('-'));
    const run = changes.slice(i, i + 10).map((c) => c.key);
    assert.ok(run.every((k) => k.startsWith(`${writer}-`)), `a batch of ${writer} split: ${run}`);
    i += 10;
  }
  const inWorker = await watched;
  assert.deepEqual(
    inWorker.map((c) => c.key),
    Array.from({ length: 200 }, (_, i) => `main-${String(i).padStart(4, '0')}`),
  );
  watch.close();
  await db.close();
});

test('a writer thread terminated mid-stream: the watch still gets every change it committed, once, in order', async () => {
  const { Worker } = await import('node:worker_threads');
  const db = await open('watch-dying', { storage: 'memory', threads: true, stallTimeout: 500 });
  const watch = db.watch();
  const token = db.share();
  const worker = new Worker(new URL('./fixtures/writer-worker.mjs', import.meta.url), { workerData: { token, index: 9, count: 1_000_000 } });
  await new Promise((resolve) => setTimeout(resolve, 150));
  await worker.terminate();
  // The thread may have died between committing a batch and telling it: the watch
  // reads what it did not hear of back from the store (after HOLE_WAIT_MS).
  let last;
  try {
    await db.put('after-the-writer', 'x');
    last = 'after-the-writer';
  } catch (err) {
    // Killed inside a write, the store refuses writes after stallTimeout (tests/js/dying-thread.test.mjs).
    assert.ok(err instanceof PpdbError, String(err));
  }
  const { sequence: end } = await db.stats();
  const changes = [];
  const timer = setTimeout(() => watch.close(), 10_000);
  for await (const change of watch) {
    changes.push(change);
    if (change.sequence >= end) break;
  }
  clearTimeout(timer);
  assert.ok(changes.length > 10, `the writer wrote (${changes.length} changes)`);
  assert.ok(changes.every((c) => c.type !== 'gap'), 'the store listed what the watch missed');
  changes.forEach((change, i) => assert.equal(change.sequence, changes[0].sequence + i));
  if (last) assert.equal(changes.at(-1).key, last);
  await db.close();
});

test('close() racing watches: every watch ends (done, or CLOSED), none hangs, and later ones are refused', async () => {
  for (let round = 0; round < 20; round++) {
    const db = await open(`watch-race-${round}`, { storage: 'memory', threads: round % 2 === 0 });
    const watches = [db.watch(), db.watch({ prefix: 'a' })];
    const writing = db.put('a', String(round)).catch((err) => err);
    const closing = round % 3 === 0 ? db.close() : Promise.resolve().then(() => db.close());
    watches.push((() => { try { return db.watch(); } catch (err) { return err; } })());
    const ends = await Promise.all(
      watches.map(async (watch) => {
        if (watch instanceof Error) return watch.code;
        const timer = setTimeout(() => watch.close(), 5000);
        try {
          for (;;) {
            const step = await watch.next();
            if (step.done) return 'done';
          }
        } catch (err) {
          assert.ok(err instanceof PpdbError, String(err));
          return err.code;
        } finally {
          clearTimeout(timer);
        }
      }),
    );
    await closing;
    const wrote = await writing;
    assert.ok(wrote === undefined || wrote.code === 'CLOSED', String(wrote));
    for (const end of ends) assert.ok(end === 'done' || end === 'CLOSED', `round ${round}: ${ends}`);
    assert.throws(() => db.watch(), (err) => err.code === 'CLOSED');
  }
});
