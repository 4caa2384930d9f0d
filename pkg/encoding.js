// Key and value encodings, as in Level. Keys: 'utf8' (strings) or 'bytes' (Uint8Array).
// Values: those two, or 'json' (structured values, stored as JSON text; converted by the
// engine through serde-wasm-bindgen). For 'utf8' and 'bytes', input may be either form;
// the encoding decides what reads return.
import { invalid } from './errors.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export const KEY_ENCODINGS = ['utf8', 'bytes'];
export const VALUE_ENCODINGS = ['utf8', 'bytes', 'json'];

/** Checks an encoding name (`what` is 'keyEncoding' or 'valueEncoding'); returns it. */
export function checkEncoding(name, what) {
  const allowed = what === 'keyEncoding' ? KEY_ENCODINGS : VALUE_ENCODINGS;
  if (!allowed.includes(name)) {
    throw invalid(`${what} must be one of ${allowed.join(', ')}, got ${String(name)}`);
  }
  return name;
}

/** A string or Uint8Array as bytes for the engine. */
export function toBytes(input, what) {
  if (typeof input === 'string') return encoder.encode(input);
  if (input instanceof Uint8Array) return input;
  throw invalid(`${what} must be a string or a Uint8Array, got ${describe(input)}`);
}

/** A value as bytes in `encoding`; `wasm` converts JSON. */
export function encodeValue(value, encoding, wasm) {
  if (encoding !== 'json') return toBytes(value, 'value');
  if (value === undefined) throw invalid('value is undefined; JSON has no undefined');
  return wasm.encodeJson(value);
}

/** Bytes from the engine in `encoding`; `wasm` converts JSON. */
export function fromBytes(bytes, encoding, wasm) {
  if (encoding === 'utf8') return decoder.decode(bytes);
  if (encoding === 'json') return wasm.decodeJson(bytes);
  return bytes;
}

function describe(value) {
  if (value === null) return 'null';
  if (typeof value === 'object') return value.constructor?.name ?? 'object';
  return typeof value;
}
