// WebKit for the browser tests (PPDB_BROWSER=webkit): Debian's WebKitGTK (webkit-browser.py,
// a browser of a few lines on its GObject API) under WebKitWebDriver, on a virtual X display
// (Xvfb), spoken to as plain W3C WebDriver through selenium-webdriver. Pages are windows of
// one session (one browser, one origin's storage), with what the tests use of Playwright's
// page: goto, evaluate(fn, arg), waitForFunction, click, screenshot, reload, close.
//
// Debian's MiniBrowser would do, but runs every automation session on an ephemeral data
// store, where WebKit refuses OPFS as Safari does in a private window; webkit-browser.py
// keeps the session's data in a profile folder, or in memory with `{ private: true }`, and
// turns on the storage features Safari has on and WebKitGTK ships off.
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { Builder, By } from 'selenium-webdriver';

const BROWSER = fileURLToPath(new URL('./webkit-browser.py', import.meta.url));

/** A TCP port nobody listens on (for the driver). */
async function freePort() {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  server.close();
  await once(server, 'close');
  return port;
}

/** Starts Xvfb on a display it picks; resolves to { display, process }. */
async function startXvfb() {
  const xvfb = spawn('Xvfb', ['-displayfd', '1', '-screen', '0', '1280x1024x24', '-nolisten', 'tcp'], { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  for await (const chunk of xvfb.stdout) {
    out += chunk;
    if (out.includes('\n')) break;
  }
  const number = out.trim();
  if (!/^\d+$/.test(number)) throw new Error(`Xvfb did not report its display (got '${out}')`);
  return { display: `:${number}`, process: xvfb };
}

/** Waits until the driver at `url` answers /status. */
async function driverReady(url, driver) {
  for (let attempt = 0; attempt < 100; attempt++) {
    if (driver.exitCode !== null) throw new Error(`WebKitWebDriver exited (${driver.exitCode})`);
    try {
      if ((await fetch(`${url}/status`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('WebKitWebDriver did not start');
}

/**
 * Launches WebKit through WebKitWebDriver on the profile folder `profile` (`private`: none,
 * as a private window; `quota`: each origin's storage limit in bytes); `{ context, close }`
 * as launch(), which owns the folder.
 */
export async function launchWebKit({ private: inPrivate = false, profile, quota }) {
  const processes = [];
  // Should this process end without close() (a test runner killed), the display goes with
  // it, and the browser with its display.
  const kill = () => processes.forEach((child) => child.kill());
  process.once('exit', kill);
  const stop = () => {
    kill();
    process.off('exit', kill);
  };
  try {
    const xvfb = await startXvfb();
    processes.push(xvfb.process);
    const port = await freePort();
    const driverProcess = spawn('WebKitWebDriver', [`--port=${port}`], { env: { ...process.env, DISPLAY: xvfb.display }, stdio: ['ignore', 'pipe', 'pipe'] });
    processes.push(driverProcess);
    const bindings = new Map();
    const listeners = consoleOf(driverProcess, bindings);
    const url = `http://127.0.0.1:${port}`;
    await driverReady(url, driverProcess);
    const driver = await new Builder()
      .usingServer(url)
      .withCapabilities({
        browserName: 'ppdb-webkit',
        'webkitgtk:browserOptions': {
          binary: BROWSER,
          args: ['--automation', `--data-dir=${profile}`, ...(inPrivate ? ['--private'] : []), ...(quota === undefined ? [] : [`--quota=${quota}`])],
        },
      })
      .build();
    await driver.manage().setTimeouts({ script: 10 * 60_000, pageLoad: 60_000 });
    const session = new Session(driver, await driver.getWindowHandle(), listeners, bindings);
    return {
      context: { newPage: () => session.newPage(), exposeBinding: (name, fn) => session.exposeBinding(name, fn) },
      async close() {
        try {
          await driver.quit();
        } catch {
          // the last window closed ended the session already
        } finally {
          stop();
        }
      },
    };
  } catch (err) {
    stop();
    throw err;
  }
}

/**
 * The browser writes the pages' console to its stdout, a line each ("URL:line:column:
 * CONSOLE LOG text", without the place for evaluated code). Returns the set of listeners
 * that get them, as Playwright's messages (type(), text()); nothing says which page wrote
 * a line. Lines "PPDB-BINDING [name, args]" are calls of exposed bindings (webkit-browser.py),
 * given to `bindings`' functions in the order the pages made them. PPDB_WEBKIT_LOG=1 shows
 * the rest of the driver's and the browser's output.
 */
function consoleOf(driverProcess, bindings) {
  const listeners = new Set();
  const TYPES = { LOG: 'log', INFO: 'info', DEBUG: 'debug', ERROR: 'error', WARN: 'warning' };
  // (per stream: a chunk may end inside a line)
  const reader = () => {
    let partial = '';
    return (chunk) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop();
      lines.forEach(forward);
    };
  };
  const forward = (line) => {
    if (line.startsWith('PPDB-BINDING ')) {
      const [name, args] = JSON.parse(line.slice('PPDB-BINDING '.length));
      bindings.get(name)?.(null, ...args);
      return;
    }
    const message = /^(?:\S*:\d+:\d+: )?CONSOLE (\w+) (.*)$/.exec(line);
    if (message) {
      const event = { type: () => TYPES[message[1]] ?? message[1].toLowerCase(), text: () => message[2] };
      for (const listener of listeners) listener(event);
    } else if (line && process.env.PPDB_WEBKIT_LOG) console.error('[webkit]', line);
  };
  driverProcess.stdout.on('data', reader());
  driverProcess.stderr.on('data', reader());
  return listeners;
}

/**
 * The session's windows. WebDriver drives one window at a time, so every command runs in
 * turn, in the window of the page that issued it. The first window stays blank and open
 * (the session ends with its last window), and each page is a window of its own.
 */
class Session {
  constructor(driver, firstWindow, listeners, bindings) {
    this.driver = driver;
    this.listeners = listeners;
    this.bindings = bindings;
    this.pages = new Set();
    this.home = firstWindow;
    this.current = firstWindow;
    this.queue = Promise.resolve();
  }

  /** Runs `command(driver)` after every command issued before it, in window `handle`. */
  run(handle, command) {
    const turn = this.queue.then(async () => {
      if (this.current !== handle) {
        await this.driver.switchTo().window(handle);
        this.current = handle;
      }
      return command(this.driver);
    });
    this.queue = turn.catch(() => {});
    return turn;
  }

  async newPage() {
    const handle = await this.run(this.current, async (driver) => {
      await driver.switchTo().newWindow('tab');
      return driver.getWindowHandle();
    });
    this.current = handle;
    const page = new Page(this, handle);
    this.pages.add(page);
    return page;
  }

  /**
   * Playwright's exposeBinding: `window[name](...args)` in every page (from its next load,
   * and now in those loaded) calls `fn(null, ...args)` here, with JSON arguments; the page's
   * call returns at once, as a posted message.
   */
  async exposeBinding(name, fn) {
    this.bindings.set(name, fn);
    for (const page of this.pages) if (page.loaded) await page.defineBindings();
  }
}

class Page {
  constructor(session, handle) {
    this.session = session;
    this.handle = handle;
    this.timeout = 30_000;
  }

  run(command) {
    return this.session.run(this.handle, command);
  }

  setDefaultTimeout(ms) {
    this.timeout = ms;
  }

  /** 'console': every page's messages (see consoleOf); no other event is reported. */
  on(event, listener) {
    if (event === 'console') this.session.listeners.add(listener);
  }

  async goto(url) {
    await this.run((driver) => driver.get(url));
    await this.defineBindings();
  }

  async reload() {
    await this.run((driver) => driver.navigate().refresh());
    await this.defineBindings();
  }

  /** Defines the session's bindings in the page (see Session.exposeBinding). */
  async defineBindings() {
    this.loaded = true;
    if (!this.session.bindings.size) return;
    await this.evaluate((names) => {
      for (const name of names) window[name] = (...args) => window.webkit.messageHandlers.ppdb.postMessage(JSON.stringify([name, args]));
    }, [...this.session.bindings.keys()]);
  }

  /**
   * Runs `fn(arg)` in the page and resolves to its (awaited) result, as Playwright does:
   * WebDriver's JSON would turn undefined into null and lose NaN, -0, BigInt and Dates, so the
   * page encodes those (ENCODE) and `decode` brings them back. WebDriver runs one script at a
   * time per session, so a script that waits for another page would wait for good: a call
   * not settled within a few milliseconds is left running in the page and asked for again
   * (each ask in turn with the other pages' commands).
   */
  async evaluate(fn, arg) {
    const id = `${process.pid}-${++evaluations}`;
    const start = `${ENCODE}; ${SETTLE};
      const runs = (window.__evaluations ??= new Map());
      runs.set(arguments[0], Promise.resolve().then(() => (${fn}).apply(null, arguments[1])).then((v) => ({ value: encode(v) }), (e) => ({ error: String(e?.message ?? e) })));
      return settle(arguments[0])`;
    const poll = `${SETTLE}; return settle(arguments[0])`;
    let answer = await this.run((driver) => driver.executeScript(start, id, arg === undefined ? [] : [arg]));
    while (answer === 'pending') answer = await this.run((driver) => driver.executeScript(poll, id));
    if (answer === 'gone') throw new Error('evaluate: the page navigated, closed or reloaded before the call settled');
    if (answer.error !== undefined) throw new Error(answer.error);
    return decode(JSON.parse(answer.value));
  }

  /** Polls `fn(arg)` until it returns something truthy (Playwright's signature). */
  async waitForFunction(fn, arg, options = {}) {
    const deadline = Date.now() + (options.timeout ?? this.timeout);
    for (;;) {
      const value = await this.evaluate(fn, arg);
      if (value) return value;
      if (Date.now() > deadline) throw new Error(`waitForFunction timed out: ${String(fn).slice(0, 120)}`);
      await new Promise((resolve) => setTimeout(resolve, options.polling ?? 50));
    }
  }

  /**
   * Clicks the first element `selector` finds, as WebDriver does (scrolled into view). An
   * element the page replaced between finding and clicking (a list rendered again) is found
   * again, as Playwright's click waits for the element it clicks.
   */
  click(selector) {
    return this.run(async (driver) => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await (await driver.findElement(By.css(selector))).click();
        } catch (err) {
          if (err?.name !== 'StaleElementReferenceError' || attempt === 5) throw err;
        }
      }
    });
  }

  /** Writes a PNG of the window's viewport to `path` (WebDriver's screenshot: no fullPage). */
  async screenshot({ path }) {
    await writeFile(path, Buffer.from(await this.run((driver) => driver.takeScreenshot()), 'base64'));
  }

  /** Makes the page's window the current one (WebDriver's switch to window focuses it). */
  bringToFront() {
    return this.run(() => {});
  }

  close() {
    this.session.pages.delete(this);
    return this.run(async (driver) => {
      await driver.close();
      await driver.switchTo().window(this.session.home);
      this.session.current = this.session.home;
    });
  }
}

let evaluations = 0;

/**
 * In the page: `settle(id)`, the answer of the call `id` once it settled (and forgets it),
 * 'pending' if it has not within 5 ms, 'gone' if the page has no such call.
 */
const SETTLE = `const settle = (id) => {
  const call = window.__evaluations?.get(id);
  if (!call) return 'gone';
  return Promise.race([call, new Promise((resolve) => setTimeout(() => resolve('pending'), 5))]).then((answer) => {
    if (answer !== 'pending') window.__evaluations.delete(id);
    return answer;
  });
}`;

/** In the page: `encode(value)`, JSON text with the values JSON lacks tagged. */
const ENCODE = `const encode = (value) => JSON.stringify(value, function (key, v) {
  const raw = this[key];
  if (raw === undefined) return { '\\u0000': 'undefined' };
  if (typeof raw === 'number' && (!Number.isFinite(raw) || Object.is(raw, -0))) return { '\\u0000': 'number', v: String(raw) };
  if (typeof raw === 'bigint') return { '\\u0000': 'bigint', v: String(raw) };
  if (raw instanceof Date) return { '\\u0000': 'date', v: raw.getTime() };
  return v;
})`;

/** Undoes ENCODE's tags in a parsed value. */
function decode(value) {
  if (value === null || typeof value !== 'object') return value;
  const tag = value['\u0000'];
  if (tag === 'undefined') return undefined;
  if (tag === 'number') return value.v === '-0' ? -0 : Number(value.v);
  if (tag === 'bigint') return BigInt(value.v);
  if (tag === 'date') return new Date(value.v);
  for (const key of Object.keys(value)) value[key] = decode(value[key]);
  return value;
}
