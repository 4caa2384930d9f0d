// Scan pages (pkg/api/wire.js PageReader, src/wasm/wire.rs Page): entries are read where the
// engine left them in wasm memory, ASCII text out of chunk-wide decoded strings, the rest
// decoded on its own. Every entry must read back exactly: ASCII and not, across chunk
// edges, in every encoding and mode, and while wasm memory grows under a paused scan.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { open } from '../../pkg/index.js';
import { PageReader } from '../../pkg/api/wire.js';

const NOT_ASCII = 0x80000000;

/** A page as the engine lays it out: `[key, value]` byte arrays, flags from the bytes. */
function page(entries, values = true) {
  const parts = [];
  const field = (bytes) => {
    const n = (bytes.length | (bytes.every((b) => b < 0x80) ? 0 : NOT_ASCII)) >>> 0;
    return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24];
  };
  for (const [key, value] of entries) {
    parts.push(...field(key));
    if (values) parts.push(...field(value));
    parts.push(...key);
    if (values) parts.push(...value);
  }
  return new Uint8Array(parts);
}

const utf8 = (s) => new TextEncoder().encode(s);

test('a page reader gives ASCII as text, other bytes as null, and bytes of every entry', () => {
  // Sizes that put entries on both sides of the 16 KiB chunk edges, and across them.
  const texts = [];
  for (let i = 0; i < 400; i++) {
    const key = `key-${String(i).padStart(5, '0')}`;
    const value = i % 7 === 3 ? `é-${i}-ü` : i % 50 === 0 ? 'v'.repeat(20_000 + i) : 'v'.repeat(i % 130);
    texts.push([key, value]);
  }
  texts.push(['', '']);
  texts.push(['€uro', 'x']);
  const bytes = page(texts.map(([k, v]) => [utf8(k), utf8(v)]));
  const reader = new PageReader(() => bytes, bytes.length, true);
  let i = 0;
  while (reader.next()) {
    const [key, value] = texts[i++];
    const ascii = (s) => /^[\x00-\x7f]*$/.test(s);
    assert.equal(reader.keyText(), ascii(key) ? key : null, `key ${i}`);
    assert.equal(reader.valueText(), ascii(value) ? value : null, `value ${i}`);
    assert.deepEqual(reader.key, utf8(key));
    assert.deepEqual(reader.value, utf8(value));
  }
  assert.equal(i, texts.length);
  assert.equal(reader.next(), false);

  const keysOnly = page([[utf8('a'), null], [utf8('ключ'), null]], false);
  const keys = new PageReader(() => keysOnly, keysOnly.length, false);
  assert.ok(keys.next());
  assert.equal(keys.keyText(), 'a');
  assert.ok(keys.next());
  assert.equal(keys.keyText(), null);
  assert.deepEqual(keys.key, utf8('ключ'));
  assert.equal(keys.next(), false);
});

test('bytes handed out are a copy, not a view of the page', () => {
  const bytes = page([[utf8('k'), utf8('value')]]);
  const reader = new PageReader(() => bytes, bytes.length, true);
  reader.next();
  const value = reader.value;
  bytes.fill(0);
  assert.equal(new TextDecoder().decode(value), 'value');
});

for (const [flavour, threads] of [['threaded', true], ['single', false]]) {
  describe(`${flavour} flavour`, () => {
    test('scans read every entry exactly: ASCII or not, long or empty, in every encoding', async () => {
      const db = await open('pages', { storage: 'memory', threads });
      const want = new Map();
      for (let i = 0; i < 3_000; i++) {
        const key = i % 11 === 0 ? `k${String(i).padStart(5, '0')}-ß` : `k${String(i).padStart(5, '0')}`;
        const value = i % 13 === 0 ? `${i}\u{1F600}` : i % 401 === 0 ? 'L'.repeat(40_000) : `v${i}`.repeat(i % 9);
        want.set(key, value);
      }
      const entries = [...want].sort(([a], [b]) => (Buffer.compare(Buffer.from(a), Buffer.from(b))));
      await db.batch(entries.map(([key, value]) => ({ type: 'put', key, value })));
      assert.deepEqual(await db.iterator().all(), entries);
      assert.deepEqual(await db.keys().all(), entries.map(([k]) => k));
      assert.deepEqual(await db.values().all(), entries.map(([, v]) => v));
      const raw = await db.iterator({ keyEncoding: 'bytes', valueEncoding: 'bytes' }).all();
      assert.deepEqual(raw.map(([k, v]) => [Buffer.from(k).toString(), Buffer.from(v).toString()]), entries);
      assert.deepEqual(await db.iterator({ reverse: true, limit: 50 }).all(), entries.slice(-50).reverse());

      await db.put('j1', JSON.stringify({ a: [1, 'two'] }));
      await db.put('j2', JSON.stringify('é'));
      assert.deepEqual(await db.values({ gte: 'j', lt: 'k', valueEncoding: 'json' }).all(), [{ a: [1, 'two'] }, 'é']);
      await db.close();
    });

    test('a paused scan reads right after wasm memory grew under it', async () => {
      const db = await open('grow', { storage: 'memory', threads });
      const entries = [];
      for (let i = 0; i < 2_000; i++) entries.push([`k${String(i).padStart(5, '0')}`, `value ${i} ${'x'.repeat(i % 50)}`]);
      await db.batch(entries.map(([key, value]) => ({ type: 'put', key, value })));
      const before = (await db.metrics()).memory.wasm;
      const read = [];
      let grew = 0;
      for await (const entry of db.iterator()) {
        read.push(entry);
        // Big writes between steps make the engine allocate, so wasm memory grows.
        if (read.length % 100 === 1) {
          grew++;
          await db.put(`z${grew}`, new Uint8Array(4 << 20));
        }
        if (read.length === entries.length) break;
      }
      assert.ok((await db.metrics()).memory.wasm > before, 'wasm memory grew during the scan');
      assert.deepEqual(read, entries);
      await db.close();
    });
  });
}
