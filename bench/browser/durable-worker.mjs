// Runs one durable-write workload in a dedicated worker and answers with the seconds it took.
//   { kind: 'ppdb', storage: 'opfs' | 'indexeddb', durability, writers, n }
//   { kind: 'raw-idb', n }  one IndexedDB transaction (durability 'strict') per put
import { open, destroy } from '/pkg/index.js';

const value = 'v'.repeat(100);
const keyOf = (i) => `k${String(Math.imul(i, 0x9e3779b1) >>> 0).padStart(10, '0')}-${String(i).padStart(4, '0')}`.slice(0, 16);

async function ppdb({ storage, durability, writers, n }) {
  const name = `bench-${storage}-${durability}-${writers}`;
  await destroy(name, { storage });
  const db = await open(name, { storage, durability, relaxedFlushInterval: 0 });
  const per = Math.ceil(n / writers);
  const start = performance.now();
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      for (let i = w * per; i < Math.min(n, (w + 1) * per); i++) await db.put(keyOf(i), value);
    }),
  );
  if (durability === 'relaxed') await db.flush();
  const seconds = (performance.now() - start) / 1000;
  await db.close();
  await destroy(name, { storage });
  return seconds;
}

function request(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

async function rawIdb({ n }) {
  await request(indexedDB.deleteDatabase('bench-raw'));
  const open = indexedDB.open('bench-raw', 1);
  open.onupgradeneeded = () => open.result.createObjectStore('kv');
  const db = await request(open);
  const start = performance.now();
  for (let i = 0; i < n; i++) {
    const tx = db.transaction('kv', 'readwrite', { durability: 'strict' });
    tx.objectStore('kv').put(value, keyOf(i));
    await new Promise((resolve, reject) => {
      tx.oncomplete = resolve;
      tx.onerror = () => reject(tx.error);
    });
  }
  const seconds = (performance.now() - start) / 1000;
  db.close();
  await request(indexedDB.deleteDatabase('bench-raw'));
  return seconds;
}

onmessage = async ({ data }) => {
  try {
    postMessage({ seconds: data.kind === 'raw-idb' ? await rawIdb(data) : await ppdb(data) });
  } catch (err) {
    postMessage({ error: `${err?.code ?? err?.name}: ${err?.message ?? err}` });
  }
};
