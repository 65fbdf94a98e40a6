#!/usr/bin/env bash
# README command 1: the four-site ADC demo (DESIGN.md "Command-line
# contract", issue 8 item 1).
#
#   scripts/demo.sh [--out DIR] [--keep-running] [--short] [--bin DIR]
#
# Installs missing Debian packages (scripts/setup.sh), builds segledgerd,
# segctl and segaudit (scripts/build.sh release; a second run rebuilds only
# what changed), makes a development CA and certificates, starts four
# segledgerd nodes on 127.0.0.1 with mTLS - the MAH, the upstream CMO, the
# downstream (conjugation) CMO and the fill-finish site - and records an
# antibody-drug conjugate's chain through `segctl append` as each party's
# operators and QA would (scripts/demo/steps/*.json, in order):
#
#   registrations: parties, sites, the product and its segmentation plan,
#   quality agreements, MAH staff on site -> cell bank -> culture and harvest
#   -> QC and site release -> dispatch to the downstream CMO -> receipt (a
#   3.8 L quantity discrepancy that stays an open finding) and incoming
#   acceptance -> purification -> conjugation with a drug-linker lot -> DS QC
#   and site release -> dispatch to fill-finish with a temperature logger ->
#   receipt, logger report with an excursion, deviation investigated and
#   closed, incoming acceptance -> formulation and filling -> DP QC and site
#   release -> trace codes -> MAH market release.
#
# Each Dispatch's evidence travels from the sender's node to the receiver's
# node by itself (the receiver's Receipt is accepted only once it arrived),
# and each Receipt's back; the MAH follows every site's log. The demo then
# exports the MAH's audit bundle (`segctl export`), verifies it offline
# (`segaudit verify`), writes the HTML report and the EPCIS 2.0 document,
# prints a summary and stops the nodes with SIGTERM.
#
# Options:
#   --out DIR        output directory (default: build/demo in the repository).
#                    Its demo files are replaced on every run; nodes left
#                    running by an earlier run in DIR are stopped first.
#   --keep-running   leave the nodes up (mTLS) and write DIR/stop.sh
#   --short          skip setup.sh and the build: use the binaries in --bin
#                    DIR, $SEGLEDGER_BUILD_DIR or build/release (the test)
#   --bin DIR        build tree holding node/segledgerd, client/segctl and
#                    tools/segaudit (implies nothing else)
#
# Writes DIR/bundle (the MAH's audit bundle: its log, every followed site
# log and the hand-off evidence), DIR/report.html, DIR/epcis.jsonld,
# DIR/nodes.json ([{"name","origin","address","vkey"}]), DIR/verify.json,
# DIR/summary.json + summary.txt, DIR/certs (ca.pem, inspector.pem and
# inspector.key are a read-only client's credentials), DIR/nodes/<name>/
# (config, data, log, pid). Exit 0 when every check of the summary passed,
# 1 when one failed, 2 usage error, 3 a node or a command failed.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PY=/usr/bin/python3
DEMO_PY=$ROOT/scripts/demo/demo.py
STEPS=$ROOT/scripts/demo/steps
NODES=(mah cmo-up cmo-down fill)
declare -A KEY_OF=([mah]=MAH [cmo-up]=UP [cmo-down]=DOWN [fill]=FILL)

out=$ROOT/build/demo
keep=0
short=0
bin=""
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }
while [[ $# -gt 0 ]]; do
  case $1 in
    --out) [[ $# -ge 2 ]] || usage; out=$2; shift 2 ;;
    --out=*) out=${1#--out=}; shift ;;
    --keep-running) keep=1; shift ;;
    --short) short=1; shift ;;
    --bin) [[ $# -ge 2 ]] || usage; bin=$2; shift 2 ;;
    -h | --help) usage ;;
    *) echo "demo.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
mkdir -p "$out"
DIR=$(cd "$out" && pwd)
T0=$SECONDS

say() { printf '%s\n' "$*"; }
die() { printf 'demo.sh: %s\n' "$*" >&2; exit 3; }

# ---------------------------------------------------------------- build
if [[ $short -eq 0 ]]; then
  say "== setup: Debian packages (scripts/setup.sh)"
  "$ROOT/scripts/setup.sh"
  say "== build: scripts/build.sh release segledgerd segctl segaudit"
  "$ROOT/scripts/build.sh" release segledgerd segctl segaudit
  bin=${bin:-$ROOT/build/release}
else
  bin=${bin:-${SEGLEDGER_BUILD_DIR:-$ROOT/build/release}}
fi
bin=$(cd "$bin" && pwd)
SEGLEDGERD=$bin/node/segledgerd
SEGCTL=$bin/client/segctl
SEGAUDIT=$bin/tools/segaudit
for b in "$SEGLEDGERD" "$SEGCTL" "$SEGAUDIT"; do
  [[ -x $b ]] || die "missing $b (build it, or pass --bin DIR)"
done
T_BUILT=$SECONDS

# ------------------------------------------------- stale nodes, fresh DIR
# Stops a node whose pid file is $1, if that pid is still our segledgerd.
stop_pidfile() {
  local f=$1 pid
  [[ -f $f ]] || return 0
  pid=$(cat "$f")
  if [[ -n $pid ]] && tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" |
      grep -qF "segledgerd serve --config $(dirname "$f")/config.textproto"; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 200); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      echo "demo.sh: node $pid did not stop in 20 s; killing it" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$f"
}
for n in "${NODES[@]}"; do stop_pidfile "$DIR/nodes/$n/pid"; done
rm -rf "$DIR/certs" "$DIR/nodes" "$DIR/work" "$DIR/bundle" "$DIR/report.html" \
  "$DIR/epcis.jsonld" "$DIR/nodes.json" "$DIR/verify.json" "$DIR/verify.txt" \
  "$DIR/summary.json" "$DIR/summary.txt" "$DIR/stop.sh"
mkdir -p "$DIR/work" "$DIR/nodes"
VARS=$DIR/work/vars.json

# Until the end, a failure stops the nodes this run started.
started=()
cleanup() {
  local rc=$?
  if [[ $keep -eq 0 || $rc -ne 0 ]]; then
    for n in "${started[@]}"; do stop_pidfile "$DIR/nodes/$n/pid"; done
  fi
}
trap cleanup EXIT

# ----------------------------------------------------- certificates, keys
say "== certificates: development CA, one server certificate per node, client certificates"
clients=(inspector)
for n in "${NODES[@]}"; do clients+=("operator-$n" "qa-$n"); done
node_args=()
for n in "${NODES[@]}"; do node_args+=(--node "$n"); done
"$ROOT/scripts/make-dev-certs.sh" "$DIR/certs" "${node_args[@]}" "${clients[@]}" 2>/dev/null

$PY "$DEMO_PY" init-vars "$VARS"
$PY "$DEMO_PY" set "$VARS" DIR "$DIR"
read -r -a ports <<<"$($PY "$DEMO_PY" ports 4)"
i=0
for n in "${NODES[@]}"; do
  k=${KEY_OF[$n]}
  mkdir -p "$DIR/nodes/$n"
  origin=$($PY "$DEMO_PY" get "$VARS" "${k}_ORIGIN")
  vkey=$("$SEGLEDGERD" init --data "$DIR/nodes/$n/data" --origin "$origin" \
    --key-name "$origin" 2>"$DIR/nodes/$n/init.log")
  $PY "$DEMO_PY" set "$VARS" "${k}_VKEY" "$vkey"
  $PY "$DEMO_PY" set "$VARS" "${k}_PORT" "${ports[$i]}"
  i=$((i + 1))
done

# ------------------------------------------------------------ the nodes
say "== nodes: four segledgerd on 127.0.0.1 with mTLS"
for n in "${NODES[@]}"; do
  $PY "$DEMO_PY" node-config "$VARS" "$n" "$DIR/nodes/$n/config.textproto"
  # nohup: with --keep-running the nodes outlive this terminal.
  nohup "$SEGLEDGERD" serve --config "$DIR/nodes/$n/config.textproto" \
    --ready-file "$DIR/nodes/$n/ready" >"$DIR/nodes/$n/log" 2>&1 &
  echo $! >"$DIR/nodes/$n/pid"
  started+=("$n")
done
for n in "${NODES[@]}"; do
  for _ in $(seq 1 200); do
    [[ -s $DIR/nodes/$n/ready ]] && break
    kill -0 "$(cat "$DIR/nodes/$n/pid")" 2>/dev/null ||
      die "node $n exited: $(tail -3 "$DIR/nodes/$n/log")"
    sleep 0.1
  done
  [[ -s $DIR/nodes/$n/ready ]] || die "node $n not ready after 20 s"
  say "   $n  $(cat "$DIR/nodes/$n/ready")  $($PY "$DEMO_PY" get "$VARS" "${KEY_OF[$n]}_ORIGIN")"
done
$PY "$DEMO_PY" nodes-json "$VARS" "$DIR/nodes.json"

# segctl as client certificate $2 (operator, qa, inspector) of node $1.
ctl() {
  local n=$1 who=$2
  shift 2
  local cert=$who-$n
  [[ $who == inspector ]] && cert=inspector
  "$SEGCTL" --node "$(cat "$DIR/nodes/$n/ready")" --server-name "$n" \
    --ca "$DIR/certs/ca.pem" --cert "$DIR/certs/$cert.pem" \
    --key "$DIR/certs/$cert.key" "$@"
}

# step NODE WHO TEMPLATE [WAIT_SECONDS]: renders scripts/demo/steps/TEMPLATE
# and appends it on NODE as WHO. With WAIT_SECONDS, a refusal for missing
# cross-site evidence (FAILED_PRECONDITION: the MAH's registrations not yet
# followed, a dispatch's evidence not yet delivered) is retried until then.
step() {
  local n=$1 who=$2 tmpl=$3 wait=${4:-0}
  local base=$DIR/work/${tmpl%.json}
  $PY "$DEMO_PY" render "$VARS" "$STEPS/$tmpl" "$base.jsonl"
  local deadline=$((SECONDS + wait)) tries=0
  while true; do
    tries=$((tries + 1))
    if ctl "$n" "$who" append "$base.jsonl" >"$base.acks" 2>"$base.err"; then
      break
    fi
    if [[ $SECONDS -lt $deadline ]] && grep -q FAILED_PRECONDITION "$base.err"; then
      sleep 0.2
      continue
    fi
    echo "demo.sh: step $tmpl on $n refused: $(cat "$base.err")" >&2
    exit 3
  done
  $PY "$DEMO_PY" capture "$VARS" "$base.jsonl" "$base.acks"
  local first last count
  count=$(wc -l <"$base.acks")
  first=$(head -1 "$base.acks" | sed 's/.*"index":\([0-9]*\).*/\1/')
  last=$(tail -1 "$base.acks" | sed 's/.*"index":\([0-9]*\).*/\1/')
  printf '   %-9s %-8s %-38s %d record(s), index %s..%s%s\n' "$n" "$who" \
    "${tmpl%.json}" "$count" "$first" "$last" \
    "$([[ $tries -gt 1 ]] && echo "  (waited for peer evidence)")"
}

# ------------------------------------------------------------ the chain
say "== registrations"
step mah qa 01-mah-registrations.json
step cmo-up qa 02-up-registrations.json
step cmo-down qa 03-down-registrations.json
step fill qa 04-fill-registrations.json

say "== upstream CMO: cell bank, culture and harvest, release, dispatch"
step cmo-up operator 10-up-cell-bank-harvest.json 60
step cmo-up qa 11-up-qc-release.json
step cmo-up operator 12-up-dispatch.json
step cmo-up operator 13-up-transport-report.json

say "== downstream CMO: receipt, acceptance, purification, conjugation, release, dispatch"
step cmo-down operator 20-down-receipt.json 60
step cmo-down qa 21-down-acceptance.json
step cmo-down operator 22-down-drug-linker.json 60
step cmo-down operator 23-down-purification-conjugation.json
step cmo-down qa 24-down-ds-qc-release.json
step cmo-down operator 25-down-dispatch.json

say "== fill-finish: receipt, excursion and deviation, acceptance, filling, release"
step fill operator 30-fill-receipt.json 60
step fill qa 31-fill-deviation-close-acceptance.json
step fill operator 32-fill-formulation-filling.json 60
step fill qa 33-fill-dp-qc-release.json
step fill operator 34-fill-trace-codes.json

say "== MAH: market release"
step mah qa 40-mah-market-release.json
T_CHAIN=$SECONDS

# ------------------------------------------- settle: checkpoints, peers
say "== waiting for hand-off evidence and the MAH's follower"
for n in "${NODES[@]}"; do ctl "$n" operator checkpoint-now >/dev/null; done
settled=0
for _ in $(seq 1 300); do
  for n in "${NODES[@]}"; do
    ctl "$n" operator status >"$DIR/work/status-$n.json" 2>"$DIR/work/status-$n.err" || true
  done
  if $PY "$DEMO_PY" settled "$VARS" "$DIR/work"; then
    settled=1
    break
  fi
  sleep 0.2
done
[[ $settled -eq 1 ]] || say "   (not settled after 60 s: see the summary)"

# --------------------------------------------------- export and verify
say "== export the MAH's audit bundle and verify it offline"
ctl mah qa export --out "$DIR/bundle" >"$DIR/work/export.json"
set +e
"$SEGAUDIT" verify "$DIR/bundle" --format=json --no-progress >"$DIR/verify.json" 2>"$DIR/work/verify.err"
verify_rc=$?
"$SEGAUDIT" verify "$DIR/bundle" --no-progress >"$DIR/verify.txt" 2>&1
set -e
[[ $verify_rc -le 1 ]] || die "segaudit verify failed ($verify_rc): $(cat "$DIR/work/verify.err")"
"$SEGAUDIT" report "$DIR/bundle" --html "$DIR/report.html"
"$SEGAUDIT" epcis "$DIR/bundle" --out "$DIR/epcis.jsonld"
# The MAH node's own view over its log, every followed log and the evidence
# it holds (exit 1: findings at or above warning, as expected here).
findings_rc=0
ctl mah qa findings >"$DIR/work/findings.json" 2>"$DIR/work/findings.err" ||
  findings_rc=$?
[[ $findings_rc -le 1 ]] || rm -f "$DIR/work/findings.json"

# ------------------------------------------------------- stop or keep
if [[ $keep -eq 1 ]]; then
  cat >"$DIR/stop.sh" <<EOF
#!/usr/bin/env bash
# Stops the demo's nodes (SIGTERM: each writes a final checkpoint).
for n in ${NODES[*]}; do
  f="$DIR/nodes/\$n/pid"
  [[ -f \$f ]] || continue
  pid=\$(cat "\$f")
  if tr '\\0' ' ' 2>/dev/null <"/proc/\$pid/cmdline" | grep -q "segledgerd serve"; then
    kill -TERM "\$pid"
    for _ in \$(seq 1 200); do kill -0 "\$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f "\$f"
done
EOF
  chmod +x "$DIR/stop.sh"
  stopped="left running; stop them with $DIR/stop.sh"
else
  for n in "${NODES[@]}"; do
    pid=$(cat "$DIR/nodes/$n/pid")
    kill -TERM "$pid"
  done
  for n in "${NODES[@]}"; do
    pid=$(cat "$DIR/nodes/$n/pid")
    rc=0
    wait "$pid" || rc=$?
    [[ $rc -eq 0 ]] || say "   node $n exited with $rc (see $DIR/nodes/$n/log)"
    rm -f "$DIR/nodes/$n/pid"
  done
  started=()
  stopped="stopped (SIGTERM)"
fi

# ------------------------------------------------------------- summary
$PY "$DEMO_PY" set "$VARS" timing "build $((T_BUILT - T0)) s, chain $((T_CHAIN - T_BUILT)) s, total after build $((SECONDS - T_BUILT)) s"
$PY "$DEMO_PY" set "$VARS" stopped "$stopped"
set +e
$PY "$DEMO_PY" summary "$VARS" "$DIR"
rc=$?
set -e
exit $rc
