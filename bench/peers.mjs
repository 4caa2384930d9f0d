// ppdb beside the stores web apps pick instead, in one headless Chromium run: ops/s per
// workload (bench/browser/peers-worker.mjs) with ratios to a JS Map (the memory limit) and
// to sqlite-wasm on OPFS; then open() latency on a page and in a worker. `npm run bench`
// runs it with the rest; `npm run bench:peers` alone. Writes bench/peers.json and bench/peers.md.
//   PPDB_BENCH_PEERS_N (default 100000 entries), PPDB_BENCH_PEERS_RUNS (3 rounds)
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runPeers, runOpenLatency, PEER_NAMES, PEER_WORKLOADS } from './browser/run.mjs';
import { fmt, ratio, printTable, markdownTable } from './js/tables.mjs';


/** Runs the peer benchmark and open() latency; prints them; answers `{ report, markdown }`. */
export async function benchPeers({ n = Number(process.env.PPDB_BENCH_PEERS_N ?? 100_000), runs = Number(process.env.PPDB_BENCH_PEERS_RUNS ?? 3) } = {}) {
  const peers = await runPeers({ n, runs });
  const map = peers['JS Map'];
  const sqlite = peers['sqlite-wasm OPFS'];
  const ppdb = peers['ppdb OPFS'];
  const names = PEER_NAMES;
  const rows = [['workload', ...names, 'ppdb OPFS/Map', 'ppdb OPFS/sqlite']];
  for (const w of PEER_WORKLOADS) {
    rows.push([w, ...names.map((p) => (peers[p].error ? 'failed' : fmt(peers[p][w]))), ratio(ppdb[w], map[w]), ratio(ppdb[w], sqlite[w])]);
  }
  console.log(`\npeers in Chromium (dedicated workers; ${n.toLocaleString('en-US')} entries of 16-byte keys, 100-byte values; ops/s, median of ${runs}):`);
  printTable(rows);
  for (const p of names) if (peers[p].error) console.log(`  ${p} failed: ${peers[p].error}`);

  const open = await runOpenLatency({ runs });
  const ms = (x) => `${x.toFixed(1)} ms`;
  const builds = { unbundled: 'the package unbundled', vite: 'a Vite production build' };
  const openRows = [['open() of an empty OPFS store', 'cold', 'warm', 'reopen']];
  for (const [build, served] of Object.entries(builds)) {
    for (const where of ['worker', 'page']) openRows.push([`in a ${where}, ${served}`, ms(open[build][where].cold), ms(open[build][where].warm), ms(open[build][where].reopen)]);
  }
  const openTitle = `open() latency (median of ${runs}; cold = a fresh browser profile, nothing cached, once the browser has started)`;
  console.log(`\n${openTitle}:`);
  printTable(openRows);

  const markdown = [
    `### Peers in Chromium (dedicated workers, ${n.toLocaleString('en-US')} entries; ops/s, median of ${runs})`,
    '',
    markdownTable(rows),
    '',
    `### ${openTitle}`,
    '',
    markdownTable(openRows),
    '',
  ].join('\n');
  return { report: { n, runs, peers, open }, markdown };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { report, markdown } = await benchPeers();
  writeFileSync(new URL('./peers.json', import.meta.url), `${JSON.stringify({ date: new Date().toISOString(), ...report }, null, 2)}\n`);
  writeFileSync(new URL('./peers.md', import.meta.url), `${markdown}`);
  console.log(`\nwrote bench/peers.json and bench/peers.md`);
}
