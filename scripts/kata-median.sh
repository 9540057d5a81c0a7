#!/usr/bin/env bash
# The Kata corpus benchmark of BENCHMARKS.md: every recorded request of every corpus policy
# through `confidant replay` (the Enforcer, print lines collected, as the agent does).
#   scripts/kata-median.sh [--instructions] BIN [BASELINE_BIN]
# Wall: per request the minimum `ns` over RUNS (default 5) interleaved runs, then the median
# over all requests. --instructions: per request instructions of Enforcer::enforce under
# callgrind (repeatable on a loaded machine), then the median.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/scripts/shared-dir.sh"
mode=wall
if [ "${1:-}" = --instructions ]; then mode=instr; shift; fi
bins=("$@")
[ ${#bins[@]} -ge 1 ] || { echo "usage: $0 [--instructions] BIN [BASELINE_BIN]" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fn='confidant::policy::Enforcer::enforce(std::basic_string_view<char, std::char_traits<char> >, confidant::rego::Value const&)'
for r in $(seq "${RUNS:-5}"); do
  for d in "$shared"/corpus/kata/*/; do
    n=$(basename "$d")
    for b in "${!bins[@]}"; do
      bin=${bins[$b]}
      if [ $mode = wall ]; then
        "$bin" replay --v0-compatible --policy "$d/policy.rego" "$d/trace.jsonl" 2>/dev/null |
          python3 -c 'import sys,json
for i,l in enumerate(sys.stdin):
  j=json.loads(l) if l.startswith("{") else {}
  if "ns" in j: print(sys.argv[1], i, j["ep"], j["ns"])' "$n" >>"$tmp/$b"
      elif [ "$r" = 1 ]; then
        mkdir -p "$tmp/cg"
        valgrind --tool=callgrind --callgrind-out-file="$tmp/cg/out" --toggle-collect="$fn" --dump-after="$fn" \
          "$bin" replay --v0-compatible --policy "$d/policy.rego" "$d/trace.jsonl" >/dev/null 2>&1
        python3 - "$tmp/cg" "$n" "$d/trace.jsonl" >>"$tmp/$b" <<'PY'
import sys, glob, re, json
cg, n, trace = sys.argv[1:4]
eps = [json.loads(l)["ep"] for l in open(trace) if l.strip()]
files = sorted((f for f in glob.glob(cg + "/out.*") if re.search(r"\.\d+$", f)), key=lambda f: int(f.rsplit(".", 1)[1]))
for i, (ep, f) in enumerate(zip(eps, files)):
    print(n, i, ep, next(int(l.split()[1]) for l in open(f) if l.startswith("summary:")))
PY
        rm -rf "$tmp/cg"
      fi
    done
  done
done
python3 - "$tmp" "$mode" "${bins[@]}" <<'PY'
import sys, statistics, collections
tmp, mode, bins = sys.argv[1], sys.argv[2], sys.argv[3:]
unit = "ns" if mode == "wall" else "instructions"
res = []
for b in range(len(bins)):
    best, eps = {}, {}
    for l in open(f"{tmp}/{b}"):
        n, i, ep, v = l.split()
        k = (n, int(i)); best[k] = min(best.get(k, 1 << 62), int(v)); eps[k] = ep
    by = collections.defaultdict(list)
    for k, v in best.items(): by[eps[k]].append(v)
    res.append((statistics.median(best.values()), {e: statistics.median(v) for e, v in by.items()}, len(best)))
    print(f"{bins[b]}: median {res[-1][0]:.0f} {unit} per request over {res[-1][2]} requests")
if len(res) == 2:
    print(f"baseline / current: {res[1][0] / res[0][0]:.2f}")
    for e in sorted(res[0][1], key=lambda e: -res[0][1][e]):
        print(f"  {e:30s} {res[0][1][e]:>10.0f} {res[1][1].get(e, 0):>10.0f}  x{res[1][1].get(e, 0) / max(1, res[0][1][e]):.2f}")
PY
