// Uses every call of the package so that `tsc --noEmit` checks pkg/index.d.ts (npm test runs
// it). The `@ts-expect-error` lines must stay errors: they prove the types reject misuse.
import {
  open,
  destroy,
  attach,
  exportNdjson,
  importNdjson,
  PpdbError,
  type Db,
  type Snapshot,
  type Watch,
  type ChainedBatch,
  type Stats,
  type Versioned,
  type Metrics,
  type Alert,
  type LogEntry,
  setLogger,
  type NdjsonProgress,
  type JsonValue,
} from 'ppdb';

async function everyCall(): Promise<void> {
  const db: Db<string, JsonValue> = await open('types', {
    storage: 'auto',
    persist: true,
    durability: 'relaxed',
    relaxedFlushInterval: 50,
    relaxedFlushBytes: 1 << 20,
    recovery: 'skip-corrupted',
    threads: false,
    exclusive: false,
    lockTimeout: 500,
    backgroundWorker: true,
    keyEncoding: 'utf8',
    valueEncoding: 'json',
    maxKeySize: 1024,
    maxValueSize: 1 << 20,
    memtableSize: 1 << 20,
    memoryLimit: 64 << 20,
    blockCacheSize: 8 << 20,
    alerts: [{ metric: 'memoryUse', above: 0.9 }],
    alertInterval: 1000,
    latencySwitch: { averageMicros: 2000, minMemtableBytes: 1 << 20 },
  });
  const flavour: 'threaded' | 'single' = db.flavour;
  const encodings: ['utf8' | 'bytes', 'utf8' | 'bytes' | 'json' | 'structured'] = [db.keyEncoding, db.valueEncoding];
  void encodings;
  const role: 'owner' | 'client' = db.role;
  const where: string = `${db.name} ${db.storage} ${db.maintenance} ${db.closed} ${db.recovery?.records ?? 0}`;
  await db.put('user:1', { name: 'Ada' });
  await db.put('raw', new Uint8Array([1, 2]), { valueEncoding: 'bytes' });
  const one: unknown = await db.get('user:1');
  const text: unknown = await db.get('user:1', { valueEncoding: 'utf8' });
  const many: unknown[] = await db.getMany(['user:1', 'user:2']);
  const has: boolean = await db.has('user:1');
  const hasMany: boolean[] = await db.hasMany(['user:1', 'user:2']);
  const versioned: Versioned<JsonValue> | undefined = await db.getWithVersion('user:1');
  await db.del('raw');
  await db.batch([
    { type: 'put', key: 'a', value: 1 },
    { type: 'put', key: new Uint8Array([0x62]), value: 'b', valueEncoding: 'utf8' },
    { type: 'del', key: 'c' },
  ]);
  await db.batch([{ type: 'put', key: 'user:1', value: { name: 'Ada L.' } }], {
    checks: [{ key: 'user:1', version: versioned?.version ?? null }],
  });
  const chained: ChainedBatch<JsonValue> = db.batch();
  await chained.put('x', 1).del('y').check('z', null).write();
  db.batch().put('discarded', 0).clear().close();
  for await (const [key, value] of db.iterator({ gte: 'a', lt: 'z', reverse: true, limit: 10 })) void [key, value];
  const keys: unknown[] = await db.keys({ prefix: 'user:', keyEncoding: 'bytes' }).all();
  const values: unknown[] = await db.values({ gt: 'a', lte: 'b', limit: -1 }).all();
  const it = db.iterator();
  it.seek('m');
  it.close();
  const cleared: number = await db.clear({ prefix: 'tmp:' });
  for await (const change of db.watch({ prefix: 'todo:', after: 0, limit: 2 })) {
    if (change.type === 'put') void [change.key, change.value, change.sequence];
    else if (change.type === 'del') void change.key;
    else void change.sequence;
  }
  const kept: boolean = db.persisted;
  void kept;
  const watch: Watch<string, JsonValue> = db.watch({ gte: 'a', valueEncoding: 'json' });
  watch.close();
  // @ts-expect-error changes come in commit order only
  db.watch({ reverse: true });
  const snapshot: Snapshot<string, JsonValue> = db.snapshot();
  await snapshot.get('a');
  await snapshot.getMany(['a']);
  await snapshot.has('a');
  await snapshot.hasMany(['a']);
  await snapshot.iterator().all();
  await snapshot.keys().all();
  await snapshot.values().all();
  await db.get('a', { snapshot });
  await db.iterator({ snapshot }).all();
  await db.has('a', { snapshot });
  await db.hasMany(['a'], { snapshot });
  await db.clear({ prefix: 'tmp:', snapshot });
  snapshot.close();
  const closed: boolean = snapshot.closed;
  await db.flush();
  await db.compact();
  const stats: Stats = await db.stats();
  const onPage: number | undefined = stats.pageReads?.direct;
  const metrics: Metrics = await db.metrics();
  const p99: number = metrics.latency.put.p99 + metrics.cache.hitRate + metrics.levels.length;
  const prometheusText: string = await db.metricsText();
  db.setAlerts([{ metric: 'put.p99', above: 5 }, { name: 'cold cache', metric: 'cacheHitRate', below: 0.5 }], { interval: 500 });
  db.addEventListener('alert', (event) => void (event as CustomEvent<Alert>).detail.value);
  const raised: Alert[] = await db.checkAlerts();
  await setLogger({ level: 'info', onLog: (entry: LogEntry) => void entry.fields });
  void [p99, prometheusText, raised, onPage];
  const levels: number[] = stats.tablesPerLevel;
  const lines: string[] = [];
  for await (const line of exportNdjson(db, { prefix: 'user:', onProgress: (p: NdjsonProgress) => void p.records })) lines.push(line);
  const imported: NdjsonProgress = await importNdjson(db, lines.join(''), { onProgress: () => {} });
  const token = db.share();
  const attached: Db<string, JsonValue> = await attach(token);
  await attached.close();
  await db.close();
  await destroy('types', { storage: 'auto' });
  const structured = await open('types-structured', { storage: 'memory', valueEncoding: 'structured' });
  await structured.put('when', { at: new Date(), tags: new Set(['a']) });
  await structured.close();
  try {
    await open('x', { storage: 'memory' });
  } catch (err) {
    if (err instanceof PpdbError && err.code === 'LOCKED') void err.cause;
  }
  void [flavour, role, where, one, text, many, has, hasMany, keys, values, cleared, closed, levels, imported];

  // @ts-expect-error: 'yaml' is not an encoding
  await open('x', { valueEncoding: 'yaml' });
  // @ts-expect-error: keys are strings or bytes
  await db.put(42, 'v');
  // @ts-expect-error: a batch operation needs a known type
  await db.batch([{ type: 'upsert', key: 'k', value: 'v' }]);
  // @ts-expect-error: versions are strings from getWithVersion (or null)
  await db.batch([], { checks: [{ key: 'k', version: 7 }] });
  // @ts-expect-error: an alert rule has a threshold
  db.setAlerts([{ metric: 'put.p99' }]);
  // @ts-expect-error: storage kinds are a closed set
  await open('x', { storage: 'floppy' });
}

void everyCall;
