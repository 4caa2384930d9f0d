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
  },
};
