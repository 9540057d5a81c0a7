#!/usr/bin/env bash
# The Rego engine deciding real Kata agent requests (a genpolicy policy and the requests a
# host sent to start a pod), then a tampered CreateContainerRequest denied.

set -euo pipefail
build=${1:-build}
bin="$build/confidant"
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/scripts/shared-dir.sh"
corpus="$shared/corpus/kata/pod-exec"
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

if [ ! -f "$corpus/policy.rego" ]; then
  echo "demo: fixtures not found at $corpus (set CONFIDANT_SHARED)" >&2
  exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

step "1. The pod owner's policy: a genpolicy Kata agent policy ($(wc -c <"$corpus/policy.rego") bytes of Rego v0)"
echo "HOST_DATA that binds it (sha256 of the policy text):"
sha256sum "$corpus/policy.rego" | cut -d' ' -f1

step "2. Replaying the $(wc -l <"$corpus/trace.jsonl") requests the untrusted host sent while starting the pod"
echo "   (each one decided by data.agent_policy.<Request>; decisions and print output compared with the recording)"
"$bin" replay --v0-compatible --policy "$corpus/policy.rego" "$corpus/trace.jsonl" >"$tmp/replay.jsonl" || true
grep -o '"ep":"[A-Za-z]*","allowed":[a-z]*' "$tmp/replay.jsonl" | sort | uniq -c | sed 's/"ep":"//; s/","allowed":/ allowed=/'
tail -n 1 "$tmp/replay.jsonl"

step "3. A genuine CreateContainerRequest from the recording"
sed -n '7p' "$corpus/trace.jsonl" >"$tmp/line.json"
"$bin" eval -i "$tmp/line.json" --format raw 'json.marshal(input.input)' >"$tmp/request.json"
"$bin" eval -i "$tmp/request.json" --format raw \
  'sprintf("container command: %v", [input.OCI.Process.Args])'
"$bin" eval --v0-compatible -d "$corpus/policy.rego" -i "$tmp/request.json" --format raw \
  'data.agent_policy.CreateContainerRequest' 2>/dev/null | sed 's/^/decision: allowed = /'

step "4. The host tampers with it: it asks for a shell instead of the pod's command"
"$bin" eval -i "$tmp/request.json" --format raw \
  'json.marshal(json.patch(input, [{"op": "replace", "path": "/OCI/Process/Args", "value": ["/bin/sh", "-c", "cat /secrets/*"]}]))' \
  >"$tmp/tampered.json"
"$bin" eval -i "$tmp/tampered.json" --format raw 'sprintf("container command: %v", [input.OCI.Process.Args])'
"$bin" eval --v0-compatible -d "$corpus/policy.rego" -i "$tmp/tampered.json" --format raw \
  'data.agent_policy.CreateContainerRequest' 2>"$tmp/prints.txt" | sed 's/^/decision: allowed = /'
echo "the policy's own explanation (last print lines before the denial):"
grep -E "allow_args|allow_process" "$tmp/prints.txt" | tail -n 3 | sed 's/^/   /' | cut -c1-160

step "5. Done: the real request is allowed, the tampered one is denied."
