#!/usr/bin/env bash
# Installs the Debian bookworm packages Confidant builds with, when missing.
# Runs apt-get only as root; otherwise it names what is missing.
set -euo pipefail
pkgs=(build-essential cmake ninja-build pkg-config libre2-dev libgmp-dev libyaml-cpp-dev libyaml-dev
      libssl-dev nlohmann-json3-dev libgtest-dev libbenchmark-dev
      # integrity: layers (tar, gzip, zstd), and the independent tools the tests compare with
      libarchive-dev libdeflate-dev libzstd-dev e2fsprogs cryptsetup-bin
      # agent: ttrpc messages, containers
      libprotobuf-dev protobuf-compiler runc busybox-static
      # attestation service, key broker, SKR sidecar; registry tests
      libsqlite3-dev libcpp-httplib-dev docker-registry skopeo)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "missing Debian packages (run as root to install): ${missing[*]}" >&2
  exit 1
fi
echo "installing: ${missing[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
