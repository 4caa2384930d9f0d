// A seeded fuzzer of the public JS API: every call, with hostile arguments, and calls racing
// close(). Every rejection must be a PpdbError with a documented code (never INTERNAL, never
// a TypeError), and the store must still work after each refusal. Runs briefly here;
// `PPDB_FUZZ_CALLS=200000 node --test tests/js/fuzz-api.test.mjs` runs longer, and
// `PPDB_FUZZ_SEED=<n>` repeats a run (the seed is printed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ppdb from '../../pkg/index.js';
import { CODES } from '../../pkg/api/errors.js';

const CALLS = Number(process.env.PPDB_FUZZ_CALLS ?? 4000);
const SEED = Number(process.env.PPDB_FUZZ_SEED ?? Date.now() % 1_000_000);

/** mulberry32: a small seeded generator. */
function generator(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function hostileValues(random) {
  const detached = new Uint8Array(4);
  structuredClone(detached.buffer, { transfer: [detached.buffer] });
  const cyclic = { a: 1 };
  cyclic.self = cyclic;
  let deep = 1;
  for (let i = 0; i < 100_000; i++) deep = [deep];
  const pick = (list) => list[Math.floor(random() * list.length)];
  const values = [
    () => undefined,
    () => null,
    () => pick([0, -0, 1, -1, 2 ** 53, NaN, Infinity, -Infinity, 1.5, 1e300]),
    () => pick(['', 'k', '\uFEFFk', '\uD800', 'a\uDC00', 'x'.repeat(70_000), 'ü✓', '\0']),
    () => pick([true, false]),
    () => new Uint8Array(Math.floor(random() * 5)),
    () => detached,
    () => new Uint8Array(new SharedArrayBuffer(8), 2, 3),
    () => new Proxy(new Uint8Array([1]), {}),
    () => new Uint16Array(2),
    () => new ArrayBuffer(3),
    () => ({}),
    () => ({ type: pick(['put', 'del', 'merge', 7]), key: pick(['k', '', 5, null]), value: pick(['v', undefined, {}]) }),
    () => ({ get valueEncoding() { throw new Error('getter'); } }),
    () => new Proxy({}, { get() { throw new RangeError('trap'); }, ownKeys() { throw new Error('trap'); } }),
    () => cyclic,
    () => deep,
    () => new Date(),
    () => new Map([[1, 2]]),
    () => [1, 'two', null],
    () => [],
    () => () => 1,
    () => Symbol('s'),
    () => 10n,
    () => ({ valueEncoding: pick(['utf8', 'bytes', 'json', 'yaml', 1]), keyEncoding: pick(['utf8', 'bytes', 'x']) }),
    () => ({ gt: pick(['a', 5, null]), lt: pick(['z', {}]), limit: pick([1, -1, -5, 1.5, Infinity, 'x']), reverse: pick([true, 'yes', 1]) }),
    () => ({ prefix: pick(['k', '', new Uint8Array(0), 3]) }),
    () => ({ snapshot: pick([{}, null, 'snap']) }),
    () => ({ checks: pick([[], [{ key: 'k', version: null }], [{ key: 'k', version: 5 }], 'x', [null]]) }),
    () => ({ interval: pick([1, 0, -1, 'x']), level: pick(['info', 'loud']), onLog: pick([() => {}, 'x']) }),
    () => ({ storage: pick(['memory', 'fs', 'nope', 5]), path: pick([5, '', '\0']) }),
  ];
  return () => pick(values)();
}

test(`every rejection of the public API is a documented PpdbError (seed ${SEED}, ${CALLS} calls per flavour)`, async () => {
  console.log(`fuzz-api: PPDB_FUZZ_SEED=${SEED} PPDB_FUZZ_CALLS=${CALLS}`);
  const root = mkdtempSync(join(tmpdir(), 'ppdb-fuzz-'));
  const byCode = {};
  const examples = {};
  // open() of a random name makes ./<name>: here, not in the repo.
  const cwd = process.cwd();
  process.chdir(root);
  try {
    for (const threads of [true, false]) {
      const random = generator(SEED + (threads ? 1 : 0));
      const value = hostileValues(random);
      const path = join(root, `store-${threads}`);
      const openStore = () => ppdb.open('fuzz', { path, threads, memtableSize: 64 * 1024 });
      let db = await openStore();
      const calls = [
        () => db.put(value(), value(), value()),
        () => db.put(`k${Math.floor(random() * 50)}`, value()),
        () => db.get(value(), value()),
        () => db.getMany(random() < 0.5 ? [value(), value()] : value(), value()),
        () => db.getWithVersion(value(), value()),
        () => db.del(value(), value()),
        () => db.batch(random() < 0.5 ? [value(), value()] : value(), value()),
        () => db.batch().put(value(), value(), value()).del(value()).check(value(), value()).write(value()),
        async () => db.iterator(value()).all(),
        async () => {
          const it = db.keys(value());
          await it.next();
          return it.return();
        },
        async () => db.values(value()).next(),
        () => db.clear(value()),
        async () => {
          const snapshot = db.snapshot();
          try {
            await snapshot.get(value(), value());
            await snapshot.iterator(value()).all();
          } finally {
            snapshot.close();
          }
        },
        () => db.flush(),
        () => db.compact(),
        () => db.stats(),
        () => db.metrics(),
        () => db.metricsText(),
        async () => db.setAlerts(value(), value()),
        async () => db.checkAlerts(),
        async () => db.share(),
        () => ppdb.exportNdjson(random() < 0.7 ? db : value(), value()).next(),
        () => ppdb.importNdjson(random() < 0.7 ? db : value(), random() < 0.5 ? value() : '{"key":"i","value":"v"}\n', value()),
        () => ppdb.setLogger(random() < 0.5 ? value() : { level: 'off' }),
        () => ppdb.attach(value()),
        () => ppdb.open(value(), value()).then((other) => other.close()),
        () => ppdb.open(`n${Math.floor(random() * 3)}`, { storage: 'memory', valueEncoding: random() < 0.5 ? 'json' : value() }).then((other) => other.close()),
        () => ppdb.destroy(value(), value()),
        // racing close(): calls in the same tick as close, then a reopen
        async () => {
          const racing = [db.put('r', 'v'), db.compact(), db.batch([{ type: 'del', key: 'r' }]), db.iterator().all(), db.get('r')];
          const closing = db.close();
          const outcomes = await Promise.allSettled([...racing, closing]);
          db = await openStore();
          for (const outcome of outcomes) if (outcome.status === 'rejected') throw outcome.reason;
        },
      ];
      for (let i = 0; i < CALLS; i++) {
        const which = Math.floor(random() * calls.length);
        try {
          await calls[which]();
        } catch (err) {
          const where = `call #${which} at step ${i} (PPDB_FUZZ_SEED=${SEED})`;
          assert.ok(err instanceof ppdb.PpdbError, `${where} threw a ${err?.constructor?.name}: ${err?.stack ?? err}`);
          assert.ok(CODES.includes(err.code), `${where}: undocumented code ${err.code}`);
          assert.notEqual(err.code, 'INTERNAL', `${where}: ${err.stack}`);
          byCode[err.code] = (byCode[err.code] ?? 0) + 1;
          examples[err.code] ??= err.message.slice(0, 160);
        }
        if (i % 50 === 0) {
          // The store still works after whatever came before.
          await db.put('canary', `c${i}`);
          assert.equal(await db.get('canary'), `c${i}`, `the store stopped working by step ${i}`);
        }
      }
      await db.close();
    }
  } finally {
    await ppdb.setLogger({ level: 'off' });
    process.chdir(cwd);
    rmSync(root, { recursive: true, force: true });
  }
  console.log(`fuzz-api: ${2 * CALLS} calls, rejections by code: ${JSON.stringify(byCode)}`);
  console.log(`fuzz-api: one message per code: ${JSON.stringify(examples, null, 1)}`);
  assert.ok((byCode.INVALID_ARGUMENT ?? 0) > CALLS / 10, 'hostile arguments are refused');
});
