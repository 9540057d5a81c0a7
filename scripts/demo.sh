#!/usr/bin/env bash
# The main job (`make demo`): Confidant end to end on this machine.
#   1. a confidential container group started by an untrusted host through our guest agent,
#      every request decided by the policy bound to HOST_DATA, tampering refused;
#   2. secure key release: attestation of the guest, a token, a key released only to it;
#   3. the Rego engine deciding the requests of a real Kata pod.
set -uo pipefail
build=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
banner() { printf '\n\033[1;34m######## %s\033[0m\n' "$*"; }
status=0

banner "Part 1 of 3: a two-container group through the guest agent"
if [ "$(id -u)" != 0 ] || ! command -v runc >/dev/null; then
  echo "skipped: the agent demo needs root and runc (it mounts verified layers and runs containers)"
else
  "$here/agent-demo.sh" "$build" || { echo "agent demo FAILED"; status=1; }
fi

banner "Part 2 of 3: secure key release"
"$here/key-release-demo.sh" "$build" || { echo "key release demo FAILED"; status=1; }

banner "Part 3 of 3: the Rego engine on a real Kata pod's requests"
"$here/kata-demo.sh" "$build" || { echo "Kata demo FAILED"; status=1; }
exit $status
