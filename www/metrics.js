// The demo's metrics: the engine's own, from db.metrics() and db.metricsText() in the
// engine worker (its 'metrics' and 'metricsText' requests). This is the ONE place that
// knows their shape; metrics-view.js draws the snapshots made here.
//
// A snapshot (counters are cumulative since the store was opened: the view takes the
// differences between two of them for rates):
//   {
//     time,                                   performance.now() of the snapshot, ms
//     ops: { writes, reads },                 puts + deletes, gets + scans
//     latency: { put, get },                  each { p50, p90, p99 } in ms since open (null before the first call)
//     memory: { wasm, memtables, cache, limit },   bytes
//     tablesPerLevel: number[],
//     engine: { puts, deletes, gets, scans, flushes, compactions, memtableSwitches,
//               cacheHitRate, compressionRatio, writeAmplification, spaceAmplification, walBytes },
//   }

const percentiles = ({ count, p50, p90, p99 }) => (count === 0 ? { p50: null, p90: null, p99: null } : { p50, p90, p99 });

/** The current snapshot; `call(cmd)` sends a request to the engine worker. */
export async function readMetrics(call) {
  const m = await call('metrics');
  const { operations: op } = m;
  return {
    time: performance.now(),
    ops: { writes: op.put + op.delete, reads: op.get + op.scan },
    latency: { put: percentiles(m.latency.put), get: percentiles(m.latency.get) },
    memory: m.memory,
    tablesPerLevel: m.levels.map((level) => level.tables),
    engine: {
      puts: op.put,
      deletes: op.delete,
      gets: op.get,
      scans: op.scan,
      flushes: op.flush,
      compactions: op.compaction,
      memtableSwitches: op.memtableSwitch,
      cacheHitRate: m.cache.hitRate,
      compressionRatio: m.compressionRatio,
      writeAmplification: m.writeAmplification,
      spaceAmplification: m.spaceAmplification,
      walBytes: m.wal.bytes,
    },
  };
}

/** The metrics in the Prometheus text format. */
export const readMetricsText = (call) => call('metricsText');
