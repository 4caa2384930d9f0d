// WebKit for the browser tests (PPDB_BROWSER=webkit): Debian's WebKitGTK (webkit-browser.py,
// a browser of a few lines on its GObject API) under WebKitWebDriver, on a virtual X display
// (Xvfb), spoken to as plain W3C WebDriver through selenium-webdriver. Pages are windows of
// one session (one browser, one origin's storage), with what the tests use of Playwright's
// page: goto, evaluate(fn, arg), waitForFunction, reload, close.
//
// Debian's MiniBrowser would do, but runs every automation session on an ephemeral data
// store, where WebKit refuses OPFS as Safari does in a private window; webkit-browser.py
// keeps the session's data in a profile folder, or in memory with `{ private: true }`, and
// turns on the storage features Safari has on and WebKitGTK ships off.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { Builder } from 'selenium-webdriver';

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
 * Launches WebKit through WebKitWebDriver, with a fresh profile (`{ private: true }`: none,
 * as a private window); `{ context: { newPage }, close }` as launch().
 */
export async function launchWebKit({ private: inPrivate = false } = {}) {
  const profile = await mkdtemp(join(tmpdir(), 'ppdb-webkit-'));
  const processes = [];
  // Should this process end without close() (a test runner killed), the display goes with
  // it, and the browser with its display.
  const kill = () => processes.forEach((child) => child.kill());
  process.once('exit', kill);
  const stop = async () => {
    kill();
    process.off('exit', kill);
    await rm(profile, { recursive: true, force: true });
  };
  try {
    const xvfb = await startXvfb();
    processes.push(xvfb.process);
    const port = await freePort();
    const driverProcess = spawn('WebKitWebDriver', [`--port=${port}`], { env: { ...process.env, DISPLAY: xvfb.display }, stdio: ['ignore', 'pipe', 'pipe'] });
    processes.push(driverProcess);
    const listeners = consoleOf(driverProcess);
    const url = `http://127.0.0.1:${port}`;
    await driverReady(url, driverProcess);
    const driver = await new Builder()
      .usingServer(url)
      .withCapabilities({
        browserName: 'ppdb-webkit',
        'webkitgtk:browserOptions': { binary: BROWSER, args: ['--automation', `--data-dir=${profile}`, ...(inPrivate ? ['--private'] : [])] },
      })
      .build();
    await driver.manage().setTimeouts({ script: 10 * 60_000, pageLoad: 60_000 });
    const session = new Session(driver, await driver.getWindowHandle(), listeners);
    return {
      context: { newPage: () => session.newPage() },
      async close() {
        try {
          await driver.quit();
        } catch {
          // the last window closed ended the session already
        } finally {
          await stop();
        }
      },
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * The browser writes the pages' console to its stdout, a line each ("URL:line:column:
 * CONSOLE LOG text", without the place for evaluated code). Returns the set of listeners
 * that get them, as Playwright's messages (type(), text()); nothing says which page wrote
 * a line. PPDB_WEBKIT_LOG=1 shows the rest of the driver's and the browser's output.
 */
function consoleOf(driverProcess) {
  const listeners = new Set();
  const TYPES = { LOG: 'log', INFO: 'info', DEBUG: 'debug', ERROR: 'error', WARN: 'warning' };
  const forward = (chunk) => {
    for (const line of String(chunk).split('\n')) {
      const message = /^(?:\S*:\d+:\d+: )?CONSOLE (\w+) (.*)$/.exec(line);
      if (message) {
        const event = { type: () => TYPES[message[1]] ?? message[1].toLowerCase(), text: () => message[2] };
        for (const listener of listeners) listener(event);
      } else if (line && process.env.PPDB_WEBKIT_LOG) console.error('[webkit]', line);
    }
  };
  driverProcess.stdout.on('data', forward);
  driverProcess.stderr.on('data', forward);
  return listeners;
}

/**
 * The session's windows. WebDriver drives one window at a time, so every command runs in
 * turn, in the window of the page that issued it.
 */
class Session {
  constructor(driver, firstWindow, listeners) {
    this.driver = driver;
    this.listeners = listeners;
    this.unused = firstWindow;
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
    let handle = this.unused;
    this.unused = null;
    if (!handle) {
      handle = await this.run(this.current, async (driver) => {
        await driver.switchTo().newWindow('tab');
        return driver.getWindowHandle();
      });
      this.current = handle;
    }
    return new Page(this, handle);
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

  goto(url) {
    return this.run((driver) => driver.get(url));
  }

  reload() {
    return this.run((driver) => driver.navigate().refresh());
  }

  /**
   * Runs `fn(arg)` in the page and resolves to its (awaited) result, as Playwright does:
   * WebDriver's JSON would turn undefined into null and lose NaN, -0, BigInt and Dates, so the
   * page encodes those (ENCODE) and `decode` brings them back.
   */
  async evaluate(fn, arg) {
    const script = `${ENCODE}; return Promise.resolve((${fn}).apply(null, arguments)).then(encode)`;
    const text = await this.run((driver) => (arg === undefined ? driver.executeScript(script) : driver.executeScript(script, arg)));
    return decode(JSON.parse(text));
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

  close() {
    return this.run(async (driver) => {
      await driver.close();
      const [left] = await driver.getAllWindowHandles();
      if (left) await driver.switchTo().window(left);
      this.session.current = left;
    });
  }
}

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
