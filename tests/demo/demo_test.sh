#!/usr/bin/env bash
# CTest demo_short: runs scripts/demo.sh --short twice into one directory
# and checks what it promises (DESIGN.md "Command-line contract", issue 8):
#   1. --keep-running: the summary (hand-offs verified in both logs, exactly
#      the expected findings, the bundle verifies, report and EPCIS written),
#      nodes.json, and the nodes left up: the inspector's certificate reads
#      (the harvest lot's timeline with its shipment's condition report,
#      its mass balance per shipment) but cannot append; a receipt naming a
#      dispatch without verified evidence is refused; DIR/stop.sh stops
#      every node.
#   2. a second run into the same DIR with a node of a previous run still up
#      (started again by hand from its pid file's config) replaces it, passes
#      again and leaves no node running.
# Usage: demo_test.sh SOURCE_DIR BUILD_DIR OUT_DIR
set -euo pipefail
src=$1
build=$2
out=$3
# A failure stops the nodes a --keep-running run left up, and a run first
# stops those of an earlier run that failed before its stop.sh. Best
# effort: the stop's own outcome must not replace the failure reported.
stop_nodes() { [[ ! -x $out/stop.sh ]] || "$out/stop.sh" >/dev/null 2>&1 || true; }
fail() {
  echo "demo_test: FAIL: $*" >&2
  stop_nodes
  exit 1
}
stop_nodes
rm -rf "$out"

# ---- run 1, --keep-running
"$src/scripts/demo.sh" --short --bin "$build" --out "$out" --keep-running \
  >"$out.run1.log" 2>&1 || { cat "$out.run1.log"; fail "demo.sh run 1 exited $?"; }
cat "$out.run1.log"

check_summary() {
  /usr/bin/python3 - "$out" <<'PY'
import json, os, sys
d = sys.argv[1]
s = json.load(open(os.path.join(d, "summary.json")))
def need(cond, what):
    if not cond:
        sys.exit("summary.json: " + what + ": " + json.dumps(s))
need(s["ok"] is True and s["failed_checks"] == [], "checks failed")
need([h["transfer"] for h in s["handoffs"]] == ["T-HV-001", "T-DS-001"],
     "hand-offs")
for h in s["handoffs"]:
    need(h["verified_both_logs"] and h["dispatch_evidence_at_receiver"] >= 1
         and h["receipt_evidence_at_sender"] >= 1, "hand-off " + h["transfer"])
need(s["findings"] == ["domain/quantity_mismatch"], "findings")
need(s["integrity_findings"] == 0, "integrity findings")
need(len(s["bundle_logs"]) == 4, "bundle logs")
need(s["epcis_events"] > 0 and s["report"], "report and EPCIS")
need(all(n > 0 for n in s["records"].values()) and len(s["records"]) == 4,
     "records per log")
# The files the contract names.
for f in ("bundle/MANIFEST", "bundle/keys", "report.html", "epcis.jsonld",
          "nodes.json", "certs/ca.pem", "certs/inspector.pem",
          "certs/inspector.key"):
    need(os.path.getsize(os.path.join(d, f)) > 0, "missing " + f)
nodes = json.load(open(os.path.join(d, "nodes.json")))
need(sorted(n["name"] for n in nodes) == ["cmo-down", "cmo-up", "fill", "mah"],
     "nodes.json names")
for n in nodes:
    need(all(n.get(k) for k in ("name", "origin", "address", "vkey")),
         "nodes.json fields")
ver = json.load(open(os.path.join(d, "verify.json")))
need([f["check"] for f in ver["findings"]] == ["domain/quantity_mismatch"],
     "verify.json findings")
html = open(os.path.join(d, "report.html")).read()
need("T-HV-001" in html and "quantity_mismatch" in html, "report content")
need("transport_condition_report</a> (transfer T-HV-001)" in html,
     "report: the shipment's condition report in its lots' timelines")
epcis = json.load(open(os.path.join(d, "epcis.jsonld")))
need(epcis.get("type") == "EPCISDocument", "EPCIS document type")
PY
}
check_summary || fail "run 1 summary"
[[ -x $out/stop.sh ]] || fail "no stop.sh with --keep-running"

# The inspector's credentials: read-only.
addr=$(/usr/bin/python3 -c 'import json,sys; print([n["address"] for n in json.load(open(sys.argv[1])) if n["name"]=="mah"][0])' "$out/nodes.json")
insp=(--node "$addr" --server-name mah --ca "$out/certs/ca.pem"
      --cert "$out/certs/inspector.pem" --key "$out/certs/inspector.key")
"$build/client/segctl" "${insp[@]}" checkpoint >/dev/null ||
  fail "inspector cannot read the MAH's checkpoint"
# The harvest lot's custody timeline shows its shipment's transport
# condition report (which names the transfer, not the lot).
"$build/client/segctl" "${insp[@]}" query timeline \
  urn:epc:class:lgtin:6901234.012345.HV001 >"$out.timeline.json" ||
  fail "inspector cannot query the harvest lot's timeline"
/usr/bin/python3 - "$out.timeline.json" <<'PY' || fail "timeline of HV001"
import json, sys
events = json.load(open(sys.argv[1]))["events"]
via = [(e["kind"], e.get("via_transfer_id", "")) for e in events]
assert ("transport_condition_report", "T-HV-001") in via, via
assert ("dispatch", "") in via and ("receipt", "") in via, via
PY
# Its mass balance names the shipment with the quantities the demo's
# seeded quantity mismatch differs by: 199.8 L dispatched, 196 L received.
"$build/client/segctl" "${insp[@]}" query balance \
  urn:epc:class:lgtin:6901234.012345.HV001 >"$out.balance.json" ||
  fail "inspector cannot query the harvest lot's mass balance"
/usr/bin/python3 - "$out.balance.json" <<'PY' || fail "mass balance of HV001"
import json, sys
ships = json.load(open(sys.argv[1]))["shipments"]
want = [{"transfer_id": "T-HV-001", "received": True, "dispatched": "199.8",
         "received_quantity": "196", "unit": "LTR", "unit_note": ""}]
assert ships == want, ships
PY
rec='{"requestId":"x","record":{"keyRevocation":{"keyName":"k","reason":"r"}}}'
set +e
echo "$rec" | "$build/client/segctl" "${insp[@]}" append - >/dev/null 2>"$out.insp.err"
rc=$?
set -e
[[ $rc -ne 0 ]] && grep -q PERMISSION_DENIED "$out.insp.err" ||
  fail "inspector append was not refused (exit $rc: $(cat "$out.insp.err"))"

# A receipt naming a dispatch the fill-finish node holds no verified
# evidence of is refused (R-RECEIPT-EVIDENCE), and nothing is appended.
faddr=$(/usr/bin/python3 -c 'import json,sys; print([n["address"] for n in json.load(open(sys.argv[1])) if n["name"]=="fill"][0])' "$out/nodes.json")
op=(--node "$faddr" --server-name fill --ca "$out/certs/ca.pem"
    --cert "$out/certs/operator-fill.pem" --key "$out/certs/operator-fill.key")
size_of() { "$build/client/segctl" "${op[@]}" status |
  /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["size"])'; }
before=$(size_of)
head -1 "$out/work/30-fill-receipt.jsonl" | /usr/bin/python3 -c '
import json, sys
r = json.loads(sys.stdin.read())
r["requestId"] = "ghost-receipt"
r["record"]["receipt"]["transferId"] = "T-GHOST"
r["record"]["receipt"]["dispatch"]["leafHash"] = "A" * 43 + "="
print(json.dumps(r))' >"$out.ghost.jsonl"
set +e
"$build/client/segctl" "${op[@]}" append "$out.ghost.jsonl" >/dev/null 2>"$out.ghost.err"
rc=$?
set -e
[[ $rc -ne 0 ]] && grep -q FAILED_PRECONDITION "$out.ghost.err" ||
  fail "receipt without verified dispatch evidence accepted (exit $rc: $(cat "$out.ghost.err"))"
[[ $(size_of) == "$before" ]] || fail "refused receipt changed the log size"

pids=()
for n in mah cmo-up cmo-down fill; do pids+=("$(cat "$out/nodes/$n/pid")"); done
"$out/stop.sh"
for p in "${pids[@]}"; do
  kill -0 "$p" 2>/dev/null && fail "node $p still running after stop.sh"
done

# ---- run 2 into the same DIR, with a node of run 1 restarted by hand.
"$build/node/segledgerd" serve --config "$out/nodes/mah/config.textproto" \
  >/dev/null 2>&1 &
stale=$!
echo "$stale" >"$out/nodes/mah/pid"
for _ in $(seq 1 100); do
  "$build/client/segctl" "${insp[@]}" checkpoint >/dev/null 2>&1 && break
  sleep 0.1
done
"$src/scripts/demo.sh" --short --bin "$build" --out "$out" \
  >"$out.run2.log" 2>&1 || { cat "$out.run2.log"; fail "demo.sh run 2 exited $?"; }
cat "$out.run2.log"
wait "$stale" 2>/dev/null || true
kill -0 "$stale" 2>/dev/null && fail "stale node $stale of run 1 still running"
check_summary || fail "run 2 summary"
[[ ! -e $out/stop.sh ]] || fail "stop.sh left from run 1"
for n in mah cmo-up cmo-down fill; do
  [[ ! -e $out/nodes/$n/pid ]] || fail "pid file of $n left after run 2"
done
echo "demo_test: OK"
