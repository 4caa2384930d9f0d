// The demo's engine: one ppdb store on OPFS (`storage: 'opfs'`, durable 'sync' writes) in
// this dedicated worker, which the page owns and, for "Crash and recover", kills.
//
// Protocol (postMessage), see www/engine.js for the page's side:
//   page → worker   { id, cmd, ...args }
//   worker → page   { id, result } or { id, error: { code, message } }   one answer per request
//                   { event: 'ready', storage, flavour, recovery } or { event: 'failed', error }
//                   { event: 'progress', records, bytes, total }        import and export
//                   { event: 'ack', run, n }                             crash writes
import { open, destroy, exportNdjson, importNdjson } from '/pkg/index.js';
import { measure, readMetrics, tracked } from '/www/metrics.js';

const NAME = 'ppdb-demo';
// Small memtables (the default is 4 MiB), so flushes, tables and compactions show up in
// the live charts with demo-sized data.
const OPTIONS = { storage: 'opfs', durability: 'sync', memtableSize: 512 * 1024 };
/** Characters of a value sent to the page for the key browser (it shows fewer). */
const PREVIEW = 200;

const encoder = new TextEncoder();
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const pad = (n) => String(n).padStart(8, '0');

let raw; // the store
let db; // the same store, with the demo's own operations measured (www/metrics.js)

async function openStore() {
  // After a kill the old worker's OPFS handles and lock are released a moment later.
  for (let attempt = 0; ; attempt++) {
    try {
      raw = await open(NAME, OPTIONS);
      db = tracked(raw); // page-side metrics (www/metrics.js)
      return;
    } catch (err) {
      if (err?.code !== 'LOCKED' || attempt >= 50) throw err;
      await sleep(100);
    }
  }
}

/** Number of keys in the store (or under `prefix`). */
async function count(prefix) {
  let n = 0;
  for await (const _ of raw.iterator({ prefix: prefix || undefined, keyEncoding: 'bytes', valueEncoding: 'bytes' })) n++;
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
  scan: (options) =>
    // page-side metrics: measure()
    measure('reads', (rows) => rows.length, async () => {
      const rows = [];
      for await (const [key, value] of raw.iterator(options)) {
        rows.push({ key, value: value.slice(0, PREVIEW), truncated: value.length > PREVIEW, size: encoder.encode(value).length });
      }
      return rows;
    }),

  async importUrl({ url }) {
    const response = await fetch(url);
    if (!response.ok) throw Object.assign(new Error(`${url}: HTTP ${response.status}`), { code: 'HTTP' });
    return importStream(response.body, Number(response.headers.get('Content-Length')) || 0);
  },
  importFile: ({ file }) => importStream(file.stream(), file.size),

  /** The whole store as an NDJSON Blob, for the page to download. */
  exportAll: () =>
    // page-side metrics: measure()
    measure('reads', (result) => result.records, async () => {
      const lines = [];
      let progress = { records: 0, bytes: 0 };
      for await (const line of exportNdjson(raw, {
        onProgress: (p) => {
          progress = p;
          postMessage({ event: 'progress', ...p, total: 0 });
        },
      })) {
        lines.push(line);
      }
      return { blob: new Blob(lines, { type: 'application/x-ndjson' }), ...progress };
    }),

  metrics: () => readMetrics(raw),

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
      if ((await raw.get(`crash:${run}:${pad(n)}`)) !== crashValue(run, n)) missing.push(n);
    }
    return { acknowledged: acked.length, present: acked.length - missing.length, missing: missing.slice(0, 20), stored: await count(`crash:${run}:`) };
  },

  /** Deletes the store and opens it again, empty. */
  async clear() {
    commands.workload({ on: false });
    await raw.close();
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
  await openStore();
  postMessage({ event: 'ready', storage: raw.storage, flavour: raw.flavour, recovery: raw.recovery });
} catch (err) {
  postMessage({ event: 'failed', error: describe(err) });
}
