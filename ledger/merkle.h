// RFC 9162 (Certificate Transparency v2) section 2.1 Merkle tree: roots,
// inclusion and consistency proofs, split into pure steps so that a store
// reads only O(log n) node hashes.
//
// Proof generation (transparency-dev/merkle shape): `InclusionNodes` and
// `ConsistencyNodes` say WHICH complete-subtree hashes a proof needs; the
// caller fetches them (from RocksDB, memory, tiles...) in the given order;
// `ProofNodes::Rehash` combines them into the RFC 9162 proof.
//
// All functions are pure and thread-safe. Those that hash take an optional
// TreeHasher (ledger/hash.h) owned by the caller, who uses it from one
// thread at a time; without one they use their own for the call.
#ifndef SEGLEDGER_LEDGER_MERKLE_H_
#define SEGLEDGER_LEDGER_MERKLE_H_

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "ledger/hash.h"

namespace segledger {

// A complete (perfect) subtree: the 2^level leaves starting at leaf
// index << level. Level 0 nodes are the leaf hashes. Only complete subtrees
// are ever stored, so a stored node never changes once written.
struct NodeId {
  uint8_t level = 0;
  uint64_t index = 0;

  friend bool operator==(const NodeId& a, const NodeId& b) {
    return a.level == b.level && a.index == b.index;
  }
  friend bool operator!=(const NodeId& a, const NodeId& b) { return !(a == b); }
};

// The fewest complete subtrees that exactly cover leaves [begin, end), left
// to right (each the largest one aligned at its start that fits). For
// RangeNodes(0, size): one per set bit of `size`, largest first. Empty when
// begin >= end.
std::vector<NodeId> RangeNodes(uint64_t begin, uint64_t end);

// Root hash of a tree of `size` leaves from the hashes of
// RangeNodes(0, size), in that order (folded right to left per RFC 9162
// section 2.1.1). Requires hashes.size() == RangeNodes(0, size).size().
// The root of the empty tree is SHA-256 of the empty string.
Hash RootFromRangeHashes(absl::Span<const Hash> hashes);
Hash RootFromRangeHashes(absl::Span<const Hash> hashes, TreeHasher& hasher);

// What a proof needs. `ids` are complete subtrees to fetch, in order; each
// lies fully inside the tree the proof is for. The slice [begin, end) of them
// (possibly empty) forms one "ephemeral" node of the proof: the incomplete
// right-edge subtree, listed rightmost (smallest) part first and folded right
// to left (h = NodeHash(ids[i], h)). Rehash turns fetched hashes into the
// RFC 9162 proof.
struct ProofNodes {
  std::vector<NodeId> ids;
  size_t begin = 0;
  size_t end = 0;

  // Requires hashes.size() == ids.size(); returns the proof hashes in RFC
  // 9162 order. INVALID_ARGUMENT on a size mismatch or a bad [begin, end).
  absl::StatusOr<std::vector<Hash>> Rehash(absl::Span<const Hash> hashes) const;
  absl::StatusOr<std::vector<Hash>> Rehash(absl::Span<const Hash> hashes,
                                           TreeHasher& hasher) const;
};

// Nodes for the inclusion proof of leaf `index` in a tree of `size` leaves
// (RFC 9162 section 2.1.3.1). Requires index < size, else OUT_OF_RANGE with
// both values in the message.
absl::StatusOr<ProofNodes> InclusionNodes(uint64_t index, uint64_t size);

// Nodes for the consistency proof between tree sizes `old_size` and
// `new_size` (RFC 9162 section 2.1.4.1). Requires 0 < old_size <= new_size
// (old_size == new_size gives an empty proof). OUT_OF_RANGE otherwise.
absl::StatusOr<ProofNodes> ConsistencyNodes(uint64_t old_size,
                                            uint64_t new_size);

// RFC 9162 section 2.1.3.2: computes the root from a leaf hash and its
// inclusion proof. INVALID_ARGUMENT when the proof has the wrong length for
// (index, size); OUT_OF_RANGE when index >= size.
absl::StatusOr<Hash> RootFromInclusionProof(uint64_t index, uint64_t size,
                                            const Hash& leaf_hash,
                                            absl::Span<const Hash> proof);
absl::StatusOr<Hash> RootFromInclusionProof(uint64_t index, uint64_t size,
                                            const Hash& leaf_hash,
                                            absl::Span<const Hash> proof,
                                            TreeHasher& hasher);

// Verifies an inclusion proof against `root`. OUT_OF_RANGE when
// index >= size; INVALID_ARGUMENT for a wrong proof length or a root
// mismatch. Errors name the values involved (index, size, leaf hash,
// expected and computed roots in hex).
absl::Status VerifyInclusion(uint64_t index, uint64_t size,
                             const Hash& leaf_hash,
                             absl::Span<const Hash> proof, const Hash& root);
absl::Status VerifyInclusion(uint64_t index, uint64_t size,
                             const Hash& leaf_hash,
                             absl::Span<const Hash> proof, const Hash& root,
                             TreeHasher& hasher);

// RFC 9162 section 2.1.4.2: verifies a consistency proof from
// (old_size, old_root) to (new_size, new_root). old_size == new_size requires
// an empty proof and equal roots; old_size == 0 requires an empty proof (any
// roots). OUT_OF_RANGE when old_size > new_size; INVALID_ARGUMENT for a wrong
// proof length or a mismatch of either root (both roots named in hex).
absl::Status VerifyConsistency(uint64_t old_size, uint64_t new_size,
                               absl::Span<const Hash> proof,
                               const Hash& old_root, const Hash& new_root);
absl::Status VerifyConsistency(uint64_t old_size, uint64_t new_size,
                               absl::Span<const Hash> proof,
                               const Hash& old_root, const Hash& new_root,
                               TreeHasher& hasher);

}  // namespace segledger

#endif  // SEGLEDGER_LEDGER_MERKLE_H_
