// Bundles worker.js with the ppdb package into one ES module, dist/worker.js, which
// config.capnp hands to workerd (Wrangler does the same with esbuild). From the repo root:
//   npx vite build examples/workerd
// Inside this repo `import ... from 'ppdb'` resolves to the package itself (its package.json
// `exports`); in a project of yours it is the installed dependency.
export default {
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'esnext',
    minify: false,
    rolldownOptions: {
      input: 'worker.js',
      // Keep the entry's exports (an app build drops them): workerd calls its default export.
      preserveEntrySignatures: 'strict',
      // Left as an import: workerd provides it (config.capnp declares a wasm module of this name).
      external: ['ppdb/wasm/single.wasm'],
      output: {
        entryFileNames: '[name].js',
        // One file, so config.capnp lists one module whatever the package's files are: the
        // package's import() of its wasm glue and storages are bundled in. (Bundled in, the
        // Node-only modules' `import ... from 'node:fs'` would become static imports that
        // workerd rejects; this browser-style build replaces them with stubs, see below.)
        codeSplitting: false,
      },
      onwarn: quietNodeBuiltins,
    },
  },
};

// A browser-style build (this is not Node) replaces the node:* modules of ppdb's Node-only
// code (the `fs` storage, behind import() that never runs here) with empty stubs, and warns
// about each; this hides those warnings. It also emits the package's .wasm files into
// dist/assets, which nothing here uses: workerd gets the wasm from config.capnp.
function quietNodeBuiltins(warning, warn) {
  if (/Module "node:[\w/]+" has been externalized for browser compatibility/.test(warning.message)) return;
  warn(warning);
}
