#!/usr/bin/env bash
# README command 2: installs missing Debian packages, builds, runs every test.
#
#   scripts/test.sh            Release build + the whole suite (ctest)
#   CI=true scripts/test.sh    also builds the ASan+UBSan configuration and
#                              runs every label but demo, examples, faults
#                              and fuzz under it, then the same labels under
#                              ThreadSanitizer (build/tsan), then a short
#                              libFuzzer run of every fuzz target
#                              (clang-14, build/fuzz)
#   SEGLEDGER_SANITIZE_ONLY=1  only the sanitizer pass
#
# Build trees: build/release, build/asan, build/tsan, build/fuzz (reused between runs; ccache when
# installed). Exit status is ctest's.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh

export CCACHE_BASEDIR="$PWD"
export CCACHE_NOHASHDIR=1
jobs=$(nproc)
status=0

run_suite() {  # run_suite <config> [ctest args...]
  local config=$1
  shift
  scripts/build.sh "$config" ${SEGLEDGER_BUILD_TARGETS:-}
  echo "== ctest ($config) =="
  ctest --test-dir "build/$config" --output-on-failure --parallel "$jobs" \
    --timeout 600 "$@" || status=1
}

if [[ -z ${SEGLEDGER_SANITIZE_ONLY:-} ]]; then
  run_suite release
fi

if [[ ${CI:-} == true || -n ${SEGLEDGER_SANITIZE_ONLY:-} ]]; then
  # ASan+UBSan over every label but the script-driven ones (demo,
  # examples, faults) and fuzz (which runs under ASan+UBSan below).
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  run_suite asan -L 'core|store|domain|peers|node|client|tools|multisite'

  # ThreadSanitizer over the same labels. Debian's Abseil is made visible
  # to TSan by tests/support/tsan_absl_sync.cc (tsan_annotations_test shows
  # a real race is still reported), the order gRPC gives a streaming
  # reactor's operations and reactions by GrpcHandOff/GrpcTakeOver
  # (node/rpc_util.h; tsan_grpc_test), and tests/support/tsan.supp names
  # the hand-offs inside uninstrumented libraries (docs/reliability.md
  # "Sanitizers"). One area: SEGLEDGER_TSAN_LABELS=node CI=true
  # scripts/test.sh; SEGLEDGER_TSAN_LABELS=core builds only the core tests.
  tsan_labels=${SEGLEDGER_TSAN_LABELS:-'core|store|domain|peers|node|client|tools|multisite'}
  tsan_targets=""
  if [[ $tsan_labels == core ]]; then
    for t in tests/ledger/*_test.cc; do
      tsan_targets+=" $(basename "$t" .cc)"
    done
  fi
  export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$PWD/tests/support/tsan.supp"
  SEGLEDGER_BUILD_TARGETS=$tsan_targets run_suite tsan -L "$tsan_labels"

  # libFuzzer short run: 20,000 inputs or 10 s per target (scripts/fuzz.sh
  # runs them for longer).
  if [[ ! -f build/fuzz/build.ninja ]]; then
    CC=clang-14 CXX=clang++-14 cmake -S . -B build/fuzz -G Ninja \
      -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSEGLEDGER_FUZZ=ON \
      -DSEGLEDGER_BUILD_BENCHMARKS=OFF >/dev/null
  fi
  cmake --build build/fuzz --parallel "$jobs" --target seg_fuzzers
  echo "== ctest (fuzz) =="
  ctest --test-dir build/fuzz -L fuzz --output-on-failure --parallel "$jobs" ||
    status=1
fi

exit $status
