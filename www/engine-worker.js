// The demo's engine: one ppdb store on OPFS (`storage: 'auto'`: IndexedDB where the browser
// cannot keep one in OPFS, as in WebKitGTK or a private window; durable 'sync' writes) in
// this dedicated worker, which the page owns and, for "Crash and recover", kills.
//
// Protocol (postMessage), see www/engine.js for the page's side:
//   page → worker   { id, cmd, ...args }
//   worker → page   { id, result } or { id, error: { code, message } }   one answer per request
//                   { event: 'ready', storage, flavour, recovery } or { event: 'failed', error }
//                   { event: 'progress', records, bytes, total }        import and export
//                   { event: 'ack', run, n }                             crash writes
//                   { event: 'alert', alert: { rule, value, threshold, time } }   the store's 'alert' events
//                   { event: 'log', entry: { level, module, message, fields, time } }   the engine's log
//                   { event: 'changes', changes: [{ type, key, sequence }], total }   db.watch(): writes
//                                                    of every tab, at most one message per 100 ms
//                   { event: 'role', role }          'owner' or 'client' of the store (every tab shares it)
import { open, destroy, exportNdjson, importNdjson, setLogger } from '/pkg/index.js';

const NAME = 'ppdb-demo';
// Small memtables (the default is 4 MiB), so flushes, tables and compactions show up in
// the live charts with demo-sized data.
const OPTIONS = { storage: 'auto', durability: 'sync', memtableSize: 512 * 1024 };
/** The store's alert rules, checked every second; "Trigger an alert" adds DEMO_ALERT. */
const ALERTS = [
  { name: 'slow puts', metric: 'put.p99', above: 50 },
  { name: 'memtables near their budget', metric: 'memoryUse', above: 0.8 },
];
/** Always true: the cache hit rate is a fraction (1 before any lookup). */
const DEMO_ALERT = { name: 'demo alert', metric: 'cacheHitRate', below: 2 };
/** Characters of a value sent to the page for the key browser (it shows fewer). */
const PREVIEW = 200;

const encoder = new TextEncoder();
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const pad = (n) => String(n).padStart(8, '0');

let db; // the store

async function openStore() {
  // After a kill the old worker's OPFS handles and lock are released a moment later.
  for (let attempt = 0; ; attempt++) {
    try {
      db = await open(NAME, { ...OPTIONS, alerts: ALERTS });
      db.addEventListener('alert', ({ detail }) => postMessage({ event: 'alert', alert: detail }));
      db.addEventListener('ownerchange', () => postMessage({ event: 'role', role: db.role }));
      watchChanges(db);
      return;
    } catch (err) {
      if (err?.code !== 'LOCKED' || attempt >= 50) throw err;
      await sleep(100);
    }
  }
}

/** Changes shown at most per message (the newest). */
const CHANGES_SHOWN = 12;

/**
 * Posts the store's changes (made in this tab or any other: the store is shared) to the
 * page, gathered for 100 ms, so a busy workload costs a message per tick, not per write.
 */
async function watchChanges(store) {
  let pending = [];
  let total = 0;
  let timer = null;
  const post = () => {
    timer = null;
    postMessage({ event: 'changes', changes: pending, total });
    pending = [];
  };
  for await (const change of store.watch({ keyEncoding: 'bytes', valueEncoding: 'bytes' })) {
    total++;
    pending.push({ type: change.type, key: change.key, sequence: change.sequence });
    if (pending.length > CHANGES_SHOWN) pending.shift();
    timer ??= setTimeout(post, 100);
  }
}

/** Number of keys in the store (or under `prefix`). */
async function count(prefix) {
  let n = 0;
  for await (const _ of db.iterator({ prefix: prefix || undefined, keyEncoding: 'bytes', valueEncoding: 'bytes' })) n++;
  return n;
}

/**
 * Imports NDJSON from a web ReadableStream of `total` bytes (0: unknown), posting progress
 * as the bytes are read (per chunk) and as importNdjson reports records.
 */
async function importStream(stream, total) {
  let read = 0;
  let records = 0;
  const progress = () => postMessage({ event: 'progress', records, bytes: read, total });
  const counted = stream.pipeThrough(
    new TransformStream({
      transform(chunk, controller) {
        read += chunk.byteLength;
        progress();
        controller.enqueue(chunk);
      },
    }),
  );
  const started = performance.now();
  const result = await importNdjson(db, counted, {
    onProgress: (p) => {
      records = p.records;
      progress();
    },
  });
  return { ...result, millis: performance.now() - started, count: await count() };
}

// The background workload and the crash writer: loops that run until told to stop (or killed).
let workload = null;
const randomKey = (prefix, n) => `${prefix}${pad(Math.floor(Math.random() * n))}`;

async function runWorkload(state) {
  const value = 'w'.repeat(100);
  const writer = async () => {
    while (state.on) await db.put(randomKey('load:', 5000), value);
  };
  const reader = async () => {
    while (state.on) {
      for (let i = 0; i < 10; i++) await db.get(randomKey('load:', 5000));
      await sleep(0); // gets resolve at once: let the writers and the page's requests in
    }
  };
  await Promise.all([writer(), writer(), writer(), writer(), reader()]);
}

const crashValue = (run, n) => `crash run ${run}, write ${n}: `.padEnd(100, '.');

const commands = {
  put: ({ key, value }) => db.put(key, value),
  del: ({ key }) => db.del(key),
  get: ({ key }) => db.get(key),
  count: ({ prefix }) => count(prefix),

  /** A page of the key browser: the iterator options as given (gt, gte, lt, prefix, reverse, limit). */
  async scan(options) {
    const rows = [];
    for await (const [key, value] of db.iterator(options)) {
      rows.push({ key, value: value.slice(0, PREVIEW), truncated: value.length > PREVIEW, size: encoder.encode(value).length });
    }
    return rows;
  },

  async importUrl({ url }) {
    const response = await fetch(url);
    if (!response.ok) throw Object.assign(new Error(`${url}: HTTP ${response.status}`), { code: 'HTTP' });
    return importStream(response.body, Number(response.headers.get('Content-Length')) || 0);
  },
  importFile: ({ file }) => importStream(file.stream(), file.size),

  /** The whole store as an NDJSON Blob, for the page to download. */
  async exportAll() {
    const lines = [];
    let progress = { records: 0, bytes: 0 };
    for await (const line of exportNdjson(db, {
      onProgress: (p) => {
        progress = p;
        postMessage({ event: 'progress', ...p, total: 0 });
      },
    })) {
      lines.push(line);
    }
    return { blob: new Blob(lines, { type: 'application/x-ndjson' }), ...progress };
  },

  /** The engine's own metrics (www/metrics.js reads them), and the same as Prometheus text. */
  metrics: () => db.metrics(),
  metricsText: () => db.metricsText(),

  /** Adds DEMO_ALERT to the rules and checks them at once, so it fires now. */
  triggerAlert() {
    db.setAlerts([...ALERTS, DEMO_ALERT]);
    db.checkAlerts(); // dispatches the 'alert' events, which go to the page
    return true;
  },

  /** Starts or stops a background workload (4 writers, 1 reader over 5,000 `load:` keys). */
  workload({ on }) {
    if (on && !workload) {
      workload = { on: true };
      runWorkload(workload).catch(() => {});
    } else if (!on && workload) {
      workload.on = false;
      workload = null;
    }
    return on;
  },

  /**
   * Crash writes: 4 writers put `crash:<run>:<n>` with sync durability and post an ack
   * after each put resolved, until the page terminates this worker.
   */
  crashWrites({ run }) {
    const writer = async (first) => {
      for (let n = first; ; n += 4) {
        await db.put(`crash:${run}:${pad(n)}`, crashValue(run, n));
        postMessage({ event: 'ack', run, n });
      }
    };
    for (let w = 0; w < 4; w++) writer(w).catch(() => {});
    return 'writing';
  },

  /** After a crash: which acknowledged writes of `run` are in the store, and how many keys it holds. */
  async check({ run, acked }) {
    const missing = [];
    for (const n of acked) {
      if ((await db.get(`crash:${run}:${pad(n)}`)) !== crashValue(run, n)) missing.push(n);
    }
    return { acknowledged: acked.length, present: acked.length - missing.length, missing: missing.slice(0, 20), stored: await count(`crash:${run}:`) };
  },

  /** Deletes the store and opens it again, empty. */
  async clear() {
    commands.workload({ on: false });
    await db.close();
    await destroy(NAME, OPTIONS);
    await openStore();
    return true;
  },
};

const describe = (err) => ({ code: err?.code ?? err?.name ?? 'ERROR', message: String(err?.message ?? err) });

onmessage = async ({ data: { id, cmd, ...args } }) => {
  try {
    if (!Object.hasOwn(commands, cmd)) throw new Error(`unknown command ${cmd}`);
    postMessage({ id, result: await commands[cmd](args) });
  } catch (err) {
    postMessage({ id, error: describe(err) });
  }
};

try {
  // The engine's log from 'info' up (opened a store, flushes, compactions) goes to the page.
  await setLogger({ level: 'info', onLog: (entry) => postMessage({ event: 'log', entry }) });
  await openStore();
  postMessage({ event: 'ready', storage: db.storage, flavour: db.flavour, recovery: db.recovery, role: db.role });
} catch (err) {
  postMessage({ event: 'failed', error: describe(err) });
}
