// Naive RFC 9162 section 2.1 Merkle tree, written straight from the RFC's
// recursive definitions (MTH, PATH, PROOF/SUBPROOF). Used only by tests to
// check the O(log n) code in ledger/merkle.cc and ledger/compact_range.cc;
// it shares nothing with them but LeafHash/NodeHash.
//
// Not thread-safe (sources memoize).
#ifndef SEGLEDGER_TESTS_LEDGER_MERKLE_REFERENCE_H_
#define SEGLEDGER_TESTS_LEDGER_MERKLE_REFERENCE_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "ledger/hash.h"

namespace segledger::reference {

// Leaf hashes of a tree, plus the hash of any complete subtree computed by
// plain recursion (memoized from `memo_min_level` up to bound the cost).
class TreeSource {
 public:
  explicit TreeSource(int memo_min_level) : memo_min_level_(memo_min_level) {}
  virtual ~TreeSource() = default;

  virtual Hash Leaf(uint64_t index) = 0;

  // MTH of the 2^level leaves starting at index << level.
  Hash Subtree(int level, uint64_t index) {
    if (level == 0) return Leaf(index);
    const std::pair<int, uint64_t> key(level, index);
    if (level >= memo_min_level_) {
      auto it = memo_.find(key);
      if (it != memo_.end()) return it->second;
    }
    Hash h = NodeHash(Subtree(level - 1, 2 * index),
                      Subtree(level - 1, 2 * index + 1));
    if (level >= memo_min_level_) memo_.emplace(key, h);
    return h;
  }

 private:
  int memo_min_level_;
  absl::flat_hash_map<std::pair<int, uint64_t>, Hash> memo_;
};

// Leaves given as hashes.
class VectorSource : public TreeSource {
 public:
  explicit VectorSource(std::vector<Hash> leaves)
      : TreeSource(1), leaves_(std::move(leaves)) {}
  Hash Leaf(uint64_t index) override { return leaves_.at(index); }
  uint64_t size() const { return leaves_.size(); }

 private:
  std::vector<Hash> leaves_;
};

// Leaf i is LeafHash of i as 8 big-endian bytes: any size, computed lazily.
class SyntheticSource : public TreeSource {
 public:
  SyntheticSource() : TreeSource(6) {}
  Hash Leaf(uint64_t index) override { return SyntheticLeaf(index); }
  static Hash SyntheticLeaf(uint64_t index) {
    std::string be(8, '\0');
    for (int i = 7; i >= 0; --i, index >>= 8) be[i] = static_cast<char>(index);
    return LeafHash(be);
  }
};

// The largest power of two smaller than n (n >= 2): the RFC's k.
inline uint64_t SplitPoint(uint64_t n) {
  uint64_t k = 1;
  while (k < n - k) k <<= 1;  // stops at the largest k with k < n
  return k;
}

// MTH(D[begin:end]), RFC 9162 section 2.1.1.
inline Hash Mth(TreeSource& src, uint64_t begin, uint64_t end) {
  const uint64_t n = end - begin;
  if (n == 0) return Sha256("");
  if (n == 1) return src.Leaf(begin);
  // A complete aligned subtree is the same recursion, shared via the source.
  if ((n & (n - 1)) == 0 && begin % n == 0) {
    int level = 0;
    while ((uint64_t{1} << level) < n) ++level;
    return src.Subtree(level, begin >> level);
  }
  const uint64_t k = SplitPoint(n);
  return NodeHash(Mth(src, begin, begin + k), Mth(src, begin + k, end));
}

// PATH(m, D[begin:end]), RFC 9162 section 2.1.3.1 (m relative to begin).
inline std::vector<Hash> Path(TreeSource& src, uint64_t m, uint64_t begin,
                              uint64_t end) {
  const uint64_t n = end - begin;
  if (n <= 1) return {};
  const uint64_t k = SplitPoint(n);
  std::vector<Hash> out;
  if (m < k) {
    out = Path(src, m, begin, begin + k);
    out.push_back(Mth(src, begin + k, end));
  } else {
    out = Path(src, m - k, begin + k, end);
    out.push_back(Mth(src, begin, begin + k));
  }
  return out;
}

// SUBPROOF(m, D[begin:end], b), RFC 9162 section 2.1.4.1.
inline std::vector<Hash> SubProof(TreeSource& src, uint64_t m, uint64_t begin,
                                  uint64_t end, bool b) {
  const uint64_t n = end - begin;
  if (m == n) {
    if (b) return {};
    return {Mth(src, begin, end)};
  }
  const uint64_t k = SplitPoint(n);
  std::vector<Hash> out;
  if (m <= k) {
    out = SubProof(src, m, begin, begin + k, b);
    out.push_back(Mth(src, begin + k, end));
  } else {
    out = SubProof(src, m - k, begin + k, end, false);
    out.push_back(Mth(src, begin, begin + k));
  }
  return out;
}

// PROOF(m, D[0:n]) for 0 < m <= n.
inline std::vector<Hash> ConsistencyProof(TreeSource& src, uint64_t m,
                                          uint64_t n) {
  return SubProof(src, m, 0, n, true);
}

}  // namespace segledger::reference

#endif  // SEGLEDGER_TESTS_LEDGER_MERKLE_REFERENCE_H_
