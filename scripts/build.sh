#!/usr/bin/env bash
# Builds both wasm flavours into pkg/wasm/{single,threaded} (wasm-bindgen --target web).
#   single:   stable Rust, no threads, runs everywhere (edge runtimes included)
#   threaded: pinned nightly, std rebuilt with atomics, imports a shared memory
# Usage: scripts/build.sh [single|threaded]... (default: both)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/toolchain.env

TARGET=wasm32-unknown-unknown
flavours=("$@")
[ ${#flavours[@]} -eq 0 ] && flavours=(single threaded)

bindgen() { # <wasm file> <flavour>
  rm -rf "pkg/wasm/$2"
  wasm-bindgen --target web --out-dir "pkg/wasm/$2" --out-name ppdb "$1"
}

for flavour in "${flavours[@]}"; do
  echo "[build] $flavour"
  case "$flavour" in
    single)
      cargo build --release --lib --target "$TARGET"
      bindgen "target/$TARGET/release/ppdb.wasm" single
      ;;
    threaded)
      RUSTFLAGS="-C target-feature=+atomics,+bulk-memory,+mutable-globals \
        -C link-arg=--shared-memory -C link-arg=--import-memory \
        -C link-arg=--max-memory=1073741824 -C link-arg=--export=__heap_base \
        -C link-arg=--export=__wasm_init_tls -C link-arg=--export=__tls_size \
        -C link-arg=--export=__tls_align -C link-arg=--export=__tls_base" \
        cargo "+$NIGHTLY" build --release --lib --target "$TARGET" \
        -Z build-std=panic_abort,std --target-dir target/threaded
      bindgen "target/threaded/$TARGET/release/ppdb.wasm" threaded
      ;;
    *) echo "unknown flavour: $flavour" >&2; exit 2 ;;
  esac
done
