#!/usr/bin/env bash
# Bundle tampering loop (issue 10, "Tampering", exported bundles): random
# damage to a copy of an audit bundle, one mutation per copy, each copy
# checked by the real `segaudit verify` binary.
#
# Mutations (cycled): flip (XOR one byte with a random non-zero value),
# truncate (to a random shorter length, 0 included), cut (delete one byte
# in the middle), insert (one random byte at a random offset), delete (the
# whole file), reorder (swap two files of the same kind when there are two,
# else swap two lines of a text file, two 32-byte hashes of a tile, two
# 64-byte signatures, or the first two length-prefixed entries of an entry
# bundle). Targets (cycled): MANIFEST, keys, checkpoint, checkpoints/<size>,
# hash tiles, entry bundles, signature bundles, cosigned checkpoints, peer
# evidence. A mutation that leaves the bytes unchanged (two equal lines or
# files) is drawn again.
#
# Every damaged copy must make `segaudit verify` exit 1 (findings) or 2
# (input it cannot read: a MANIFEST or keys file that does not parse);
# exit 0 is a missed tamper, a signal or a timeout is a crash or hang. All
# three fail the run; the damaged copy is kept as missed-<n> / crash-<n>.
# Two exceptions, counted apart and not failed, because the copy then makes
# exactly the same claims: two MANIFEST lines of the same kind swapped (the
# unsigned index; log lines follow the exporter's --data order, so their
# order means nothing), and two signature lines of one signed note swapped
# (C2SP signed notes give signature order no meaning). Lines of different
# kinds swapped are refused (canonical form).
#
#   scripts/tamper-loop.sh [--cases N] [--bundle DIR] [--dir DIR]
#                          [--bin BUILD_DIR] [--seed S] [--short]
#
#   --cases N    damaged copies (default 1000; --short:
#                $SEGLEDGER_TAMPER_CASES or 120)
#   --bundle D   bundle to damage (default: tests/faults/seg_make_fault_bundle
#                writes one with two logs, a key rotation, checkpoints at
#                100, 200, 300, a cosignature and peer evidence)
#   --dir DIR    work directory (default: mktemp, removed on success)
#   --bin DIR    build tree (default $SEGLEDGER_BIN_DIR or build/release)
#
# Prints a table of cases per target and exit code, and one summary line.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cases=1000
bundle=""
dir=""
bin=${SEGLEDGER_BIN_DIR:-$root/build/release}
seed=$$
while [[ $# -gt 0 ]]; do
  case $1 in
    --cases) cases=$2; shift 2 ;;
    --bundle) bundle=$2; shift 2 ;;
    --dir) dir=$2; shift 2 ;;
    --bin) bin=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --short) cases=${SEGLEDGER_TAMPER_CASES:-120}; shift ;;
    *) echo "tamper-loop: unknown argument $1" >&2; exit 2 ;;
  esac
done
segaudit=$bin/tools/segaudit
maker=$bin/tests/faults/seg_make_fault_bundle
[[ -x $segaudit ]] || { echo "tamper-loop: $segaudit not built" >&2; exit 2; }
keep=0
if [[ -z $dir ]]; then
  dir=$(mktemp -d /tmp/tamper-loop.XXXXXX)
else
  mkdir -p "$dir"
  keep=1
fi
RANDOM=$seed
start_s=$SECONDS

if [[ -z $bundle ]]; then
  [[ -x $maker ]] || { echo "tamper-loop: $maker not built" >&2; exit 2; }
  rm -rf "$dir/fixture"
  bundle=$("$maker" "$dir/fixture") || { echo "tamper-loop: fixture failed" >&2; exit 1; }
fi
bundle=$(cd "$bundle" && pwd)

verify() {  # verify DIR -> sets code
  code=0
  timeout 120 "$segaudit" verify "$1" --no-progress --format=json \
    >"$dir/verify.out" 2>"$dir/verify.err" || code=$?
}
verify "$bundle"
[[ $code == 0 ]] || { echo "tamper-loop: the undamaged bundle does not verify (exit $code): $(head -c 600 "$dir/verify.out")" >&2; exit 1; }

targets=(MANIFEST keys checkpoint checkpoints tile entries signatures cosignature evidence)
mutations=(flip truncate cut insert delete reorder)

files_of() {  # files_of TARGET: paths relative to the bundle
  (cd "$bundle" && find . -type f | sed 's|^\./||' | sort) | case $1 in
    MANIFEST) grep -x MANIFEST ;;
    keys) grep -x keys ;;
    checkpoint) grep -v '^cosignatures/' | grep '/checkpoint$' ;;
    checkpoints) grep -v '^cosignatures/' | grep '/checkpoints/' ;;
    tile) grep '/tile/[0-9]' ;;
    entries) grep '/tile/entries/' ;;
    signatures) grep '/signatures/' ;;
    cosignature) grep '^cosignatures/' | grep -v '^cosignatures/evidence/' ;;
    evidence) grep '^cosignatures/evidence/' ;;
  esac || true
}

rand() { echo $(((RANDOM * 32768 + RANDOM) % $1)); }
fsize() { stat -c %s "$1"; }

# Writes byte value $2 (0-255) at offset $3 of file $1.
put_byte() { printf "$(printf '\\%03o' "$2")" | dd of="$1" bs=1 seek="$3" conv=notrunc status=none; }
get_byte() { od -An -tu1 -j "$2" -N1 "$1" | tr -d ' '; }

# Swaps [a, a+n) and [b, b+n) of file $1 (a + n <= b).
swap_chunks() {
  local f=$1 a=$2 b=$3 n=$4
  dd if="$f" of="$dir/ca" bs=1 skip="$a" count="$n" status=none
  dd if="$f" of="$dir/cb" bs=1 skip="$b" count="$n" status=none
  dd if="$dir/cb" of="$f" bs=1 seek="$a" conv=notrunc status=none
  dd if="$dir/ca" of="$f" bs=1 seek="$b" conv=notrunc status=none
}

# reorder TARGET FILE (absolute) LIST...: see the header.
reorder() {
  local target=$1 f=$2
  shift 2
  local others=("$@")
  if ((${#others[@]} >= 2)); then
    local g=$case_dir/${others[$(rand ${#others[@]})]}
    [[ $g != "$f" ]] || return 1
    cmp -s "$f" "$g" && return 1
    mv "$f" "$dir/swap" && mv "$g" "$f" && mv "$dir/swap" "$g"
    what="swap with ${g#"$case_dir"/}"
    return 0
  fi
  local size
  size=$(fsize "$f")
  case $target in
    tile | signatures)
      local w=32
      [[ $target == signatures ]] && w=64
      local n=$((size / w))
      ((n >= 2)) || return 1
      local i j
      i=$(rand $((n - 1)))
      j=$((i + 1 + $(rand $((n - i - 1)))))
      cmp -s <(dd if="$f" bs=1 skip=$((i * w)) count=$w status=none) \
        <(dd if="$f" bs=1 skip=$((j * w)) count=$w status=none) && return 1
      swap_chunks "$f" $((i * w)) $((j * w)) $w
      what="swap records $i and $j"
      ;;
    entries)
      local l0 l1
      l0=$(od -An -tu2 --endian=big -j0 -N2 "$f" | tr -d ' ')
      ((size > l0 + 4)) || return 1
      l1=$(od -An -tu2 --endian=big -j $((2 + l0)) -N2 "$f" | tr -d ' ')
      ((size >= l0 + l1 + 4)) || return 1
      {
        tail -c +$((l0 + 3)) "$f" | head -c $((l1 + 2))
        head -c $((l0 + 2)) "$f"
        tail -c +$((l0 + l1 + 5)) "$f"
      } >"$dir/swap"
      cmp -s "$dir/swap" "$f" && return 1
      mv "$dir/swap" "$f"
      what="swap entries 0 and 1"
      ;;
    *)
      local n
      n=$(wc -l <"$f")
      ((n >= 2)) || return 1
      local i j
      i=$((1 + $(rand $((n - 1)))))
      j=$((i + 1 + $(rand $((n - i)))))
      awk -v i="$i" -v j="$j" '{ l[NR] = $0 } END { t = l[i]; l[i] = l[j]; l[j] = t;
        for (k = 1; k <= NR; k++) print l[k] }' "$f" >"$dir/swap"
      cmp -s "$dir/swap" "$f" && return 1
      local li lj
      li=$(sed -n "${i}p" "$f")
      lj=$(sed -n "${j}p" "$f")
      if [[ $target == MANIFEST && ${li%% *} == "${lj%% *}" ]]; then
        void_reason="two MANIFEST lines of one kind"
      elif [[ $li == "— "* && $lj == "— "* ]]; then
        void_reason="two signature lines of one note"
      fi
      mv "$dir/swap" "$f"
      what="swap lines $i and $j"
      ;;
  esac
}

# mutate MUTATION TARGET: damages one file of case_dir; sets what and rel.
mutate() {
  local m=$1 target=$2
  local list
  mapfile -t list < <(files_of "$target")
  ((${#list[@]} > 0)) || return 1
  rel=${list[$(rand ${#list[@]})]}
  local f=$case_dir/$rel size off
  size=$(fsize "$f")
  case $m in
    flip)
      ((size > 0)) || return 1
      off=$(rand "$size")
      local x=$((1 + $(rand 255)))
      put_byte "$f" $(($(get_byte "$f" "$off") ^ x)) "$off"
      what="byte $off ^= $x"
      ;;
    truncate)
      ((size > 0)) || return 1
      off=$(rand "$size")
      truncate -s "$off" "$f"
      what="truncated to $off of $size"
      ;;
    cut)
      ((size > 0)) || return 1
      off=$(rand "$size")
      { head -c "$off" "$f"; tail -c +$((off + 2)) "$f"; } >"$dir/cut"
      mv "$dir/cut" "$f"
      what="byte $off deleted"
      ;;
    insert)
      off=$(rand $((size + 1)))
      local v
      v=$(rand 256)
      { head -c "$off" "$f"; printf "$(printf '\\%03o' "$v")"; tail -c +$((off + 1)) "$f"; } >"$dir/ins"
      mv "$dir/ins" "$f"
      what="byte $v inserted at $off"
      ;;
    delete)
      rm "$f"
      what="file deleted"
      ;;
    reorder)
      reorder "$target" "$f" "${list[@]}" || return 1
      ;;
  esac
}

declare -A tally=()
missed=0
crashed=0
void=0
run=0
for ((n = 1; n <= cases; n++)); do
  target=${targets[$(((n - 1) % ${#targets[@]}))]}
  m=${mutations[$((((n - 1) / ${#targets[@]}) % ${#mutations[@]}))]}
  case_dir=$dir/case
  ok=0
  for ((attempt = 0; attempt < 20; attempt++)); do
    void_reason=""
    rm -rf "$case_dir"
    cp -a "$bundle" "$case_dir"
    if mutate "$m" "$target"; then ok=1; break; fi
  done
  if ((ok == 0)); then
    tally["$target/$m/none"]=$((${tally["$target/$m/none"]:-0} + 1))
    continue
  fi
  run=$((run + 1))
  verify "$case_dir"
  tally["$target/exit$code"]=$((${tally["$target/exit$code"]:-0} + 1))
  if [[ $code == 1 || $code == 2 ]]; then
    continue
  fi
  if [[ $code == 0 && -n $void_reason ]]; then
    # Same claims, other order (see the header). Counted, not failed.
    void=$((void + 1))
    echo "tamper-loop: accepted case $n: $rel ($what): $void_reason" >&2
    continue
  fi
  if [[ $code == 0 ]]; then
    missed=$((missed + 1))
    mv "$case_dir" "$dir/missed-$n"
    echo "tamper-loop: MISSED case $n: $m $rel ($what): segaudit verify exit 0" >&2
  else
    crashed=$((crashed + 1))
    mv "$case_dir" "$dir/crash-$n"
    echo "tamper-loop: CRASH case $n: $m $rel ($what): exit $code: $(head -c 400 "$dir/verify.err")" >&2
  fi
done
rm -rf "$case_dir"

printf '%-12s %8s %8s %8s %8s\n' target exit1 exit2 exit0 other
for t in "${targets[@]}"; do
  other=0
  for k in "${!tally[@]}"; do
    [[ $k == "$t/exit"* && $k != "$t/exit0" && $k != "$t/exit1" && $k != "$t/exit2" ]] &&
      other=$((other + ${tally[$k]}))
  done
  printf '%-12s %8d %8d %8d %8d\n' "$t" "${tally[$t/exit1]:-0}" "${tally[$t/exit2]:-0}" \
    "${tally[$t/exit0]:-0}" "$other"
done
skipped=$((cases - run))
echo "tamper-loop: seed=$seed cases=$run detected=$((run - missed - crashed - void))" \
  "missed=$missed crashed=$crashed same_claims_reordered=$void no_op_skipped=$skipped seconds=$((SECONDS - start_s))"
if ((missed + crashed > 0)); then
  echo "tamper-loop: FAIL; damaged copies kept in $dir" >&2
  exit 1
fi
if ((keep == 0)); then rm -rf "$dir"; fi
