// Threads that end give their memory back (pkg/engine/threads.js): every worker that joins a
// threaded engine's shared memory gets a 2 MiB stack in it, which the thread that made the
// memory frees once the worker's context is gone (it closed, or was terminated), and a heap
// of its own (src/wasm/alloc.rs), which the next worker takes over, so a page that starts
// and ends workers does not run the memory out.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ENGINE, openWorkersPage, SHARED_MEMORY } from './harness.mjs';

/** Workers started and ended (PPDB_THREAD_ROUNDS for more). */
const ROUNDS = Number(process.env.PPDB_THREAD_ROUNDS ?? 60);
/** Shared memory and Web Locks: Chromium and Firefox. */
const RUNS = SHARED_MEMORY && ENGINE !== 'webkit';

let page, setup;

before(async () => {
  if (!RUNS) return;
  setup = await openWorkersPage('api.html');
  ({ page } = setup);
});

after(() => setup?.close());

test(`${ROUNDS} workers attach to a shared store, write and end (terminated, half of them after closing their store): the memory grows by under 2.5 MiB in all (2 MiB a worker if their stacks stayed, 64 KiB if their heaps did), while a worker attached throughout writes on, and every acknowledged batch is there, whole`, { skip: !RUNS && 'needs shared memory and Web Locks', timeout: 60_000 + ROUNDS * 1_000 }, async () => {
  const result = await page.evaluate(async (rounds) => {
    // Writers 1..rounds: one worker each, which comes and goes; writers rounds+1..2*rounds:
    // the steady worker's batches, written beside each of them.
    const acked = new Int32Array(new SharedArrayBuffer(4 * (2 * rounds + 1)));
    const owner = await spawn();
    const { token, flavour } = await call(owner, { cmd: 'own', name: 'ended-threads', options: { storage: 'memory' } });
    const steady = await spawn();
    await call(steady, { cmd: 'attach', token });
    const sizes = [];
    const memory = async () => (await call(owner, { cmd: 'memory' })).bytes;
    for (let round = 1; round <= rounds; round++) {
      const worker = await spawn();
      await call(worker, { cmd: 'attach', token });
      await call(steady, { cmd: 'write', writer: rounds + round, count: 20, acked, wait: false });
      await call(worker, { cmd: 'write', writer: round, count: 20, acked });
      // Half close their store first; the others just go. (A worker terminated mid-write
      // leaves a hole that stops the store's writes until it is reopened: shared.test.mjs.)
      if (round % 2) await call(worker, { cmd: 'close' });
      worker.terminate();
      while (Atomics.load(acked, rounds + round) < 20 && !(await call(steady, { cmd: 'failure' })).failure) await sleep(1);
      // (the first workers' own heaps and the memtable's first chunks come before this)
      if (round === 10) sizes.push(await memory());
    }
    await sleep(500); // the last workers' locks are granted to the owner
    sizes.push(await memory());
    const { failure } = await call(steady, { cmd: 'failure' });
    await call(steady, { cmd: 'close' });
    steady.terminate();
    const { seen } = await call(owner, { cmd: 'read', writers: 2 * rounds + 1 });
    owner.terminate();
    const problems = seen.filter(({ writer, batches, halves }) => writer > 0 && (batches !== 20 || batches < acked[writer] || halves)).map((s) => `writer ${s.writer}: ${s.batches} batches of ${acked[s.writer]} acknowledged, ${s.halves} not whole`);
    return { flavour, sizes, failure, problems };
  }, ROUNDS);
  const grew = (result.sizes[1] - result.sizes[0]) / 2 ** 20;
  console.log(`# memory ${(result.sizes[0] / 2 ** 20).toFixed(1)} MiB after 10 workers, +${grew.toFixed(2)} MiB after ${ROUNDS - 10} more`);
  assert.equal(result.flavour, 'threaded');
  assert.equal(result.failure, null);
  assert.deepEqual(result.problems, []);
  assert.ok(grew < 2.5, `the memory grew by ${grew.toFixed(1)} MiB over ${ROUNDS - 10} workers`);
});
