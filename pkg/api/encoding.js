// The data checker and the encodings, as in Level. Everything a caller passes as a key or
// a value goes through here, and everything read comes back through here: a value either
// round-trips exactly or is refused with INVALID_ARGUMENT, never changed on the way.
//   keys:   'utf8' (strings, the default) or 'bytes' (Uint8Array)
//   values: those two, 'json': what JSON.parse gives back exactly (see jsonBytes), or
//           'structured': what structured clone holds (structured.js, loaded on first use)
// For 'utf8' and 'bytes', input may be either form; the encoding decides what reads return.
import { invalid } from './errors.js';
import { DECODE_SHORT, asciiText } from './text.js';

export const KEY_ENCODINGS = ['utf8', 'bytes'];
export const VALUE_ENCODINGS = ['utf8', 'bytes', 'json', 'structured'];

/** The 'structured' codec (structured.js) once loaded, and its loading. */
let structured = null;
let loadingStructured = null;

/**
 * A promise to await before values are encoded or decoded in `encoding`, or null when
 * there is nothing to wait for (the 'structured' codec is loaded on first use).
 */
export function codecReady(encoding) {
  if (encoding !== 'structured' || structured !== null) return null;
  loadingStructured ??= import('./structured.js').then((module) => {
    structured = module;
  });
  return loadingStructured;
}

/** The codec loading now, if any: writes wait for it, so that they stay in the order they were made. */
export function codecLoading() {
  return structured === null ? loadingStructured : null;
}

/** Thrown (and caught by the caller, which awaits `codecReady`) when the codec is not loaded yet. */
export const CODEC_PENDING = Symbol('codecPending');

function structuredCodec() {
  if (structured === null) {
    codecReady('structured');
    throw CODEC_PENDING;
  }
  return structured;
}

const encoder = new TextEncoder();
// fatal: bytes that are not UTF-8 are refused, not turned into U+FFFD (two keys must
// never read back alike); ignoreBOM: a leading U+FEFF is data, not a byte order mark.
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/** True for a string UTF-8 can hold (no lone surrogates). */
const wellFormed =
  typeof String.prototype.isWellFormed === 'function' ? (s) => s.isWellFormed() : (s) => !LONE_SURROGATE.test(s);

// The brand check of typed arrays: true only for real Uint8Arrays (Node's Buffer too), not
// for a Proxy over one or an object that merely claims the prototype.
const typedArrayName = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Uint8Array.prototype), Symbol.toStringTag).get;

/** True if `value` is a Uint8Array. */
export function isBytes(value) {
  return typedArrayName.call(value) === 'Uint8Array';
}

/** True if the buffer under `bytes` was detached (transferred away): the view reads as empty. */
export function isDetached(bytes) {
  if (bytes.byteLength !== 0) return false;
  const buffer = bytes.buffer;
  if (typeof buffer.detached === 'boolean') return buffer.detached;
  try {
    new Uint8Array(buffer);
    return false;
  } catch {
    return true;
  }
}

/** Checks an encoding name (`what` is 'keyEncoding' or 'valueEncoding'); returns it. */
export function checkEncoding(name, what) {
  const allowed = what === 'keyEncoding' ? KEY_ENCODINGS : VALUE_ENCODINGS;
  if (!allowed.includes(name)) {
    throw invalid(`${what} must be one of ${allowed.join(', ')}, got ${describe(name)}`);
  }
  return name;
}

/**
 * `input` if it is a string UTF-8 can hold or a live Uint8Array (what `toBytes` takes);
 * `what` names it in errors.
 */
export function checkData(input, what) {
  if (typeof input === 'string') {
    if (!wellFormed(input)) {
      throw invalid(`${what} holds a lone surrogate, which UTF-8 cannot store (it would read back as U+FFFD)`);
    }
    return input;
  }
  if (isBytes(input)) {
    if (isDetached(input)) throw invalid(`${what} is a Uint8Array whose buffer was detached (transferred)`);
    return input;
  }
  throw invalid(`${what} must be a string or a Uint8Array, got ${describe(input)}`);
}

/** A string (as UTF-8) or a Uint8Array as bytes; `what` names it in errors. */
export function toBytes(input, what) {
  const data = checkData(input, what);
  return typeof data === 'string' ? encoder.encode(data) : data;
}

/** Bytes as a string; INVALID_ARGUMENT if they are not UTF-8 (`what` names them). */
export function fromUtf8(bytes, what) {
  if (bytes.length <= DECODE_SHORT) {
    const text = asciiText(bytes);
    if (text !== null) return text;
  }
  try {
    return decoder.decode(bytes);
  } catch (err) {
    throw invalid(`${what} is not UTF-8 text; read it with the 'bytes' encoding`, err);
  }
}

/** A value as bytes in `encoding`. */
export function encodeValue(value, encoding) {
  if (encoding === 'json') return jsonBytes(value);
  if (encoding === 'structured') return structuredCodec().structuredBytes(value);
  return toBytes(value, 'value');
}

/**
 * Bytes from the engine as a value in `encoding`; `text`, when not null, is those bytes
 * already decoded (ASCII a scan page marked).
 */
export function decodeValue(bytes, encoding, text = null) {
  if (encoding === 'utf8') return text ?? fromUtf8(bytes, 'the value');
  if (encoding === 'json') return fromJson(bytes, text);
  if (encoding === 'structured') return structuredCodec().fromStructured(bytes, text);
  return bytes;
}

/** Bytes from the engine as a key in `encoding`. */
export function decodeKey(bytes, encoding) {
  return encoding === 'utf8' ? fromUtf8(bytes, 'the key') : bytes;
}

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
export function jsonBytes(value) {
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
export function fromJson(bytes, text = null) {
  text ??= fromUtf8(bytes, 'the value');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw invalid("the stored value is not JSON; read it with valueEncoding 'utf8' or 'bytes'", err);
  }
}

/** A short description of a value's type, for error messages. */
export function describe(value) {
  if (value === null) return 'null';
  if (typeof value === 'object' || typeof value === 'function') {
    try {
      const name = Object.getPrototypeOf(value)?.constructor?.name;
      if (typeof name === 'string' && name !== '') return name;
    } catch {
      // a Proxy whose traps throw
    }
    return typeof value;
  }
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  return typeof value;
}
