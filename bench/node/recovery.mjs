// Recovery speed on Node fs through the package: write N single-put records, then time
// reopening (the engine's own measurement, `db.recovery.millis`).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open } from '../../pkg/index.js';

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function runNodeRecovery({ n, runs }) {
  const path = mkdtempSync(join(tmpdir(), 'ppdb-bench-recovery-'));
  // One memtable, so nothing is flushed to tables: everything stays in the log recovery replays.
  const options = { storage: 'fs', path, durability: 'relaxed', memtableSize: 600 << 20, memoryLimit: 900 << 20, keyEncoding: 'bytes', valueEncoding: 'bytes' };
  try {
    let db = await open('recovery', options);
    const value = new Uint8Array(100).fill(0x5a);
    const key = new Uint8Array(16);
    const view = new DataView(key.buffer);
    for (let i = 0; i < n; i++) {
      view.setUint32(12, i);
      view.setUint32(0, Math.imul(i, 0x9e3779b1));
      await db.put(key, value);
    }
    await db.close();
    const rates = [];
    for (let run = 0; run < runs; run++) {
      db = await open('recovery', options);
      if (db.recovery.records !== n) throw new Error(`replayed ${db.recovery.records} of ${n}`);
      rates.push(n / (db.recovery.millis / 1000));
      await db.close();
    }
    return { recordsPerSec: median(rates) };
  } finally {
    rmSync(path, { recursive: true, force: true });
  }
}
