// `npm run size`: raw and gzipped (zlib level 9) sizes of what the package ships: both wasm
// builds, each build's wasm-bindgen JS glue, the package's own JS, and the JS a page loads to
// open a store (Vite's production build of pkg/index.js: the entry's static module graph and
// the chunks open() imports on its way, minified, gzipped together as a bundler would serve
// them: for a store opened on the page, the Db and the single build's glue; for an OPFS store,
// the tab-sharing and proxy modules, its worker loading the rest). NDJSON, the change feed's
// watch, clear() and the maintenance worker load later, on first use. Exits non-zero when the
// single-threaded wasm (what pages without cross-origin isolation and edge runtimes download)
// or the JS a page loads to open a memory store is over its budget.
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'vite';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = join(root, 'pkg');
const KIB = 1024;
const BUDGET = 150 * KIB; // the single-threaded wasm, gzipped
const PAGE_BUDGET = 19 * KIB; // the JS a page loads for open() of a memory store, minified and gzipped (17 until the change feed: telling watchers of writes is always loaded, watch.js on first use; 18 until level 0's triggers, pkg/api/maintenance.js; 18.5 until 'auto' fell back to IndexedDB where OPFS cannot hold a store, the probe itself in pkg/storage/probe.js on first use; 18.75 until share() of an OPFS store, whose owner's side, pkg/storage/owner.js, loads with the OPFS backend; 18.875 until workers that end gave their stacks back, the loader's call of pkg/engine/threads.js, loaded with the threaded build)

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

/**
 * The JS a page loads to open a store, built by Vite: pkg/index.js's static graph, then the
 * chunks `open()` imports on the way (each with its own static graph): for a memory or
 * IndexedDB store, api/open.js (the Db) and the single build's glue; for an OPFS store
 * (opened in the proxy worker), the tab-sharing and proxy modules (the worker loads the rest).
 */
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
  const of = (module) => {
    const chunk = [...chunks.values()].find((c) => c.facadeModuleId?.endsWith(module));
    if (!chunk) throw new Error(`size: no chunk for ${module}`);
    return chunk;
  };
  const measurePath = (modules) => {
    const graph = new Set();
    const visit = (chunk) => {
      if (graph.has(chunk)) return;
      graph.add(chunk);
      for (const name of chunk.imports) if (chunks.has(name)) visit(chunks.get(name));
    };
    visit([...chunks.values()].find((c) => c.isEntry));
    for (const module of modules) visit(of(module));
    const code = [...graph].map((c) => c.code).join('\n');
    const ids = [...graph].flatMap((c) => Object.keys(c.modules));
    return { raw: Buffer.byteLength(code), gzip: gzipSync(code, { level: 9 }).length, files: graph.size, modules: ids };
  };
  return {
    here: measurePath([join('api', 'open.js'), join('wasm', 'single', 'ppdb.js')]),
    opfs: measurePath([join('proxy', 'tabs.js'), join('proxy', 'page.js')]),
  };
}
const { here: page, opfs: pageOpfs } = await pageJs();
// A page whose store opens in a worker loads neither the Db nor the engine's glue.
const misplaced = pageOpfs.modules.filter((id) => id.endsWith(join('api', 'db.js')) || id.includes(join('pkg', 'wasm')));
if (misplaced.length) {
  console.error(`size: a page opening an OPFS store would load ${misplaced.map((id) => relative(root, id)).join(', ')}`);
  process.exit(1);
}
rows.push([`JS a page loads for open() of a memory store (Vite build, ${page.files} chunks, minified)`, page]);
rows.push([`JS a page loads for open() of an OPFS store (${pageOpfs.files} chunks; the rest loads in its worker)`, pageOpfs]);

const kib = (n) => `${(n / KIB).toFixed(1)} KiB`;
const width = Math.max(...rows.map(([name]) => name.length));
console.log(`${'what'.padEnd(width)}  ${'raw'.padStart(10)}  ${'gzip -9'.padStart(10)}`);
for (const [name, { raw, gzip }] of rows) {
  console.log(`${name.padEnd(width)}  ${kib(raw).padStart(10)}  ${kib(gzip).padStart(10)}`);
}

let over = false;
for (const [what, size, budget] of [['single-threaded wasm', single, BUDGET], ['JS a page loads for open() of a memory store', page, PAGE_BUDGET]]) {
  if (size.gzip > budget) {
    console.error(`size: the ${what} is ${kib(size.gzip)} gzipped, over its budget of ${kib(budget)}`);
    over = true;
  } else {
    console.log(`${what} gzipped: ${kib(size.gzip)} of its ${kib(budget)} budget`);
  }
}
if (over) process.exit(1);
