// LevelDB's db_bench workloads through the package API, in any runtime (Node, a browser
// worker): 16-byte keys, 100-byte values, relaxed durability, one `await` per operation as
// an application would write it. The native counterpart is bench/db (ppdb and fjall).

export const WORKLOADS = [
  'fillseq',
  'fillrandom',
  'overwrite',
  'readrandom',
  'readseq',
  'readreverse',
  'readrandom after compact',
];

const VALUE_LEN = 100;

// Keys and values are written into one buffer each, reused by every operation, as bench/db
// writes them into arrays on the stack (and LevelDB's db_bench into one buffer): the put
// copies them into the engine before it resolves, and each operation is awaited before the
// next one writes them again. Made afresh per operation (a TextEncoder call and a new
// Uint8Array each), they cost about a third of a put here.
const KEY = new Uint8Array(16);
const VALUE = new Uint8Array(VALUE_LEN);

/** Key `i` in sequential order: 16 ASCII digits (in the reused key buffer). */
function seqKey(i) {
  for (let at = KEY.length - 1; at >= 0; at--) {
    KEY[at] = 48 + (i % 10);
    i = Math.floor(i / 10);
  }
  return KEY;
}

/**
 * A value that compresses to about half, as db_bench's: 50 pseudo-random bytes, twice (in
 * the reused value buffer).
 */
function valueFor(i) {
  let x = (Math.imul(i, 0x9e3779b1) | 1) >>> 0;
  for (let b = 0; b < VALUE_LEN / 2; b++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    VALUE[b] = x & 0xff;
  }
  VALUE.copyWithin(VALUE_LEN / 2, 0, VALUE_LEN / 2);
  return VALUE;
}

/** The `i`-th key index of a pseudo-random order over `0..n`. */
function randomIndex(i, n) {
  return (Math.imul(i, 0x9e3779b1) >>> 0) % n;
}

async function timed(n, fn) {
  const start = performance.now();
  await fn();
  return n / ((performance.now() - start) / 1000);
}

async function scan(db, reverse) {
  let count = 0;
  for await (const _ of db.iterator({ reverse })) count++;
  return count;
}

/**
 * One round of every workload. `openStore(name)` opens a fresh store (bytes encodings,
 * relaxed durability); `removeStore(name)` deletes a closed one; `storeBytes(name)` (may be
 * absent) measures its files. Returns `{ opsPerSec, spaceAmplification, writeAmplification }`.
 */
export async function dbBenchRound({ n, openStore, removeStore, storeBytes }) {
  const opsPerSec = {};
  let db = await openStore('fillseq');
  opsPerSec.fillseq = await timed(n, async () => {
    for (let i = 0; i < n; i++) await db.put(seqKey(i), valueFor(i));
  });
  await db.close();
  await removeStore('fillseq');

  db = await openStore('random');
  opsPerSec.fillrandom = await timed(n, async () => {
    for (let i = 0; i < n; i++) await db.put(seqKey(randomIndex(i, n)), valueFor(i));
  });
  opsPerSec.overwrite = await timed(n, async () => {
    for (let i = 0; i < n; i++) await db.put(seqKey(randomIndex(i + n, n)), valueFor(i + n));
  });
  opsPerSec.readrandom = await timed(n, async () => {
    for (let i = 0; i < n; i++) await db.get(seqKey(randomIndex(i * 7 + 3, n)));
  });
  opsPerSec.readseq = await timed(n, () => scan(db, false));
  opsPerSec.readreverse = await timed(n, () => scan(db, true));
  await db.flush();
  await db.compact();
  opsPerSec['readrandom after compact'] = await timed(n, async () => {
    for (let i = 0; i < n; i++) await db.get(seqKey(randomIndex(i * 11 + 5, n)));
  });
  const live = (await scan(db, false)) * (16 + VALUE_LEN);
  const stats = await db.stats();
  const writeAmplification = (stats.flushedBytes + stats.compactedBytes) / Math.max(1, stats.userBytes);
  await db.close();
  const spaceAmplification = storeBytes ? (await storeBytes('random')) / Math.max(1, live) : undefined;
  await removeStore('random');
  return { opsPerSec, spaceAmplification, writeAmplification };
}

/** The middle value (the upper one of an even count). */
export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Medians over rounds of `dbBenchRound` results. */
export function medians(rounds) {
  const opsPerSec = {};
  for (const w of WORKLOADS) opsPerSec[w] = median(rounds.map((r) => r.opsPerSec[w]));
  const spaces = rounds.map((r) => r.spaceAmplification).filter((x) => x !== undefined);
  return {
    opsPerSec,
    spaceAmplification: spaces.length ? median(spaces) : undefined,
    writeAmplification: median(rounds.map((r) => r.writeAmplification)),
  };
}
