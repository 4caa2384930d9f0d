// The demo's metrics, read in the engine worker (engine-worker.js) and drawn by the page
// (metrics-view.js). This is the ONE place that knows where the numbers come from.
//
// ==== SWITCHING TO db.metrics() ========================================================
// FOR NOW the counters and latency histograms are measured here, around the demo's own
// calls (tracked() and measure() below), as the package does not count operations yet.
// WHEN db.metrics() LANDS (a plain object with counters and latency histograms): make
// readMetrics() return it, mapped to the snapshot shape below; delete tracked() and
// measure(), and their uses in engine-worker.js (each marked "page-side metrics").
// metrics-view.js only sees snapshots and does not change.
// ========================================================================================
//
// A snapshot is cumulative since the engine started (the view takes differences between
// two of them), so it matches what an engine-side counter would report:
//   {
//     time,                                        performance.now() of the snapshot, ms
//     ops: { writes, reads },                      records written, records read (total)
//     latency: { boundsMs, writes, reads },        calls per bucket (counts[i]: latency <= boundsMs[i])
//     memory: { wasmMemoryBytes, memtableBytes, cacheBytes },
//     tablesPerLevel: number[],
//   }

/** Upper bounds (ms) of the latency buckets: 4 per doubling, from 1 µs to about 8 s. */
export const LATENCY_BUCKETS_MS = Array.from({ length: 92 }, (_, i) => 0.001 * 2 ** ((i + 1) / 4));

function bucketOf(ms) {
  const i = Math.ceil(4 * Math.log2(Math.max(ms, 0.001) / 0.001)) - 1;
  return Math.min(Math.max(i, 0), LATENCY_BUCKETS_MS.length - 1);
}

const ops = { writes: 0, reads: 0 };
const latency = { writes: new Array(LATENCY_BUCKETS_MS.length).fill(0), reads: new Array(LATENCY_BUCKETS_MS.length).fill(0) };

/**
 * PAGE-SIDE MEASUREMENT (goes away with db.metrics()): runs `fn`, one call of kind
 * 'writes' or 'reads' that touches `records` records (a batch or a scan counts its
 * records for throughput and once for latency), and records how long it took.
 */
export async function measure(kind, records, fn) {
  const start = performance.now();
  const result = await fn();
  latency[kind][bucketOf(performance.now() - start)]++;
  ops[kind] += typeof records === 'function' ? records(result) : records;
  return result;
}

/**
 * PAGE-SIDE MEASUREMENT (goes away with db.metrics()): `db` with its put, del and batch
 * (writes) and get (reads) measured. Everything else passes through untouched. Scans
 * are measured by their callers with measure(), since they are drained there.
 */
export function tracked(db) {
  const wrap = {
    put: (key, value) => measure('writes', 1, () => db.put(key, value)),
    del: (key) => measure('writes', 1, () => db.del(key)),
    batch: (operations) => measure('writes', operations.length, () => db.batch(operations)),
    get: (key, options) => measure('reads', 1, () => db.get(key, options)),
  };
  return new Proxy(db, {
    get(target, prop) {
      if (Object.hasOwn(wrap, prop)) return wrap[prop];
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** The current snapshot (see the shape above). */
export async function readMetrics(db) {
  // With db.metrics(): const m = db.metrics(); return { time: performance.now(), ops: ..., latency: ..., ... }
  const stats = await db.stats();
  return {
    time: performance.now(),
    ops: { ...ops },
    latency: { boundsMs: LATENCY_BUCKETS_MS, writes: [...latency.writes], reads: [...latency.reads] },
    memory: { wasmMemoryBytes: stats.wasmMemoryBytes, memtableBytes: stats.memtableBytes, cacheBytes: stats.cacheBytes },
    tablesPerLevel: stats.tablesPerLevel,
  };
}
