// The live metrics panel (four charts and a line of figures) and the Engine panel's
// figures, updated every second; and the Engine panel's Prometheus text.
//
// It only sees what www/metrics.js makes from the engine's db.metrics(): snapshots of
// counters (rates are differences between two snapshots a second apart), the engine's
// latency percentiles (cumulative since the store was opened, drawn as they are) and
// gauges.
import { Chart, COLORS } from '/www/charts.js';

/** Seconds of history the charts show. */
const WINDOW = 60;
const MiB = 1024 * 1024;
const number = new Intl.NumberFormat('en');
const ms = (v) => (v === null ? '–' : `${v < 1 ? v.toFixed(3) : v.toFixed(1)} ms`);
const percentiles = ({ p50, p90, p99 }) => `${ms(p50)} / ${ms(p90)} / ${ms(p99)}`;

/** Text of each figure of the Engine panel, by its name in a snapshot's `engine`. */
const ENGINE_FIGURES = {
  cacheHitRate: (v) => `${(100 * v).toFixed(1)}%`,
  compressionRatio: (v) => v.toFixed(2),
  writeAmplification: (v) => v.toFixed(2),
  spaceAmplification: (v) => v.toFixed(2),
  walBytes: (v) => (v < MiB ? `${(v / 1024).toFixed(1)} KiB` : `${(v / MiB).toFixed(1)} MiB`),
};

/** Line series: one colour per label, dashed or not. */
const lines = (labels, dashed = false) => labels.map((label, i) => ({ label, color: COLORS[i], dashed }));

function lineChart(canvas, { series, y }) {
  return new Chart(canvas, {
    type: 'line',
    data: {
      labels: [],
      datasets: series.map(({ label, color, dashed }) => ({
        label, data: [], borderColor: color, backgroundColor: color, borderDash: dashed ? [6, 3] : [], borderWidth: 2, pointRadius: 0,
      })),
    },
    options: { scales: { x: { ticks: { maxTicksLimit: 6, maxRotation: 0 } }, y }, interaction: { mode: 'index', intersect: false } },
  });
}

/**
 * Starts the panels. `read()` resolves to a snapshot (it may reject while the engine
 * restarts: that second is skipped); `canvases` holds the four canvases; `figures` the
 * elements for the text figures (writes, reads, putLatency, getLatency, memory,
 * memtables, tables) and, in `figures.engine`, those of the Engine panel (by the names
 * of a snapshot's `engine`).
 */
export function startMetricsView(read, canvases, figures) {
  const charts = {
    throughput: lineChart(canvases.throughput, { series: lines(['writes/s', 'reads/s']), y: { beginAtZero: true, title: { display: true, text: 'operations per second' } } }),
    latency: lineChart(canvases.latency, {
      series: [...lines(['put p50', 'put p90', 'put p99']), ...lines(['get p50', 'get p90', 'get p99'], true)],
      y: { type: 'logarithmic', title: { display: true, text: 'ms per call, since open' } },
    }),
    memory: lineChart(canvases.memory, { series: lines(['wasm memory', 'memtables', 'block cache']), y: { beginAtZero: true, title: { display: true, text: 'MiB' } } }),
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
    const { latency, memory, tablesPerLevel, engine } = now;
    // A new engine (after a crash or "Delete all data") starts its counters again: take it as the new base.
    const restarted = !previous || now.ops.writes < previous.ops.writes || now.ops.reads < previous.ops.reads;
    if (!restarted) {
      const seconds = (now.time - previous.time) / 1000;
      const writes = (now.ops.writes - previous.ops.writes) / seconds;
      const reads = (now.ops.reads - previous.ops.reads) / seconds;
      const label = new Date().toLocaleTimeString('en-GB');
      push(charts.throughput, label, [writes, reads]);
      push(charts.latency, label, [latency.put.p50, latency.put.p90, latency.put.p99, latency.get.p50, latency.get.p90, latency.get.p99]);
      push(charts.memory, label, [memory.wasm / MiB, memory.memtables / MiB, memory.cache / MiB]);
      figures.writes.textContent = number.format(Math.round(writes));
      figures.reads.textContent = number.format(Math.round(reads));
    }
    charts.tables.data.labels = tablesPerLevel.map((_, level) => `L${level}`);
    charts.tables.data.datasets[0].data = tablesPerLevel;
    charts.tables.update('none');

    figures.putLatency.textContent = percentiles(latency.put);
    figures.getLatency.textContent = percentiles(latency.get);
    figures.memory.textContent = `${(memory.wasm / MiB).toFixed(1)} MiB`;
    figures.memtables.textContent = `${(memory.memtables / MiB).toFixed(1)} of ${(memory.limit / MiB).toFixed(0)} MiB`;
    figures.tables.textContent = tablesPerLevel.join(' · ');
    for (const [name, element] of Object.entries(figures.engine)) {
      element.textContent = (ENGINE_FIGURES[name] ?? number.format)(engine[name]);
    }
    previous = now;
  }
  tick();
  return setInterval(tick, 1000);
}

/**
 * Shows the Prometheus text (`read()` resolves to it) in `output` while `details` is
 * open: when it opens, then every 3 seconds.
 */
export function startPrometheusView(read, details, output) {
  const refresh = async () => {
    if (!details.open) return;
    try {
      output.textContent = await read();
    } catch {
      // the engine is restarting: the next refresh shows the new one
    }
  };
  details.addEventListener('toggle', refresh);
  return setInterval(refresh, 3000);
}
