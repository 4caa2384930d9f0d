// The benchmark panel: runs www/bench-worker.js (a fresh worker per run, so the page stays
// responsive and every run starts cold) and draws its results as they come, in a bar
// chart and in a table.
import { Chart, COLORS } from '/www/charts.js';

const WORKLOADS = ['put', 'get', 'scan'];
const PEERS = ['ppdb OPFS', 'ppdb IndexedDB', 'IndexedDB', 'idb-keyval', 'Dexie', 'sqlite-wasm OPFS'];
const number = new Intl.NumberFormat('en');

export function setUpBenchmark({ form, sizeInput, button, status, canvas, table }) {
  const chart = new Chart(canvas, {
    type: 'bar',
    data: {
      labels: ['put', 'get', 'scan'],
      datasets: PEERS.map((label, i) => ({ label, data: [null, null, null], backgroundColor: COLORS[i] })),
    },
    options: {
      scales: { y: { type: 'logarithmic', title: { display: true, text: 'operations per second (log scale)' } } },
      plugins: { tooltip: { callbacks: { label: (c) => `${c.dataset.label}: ${number.format(Math.round(c.parsed.y))} ops/s` } } },
    },
  });

  // One row per peer, one cell per workload.
  const body = table.tBodies[0];
  const cells = new Map();
  body.replaceChildren(
    ...PEERS.map((peer) => {
      const row = document.createElement('tr');
      const name = document.createElement('th');
      name.scope = 'row';
      name.textContent = peer;
      row.append(name);
      for (const workload of WORKLOADS) {
        const cell = document.createElement('td');
        cell.dataset.peer = peer;
        cell.dataset.workload = workload;
        cells.set(`${peer}/${workload}`, cell);
        row.append(cell);
      }
      return row;
    }),
  );

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const n = Number(sizeInput.value);
    for (const dataset of chart.data.datasets) dataset.data = [null, null, null];
    chart.update();
    for (const cell of cells.values()) {
      cell.textContent = '…';
      cell.classList.remove('error');
      cell.removeAttribute('title');
    }
    button.disabled = true;
    canvas.dataset.bars = '0';
    status.textContent = `Running ${number.format(n)} operations per workload…`;

    const started = performance.now();
    const worker = new Worker('/www/bench-worker.js', { type: 'module', name: 'ppdb benchmark' });
    const failures = [];
    const finish = (text) => {
      worker.terminate();
      button.disabled = false;
      status.textContent = text;
    };
    worker.onerror = (event) => finish(`The benchmark worker failed: ${event.message}`);
    worker.onmessage = ({ data }) => {
      if (data.running) {
        status.textContent = `${data.peer}: ${data.running}…`;
      } else if (data.error) {
        failures.push(data.peer);
        for (const workload of WORKLOADS) {
          const cell = cells.get(`${data.peer}/${workload}`);
          if (cell.textContent === '…') {
            cell.textContent = 'failed';
            cell.title = data.error;
            cell.classList.add('error');
          }
        }
        console.error(`benchmark: ${data.peer}: ${data.error}`);
      } else if (data.workload) {
        cells.get(`${data.peer}/${data.workload}`).textContent = number.format(Math.round(data.opsPerSec));
        chart.data.datasets[PEERS.indexOf(data.peer)].data[WORKLOADS.indexOf(data.workload)] = data.opsPerSec;
        chart.update();
        canvas.dataset.bars = String(Number(canvas.dataset.bars) + 1);
      } else if (data.done) {
        const seconds = ((performance.now() - started) / 1000).toFixed(1);
        finish(failures.length ? `Done in ${seconds} s; failed: ${failures.join(', ')} (hover the cells for why).` : `Done in ${seconds} s.`);
      }
    };
    worker.postMessage({ n });
  });
}
