#include "ledger/compact_range.h"

#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"
#include "tests/ledger/merkle_reference.h"
#include "tests/support/test_util.h"

namespace segledger {
namespace {

using ::segledger::reference::SyntheticSource;
using ::segledger::reference::VectorSource;
using ::segledger::testing::StatusIs;

std::vector<Hash> Leaves(uint64_t n) {
  std::vector<Hash> out;
  for (uint64_t i = 0; i < n; ++i) {
    out.push_back(SyntheticSource::SyntheticLeaf(i));
  }
  return out;
}

TEST(CompactRangeTest, EmptyRangeHasEmptyTreeRoot) {
  CompactRange r;
  EXPECT_EQ(r.size(), 0u);
  EXPECT_TRUE(r.hashes().empty());
  EXPECT_EQ(HashHex(r.Root()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

// RFC 6962 published 8-leaf tree: roots after each append (see
// tests/testdata/merkle/tree.txt for the source).
TEST(CompactRangeTest, PublishedRoots) {
  const char* leaves[] = {"",
                          "00",
                          "10",
                          "2021",
                          "3031",
                          "40414243",
                          "5051525354555657",
                          "606162636465666768696a6b6c6d6e6f"};
  const char* roots[] = {
      "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
      "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
      "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
      "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
      "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
      "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
      "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"};
  CompactRange r;
  for (int i = 0; i < 8; ++i) {
    r.Append(LeafHash(absl::HexStringToBytes(leaves[i])), nullptr);
    EXPECT_EQ(HashHex(r.Root()), roots[i]) << "size " << i + 1;
  }
}

TEST(CompactRangeTest, RootsAndHashesMatchReferenceUpTo1000) {
  constexpr uint64_t kMax = 1000;
  VectorSource src(Leaves(kMax));
  CompactRange r;
  for (uint64_t n = 0; n <= kMax; ++n) {
    ASSERT_EQ(r.size(), n);
    ASSERT_EQ(r.Root(), reference::Mth(src, 0, n)) << "size " << n;
    std::vector<Hash> want;
    for (const NodeId& id : RangeNodes(0, n)) {
      want.push_back(src.Subtree(id.level, id.index));
    }
    ASSERT_EQ(r.hashes(), want) << "size " << n;
    if (n < kMax) r.Append(src.Leaf(n), nullptr);
  }
}

// A range fed through one caller-owned hasher (as the store and the
// verifier do) holds the same hashes and roots as one fed without.
TEST(CompactRangeTest, CallerHasherGivesTheSameRange) {
  constexpr uint64_t kMax = 300;
  VectorSource src(Leaves(kMax));
  CompactRange with, without;
  TreeHasher hasher;
  for (uint64_t n = 0; n < kMax; ++n) {
    std::vector<Hash> visited;
    with.Append(
        src.Leaf(n), [&](NodeId, const Hash& h) { visited.push_back(h); },
        hasher);
    without.Append(src.Leaf(n), [&](NodeId id, const Hash& h) {
      ASSERT_FALSE(visited.empty()) << id.level << " " << id.index;
      EXPECT_EQ(h, visited.front());
      visited.erase(visited.begin());
    });
    EXPECT_TRUE(visited.empty());
    ASSERT_EQ(with.hashes(), without.hashes()) << "size " << n + 1;
    ASSERT_EQ(with.Root(hasher), without.Root()) << "size " << n + 1;
  }
}

// Every complete subtree is reported exactly once, by the append of its last
// leaf, with its reference hash, leaf first and lowest level first.
TEST(CompactRangeTest, VisitReportsExactlyTheCompleteSubtrees) {
  constexpr uint64_t kMax = 1000;
  VectorSource src(Leaves(kMax));
  CompactRange r;
  std::set<std::pair<int, uint64_t>> seen;
  for (uint64_t n = 0; n < kMax; ++n) {
    std::vector<NodeId> visited;
    r.Append(src.Leaf(n), [&](NodeId id, const Hash& h) {
      visited.push_back(id);
      EXPECT_EQ(h, src.Subtree(id.level, id.index));
      EXPECT_TRUE(seen.insert({id.level, id.index}).second) << "twice";
    });
    ASSERT_FALSE(visited.empty());
    EXPECT_EQ(visited[0], (NodeId{0, n}));
    for (size_t k = 1; k < visited.size(); ++k) {
      EXPECT_EQ(visited[k].level, visited[k - 1].level + 1);
      EXPECT_EQ(visited[k].index, visited[k - 1].index >> 1);
    }
    // The last visited node ends exactly at the new size.
    const NodeId& top = visited.back();
    EXPECT_EQ((top.index + 1) << top.level, n + 1);
  }
  std::set<std::pair<int, uint64_t>> complete;
  for (int level = 0; (uint64_t{1} << level) <= kMax; ++level) {
    for (uint64_t i = 0; i < (kMax >> level); ++i) complete.insert({level, i});
  }
  EXPECT_EQ(seen, complete);
}

TEST(CompactRangeTest, FromHashesRoundTrip) {
  VectorSource src(Leaves(300));
  CompactRange grown;
  for (uint64_t n = 0; n < 300; ++n) {
    SEG_ASSERT_OK_AND_ASSIGN(CompactRange copy,
                             CompactRange::FromHashes(n, grown.hashes()));
    EXPECT_EQ(copy.size(), n);
    EXPECT_EQ(copy.Root(), grown.Root());
    // A restored range continues exactly like the original.
    std::vector<NodeId> a, b;
    copy.Append(src.Leaf(n), [&](NodeId id, const Hash&) { a.push_back(id); });
    grown.Append(src.Leaf(n), [&](NodeId id, const Hash&) { b.push_back(id); });
    EXPECT_EQ(a, b);
    EXPECT_EQ(copy.Root(), grown.Root());
  }
}

TEST(CompactRangeTest, FromHashesRejectsWrongCount) {
  const Hash h = Sha256("x");
  EXPECT_THAT(CompactRange::FromHashes(0, {h}),
              StatusIs(absl::StatusCode::kInvalidArgument, "size 0"));
  EXPECT_THAT(CompactRange::FromHashes(7, {h, h}),
              StatusIs(absl::StatusCode::kInvalidArgument, "needs 3 hashes"));
  EXPECT_THAT(CompactRange::FromHashes(8, {h, h}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  SEG_EXPECT_OK(CompactRange::FromHashes(8, {h}));
}

TEST(CompactRangeTest, AppendWithoutVisitor) {
  CompactRange a, b;
  for (uint64_t i = 0; i < 77; ++i) {
    a.Append(SyntheticSource::SyntheticLeaf(i), nullptr);
    b.Append(SyntheticSource::SyntheticLeaf(i), [](NodeId, const Hash&) {});
  }
  EXPECT_EQ(a.Root(), b.Root());
  EXPECT_EQ(a.hashes().size(), 4u);  // 77 = 64 + 8 + 4 + 1
}

}  // namespace
}  // namespace segledger
