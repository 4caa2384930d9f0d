// Short strings across the boundary without the Encoding API. In browsers each
// TextEncoder.encodeInto or TextDecoder.decode call has a fixed cost whatever the length
// (Chromium 156, a page: encodeInto 500-700 ns, decode about 200 ns, for 16 to 200 bytes;
// an earlier Chromium took 900-1,000 ns for 16 bytes); a JS loop over a short ASCII string
// costs less (Chromium scans 1.3-1.6x faster with it). Node, Deno and Bun answer those
// calls in 70-150 ns, faster than the loops, so there they are not used. Strings that are
// longer, or not ASCII, always go through the Encoding API (which also checks UTF-8 when
// decoding).

const nodeLike = typeof process !== 'undefined' && Boolean(process.versions?.node);

/** Strings of at most this many UTF-16 units are written by asciiInto (in Chromium 156 it
 * beats encodeInto at every length up to 200: 50 against 570 ns at 16, 200 against 540-670
 * ns at 100, 360-400 against 720-740 ns at 200). */
export const ENCODE_SHORT = nodeLike ? 0 : 128;
/** Byte strings of at most this length are read by asciiText (in Chromium 156 it beats
 * decode at 16, 90-240 against 200-570 ns, and is about even at 64; decode wins past it). */
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
