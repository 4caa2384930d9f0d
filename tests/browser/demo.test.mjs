// The demo page at / driven like a person would: type, click, read what it shows.
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { launch, openPage, repoRoot, serve, TIMEOUT } from './harness.mjs';

const SCREENSHOT = new URL('./screenshots/demo.png', import.meta.url);

let server, browser, page;

before(async () => {
  server = await serve({ root: repoRoot, port: 0 });
  browser = await launch();
  page = await openPage(browser.context, server.url);
  // app.js marks the body ready once open() resolved, or shows the error in #status.
  await page.waitForFunction(() => document.body.dataset.ready || document.querySelector('#status.error'));
});

after(async () => {
  await browser?.close();
  await server?.close();
});

const text = (selector) => page.locator(selector).innerText();
const rows = () =>
  page.$$eval('#entries tr', (trs) => trs.map((tr) => Array.from(tr.cells, (td) => td.textContent)));

async function putEntry(key, value) {
  await page.fill('#key', key);
  await page.fill('#value', value);
  await page.click('#put');
  await page.waitForFunction((k) => document.querySelector('#status').textContent.includes(k), key);
}

test('the demo opens the database in the threaded flavour on an isolated page', { timeout: TIMEOUT }, async () => {
  assert.equal(await page.evaluate(() => document.body.dataset.ready), 'true', `status: ${await text('#status')}`);
  assert.equal(await text('#flavour'), 'threaded');
  assert.equal(await text('#isolated'), 'true');
});

test('put, get, list and delete work through the page controls', { timeout: TIMEOUT }, async () => {
  await putEntry('greeting', 'hello world');
  await putEntry('other', 'something else');

  // Get fills the value field and reports the value in the status line.
  await page.fill('#key', 'greeting');
  await page.fill('#value', '');
  await page.click('#get');
  await page.waitForFunction(() => document.querySelector('#value').value !== '');
  assert.equal(await page.inputValue('#value'), 'hello world');
  assert.match(await text('#status'), /hello world/);

  await page.fill('#prefix', '');
  await page.click('#list');
  await page.waitForFunction(() => document.querySelectorAll('#entries tr').length === 2);
  assert.deepEqual(await rows(), [['greeting', 'hello world'], ['other', 'something else']]);
  await mkdir(new URL('./', SCREENSHOT), { recursive: true });
  await page.screenshot({ path: fileURLToPath(SCREENSHOT), fullPage: true });

  await page.fill('#prefix', 'gr');
  await page.click('#list');
  await page.waitForFunction(() => document.querySelectorAll('#entries tr').length === 1);
  assert.deepEqual(await rows(), [['greeting', 'hello world']]);

  await page.fill('#key', 'greeting');
  await page.click('#del');
  await page.waitForFunction(() => /deleted/i.test(document.querySelector('#status').textContent));
  await page.fill('#prefix', '');
  await page.click('#list');
  await page.waitForFunction(() => document.querySelectorAll('#entries tr').length === 1);
  assert.deepEqual(await rows(), [['other', 'something else']]);

  await page.click('#get');
  await page.waitForFunction(() => /not found/i.test(document.querySelector('#status').textContent));
  assert.equal(await page.inputValue('#value'), '');

});

test('an error shows in the status line with its code', { timeout: TIMEOUT }, async () => {
  await page.fill('#key', '');
  await page.fill('#value', 'no key');
  await page.click('#put');
  await page.waitForSelector('#status.error');
  assert.equal(await page.getAttribute('#status', 'data-code'), 'INVALID_ARGUMENT');
  assert.match(await text('#status'), /^INVALID_ARGUMENT: /);
});
