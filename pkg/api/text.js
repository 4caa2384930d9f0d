// Short strings across the boundary without the Encoding API. In browsers each
// TextEncoder.encodeInto or TextDecoder.decode call costs about a microsecond whatever the
// length (measured in Chromium: 900-1,000 ns for 16 bytes), which is most of a get; a JS
// loop over a short ASCII string costs a fraction of that (Chromium scans 1.3-1.6x faster
// with it). Node, Deno and Bun answer those calls in 70-150 ns, faster than the loops, so
// there they are not used. Strings that are longer, or not ASCII, always go through the
// Encoding API (which also checks UTF-8 when decoding).

const nodeLike = typeof process !== 'undefined' && Boolean(process.versions?.node);

/** Strings of at most this many UTF-16 units are written by asciiInto (in Chromium it beats
 * encodeInto up to about 128: 140 against 900 ns at 16, 520 against 730 ns at 100). */
export const ENCODE_SHORT = nodeLike ? 0 : 128;
/** Byte strings of at most this length are read by asciiText (it beats decode up to about
 * 64: 250 against 1,000 ns at 16, even at 100). */
export const DECODE_SHORT = nodeLike ? 0 : 64;

/**
 * Writes `text` (at most ENCODE_SHORT units) into `out` at `at` if it is all ASCII; returns the
 * bytes written, or -1 (nothing meaningful written) for a string with other characters.
 */
export function asciiInto(text, out, at) {
  const length = text.length;
  for (let i = 0; i < length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0x7f) return -1;
    out[at + i] = c;
  }
  return length;
}

/** `bytes` (at most DECODE_SHORT) as a string if they are all ASCII, else null. */
export function asciiText(bytes) {
  let text = '';
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i];
    if (c > 0x7f) return null;
    text += String.fromCharCode(c);
  }
  return text;
}
