// db_bench through the package in a dedicated worker on OPFS (see bench/js/db-bench.mjs).
import { open, destroy } from '/pkg/index.js';
import { dbBenchRound } from '/bench/js/db-bench.mjs';

self.onmessage = async ({ data: { n } }) => {
  const options = { storage: 'opfs', keyEncoding: 'bytes', valueEncoding: 'bytes', durability: 'relaxed' };
  const prefix = `db-bench-${Date.now()}`;
  try {
    const result = await dbBenchRound({
      n,
      openStore: (name) => open(`${prefix}-${name}`, options),
      removeStore: (name) => destroy(`${prefix}-${name}`, options),
    });
    self.postMessage(result);
  } catch (err) {
    self.postMessage({ error: `${err.code ?? ''} ${err.message}` });
  }
};
