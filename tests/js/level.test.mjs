// `ppdb/level`: abstract-level's own compliance suite (tape) on memory and fs stores, in
// both builds, must pass with no failures; and the adapter as a Level user has it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { PpdbLevel } from 'ppdb/level';
import { open } from 'ppdb';

const suite = fileURLToPath(new URL('../level/suite.mjs', import.meta.url));
const run = promisify(execFile);

for (const storage of ['memory', 'fs']) {
  for (const build of ['threaded', 'single']) {
    test(`abstract-level's suite passes on ${storage}, ${build} build`, { timeout: 300_000 }, async (t) => {
      let stdout;
      try {
        ({ stdout } = await run(process.execPath, [suite, storage, build], { maxBuffer: 64 << 20 }));
      } catch (err) {
        // tape exits 1 when an assertion failed: show which.
        stdout = err.stdout ?? '';
        if (!/^# fail/m.test(stdout)) throw err;
      }
      const count = (name) => Number(stdout.match(new RegExp(`^# ${name}\\s+(\\d+)$`, 'm'))?.[1] ?? NaN);
      const failures = stdout.split('\n').filter((line) => line.startsWith('not ok')).slice(0, 20);
      t.diagnostic(`${count('tests')} assertions, ${count('pass')} passed, ${count('fail') || 0} failed`);
      assert.ok(count('tests') > 4000, `the suite ran (${count('tests')} assertions)`);
      assert.equal(count('pass'), count('tests'), `failures:\n${failures.join('\n')}`);
    });
  }
}

test('a Level user: encodings, sublevels, ranges, seek, snapshots; the data is a ppdb store', async () => {
  const folder = mkdtempSync(join(tmpdir(), 'ppdb-level-'));
  try {
    const path = join(folder, 'app');
    const db = new PpdbLevel('app', { storage: 'fs', path, valueEncoding: 'json' });
    const users = db.sublevel('users', { valueEncoding: 'json' });
    await users.put('ada', { name: 'Ada', born: 1815 });
    await users.put('alan', { name: 'Alan', born: 1912 });
    await db.put('config', { theme: 'dark' });
    assert.deepEqual(await users.get('ada'), { name: 'Ada', born: 1815 });
    assert.deepEqual(await users.keys({ gte: 'a', gt: 'ada' }).all(), ['ada', 'alan'], "gte wins over gt, as Level's rule says");
    const snapshot = db.snapshot();
    await users.del('ada');
    assert.equal(await users.get('ada'), undefined);
    assert.deepEqual(await users.get('ada', { snapshot }), { name: 'Ada', born: 1815 });
    await snapshot.close();
    const it = db.keys();
    it.seek('!users!alan');
    assert.equal(await it.next(), '!users!alan');
    await it.close();
    assert.equal(db.store.storage, 'fs');
    await db.close();

    // The same folder, opened by ppdb itself: the bytes Level wrote.
    const store = await open('app', { storage: 'fs', path, valueEncoding: 'json' });
    assert.deepEqual(await store.iterator().all(), [
      ['!users!alan', { name: 'Alan', born: 1912 }],
      ['config', { theme: 'dark' }],
    ]);
    await store.close();
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});
