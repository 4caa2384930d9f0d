// What the app's worker does (its entry, ./worker.js, imports this): a ppdb store of its own
// in the Origin Private File System (IndexedDB where the browser cannot keep one there, as in
// a private window of Firefox or Safari). It counts its runs (the count survives reloads),
// writes a batch, reads it back, closes and reports.
import { open } from 'ppdb';

async function run() {
  const db = await open('worker-log'); // storage 'auto'
  try {
    const runs = Number((await db.get('runs')) ?? 0) + 1;
    const ops = [{ type: 'put', key: 'runs', value: String(runs) }];
    for (let i = 0; i < 100; i++) ops.push({ type: 'put', key: `run:${runs}:${String(i).padStart(3, '0')}`, value: `entry ${i}` });
    await db.batch(ops); // atomic, and durable in OPFS once it resolves
    let count = 0;
    for await (const [, value] of db.iterator({ prefix: `run:${runs}:` })) {
      if (value !== `entry ${count}`) throw new Error(`entry ${count} read back as ${value}`);
      count++;
    }
    return { ok: true, storage: db.storage, flavour: db.flavour, runs, count };
  } finally {
    // Closing releases the store, so the next page load's worker can open it.
    await db.close();
  }
}

run().then(
  (result) => postMessage(result),
  (err) => postMessage({ ok: false, error: `${err.code ?? err.name}: ${err.message}` }),
);
