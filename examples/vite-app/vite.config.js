// Vite configuration of the ppdb sample app. A plain object (no `import { defineConfig }
// from 'vite'`), so the config loads even where `vite` is installed in a parent folder.
const isolation = {
  // Cross-origin isolation gives the page and its workers SharedArrayBuffer, so ppdb runs its
  // threaded build; without these headers it falls back to the single-threaded one.
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default {
  server: { headers: isolation },
  preview: { headers: isolation },
  worker: {
    // ppdb loads its wasm builds and storages with dynamic import(), so a worker that uses it is
    // split into chunks, which only ES module workers can load (Vite's default is 'iife').
    format: 'es',
    rolldownOptions: { onwarn: quietNodeBuiltins },
  },
  build: {
    rolldownOptions: { onwarn: quietNodeBuiltins },
  },
};

// Optional: ppdb's Node-only code (the `fs` storage) imports node:fs and friends with dynamic
// import(), which never runs in a browser; Vite replaces them with empty stubs and warns about
// each. This hides those warnings and passes every other one on.
function quietNodeBuiltins(warning, warn) {
  if (/Module "node:[\w/]+" has been externalized for browser compatibility/.test(warning.message)) return;
  warn(warning);
}
