// A bulk load on Node fs and the reads right after it, before any explicit compact():
// `n` records (16-byte random keys, 100-byte values) in batches of 1,000, relaxed, one
// awaited batch after another, then `reads` awaited random gets. Both builds, with level 0's
// slowdown and stop triggers (pkg/api/maintenance.js) and without them (set to Infinity), so
// one run shows what they cost the load and what they give the reads.
// Exports `runBulkLoad({ n, reads, rounds })`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open } from '../../pkg/index.js';
import { level0Triggers } from '../../pkg/api/maintenance.js';
import { median } from '../js/db-bench.mjs';

const BATCH = 1000;
const encoder = new TextEncoder();

/** The `i`-th key of the load: a 16-hex-digit pseudo-random number. */
const keyOf = (i) => encoder.encode((Math.imul(i + 1, 0x9e3779b1) >>> 0).toString(16).padStart(16, '0'));

async function round({ dir, threads, n, reads }) {
  const db = await open('bulk', { storage: 'fs', path: dir, durability: 'relaxed', threads, keyEncoding: 'bytes', valueEncoding: 'bytes' });
  const value = new Uint8Array(100).fill(0x61);
  let mostLevel0 = 0;
  const started = performance.now();
  for (let b = 0; b < n / BATCH; b++) {
    const ops = [];
    for (let i = b * BATCH; i < (b + 1) * BATCH; i++) ops.push({ type: 'put', key: keyOf(i), value });
    await db.batch(ops);
    if (b % 10 === 0) mostLevel0 = Math.max(mostLevel0, (await db.stats()).tablesPerLevel[0]);
  }
  const load = n / ((performance.now() - started) / 1000);
  const { tablesPerLevel } = await db.stats();
  const readStarted = performance.now();
  let found = 0;
  for (let r = 0; r < reads; r++) {
    if ((await db.get(keyOf((Math.imul(r, 0x2545f491) >>> 0) % n))) !== undefined) found++;
  }
  const readrandom = reads / ((performance.now() - readStarted) / 1000);
  await db.close();
  if (found !== reads) throw new Error(`bulk load: ${reads - found} of ${reads} keys missing`);
  return { load, readrandom, mostLevel0, level0AfterLoad: tablesPerLevel[0] };
}

export async function runBulkLoad({ n, reads, rounds }) {
  const root = mkdtempSync(join(tmpdir(), 'ppdb-bulk-load-'));
  const saved = { ...level0Triggers };
  const results = [];
  try {
    for (const build of ['single', 'threaded']) {
      for (const triggers of [true, false]) {
        Object.assign(level0Triggers, triggers ? saved : { slowdown: Infinity, stop: Infinity });
        const runs = [];
        for (let r = 0; r < rounds; r++) {
          const dir = join(root, `${build}-${triggers}-${r}`);
          runs.push(await round({ dir, threads: build === 'threaded', n, reads }));
          rmSync(dir, { recursive: true, force: true });
        }
        const pick = (k) => median(runs.map((x) => x[k]));
        results.push({ build, triggers, load: pick('load'), readrandom: pick('readrandom'), mostLevel0: pick('mostLevel0'), level0AfterLoad: pick('level0AfterLoad') });
      }
    }
  } finally {
    Object.assign(level0Triggers, saved);
    rmSync(root, { recursive: true, force: true });
  }
  return results;
}
