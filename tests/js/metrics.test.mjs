// Metrics agree with the operations performed; the Prometheus text parses with the official
// Prometheus client's parser (Python prometheus_client) and agrees with metrics(); an alert
// rule fires on purpose; logging reaches a callback; the latency rule switches memtables.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open, setLogger } from '../../pkg/index.js';

const root = mkdtempSync(join(tmpdir(), 'ppdb-metrics-'));
test.after(() => rmSync(root, { recursive: true, force: true }));

/** Parses Prometheus text with prometheus_client; returns [{ name, labels, value }]. */
function parsePrometheus(text) {
  const script = `
import json, sys
from prometheus_client.parser import text_string_to_metric_families
out = []
for family in text_string_to_metric_families(sys.stdin.read()):
    for s in family.samples:
        out.append({"family": family.name, "type": family.type, "name": s.name, "labels": s.labels, "value": s.value})
print(json.dumps(out))
`;
  return JSON.parse(execFileSync('python3', ['-c', script], { input: text, encoding: 'utf8' }));
}

const sampleOf = (samples, name, labels = {}) =>
  samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));

for (const threads of [true, false]) {
  test(`metrics count what was done, and the Prometheus text says the same (${threads ? 'threaded' : 'single'})`, async () => {
    const db = await open('counted', { storage: 'fs', path: join(root, `counted-${threads}`), threads, memtableSize: 16 * 1024 });
    for (let i = 0; i < 400; i++) await db.put(`k${String(i).padStart(4, '0')}`, 'v'.repeat(40));
    for (let i = 0; i < 50; i++) await db.del(`k${String(i).padStart(4, '0')}`);
    await db.batch([{ type: 'put', key: 'x', value: '1' }, { type: 'put', key: 'y', value: '2' }]);
    for (let i = 0; i < 100; i++) await db.get(`k${String(i).padStart(4, '0')}`);
    let scanned = 0;
    for await (const [k, v] of db.iterator({ prefix: 'k' })) scanned += k.length + v.length;
    await db.compact();
    const m = await db.metrics();
    assert.equal(m.operations.put, 402);
    assert.equal(m.operations.delete, 50);
    assert.equal(m.operations.batch, 451);
    assert.equal(m.operations.get, 100);
    assert.equal(m.operations.scan, 1);
    assert.ok(m.operations.flush > 0 && m.operations.memtableSwitch > 0, JSON.stringify(m.operations));
    // One single-operation write in 8 is timed (SAMPLE in src/metrics): the 1st, 9th, ...
    // 449th of the 450 puts and deletes; a batch of several operations always.
    assert.equal(m.latency.put.count, 57);
    assert.equal(m.latency.batch.count, 1);
    // One get in 8 is timed: the 1st, 9th, ... 97th.
    assert.equal(m.latency.get.count, 13);
    for (const l of Object.values(m.latency)) assert.ok(l.p50 <= l.p90 && l.p90 <= l.p99 && l.p99 <= l.max);
    assert.equal(m.bytes.written, 400 * 45 + 50 * 5 + 2 + 2);
    // Keys 50..99 were found (5 + 40 bytes each), then the scan.
    assert.equal(m.bytes.read, 50 * 45 + scanned);
    assert.ok(m.memory.wasm > 0 && m.memory.limit > 0);
    assert.ok(m.compressionRatio > 0 && m.compressionRatio < 1);
    assert.ok(m.levels.reduce((n, l) => n + l.tables, 0) > 0);
    assert.ok(m.wal.bytes > m.bytes.written);

    const text = await db.metricsText();
    const samples = parsePrometheus(text);
    assert.equal(sampleOf(samples, 'ppdb_operations_total', { op: 'put' }).value, 402);
    assert.equal(sampleOf(samples, 'ppdb_operations_total', { op: 'get' }).value, 100);
    assert.equal(sampleOf(samples, 'ppdb_bytes_written_total').value, m.bytes.written);
    assert.equal(sampleOf(samples, 'ppdb_latency_seconds_count', { op: 'put' }).value, 57);
    const putSeconds = sampleOf(samples, 'ppdb_latency_seconds_sum', { op: 'put' }).value;
    assert.ok(Math.abs(putSeconds * 1000 - m.latency.put.mean * 57) < 1e-9, `put latency sum ${putSeconds} s`);
    // The engine's snake_case names, as the native renderer writes them.
    assert.ok(samples.some((s) => s.name === 'ppdb_latency_seconds_count' && s.labels.op === 'wal_write'), 'wal_write latency');
    assert.ok(Math.abs(sampleOf(samples, 'ppdb_latency_seconds', { op: 'put', quantile: '0.99' }).value * 1000 - m.latency.put.p99) < 1e-9);
    assert.equal(sampleOf(samples, 'ppdb_level_tables', { level: '0' }).value, m.levels[0].tables);
    assert.ok(sampleOf(samples, 'ppdb_memory_bytes', { part: 'wasm' }).value > 0);
    const types = new Map(samples.map((s) => [s.family, s.type]));
    assert.equal(types.get('ppdb_operations'), 'counter');
    assert.equal(types.get('ppdb_latency_seconds'), 'summary');
    assert.equal(types.get('ppdb_cache_hit_ratio'), 'gauge');
    await db.close();
  });
}

test('an alert rule raises an alert event once when it becomes true', async () => {
  const db = await open('alerts', { storage: 'memory', alerts: [{ name: 'any put is slow', metric: 'put.max', above: 0 }], alertInterval: 20 });
  const seen = [];
  db.addEventListener('alert', (event) => seen.push(event.detail));
  await new Promise((resolve) => setTimeout(resolve, 60));
  assert.equal(seen.length, 0, 'nothing before the first put');
  await db.put('k', 'v');
  for (let i = 0; i < 50 && seen.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(seen.length, 1);
  assert.equal(seen[0].rule, 'any put is slow');
  assert.ok(seen[0].value > 0 && seen[0].threshold === 0 && seen[0].time > 0);
  await new Promise((resolve) => setTimeout(resolve, 60));
  assert.equal(seen.length, 1, 'a lasting condition raises one alert');
  assert.throws(() => db.setAlerts([{ metric: 'nonsense', above: 1 }]), (err) => err.code === 'INVALID_ARGUMENT');
  assert.throws(() => db.setAlerts([{ metric: 'cacheHitRate', above: 1, below: 0 }]), (err) => err.code === 'INVALID_ARGUMENT');
  db.setAlerts([{ metric: 'memoryUse', above: 0 }]);
  assert.deepEqual(db.checkAlerts().map((a) => a.rule), ['memoryUse above 0']);
  await db.close();
});

test('the engine logs to a callback in one format, quiet until asked', async () => {
  const entries = [];
  await setLogger({ level: 'off', onLog: (entry) => entries.push(entry) });
  let db = await open('quiet', { storage: 'fs', path: join(root, 'quiet') });
  await db.close();
  assert.equal(entries.length, 0, 'off logs nothing');
  await setLogger({ level: 'info', onLog: (entry) => entries.push(entry) });
  db = await open('quiet', { storage: 'fs', path: join(root, 'quiet'), threads: true, backgroundWorker: false });
  await db.close();
  // The maintenance worker's records (its flushes) reach this thread's callback too.
  db = await open('worker-logs', { storage: 'fs', path: join(root, 'worker-logs'), threads: true, memtableSize: 16 * 1024 });
  assert.equal(db.maintenance, 'worker');
  for (let i = 0; i < 400; i++) await db.put(`k${i}`, 'v'.repeat(100));
  for (let i = 0; i < 100 && !entries.some((e) => e.message.startsWith('flushed')); i++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await db.close();
  await setLogger({ level: 'off' });
  const flushed = entries.find((e) => e.message === 'flushed a memtable to level 0');
  assert.ok(flushed, `no flush record: ${JSON.stringify(entries.map((e) => e.message))}`);
  assert.equal(flushed.module, 'ppdb::db::flush');
  const opened = entries.find((e) => e.message === 'opened a store');
  assert.ok(opened, JSON.stringify(entries));
  assert.equal(opened.level, 'info');
  assert.equal(opened.module, 'ppdb::db');
  assert.deepEqual(Object.keys(opened.fields).sort(), ['dropped', 'millis', 'records', 'segments']);
  // Field values are text: integers as such, fractions to three places.
  assert.match(opened.fields.segments, /^\d+$/);
  assert.match(opened.fields.millis, /^\d+\.\d{3}$/);
  assert.match(flushed.fields.table, /^[1-9]\d*$/);
  await assert.rejects(setLogger({ level: 'loud' }), (err) => err.code === 'INVALID_ARGUMENT');
});

test('latencySwitch moves writes to a fresh memtable when writes slow down', async () => {
  const write = async (latencySwitch) => {
    const db = await open('switch', { storage: 'fs', path: join(root, `switch-${Boolean(latencySwitch)}`), durability: 'relaxed', latencySwitch });
    for (let i = 0; i < 2000; i += 100) {
      await db.batch(Array.from({ length: 100 }, (_, j) => ({ type: 'put', key: `k${i + j}`, value: 'v'.repeat(100) })));
    }
    const { operations } = await db.metrics();
    await db.close();
    return operations.memtableSwitch;
  };
  assert.equal(await write(undefined), 0, 'far from the 4 MiB size limit');
  // A threshold every write exceeds: a switch once a memtable holds 32 KiB.
  assert.ok((await write({ averageMicros: 0, minMemtableBytes: 32 * 1024 })) >= 3);
});
