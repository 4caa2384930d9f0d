# workerd configuration of the ppdb sample worker. From the repo root, after `npm run build`:
#   npx vite build examples/workerd                        # bundles worker.js -> dist/worker.js
#   npx workerd serve examples/workerd/config.capnp        # http://127.0.0.1:8787/
#   (--socket-addr http=127.0.0.1:9000 listens elsewhere)
#
# Two modules: the bundled worker (the package's JS inside it), and the wasm. workerd forbids
# compiling wasm from bytes at run time, so the single-threaded build is declared here as a
# wasm module: workerd compiles it when it loads this config, and the worker's
# `import wasmModule from 'ppdb/wasm/single.wasm'` (the name below) gets the
# WebAssembly.Module, which it passes to `open(name, { wasmModule })`.
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [ (name = "main", worker = .ppdbWorker) ],
  sockets = [ (name = "http", address = "127.0.0.1:8787", http = (), service = "main") ],
);

const ppdbWorker :Workerd.Worker = (
  # No nodejs_compat: without it there is no `process`, so the package does not take this
  # for Node (it would pick the `fs` storage and the threaded build there).
  compatibilityDate = "2025-11-01",
  modules = [
    # The first module is the entry point.
    (name = "worker.js", esModule = embed "dist/worker.js"),
    (name = "ppdb/wasm/single.wasm", wasm = embed "../../pkg/wasm/single/ppdb_bg.wasm"),
  ],
);
