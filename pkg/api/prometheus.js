// `db.metricsText()`: a `db.metrics()` report in the Prometheus text exposition format
// (version 0.0.4), loaded on first use. Counters end in `_total`, latencies are summaries in
// seconds (quantiles 0.5, 0.9, 0.99 and 1 for the maximum, with `_sum` and `_count`),
// everything else is a gauge. The engine's native crate renders the same text
// (src/metrics/prometheus.rs); the package renders it here, so that the wasm builds carry
// neither the renderer nor float formatting.

/** A sample value as Prometheus reads it. */
const number = (value) => (Number.isFinite(value) ? String(value) : Number.isNaN(value) ? 'NaN' : value > 0 ? '+Inf' : '-Inf');

/** `walSync` -> `wal_sync`: the engine's names, as labels. */
const snake = (name) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** The text of `report` (what `db.metrics()` answers). */
export function render(report) {
  const lines = [];
  const family = (name, type, help) => lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  // Label values here are fixed identifiers and numbers: nothing to escape.
  const sample = (name, labels, value) => {
    const pairs = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
    lines.push(`${name}${pairs.length ? `{${pairs.join(',')}}` : ''} ${number(value)}`);
  };
  const gauge = (name, help, value) => {
    family(name, 'gauge', help);
    sample(name, {}, value);
  };
  const seconds = (ms) => ms / 1000;

  family('ppdb_operations_total', 'counter', 'Operations by kind.');
  for (const [op, n] of Object.entries(report.operations)) sample('ppdb_operations_total', { op: snake(op) }, n);
  family('ppdb_bytes_written_total', 'counter', 'Key and value bytes written by users.');
  sample('ppdb_bytes_written_total', {}, report.bytes.written);
  family('ppdb_bytes_read_total', 'counter', 'Key and value bytes returned by reads and scans.');
  sample('ppdb_bytes_read_total', {}, report.bytes.read);
  family('ppdb_latency_seconds', 'summary', 'Latency by operation; quantile 1 is the maximum.');
  for (const [name, l] of Object.entries(report.latency)) {
    const op = snake(name);
    for (const [quantile, ms] of [['0.5', l.p50], ['0.9', l.p90], ['0.99', l.p99], ['1', l.max]]) sample('ppdb_latency_seconds', { op, quantile }, seconds(ms));
    sample('ppdb_latency_seconds_sum', { op }, seconds(l.mean * l.count));
    sample('ppdb_latency_seconds_count', { op }, l.count);
  }
  family('ppdb_memory_bytes', 'gauge', 'Memory in use by part.');
  sample('ppdb_memory_bytes', { part: 'memtables' }, report.memory.memtables);
  sample('ppdb_memory_bytes', { part: 'cache' }, report.memory.cache);
  if (report.memory.wasm > 0) sample('ppdb_memory_bytes', { part: 'wasm' }, report.memory.wasm);
  gauge('ppdb_memory_limit_bytes', 'The memory limit of memtables.', report.memory.limit);
  family('ppdb_cache_lookups_total', 'counter', 'Block cache lookups by result.');
  sample('ppdb_cache_lookups_total', { result: 'hit' }, report.cache.hits);
  sample('ppdb_cache_lookups_total', { result: 'miss' }, report.cache.misses);
  gauge('ppdb_cache_hit_ratio', 'Block cache hits per lookup.', report.cache.hitRate);
  gauge('ppdb_compression_ratio', 'Stored bytes per raw byte of the table blocks written.', report.compressionRatio);
  family('ppdb_wal_bytes_total', 'counter', 'Log bytes appended to storage.');
  sample('ppdb_wal_bytes_total', {}, report.wal.bytes);
  gauge('ppdb_wal_unsynced_bytes', 'Log bytes not yet synced.', report.wal.unsyncedBytes);
  family('ppdb_level_tables', 'gauge', 'Tables per level.');
  report.levels.forEach(({ tables }, level) => sample('ppdb_level_tables', { level }, tables));
  family('ppdb_level_bytes', 'gauge', 'Table bytes per level.');
  report.levels.forEach(({ bytes }, level) => sample('ppdb_level_bytes', { level }, bytes));
  gauge('ppdb_write_amplification', 'Table bytes written per user byte.', report.writeAmplification);
  gauge('ppdb_space_amplification', 'Table bytes per byte of the deepest level.', report.spaceAmplification);
  gauge('ppdb_recovery_dropped_ranges', 'Damaged or torn log ranges recovery dropped when the store opened.', report.recoveryDropped);
  return `${lines.join('\n')}\n`;
}
