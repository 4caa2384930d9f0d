// `npm run bench`: the native and wasm-in-Node memtable benchmarks in one run, printed side
// by side with wasm/native ratios. PPDB_BENCH_N (default 1000000), PPDB_BENCH_RUNS (5).
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { runWasm, runPackage } from './node/memtable.mjs';
import { runNodeRecovery } from './node/recovery.mjs';
import { runBrowser } from './browser/run.mjs';

const n = Number(process.env.PPDB_BENCH_N ?? 1_000_000);
const runs = Number(process.env.PPDB_BENCH_RUNS ?? 5);
const repo = fileURLToPath(new URL('..', import.meta.url));

console.log(`memtable benchmark: ${n} entries (16-byte keys, 100-byte values), median of ${runs} runs\n`);
const nativeOut = execFileSync('cargo', ['bench', '--quiet', '--bench', 'memtable', '--', '--json'], {
  cwd: repo,
  encoding: 'utf8',
  env: { ...process.env, PPDB_BENCH_N: String(n), PPDB_BENCH_RUNS: String(runs) },
  stdio: ['ignore', 'pipe', 'inherit'],
});
const native = JSON.parse(nativeOut.trim().split('\n').pop());
const wasm = await runWasm({ n, runs });

const fmt = (x) => (x === undefined ? '-' : Math.round(x).toLocaleString('en-US'));
const ratio = (a, b) => (a === undefined || b === undefined ? '-' : (a / b).toFixed(2));
const rows = [['operation', 'native ops/s', 'wasm threaded', 'wasm single', 'threaded/native', 'single/native']];
for (const op of ['put_1_writer', 'put_2_writers', 'get', 'scan']) {
  const nat = native.ops_per_sec[op];
  const thr = wasm.threaded.opsPerSec[op];
  const sgl = wasm.single.opsPerSec[op];
  rows.push([op, fmt(nat), fmt(thr), fmt(sgl), ratio(thr, nat), ratio(sgl, nat)]);
}
const raw = 16 + 100;
rows.push([
  'bytes/entry',
  `${native.bytes_per_entry.toFixed(1)} (${(native.bytes_per_entry / raw).toFixed(2)}x)`,
  `${wasm.threaded.bytesPerEntry.toFixed(1)} (${(wasm.threaded.bytesPerEntry / raw).toFixed(2)}x)`,
  `${wasm.single.bytesPerEntry.toFixed(1)} (${(wasm.single.bytesPerEntry / raw).toFixed(2)}x)`,
  '',
  '',
]);
const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
for (const [i, row] of rows.entries()) {
  console.log(row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  '));
  if (i === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
}

const apiN = Math.min(n, 200_000);
const api = await runPackage({ n: apiN, runs });
console.log(`\npackage API in Node (await db.put / db.get per call, ${apiN} entries, threaded build):`);
console.log(`  put ${fmt(api.put)} ops/s, get ${fmt(api.get)} ops/s`);

// Recovery: records replayed per second, natively and on Node fs through the package.
const recoveryN = Number(process.env.PPDB_BENCH_RECOVERY_N ?? 1_000_000);
const nativeRecovery = JSON.parse(
  execFileSync('cargo', ['bench', '--quiet', '--bench', 'recovery', '--', '--json'], {
    cwd: repo,
    encoding: 'utf8',
    env: { ...process.env, PPDB_BENCH_RECOVERY_N: String(recoveryN), PPDB_BENCH_RUNS: String(runs) },
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim().split('\n').pop(),
);
const nodeRecovery = await runNodeRecovery({ n: recoveryN, runs });
console.log(`\nrecovery of ${recoveryN.toLocaleString('en-US')} records (open replays the log), median of ${runs}:`);
console.log(`  native std::fs   ${fmt(nativeRecovery.records_per_sec)} records/s`);
console.log(`  wasm on Node fs  ${fmt(nodeRecovery.recordsPerSec)} records/s (${ratio(nodeRecovery.recordsPerSec, nativeRecovery.records_per_sec)}x native)`);

// LevelDB's db_bench workloads natively: ppdb and fjall side by side (bench/db, its own crate).
const dbBench = JSON.parse(
  execFileSync('cargo', ['run', '--quiet', '--release', '--', '--json'], {
    cwd: `${repo}/bench/db`,
    encoding: 'utf8',
    env: { ...process.env, PPDB_BENCH_DB_N: process.env.PPDB_BENCH_DB_N ?? String(n) },
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim().split('\n').pop(),
);
console.log(`\ndb_bench natively, ${dbBench.n.toLocaleString('en-US')} entries, median of ${dbBench.rounds} rounds (ops/s):`);
for (const [workload, r] of Object.entries(dbBench.ops_per_sec)) {
  console.log(`  ${workload.padEnd(26)} ppdb ${fmt(r.ppdb).padStart(10)}  fjall ${fmt(r.fjall).padStart(10)}  ${ratio(r.ppdb, r.fjall).padStart(6)}x`);
}
console.log(`  space amplification: ppdb ${dbBench.space_amplification.ppdb.toFixed(2)}, fjall ${dbBench.space_amplification.fjall.toFixed(2)}; write amplification: ppdb ${dbBench.write_amplification.ppdb.toFixed(2)}`);

// Durable writes in headless Chromium, in a dedicated worker.
const durableN = Number(process.env.PPDB_BENCH_DURABLE_N ?? 2000);
const browserRuns = Math.max(3, Math.min(runs, 5));
const durable = await runBrowser({ n: durableN, runs: browserRuns });
const rawIdb = durable.find((r) => r.label.startsWith('raw')).opsPerSec;
console.log(`\ndurable writes in Chromium (dedicated worker; ${durableN} puts, relaxed ${durableN * 10}), median of ${browserRuns}:`);
const width = Math.max(...durable.map((r) => r.label.length));
for (const r of durable) {
  console.log(`  ${r.label.padEnd(width)}  ${fmt(r.opsPerSec).padStart(8)} ops/s  ${ratio(r.opsPerSec, rawIdb).padStart(6)}x raw IndexedDB`);
}
