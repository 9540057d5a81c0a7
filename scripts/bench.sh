#!/usr/bin/env bash
# Runs every Google Benchmark program under build/ and the replay memory check.
set -euo pipefail
build=${1:-build}
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/scripts/shared-dir.sh"
export CONFIDANT_SHARED="$shared"
for b in "$build"/*_bench; do
  [ -x "$b" ] || continue
  echo "== $(basename "$b")"
  "$b" --benchmark_min_time=${BENCH_MIN_TIME:-0.5}
done
echo "== peak RSS of a replay of the largest Kata corpus policy"
largest=$(ls -S "$shared"/corpus/kata/*/policy.rego | head -n 1)
/usr/bin/time -f "%M KiB peak RSS, %e s" "$build/confidant" replay --v0-compatible --policy "$largest" \
  "$(dirname "$largest")/trace.jsonl" >/dev/null
