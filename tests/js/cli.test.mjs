// The command line (bin/ppdb.mjs, run as a child process on real folders) and the NDJSON
// export and import it is built on (pkg/api/ndjson.js, through the package API).
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { open, exportNdjson, importNdjson, PpdbError } from '../../pkg/index.js';

const bin = fileURLToPath(new URL('../../bin/ppdb.mjs', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'ppdb-cli-'));
after(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;
const freshDir = () => join(root, `store-${++counter}`);

/** Runs `ppdb ...args` with `input` on stdin: `{ code, stdout, stderr }`. */
function ppdb(args, { input = '' } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: root });
    const out = [];
    const err = [];
    child.stdout.on('data', (chunk) => out.push(chunk));
    child.stderr.on('data', (chunk) => err.push(chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }));
    child.stdin.end(input);
  });
}

/** Runs `ppdb ...args`, expecting success; its stdout. */
async function ok(args, options) {
  const result = await ppdb(args, options);
  assert.equal(result.code, 0, `ppdb ${args.join(' ')} failed: ${result.stderr}`);
  return result.stdout;
}

/** Every record of a store as [key hex, value hex], in key order. */
async function dump(db) {
  const out = [];
  for await (const [k, v] of db.iterator({ keyEncoding: 'bytes', valueEncoding: 'bytes' })) {
    out.push([Buffer.from(k).toString('hex'), Buffer.from(v).toString('hex')]);
  }
  return out;
}

/** dump() of the fs store in `path`, opened and closed for it. */
async function dumpDir(path) {
  const db = await open('check', { storage: 'fs', path });
  try {
    return await dump(db);
  } finally {
    await db.close();
  }
}

const bytes = (...b) => new Uint8Array(b);
/** Records the text form cannot hold, and text that needs escaping. */
const awkward = [
  [bytes(0xff, 0x00, 0x01), bytes(0xde, 0xad, 0xbe, 0xef)],
  [bytes(0x00), bytes()],
  [bytes(0xc3), new TextEncoder().encode('a value after a broken key')],
  [new TextEncoder().encode('bom'), bytes(0xef, 0xbb, 0xbf, 0x41)],
  [new TextEncoder().encode('text:tab\tnewline\nquote"backslash\\'), new TextEncoder().encode('\u2028 é 😀 \u0000')],
  [new TextEncoder().encode('text:é😀'), bytes(0xe2, 0x82)],
];

/** Writes `n` text records and the awkward ones through the API. */
async function fill(db, n) {
  for (let start = 0; start < n; start += 1000) {
    const ops = [];
    for (let i = start; i < Math.min(n, start + 1000); i++) {
      ops.push({ type: 'put', key: `k:${String(i).padStart(6, '0')}`, value: `value ${i} ${'ü'.repeat(i % 7)}` });
    }
    await db.batch(ops);
  }
  for (const [key, value] of awkward) await db.put(key, value);
}

async function rejectsInvalid(promise, pattern) {
  await assert.rejects(promise, (err) => {
    assert.ok(err instanceof PpdbError, `expected a PpdbError, got ${err}`);
    assert.equal(err.code, 'INVALID_ARGUMENT', err.message);
    assert.match(err.message, pattern);
    return true;
  });
}

describe('ppdb command line', () => {
  test('--help prints the usage; no arguments is a usage error', async () => {
    assert.match(await ok(['--help']), /^Usage: ppdb <dir> <command>/);
    assert.match(await ok(['some-dir', 'scan', '-h']), /Commands:/);
    const none = await ppdb([]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /^ppdb: USAGE: /);
  });

  test('put, get and del, with UTF-8 text and keys that start with a dash', async () => {
    const dir = freshDir();
    await ok([dir, 'put', 'greeting', 'héllo wörld 😀']);
    await ok([dir, 'put', '--', '-dash', '-value']);
    assert.equal(await ok([dir, 'get', 'greeting']), 'héllo wörld 😀\n');
    assert.equal(await ok([dir, 'get', '--', '-dash']), '-value\n');
    assert.deepEqual(JSON.parse(await ok([dir, 'get', 'greeting', '--json'])), { key: 'greeting', value: 'héllo wörld 😀' });
    await ok([dir, 'del', 'greeting']);
    const missing = await ppdb([dir, 'get', 'greeting']);
    assert.equal(missing.code, 1);
    assert.equal(missing.stdout, '');
    assert.equal(missing.stderr, 'ppdb: NOT_FOUND: no key "greeting"\n');
    const noStore = await ppdb([join(root, 'never-created'), 'get', 'k']);
    assert.equal(noStore.code, 1);
    assert.match(noStore.stderr, /^ppdb: NOT_FOUND: no store at /);
    assert.equal(existsSync(join(root, 'never-created')), false, 'get created a store');
  });

  test('scan honours prefix, bounds, reverse and limit; --json prints records', async () => {
    const dir = freshDir();
    const db = await open('scan', { storage: 'fs', path: dir });
    for (const k of ['a', 'ab', 'abc', 'b', 'ba', 'c', 'é']) await db.put(k, `v:${k}`);
    await db.close();
    const keys = async (...options) => (await ok([dir, 'scan', ...options])).split('\n').filter(Boolean).map((l) => l.split('\t')[0]);
    assert.equal(await ok([dir, 'scan', '--limit', '2']), 'a\tv:a\nab\tv:ab\n');
    assert.deepEqual(await keys(), ['a', 'ab', 'abc', 'b', 'ba', 'c', 'é']);
    assert.deepEqual(await keys('--prefix', 'ab'), ['ab', 'abc']);
    assert.deepEqual(await keys('--gt', 'a', '--lt', 'b'), ['ab', 'abc']);
    assert.deepEqual(await keys('--gte', 'ab', '--lte', 'ba'), ['ab', 'abc', 'b', 'ba']);
    assert.deepEqual(await keys('--reverse', '--limit', '3'), ['é', 'c', 'ba']);
    assert.deepEqual(await keys('--reverse', '--lt', 'b', '--limit', '2'), ['abc', 'ab']);
    assert.deepEqual(await keys('--gt', 'z', '--lt', 'a'), []);
    const json = (await ok([dir, 'scan', '--prefix', 'b', '--json'])).trimEnd().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(json, [{ key: 'b', value: 'v:b' }, { key: 'ba', value: 'v:ba' }]);
  });

  test('stats prints the statistics as JSON', async () => {
    const dir = freshDir();
    await ok([dir, 'put', 'k', 'v']);
    const stats = JSON.parse(await ok([dir, 'stats']));
    assert.equal(stats.sequence, 1);
    assert.ok(Array.isArray(stats.tablesPerLevel));
  });

  test('export then import copies every record, binary ones too, through files and pipes', async () => {
    const source = freshDir();
    const db = await open('source', { storage: 'fs', path: source, keyEncoding: 'bytes' });
    await fill(db, 3000);
    const expected = await dump(db);
    await db.close();
    assert.equal(expected.length, 3000 + awkward.length);

    const file = join(root, 'export.ndjson');
    assert.equal(await ok([source, 'export', file]), '');
    const lines = readFileSync(file, 'utf8').split('\n');
    assert.equal(lines.pop(), '', 'the file ends with a newline');
    assert.equal(lines.length, 1 + expected.length);
    assert.equal(lines[0], '{"ppdb":"export","version":1}');
    assert.equal(lines[1], '{"key":"\\u0000","value":""}', 'key order, the NUL byte first');
    assert.ok(lines.includes('{"key":"k:000000","value":"value 0 "}'));
    assert.ok(lines.includes('{"keyBase64":"/wAB","valueBase64":"3q2+7w=="}'));
    for (const line of lines) JSON.parse(line);

    const copy = freshDir();
    assert.equal(await ok([copy, 'import', file]), '');
    assert.deepEqual(await dumpDir(copy), expected);

    const piped = freshDir();
    const stdout = await ok([source, 'export', '-']);
    assert.equal(stdout, readFileSync(file, 'utf8'));
    await ok([piped, 'import'], { input: stdout });
    assert.deepEqual(await dumpDir(piped), expected);

    // A range, and a second import of the same records changes nothing.
    const part = await ok([source, 'export', '--prefix', 'k:0001', '--reverse', '--limit', '5']);
    assert.deepEqual(
      part.trimEnd().split('\n').slice(1).map((l) => JSON.parse(l).key),
      ['k:000199', 'k:000198', 'k:000197', 'k:000196', 'k:000195'],
    );
    await ok([copy, 'import', '-'], { input: part });
    assert.deepEqual(await dumpDir(copy), expected);
  });

  test('--progress draws on stderr while stdout stays valid NDJSON', async () => {
    const dir = freshDir();
    const db = await open('progress', { storage: 'fs', path: dir });
    await fill(db, 12000);
    await db.close();
    const total = 12000 + awkward.length;
    const exported = await ppdb([dir, 'export', '--progress']);
    assert.equal(exported.code, 0, exported.stderr);
    assert.match(exported.stderr, new RegExp(`^export \\[.*\\] 100% \\| ${total}/${total} records`, 'm'));
    const lines = exported.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 1 + total);
    for (const line of lines) JSON.parse(line);

    const file = join(root, 'progress.ndjson');
    writeFileSync(file, exported.stdout);
    const imported = await ppdb([freshDir(), 'import', file, '--progress']);
    assert.equal(imported.code, 0, imported.stderr);
    assert.equal(imported.stdout, '');
    assert.match(imported.stderr, new RegExp(`^import \\[.*\\] 100% \\| ${total} records`, 'm'));
    // Without --progress and off a terminal: no bar.
    assert.equal((await ppdb([dir, 'export', join(root, 'quiet.ndjson')])).stderr, '');
  });

  test('usage errors exit with status 2', async () => {
    const dir = freshDir();
    const cases = [
      [[dir], /expected <dir> <command>/],
      [[dir, 'frobnicate'], /unknown command 'frobnicate'/],
      [[dir, 'get'], /expected: ppdb <dir> get <key>/],
      [[dir, 'put', 'k'], /expected: ppdb <dir> put <key> <value>/],
      [[dir, 'put', 'k', 'v', 'extra'], /expected: ppdb <dir> put <key> <value>/],
      [[dir, 'scan', '--limit', 'ten'], /--limit takes a whole number/],
      [[dir, 'scan', '--sideways'], /sideways/],
      [[dir, 'get', 'k', '--reverse'], /--reverse does not apply to get/],
      [[dir, 'bench', '--n', '0'], /--n must be at least 1/],
    ];
    for (const [args, message] of cases) {
      const { code, stdout, stderr } = await ppdb(args);
      assert.equal(code, 2, `ppdb ${args.join(' ')}: ${stderr}`);
      assert.equal(stdout, '');
      assert.match(stderr, /^ppdb: USAGE: /);
      assert.match(stderr, message);
    }
    assert.equal(existsSync(dir), false, 'a usage error created the store');
  });

  test('a malformed import line is named, and the lines before it are imported', async () => {
    const dir = freshDir();
    const good = Array.from({ length: 2500 }, (_, i) => JSON.stringify({ key: `k${i}`, value: `${i}` }));
    const input = ['{"ppdb":"export","version":1}', ...good, '{"key":"broken",', '{"key":"after","value":"x"}'].join('\n');
    const { code, stderr } = await ppdb([dir, 'import'], { input });
    assert.equal(code, 1);
    assert.match(stderr, /^ppdb: INVALID_ARGUMENT: line 2502: not JSON/);
    const records = await dumpDir(dir);
    assert.equal(records.length, 2500);
    assert.ok(!records.some(([k]) => k === Buffer.from('after').toString('hex')));

    const missing = await ppdb([dir, 'import', join(root, 'no-such-file.ndjson')]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^ppdb: ENOENT: no such file/);
  });

  test('a store open elsewhere is LOCKED, and the CLI leaves it usable after', async () => {
    const dir = freshDir();
    const db = await open('held', { storage: 'fs', path: dir });
    const locked = await ppdb([dir, 'get', 'k']);
    assert.equal(locked.code, 1);
    assert.match(locked.stderr, /^ppdb: LOCKED: /);
    await db.close();
    await ok([dir, 'put', 'k', 'v']);
    const again = await open('held', { storage: 'fs', path: dir });
    assert.equal(await again.get('k'), 'v');
    await again.close();
  });

  test('bench prints medians for put, get and scan and removes its store', async () => {
    const dir = freshDir();
    const out = await ok([dir, 'bench', '--n', '300']);
    for (const phase of ['put', 'get', 'scan']) assert.match(out, new RegExp(`^${phase} +[\\d,]+ ops/s`, 'm'));
    assert.equal(existsSync(dir), false);
    mkdirSync(dir);
    writeFileSync(join(dir, 'precious'), 'data');
    const refused = await ppdb([dir, 'bench']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^ppdb: INVALID_ARGUMENT: bench writes a store of its own/);
    assert.equal(readFileSync(join(dir, 'precious'), 'utf8'), 'data');
  });
});

describe('exportNdjson and importNdjson', () => {
  /** All export lines of `db`, and the progress reports. */
  async function exportAll(db, options = {}) {
    const reports = [];
    const lines = [];
    for await (const line of exportNdjson(db, { ...options, onProgress: (p) => reports.push(p) })) lines.push(line);
    return { lines, reports };
  }

  test('records are text where the bytes are UTF-8 and base64 where not', async () => {
    const db = await open('format', { storage: 'memory' });
    await db.put('a', '1');
    await db.put(bytes(0xff), bytes(0x68, 0x69));
    const { lines } = await exportAll(db);
    assert.deepEqual(lines, ['{"ppdb":"export","version":1}\n', '{"key":"a","value":"1"}\n', '{"keyBase64":"/w==","value":"hi"}\n']);
    await db.close();
  });

  test('a json store exports and imports into a json store as the same values, whatever the store encodings', async () => {
    const source = await open('json-source', { storage: 'memory', valueEncoding: 'json', keyEncoding: 'bytes' });
    const todo = { title: 'write docs', done: false, tags: ['a', 'b'] };
    await source.put('todo:1', todo);
    await source.put('n', 42);
    const { lines } = await exportAll(source);
    const copy = await open('json-copy', { storage: 'memory', valueEncoding: 'json' });
    await importNdjson(copy, lines);
    assert.deepEqual(await copy.get('todo:1'), todo);
    assert.equal(await copy.get('n'), 42);
    assert.equal(await copy.get('n', { valueEncoding: 'utf8' }), '42', 'the bytes as they were, not a JSON string of them');
    await Promise.all([source.close(), copy.close()]);
  });

  test('a round trip survives chunks that split lines and UTF-8 characters', async () => {
    const db = await open('source', { storage: 'memory' });
    await fill(db, 300);
    const expected = await dump(db);
    const { lines, reports } = await exportAll(db);
    await db.close();
    const text = lines.join('');
    const encoded = new TextEncoder().encode(text);
    assert.deepEqual(reports.at(-1), { records: expected.length, bytes: encoded.length });

    async function* byteChunks(size) {
      for (let i = 0; i < encoded.length; i += size) yield encoded.subarray(i, i + size);
    }
    function* stringChunks(size) {
      for (let i = 0; i < text.length; i += size) yield text.slice(i, i + size); // splits surrogate pairs too
    }
    const sources = [
      ['1-byte chunks', () => byteChunks(1)],
      ['7-byte chunks', () => byteChunks(7)],
      ['4 KiB chunks', () => byteChunks(4096)],
      ['5-character string chunks', () => stringChunks(5)],
      ['a ReadableStream', () => new Blob([encoded]).stream()],
      ['one string', () => text],
    ];
    assert.ok(encoded.length > text.length, 'the text has multi-byte characters for the chunks to split');
    for (const [name, source] of sources) {
      const copy = await open(`copy ${name}`, { storage: 'memory' });
      const result = await importNdjson(copy, source());
      assert.deepEqual(result, { records: expected.length, bytes: encoded.length }, name);
      assert.deepEqual(await dump(copy), expected, name);
      await copy.close();
    }
    // CRLF line ends and blank lines, and two exports one after the other (two headers).
    const copy = await open('copy crlf', { storage: 'memory' });
    const crlf = `${text.replaceAll('\n', '\r\n')}\r\n\n${text}`;
    assert.equal((await importNdjson(copy, crlf)).records, 2 * expected.length);
    assert.deepEqual(await dump(copy), expected);
    await copy.close();
  });

  test('onProgress reports every few thousand records and at the end; export takes ranges', async () => {
    const db = await open('progress', { storage: 'memory' });
    await fill(db, 12000);
    const { lines, reports } = await exportAll(db);
    assert.ok(reports.length >= 3, `${reports.length} reports`);
    assert.deepEqual(reports.map((r) => r.records), [...reports.map((r) => r.records)].sort((a, b) => a - b));
    assert.equal(reports.at(-1).records, 12000 + awkward.length);

    const importReports = [];
    const copy = await open('copy', { storage: 'memory' });
    const result = await importNdjson(copy, lines, { onProgress: (p) => importReports.push(p) });
    assert.ok(importReports.length >= 3);
    assert.deepEqual(importReports.at(-1), result);
    assert.deepEqual(result, reports.at(-1));

    const range = await exportAll(db, { prefix: 'k:00', gte: 'k:000100', reverse: true, limit: 3 });
    assert.deepEqual(range.lines.slice(1).map((l) => JSON.parse(l).key), ['k:009999', 'k:009998', 'k:009997']);
    assert.deepEqual(range.reports, [{ records: 3, bytes: new TextEncoder().encode(range.lines.join('')).length }]);
    assert.throws(() => exportNdjson(db, { onProgress: 'yes' }), PpdbError);
    await db.close();
    await copy.close();
  });

  test('a malformed line rejects with INVALID_ARGUMENT naming it, after the lines before it', async () => {
    const header = '{"ppdb":"export","version":1}';
    const cases = [
      ['{"key":"x"', /line 3: not JSON/],
      ['[1,2]', /line 3: not a JSON object/],
      ['{"key":"x"}', /line 3: a record needs exactly one of "value" and "valueBase64"/],
      ['{"key":"x","keyBase64":"eA==","value":""}', /line 3: a record needs exactly one of "key" and "keyBase64"/],
      ['{"keyBase64":"not base64!","value":""}', /line 3: "keyBase64" is not base64/],
      ['{"key":"x","value":7}', /line 3: "value" must be a string/],
      ['{"ppdb":"export","version":2}', /line 3: unsupported header/],
    ];
    for (const [bad, message] of cases) {
      const db = await open('malformed', { storage: 'memory' });
      await rejectsInvalid(importNdjson(db, [header, '\n{"key":"before","val', 'ue":"1"}\n', bad, '\n{"key":"after","value":"2"}\n']), message);
      assert.equal(await db.get('before'), '1', bad);
      assert.equal(await db.get('after'), undefined, bad);
      await db.close();
    }
    // A key over the store's limit is named too; the lines of its batch before it are written.
    const db = await open('limits', { storage: 'memory', maxKeySize: 8 });
    const input = ['{"key":"short","value":"1"}', '{"key":"also ok","value":"2"}', '{"key":"far too long","value":"3"}'].join('\n');
    await rejectsInvalid(importNdjson(db, input), /^line 3: key is 12 bytes/);
    assert.deepEqual([await db.get('short'), await db.get('also ok')], ['1', '2']);
    await rejectsInvalid(importNdjson(db, [bytes(0x7b, 0xff, 0x7d)]), /not valid UTF-8/);
    await rejectsInvalid(importNdjson(db, 42), /async iterable/);
    await db.close();
  });
});
