// A store a page opened with `threads: true` (its files in the package's worker, its memory
// the page's) and shared with workers through share(), attacked by stopping the package's
// worker while the workers write: the page opens the store again in a new worker and the
// attached workers follow it there (they do not take the files the page waits for); once
// the page closes the store, or the store was `exclusive` (nothing opens it again), an
// attached worker takes the files over. Nothing acknowledged is lost.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ENGINE, openPage, openWorkersPage, ppdbLoaded, SHARED_MEMORY } from './harness.mjs';

/** OPFS with sync access handles and shared memory: Chromium and Firefox. */
const RUNS = SHARED_MEMORY && ENGINE !== 'webkit';

let server, browser, page, setup;

before(async () => {
  if (!RUNS) return;
  // The proxy fixture records the workers the package starts (`workers`) and posts past it (`rawPost`).
  setup = await openWorkersPage('proxy.html');
  ({ server, browser, page } = setup);
});

after(() => setup?.close());

for (const exclusive of [false, true]) {
  // Shared across tabs, the page opens the store again each time.
  const stops = exclusive ? 1 : 3;
  const what = exclusive
    ? "an exclusive store is not opened again: the page's calls fail with INTERNAL, and an attached worker takes the files over at once"
    : `${stops} times over, the page opens the store again in a new worker and both attached workers follow it there (neither takes the files over), then, once the page closes the store, one of them takes the files over`;
  test(`a page's threads: true OPFS store shared with two workers writing synced batches, its worker stopped: ${what}; every worker writes on, and every acknowledged batch is there`, { skip: !RUNS && 'needs OPFS sync access handles and shared memory', timeout: 90_000 }, async () => {
    const result = await page.evaluate(async ({ exclusive, stops }) => {
      const settled = (promise) => promise.then((value) => ({ value }), (err) => ({ error: err?.code ?? String(err) }));
      const problems = [];
      const acked = new Int32Array(new SharedArrayBuffer(8));
      /** Waits until both writers acknowledged 5 more batches (15 s at most). */
      const writersGoOn = async (when) => {
        for (const stall of await stalled(acked, [0, 1])) problems.push(`${when}: ${stall}`);
      };
      const owners = async () => Promise.all(writers.map((worker) => call(worker, { cmd: 'owns' })));

      const name = `page-store-${exclusive ? 'exclusive' : 'shared'}`;
      await ppdb.destroy(name, { storage: 'opfs' });
      const db = await ppdb.open(name, { storage: 'opfs', threads: true, exclusive });
      await db.put('page', 'before');
      const token = db.share();
      const writers = [];
      for (let w = 0; w < 2; w++) {
        const worker = await spawn();
        await call(worker, { cmd: 'attach', token });
        writers.push(worker);
      }
      await Promise.all(writers.map((worker, w) => call(worker, { cmd: 'write', writer: w, acked, wait: false, retry: true })));
      await sleep(200 + Math.random() * 200);

      // The package's worker stops (not a port: it throws, uncaught), `stops` times over.
      const out = { page: [] };
      for (let stop = 0; stop < stops; stop++) {
        const worker = workers.findLast((w) => w.url.includes('proxy-worker'));
        const stopped = new Promise((resolve) => worker.addEventListener('error', resolve, { once: true }));
        rawPost(worker, { not: 'a port' });
        await stopped;
        out.page.push(await settled(db.get('page')), await settled(db.put('page', `after ${stop}`)));
        await writersGoOn(`after stop ${stop}`);
        for (const [w, writer] of writers.entries()) {
          const { missing } = await call(writer, { cmd: 'seesAcked', writers: [0, 1], acked });
          if (missing.length) problems.push(`after stop ${stop}: worker ${w} does not see ${JSON.stringify(missing)}`);
        }
      }
      out.afterStop = (await owners()).map(({ owns, changes }) => ({ owns, changes: { ...changes } }));
      if (!exclusive) {
        const [a, b] = [acked[0] - 1, acked[1] - 1];
        const seen = await db.getMany([`w0-${a}-a`, `w1-${b}-b`]);
        if (seen[0] !== `0/${a}` || seen[1] !== `1/${b}`) problems.push(`the page does not see the workers' writes: ${seen}`);
        if ((await call(writers[0], { cmd: 'get', key: 'page' })).value !== `after ${stops - 1}`) problems.push("worker 0 does not see the page's write");
        // The page lets the store go: a worker takes the files over, and both write on.
        await db.close();
        await writersGoOn('after the page closed the store');
        out.afterClose = (await owners()).map(({ owns }) => owns);
      }
      for (const writer of writers) writer.terminate();
      const final = [...acked];
      if (exclusive) await db.close().catch(() => {});
      // (A terminated worker's Web Locks go a little later in Firefox: the open waits for them.)
      const again = await ppdb.open(name, { storage: 'opfs', exclusive: true, lockTimeout: 10_000 });
      problems.push(...(await missingBatches(again, acked, [0, 1])));
      out.reopened = await again.get('page');
      await again.close();
      await ppdb.destroy(name, { storage: 'opfs' });
      return { problems, ...out, acked: final };
    }, { exclusive, stops });
    assert.deepEqual(result.problems, []);
    assert.ok(result.acked.every((n) => n > 10), `acknowledged: ${result.acked}`);
    if (exclusive) {
      // Nothing opens the store again on the page; one worker took the files, the other follows it.
      assert.deepEqual(result.page.map((r) => r.error), ['INTERNAL', 'INTERNAL']);
      assert.deepEqual(result.afterStop.map((w) => w.owns).sort(), [false, true]);
      assert.deepEqual(result.afterStop.map((w) => w.changes.seen), [1, 1]);
      assert.equal(result.reopened, 'before');
    } else {
      // Each time the page reads its last write and writes again.
      const page = Array.from({ length: stops }, (_, stop) => [{ value: stop ? `after ${stop - 1}` : 'before' }, { value: undefined }]).flat();
      assert.deepEqual(result.page, page);
      // Both follow each new worker of the page: a change of owner each time, neither took the files.
      assert.deepEqual(result.afterStop, [
        { owns: false, changes: { seen: stops, here: 0 } },
        { owns: false, changes: { seen: stops, here: 0 } },
      ]);
      assert.deepEqual(result.afterClose.sort(), [false, true]);
      assert.equal(result.reopened, `after ${stops - 1}`);
    }
  });
}

test("a page's threads: true OPFS store shared with workers and with a second tab, its worker stopped: the page keeps the store (the second tab, first in line for it, does not take it), opens it again, and the workers follow it; the second tab attaches again and reads and writes; every acknowledged batch is there", { skip: !RUNS && 'needs OPFS sync access handles and shared memory', timeout: 90_000 }, async () => {
  const second = await openPage(browser.context, server.url + 'tests/browser/fixtures/proxy.html');
  try {
    await ppdbLoaded(second);
    const name = 'page-store-tabs';
    await page.evaluate(async (name) => {
      await ppdb.destroy(name, { storage: 'opfs' });
      window.tabsDb = await ppdb.open(name, { storage: 'opfs', threads: true });
      window.tabsAcked = new Int32Array(new SharedArrayBuffer(8));
      window.tabsWriters = [];
      for (let w = 0; w < 2; w++) {
        const worker = await spawn();
        await call(worker, { cmd: 'attach', token: tabsDb.share() });
        tabsWriters.push(worker);
      }
      await Promise.all(tabsWriters.map((worker, w) => call(worker, { cmd: 'write', writer: w, acked: tabsAcked, wait: false, retry: true })));
    }, name);
    // The second tab forwards to the page, and waits in line for the store.
    const secondRole = await second.evaluate(async (name) => {
      window.db = await ppdb.open(name, { storage: 'opfs', threads: true });
      await db.put('second', 'before');
      return db.role;
    }, name);
    const result = await page.evaluate(async () => {
      const problems = [];
      const acked = tabsAcked;
      const worker = workers.findLast((w) => w.url.includes('proxy-worker'));
      const stopped = new Promise((resolve) => worker.addEventListener('error', resolve, { once: true }));
      rawPost(worker, { not: 'a port' });
      await stopped;
      problems.push(...(await stalled(acked, [0, 1])));
      const owners = await Promise.all(tabsWriters.map((w) => call(w, { cmd: 'owns' })));
      return { problems, role: tabsDb.role, second: await tabsDb.get('second'), owners: owners.map(({ owns, changes }) => ({ owns, seen: changes.seen })), acked: [...acked] };
    });
    // The second tab's calls go to the page's store again (one in flight as it attaches again fails with OWNER_CHANGED: made again).
    const fromSecond = await second.evaluate(async (acked) => {
      const again = (fn) => fn().catch((err) => (err.code === 'OWNER_CHANGED' ? fn() : Promise.reject(err)));
      await again(() => db.put('second', 'after'));
      const seen = await again(() => db.getMany([`w0-${acked[0] - 1}-a`, `w1-${acked[1] - 1}-b`]));
      return { role: db.role, seen };
    }, result.acked);
    const secondLast = await page.evaluate(async () => {
      for (const worker of tabsWriters) worker.terminate();
      return tabsDb.get('second');
    });
    await second.evaluate(() => db.close());
    const missing = await page.evaluate(async (name) => {
      await tabsDb.close();
      const again = await ppdb.open(name, { storage: 'opfs', exclusive: true, lockTimeout: 10_000 });
      const missing = await missingBatches(again, tabsAcked, [0, 1]);
      await again.close();
      await ppdb.destroy(name, { storage: 'opfs' });
      return missing;
    }, name);
    assert.equal(secondRole, 'client');
    assert.deepEqual(result.problems, []);
    assert.equal(result.role, 'owner');
    assert.equal(result.second, 'before');
    assert.deepEqual(result.owners, [{ owns: false, seen: 1 }, { owns: false, seen: 1 }]);
    const [a, b] = result.acked;
    assert.deepEqual(fromSecond, { role: 'client', seen: [`0/${a - 1}`, `1/${b - 1}`] });
    assert.equal(secondLast, 'after');
    assert.deepEqual(missing, []);
  } finally {
    await second.close();
  }
});
