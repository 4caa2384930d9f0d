// The ppdb API on a page's main thread, on a cross-origin isolated page (threaded flavour) and on a
// page that is not isolated (single flavour).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ENGINE, SHARED_MEMORY, launch, openPage, ppdbLoaded, repoRoot, serve, TIMEOUT } from './harness.mjs';

/**
 * Per engine (the README's table of engines): what `storage: 'auto'` opens and on which
 * build, on the page and in a dedicated worker; what `storage: 'opfs'` gives ('opens' or the
 * error's code). WebKitGTK (tests/browser/webkit.mjs) has OPFS, but its workers cannot make
 * sync access handles.
 */
const AUTO = {
  chromium: {
    page: { storage: 'opfs', flavour: 'single', opfs: 'opens' },
    worker: { storage: 'opfs', flavour: 'single', opfs: 'opens' },
  },
  firefox: {
    page: { storage: 'opfs', flavour: 'single', opfs: 'opens' },
    worker: { storage: 'opfs', flavour: 'single', opfs: 'opens' },
  },
  webkit: {
    page: { storage: 'indexeddb', flavour: 'single', opfs: 'UNSUPPORTED' },
    worker: { storage: 'indexeddb', flavour: 'single', opfs: 'UNSUPPORTED' },
  },
};

const FIXTURE = 'tests/browser/fixtures/api.html';

/**
 * In `page` and in a dedicated worker it starts: what `open(name)` opens ('auto') and on
 * which build, and what `open(name, { storage: 'opfs' })` gives ('opens' or the error code).
 */
const storagesHere = (page) =>
  page.evaluate(async () => {
    const probe = async (ppdb, name) => {
      const db = await ppdb.open(name);
      const found = { storage: db.storage, flavour: db.flavour };
      await db.put('k', 'v');
      found.readBack = await db.get('k');
      await db.close();
      await ppdb.destroy(name);
      found.opfs = await ppdb.open(`${name}-opfs`, { storage: 'opfs' }).then(
        async (opfs) => {
          await opfs.close();
          await ppdb.destroy(`${name}-opfs`, { storage: 'opfs' });
          return 'opens';
        },
        (err) => err.code,
      );
      return found;
    };
    const onPage = await probe(window.ppdb, 'auto-page');
    const source = `self.onmessage = async ({ data }) => {
      try { const ppdb = await import(data.url); postMessage(await (${probe})(ppdb, 'auto-worker')); }
      catch (err) { postMessage({ error: String(err) }); }
    };`;
    const worker = new Worker(URL.createObjectURL(new Blob([source], { type: 'text/javascript' })), { type: 'module' });
    const inWorker = await new Promise((resolve) => {
      worker.onmessage = ({ data }) => resolve(data);
      worker.postMessage({ url: new URL('/pkg/index.js', location.href).href });
    });
    worker.terminate();
    return { page: onPage, worker: inWorker };
  });

// Installs `window.outcome(promise)`: resolves to { ok, value } or { ok: false, code, name,
// isPpdbError, message } so rejections can be compared in Node.
async function installOutcome(page) {
  await page.evaluate(() => {
    window.outcome = async (promise) => {
      try {
        return { ok: true, value: await promise };
      } catch (err) {
        return {
          ok: false,
          code: err?.code,
          name: err?.name,
          isPpdbError: err instanceof window.ppdb.PpdbError,
          message: String(err?.message ?? err),
        };
      }
    };
  });
}

describe('on a cross-origin isolated page', () => {
  let server, browser, page;

  before(async () => {
    server = await serve({ root: repoRoot, port: 0 });
    browser = await launch();
    page = await openPage(browser.context, server.url + FIXTURE);
    await ppdbLoaded(page);
    await installOutcome(page);
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  test('the page is cross-origin isolated and open() picks the threaded flavour where shared memory exists', { timeout: TIMEOUT }, async () => {
    const got = await page.evaluate(async () => {
      const db = await ppdb.open('flavour', { storage: 'memory' });
      const flavour = db.flavour;
      await db.close();
      return { isolated: globalThis.crossOriginIsolated, flavour };
    });
    assert.deepEqual(got, { isolated: true, flavour: SHARED_MEMORY ? 'threaded' : 'single' });
  });

  test('strings of every short length, ASCII or not, round-trip through put, batch, get, getMany and scans (the short-string loops)', { timeout: TIMEOUT }, async () => {
    const got = await page.evaluate(async () => {
      const stores = [await ppdb.open('short-strings', { storage: 'memory' }), await ppdb.open('short-strings-single', { storage: 'memory', threads: false })];
      const texts = [];
      for (const piece of ['a', 'é', '世', '🚀', '\x7f', '\u0080', '\ufeff']) {
        for (const length of [0, 1, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 127, 128, 129]) {
          const text = 'x'.repeat(Math.max(0, length - piece.length)) + (length > 0 ? piece : '');
          texts.push(text);
        }
      }
      const failures = [];
      for (const db of stores) {
        for (const [i, text] of texts.entries()) {
          const key = `p${String(i).padStart(3, '0')}${text}`;
          await db.put(key, text);
          if ((await db.get(key)) !== text) failures.push(['put/get', db.flavour, i]);
        }
        await db.batch(texts.map((text, i) => ({ type: 'put', key: `b${String(i).padStart(3, '0')}${text}`, value: text })));
        const many = await db.getMany(texts.map((text, i) => `b${String(i).padStart(3, '0')}${text}`));
        many.forEach((value, i) => value !== texts[i] && failures.push(['batch/getMany', db.flavour, i]));
        let i = 0;
        for await (const [key, value] of db.iterator({ prefix: 'b' })) {
          if (key !== `b${String(i).padStart(3, '0')}${texts[i]}` || value !== texts[i]) failures.push(['scan', db.flavour, i]);
          i++;
        }
        if (i !== texts.length) failures.push(['scan count', db.flavour, i]);
        // Bytes that are not UTF-8 are still refused as text.
        await db.put('raw', new Uint8Array([0x61, 0xff]), { valueEncoding: 'bytes' });
        const refused = await db.get('raw').then(() => 'read', (err) => err.code);
        if (refused !== 'INVALID_ARGUMENT') failures.push(['invalid utf-8', db.flavour, refused]);
        await db.close();
      }
      return { failures, count: texts.length };
    });
    assert.deepEqual(got.failures, []);
    assert.equal(got.count, 105);
  });

  test('values read one after another come back exact at every size, as text, JSON and bytes (in shared memory: through the one buffer gets decode from, and past it)', { timeout: TIMEOUT }, async () => {
    const got = await page.evaluate(async () => {
      const stores = [await ppdb.open('value-sizes', { storage: 'memory' }), await ppdb.open('value-sizes-single', { storage: 'memory', threads: false })];
      const lengths = [0, 100, 5000, 65535, 65536, 65537, 300000];
      const text = (length, i) => Array.from({ length }, (_, j) => (j % 977 === 5 ? 'é' : String.fromCharCode(97 + ((i + j) % 26)))).join('').slice(0, length);
      const failures = [];
      for (const db of stores) {
        const texts = lengths.map(text);
        await db.batch(texts.map((value, i) => ({ type: 'put', key: `t${i}`, value })));
        await db.batch(texts.map((value, i) => ({ type: 'put', key: `j${i}`, value: { i, value } })), { valueEncoding: 'json' });
        // Long and short in turn, so a later read would show through an earlier one's bytes.
        const order = [6, 0, 5, 1, 4, 2, 3, 6, 1];
        const read = [];
        for (const i of order) read.push([i, await db.get(`t${i}`), await db.get(`j${i}`, { valueEncoding: 'json' }), await db.get(`t${i}`, { valueEncoding: 'bytes' })]);
        const encoder = new TextEncoder();
        for (const [i, value, json, bytes] of read) {
          if (value !== texts[i]) failures.push(['text', db.flavour, lengths[i]]);
          if (json?.i !== i || json?.value !== texts[i]) failures.push(['json', db.flavour, lengths[i]]);
          const expected = encoder.encode(texts[i]);
          if (bytes.length !== expected.length || bytes.some((b, k) => b !== expected[k])) failures.push(['bytes', db.flavour, lengths[i]]);
        }
        await db.close();
      }
      return { failures, flavours: stores.map((db) => db.flavour) };
    });
    assert.deepEqual(got.failures, []);
    assert.deepEqual(got.flavours, [SHARED_MEMORY ? 'threaded' : 'single', 'single']);
  });

  test('a lone surrogate in a key or value is refused with INVALID_ARGUMENT on the short-string path and the long one, and nothing is written', { timeout: TIMEOUT }, async () => {
    const got = await page.evaluate(async () => {
      const stores = [await ppdb.open('lone-surrogates', { storage: 'memory' }), await ppdb.open('lone-surrogates-single', { storage: 'memory', threads: false })];
      const outcomes = [];
      const outcome = (promise) =>
        promise.then(
          () => 'accepted',
          (err) => (err instanceof ppdb.PpdbError ? err.code : `not a PpdbError: ${err}`),
        );
      for (const db of stores) {
        // 1 and 100 units: written by the ASCII loop's path; 200: by encodeInto's.
        for (const length of [1, 100, 200]) {
          const bad = 'a'.repeat(length - 1) + '\uD800';
          outcomes.push(
            [db.flavour, length, 'put key', await outcome(db.put(bad, 'v'))],
            [db.flavour, length, 'put value', await outcome(db.put('k', bad))],
            [db.flavour, length, 'get key', await outcome(db.get(bad))],
            [db.flavour, length, 'del key', await outcome(db.del(bad))],
          );
        }
        const keys = [];
        for await (const key of db.keys()) keys.push(key);
        outcomes.push([db.flavour, 'keys after', keys.length]);
        await db.close();
      }
      return outcomes;
    });
    for (const row of got) {
      if (row[1] === 'keys after') assert.equal(row[2], 0, `${row[0]}: a refused write left a key`);
      else assert.equal(row[3], 'INVALID_ARGUMENT', row.join(' '));
    }
    assert.equal(got.length, 2 * (3 * 4 + 1));
  });

  test('put, get and del round-trip string keys and values', { timeout: TIMEOUT }, async () => {
    const got = await page.evaluate(async () => {
      const db = await ppdb.open('strings', { storage: 'memory' });
      await db.put('greeting', 'hello');
      await db.put('unicode', 'grüße, 世界 🚀');
      const first = await db.get('greeting');
      const unicode = await db.get('unicode');
      await db.put('greeting', 'bye');
      const overwritten = await db.get('greeting');
      await db.del('greeting');
      const deleted = await db.get('greeting');
      const missing = await db.get('never-written');
      await db.close();
      return { first, unicode, overwritten, deleted: deleted === undefined, missing: missing === undefined };
    });
    assert.deepEqual(got, {
      first: 'hello',
      unicode: 'grüße, 世界 🚀',
      overwritten: 'bye',
      deleted: true,
      missing: true,
    });
  });

  test('Uint8Array keys and values round-trip with the bytes encodings', { timeout: TIMEOUT }, async () => {
    const got = await page.evaluate(async () => {
      const db = await ppdb.open('bytes', { storage: 'memory', keyEncoding: 'bytes', valueEncoding: 'bytes' });
      const key = new Uint8Array([0, 1, 2, 255]);
      const value = new Uint8Array([9, 0, 8, 0, 7, 255]);
      await db.put(key, value);
      const back = await db.get(new Uint8Array([0, 1, 2, 255]));
      const entries = [];
      for await (const [k, v] of db.iterator()) {
        entries.push([k instanceof Uint8Array, Array.from(k), v instanceof Uint8Array, Array.from(v)]);
      }
      await db.close();
      return { isBytes: back instanceof Uint8Array, back: Array.from(back ?? []), entries };
    });
    assert.deepEqual(got, {
      isBytes: true,
      back: [9, 0, 8, 0, 7, 255],
      entries: [[true, [0, 1, 2, 255], true, [9, 0, 8, 0, 7, 255]]],
    });
  });

  test('strings and Uint8Arrays name the same UTF-8 bytes across encodings', { timeout: TIMEOUT }, async () => {
    const got = await page.evaluate(async () => {
      const utf8 = (s) => new TextEncoder().encode(s);
      const db = await ppdb.open('mixed', { storage: 'memory' });
      await db.put(utf8('héllo'), utf8('wörld')); // bytes in, utf8 strings out
      const asString = await db.get('héllo');
      await db.close();

      const raw = await ppdb.open('mixed-bytes', { storage: 'memory', valueEncoding: 'bytes' });
      await raw.put('k', 'é');
      const asBytes = await raw.get(utf8('k'));
      await raw.close();
      return { asString, asBytes: Array.from(asBytes ?? []) };
    });
    assert.deepEqual(got, { asString: 'wörld', asBytes: [0xc3, 0xa9] });
  });

  test('batch applies puts and deletes together', { timeout: TIMEOUT }, async () => {
    const got = await page.evaluate(async () => {
      const db = await ppdb.open('batch', { storage: 'memory' });
      await db.put('old', 'x');
      await db.batch([
        { type: 'put', key: 'a', value: '1' },
        { type: 'put', key: 'b', value: '2' },
        { type: 'del', key: 'old' },
        { type: 'put', key: 'c', value: '3' },
        { type: 'del', key: 'c' },
      ]);
      const entries = [];
      for await (const entry of db.iterator()) entries.push(entry);
      await db.close();
      return entries;
    });
    assert.deepEqual(got, [['a', '1'], ['b', '2']]);
  });

  test('iterator honours gt, gte, lt, lte, prefix, reverse and limit', { timeout: TIMEOUT }, async () => {
    const got = await page.evaluate(async () => {
      const db = await ppdb.open('ranges', { storage: 'memory' });
      // Written out of order: the iterator must sort.
      for (const key of ['c', 'b2', 'a', 'ba', 'd', 'b', 'b1']) await db.put(key, `v:${key}`);
      const ranges = {
        all: {},
        gt: { gt: 'b' },
        gte: { gte: 'b' },
        lt: { lt: 'c' },
        lte: { lte: 'c' },
        between: { gt: 'a', lt: 'c' },
        inclusive: { gte: 'b1', lte: 'ba' },
        prefix: { prefix: 'b' },
        prefixReverse: { prefix: 'b', reverse: true },
        prefixLimit: { prefix: 'b', limit: 2 },
        reverseLimit: { reverse: true, limit: 3 },
        gteLimit: { gte: 'b', limit: 2 },
        reverseBounded: { gte: 'b', lt: 'c', reverse: true },
        noPrefixMatch: { prefix: 'z' },
        pastEnd: { gt: 'd' },
      };
      const out = {};
      for (const [name, options] of Object.entries(ranges)) {
        out[name] = [];
        for await (const [key, value] of db.iterator(options)) {
          if (value !== `v:${key}`) throw new Error(`${name}: ${key} has value ${value}`);
          out[name].push(key);
        }
      }
      await db.close();
      return out;
    });
    assert.deepEqual(got, {
      all: ['a', 'b', 'b1', 'b2', 'ba', 'c', 'd'],
      gt: ['b1', 'b2', 'ba', 'c', 'd'],
      gte: ['b', 'b1', 'b2', 'ba', 'c', 'd'],
      lt: ['a', 'b', 'b1', 'b2', 'ba'],
      lte: ['a', 'b', 'b1', 'b2', 'ba', 'c'],
      between: ['b', 'b1', 'b2', 'ba'],
      inclusive: ['b1', 'b2', 'ba'],
      prefix: ['b', 'b1', 'b2', 'ba'],
      prefixReverse: ['ba', 'b2', 'b1', 'b'],
      prefixLimit: ['b', 'b1'],
      reverseLimit: ['d', 'c', 'ba'],
      gteLimit: ['b', 'b1'],
      reverseBounded: ['ba', 'b2', 'b1', 'b'],
      noPrefixMatch: [],
      pastEnd: [],
    });
  });

  test('keys are ordered by their UTF-8 bytes, not by UTF-16 code units', { timeout: TIMEOUT }, async () => {
    const got = await page.evaluate(async () => {
      const db = await ppdb.open('bytewise', { storage: 'memory' });
      // UTF-16 puts '\u{1D306}' (a surrogate pair, 0xD834...) before '\uFFFF'; UTF-8 puts it after.
      for (const key of ['\u{1D306}', '\uFFFF', 'é', 'z', 'Z']) await db.put(key, '1');
      const keys = [];
      for await (const [key] of db.iterator()) keys.push(key);
      await db.close();
      return keys;
    });
    assert.deepEqual(got, ['Z', 'z', 'é', '\uFFFF', '\u{1D306}']);
  });

  test('the empty key is a key; seek(), has() and Level range precedence work on the page', { timeout: TIMEOUT }, async () => {
    const got = await page.evaluate(async () => {
      const db = await ppdb.open('level-rules', { storage: 'memory' });
      await db.put('', 'empty');
      await db.batch(['a', 'b', 'c', 'd'].map((key) => ({ type: 'put', key, value: key })));
      const it = db.keys();
      const first = (await it.next()).value;
      it.seek('c');
      const afterSeek = await it.all();
      const back = db.keys({ reverse: true });
      back.seek('b!');
      const result = {
        first,
        afterSeek,
        backFromB: await back.all(),
        bytesKey: await db.get(new Uint8Array(0)),
        has: await db.hasMany(['', 'a', 'z']),
        precedence: await db.keys({ gte: 'a', gt: 'b', lte: 'c', lt: 'c' }).all(),
      };
      await db.close();
      return result;
    });
    assert.deepEqual(got, {
      first: '',
      afterSeek: ['c', 'd'],
      backFromB: ['b', 'a', ''],
      bytesKey: 'empty',
      has: [true, true, false],
      precedence: ['a', 'b', 'c'],
    });
  });

  test('calls after close() reject with CLOSED', { timeout: TIMEOUT }, async () => {
    const got = await page.evaluate(async () => {
      const db = await ppdb.open('closed', { storage: 'memory' });
      await db.put('k', 'v');
      await db.close();
      return {
        get: await outcome(db.get('k')),
        put: await outcome(db.put('k', 'w')),
        del: await outcome(db.del('k')),
        batch: await outcome(db.batch([{ type: 'put', key: 'a', value: 'b' }])),
        iterator: await outcome((async () => {
          for await (const entry of db.iterator()) return entry;
        })()),
      };
    });
    for (const [call, result] of Object.entries(got)) {
      assert.equal(result.ok, false, `${call} after close should reject`);
      assert.equal(result.code, 'CLOSED', `${call}: ${result.message}`);
      assert.equal(result.isPpdbError, true, `${call} should reject with a PpdbError`);
    }
  });

  test(`storage 'auto' and the build it runs, on the page and in a dedicated worker (${ENGINE})`, { timeout: TIMEOUT }, async () => {
    const got = await storagesHere(page);
    const { page: onPage, worker } = AUTO[ENGINE];
    assert.deepEqual(got, { page: { ...onPage, readBack: 'v' }, worker: { ...worker, readBack: 'v' } });
  });

  test('open() with persist: true does not wait for a permission prompt, and db.persisted is what the browser says', { timeout: TIMEOUT }, async () => {
    const got = await page.evaluate(async () => {
      const started = performance.now();
      const db = await ppdb.open('persist-asked', { storage: 'indexeddb', exclusive: true, persist: true });
      const took = performance.now() - started;
      const found = { persisted: db.persisted, browser: await navigator.storage.persisted(), quick: took < 5000 };
      await db.put('k', 'v');
      found.readBack = await db.get('k');
      await db.close();
      await ppdb.destroy('persist-asked', { storage: 'indexeddb' });
      return found;
    });
    assert.equal(got.quick, true, 'open() waited for the answer to a permission prompt');
    assert.equal(got.persisted, got.browser);
    assert.equal(got.readBack, 'v');
  });

  test('threads: false gives the single flavour even on an isolated page', { timeout: TIMEOUT }, async () => {
    const got = await page.evaluate(async () => {
      const db = await ppdb.open('x', { storage: 'memory', threads: false });
      await db.put('k', 'single');
      const value = await db.get('k');
      const flavour = db.flavour;
      await db.close();
      return { flavour, value };
    });
    assert.deepEqual(got, { flavour: 'single', value: 'single' });
  });
});

describe('on a page that is not cross-origin isolated', () => {
  let server, browser, page;

  before(async () => {
    server = await serve({ root: repoRoot, port: 0, isolated: false });
    browser = await launch();
    page = await openPage(browser.context, server.url + FIXTURE);
    await ppdbLoaded(page);
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  test('open() picks the single flavour and put/get work', { timeout: TIMEOUT }, async () => {
    const got = await page.evaluate(async () => {
      const db = await ppdb.open('plain', { storage: 'memory' });
      await db.put('k', 'v');
      await db.put('k2', 'v2');
      await db.del('k2');
      const result = {
        isolated: globalThis.crossOriginIsolated,
        sharedArrayBuffer: typeof SharedArrayBuffer,
        flavour: db.flavour,
        value: await db.get('k'),
        deleted: (await db.get('k2')) === undefined,
      };
      await db.close();
      return result;
    });
    assert.deepEqual(got, {
      isolated: false,
      sharedArrayBuffer: 'undefined',
      flavour: 'single',
      value: 'v',
      deleted: true,
    });
  });
});

/**
 * Private windows (launch({ private: true })): what 'auto' opens there, per engine. Firefox
 * and WebKit (as Safari) refuse OPFS in private browsing; 'auto' then opens IndexedDB.
 */
const PRIVATE = {
  chromium: { storage: 'opfs', flavour: 'single', opfs: 'opens', readBack: 'v' },
  firefox: { storage: 'indexeddb', flavour: 'single', opfs: 'UNSUPPORTED', readBack: 'v' },
  webkit: { storage: 'indexeddb', flavour: 'single', opfs: 'UNSUPPORTED', readBack: 'v' },
};

describe('in a private window', () => {
  let server, browser, page;

  before(async () => {
    server = await serve({ root: repoRoot, port: 0 });
    browser = await launch({ private: true });
    page = await openPage(browser.context, server.url + FIXTURE);
    await ppdbLoaded(page);
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  test(`storage 'auto' opens what the browser allows there, on the page and in a worker (${ENGINE})`, { timeout: TIMEOUT }, async () => {
    assert.deepEqual(await storagesHere(page), { page: PRIVATE[ENGINE], worker: PRIVATE[ENGINE] });
  });
});
