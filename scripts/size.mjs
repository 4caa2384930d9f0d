// `npm run size`: raw and gzipped (zlib level 9) sizes of what the package ships: both wasm
// builds, each build's wasm-bindgen JS glue, and the package's own JS. Exits non-zero if the
// single-threaded wasm (what pages without cross-origin isolation and edge runtimes download)
// is over its budget gzipped.
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = join(root, 'pkg');
const KIB = 1024;
const BUDGET = 250 * KIB; // the single-threaded wasm, gzipped

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

const kib = (n) => `${(n / KIB).toFixed(1)} KiB`;
const width = Math.max(...rows.map(([name]) => name.length));
console.log(`${'what'.padEnd(width)}  ${'raw'.padStart(10)}  ${'gzip -9'.padStart(10)}`);
for (const [name, { raw, gzip }] of rows) {
  console.log(`${name.padEnd(width)}  ${kib(raw).padStart(10)}  ${kib(gzip).padStart(10)}`);
}

if (single.gzip > BUDGET) {
  console.error(`size: the single-threaded wasm is ${kib(single.gzip)} gzipped, over its budget of ${kib(BUDGET)}`);
  process.exit(1);
}
console.log(`single-threaded wasm gzipped: ${kib(single.gzip)} of its ${kib(BUDGET)} budget`);
