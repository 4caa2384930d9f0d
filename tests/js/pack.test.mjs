// A user project installs the packed package (`npm pack`) and uses every call, and its CLI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readmeBlock } from './fixtures/readme.mjs';

const repo = fileURLToPath(new URL('../..', import.meta.url));

const userProgram = `
import { open, attach, PpdbError } from 'ppdb';
import { Worker } from 'node:worker_threads';
const out = {};
const db = await open('app', { storage: 'memory' });
out.flavour = db.flavour;
await db.put('b', '2');
await db.put('a', '1');
await db.batch([{ type: 'put', key: 'c', value: '3' }, { type: 'del', key: 'b' }]);
out.get = await db.get('a');
out.missing = await db.get('b');
out.entries = [];
for await (const [k, v] of db.iterator({ gte: 'a', limit: 5, reverse: true })) out.entries.push(k + '=' + v);
try { await db.put(42, 'x'); } catch (e) { out.error = [e instanceof PpdbError, e.code]; }
const token = db.share();
out.fromWorker = await new Promise((resolve, reject) => {
  const w = new Worker("import { attach } from 'ppdb'; import { parentPort } from 'node:worker_threads';" +
    "parentPort.once('message', async (t) => { const d = await attach(t); await d.put('w', 'hi'); parentPort.postMessage(await d.get('a')); });",
    { eval: true });
  w.once('message', (m) => { resolve(m); w.terminate(); });
  w.once('error', reject);
  w.postMessage(token);
});
out.workerWrite = await db.get('w');
await db.close();
try { await db.get('a'); } catch (e) { out.closed = e.code; }
const { PpdbLevel } = await import('ppdb/level');
const level = new PpdbLevel('level-app', { storage: 'memory', valueEncoding: 'json' });
await level.sublevel('s', { valueEncoding: 'json' }).put('k', { n: 1 });
out.level = await level.get('!s!k');
await level.close();
console.log(JSON.stringify(out));
`;

test('a project that installs the packed package can use every call', { timeout: 180_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'ppdb-user-'));
  try {
    const tarball = execFileSync('npm', ['pack', '--ignore-scripts', '--pack-destination', dir, '--silent'], {
      cwd: repo,
      encoding: 'utf8',
    }).trim().split('\n').pop();
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'user-app', private: true, type: 'module' }));
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts', join(dir, tarball)], { cwd: dir, stdio: 'pipe' });
    writeFileSync(join(dir, 'main.mjs'), userProgram);
    const result = JSON.parse(execFileSync('node', ['main.mjs'], { cwd: dir, encoding: 'utf8' }));
    assert.deepEqual(result, {
      flavour: 'threaded',
      get: '1',
      entries: ['c=3', 'a=1'],
      error: [true, 'INVALID_ARGUMENT'],
      fromWorker: '1',
      workerWrite: 'hi',
      closed: 'CLOSED',
      level: { n: 1 },
    });
    // The README's Node quick start, as pasted: twice, the second run finding the first's notes.
    writeFileSync(join(dir, 'app.mjs'), readmeBlock('**Node** (20+'));
    const first = execFileSync('node', ['app.mjs'], { cwd: dir, encoding: 'utf8' });
    assert.equal(first, 'note:1 buy milk 2027-01-01T00:00:00.000Z [ \'home\' ]\nnote:2 call Ada undefined []\n');
    assert.equal(execFileSync('node', ['app.mjs'], { cwd: dir, encoding: 'utf8' }), first);
    // The examples ship.
    const listed = execFileSync('tar', ['tzf', join(dir, tarball)], { encoding: 'utf8' }).split('\n');
    for (const file of ['examples/vite-app/vite.config.js', 'examples/workerd/config.capnp', 'examples/workerd/vite.config.js']) {
      assert.ok(listed.includes(`package/${file}`), `${file} is not in the package`);
    }
    // The command line ships too, linked as node_modules/.bin/ppdb with its dependency.
    assert.ok(execFileSync('tar', ['tzf', join(dir, tarball)], { encoding: 'utf8' }).split('\n').includes('package/bin/ppdb.mjs'));
    const ppdb = join(dir, 'node_modules', '.bin', 'ppdb');
    assert.match(execFileSync(ppdb, ['--help'], { cwd: dir, encoding: 'utf8' }), /^Usage: ppdb <dir> <command>/);
    execFileSync(ppdb, ['cli-store', 'put', 'k', 'from the cli'], { cwd: dir });
    assert.equal(execFileSync(ppdb, ['cli-store', 'get', 'k'], { cwd: dir, encoding: 'utf8' }), 'from the cli\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
