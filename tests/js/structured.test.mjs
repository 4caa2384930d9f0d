// The 'structured' value encoding: what structured clone holds (Dexie's values) round-trips
// exactly through every call, in both builds, on memory and fs; what it cannot hold is
// refused with INVALID_ARGUMENT and nothing is written; the stored bytes are the format
// docs/format.md shows.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { inspect, isDeepStrictEqual } from 'node:util';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open, PpdbError } from '../../pkg/index.js';

const folder = mkdtempSync(join(tmpdir(), 'ppdb-structured-'));
process.on('exit', () => rmSync(folder, { recursive: true, force: true }));

async function rejectsInvalid(promise, message) {
  await assert.rejects(promise, (err) => {
    assert.ok(err instanceof PpdbError, `expected a PpdbError, got ${err}`);
    assert.equal(err.code, 'INVALID_ARGUMENT', err.message);
    if (message) assert.match(err.message, message);
    return true;
  });
}

/** Every kind of value the encoding holds, one key each. */
function samples() {
  const cyclic = { name: 'loop' };
  cyclic.self = cyclic;
  const shared = { id: 1 };
  const selfMap = new Map();
  selfMap.set('me', selfMap);
  const buffer = new ArrayBuffer(8);
  new Uint8Array(buffer).set([1, 2, 3, 4, 5, 6, 7, 8]);
  const sparse = [1, , 3]; // eslint-disable-line no-sparse-arrays
  const verySparse = [];
  verySparse[100_000] = 'end';
  return {
    date: new Date(1_700_000_000_123),
    invalidDate: new Date(NaN),
    farDate: new Date(8.64e15),
    map: new Map([[1, 'one'], ['1', 'string one'], [{ k: 1 }, new Set([1])]]),
    set: new Set([1, 'x', 1n, null, undefined]),
    uint8: new Uint8Array([0, 255]),
    int16: new Int16Array([-1, 32767]),
    float32: new Float32Array([1.5, NaN]),
    float64: new Float64Array([-0, Infinity]),
    bigint64: new BigInt64Array([-(2n ** 63n)]),
    biguint64: new BigUint64Array([2n ** 64n - 1n]),
    clamped: new Uint8ClampedArray([7]),
    view: new Uint16Array(buffer, 2, 2),
    dataView: new DataView(buffer, 1, 3),
    arrayBuffer: buffer,
    bigint: 2n ** 100n,
    negativeBigint: -5n,
    numbers: [0, -0, NaN, Infinity, -Infinity, 0.1, 2 ** 53 + 2, -1e-300],
    undefinedInside: { a: undefined, b: [undefined] },
    undefinedAlone: undefined,
    sparse,
    verySparse,
    cyclic,
    shared: [shared, shared, { again: shared }],
    selfMap,
    regexp: /a+b/giu,
    boxed: [new Number(1), new String('s'), new Boolean(false)],
    strings: ['', '\uFEFFbom', 'a\uD800b', 'ü✓🚀', 'x'.repeat(10_000)],
    nested: { todos: [{ title: 'write docs', due: new Date(0), tags: new Set(['a']), meta: new Map([['n', 1n]]) }] },
    keyOrder: { b: 1, a: 2, 10: 3, 2: 4 },
    plain: 'a string',
    nothing: null,
  };
}

/** Deep equality that also checks prototypes, shared references and cycles where the sample has them. */
function assertSame(got, want, name) {
  if (name === 'invalidDate') {
    // (isDeepStrictEqual tells no two invalid Dates alike: NaN is not NaN.)
    assert.ok(got instanceof Date && Number.isNaN(got.getTime()), `${name}: ${inspect(got)}`);
    return;
  }
  assert.ok(isDeepStrictEqual(got, want), `${name}: ${inspect(got, { depth: 1 })} is not ${inspect(want, { depth: 1 })}`);
  if (name === 'cyclic') assert.equal(got.self, got, 'the cycle closes on the copy');
  if (name === 'shared') assert.ok(got[0] === got[1] && got[2].again === got[0], 'the shared object is one object');
  if (name === 'selfMap') assert.equal(got.get('me'), got);
  if (name === 'sparse') assert.equal(1 in got, false, 'the hole stays a hole');
  if (name === 'numbers') assert.ok(Object.is(got[1], -0), '-0 stays -0');
  if (name === 'view') assert.deepEqual([got.byteOffset, got.length, got.buffer.byteLength], [2, 2, 8]);
  if (name === 'keyOrder') assert.deepEqual(Object.keys(got), Object.keys(want));
  if (got !== null && typeof got === 'object') assert.equal(Object.getPrototypeOf(got), Object.getPrototypeOf(want), `${name}: the same class`);
}

let stores = 0;
for (const [build, threads] of [['threaded', true], ['single', false]]) {
  for (const storage of ['memory', 'fs']) {
    describe(`${build} build, ${storage}`, () => {
      test('every supported value round-trips through put, batch, get, getMany, iterators, snapshots and watch', async () => {
        const path = join(folder, `s${stores++}`);
        let db = await open('structured', { storage, threads, path, valueEncoding: 'structured' });
        const values = samples();
        const names = Object.keys(values);
        const watch = db.watch({ limit: names.length });
        for (const name of names.slice(0, 10)) await db.put(name, values[name]);
        await db.batch(names.slice(10).map((name) => ({ type: 'put', key: name, value: values[name] })));
        for (const name of names) assertSame(await db.get(name), values[name], name);
        const many = await db.getMany(names);
        names.forEach((name, i) => assertSame(many[i], values[name], name));
        const snapshot = db.snapshot();
        for (const [name, value] of await snapshot.iterator().all()) assertSame(value, values[name], name);
        snapshot.close();
        for (const change of await watch.all()) assertSame(change.value, values[change.key], change.key);
        assertSame((await db.getWithVersion('map')).value, values.map, 'map');
        if (storage === 'fs') {
          await db.compact();
          await db.close();
          db = await open('structured', { storage, threads, path, valueEncoding: 'structured' });
          for (const [name, value] of await db.iterator().all()) assertSame(value, values[name], name);
        }
        await db.close();
      });

      test('a utf8 store takes structured values per call and per operation', async () => {
        const db = await open('per-call', { storage, threads, path: join(folder, `s${stores++}`) });
        const when = new Date(86_400_000);
        await db.put('a', { when }, { valueEncoding: 'structured' });
        await db.batch([{ type: 'put', key: 'b', value: new Map([[1, 2]]), valueEncoding: 'structured' }, { type: 'put', key: 'c', value: 'text' }]);
        assert.deepEqual(await db.get('a', { valueEncoding: 'structured' }), { when });
        assert.deepEqual(await db.values({ valueEncoding: 'structured', lt: 'c' }).all(), [{ when }, new Map([[1, 2]])]);
        assert.equal(await db.get('c'), 'text');
        await rejectsInvalid(db.get('c', { valueEncoding: 'structured' }), /not a structured value/);
        await db.close();
      });

      test('what it cannot hold exactly is refused, naming what, and nothing is written', async () => {
        const db = await open('refused', { storage, threads, path: join(folder, `s${stores++}`), valueEncoding: 'structured' });
        class Point {
          x = 1;
        }
        class MyDate extends Date {}
        const withProperty = [1, 2];
        withProperty.label = 'lost';
        let deep = {};
        for (let i = 0; i < 600; i++) deep = { deep };
        const cases = [
          [{ f: () => 1 }, /function/],
          [Symbol('s'), /Symbol/],
          [new Point(), /Point \(an instance of a class\)/],
          [new Error('e'), /Error \(an instance of a class\)/],
          [Object.create(null), /a null prototype/],
          [new URL('https://example.com/'), /URL \(an instance of a class\)/],
          [new MyDate(0), /MyDate \(a subclass of Date\)/],
          [withProperty, /an array with the property "label"/],
          [{ [Symbol('k')]: 1 }, /symbolic keys/],
          [JSON.parse('{"__proto__": 1}'), /__proto__/],
          [new WeakMap(), /WeakMap/],
          [Promise.resolve(1), /Promise/],
          [deep, /deeper than 500 levels/],
          [{ get boom() { throw new Error('mine'); } }, /cannot be read: mine/],
        ];
        for (const [value, message] of cases) {
          await rejectsInvalid(db.put('k', value), message);
          await rejectsInvalid(db.batch([{ type: 'put', key: 'ok', value: 1 }, { type: 'put', key: 'k', value }]), message);
        }
        assert.deepEqual(await db.keys().all(), [], 'nothing was written');
        let fine = {};
        for (let i = 0; i < 490; i++) fine = { fine };
        await db.put('deep', fine);
        assert.ok(isDeepStrictEqual(await db.get('deep'), fine), '490 levels are fine');
        await db.close();
      });
    });
  }
}

test('the stored bytes are devalue text, as docs/format.md shows', async () => {
  const db = await open('format', { storage: 'memory', valueEncoding: 'structured' });
  const value = { when: new Date(0), tags: new Set(['a']), n: 1n, gone: undefined, bytes: new Uint8Array([1, 2]) };
  await db.put('k', value);
  assert.equal(
    await db.get('k', { valueEncoding: 'utf8' }),
    '[{"when":1,"tags":2,"n":4,"gone":-1,"bytes":5},["Date","1970-01-01T00:00:00.000Z"],["Set",3],"a",["BigInt","1"],["Uint8Array",6],["ArrayBuffer","AQI="]]',
  );
  await db.put('neg', -0);
  assert.equal(await db.get('neg', { valueEncoding: 'utf8' }), '-6');
  await db.close();
});
