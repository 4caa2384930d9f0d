// The live metrics panel: four charts and a line of figures, updated every second.
//
// It only sees snapshots, which www/metrics.js makes in the engine worker: cumulative
// counters and latency histograms, plus db.stats() figures. Rates and percentiles are
// differences between two snapshots a second apart. When db.metrics() lands, only
// www/metrics.js changes (see "SWITCHING TO db.metrics()" at its top); nothing here does.
import { Chart, COLORS } from '/www/charts.js';

/** Seconds of history the charts show. */
const WINDOW = 60;
const MiB = 1024 * 1024;
const number = new Intl.NumberFormat('en');

/** The latency (ms) under which a fraction `q` of the calls counted in `counts` fell (a bucket's upper bound). */
function percentile(counts, boundsMs, q) {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    seen += counts[i];
    if (seen >= q * total) return boundsMs[i];
  }
  return boundsMs.at(-1);
}

function lineChart(canvas, { series, y }) {
  return new Chart(canvas, {
    type: 'line',
    data: {
      labels: [],
      datasets: series.map((label, i) => ({ label, data: [], borderColor: COLORS[i], backgroundColor: COLORS[i], borderWidth: 2, pointRadius: 0 })),
    },
    options: { scales: { x: { ticks: { maxTicksLimit: 6, maxRotation: 0 } }, y }, interaction: { mode: 'index', intersect: false } },
  });
}

/**
 * Starts the panel. `read()` resolves to a snapshot (it may reject while the engine
 * restarts: that second is skipped); `canvases` holds the four canvases; `figures` the
 * elements for the text figures (writes, reads, p50, p90, p99, memory, tables).
 */
export function startMetricsView(read, canvases, figures) {
  const charts = {
    throughput: lineChart(canvases.throughput, { series: ['writes/s', 'reads/s'], y: { beginAtZero: true, title: { display: true, text: 'records per second' } } }),
    latency: lineChart(canvases.latency, { series: ['p50', 'p90', 'p99'], y: { type: 'logarithmic', title: { display: true, text: 'ms per call' } } }),
    memory: lineChart(canvases.memory, { series: ['wasm memory', 'memtables', 'block cache'], y: { beginAtZero: true, title: { display: true, text: 'MiB' } } }),
    tables: new Chart(canvases.tables, {
      type: 'bar',
      data: { labels: [], datasets: [{ label: 'tables', data: [], backgroundColor: COLORS[0] }] },
      options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, ticks: { precision: 0 }, title: { display: true, text: 'tables' } } } },
    }),
  };

  const push = (chart, label, values) => {
    chart.data.labels.push(label);
    values.forEach((v, i) => chart.data.datasets[i].data.push(v));
    if (chart.data.labels.length > WINDOW) {
      chart.data.labels.shift();
      for (const dataset of chart.data.datasets) dataset.data.shift();
    }
    chart.update('none');
  };

  let previous = null;
  let reading = false;
  async function tick() {
    if (reading) return;
    reading = true;
    let now;
    try {
      now = await read();
    } catch {
      return; // the engine is restarting
    } finally {
      reading = false;
    }
    // A new engine (after a crash) starts its counters again: take it as the new base.
    const restarted = !previous || now.ops.writes < previous.ops.writes || now.ops.reads < previous.ops.reads;
    if (!restarted) {
      const seconds = (now.time - previous.time) / 1000;
      const label = new Date().toLocaleTimeString('en-GB');
      const writes = (now.ops.writes - previous.ops.writes) / seconds;
      const reads = (now.ops.reads - previous.ops.reads) / seconds;
      const { boundsMs } = now.latency;
      const counts = boundsMs.map((_, i) =>
        now.latency.writes[i] - previous.latency.writes[i] + now.latency.reads[i] - previous.latency.reads[i]);
      const [p50, p90, p99] = [0.5, 0.9, 0.99].map((q) => percentile(counts, boundsMs, q));
      const { wasmMemoryBytes, memtableBytes, cacheBytes } = now.memory;

      push(charts.throughput, label, [writes, reads]);
      push(charts.latency, label, [p50, p90, p99]);
      push(charts.memory, label, [wasmMemoryBytes / MiB, memtableBytes / MiB, cacheBytes / MiB]);
      charts.tables.data.labels = now.tablesPerLevel.map((_, level) => `L${level}`);
      charts.tables.data.datasets[0].data = now.tablesPerLevel;
      charts.tables.update('none');

      const ms = (v) => (v === null ? '–' : `${v < 1 ? v.toFixed(3) : v.toFixed(1)} ms`);
      figures.writes.textContent = number.format(Math.round(writes));
      figures.reads.textContent = number.format(Math.round(reads));
      figures.latency.textContent = `${ms(p50)} / ${ms(p90)} / ${ms(p99)}`;
      figures.memory.textContent = `${(wasmMemoryBytes / MiB).toFixed(1)} MiB`;
      figures.tables.textContent = now.tablesPerLevel.join(' · ');
      figures.total.textContent = `${number.format(now.ops.writes)} written, ${number.format(now.ops.reads)} read`;
    }
    previous = now;
  }
  tick();
  return setInterval(tick, 1000);
}
