#!/usr/bin/env bash
# The guest agent end to end: an untrusted host starts a two-container group
# through the agent, which decides every request with the ACI policy whose
# digest was fixed as HOST_DATA at launch; then the host tries to cheat.
#
#   scripts/agent-demo.sh BUILD_DIR        (root, runc, busybox-static, loop, overlayfs)
set -euo pipefail

BUILD=${1:?usage: agent-demo.sh BUILD_DIR}
CONF=$(cd "$BUILD" && pwd)/confidant
[ -x "$CONF" ] || { echo "no $CONF: build the confidant target first" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "agent-demo: needs root (loop mounts, overlayfs, runc)" >&2; exit 2; }
for t in runc mkfs.ext4 veritysetup; do command -v $t >/dev/null || { echo "agent-demo: needs $t" >&2; exit 2; }; done
[ -x /bin/busybox ] || { echo "agent-demo: needs busybox-static (/bin/busybox)" >&2; exit 2; }

W=${AGENT_DEMO_DIR:-/tmp/confidant-agent-demo}
SOCK=$W/agent.sock
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
explain() { printf '   %s\n' "$*"; }

# Leave nothing running if we stop half-way.
cleanup() { [ -f "$W/work/state.json" ] && "$CONF" host stop --socket "$SOCK" --work "$W/work" >/dev/null 2>&1 || true; }
trap cleanup EXIT
if [ -S "$SOCK" ]; then "$CONF" host stop --socket "$SOCK" --work "$W/work" >/dev/null 2>&1 || true; fi
rm -rf "$W"; mkdir -p "$W/src"

step "1. Container images: busybox-based layer tars"
mkdir -p "$W/src/base/bin" "$W/src/base/etc" "$W/src/base/proc" "$W/src/base/sys" "$W/src/base/dev" "$W/src/base/tmp"
cp /bin/busybox "$W/src/base/bin/busybox"
for t in sh echo cat sleep ls date; do ln -s busybox "$W/src/base/bin/$t"; done
echo 'root:x:0:0:root:/root:/bin/sh' > "$W/src/base/etc/passwd"
echo 'root:x:0:' > "$W/src/base/etc/group"
mkdir -p "$W/src/web/srv" "$W/src/worker/job"
echo 'Hello from the web container (its layer was verified by the guest)' > "$W/src/web/srv/index.txt"
printf '#!/bin/sh\nn=0\nwhile [ $n -lt 3 ]; do n=$((n+1)); echo "worker: tick $n"; sleep 1; done\necho worker: done\n' > "$W/src/worker/job/run.sh"
chmod +x "$W/src/worker/job/run.sh"
for l in base web worker; do tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$W/src/$l" -cf "$W/$l.tar" .; done
ls -l "$W"/*.tar | awk '{print "   " $5 " bytes  " $9}'

cat > "$W/group.json" <<EOF
{"sandbox_id": "demo",
 "containers": [
  {"id": "web", "layers": ["base.tar", "web.tar"],
   "command": ["/bin/sh", "-c", "cat /srv/index.txt; echo web: serving; exec sleep 3600"],
   "env": ["PATH=/bin", "GREETING=hello"], "working_dir": "/srv",
   "exec_processes": [{"command": ["/bin/ls", "/srv"], "signals": []}], "signals": [15, 9]},
  {"id": "worker", "layers": ["base.tar", "worker.tar"],
   "command": ["/job/run.sh"], "env": ["PATH=/bin"], "working_dir": "/job"}
 ]}
EOF
explain "group.json: 'web' (base + web layers) and 'worker' (base + worker layers)"

step "2. The policy: an ACI execution policy listing both containers with their layer root hashes"
explain "Each layer tar is converted to a deterministic ext4 image (hcsshim tar2ext4 layout); its"
explain "dm-verity root hash is what the policy pins:"
if "$CONF" layer hash --help >/dev/null 2>&1; then
  for l in base web worker; do
    h=$("$CONF" layer hash "$W/$l.tar" 2>/dev/null | tail -1 || true)
    [ -n "$h" ] && printf '   %-7s %s  (confidant layer hash)\n' "$l" "$h"
  done
fi
(cd "$W" && "$CONF" host policy --group group.json --work "$W/policy-work" > policy.rego 2>/dev/null)
grep -n '"layers"' -A3 "$W/policy.rego" | head -12 | sed 's/^/   /'
HOST_DATA=$("$CONF" policy hash "$W/policy.rego")
explain "HOST_DATA = sha256(policy.rego) = $HOST_DATA"
explain "(the host fixes it at launch; the guest installs only a policy with this digest)"

step "3. Start the group (untrusted host -> agent over ttrpc on $SOCK)"
(cd "$W" && "$CONF" host start --group group.json --policy policy.rego --socket "$SOCK" --work "$W/work" --virtual-snp "$W/snp")

step "4. Output of both containers (stdio allowed by the policy)"
sleep 1
echo "   --- web:"; "$CONF" host logs --socket "$SOCK" --container web | sed 's/^/   | /'
echo "   --- worker (followed until it exits):"; "$CONF" host logs --socket "$SOCK" --container worker --wait | sed 's/^/   | /'
explain "An exec the policy lists for 'web':"
"$CONF" host exec --socket "$SOCK" --container web --exec-id ls1 --cwd /srv -- /bin/ls /srv 2>&1 | sed 's/^/   | /'

step "5. The host tries to cheat; the agent refuses each attempt with the policy's reason"
explain "a) a tampered layer: one byte of the web layer image changed after the policy was written"
cp "$W/work/layers/layer1.img" "$W/tampered.img"
printf 'X' | dd of="$W/tampered.img" bs=1 seek=20000 conv=notrunc status=none
"$CONF" host raw --socket "$SOCK" --method MountLayer \
  --payload-json "{\"source\":\"$W/tampered.img\",\"target\":\"/run/mounts/scsi/m9\"}" 2>&1 | sed 's/^/   /' || true
explain "b) running a command the policy does not list inside 'web'"
"$CONF" host exec --socket "$SOCK" --container web --exec-id evil --cwd /srv -- /bin/cat /etc/passwd 2>&1 | sed 's/^/   /' || true
explain "c) a signal the policy does not list for 'web' (SIGUSR1 = 10)"
"$CONF" host signal --socket "$SOCK" --container web --signal 10 2>&1 | sed 's/^/   /' || true
explain "d) a second SetPolicy with a more permissive policy (its digest is not HOST_DATA)"
sed 's/allow_dump_stacks := false/allow_dump_stacks := true/' "$W/policy.rego" > "$W/permissive.rego"
"$CONF" host raw --socket "$SOCK" --method SetPolicy \
  --payload-json "{\"policy\":\"$(base64 -w0 "$W/permissive.rego")\"}" 2>&1 | head -2 | cut -c1-220 | sed 's/^/   /' || true
explain "e) garbage on the socket; the agent answers and keeps serving"
"$CONF" host raw --socket "$SOCK" --method NoSuchMethod 2>&1 | sed 's/^/   /' || true
"$CONF" host raw --socket "$SOCK" --method GetProperties | cut -c1-200 | sed 's/^/   still serving: /'

step "6. Stop the group"
"$CONF" host stop --socket "$SOCK" --work "$W/work"
trap - EXIT
explain "done; agent log: $W/work/agent.log"
