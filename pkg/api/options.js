// The options checker: every options object of every public call is read here, once,
// into a plain object of checked values. A non-object where options belong, an option
// of the wrong type, or a getter that throws is INVALID_ARGUMENT before anything happens.
// Options a call does not know are ignored (as in Level).
import { invalid } from './errors.js';
import { checkEncoding, describe, isBytes, toBytes } from './encoding.js';

const positiveInteger = (name) => (v) => {
  if (!(Number.isInteger(v) && v > 0)) throw invalid(`${name} must be a positive integer, got ${describe(v)}`);
  return v;
};
const oneOf = (name, allowed) => (v) => {
  if (!allowed.includes(v)) throw invalid(`${name} must be one of ${allowed.join(', ')}, got ${describe(v)}`);
  return v;
};
const boolean = (name) => (v) => {
  if (typeof v !== 'boolean') throw invalid(`${name} must be a boolean, got ${describe(v)}`);
  return v;
};
const func = (name) => (v) => {
  if (typeof v !== 'function') throw invalid(`${name} must be a function, got ${describe(v)}`);
  return v;
};
const bound = (name) => (v) => toBytes(v, name);

/** How each option is checked: `check(value)` returns what the call uses, or throws. */
const CHECKS = {
  // reads and writes
  keyEncoding: (v) => checkEncoding(v, 'keyEncoding'),
  valueEncoding: (v) => checkEncoding(v, 'valueEncoding'),
  snapshot: (v) => v, // checked by the store it is passed to (it must be that store's)
  checks: (v) => {
    if (!Array.isArray(v)) throw invalid(`checks must be an array of { key, version }, got ${describe(v)}`);
    return v;
  },
  // ranges
  gt: bound('gt'),
  gte: bound('gte'),
  lt: bound('lt'),
  lte: bound('lte'),
  prefix: bound('prefix'),
  reverse: boolean('reverse'),
  limit: (v) => {
    if (v === Infinity || v === -1) return undefined;
    if (!(Number.isInteger(v) && v >= 0)) throw invalid(`limit must be a non-negative integer, Infinity or -1, got ${describe(v)}`);
    return Math.min(v, 2 ** 32 - 1);
  },
  after: (v) => {
    if (!(Number.isSafeInteger(v) && v >= 0)) throw invalid(`after must be a sequence number (a non-negative integer), got ${describe(v)}`);
    return v;
  },
  // open
  storage: oneOf('storage', ['auto', 'memory', 'fs', 'opfs', 'indexeddb']),
  path: (v) => {
    if (typeof v !== 'string' || v.length === 0) throw invalid(`path must be a non-empty string, got ${describe(v)}`);
    if (v.includes('\0')) throw invalid('path must not contain a NUL character');
    return v;
  },
  durability: oneOf('durability', ['sync', 'relaxed']),
  recovery: oneOf('recovery', ['strict', 'skip-corrupted']),
  threads: boolean('threads'),
  exclusive: boolean('exclusive'),
  persist: boolean('persist'),
  lockTimeout: (v) => {
    if (!(Number.isInteger(v) && v >= 0)) throw invalid(`lockTimeout must be a non-negative integer (ms), got ${describe(v)}`);
    return v;
  },
  backgroundWorker: boolean('backgroundWorker'),
  wasmModule: (v) => {
    if (!(v instanceof WebAssembly.Module)) throw invalid('wasmModule must be a WebAssembly.Module (of pkg/wasm/single/ppdb_bg.wasm)');
    return v;
  },
  maxKeySize: positiveInteger('maxKeySize'),
  maxValueSize: positiveInteger('maxValueSize'),
  memtableSize: positiveInteger('memtableSize'),
  memoryLimit: positiveInteger('memoryLimit'),
  relaxedFlushBytes: positiveInteger('relaxedFlushBytes'),
  blockCacheSize: positiveInteger('blockCacheSize'),
  relaxedFlushInterval: (v) => {
    if (!(Number.isInteger(v) && v >= 0)) throw invalid(`relaxedFlushInterval must be a non-negative integer (ms), got ${describe(v)}`);
    return v;
  },
  alerts: (v) => {
    if (!Array.isArray(v)) throw invalid(`alerts must be an array of rules, got ${describe(v)}`);
    return v;
  },
  alertInterval: positiveInteger('alertInterval'),
  stallTimeout: positiveInteger('stallTimeout'),
  latencySwitch: (v) => {
    const rule = readOptions(v, 'latencySwitch', []);
    const averageMicros = field(v, 'averageMicros', 'latencySwitch');
    const minMemtableBytes = field(v, 'minMemtableBytes', 'latencySwitch');
    if (!(Number.isInteger(averageMicros) && averageMicros >= 0) || !(Number.isInteger(minMemtableBytes) && minMemtableBytes >= 0)) {
      throw invalid('latencySwitch needs { averageMicros, minMemtableBytes } (integers)');
    }
    return { ...rule, averageMicros, minMemtableBytes };
  },
  // alerts, logging, NDJSON
  interval: positiveInteger('interval'),
  level: oneOf('level', ['off', 'error', 'warn', 'info', 'debug', 'trace']),
  onLog: func('onLog'),
  onProgress: func('onProgress'),
};

/** The option lists of the calls, by name. */
export const RANGE = ['gt', 'gte', 'lt', 'lte', 'prefix', 'reverse', 'limit'];
export const READ = ['keyEncoding', 'valueEncoding', 'snapshot'];
export const WATCH = [...RANGE, 'keyEncoding', 'valueEncoding', 'after'];
export const OPEN = [
  'storage', 'path', 'durability', 'recovery', 'threads', 'backgroundWorker', 'wasmModule', 'keyEncoding',
  'valueEncoding', 'maxKeySize', 'maxValueSize', 'memtableSize', 'memoryLimit', 'relaxedFlushBytes',
  'relaxedFlushInterval', 'blockCacheSize', 'alerts', 'alertInterval', 'latencySwitch', 'stallTimeout', 'exclusive', 'lockTimeout', 'persist',
];

/** `object[name]`, with a throwing getter (or Proxy trap) reported as INVALID_ARGUMENT. */
function field(object, name, what) {
  try {
    return object[name];
  } catch (err) {
    throw invalid(`${what}.${String(name)} could not be read: ${err?.message ?? err}`, err);
  }
}

/**
 * The options `value` of a call (`what` names it, e.g. 'get() options'), checked: a plain
 * object holding each of `names` that is set (not undefined), as its check returned it.
 * `undefined` means no options.
 */
export function readOptions(value, what, names) {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value) || isBytes(value)) {
    throw invalid(`${what} must be an object, got ${describe(value)}`);
  }
  const out = {};
  for (const name of names) {
    const v = field(value, name, what);
    if (v !== undefined) out[name] = CHECKS[name](v);
  }
  // Level's rule for a range given both: gte wins over gt, lte over lt.
  if (out.gte !== undefined) delete out.gt;
  if (out.lte !== undefined) delete out.lt;
  return out;
}

/** `value[name]` of an object the caller passed (an operation, a check, a token). */
export function readField(value, name, what) {
  return field(value, name, what);
}

/** `db` must be a store (something with the store's methods), not whatever else. */
export function checkStore(db, what) {
  const method = (name) => typeof readField(db, name, what) === 'function';
  if (db === null || typeof db !== 'object' || !method('iterator') || !method('batch')) {
    throw invalid(`${what} takes a store (from open()) first`);
  }
}

/** Checks the name and options of `open()`; returns the options, checked (see OPEN). */
export function checkOpen(name, options) {
  checkName(name);
  return readOptions(options, 'open() options', OPEN);
}

/** A store name: a non-empty string of valid Unicode without NUL. */
export function checkName(name) {
  if (typeof name !== 'string' || name.length === 0) throw invalid(`the store name must be a non-empty string, got ${describe(name)}`);
  if (name.includes('\0')) throw invalid('the store name must not contain a NUL character');
  toBytes(name, 'the store name'); // refuses lone surrogates
}
