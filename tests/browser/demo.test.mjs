// The demo page at / driven like a person would, in one walkthrough: import the sample,
// put and delete, search by prefix and range with paging, export, watch the engine's
// metrics, trigger an alert, read the engine's log, crash the engine's worker and recover,
// and run the benchmark panel. The steps share one page and run in order.
//
// The page is driven through what every engine's driver has (see ENGINE in harness.mjs):
// clicks are the driver's (real input), and the rest is read and set in the page, as
// Playwright's fill and selectOption do.
//
// Screenshots go to tests/browser/screenshots/ (git-ignored). With PPDB_DOCS_SCREENSHOT=1
// the final whole-page screenshot is also written to docs/demo.png, the README's picture.
import assert from 'node:assert/strict';
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ENGINE, fill as fillIn, innerText, launch, OPFS_GOT, openPage, repoRoot, serve, TIMEOUT } from './harness.mjs';

const SCREENSHOTS = new URL('./screenshots/', import.meta.url);
const DOCS_SCREENSHOT = new URL('../../docs/demo.png', import.meta.url);

// The sample dataset, as the page will import it.
const sample = (await readFile(new URL('../../www/data/sample.ndjson', import.meta.url), 'utf8'))
  .trim()
  .split('\n')
  .slice(1)
  .map((line) => JSON.parse(line));
const sampleKeys = sample.map((r) => r.key).sort();
const sampleValue = new Map(sample.map((r) => [r.key, r.value]));

let server, browser, page;

before(async () => {
  server = await serve({ root: repoRoot, port: 0 });
  browser = await launch();
  page = await openPage(browser.context, server.url);
  // app.js marks the body ready once the engine worker opened the store, or shows the error.
  await page.waitForFunction(() => document.body.dataset.ready || document.querySelector('#status.error'));
  await mkdir(SCREENSHOTS, { recursive: true });
});

after(async () => {
  await browser?.close();
  await server?.close();
});

/** The text of the first element `selector` finds in the demo page. */
const text = (selector) => innerText(page, selector);
const attribute = (selector, name) => page.evaluate(([selector, name]) => document.querySelector(selector).getAttribute(name), [selector, name]);
const property = (selector, name) => page.evaluate(([selector, name]) => document.querySelector(selector)[name], [selector, name]);
/** A click of the driver's, at the element (Playwright, Puppeteer and webkit.mjs have page.click). */
const click = (selector, where = page) => where.click(selector);
const fill = (selector, value, where = page) => fillIn(where, selector, value);
const selectOption = fill;
/** Clicks a checkbox or radio button unless it already is as asked. */
const setChecked = async (selector, checked) => {
  if ((await property(selector, 'checked')) !== checked) await click(selector);
};
const waitForSelector = (selector) => page.waitForFunction((selector) => document.querySelector(selector), selector);
/** Waits for a row of `rows` whose text has `hasText`; resolves to its cells' texts. */
const rowWith = async (rows, hasText) => {
  await page.waitForFunction(([rows, hasText]) => [...document.querySelectorAll(rows)].some((row) => row.innerText.includes(hasText)), [rows, hasText]);
  return page.evaluate(([rows, hasText]) => [...[...document.querySelectorAll(rows)].find((row) => row.innerText.includes(hasText)).cells].map((td) => td.innerText), [rows, hasText]);
};
const count = async () => Number((await text('#count')).replaceAll(',', ''));
/** A figure of the page as a number ('6,301' → 6301; NaN before the first reading). */
const figure = async (selector) => Number((await text(selector)).replaceAll(',', ''));
/** Waits until the figure at `selector` reaches `n` (the metrics are read every second). */
const figureReaches = (selector, n) =>
  page.waitForFunction(([selector, n]) => Number(document.querySelector(selector).textContent.replaceAll(',', '')) >= n, [selector, n]);
const PUTS = '[data-engine="puts"]';
const keysShown = () => page.evaluate(() => [...document.querySelectorAll('#entries tr button.link')].map((b) => b.textContent));
const screenshot = (name) => page.screenshot({ path: fileURLToPath(new URL(`${name}.png`, SCREENSHOTS)), fullPage: true });

/** How many pixels of a canvas are painted. */
const painted = (id) =>
  page.evaluate((id) => {
    const canvas = document.getElementById(id);
    const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let n = 0;
    for (let i = 3; i < pixels.length; i += 4) if (pixels[i] !== 0) n++;
    return n;
  }, id);

async function search({ prefix, gte, lt, reverse = false, size = '20' }) {
  await setChecked(`input[name="mode"][value="${prefix === undefined ? 'range' : 'prefix'}"]`, true);
  if (prefix !== undefined) await fill('#prefix', prefix);
  else {
    await fill('#gte', gte ?? '');
    await fill('#lt', lt ?? '');
  }
  await selectOption('#page-size', size);
  await setChecked('#reverse', reverse);
  return turnPage('#search');
}

/**
 * Clicks a button of the key browser and resolves to the keys of the page it lists (once
 * no listing is under way: the page may have been reloading after writes, the change feed's
 * follow-up, when the button was clicked).
 */
async function turnPage(button) {
  const loads = await attribute('#entries', 'data-loads');
  await click(button);
  await page.waitForFunction((n) => {
    const { dataset } = document.querySelector('#entries');
    return dataset.loads !== n && dataset.pending === '0';
  }, loads);
  return keysShown();
}

test('the page opens its store in the engine worker on OPFS (IndexedDB where OPFS cannot hold one), isolated, on the single build', { timeout: TIMEOUT }, async () => {
  assert.equal(await page.evaluate(() => document.body.dataset.ready), 'true', `status: ${await text('#status')}`);
  assert.equal(await text('#storage'), OPFS_GOT);
  assert.equal(await text('#flavour'), 'single');
  assert.equal(await text('#isolated'), 'true');
  assert.equal(await count(), 0);
  // The engine's own log, forwarded by the worker, starts with the store's opening.
  const [time, level, module, message, fields] = await rowWith('#log tr.level-info', 'opened a store');
  assert.match(time, /^\d\d:\d\d:\d\d$/);
  assert.equal(level, 'info');
  assert.match(module, /^ppdb/);
  assert.equal(message, 'opened a store');
  assert.match(fields, /\brecords=0\b/);
  // A new store has counted nothing yet.
  await page.waitForFunction((selector) => document.querySelector(selector).textContent !== '–', PUTS);
  assert.equal(await figure(PUTS), 0);
});

test('the sample imports with a progress bar that reaches 100%, and the store count matches', { timeout: TIMEOUT }, async () => {
  // Every value the percentage shows, in order.
  await page.evaluate(() => {
    window.percents = [];
    new MutationObserver(() => window.percents.push(document.querySelector('#import-percent').textContent)).observe(
      document.querySelector('#import-percent'),
      { childList: true, characterData: true, subtree: true },
    );
  });
  const puts = await figure(PUTS);
  await click('#import-sample');
  await page.waitForFunction(() => document.querySelector('#import-status').dataset.count || document.querySelector('#import-status.error'));
  assert.equal(await attribute('#import-status', 'data-records'), String(sample.length), await text('#import-status'));
  assert.equal(await attribute('#import-status', 'data-count'), String(sample.length));
  assert.equal(await property('#import-progress', 'value'), 100);
  const percents = (await page.evaluate(() => window.percents)).map((p) => Number.parseInt(p, 10));
  assert.equal(percents.at(-1), 100);
  assert.ok(percents.every((p, i) => i === 0 || p >= percents[i - 1]), `the bar went backwards: ${percents}`);
  assert.equal(await count(), sample.length);
  assert.match(await text('#import-status'), /Imported 6,300 records/);
  // Each record of the import's batches is a put the engine counted.
  await figureReaches(PUTS, puts + sample.length);
});

test('put and delete through the forms; invalid input shows the PpdbError code', { timeout: TIMEOUT }, async () => {
  const [puts, deletes] = [await figure(PUTS), await figure('[data-engine="deletes"]')];
  await fill('#put-key', 'note:hello');
  await fill('#put-value', 'hello from the demo test');
  await click('#put');
  await page.waitForFunction(() => /Put "note:hello"/.test(document.querySelector('#put-message').textContent));
  await page.waitForFunction((n) => document.querySelector('#count').textContent === n, (sample.length + 1).toLocaleString('en'));
  assert.deepEqual(await search({ prefix: 'note:' }), ['note:hello']);
  assert.equal(await text('#entries td.value'), 'hello from the demo test');
  assert.equal(await text('#entries td.num'), '24 B');

  // A key over the 16 KiB limit is refused by the package, not the page.
  for (const [key, message] of [['k'.repeat(17 * 1024), /key is 17408 bytes/]]) {
    await fill('#put-key', key);
    await click('#put');
    await waitForSelector('#put-message.error');
    assert.equal(await attribute('#put-message', 'data-code'), 'INVALID_ARGUMENT');
    assert.match(await text('#put-message'), /^INVALID_ARGUMENT: /);
    assert.match(await text('#put-message'), message);
    assert.equal(await attribute('#status', 'data-code'), 'INVALID_ARGUMENT');
    await fill('#put-key', 'note:hello');
    await click('#put'); // a good put (the same key again) clears the error
    await waitForSelector('#put-message:not(.error)');
  }

  // Clicking a key fills both forms; delete removes it.
  await search({ prefix: 'note:' });
  await fill('#put-key', '');
  await fill('#put-value', '');
  await click('#entries button.link');
  await page.waitForFunction(() => document.querySelector('#del-key').value === 'note:hello');
  assert.equal(await property('#put-key', 'value'), 'note:hello');
  assert.equal(await property('#put-value', 'value'), 'hello from the demo test');
  await click('#del');
  await page.waitForFunction(() => /Deleted "note:hello"/.test(document.querySelector('#del-message').textContent));
  await page.waitForFunction(() => /no keys/.test(document.querySelector('#page-info').textContent));
  await page.waitForFunction((n) => document.querySelector('#count').textContent === n, sample.length.toLocaleString('en'));
  // The engine counted the 2 good puts (at least) and the delete.
  await figureReaches(PUTS, puts + 2);
  await figureReaches('[data-engine="deletes"]', deletes + 1);
});

test('prefix and range searches, forward and reverse, page by page', { timeout: TIMEOUT }, async () => {
  const poetry = sampleKeys.filter((k) => k.startsWith('genre:poetry:'));
  assert.ok(poetry.length > 40);

  // Prefix: pages of 20, each starting after the last key of the one before.
  assert.deepEqual(await search({ prefix: 'genre:poetry:' }), poetry.slice(0, 20));
  assert.equal(await property('#prev', 'disabled'), true);
  assert.deepEqual(await turnPage('#next'), poetry.slice(20, 40));
  await screenshot('demo-browse');
  assert.deepEqual(await turnPage('#next'), poetry.slice(40, 60));
  assert.deepEqual(await turnPage('#prev'), poetry.slice(20, 40));
  assert.deepEqual(await turnPage('#prev'), poetry.slice(0, 20));
  assert.equal(await property('#prev', 'disabled'), true);
  // Values are the stored text (truncated when long) with their size in bytes.
  const first = await page.evaluate(() => [...document.querySelector('#entries tr').cells].map((td) => td.innerText));
  assert.deepEqual(first, [poetry[0], sampleValue.get(poetry[0]), `${Buffer.byteLength(sampleValue.get(poetry[0]))} B`]);

  // Prefix, reverse, pages of 10.
  const reversed = poetry.toReversed();
  assert.deepEqual(await search({ prefix: 'genre:poetry:', reverse: true, size: '10' }), reversed.slice(0, 10));
  assert.deepEqual(await turnPage('#next'), reversed.slice(10, 20));
  assert.deepEqual(await turnPage('#prev'), reversed.slice(0, 10));

  // Range [gte, lt): book:00100 to book:00124, in pages of 10 up to the end.
  const range = sampleKeys.filter((k) => k >= 'book:00100' && k < 'book:00125');
  assert.equal(range.length, 25);
  assert.deepEqual(await search({ gte: 'book:00100', lt: 'book:00125', size: '10' }), range.slice(0, 10));
  assert.deepEqual(await turnPage('#next'), range.slice(10, 20));
  assert.deepEqual(await turnPage('#next'), range.slice(20));
  assert.equal(await property('#next', 'disabled'), true);
  assert.match(await text('#page-info'), /the end/);
  assert.deepEqual(await turnPage('#prev'), range.slice(10, 20));

  // The same range in reverse.
  assert.deepEqual(await search({ gte: 'book:00100', lt: 'book:00125', reverse: true, size: '10' }), range.toReversed().slice(0, 10));
  assert.deepEqual(await turnPage('#next'), range.toReversed().slice(10, 20));
  // Long values are cut, with their full size shown.
  const book = await search({ gte: 'book:00100', lt: 'book:00101' });
  assert.deepEqual(book, ['book:00100']);
});

test('open in two tabs: they share the store, and a write in one appears in the other\'s live changes', { timeout: TIMEOUT }, async () => {
  const second = await openPage(browser.context, server.url);
  try {
    await second.waitForFunction(() => document.body.dataset.ready || document.querySelector('#status.error'));
    assert.equal(await text('#role'), 'owner');
    assert.equal(await innerText(second, '#role'), 'client');
    const changeShown = (where, key) => where.waitForFunction((key) => [...document.querySelectorAll('#changes td')].some((td) => td.textContent === key), key);
    const put = async (where, key) => {
      await fill('#put-key', key, where);
      await fill('#put-value', `written in ${key}`, where);
      await click('#put', where);
      await where.waitForFunction((key) => document.querySelector('#put-message').textContent.includes(key), key);
    };
    await put(second, 'tab:two');
    await changeShown(page, 'tab:two');
    await changeShown(second, 'tab:two');
    await put(page, 'tab:one');
    await changeShown(second, 'tab:one');
    // The other tab's key count follows the writes.
    await second.waitForFunction((n) => document.querySelector('#count').textContent === n, (sample.length + 2).toLocaleString('en'));
    for (const key of ['tab:one', 'tab:two']) {
      await fill('#del-key', key, second);
      await click('#del', second);
      await second.waitForFunction((key) => document.querySelector('#del-message').textContent.includes(key), key);
    }
    await page.waitForFunction((n) => document.querySelector('#count').textContent === n, sample.length.toLocaleString('en'));
    assert.match(await text('#changes tr'), /del\s+tab:two/);
  } finally {
    await second.close();
  }
});

/**
 * Clicks Export; resolves to the file's name and text. Chromium's: the download itself
 * (Playwright). Elsewhere the drivers hand over no download, so: what the page gives the
 * browser to save (its link's file name, and the blob it points at).
 */
async function exported() {
  if (ENGINE === 'chromium') {
    const [download] = await Promise.all([page.waitForEvent('download'), click('#export')]);
    return { name: download.suggestedFilename(), text: await readFile(await download.path(), 'utf8') };
  }
  await page.evaluate(() => {
    const { click } = HTMLAnchorElement.prototype;
    HTMLAnchorElement.prototype.click = function () {
      const name = this.download;
      if (name) fetch(this.href).then(async (response) => (window.saved = { name, text: await response.text() }));
      return click.call(this);
    };
  });
  await click('#export');
  await page.waitForFunction(() => window.saved);
  return page.evaluate(() => window.saved);
}

test('export downloads the whole store as NDJSON', { timeout: TIMEOUT }, async () => {
  const download = await exported();
  assert.match(download.name, /^ppdb-demo-.*\.ndjson$/);
  const lines = download.text.trim().split('\n').map((line) => JSON.parse(line));
  assert.deepEqual(lines[0], { ppdb: 'export', version: 1 });
  const records = lines.slice(1);
  assert.equal(records.length, await count());
  assert.deepEqual(records.map((r) => r.key), sampleKeys);
  assert.ok(records.every((r) => r.value === sampleValue.get(r.key)));
  await page.waitForFunction(() => /Exported 6,300 records/.test(document.querySelector('#export-status').textContent));
});

test('the live metrics and the Engine panel show the engine\'s own numbers', { timeout: TIMEOUT }, async () => {
  await setChecked('#workload', true);
  // Figures are per second: wait for a second with writes in it.
  await page.waitForFunction(() => Number(document.querySelector('#m-writes').textContent.replaceAll(',', '')) > 0);
  await page.waitForFunction(() => Number(document.querySelector('#m-reads').textContent.replaceAll(',', '')) > 0);
  const percentiles = /^[\d.]+ ms \/ [\d.]+ ms \/ [\d.]+ ms$/;
  await page.waitForFunction(() => /ms/.test(document.querySelector('#m-get-latency').textContent));
  assert.match(await text('#m-put-latency'), percentiles);
  assert.match(await text('#m-get-latency'), percentiles);
  assert.match(await text('#m-memory'), /^[\d.]+ MiB$/);
  assert.match(await text('#m-memtables'), /^[\d.]+ of 256 MiB$/);
  assert.match(await text('#m-tables'), /^\d+( · \d+)+$/);
  // The import and the workload filled memtables: the engine switched and flushed them,
  // and logged it.
  await figureReaches('[data-engine="memtableSwitches"]', 1);
  await figureReaches('[data-engine="flushes"]', 1);
  await rowWith('#log tr', 'flushed a memtable to level 0');
  await setChecked('#workload', false);
  assert.match(await text('[data-engine="cacheHitRate"]'), /^[\d.]+%$/);
  for (const name of ['compressionRatio', 'writeAmplification', 'spaceAmplification']) {
    assert.match(await text(`[data-engine="${name}"]`), /^\d+\.\d\d$/, name);
  }
  assert.match(await text('[data-engine="walBytes"]'), /^[\d.]+ (KiB|MiB)$/);
  for (const id of ['chart-throughput', 'chart-latency', 'chart-memory', 'chart-tables']) {
    assert.ok((await painted(id)) > 1000, `${id} is blank`);
  }

  // The Prometheus text, read when the disclosure opens: the same put counter.
  await click('#prometheus-details summary');
  await page.waitForFunction(() => document.querySelector('#prometheus').textContent.includes('ppdb_operations_total{op="put"}'));
  const prometheusPuts = Number((await text('#prometheus')).match(/^ppdb_operations_total\{op="put"\} (\d+)$/m)[1]);
  assert.ok(prometheusPuts >= sample.length + 3, `ppdb_operations_total{op="put"} ${prometheusPuts}`);
});

test('"Trigger an alert" adds an always-true rule, and its alert appears in the list', { timeout: TIMEOUT }, async () => {
  await click('#trigger-alert');
  const [time, rule, value, threshold] = await rowWith('#alerts tr', 'demo alert');
  assert.match(time, /^\d\d:\d\d:\d\d$/);
  assert.equal(rule, 'demo alert');
  assert.ok(Number(value) < 2, value);
  assert.equal(threshold, '2');
});

test('crash and recover: the worker is killed mid-write and every acknowledged write is there', { timeout: TIMEOUT }, async () => {
  await click('#crash');
  await waitForSelector('#crash-result:not([hidden]), #crash-status.error');
  assert.equal(await attribute('#crash-result', 'data-intact'), 'true', await text('#crash-status'));
  const acked = Number((await text('#crash-acked')).replaceAll(',', ''));
  assert.ok(acked > 0);
  assert.equal(await text('#crash-present'), `${await text('#crash-acked')} ✓`);
  assert.match(await text('#crash-status'), /all [\d,]+ acknowledged writes are there/);
  // The reopened store replayed what its log held (the rest is in tables).
  assert.ok(Number((await text('#crash-records')).replaceAll(',', '')) > 0);
  assert.ok(Number(await text('#crash-segments')) >= 1);
  assert.match(await text('#crash-bytes'), /\d/);
  assert.match(await text('#crash-millis'), /^[\d.]+ ms$/);
  assert.match(await text('#crash-dropped'), /nothing|torn tail/);
  // The page goes on with the new worker, and the data from before the crash is there.
  assert.deepEqual(await search({ gte: 'book:00100', lt: 'book:00103' }), ['book:00100', 'book:00101', 'book:00102']);
  assert.ok((await count()) >= sample.length + acked);
  await screenshot('demo-crash');
});

test('the benchmark panel runs every store on small sizes and draws the chart', { timeout: 60_000 }, async () => {
  await selectOption('#bench-n', '100');
  const started = Date.now();
  await click('#bench-run');
  try {
    await page.waitForFunction(() => /^Done/.test(document.querySelector('#bench-status').textContent), null, { timeout: 50_000 });
  } catch (err) {
    // Say how far it got: the status names the store and workload running.
    throw new Error(`the benchmark did not finish: ${await text('#bench-status')} (${err.message})`);
  }
  const cells = await page.evaluate(() => [...document.querySelectorAll('#bench-table td')].map((td) => [`${td.dataset.peer}/${td.dataset.workload}`, td.textContent, td.title]));
  assert.equal(cells.length, 18);
  // Where OPFS cannot hold a store (WebKitGTK: see OPFS_GOT), its two stores fail, each
  // saying why, and the others run.
  const unavailable = OPFS_GOT === 'opfs' ? [] : ['ppdb OPFS', 'sqlite-wasm OPFS'];
  for (const [name, value, why] of cells) {
    if (unavailable.includes(name.split('/')[0])) {
      assert.equal(value, 'failed', name);
      assert.ok(why.length > 0, `${name} says why it failed`);
      if (name.startsWith('ppdb')) assert.match(why, /^UNSUPPORTED: /);
    } else assert.ok(Number(value.replaceAll(',', '')) > 0, `${name}: ${value} ${why}`);
  }
  assert.deepEqual(
    [...new Set(cells.map(([name]) => name.split('/')[0]))],
    ['ppdb OPFS', 'ppdb IndexedDB', 'IndexedDB', 'idb-keyval', 'Dexie', 'sqlite-wasm OPFS'],
  );
  if (unavailable.length) assert.match(await text('#bench-status'), new RegExp(`failed: ${unavailable.join(', ')} `));
  assert.equal(await attribute('#bench-chart', 'data-bars'), String(18 - 3 * unavailable.length));
  assert.ok((await painted('bench-chart')) > 5000, 'the benchmark chart is blank');
  console.log(`benchmark panel, n = 100: ${((Date.now() - started) / 1000).toFixed(1)} s`);
});

test('a screenshot of the whole page, with the background workload running', { timeout: TIMEOUT }, async () => {
  await search({ prefix: 'book:', size: '10' });
  await setChecked('#workload', true);
  await new Promise((resolve) => setTimeout(resolve, 4000)); // a few seconds of charts
  await screenshot('demo');
  await setChecked('#workload', false);
  if (process.env.PPDB_DOCS_SCREENSHOT === '1') await copyFile(new URL('demo.png', SCREENSHOTS), DOCS_SCREENSHOT);
});
