#!/usr/bin/python3
"""Helpers of scripts/demo.sh (python3 standard library only).

  demo.py ports N                         N free loopback TCP ports
  demo.py init-vars VARS                  writes the demo's variables (times
                                          relative to now, parties, people)
  demo.py set VARS KEY VALUE              sets one variable
  demo.py render VARS TEMPLATE OUT        template -> JSON lines for
                                          `segctl append` (+ OUT.names)
  demo.py capture VARS OUT ACKS           stores {"index","leaf_hash"} of
                                          the records named in OUT.names
  demo.py get VARS KEY                    prints one variable
  demo.py node-config VARS NAME OUT       NodeConfig textproto of node NAME
  demo.py nodes-json VARS OUT             DIR/nodes.json
  demo.py settled VARS WORK               exit 0 once every hand-off's
                                          evidence is held on both sides and
                                          the MAH followed every site
  demo.py summary VARS DIR                checks and prints the summary;
                                          exit 1 when a check fails

Templates (scripts/demo/steps/*.json) hold one or more JSON objects, each an
AppendRecordRequest in proto3 JSON (segledger.v1.AppendRecordRequest). They
may use:
  {{NAME}}          a variable (see init-vars)
  {{t:H}}           the chain's clock: hour H of the scenario (0..100),
                    mapped onto the last 20 hours before the demo started,
                    so every record is captured within a day of its event
  {{sha:TEXT}}      base64 SHA-256 of TEXT (off-ledger document hashes)
  {{uscc:17CHARS}}  a unified social credit code with its check character
  "$capture": "X"   (top-level key) store this record's index and leaf hash
                    as X_index / X_leaf after the append
  {"$header": [PARTY, H, MEANING, SIGNER]}   a RecordHeader of PARTY's site
                    (PARTY in MAH UP DOWN FILL; PARTY+"!": a party-level
                    record without site) at hour H signed by SIGNER (operator, qa, qp, ...)
                    with MEANING; extra keys of the object are merged in
  {"$actor": [PARTY, SIGNER]}                the entry's actor (AUTHORED)
  {"$doc": [TYPE, ID]}                       a DocumentRef
"""

import base64
import datetime
import hashlib
import json
import os
import re
import socket
import sys

UTC = datetime.timezone.utc

# Who takes part: party id, site id, log origin, province, node name.
PARTIES = {
    "MAH": ("https://mah.example/party", "https://mah.example/site/1",
            "mah.example/segledger", "CN-SH", "mah"),
    "UP": ("https://cmo-up.example/party", "https://cmo-up.example/site/1",
           "cmo-up.example/segledger", "CN-JS", "cmo-up"),
    "DOWN": ("https://cmo-down.example/party",
             "https://cmo-down.example/site/1", "cmo-down.example/segledger",
             "CN-ZJ", "cmo-down"),
    "FILL": ("https://fill.example/party", "https://fill.example/site/1",
             "fill.example/segledger", "CN-BJ", "fill"),
}

# People who sign: (person id, printed name, role).
PEOPLE = {
    ("MAH", "qa"): ("mah-qa-0001", "Zhang Min", "qa"),
    ("MAH", "qp"): ("mah-qp-0001", "Wang Fang", "qp"),
    ("MAH", "operator"): ("mah-qa-0001", "Zhang Min", "qa"),
    ("UP", "operator"): ("up-op-0042", "Li Wei", "operator"),
    ("UP", "qa"): ("up-qa-0007", "Huang Jing", "qa"),
    ("DOWN", "operator"): ("down-op-0013", "Xu Ming", "operator"),
    ("DOWN", "qa"): ("down-qa-0002", "He Yan", "qa"),
    ("FILL", "operator"): ("fill-op-0021", "Ma Lin", "operator"),
    ("FILL", "qa"): ("fill-qa-0005", "Gao Rui", "qa"),
}

SCENARIO_HOURS = 100.0
COMPRESSED_HOURS = 20.0


def rfc3339(t):
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def load(path):
    with open(path) as f:
        return json.load(f)


def save(path, v):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(v, f, indent=1, sort_keys=True)
    os.replace(tmp, path)


def cmd_ports(n):
    socks = []
    for _ in range(int(n)):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
    print(" ".join(str(s.getsockname()[1]) for s in socks))
    for s in socks:
        s.close()


def cmd_init_vars(path):
    now = datetime.datetime.now(UTC).replace(microsecond=0)
    v = {"start": rfc3339(now)}
    for key, (party, site, origin, province, node) in PARTIES.items():
        v[key + "_PARTY"] = party
        v[key + "_SITE"] = site
        v[key + "_ORIGIN"] = origin
        v[key + "_PROVINCE"] = province
        v[key + "_NODE"] = node
    v["PRODUCT"] = "https://mah.example/product/adc-1"
    for lot in ("MCB001", "HV001", "MAB001", "DL001", "DS001", "DP001"):
        v["LOT_" + lot] = "urn:epc:class:lgtin:6901234.012345." + lot
    for m in ("mcb", "harvest", "mab", "dl", "ds", "dp"):
        v["MAT_" + m] = "https://mah.example/material/" + m
    day = datetime.timedelta(days=1)
    # Validity windows around today, so the demo runs on any date.
    v["VALID_FROM"] = rfc3339(now - 400 * day)
    v["VALID_UNTIL"] = rfc3339(now + 1000 * day)
    v["STAFF_FROM"] = rfc3339(now - 30 * day)
    v["STAFF_UNTIL"] = rfc3339(now + 180 * day)
    save(path, v)


def hour(v, h):
    start = datetime.datetime.strptime(v["start"], "%Y-%m-%dT%H:%M:%SZ")
    start = start.replace(tzinfo=UTC)
    scale = COMPRESSED_HOURS / SCENARIO_HOURS
    t = start - datetime.timedelta(hours=COMPRESSED_HOURS)
    return t + datetime.timedelta(hours=float(h) * scale)


def sha_b64(text):
    return base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30,
                28)


def uscc_check(first17):
    """GB 32100-2015 check character of a unified social credit code."""
    total = sum(USCC_CHARS.index(c) * w for c, w in zip(first17, USCC_WEIGHTS))
    return USCC_CHARS[(31 - total % 31) % 31]


PLACEHOLDER = re.compile(r"\{\{([A-Za-z0-9_]+)(?::([^{}]*))?\}\}")


def substitute(v, text, where):
    def one(m):
        name, arg = m.group(1), m.group(2)
        if name == "t" and arg is not None:
            return rfc3339(hour(v, arg))
        if name == "sha" and arg is not None:
            return sha_b64(arg)
        if name == "uscc" and arg is not None:
            return arg + uscc_check(arg)
        if arg is None and name in v:
            return str(v[name])
        raise SystemExit("demo.py: %s: unknown placeholder %s" %
                         (where, m.group(0)))

    return PLACEHOLDER.sub(one, text)


def signer(party, who, meaning, t):
    pid, name, role = PEOPLE[(party, who)]
    return {"personId": pid, "printedName": name, "role": role,
            "meaning": "SIGNATURE_MEANING_" + meaning, "signedAt": t}


def expand(v, node):
    if isinstance(node, list):
        return [expand(v, x) for x in node]
    if not isinstance(node, dict):
        return node
    if "$header" in node:
        party, h, meaning, who = node["$header"]
        key = party.rstrip("!")
        t = rfc3339(hour(v, h))
        out = {"partyId": v[key + "_PARTY"]}
        if not party.endswith("!") and v[key + "_SITE"]:
            out["siteId"] = v[key + "_SITE"]
        out["eventTime"] = {"time": t, "utcOffsetMinutes": 480}
        out["signatures"] = [signer(key, who, meaning, t)]
        for k, x in node.items():
            if k != "$header":
                out[k] = expand(v, x)
        return out
    if "$actor" in node:
        party, who = node["$actor"]
        a = signer(party, who, "AUTHORED", "")
        del a["signedAt"]
        return a
    if "$doc" in node:
        typ, ident = node["$doc"]
        return {"sha256": sha_b64(ident), "type": typ, "id": ident}
    return {k: expand(v, x) for k, x in node.items()}


def cmd_render(vars_path, template, out):
    v = load(vars_path)
    with open(template) as f:
        text = substitute(v, f.read(), template)
    dec = json.JSONDecoder()
    pos, lines, names = 0, [], []
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text):
            break
        try:
            obj, pos = dec.raw_decode(text, pos)
        except json.JSONDecodeError as e:
            raise SystemExit("demo.py: %s: %s" % (template, e))
        names.append(obj.pop("$capture", "-"))
        lines.append(json.dumps(expand(v, obj), separators=(",", ":")))
    with open(out, "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(out + ".names", "w") as f:
        f.write("\n".join(names) + "\n")


def cmd_capture(vars_path, out, acks_path):
    v = load(vars_path)
    with open(out + ".names") as f:
        names = f.read().split()
    with open(acks_path) as f:
        acks = [json.loads(x) for x in f if x.strip()]
    if len(acks) != len(names):
        raise SystemExit("demo.py: %s: %d acks for %d records" %
                         (acks_path, len(acks), len(names)))
    for name, ack in zip(names, acks):
        if name != "-":
            v[name + "_index"] = ack["index"]
            v[name + "_leaf"] = ack["leaf_hash"]
    save(vars_path, v)


def cmd_set(vars_path, key, value):
    v = load(vars_path)
    v[key] = value
    save(vars_path, v)


def cmd_get(vars_path, key):
    print(load(vars_path)[key])


def tq(s):
    return json.dumps(s)  # text-format strings accept JSON escapes


def cmd_node_config(vars_path, name, out):
    v = load(vars_path)
    me = next(k for k in PARTIES if PARTIES[k][4] == name)
    d = v["DIR"]
    c = []
    c.append("# NodeConfig of the %s node, written by scripts/demo.sh" % name)
    c.append("data_dir: %s" % tq("%s/nodes/%s/data" % (d, name)))
    c.append("origin: %s" % tq(v[me + "_ORIGIN"]))
    c.append("party: %s" % tq(v[me + "_PARTY"]))
    if v[me + "_SITE"]:
        c.append("site_id: %s" % tq(v[me + "_SITE"]))
    c.append("listen: %s" % tq("127.0.0.1:%s" % v[me + "_PORT"]))
    c.append("tls_cert: %s" % tq("%s/certs/%s.pem" % (d, name)))
    c.append("tls_key: %s" % tq("%s/certs/%s.key" % (d, name)))
    c.append("tls_ca: %s" % tq("%s/certs/ca.pem" % d))
    c.append("checkpoint_interval_ms: 200")
    for role in ("operator", "qa"):
        c.append("principals { match: %s party: %s role: %s }" %
                 (tq("%s-%s" % (role, name)), tq(v[me + "_PARTY"]), tq(role)))
    c.append('principals { match: "inspector" party: '
             '"https://mpa.example/party" role: "inspector" }')
    for k, p in PARTIES.items():
        if k == me:
            continue
        c.append("principals { match: %s party: %s role: \"peer\" }" %
                 (tq(p[4]), tq(v[k + "_PARTY"])))
    for k, p in PARTIES.items():
        if k == me:
            continue
        follow = "true" if (me == "MAH" or k == "MAH") else "false"
        c.append("peers {")
        c.append("  origin: %s" % tq(v[k + "_ORIGIN"]))
        c.append("  party: %s" % tq(v[k + "_PARTY"]))
        c.append("  address: %s" % tq("127.0.0.1:%s" % v[k + "_PORT"]))
        c.append("  verifier_keys: %s" % tq(v[k + "_VKEY"]))
        c.append("  follow: %s" % follow)
        c.append("  tls_server_name: %s" % tq(p[4]))
        c.append("}")
    with open(out, "w") as f:
        f.write("\n".join(c) + "\n")


def cmd_nodes_json(vars_path, out):
    v = load(vars_path)
    nodes = []
    for k, p in PARTIES.items():
        nodes.append({"name": p[4], "origin": v[k + "_ORIGIN"],
                      "address": "127.0.0.1:%s" % v[k + "_PORT"],
                      "vkey": v[k + "_VKEY"], "party": v[k + "_PARTY"]})
    with open(out, "w") as f:
        json.dump(nodes, f, indent=2)
        f.write("\n")


# The hand-offs of the chain: (transfer, sender, receiver).
HANDOFFS = (("T-HV-001", "UP", "DOWN"), ("T-DS-001", "DOWN", "FILL"))
EXPECTED_FINDINGS = ["domain/quantity_mismatch"]


def read_status(work, node):
    try:
        with open(os.path.join(work, "status-%s.json" % node)) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def peer_of(status, origin):
    for p in (status or {}).get("peers", []):
        if p.get("origin") == origin:
            return p
    return None


def num(d, key):
    return int((d or {}).get(key, 0))


def handoff_state(v, work):
    """Per hand-off: (transfer, sender node, receiver node, dispatch evidence
    held by the receiver, receipt evidence held back by the sender)."""
    out = []
    for transfer, s, r in HANDOFFS:
        sender = read_status(work, v[s + "_NODE"])
        receiver = read_status(work, v[r + "_NODE"])
        at_r = num(peer_of(receiver, v[s + "_ORIGIN"]), "evidence_count")
        at_s = num(peer_of(sender, v[r + "_ORIGIN"]), "evidence_count")
        out.append((transfer, v[s + "_NODE"], v[r + "_NODE"], at_r, at_s))
    return out


def follow_state(v, work):
    """Per site: (node, its size, the MAH's followed size of it)."""
    mah = read_status(work, v["MAH_NODE"])
    out = []
    for k in ("UP", "DOWN", "FILL"):
        st = read_status(work, v[k + "_NODE"])
        p = peer_of(mah, v[k + "_ORIGIN"])
        out.append((v[k + "_NODE"], num(st, "size"),
                    max(num(p, "followed_size"), num(p, "verified_size"))))
    return out


def cmd_settled(vars_path, work):
    v = load(vars_path)
    for n in PARTIES.values():
        if read_status(work, n[4]) is None:
            sys.exit(1)
    if any(a < 1 or b < 1 for _, _, _, a, b in handoff_state(v, work)):
        sys.exit(1)
    if any(f < size for _, size, f in follow_state(v, work)):
        sys.exit(1)
    for n in PARTIES.values():
        for p in read_status(work, n[4]).get("peers", []):
            if num(p, "outbox_pending") > 0:
                sys.exit(1)
    sys.exit(0)


def norm(kind):
    """QuantityMismatch, quantity_mismatch -> quantitymismatch."""
    return kind.replace("_", "").lower()


def cmd_summary(vars_path, d):
    """Prints the summary, writes DIR/summary.{json,txt}; exit 1 when a
    check fails."""
    v = load(vars_path)
    work = os.path.join(d, "work")
    checks = []  # (ok, text)
    lines = ["", "== summary"]

    lines.append("records per log (signed, hash-chained, RocksDB):")
    sizes = {}
    for k, p in PARTIES.items():
        st = read_status(work, p[4])
        sizes[p[4]] = num(st, "size")
        lines.append("  %-9s %-28s %4d records  %s" %
                     (p[4], v[k + "_ORIGIN"], sizes[p[4]],
                      v[k + "_SITE"]))

    lines.append("hand-offs (signed evidence verified by the other node):")
    handoffs = []
    for transfer, s, r, at_r, at_s in handoff_state(v, work):
        ok = at_r >= 1 and at_s >= 1
        handoffs.append({"transfer": transfer, "from": s, "to": r,
                         "dispatch_evidence_at_receiver": at_r,
                         "receipt_evidence_at_sender": at_s,
                         "verified_both_logs": ok})
        lines.append("  %-9s %s -> %s: dispatch held by %s (%d), receipt "
                     "held by %s (%d)%s" % (transfer, s, r, r, at_r, s, at_s,
                                            "" if ok else "  MISSING"))
        checks.append((ok, "hand-off %s verified in both logs" % transfer))
    follow = follow_state(v, work)
    for node, size, f in follow:
        checks.append((f >= size, "MAH follows %s (%d of %d)" %
                       (node, f, size)))
    lines.append("MAH follows: " + ", ".join(
        "%s %d/%d" % (n, f, s) for n, s, f in follow))

    try:
        with open(os.path.join(d, "verify.json")) as f:
            ver = json.load(f)
    except (OSError, ValueError) as e:
        ver = {"findings": [], "logs": [], "error": str(e)}
    findings = ver.get("findings", [])
    integrity = [x for x in findings
                 if not x.get("check", "").startswith("domain/")]
    domain = sorted(x.get("check", "") for x in findings
                    if x.get("check", "").startswith("domain/"))
    logs = ver.get("logs", [])
    origins = sorted(x.get("origin", "") for x in logs)
    want = sorted(v[k + "_ORIGIN"] for k in PARTIES)
    checks.append((not integrity and "error" not in ver,
                   "bundle verifies (signatures, chains, tiles, "
                   "checkpoints, evidence)"))
    checks.append((origins == want, "bundle holds the four logs"))
    checks.append((domain == EXPECTED_FINDINGS,
                   "findings are exactly %s" % EXPECTED_FINDINGS))
    lines.append("bundle %s/bundle: %d logs (%s), %d integrity problems" %
                 (d, len(logs), ", ".join(origins), len(integrity)))
    lines.append("findings (segaudit verify; expected: the T-HV-001 "
                 "shortfall stays open, the T-DS-001 excursion is handled "
                 "by deviation DEV-FILL-001):")
    for x in findings:
        lines.append("  [%s] %s %s#%s: %s" %
                     (x.get("severity"), x.get("check"), x.get("origin"),
                      x.get("index"), x.get("detail")))
    node_findings = None
    fpath = os.path.join(work, "findings.json")
    if os.path.exists(fpath):
        with open(fpath) as f:  # JSON lines, one QueryFinding each
            node_findings = [json.loads(x) for x in f if x.strip()]
        lines.append("findings (MAH node, segctl findings):")
        for x in node_findings:
            lines.append("  [%s] %s: %s" % (x.get("severity"), x.get("kind"),
                                            x.get("message")))
        kinds = sorted(norm(x.get("kind", "")) for x in node_findings)
        checks.append((kinds == [norm(f.split("/")[-1])
                                 for f in EXPECTED_FINDINGS],
                       "MAH node's findings are exactly %s" %
                       EXPECTED_FINDINGS))

    epcis_events = 0
    try:
        with open(os.path.join(d, "epcis.jsonld")) as f:
            doc = json.load(f)
        epcis_events = len(doc.get("epcisBody", {}).get("eventList", []))
    except (OSError, ValueError):
        pass
    report_ok = os.path.getsize(os.path.join(d, "report.html")) > 0 \
        if os.path.exists(os.path.join(d, "report.html")) else False
    checks.append((report_ok, "HTML report written"))
    checks.append((epcis_events > 0, "EPCIS 2.0 document written"))

    lines.append("files:")
    for name, what in (("bundle", "audit bundle (C2SP tlog-tiles)"),
                       ("report.html", "HTML report"),
                       ("epcis.jsonld", "EPCIS 2.0 JSON-LD, %d events" %
                        epcis_events),
                       ("verify.json", "segaudit verify --format=json"),
                       ("nodes.json", "nodes: name, origin, address, vkey"),
                       ("certs", "dev CA; inspector.pem/.key: read-only")):
        lines.append("  %s/%s  %s" % (d, name, what))
    lines.append("nodes: %s" % v.get("stopped", ""))
    lines.append("time: %s" % v.get("timing", ""))
    failed = [t for ok, t in checks if not ok]
    lines.append("checks: %d/%d passed%s" %
                 (len(checks) - len(failed), len(checks),
                  "".join("\n  FAILED: " + t for t in failed)))
    text = "\n".join(lines) + "\n"
    sys.stdout.write(text)
    with open(os.path.join(d, "summary.txt"), "w") as f:
        f.write(text)
    summary = {
        "ok": not failed, "failed_checks": failed,
        "records": sizes, "handoffs": handoffs,
        "bundle_logs": origins, "integrity_findings": len(integrity),
        "findings": domain, "node_findings": node_findings,
        "epcis_events": epcis_events, "report": report_ok,
        "timing": v.get("timing", ""),
    }
    with open(os.path.join(d, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
        f.write("\n")
    sys.exit(0 if not failed else 1)


if __name__ == "__main__":
    a = sys.argv[1:]
    cmds = {
        "ports": (cmd_ports, 1), "init-vars": (cmd_init_vars, 1),
        "set": (cmd_set, 3), "get": (cmd_get, 2),
        "render": (cmd_render, 3), "capture": (cmd_capture, 3),
        "node-config": (cmd_node_config, 3), "nodes-json": (cmd_nodes_json, 2),
        "settled": (cmd_settled, 2), "summary": (cmd_summary, 2),
    }
    if not a or a[0] not in cmds or len(a) - 1 != cmds[a[0]][1]:
        sys.stderr.write(__doc__)
        sys.exit(2)
    cmds[a[0]][0](*a[1:])
