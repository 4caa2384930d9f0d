// A key-value HTTP service on Cloudflare workerd, backed by a ppdb memory store.
//
//   GET    /                          { flavour, storage } (also a readiness check)
//   PUT    /kv/<key>                  body = value (any bytes)            -> 204
//   GET    /kv/<key>                  the value's bytes, or 404
//   DELETE /kv/<key>                                                      -> 204
//   GET    /scan?prefix=&limit=&reverse=1   [{ key, value }] (values as UTF-8 text)
//   POST   /batch                     [{ type: 'put', key, value } | { type: 'del', key }] -> 204
//
// Keys are the URL-decoded path after /kv/ (UTF-8). Run it from the repo root with
//   npx vite build examples/workerd && npx workerd serve examples/workerd/config.capnp
// (127.0.0.1:8787); config.capnp says how the package and its wasm get into workerd.
import { open, PpdbError } from 'ppdb';
// workerd cannot compile wasm from bytes at run time (no WebAssembly.compile/instantiate of a
// buffer), so the single-threaded build comes in precompiled: config.capnp declares a wasm module
// of this name and workerd hands it over as a WebAssembly.Module. (With Wrangler, this import
// resolves through the package's `exports` to pkg/wasm/single/ppdb_bg.wasm.)
import wasmModule from 'ppdb/wasm/single.wasm';

// Opened once per isolate, while the module loads (top-level await), so that no request waits on
// a promise another request created. 'memory': workerd has no storage ppdb can use, so the data
// lives as long as this isolate (workerd may run several, and drops them when it likes).
const db = await open('kv', { storage: 'memory', wasmModule, valueEncoding: 'bytes' });

const json = (body, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json; charset=utf-8' } });

async function route(request) {
  const url = new URL(request.url);
  const { pathname } = url;
  const method = request.method;

  if (pathname === '/' && method === 'GET') return json({ flavour: db.flavour, storage: db.storage });

  if (pathname.startsWith('/kv/')) {
    let key;
    try {
      key = decodeURIComponent(pathname.slice('/kv/'.length));
    } catch {
      return json({ code: 'INVALID_ARGUMENT', message: 'the key is not valid percent-encoded UTF-8' }, 400);
    }
    if (method === 'GET') {
      const value = await db.get(key);
      if (value === undefined) return new Response('not found\n', { status: 404 });
      return new Response(value, { headers: { 'content-type': 'application/octet-stream' } });
    }
    if (method === 'PUT') {
      await db.put(key, new Uint8Array(await request.arrayBuffer()));
      return new Response(null, { status: 204 });
    }
    if (method === 'DELETE') {
      await db.del(key);
      return new Response(null, { status: 204 });
    }
  }

  if (pathname === '/scan' && method === 'GET') {
    const limit = Number(url.searchParams.get('limit') ?? 100);
    const options = { limit, reverse: url.searchParams.get('reverse') === '1', valueEncoding: 'utf8' };
    const prefix = url.searchParams.get('prefix');
    if (prefix) options.prefix = prefix;
    const entries = [];
    for await (const [key, value] of db.iterator(options)) entries.push({ key, value });
    return json(entries);
  }

  if (pathname === '/batch' && method === 'POST') {
    let operations;
    try {
      operations = await request.json();
    } catch {
      return json({ code: 'INVALID_ARGUMENT', message: 'the body must be JSON' }, 400);
    }
    await db.batch(operations);
    return new Response(null, { status: 204 });
  }

  return new Response('not found\n', { status: 404 });
}

export default {
  async fetch(request) {
    try {
      return await route(request);
    } catch (err) {
      if (!(err instanceof PpdbError)) throw err;
      return json({ code: err.code, message: err.message }, err.code === 'INVALID_ARGUMENT' ? 400 : 500);
    }
  },
};
