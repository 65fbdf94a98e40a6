#!/usr/bin/python3
"""Checks examples/python/segledger_ops.py's pure verification code (no
node, no gRPC): the worked example of docs/formats.md (bytes produced by the
C++ code from the RFC 8032 section 7.1 TEST 1 key), and inclusion and
consistency proofs for every tree up to 16 leaves generated from RFC 9162's
recursive definitions (sections 2.1.1, 2.1.3.1, 2.1.4.1), each also
tampered. Usage: vectors_test.py EXAMPLES_PYTHON_DIR. Exit 0 when all pass.
"""
import base64
import hashlib
import sys

sys.path.insert(0, sys.argv[1])
import segledger_ops as ops  # noqa: E402

FAILURES = []


def check(cond, what):
    if not cond:
        FAILURES.append(what)
        print("FAIL:", what, file=sys.stderr)


def raises(exc, fn, what):
    try:
        fn()
    except exc:
        return
    except Exception as e:  # a different error is a failure too
        check(False, f"{what}: raised {type(e).__name__}: {e}")
        return
    check(False, f"{what}: did not raise {exc.__name__}")


# ---- docs/formats.md "Worked example"
VKEY = ("cmo-up.example/segledger+1fbf07de+"
        "AddamAGCsQq31Uv+08lkBzoO4XLz2qYjJa8CGmj3B1Ea")
BODY0 = bytes.fromhex(
    "0a18636d6f2d75702e6578616d706c652f7365676c65646765721a2000000000000000"
    "0000000000000000000000000000000000000000000000000022060880e393c9062a18"
    "636d6f2d75702e6578616d706c652f7365676c6564676572321f0a076f702d30303432"
    "12064c69205765691a02716120052a060880e393c9063a096578616d706c652d304257"
    "0a550a18636d6f2d75702e6578616d706c652f7365676c65646765721220d75a980182"
    "b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a1a060880e393c906"
    "2a0f6c6f67207369676e696e67206b6579")
LEAF0 = bytes.fromhex(
    "90d8cb7116c3ba3b27eee0dd01f455d19d73259ddecfb0e52ec7b05201668cb0")
SIG0 = base64.b64decode(
    "JxMkWe9jh6D8S50W1s8f7XFJyErpXctpy86z3Dx3vuAfejoIbiOV0Bies2NnvYLfK5jGEqQ3"
    "qIqhk+nu5GccAw==")
LEAF1 = bytes.fromhex(
    "85410ad822d87b2209a0e118730d36bf1a8d3f55df5401e412bb07048b005080")
ROOT2 = bytes.fromhex(
    "4907954979784de6a91df3877a66016171223af53537406ddbf2fd1171ce40a3")
NOTE = ("cmo-up.example/segledger\n2\n"
        "SQeVSXl4TeapHfOHemYBYXEiOvU1N0Bt2/L9EXHOQKM=\n\n"
        "\u2014 cmo-up.example/segledger H78H3mbl5vKgjRRnO/jG5feNwRBSYKQzT9a7am"
        "EtUbUcgAy9LywBC/pKsgogUU2DXJY+EyYDuPqvGb7fMqaUx69+7gE=\n")
# RFC 8032 section 7.1 TEST 2 public key: a different key, same name.
OTHER_PK = bytes.fromhex(
    "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c")


def worked_example():
    k = ops.VerifierKey(VKEY)
    check(k.name == "cmo-up.example/segledger", "vkey name")
    check(k.hash.hex() == "1fbf07de", "vkey hash")
    check(ops.leaf_hash(BODY0) == LEAF0, "leaf hash of entry 0")
    check(k.verify(SIG0, ops.ENTRY_SIGNATURE_CONTEXT + BODY0),
          "entry 0 signature")
    check(not k.verify(SIG0, ops.ENTRY_SIGNATURE_CONTEXT + BODY0[:-1] + b"x"),
          "entry 0 signature over altered body")
    check(ops.node_hash(LEAF0, LEAF1) == ROOT2, "root of size 2")
    origin, size, root, signers = ops.verify_checkpoint(NOTE, [k])
    check((origin, size, root) == ("cmo-up.example/segledger", 2, ROOT2),
          "checkpoint fields")
    check(signers == ["cmo-up.example/segledger"], "checkpoint signers")
    ops.verify_inclusion(0, 2, LEAF0, [LEAF1], ROOT2)
    ops.verify_inclusion(1, 2, LEAF1, [LEAF0], ROOT2)
    raises(ops.VerifyError, lambda: ops.verify_inclusion(
        0, 2, LEAF0, [LEAF0], ROOT2), "inclusion with a wrong sibling")
    raises(ops.VerifyError, lambda: ops.verify_checkpoint(
        NOTE.replace("\n2\n", "\n3\n"), [k]), "checkpoint with altered size")
    raises(ops.VerifyError, lambda: ops.verify_checkpoint(
        NOTE, [k], origin="other/log"), "checkpoint of another origin")
    other_hash = ops.key_hash(k.name, OTHER_PK).hex()
    other = ops.VerifierKey(f"{k.name}+{other_hash}+" + base64.b64encode(
        b"\x01" + OTHER_PK).decode())
    raises(ops.VerifyError, lambda: ops.verify_checkpoint(NOTE, [other]),
           "checkpoint against another key of the same name")
    # A signature line whose key hash matches but signature bytes differ.
    line = NOTE.split("\n")[4]
    raw = bytearray(base64.b64decode(line.split(" ")[2]))
    raw[10] ^= 1
    bad = NOTE.replace(line.split(" ")[2], base64.b64encode(raw).decode())
    raises(ops.VerifyError, lambda: ops.verify_checkpoint(bad, [k]),
           "checkpoint with a flipped signature bit")
    raises(ops.InputError, lambda: ops.VerifierKey(
        VKEY.replace("+1fbf07de+", "+1fbf07df+")), "vkey with a wrong hash")
    raises(ops.InputError, lambda: ops.parse_note("a\nb\n"), "unsigned note")


# ---- RFC 9162 reference definitions (recursive; for generating proofs)
def mth(leaves):
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return leaves[0]
    k = 1 << ((n - 1).bit_length() - 1)  # largest power of two < n
    return ops.node_hash(mth(leaves[:k]), mth(leaves[k:]))


def path(m, leaves):  # section 2.1.3.1
    n = len(leaves)
    if n == 1:
        return []
    k = 1 << ((n - 1).bit_length() - 1)
    if m < k:
        return path(m, leaves[:k]) + [mth(leaves[k:])]
    return path(m - k, leaves[k:]) + [mth(leaves[:k])]


def subproof(m, leaves, b):  # section 2.1.4.1
    n = len(leaves)
    if m == n:
        return [] if b else [mth(leaves)]
    k = 1 << ((n - 1).bit_length() - 1)
    if m <= k:
        return subproof(m, leaves[:k], b) + [mth(leaves[k:])]
    return subproof(m - k, leaves[k:], False) + [mth(leaves[:k])]


def flip(proof, i):
    p = list(proof)
    p[i] = bytes([p[i][0] ^ 1]) + p[i][1:]
    return p


def generated_proofs():
    leaves = [ops.leaf_hash(bytes([i]) * (i + 1)) for i in range(16)]
    for n in range(1, 17):
        root = mth(leaves[:n])
        for m in range(n):
            pr = path(m, leaves[:n])
            ops.verify_inclusion(m, n, leaves[m], pr, root)
            for i in range(len(pr)):
                raises(ops.VerifyError, lambda: ops.verify_inclusion(
                    m, n, leaves[m], flip(pr, i), root),
                    f"inclusion {m}/{n} with proof[{i}] flipped")
            if pr:
                raises(ops.VerifyError, lambda: ops.verify_inclusion(
                    m, n, leaves[m], pr[:-1], root),
                    f"inclusion {m}/{n} with a short proof")
            raises(ops.VerifyError, lambda: ops.verify_inclusion(
                m, n, leaves[m], pr + [root], root),
                f"inclusion {m}/{n} with a long proof")
        for old in range(1, n + 1):
            old_root = mth(leaves[:old])
            pr = subproof(old, leaves[:n], True) if old < n else []
            ops.verify_consistency(old, n, old_root, root, pr)
            for i in range(len(pr)):
                raises(ops.VerifyError, lambda: ops.verify_consistency(
                    old, n, old_root, root, flip(pr, i)),
                    f"consistency {old}->{n} with proof[{i}] flipped")
            if old < n:
                raises(ops.VerifyError, lambda: ops.verify_consistency(
                    old, n, hashlib.sha256(b"wrong").digest(), root, pr),
                    f"consistency {old}->{n} with a wrong old root")


worked_example()
generated_proofs()
if FAILURES:
    print(f"{len(FAILURES)} check(s) failed", file=sys.stderr)
    sys.exit(1)
print("vectors: all checks passed")
