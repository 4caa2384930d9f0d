// close() while writes wait at level 0's stop trigger (pkg/api/maintenance.js): the close
// finishes, every stalled write's promise settles (resolved, or rejected with CLOSED), and
// a reopen finds every write whose promise resolved, and no write that was never made.
// The triggers are lowered (slowdown 2, stop 3 tables) and the memtables are 1 MiB, so a few
// MB of writes reach the stop trigger and compacting level 0 takes several 4 ms slices.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open } from '../../pkg/index.js';
import { level0Triggers } from '../../pkg/api/maintenance.js';

const root = mkdtempSync(join(tmpdir(), 'ppdb-stall-close-'));
const saved = { ...level0Triggers };
Object.assign(level0Triggers, { slowdown: 2, stop: 3 });
after(() => {
  Object.assign(level0Triggers, saved);
  rmSync(root, { recursive: true, force: true });
});

/** Writes fired per round, with no task between them (the background timer cannot drain level 0 during a round). */
const ROUND = 1000;

const settledWithin = (promise, ms) =>
  Promise.race([promise.then(() => true, () => true), new Promise((resolve) => setTimeout(() => resolve(false), ms))]);

for (const build of ['single', 'threaded']) {
  for (const durability of ['sync', 'relaxed']) {
    test(`${build} build, ${durability}: close() during a stall at level 0's stop trigger`, { timeout: 120_000 }, async (t) => {
      const path = join(root, `${build}-${durability}`);
      const options = { storage: 'fs', path, durability, threads: build === 'threaded', memtableSize: 1024 * 1024 };
      const db = await open('stall', options);
      const value = 'v'.repeat(1000);
      const outcomes = new Map(); // key -> undefined (waiting), 'resolved' or an error code
      const pending = [];
      let closing = null;
      let level0 = 0;
      let reached = 0; // the most tables level 0 held at a check
      let waiting = 0;
      // Rounds of writes fired without waiting, until, one task later, some are still held
      // back once level 0 reached its slowdown trigger: then close(), at once. (Between the
      // stats and close() only microtasks run, and a stall ends only in a later task; the
      // maintenance worker may have brought level 0 under the trigger already, with the
      // writes it held back still waiting.)
      for (let round = 0; round < 150 && !closing; round++) {
        for (let i = 0; i < ROUND; i++) {
          const key = `k${String(round * ROUND + i).padStart(6, '0')}`;
          outcomes.set(key, undefined);
          const write = db.put(key, value).then(
            () => outcomes.set(key, 'resolved'),
            (err) => outcomes.set(key, err.code),
          );
          pending.push(write);
        }
        await new Promise((resolve) => setImmediate(resolve));
        level0 = (await db.stats()).tablesPerLevel[0];
        reached = Math.max(reached, level0);
        waiting = [...outcomes.values()].filter((o) => o === undefined).length;
        if (waiting > 0 && reached >= level0Triggers.slowdown) closing = db.close();
      }
      assert.ok(closing, 'no write was held back at level 0\'s triggers');
      const written = pending.length;
      assert.ok(await settledWithin(closing, 30_000), 'close() did not finish during a stall');
      assert.ok(await settledWithin(Promise.all(pending), 10_000), 'a stalled write never settled after close()');
      for (const [key, outcome] of outcomes) assert.ok(outcome === 'resolved' || outcome === 'CLOSED', `${key}: ${outcome}`);
      const closedOnes = [...outcomes.values()].filter((o) => o === 'CLOSED').length;
      t.diagnostic(`${written} writes, ${waiting} waiting at close with ${level0} tables in level 0; ${closedOnes} rejected with CLOSED`);

      const reopened = await open('stall', options);
      try {
        let found = 0;
        for await (const [key, read] of reopened.iterator()) {
          assert.ok(outcomes.has(key), `${key} was never written`);
          assert.equal(read, value);
          found++;
        }
        for (const [key, outcome] of outcomes) {
          if (outcome === 'resolved') assert.equal(await reopened.get(key), value, `${key} was acknowledged, then lost`);
        }
        assert.ok(found <= written);
      } finally {
        await reopened.close();
      }
    });
  }
}
