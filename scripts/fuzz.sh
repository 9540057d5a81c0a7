#!/usr/bin/env bash
# Builds the libFuzzer targets with clang-14 and runs each for FUZZ_SECONDS (default 600).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
if [ "$(id -u)" -eq 0 ] && ! command -v clang++-14 >/dev/null; then apt-get install -y -qq clang-14 libclang-rt-14-dev; fi
secs=${FUZZ_SECONDS:-600}
CC=clang-14 CXX=clang++-14 cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCONFIDANT_FUZZ=ON -DCONFIDANT_TESTS=OFF -DCONFIDANT_BENCH=OFF >/dev/null
ninja -C build-fuzz -j2 parser_fuzz eval_fuzz enforce_fuzz
for t in ${FUZZ_TARGETS:-parser_fuzz eval_fuzz enforce_fuzz}; do
  dir="fuzz/corpus-$t"
  mkdir -p "$dir"
  # Seeds: the corpus policies for the parser, recorded request inputs for evaluation.
  if [ "$t" = parser_fuzz ]; then
    for p in ../shared/corpus/kata/*/policy.rego; do cp "$p" "$dir/seed-$(basename "$(dirname "$p")").rego"; done
  elif [ "$t" = eval_fuzz ]; then
    python3 -c 'import json,sys,glob
for i,l in enumerate(open(glob.glob("../shared/corpus/kata/pod-exec/trace.jsonl")[0])):
    open(sys.argv[1]+"/seed-%03d.json"%i,"w").write(json.dumps(json.loads(l)["input"]))' "$dir"
  fi
  echo "== $t for ${secs}s"
  "./build-fuzz/$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 "$dir" 2>&1 | tail -5
done
