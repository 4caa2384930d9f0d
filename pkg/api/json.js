// The 'json' value encoding: what JSON.parse gives back exactly, checked before it is
// written (README, "Encodings"); loaded on first use (encoding.js).
import { invalid } from './errors.js';
import { describe, fromUtf8 } from './encoding.js';

const encoder = new TextEncoder();

/** `.name` for identifiers, `["na me"]` otherwise: one step of a path like `$.a[0].when`. */
function step(key) {
  if (typeof key === 'number') return `[${key}]`;
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

/** The path of `key` in the object of `frame` (see checkJson), shortened when very long. */
function pathOf(frame, key) {
  const steps = key === null ? [] : [step(key)];
  for (let f = frame; f && f.key !== null; f = f.parent) steps.push(step(f.key));
  const path = `$${steps.reverse().join('')}`;
  return path.length <= 200 ? path : `${path.slice(0, 80)}…(${steps.length} steps)…${path.slice(-80)}`;
}

/** Why JSON cannot hold `value` exactly, or null if it can (its children are checked apart). */
function refusal(value) {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return null;
    case 'number':
      if (Number.isNaN(value)) return 'NaN';
      if (!Number.isFinite(value)) return String(value);
      return Object.is(value, -0) ? '-0' : null;
    case 'object': {
      if (value === null) return null;
      const proto = Object.getPrototypeOf(value);
      const plain = Array.isArray(value) ? proto === Array.prototype : proto === Object.prototype || proto === null;
      if (!plain) return describe(value);
      if (typeof value.toJSON === 'function') return 'an object with a toJSON method';
      if (Object.getOwnPropertySymbols(value).length > 0) return 'an object with symbol keys';
      return null;
    }
    default:
      // undefined (also an array hole), functions, symbols, bigints
      return typeof value;
  }
}

/**
 * Throws INVALID_ARGUMENT, naming where, unless JSON.parse(JSON.stringify(value)) gives back
 * exactly `value`. A walk with a stack of its own (any depth) that tracks the objects on
 * the current path, so a cycle is named where it closes.
 */
function checkJson(root) {
  const onPath = new Set();
  const frames = [];
  const visit = (value, parent, key) => {
    let why;
    try {
      why = refusal(value);
    } catch (err) {
      throw invalid(`${pathOf(parent, key)} cannot be read: ${err?.message ?? err}`, err);
    }
    if (why) throw invalid(`JSON cannot hold this value exactly: ${pathOf(parent, key)}: ${why}`);
    if (value === null || typeof value !== 'object') return;
    if (onPath.has(value)) {
      throw invalid(`the value is cyclic (${pathOf(parent, key)} refers back to an object that contains it); JSON cannot hold it`);
    }
    onPath.add(value);
    const isArray = Array.isArray(value);
    frames.push({ value, parent, key, keys: isArray ? null : Object.keys(value), length: isArray ? value.length : 0, next: 0 });
  };
  visit(root, null, null);
  while (frames.length > 0) {
    const frame = frames[frames.length - 1];
    const size = frame.keys ? frame.keys.length : frame.length;
    if (frame.next >= size) {
      onPath.delete(frame.value);
      frames.pop();
      continue;
    }
    const key = frame.keys ? frame.keys[frame.next] : frame.next;
    frame.next++;
    let child;
    try {
      child = frame.value[key];
    } catch (err) {
      throw invalid(`${pathOf(frame, key)} cannot be read: ${err?.message ?? err}`, err);
    }
    visit(child, frame, key);
  }
}

/**
 * A value as JSON text bytes, if JSON.parse gives back exactly that value: plain objects
 * and arrays, strings, finite numbers (not -0), booleans and null, nested as deep as
 * JSON.stringify goes. Anything else (undefined, NaN, Infinity, Date, Map, Set, typed
 * arrays, class instances, functions, symbols, bigints, cycles) is INVALID_ARGUMENT naming
 * where it is: `$.a.when: Date`.
 */
export function encode(value) {
  try {
    checkJson(value);
  } catch (err) {
    if (err instanceof RangeError) throw invalid('the value is too large to check', err);
    throw err;
  }
  let text;
  try {
    text = JSON.stringify(value);
  } catch (err) {
    if (err instanceof RangeError) throw invalid('the value is nested too deeply for JSON.stringify', err);
    throw invalid(`the value cannot be stored as JSON: ${err?.message ?? err}`, err);
  }
  return encoder.encode(text);
}

/** The value of JSON bytes. */
export function decode(bytes, text = null) {
  text ??= fromUtf8(bytes, 'the value');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw invalid("the stored value is not JSON; read it with valueEncoding 'utf8' or 'bytes'", err);
  }
}
