// The benchmark panel's worker: the same three workloads on ppdb and on its peers, one
// store after the other, each with its library's default settings.
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
import { open, destroy } from '/pkg/index.js';

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

// Each peer: { name, open() } where open() resolves to a store with
// put(key, value), get(key) -> value, scan(fromKey, n) -> entries read, close().

const ppdb = (storage) => ({
  name: `ppdb (${storage === 'opfs' ? 'OPFS' : 'IndexedDB'})`,
  async open() {
    const name = `bench-ppdb-${storage}`;
    await destroy(name, { storage });
    const db = await open(name, { storage }); // durability 'sync': each put is durable when it resolves
    return {
      put: (key, value) => db.put(key, value),
      get: (key) => db.get(key),
      async scan(from, n) {
        let read = 0;
        for await (const _ of db.iterator({ gte: from, limit: n })) read++;
        return read;
      },
      async close() {
        await db.close();
        await destroy(name, { storage });
      },
    };
  },
});

const request = (req) =>
  new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });

const rawIndexedDb = {
  name: 'IndexedDB',
  async open() {
    const NAME = 'bench-indexeddb';
    await request(indexedDB.deleteDatabase(NAME));
    const opening = indexedDB.open(NAME, 1);
    opening.onupgradeneeded = () => opening.result.createObjectStore('kv');
    const idb = await request(opening);
    // One transaction per operation; resolves when the transaction completes.
    const transact = (mode, fn) =>
      new Promise((resolve, reject) => {
        const tx = idb.transaction('kv', mode);
        const result = fn(tx.objectStore('kv'));
        tx.oncomplete = () => resolve(result.result);
        tx.onerror = tx.onabort = () => reject(tx.error);
      });
    return {
      put: (key, value) => transact('readwrite', (store) => store.put(value, key)),
      get: (key) => transact('readonly', (store) => store.get(key)),
      async scan(from, n) {
        const range = IDBKeyRange.lowerBound(from);
        const [keys, values] = await Promise.all([
          transact('readonly', (store) => store.getAllKeys(range, n)),
          transact('readonly', (store) => store.getAll(range, n)),
        ]);
        return Math.min(keys.length, values.length);
      },
      async close() {
        idb.close();
        await request(indexedDB.deleteDatabase(NAME));
      },
    };
  },
};

const idbKeyval = {
  name: 'idb-keyval',
  async open() {
    const { createStore, set, get, entries, clear } = await import('/node_modules/idb-keyval/dist/index.js');
    const store = createStore('bench-idb-keyval', 'kv');
    await clear(store);
    return {
      put: (key, value) => set(key, value, store),
      get: (key) => get(key, store),
      scan: async () => (await entries(store)).length, // no ranges: the whole store (n entries)
      close: () => clear(store),
    };
  },
};

const dexie = {
  name: 'Dexie',
  async open() {
    const { default: Dexie } = await import('/node_modules/dexie/dist/dexie.mjs');
    const NAME = 'bench-dexie';
    await Dexie.delete(NAME);
    const db = new Dexie(NAME);
    db.version(1).stores({ kv: 'k' });
    await db.open();
    return {
      put: (k, v) => db.kv.put({ k, v }),
      get: async (k) => (await db.kv.get(k))?.v,
      scan: async (from, n) => (await db.kv.where('k').aboveOrEqual(from).limit(n).toArray()).length,
      close: () => db.close(), // deleted when the next run opens it
    };
  },
};

const sqlite = {
  name: 'SQLite (OPFS)',
  async open() {
    const { default: sqlite3InitModule } = await import('/node_modules/@sqlite.org/sqlite-wasm/dist/index.mjs');
    const sqlite3 = await sqlite3InitModule();
    // The "opfs" VFS needs a worker and SharedArrayBuffer (COOP/COEP, which the server sends).
    if (!sqlite3.oo1.OpfsDb) throw new Error('the OPFS VFS of sqlite-wasm is not available here');
    const FILE = 'ppdb-bench.sqlite3';
    const db = new sqlite3.oo1.OpfsDb(`/${FILE}`, 'c');
    db.exec('DROP TABLE IF EXISTS kv; CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT NOT NULL) WITHOUT ROWID');
    const put = db.prepare('INSERT OR REPLACE INTO kv (k, v) VALUES (?, ?)');
    const get = db.prepare('SELECT v FROM kv WHERE k = ?');
    const scan = db.prepare('SELECT k, v FROM kv WHERE k >= ? ORDER BY k LIMIT ?');
    return {
      put(key, value) {
        put.bind([key, value]).stepReset(); // its own transaction (autocommit)
      },
      get(key) {
        const value = get.bind([key]).step() ? get.get(0) : undefined;
        get.reset();
        return value;
      },
      scan(from, n) {
        let read = 0;
        scan.bind([from, n]);
        while (scan.step()) {
          scan.get(0);
          scan.get(1);
          read++;
        }
        scan.reset();
        return read;
      },
      async close() {
        for (const statement of [put, get, scan]) statement.finalize();
        db.close();
        await (await navigator.storage.getDirectory()).removeEntry(FILE).catch(() => {});
      },
    };
  },
};

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
