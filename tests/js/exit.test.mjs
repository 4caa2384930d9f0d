// A program that never calls close() exits on its own, promptly, in Node, Deno and Bun, in
// both builds: nothing the package starts (the maintenance worker, timers, channels) keeps
// the process alive. What it wrote is there when the store is opened again: sync writes
// were durable already, relaxed ones are synced as the process exits.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { open } from '../../pkg/index.js';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const script = join(repo, 'tests/runtimes/never-closes.mjs');
const bin = (name) => join(repo, 'node_modules/.bin', name);
const root = mkdtempSync(join(tmpdir(), 'ppdb-exit-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** How long a process may take to exit after its last statement. */
const EXIT_WITHIN_MS = 1000;

const runtimes = {
  node: (args) => [process.execPath, [script, ...args]],
  deno: (args) => [bin('deno'), ['run', '--allow-read', '--allow-write', '--allow-env', '--allow-sys', script, ...args]],
  bun: (args) => [bin('bun'), [script, ...args]],
};

/** Runs the program; resolves with `{ code, line, afterDone }` (ms from its "done" line to its exit). */
function run(file, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd: repo, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let doneAt = null;
    child.stdout.on('data', (d) => {
      out += d;
      if (doneAt === null && /^done /m.test(out)) doneAt = performance.now();
    });
    child.stderr.on('data', (d) => (err += d));
    const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      clearTimeout(killer);
      if (doneAt === null) return reject(new Error(`no "done" (exit ${code}, ${signal}):\n${out}\n${err}`));
      resolve({ code, signal, line: out.trim().split('\n').pop(), afterDone: performance.now() - doneAt, err });
    });
  });
}

for (const [name, command] of Object.entries(runtimes)) {
  for (const build of ['threaded', 'single']) {
    for (const durability of ['sync', 'relaxed']) {
      test(`${name}, ${build} build, ${durability}: a program that never calls close() exits at once, its writes kept`, { timeout: 60_000 }, async (t) => {
        const dir = join(root, `${name}-${build}-${durability}`);
        const [file, args] = command([dir, durability, build]);
        const { code, signal, line, afterDone, err } = await run(file, args);
        t.diagnostic(`exited ${Math.round(afterDone)} ms after its last statement (${line})`);
        assert.equal(code, 0, `exit ${code} ${signal}: ${err}`);
        assert.equal(line, `done ${build} ${build === 'threaded' ? 'worker' : 'steps'}`);
        assert.ok(afterDone < EXIT_WITHIN_MS, `it took ${Math.round(afterDone)} ms to exit`);
        const db = await open('unclosed', { storage: 'fs', path: dir });
        try {
          assert.equal((await db.keys({ prefix: 'k' }).all()).length, 300);
          assert.equal((await db.keys({ prefix: 'b' }).all()).length, 200);
          assert.equal(await db.get('k299'), 'v299');
        } finally {
          await db.close();
        }
      });
    }
  }
}
