// The main-thread proxy: on a page, `open(name, { storage: 'opfs' })` (and 'auto') runs the
// store in a dedicated worker of the package's and answers through promises. Run on a
// cross-origin isolated page and on one that is not (the worker runs the single build on
// both: OPFS stores are faster there). The fixture page counts the messages the page posts to its workers.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { OPFS_ASKED, OPFS_GOT, SHARED_MEMORY, launch, openPage, ppdbLoaded, repoRoot, serve, TIMEOUT } from './harness.mjs';

const FIXTURE = 'tests/browser/fixtures/proxy.html';

// The storage the page's stores ask for (`window.PROXIED` in the page), and what they get:
// in WebKitGTK, the package's worker on IndexedDB (see OPFS_ASKED).
const PROXIED = OPFS_ASKED;
const STORED = OPFS_GOT;

// `window.outcome(promise)`: { ok, value } or { ok: false, code, isPpdbError, message };
// and `window.PROXIED`.
async function installOutcome(page) {
  await page.evaluate((storage) => {
    window.PROXIED = storage;
    window.outcome = async (promise) => {
      try {
        return { ok: true, value: await promise };
      } catch (err) {
        return { ok: false, code: err?.code, isPpdbError: err instanceof window.ppdb.PpdbError, message: String(err?.message ?? err) };
      }
    };
  }, PROXIED);
}

function assertRejected(result, code, what) {
  assert.equal(result.ok, false, `${what} should reject`);
  assert.equal(result.code, code, `${what}: ${result.message}`);
  assert.equal(result.isPpdbError, true, `${what} should reject with a PpdbError`);
}

for (const isolated of [true, false]) {
  describe(`on a page that is ${isolated ? '' : 'not '}cross-origin isolated`, () => {
    let server, browser, page;

    before(async () => {
      server = await serve({ root: repoRoot, port: 0, isolated });
      browser = await launch();
      page = await openPage(browser.context, server.url + FIXTURE);
      await ppdbLoaded(page);
      await installOutcome(page);
    });

    after(async () => {
      await browser?.close();
      await server?.close();
    });

    test('storage opfs runs the store in a worker: put, get, del, batch, stats', { timeout: TIMEOUT }, async () => {
      const got = await page.evaluate(async () => {
        const workersBefore = workers.length;
        const db = await ppdb.open('basic', { storage: PROXIED });
        await db.put('a', '1');
        await db.put('b', '2');
        const a = await db.get('a');
        await db.del('a');
        const deleted = await db.get('a');
        await db.batch([
          { type: 'put', key: 'c', value: '3' },
          { type: 'put', key: 'd', value: 'grüße 🚀' },
          { type: 'del', key: 'b' },
        ]);
        const after = [await db.get('b'), await db.get('c'), await db.get('d')];
        const stats = await db.stats();
        const out = {
          pageHasSyncHandles: typeof FileSystemSyncAccessHandle !== 'undefined',
          workersStarted: workers.length - workersBefore,
          storage: db.storage,
          flavour: db.flavour,
          name: db.name,
          maintenance: db.maintenance,
          recovery: typeof db.recovery?.records,
          closed: db.closed,
          a,
          deleted,
          after,
          memtableEntries: stats.memtableEntries,
        };
        await db.close();
        out.closedAfter = db.closed;
        return out;
      });
      assert.deepEqual(got, {
        pageHasSyncHandles: false,
        workersStarted: 1,
        storage: STORED,
        // OPFS stores run on the single build, isolated or not (see pickFlavour).
        flavour: 'single',
        name: 'basic',
        maintenance: 'steps',
        recovery: 'number',
        closed: false,
        a: '1',
        deleted: undefined,
        after: [undefined, '3', 'grüße 🚀'],
        memtableEntries: got.memtableEntries,
        closedAfter: true,
      });
      assert.ok(got.memtableEntries >= 3, `stats: ${got.memtableEntries} memtable entries`);
    });

    test('through the worker: seek() (with pages read ahead), has/hasMany, the empty key, clear({ snapshot })', { timeout: TIMEOUT }, async () => {
      const got = await page.evaluate(async () => {
        const db = await ppdb.open('level-rules', { storage: PROXIED });
        await db.clear();
        const keys = Array.from({ length: 100 }, (_, i) => `k${String(i).padStart(2, '0')}`);
        await db.batch(['', ...keys].map((key) => ({ type: 'put', key, value: `v:${key}` })));
        const it = db.keys({ limit: 5 });
        const read = [(await it.next()).value, (await it.next()).value];
        it.seek('k50'); // the page fetched ahead (past k01) is dropped, and does not count toward the limit
        read.push(...(await it.all()));
        const back = db.iterator({ reverse: true, lt: 'k90' });
        back.seek('k10!');
        const backward = [(await back.next()).value, (await back.next()).value];
        back.close();
        const snapshot = db.snapshot();
        await db.put('k05x', 'after the snapshot');
        const cleared = await db.clear({ lt: 'k10', snapshot });
        const out = {
          read,
          backward,
          has: await db.hasMany(['', 'k05', 'k05x', 'k50']),
          hasAtSnapshot: await snapshot.has('k05'),
          emptyKey: await db.get(''),
          cleared,
          left: await db.keys({ lt: 'k11' }).all(),
        };
        snapshot.close();
        await db.close();
        return out;
      });
      assert.deepEqual(got, {
        read: ['', 'k00', 'k50', 'k51', 'k52'],
        backward: [['k10', 'v:k10'], ['k09', 'v:k09']],
        has: [false, false, true, true],
        hasAtSnapshot: true,
        emptyKey: undefined,
        cleared: 11,
        left: ['k05x', 'k10'],
      });
    });

    test("valueEncoding 'structured' through the worker: Dates, Maps, Sets, typed arrays, BigInt, cycles, deep nesting", { timeout: TIMEOUT }, async () => {
      const got = await page.evaluate(async () => {
        const db = await ppdb.open('structured', { storage: PROXIED, valueEncoding: 'structured' });
        const loop = { name: 'loop' };
        loop.self = loop;
        let deep = { end: true };
        for (let i = 0; i < 498; i++) deep = { deep }; // 500 levels with the value around it
        const value = { when: new Date(86_400_000), tags: new Set(['a', 'b']), counts: new Map([['x', 10n]]), samples: new Float32Array([1.5]), buffer: new Uint8Array([1, 2]).buffer, missing: undefined, minusZero: -0, loop, deep };
        await db.put('v', value);
        await db.batch([{ type: 'put', key: 'w', value: [1, , 3] }]); // eslint-disable-line no-sparse-arrays
        const back = await db.get('v');
        const [[, listed]] = await db.iterator({ gte: 'w' }).all();
        let depth = 0;
        for (let d = back.deep; d.deep; d = d.deep) depth++;
        const refused = await db.put('x', { f: () => 1 }).then(() => 'stored', (err) => err.code);
        // Checked on the page: cloned to the worker, a class instance would be a plain object by then.
        class Point {
          x = 1;
        }
        const point = await db.put('p', new Point()).then(() => 'stored', (err) => err.code);
        const pointJson = await db.batch([{ type: 'put', key: 'p', value: { at: new Point() }, valueEncoding: 'json' }]).then(() => 'stored', (err) => err.code);
        const symbolKey = await db.put('s', { [Symbol('k')]: 1 }, { valueEncoding: 'json' }).then(() => 'stored', (err) => err.code);
        const nullProto = await db.put('n', Object.create(null)).then(() => 'stored', (err) => err.code);
        const out = {
          when: back.when instanceof Date && back.when.getTime(),
          tags: back.tags instanceof Set && [...back.tags],
          counts: back.counts instanceof Map && String(back.counts.get('x')),
          samples: back.samples instanceof Float32Array && [...back.samples],
          buffer: back.buffer instanceof ArrayBuffer && [...new Uint8Array(back.buffer)],
          missing: 'missing' in back && back.missing === undefined,
          minusZero: Object.is(back.minusZero, -0),
          loop: back.loop.self === back.loop,
          depth,
          hole: listed.length === 3 && !(1 in listed),
          refused,
          classes: [point, pointJson, symbolKey, await db.has('p'), await db.has('s')],
          nullProto,
          text: (await db.get('w', { valueEncoding: 'utf8' })),
        };
        await db.close();
        return out;
      });
      assert.deepEqual(got, {
        when: 86_400_000,
        tags: ['a', 'b'],
        counts: '10',
        samples: [1.5],
        buffer: [1, 2],
        missing: true,
        minusZero: true,
        loop: true,
        depth: 498,
        hole: true,
        refused: 'INVALID_ARGUMENT',
        classes: ['INVALID_ARGUMENT', 'INVALID_ARGUMENT', 'INVALID_ARGUMENT', false, false],
        nullProto: 'INVALID_ARGUMENT',
        text: '[[1,-2,2],1,3]',
      });
    });

    test('iterator: bounds, reverse, limit, pages, a snapshot, and break closes it in the worker', { timeout: TIMEOUT }, async () => {
      const got = await page.evaluate(async () => {
        const db = await ppdb.open('ranges', { storage: PROXIED });
        await db.batch(['c', 'b2', 'a', 'ba', 'd', 'b', 'b1'].map((key) => ({ type: 'put', key, value: `v:${key}` })));
        const ranges = {
          all: {},
          between: { gt: 'a', lt: 'c' },
          inclusive: { gte: 'b1', lte: 'ba' },
          prefixReverse: { prefix: 'b', reverse: true },
          reverseLimit: { reverse: true, limit: 3 },
          gteLimit: { gte: 'b', limit: 2 },
          none: { gt: 'd' },
        };
        const out = {};
        for (const [name, options] of Object.entries(ranges)) {
          out[name] = [];
          for await (const [key, value] of db.iterator(options)) {
            if (value !== `v:${key}`) throw new Error(`${name}: ${key} has value ${value}`);
            out[name].push(key);
          }
        }

        // Many pages of entries (16, 32, ... per request).
        await db.batch(Array.from({ length: 3000 }, (_, i) => ({ type: 'put', key: `n:${String(i).padStart(5, '0')}`, value: String(i) })));
        let count = 0;
        let ordered = true;
        for await (const [key, value] of db.iterator({ prefix: 'n:' })) {
          if (key !== `n:${String(count).padStart(5, '0')}` || value !== String(count)) ordered = false;
          count++;
        }
        out.paged = { count, ordered };

        // The iterator reads the store as it was when iterator() was called.
        const early = db.iterator({ prefix: 'late' });
        await db.put('late', 'x');
        out.snapshot = (await early.all()).length;

        // break: the page sends 'release' and stops.
        const closesBefore = sent.flatMap((m) => m.methods ?? []).filter((m) => m === 'release').length;
        const taken = [];
        for await (const [key] of db.iterator({ prefix: 'n:' })) {
          taken.push(key);
          if (taken.length === 2) break;
        }
        await new Promise((r) => setTimeout(r, 0)); // the close goes out on a microtask
        out.taken = taken;
        out.closes = sent.flatMap((m) => m.methods ?? []).filter((m) => m === 'release').length - closesBefore;
        const it = db.iterator();
        await it.next();
        it.close();
        out.afterClose = await it.next();
        await db.close();
        return out;
      });
      assert.deepEqual(got, {
        all: ['a', 'b', 'b1', 'b2', 'ba', 'c', 'd'],
        between: ['b', 'b1', 'b2', 'ba'],
        inclusive: ['b1', 'b2', 'ba'],
        prefixReverse: ['ba', 'b2', 'b1', 'b'],
        reverseLimit: ['d', 'c', 'ba'],
        gteLimit: ['b', 'b1'],
        none: [],
        paged: { count: 3000, ordered: true },
        snapshot: 0,
        taken: ['n:00000', 'n:00001'],
        closes: 1,
        afterClose: { done: true, value: undefined },
      });
    });

    test('bytes round-trip: buffers are transferred, the caller\'s own are never detached', { timeout: TIMEOUT }, async () => {
      const got = await page.evaluate(async () => {
        const db = await ppdb.open('bytes', { storage: PROXIED, keyEncoding: 'bytes', valueEncoding: 'bytes' });
        const key = new Uint8Array([0, 1, 2, 255]);
        const value = new Uint8Array([9, 0, 8, 0, 7, 255]);
        const whole = new Uint8Array(64).fill(7);
        const view = whole.subarray(10, 20); // a view of a larger buffer the caller keeps
        const messagesBefore = sent.length;
        await db.put(key, value);
        const putTransfers = sent[messagesBefore].transfers;
        await db.put(new Uint8Array([1]), view);
        await db.batch([{ type: 'put', key: new Uint8Array([2]), value }]);
        const shared = typeof SharedArrayBuffer === 'function' && crossOriginIsolated;
        if (shared) {
          const sab = new Uint8Array(new SharedArrayBuffer(8)).fill(5);
          await db.put(new Uint8Array([3]), sab);
        }
        const back = await db.get(new Uint8Array([0, 1, 2, 255]));
        const fromView = await db.get(new Uint8Array([1]));
        const entries = [];
        for await (const [k, v] of db.iterator()) entries.push([k instanceof Uint8Array, Array.from(k), v instanceof Uint8Array, v.length]);
        await db.close();
        return {
          putTransfers,
          callerKept: {
            key: Array.from(key),
            value: Array.from(value),
            wholeLength: whole.buffer.byteLength,
            view: Array.from(view),
          },
          back: { isBytes: back instanceof Uint8Array, bytes: Array.from(back), ownBuffer: back.byteLength === back.buffer.byteLength },
          fromView: Array.from(fromView),
          entries,
          shared,
        };
      });
      assert.equal(got.putTransfers, 2, 'the copies of the key and the value are transferred');
      assert.deepEqual(got.callerKept, {
        key: [0, 1, 2, 255],
        value: [9, 0, 8, 0, 7, 255],
        wholeLength: 64,
        view: [7, 7, 7, 7, 7, 7, 7, 7, 7, 7],
      });
      assert.deepEqual(got.back, { isBytes: true, bytes: [9, 0, 8, 0, 7, 255], ownBuffer: true });
      assert.deepEqual(got.fromView, [7, 7, 7, 7, 7, 7, 7, 7, 7, 7]);
      assert.deepEqual(got.entries, [
        [true, [0, 1, 2, 255], true, 6],
        [true, [1], true, 10],
        [true, [2], true, 6],
        ...(got.shared ? [[true, [3], true, 8]] : []),
      ]);
      assert.equal(got.shared, isolated && SHARED_MEMORY);
    });

    test('errors keep their codes', { timeout: TIMEOUT }, async () => {
      const got = await page.evaluate(async () => {
        const db = await ppdb.open('errors', { storage: PROXIED });
        await db.put('k', 'v');
        let share;
        try {
          db.share();
        } catch (err) {
          share = { ok: false, code: err.code, isPpdbError: err instanceof ppdb.PpdbError, message: err.message };
        }
        const out = {
          loneSurrogate: await outcome(db.put('\uD800', 'v')),
          badValue: await outcome(db.put('k', 42)),
          uncloneable: await outcome(db.put('k', () => 'a function')),
          badBatch: await outcome(db.batch([{ type: 'nope', key: 'k' }])),
          badLimit: await outcome(db.iterator({ limit: -5 }).next()),
          share,
          locked: await outcome(ppdb.open('errors', { storage: PROXIED, exclusive: true })),
          badEncoding: await outcome(ppdb.open('errors-2', { storage: PROXIED, valueEncoding: 'nope' })),
          cyclic: await outcome((() => {
            const value = { a: 1 };
            value.self = value;
            return db.put('k', value, { valueEncoding: 'json' });
          })()),
          detachedKey: await outcome((() => {
            const key = new Uint8Array(4);
            structuredClone(key.buffer, { transfer: [key.buffer] });
            return db.put(key, 'v');
          })()),
          throwingGetter: await outcome(db.get('k', { get valueEncoding() { throw new Error('mine'); } })),
          nullOptions: await outcome(db.clear(null)),
          stillThere: await db.get('k'),
        };
        await db.close();
        Object.assign(out, {
          get: await outcome(db.get('k')),
          put: await outcome(db.put('k', 'w')),
          iterator: await outcome((async () => {
            for await (const entry of db.iterator()) return entry;
          })()),
          closeAgain: await outcome(db.close()),
        });
        return out;
      });
      assertRejected(got.loneSurrogate, 'INVALID_ARGUMENT', 'a lone surrogate');
      assertRejected(got.badValue, 'INVALID_ARGUMENT', 'a number as value');
      assertRejected(got.uncloneable, 'INVALID_ARGUMENT', 'a function as value');
      assertRejected(got.badBatch, 'INVALID_ARGUMENT', 'a batch operation of an unknown type');
      assertRejected(got.badLimit, 'INVALID_ARGUMENT', 'a negative limit');
      assertRejected(got.share, 'UNSUPPORTED', 'share()');
      assertRejected(got.locked, 'LOCKED', 'a second, exclusive open of the same store');
      assertRejected(got.badEncoding, 'INVALID_ARGUMENT', 'an unknown valueEncoding');
      assertRejected(got.cyclic, 'INVALID_ARGUMENT', 'a cyclic value');
      assertRejected(got.detachedKey, 'INVALID_ARGUMENT', 'a detached key');
      assertRejected(got.throwingGetter, 'INVALID_ARGUMENT', 'an options getter that throws');
      assertRejected(got.nullOptions, 'INVALID_ARGUMENT', 'clear(null)');
      assert.equal(got.stillThere, 'v');
      for (const call of ['get', 'put', 'iterator']) assertRejected(got[call], 'CLOSED', `${call} after close`);
      assert.equal(got.closeAgain.ok, true, 'close() twice is fine');
    });

    test('the rest of the Db surface: getMany, versions and checks, chained batch, keys, values, clear, snapshots, json', { timeout: TIMEOUT }, async () => {
      const got = await page.evaluate(async () => {
        const db = await ppdb.open('surface', { storage: PROXIED });
        await db.batch([{ type: 'put', key: 'a', value: '1' }, { type: 'put', key: 'b', value: '2' }]);
        const out = { many: await db.getMany(['a', 'x', 'b']) };
        const { version } = await db.getWithVersion('a');
        await db.batch([{ type: 'put', key: 'a', value: '1b' }], { checks: [{ key: 'a', version }] });
        out.conflict = await outcome(db.batch([{ type: 'put', key: 'a', value: 'lost' }], { checks: [{ key: 'a', version }] }));
        const chained = db.batch().put('c', '3').del('b');
        out.chainedLength = chained.length;
        await chained.write();

        const snapshot = db.snapshot();
        await db.put('a', 'after');
        await db.put('d', '4');
        out.atSnapshot = {
          get: await snapshot.get('a'),
          option: await db.get('a', { snapshot }),
          many: await snapshot.getMany(['a', 'd']),
          entries: await snapshot.iterator().all(),
          keys: await snapshot.keys().all(),
        };
        out.now = { keys: await db.keys().all(), values: await db.values({ reverse: true }).all() };
        snapshot.close();
        out.closedSnapshot = await outcome(snapshot.get('a'));
        const other = await ppdb.open('surface-other', { storage: PROXIED });
        out.foreignSnapshot = await outcome(other.get('a', { snapshot: db.snapshot() }));
        await other.close();

        out.cleared = await db.clear({ gte: 'c' });
        out.afterClear = await db.keys().all();
        await db.put('j', { list: [1, 2], nested: { ok: true } }, { valueEncoding: 'json' });
        out.json = await db.get('j', { valueEncoding: 'json' });
        await db.close();
        return out;
      });
      assert.deepEqual(got.many, ['1', undefined, '2']);
      assertRejected(got.conflict, 'CONFLICT', 'a batch whose check fails');
      assert.equal(got.chainedLength, 2);
      assert.deepEqual(got.atSnapshot, {
        get: '1b',
        option: '1b',
        many: ['1b', undefined],
        entries: [['a', '1b'], ['c', '3']],
        keys: ['a', 'c'],
      });
      assert.deepEqual(got.now, { keys: ['a', 'c', 'd'], values: ['4', '3', 'after'] });
      assertRejected(got.closedSnapshot, 'CLOSED', 'a read through a closed snapshot');
      assertRejected(got.foreignSnapshot, 'INVALID_ARGUMENT', "another store's snapshot");
      assert.equal(got.cleared, 2);
      assert.deepEqual(got.afterClear, ['a']);
      assert.deepEqual(got.json, { list: [1, 2], nested: { ok: true } });
    });

    test('metrics, the Prometheus text and alert events come through the proxy', { timeout: TIMEOUT }, async () => {
      const got = await page.evaluate(async () => {
        await ppdb.destroy('observed', { storage: PROXIED });
        const db = await ppdb.open('observed', { storage: PROXIED, alerts: [{ name: 'memtables in use', metric: 'memoryUse', above: 0 }], alertInterval: 20 });
        const alerts = [];
        db.addEventListener('alert', (event) => alerts.push(event.detail));
        await db.put('k', 'v');
        await db.get('k');
        for (let i = 0; i < 100 && alerts.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
        const metrics = await db.metrics();
        const text = await db.metricsText();
        await db.close();
        return { alerts, puts: metrics.operations.put, gets: metrics.latency.get.count, wasm: metrics.memory.wasm, text };
      });
      assert.equal(got.alerts.length, 1);
      assert.equal(got.alerts[0].rule, 'memtables in use');
      assert.equal(got.puts, 1);
      assert.equal(got.gets, 1);
      assert.ok(got.wasm > 0);
      assert.match(got.text, /^ppdb_operations_total\{op="put"\} 1$/m);
    });

    test('data survives close and reopen, and a reload of the page', { timeout: 60_000 }, async () => {
      const first = await page.evaluate(async () => {
        const db = await ppdb.open('persist', { storage: PROXIED });
        await db.batch([{ type: 'put', key: 'x', value: '1' }, { type: 'put', key: 'y', value: '2' }]);
        await db.close();
        const again = await ppdb.open('persist', { storage: PROXIED });
        const out = { x: await again.get('x'), y: await again.get('y'), records: again.recovery.records };
        await again.put('z', '3'); // sync: durable once it resolves
        return out; // left open: the reload below tears the worker down
      });
      assert.deepEqual(first, { x: '1', y: '2', records: 1 });

      // A page left without close(): the next load opens the store again (the old worker's
      // lock and file handles go with it) and finds every acknowledged write.
      await page.reload();
      await ppdbLoaded(page);
      await installOutcome(page);
      const second = await page.evaluate(async () => {
        const db = await ppdb.open('persist', { storage: PROXIED });
        const out = [await db.get('x'), await db.get('y'), await db.get('z')];
        await db.close();
        return out;
      });
      assert.deepEqual(second, ['1', '2', '3']);
    });

    test("'auto' runs the store in a worker (OPFS, or IndexedDB where workers have no sync access handles); 'indexeddb' still opens on the page itself", { timeout: TIMEOUT }, async () => {
      const got = await page.evaluate(async () => {
        // Calls sent to the page's proxy worker since `before` (an index into `sent`).
        const sentPuts = (before) => sent.slice(before).flatMap((m) => m.methods ?? []).filter((m) => m === 'put').length;
        let before = sent.length;
        const auto = await ppdb.open('auto');
        await auto.put('k', 'v');
        const out = { auto: auto.storage, autoPutsSent: sentPuts(before), value: await auto.get('k') };
        await auto.close();
        before = sent.length;
        const idb = await ppdb.open('idb', { storage: 'indexeddb' });
        await idb.put('k', 'v');
        Object.assign(out, { idb: idb.storage, idbPutsSent: sentPuts(before), idbValue: await idb.get('k') });
        await idb.close();
        await ppdb.destroy('idb', { storage: 'indexeddb' });
        // destroy() with 'auto' deletes what open() with 'auto' opened.
        await ppdb.destroy('auto');
        const again = await ppdb.open('auto');
        out.afterDestroy = await again.get('k');
        await again.close();
        await ppdb.destroy('auto');
        return out;
      });
      assert.deepEqual(got, { auto: STORED, autoPutsSent: 1, value: 'v', idb: 'indexeddb', idbPutsSent: 0, idbValue: 'v', afterDestroy: undefined });
    });

    test("a page's stores share its one proxy worker: a second store and a store opened again start no worker, and each keeps its own data", { timeout: TIMEOUT }, async () => {
      const got = await page.evaluate(async () => {
        const proxyWorkers = () => workers.filter((w) => w.url.includes('proxy-worker')).length;
        const first = await ppdb.open('one', { storage: PROXIED });
        const afterFirst = proxyWorkers();
        const second = await ppdb.open('two', { storage: PROXIED });
        await Promise.all([first.put('k', 'first'), second.put('k', 'second')]);
        const values = [await first.get('k'), await second.get('k')];
        // An iterator of one store open while the other closes and opens again.
        const iterator = first.iterator();
        await second.close();
        const reopenedAt = performance.now();
        const again = await ppdb.open('two', { storage: PROXIED });
        const reopenMs = performance.now() - reopenedAt;
        const out = {
          started: proxyWorkers() - afterFirst,
          values,
          iterated: (await iterator.next()).value,
          again: await again.get('k'),
          secondClosed: await second.get('k').then(() => 'read', (err) => err.code),
          reopenMs,
        };
        await iterator.close();
        await Promise.all([first.close(), again.close()]);
        await Promise.all([ppdb.destroy('one', { storage: PROXIED }), ppdb.destroy('two', { storage: PROXIED })]);
        return out;
      });
      const { reopenMs, ...rest } = got;
      assert.deepEqual(rest, { started: 0, values: ['first', 'second'], iterated: ['k', 'first'], again: 'second', secondClosed: 'CLOSED' });
      console.log(`# reopen of a store on the page's proxy worker: ${reopenMs.toFixed(1)} ms`);
    });

    test('calls made in one task go out as one message, and their replies come back batched', { timeout: TIMEOUT }, async () => {
      const got = await page.evaluate(async () => {
        const db = await ppdb.open('batched', { storage: PROXIED });
        const sentBefore = sent.length;
        const receivedBefore = received.length;
        const puts = Array.from({ length: 100 }, (_, i) => db.put(`k${i}`, `v${i}`));
        const postedInTask = sent.length - sentBefore; // nothing yet: posted on a microtask
        await Promise.all(puts);
        const putMessages = sent.slice(sentBefore).map((m) => m.methods.length);
        const putReplies = received.slice(receivedBefore);

        const sentBeforeGets = sent.length;
        const receivedBeforeGets = received.length;
        const values = await Promise.all(Array.from({ length: 100 }, (_, i) => db.get(`k${i}`)));
        const getMessages = sent.slice(sentBeforeGets).map((m) => m.methods.length);
        const getReplies = received.slice(receivedBeforeGets);
        await db.close();
        return { postedInTask, putMessages, putReplies, getMessages, getReplies, valuesOk: values.every((v, i) => v === `v${i}`) };
      });
      assert.equal(got.postedInTask, 0);
      assert.deepEqual(got.putMessages, [100], 'one message carries the 100 puts');
      assert.equal(got.putReplies.reduce((a, b) => a + b, 0), 100);
      assert.ok(got.putReplies.length < 100, `replies batched: ${got.putReplies.join(', ')}`);
      assert.deepEqual(got.getMessages, [100], 'one message carries the 100 gets');
      // The gets all settle in the task that runs them: one message back.
      assert.deepEqual(got.getReplies, [100], 'one message carries the 100 replies');
      assert.equal(got.valuesOk, true);
    });

    test('the page keeps running while the worker writes', { timeout: TIMEOUT }, async () => {
      const got = await page.evaluate(async () => {
        const db = await ppdb.open('responsive', { storage: PROXIED });
        let inFlight = 0;
        let ticks = 0;
        let ticksWhileWriting = 0;
        let writing = true;
        const tick = () => {
          ticks++;
          if (inFlight > 0) ticksWhileWriting++;
          if (writing) setTimeout(tick, 0);
        };
        setTimeout(tick, 0);
        const value = 'v'.repeat(100);
        for (let round = 0; round < 20; round++) {
          const puts = Array.from({ length: 200 }, (_, i) => db.put(`r${round}:${String(i).padStart(4, '0')}`, value));
          inFlight += puts.length;
          await Promise.all(puts);
          inFlight -= puts.length;
        }
        writing = false;
        let count = 0;
        for await (const _ of db.iterator()) count++;
        await db.close();
        return { ticks, ticksWhileWriting, count };
      });
      assert.equal(got.count, 4000);
      assert.ok(got.ticksWhileWriting > 0, `the timer ticked ${got.ticks} times, never while writes were in flight`);
    });

    test("a page that owns a shared store and loses its worker fails over: the owner lock goes, the page takes the store again with a new worker (or reaches the tab that did), and every acknowledged write is there", { timeout: TIMEOUT }, async () => {
      const got = await page.evaluate(async () => {
        const proxyWorker = () => workers.findLast((w) => w.url.includes('proxy-worker'));
        const db = await ppdb.open('lost-worker', { storage: PROXIED });
        const roleBefore = db.role;
        await db.put('a', '1');
        const changes = [];
        db.addEventListener('ownerchange', ({ detail }) => changes.push(detail));
        const worker = proxyWorker();
        const stopped = new Promise((resolve) => worker.addEventListener('error', resolve, { once: true }));
        // Not a port: the worker throws, uncaught, and the page takes it for stopped.
        rawPost(worker, { not: 'a port' });
        await stopped;
        // Calls made now wait for the next owner: this page again, with a new worker.
        const out = { roleBefore, a: await db.get('a') };
        await db.put('b', '2');
        Object.assign(out, { b: await db.get('b'), role: db.role, changes, replaced: proxyWorker() !== worker });
        await db.close();
        const again = await ppdb.open('lost-worker', { storage: PROXIED, exclusive: true });
        out.again = [await again.get('a'), await again.get('b')];
        await again.close();
        await ppdb.destroy('lost-worker', { storage: PROXIED });
        return out;
      });
      assert.deepEqual(got, { roleBefore: 'owner', a: '1', b: '2', role: 'owner', changes: [{ role: 'owner', previous: 'owner' }], replaced: true, again: ['1', '2'] });
    });

    test("a page's threads: true store fails over too: opened again in a new worker, its reads still answered on the page", { skip: !(isolated && SHARED_MEMORY && STORED === 'opfs') && 'needs shared memory and OPFS', timeout: TIMEOUT }, async () => {
      const got = await page.evaluate(async () => {
        const db = await ppdb.open('lost-worker-threads', { storage: 'opfs', threads: true });
        await db.put('a', '1');
        const worker = workers.findLast((w) => w.url.includes('proxy-worker'));
        const stopped = new Promise((resolve) => worker.addEventListener('error', resolve, { once: true }));
        rawPost(worker, { not: 'a port' });
        await stopped;
        const a = await db.get('a');
        await db.put('b', '2');
        const out = { a, b: await db.get('b'), role: db.role, direct: (await db.stats()).pageReads.direct };
        await db.close();
        await ppdb.destroy('lost-worker-threads', { storage: 'opfs' });
        return out;
      });
      // Both gets after the failover answered on the page (the store's new handle there).
      assert.deepEqual(got, { a: '1', b: '2', role: 'owner', direct: 2 });
    });

    test("a second tab's client carries on when the owner tab's worker stops: it takes the files over, the owner tab becomes its client, and both see every write", { timeout: TIMEOUT }, async () => {
      const second = await openPage(browser.context, server.url + FIXTURE);
      try {
        await ppdbLoaded(second);
        await page.evaluate(async (storage) => {
          window.lost = await ppdb.open('lost-worker-tabs', { storage });
          await lost.put('a', '1');
          window.lostChanges = [];
          lost.addEventListener('ownerchange', ({ detail }) => lostChanges.push(detail));
        }, PROXIED);
        await second.evaluate(async (storage) => {
          window.lost = await ppdb.open('lost-worker-tabs', { storage });
          window.lostChanges = [];
          lost.addEventListener('ownerchange', ({ detail }) => lostChanges.push(detail));
        }, PROXIED);
        assert.equal(await second.evaluate(() => lost.role), 'client');
        await page.evaluate(async () => {
          const worker = workers.findLast((w) => w.url.includes('proxy-worker'));
          const stopped = new Promise((resolve) => worker.addEventListener('error', resolve, { once: true }));
          rawPost(worker, { not: 'a port' });
          await stopped;
        });
        // The second tab was in line for the files: it takes them over. (A call it made
        // before then would have gone to the first tab, and rejected with OWNER_CHANGED.)
        const fromSecond = await second.evaluate(async () => {
          if (lost.role !== 'owner') await new Promise((resolve) => lost.addEventListener('ownerchange', resolve, { once: true }));
          const a = await lost.get('a');
          await lost.put('b', '2');
          return { a, role: lost.role, changes: lostChanges };
        });
        const fromFirst = await page.evaluate(async () => {
          await lost.put('c', '3');
          return { b: await lost.get('b'), role: lost.role, changes: lostChanges };
        });
        const c = await second.evaluate(() => lost.get('c'));
        assert.deepEqual(fromSecond, { a: '1', role: 'owner', changes: [{ role: 'owner', previous: 'client' }] });
        assert.deepEqual(fromFirst, { b: '2', role: 'client', changes: [{ role: 'client', previous: 'owner' }] });
        assert.equal(c, '3');
        await page.evaluate(() => lost.close());
        await second.evaluate(async (storage) => {
          await lost.close();
          await ppdb.destroy('lost-worker-tabs', { storage });
        }, PROXIED);
      } finally {
        await second.close();
      }
    });

    test('a worker that dies fails pending and later calls of its store with INTERNAL (exclusive: no other context to fail over to)', { timeout: TIMEOUT }, async () => {
      const got = await page.evaluate(async () => {
        const db = await ppdb.open('dies', { storage: PROXIED, exclusive: true });
        await db.put('k', 'v');
        const worker = workers.findLast((w) => w.url.includes('proxy-worker'));
        const errorEvent = new Promise((resolve) => worker.addEventListener('error', resolve, { once: true }));
        // Not an array of requests: the worker throws, uncaught, and the page gets an error
        // event. The get goes out after it, so its reply comes after the error.
        rawPost(worker, { not: 'a batch' });
        const pending = outcome(db.get('k'));
        await errorEvent;
        return {
          pending: await pending,
          later: await outcome(db.put('k', 'w')),
          iterator: await outcome(db.iterator().next()),
          close: await outcome(db.close()),
          closed: db.closed,
          // The next open starts a worker in its place, and finds what was written.
          reopened: await ppdb.open('dies', { storage: PROXIED, exclusive: true }).then(async (again) => {
            const value = await again.get('k');
            await again.close();
            return { value, replaced: workers.findLast((w) => w.url.includes('proxy-worker')) !== worker };
          }),
        };
      });
      assertRejected(got.pending, 'INTERNAL', 'a call pending when the worker died');
      assertRejected(got.later, 'INTERNAL', 'a call after the worker died');
      assertRejected(got.iterator, 'INTERNAL', 'an iterator after the worker died');
      assertRejected(got.close, 'INTERNAL', 'close() after the worker died');
      assert.equal(got.closed, true);
      assert.match(got.later.message, /worker stopped/);
      assert.deepEqual(got.reopened, { value: 'v', replaced: true });
    });
  });
}
