// The public surface of a Db, as one table. The classes that stand in for a Db (the page
// proxy, pkg/proxy/page.js; a store shared across tabs, pkg/proxy/tabs.js; a store attached
// with failover, ./failover.js) are given it by defineDbSurface, and the proxy worker accepts
// exactly these names, so a method added to Db is added here once;
// tests/js/api-more.test.mjs checks the table against Db itself.
//
// What each kind of method does through the proxy:
//   call      its promise's result crosses back (every one is async on the proxy)
//   iterate   returns an iterator at once; the worker holds it, pages of items cross back
//   batch     `batch(ops)` is a call; `batch()` returns a chained batch collected on the page
//   snapshot  returns a Snapshot at once; the worker holds the real one
//   watch     returns a change feed at once; the worker holds the real one, changes cross back
//   share     the worker's token where the store is in the page's memory (threads: true),
//             else UNSUPPORTED
//   close     closes the worker's Db, then ends the worker

/** Db method name -> kind. */
export const DB_METHODS = Object.freeze({
  put: 'call',
  get: 'call',
  getMany: 'call',
  has: 'call',
  hasMany: 'call',
  getWithVersion: 'call',
  del: 'call',
  batch: 'batch',
  clear: 'call',
  iterator: 'iterate',
  keys: 'iterate',
  values: 'iterate',
  snapshot: 'snapshot',
  watch: 'watch',
  flush: 'call',
  compact: 'call',
  stats: 'call',
  metrics: 'call',
  metricsText: 'call',
  setAlerts: 'call',
  checkAlerts: 'call',
  share: 'share',
  close: 'close',
});

/** The Db's read-only properties, read once when the proxy's store has opened. */
export const DB_GETTERS = Object.freeze(['maintenance', 'recovery', 'storage', 'flavour', 'name', 'keyEncoding', 'valueEncoding', 'role', 'persisted', 'closed']);

/** True for a method the proxy worker runs on its Db when the page asks by name. */
export const isRemoteMethod = (name) => typeof name === 'string' && Object.hasOwn(DB_METHODS, name) && DB_METHODS[name] !== 'share';

/**
 * Gives `cls`, a class that stands in for a Db (the page proxy, a store shared across tabs,
 * a worker's store attached with failover), the whole surface in this table: on its
 * prototype, each method `methodFor(name, kind)` makes (named as Db's; none where it answers
 * undefined: the class defines that one itself), and each getter but those in `own` (the
 * class's own), its body made by `getterFor(name)`.
 */
export function defineDbSurface(cls, methodFor, getterFor, own = ['closed']) {
  for (const [method, kind] of Object.entries(DB_METHODS)) {
    const value = methodFor(method, kind);
    if (value === undefined) continue;
    Object.defineProperty(value, 'name', { value: method });
    Object.defineProperty(cls.prototype, method, { value, writable: true, configurable: true });
  }
  for (const getter of DB_GETTERS) {
    if (!own.includes(getter)) Object.defineProperty(cls.prototype, getter, { get: getterFor(getter), configurable: true });
  }
}
