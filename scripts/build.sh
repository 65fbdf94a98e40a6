#!/usr/bin/env bash
# Configures and builds one configuration, reusing an earlier build tree.
# Usage: scripts/build.sh [release|debug|asan|tsan] [ninja targets...]
# Build trees: build/<config>.
set -euo pipefail
cd "$(dirname "$0")/.."

config=${1:-release}
shift || true
case "$config" in
  release) args=(-DCMAKE_BUILD_TYPE=Release) ;;
  debug) args=(-DCMAKE_BUILD_TYPE=Debug) ;;
  asan) args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DSEGLEDGER_SANITIZE=ON -DSEGLEDGER_BUILD_BENCHMARKS=OFF) ;;
  tsan) args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DSEGLEDGER_TSAN=ON -DSEGLEDGER_BUILD_BENCHMARKS=OFF) ;;
  *) echo "build.sh: unknown configuration '$config' (release|debug|asan|tsan)" >&2; exit 2 ;;
esac

dir=build/$config
if [[ ! -f $dir/build.ninja ]]; then
  cmake -S . -B "$dir" -G Ninja "${args[@]}" >/dev/null
fi
jobs=$(nproc)
cmake --build "$dir" --parallel "$jobs" ${1:+--target "$@"}
