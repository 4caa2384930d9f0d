#!/usr/bin/env bash
# `npm test`: installs what is missing, builds, then runs every test layer in order:
# lints, native (unit, stress, property), loom, wasm-bindgen-test under Node, the package
# under Node (both flavours, worker_threads, the packed tarball), and the browsers: Chromium
# (Playwright), then the browser tests again in Firefox and in WebKit.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/toolchain.env

step() { printf '\n=== %s\n' "$*"; }

step "setup"
bash scripts/setup.sh

step "format and lints"
cargo fmt --check
cargo clippy --all-targets -- -D warnings
cargo clippy --target wasm32-unknown-unknown --lib --tests -- -D warnings
# The threaded build's own code (its allocator, the shared-memory paths), under its flags.
RUSTFLAGS="-C target-feature=+atomics,+bulk-memory,+mutable-globals" \
  cargo "+$NIGHTLY" clippy --release --lib --target wasm32-unknown-unknown \
  -Z build-std=panic_abort,std --target-dir target/threaded-clippy -- -D warnings

step "native tests"
cargo test

step "loom: every interleaving of the skiplist insert protocol"
RUSTFLAGS="--cfg loom" cargo test --release --target-dir target/loom --test loom_skiplist

step "wasm-bindgen-test under Node"
cargo test --target wasm32-unknown-unknown --test wasm

step "fuzz: the table, block and log readers and the Db against a model, 15 s each from the seeds (cargo fuzz)"
bash scripts/fuzz.sh 15

step "build both wasm flavours"
bash scripts/build.sh
node scripts/size.mjs

step "TypeScript: pkg/index.d.ts and pkg/level.d.ts checked against samples that use every call (with @ts-expect-error misuses)"
node_modules/.bin/tsc -p tests/types
node_modules/.bin/tsc -p tests/types/tsconfig.level.json

step "package, browser and demo tests (node --test)"
node --test --test-concurrency=1 tests/js/ tests/browser/

step "browser tests in Firefox: every file of tests/browser/"
PPDB_BROWSER=firefox node --test --test-concurrency=1 tests/browser/

step "browser tests in WebKit (WebKitGTK): the same files (on IndexedDB: see tests/browser/harness.mjs OPFS_ASKED)"
PPDB_BROWSER=webkit node --test --test-concurrency=1 tests/browser/
