#include "ledger/compact_range.h"

#include <utility>

#include "absl/strings/str_format.h"

namespace segledger {

absl::StatusOr<CompactRange> CompactRange::FromHashes(
    uint64_t size, std::vector<Hash> hashes) {
  // RangeNodes(0, size) has one complete subtree per set bit of size.
  const size_t want = static_cast<size_t>(__builtin_popcountll(size));
  if (hashes.size() != want) {
    return absl::InvalidArgumentError(
        absl::StrFormat("compact range of size %d needs %d hashes, got %d",
                        size, want, hashes.size()));
  }
  CompactRange range;
  range.size_ = size;
  range.hashes_ = std::move(hashes);
  return range;
}

void CompactRange::Append(
    const Hash& leaf_hash,
    const std::function<void(NodeId, const Hash&)>& visit) {
  TreeHasher hasher;  // makes its context only if the append hashes
  Append(leaf_hash, visit, hasher);
}

void CompactRange::Append(const Hash& leaf_hash,
                          const std::function<void(NodeId, const Hash&)>& visit,
                          TreeHasher& hasher) {
  NodeId id{0, size_};
  Hash hash = leaf_hash;
  if (visit) visit(id, hash);
  // Each trailing one bit of the old size is a complete subtree at that
  // level which the new node now completes a parent for (binary carry).
  // hashes_ is ordered largest first, so the smallest is at the back.
  for (uint64_t carry = size_; (carry & 1) != 0; carry >>= 1) {
    hash = hasher.NodeHash(hashes_.back(), hash);
    hashes_.pop_back();
    id = NodeId{static_cast<uint8_t>(id.level + 1), id.index >> 1};
    if (visit) visit(id, hash);
  }
  hashes_.push_back(hash);
  ++size_;
}

Hash CompactRange::Root() const { return RootFromRangeHashes(hashes_); }

Hash CompactRange::Root(TreeHasher& hasher) const {
  return RootFromRangeHashes(hashes_, hasher);
}

}  // namespace segledger
