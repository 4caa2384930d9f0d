// Types of `ppdb/level`: a ppdb store behind the abstract-level (v3) interface, for code
// written against Level (level, classic-level, browser-level, memory-level).
import { AbstractLevel, type AbstractDatabaseOptions } from 'abstract-level';
import type { Db, StoreOptions } from './index.js';

/**
 * The options of `new PpdbLevel(name, options)`: abstract-level's (`keyEncoding` and
 * `valueEncoding` as Level names them, `createIfMissing`, `errorIfExists`) and ppdb's own
 * store options (`storage`, `path`, `durability`, `threads`, ...; see `OpenOptions`).
 */
export interface PpdbLevelOptions<K, V> extends AbstractDatabaseOptions<K, V>, StoreOptions {}

/**
 * A ppdb store as an abstract-level database: `new PpdbLevel('name')`, then the Level API
 * (`put`, `get`, `iterator`, `batch`, `sublevel`, ...). Keys and values are `K` and `V` by
 * default (Level's `keyEncoding` and `valueEncoding` decide, 'utf8' unless set); the
 * store keeps them as strings or bytes.
 */
export class PpdbLevel<K = string, V = string> extends AbstractLevel<string | Uint8Array, K, V> {
  /** Opens (when first used, or on `open()`) the ppdb store `name`. */
  constructor(name: string, options?: PpdbLevelOptions<K, V>);
  /** The ppdb store underneath, once open (undefined before and after): bytes in and out. */
  readonly store: Db<Uint8Array, Uint8Array> | undefined;
}
