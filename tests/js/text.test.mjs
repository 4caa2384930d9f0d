// The short-string loops of pkg/api/text.js (browsers use them for strings up to SHORT
// units; tests/browser/api.test.mjs round-trips strings through them in Chromium).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { asciiInto, asciiText } from '../../pkg/api/text.js';

test('asciiInto writes ASCII strings as their bytes and refuses any other character', () => {
  const out = new Uint8Array(80).fill(0xee);
  assert.equal(asciiInto('hello\x7f', out, 3), 6);
  assert.deepEqual([...out.subarray(3, 9)], [0x68, 0x65, 0x6c, 0x6c, 0x6f, 0x7f]);
  assert.equal(asciiInto('', out, 0), 0);
  for (const text of ['\x80', 'abcé', '🚀', '\ufeffa', 'a\ud800']) assert.equal(asciiInto(text, out, 0), -1, JSON.stringify(text));
});

test('asciiText reads ASCII bytes as text and answers null for any byte above 0x7f', () => {
  const encoder = new TextEncoder();
  for (const text of ['', 'a', 'hello world', '\x00\x7f', 'x'.repeat(64)]) assert.equal(asciiText(encoder.encode(text)), text);
  for (const bytes of [[0x80], [0x61, 0xff], [0xef, 0xbb, 0xbf], [0xc3, 0xa9]]) assert.equal(asciiText(new Uint8Array(bytes)), null);
});
