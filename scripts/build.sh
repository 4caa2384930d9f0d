#!/usr/bin/env bash
# Builds both wasm flavours into pkg/wasm/{single,threaded} (wasm-bindgen --target web),
# then optimizes each with wasm-opt (the npm package binaryen: Debian's binaryen 108 writes
# a wrong table index into the export of wasm-bindgen's externref table).
#   single:   stable Rust, no threads, runs everywhere (edge runtimes included)
#   threaded: pinned nightly, std rebuilt with atomics, imports a shared memory
# Usage: scripts/build.sh [single|threaded]... (default: both)
# PPDB_BUILD_BENCH=1: builds with the memtable benchmark's entry points (feature
# bench-exports) into target/bench-pkg/{single,threaded} instead; the package never ships them.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/toolchain.env

TARGET=wasm32-unknown-unknown
flavours=("$@")
[ ${#flavours[@]} -eq 0 ] && flavours=(single threaded)

out=pkg/wasm
targets=target
features=()
if [ "${PPDB_BUILD_BENCH:-}" = 1 ]; then
  out=target/bench-pkg
  targets=target/bench-wasm
  features=(--features bench-exports)
fi

bindgen() { # <wasm file> <flavour> [wasm-opt flags...]
  local dir="$out/$2" file="$1" flavour="$2"
  shift 2
  rm -rf "$dir"
  wasm-bindgen --target web --out-dir "$dir" --out-name ppdb "$file"
  # Size and speed: -O3 is as small as -Oz here (gzipped) and keeps the engine's speed.
  node_modules/.bin/wasm-opt -O3 "$@" "$dir/ppdb_bg.wasm" -o "$dir/ppdb_bg.wasm"
}

for flavour in "${flavours[@]}"; do
  echo "[build] $flavour"
  case "$flavour" in
    single)
      cargo build --release --lib --target "$TARGET" --target-dir "$targets" "${features[@]}"
      bindgen "$targets/$TARGET/release/ppdb.wasm" single
      ;;
    threaded)
      RUSTFLAGS="-C target-feature=+atomics,+bulk-memory,+mutable-globals \
        -C link-arg=--shared-memory -C link-arg=--import-memory \
        -C link-arg=--max-memory=1073741824 -C link-arg=--export=__heap_base \
        -C link-arg=--export=__wasm_init_tls -C link-arg=--export=__tls_size \
        -C link-arg=--export=__tls_align -C link-arg=--export=__tls_base" \
        cargo "+$NIGHTLY" build --release --lib --target "$TARGET" \
        -Z build-std=panic_abort,std --target-dir "$targets/threaded" "${features[@]}"
      bindgen "$targets/threaded/$TARGET/release/ppdb.wasm" threaded --enable-threads
      ;;
    *) echo "unknown flavour: $flavour" >&2; exit 2 ;;
  esac
done

# devalue (the 'structured' value encoding, pkg/api/structured.js) as plain ES modules in
# pkg/vendor/devalue, so a page serving the package without a bundler loads it too. The
# version is the one package.json pins; its format is pinned by tests/js/structured.test.mjs.
if [ "${PPDB_BUILD_BENCH:-}" != 1 ]; then
  rm -rf pkg/vendor/devalue
  mkdir -p pkg/vendor/devalue
  cp node_modules/devalue/LICENSE pkg/vendor/devalue/
  for file in stringify parse utils operations base64 constants; do
    cp "node_modules/devalue/src/$file.js" pkg/vendor/devalue/
  done
fi
