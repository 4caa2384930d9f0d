// `npm run bench`: the native and wasm-in-Node memtable benchmarks in one run, printed side
// by side with wasm/native ratios. PPDB_BENCH_N (default 1000000), PPDB_BENCH_RUNS (5).
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { runWasm, runPackage } from './node/memtable.mjs';
import { runNodeRecovery } from './node/recovery.mjs';
import { runBulkLoad } from './node/bulk-load.mjs';
import { runBrowser, runBrowserDbBench } from './browser/run.mjs';
import { runNodeDbBench } from './node/db-bench.mjs';
import { WORKLOADS as DB_WORKLOADS } from './js/db-bench.mjs';
import { benchPeers } from './peers.mjs';
import { benchShared } from './browser/shared.mjs';
import { fmt, ratio, printTable, markdownTable } from './js/tables.mjs';

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

/** Everything measured, written to bench/results.json; and the same as Markdown tables. */
const report = { date: new Date().toISOString(), machine: `${os.cpus().length} cores, ${os.cpus()[0]?.model ?? ''}`.trim() };
const markdown = [];

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
printTable(rows);
report.memtable = { n, runs, native, wasm };
markdown.push(`### Memtable, ${n.toLocaleString('en-US')} entries (ops/s, median of ${runs})`, '', markdownTable(rows), '');

const apiN = Math.min(n, 200_000);
const api = await runPackage({ n: apiN, runs });
console.log(`\npackage API in Node (await db.put / db.get per call, ${apiN} entries, threaded build):`);
console.log(`  put ${fmt(api.put)} ops/s, get ${fmt(api.get)} ops/s`);
report.packageApi = { n: apiN, ...api };
markdown.push(`### Package API in Node (one await per call, ${apiN.toLocaleString('en-US')} entries)`, '', markdownTable([['operation', 'ops/s'], ['put', fmt(api.put)], ['get', fmt(api.get)]]), '');

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
report.recovery = { n: recoveryN, native: nativeRecovery, nodeFs: nodeRecovery };
markdown.push(
  `### Recovery of ${recoveryN.toLocaleString('en-US')} records (records/s, median of ${runs})`,
  '',
  markdownTable([
    ['where', 'records/s', 'x native'],
    ['native std::fs', fmt(nativeRecovery.records_per_sec), '1.00'],
    ['wasm on Node fs', fmt(nodeRecovery.recordsPerSec), ratio(nodeRecovery.recordsPerSec, nativeRecovery.records_per_sec)],
  ]),
  '',
);

// A bulk load on Node fs with and without level 0's slowdown and stop triggers, and the
// reads right after it (bench/node/bulk-load.mjs).
const bulkN = Number(process.env.PPDB_BENCH_BULK_N ?? 3_000_000);
const bulkReads = Number(process.env.PPDB_BENCH_BULK_READS ?? 200_000);
const bulkRounds = Math.max(1, Math.min(runs, 3));
const bulk = await runBulkLoad({ n: bulkN, reads: bulkReads, rounds: bulkRounds });
console.log(`\nbulk load of ${bulkN.toLocaleString('en-US')} records on Node fs (batches of 1,000, relaxed), then ${bulkReads.toLocaleString('en-US')} random gets, median of ${bulkRounds}:`);
const bulkRows = [['build', 'level-0 triggers', 'load ops/s', 'most level-0 tables', 'level 0 after load', 'readrandom ops/s', 'readrandom x no triggers']];
for (const r of bulk) {
  const off = bulk.find((x) => x.build === r.build && !x.triggers);
  bulkRows.push([r.build, r.triggers ? 'on' : 'off', fmt(r.load), String(r.mostLevel0), String(r.level0AfterLoad), fmt(r.readrandom), ratio(r.readrandom, off.readrandom)]);
}
printTable(bulkRows);
report.bulkLoad = { n: bulkN, reads: bulkReads, rounds: bulkRounds, results: bulk };
markdown.push(`### Bulk load of ${bulkN.toLocaleString('en-US')} records on Node fs, then ${bulkReads.toLocaleString('en-US')} random gets (median of ${bulkRounds})`, '', markdownTable(bulkRows), '');

// LevelDB's db_bench workloads natively: ppdb and fjall side by side (bench/db, its own crate).
const dbBench = JSON.parse(
  execFileSync('cargo', ['run', '--quiet', '--release', '--', '--json'], {
    cwd: `${repo}/bench/db`,
    encoding: 'utf8',
    env: { ...process.env, PPDB_BENCH_DB_N: process.env.PPDB_BENCH_DB_N ?? String(n) },
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim().split('\n').pop(),
);
// The same workloads in wasm through the package: Node fs, and Chromium OPFS in a worker.
const dbN = dbBench.n;
const dbRounds = dbBench.rounds;
const nodeDb = await runNodeDbBench({ n: dbN, rounds: dbRounds });
const chromeDb = await runBrowserDbBench({ n: dbN, rounds: dbRounds });
console.log(`\ndb_bench, ${dbN.toLocaleString('en-US')} entries (16-byte keys, 100-byte values, relaxed), median of ${dbRounds} rounds (ops/s):`);
const dbRows = [['workload', 'ppdb native', 'fjall', 'ppdb/fjall', 'wasm Node fs', 'wasm/native', 'wasm Chromium OPFS', 'wasm/native']];
for (const w of DB_WORKLOADS) {
  const nat = dbBench.ops_per_sec[w].ppdb;
  const fj = dbBench.ops_per_sec[w].fjall;
  const nd = nodeDb.opsPerSec[w];
  const ch = chromeDb.opsPerSec[w];
  dbRows.push([w, fmt(nat), fmt(fj), ratio(nat, fj), fmt(nd), ratio(nd, nat), fmt(ch), ratio(ch, nat)]);
}
const amp = (x) => (x === undefined ? '-' : x.toFixed(2));
dbRows.push(['space amplification', amp(dbBench.space_amplification.ppdb), amp(dbBench.space_amplification.fjall), '', amp(nodeDb.spaceAmplification), '', '-', '']);
dbRows.push(['write amplification', amp(dbBench.write_amplification.ppdb), '-', '', amp(nodeDb.writeAmplification), '', amp(chromeDb.writeAmplification), '']);
printTable(dbRows);
report.dbBench = { n: dbN, rounds: dbRounds, native: dbBench, nodeFs: nodeDb, chromiumOpfs: chromeDb };
markdown.push(`### db_bench, ${dbN.toLocaleString('en-US')} entries (ops/s, median of ${dbRounds})`, '', markdownTable(dbRows), '');

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
report.durableChromium = { n: durableN, runs: browserRuns, results: durable };
markdown.push(
  `### Durable writes in Chromium (dedicated worker, ${durableN} puts; relaxed ${durableN * 10}; median of ${browserRuns})`,
  '',
  markdownTable([['workload', 'ops/s', 'x raw IndexedDB'], ...durable.map((r) => [r.label, fmt(r.opsPerSec), ratio(r.opsPerSec, rawIdb)])]),
  '',
);

// One OPFS store shared by a page's workers through shared memory (bench/browser/shared.mjs).
const shared = await benchShared({ runs: browserRuns });
report.sharedOpfs = shared.report;
markdown.push(shared.markdown);

// ppdb beside its peers in Chromium, and open() latency (bench/peers.mjs).
const peers = await benchPeers();
report.peers = peers.report;
markdown.push(peers.markdown);

const jsonPath = new URL('./results.json', import.meta.url);
const mdPath = new URL('./results.md', import.meta.url);
writeFileSync(jsonPath, `${JSON.stringify(report, null, 2)}\n`);
writeFileSync(mdPath, [`## Benchmarks (${report.date.slice(0, 10)}, ${report.machine})`, '', ...markdown].join('\n'));
console.log(`\nwrote ${fileURLToPath(jsonPath)} and ${fileURLToPath(mdPath)}`);
