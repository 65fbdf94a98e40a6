#include "ledger/merkle.h"

#include <algorithm>
#include <string>

#include "absl/strings/str_format.h"

namespace segledger {
namespace {

// Number of significant bits of x (0 for 0).
int BitLen(uint64_t x) { return x == 0 ? 0 : 64 - __builtin_clzll(x); }

// Shifts that are defined for every count (C++ leaves >= 64 undefined).
uint64_t Shr(uint64_t x, int n) { return n >= 64 ? 0 : x >> n; }
uint64_t Shl(uint64_t x, int n) { return n >= 64 ? 0 : x << n; }

void AppendReversed(std::vector<NodeId> nodes, std::vector<NodeId>* out) {
  out->insert(out->end(), nodes.rbegin(), nodes.rend());
}

// The RFC 9162 section 2.1.3.1 audit path of the complete subtree
// (level, index) in a tree of `size` leaves, as stored nodes. Requires the
// subtree to lie inside the tree: ((index + 1) << level) <= size.
//
// The path from the node to the root first climbs `inner` levels inside the
// subtree that also holds leaf size-1; siblings there are complete except
// the last one (at the fork), which is the possibly incomplete right edge
// [start, size): the ephemeral node. Above the fork the node's ancestors are
// on the tree's right edge, so the remaining siblings are the complete
// subtrees to their left, i.e. RangeNodes(0, left_end), smallest first.
ProofNodes PathNodes(int level, uint64_t index, uint64_t size) {
  ProofNodes p;
  const uint64_t last = (size - 1) >> level;
  const int inner = BitLen(index ^ last);
  for (int i = 0; i + 1 < inner; ++i) {
    p.ids.push_back(
        NodeId{static_cast<uint8_t>(level + i), (index >> i) ^ uint64_t{1}});
  }
  if (inner > 0) {
    // At the fork the ancestor of `index` is a left child (bit inner-1 of
    // index is 0 while that of `last` is 1), so the sibling starts at:
    const int fork = level + inner - 1;  // <= 63: index, last < 2^(64-level)
    const uint64_t start = ((index >> (inner - 1)) | 1) << fork;
    p.begin = p.ids.size();
    AppendReversed(RangeNodes(start, size), &p.ids);  // rightmost first
    p.end = p.ids.size();
  }
  const uint64_t left_end = Shl(Shr(index, inner), level + inner);
  AppendReversed(RangeNodes(0, left_end), &p.ids);  // lowest level first
  return p;
}

// Expected length of an inclusion proof (RFC 9162 section 2.1.3.2 consumes
// one hash per level below the fork plus one per set bit above it).
size_t InclusionProofLength(uint64_t index, uint64_t size) {
  const int inner = BitLen(index ^ (size - 1));
  return inner + __builtin_popcountll(Shr(index, inner));
}

absl::Status MismatchError(absl::string_view what, absl::string_view detail,
                           const Hash& want, const Hash& got) {
  return absl::InvalidArgumentError(
      absl::StrFormat("%s does not verify (%s): expected root %s, computed %s",
                      what, detail, HashHex(want), HashHex(got)));
}

}  // namespace

std::vector<NodeId> RangeNodes(uint64_t begin, uint64_t end) {
  std::vector<NodeId> out;
  // Greedy left to right: the largest subtree that is aligned at `begin`
  // and fits before `end`. Alignment of begin == 0 is unlimited.
  while (begin < end) {
    const int align = begin == 0 ? 63 : __builtin_ctzll(begin);
    const int fit = BitLen(end - begin) - 1;
    const int level = std::min(align, fit);
    out.push_back(NodeId{static_cast<uint8_t>(level), begin >> level});
    begin += uint64_t{1} << level;
  }
  return out;
}

Hash RootFromRangeHashes(absl::Span<const Hash> hashes) {
  TreeHasher hasher;
  return RootFromRangeHashes(hashes, hasher);
}

Hash RootFromRangeHashes(absl::Span<const Hash> hashes, TreeHasher& hasher) {
  // RFC 9162 section 2.1.1: MTH({}) = SHA-256(); otherwise the left subtree
  // is the largest power of two, so the root folds the range right to left.
  if (hashes.empty()) return hasher.Sha256("");
  Hash root = hashes.back();
  for (size_t i = hashes.size() - 1; i-- > 0;) {
    root = hasher.NodeHash(hashes[i], root);
  }
  return root;
}

absl::StatusOr<std::vector<Hash>> ProofNodes::Rehash(
    absl::Span<const Hash> hashes) const {
  TreeHasher hasher;
  return Rehash(hashes, hasher);
}

absl::StatusOr<std::vector<Hash>> ProofNodes::Rehash(
    absl::Span<const Hash> hashes, TreeHasher& hasher) const {
  if (hashes.size() != ids.size()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "Rehash: got %d hashes for %d node ids", hashes.size(), ids.size()));
  }
  if (begin > end || end > ids.size()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("Rehash: bad ephemeral slice [%d, %d) of %d ids", begin,
                        end, ids.size()));
  }
  std::vector<Hash> proof;
  proof.reserve(ids.size());
  for (size_t i = 0; i < hashes.size(); ++i) {
    if (i == begin && begin < end) {
      // The slice is ordered rightmost (smallest) subtree first.
      Hash ephemeral = hashes[begin];
      for (size_t j = begin + 1; j < end; ++j) {
        ephemeral = hasher.NodeHash(hashes[j], ephemeral);
      }
      proof.push_back(ephemeral);
      i = end - 1;
    } else {
      proof.push_back(hashes[i]);
    }
  }
  return proof;
}

absl::StatusOr<ProofNodes> InclusionNodes(uint64_t index, uint64_t size) {
  if (index >= size) {
    return absl::OutOfRangeError(absl::StrFormat(
        "inclusion proof: leaf index %d >= tree size %d", index, size));
  }
  return PathNodes(0, index, size);
}

absl::StatusOr<ProofNodes> ConsistencyNodes(uint64_t old_size,
                                            uint64_t new_size) {
  if (old_size == 0 || old_size > new_size) {
    return absl::OutOfRangeError(absl::StrFormat(
        "consistency proof: need 0 < old size %d <= new size %d", old_size,
        new_size));
  }
  if (old_size == new_size) return ProofNodes{};
  // RFC 9162 section 2.1.4.1: SUBPROOF descends to the largest complete
  // subtree ending at old_size, (level, index); the proof is that node
  // (omitted when it is the whole old tree, which the verifier knows as
  // old_root) followed by its audit path in the new tree.
  const int level = __builtin_ctzll(old_size);
  const uint64_t index = (old_size - 1) >> level;
  ProofNodes p = PathNodes(level, index, new_size);
  if ((old_size & (old_size - 1)) != 0) {
    p.ids.insert(p.ids.begin(), NodeId{static_cast<uint8_t>(level), index});
    if (p.begin < p.end) {
      ++p.begin;
      ++p.end;
    }
  }
  return p;
}

absl::StatusOr<Hash> RootFromInclusionProof(uint64_t index, uint64_t size,
                                            const Hash& leaf_hash,
                                            absl::Span<const Hash> proof) {
  TreeHasher hasher;
  return RootFromInclusionProof(index, size, leaf_hash, proof, hasher);
}

absl::StatusOr<Hash> RootFromInclusionProof(uint64_t index, uint64_t size,
                                            const Hash& leaf_hash,
                                            absl::Span<const Hash> proof,
                                            TreeHasher& hasher) {
  if (index >= size) {
    return absl::OutOfRangeError(absl::StrFormat(
        "inclusion proof: leaf index %d >= tree size %d", index, size));
  }
  const size_t want = InclusionProofLength(index, size);
  if (proof.size() != want) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "inclusion proof for leaf %d in tree size %d has %d hashes, want %d",
        index, size, proof.size(), want));
  }
  // RFC 9162 section 2.1.3.2, steps 2-5.
  uint64_t fn = index, sn = size - 1;
  Hash r = leaf_hash;
  for (const Hash& p : proof) {
    if (sn == 0) break;  // unreachable after the length check
    if ((fn & 1) != 0 || fn == sn) {
      r = hasher.NodeHash(p, r);
      while ((fn & 1) == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      r = hasher.NodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "inclusion proof for leaf %d in tree size %d is too short", index,
        size));
  }
  return r;
}

absl::Status VerifyInclusion(uint64_t index, uint64_t size,
                             const Hash& leaf_hash,
                             absl::Span<const Hash> proof, const Hash& root) {
  TreeHasher hasher;
  return VerifyInclusion(index, size, leaf_hash, proof, root, hasher);
}

absl::Status VerifyInclusion(uint64_t index, uint64_t size,
                             const Hash& leaf_hash,
                             absl::Span<const Hash> proof, const Hash& root,
                             TreeHasher& hasher) {
  absl::StatusOr<Hash> got =
      RootFromInclusionProof(index, size, leaf_hash, proof, hasher);
  if (!got.ok()) return got.status();
  if (*got != root) {
    return MismatchError("inclusion proof",
                         absl::StrFormat("leaf %d, tree size %d, leaf hash %s",
                                         index, size, HashHex(leaf_hash)),
                         root, *got);
  }
  return absl::OkStatus();
}

namespace {

// RFC 9162 section 2.1.4.2 steps 3-7 over a proof whose first element is
// the seed (old_root prepended when old_size is a power of two). Requires
// 0 < old_size < new_size and a proof of the expected length.
absl::Status CheckConsistencyPath(uint64_t old_size, uint64_t new_size,
                                  absl::Span<const Hash> path,
                                  const Hash& old_root, const Hash& new_root,
                                  TreeHasher& hasher) {
  uint64_t fn = old_size - 1, sn = new_size - 1;
  while ((fn & 1) != 0) {
    fn >>= 1;
    sn >>= 1;
  }
  Hash fr = path[0], sr = path[0];
  for (size_t i = 1; i < path.size(); ++i) {
    const Hash& c = path[i];
    if (sn == 0) break;  // unreachable after the length check
    if ((fn & 1) != 0 || fn == sn) {
      fr = hasher.NodeHash(c, fr);
      sr = hasher.NodeHash(c, sr);
      while ((fn & 1) == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      sr = hasher.NodeHash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  const std::string detail =
      absl::StrFormat("old size %d, new size %d", old_size, new_size);
  if (sn != 0) {
    return absl::InvalidArgumentError("consistency proof too short: " + detail);
  }
  if (fr != old_root) {
    return MismatchError("consistency proof", detail + ", old tree", old_root,
                         fr);
  }
  if (sr != new_root) {
    return MismatchError("consistency proof", detail + ", new tree", new_root,
                         sr);
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status VerifyConsistency(uint64_t old_size, uint64_t new_size,
                               absl::Span<const Hash> proof,
                               const Hash& old_root, const Hash& new_root) {
  TreeHasher hasher;
  return VerifyConsistency(old_size, new_size, proof, old_root, new_root,
                           hasher);
}

absl::Status VerifyConsistency(uint64_t old_size, uint64_t new_size,
                               absl::Span<const Hash> proof,
                               const Hash& old_root, const Hash& new_root,
                               TreeHasher& hasher) {
  if (old_size > new_size) {
    return absl::OutOfRangeError(absl::StrFormat(
        "consistency proof: old size %d > new size %d", old_size, new_size));
  }
  if (old_size == new_size || old_size == 0) {
    if (!proof.empty()) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "consistency proof from size %d to %d must be empty, has %d hashes",
          old_size, new_size, proof.size()));
    }
    if (old_size == new_size && old_root != new_root) {
      return absl::InvalidArgumentError(
          absl::StrFormat("consistency: tree size %d has two roots %s and %s",
                          old_size, HashHex(old_root), HashHex(new_root)));
    }
    return absl::OkStatus();
  }
  // Expected length: the seed node unless old_size is a power of two, then
  // its audit path in the new tree, at levels >= ctz(old_size).
  const int level = __builtin_ctzll(old_size);
  const bool power_of_two = (old_size & (old_size - 1)) == 0;
  const size_t want = (power_of_two ? 0 : 1) +
                      InclusionProofLength((old_size - 1) >> level,
                                           ((new_size - 1) >> level) + 1);
  if (proof.size() != want) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "consistency proof from size %d to %d has %d hashes, want %d", old_size,
        new_size, proof.size(), want));
  }
  // RFC 9162 section 2.1.4.2 step 2: prepend old_root for a power of two.
  std::vector<Hash> path;
  path.reserve(proof.size() + 1);
  if (power_of_two) path.push_back(old_root);
  path.insert(path.end(), proof.begin(), proof.end());
  return CheckConsistencyPath(old_size, new_size, path, old_root, new_root,
                              hasher);
}

}  // namespace segledger
