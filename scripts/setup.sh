#!/usr/bin/env bash
# Installs the Debian 12 packages segledger needs, only when some are
# missing (apt-get update first, as a fresh machine has no package lists).
# Usage: scripts/setup.sh        (run as root, or with sudo available)
#
# Why each group: the build toolchain; the libraries of DESIGN.md; CLI11 for
# command lines; Debian's python3 modules for the Python ops example and the
# EPCIS schema check; graphviz renders the report's custody graph; chromium
# renders the HTML report in its browser test; clang-14 and its runtime
# build the libFuzzer targets.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config
  librocksdb-dev rocksdb-tools
  libprotobuf-dev protobuf-compiler
  libgrpc++-dev protobuf-compiler-grpc
  libabsl-dev libssl-dev openssl
  libgtest-dev libgmock-dev libbenchmark-dev
  libcli11-dev
  python3 python3-grpcio python3-protobuf python3-jsonschema
  python3-cryptography
  graphviz chromium
  clang-14 libclang-rt-14-dev
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
