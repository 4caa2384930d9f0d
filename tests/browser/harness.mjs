// Shared setup for the browser tests: Debian's Chromium driven by playwright-core (or, with
// PPDB_BROWSER=firefox, Debian's Firefox ESR driven by puppeteer-core over WebDriver BiDi; with
// PPDB_BROWSER=webkit, Debian's WebKitGTK over W3C WebDriver: webkit.mjs), and
// the repo's static server. Page console errors, uncaught exceptions and failed requests are
// forwarded to the test output so a failing test says why.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { serve } from '../../scripts/serve.mjs';

export { serve };
export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const TIMEOUT = 30_000;
/** The browser engine the tests drive: 'chromium' (the default), 'firefox' or 'webkit'. */
export const ENGINE = process.env.PPDB_BROWSER ?? 'chromium';
/** Whether ENGINE has SharedArrayBuffer on cross-origin isolated pages (WebKitGTK 2.50 has not). */
export const SHARED_MEMORY = ENGINE !== 'webkit';
/**
 * Whether an origin's quota grows when a write needs more: WebKitGTK grants every request
 * for more space (WebKit leaves it to the app; Safari asks the user), so a quota there is
 * where an origin starts, not a limit (safety.test.mjs).
 */
export const QUOTA_GROWS = ENGINE === 'webkit';
/**
 * What the tests' OPFS stores ask for, and what they get: 'opfs'; in WebKitGTK, whose workers
 * cannot make OPFS sync access handles ('opfs' is UNSUPPORTED there: api.test.mjs), 'auto',
 * which runs the store in a worker all the same, on IndexedDB.
 */
export const OPFS_ASKED = ENGINE === 'webkit' ? 'auto' : 'opfs';
export const OPFS_GOT = ENGINE === 'webkit' ? 'indexeddb' : 'opfs';

const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Launches the headless browser (ENGINE) with a fresh profile; `close()` removes the profile
 * again. `context.newPage()` gives a page; the tests use what Playwright's and Puppeteer's
 * pages have in common (goto, evaluate with one argument, waitForFunction, reload, events).
 * `{ private: true }`: a private window instead (Chromium's incognito context, Firefox's
 * private browsing, WebKit's ephemeral session), whose storage goes with it.
 *
 * `quota(page, bytes)` limits the storage of `page`'s origin to `bytes` (undefined: the
 * browser's own limit again). Chromium's CDP changes it in place (false); Firefox and WebKit
 * read their limit at startup, so there the browser is closed and started again on the same
 * profile, with every page gone and a new `context` (true).
 */
export async function launch({ private: inPrivate = false } = {}) {
  if (ENGINE === 'chromium') return launchChromium(inPrivate);
  const profile = await mkdtemp(join(tmpdir(), `ppdb-${ENGINE}-`));
  const start = (quota) => (ENGINE === 'firefox' ? launchFirefox(inPrivate, profile, quota) : import('./webkit.mjs').then((webkit) => webkit.launchWebKit({ private: inPrivate, profile, quota })));
  const browser = { ...(await start(undefined)) };
  return {
    get context() {
      return browser.context;
    },
    async quota(_page, bytes) {
      await browser.close();
      Object.assign(browser, await start(bytes));
      return true;
    },
    async close() {
      await browser.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

async function launchChromium(inPrivate) {
  const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium';
  // (a CDP session per page, kept: an override ends with its session)
  const quota = (context) => {
    const sessions = new WeakMap();
    return async (page, bytes) => {
      if (!sessions.has(page)) sessions.set(page, await context.newCDPSession(page));
      const origin = new URL(page.url()).origin;
      await sessions.get(page).send('Storage.overrideQuotaForOrigin', bytes === undefined ? { origin } : { origin, quotaSize: bytes });
      return false;
    };
  };
  if (inPrivate) {
    const browser = await chromium.launch({ executablePath, headless: true, args: ARGS });
    const context = await browser.newContext();
    return { context, quota: quota(context), close: () => browser.close() };
  }
  const profile = await mkdtemp(join(tmpdir(), 'ppdb-chromium-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath, headless: true, args: ARGS });
  return {
    context,
    quota: quota(context),
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Debian's Firefox ESR through puppeteer-core (WebDriver BiDi), in `profile`; `quota`: the
 * temporary storage's limit in bytes (Firefox gives one origin all of a limit under 10 MiB).
 * Its pages take Playwright's `waitForFunction(fn, arg, options)`, and the context
 * Playwright's `exposeBinding(name, fn)` (on every page, opened before or after).
 */
async function launchFirefox(inPrivate, profile, quota) {
  const { default: puppeteer } = await import('puppeteer-core');
  const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: process.env.FIREFOX ?? '/usr/bin/firefox-esr',
    headless: true,
    userDataDir: profile,
    extraPrefsFirefox: {
      ...(inPrivate ? { 'browser.privatebrowsing.autostart': true } : {}),
      // (in KiB; -1, the default, when none: Firefox keeps a pref once set)
      'dom.quotaManager.temporaryStorage.fixedLimit': quota === undefined ? -1 : Math.floor(quota / 1024),
    },
  });
  const bindings = new Map();
  const pages = new Set();
  const expose = (page, name, fn) => page.exposeFunction(name, (...args) => fn(null, ...args));
  const context = {
    async newPage() {
      const page = await browser.newPage();
      for (const [name, fn] of bindings) await expose(page, name, fn);
      pages.add(page);
      page.once('close', () => pages.delete(page));
      const waitForFunction = page.waitForFunction.bind(page);
      page.waitForFunction = (fn, arg, options) => waitForFunction(fn, options ?? {}, ...(arg === undefined ? [] : [arg]));
      return page;
    },
    async exposeBinding(name, fn) {
      bindings.set(name, fn);
      for (const page of pages) await expose(page, name, fn);
    },
  };
  return { context, close: () => browser.close() };
}

/**
 * Gives `page`'s origin the permission to persist its storage, as the browser gives an
 * installed app: Chromium's `durableStorage` (CDP), Firefox's `persistent-storage`
 * (WebDriver BiDi); true once given. WebKit's driver has no way to: false.
 */
export async function grantPersistence(page, origin) {
  if (ENGINE === 'chromium') {
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Browser.grantPermissions', { origin, permissions: ['durableStorage'] });
  } else if (ENGINE === 'firefox') {
    await page.browserContext().setPermission(origin, { permission: { name: 'persistent-storage' }, state: 'granted' });
  } else return false;
  return true;
}

/**
 * Kills `page`'s renderer, the page and its workers at once, with no unload and no close
 * of anything (Chromium: CDP Page.crash); false where the engine's driver cannot. (Firefox:
 * nothing from outside tells which content process holds a tab. WebKit: its web process
 * can be terminated, but WebKitWebDriver then ends the whole session, every page with it.)
 */
export async function crashPage(page) {
  if (ENGINE !== 'chromium') return false;
  const cdp = await page.context().newCDPSession(page);
  cdp.send('Page.crash').catch(() => {}); // answered by no one: the page is gone
  return true;
}

/** The text of the first element `selector` finds in `page` (its innerText). */
export const innerText = (page, selector) => page.evaluate((selector) => document.querySelector(selector).innerText, selector);

/**
 * Sets the value of `page`'s field `selector` and tells the page (input and change events),
 * as Playwright's fill and selectOption do; in every engine's driver.
 */
export const fill = (page, selector, value) =>
  page.evaluate(([selector, value]) => {
    const field = document.querySelector(selector);
    field.value = value;
    field.dispatchEvent(new Event('input', { bubbles: true }));
    field.dispatchEvent(new Event('change', { bubbles: true }));
  }, [selector, value]);

/** Opens `url` in a new page whose problems are logged; resolves once the load event fired. */
export async function openPage(context, url) {
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT);
  const log = (...args) => console.error(`[browser ${new URL(url).pathname}]`, ...args);
  page.on('console', (msg) => {
    // ('warning' in Playwright, 'warn' in Puppeteer)
    if (['error', 'warning', 'warn'].includes(msg.type())) log(`console.${msg.type()}:`, msg.text());
  });
  page.on('pageerror', (err) => log('pageerror:', err.stack ?? err.message));
  page.on('requestfailed', (req) => log('request failed:', req.url(), req.failure()?.errorText));
  page.on('response', (res) => {
    if (res.status() >= 400) log(`HTTP ${res.status()}:`, res.url());
  });
  await page.goto(url);
  return page;
}

/**
 * Waits until a fixture page has imported ppdb (it sets `window.ppdb`, or `window.ppdbError` when
 * the import failed) and throws the page's import error so the test shows it. The page then
 * has the harness's OPFS_ASKED as a global of its own, for the code the tests run there.
 */
export async function ppdbLoaded(page) {
  await page.waitForFunction(() => window.ppdb || window.ppdbError);
  const error = await page.evaluate((asked) => {
    window.OPFS_ASKED = asked;
    return window.ppdbError;
  }, OPFS_ASKED);
  if (error) throw new Error(`importing ppdb in the page failed: ${error}`);
}

/**
 * Helpers in a page for tests/browser/fixtures/storage-worker.mjs: `startWorker()` resolves
 * to a worker once it is ready (its `acks` collect `{ ack }` messages); `ask(worker,
 * command)` resolves to its answer, `{ result }` or `{ error: { code, message } }`.
 */
export async function installStorageWorkerHelpers(page) {
  await page.evaluate(() => {
    window.startWorker = () =>
      new Promise((resolve, reject) => {
        const worker = new Worker('/tests/browser/fixtures/storage-worker.mjs', { type: 'module' });
        worker.acks = [];
        worker.onerror = (e) => reject(new Error(e.message));
        worker.onmessage = ({ data }) => {
          if (data === 'ready') resolve(worker);
          else if (data?.ack !== undefined) worker.acks.push(data.ack);
          else worker.last = data;
        };
      });
    window.ask = (worker, command) =>
      new Promise((resolve) => {
        const previous = worker.onmessage;
        worker.onmessage = (event) => {
          if (event.data?.result !== undefined || event.data?.error) {
            worker.onmessage = previous;
            resolve(event.data);
          } else previous(event);
        };
        worker.postMessage(command);
      });
  });
}

/**
 * Helpers in a page for tests/browser/fixtures/shared-worker.mjs: `spawn()` resolves to a
 * worker once it listens; `call(worker, message)` to its answer, or rejects with its
 * error; `sleep(ms)`. For its writers (each counting its acknowledged batches in `acked`,
 * one slot per writer): `stalled(acked, writers)` waits until each writer of `writers` has
 * 5 more acknowledged (15 s at most) and resolves to those that do not, as `writer w
 * stalled at n batches`; `missingBatches(db, acked, writers)` reads each writer's batches
 * in `db` and resolves to the first of each that is missing or not whole.
 */
export async function installSharedWorkerHelpers(page) {
  await page.evaluate(() => {
    window.spawn = () =>
      new Promise((resolve, reject) => {
        const worker = new Worker('/tests/browser/fixtures/shared-worker.mjs', { type: 'module' });
        worker.onmessage = () => resolve(worker);
        worker.onerror = (event) => reject(new Error(event.message ?? 'the worker failed to load'));
      });
    window.call = (worker, message) =>
      new Promise((resolve, reject) => {
        worker.onmessage = ({ data }) => (data.type === 'error' ? reject(new Error(data.error)) : resolve(data.result));
        worker.postMessage(message);
      });
    window.sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
    window.stalled = async (acked, writers) => {
      const before = writers.map((w) => Atomics.load(acked, w));
      const started = performance.now();
      const behind = () => writers.filter((w, i) => Atomics.load(acked, w) < before[i] + 5);
      while (behind().length && performance.now() - started < 15_000) await sleep(20);
      return behind().map((w) => `writer ${w} stalled at ${Atomics.load(acked, w)} batches`);
    };
    window.missingBatches = async (db, acked, writers) => {
      const missing = [];
      for (const w of writers) {
        const n = Atomics.load(acked, w);
        for (let i = 0; i < n; i++) {
          const [a, b] = await db.getMany([`w${w}-${i}-a`, `w${w}-${i}-b`]);
          if (a !== `${w}/${i}` || b !== `${w}/${i}`) {
            missing.push(`writer ${w}'s acknowledged batch ${i} of ${n}: ${a}, ${b}`);
            break;
          }
        }
      }
      return missing;
    };
  });
}

/**
 * The setup of a test file whose tests drive shared-memory workers from a fixture page
 * (`fixture`, under tests/browser/fixtures/): the repo's server, a browser, the page with
 * ppdb loaded and the helpers of installSharedWorkerHelpers. `close()` ends them.
 */
export async function openWorkersPage(fixture) {
  const server = await serve({ root: repoRoot, port: 0 });
  const browser = await launch();
  const page = await openPage(browser.context, server.url + `tests/browser/fixtures/${fixture}`);
  await ppdbLoaded(page);
  await installSharedWorkerHelpers(page);
  return {
    server,
    browser,
    page,
    async close() {
      await browser.close();
      await server.close();
    },
  };
}
