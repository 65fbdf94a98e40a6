#!/usr/bin/python3
"""segledger ops example: tail checkpoints, read a lot's timeline, and verify
an entry's inclusion proof and its checkpoint's signature in plain Python.

This is an independent client written from the public specifications, not a
port of the C++ code, to show that any language can check a node's outputs:

  * RFC 9162 section 2.1: leaf hash = SHA-256(0x00 || body), interior node =
    SHA-256(0x01 || left || right); inclusion proof verification
    (section 2.1.3.2) and consistency proof verification (section 2.1.4.2).
  * C2SP signed-note: text, a blank line, then signature lines
    "\u2014 <name> <base64(4-byte key hash || Ed25519 signature)>"; key hash =
    first 4 bytes of SHA-256(name || "\\n" || 0x01 || public key); verifier
    key "<name>+<8 hex digits of key hash>+<base64(0x01 || public key)>".
  * C2SP tlog-checkpoint: note text "<origin>\\n<size>\\n<base64 root>\\n".
  * segledger docs/formats.md: entry signature = Ed25519 over
    "segledger/v1/entry\\n" || body.

gRPC stubs are generated at start-up with protoc and grpc_python_plugin
(Debian: protobuf-compiler, protobuf-compiler-grpc) from proto/ into --stubs
DIR (kept and reused) or a temporary directory; they are never committed.

Exit codes (DESIGN.md): 0 success, 1 verification failed, 2 usage or input
error, 3 node unreachable or refused. Every failure is one line on stderr.
"""

import argparse
import base64
import binascii
import glob
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

EM_DASH = "\u2014"
ENTRY_SIGNATURE_CONTEXT = b"segledger/v1/entry\n"
ALG_ED25519 = 0x01
HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_PROTO_DIR = os.path.normpath(os.path.join(HERE, "..", "..", "proto"))


class VerifyError(Exception):
    """Something did not verify (exit 1)."""


class InputError(Exception):
    """Bad usage or malformed input (exit 2)."""


class NodeError(Exception):
    """The node is unreachable or refused the call (exit 3)."""


# ---------------------------------------------------------------- hashing


def sha256(data):
    return hashlib.sha256(data).digest()


def leaf_hash(body):
    """RFC 9162 section 2.1.1: MTH of one entry = HASH(0x00 || entry)."""
    return sha256(b"\x00" + body)


def node_hash(left, right):
    """RFC 9162 section 2.1.1: interior node = HASH(0x01 || left || right)."""
    return sha256(b"\x01" + left + right)


def verify_inclusion(index, tree_size, leaf, proof, root):
    """RFC 9162 section 2.1.3.2. Raises VerifyError unless `leaf` at `index`
    is in the tree of `tree_size` leaves with root `root`."""
    if index >= tree_size:
        raise VerifyError(f"inclusion: index {index} >= tree size {tree_size}")
    fn, sn, r = index, tree_size - 1, leaf
    for p in proof:
        if len(p) != 32:
            raise VerifyError(f"inclusion: proof hash of {len(p)} bytes")
        if sn == 0:
            raise VerifyError("inclusion: proof longer than the path")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise VerifyError("inclusion: proof shorter than the path")
    if r != root:
        raise VerifyError(
            f"inclusion: computed root {b64(r)} != checkpoint root "
            f"{b64(root)}")


def verify_consistency(old_size, new_size, old_root, new_root, proof):
    """RFC 9162 section 2.1.4.2. Raises VerifyError unless the tree of
    `new_size` leaves extends the tree of `old_size` leaves."""
    if old_size > new_size:
        raise VerifyError(f"consistency: old size {old_size} > {new_size}")
    if old_size == new_size:
        if proof or old_root != new_root:
            raise VerifyError(f"consistency: two roots for size {old_size}")
        return
    if old_size == 0:
        if proof:
            raise VerifyError("consistency: non-empty proof from size 0")
        return
    if not proof:
        raise VerifyError("consistency: empty proof")
    if any(len(p) != 32 for p in proof):
        raise VerifyError("consistency: proof hash not 32 bytes")
    if old_size & (old_size - 1) == 0:  # exact power of two
        proof = [old_root] + list(proof)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            raise VerifyError("consistency: proof longer than the path")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0 or fr != old_root or sr != new_root:
        raise VerifyError(
            f"consistency: proof from size {old_size} to {new_size} fails")


# ----------------------------------------------------- signed notes, keys


def b64(data):
    return base64.b64encode(data).decode("ascii")


def unb64(text, what):
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise InputError(f"{what}: not standard base64: {text[:40]!r}")


def key_hash(name, public_key):
    """C2SP signed-note key ID: SHA-256(name || "\\n" || 0x01 || key)[:4]."""
    return sha256(name.encode() + b"\n" + bytes([ALG_ED25519]) +
                  public_key)[:4]


class VerifierKey:
    """A C2SP verifier key "<name>+<hex key hash>+<base64(0x01 || key)>"."""

    def __init__(self, text):
        from cryptography.hazmat.primitives.asymmetric import ed25519

        parts = text.strip().split("+", 2)  # base64 may hold "+"
        if len(parts) != 3 or not parts[0]:
            raise InputError(f"verifier key {text!r}: want name+hash+key")
        self.name, hex_hash, key_b64 = parts
        if any(c.isspace() for c in self.name):
            raise InputError(f"verifier key name {self.name!r} has a space")
        raw = unb64(key_b64, f"verifier key {self.name}")
        if len(raw) != 33 or raw[0] != ALG_ED25519:
            raise InputError(
                f"verifier key {self.name}: not 0x01 || 32-byte Ed25519 key")
        self.public_key = raw[1:]
        self.hash = key_hash(self.name, self.public_key)
        if len(hex_hash) != 8 or hex_hash.lower() != self.hash.hex():
            raise InputError(f"verifier key {self.name}: key hash {hex_hash} "
                             f"!= computed {self.hash.hex()}")
        self._key = ed25519.Ed25519PublicKey.from_public_bytes(
            self.public_key)

    def verify(self, signature, message):
        from cryptography.exceptions import InvalidSignature

        try:
            self._key.verify(signature, message)
            return True
        except InvalidSignature:
            return False


def parse_note(note):
    """Splits a C2SP signed note into (text bytes, [(name, hash, sig)])."""
    if isinstance(note, bytes):
        try:
            note = note.decode("utf-8")
        except UnicodeDecodeError:
            raise InputError("note: not UTF-8")
    split = note.rfind("\n\n")
    if split < 0 or not note.endswith("\n"):
        raise InputError("note: no blank line before the signatures")
    text, sig_block = note[:split + 1], note[split + 2:]
    sigs = []
    for line in sig_block[:-1].split("\n"):
        prefix = EM_DASH + " "
        if not line.startswith(prefix):
            raise InputError(f"note: signature line {line[:40]!r} does not "
                             "start with an em dash and a space")
        fields = line[len(prefix):].split(" ")
        if len(fields) != 2 or not fields[0]:
            raise InputError(f"note: signature line {line[:40]!r}")
        raw = unb64(fields[1], f"signature of {fields[0]}")
        if len(raw) < 5:
            raise InputError(f"note: signature of {fields[0]} too short")
        sigs.append((fields[0], raw[:4], raw[4:]))
    if not sigs:
        raise InputError("note: no signature lines")
    return text.encode("utf-8"), sigs


def verify_note(note, vkeys):
    """Returns (text bytes, names of the keys whose signature verified).
    Raises VerifyError unless at least one of `vkeys` signed the note."""
    text, sigs = parse_note(note)
    good = []
    for name, khash, sig in sigs:
        for k in vkeys:
            if k.name == name and k.hash == khash and len(sig) == 64:
                if k.verify(sig, text):
                    good.append(name)
    if not good:
        names = ", ".join(k.name for k in vkeys)
        raise VerifyError(f"checkpoint: no valid signature by {names}")
    return text, good


def parse_checkpoint_text(text):
    """C2SP tlog-checkpoint body -> (origin, size, root)."""
    lines = text.decode("utf-8").split("\n")
    if len(lines) < 4 or lines[-1] != "":
        raise InputError("checkpoint: fewer than three lines")
    origin, size_s, root_s = lines[0], lines[1], lines[2]
    if not origin:
        raise InputError("checkpoint: empty origin")
    if not size_s.isdigit() or (size_s != "0" and size_s.startswith("0")):
        raise InputError(f"checkpoint: size {size_s!r} is not decimal")
    root = unb64(root_s, "checkpoint root")
    if len(root) != 32:
        raise InputError(f"checkpoint: root of {len(root)} bytes")
    return origin, int(size_s), root


def verify_checkpoint(note, vkeys, origin=None):
    """Verifies the signature, then returns (origin, size, root, signers)."""
    text, signers = verify_note(note, vkeys)
    o, size, root = parse_checkpoint_text(text)
    if origin is not None and o != origin:
        raise VerifyError(f"checkpoint: origin {o!r} != expected {origin!r}")
    return o, size, root, signers


# ---------------------------------------------------------------- stubs


def find_plugin():
    for p in (shutil.which("grpc_python_plugin"),
              "/usr/bin/grpc_python_plugin"):
        if p and os.access(p, os.X_OK):
            return p
    raise InputError("grpc_python_plugin not found "
                     "(Debian package protobuf-compiler-grpc)")


def load_stubs(stubs_dir, proto_dir):
    """Generates (unless present) and imports the segledger.v1 modules."""
    marker = os.path.join(stubs_dir, "segledger", "v1",
                          "ledger_service_pb2_grpc.py")
    if not os.path.exists(marker):
        protos = sorted(glob.glob(os.path.join(proto_dir, "segledger", "v1",
                                               "*.proto")))
        if not protos:
            raise InputError(
                f"--proto-dir {proto_dir}: no segledger/v1/*.proto")
        protoc = shutil.which("protoc")
        if protoc is None:
            raise InputError("protoc not found (Debian: protobuf-compiler)")
        os.makedirs(stubs_dir, exist_ok=True)
        cmd = [protoc, "-I", proto_dir, f"--python_out={stubs_dir}",
               f"--grpc_python_out={stubs_dir}",
               f"--plugin=protoc-gen-grpc_python={find_plugin()}"] + protos
        run = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        if run.returncode != 0:
            raise InputError(f"protoc failed: {run.stderr.strip()}")
    sys.path.insert(0, stubs_dir)
    from segledger.v1 import entry_pb2, ledger_service_pb2  # noqa: F401
    from segledger.v1 import ledger_service_pb2_grpc, query_service_pb2
    from segledger.v1 import query_service_pb2_grpc  # noqa: F401
    import segledger.v1 as mods
    return mods


# ------------------------------------------------------------------ gRPC


class Node:
    """A channel to one segledgerd and the stubs used here."""

    def __init__(self, args, mods):
        import grpc

        self.grpc = grpc
        self.m = mods
        if args.insecure:
            channel = grpc.insecure_channel(args.node)
        else:
            try:
                with open(args.ca, "rb") as f:
                    ca = f.read()
                with open(args.cert, "rb") as f:
                    cert = f.read()
                with open(args.key, "rb") as f:
                    key = f.read()
            except OSError as e:
                raise InputError(f"TLS file: {e}")
            creds = grpc.ssl_channel_credentials(ca, key, cert)
            options = []
            if args.server_name:
                options.append(("grpc.ssl_target_name_override",
                                args.server_name))
            channel = grpc.secure_channel(args.node, creds, options)
        self.channel = channel
        self.timeout = args.timeout
        lp, lg = mods.ledger_service_pb2, mods.ledger_service_pb2_grpc
        self.read = lg.ReadServiceStub(channel)
        self.proof = lg.ProofServiceStub(channel)
        self.watch = lg.WatchServiceStub(channel)
        self.query = mods.query_service_pb2_grpc.QueryServiceStub(channel)
        self.lp = lp

    def call(self, what, fn, request):
        try:
            return fn(request, timeout=self.timeout)
        except self.grpc.RpcError as e:
            raise rpc_error(what, e, self.grpc)


def rpc_error(what, e, grpc):
    code = e.code()
    msg = f"{what}: {code.name} {e.details()}"
    if code in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND,
                grpc.StatusCode.OUT_OF_RANGE):
        return InputError(msg)
    return NodeError(msg)


def parse_vkeys(args, required):
    keys = [VerifierKey(v) for v in (args.vkey or [])]
    for path in args.vkey_file or []:
        try:
            with open(path, encoding="utf-8") as f:
                keys += [VerifierKey(l) for l in f if l.strip()]
        except OSError as e:
            raise InputError(f"--vkey-file: {e}")
    if required and not keys:
        raise InputError(
            "give the log's verifier key with --vkey or --vkey-file")
    return keys


def emit(obj):
    print(json.dumps(obj, sort_keys=True), flush=True)


# -------------------------------------------------------------- commands


def cmd_checkpoints(node, args):
    """Tails signed checkpoints (WatchService.Watch, checkpoints only),
    verifying each signature and its consistency with the previous one."""
    vkeys = parse_vkeys(args, required=False)
    req = node.lp.WatchRequest(checkpoints=True, entries=False)
    stream = node.watch.Watch(req, timeout=args.seconds)
    seen, prev = 0, None
    try:
        for event in stream:
            if not event.HasField("checkpoint"):
                continue
            note = event.checkpoint.note
            out = {"size": event.checkpoint.size}
            if vkeys:
                origin, size, root, signers = verify_checkpoint(note, vkeys)
                out["signature"] = "verified"
                out["signed_by"] = signers
            else:
                origin, size, root = parse_checkpoint_text(parse_note(note)[0])
                out["signature"] = "unchecked"
            if size != event.checkpoint.size:
                raise VerifyError(f"checkpoint: note size {size} != "
                                  f"event size {event.checkpoint.size}")
            out.update({"origin": origin, "root": b64(root)})
            if prev is not None:
                cp = node.call("GetConsistencyProof",
                               node.proof.GetConsistencyProof,
                               node.lp.ConsistencyProofRequest(
                                   old_size=prev[0], tree_size=size))
                verify_consistency(prev[0], size, prev[1], root,
                                   list(cp.proof))
                out["consistent_with"] = prev[0]
            emit({"checkpoint": out})
            prev = (size, root)
            seen += 1
            if seen >= args.count:
                break
    except node.grpc.RpcError as e:
        if e.code() != node.grpc.StatusCode.DEADLINE_EXCEEDED:
            raise rpc_error("Watch", e, node.grpc)
    finally:
        stream.cancel()
    if seen == 0:
        raise NodeError(f"Watch: no checkpoint within {args.seconds} s")


def cmd_timeline(node, args):
    """Prints a lot's custody timeline (QueryService.Timeline)."""
    from google.protobuf import json_format

    resp = node.call("Timeline", node.query.Timeline,
                     node.m.query_service_pb2.LotQueryRequest(lot_id=args.lot))
    for ev in resp.events:
        emit({"event": json_format.MessageToDict(ev)})
    if not resp.events:
        raise InputError(f"Timeline: no events for lot {args.lot}")


def cmd_verify_entry(node, args):
    """Fetches a checkpoint, one entry and its inclusion proof and verifies
    signature, leaf hash, entry signature and inclusion (all in Python)."""
    vkeys = parse_vkeys(args, required=True)
    creq = node.lp.GetCheckpointRequest()
    if args.size:
        creq.size = args.size
    cp = node.call("GetCheckpoint", node.read.GetCheckpoint, creq)
    origin, size, root, signers = verify_checkpoint(cp.note, vkeys,
                                                    args.origin)
    if args.index >= size:
        raise InputError(f"index {args.index} >= checkpoint size {size}")
    pr = node.call("GetInclusionProof", node.proof.GetInclusionProof,
                   node.lp.InclusionProofRequest(index=args.index,
                                                 tree_size=size))
    if pr.index != args.index or pr.tree_size != size:
        raise VerifyError(f"proof: for ({pr.index}, {pr.tree_size}), asked "
                          f"({args.index}, {size})")
    er = node.call("GetEntry", node.read.GetEntry,
                   node.lp.GetEntryRequest(index=args.index))
    body = er.entry.body
    leaf = leaf_hash(body)  # computed here, never taken from the node
    if leaf != pr.leaf_hash or leaf != er.leaf_hash:
        raise VerifyError(f"entry {args.index}: SHA-256(0x00 || body) = "
                          f"{b64(leaf)} differs from the node's leaf hash")
    verify_inclusion(args.index, size, leaf, list(pr.proof), root)
    parsed = node.m.entry_pb2.EntryBody()
    parsed.ParseFromString(body)
    if parsed.log_origin != origin or parsed.index != args.index:
        raise VerifyError(f"entry body says ({parsed.log_origin}, "
                          f"{parsed.index}), expected ({origin}, "
                          f"{args.index})")
    # The body names its key; entries carry no key hash, so any given key
    # of that name may be the one (e.g. a bundle's keys file lists several).
    named = [k for k in vkeys if k.name == parsed.key_name]
    entry_sig = "unchecked (no --vkey named " + parsed.key_name + ")"
    if named:
        message = ENTRY_SIGNATURE_CONTEXT + body
        if not any(k.verify(er.entry.signature, message) for k in named):
            raise VerifyError(f"entry {args.index}: Ed25519 signature by "
                              f"{parsed.key_name} does not verify")
        entry_sig = "verified"
    emit({"index": args.index, "tree_size": size, "origin": origin,
          "root": b64(root), "leaf_hash": b64(leaf),
          "proof_length": len(pr.proof), "inclusion": "verified",
          "checkpoint_signature": "verified", "signed_by": signers,
          "entry_signature": entry_sig,
          "record": parsed.record.WhichOneof("kind")})


# ------------------------------------------------------------------ main


def parse_args(argv):
    p = argparse.ArgumentParser(
        description="segledger ops example (tail checkpoints, lot timeline, "
        "verify an entry's inclusion proof and checkpoint signature)")
    p.add_argument("--node", required=True, help="HOST:PORT of segledgerd")
    p.add_argument("--insecure", action="store_true", help="plaintext")
    p.add_argument("--ca", help="CA certificate (PEM) of the node")
    p.add_argument("--cert", help="client certificate (PEM)")
    p.add_argument("--key", help="client private key (PEM)")
    p.add_argument("--server-name", help="TLS name to expect of the node")
    p.add_argument("--stubs", help="directory for the generated stubs "
                   "(reused when present; default: a temporary directory)")
    p.add_argument("--proto-dir", default=DEFAULT_PROTO_DIR,
                   help="the repository's proto/ directory")
    p.add_argument("--timeout", type=float, default=10.0,
                   help="deadline of each unary call, seconds")
    p.add_argument("--vkey", action="append",
                   help="a trusted verifier key of the log (repeatable)")
    p.add_argument("--vkey-file", action="append",
                   help="file of verifier keys, one a line (e.g. bundle/keys)")
    sub = p.add_subparsers(dest="command", required=True)
    c = sub.add_parser("checkpoints", help="tail signed checkpoints")
    c.add_argument("--count", type=int, default=1,
                   help="stop after this many checkpoints")
    c.add_argument("--seconds", type=float, default=10.0,
                   help="stop after this many seconds")
    t = sub.add_parser("timeline", help="a lot's custody timeline")
    t.add_argument("lot")
    v = sub.add_parser("verify-entry",
                       help="verify one entry's inclusion and checkpoint")
    v.add_argument("index", type=int)
    v.add_argument("--size", type=int, default=0,
                   help="checkpoint size to verify against (default latest)")
    v.add_argument("--origin", help="expected log origin")
    args = p.parse_args(argv)
    if not args.insecure and not (args.ca and args.cert and args.key):
        p.error("give --insecure or all of --ca, --cert, --key")
    if args.command == "checkpoints" and (args.count < 1 or args.seconds <= 0):
        p.error("--count must be >= 1 and --seconds > 0")
    return args


def main(argv):
    args = parse_args(argv)
    tmp = None
    try:
        stubs = args.stubs
        if not stubs:
            tmp = tempfile.mkdtemp(prefix="segledger-stubs-")
            stubs = tmp
        mods = load_stubs(stubs, args.proto_dir)
        node = Node(args, mods)
        {"checkpoints": cmd_checkpoints, "timeline": cmd_timeline,
         "verify-entry": cmd_verify_entry}[args.command](node, args)
        return 0
    except VerifyError as e:
        print(f"segledger_ops: verification failed: {e}", file=sys.stderr)
        return 1
    except InputError as e:
        print(f"segledger_ops: {e}", file=sys.stderr)
        return 2
    except NodeError as e:
        print(f"segledger_ops: node: {e}", file=sys.stderr)
        return 3
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
