// TreeLevels (segaudit's recomputed tree): nodes and roots against a
// CompactRange built leaf by leaf, with and without a thread pool, and
// unknown leaves making exactly the nodes above them unknown. Under
// ThreadSanitizer the pooled case also checks the workers' writes do not
// share memory (a std::vector<bool> of per-node flags once did).
#include "tools/tree_levels.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "ledger/compact_range.h"
#include "ledger/thread_pool.h"

namespace segledger::tools {
namespace {

// 300 tile-level-1 nodes: the workers' chunks meet inside 64-node words.
constexpr uint64_t kLeaves = 256 * 300 + 17;

std::vector<Hash> Leaves(uint64_t n) {
  std::vector<Hash> out;
  out.reserve(n);
  for (uint64_t i = 0; i < n; ++i) out.push_back(LeafHash(absl::StrCat(i)));
  return out;
}

Hash RangeRoot(const std::vector<Hash>& leaves, uint64_t size) {
  CompactRange r;
  for (uint64_t i = 0; i < size; ++i) r.Append(leaves[i], nullptr);
  return r.Root();
}

TEST(TreeLevelsTest, PooledAndSerialAgreeWithTheCompactRange) {
  const std::vector<Hash> leaves = Leaves(kLeaves);
  ThreadPool pool(3);
  TreeLevels serial(leaves, std::vector<bool>(kLeaves, true), nullptr);
  TreeLevels pooled(leaves, std::vector<bool>(kLeaves, true), &pool);
  for (uint64_t size : {uint64_t{1}, uint64_t{256}, uint64_t{65536},
                        uint64_t{65536 + 300}, kLeaves}) {
    SCOPED_TRACE(size);
    const Hash want = RangeRoot(leaves, size);
    EXPECT_EQ(serial.RootAt(size), want);
    EXPECT_EQ(pooled.RootAt(size), want);
  }
  // Every complete tile-level-1 node is known in both.
  for (uint64_t j = 0; j < kLeaves / 256; ++j) {
    ASSERT_TRUE(pooled.Node(NodeId{8, j}).has_value()) << j;
    EXPECT_EQ(pooled.Node(NodeId{8, j}), serial.Node(NodeId{8, j}));
  }
}

TEST(TreeLevelsTest, AnUnknownLeafHidesOnlyTheNodesAboveIt) {
  const std::vector<Hash> leaves = Leaves(kLeaves);
  std::vector<bool> known(kLeaves, true);
  known[256 * 70 + 5] = false;
  ThreadPool pool(3);
  TreeLevels t(leaves, known, &pool);
  for (uint64_t j = 0; j < kLeaves / 256; ++j) {
    EXPECT_EQ(t.Node(NodeId{8, j}).has_value(), j != 70) << j;
  }
  EXPECT_FALSE(t.RootAt(kLeaves).has_value());
  EXPECT_EQ(t.RootAt(256 * 70), RangeRoot(leaves, 256 * 70));
}

}  // namespace
}  // namespace segledger::tools
