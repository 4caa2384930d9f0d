// The ppdb demo page.
//
// Where things run: this main thread only draws and handles clicks. The store is one ppdb
// store on OPFS (IndexedDB where the browser has none for it), in a dedicated worker the page owns (www/engine-worker.js); every
// read and write of the page is a request to it (www/engine.js). Chosen over ppdb on
// IndexedDB on the page because:
//   - nothing heavy runs here: imports, exports, the background workload, and the engine's
//     own flushes and compactions all happen in the worker, so the page never stutters;
//   - OPFS, the fastest durable storage in a browser, only exists in a dedicated worker;
//   - the store you browse is the one "Crash and recover" kills and reopens.
// The benchmark panel runs in a second worker (www/bench-worker.js, started per run), and
// the live charts and the Engine panel show the engine's own metrics (db.metrics() in the
// engine worker, read through www/metrics.js). The worker also forwards the store's alerts
// and the engine's log.
import { Engine } from '/www/engine.js';
import { readMetrics, readMetricsText } from '/www/metrics.js';
import { startMetricsView, startPrometheusView } from '/www/metrics-view.js';
import { setUpBenchmark } from '/www/bench.js';

const $ = (id) => document.getElementById(id);
const number = new Intl.NumberFormat('en');
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function bytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

// ---------------------------------------------------------------------------------------
// Messages: the footer status line, and each form's own message line.

/** Shows `text` in `element` (and the status line); an error shows its PpdbError code. */
function show(element, text, err) {
  for (const el of new Set([element, $('status')])) {
    el.classList.toggle('error', Boolean(err));
    if (err) {
      el.dataset.code = err.code ?? err.name ?? 'ERROR';
      el.textContent = `${el.dataset.code}: ${err.message}`;
    } else {
      delete el.dataset.code;
      el.textContent = text;
    }
  }
  // Errors with a code come from the store and are shown; anything else is a bug.
  if (err && !err.code) console.error(err);
}

/** An event handler running `fn`, its errors shown in `element`. */
const action = (element, fn) => async (event) => {
  event?.preventDefault();
  try {
    await fn(event);
  } catch (err) {
    show(element, '', err);
  }
};

// ---------------------------------------------------------------------------------------
// The engine worker. `engine` is a promise of the running one, replaced when it restarts,
// so requests made while it restarts wait for the new one.

let engine;
let crashRun = null; // the run whose acks are being collected
let acks = [];
let progressTarget = null; // 'import' or 'export', whichever is running

function onEngineEvent(message) {
  if (message.event === 'ack' && message.run === crashRun) acks.push(message.n);
  else if (message.event === 'progress' && progressTarget === 'import') showImportProgress(message);
  else if (message.event === 'progress' && progressTarget === 'export') {
    $('export-status').textContent = `Exporting… ${number.format(message.records)} records`;
  } else if (message.event === 'alert') showAlert(message.alert);
  else if (message.event === 'log') showLog(message.entry);
  else if (message.event === 'changes') showChanges(message);
  else if (message.event === 'role') $('role').textContent = message.role;
}

// ---------------------------------------------------------------------------------------
// Live changes: db.watch() in the engine worker sees the writes of every tab that has the
// page open (they share the store), newest first; the key count and the page of keys on
// show follow, at most twice a second.

let followTimer = null;

function showChanges({ changes, total }) {
  const list = $('changes');
  if (list.querySelector('.empty')) list.replaceChildren();
  for (const change of changes) {
    const row = document.createElement('tr');
    const cells = [change.type, new TextDecoder().decode(change.key), number.format(change.sequence)];
    for (const [i, text] of cells.entries()) {
      const cell = document.createElement('td');
      cell.textContent = text;
      if (i === 2) cell.className = 'num';
      row.append(cell);
    }
    list.prepend(row);
  }
  while (list.children.length > 12) list.lastElementChild.remove();
  $('changes-total').textContent = number.format(total);
  // (Not while an import or the workload writes: they change the count all the time.)
  if (progressTarget !== null || $('workload').checked) return;
  followTimer ??= setTimeout(async () => {
    followTimer = null;
    await refreshCount().catch(() => {});
    if (browse.first !== null) await loadPage('same').catch(() => {});
  }, 500);
}

async function startEngine() {
  const started = await Engine.start(onEngineEvent);
  $('storage').textContent = started.storage;
  $('flavour').textContent = started.flavour;
  $('role').textContent = started.role;
  const r = started.recovery;
  $('opened').textContent = r ? `replayed ${number.format(r.records)} log records (${bytes(r.bytes)}) in ${r.millis.toFixed(0)} ms` : '–';
  return started;
}

const call = async (cmd, args) => (await engine).engine.call(cmd, args);

async function refreshCount() {
  $('count').textContent = number.format(await call('count', {}));
}

// ---------------------------------------------------------------------------------------
// Key browser: a prefix or a range, forward or reverse, in pages. The next page starts
// after the last key of this one (gt, or lt in reverse); the previous page is read
// backwards from the first key of this one.

const browse = { options: {}, reverse: false, size: 20, first: null, last: null, page: 1 };
/** The latest listing asked for: one asked for earlier that answers later is dropped. */
let listing = 0;

function searchOptions() {
  const mode = new FormData($('browse')).get('mode');
  if (mode === 'prefix') return $('prefix').value ? { prefix: $('prefix').value } : {};
  const options = {};
  if ($('gte').value) options.gte = $('gte').value;
  if ($('lt').value) options.lt = $('lt').value;
  return options;
}

/** Options for reading on from `key` (excluded), forward or backward. */
function after(key, backward) {
  return backward ? { lt: key } : { gt: key, gte: undefined };
}

/**
 * Lists a page: 'first', 'next', 'prev', or 'same' (the current page again, from its
 * first key, after a write).
 */
async function loadPage(direction) {
  const generation = ++listing;
  const entries = $('entries');
  entries.dataset.pending = Number(entries.dataset.pending ?? 0) + 1; // for tests: listings under way
  try {
    await listPage(direction, generation);
  } finally {
    entries.dataset.pending = Number(entries.dataset.pending) - 1;
  }
}

async function listPage(direction, generation) {
  const { options, reverse, size } = browse;
  let request = { ...options, reverse, limit: size + 1 };
  if (direction === 'next') request = { ...request, ...after(browse.last, reverse) };
  // Backwards: the opposite direction from the first key, then put the rows back in order.
  if (direction === 'prev') request = { ...request, ...after(browse.first, !reverse), reverse: !reverse };
  if (direction === 'same' && browse.first !== null) {
    request = { ...request, ...(reverse ? { lte: browse.first, lt: undefined } : { gte: browse.first }) };
  }
  for (const key of Object.keys(request)) if (request[key] === undefined) delete request[key];

  let rows = await call('scan', request);
  // (A search made while a page reloaded after writes: the search's page is the one shown.)
  if (generation !== listing) return;
  const more = rows.length > size;
  rows = rows.slice(0, size);
  if (direction === 'prev') rows.reverse();

  if (direction === 'first') browse.page = 1;
  if (direction === 'next') browse.page++;
  if (direction === 'prev') browse.page--;
  browse.first = rows[0]?.key ?? null;
  browse.last = rows.at(-1)?.key ?? null;
  const hasNext = direction === 'prev' ? true : more;
  const hasPrev = direction === 'prev' ? more : browse.page > 1;

  $('entries').replaceChildren(...rows.map(entryRow));
  $('entries').dataset.loads = Number($('entries').dataset.loads ?? 0) + 1; // for tests: a page was listed
  if (rows.length === 0) {
    const row = document.createElement('tr');
    row.innerHTML = '<td colspan="3" class="empty">No keys here.</td>';
    $('entries').append(row);
  }
  $('prev').disabled = !hasPrev;
  $('next').disabled = !hasNext || rows.length === 0;
  $('page-info').textContent = rows.length
    ? `Page ${browse.page}: ${number.format(rows.length)} ${rows.length === 1 ? 'key' : 'keys'}${hasNext ? '' : ' (the end)'}`
    : `Page ${browse.page}: no keys`;
}

function entryRow({ key, value, truncated, size }) {
  const row = document.createElement('tr');
  const keyCell = document.createElement('td');
  const edit = document.createElement('button');
  edit.type = 'button';
  edit.className = 'link';
  edit.textContent = key;
  edit.title = 'Edit or delete this key';
  edit.addEventListener('click', action($('put-message'), async () => {
    $('put-key').value = key;
    $('put-value').value = (await call('get', { key })) ?? '';
    $('del-key').value = key;
    $('put-value').focus();
  }));
  keyCell.append(edit);
  const valueCell = document.createElement('td');
  valueCell.className = 'value';
  valueCell.textContent = truncated ? `${value}…` : value;
  valueCell.title = valueCell.textContent;
  const sizeCell = document.createElement('td');
  sizeCell.className = 'num';
  sizeCell.textContent = bytes(size);
  row.append(keyCell, valueCell, sizeCell);
  return row;
}

for (const radio of document.querySelectorAll('input[name="mode"]')) {
  radio.addEventListener('change', () => {
    for (const field of document.querySelectorAll('#browse [data-mode]')) field.hidden = field.dataset.mode !== radio.value;
  });
}

$('browse').addEventListener('submit', action($('page-info'), async () => {
  Object.assign(browse, { options: searchOptions(), reverse: $('reverse').checked, size: Number($('page-size').value) });
  await loadPage('first');
}));
$('next').addEventListener('click', action($('page-info'), () => loadPage('next')));
$('prev').addEventListener('click', action($('page-info'), () => loadPage('prev')));

const reloadPage = () => loadPage('same');

// ---------------------------------------------------------------------------------------
// Put and delete.

$('put-form').addEventListener('submit', action($('put-message'), async () => {
  const key = $('put-key').value;
  await call('put', { key, value: $('put-value').value });
  await Promise.all([refreshCount(), reloadPage()]);
  show($('put-message'), `Put "${key}".`);
}));

$('del-form').addEventListener('submit', action($('del-message'), async () => {
  const key = $('del-key').value;
  await call('del', { key });
  await Promise.all([refreshCount(), reloadPage()]);
  show($('del-message'), `Deleted "${key}".`);
}));

// ---------------------------------------------------------------------------------------
// Import (streamed, with progress) and export (a download).

function showImportProgress({ bytes: read, total, records }) {
  const percent = total ? Math.min(100, Math.floor((100 * read) / total)) : 0;
  $('import-progress').value = percent;
  $('import-percent').textContent = `${percent}%`;
  $('import-status').textContent = `Importing… ${bytes(read)}${total ? ` of ${bytes(total)}` : ''}, ${number.format(records)} records written`;
}

async function runImport(cmd, args) {
  const buttons = [$('import-sample'), $('import-file'), $('clear')];
  buttons.forEach((b) => (b.disabled = true));
  progressTarget = 'import';
  $('import-progress').value = 0;
  $('import-percent').textContent = '0%';
  try {
    const result = await call(cmd, args);
    await reloadPage();
    $('import-progress').value = 100;
    $('import-percent').textContent = '100%';
    $('count').textContent = number.format(result.count);
    show($('import-status'), `Imported ${number.format(result.records)} records (${bytes(result.bytes)}) in ${(result.millis / 1000).toFixed(1)} s. The store holds ${number.format(result.count)} keys.`);
    $('import-status').dataset.records = result.records;
    $('import-status').dataset.count = result.count;
  } finally {
    progressTarget = null;
    buttons.forEach((b) => (b.disabled = false));
  }
}

$('import-sample').addEventListener('click', action($('import-status'), () => runImport('importUrl', { url: '/www/data/sample.ndjson' })));
$('import-file').addEventListener('change', action($('import-status'), async (event) => {
  const [file] = event.target.files;
  if (file) await runImport('importFile', { file });
  event.target.value = '';
}));

$('export').addEventListener('click', action($('export-status'), async () => {
  $('export').disabled = true;
  progressTarget = 'export';
  try {
    const { blob, records } = await call('exportAll');
    const link = document.createElement('a');
    link.href = URL.createObjectURL(blob);
    link.download = `ppdb-demo-${new Date().toISOString().slice(0, 19).replaceAll(':', '-')}.ndjson`;
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
    show($('export-status'), `Exported ${number.format(records)} records (${bytes(blob.size)}) to ${link.download}.`);
  } finally {
    progressTarget = null;
    $('export').disabled = false;
  }
}));

$('clear').addEventListener('click', action($('export-status'), async () => {
  if (!confirm('Delete every key of the demo store?')) return;
  $('workload').checked = false;
  await call('clear');
  await Promise.all([refreshCount(), loadPage('first')]);
  show($('export-status'), 'The store is empty.');
}));

// ---------------------------------------------------------------------------------------
// Live metrics and the background workload.

$('workload').addEventListener('change', action($('status'), async (event) => {
  await call('workload', { on: event.target.checked });
  if (!event.target.checked) await refreshCount();
}));

// ---------------------------------------------------------------------------------------
// Alerts and the engine log, as the engine worker forwards them: newest first.

const LOG_ROWS = 50;
const clock = (time) => new Date(time).toLocaleTimeString('en-GB');

/** A table row of `cells` (text), the first one a `<time>`. */
function row(time, ...cells) {
  const tr = document.createElement('tr');
  const timeCell = document.createElement('td');
  const timeElement = document.createElement('time');
  timeElement.dateTime = new Date(time).toISOString();
  timeElement.textContent = clock(time);
  timeCell.append(timeElement);
  tr.append(timeCell);
  for (const text of cells) {
    const td = document.createElement('td');
    td.textContent = text;
    tr.append(td);
  }
  return tr;
}

function showAlert({ rule, value, threshold, time }) {
  const tr = row(time, rule, number.format(value), number.format(threshold));
  for (const cell of [tr.cells[2], tr.cells[3]]) cell.className = 'num';
  $('alerts').querySelector('.empty')?.closest('tr').remove();
  $('alerts').prepend(tr);
}

function showLog({ level, module, message, fields, time }) {
  const tr = row(time, level, module, message, Object.entries(fields).map(([k, v]) => `${k}=${v}`).join(' '));
  tr.className = `level-${level}`;
  $('log').prepend(tr);
  while ($('log').rows.length > LOG_ROWS) $('log').lastElementChild.remove();
}

$('trigger-alert').addEventListener('click', action($('status'), () => call('triggerAlert')));

// ---------------------------------------------------------------------------------------
// Crash and recover: kill the engine's worker mid-write, start a new one, check.

$('crash').addEventListener('click', action($('crash-status'), async () => {
  $('crash').disabled = true;
  $('workload').checked = false;
  $('crash-result').hidden = true;
  const run = Date.now().toString(36);
  try {
    const { engine: running } = await engine;
    crashRun = run;
    acks = [];
    await running.call('crashWrites', { run });
    show($('crash-status'), 'Writing…');
    // Let acknowledged writes pile up for a random moment, then kill the worker between
    // two of them (some writes are always in flight).
    const until = performance.now() + 500 + Math.random() * 1000;
    while (performance.now() < until || acks.length === 0) await sleep(10);
    running.kill();
    const acked = acks;
    crashRun = null;
    show($('crash-status'), `Terminated the worker after ${number.format(acked.length)} acknowledged writes. Recovering…`);

    engine = startEngine();
    const { recovery } = await engine;
    const check = await call('check', { run, acked });
    await Promise.all([refreshCount(), reloadPage()]);
    const intact = check.present === check.acknowledged;
    $('crash-acked').textContent = number.format(check.acknowledged);
    $('crash-present').textContent = `${number.format(check.present)} ${intact ? '✓' : `✗ missing: ${check.missing.join(', ')}`}`;
    $('crash-present').classList.toggle('bad', !intact);
    $('crash-extra').textContent = number.format(check.stored - check.present);
    $('crash-records').textContent = number.format(recovery.records);
    $('crash-segments').textContent = number.format(recovery.segments);
    $('crash-bytes').textContent = bytes(recovery.bytes);
    $('crash-millis').textContent = `${recovery.millis.toFixed(1)} ms`;
    $('crash-dropped').textContent = recovery.dropped.length
      ? recovery.dropped.map((d) => `${bytes(d.bytes)} ${d.tornTail ? '(torn tail)' : `(${d.reason})`}`).join(', ')
      : 'nothing';
    $('crash-result').hidden = false;
    $('crash-result').dataset.intact = String(intact);
    show($('crash-status'), intact
      ? `Recovered: all ${number.format(check.acknowledged)} acknowledged writes are there.`
      : `Lost ${check.acknowledged - check.present} acknowledged writes!`);
  } finally {
    $('crash').disabled = false;
  }
}));

// ---------------------------------------------------------------------------------------
// Start.

$('isolated').textContent = String(globalThis.crossOriginIsolated === true);

setUpBenchmark({
  form: $('bench-form'),
  sizeInput: $('bench-n'),
  button: $('bench-run'),
  status: $('bench-status'),
  canvas: $('bench-chart'),
  table: $('bench-table'),
});

engine = startEngine();
try {
  await engine;
  await Promise.all([refreshCount(), loadPage('first')]);
  startMetricsView(
    () => readMetrics(call),
    { throughput: $('chart-throughput'), latency: $('chart-latency'), memory: $('chart-memory'), tables: $('chart-tables') },
    {
      writes: $('m-writes'), reads: $('m-reads'), putLatency: $('m-put-latency'), getLatency: $('m-get-latency'),
      memory: $('m-memory'), memtables: $('m-memtables'), tables: $('m-tables'),
      engine: Object.fromEntries([...document.querySelectorAll('[data-engine]')].map((dd) => [dd.dataset.engine, dd])),
    },
  );
  startPrometheusView(() => readMetricsText(call), $('prometheus-details'), $('prometheus'));
  document.body.dataset.ready = 'true';
  const where = (await engine).storage === 'opfs' ? 'private file system (OPFS)' : 'IndexedDB (this browser keeps no OPFS store here)';
  show($('status'), `Ready. The store lives in this origin's ${where} and survives reloads.`);
} catch (err) {
  $('storage').textContent = 'unavailable';
  $('flavour').textContent = 'unavailable';
  show($('status'), '', err);
}
