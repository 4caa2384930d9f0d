// `ppdb/level` as a Level user types it: the value type follows abstract-level's generics.
import { PpdbLevel } from 'ppdb/level';

interface Todo {
  title: string;
  done: boolean;
}

export async function levelUser(): Promise<void> {
  const db = new PpdbLevel<string, Todo>('todos', { storage: 'fs', path: './todos', durability: 'relaxed', valueEncoding: 'json' });
  await db.put('t1', { title: 'write docs', done: false });
  const todo: Todo | undefined = await db.get('t1');
  const present: boolean = await db.has('t1');
  for await (const [key, value] of db.iterator({ gte: 't', limit: 10 })) {
    const k: string = key;
    const done: boolean = value.done;
    void [k, done];
  }
  const it = db.keys();
  it.seek('t');
  await it.close();
  const bytes: Uint8Array | undefined = await db.store?.get('t1');
  void [todo, present, bytes];
  // @ts-expect-error a Todo store takes Todos
  await db.put('t2', 'not a todo');
  // @ts-expect-error storage is one of ppdb's kinds
  new PpdbLevel('x', { storage: 'cloud' });
  // @ts-expect-error the name comes first
  new PpdbLevel({ storage: 'memory' });
  await db.close();
}
