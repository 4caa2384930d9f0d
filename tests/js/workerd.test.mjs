// The sample worker (examples/workerd/) on the real Cloudflare workerd (the npm `workerd`
// binary): bundled by Vite as its README says, it runs the package with a precompiled wasm
// module (`open(name, { wasmModule })`), in the single-threaded build, on a memory store,
// driven over HTTP.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, createLogger } from 'vite';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const workerd = join(repo, 'node_modules/.bin/workerd');
const example = join(repo, 'examples/workerd');
const config = join(example, 'config.capnp');
const START_TIMEOUT = 60_000;
/** An older compatibility date the README promises (config.capnp names the current one). */
const OLDER_DATE = '2024-01-01';

let child;
let base;

/** A port that was free a moment ago (workerd binds it itself). */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function stop() {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}
// Even if the test process is interrupted, do not leave workerd running.
process.once('exit', stop);

/**
 * Starts workerd on `configFile` on a free port; resolves once the worker answers, with
 * `{ child, base, log }` (`log()` what workerd printed so far).
 */
async function serveWorkerd(configFile) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let printed = '';
  const proc = spawn(workerd, ['serve', configFile, '--socket-addr', `http=127.0.0.1:${port}`, '--verbose'], {
    cwd: repo,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc.stdout.on('data', (d) => (printed += d));
  proc.stderr.on('data', (d) => (printed += d));
  const exited = new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));

  // Poll until the worker answers: workerd compiles the config, the wasm and the modules first,
  // which takes a while on a busy machine.
  const deadline = Date.now() + START_TIMEOUT;
  for (;;) {
    const gone = await Promise.race([exited, new Promise((r) => setTimeout(r, 100))]);
    if (gone) throw new Error(`workerd exited (${JSON.stringify(gone)}) before answering:\n${printed}`);
    try {
      const res = await fetch(`${url}/`, { signal: AbortSignal.timeout(2_000) });
      if (res.ok) break;
      throw new Error(`GET / answered HTTP ${res.status}: ${await res.text()}\n${printed}`);
    } catch (err) {
      if (err.message.startsWith('GET / answered')) throw err;
      if (Date.now() > deadline) throw new Error(`workerd did not answer within ${START_TIMEOUT} ms:\n${printed}`);
    }
  }
  return { child: proc, base: url, log: () => printed };
}

const buildWarnings = [];

before(async () => {
  assert.ok(existsSync(join(repo, 'pkg/wasm/single/ppdb_bg.wasm')), 'build the package first (npm run build)');
  // worker.js and the package -> examples/workerd/dist/worker.js (examples/workerd/vite.config.js).
  const logger = createLogger('warn');
  const warn = logger.warn.bind(logger);
  logger.warn = (message, options) => {
    buildWarnings.push(message);
    warn(message, options);
  };
  await build({ root: example, logLevel: 'warn', customLogger: logger });
  ({ child, base } = await serveWorkerd(config));
}, { timeout: START_TIMEOUT + 30_000 });

after(async () => {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(stop, 5_000);
  await exited;
  clearTimeout(timer);
});

test("the wasm module config.capnp embeds is the package's `ppdb/wasm/single.wasm` export", () => {
  // What a bundler (Wrangler) resolves that import to, through package.json `exports`.
  assert.equal(fileURLToPath(import.meta.resolve('ppdb/wasm/single.wasm')), join(repo, 'pkg/wasm/single/ppdb_bg.wasm'));
  assert.match(readFileSync(config, 'utf8'), /name = "ppdb\/wasm\/single\.wasm", wasm = embed "\.\.\/\.\.\/pkg\/wasm\/single\/ppdb_bg\.wasm"/);
});

const kv = (key) => `${base}/kv/${encodeURIComponent(key)}`;
const put = async (key, value) => {
  const res = await fetch(kv(key), { method: 'PUT', body: value });
  assert.equal(res.status, 204, await res.text());
};

test('the worker runs the single-threaded build on a memory store', async () => {
  const res = await fetch(`${base}/`);
  assert.deepEqual(await res.json(), { flavour: 'single', storage: 'memory' });
});

test('put, get, a missing key, delete', async () => {
  await put('greeting', 'hello');
  let res = await fetch(kv('greeting'));
  assert.equal(res.status, 200);
  assert.equal(await res.text(), 'hello');

  res = await fetch(kv('nobody-wrote-this'));
  assert.equal(res.status, 404);
  await res.body?.cancel();

  res = await fetch(kv('greeting'), { method: 'DELETE' });
  assert.equal(res.status, 204);
  res = await fetch(kv('greeting'));
  assert.equal(res.status, 404);
  await res.body?.cancel();
});

test('UTF-8 keys and values round-trip', async () => {
  await put('clé/été ✓', 'ça marche — 日本語 🎉');
  const res = await fetch(kv('clé/été ✓'));
  assert.equal(await res.text(), 'ça marche — 日本語 🎉');
});

test('a larger binary value comes back byte for byte', async () => {
  const value = new Uint8Array(3 * 1024 * 1024 + 17);
  for (let i = 0; i < value.length; i++) value[i] = (i * 7919 + (i >>> 11)) & 0xff;
  await put('big', value);
  const res = await fetch(kv('big'));
  assert.equal(res.status, 200);
  assert.deepEqual(new Uint8Array(await res.arrayBuffer()), value);
});

test('scan with a prefix, a limit and in reverse', async () => {
  for (const n of [3, 1, 4, 2]) await put(`user:${n}`, `name ${n}`);
  await put('usex', 'not a user');
  await put('uses', 'not a user either');

  const scan = async (query) => (await fetch(`${base}/scan?${new URLSearchParams(query)}`)).json();
  assert.deepEqual(await scan({ prefix: 'user:' }), [
    { key: 'user:1', value: 'name 1' },
    { key: 'user:2', value: 'name 2' },
    { key: 'user:3', value: 'name 3' },
    { key: 'user:4', value: 'name 4' },
  ]);
  assert.deepEqual(await scan({ prefix: 'user:', limit: 2, reverse: 1 }), [
    { key: 'user:4', value: 'name 4' },
    { key: 'user:3', value: 'name 3' },
  ]);
  assert.deepEqual(await scan({ prefix: 'nothing-here' }), []);
});

test('a batch is applied; an invalid one is a 400 and writes nothing', async () => {
  let res = await fetch(`${base}/batch`, {
    method: 'POST',
    body: JSON.stringify([
      { type: 'put', key: 'b:1', value: 'one' },
      { type: 'put', key: 'b:2', value: 'two' },
      { type: 'del', key: 'b:1' },
    ]),
  });
  assert.equal(res.status, 204, await res.text());
  assert.deepEqual(await (await fetch(`${base}/scan?prefix=b:`)).json(), [{ key: 'b:2', value: 'two' }]);

  res = await fetch(`${base}/batch`, {
    method: 'POST',
    body: JSON.stringify([{ type: 'put', key: 'b:3', value: 'three' }, { type: 'put', key: 7, value: 'not a string' }]),
  });
  assert.equal(res.status, 400);
  assert.equal((await res.json()).code, 'INVALID_ARGUMENT');
  assert.equal((await fetch(kv('b:3'))).status, 404);
});

test('the bundle builds without a warning', () => {
  assert.deepEqual(buildWarnings, []);
});

test(`an older compatibility date works too: ${OLDER_DATE}, before workerd had MessageChannel`, { timeout: START_TIMEOUT + 30_000 }, async () => {
  // The same config with the older date, beside the bundle (its embeds are relative to it).
  const older = join(example, 'dist/config-older.capnp');
  const text = readFileSync(config, 'utf8')
    .replace(/compatibilityDate = "[\d-]+"/, `compatibilityDate = "${OLDER_DATE}"`)
    .replace('embed "dist/worker.js"', 'embed "worker.js"')
    .replace('embed "../../pkg/', 'embed "../../../pkg/');
  assert.match(text, new RegExp(OLDER_DATE));
  writeFileSync(older, text);
  const other = await serveWorkerd(older);
  try {
    assert.deepEqual(await (await fetch(`${other.base}/`)).json(), { flavour: 'single', storage: 'memory' });
    let res = await fetch(`${other.base}/kv/old`, { method: 'PUT', body: 'date' });
    assert.equal(res.status, 204, await res.text());
    res = await fetch(`${other.base}/kv/old`);
    assert.equal(await res.text(), 'date');
  } finally {
    other.child.kill('SIGKILL');
  }
});
