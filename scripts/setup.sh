#!/usr/bin/env bash
# Installs everything ppdb needs to build, test and benchmark, on a fresh Debian machine.
# Idempotent: every step is skipped when what it installs is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/toolchain.env

say() { printf '\n[setup] %s\n' "$*"; }
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi

say "rust: wasm32 target for stable; $NIGHTLY with rust-src (the threaded build compiles std itself)"
rustup target add wasm32-unknown-unknown
rustup toolchain list | grep -q "^$NIGHTLY" ||
  rustup toolchain install "$NIGHTLY" --profile minimal
rustup component add rust-src clippy --toolchain "$NIGHTLY"
rustup component add clippy rustfmt

say "wasm-bindgen-cli $WASM_BINDGEN_VERSION"
if ! wasm-bindgen --version 2>/dev/null | grep -q " $WASM_BINDGEN_VERSION\$"; then
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
fi

say "cargo-fuzz (fuzz targets run briefly in npm test)"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked

say "debian: chromium, chromium-driver"
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  $SUDO apt-get update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends chromium chromium-driver
fi

say "debian: firefox-esr (the browser tests' second engine)"
if ! command -v firefox-esr >/dev/null; then
  $SUDO apt-get update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends firefox-esr
fi

say "debian: WebKitGTK, its WebDriver, its Python bindings and Xvfb (the browser tests' third engine: tests/browser/webkit.mjs)"
if ! command -v WebKitWebDriver >/dev/null || ! command -v Xvfb >/dev/null ||
  ! /usr/bin/python3 -c "import gi; gi.require_version('WebKit2', '4.1')" 2>/dev/null; then
  $SUDO apt-get update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends webkit2gtk-driver gir1.2-webkit2-4.1 python3-gi xvfb
fi

say "python: prometheus-client (its parser checks the metrics text in tests)"
python3 -c 'import prometheus_client' 2>/dev/null ||
  python3 -m pip install --quiet --disable-pip-version-check prometheus-client==0.26.0

say "npm packages"
# `npm install` (not `npm ci`): it follows the lockfile, but tolerates the optional
# per-platform packages of deno that the registry does not carry for other platforms.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm install --no-audit --no-fund
fi
say "done"
