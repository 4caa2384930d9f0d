// One worker of the shared-store benchmark (bench/browser/shared.mjs): the first opens a
// store (OPFS, or memory for comparison) with the threaded build and shares it (it owns the
// files), the others attach.
// Each command answers `{ result }` or `{ error }`.
import { attach, destroy, open } from '/pkg/index.js';

const value = 'v'.repeat(100);
const keyOf = (i) => `k${String(Math.imul(i, 0x9e3779b1) >>> 0).padStart(10, '0')}-${String(i).padStart(4, '0')}`.slice(0, 16);

let db = null;
/** The keys, made before the timed part: in Chromium workers, making strings with padStart
 * and String(number) does not scale across threads, and would be measured with the store. */
let keys = [];

const commands = {
  async own({ name, storage, durability }) {
    if (storage === 'opfs') await destroy(name, { storage });
    db = await open(name, { storage, threads: true, durability, relaxedFlushInterval: 0 });
    return db.share();
  },
  async attach({ token }) {
    db = await attach(token);
  },
  /** Makes the first `count` keys. */
  async keys({ count }) {
    keys = Array.from({ length: count }, (_, i) => keyOf(i));
  },
  /** Puts keys from..to-1, one awaited put each. */
  async put({ from, to }) {
    for (let i = from; i < to; i++) await db.put(keys[i], value);
  },
  /** `count` awaited gets of random keys among the first `n`. */
  async get({ n, count }) {
    let found = 0;
    for (let i = 0; i < count; i++) if ((await db.get(keys[Math.floor(Math.random() * n)])) !== undefined) found++;
    if (found !== count) throw new Error(`${count - found} of ${count} keys not found`);
  },
  async flush() {
    await db.flush();
  },
  async close({ name, storage }) {
    await db.close();
    if (storage === 'opfs') await destroy(name, { storage });
  },
};

onmessage = async ({ data }) => {
  try {
    postMessage({ result: await commands[data.cmd](data) });
  } catch (err) {
    postMessage({ error: `${err?.code ?? err?.name}: ${err?.message ?? err}` });
  }
};
