// One durable OPFS store shared by the dedicated workers of a page through shared memory
// (threaded build): the worker that opens it owns its files and answers the others' file
// calls (src/storage/remote/, pkg/storage/owner.js); every worker writes the one memtable
// and log. Attacked by terminating workers at random moments: nothing acknowledged is lost,
// no batch is found in part, and no thread hangs.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ENGINE, openPage, openWorkersPage, ppdbLoaded, repoRoot, SHARED_MEMORY } from './harness.mjs';
import { readmeBlock } from '../js/fixtures/readme.mjs';

/** Kill rounds of the first test (PPDB_SHARED_ROUNDS for more). */
const ROUNDS = Number(process.env.PPDB_SHARED_ROUNDS ?? 30);
/** Kill rounds of the same test on an IndexedDB store (PPDB_SHARED_IDB_ROUNDS for more). */
const IDB_ROUNDS = Number(process.env.PPDB_SHARED_IDB_ROUNDS ?? 10);
/** Owners terminated in the failover test: of its 4 workers, the last one stays. */
const KILL_OWNERS = 3;
/** Workers terminated mid-write in the second (PPDB_SHARED_KILLS for more). */
const KILLS = Number(process.env.PPDB_SHARED_KILLS ?? 100);
/** OPFS with sync access handles and shared memory: Chromium and Firefox. */
const RUNS = SHARED_MEMORY && ENGINE !== 'webkit';

let server, browser, page, setup;

before(async () => {
  if (!RUNS) return;
  setup = await openWorkersPage('api.html');
  ({ server, browser, page } = setup);
});

after(() => setup?.close());

/**
 * 4 workers (the owner of the files and three attached) write one shared store on
 * `storage` with sync durability, all terminated at a random moment, `rounds` times; the
 * next round's workers check the last one's acknowledged batches. Answers `{ problems,
 * total, longestTask }`.
 */
function killRounds(storage, rounds) {
  return page.evaluate(async ({ storage, rounds }) => {
    const name = `shared-rounds-${storage}`;
    await ppdb.destroy(name, { storage });
    const acked = new Int32Array(new SharedArrayBuffer(4 * 4 * (rounds + 1)));
    const problems = [];
    const longest = { task: 0 };
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) longest.task = Math.max(longest.task, entry.duration);
    }).observe({ entryTypes: ['longtask'] });
    for (let round = 0; round <= rounds; round++) {
      const owner = await spawn();
      // Small memtables: flushes and compactions run while the workers write.
      const { token, flavour } = await call(owner, { cmd: 'own', name, options: { storage, durability: 'sync', memtableSize: 256 * 1024 } });
      if (flavour !== 'threaded') problems.push(`round ${round}: the ${flavour} build`);
      const workers = [owner];
      for (let i = 1; i < 4; i++) {
        const worker = await spawn();
        await call(worker, { cmd: 'attach', token });
        workers.push(worker);
      }
      // The last round's writers, killed at random: what they had acknowledged is all here, whole.
      if (round > 0) {
        const writers = [0, 1, 2, 3].map((w) => 4 * (round - 1) + w);
        const { seen } = await call(workers[round % 4], { cmd: 'read', writers });
        for (const { writer, batches, halves } of seen) {
          if (batches < acked[writer] || halves) problems.push(`round ${round}: writer ${writer} acknowledged ${acked[writer]} batches, ${batches} found, ${halves} not whole`);
        }
      }
      if (round === rounds) {
        for (const worker of workers) worker.terminate();
        break;
      }
      const writers = [0, 1, 2, 3].map((w) => 4 * round + w);
      await Promise.all(workers.map((worker, w) => call(worker, { cmd: 'write', writer: writers[w], acked, wait: false })));
      await sleep(50 + Math.random() * 250);
      // Each worker reads every writer's last acknowledged batch, written in other threads.
      for (const [w, worker] of workers.entries()) {
        const { missing } = await call(worker, { cmd: 'seesAcked', writers, acked });
        if (missing.length) problems.push(`round ${round}: worker ${w} does not see ${JSON.stringify(missing)}`);
      }
      await sleep(Math.random() * 100);
      for (const worker of workers) worker.terminate();
      // The Web Lock of the owner's files goes with its worker; the next open waits for it.
    }
    const total = [...acked].reduce((a, b) => a + b, 0);
    return { problems, total, longestTask: longest.task };
  }, { storage, rounds });
}

for (const [storage, rounds] of [['opfs', ROUNDS], ['indexeddb', IDB_ROUNDS]]) {
  test(`4 workers write one shared ${storage === 'opfs' ? 'OPFS' : 'IndexedDB'} store with sync durability, all terminated at a random moment, ${rounds} rounds: every acknowledged batch survives whole, and every thread saw the others' while they wrote`, { skip: !RUNS && 'needs OPFS sync access handles and shared memory', timeout: 60_000 + rounds * 8_000 }, async () => {
    const result = await killRounds(storage, rounds);
    assert.deepEqual(result.problems, []);
    assert.ok(result.total > rounds * 4, `only ${result.total} batches acknowledged in ${rounds} rounds`);
    // The page never waits for the workers' files.
    assert.ok(result.longestTask < 50, `the page's longest task took ${result.longestTask} ms`);
  });
}

test(`a worker attached to a shared OPFS store, terminated mid-write ${KILLS} times in a row: the others never hang, keep writing or fail with a PpdbError, and nothing acknowledged is lost`, { skip: !RUNS && 'needs OPFS sync access handles and shared memory', timeout: 60_000 + KILLS * 3_000 }, async () => {
  const result = await page.evaluate(async (kills) => {
    const name = 'shared-kills';
    await ppdb.destroy(name, { storage: 'opfs' });
    // Writer 0 is the owner; victims are writers 1..kills.
    const acked = new Int32Array(new SharedArrayBuffer(4 * (kills + 1)));
    const outcomes = { clean: 0, failed: {} };
    const problems = [];
    let owner = null;
    let token = null;
    const start = async () => {
      owner = await spawn();
      ({ token } = await call(owner, { cmd: 'own', name, options: { durability: 'sync', stallTimeout: 300 } }));
    };
    await start();
    for (let kill = 1; kill <= kills; kill++) {
      const victim = await spawn();
      await call(victim, { cmd: 'attach', token });
      await call(victim, { cmd: 'write', writer: kill, acked, wait: false });
      await sleep(Math.random() * 30);
      victim.terminate();
      // The owner writes on: at once, or it fails with a PpdbError within its bounded waits.
      const started = performance.now();
      const outcome = await Promise.race([
        call(owner, { cmd: 'write', writer: 0, count: Atomics.load(acked, 0) + 3, acked }).then(
          () => 'clean',
          (err) => {
            (outcomes.messages ??= []).push(String(err.message).split('\n')[0]);
            return String(err.message).split(':')[0];
          },
        ),
        sleep(8_000).then(() => 'hung'),
      ]);
      // (write counts from 0 again: batches 0..n are rewritten with the same values)
      if (outcome === 'hung') problems.push(`kill ${kill}: the owner's write hung for ${Math.round(performance.now() - started)} ms`);
      if (outcome === 'clean') outcomes.clean++;
      else {
        outcomes.failed[outcome] = (outcomes.failed[outcome] ?? 0) + 1;
        // The store refuses writes until it is opened again (or its engine stopped): reopen.
        owner.terminate();
        await start();
      }
    }
    owner.terminate();
    await start();
    const writers = Array.from({ length: kills + 1 }, (_, i) => i);
    const { seen } = await call(owner, { cmd: 'read', writers });
    for (const { writer, batches, halves } of seen) {
      if (batches < acked[writer] || halves) problems.push(`writer ${writer} acknowledged ${acked[writer]} batches, ${batches} found, ${halves} not whole`);
    }
    owner.terminate();
    return { problems, outcomes, victimsAcked: [...acked].slice(1).reduce((a, b) => a + b, 0) };
  }, KILLS);
  console.log(`# ${KILLS} kills: ${JSON.stringify({ ...result.outcomes, messages: result.outcomes.messages?.slice(0, 3) })}, ${result.victimsAcked} batches acknowledged to victims`);
  assert.deepEqual(result.problems, []);
  assert.ok(result.outcomes.clean > 0, 'the owner never wrote on after a kill');
  const codes = Object.keys(result.outcomes.failed);
  assert.ok(codes.every((code) => ['IO', 'INTERNAL'].includes(code)), `failures: ${codes}`);
});

test("the README's recipe, as pasted: worker A opens and shares an OPFS store, the page hands the token to worker B, whose put is there, synced, once both are terminated", { skip: !RUNS && 'needs OPFS sync access handles and shared memory', timeout: 60_000 }, async () => {
  // The block's three files, split at their comments; 'ppdb' is the package served here.
  const block = readmeBlock('### One OPFS or IndexedDB store, every worker');
  const part = (start, end) => {
    const from = block.indexOf(start);
    assert.ok(from >= 0, `no "${start}" in the README's block`);
    const to = end ? block.indexOf(end) : block.length;
    return block.slice(from, to).replaceAll("from 'ppdb'", "from '/pkg/index.js'");
  };
  // Written where the test server serves fixtures (git ignores the folder).
  const dir = join(repoRoot, 'tests', 'browser', 'fixtures', 'readme-share');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'owner.js'), part('// owner.js', '// the page'));
  writeFileSync(join(dir, 'writer.js'), part('// writer.js'));
  // The page's part, and a handle on its workers for the test.
  writeFileSync(join(dir, 'index.html'), `<!doctype html><script type="module">\n${part('// the page', '// writer.js')}\nwindow.recipe = { a, b };\n</script>`);
  await page.evaluate(() => ppdb.destroy('notes', { storage: 'opfs' }));
  const recipe = await openPage(browser.context, server.url + 'tests/browser/fixtures/readme-share/index.html');
  try {
    await recipe.waitForFunction(() => window.recipe);
    // Worker B's put resolves once synced; then nothing the workers hold in memory counts.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    await recipe.evaluate(() => {
      window.recipe.a.terminate();
      window.recipe.b.terminate();
    });
  } finally {
    await recipe.close();
  }
  const value = await page.evaluate(async () => {
    const reader = await spawn();
    const { token } = await call(reader, { cmd: 'own', name: 'notes', options: {} });
    const { value } = await call(reader, { cmd: 'get', key: 'note:2' });
    reader.terminate();
    return { token: token.ppdb, value };
  });
  assert.deepEqual(value, { token: 1, value: 'from B' });
});

test("a page opens an OPFS store with threads: true and reads it in its own shared memory: memtables and cached blocks answered on the page, the rest by the store's worker, in call order; 4 workers attached through share() write synced batches while the page reads them whole, its longest task under 50 ms", { skip: !RUNS && 'needs OPFS sync access handles and shared memory', timeout: 120_000 }, async () => {
  const result = await page.evaluate(async () => {
    const name = 'page-direct';
    await ppdb.destroy(name, { storage: 'opfs' });
    const problems = [];
    const check = (ok, what) => ok || problems.push(what);
    const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
    const pageReads = async () => (await db.stats()).pageReads;
    const db = await ppdb.open(name, { storage: 'opfs', threads: true, exclusive: true, valueEncoding: 'json', memtableSize: 256 * 1024 });
    check(db.flavour === 'threaded', `the ${db.flavour} build`);
    for (let i = 0; i < 300; i++) await db.put(`k${i}`, { i });

    // In the memtable: every read answered on the page.
    const start = await pageReads();
    for (let i = 0; i < 300; i++) check((await db.get(`k${i}`))?.i === i, `k${i} read on the page`);
    check(same(await db.getMany(['k1', 'absent', 'k2']), [{ i: 1 }, null, { i: 2 }]), 'getMany');
    check((await db.has('k3')) === true && (await db.has('absent')) === false, 'has');
    check(same(await db.hasMany(['k3', 'absent']), [true, false]), 'hasMany');
    const versioned = await db.getWithVersion('k4');
    check(versioned.value.i === 4 && typeof versioned.version === 'string', 'getWithVersion');
    const memtable = await pageReads();
    check(memtable.direct === start.direct + 305 && memtable.forwarded === start.forwarded, `memtable reads: ${JSON.stringify([start, memtable])}`);

    // Hostile options: a `has` trap that throws is read as the page's Db reads options (by `get`),
    // a `get` trap that throws is refused with a PpdbError; neither throws synchronously.
    const trap = (what) => new Proxy({}, { [what]() { throw new Error(`${what} trap`); } });
    let settled;
    try {
      settled = await db.get('k5', trap('has')).then((v) => v?.i, (err) => `rejected: ${err}`);
    } catch (err) {
      settled = `threw synchronously: ${err}`;
    }
    check(settled === 5, `get() with a throwing has trap: ${settled}`);
    try {
      settled = await db.get('k5', trap('get')).then((v) => `resolved: ${JSON.stringify(v)}`, (err) => err instanceof ppdb.PpdbError && err.code);
    } catch (err) {
      settled = `threw synchronously: ${err}`;
    }
    check(settled === 'INVALID_ARGUMENT', `get() with a throwing get trap: ${settled}`);
    const hostile = await pageReads();

    // A read right after a write not yet answered goes after it, through the worker.
    for (let i = 0; i < 50; i++) {
      db.put('order', i);
      check((await db.get('order')) === i, `the read after put ${i}`);
    }
    check((await pageReads()).forwarded === hostile.forwarded + 50, 'reads after unanswered writes went to the worker');

    // In tables: a block not in the cache is read by the worker, then answered on the page.
    await db.compact();
    const tables = await pageReads();
    for (let i = 0; i < 300; i++) check((await db.get(`k${i}`))?.i === i, `k${i} read from a table`);
    const cold = await pageReads();
    check(cold.forwarded > tables.forwarded, `blocks not in the cache went to the worker: ${JSON.stringify([tables, cold])}`);
    check(cold.direct > tables.direct, `cached blocks were read on the page: ${JSON.stringify([tables, cold])}`);
    for (let i = 0; i < 300; i++) check((await db.get(`k${i}`))?.i === i, `k${i} read again`);
    const warm = await pageReads();
    check(warm.direct === cold.direct + 300 && warm.forwarded === cold.forwarded, `warm blocks: ${JSON.stringify([cold, warm])}`);

    // Workers attach to the page's store and write synced batches; the page reads them.
    const token = db.share();
    const workers = [];
    for (let w = 0; w < 4; w++) {
      const worker = await spawn();
      await call(worker, { cmd: 'attach', token });
      workers.push(worker);
    }
    const acked = new Int32Array(new SharedArrayBuffer(16));
    const longest = { task: 0 };
    const observer = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) longest.task = Math.max(longest.task, entry.duration);
    });
    observer.observe({ entryTypes: ['longtask'] });
    let writing = true;
    const writes = Promise.all(workers.map((worker, w) => call(worker, { cmd: 'write', writer: w, count: 400, acked }))).finally(() => (writing = false));
    const compacting = (async () => {
      while (writing) {
        await sleep(100);
        await db.compact();
      }
    })();
    let reads = 0;
    while (writing) {
      for (let w = 0; w < 4; w++) {
        const i = Atomics.load(acked, w) - 1;
        if (i < 0) continue;
        const [a, b] = await db.getMany([`w${w}-${i}-a`, `w${w}-${i}-b`]);
        reads++;
        check(a === `${w}/${i}` && b === `${w}/${i}`, `writer ${w}'s batch ${i} read whole on the page: ${a}, ${b}`);
      }
      // A task per round: the reads themselves settle in microtasks.
      await sleep(0);
    }
    await writes;
    await compacting;
    observer.disconnect();
    const during = await pageReads();
    for (let w = 0; w < 4; w++) {
      for (let i = 0; i < 400; i++) {
        const [a, b] = await db.getMany([`w${w}-${i}-a`, `w${w}-${i}-b`]);
        if (a !== `${w}/${i}` || b !== `${w}/${i}`) problems.push(`writer ${w}'s batch ${i}: ${a}, ${b}`);
      }
    }
    for (const worker of workers) await call(worker, { cmd: 'close' });
    for (const worker of workers) worker.terminate();
    await db.close();

    // Everything is in the files.
    const again = await ppdb.open(name, { storage: 'opfs', exclusive: true, valueEncoding: 'json' });
    check((await again.get('k299'))?.i === 299 && (await again.get('order')) === 49, 'the page\'s writes, reopened');
    check((await again.get('w3-399-b')) === '3/399', 'the workers\' writes, reopened');
    await again.close();
    await ppdb.destroy(name, { storage: 'opfs' });
    return { problems: problems.slice(0, 20), reads, during, longestTask: longest.task };
  });
  assert.deepEqual(result.problems, []);
  assert.ok(result.reads > 10, `the page read ${result.reads} times while the workers wrote`);
  assert.ok(result.during.direct > 0, JSON.stringify(result.during));
  assert.ok(result.longestTask < 50, `the page's longest task took ${result.longestTask} ms`);
});

test('a page reads a relaxed threads: true OPFS store in its own shared memory while the worker writes it: a sync the page cannot make (it may not wait for the worker) leaves the log writable, so the writes go on and closing syncs them', { skip: !RUNS && 'needs OPFS sync access handles and shared memory', timeout: 60_000 }, async () => {
  const result = await page.evaluate(async () => {
    const name = 'page-direct-relaxed';
    await ppdb.destroy(name, { storage: 'opfs' });
    const problems = [];
    const db = await ppdb.open(name, { storage: 'opfs', threads: true, exclusive: true, durability: 'relaxed', relaxedFlushInterval: 20 });
    // Unsynced writes wait in the log across many of the relaxed flush timer's turns.
    for (let round = 0; round < 10; round++) {
      await db.batch(Array.from({ length: 200 }, (_, i) => ({ type: 'put', key: `r${round}-${i}`, value: `${round}/${i}` })));
      await new Promise((resolve) => setTimeout(resolve, 50));
      for (let i = 0; i < 200; i += 20) {
        const value = await db.get(`r${round}-${i}`).catch((err) => `${err.code}: ${err.message}`);
        if (value !== `${round}/${i}`) problems.push(`r${round}-${i}: ${value}`);
      }
    }
    const reads = (await db.stats()).pageReads;
    // Closed with writes not synced yet: the page's Db goes first (it cannot sync them),
    // then the worker's syncs them.
    await db.put('last', 'unsynced');
    const closed = await db.close().then(() => 'closed', (err) => `${err.code}: ${err.message}`);
    const again = await ppdb.open(name, { storage: 'opfs', exclusive: true });
    const last = [await again.get('r9-199'), await again.get('last')];
    await again.close();
    await ppdb.destroy(name, { storage: 'opfs' });
    return { problems: problems.slice(0, 10), reads, closed, last };
  });
  assert.deepEqual(result.problems, []);
  assert.ok(result.reads.direct > 0, JSON.stringify(result.reads));
  assert.equal(result.closed, 'closed');
  assert.deepEqual(result.last, ['9/199', 'unsynced']);
});

test("a second tab opens the store a page opened with threads: true: it forwards to that page, whose reads of its writes are answered in the page's shared memory, and it takes the store over with every write when the first page closes it", { skip: !RUNS && 'needs OPFS sync access handles and shared memory', timeout: 60_000 }, async () => {
  const name = 'two-tabs-direct';
  const first = await page.evaluate(async (name) => {
    await ppdb.destroy(name, { storage: 'opfs' });
    window.twoTabs = await ppdb.open(name, { storage: 'opfs', threads: true });
    return { role: twoTabs.role, flavour: twoTabs.flavour };
  }, name);
  assert.deepEqual(first, { role: 'owner', flavour: 'threaded' });
  const second = await openPage(browser.context, server.url + 'tests/browser/fixtures/api.html');
  try {
    await ppdbLoaded(second);
    const role = await second.evaluate(async (name) => {
      window.db = await ppdb.open(name, { storage: 'opfs' });
      for (let i = 0; i < 100; i++) await db.put(`b${i}`, `from the second tab ${i}`);
      return db.role;
    }, name);
    assert.equal(role, 'client');
    const read = await page.evaluate(async () => {
      const problems = [];
      const before = (await twoTabs.stats()).pageReads;
      for (let i = 0; i < 100; i++) {
        const value = await twoTabs.get(`b${i}`);
        if (value !== `from the second tab ${i}`) problems.push(`b${i}: ${value}`);
      }
      const after = (await twoTabs.stats()).pageReads;
      for (let i = 0; i < 100; i++) await twoTabs.put(`a${i}`, `from the first tab ${i}`);
      return { problems, direct: after.direct - before.direct };
    });
    assert.deepEqual(read.problems, []);
    assert.equal(read.direct, 100, 'the second tab\'s writes were read in the first page\'s shared memory');
    const takeover = await second.evaluate(async () => {
      const changed = new Promise((resolve) => db.addEventListener('ownerchange', ({ detail }) => resolve(detail.role), { once: true }));
      const problems = [];
      for (let i = 0; i < 100; i++) if ((await db.get(`a${i}`)) !== `from the first tab ${i}`) problems.push(`a${i} before`);
      window.changed = changed;
      return problems;
    });
    assert.deepEqual(takeover, []);
    await page.evaluate(() => twoTabs.close());
    const after = await second.evaluate(async () => {
      const role = await Promise.race([changed, new Promise((resolve) => setTimeout(() => resolve('no ownerchange'), 15_000))]);
      const problems = [];
      for (let i = 0; i < 100; i++) {
        if ((await db.get(`a${i}`)) !== `from the first tab ${i}`) problems.push(`a${i}`);
        if ((await db.get(`b${i}`)) !== `from the second tab ${i}`) problems.push(`b${i}`);
      }
      await db.put('after', 'the takeover');
      await db.close();
      return { role, problems };
    });
    assert.deepEqual(after, { role: 'owner', problems: [] });
  } finally {
    await second.close();
  }
  const last = await page.evaluate(async (name) => {
    const db = await ppdb.open(name, { storage: 'opfs', exclusive: true, lockTimeout: 10_000 });
    const values = [await db.get('a99'), await db.get('b99'), await db.get('after')];
    await db.close();
    await ppdb.destroy(name, { storage: 'opfs' });
    return values;
  }, name);
  assert.deepEqual(last, ['from the first tab 99', 'from the second tab 99', 'the takeover']);
});

for (const storage of ['opfs', 'indexeddb']) {
  test(`the owner of a shared ${storage === 'opfs' ? 'OPFS' : 'IndexedDB'} store terminated while an attached worker writes with sync durability: the writer's write in flight fails with IO within seconds, never hangs, and every batch it had acknowledged is there`, { skip: !RUNS && 'needs OPFS sync access handles and shared memory', timeout: 60_000 }, async () => {
    const result = await page.evaluate(async (storage) => {
      const name = `owner-dies-${storage}`;
      await ppdb.destroy(name, { storage });
      const acked = new Int32Array(new SharedArrayBuffer(4));
      const owner = await spawn();
      const { token } = await call(owner, { cmd: 'own', name, options: { storage, durability: 'sync' } });
      const writer = await spawn();
      await call(writer, { cmd: 'attach', token });
      await call(writer, { cmd: 'write', writer: 0, acked, wait: false });
      while (Atomics.load(acked, 0) < 20) await sleep(5);
      owner.terminate();
      const killedAt = performance.now();
      let failure = null;
      while (!failure && performance.now() - killedAt < 15_000) {
        await sleep(20);
        ({ failure } = await call(writer, { cmd: 'failure' }));
      }
      const failedAfter = performance.now() - killedAt;
      const count = Atomics.load(acked, 0);
      writer.terminate();
      // A terminated worker's Web Locks go a little later in Firefox: the open waits for them.
      const db = await ppdb.open(name, { storage, exclusive: true, lockTimeout: 10_000 });
      let found = 0;
      while ((await db.get(`w0-${found}-a`)) === `0/${found}` && (await db.get(`w0-${found}-b`)) === `0/${found}`) found++;
      await db.close();
      await ppdb.destroy(name, { storage });
      return { failure, failedAfter, count, found };
    }, storage);
    assert.match(String(result.failure), /^IO: /, `the writer's failure: ${result.failure}`);
    assert.ok(result.failedAfter < 10_000, `it failed ${result.failedAfter} ms after the owner died`);
    assert.ok(result.found >= result.count, `${result.count} batches acknowledged, ${result.found} found`);
  });
}

test('a page opens an IndexedDB store with threads: true and shares it: two workers attach and write synced batches through the page (its file calls and commits), which reads them; everything is there after a reopen', { skip: !RUNS && 'needs OPFS sync access handles and shared memory', timeout: 60_000 }, async () => {
  const result = await page.evaluate(async () => {
    const name = 'page-owns-idb';
    await ppdb.destroy(name, { storage: 'indexeddb' });
    const problems = [];
    const db = await ppdb.open(name, { storage: 'indexeddb', threads: true, exclusive: true });
    if (db.flavour !== 'threaded') problems.push(`the ${db.flavour} build`);
    const token = db.share();
    const acked = new Int32Array(new SharedArrayBuffer(8));
    const workers = [await spawn(), await spawn()];
    for (const worker of workers) await call(worker, { cmd: 'attach', token });
    const writes = Promise.all(workers.map((worker, w) => call(worker, { cmd: 'write', writer: w, count: 100, acked })));
    await db.put('from-page', 'here');
    await writes;
    for (let w = 0; w < 2; w++) {
      for (let i = 0; i < 100; i++) {
        const [a, b] = await db.getMany([`w${w}-${i}-a`, `w${w}-${i}-b`]);
        if (a !== `${w}/${i}` || b !== `${w}/${i}`) problems.push(`the page reads writer ${w}'s batch ${i}: ${a}, ${b}`);
      }
    }
    const { value } = await call(workers[1], { cmd: 'get', key: 'from-page' });
    if (value !== 'here') problems.push(`a worker reads the page's put: ${value}`);
    for (const worker of workers) await call(worker, { cmd: 'close' });
    for (const worker of workers) worker.terminate();
    await db.close();
    const again = await ppdb.open(name, { storage: 'indexeddb', exclusive: true });
    for (let w = 0; w < 2; w++) {
      const [a, b] = await again.getMany([`w${w}-99-a`, `w${w}-99-b`]);
      if (a !== `${w}/99` || b !== `${w}/99`) problems.push(`after a reopen, writer ${w}'s last batch: ${a}, ${b}`);
    }
    await again.close();
    await ppdb.destroy(name, { storage: 'indexeddb' });
    return problems;
  });
  assert.deepEqual(result, []);
});

for (const storage of ['opfs', 'indexeddb']) {
  test(`the owner of a shared ${storage === 'opfs' ? 'OPFS' : 'IndexedDB'} store terminated mid-write, ${KILL_OWNERS} times over: an attached worker takes the files over, the others follow it, every worker's writes go on (a batch that failed written again), every worker reads the others', and every acknowledged batch is there after all are terminated; workers attaching after the failovers (with a token shared now, or the first owner's) write and read with them`, { skip: !RUNS && 'needs OPFS sync access handles and shared memory', timeout: 60_000 + KILL_OWNERS * 20_000 }, async () => {
    const result = await page.evaluate(async ({ storage, kills }) => {
      const name = `failover-${storage}`;
      await ppdb.destroy(name, { storage });
      const problems = [];
      const acked = new Int32Array(new SharedArrayBuffer(24));
      const first = await spawn();
      const { token } = await call(first, { cmd: 'own', name, options: { storage, durability: 'sync', memtableSize: 256 * 1024 } });
      const workers = [first];
      for (let w = 1; w < 4; w++) {
        const worker = await spawn();
        await call(worker, { cmd: 'attach', token });
        workers.push(worker);
      }
      await Promise.all(workers.map((worker, w) => call(worker, { cmd: 'write', writer: w, acked, wait: false, retry: true })));
      let alive = [0, 1, 2, 3];
      const owners = [];
      for (let kill = 0; kill < kills; kill++) {
        await sleep(100 + Math.random() * 300);
        const owning = [];
        for (const w of alive) if ((await call(workers[w], { cmd: 'owns' })).owns) owning.push(w);
        if (owning.length !== 1) {
          problems.push(`kill ${kill}: ${owning.length} workers own the files (${owning})`);
          break;
        }
        const [owner] = owning;
        owners.push(owner);
        workers[owner].terminate();
        alive = alive.filter((w) => w !== owner);
        // Every remaining writer goes on: 5 more batches acknowledged within 15 s.
        for (const stall of await stalled(acked, alive)) problems.push(`kill ${kill}: ${stall}`);
        // Every remaining worker reads every writer's last acknowledged batch, the dead ones' too.
        const all = Array.from({ length: workers.length }, (_, w) => w);
        for (const w of alive) {
          const { missing } = await call(workers[w], { cmd: 'seesAcked', writers: all, acked });
          if (missing.length) problems.push(`kill ${kill}: worker ${w} does not see ${JSON.stringify(missing)}`);
        }
      }
      // Workers attach after the failovers, with a token the owner shares now and with the
      // first owner's: both reach the owner now, write, and read everyone's batches.
      const changes = [];
      for (const w of alive) changes.push((await call(workers[w], { cmd: 'owns' })).changes.seen);
      const { token: now } = await call(workers[alive[0]], { cmd: 'share' });
      const late = [];
      for (const given of [now, token]) {
        const worker = await spawn();
        const w = workers.length;
        workers.push(worker);
        late.push(await call(worker, { cmd: 'attach', token: given }).then(() => 'attached', (err) => err.message));
        await call(worker, { cmd: 'write', writer: w, count: 20, acked });
        const { missing } = await call(worker, { cmd: 'seesAcked', writers: Array.from({ length: w + 1 }, (_, i) => i), acked });
        if (missing.length) problems.push(`late worker ${w} does not see ${JSON.stringify(missing)}`);
      }
      for (const worker of workers) worker.terminate();
      // A terminated worker's Web Locks go a little later in Firefox: the open waits for them.
      const db = await ppdb.open(name, { storage, exclusive: true, lockTimeout: 10_000 });
      problems.push(...(await missingBatches(db, acked, Array.from({ length: workers.length }, (_, w) => w))));
      await db.close();
      await ppdb.destroy(name, { storage });
      return { problems, owners, changes, late, acked: [...acked] };
    }, { storage, kills: KILL_OWNERS });
    assert.deepEqual(result.problems, []);
    assert.equal(result.owners.length, KILL_OWNERS, `owners terminated: ${result.owners}`);
    // The last worker saw every change of owner.
    assert.deepEqual(result.changes, [KILL_OWNERS]);
    assert.ok(result.acked.every((n) => n > 0), `acknowledged: ${result.acked}`);
    assert.deepEqual(result.late, ['attached', 'attached']);
    assert.deepEqual(result.acked.slice(4), [20, 20]);
  });
}
