// Static server for the demo and the browser tests. node:http only, no dependencies.
// With `isolated` (the default) every response carries COOP/COEP/CORP so the page is
// cross-origin isolated and SharedArrayBuffer (the threaded flavour) is available.
import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.ndjson': 'application/x-ndjson; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.ts': 'text/plain; charset=utf-8', // .d.ts
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

// URL prefixes that map onto folders of the repo; everything else is 404.
const MOUNTS = [
  '/www/', '/pkg/', '/tests/browser/fixtures/', '/bench/browser/', '/bench/js/',
  // Browser files of npm packages the demo (www/) loads: its chart library and the peers
  // of its benchmark panel.
  '/node_modules/chart.js/', '/node_modules/@kurkle/color/',
  '/node_modules/idb-keyval/', '/node_modules/dexie/', '/node_modules/@sqlite.org/sqlite-wasm/',
];

const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

/** Maps a request path to a file under root, or null when it is not served. */
function resolvePath(root, pathname) {
  if (pathname === '/') return join(root, 'www', 'index.html');
  const mount = MOUNTS.find((m) => pathname.startsWith(m));
  if (!mount) return null;
  // Decoded segments must not climb out of their mount (e.g. /pkg/%2e%2e/secret).
  const segments = pathname.split('/').slice(1);
  if (segments.some((s) => s === '..' || s === '.' || s.includes('\\') || s.includes('\0'))) return null;
  const dir = resolve(root, mount.slice(1));
  const file = resolve(root, ...segments);
  return file.startsWith(dir + sep) ? file : null;
}

async function handle(root, isolated, req, res) {
  const headers = { 'Cache-Control': 'no-store', ...(isolated ? ISOLATION_HEADERS : {}) };
  const send = (status, body, type = 'text/plain; charset=utf-8') => {
    res.writeHead(status, { ...headers, 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
    res.end(req.method === 'HEAD' ? undefined : body);
  };

  if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'method not allowed\n');

  let pathname;
  try {
    pathname = decodeURIComponent(new URL(req.url, 'http://x').pathname);
  } catch {
    return send(400, 'bad request\n');
  }

  const file = resolvePath(root, pathname);
  if (!file) return send(404, 'not found\n');

  try {
    const info = await stat(file);
    if (!info.isFile()) return send(404, 'not found\n');
    const body = await readFile(file);
    send(200, body, MIME[extname(file).toLowerCase()] ?? 'application/octet-stream');
  } catch {
    send(404, 'not found\n');
  }
}

/**
 * Starts the server. `port: 0` picks a free port.
 * @returns {Promise<{ url: string, close(): Promise<void> }>}
 */
export async function serve({ root, port = 0, host = '127.0.0.1', isolated = true } = {}) {
  if (!root) throw new TypeError('serve: root is required');
  const absRoot = resolve(root);
  const server = createServer((req, res) => {
    handle(absRoot, isolated, req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  await new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(port, host, () => {
      server.off('error', fail);
      ok();
    });
  });
  const url = `http://${host}:${server.address().port}/`;
  return {
    url,
    close: () =>
      new Promise((ok) => {
        server.close(() => ok());
        // Keep-alive connections from a browser would otherwise hold close() open.
        server.closeAllConnections?.();
      }),
  };
}

// Run directly: serve the repo root on 8080, or any free port if 8080 is taken.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  const wanted = Number(process.argv[2] ?? process.env.PORT ?? 8080);
  let server;
  try {
    server = await serve({ root, port: wanted });
  } catch (err) {
    if (err.code !== 'EADDRINUSE') throw err;
    server = await serve({ root, port: 0 });
  }
  console.log(`ppdb demo: ${server.url}`);
}
