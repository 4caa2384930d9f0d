// db_bench through the package on Node fs (threaded build; flushes and compactions on the
// maintenance worker). Exports `runNodeDbBench({ n, rounds })`.
import { mkdtempSync, rmSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open, destroy } from '../../pkg/index.js';
import { dbBenchRound, medians } from '../js/db-bench.mjs';

function dirBytes(dir) {
  return readdirSync(dir).reduce((sum, f) => sum + statSync(join(dir, f)).size, 0);
}

export async function runNodeDbBench({ n, rounds }) {
  const root = mkdtempSync(join(tmpdir(), 'ppdb-db-bench-node-'));
  const options = (name) => ({ storage: 'fs', path: join(root, name), keyEncoding: 'bytes', valueEncoding: 'bytes', durability: 'relaxed' });
  try {
    const results = [];
    for (let r = 0; r < rounds; r++) {
      results.push(
        await dbBenchRound({
          n,
          openStore: (name) => open(name, options(name)),
          removeStore: (name) => destroy(name, options(name)),
          storeBytes: async (name) => dirBytes(join(root, name)),
        }),
      );
    }
    return medians(results);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
