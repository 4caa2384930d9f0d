// The package API in Node, in both flavours.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { open, PpdbError } from '../../pkg/index.js';

const flavours = [
  ['threaded', { storage: 'memory' }],
  ['single', { storage: 'memory', threads: false }],
];

/** Every key in a store, in iteration order. */
async function collect(iterator) {
  const out = [];
  for await (const entry of iterator) out.push(entry);
  return out;
}

async function rejectsWith(promiseOrFn, code) {
  await assert.rejects(promiseOrFn, (err) => {
    assert.ok(err instanceof PpdbError, `expected a PpdbError, got ${err}`);
    assert.equal(err.code, code, err.message);
    return true;
  });
}

for (const [flavour, options] of flavours) {
  describe(`${flavour} flavour`, () => {
    test('opens the flavour it was asked for', async () => {
      const db = await open('f', options);
      assert.equal(db.flavour, flavour);
      await db.close();
    });

    test('put, get and del round-trip strings and bytes', async () => {
      const db = await open('rw', options);
      await db.put('greeting', 'héllo wörld');
      assert.equal(await db.get('greeting'), 'héllo wörld');
      await db.put(new Uint8Array([1, 2, 3]), new Uint8Array([0, 255]));
      assert.deepEqual(await db.get(new Uint8Array([1, 2, 3]), { valueEncoding: 'bytes' }), new Uint8Array([0, 255]));
      await db.put('greeting', 'replaced');
      assert.equal(await db.get('greeting'), 'replaced');
      await db.del('greeting');
      assert.equal(await db.get('greeting'), undefined);
      await db.del('never-written');
      assert.equal(await db.get('never-written'), undefined);
      await db.put('empty-value', '');
      assert.equal(await db.get('empty-value'), '');
      await db.close();
    });

    test('a bytes store returns Uint8Array keys and values', async () => {
      const db = await open('bytes', { ...options, keyEncoding: 'bytes', valueEncoding: 'bytes' });
      await db.put('k', 'v');
      assert.deepEqual(await db.get('k'), new TextEncoder().encode('v'));
      const [[key, value]] = await collect(db.iterator());
      assert.ok(key instanceof Uint8Array && value instanceof Uint8Array);
      assert.deepEqual([...key], [107]);
      await db.close();
    });

    test('a batch applies every operation in order, or none when one is invalid', async () => {
      const db = await open('batch', options);
      await db.put('gone', 'soon');
      await db.batch([
        { type: 'put', key: 'a', value: '1' },
        { type: 'put', key: 'b', value: '2' },
        { type: 'del', key: 'gone' },
        { type: 'put', key: 'a', value: 'last wins' },
      ]);
      assert.deepEqual(await collect(db.iterator()), [['a', 'last wins'], ['b', '2']]);
      await rejectsWith(db.batch([{ type: 'put', key: 'c', value: '3' }, { type: 'put', key: 7, value: 'x' }]), 'INVALID_ARGUMENT');
      await rejectsWith(db.batch([{ type: 'put', key: 'c', value: '3' }, { type: 'merge', key: 'c' }]), 'INVALID_ARGUMENT');
      await rejectsWith(db.batch([{ type: 'put', key: 'c' }]), 'INVALID_ARGUMENT');
      await rejectsWith(db.batch('not an array'), 'INVALID_ARGUMENT');
      // Errors name the operation (and its part) that was refused.
      const named = (operations, message) =>
        assert.rejects(db.batch(operations), (err) => err.code === 'INVALID_ARGUMENT' && message.test(err.message) || assert.fail(err.message));
      const fine = { type: 'put', key: 'c', value: '3' };
      await named([fine, fine, { type: 'put', key: 7, value: 'x' }], /^operation 2: key must be a string or a Uint8Array/);
      await named([fine, { type: 'del', key: 'x'.repeat(20000) }], /operation 1: key/);
      await named([fine, fine, fine, null], /^operation 3 is not an object/);
      await named([{ type: 'merge', key: 'c' }], /^operation 0 has type the string "merge"/);
      assert.equal(await db.get('c'), undefined, 'part of a rejected batch was written');
      await db.batch([]);
      await db.close();
    });

    test('iterators honour gt, gte, lt, lte, prefix, reverse and limit, in bytewise order', async () => {
      const db = await open('iter', options);
      const keys = ['a', 'ab', 'abc', 'b', 'ba', 'c', 'é', '\u{1F600}', 'B', '0'];
      for (const k of keys) await db.put(k, `v:${k}`);
      const bytewise = [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
      const range = async (opts) => (await collect(db.iterator(opts))).map(([k]) => k);
      const model = (filter, { reverse = false, limit } = {}) => {
        let out = bytewise.filter(filter);
        if (reverse) out.reverse();
        return limit === undefined ? out : out.slice(0, limit);
      };
      const cmp = (x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y));
      assert.deepEqual(await range({}), bytewise);
      assert.deepEqual(await range({ gt: 'a', lt: 'b' }), model((k) => cmp(k, 'a') > 0 && cmp(k, 'b') < 0));
      assert.deepEqual(await range({ gte: 'ab', lte: 'ba' }), model((k) => cmp(k, 'ab') >= 0 && cmp(k, 'ba') <= 0));
      assert.deepEqual(await range({ prefix: 'ab' }), ['ab', 'abc']);
      assert.deepEqual(await range({ prefix: 'a', gt: 'a' }), ['ab', 'abc']);
      assert.deepEqual(await range({ reverse: true }), model(() => true, { reverse: true }));
      assert.deepEqual(await range({ reverse: true, lt: 'b', limit: 2 }), ['abc', 'ab']);
      assert.deepEqual(await range({ limit: 3 }), bytewise.slice(0, 3));
      assert.deepEqual(await range({ limit: 0 }), []);
      assert.deepEqual(await range({ gt: 'z', lt: 'a' }), []);
      const [first] = await collect(db.iterator({ gte: 'c', limit: 1 }));
      assert.deepEqual(first, ['c', 'v:c']);
      await db.close();
    });

    test('an iterator can stop early and reads a stable view while writes continue', async () => {
      const db = await open('early', options);
      for (let i = 0; i < 500; i++) await db.put(`k${String(i).padStart(3, '0')}`, String(i));
      const seen = [];
      for await (const [k] of db.iterator()) {
        seen.push(k);
        if (seen.length === 3) break;
      }
      assert.deepEqual(seen, ['k000', 'k001', 'k002']);
      const it = db.iterator();
      const firstEntry = await it.next();
      await db.put('k000', 'changed');
      await db.put('k9999', 'added later');
      let n = 1;
      for await (const [k, v] of it) {
        n++;
        assert.notEqual(k, 'k9999');
        assert.notEqual(v, 'changed');
      }
      assert.equal(firstEntry.value[0], 'k000');
      assert.equal(n, 500);
      await db.close();
    });

    test('bad input rejects with INVALID_ARGUMENT and leaves the store working', async () => {
      const db = await open('bad', { ...options, maxKeySize: 8, maxValueSize: 32 });
      await rejectsWith(db.put(42, 'v'), 'INVALID_ARGUMENT');
      await rejectsWith(db.put('k', undefined), 'INVALID_ARGUMENT');
      await rejectsWith(db.put('k', { an: 'object' }), 'INVALID_ARGUMENT');
      await rejectsWith(db.put('123456789', 'v'), 'INVALID_ARGUMENT');
      await rejectsWith(db.put('k', 'x'.repeat(33)), 'INVALID_ARGUMENT');
      await rejectsWith(db.get(null), 'INVALID_ARGUMENT');
      await rejectsWith(async () => db.iterator({ limit: -5 }), 'INVALID_ARGUMENT');
      await rejectsWith(async () => db.iterator({ gt: 7 }), 'INVALID_ARGUMENT');
      await rejectsWith(open('', options), 'INVALID_ARGUMENT');
      await rejectsWith(open('x', { ...options, valueEncoding: 'yaml' }), 'INVALID_ARGUMENT');
      await rejectsWith(open('x', { ...options, storage: 'floppy' }), 'INVALID_ARGUMENT');
      await rejectsWith(open('x', { ...options, durability: 'eventually' }), 'INVALID_ARGUMENT');
      await db.put('k', 'x'.repeat(32));
      assert.equal((await db.get('k')).length, 32);
      await db.close();
    });

    test('a closed store rejects every call with CLOSED', async () => {
      const db = await open('closed', options);
      await db.put('k', 'v');
      await db.close();
      await db.close();
      assert.equal(db.closed, true);
      await rejectsWith(db.get('k'), 'CLOSED');
      await rejectsWith(db.put('k', 'v'), 'CLOSED');
      await rejectsWith(db.del('k'), 'CLOSED');
      await rejectsWith(db.batch([]), 'CLOSED');
      await rejectsWith(async () => db.iterator(), 'CLOSED');
      await rejectsWith(db.stats(), 'CLOSED');
    });

    test('stats count what was written', async () => {
      const db = await open('stats', options);
      await db.batch([{ type: 'put', key: 'ab', value: 'cde' }, { type: 'del', key: 'x' }]);
      const stats = await db.stats();
      assert.equal(stats.memtableEntries, 2);
      assert.equal(stats.dataBytes, 2 + 3 + 1);
      assert.equal(stats.sequence, 2);
      assert.ok(stats.memtableBytes >= stats.dataBytes);
      await db.close();
    });
  });
}

test('share() is UNSUPPORTED in the single flavour', async () => {
  const db = await open('single-share', { storage: 'memory', threads: false });
  assert.throws(() => db.share(), (err) => err.code === 'UNSUPPORTED');
  await db.close();
});
