#!/usr/bin/env bash
# Secure key release end to end, with the real programs on loopback:
#   policy -> HOST_DATA -> guest launched on the virtual SNP device -> report ->
#   attestation service token -> key broker release policy -> key unwrapped by the SKR sidecar,
# then the ways it must fail: a policy one byte different, a debuggable guest, no UVM endorsement.
#
#   scripts/key-release-demo.sh BUILD_DIR
set -euo pipefail

BUILD=${1:?usage: key-release-demo.sh BUILD_DIR}
C=$(cd "$BUILD" && pwd)/confidant
[ -x "$C" ] || { echo "no $C: build the confidant target first" >&2; exit 2; }
for t in curl openssl jq; do command -v $t >/dev/null || { echo "key-release-demo: needs $t" >&2; exit 2; }; done
W=$(mktemp -d /tmp/confidant-skr-demo.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$W"; }
trap cleanup EXIT
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
explain() { printf '   %s\n' "$*"; }
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() { for _ in $(seq 100); do curl -s -o /dev/null "$1" && return 0; sleep 0.1; done; echo "no answer from $1" >&2; exit 1; }

step "1. The policy and the HOST_DATA it is launched with"
printf 'package policy\n\napi_version := "0.10.0"\nframework_version := "0.2.3"\n# the group the key owner approved\n' >"$W/policy.rego"
HD=$("$C" policy hash "$W/policy.rego")
explain "sha256(policy) = $HD"
MEAS=$(printf '42%.0s' $(seq 48))

step "2. Guests on the virtual SNP device (a software PSP with its own, untrusted-by-default roots)"
"$C" snp virtual launch --dir "$W/good" --host-data "$HD" --measurement "$MEAS" >/dev/null
explain "good guest:      HOST_DATA = sha256(policy), not debuggable"
{ cat "$W/policy.rego"; printf ' '; } >"$W/other.rego"
"$C" snp virtual launch --dir "$W/other" --host-data "$("$C" policy hash "$W/other.rego")" --measurement "$MEAS" >/dev/null
explain "other guest:     a policy one byte longer"
"$C" snp virtual launch --dir "$W/debug" --host-data "$HD" --measurement "$MEAS" --policy 0xB0000 >/dev/null
explain "debug guest:     the right policy, but launched debuggable (policy bit 19)"

step "3. A UVM endorsement of the guest image's launch measurement (test signing chain)"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes -keyout "$W/root.key" -out "$W/root.pem" \
  -days 30 -subj "/CN=Confidant Demo UVM Root" -addext basicConstraints=critical,CA:true \
  -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes -keyout "$W/leaf.key" -out "$W/leaf.csr" \
  -subj "/CN=Confidant Demo UVM Signer" 2>/dev/null
openssl x509 -req -in "$W/leaf.csr" -CA "$W/root.pem" -CAkey "$W/root.key" -CAcreateserial -days 30 \
  -extfile <(printf 'basicConstraints=critical,CA:false\nkeyUsage=critical,digitalSignature\n') -out "$W/leaf.pem" 2>/dev/null
cat "$W/leaf.pem" "$W/root.pem" >"$W/chain.pem"
DID=$("$C" uvm endorse --measurement "$MEAS" --svn 3 --feed ConfidantDemo-UVM --key "$W/leaf.key" \
  --chain "$W/chain.pem" -o "$W/uvm.cose")
explain "issuer: $DID"

step "4. The attestation service, the key broker, and a key only the good guest may have"
AS_PORT=$(port); KBS_PORT=$(port)
"$C" attest-service --listen 127.0.0.1:$AS_PORT --signing-key "$W/as.pem" \
  --trust-virtual "$W/good" --trust-virtual "$W/other" --trust-virtual "$W/debug" \
  --uvm-issuer "$DID" --uvm-feed ConfidantDemo-UVM --uvm-min-svn 1 2>/dev/null &
PIDS+=($!)
wait_http http://127.0.0.1:$AS_PORT/certs
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$W/admin.token"
"$C" kbs serve --listen 127.0.0.1:$KBS_PORT --db "$W/kbs.db" --master-key "$W/master.key" \
  --admin-token-file "$W/admin.token" --trust-authority http://127.0.0.1:$AS_PORT >/dev/null 2>&1 &
PIDS+=($!)
wait_http http://127.0.0.1:$KBS_PORT/certs
jq -n --arg auth "http://127.0.0.1:$AS_PORT" --arg hd "$HD" '{kty: "oct-HSM", exportable: true, release_policy:
  {version: "1.0.0", anyOf: [{authority: $auth, allOf: [
    {claim: "x-ms-sevsnpvm-hostdata", equals: $hd},
    {claim: "x-ms-compliance-status", equals: "azure-compliant-uvm"},
    {claim: "x-ms-sevsnpvm-is-debuggable", equals: false}]}]}}' >"$W/key.json"
curl -s -X PUT -H "Authorization: Bearer $(cat "$W/admin.token")" -H 'Content-Type: application/json' \
  --data @"$W/key.json" http://127.0.0.1:$KBS_PORT/keys/db-key/create | jq -c '{kid: .key.kid}' | sed 's/^/   created: /'
explain "release policy: hostdata = sha256(policy), compliance = azure-compliant-uvm, not debuggable"

release() {  # guest-dir [extra skr flags] -> prints the sidecar's answer
  local dir=$1; shift
  local p; p=$(port)
  "$C" skr --listen 127.0.0.1:$p --virtual-snp "$dir" "$@" 2>/dev/null &
  local pid=$!
  wait_http http://127.0.0.1:$p/status
  curl -s -X POST -H 'Content-Type: application/json' http://127.0.0.1:$p/key/release \
    -d "{\"maa_endpoint\": \"http://127.0.0.1:$AS_PORT\", \"akv_endpoint\": \"http://127.0.0.1:$KBS_PORT\", \"kid\": \"db-key\"}"
  kill $pid; wait $pid 2>/dev/null || true
}

step "5. The good guest's SKR sidecar asks for the key"
explain "sidecar: fresh RSA key -> report binding it -> token -> release -> unwrap"
release "$W/good" --uvm-endorsement "$W/uvm.cose" | jq -r '"   released: " + (.key | fromjson | {kty, k: (.k[0:12] + "...")} | tostring)'

step "6. Everyone else is refused, with the broker's reason"
for case in "other:--uvm-endorsement $W/uvm.cose:a policy one byte different" \
            "debug:--uvm-endorsement $W/uvm.cose:a debuggable guest" \
            "good::no UVM endorsement"; do
  IFS=: read -r dir flags what <<<"$case"
  # shellcheck disable=SC2086
  printf '   %-28s %s\n' "$what:" "$(release "$W/$dir" $flags | jq -r '.error // "RELEASED (unexpected)"' | cut -c1-150)"
done

step "Done: the key went only to the guest running the approved policy on an endorsed, non-debug image."
