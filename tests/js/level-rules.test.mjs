// Level's rules in ppdb's own API, in both builds, on memory and fs: gte wins over gt and
// lte over lt; the empty key is a key like any other; iterators seek(); has/hasMany;
// clear({ snapshot }) deletes what the snapshot sees.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open, exportNdjson, importNdjson, PpdbError } from '../../pkg/index.js';

const folder = mkdtempSync(join(tmpdir(), 'ppdb-level-rules-'));
process.on('exit', () => rmSync(folder, { recursive: true, force: true }));

async function rejectsWith(promiseOrFn, code) {
  await assert.rejects(promiseOrFn, (err) => {
    assert.ok(err instanceof PpdbError, `expected a PpdbError, got ${err}`);
    assert.equal(err.code, code, err.message);
    return true;
  });
}

const put = (key, value = key) => ({ type: 'put', key, value });
let stores = 0;

for (const [flavour, threads] of [['threaded', true], ['single', false]]) {
  for (const storage of ['memory', 'fs']) {
    const options = () => ({ storage, threads, path: join(folder, `s${stores++}`) });
    describe(`${flavour} build, ${storage}`, () => {
      test('gte wins over gt and lte over lt, in iterators, keys, clear and watch', async () => {
        const db = await open('precedence', options());
        await db.batch(['10', '20', '30', '40', '50'].map((k) => put(k)));
        const range = { gte: '20', gt: '30', lte: '40', lt: '40' };
        assert.deepEqual(await db.keys(range).all(), ['20', '30', '40']);
        assert.deepEqual(await db.keys({ ...range, reverse: true }).all(), ['40', '30', '20']);
        assert.deepEqual(await db.keys({ gt: '10', gte: '40' }).all(), ['40', '50']);
        assert.deepEqual(await db.keys({ lt: '50', lte: '20' }).all(), ['10', '20']);
        // gt and lt alone still exclude their bound.
        assert.deepEqual(await db.keys({ gt: '20', lt: '40' }).all(), ['30']);
        const watch = db.watch({ gte: '20', gt: '30', lte: '20', lt: '50' });
        assert.equal(await db.clear({ gte: '20', gt: '30' }), 4);
        assert.deepEqual(await db.keys().all(), ['10']);
        await db.put('20', 'again');
        const change = await watch.next();
        assert.deepEqual([change.value.type, change.value.key], ['del', '20'], 'the watch sees 20 (gte), not only what is above 30');
        watch.close();
        await db.close();
      });

      test('the empty key is stored, read, deleted, scanned first and kept across a reopen', async () => {
        const path = join(folder, `s${stores++}`);
        let db = await open('empty-key', { ...options(), path });
        await db.put('', 'empty string key');
        await db.batch([put('a', '1'), put(new Uint8Array(0), 'as bytes, the same key'), put('b', '2')]);
        assert.equal(await db.get(''), 'as bytes, the same key');
        assert.equal(await db.get(new Uint8Array(0)), 'as bytes, the same key');
        assert.equal(await db.has(''), true);
        assert.deepEqual(await db.keys().all(), ['', 'a', 'b']);
        assert.deepEqual(await db.keys({ reverse: true }).all(), ['b', 'a', '']);
        assert.deepEqual(await db.keys({ gt: '' }).all(), ['a', 'b'], 'gt the empty key leaves it out');
        assert.deepEqual(await db.keys({ lte: '' }).all(), ['']);
        assert.deepEqual(await db.keys({ prefix: '' }).all(), ['', 'a', 'b'], 'every key starts with the empty prefix');
        assert.deepEqual(await db.getMany(['', 'a', 'x']), ['as bytes, the same key', '1', undefined]);
        const [first] = await db.keys({ keyEncoding: 'bytes', limit: 1 }).all();
        assert.ok(first instanceof Uint8Array && first.length === 0);
        await db.compact(); // into a table
        assert.equal(await db.get(''), 'as bytes, the same key');
        if (storage === 'fs') {
          await db.close();
          db = await open('empty-key', { ...options(), path });
          assert.deepEqual(await db.iterator().all(), [['', 'as bytes, the same key'], ['a', '1'], ['b', '2']]);
        }
        const lines = [];
        for await (const line of exportNdjson(db)) lines.push(line);
        const copy = await open('empty-key-copy', { storage: 'memory', threads });
        await importNdjson(copy, lines);
        assert.equal(await copy.get(''), 'as bytes, the same key', 'an export holds the empty key and imports it');
        await copy.close();
        await db.del('');
        assert.equal(await db.get(''), undefined);
        assert.equal(await db.has(''), false);
        assert.deepEqual(await db.keys().all(), ['a', 'b']);
        await db.close();
      });

      test('seek() moves an iterator forward and back, within its range, snapshot and limit', async () => {
        const db = await open('seek', options());
        // More entries than an iterator's first page, so a seek drops a page read ahead.
        const keys = Array.from({ length: 200 }, (_, i) => `k${String(i).padStart(3, '0')}`);
        await db.batch(keys.map((k) => put(k)));
        const it = db.iterator();
        assert.deepEqual((await it.next()).value, ['k000', 'k000']);
        it.seek('k150');
        assert.deepEqual((await it.next()).value, ['k150', 'k150']);
        it.seek('k0505'); // between keys: lands on the next one
        assert.deepEqual((await it.next()).value, ['k051', 'k051']);
        it.seek('k010'); // back, before what was read
        assert.deepEqual((await it.next()).value, ['k010', 'k010']);
        it.seek(new TextEncoder().encode('k199'));
        assert.deepEqual(await it.all(), [['k199', 'k199']]);

        const back = db.keys({ reverse: true });
        back.seek('k100!');
        assert.deepEqual([(await back.next()).value, (await back.next()).value], ['k100', 'k099']);
        back.seek('zzz'); // above everything: a reverse iterator goes on from the last key
        assert.equal((await back.next()).value, 'k199');
        back.close();

        // The range holds: a target outside it ends the iterator; a later seek inside resumes.
        const ranged = db.keys({ gte: 'k050', lt: 'k060' });
        ranged.seek('k040');
        assert.equal((await ranged.next()).done, true, 'below gte: nothing');
        const ranged2 = db.keys({ gte: 'k050', lt: 'k060' });
        ranged2.seek('k070');
        assert.equal((await ranged2.next()).done, true, 'above lt: nothing');
        const ranged3 = db.keys({ gt: 'k050', lte: 'k060', reverse: true });
        ranged3.seek('k055');
        assert.deepEqual(await ranged3.all(), ['k055', 'k054', 'k053', 'k052', 'k051']);
        const prefixed = db.keys({ prefix: 'k12' });
        prefixed.seek('k125');
        assert.deepEqual(await prefixed.all(), ['k125', 'k126', 'k127', 'k128', 'k129']);

        // The limit counts every entry, before and after a seek.
        const limited = db.keys({ limit: 3 });
        assert.equal((await limited.next()).value, 'k000');
        limited.seek('k100');
        assert.deepEqual(await limited.all(), ['k100', 'k101']);

        // Its snapshot too: a key written after the iterator was made is not seen.
        const before = db.keys();
        await db.put('k0995', 'new');
        before.seek('k099');
        assert.deepEqual([(await before.next()).value, (await before.next()).value], ['k099', 'k100']);
        before.close();

        // Once an iterator has reached its end it has let go of its data: seek() does nothing.
        const ended = db.keys({ gte: 'k198' });
        assert.deepEqual(await ended.all(), ['k198', 'k199']);
        ended.seek('k000');
        assert.equal((await ended.next()).done, true);
        assert.throws(() => db.keys().seek(42), (err) => err.code === 'INVALID_ARGUMENT');
        assert.throws(() => db.keys().seek('\uD800'), (err) => err.code === 'INVALID_ARGUMENT');
        await db.close();
      });

      test('has() and hasMany(), now and at a snapshot', async () => {
        const db = await open('has', options());
        await db.batch([put('a'), put('b', '')]);
        assert.equal(await db.has('a'), true);
        assert.equal(await db.has('b'), true, 'an empty value is present');
        assert.equal(await db.has('c'), false);
        assert.deepEqual(await db.hasMany(['a', 'c', 'b', 'a']), [true, false, true, true]);
        assert.deepEqual(await db.hasMany([]), []);
        const snapshot = db.snapshot();
        await db.batch([{ type: 'del', key: 'a' }, put('c')]);
        assert.deepEqual(await db.hasMany(['a', 'c']), [false, true]);
        assert.equal(await db.has('a', { snapshot }), true);
        assert.deepEqual(await snapshot.hasMany(['a', 'c']), [true, false]);
        assert.equal(await snapshot.has('c'), false);
        snapshot.close();
        await rejectsWith(db.has(7), 'INVALID_ARGUMENT');
        await rejectsWith(db.hasMany('a'), 'INVALID_ARGUMENT');
        await rejectsWith(db.hasMany(['a', null]), 'INVALID_ARGUMENT');
        await rejectsWith(db.has('a', { snapshot }), 'CLOSED');
        await rejectsWith(db.has('a', 'options'), 'INVALID_ARGUMENT');
        await db.close();
        await rejectsWith(db.has('a'), 'CLOSED');
      });

      test('clear({ snapshot }) deletes the keys the snapshot sees in the range, and keeps later ones', async () => {
        const db = await open('clear-snapshot', options());
        await db.batch(['a1', 'a2', 'a3', 'b1'].map((k) => put(k)));
        const snapshot = db.snapshot();
        await db.batch([put('a4'), { type: 'del', key: 'a2' }]);
        assert.equal(await db.clear({ prefix: 'a', snapshot }), 3, 'a1, a2 (already gone) and a3');
        assert.deepEqual(await db.keys().all(), ['a4', 'b1'], 'a4 was written after the snapshot');
        assert.equal(snapshot.closed, false, 'the caller still owns the snapshot');
        assert.deepEqual(await snapshot.keys().all(), ['a1', 'a2', 'a3', 'b1']);
        snapshot.close();
        await rejectsWith(db.clear({ snapshot }), 'CLOSED');
        const other = await open('other', { storage: 'memory', threads });
        const foreign = other.snapshot();
        await rejectsWith(db.clear({ snapshot: foreign }), 'INVALID_ARGUMENT');
        await rejectsWith(db.clear({ snapshot: {} }), 'INVALID_ARGUMENT');
        foreign.close();
        await other.close();
        assert.deepEqual(await db.keys().all(), ['a4', 'b1'], 'a refused clear deletes nothing');
        await db.close();
      });
    });
  }
}
