// `ppdb/level`: a ppdb store as an abstract-level database, so the Level ecosystem
// (sublevels, level-read-stream, level-transcoder, hooks, events, the apps built on them)
// runs on it. Built on ppdb's public API only: the store underneath is a `Db` from
// `open()` with byte keys and values; abstract-level does the encodings, deferred open,
// sublevels and events, and this maps its private methods onto the Db's calls.
//
// Each iterator reads through a ppdb snapshot of its own, taken when it is made (Level's
// implicit snapshot), so that `seek()` still works once it has reached its end: the ppdb
// iterator underneath then lets go of its data, and a seek makes a new one on the same
// snapshot. The iterator's `close()` (or the database's) releases the snapshot.
import { AbstractLevel, AbstractIterator, AbstractKeyIterator, AbstractValueIterator, AbstractSnapshot } from 'abstract-level';
import { open } from './index.js';
import { OPEN } from './api/options.js';

/** The options of ppdb's open() that go to the store (abstract-level does the encodings). */
const STORE_OPTIONS = OPEN.filter((name) => name !== 'keyEncoding' && name !== 'valueEncoding');

/**
 * An abstract-level database over a ppdb store: `new PpdbLevel(name, options)`, where
 * options are abstract-level's (`keyEncoding`, `valueEncoding`: 'utf8' by default, as in
 * every Level store) and ppdb's `open()` options (`storage`, `path`, `durability`, ...).
 */
export class PpdbLevel extends AbstractLevel {
  #name;
  #storeOptions;
  /** The ppdb Db while open, else undefined. */
  #store = undefined;
  /** A memory store's entries while it is closed (a Level store keeps them until reopened). */
  #kept = null;

  constructor(name, options = {}) {
    if (typeof name !== 'string') throw new TypeError('PpdbLevel takes the store name (a string) first');
    const storeOptions = {};
    const levelOptions = { ...options };
    for (const option of STORE_OPTIONS) {
      if (option in levelOptions) storeOptions[option] = levelOptions[option];
      delete levelOptions[option];
    }
    super(
      {
        encodings: { view: true },
        seek: true,
        has: true,
        implicitSnapshots: true,
        explicitSnapshots: true,
        permanence: storeOptions.storage !== 'memory',
        createIfMissing: false,
        errorIfExists: false,
        getSync: false,
      },
      levelOptions,
    );
    this.#name = name;
    this.#storeOptions = storeOptions;
  }

  /** The ppdb `Db` underneath, once open (its calls take and return bytes). */
  get store() {
    return this.#store;
  }

  async _open() {
    const store = await open(this.#name, { ...this.#storeOptions, keyEncoding: 'bytes', valueEncoding: 'bytes' });
    const kept = this.#kept ?? [];
    for (let i = 0; i < kept.length; i += 1000) {
      await store.batch(kept.slice(i, i + 1000).map(([key, value]) => ({ type: 'put', key, value })));
    }
    this.#kept = null;
    this.#store = store;
  }

  async _close() {
    const store = this.#store;
    this.#store = undefined;
    if (store?.storage === 'memory') this.#kept = await store.iterator().all();
    await store?.close();
  }

  async _get(key, options) {
    return this.#store.get(key, read(options));
  }

  async _getMany(keys, options) {
    return this.#store.getMany(keys, read(options));
  }

  async _has(key, options) {
    return this.#store.has(key, read(options));
  }

  async _hasMany(keys, options) {
    return this.#store.hasMany(keys, read(options));
  }

  async _put(key, value) {
    await this.#store.put(key, value);
  }

  async _del(key) {
    await this.#store.del(key);
  }

  async _batch(operations) {
    await this.#store.batch(operations.map(({ type, key, value }) => (type === 'put' ? { type, key, value } : { type, key })));
  }

  async _clear(options) {
    await this.#store.clear({ ...range(options), ...read(options) });
  }

  _iterator(options) {
    return new PpdbIterator(this, options, this.#scan(options, 'iterator'));
  }

  _keys(options) {
    return new PpdbKeyIterator(this, options, this.#scan(options, 'keys'));
  }

  _values(options) {
    return new PpdbValueIterator(this, options, this.#scan(options, 'values'));
  }

  _snapshot(options) {
    return new PpdbSnapshot(options, this.#store.snapshot());
  }

  /** `{ make, release }`: ppdb iterators of `method` over the range, on one snapshot. */
  #scan(options, method) {
    const given = options.snapshot?.[storeSnapshot];
    const snapshot = given ?? this.#store.snapshot();
    const bounds = range(options);
    return {
      make: () => snapshot[method](bounds),
      release: () => {
        if (!given) snapshot.close();
      },
    };
  }
}

/** The ppdb snapshot of a PpdbSnapshot. */
const storeSnapshot = Symbol('storeSnapshot');

class PpdbSnapshot extends AbstractSnapshot {
  constructor(options, snapshot) {
    super(options);
    this[storeSnapshot] = snapshot;
  }

  async _close() {
    this[storeSnapshot].close();
  }
}

/** The read options of a call for the Db: its explicit snapshot, if any. */
function read(options) {
  const snapshot = options.snapshot?.[storeSnapshot];
  return snapshot ? { snapshot } : {};
}

/** abstract-level's range options (already encoded) as ppdb's. */
function range(options) {
  const out = { reverse: options.reverse === true };
  for (const bound of ['gt', 'gte', 'lt', 'lte']) if (options[bound] !== undefined) out[bound] = options[bound];
  if (Number.isInteger(options.limit) && options.limit >= 0) out.limit = options.limit;
  return out;
}

/**
 * The ppdb side of one Level iterator: the ppdb iterator on the iterator's snapshot, made
 * again by a seek once it has ended.
 */
class Cursor {
  #scan;
  /** Made on first use: abstract-level checks an explicit snapshot is open first. */
  #iterator = null;
  #ended = false;

  constructor(scan) {
    this.#scan = scan;
  }

  async next() {
    if (this.#ended) return undefined;
    this.#iterator ??= this.#scan.make();
    const step = await this.#iterator.next();
    if (!step.done) return step.value;
    this.#ended = true;
    return undefined;
  }

  async nextv(size) {
    const items = [];
    while (items.length < size) {
      const item = await this.next();
      if (item === undefined) break;
      items.push(item);
    }
    return items;
  }

  seek(target) {
    if (this.#ended) {
      this.#iterator = null;
      this.#ended = false;
    }
    this.#iterator ??= this.#scan.make();
    this.#iterator.seek(target);
  }

  close() {
    this.#iterator?.close();
    this.#scan.release();
  }
}

// The three kinds of Level iterator, over a Cursor. abstract-level counts the limit and
// checks that calls do not overlap; the cursor's ppdb iterator has the limit too (so it
// reads no more than it needs).
const cursor = Symbol('cursor');
const cursorMethods = {
  async _next() {
    return this[cursor].next();
  },
  async _nextv(size) {
    return this[cursor].nextv(size);
  },
  async _all() {
    return this[cursor].nextv(Infinity);
  },
  _seek(target) {
    this[cursor].seek(target);
  },
  async _close() {
    this[cursor].close();
  },
};

class PpdbIterator extends AbstractIterator {
  constructor(db, options, scan) {
    super(db, options);
    this[cursor] = new Cursor(scan);
  }
}

class PpdbKeyIterator extends AbstractKeyIterator {
  constructor(db, options, scan) {
    super(db, options);
    this[cursor] = new Cursor(scan);
  }
}

class PpdbValueIterator extends AbstractValueIterator {
  constructor(db, options, scan) {
    super(db, options);
    this[cursor] = new Cursor(scan);
  }
}

for (const kind of [PpdbIterator, PpdbKeyIterator, PpdbValueIterator]) Object.assign(kind.prototype, cursorMethods);
