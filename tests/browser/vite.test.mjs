// The Vite sample app (examples/vite-app/) as a user would have it: a copy of the app depends on
// the packed package (`npm pack`, installed from the tarball like any dependency), Vite builds it
// for production, `vite preview` serves dist/ with the app's COOP/COEP headers, and the browser
// (any ENGINE) clicks through it: todos on OPFS (through the package's proxy worker) survive a
// reload, the app's own worker's OPFS store works (IndexedDB, both, where OPFS cannot hold one).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, test } from 'node:test';
import { build, createLogger, preview } from 'vite';
import { fill, innerText, launch, OPFS_GOT, openPage, repoRoot, TIMEOUT } from './harness.mjs';
import { readmeBlock } from '../js/fixtures/readme.mjs';

const example = join(repoRoot, 'examples/vite-app');
const tmp = mkdtempSync(join(tmpdir(), 'ppdb-vite-'));
const app = join(tmp, 'app');

let server, browser, page;

/** A Vite logger that also keeps every warning (and error) it prints. */
function recordingLogger(into) {
  const logger = createLogger('warn');
  for (const level of ['warn', 'warnOnce', 'error']) {
    const print = logger[level].bind(logger);
    logger[level] = (message, options) => {
      into.push(message);
      print(message, options);
    };
  }
  return logger;
}
const appWarnings = [];

before(async () => {
  // The package as published: `--ignore-scripts` skips `prepack` (the wasm is already built).
  const tarball = execFileSync('npm', ['pack', '--ignore-scripts', '--pack-destination', tmp, '--silent'], {
    cwd: repoRoot,
    encoding: 'utf8',
  }).trim().split('\n').pop();

  // A copy of the app whose `ppdb` dependency is that tarball instead of the repo folder. Vite
  // itself is the repo's (imported above), so only the tarball (and its dependencies, from npm's
  // cache) gets installed.
  cpSync(example, app, {
    recursive: true,
    filter: (src) => !['node_modules', 'dist', 'package-lock.json'].includes(basename(src)),
  });
  const manifest = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8'));
  manifest.dependencies.ppdb = `file:../${tarball}`;
  delete manifest.devDependencies;
  writeFileSync(join(app, 'package.json'), JSON.stringify(manifest, null, 2));
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts', '--prefer-offline'], {
    cwd: app,
    stdio: 'pipe',
  });

  await build({ root: app, logLevel: 'warn', customLogger: recordingLogger(appWarnings) });
  // Port 0: any free port. The app's vite.config.js adds COOP/COEP to every response.
  server = await preview({ root: app, logLevel: 'warn', preview: { host: '127.0.0.1', port: 0, strictPort: true } });
  browser = await launch();
}, { timeout: 180_000 });

after(async () => {
  await browser?.close();
  await server?.close();
  rmSync(tmp, { recursive: true, force: true });
});

test('the sample app builds without a warning', () => {
  assert.deepEqual(appWarnings, []);
});

test("the README's browser quick start, as pasted into a Vite page with no config: builds without a warning, keeps its todos", { timeout: 120_000 }, async () => {
  // As `npm create vite -- --template vanilla` lays it out: index.html loading /src/main.js.
  const root = join(app, 'quick-start');
  mkdirSync(join(root, 'src'), { recursive: true });
  writeFileSync(join(root, 'index.html'), '<!doctype html>\n<html><body><script type="module" src="/src/main.js"></script></body></html>\n');
  writeFileSync(join(root, 'src/main.js'), readmeBlock('**Browser page**'));
  const warnings = [];
  await build({ root, configFile: false, logLevel: 'warn', customLogger: recordingLogger(warnings) });
  assert.deepEqual(warnings, []);
  const assets = readdirSync(join(root, 'dist/assets'));
  assert.equal(assets.filter((f) => f.endsWith('.wasm')).length, 2, `both wasm builds: ${assets.join(', ')}`);
  // The Node-only code stays out: the page's build has pkg/node/absent.js, never a node: module.
  const js = assets.filter((f) => f.endsWith('.js')).map((f) => readFileSync(join(root, 'dist/assets', f), 'utf8')).join('\n');
  assert.ok(!/node:(fs|path|worker_threads)/.test(js), 'a node: import in the browser build');

  const site = await preview({ root, configFile: false, logLevel: 'warn', preview: { host: '127.0.0.1', port: 0, strictPort: true } });
  const quick = await openPage(browser.context, site.resolvedUrls.local[0]);
  try {
    await quick.waitForFunction(() => document.querySelector('#title'));
    for (const title of ['write docs', 'ship it']) {
      // (typed, then Enter: the field's change event)
      await fill(quick, '#title', title);
      await quick.waitForFunction((n) => document.querySelectorAll('li').length === n, title === 'ship it' ? 2 : 1);
    }
    await quick.reload();
    await quick.waitForFunction(() => document.querySelectorAll('li').length === 2);
    const items = await quick.evaluate(() => [...document.querySelectorAll('li')].map((li) => li.textContent));
    assert.deepEqual(items.map((text) => text.split(' (')[0]), ['write docs', 'ship it']);
    assert.ok(items.every((text) => /\(.+\)$/.test(text)), `each todo shows the Date it was added: ${items}`);
  } finally {
    await quick.close();
    await site.close();
  }
});

test('the build emits both wasm builds as assets, byte for byte', () => {
  const assets = join(app, 'dist/assets');
  const wasm = readdirSync(assets).filter((f) => f.endsWith('.wasm'));
  const contents = new Set(wasm.map((f) => readFileSync(join(assets, f)).toString('base64')));
  const installed = join(app, 'node_modules/ppdb/pkg/wasm');
  for (const flavour of ['single', 'threaded']) {
    const expected = readFileSync(join(installed, flavour, 'ppdb_bg.wasm')).toString('base64');
    assert.ok(contents.has(expected), `no asset in ${wasm.join(', ')} is the ${flavour} build`);
  }
  // The app's worker and the package's proxy worker are chunks of their own (ES module workers).
  assert.ok(readdirSync(assets).some((f) => /^worker-.*\.js$/.test(f)), 'no worker chunk in dist/assets');
  assert.ok(readdirSync(assets).some((f) => /^proxy-worker-.*\.js$/.test(f)), 'no proxy worker chunk in dist/assets');
});

const items = () => page.evaluate(() => [...document.querySelectorAll('#items li span')].map((s) => s.textContent));
const workerResult = async () => {
  await page.waitForFunction(() => document.querySelector('#worker[data-result]'));
  return JSON.parse(await page.evaluate(() => document.querySelector('#worker').dataset.result));
};
async function ready() {
  await page.waitForFunction(() => document.body.dataset.ready || document.querySelector('#status.error'));
  assert.equal(await page.evaluate(() => document.body.dataset.ready), 'true', await innerText(page, '#status'));
}

test('todos are added, deleted and still there after a reload; the page and the worker use OPFS', { timeout: 60_000 }, async () => {
  page = await openPage(browser.context, server.resolvedUrls.local[0]);
  await ready();
  // A page's 'auto' storage is OPFS, run in the package's proxy worker (emitted by Vite as a
  // chunk of its own), on the single build even though the app is cross-origin isolated.
  assert.equal(await innerText(page, '#storage'), OPFS_GOT);
  assert.equal(await innerText(page, '#flavour'), 'single');
  assert.deepEqual(await items(), []);

  for (const [n, text] of ['buy milk', 'call Ada', 'write docs ✓'].entries()) {
    await fill(page, '#text', text);
    await page.click('#add button');
    await page.waitForFunction((count) => document.querySelectorAll('#items li').length === count, n + 1);
  }
  assert.deepEqual(await items(), ['buy milk', 'call Ada', 'write docs ✓']);

  await page.click('#items li:nth-child(2) button.delete');
  await page.waitForFunction(() => document.querySelectorAll('#items li').length === 2);
  assert.deepEqual(await items(), ['buy milk', 'write docs ✓']);

  assert.deepEqual(await workerResult(), { ok: true, storage: OPFS_GOT, flavour: 'single', runs: 1, count: 100 });

  await page.reload();
  await ready();
  assert.deepEqual(await items(), ['buy milk', 'write docs ✓']);
  // The worker's OPFS store kept its run counter across the reload, and the worker ran once
  // per load: in WebKit, whose module workers ran their entry again when a chunk split off
  // them imported from it, each load ran it twice (3 here) until its entry only imported it.
  assert.deepEqual(await workerResult(), { ok: true, storage: OPFS_GOT, flavour: 'single', runs: 2, count: 100 });
});

test("a second tab's todo shows in the first without a reload (db.watch in the package's worker)", { timeout: 60_000 }, async () => {
  // The watch loads ppdb's watch chunk in the proxy worker; in WebKit that chunk evaluated the
  // worker's entry again until the entry only imported the worker side, and every add hung.
  const second = await openPage(browser.context, server.resolvedUrls.local[0]);
  try {
    await second.waitForFunction(() => document.body.dataset.ready || document.querySelector('#status.error'));
    assert.deepEqual(await second.evaluate(() => [...document.querySelectorAll('#items li span')].map((s) => s.textContent)), ['buy milk', 'write docs ✓']);
    await fill(second, '#text', 'from the second tab');
    await second.click('#add button');
    await page.waitForFunction(() => document.querySelectorAll('#items li').length === 3);
    assert.deepEqual(await items(), ['buy milk', 'write docs ✓', 'from the second tab']);
    await page.click('#items li:nth-child(1) button.delete');
    await second.waitForFunction(() => document.querySelectorAll('#items li').length === 2);
    assert.equal(await innerText(page, '#status').then((text) => text.includes('ERROR') || /^[A-Z_]+:/.test(text)), false);
  } finally {
    await second.close();
  }
});
