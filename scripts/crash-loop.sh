#!/usr/bin/env bash
# Node-level crash loop (issue 10, "Crash loops"): a real segledgerd child
# under concurrent segctl append streams is killed with SIGKILL at random
# moments and restarted, again and again. After every kill:
#
#   1. offline, before the restart: seg_store_check opens the killed store
#      with LogStore's open check (the full check + VerifyLogStore every
#      --full-every kills and always in the last one, the tail check
#      otherwise) and looks up every record segctl ever acknowledged: same
#      index, same leaf hash; the size never shrinks;
#   2. the node restarts on it (its own open check must pass);
#   3. over gRPC: `segctl entries` lists the entries added since the last
#      check with contiguous indexes, every ack of this round among them
#      with the same leaf hash; the latest checkpoint is no larger than the
#      log, and inclusion proofs of its last entry and of a random
#      acknowledged entry (tlog-proof files holding the signed checkpoint)
#      verify with `segaudit verify-proof` against the log's key;
#   4. the previous round's stream file is sent again with the same request
#      ids: every line acknowledged before is answered identically
#      (idempotent retry after a crash), the rest is appended.
#
# At the end the node is stopped with SIGTERM, fully checked offline,
# restarted, exported with `segctl export` and the bundle verified with
# `segaudit verify` (every checkpoint, tile, signature and consistency).
#
#   scripts/crash-loop.sh [--kills N] [--dir DIR] [--bin BUILD_DIR]
#                         [--seed S] [--appenders K] [--full-every N]
#                         [--max-seconds T] [--short]
#
#   --kills N        SIGKILLs (default 200; --short: $SEGLEDGER_CRASH_KILLS
#                    or 10)
#   --dir DIR        work directory (default: a new mktemp dir, removed on
#                    success); must not hold an earlier run
#   --bin DIR        build tree with node/segledgerd, client/segctl,
#                    tools/segaudit, tests/faults/seg_store_check
#                    (default $SEGLEDGER_BIN_DIR or build/release)
#   --appenders K    concurrent segctl append processes per round (default
#                    4: one stream of 1,000 records and K-1 of 200)
#   --full-every N   full offline check every N kills (default 5 with
#                    --short, 100 otherwise; always after the last kill)
#   --max-seconds T  fail if the run takes longer (default 30 + 10 per kill)
#
# Prints one summary line: kills, entries, acknowledged records, seconds
# and seconds per kill cycle. Exit 0 when every check passed, 1 on the first
# failure (the work directory is kept and named).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
kills=200
dir=""
bin=${SEGLEDGER_BIN_DIR:-$root/build/release}
seed=$$
appenders=4
full_every=""
max_seconds=""
short=0
while [[ $# -gt 0 ]]; do
  case $1 in
    --kills) kills=$2; shift 2 ;;
    --dir) dir=$2; shift 2 ;;
    --bin) bin=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --appenders) appenders=$2; shift 2 ;;
    --full-every) full_every=$2; shift 2 ;;
    --max-seconds) max_seconds=$2; shift 2 ;;
    --short) short=1; kills=${SEGLEDGER_CRASH_KILLS:-10}; shift ;;
    *) echo "crash-loop: unknown argument $1" >&2; exit 2 ;;
  esac
done
[[ -n $full_every ]] || full_every=$((short ? 5 : 100))
[[ -n $max_seconds ]] || max_seconds=$((30 + 10 * kills))

segledgerd=$bin/node/segledgerd
segctl=$bin/client/segctl
segaudit=$bin/tools/segaudit
store_check=$bin/tests/faults/seg_store_check
for b in "$segledgerd" "$segctl" "$segaudit" "$store_check"; do
  [[ -x $b ]] || { echo "crash-loop: $b not built" >&2; exit 2; }
done

keep=0
if [[ -z $dir ]]; then
  dir=$(mktemp -d /tmp/crash-loop.XXXXXX)
else
  [[ ! -e $dir/data ]] || { echo "crash-loop: $dir holds an earlier run" >&2; exit 2; }
  mkdir -p "$dir"
  keep=1
fi
data=$dir/data
node_pid=""
addr=""
start_s=$SECONDS
RANDOM=$seed

fail() {
  echo "crash-loop: FAIL (seed $seed, kill $kill_no): $*" >&2
  echo "crash-loop: work directory kept: $dir (node log $dir/node.log)" >&2
  [[ -z $node_pid ]] || kill -KILL "$node_pid" 2>/dev/null || true
  exit 1
}
cleanup() {
  [[ -z $node_pid ]] || kill -KILL "$node_pid" 2>/dev/null || true
}
trap cleanup EXIT

# Time spent per phase (microseconds), for the summary line.
declare -A spent=()
t_last=${EPOCHREALTIME/./}
lap() {  # lap PHASE: charges the time since the last lap to PHASE
  local now=${EPOCHREALTIME/./}
  spent[$1]=$((${spent[$1]:-0} + now - t_last))
  t_last=$now
}

ctl() { timeout 60 "$segctl" --node "$addr" --insecure --timeout 20 "$@"; }

start_node() {
  rm -f "$dir/ready"
  "$segledgerd" serve --data "$data" --listen 127.0.0.1:0 --insecure \
    --config "$dir/node.textproto" --ready-file "$dir/ready" \
    2>>"$dir/node.log" &
  node_pid=$!
  local i
  for ((i = 0; i < 3000; i++)); do
    [[ -s $dir/ready ]] && break
    kill -0 "$node_pid" 2>/dev/null || { node_pid=""; fail "node exited at start (open check?)"; }
    sleep 0.01
  done
  [[ -s $dir/ready ]] || fail "node not ready after 30 s"
  addr=$(head -n1 "$dir/ready")
}

# records FILE PREFIX COUNT: JSON lines of key registrations (a core record
# every rule set accepts), request ids PREFIX-0..COUNT-1.
records() {
  awk -v p="$2" -v n="$3" 'BEGIN {
    for (i = 0; i < n; i++)
      printf "{\"requestId\":\"%s-%d\",\"actor\":{\"personId\":\"op-%d\",\"printedName\":\"Crash Loop\",\"role\":\"operator\",\"meaning\":\"SIGNATURE_MEANING_PERFORMED\"},\"record\":{\"keyRegistration\":{\"keyName\":\"device-%s-%d\",\"publicKey\":\"QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE=\",\"purpose\":\"crash loop\"}}}\n", p, i, i % 7, p, i
  }' >"$1"
}

# The "{"index":N,"leaf_hash":"X"" prefix of ack and entry lines, sorted.
keys_of() { grep -ho '^{"index":[0-9]*,"leaf_hash":"[^"]*"' "$@" | sort -u || true; }

offline_check() {  # offline_check full|tail
  local flag=""
  [[ $1 == full ]] && flag=--full
  local out
  out=$("$store_check" --data "$data" $flag --acked "$dir/acked.jsonl" \
    --min-size "$size" 2>"$dir/check.err") || fail "offline $1 check: $(cat "$dir/check.err")"
  checked_acks=$(sed -n 's/.*"acked":\([0-9]*\).*/\1/p' <<<"$out")
}

# prove_and_verify INDEX: tlog-proof of INDEX in the latest checkpoint,
# verified offline against the log's key.
prove_and_verify() {
  ctl prove inclusion "$1" --proof-file "$dir/p.proof" >/dev/null 2>"$dir/p.err" ||
    fail "prove inclusion $1: $(cat "$dir/p.err")"
  "$segaudit" verify-proof "$dir/p.proof" --key "$vkey" >"$dir/vp.out" 2>&1 ||
    fail "verify-proof of entry $1: $(cat "$dir/vp.out")"
}

online_check() {
  local st new_size cp cp_size
  st=$(ctl status 2>"$dir/ctl.err") || fail "status: $(cat "$dir/ctl.err")"
  new_size=$(sed -n 's/.*"size":"\{0,1\}\([0-9]*\).*/\1/p' <<<"$st" | head -n1)
  [[ -n $new_size ]] || new_size=0
  ((new_size >= size)) || fail "size went from $size to $new_size"
  if ((new_size > size)); then
    ctl entries --from "$size" --to "$new_size" >"$dir/entries.jsonl" 2>"$dir/ctl.err" ||
      fail "entries [$size, $new_size): $(cat "$dir/ctl.err")"
    # Contiguous, in order, nothing else.
    awk -v lo="$size" -v hi="$new_size" '
      { if (!match($0, /^\{"index":[0-9]+,/)) { print "bad line " NR; exit 1 }
        i = substr($0, 10, RLENGTH - 10) + 0
        if (i != lo + NR - 1) { print "index " i " at line " NR; exit 1 } }
      END { if (NR != hi - lo) { print NR " entries, want " hi - lo; exit 1 } }' \
      "$dir/entries.jsonl" >"$dir/awk.out" || fail "entries [$size, $new_size) not contiguous: $(cat "$dir/awk.out")"
    # Every ack of this round at or above the old size is listed as acked.
    keys_of "$dir"/round/ack.* | awk -F'[:,]' -v lo="$size" '$2 + 0 >= lo' >"$dir/want"
    keys_of "$dir/entries.jsonl" >"$dir/have"
    missing=$(comm -23 "$dir/want" "$dir/have" | head -n3)
    [[ -z $missing ]] || fail "acknowledged but not served: $missing"
  fi
  size=$new_size
  cp=$(ctl checkpoint 2>"$dir/ctl.err") || { cp=""; grep -q NOT_FOUND "$dir/ctl.err" || fail "checkpoint: $(cat "$dir/ctl.err")"; }
  if [[ -n $cp ]]; then
    cp_size=$(sed -n 2p <<<"$cp")
    ((cp_size <= size)) || fail "checkpoint size $cp_size beyond log size $size"
    if ((cp_size > 0)); then
      prove_and_verify $((cp_size - 1))
      prove_and_verify $(((RANDOM * 32768 + RANDOM) % cp_size))
      ((cp_size >= last_cp)) || fail "checkpoint went back from $last_cp to $cp_size"
      last_cp=$cp_size
    fi
  fi
}

# Sends the previous round's stream file again: lines acknowledged then must
# be answered identically now.
retry_previous() {
  [[ -f $dir/prev/records.0 ]] || return 0
  ctl append "$dir/prev/records.0" >"$dir/retry.out" 2>"$dir/ctl.err" ||
    fail "retry of the previous stream: $(cat "$dir/ctl.err")"
  local n
  n=$(wc -l <"$dir/prev/ack.0")
  if ! head -n "$n" "$dir/retry.out" | cmp -s - "$dir/prev/ack.0"; then
    fail "retried records answered differently: $(diff <(head -n "$n" "$dir/retry.out") "$dir/prev/ack.0" | head -n 4)"
  fi
  replayed=$((replayed + n))
  cat "$dir/retry.out" >>"$dir/acked.jsonl"
}

# --- init ---
kill_no=0
vkey=$("$segledgerd" init --data "$data" --origin crash-loop.example/segledger \
  --key-name crash-loop.example 2>"$dir/init.err") || fail "init: $(cat "$dir/init.err")"
printf 'checkpoint_every: 256\ncheckpoint_interval_ms: 50\n' >"$dir/node.textproto"
: >"$dir/acked.jsonl"
size=0
last_cp=0
replayed=0
checked_acks=0
declare -A exits=()
mkdir -p "$dir/round" "$dir/prev"
start_node

for ((kill_no = 1; kill_no <= kills; kill_no++)); do
  ((SECONDS - start_s <= max_seconds)) || fail "over the time bound of $max_seconds s"
  lap other
  retry_previous
  lap retry
  rm -f "$dir"/round/*
  records "$dir/round/records.0" "r$kill_no-s" 1000
  for ((j = 1; j < appenders; j++)); do
    records "$dir/round/records.$j" "r$kill_no-a$j" 200
  done
  pids=()
  for ((j = 0; j < appenders; j++)); do
    ctl append "$dir/round/records.$j" >"$dir/round/ack.$j" 2>"$dir/round/err.$j" &
    pids+=($!)
  done
  # A random moment: 0 to 0.6 s into the load.
  sleep "$(printf '0.%03d' $((RANDOM % 600)))"
  lap load
  kill -KILL "$node_pid"
  wait "$node_pid" 2>/dev/null || true
  node_pid=""
  for ((j = 0; j < appenders; j++)); do
    code=0
    wait "${pids[$j]}" || code=$?
    exits[$code]=$((${exits[$code]:-0} + 1))
    ((code < 128)) || fail "segctl append died with signal $((code - 128))"
    [[ $code == 0 || $(wc -l <"$dir/round/err.$j") -le 1 ]] ||
      fail "segctl append exit $code with more than one stderr line"
  done
  cat "$dir"/round/ack.* >>"$dir/acked.jsonl"
  lap segctl_exit
  if ((kill_no % full_every == 0 || kill_no == kills)); then
    offline_check full
    lap offline_full
  else
    offline_check tail
    lap offline_tail
  fi
  start_node
  lap restart
  online_check
  lap online_check
  cp "$dir"/round/records.0 "$dir"/round/ack.0 "$dir/prev/"
done

# --- final: graceful stop, full check, export and offline audit ---
kill -TERM "$node_pid"
wait "$node_pid" || fail "node exit status $? on SIGTERM"
node_pid=""
offline_check full
start_node
online_check
ctl export --out "$dir/bundle" >"$dir/export.out" 2>"$dir/ctl.err" || fail "export: $(cat "$dir/ctl.err")"
"$segaudit" verify "$dir/bundle" --key "$vkey" --no-progress >"$dir/verify.out" 2>&1 ||
  fail "segaudit verify: $(tail -n 5 "$dir/verify.out")"
kill -TERM "$node_pid"
wait "$node_pid" || fail "node exit status $? on final SIGTERM"
node_pid=""

elapsed=$((SECONDS - start_s))
codes=""
for c in "${!exits[@]}"; do codes+=" exit$c=${exits[$c]}"; done
acked=$(wc -l <"$dir/acked.jsonl")
echo "crash-loop: OK seed=$seed kills=$kills entries=$size acked_lines=$acked" \
  "ack_lines_checked=$checked_acks replayed_on_retry=$replayed" \
  "checkpoint=$last_cp seconds=$elapsed" \
  "per_kill=$(awk -v e="$elapsed" -v k="$kills" 'BEGIN { printf "%.2f", e / k }')s" \
  "segctl:$codes"
phases=""
for p in "${!spent[@]}"; do
  phases+=" $p=$(awk -v t="${spent[$p]}" -v k="$kills" 'BEGIN { printf "%.2f", t / 1e6 / k }')"
done
echo "crash-loop: seconds per kill by phase:$phases"
if ((keep == 0)); then rm -rf "$dir"; fi
