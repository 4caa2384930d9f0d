// abstract-level's compliance suite (node_modules/abstract-level/test, run with tape) on
// `ppdb/level`, in one configuration: `node tests/level/suite.mjs <memory|fs> <threaded|single>`.
// Prints TAP; tests/js/level.test.mjs runs every configuration and reads the counts.
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'tape';
import { PpdbLevel } from 'ppdb/level';

const require = createRequire(import.meta.url);
const suite = require('abstract-level/test');

const [storage = 'memory', build = 'threaded'] = process.argv.slice(2);
if (!['memory', 'fs'].includes(storage) || !['threaded', 'single'].includes(build)) {
  console.error('usage: node tests/level/suite.mjs <memory|fs> <threaded|single>');
  process.exit(2);
}
const folder = mkdtempSync(join(tmpdir(), 'ppdb-level-suite-'));
test.onFinish(() => rmSync(folder, { recursive: true, force: true }));

let stores = 0;
suite({
  test,
  factory(options) {
    const name = `suite-${stores++}`;
    return new PpdbLevel(name, { ...options, storage, threads: build === 'threaded', path: join(folder, name) });
  },
});
