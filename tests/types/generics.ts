// The generic types of pkg/index.d.ts: a store's key and value types follow its encodings
// (open options and per-call overrides), through iterators, snapshots, batches, watches
// and errors. `assert<Equals<A, B>>()` compiles only when A and B are the same type; each
// `@ts-expect-error` line must fail to compile (tsc reports an unused directive otherwise),
// proving the types refuse that misuse.
import {
  open,
  attach,
  exportNdjson,
  importNdjson,
  PpdbError,
  type Change,
  type Data,
  type Db,
  type DbIterator,
  type ErrorCode,
  type JsonValue,
  type Snapshot,
  type StructuredValue,
  type Versioned,
  type Watch,
} from 'ppdb';

/** True when A and B are the same type (not merely assignable). */
type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
/** Compiles only if `T` is `true`. */
function assert<T extends true>(): void {}

interface Todo {
  title: string;
  done: boolean;
}

async function defaults(): Promise<void> {
  // utf8 keys and values unless the options say otherwise.
  const db = await open('plain');
  assert<Equals<typeof db, Db<string, string>>>();
  assert<Equals<Db, Db<string, string>>>();
  const value = await db.get('k');
  assert<Equals<typeof value, string | undefined>>();
  // Either form goes in; the encoding decides what comes out.
  await db.put('k', 'text');
  await db.put(new Uint8Array([1]), new Uint8Array([2]));
  await db.put('', 'the empty key is a key');
  const many = await db.getMany(['a', new Uint8Array([0x62])]);
  assert<Equals<typeof many, (string | undefined)[]>>();
  const present: boolean = await db.has('k');
  const presentMany: boolean[] = await db.hasMany(['a', 'b']);
  const versioned = await db.getWithVersion('k');
  assert<Equals<typeof versioned, Versioned<string> | undefined>>();
  void [present, presentMany];

  // @ts-expect-error a utf8 store's values are strings, not numbers
  const n: number = await db.get('k');
  // @ts-expect-error a utf8 store takes strings or bytes, not numbers
  await db.put('k', 42);
  // @ts-expect-error nor objects (that is 'json')
  await db.put('k', { title: 'x' });
  // @ts-expect-error a read may be absent
  const sure: string = await db.get('k');
  void [n, sure];
}

async function encodings(): Promise<void> {
  const bytes = await open('bytes', { valueEncoding: 'bytes' });
  assert<Equals<typeof bytes, Db<string, Uint8Array>>>();
  await bytes.put('k', 'text is accepted as input');
  const raw = await bytes.get('k');
  assert<Equals<typeof raw, Uint8Array | undefined>>();

  const byKey = await open('byKey', { keyEncoding: 'bytes' });
  assert<Equals<typeof byKey, Db<Uint8Array, string>>>();
  for await (const [key, value] of byKey.iterator()) {
    assert<Equals<typeof key, Uint8Array>>();
    assert<Equals<typeof value, string>>();
  }

  const json = await open('json', { valueEncoding: 'json', storage: 'memory' });
  assert<Equals<typeof json, Db<string, JsonValue>>>();
  await json.put('k', { a: [1, 'two', null, { b: true }] });
  // @ts-expect-error JSON cannot hold a Date exactly
  await json.put('k', { when: new Date() });
  // @ts-expect-error nor bytes
  await json.put('k', new Uint8Array([1]));

  const todos = await open<Todo>('todos', { valueEncoding: 'json' });
  assert<Equals<typeof todos, Db<string, Todo>>>();
  await todos.put('t1', { title: 'write types', done: false });
  const todo = await todos.get('t1');
  assert<Equals<typeof todo, Todo | undefined>>();
  // @ts-expect-error a Todo store takes Todos
  await todos.put('t2', { title: 'no done' });
  // @ts-expect-error and not strings either (they would be stored as JSON strings)
  await todos.put('t3', 'text');

  const todosByBytes = await open<Todo>('todos2', { valueEncoding: 'json', keyEncoding: 'bytes' });
  assert<Equals<typeof todosByBytes, Db<Uint8Array, Todo>>>();

  const structured = await open('structured', { valueEncoding: 'structured' });
  assert<Equals<typeof structured, Db<string, StructuredValue>>>();
  await structured.put('k', {
    when: new Date(),
    tags: new Set(['a']),
    counts: new Map<StructuredValue, StructuredValue>([['a', 1n]]),
    samples: new Float32Array(4),
    buffer: new ArrayBuffer(8),
    missing: undefined,
    list: [1, undefined, 'three'],
  });
  await structured.put('k', { pattern: /x/g, view: new DataView(new ArrayBuffer(2)) });
  // @ts-expect-error a function is not a structured value
  await structured.put('k', { callback: () => 1 });
  // @ts-expect-error the whole value cannot be undefined (a read's undefined means absent)
  await structured.put('k', undefined);

  interface Event {
    at: Date;
    ids: Set<number>;
  }
  const events = await open<Event>('events', { valueEncoding: 'structured', keyEncoding: 'bytes' });
  assert<Equals<typeof events, Db<Uint8Array, Event>>>();

  // @ts-expect-error a utf8 store (no valueEncoding) cannot be typed with values of its own
  await open<Todo>('wrong');
  // @ts-expect-error keyEncoding is 'utf8' or 'bytes'
  await open('x', { keyEncoding: 'json' });

  // Encodings known only at run time: loosely typed.
  const chosen: 'utf8' | 'json' = Math.random() < 0.5 ? 'utf8' : 'json';
  const dynamic = await open('dynamic', { valueEncoding: chosen });
  assert<Equals<typeof dynamic, Db<Data, unknown>>>();
}

async function overrides(db: Db<string, Todo>): Promise<void> {
  const asBytes = await db.get('k', { valueEncoding: 'bytes' });
  assert<Equals<typeof asBytes, Uint8Array | undefined>>();
  const asText = await db.get('k', { valueEncoding: 'utf8' });
  assert<Equals<typeof asText, string | undefined>>();
  const asJson = await db.get('k', { valueEncoding: 'json' });
  assert<Equals<typeof asJson, JsonValue | undefined>>();
  const own = await db.get('k', {});
  assert<Equals<typeof own, Todo | undefined>>();
  const manyBytes = await db.getMany(['a'], { valueEncoding: 'bytes' });
  assert<Equals<typeof manyBytes, (Uint8Array | undefined)[]>>();
  const versionedText = await db.getWithVersion('k', { valueEncoding: 'utf8' });
  assert<Equals<typeof versionedText, Versioned<string> | undefined>>();

  // A put with an encoding of its own takes what that encoding takes.
  await db.put('raw', new Uint8Array([1]), { valueEncoding: 'bytes' });
  await db.put('text', 'not a Todo', { valueEncoding: 'utf8' });
  await db.put('any json', [1, 2], { valueEncoding: 'json' });
  // @ts-expect-error bytes take strings or bytes, not objects
  await db.put('raw', { title: 'x', done: true }, { valueEncoding: 'bytes' });
  // @ts-expect-error an override read is typed by the override, not by the store
  const wrong: Todo | undefined = await db.get('k', { valueEncoding: 'utf8' });
  void wrong;

  // Iterators: keys and values each follow their own override.
  const entries = db.iterator({ keyEncoding: 'bytes', valueEncoding: 'utf8', gte: 'a', lt: 'b' });
  assert<Equals<typeof entries, DbIterator<[Uint8Array, string]>>>();
  const keys = db.keys({ keyEncoding: 'bytes' });
  assert<Equals<typeof keys, DbIterator<Uint8Array>>>();
  for await (const key of keys) {
    // @ts-expect-error keys of a bytes keyEncoding iterator are bytes, not strings
    const text: string = key;
    void text;
  }
  const values = db.values({ valueEncoding: 'bytes', reverse: true, limit: 5 });
  assert<Equals<typeof values, DbIterator<Uint8Array>>>();
  const plain = await db.values().all();
  assert<Equals<typeof plain, Todo[]>>();
  const pairs = await db.iterator({ prefix: 'todo:' }).all();
  assert<Equals<typeof pairs, [string, Todo][]>>();
}

async function iterators(db: Db<string, Todo>): Promise<void> {
  const it = db.iterator({ gt: 'a', gte: 'b', lt: 'y', lte: 'z' });
  it.seek('m');
  it.seek(new Uint8Array([0x6d]));
  db.keys().seek('m');
  db.values().seek('m');
  // @ts-expect-error a seek target is a key: a string or bytes
  it.seek(42);
  const next = await it.next();
  if (!next.done) assert<Equals<typeof next.value, [string, Todo]>>();
  it.close();
  // @ts-expect-error keys are strings or bytes
  db.iterator({ gte: 1 });
  // @ts-expect-error an iterator's keyEncoding is 'utf8' or 'bytes'
  db.keys({ keyEncoding: 'json' });
}

async function snapshots(db: Db<Uint8Array, Todo>): Promise<void> {
  const snapshot = db.snapshot();
  assert<Equals<typeof snapshot, Snapshot<Uint8Array, Todo>>>();
  const todo = await snapshot.get('k');
  assert<Equals<typeof todo, Todo | undefined>>();
  const text = await snapshot.get('k', { valueEncoding: 'utf8' });
  assert<Equals<typeof text, string | undefined>>();
  const many = await snapshot.getMany(['a', 'b']);
  assert<Equals<typeof many, (Todo | undefined)[]>>();
  const has: boolean = await snapshot.has('k');
  const hasMany: boolean[] = await snapshot.hasMany(['a', 'b']);
  const entries = await snapshot.iterator({ prefix: 'todo:' }).all();
  assert<Equals<typeof entries, [Uint8Array, Todo][]>>();
  const keys = await snapshot.keys({ keyEncoding: 'utf8' }).all();
  assert<Equals<typeof keys, string[]>>();
  const values = await snapshot.values({ valueEncoding: 'bytes' }).all();
  assert<Equals<typeof values, Uint8Array[]>>();
  // Reads and clears of the store at the snapshot.
  const atSnapshot = await db.get('k', { snapshot });
  assert<Equals<typeof atSnapshot, Todo | undefined>>();
  await db.has('k', { snapshot });
  await db.hasMany(['k'], { snapshot });
  await db.iterator({ snapshot, keyEncoding: 'utf8' }).all();
  const cleared: number = await db.clear({ prefix: 'todo:', snapshot });
  // @ts-expect-error a snapshot's reads take no snapshot of their own
  await snapshot.get('k', { snapshot });
  // @ts-expect-error a snapshot read may be absent
  const sure: Todo = await snapshot.get('k');
  // @ts-expect-error a snapshot comes from db.snapshot()
  await db.clear({ snapshot: 'now' });
  snapshot.close();
  void [has, hasMany, cleared, sure];
}

async function batches(db: Db<string, Todo>): Promise<void> {
  await db.batch([
    { type: 'put', key: 't1', value: { title: 'a', done: false } },
    { type: 'put', key: 'raw', value: new Uint8Array([1]), valueEncoding: 'bytes' },
    { type: 'put', key: 'any', value: { free: ['form'] }, valueEncoding: 'json' },
    { type: 'put', key: 'when', value: new Date(), valueEncoding: 'structured' },
    { type: 'del', key: new Uint8Array([0x74]) },
  ]);
  // The batch's valueEncoding is that of the puts without one of their own.
  await db.batch([{ type: 'put', key: 'k', value: 'text' }], { valueEncoding: 'utf8', checks: [{ key: 'k', version: null }] });
  // @ts-expect-error a Todo store's puts take Todos
  await db.batch([{ type: 'put', key: 't1', value: 'text' }]);
  // @ts-expect-error a put with valueEncoding 'bytes' takes strings or bytes
  await db.batch([{ type: 'put', key: 'raw', value: 7, valueEncoding: 'bytes' }]);

  const chained = db.batch().put('t1', { title: 'a', done: true }).put('raw', 'text', { valueEncoding: 'utf8' }).del('t2');
  assert<Equals<typeof chained.length, number>>();
  await chained.check('t1', null).write();
  // @ts-expect-error a chained put on a Todo store takes Todos
  db.batch().put('t1', { title: 'a' });
}

async function watches(db: Db<string, Todo>): Promise<void> {
  const watch = db.watch({ prefix: 'todo:' });
  assert<Equals<typeof watch, Watch<string, Todo>>>();
  for await (const change of watch) {
    assert<Equals<typeof change, Change<string, Todo>>>();
    // @ts-expect-error only a 'put' change has a value: narrow on type first
    void change.value;
    if (change.type === 'put') {
      assert<Equals<typeof change.key, string>>();
      assert<Equals<typeof change.value, Todo>>();
    } else if (change.type === 'del') {
      assert<Equals<typeof change.key, string>>();
      // @ts-expect-error a 'del' change has no value
      void change.value;
    } else {
      assert<Equals<typeof change.sequence, number>>();
      // @ts-expect-error a 'gap' has no key
      void change.key;
    }
  }
  const raw = db.watch({ keyEncoding: 'bytes', valueEncoding: 'bytes', after: 10, limit: 3 });
  assert<Equals<typeof raw, Watch<Uint8Array, Uint8Array>>>();
  const changes = await raw.all();
  assert<Equals<typeof changes, Change<Uint8Array, Uint8Array>[]>>();
  // @ts-expect-error changes come in commit order only
  db.watch({ reverse: true });
}

async function errors(db: Db): Promise<void> {
  try {
    await db.put('k', 'v');
  } catch (err) {
    if (err instanceof PpdbError) {
      assert<Equals<typeof err.code, ErrorCode>>();
      if (err.code === 'CONFLICT' || err.code === 'OWNER_CHANGED') return;
      // @ts-expect-error a misspelled code can never match
      if (err.code === 'CONFLCT') return;
      switch (err.code) {
        case 'STORE_FULL':
          break;
        // @ts-expect-error not one of the codes
        case 'FULL':
          break;
      }
    }
  }
  const code: ErrorCode = 'QUOTA_EXCEEDED';
  // @ts-expect-error error codes are a closed set
  const other: ErrorCode = 'TIMEOUT';
  void [code, other];
}

async function sharing(db: Db<string, Todo>, bytesDb: Db<Uint8Array, StructuredValue>): Promise<void> {
  const attached = await attach(db.share());
  assert<Equals<typeof attached, Db<string, Todo>>>();
  const named = await attach<string, Todo>({ ppdb: 1 });
  assert<Equals<typeof named, Db<string, Todo>>>();
  // Any store exports and imports.
  for await (const line of exportNdjson(bytesDb)) void line;
  await importNdjson(db, '');
}

void [defaults, encodings, overrides, iterators, snapshots, batches, watches, errors, sharing];
