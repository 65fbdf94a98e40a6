#!/usr/bin/env bash
# Builds the libFuzzer targets (clang-14, -fsanitize=fuzzer,address,undefined;
# build tree build/fuzz) and runs each for a given time or number of inputs,
# starting from the committed seeds (tests/fuzz/corpus/<target>). New inputs
# go to build/fuzz/work/<target>/corpus; crashes to .../artifacts/.
#
#   scripts/fuzz.sh [--seconds N] [--runs N] [--jobs N | --workers N]
#                   [--seeds] [targets...] [-- libFuzzer flags...]
#
#   --seconds N  run each target N seconds (default 60)
#   --runs N     stop each target after N inputs instead
#   --jobs N     run each target in libFuzzer's fork mode with N worker
#                processes (-fork=N; one per core), all feeding one corpus
#   --workers N  run N independent processes of each target on one corpus
#                (each picks up the others' new inputs; --runs is split
#                between them). Unlike fork mode's workers, which restart
#                every few seconds early in a run, each lives for the whole
#                run, so what a process keeps in memory (the fuzz build's
#                verification memo) stays warm: fuzz_log_verifier runs about
#                twice as fast this way
#   --seeds      regenerate the seed corpora (make_seeds) before running
#   targets      default: every fuzz_* target of the build
#   -- FLAGS     passed on to every target (e.g. -- -detect_leaks=0)
#
# Prints "<target>: <executions> execs, <seconds> s" per target (the sum
# over --workers, whose logs are <work>/log.<i>); exits 1 if
# any target crashed, leaked or timed out (its artifact path is printed).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=60
runs=-1
jobs=1
workers=1
seeds=0
targets=()
extra=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --seconds) seconds=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --workers) workers=$2; shift 2 ;;
    --seeds) seeds=1; shift ;;
    -h|--help) sed -n 2,27p "$0"; exit 0 ;;
    --) shift; extra=("$@"); break ;;
    -*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done

for v in "seconds=$seconds" "jobs=$jobs" "workers=$workers"; do
  if [[ ! ${v#*=} =~ ^[1-9][0-9]*$ ]]; then
    echo "fuzz.sh: --${v%%=*} must be a positive integer, got '${v#*=}'" >&2
    exit 2
  fi
done
if [[ ! $runs =~ ^(-1|[0-9]+)$ ]]; then
  echo "fuzz.sh: --runs must be a non-negative integer, got '$runs'" >&2
  exit 2
fi
if [[ $jobs -gt 1 && $workers -gt 1 ]]; then
  echo "fuzz.sh: --jobs and --workers exclude each other" >&2
  exit 2
fi

export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
dir=build/fuzz
if [[ ! -f $dir/build.ninja ]]; then
  CC=clang-14 CXX=clang++-14 cmake -S . -B "$dir" -G Ninja \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSEGLEDGER_FUZZ=ON \
    -DSEGLEDGER_BUILD_BENCHMARKS=OFF >/dev/null
fi
if [[ ${#targets[@]} -eq 0 ]]; then
  mapfile -t targets < <(sed -n 's/^ *seg_add_fuzzer(\(fuzz_[a-z_]*\).*/\1/p' \
    tests/fuzz/CMakeLists.txt)
fi
build_targets=("${targets[@]}")
[[ $seeds == 1 ]] && build_targets+=(make_seeds)
cmake --build "$dir" --parallel "$(nproc)" --target "${build_targets[@]}"
if [[ $seeds == 1 ]]; then
  "$dir/tests/fuzz/make_seeds" tests/fuzz/corpus
fi

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
status=0
# Lines of a log that count inputs: a single process's final stats, fork
# mode's "#N:" status lines and, when --runs stopped it, "INFO: fuzzed for
# N iterations" (fork mode's parent counts its workers' inputs; the last
# of these lines is the total).
count_execs() {
  sed -n -e 's/^stat::number_of_executed_units: *//p' \
    -e 's/^#\([0-9]*\): cov:.*/\1/p' \
    -e 's/^INFO: fuzzed for \([0-9]*\) iterations.*/\1/p' "$1" | tail -1
}

for t in "${targets[@]}"; do
  bin=$dir/tests/fuzz/$t
  work=$dir/work/$t
  mkdir -p "$work/corpus" "$work/artifacts"
  limit=(-max_total_time="$seconds")
  [[ $runs -ge 0 ]] && limit=(-runs="$(((runs + workers - 1) / workers))")
  [[ $jobs -gt 1 ]] && limit+=(-fork="$jobs")
  limit+=(${extra[@]+"${extra[@]}"})
  logs=("$work/log")
  [[ $workers -gt 1 ]] && logs=()
  for ((i = 1; workers > 1 && i <= workers; i++)); do logs+=("$work/log.$i"); done
  start=$(date +%s)
  pids=()
  # Stopping the script stops its workers (they run in the background).
  trap 'kill "${pids[@]}" 2>/dev/null; exit 130' INT TERM
  for log in "${logs[@]}"; do
    "$bin" "${limit[@]}" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$work/artifacts/" "$work/corpus" \
      "tests/fuzz/corpus/$t" >"$log" 2>&1 &
    pids+=($!)
  done
  result=ok
  for i in "${!pids[@]}"; do
    if ! wait "${pids[$i]}"; then
      result="FAILED (see ${logs[$i]}; artifacts in $work/artifacts)"
      status=1
    fi
  done
  trap - INT TERM
  execs=0
  for log in "${logs[@]}"; do
    n=$(count_execs "$log")
    if [[ -z $n ]]; then
      execs="$execs+?"  # a log without a count
      break
    fi
    execs=$((execs + n))
  done
  echo "$t: $execs execs, $(($(date +%s) - start)) s, $result"
done
exit $status
