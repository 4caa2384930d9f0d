// The rest of the package API in Node, in both flavours: getMany, chained batches, keys and
// values, clear, snapshots, compare-and-set, encodings (json included) per store and per call.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { open, PpdbError } from '../../pkg/index.js';

async function rejectsWith(promiseOrFn, code) {
  await assert.rejects(promiseOrFn, (err) => {
    assert.ok(err instanceof PpdbError, `expected a PpdbError, got ${err}`);
    assert.equal(err.code, code, err.message);
    return true;
  });
}

for (const [flavour, threads] of [['threaded', true], ['single', false]]) {
  const options = { storage: 'memory', threads };
  describe(`${flavour} flavour`, () => {
    test('getMany reads several keys at once, undefined for absent ones', async () => {
      const db = await open('many', options);
      await db.batch([{ type: 'put', key: 'a', value: '1' }, { type: 'put', key: 'c', value: '3' }]);
      assert.deepEqual(await db.getMany(['a', 'b', 'c']), ['1', undefined, '3']);
      assert.deepEqual(await db.getMany([]), []);
      const bytes = await db.getMany(['a'], { valueEncoding: 'bytes' });
      assert.deepEqual([...bytes[0]], [0x31]);
      await rejectsWith(db.getMany('a'), 'INVALID_ARGUMENT');
      await rejectsWith(db.getMany(['a', 5]), 'INVALID_ARGUMENT');
      await db.close();
    });

    test('getMany of keys of every kind at once answers each as get does, and names the key it refuses', async () => {
      const db = await open('many-kinds', options);
      const keys = [];
      for (let i = 0; i < 600; i++) {
        const length = 1 + ((i * 37) % 300); // past 127 bytes a key's length takes two bytes
        const text = `${['é', '世', '🚀', 'x'][i % 4]}${String(i).padStart(4, '0')}`.padEnd(length, 'k');
        keys.push(i % 5 === 0 ? new TextEncoder().encode(text) : text);
      }
      // Every third key is written; the rest are absent.
      await db.batch(keys.filter((_, i) => i % 3 === 0).map((key) => ({ type: 'put', key, value: `v:${typeof key}` })));
      const many = await db.getMany(keys);
      const one = await Promise.all(keys.map((key) => db.get(key)));
      assert.equal(many.length, keys.length);
      assert.deepEqual(many, one);
      assert.equal(many.filter((value) => value !== undefined).length, 200);
      // Two at once, and one after a batch: each answers its own keys.
      const [first, second] = await Promise.all([db.getMany(keys.slice(0, 300)), db.getMany(keys.slice(300))]);
      assert.deepEqual([...first, ...second], one);
      await db.batch([{ type: 'put', key: 'late', value: 'here' }]);
      assert.deepEqual(await db.getMany(['late', keys[0]]), ['here', one[0]]);
      await assert.rejects(db.getMany(['ok', 'x'.repeat(70000)]), (err) => err.code === 'INVALID_ARGUMENT' && /key 1/.test(err.message));
      await assert.rejects(db.getMany(['ok', 'a', null]), (err) => err.code === 'INVALID_ARGUMENT' && /key 2/.test(err.message));
      await db.close();
    });

    test('a chained batch collects operations and writes them atomically once', async () => {
      const db = await open('chained', options);
      await db.put('gone', 'x');
      const batch = db.batch().put('a', '1').put('b', '2').del('gone');
      assert.equal(batch.length, 3);
      assert.equal(await db.get('a'), undefined, 'nothing before write()');
      await batch.write();
      assert.deepEqual(await db.getMany(['a', 'b', 'gone']), ['1', '2', undefined]);
      assert.throws(() => batch.put('c', '3'), (err) => err.code === 'CLOSED');
      const invalidOne = db.batch().put('ok', 'v').put('\uD800', 'a lone surrogate');
      await rejectsWith(invalidOne.write(), 'INVALID_ARGUMENT');
      assert.equal(await db.get('ok'), undefined, 'an invalid batch writes nothing');
      const cleared = db.batch().put('x', '1').clear().put('y', '2');
      assert.equal(cleared.length, 1);
      await cleared.write();
      assert.deepEqual(await db.getMany(['x', 'y']), [undefined, '2']);
      await db.close();
    });

    test('keys() and values() iterate one side; all() collects; break closes early', async () => {
      const db = await open('kv', options);
      await db.batch(['b', 'a', 'd', 'c'].map((k) => ({ type: 'put', key: k, value: k.toUpperCase() })));
      assert.deepEqual(await db.keys().all(), ['a', 'b', 'c', 'd']);
      assert.deepEqual(await db.values({ reverse: true, limit: 2 }).all(), ['D', 'C']);
      assert.deepEqual(await db.iterator({ gt: 'a', lte: 'c' }).all(), [['b', 'B'], ['c', 'C']]);
      const seen = [];
      for await (const key of db.keys()) {
        seen.push(key);
        if (seen.length === 2) break;
      }
      assert.deepEqual(seen, ['a', 'b']);
      const keys = await db.keys({ keyEncoding: 'bytes' }).all();
      assert.ok(keys[0] instanceof Uint8Array);
      await db.close();
    });

    test('clear(range) deletes exactly the keys in the range', async () => {
      const db = await open('clear', options);
      // The store is cleared as it was at the call: a put made while clear() is under way
      // (its module loads on the first clear()) stays.
      const clearing = db.clear({ prefix: 'late:' });
      await db.put('late:1', 'kept');
      assert.equal(await clearing, 0);
      assert.equal(await db.get('late:1'), 'kept');
      await db.del('late:1');
      const ops = [];
      for (let i = 0; i < 2500; i++) ops.push({ type: 'put', key: `user:${String(i).padStart(4, '0')}`, value: 'x' });
      ops.push({ type: 'put', key: 'other', value: 'kept' });
      await db.batch(ops);
      assert.equal(await db.clear({ gte: 'user:1000', lt: 'user:2000' }), 1000);
      assert.equal(await db.get('user:0999'), 'x');
      assert.equal(await db.get('user:1000'), undefined);
      assert.equal(await db.get('user:2000'), 'x');
      assert.equal(await db.clear({ prefix: 'user:' }), 1500);
      assert.deepEqual(await db.keys().all(), ['other']);
      assert.equal(await db.clear(), 1);
      assert.deepEqual(await db.keys().all(), []);
      await db.close();
    });

    test('a snapshot reads the store as it was, until it is closed', async () => {
      const db = await open('snap', options);
      await db.batch([{ type: 'put', key: 'a', value: 'old' }, { type: 'put', key: 'b', value: 'old' }]);
      const snapshot = db.snapshot();
      await db.put('a', 'new');
      await db.del('b');
      await db.put('c', 'new');
      assert.equal(await db.get('a'), 'new');
      assert.equal(await snapshot.get('a'), 'old');
      assert.equal(await db.get('b', { snapshot }), 'old');
      assert.deepEqual(await db.getMany(['a', 'b', 'c'], { snapshot }), ['old', 'old', undefined]);
      assert.deepEqual(await snapshot.iterator().all(), [['a', 'old'], ['b', 'old']]);
      assert.deepEqual(await db.keys({ snapshot }).all(), ['a', 'b']);
      assert.deepEqual(await db.keys().all(), ['a', 'c']);
      snapshot.close();
      assert.equal(snapshot.closed, true);
      await rejectsWith(snapshot.get('a'), 'CLOSED');
      await rejectsWith(db.get('a', { snapshot: { not: 'a snapshot' } }), 'INVALID_ARGUMENT');
      const open2 = db.snapshot();
      await db.close();
      assert.equal(open2.closed, true, 'closing the store releases its snapshots');
    });

    test('compare-and-set: a batch with checks writes only if the versions still hold', async () => {
      const db = await open('cas', options);
      assert.equal(await db.getWithVersion('k'), undefined);
      await db.batch([{ type: 'put', key: 'k', value: 'v1' }], { checks: [{ key: 'k', version: null }] });
      const first = await db.getWithVersion('k');
      assert.equal(first.value, 'v1');
      assert.equal(typeof first.version, 'string');
      await rejectsWith(db.batch([{ type: 'put', key: 'k', value: 'again' }], { checks: [{ key: 'k', version: null }] }), 'CONFLICT');
      await db.put('k', 'v2');
      await rejectsWith(
        db.batch([{ type: 'put', key: 'other', value: 'x' }], { checks: [{ key: 'k', version: first.version }] }),
        'CONFLICT',
      );
      assert.equal(await db.get('other'), undefined, 'a conflict writes nothing');
      const second = await db.getWithVersion('k');
      assert.notEqual(second.version, first.version);
      await db.batch().check('k', second.version).put('k', 'v3').put('other', 'y').write();
      assert.deepEqual(await db.getMany(['k', 'other']), ['v3', 'y']);
      await rejectsWith(db.batch([], { checks: [{ key: 'k', version: 42 }] }), 'INVALID_ARGUMENT');
      await db.close();
    });

    test('json values: per store, per call, and errors for what JSON cannot hold', async () => {
      const db = await open('json', { ...options, valueEncoding: 'json' });
      const doc = { name: 'Ada', tags: ['math', 'poetry'], born: 1815, alive: false, spouse: null, note: 'ünïcode ✓' };
      await db.put('ada', doc);
      assert.deepEqual(await db.get('ada'), doc);
      await db.batch([{ type: 'put', key: 'list', value: [1, 2.5, 'three'] }, { type: 'put', key: 'raw', value: 'plain text', valueEncoding: 'utf8' }]);
      assert.deepEqual(await db.get('list'), [1, 2.5, 'three']);
      assert.equal(await db.get('ada', { valueEncoding: 'utf8' }), JSON.stringify(doc));
      assert.equal(await db.get('raw', { valueEncoding: 'utf8' }), 'plain text');
      await rejectsWith(db.get('raw'), 'INVALID_ARGUMENT');
      assert.deepEqual(await db.values({ lt: 'list~' }).all(), [doc, [1, 2.5, 'three']]);
      await rejectsWith(db.put('bad', () => 1), 'INVALID_ARGUMENT');
      await rejectsWith(db.put('bad', { key: Symbol('s') }), 'INVALID_ARGUMENT');
      await rejectsWith(db.put('big', 10n), 'INVALID_ARGUMENT'); // JSON has no BigInt
      await rejectsWith(db.put('bad', undefined), 'INVALID_ARGUMENT');
      await rejectsWith(db.put('k', 'v', { valueEncoding: 'yaml' }), 'INVALID_ARGUMENT');
      const utf8Store = await open('json2', options);
      await utf8Store.put('n', { a: 1 }, { valueEncoding: 'json' });
      assert.deepEqual(await utf8Store.get('n', { valueEncoding: 'json' }), { a: 1 });
      assert.equal(await utf8Store.get('n'), '{"a":1}');
      await utf8Store.close();
      await db.close();
    });
  });
}

test('compare-and-set from concurrent worker_threads loses no increment', { timeout: 60_000 }, async () => {
  const db = await open('cas-threads', { storage: 'memory', threads: true });
  const token = db.share();
  const count = 150;
  const runs = [0, 1, 2].map(
    () =>
      new Promise((resolve, reject) => {
        const worker = new Worker(new URL('./fixtures/cas-worker.mjs', import.meta.url), { workerData: { token, count } });
        worker.once('message', resolve);
        worker.once('error', reject);
      }),
  );
  const results = await Promise.all(runs);
  assert.equal(await db.get('counter'), String(3 * count), `conflicts: ${results.map((r) => r.conflicts)}`);
  await db.close();
});

test("the method table (pkg/api/methods.js) is exactly Db's public surface, and the page proxy, the store shared across tabs and the store attached with failover have all of it", async () => {
  const { DB_METHODS, DB_GETTERS } = await import('../../pkg/api/methods.js');
  const { Db } = await import('../../pkg/api/db.js');
  const { ProxyDb } = await import('../../pkg/proxy/page.js');
  const own = (proto, what) =>
    Object.entries(Object.getOwnPropertyDescriptors(proto))
      .filter(([name, d]) => name !== 'constructor' && (what === 'method' ? typeof d.value === 'function' : d.get))
      .map(([name]) => name)
      .sort();
  assert.deepEqual(own(Db.prototype, 'method'), Object.keys(DB_METHODS).sort());
  assert.deepEqual(own(Db.prototype, 'getter'), [...DB_GETTERS].sort());
  assert.deepEqual(own(ProxyDb.prototype, 'method'), Object.keys(DB_METHODS).sort());
  assert.deepEqual(own(ProxyDb.prototype, 'getter'), [...DB_GETTERS].sort());
  for (const name of Object.keys(DB_METHODS)) assert.equal(ProxyDb.prototype[name].name, name);
  // A store shared across tabs (pkg/proxy/tabs.js) has the same surface.
  const { SharedDb } = await import('../../pkg/proxy/tabs.js');
  assert.deepEqual(own(SharedDb.prototype, 'method'), Object.keys(DB_METHODS).sort());
  assert.deepEqual(own(SharedDb.prototype, 'getter'), [...DB_GETTERS].sort());
  for (const name of Object.keys(DB_METHODS)) assert.equal(SharedDb.prototype[name].name, name);
  // And a worker's store attached with failover (pkg/api/failover.js).
  const { FailoverDb } = await import('../../pkg/api/failover.js');
  assert.deepEqual(own(FailoverDb.prototype, 'method'), Object.keys(DB_METHODS).sort());
  assert.deepEqual(own(FailoverDb.prototype, 'getter'), [...DB_GETTERS].sort());
  for (const name of Object.keys(DB_METHODS)) assert.equal(FailoverDb.prototype[name].name, name);
});

test('a batch round-trips strings, bytes and JSON of every length class exactly (varint edges, multi-byte text, long strings)', async () => {
  const db = await open('batch-sizes', { storage: 'memory', threads: false });
  const pieces = ['a', 'é', '€', '😀'];
  const lengths = [1, 2, 42, 43, 127, 128, 129, 5461, 5462, 16383, 16384, 4096, 4097, 70000];
  const ops = [];
  const expected = new Map();
  let i = 0;
  for (const piece of pieces) {
    for (const length of lengths) {
      const text = piece.repeat(Math.max(1, Math.floor(length / piece.length)));
      const key = `k${String(i++).padStart(4, '0')}${text.slice(0, 200)}`;
      ops.push({ type: 'put', key, value: text });
      expected.set(key, text);
    }
  }
  const bytesKey = new Uint8Array([0, 255, 1]);
  const bytesValue = Uint8Array.from({ length: 300 }, (_, j) => j & 0xff);
  ops.push({ type: 'put', key: bytesKey, value: bytesValue, valueEncoding: 'bytes' });
  ops.push({ type: 'put', key: 'json', value: { nested: ['é', 1, null] }, valueEncoding: 'json' });
  ops.push({ type: 'put', key: 'gone', value: 'x' }, { type: 'del', key: 'gone' });
  await db.batch(ops);
  for (const [key, value] of expected) assert.equal(await db.get(key), value, `key ${key.slice(0, 12)}`);
  assert.deepEqual(await db.get(bytesKey, { valueEncoding: 'bytes' }), bytesValue);
  assert.deepEqual(await db.get('json', { valueEncoding: 'json' }), { nested: ['é', 1, null] });
  assert.equal(await db.get('gone'), undefined);
  // A bad operation anywhere refuses the whole batch.
  await rejectsWith(db.batch([{ type: 'put', key: 'fine', value: 'v' }, { type: 'put', key: null, value: 'v' }]), 'INVALID_ARGUMENT');
  await rejectsWith(db.batch([{ type: 'put', key: 'fine', value: 'v' }, { type: 'put', key: 'x', value: '\uD800' }]), 'INVALID_ARGUMENT');
  assert.equal(await db.get('fine'), undefined);
  await db.close();
});
