// Data safety at the edges of browser storage, in Chromium: IndexedDB under a quota that
// runs out (CDP Storage.overrideQuotaForOrigin), an OPFS open that fails half way, and an
// OPFS store on an origin with almost no quota left.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { installStorageWorkerHelpers, launch, openPage, ppdbLoaded, repoRoot, serve, TIMEOUT } from './harness.mjs';

let browser;
let server;
let page;
let cdp;
let origin;
const at = (path) => new URL(path, server.url).href;

before(async () => {
  server = await serve({ root: repoRoot, port: 0 });
  browser = await launch();
  page = await openPage(browser.context, at('/tests/browser/fixtures/api.html'));
  await ppdbLoaded(page);
  cdp = await browser.context.newCDPSession(page);
  origin = new URL(server.url).origin;
  await installHelpers();
});

/** Helpers in the page (again after a reload): start a storage worker, ask it a command. */
async function installHelpers() {
  await installStorageWorkerHelpers(page);
  await page.evaluate(() => {
    window.askResult = async (worker, command) => {
      const answer = await ask(worker, command);
      return answer.error ? { error: answer.error } : answer.result;
    };
  });
}

after(async () => {
  await browser?.close();
  await server?.close();
});

/** Limits the origin's quota to `bytes` (undefined: back to the browser's own). */
const quota = (bytes) => cdp.send('Storage.overrideQuotaForOrigin', bytes === undefined ? { origin } : { origin, quotaSize: bytes });

describe('IndexedDB', () => {
  test('after QUOTA_EXCEEDED the store refuses writes, and a reload finds every acknowledged write', { timeout: 60_000 }, async () => {
    await quota(2_000_000);
    const written = await page.evaluate(async () => {
      const db = await ppdb.open('idb-quota', { storage: 'indexeddb', durability: 'sync' });
      const acked = [];
      let failure = null;
      const after = [];
      for (let i = 0; i < 1000 && after.length < 20; i++) {
        try {
          await db.put(`k${String(i).padStart(4, '0')}`, 'x'.repeat(20_000));
          if (failure) after.push('resolved');
          else acked.push(i);
        } catch (err) {
          if (failure) after.push(err.code);
          else failure = { code: err.code, isPpdbError: err instanceof ppdb.PpdbError, message: err.message };
        }
      }
      const reads = await db.get(`k${String(acked.at(-1)).padStart(4, '0')}`);
      await db.close();
      return { acked, failure, after, readable: reads?.length };
    });
    await quota(undefined);
    assert.ok(written.acked.length > 10, `${written.acked.length} writes fit`);
    assert.equal(written.failure?.code, 'QUOTA_EXCEEDED', JSON.stringify(written.failure));
    assert.ok(written.failure.isPpdbError);
    assert.deepEqual([...new Set(written.after)], ['QUOTA_EXCEEDED'], 'every later write is refused, with the same code');
    assert.equal(written.readable, 20_000, 'the store stays readable');
    await page.reload();
    await ppdbLoaded(page);
    await installHelpers();
    const reopened = await page.evaluate(async () => {
      const db = await ppdb.open('idb-quota', { storage: 'indexeddb' });
      const keys = await db.keys().all();
      const recovery = db.recovery;
      await db.put('after-reopen', 'writes again');
      await db.close();
      await ppdb.destroy('idb-quota', { storage: 'indexeddb' });
      return { keys, recovery };
    });
    const expected = written.acked.map((i) => `k${String(i).padStart(4, '0')}`);
    assert.deepEqual(reopened.keys, expected, 'exactly the acknowledged writes');
    assert.deepEqual(reopened.recovery.dropped, []);
  });
});

describe('OPFS', () => {
  test('an open that fails half way gives back every handle it took, so a retry succeeds', { timeout: TIMEOUT }, async () => {
    const result = await page.evaluate(async () => {
      const filler = await startWorker();
      await askResult(filler, { cmd: 'fill', name: 'opfs-halfway', storage: 'opfs', count: 3000 });
      filler.terminate();
      const holder = await startWorker();
      const grabbed = await askResult(holder, { cmd: 'grab-file', name: 'opfs-halfway' });
      const opener = await startWorker();
      const first = await askResult(opener, { cmd: 'try-open', name: 'opfs-halfway', storage: 'opfs' });
      await askResult(holder, { cmd: 'release-file' });
      const retry = await askResult(opener, { cmd: 'try-open', name: 'opfs-halfway', storage: 'opfs' });
      const fresh = await startWorker();
      const other = await askResult(fresh, { cmd: 'try-open', name: 'opfs-halfway', storage: 'opfs' });
      for (const w of [holder, opener, fresh]) w.terminate();
      return { grabbed, first, retry, other };
    });
    assert.equal(result.grabbed, 'grabbed');
    assert.equal(result.first.opened, false);
    assert.equal(result.first.code, 'LOCKED', result.first.message);
    assert.deepEqual(result.retry, { opened: true, keys: 3000 }, 'the same worker opens it once the file is free');
    assert.deepEqual(result.other, { opened: true, keys: 3000 }, 'and so does another worker');
  });

  test('a store opens and reads on an origin with almost no quota left', { timeout: TIMEOUT }, async () => {
    const filled = await page.evaluate(async () => {
      const worker = await startWorker();
      await askResult(worker, { cmd: 'fill', name: 'opfs-full', storage: 'opfs', count: 2000 });
      worker.terminate();
      return (await navigator.storage.estimate()).usage;
    });
    await quota(filled + 64 * 1024);
    const reopened = await page.evaluate(async () => {
      const worker = await startWorker();
      const result = await askResult(worker, { cmd: 'try-open', name: 'opfs-full', storage: 'opfs' });
      worker.terminate();
      return result;
    });
    await quota(undefined);
    assert.deepEqual(reopened, { opened: true, keys: 2000 }, JSON.stringify(reopened));
  });
});
