// The public surface of a Db, as one table. The page proxy (pkg/proxy/page.js) builds its
// methods from it and the proxy worker accepts exactly these names, so a method added to Db
// is added here once; tests/js/api-more.test.mjs checks the table against Db itself.
//
// What each kind of method does through the proxy:
//   call      its promise's result crosses back (every one is async on the proxy)
//   iterate   returns an iterator at once; the worker holds it, pages of items cross back
//   batch     `batch(ops)` is a call; `batch()` returns a chained batch collected on the page
//   snapshot  returns a Snapshot at once; the worker holds the real one
//   watch     returns a change feed at once; the worker holds the real one, changes cross back
//   share     not through a proxy (UNSUPPORTED)
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
