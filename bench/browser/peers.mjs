// The stores ppdb is measured beside in the browser, each behind one small interface, for
// the repo's peer benchmark (bench/browser/peers-worker.mjs) and the demo's benchmark panel
// (www/bench-worker.js). Each runs in a dedicated worker with its library's own API, as an
// application would call it.
//
//   peer.open({ durability }) -> store, empty
//     durability 'sync':    a write is on disk when its promise resolves (the peer's strict mode)
//     durability 'relaxed': it may be lost in a crash (the peer's fast mode)
//   store.batch(entries)    [[key, value], ...] in one transaction
//   store.put(key, value)   one write, its own transaction
//   store.get(key)          -> value | undefined
//   store.scan(from?, n?)   -> entries read in key order (every key and value touched)
//   store.close()           closes and deletes the store
// Keys and values are strings.
import { open, destroy } from '/pkg/index.js';

/** ppdb on `storage` ('opfs' | 'indexeddb'). */
export const ppdb = (storage) => ({
  name: `ppdb ${storage === 'opfs' ? 'OPFS' : 'IndexedDB'}`,
  async open({ durability = 'sync' } = {}) {
    const name = `bench-ppdb-${storage}`;
    await destroy(name, { storage });
    const db = await open(name, { storage, durability });
    return {
      batch: (entries) => db.batch(entries.map(([key, value]) => ({ type: 'put', key, value }))),
      put: (key, value) => db.put(key, value),
      get: (key) => db.get(key),
      async scan(from, n) {
        let read = 0;
        for await (const [key, value] of db.iterator(from === undefined ? {} : { gte: from, limit: n })) read += key.length > 0 && value.length >= 0 ? 1 : 0;
        return read;
      },
      async close() {
        await db.close();
        await destroy(name, { storage });
      },
    };
  },
});

/** A JS Map behind the same async calls: the limit of a store in memory. */
export const jsMap = {
  name: 'JS Map',
  async open() {
    const map = new Map();
    return {
      async batch(entries) {
        for (const [key, value] of entries) map.set(key, value);
      },
      async put(key, value) {
        map.set(key, value);
      },
      async get(key) {
        return map.get(key);
      },
      async scan() {
        let read = 0;
        for (const [key, value] of map) read += key.length > 0 && value.length >= 0 ? 1 : 0;
        return read;
      },
      async close() {
        map.clear();
      },
    };
  },
};

const request = (req) =>
  new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });

/** IndexedDB itself: one object store, out-of-line keys, one transaction per call. */
export const rawIndexedDb = {
  name: 'IndexedDB',
  async open({ durability = 'sync' } = {}) {
    const NAME = 'bench-indexeddb';
    await request(indexedDB.deleteDatabase(NAME));
    const opening = indexedDB.open(NAME, 1);
    opening.onupgradeneeded = () => opening.result.createObjectStore('kv');
    const idb = await request(opening);
    const txDurability = durability === 'sync' ? 'strict' : 'relaxed';
    // One transaction; resolves with `fn`'s request's result once the transaction completes.
    const transact = (mode, fn) =>
      new Promise((resolve, reject) => {
        const tx = idb.transaction('kv', mode, { durability: txDurability });
        const result = fn(tx.objectStore('kv'));
        tx.oncomplete = () => resolve(result?.result);
        tx.onerror = tx.onabort = () => reject(tx.error);
      });
    return {
      batch: (entries) =>
        transact('readwrite', (store) => {
          for (const [key, value] of entries) store.put(value, key);
        }),
      put: (key, value) => transact('readwrite', (store) => store.put(value, key)),
      get: (key) => transact('readonly', (store) => store.get(key)),
      scan: (from, n) =>
        new Promise((resolve, reject) => {
          const tx = idb.transaction('kv', 'readonly');
          const cursor = tx.objectStore('kv').openCursor(from === undefined ? null : IDBKeyRange.lowerBound(from));
          let read = 0;
          cursor.onsuccess = () => {
            const at = cursor.result;
            if (!at || read === n) return;
            read += at.key.length > 0 && at.value.length >= 0 ? 1 : 0;
            at.continue();
          };
          tx.oncomplete = () => resolve(read);
          tx.onerror = tx.onabort = () => reject(tx.error);
        }),
      async close() {
        idb.close();
        await request(indexedDB.deleteDatabase(NAME));
      },
    };
  },
};

/** idb-keyval: IndexedDB with its library's defaults (it sets no durability). */
export const idbKeyval = {
  name: 'idb-keyval',
  async open() {
    const { createStore, set, setMany, get, entries, clear } = await import('/node_modules/idb-keyval/dist/index.js');
    const store = createStore('bench-idb-keyval', 'kv');
    await clear(store);
    return {
      batch: (pairs) => setMany(pairs, store),
      put: (key, value) => set(key, value, store),
      get: (key) => get(key, store),
      // No ranges: the whole store, in key order.
      scan: async () => (await entries(store)).filter(([key, value]) => key.length > 0 && value.length >= 0).length,
      close: () => clear(store),
    };
  },
};

/** Dexie: IndexedDB through its table API, outbound keys. */
export const dexie = {
  name: 'Dexie',
  async open({ durability = 'sync' } = {}) {
    const { default: Dexie } = await import('/node_modules/dexie/dist/dexie.mjs');
    const NAME = 'bench-dexie';
    await Dexie.delete(NAME);
    const db = new Dexie(NAME, { chromeTransactionDurability: durability === 'sync' ? 'strict' : 'relaxed' });
    db.version(1).stores({ kv: '' });
    await db.open();
    return {
      batch: (entries) => db.kv.bulkPut(entries.map(([, value]) => value), entries.map(([key]) => key)),
      put: (key, value) => db.kv.put(value, key),
      get: (key) => db.kv.get(key),
      async scan(from, n) {
        let read = 0;
        const range = from === undefined ? db.kv.toCollection() : db.kv.where(':id').aboveOrEqual(from).limit(n);
        await range.each((value, cursor) => {
          read += cursor.primaryKey.length > 0 && value.length >= 0 ? 1 : 0;
        });
        return read;
      },
      async close() {
        db.close();
        await Dexie.delete(NAME);
      },
    };
  },
};

/**
 * SQLite compiled to wasm, on OPFS through its "opfs-sahpool" VFS (its fastest; the "opfs"
 * VFS is slower): a WITHOUT ROWID table, prepared statements, one transaction per batch.
 * `sync` is `synchronous=FULL`, `relaxed` is `synchronous=OFF`.
 */
let sqlitePool = null;

export const sqlite = {
  name: 'sqlite-wasm OPFS',
  async open({ durability = 'sync' } = {}) {
    // One module and one pool per worker: the pool holds its files' access handles.
    sqlitePool ??= (async () => {
      const { default: sqlite3InitModule } = await import('/node_modules/@sqlite.org/sqlite-wasm/dist/index.mjs');
      const sqlite3 = await sqlite3InitModule();
      return sqlite3.installOpfsSAHPoolVfs({ name: 'ppdb-bench-pool' });
    })();
    const pool = await sqlitePool;
    const FILE = '/ppdb-bench.sqlite3';
    pool.unlink(FILE);
    const db = new pool.OpfsSAHPoolDb(FILE);
    db.exec(`PRAGMA synchronous=${durability === 'sync' ? 'FULL' : 'OFF'}`);
    db.exec('CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT NOT NULL) WITHOUT ROWID');
    const put = db.prepare('INSERT OR REPLACE INTO kv (k, v) VALUES (?, ?)');
    const get = db.prepare('SELECT v FROM kv WHERE k = ?');
    const all = db.prepare('SELECT k, v FROM kv ORDER BY k');
    const range = db.prepare('SELECT k, v FROM kv WHERE k >= ? ORDER BY k LIMIT ?');
    return {
      async batch(entries) {
        db.exec('BEGIN');
        try {
          for (const [key, value] of entries) put.bind([key, value]).stepReset();
          db.exec('COMMIT');
        } catch (err) {
          db.exec('ROLLBACK');
          throw err;
        }
      },
      async put(key, value) {
        put.bind([key, value]).stepReset(); // its own transaction (autocommit)
      },
      async get(key) {
        const value = get.bind([key]).step() ? get.get(0) : undefined;
        get.reset();
        return value;
      },
      async scan(from, n) {
        const statement = from === undefined ? all : range.bind([from, n]);
        let read = 0;
        while (statement.step()) read += statement.get(0).length > 0 && statement.get(1).length >= 0 ? 1 : 0;
        statement.reset();
        return read;
      },
      async close() {
        for (const statement of [put, get, all, range]) statement.finalize();
        db.close();
        pool.unlink(FILE);
      },
    };
  },
};
