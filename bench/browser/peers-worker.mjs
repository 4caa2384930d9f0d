// One peer's run of the peer benchmark, in a dedicated worker (see bench/browser/run.mjs).
//   page -> worker   { peer, n, reads, puts, syncPuts }   peer: a name from PEERS
//   worker -> page   { opsPerSec: { workload: ops/s } } | { error }
// Workloads, 16-byte keys and 100-byte values (50 pseudo-random characters, twice, as
// db_bench's values), every result checked:
//   fillseq            n entries in key order, one batch (one transaction), sync
//   fillrandom         n entries in random order, one batch, sync, into a fresh store
//   readrandom         `reads` awaited gets of present keys, in random order
//   readseq            the n entries of fillrandom in key order (entries per second)
//   put_each relaxed   `puts` awaited single puts, relaxed durability, a fresh store
//   put_each sync      `syncPuts` awaited single puts, each durable when it resolves
import { ppdb, jsMap, rawIndexedDb, idbKeyval, dexie, sqlite } from './peers.mjs';

export const PEERS = [jsMap, ppdb('opfs'), ppdb('indexeddb'), sqlite, rawIndexedDb, idbKeyval, dexie];

const keyOf = (i) => String(i).padStart(16, '0');

/**
 * A 100-character value for entry `i`: 50 pseudo-random letters, twice. Made in one piece
 * (a flat string, as text from JSON or the network is), not by concatenation: V8 keeps a
 * concatenated string as a tree of pieces until something reads its characters, and the
 * first store to encode the values (fillseq) then paid for flattening all of them, about
 * 2 µs a value, where the Map, which never reads them, paid nothing.
 */
function valueOf(i) {
  let x = (Math.imul(i, 0x9e3779b1) | 1) >>> 0;
  const codes = new Array(100);
  for (let c = 0; c < 50; c++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    codes[c] = codes[c + 50] = 97 + ((x >>> 0) % 26);
  }
  return String.fromCharCode(...codes);
}

/** 0..n-1 in a fixed pseudo-random order. */
function shuffled(n, seed) {
  const order = Array.from({ length: n }, (_, i) => i);
  let x = seed >>> 0 || 1;
  for (let i = n - 1; i > 0; i--) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    const j = (x >>> 0) % (i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

async function timed(operations, fn) {
  const start = performance.now();
  await fn();
  return operations / ((performance.now() - start) / 1000);
}

async function run(peer, { n, reads, puts, syncPuts }) {
  const keys = Array.from({ length: n }, (_, i) => keyOf(i));
  const values = Array.from({ length: n }, (_, i) => valueOf(i));
  const opsPerSec = {};
  const expectScan = async (store, count) => {
    const read = await store.scan();
    if (read !== count) throw new Error(`a scan read ${read} entries, not ${count}`);
  };

  let store = await peer.open({ durability: 'sync' });
  const inOrder = keys.map((key, i) => [key, values[i]]);
  opsPerSec.fillseq = await timed(n, () => store.batch(inOrder));
  await expectScan(store, n);
  await store.close();

  store = await peer.open({ durability: 'sync' });
  const random = shuffled(n, 7).map((i) => [keys[i], values[i]]);
  opsPerSec.fillrandom = await timed(n, () => store.batch(random));
  const readOrder = shuffled(n, 11).slice(0, reads);
  opsPerSec.readrandom = await timed(reads, async () => {
    for (const i of readOrder) {
      if ((await store.get(keys[i])) !== values[i]) throw new Error(`get(${keys[i]}) did not answer what was put`);
    }
  });
  opsPerSec.readseq = await timed(n, () => expectScan(store, n));
  await store.close();

  for (const [durability, count] of [['relaxed', puts], ['sync', syncPuts]]) {
    store = await peer.open({ durability });
    const order = shuffled(n, 13).slice(0, count);
    opsPerSec[`put_each ${durability}`] = await timed(count, async () => {
      for (const i of order) await store.put(keys[i], values[i]);
    });
    await expectScan(store, count);
    await store.close();
  }
  return opsPerSec;
}

self.onmessage = async ({ data }) => {
  try {
    const peer = PEERS.find((p) => p.name === data.peer);
    if (!peer) throw new Error(`no peer named ${data.peer}`);
    self.postMessage({ opsPerSec: await run(peer, data) });
  } catch (err) {
    self.postMessage({ error: `${err?.code ?? err?.name ?? 'Error'}: ${err?.message ?? err}` });
  }
};
