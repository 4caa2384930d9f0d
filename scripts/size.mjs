// `npm run size`: raw and gzipped (zlib level 9) sizes of what the package ships: both wasm
// builds, each build's wasm-bindgen JS glue, the package's own JS, and the JS a page loads to
// open a store (Vite's production build of pkg/index.js: the entry's static module graph and
// the single build's glue, minified, gzipped together as a bundler would serve them; the
// proxy, NDJSON and the maintenance worker load later, on first use). Exits non-zero when the
// single-threaded wasm (what pages without cross-origin isolation and edge runtimes download)
// or the page's JS is over its budget.
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'vite';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = join(root, 'pkg');
const KIB = 1024;
const BUDGET = 150 * KIB; // the single-threaded wasm, gzipped
const PAGE_BUDGET = 18.5 * KIB; // the JS a page loads for open(), minified and gzipped (17 until the change feed: telling watchers of writes is always loaded, watch.js on first use; 18 until level 0's triggers, pkg/api/maintenance.js)

function measure(files) {
  let raw = 0;
  let gzip = 0;
  for (const file of files) {
    const bytes = readFileSync(file);
    raw += bytes.length;
    // Each file gzipped on its own, as a server sends it.
    gzip += gzipSync(bytes, { level: 9 }).length;
  }
  return { raw, gzip };
}

/** pkg/**\/*.js except the wasm-bindgen output under pkg/wasm/. */
function packageJs(dir = pkg) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return path === join(pkg, 'wasm') ? [] : packageJs(path);
    return entry.name.endsWith('.js') ? [path] : [];
  });
}

const wasmFile = (flavour) => join(pkg, 'wasm', flavour, 'ppdb_bg.wasm');
const glueFile = (flavour) => join(pkg, 'wasm', flavour, 'ppdb.js');
const missing = ['single', 'threaded'].flatMap((f) => [wasmFile(f), glueFile(f)]).filter((f) => !existsSync(f));
if (missing.length) {
  console.error(`size: missing ${missing.map((f) => relative(root, f)).join(', ')}; run npm run build first`);
  process.exit(1);
}

const js = packageJs();
const rows = [
  ['single wasm (pkg/wasm/single/ppdb_bg.wasm)', measure([wasmFile('single')])],
  ['threaded wasm (pkg/wasm/threaded/ppdb_bg.wasm)', measure([wasmFile('threaded')])],
  ['single JS glue (pkg/wasm/single/ppdb.js)', measure([glueFile('single')])],
  ['threaded JS glue (pkg/wasm/threaded/ppdb.js)', measure([glueFile('threaded')])],
  [`package JS (pkg/**/*.js, ${js.length} files)`, measure(js)],
];
const single = rows[0][1];

/** The JS a page loads for `open()`: pkg/index.js's static graph and the single glue, built by Vite. */
async function pageJs() {
  const { output } = await build({
    configFile: false,
    logLevel: 'silent',
    root,
    build: {
      write: false,
      minify: true,
      assetsInlineLimit: 0,
      modulePreload: false,
      rollupOptions: { input: join(pkg, 'index.js'), preserveEntrySignatures: 'strict', external: [/^node:/] },
    },
  });
  const chunks = new Map(output.filter((c) => c.type === 'chunk').map((c) => [c.fileName, c]));
  const graph = new Set();
  const visit = (chunk) => {
    if (graph.has(chunk)) return;
    graph.add(chunk);
    for (const name of chunk.imports) if (chunks.has(name)) visit(chunks.get(name));
  };
  visit([...chunks.values()].find((c) => c.isEntry));
  // The single build's glue: the loader imports it when open() loads the engine.
  const glue = [...chunks.values()].filter((c) => c.facadeModuleId?.endsWith(join('wasm', 'single', 'ppdb.js')));
  const code = [...graph, ...glue].map((c) => c.code).join('\n');
  return { raw: Buffer.byteLength(code), gzip: gzipSync(code, { level: 9 }).length, files: graph.size + glue.length };
}
const page = await pageJs();
rows.push([`JS a page loads for open() (Vite build, ${page.files} chunks, minified)`, page]);

const kib = (n) => `${(n / KIB).toFixed(1)} KiB`;
const width = Math.max(...rows.map(([name]) => name.length));
console.log(`${'what'.padEnd(width)}  ${'raw'.padStart(10)}  ${'gzip -9'.padStart(10)}`);
for (const [name, { raw, gzip }] of rows) {
  console.log(`${name.padEnd(width)}  ${kib(raw).padStart(10)}  ${kib(gzip).padStart(10)}`);
}

let over = false;
for (const [what, size, budget] of [['single-threaded wasm', single, BUDGET], ['JS a page loads for open()', page, PAGE_BUDGET]]) {
  if (size.gzip > budget) {
    console.error(`size: the ${what} is ${kib(size.gzip)} gzipped, over its budget of ${kib(budget)}`);
    over = true;
  } else {
    console.log(`${what} gzipped: ${kib(size.gzip)} of its ${kib(budget)} budget`);
  }
}
if (over) process.exit(1);
