// The 'structured' value encoding: what structured clone (IndexedDB, Dexie, postMessage)
// can hold, stored as devalue text (docs/format.md, "Structured values"): Date, Map, Set,
// typed arrays, ArrayBuffer, DataView, BigInt, RegExp, boxed primitives, undefined, NaN,
// ±Infinity, -0, sparse arrays, and shared or cyclic references, nested. Loaded on first
// use (encoding.js), so stores that never name it do not load it. A value either reads
// back exactly or is refused with INVALID_ARGUMENT: devalue refuses functions, symbols and
// symbol keys itself; the walk below refuses what it, or structured cloning on the way to
// a page, would change without a word.
import { parse } from '../vendor/devalue/parse.js';
import { stringify } from '../vendor/devalue/stringify.js';
import { invalid } from './errors.js';
import { describe, fromUtf8 } from './encoding.js';

/** How deep a value may nest: devalue recurses once per level, and a Chromium worker's stack
 * holds about 850 levels of its stringify (measured), so this leaves room for the caller. */
export const MAX_DEPTH = 500;

const encoder = new TextEncoder();

const TypedArray = Object.getPrototypeOf(Uint8Array);
/**
 * The classes a structured value may hold, beside plain objects, arrays and typed arrays:
 * what devalue writes and structured cloning carries (a value read through the page proxy
 * crosses to the page by structured cloning). An instance of a subclass would read back as
 * the class itself; an object with a null prototype would cross as a plain one.
 */
const BUILT_INS = [Date, Map, Set, RegExp, ArrayBuffer, DataView, Number, String, Boolean, BigInt];

/** True for an array index (what devalue writes of an array). */
const isIndex = (key) => /^(0|[1-9]\d*)$/.test(key) && Number(key) < 2 ** 32 - 1;

/** Why `value` (an object) would not read back exactly, or null; its children are walked apart. */
function refusal(value) {
  const proto = Object.getPrototypeOf(value);
  if (Array.isArray(value)) {
    if (proto !== Array.prototype) return describe(value);
    // Holes are kept; other properties would be dropped.
    const extra = Object.keys(value).find((key) => !isIndex(key));
    return extra === undefined ? null : `an array with the property ${JSON.stringify(extra)}`;
  }
  if (proto === Object.prototype) return null;
  if (proto === null) return 'an object with a null prototype (structured cloning gives a plain object)';
  if (value instanceof TypedArray) {
    // A Node Buffer reads back as a Uint8Array, as structured clone gives it.
    const plain = Object.getPrototypeOf(proto) === TypedArray.prototype || (typeof Buffer === 'function' && proto === Buffer.prototype);
    return plain ? null : `${describe(value)} (a subclass of a typed array)`;
  }
  const base = BUILT_INS.find((type) => value instanceof type);
  if (base === undefined) return `${describe(value)} (an instance of a class)`;
  return proto === base.prototype ? null : `${describe(value)} (a subclass of ${base.name})`;
}

/** The children devalue writes of `value`, in the order it writes them. */
function* children(value) {
  if (value instanceof Map) {
    for (const [key, entry] of value) {
      yield key;
      yield entry;
    }
  } else if (value instanceof Set) {
    yield* value;
  } else if (ArrayBuffer.isView(value) || value instanceof Date || value instanceof RegExp || value instanceof ArrayBuffer) {
    // leaves
  } else {
    // An array's indices (holes skipped), an object's own enumerable string keys.
    for (const key of Object.keys(value)) yield value[key];
  }
}

/** Throws INVALID_ARGUMENT if devalue would change `root` or nest deeper than MAX_DEPTH. */
function check(root) {
  const seen = new Set();
  const stack = [[root, 0]];
  while (stack.length > 0) {
    const [value, depth] = stack.pop();
    if (value === null || typeof value !== 'object' || seen.has(value)) continue;
    seen.add(value);
    if (depth >= MAX_DEPTH) throw invalid(`the value nests deeper than ${MAX_DEPTH} levels`);
    const why = refusal(value);
    if (why) throw invalid(`a structured value cannot hold this exactly: ${why}`);
    const next = [...children(value)];
    for (let i = next.length - 1; i >= 0; i--) stack.push([next[i], depth + 1]);
  }
}

/** A value as the bytes of its devalue text, if it reads back exactly; else INVALID_ARGUMENT. */
export function encode(value) {
  let text;
  try {
    check(value);
    text = stringify(value);
  } catch (err) {
    if (err?.name === 'PpdbError') throw err;
    if (err?.name === 'DevalueError') {
      const where = err.path ? ` at ${err.path}` : '';
      throw invalid(`a structured value cannot hold this${where}: ${err.message.replace(/^Cannot stringify /, '')}`, err);
    }
    if (err instanceof RangeError) throw invalid('the value is too large or nested too deeply to store', err);
    throw invalid(`the value cannot be read: ${err?.message ?? err}`, err);
  }
  return encoder.encode(text);
}

/** The value of structured bytes (`text`, when given, is those bytes decoded). */
export function decode(bytes, text = null) {
  text ??= fromUtf8(bytes, 'the value');
  try {
    return parse(text);
  } catch (err) {
    throw invalid("the stored value is not a structured value; read it with valueEncoding 'utf8' or 'bytes'", err);
  }
}
