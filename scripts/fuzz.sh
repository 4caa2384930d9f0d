#!/usr/bin/env bash
# Fuzzes the table, block and log readers and the Db against a model for SECONDS each (default 60), starting from the
# committed seeds. A crash fails the run and leaves its input in fuzz/artifacts/.
# Longer: `bash scripts/fuzz.sh 3600`, or `cd fuzz && cargo +<nightly> fuzz run table_reader`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/toolchain.env
seconds="${1:-60}"
corpus="$(mktemp -d)"
trap 'rm -rf "$corpus"' EXIT
cd fuzz
for target in ${TARGETS:-table_reader block_reader wal_reader db_model}; do
  mkdir -p "$corpus/$target"
  log="$corpus/$target.log"
  if ! cargo "+$NIGHTLY" fuzz run -O "$target" "$corpus/$target" "seeds/$target" -- \
    -max_total_time="$seconds" -rss_limit_mb=2048 >"$log" 2>&1; then
    tail -40 "$log"
    echo "fuzz: $target failed; the input is in fuzz/artifacts/$target/" >&2
    exit 1
  fi
  echo "fuzz $target: $(grep -E '^Done' "$log")"
done
