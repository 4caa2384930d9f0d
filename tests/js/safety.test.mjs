// Data safety at the edges of the package, in both flavours: options that are not objects,
// strings UTF-8 cannot hold or that start with U+FEFF, JSON values JSON cannot hold exactly,
// calls racing close(), iterators of a store that closes, hostile arguments (throwing
// getters, detached buffers, proxies), storage errors from the OS. Each case is a bug that
// lost or changed data, or killed the engine, before.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open, destroy, importNdjson, exportNdjson, setLogger, PpdbError } from '../../pkg/index.js';

let root;
before(() => {
  root = mkdtempSync(join(tmpdir(), 'ppdb-safety-'));
});
after(() => rmSync(root, { recursive: true, force: true }));

const flavours = [
  ['threaded', {}],
  ['single', { threads: false }],
];

async function rejectsWith(promise, code, pattern) {
  await assert.rejects(promise, (err) => {
    assert.ok(err instanceof PpdbError, `expected a PpdbError, got ${err?.stack ?? err}`);
    assert.equal(err.code, code, err.message);
    if (pattern) assert.match(err.message, pattern);
    return true;
  });
}

function throwsWith(fn, code) {
  assert.throws(fn, (err) => {
    assert.ok(err instanceof PpdbError, `expected a PpdbError, got ${err?.stack ?? err}`);
    assert.equal(err.code, code, err.message);
    return true;
  });
}

let counter = 0;
const fresh = (options) => open(`s${counter++}`, { storage: 'fs', path: join(root, `store-${counter}`), ...options });

for (const [flavour, flavourOptions] of flavours) {
  describe(`${flavour} flavour`, () => {
    test('clear() with anything but an options object refuses and deletes nothing', async () => {
      const db = await fresh(flavourOptions);
      await db.batch([{ type: 'put', key: 'a', value: '1' }, { type: 'put', key: 'b', value: '2' }]);
      for (const bad of [null, 7, 'range', true, [], new Uint8Array(1)]) {
        await rejectsWith(db.clear(bad), 'INVALID_ARGUMENT', /clear\(\) options must be an object/);
      }
      assert.deepEqual(await db.keys().all(), ['a', 'b'], 'nothing was deleted');
      assert.equal(await db.clear(), 2);
      await db.close();
    });

    test('every call that takes options refuses a non-object', async () => {
      const db = await fresh(flavourOptions);
      await db.put('k', 'v');
      const calls = {
        put: (o) => db.put('k', 'v', o),
        get: (o) => db.get('k', o),
        getMany: (o) => db.getMany(['k'], o),
        getWithVersion: (o) => db.getWithVersion('k', o),
        del: (o) => db.del('x', o),
        batch: (o) => db.batch([], o),
        clear: (o) => db.clear(o),
        iterator: async (o) => db.iterator(o),
        keys: async (o) => db.keys(o),
        values: async (o) => db.values(o),
        'batch().put': async (o) => db.batch().put('k', 'v', o),
        'batch().write': (o) => db.batch().put('k', 'v').write(o),
        setAlerts: async (o) => db.setAlerts([], o),
        exportNdjson: async (o) => exportNdjson(db, o),
        importNdjson: (o) => importNdjson(db, '', o),
        'snapshot.get': (o) => db.snapshot().get('k', o),
        'snapshot.iterator': async (o) => db.snapshot().iterator(o),
        open: (o) => open('x', o),
        destroy: (o) => destroy('x', o),
        setLogger: (o) => setLogger(o),
      };
      for (const [name, call] of Object.entries(calls)) {
        for (const bad of [null, 0, 'text', false]) {
          await rejectsWith(call(bad), 'INVALID_ARGUMENT').catch((err) => {
            throw new Error(`${name}(${String(bad)}): ${err.message}`);
          });
        }
      }
      assert.equal(await db.get('k'), 'v', 'the store still works');
      await db.close();
    });

    test('a string starting with U+FEFF keeps it, as key and value, through every read', async () => {
      const db = await fresh(flavourOptions);
      await db.put('\uFEFFk', '\uFEFFv');
      await db.put('k', 'plain');
      assert.equal(await db.get('\uFEFFk'), '\uFEFFv');
      assert.deepEqual(await db.iterator().all(), [['k', 'plain'], ['\uFEFFk', '\uFEFFv']]);
      const [key] = await db.keys({ gt: 'k' }).all();
      assert.equal(await db.get(key), '\uFEFFv', 'a key read back finds its value');
      await db.close();
    });

    test('strings UTF-8 cannot hold (lone surrogates) are refused as keys and utf8 values', async () => {
      const db = await fresh(flavourOptions);
      for (const bad of ['\uD800', 'a\uDC00b', '\uDBFFx']) {
        await rejectsWith(db.put(bad, 'v'), 'INVALID_ARGUMENT', /lone surrogate/);
        await rejectsWith(db.put('k', bad), 'INVALID_ARGUMENT', /lone surrogate/);
        await rejectsWith(db.get(bad), 'INVALID_ARGUMENT');
      }
      // Two different keys never collide as U+FFFD.
      await db.put('\uFFFD', 'replacement character');
      await rejectsWith(db.put('\uD800', 'other'), 'INVALID_ARGUMENT');
      assert.equal(await db.get('\uFFFD'), 'replacement character');
      // A lone surrogate inside a JSON value is escaped by JSON and round-trips.
      await db.put('j', { s: '\uD800' }, { valueEncoding: 'json' });
      assert.deepEqual(await db.get('j', { valueEncoding: 'json' }), { s: '\uD800' });
      await db.close();
    });

    test("'json' refuses what JSON would change, naming where it is", async () => {
      const db = await fresh({ ...flavourOptions, valueEncoding: 'json' });
      const cases = [
        [{ n: NaN }, /\$\.n: NaN/],
        [{ n: Infinity }, /\$\.n: Infinity/],
        [[1, -Infinity], /\$\[1\]: -Infinity/],
        [{ a: { when: new Date() } }, /\$\.a\.when: Date/],
        [{ a: undefined }, /\$\.a: undefined/],
        [[1, undefined], /\$\[1\]: undefined/],
        [[1, , 3], /\$\[1\]: undefined/], // eslint-disable-line no-sparse-arrays
        [new Map([[1, 2]]), /\$: Map/],
        [{ s: new Set() }, /\$\.s: Set/],
        [{ b: new Uint8Array(2) }, /\$\.b: Uint8Array/],
        [{ big: 1n }, /\$\.big: bigint/],
        [{ f() {} }, /\$\.f: function/],
        [{ 'odd key': -0 }, /\$\["odd key"\]: -0/],
        [{ toJSON: () => 1 }, /toJSON/],
        [new (class Point { x = 1 })(), /\$: Point/],
        [undefined, /\$: undefined/],
      ];
      for (const [value, pattern] of cases) {
        await rejectsWith(db.put('k', value), 'INVALID_ARGUMENT', pattern);
      }
      const cyclic = { a: { b: {} } };
      cyclic.a.b.back = cyclic;
      await rejectsWith(db.put('k', cyclic), 'INVALID_ARGUMENT', /cyclic/);
      // What JSON holds round-trips exactly, any depth JSON.stringify reaches.
      const exact = { s: 'ü\u2028', n: [0, -1.5, 1e300], t: true, z: null, o: Object.create(null), nested: { '': [[]] } };
      await db.put('exact', exact);
      assert.deepEqual(await db.get('exact'), JSON.parse(JSON.stringify(exact)));
      let deep = 0;
      for (let i = 0; i < 3000; i++) deep = [deep];
      await db.put('deep', deep);
      assert.equal(JSON.stringify(await db.get('deep')), JSON.stringify(deep), '3,000 levels deep round-trips');
      let deeper = 0;
      for (let i = 0; i < 200_000; i++) deeper = { d: deeper };
      await rejectsWith(db.put('deeper', deeper), 'INVALID_ARGUMENT', /nested too deeply/);
      assert.equal(await db.get('deeper'), undefined);
      await db.put('after', { ok: 1 });
      assert.deepEqual(await db.get('after'), { ok: 1 }, 'the engine lives on');
      await db.close();
    });

    test('calls racing close() settle with their result or CLOSED, never a raw error or a hang', async () => {
      for (let round = 0; round < 5; round++) {
        const db = await fresh({ ...flavourOptions, memtableSize: 64 * 1024 });
        for (let i = 0; i < 300; i++) await db.put(`k${i}`, 'x'.repeat(500));
        const racing = [
          db.compact(),
          db.put('p', 'v'),
          db.del('k1'),
          db.batch([{ type: 'put', key: 'b', value: 'v' }]),
          importNdjson(db, '{"key":"i","value":"v"}\n'),
          db.flush(),
          db.get('k2'),
          db.clear({ prefix: 'k3' }),
        ];
        const closing = db.close();
        const settled = await Promise.race([
          Promise.allSettled([...racing, closing]),
          new Promise((resolve) => setTimeout(() => resolve('timeout'), 10_000)),
        ]);
        assert.notEqual(settled, 'timeout', `round ${round}: a call never settled`);
        for (const [i, outcome] of settled.entries()) {
          if (outcome.status === 'rejected') {
            assert.ok(outcome.reason instanceof PpdbError, `call ${i}: ${outcome.reason?.stack}`);
            assert.equal(outcome.reason.code, 'CLOSED', `call ${i}: ${outcome.reason.message}`);
          }
        }
      }
    });

    test('keys and values of every size round-trip through the scratch region, in any order', async () => {
      const db = await fresh(flavourOptions);
      const sizes = [0, 1, 63, 64, 65, 1000, 70_000, 2 * 2 ** 20, 100, 3];
      const text = (n) => 'é✓'.repeat(Math.ceil(n / 2)).slice(0, n);
      const bytes = (n) => Uint8Array.from({ length: n }, (_, i) => (i * 31) & 0xff);
      for (const [i, n] of sizes.entries()) {
        await db.put(`t${i}`, text(n));
        await db.put(`b${i}`, bytes(n));
        await db.put(text(Math.min(n, 5000)) || 'k', 'by a long key');
      }
      for (const [i, n] of [...sizes.entries()].reverse()) {
        assert.equal(await db.get(`t${i}`), text(n), `text of ${n}`);
        assert.deepEqual(await db.get(`b${i}`, { valueEncoding: 'bytes' }), bytes(n), `bytes of ${n}`);
        assert.equal(await db.get(text(Math.min(n, 5000)) || 'k'), 'by a long key');
        assert.equal(await db.get(`absent${i}`), undefined);
      }
      await rejectsWith(db.put('big', 'x'.repeat(17 * 2 ** 20)), 'INVALID_ARGUMENT', /limit/);
      await rejectsWith(db.put('k'.repeat(17_000), 'v'), 'INVALID_ARGUMENT', /limit/);
      await db.del('t0');
      assert.equal(await db.get('t0'), undefined);
      await db.close();
    });

    test('an iterator whose store closes mid-iteration rejects with CLOSED', async () => {
      const db = await fresh(flavourOptions);
      await db.batch(Array.from({ length: 100 }, (_, i) => ({ type: 'put', key: `k${String(i).padStart(3, '0')}`, value: 'v' })));
      const it = db.iterator();
      let seen = 0;
      await assert.rejects(
        (async () => {
          for await (const entry of it) {
            assert.ok(entry);
            if (++seen === 10) await db.close();
          }
        })(),
        (err) => err instanceof PpdbError && err.code === 'CLOSED',
      );
      assert.equal(seen, 10);
    });

    test('hostile arguments are INVALID_ARGUMENT and the store keeps working', async () => {
      const db = await fresh(flavourOptions);
      const mine = new Error('from the getter');
      const throwing = { get valueEncoding() { throw mine; } };
      await assert.rejects(db.put('k', 'v', throwing), (err) => err.code === 'INVALID_ARGUMENT' && err.cause === mine);
      const detached = new Uint8Array(8);
      structuredClone(detached.buffer, { transfer: [detached.buffer] });
      await rejectsWith(db.put(detached, 'v'), 'INVALID_ARGUMENT', /detached/);
      await rejectsWith(db.put('k', detached), 'INVALID_ARGUMENT', /detached/);
      const proxy = new Proxy(new Uint8Array([1, 2]), {});
      await rejectsWith(db.put(proxy, 'v'), 'INVALID_ARGUMENT');
      await rejectsWith(db.put('k', proxy), 'INVALID_ARGUMENT');
      const trap = new Proxy({}, { get() { throw new RangeError('trap'); } });
      await rejectsWith(db.get('k', trap), 'INVALID_ARGUMENT');
      await rejectsWith(db.batch([trap]), 'INVALID_ARGUMENT');
      throwsWith(() => db.batch().put('k', 'v', null), 'INVALID_ARGUMENT');
      throwsWith(() => db.setAlerts([], null), 'INVALID_ARGUMENT');
      await rejectsWith(setLogger(null), 'INVALID_ARGUMENT');
      throwsWith(() => exportNdjson(null), 'INVALID_ARGUMENT');
      await rejectsWith(open('n', { path: 5 }), 'INVALID_ARGUMENT');
      await rejectsWith(destroy('n', { path: 5 }), 'INVALID_ARGUMENT');
      await db.put('k', 'v');
      assert.equal(await db.get('k'), 'v');
      await db.close();
    });

    test('storage errors from the OS are typed, with the OS error as the cause', async () => {
      const file = join(root, `regular-${flavour}`);
      writeFileSync(file, 'not a folder');
      await rejectsWith(open('n', { ...flavourOptions, path: join(file, 'store') }), 'INVALID_ARGUMENT');
      await assert.rejects(open('n', { ...flavourOptions, path: join(file, 'store') }), (err) => err.cause?.code === 'ENOTDIR');
      await rejectsWith(open('n', { ...flavourOptions, path: join(root, 'x'.repeat(300)) }), 'INVALID_ARGUMENT');
      await rejectsWith(open('n', { ...flavourOptions, path: `${root}/nul\0here` }), 'INVALID_ARGUMENT');
      await rejectsWith(open('a\0b', flavourOptions), 'INVALID_ARGUMENT');
    });
  });
}

describe('files', () => {
  test('a flipped byte in MANIFEST is CORRUPTION naming it, and the tables survive', async () => {
    const path = join(root, 'manifest-flip');
    let db = await open('m', { path, memtableSize: 16 * 1024 });
    for (let i = 0; i < 2263; i++) await db.put(`key${i}`, `value ${i}`.repeat(4));
    // The memtables are written to tables in the background: on a loaded machine that
    // can lag behind the writes, so wait (bounded) until there are some.
    const tablesNow = async () => (await db.stats()).tablesPerLevel.reduce((a, b) => a + b, 0);
    for (const deadline = Date.now() + 20_000; (await tablesNow()) < 2 && Date.now() < deadline; ) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await db.close();
    const manifest = readdirSync(path).find((n) => n.startsWith('MANIFEST-'));
    const tables = readdirSync(path).filter((n) => n.endsWith('.sst'));
    assert.ok(tables.length > 1, 'the store has tables');
    const bytes = readFileSync(join(path, manifest));
    bytes[13] ^= 1;
    writeFileSync(join(path, manifest), bytes);
    await rejectsWith(open('m', { path, recovery: 'strict' }), 'CORRUPTION', new RegExp(manifest));
    await rejectsWith(open('m', { path, recovery: 'skip-corrupted' }), 'CORRUPTION', new RegExp(manifest));
    assert.deepEqual(readdirSync(path).filter((n) => n.endsWith('.sst')), tables, 'no table was deleted');
    bytes[13] ^= 1;
    writeFileSync(join(path, manifest), bytes);
    db = await open('m', { path });
    assert.equal((await db.keys().all()).length, 2263, 'the repaired manifest opens every key');
    await db.close();
  });

  test('opening a store again and again adds no files', async () => {
    const path = join(root, 'reopen');
    for (let i = 0; i < 100; i++) {
      const db = await open('r', { path, threads: i % 2 === 0 });
      await db.put(`k${i}`, 'v');
      await db.close();
    }
    const files = readdirSync(path);
    assert.ok(files.length <= 5, `${files.length} files: ${files}`);
    const db = await open('r', { path });
    assert.equal(db.recovery.segments, 1, 'the next open replays one segment');
    assert.equal((await db.keys().all()).length, 100);
    await db.close();
  });

  test('1,000 opens and closes in one process leave wasm memory flat (threaded build, maintenance worker)', async () => {
    const path = join(root, 'cycles');
    const sizes = [];
    for (let i = 0; i < 1000; i++) {
      const db = await open('c', { path });
      assert.equal(db.maintenance, 'worker');
      if (i % 100 === 0 || i === 999) sizes.push((await db.stats()).wasmMemoryBytes);
      await db.close();
    }
    const growth = sizes.at(-1) - sizes[1];
    assert.ok(growth <= 4 * 2 ** 20, `wasm memory grew ${growth} bytes over 900 cycles: ${sizes}`);
  });
});
