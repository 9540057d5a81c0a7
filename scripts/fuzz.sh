#!/usr/bin/env bash
# Builds the libFuzzer targets with clang-14 and runs each for FUZZ_SECONDS (default 600);
# FUZZ_TARGETS picks some of them.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/shared-dir.sh
./scripts/install-deps.sh
if [ "$(id -u)" -eq 0 ] && ! command -v clang++-14 >/dev/null; then apt-get install -y -qq clang-14 libclang-rt-14-dev; fi
secs=${FUZZ_SECONDS:-600}
CC=clang-14 CXX=clang++-14 cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCONFIDANT_FUZZ=ON -DCONFIDANT_TESTS=OFF -DCONFIDANT_BENCH=OFF >/dev/null
all="parser_fuzz eval_fuzz enforce_fuzz cbor_fuzz didx509_fuzz snp_report_fuzz amd_cert_fuzz release_policy_fuzz
     tar_fuzz ttrpc_fuzz builtin_fuzz regex_nfa_fuzz"
targets=${FUZZ_TARGETS:-$all}
# shellcheck disable=SC2086
ninja -C build-fuzz -j2 $targets
for t in $targets; do
  dir="fuzz/corpus-$t"
  mkdir -p "$dir"
  # Seeds: the corpus policies for the parser, recorded request inputs for evaluation.
  if [ "$t" = parser_fuzz ]; then
    for p in $shared/corpus/kata/*/policy.rego; do cp "$p" "$dir/seed-$(basename "$(dirname "$p")").rego"; done
  elif [ "$t" = eval_fuzz ]; then
    python3 -c 'import json,sys,glob
for i,l in enumerate(open(sys.argv[2])):
    open(sys.argv[1]+"/seed-%03d.json"%i,"w").write(json.dumps(json.loads(l)["input"]))' "$dir" "$shared/corpus/kata/pod-exec/trace.jsonl"
  elif [ "$t" = cbor_fuzz ]; then
    cp $shared/vectors/microsoft-cosesign1go/*.cose $shared/vectors/microsoft-confidential-sidecar-containers/body.uvm_reference_info.bin "$dir/" 2>/dev/null || true
  elif [ "$t" = snp_report_fuzz ]; then
    cp $shared/vectors/google-go-sev-guest/attestation.bin $shared/vectors/virtee-sev/report_milan.bin "$dir/" 2>/dev/null || true
  elif [ "$t" = builtin_fuzz ]; then
    # One seed per builtin index with a few argument shapes.
    python3 -c 'import sys
for i in range(256):
    for j, a in enumerate([b"[\"abc\", \"b\"]", b"[1, 2.5, -3]", b"[[1,2],{\"k\":\"v\"}]"]):
        open("%s/seed-%03d-%d" % (sys.argv[1], i, j), "wb").write(bytes([i]) + a)' "$dir"
  elif [ "$t" = regex_nfa_fuzz ]; then
    # "pattern\ntext1\0text2": the corpus policies' regex.match patterns (their $(...) filled in
    # as the policies do), each with a recorded request string it matches and a near miss.
    python3 -c 'import glob,json,os,re,sys
pats, texts = set(), set()
def walk(v):
    if isinstance(v, dict): [walk(x) for x in v.values()]
    elif isinstance(v, list): [walk(x) for x in v]
    elif isinstance(v, str) and len(v) < 1000: texts.add(v)
for d in glob.glob(sys.argv[2] + "/corpus/kata/*/"):
    src = open(d + "policy.rego").read()
    subst = {"bundle-id": "[a-z0-9]{64}", "sandbox-id": "[a-z0-9]{64}", "sandbox-name": "[a-z0-9-]+",
             "sandbox-namespace": "default"}
    for k in ("sfprefix", "cpath", "ipv4_a", "ip_p", "svc_name", "dns_label"):
        m = re.search(r"\"%s\": (\"(?:[^\"\\]|\\.)*\")" % k, src)
        if m: subst[k] = json.loads(m.group(1))
    for m in re.finditer(r"\"(\^(?:[^\"\\]|\\.)*)\"", src):
        p = json.loads("\"" + m.group(1) + "\"")
        for _ in range(3): p = re.sub(r"\$\(([a-z0-9_-]+)\)", lambda x: subst.get(x.group(1), x.group(0)), p)
        if "$(" not in p: pats.add(p)
    for l in open(d + "trace.jsonl"): walk(json.loads(l)["input"])
# No trace sets these; the policies allow them.
texts |= {"AZURE_CLIENT_ID=0c4f-9a1B", "AZURE_TENANT_ID=", "AZURE_TENANT_ID=72f988bf-86f1",
          "AZURE_AUTHORITY_HOST=https://login.microsoftonline.com/",
          "AZURE_FEDERATED_TOKEN_FILE=/var/run/secrets/azure/tokens/azure-identity-token"}
texts = sorted(texts)
for i, p in enumerate(sorted(pats)):
    try: r = re.compile(p)
    except re.error: continue
    hit = next((t for t in texts if r.search(t)), texts[i % len(texts)])
    miss = max((t for t in texts if not r.search(t)), key=lambda t: len(os.path.commonprefix([t, hit])))
    open("%s/seed-%02d" % (sys.argv[1], i), "wb").write((p + "\n" + hit + "\0" + miss).encode())
# What the policies do not use: \B, (?<name>, non-ASCII and invalid UTF-8 text, a program too
# large for the bit-parallel simulation (Pike VM).
for i, s in enumerate([b"\\bfoo\\B|(?<n>a|b)+c\nfoo_bar\0a foo b, abbc", b"^.\\W\\s[^a]$\n\xc3\xa9\xff \xe2\x82\0\xc3\xa9- a",
                       b"a[ab]{260}b|-\\d{2,3}\\b\nx-12 \0" + b"a" * 300 + b"b"]):
    open("%s/seed-x%d" % (sys.argv[1], i), "wb").write(s)' "$dir" "$shared"
  elif [ "$t" = amd_cert_fuzz ]; then
    cp $shared/vectors/google-go-sev-guest/vcek_milan.der $shared/vectors/virtee-sev/vcek_turin.der "$dir/" 2>/dev/null || true
  fi
  echo "== $t for ${secs}s"
  # A finding stops that target, not the queue; crash files land in fuzz/findings/.
  mkdir -p fuzz/findings
  if ! "./build-fuzz/$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
      -artifact_prefix=fuzz/findings/ "$dir" >"fuzz/findings/$t.log" 2>&1; then
    failed="${failed:-} $t"
  fi
  tail -5 "fuzz/findings/$t.log"
done
if [ -n "${failed:-}" ]; then
  echo "findings in:$failed (see fuzz/findings/)"
  exit 1
fi
