// The fs storage through the public API in Deno and Bun (installed from npm by the setup),
// as well as Node: the same script must see the same store in each.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const script = join(repo, 'tests/runtimes/fs-store.mjs');
const bin = (name) => join(repo, 'node_modules/.bin', name);
const root = mkdtempSync(join(tmpdir(), 'ppdb-runtimes-'));
after(() => rmSync(root, { recursive: true, force: true }));

const runtimes = {
  node: (dir) => [process.execPath, [script, dir]],
  deno: (dir) => [bin('deno'), ['run', '--allow-read', '--allow-write', '--allow-env', '--allow-sys', script, dir]],
  bun: (dir) => [bin('bun'), [script, dir]],
};

for (const [name, command] of Object.entries(runtimes)) {
  test(`an fs store works through the package in ${name}`, { timeout: 120_000 }, () => {
    const [file, args] = command(join(root, name));
    // (A synchronous child blocks this test's own timeout: the child's is what ends a hang.)
    const output = execFileSync(file, args, { cwd: repo, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 100_000, killSignal: 'SIGKILL' });
    assert.deepEqual(JSON.parse(output.trim().split('\n').pop()), {
      storage: 'fs',
      flavour: 'threaded',
      records: 201,
      k199: 'v199',
      k000: null,
      count: 200,
      second: 'LOCKED',
    });
  });
}
