// Compact Merkle range: the right edge of a growing RFC 9162 tree, enough to
// compute the root after every append and to learn which complete subtrees
// (stored tree nodes) each append completes.
//
// Not thread-safe: owned by the store's commit leader. The hashing calls
// take an optional TreeHasher (ledger/hash.h): a caller appending many
// leaves passes its own, reused across calls.
#ifndef SEGLEDGER_LEDGER_COMPACT_RANGE_H_
#define SEGLEDGER_LEDGER_COMPACT_RANGE_H_

#include <cstdint>
#include <functional>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "ledger/hash.h"
#include "ledger/merkle.h"

namespace segledger {

class CompactRange {
 public:
  // The empty tree.
  CompactRange() = default;

  // A tree of `size` leaves whose complete subtrees RangeNodes(0, size) have
  // `hashes` (in that order). INVALID_ARGUMENT on a count mismatch.
  static absl::StatusOr<CompactRange> FromHashes(uint64_t size,
                                                 std::vector<Hash> hashes);

  // Appends one leaf hash. `visit` (may be empty) is called for the leaf
  // itself (level 0) and for every subtree this append completes, lowest
  // level first: exactly the nodes a store must persist.
  void Append(const Hash& leaf_hash,
              const std::function<void(NodeId, const Hash&)>& visit);
  void Append(const Hash& leaf_hash,
              const std::function<void(NodeId, const Hash&)>& visit,
              TreeHasher& hasher);

  uint64_t size() const { return size_; }
  // Hashes of RangeNodes(0, size()), left to right.
  const std::vector<Hash>& hashes() const { return hashes_; }
  // RFC 9162 root of the first size() leaves.
  Hash Root() const;
  Hash Root(TreeHasher& hasher) const;

 private:
  uint64_t size_ = 0;
  std::vector<Hash> hashes_;
};

}  // namespace segledger

#endif  // SEGLEDGER_LEDGER_COMPACT_RANGE_H_
