// Level 0 stays bounded under sustained writes: a bulk load of a few hundred MB in batches
// of 1,000 (fs, relaxed) that never yields the event loop a task. With the maintenance on
// the writer's own thread (single build: 'steps'), writers pay for the compaction work
// they make past the slowdown trigger and wait past the stop trigger, so level 0 never
// holds more than the stop trigger's tables. With the threaded build's maintenance worker,
// writers pause for it; it may flush a memtable or two between two looks of a writer.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open } from '../../pkg/index.js';
import { level0Triggers } from '../../pkg/api/maintenance.js';

const root = mkdtempSync(join(tmpdir(), 'ppdb-level0-'));
after(() => rmSync(root, { recursive: true, force: true }));

const RECORDS = Number(process.env.PPDB_LEVEL0_RECORDS ?? 2_000_000);
const BATCH = 1000;

for (const build of ['single', 'threaded']) {
  test(`${build} build: a bulk load of ${RECORDS.toLocaleString('en')} records keeps level 0 bounded`, { timeout: 300_000 }, async (t) => {
    const db = await open('bulk', { storage: 'fs', path: join(root, build), durability: 'relaxed', threads: build === 'threaded', keyEncoding: 'bytes', valueEncoding: 'bytes' });
    const encoder = new TextEncoder();
    const value = new Uint8Array(100).fill(0x61);
    let seed = 1;
    let most = 0;
    for (let b = 0; b < RECORDS / BATCH; b++) {
      const ops = [];
      for (let i = 0; i < BATCH; i++) {
        seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
        ops.push({ type: 'put', key: encoder.encode(seed.toString(16).padStart(16, '0')), value });
      }
      await db.batch(ops);
      most = Math.max(most, (await db.stats()).tablesPerLevel[0]);
    }
    const { tablesPerLevel, maintenance } = { ...(await db.stats()), maintenance: db.maintenance };
    const { stop } = level0Triggers;
    t.diagnostic(`${maintenance}: level 0 held at most ${most} tables (stop trigger ${stop}); at the end ${JSON.stringify(tablesPerLevel.slice(0, 4))}`);
    assert.equal(maintenance, build === 'single' ? 'steps' : 'worker');
    assert.ok(most <= (build === 'single' ? stop : stop + 2), `level 0 reached ${most} tables`);
    // Every record is there (the generator has full period 2^32: no two keys are equal).
    let count = 0;
    for await (const key of db.keys()) count += key.length === 16 ? 1 : 0;
    assert.equal(count, RECORDS);
    await db.close();
  });
}
