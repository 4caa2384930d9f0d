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
        // package's import() of its wasm glue and storages are bundled in. (Its Node-only
        // code is not: this build is not for Node, so the package's `#node` import resolves
        // to pkg/node/absent.js, and no `node:` import reaches workerd.)
        codeSplitting: false,
      },
    },
  },
};
