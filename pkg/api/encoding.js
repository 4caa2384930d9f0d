// The data checker and the encodings, as in Level. Everything a caller passes as a key or
// a value goes through here, and everything read comes back through here: a value either
// round-trips exactly or is refused with INVALID_ARGUMENT, never changed on the way.
//   keys:   'utf8' (strings, the default) or 'bytes' (Uint8Array)
//   values: those two, 'json': what JSON.parse gives back exactly (json.js), or
//           'structured': what structured clone holds (structured.js); both loaded on first use
// For 'utf8' and 'bytes', input may be either form; the encoding decides what reads return.
import { PpdbError, invalid } from './errors.js';
import { DECODE_SHORT, asciiText } from './text.js';

export const KEY_ENCODINGS = ['utf8', 'bytes'];
export const VALUE_ENCODINGS = ['utf8', 'bytes', 'json', 'structured'];

/**
 * The codecs of 'json' (json.js) and 'structured' (structured.js), loaded on first use so
 * that a page that never names them does not load them: each `{ encode(value), decode(bytes,
 * text) }` once loaded, and its loading.
 */
const CODECS = { json: () => import('./json.js'), structured: () => import('./structured.js') };
const codecs = {};
const loading = {};

/**
 * A promise to await before values are encoded or decoded in `encoding`, or null when
 * there is nothing to wait for.
 */
export function codecReady(encoding) {
  if (!Object.hasOwn(CODECS, encoding) || codecs[encoding]) return null;
  loading[encoding] ??= CODECS[encoding]().then(
    (module) => {
      codecs[encoding] = module;
    },
    (err) => {
      // A page that lost its connection: the next call tries again.
      delete loading[encoding];
      throw new PpdbError('IO', `the '${encoding}' encoding could not be loaded: ${err?.message ?? err}`, { cause: err });
    },
  );
  return loading[encoding];
}

/** A codec loading now, if any: writes wait for it, so that they stay in the order they were made. */
export function codecLoading() {
  for (const encoding of Object.keys(loading)) if (!codecs[encoding]) return loading[encoding];
  return null;
}

/** Thrown (and caught by the caller, which awaits `codecLoading()`) when a codec is not loaded yet. */
export const CODEC_PENDING = Symbol('codecPending');

function codec(encoding) {
  if (!codecs[encoding]) {
    codecReady(encoding);
    throw CODEC_PENDING;
  }
  return codecs[encoding];
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
  return Object.hasOwn(CODECS, encoding) ? codec(encoding).encode(value) : toBytes(value, 'value');
}

/**
 * Bytes from the engine as a value in `encoding`; `text`, when not null, is those bytes
 * already decoded (ASCII a scan page marked).
 */
export function decodeValue(bytes, encoding, text = null) {
  if (encoding === 'utf8') return text ?? fromUtf8(bytes, 'the value');
  if (Object.hasOwn(CODECS, encoding)) return codec(encoding).decode(bytes, text);
  return bytes;
}

/** Bytes from the engine as a key in `encoding`. */
export function decodeKey(bytes, encoding) {
  return encoding === 'utf8' ? fromUtf8(bytes, 'the key') : bytes;
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
