#!/usr/bin/env bash
# `npm run bench`: installs what is missing, builds, runs every benchmark.
# `npm run bench:peers` (scripts/bench.sh peers): only the peer benchmark in Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null
bash scripts/build.sh >/dev/null
if [ "${1:-}" = peers ]; then
  node bench/peers.mjs
else
  # The memtable benchmark's entry points live in a build of their own (target/bench-pkg).
  PPDB_BUILD_BENCH=1 bash scripts/build.sh >/dev/null
  node bench/run.mjs
fi
