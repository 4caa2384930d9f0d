// The benchmark panel's worker: the same three workloads on ppdb and on its peers, one
// store after the other; every write durable when it resolves (each peer's strict mode).
//   page → worker   { n }
//   worker → page   { peer, running: workload }         a workload starts
//                   { peer, workload, opsPerSec }        a result ('put', 'get', 'scan')
//                   { peer, error }                      a peer failed (the others still run)
//                   { done: true }
//
// Workloads, with 16-byte keys and 100-byte values:
//   put   n awaited single puts, in random order, into an empty store
//   get   n awaited gets of those keys, in another random order
//   scan  one range read of n entries in key order (entries per second)
// Reads are repeated until they have run for at least MIN_MS, so small n still times well.
import { ppdb, rawIndexedDb, idbKeyval, dexie, sqlite } from '/bench/browser/peers.mjs';

const MIN_MS = 50;
const VALUE = 'v'.repeat(100);
const keyOf = (i) => `key:${String(i).padStart(12, '0')}`;

function shuffled(n) {
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

// The stores, each behind the same small interface (bench/browser/peers.mjs, shared with
// the repo's peer benchmark): put(key, value), get(key), scan(from, n), close().
const PEERS = [ppdb('opfs'), ppdb('indexeddb'), rawIndexedDb, idbKeyval, dexie, sqlite];

/** Runs `round` once (or, with `repeat`, until MIN_MS passed); operations per second. */
async function timed(operations, round, repeat = false) {
  let rounds = 0;
  const start = performance.now();
  do {
    await round();
    rounds++;
  } while (repeat && performance.now() - start < MIN_MS);
  return (rounds * operations) / ((performance.now() - start) / 1000);
}

async function runPeer(peer, n) {
  const report = (workload, opsPerSec) => postMessage({ peer: peer.name, workload, opsPerSec });
  postMessage({ peer: peer.name, running: 'open' });
  const store = await peer.open();
  try {
    postMessage({ peer: peer.name, running: 'put' });
    const putOrder = shuffled(n);
    report('put', await timed(n, async () => {
      for (const i of putOrder) await store.put(keyOf(i), VALUE);
    }));

    postMessage({ peer: peer.name, running: 'get' });
    const getOrder = shuffled(n);
    report('get', await timed(n, async () => {
      for (const i of getOrder) {
        if ((await store.get(keyOf(i))) !== VALUE) throw new Error(`get(${keyOf(i)}) did not return what was put`);
      }
    }, true));

    postMessage({ peer: peer.name, running: 'scan' });
    report('scan', await timed(n, async () => {
      const read = await store.scan(keyOf(0), n);
      if (read !== n) throw new Error(`the scan read ${read} entries, not ${n}`);
    }, true));
  } finally {
    await store.close();
  }
}

onmessage = async ({ data: { n } }) => {
  for (const peer of PEERS) {
    try {
      await runPeer(peer, n);
    } catch (err) {
      postMessage({ peer: peer.name, error: `${err?.code ?? err?.name ?? 'Error'}: ${err?.message ?? err}` });
    }
  }
  postMessage({ done: true });
};
