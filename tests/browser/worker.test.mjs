// The ppdb API inside dedicated module workers, and one store shared by the page and its workers.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launch, openPage, ppdbLoaded, repoRoot, serve, SHARED_MEMORY, TIMEOUT } from './harness.mjs';

const WORKERS = 4;
const N = 2000;

let server, browser, page;

before(async () => {
  server = await serve({ root: repoRoot, port: 0 });
  browser = await launch();
  page = await openPage(browser.context, server.url + 'tests/browser/fixtures/api.html');
  await ppdbLoaded(page);
  // window.spawn() starts the fixture worker and resolves once it listens;
  // window.call(worker, message) resolves with its answer or rejects with its error.
  await page.evaluate(() => {
    const answer = (worker) =>
      new Promise((resolve, reject) => {
        worker.onmessage = ({ data }) =>
          data.type === 'error' ? reject(new Error(`in worker: ${data.error}`)) : resolve(data);
        // A module that fails to load fires a plain Event without a message.
        worker.onerror = (event) => reject(new Error(`worker error: ${event.message ?? 'the worker script failed to load'}`));
      });
    window.spawn = async () => {
      const worker = new Worker('/tests/browser/fixtures/worker.mjs', { type: 'module' });
      await answer(worker);
      return worker;
    };
    window.call = async (worker, message) => {
      const reply = answer(worker);
      worker.postMessage(message);
      return (await reply).result;
    };
  });
});

after(async () => {
  await browser?.close();
  await server?.close();
});

test('put, get, del and iterator work inside a dedicated module worker', { timeout: TIMEOUT }, async () => {
  const got = await page.evaluate(async () => {
    const worker = await spawn();
    try {
      return await call(worker, { cmd: 'selftest' });
    } finally {
      worker.terminate();
    }
  });
  assert.deepEqual(got, {
    isolated: true,
    flavour: SHARED_MEMORY ? 'threaded' : 'single',
    a: '1',
    c: 'missing',
    entries: [['a', '1'], ['b', '2']],
  });
});

test(`${WORKERS} workers attached to a shared store each write ${N} keys and the page sees them all (without shared memory, share() is UNSUPPORTED)`, { timeout: 2 * TIMEOUT }, async () => {
  if (!SHARED_MEMORY) {
    // WebKitGTK: the single build, whose stores cannot be shared; the store goes on.
    const got = await page.evaluate(async () => {
      const db = await ppdb.open('unshared', { storage: 'memory' });
      await db.put('k', 'v');
      let code;
      try {
        db.share();
      } catch (err) {
        code = err.code;
      }
      const value = await db.get('k');
      await db.close();
      return { flavour: db.flavour, code, value };
    });
    assert.deepEqual(got, { flavour: 'single', code: 'UNSUPPORTED', value: 'v' });
    return;
  }
  const got = await page.evaluate(async ({ workers: count, n }) => {
    const db = await ppdb.open('shared', { storage: 'memory' });
    await db.put('main-before', 'written by the page before sharing');
    const token = db.share();

    const workers = await Promise.all(Array.from({ length: count }, () => spawn()));
    let replies;
    try {
      replies = await Promise.all(workers.map((worker, id) => call(worker, { cmd: 'fill', token, id, n, readKey: 'main-before' })));
    } finally {
      for (const worker of workers) worker.terminate();
    }

    const seen = new Set();
    const wrong = [];
    let total = 0;
    let previous = '';
    let sorted = true;
    for await (const [key, value] of db.iterator()) {
      total++;
      if (key <= previous) sorted = false; // ASCII keys: string order is byte order
      previous = key;
      const match = /^w(\d+)-(\d+)$/.exec(key);
      if (!match) continue;
      seen.add(key);
      if (value !== `value ${match[1]}/${match[2]}`) wrong.push([key, value]);
    }
    const missing = [];
    for (let id = 0; id < count; id++) {
      for (let i = 0; i < n; i++) if (!seen.has(`w${id}-${i}`)) missing.push(`w${id}-${i}`);
    }
    const result = {
      written: seen.size,
      total,
      sorted,
      wrong: wrong.slice(0, 5),
      missing: { count: missing.length, first: missing.slice(0, 5) },
      reads: replies.map((reply) => reply.read),
      lastKey: await db.get(`w${count - 1}-${n - 1}`),
    };
    await db.close();
    return result;
  }, { workers: WORKERS, n: N });

  assert.deepEqual(got.missing, { count: 0, first: [] }, 'keys written by workers but not found by the page');
  assert.deepEqual(got.wrong, [], 'keys with the wrong value');
  assert.equal(got.written, WORKERS * N);
  assert.equal(got.total, WORKERS * N + 1, 'all worker keys plus the page\'s own key');
  assert.equal(got.sorted, true, 'iterator yields keys in strictly increasing order');
  assert.deepEqual(got.reads, Array(WORKERS).fill('written by the page before sharing'));
  assert.equal(got.lastKey, `value ${WORKERS - 1}/${N - 1}`);
});
