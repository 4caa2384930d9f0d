// Key and value encodings, as in Level: 'utf8' (strings) or 'bytes' (Uint8Array).
// Input may be either form whatever the encoding; the encoding decides what reads return.
import { invalid } from './errors.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export const ENCODINGS = ['utf8', 'bytes'];

/** Checks an encoding name; returns it. */
export function checkEncoding(name, what) {
  if (!ENCODINGS.includes(name)) {
    throw invalid(`${what} must be one of ${ENCODINGS.join(', ')}, got ${String(name)}`);
  }
  return name;
}

/** A string or Uint8Array as bytes for the engine. */
export function toBytes(input, what) {
  if (typeof input === 'string') return encoder.encode(input);
  if (input instanceof Uint8Array) return input;
  throw invalid(`${what} must be a string or a Uint8Array, got ${describe(input)}`);
}

/** Bytes from the engine in the chosen encoding. */
export function fromBytes(bytes, encoding) {
  return encoding === 'utf8' ? decoder.decode(bytes) : bytes;
}

function describe(value) {
  if (value === null) return 'null';
  if (typeof value === 'object') return value.constructor?.name ?? 'object';
  return typeof value;
}
