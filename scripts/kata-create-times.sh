#!/usr/bin/env bash
# Issue 2's "every CreateContainerRequest <= 1 ms", measured cold: each corpus trace replayed in a
# fresh process (as a pod's agent meets its requests: the first app container is the first to
# reach the env-var regexes), in the agent's mode (print lines gathered for denials only).
#   scripts/kata-create-times.sh [BIN] [RUNS]
# Prints, per CreateContainerRequest, the minimum wall time (µs) over RUNS (default 7) runs, then
# the maximum of those. `build/enforce_bench --benchmark_filter=KataCreateContainer` is the
# warm counterpart (the same request repeated, its state change undone).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/scripts/shared-dir.sh"
bin=${1:-$here/build/confidant}
runs=${2:-7}
for d in "$shared"/corpus/kata/*/; do
  n=$(basename "$d")
  for _ in $(seq "$runs"); do
    "$bin" replay --v0-compatible --prints-on-denial --policy "$d/policy.rego" "$d/trace.jsonl" 2>/dev/null |
      python3 -c 'import sys, json
for i, l in enumerate(sys.stdin):
  if l.startswith("{"):
    j = json.loads(l)
    if j.get("ep") == "CreateContainerRequest": print(sys.argv[1], i, j["ns"])' "$n"
  done
done | python3 -c 'import sys
best = {}
for l in sys.stdin:
  n, i, ns = l.split()
  k = (n, int(i))
  best[k] = min(best.get(k, 1 << 62), int(ns))
for k in sorted(best): print(k[0], k[1], round(best[k] / 1000), "us")
print("max", round(max(best.values()) / 1000), "us over", len(best), "requests")'
