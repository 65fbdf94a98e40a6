#!/usr/bin/python3
"""End-to-end test of examples/python/segledger_ops.py against a real
segledgerd (issue 8 item 2).

Starts the built segledgerd on 127.0.0.1:0 (insecure, then mTLS with
development certificates), appends a party, product, site and lot through
the built segctl, then runs the Python example: tails checkpoints while new
ones are signed, reads the lot's timeline, verifies entries' inclusion
proofs and checkpoint signatures. Then checks that it fails (exit 1, one
line on stderr) with a verifier key of the wrong log key, and through a
man-in-the-middle gRPC proxy that alters the proof, the entry or the
checkpoint on the wire; and exit 3 for an unreachable node.

Usage: python_ops_test.py BUILD_DIR SOURCE_DIR. Exit 0 when all checks pass.
Every wait is bounded.
"""
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import time
from concurrent import futures

BUILD, SRC = sys.argv[1], sys.argv[2]
SEGLEDGERD = os.path.join(BUILD, "node", "segledgerd")
SEGCTL = os.path.join(BUILD, "client", "segctl")
OPS = os.path.join(SRC, "examples", "python", "segledger_ops.py")
MAKE_CERTS = os.path.join(SRC, "scripts", "make-dev-certs.sh")
PY = "/usr/bin/python3"

ORIGIN = "mah.example/segledger"
PARTY = "https://mah.example/party"
SITE = "https://mah.example/site/1"
PRODUCT = "https://mah.example/product/adc-1"
LOT = "urn:epc:class:lgtin:4012345.012345.DP001"
FAILURES = []


def check(cond, what, detail=""):
    if not cond:
        FAILURES.append(what)
        print(f"FAIL: {what}\n{detail}", file=sys.stderr)
    else:
        print(f"ok: {what}")


def run(cmd, timeout=60, stdin=None):
    return subprocess.run(cmd, capture_output=True, text=True,
                          timeout=timeout, input=stdin)


def header(t, site=True, who=("qa-1", "Zhang Min", "qa"),
           meaning="SIGNATURE_MEANING_APPROVED"):
    h = {"partyId": PARTY,
         "eventTime": {"time": t, "utcOffsetMinutes": 480},
         "signatures": [{"personId": who[0], "printedName": who[1],
                         "role": who[2], "meaning": meaning, "signedAt": t}]}
    if site:
        h["siteId"] = SITE
    return h


def record(request_id, kind, body, who=("qa-1", "Zhang Min", "qa"),
           meaning="SIGNATURE_MEANING_APPROVED"):
    return json.dumps({
        "requestId": request_id,
        "actor": {"personId": who[0], "printedName": who[1], "role": who[2],
                  "meaning": meaning},
        "record": {kind: body}})


def records():
    """A MAH that registers itself, its product (one fill stage at its own
    site) and the site, then produces one drug-product lot."""
    span = {"from": "2024-01-01T00:00:00Z", "until": "2029-01-01T00:00:00Z"}
    cold = {"minCentiCelsius": 200, "maxCentiCelsius": 800}
    op = ("op-7", "Li Wei", "operator")
    return "\n".join([
        record("reg-party", "partyRegistration", {
            "header": header("2026-11-25T09:00:00Z", site=False),
            "legalName": "MAH Biologics Co., Ltd.",
            "role": "PARTY_ROLE_MAH", "province": "CN-SH"}),
        record("reg-product", "productRegistration", {
            "header": header("2026-11-25T09:10:00Z", site=False),
            "productId": PRODUCT, "name": "ADC-1 for injection",
            "pilotClass": "PILOT_CLASS_ADC",
            "stages": [{
                "stageId": "fill", "name": "formulation and filling",
                "materialId": "https://mah.example/material/dp",
                "materialKind": "MATERIAL_KIND_DRUG_PRODUCT",
                "approvedSiteIds": [SITE], "storage": cold,
                "transport": cold, "maxTransitHours": 48}],
            "massBalanceTolerancePercent": "0.5", "densityGPerMl": "1"}),
        record("reg-site", "siteRegistration", {
            "header": header("2026-11-25T09:20:00Z"),
            "name": "MAH fill-finish plant",
            "address": "1 Science Road, Shanghai", "province": "CN-SH",
            "licence": {"number": "SITE-LIC-1", "validity": span},
            "authorisations": [{"productId": PRODUCT, "stageId": "fill",
                                "validity": span}]}),
        record("lot-dp001", "lotProduced", {
            "header": header("2026-11-25T11:00:00Z", who=op,
                             meaning="SIGNATURE_MEANING_PERFORMED"),
            "lotId": LOT, "productId": PRODUCT,
            "materialId": "https://mah.example/material/dp",
            "stageId": "fill",
            "production": {"from": "2026-11-25T09:30:00Z",
                           "until": "2026-11-25T11:00:00Z"},
            "quantity": {"value": "1000", "unit": "H87"}},
            who=op, meaning="SIGNATURE_MEANING_PERFORMED"),
    ]) + "\n"


class Node:
    """A segledgerd child process; `extra` are TLS flags or --insecure."""

    def __init__(self, tmp, data, name, extra):
        self.ready = os.path.join(tmp, f"ready-{name}")
        self.log = os.path.join(tmp, f"node-{name}.log")
        cmd = [SEGLEDGERD, "serve", "--data", data, "--listen", "127.0.0.1:0",
               "--ready-file", self.ready, "--party", PARTY,
               "--site-id", SITE] + extra
        with open(self.log, "w") as log:
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=log)
        self.address = ""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and self.proc.poll() is None:
            if os.path.exists(self.ready):
                with open(self.ready) as f:
                    self.address = f.read().strip()
                if self.address:
                    break
            time.sleep(0.05)
        if not self.address:
            self.stop()
            with open(self.log) as f:
                sys.exit(f"segledgerd did not become ready: {f.read()}")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


class Ops:
    """Runs the example with fixed connection flags and a shared stub dir."""

    def __init__(self, conn, stubs):
        self.conn, self.stubs = conn, stubs

    def __call__(self, *args, timeout=60):
        return run([PY, OPS] + self.conn + ["--stubs", self.stubs] +
                   list(args), timeout=timeout)

    def popen(self, *args):
        return subprocess.Popen([PY, OPS] + self.conn +
                                ["--stubs", self.stubs] + list(args),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)


def one_line_error(r):
    return r.stderr.count("\n") == 1 and r.stderr.startswith("segledger_ops:")


def json_lines(text):
    return [json.loads(l) for l in text.splitlines() if l.strip()]


def read_line(proc, seconds):
    """One stdout line of `proc` within `seconds`, or ""."""
    ready, _, _ = select.select([proc.stdout], [], [], seconds)
    return proc.stdout.readline() if ready else ""


def ctl(node, conn, *args, stdin=None):
    return run([SEGCTL, "--node", node.address] + conn + list(args),
               stdin=stdin)


def test_insecure(tmp, data, vkey, other_vkey):
    node = Node(tmp, data, "insecure", ["--insecure"])
    conn = ["--insecure"]
    try:
        app = ctl(node, conn, "append", "-", stdin=records())
        check(app.returncode == 0 and len(app.stdout.splitlines()) == 4,
              "segctl appends 4 records", app.stdout + app.stderr)
        check(ctl(node, conn, "checkpoint-now").returncode == 0,
              "checkpoint-now at size 4")
        ops = Ops(["--node", node.address, "--insecure"],
                  os.path.join(tmp, "stubs"))
        tail_checkpoints(node, conn, ops, vkey)
        timeline(ops)
        verify_entries(ops, vkey)
        keys = os.path.join(tmp, "keys")  # as a bundle's keys file
        with open(keys, "w") as f:
            f.write(other_vkey + "\n" + vkey + "\n")
        r = ops("--vkey-file", keys, "verify-entry", "2")
        check(r.returncode == 0 and '"inclusion": "verified"' in r.stdout,
              "verify-entry with --vkey-file (two keys, one right)",
              r.stdout + r.stderr)
        wrong_key(ops, other_vkey)
        tampering(tmp, node, ops, vkey)
    finally:
        node.stop()
    gone = Ops(["--node", node.address, "--insecure", "--timeout", "2"],
               os.path.join(tmp, "stubs"))
    r = gone("--vkey", vkey, "verify-entry", "0")
    check(r.returncode == 3 and one_line_error(r),
          "a stopped node: exit 3, one line", r.stderr)


def tail_checkpoints(node, conn, ops, vkey):
    tail = ops.popen("--vkey", vkey, "checkpoints", "--count", "2",
                     "--seconds", "30")
    try:
        first = read_line(tail, 30)
        check('"size": 4' in first and '"signature": "verified"' in first,
              "tail: first checkpoint is the latest (size 4), verified", first)
        # A fifth record and a new checkpoint while the tail is connected.
        extra = records().splitlines()[0].replace("reg-party", "reg-party-2")
        check(ctl(node, conn, "append", "-", stdin=extra + "\n").returncode
              == 0, "append a fifth record")
        check(ctl(node, conn, "checkpoint-now").returncode == 0,
              "checkpoint-now at size 5")
        second = read_line(tail, 30)
        check('"size": 5' in second and '"consistent_with": 4' in second,
              "tail: second checkpoint (size 5) consistent with size 4",
              second)
        tail.wait(timeout=30)
        check(tail.returncode == 0, "tail exits 0 after --count 2",
              tail.stderr.read())
    finally:
        if tail.poll() is None:
            tail.kill()
            tail.wait(timeout=10)


def timeline(ops):
    r = ops("timeline", LOT)
    events = [e["event"] for e in json_lines(r.stdout)] if r.returncode == 0 \
        else []
    check(r.returncode == 0 and len(events) == 1 and
          events[0]["kind"] == "lot_produced" and
          events[0]["ref"]["index"] == "3" and events[0]["siteId"] == SITE,
          "timeline of the lot: its production at index 3",
          r.stdout + r.stderr)
    r = ops("timeline", "urn:epc:class:lgtin:4012345.012345.NOPE")
    check(r.returncode == 2 and one_line_error(r),
          "timeline of an unknown lot: exit 2", r.stdout + r.stderr)


def verify_entries(ops, vkey):
    for index, size in ((0, 0), (4, 5), (1, 4)):
        args = ["--vkey", vkey, "verify-entry", str(index), "--origin",
                ORIGIN]
        if size:
            args += ["--size", str(size)]
        r = ops(*args)
        out = json_lines(r.stdout)
        ok = (r.returncode == 0 and len(out) == 1 and
              out[0]["inclusion"] == "verified" and
              out[0]["entry_signature"] == "verified" and
              out[0]["index"] == index and
              out[0]["tree_size"] == (size or 5))
        check(ok, f"verify-entry {index} at size {size or 'latest'}",
              r.stdout + r.stderr)
    r = ops("--vkey", vkey, "verify-entry", "3")
    check(json_lines(r.stdout)[0]["record"] == "lot_produced",
          "verify-entry 3 names the record kind", r.stdout)
    r = ops("--vkey", vkey, "verify-entry", "0", "--origin", "other/log")
    check(r.returncode == 1 and one_line_error(r),
          "verify-entry expecting another origin: exit 1", r.stderr)


def wrong_key(ops, other_vkey):
    r = ops("--vkey", other_vkey, "verify-entry", "3")
    check(r.returncode == 1 and one_line_error(r) and
          "no valid signature" in r.stderr,
          "verify-entry with another key of the same name: exit 1",
          r.stdout + r.stderr)
    r = ops("--vkey", other_vkey, "checkpoints", "--count", "1",
            "--seconds", "10")
    check(r.returncode == 1 and one_line_error(r),
          "checkpoints with the wrong key: exit 1", r.stdout + r.stderr)


class TamperProxy:
    """A gRPC proxy that forwards unary calls as raw bytes to the node and
    alters one kind of response (mode) before handing it to the client."""

    def __init__(self, target, stubs_dir):
        import grpc

        sys.path.insert(0, stubs_dir)
        from segledger.v1 import ledger_service_pb2 as lp

        self.grpc, self.lp, self.mode = grpc, lp, "none"
        self.channel = grpc.insecure_channel(target)
        proxy = self

        class Handler(grpc.GenericRpcHandler):
            def service(self, details):
                method = details.method

                def forward(request, context):
                    try:
                        resp = proxy.channel.unary_unary(method)(
                            request, timeout=10)
                    except grpc.RpcError as e:
                        context.abort(e.code(), e.details())
                    return proxy.tamper(method, resp)

                return grpc.unary_unary_rpc_method_handler(forward)

        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        self.server.add_generic_rpc_handlers((Handler(),))
        self.port = self.server.add_insecure_port("127.0.0.1:0")
        self.server.start()

    def tamper(self, method, resp):
        lp, mode = self.lp, self.mode
        if mode == "proof" and method.endswith("/GetInclusionProof"):
            m = lp.InclusionProofResponse.FromString(resp)
            m.proof[0] = bytes([m.proof[0][0] ^ 1]) + m.proof[0][1:]
            return m.SerializeToString()
        if mode == "entry" and method.endswith("/GetEntry"):
            m = lp.EntryResponse.FromString(resp)
            b = bytearray(m.entry.body)
            b[-1] ^= 1
            m.entry.body = bytes(b)
            return m.SerializeToString()
        if mode == "root" and method.endswith("/GetCheckpoint"):
            m = lp.CheckpointResponse.FromString(resp)
            lines = m.note.split("\n")
            lines[2] = ("A" if lines[2][0] != "A" else "B") + lines[2][1:]
            m.note = "\n".join(lines)
            return m.SerializeToString()
        return resp

    def stop(self):
        self.server.stop(grace=None)
        self.channel.close()


def tampering(tmp, node, ops, vkey):
    proxy = TamperProxy(node.address, ops.stubs)
    try:
        via = Ops(["--node", f"127.0.0.1:{proxy.port}", "--insecure"],
                  ops.stubs)
        r = via("--vkey", vkey, "verify-entry", "3")
        check(r.returncode == 0, "through the proxy, unaltered: exit 0",
              r.stdout + r.stderr)
        for mode, words in (("proof", "inclusion"), ("entry", "leaf hash"),
                            ("root", "no valid signature")):
            proxy.mode = mode
            r = via("--vkey", vkey, "verify-entry", "3")
            check(r.returncode == 1 and one_line_error(r) and
                  words in r.stderr,
                  f"altered {mode} on the wire: exit 1 ({words})",
                  r.stdout + r.stderr)
    finally:
        proxy.stop()


def test_mtls(tmp, data, vkey):
    certs = os.path.join(tmp, "certs")
    r = run(["bash", MAKE_CERTS, certs, "--node", "node", "inspector"])
    if r.returncode != 0:
        check(False, "make-dev-certs.sh", r.stderr)
        return
    config = os.path.join(tmp, "node.textproto")
    with open(config, "w") as f:
        f.write('principals { match: "inspector" party: "mpa" '
                'role: "inspector" }\n')
    c = lambda n: os.path.join(certs, n)  # noqa: E731
    node = Node(tmp, data, "mtls",
                ["--config", config, "--tls-cert", c("node.pem"),
                 "--tls-key", c("node.key"), "--tls-ca", c("ca.pem")])
    try:
        tls = ["--ca", c("ca.pem"), "--cert", c("inspector.pem"), "--key",
               c("inspector.key")]
        ops = Ops(["--node", node.address] + tls, os.path.join(tmp, "stubs"))
        r = ops("--vkey", vkey, "verify-entry", "3")
        check(r.returncode == 0 and '"inclusion": "verified"' in r.stdout,
              "mTLS as inspector: verify-entry 3", r.stdout + r.stderr)
        r = ops("timeline", LOT)
        check(r.returncode == 0 and "lot_produced" in r.stdout,
              "mTLS as inspector: timeline", r.stdout + r.stderr)
        r = ops("--vkey", vkey, "checkpoints", "--count", "1")
        check(r.returncode == 0 and '"signature": "verified"' in r.stdout,
              "mTLS as inspector: checkpoints", r.stdout + r.stderr)
        plain = Ops(["--node", node.address, "--insecure", "--timeout", "3"],
                    os.path.join(tmp, "stubs"))
        r = plain("--vkey", vkey, "verify-entry", "3")
        check(r.returncode == 3 and one_line_error(r),
              "plaintext client against the mTLS node: exit 3", r.stderr)
    finally:
        node.stop()


def init(tmp, name):
    data = os.path.join(tmp, name)
    r = run([SEGLEDGERD, "init", "--data", data, "--origin", ORIGIN,
             "--key-name", ORIGIN])
    if r.returncode != 0:
        sys.exit(f"segledgerd init: {r.stderr}")
    return data, r.stdout.strip()


def main():
    with tempfile.TemporaryDirectory(prefix="segledger-pyops-") as tmp:
        data, vkey = init(tmp, "mah")
        # Same log name, another key: what an attacker's log would present.
        _, other_vkey = init(tmp, "impostor")
        check(vkey != other_vkey and vkey.split("+")[0] ==
              other_vkey.split("+")[0], "two keys of one name")
        test_insecure(tmp, data, vkey, other_vkey)
        test_mtls(tmp, data, vkey)
    if FAILURES:
        print(f"{len(FAILURES)} check(s) failed: {FAILURES}", file=sys.stderr)
        return 1
    print("python ops example: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
