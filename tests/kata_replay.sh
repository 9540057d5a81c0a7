#!/usr/bin/env bash
# Replays every Kata corpus folder (policy.rego + trace.jsonl) through
# `confidant replay` and fails if any decision or print() output differs from
# the recording. The genpolicy policies are Rego v0 (the Kata agent parses
# them that way), hence --v0-compatible.
#
# usage: tests/kata_replay.sh CONFIDANT_BIN CORPUS_DIR
set -uo pipefail

if [ $# -ne 2 ]; then
  echo "usage: $0 CONFIDANT_BIN CORPUS_DIR" >&2
  exit 2
fi
bin=$1
corpus=$2
if [ ! -x "$bin" ]; then
  echo "$0: $bin is not executable" >&2
  exit 2
fi

passed=0
failed=0
errlog=$(mktemp)
trap 'rm -f "$errlog"' EXIT
for dir in "$corpus"/*/; do
  dir=${dir%/}
  name=$(basename "$dir")
  [ -f "$dir/policy.rego" ] && [ -f "$dir/trace.jsonl" ] || continue
  summary=$("$bin" replay --v0-compatible --policy "$dir/policy.rego" "$dir/trace.jsonl" 2>"$errlog" | tail -n 1)
  status=${PIPESTATUS[0]}
  if [ "$status" -eq 0 ]; then
    passed=$((passed + 1))
    echo "$name: ok ($summary)"
  else
    failed=$((failed + 1))
    echo "$name: FAILED, exit $status (${summary:-no summary})"
    head -n 20 "$errlog" | sed 's/^/    /'
  fi
done

echo "$passed passed, $failed failed"
if [ $((passed + failed)) -eq 0 ]; then
  echo "$0: no corpus folders under $corpus" >&2
  exit 1
fi
[ "$failed" -eq 0 ]
