#!/usr/bin/env bash
# `npm run bench`: installs what is missing, builds, runs the benchmarks.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null
bash scripts/build.sh >/dev/null
node bench/run.mjs
