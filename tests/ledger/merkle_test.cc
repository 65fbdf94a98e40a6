#include "ledger/merkle.h"

#include <cstdlib>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "tests/ledger/merkle_reference.h"
#include "tests/support/test_util.h"

namespace segledger {
namespace {

using ::segledger::reference::SyntheticSource;
using ::segledger::reference::TreeSource;
using ::segledger::reference::VectorSource;
using ::segledger::testing::IsOk;
using ::segledger::testing::StatusIs;
using ::testing::HasSubstr;

constexpr absl::StatusCode kInvalid = absl::StatusCode::kInvalidArgument;
constexpr absl::StatusCode kOutOfRange = absl::StatusCode::kOutOfRange;

uint64_t EnvCount(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  return v == nullptr ? fallback : std::strtoull(v, nullptr, 10);
}

Hash HexHash(const std::string& hex) {
  Hash h{};
  std::string bytes = absl::HexStringToBytes(hex);
  EXPECT_EQ(bytes.size(), kHashSize) << hex;
  std::copy_n(bytes.begin(), std::min(bytes.size(), kHashSize), h.begin());
  return h;
}

// Golden files: "key value..." lines; '#' starts a comment line.
std::vector<std::vector<std::string>> ReadRecords(const std::string& path) {
  std::vector<std::vector<std::string>> out;
  std::istringstream in(segledger::testing::ReadTestData(path));
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    out.push_back(absl::StrSplit(line, ' ', absl::SkipEmpty()));
  }
  return out;
}

// A golden proof file: two sizes (named by `key_a`, `key_b`) and the proof.
void ReadGoldenProof(const std::string& path, const std::string& key_a,
                     uint64_t* a, const std::string& key_b, uint64_t* b,
                     std::vector<Hash>* proof) {
  for (const auto& r : ReadRecords(path)) {
    if (r[0] == key_a) *a = std::stoull(r[1]);
    if (r[0] == key_b) *b = std::stoull(r[1]);
    if (r[0] == "proof") proof->push_back(HexHash(r[1]));
  }
}

// The published 8-leaf tree (tests/testdata/merkle/tree.txt).
struct GoldenTree {
  std::vector<Hash> leaf_hashes;
  std::map<uint64_t, Hash> roots;
  std::map<std::pair<int, uint64_t>, Hash> nodes;
};

const GoldenTree& Golden() {
  static const GoldenTree* tree = [] {
    auto* t = new GoldenTree;
    for (const auto& r : ReadRecords("merkle/tree.txt")) {
      if (r[0] == "leaf") {
        t->leaf_hashes.push_back(
            LeafHash(r.size() > 1 ? absl::HexStringToBytes(r[1]) : ""));
      } else if (r[0] == "root") {
        t->roots[std::stoull(r[1])] = HexHash(r[2]);
      } else if (r[0] == "node") {
        t->nodes[{std::stoi(r[1]), std::stoull(r[2])}] = HexHash(r[3]);
      }
    }
    return t;
  }();
  return *tree;
}

// A stored node id must be a complete subtree inside the tree.
::testing::AssertionResult AllInside(const std::vector<NodeId>& ids,
                                     uint64_t size) {
  for (const NodeId& id : ids) {
    if (id.level >= 64 || id.index >= (size >> id.level)) {
      return ::testing::AssertionFailure()
             << "node (" << int{id.level} << ", " << id.index
             << ") is not a complete subtree of a tree of size " << size;
    }
  }
  return ::testing::AssertionSuccess();
}

std::vector<Hash> Fetch(TreeSource& src, const ProofNodes& p) {
  std::vector<Hash> out;
  for (const NodeId& id : p.ids) out.push_back(src.Subtree(id.level, id.index));
  return out;
}

absl::StatusOr<std::vector<Hash>> FastInclusionProof(TreeSource& src,
                                                     uint64_t i, uint64_t n) {
  absl::StatusOr<ProofNodes> p = InclusionNodes(i, n);
  if (!p.ok()) return p.status();
  EXPECT_TRUE(AllInside(p->ids, n)) << "index " << i;
  return p->Rehash(Fetch(src, *p));
}

absl::StatusOr<std::vector<Hash>> FastConsistencyProof(TreeSource& src,
                                                       uint64_t m, uint64_t n) {
  absl::StatusOr<ProofNodes> p = ConsistencyNodes(m, n);
  if (!p.ok()) return p.status();
  EXPECT_TRUE(AllInside(p->ids, n)) << "old size " << m;
  return p->Rehash(Fetch(src, *p));
}

std::vector<Hash> SyntheticLeaves(uint64_t n) {
  std::vector<Hash> out;
  for (uint64_t i = 0; i < n; ++i)
    out.push_back(SyntheticSource::SyntheticLeaf(i));
  return out;
}

Hash Flip(Hash h, int byte, int bit) {
  h[byte] ^= static_cast<uint8_t>(1 << bit);
  return h;
}

// ---- Negative cases: one mutation per case (transparency-dev style). ----

struct InclusionCase {
  std::string name;
  uint64_t index, size;
  Hash leaf;
  std::vector<Hash> proof;
  Hash root;
};

std::vector<InclusionCase> InclusionMutations(const InclusionCase& good) {
  std::vector<InclusionCase> out;
  auto add = [&](std::string name, auto mutate) {
    InclusionCase c = good;
    c.name = std::move(name);
    mutate(c);
    out.push_back(std::move(c));
  };
  add("wrong-leaf", [](auto& c) { c.leaf = Flip(c.leaf, 0, 0); });
  add("wrong-root", [](auto& c) { c.root = Flip(c.root, 31, 7); });
  add("empty-tree-root", [](auto& c) { c.root = Sha256(""); });
  add("index-1", [](auto& c) { c.index -= 1; });
  add("index+1", [](auto& c) { c.index += 1; });
  add("index^2", [](auto& c) { c.index ^= 2; });
  add("size*2", [](auto& c) { c.size *= 2; });
  add("size/2", [](auto& c) { c.size /= 2; });
  add("trailing-garbage", [](auto& c) { c.proof.push_back(Sha256("g")); });
  add("trailing-root", [](auto& c) { c.proof.push_back(c.root); });
  add("preceding-garbage",
      [](auto& c) { c.proof.insert(c.proof.begin(), Sha256("g")); });
  for (size_t i = 0; i < good.proof.size(); ++i) {
    add(absl::StrCat("modified-proof[", i, "]-bit-@3"),
        [i](auto& c) { c.proof[i] = Flip(c.proof[i], 0, 3); });
  }
  if (!good.proof.empty()) {
    add("removed-last", [](auto& c) { c.proof.pop_back(); });
    add("removed-first", [](auto& c) { c.proof.erase(c.proof.begin()); });
  }
  return out;
}

void ExpectInclusionMutationsFail(const InclusionCase& good) {
  ASSERT_THAT(
      VerifyInclusion(good.index, good.size, good.leaf, good.proof, good.root),
      IsOk());
  for (const InclusionCase& c : InclusionMutations(good)) {
    const absl::StatusCode want = c.index >= c.size ? kOutOfRange : kInvalid;
    EXPECT_THAT(VerifyInclusion(c.index, c.size, c.leaf, c.proof, c.root),
                StatusIs(want))
        << c.name << " of leaf " << good.index << " in size " << good.size;
  }
}

struct ConsistencyCase {
  std::string name;
  uint64_t old_size, new_size;
  std::vector<Hash> proof;
  Hash old_root, new_root;
};

std::vector<ConsistencyCase> ConsistencyMutations(const ConsistencyCase& good) {
  std::vector<ConsistencyCase> out;
  auto add = [&](std::string name, auto mutate) {
    ConsistencyCase c = good;
    c.name = std::move(name);
    mutate(c);
    out.push_back(std::move(c));
  };
  add("old-1", [](auto& c) { c.old_size -= 1; });
  add("old+1", [](auto& c) { c.old_size += 1; });
  add("old^2", [](auto& c) { c.old_size ^= 2; });
  add("new*2", [](auto& c) { c.new_size *= 2; });
  add("new/2", [](auto& c) { c.new_size /= 2; });
  add("wrong-old-root", [](auto& c) { c.old_root = Flip(c.old_root, 3, 1); });
  add("wrong-new-root", [](auto& c) { c.new_root = Flip(c.new_root, 3, 1); });
  add("swapped-roots", [](auto& c) { std::swap(c.old_root, c.new_root); });
  add("empty-proof", [](auto& c) { c.proof.clear(); });
  add("trailing-garbage", [](auto& c) { c.proof.push_back(Sha256("g")); });
  add("trailing-old-root", [](auto& c) { c.proof.push_back(c.old_root); });
  add("preceding-garbage",
      [](auto& c) { c.proof.insert(c.proof.begin(), Sha256("g")); });
  add("preceding-new-root",
      [](auto& c) { c.proof.insert(c.proof.begin(), c.new_root); });
  add("truncated", [](auto& c) { c.proof.pop_back(); });
  for (size_t i = 0; i < good.proof.size(); ++i) {
    add(absl::StrCat("modified-proof[", i, "]-bit-@4"),
        [i](auto& c) { c.proof[i] = Flip(c.proof[i], 0, 4); });
  }
  return out;
}

void ExpectConsistencyMutationsFail(const ConsistencyCase& good) {
  ASSERT_THAT(VerifyConsistency(good.old_size, good.new_size, good.proof,
                                good.old_root, good.new_root),
              IsOk());
  if (good.proof.empty()) return;  // only non-trivial proofs are mutated
  for (const ConsistencyCase& c : ConsistencyMutations(good)) {
    const absl::StatusCode want =
        c.old_size > c.new_size ? kOutOfRange : kInvalid;
    EXPECT_THAT(VerifyConsistency(c.old_size, c.new_size, c.proof, c.old_root,
                                  c.new_root),
                StatusIs(want))
        << c.name << " of " << good.old_size << " -> " << good.new_size;
  }
}

// ---- Published vectors. ----

TEST(MerkleGoldenTest, RootsMatchPublishedVectors) {
  const GoldenTree& g = Golden();
  ASSERT_EQ(g.leaf_hashes.size(), 8u);
  ASSERT_EQ(g.roots.size(), 9u);
  VectorSource src(g.leaf_hashes);
  for (const auto& [size, root] : g.roots) {
    EXPECT_EQ(HashHex(reference::Mth(src, 0, size)), HashHex(root)) << size;
    std::vector<Hash> range;
    for (const NodeId& id : RangeNodes(0, size)) {
      range.push_back(g.nodes.at({id.level, id.index}));
    }
    EXPECT_EQ(HashHex(RootFromRangeHashes(range)), HashHex(root)) << size;
  }
  for (const auto& [id, hash] : g.nodes) {
    EXPECT_EQ(src.Subtree(id.first, id.second), hash);
  }
}

TEST(MerkleGoldenTest, InclusionProofsMatchPublishedVectors) {
  const GoldenTree& g = Golden();
  VectorSource src(g.leaf_hashes);
  const char* files[] = {"index0_size1", "index0_size2", "index1_size2",
                         "index2_size3", "index1_size5", "index0_size8",
                         "index5_size8"};
  for (const char* f : files) {
    InclusionCase c{f, 0, 0, {}, {}, {}};
    ReadGoldenProof(absl::StrCat("merkle/inclusion/", f, ".txt"), "index",
                    &c.index, "size", &c.size, &c.proof);
    c.leaf = g.leaf_hashes.at(c.index);
    c.root = g.roots.at(c.size);
    SEG_ASSERT_OK_AND_ASSIGN(std::vector<Hash> got,
                             FastInclusionProof(src, c.index, c.size));
    EXPECT_EQ(got, c.proof) << f;
    EXPECT_EQ(reference::Path(src, c.index, 0, c.size), c.proof) << f;
    ExpectInclusionMutationsFail(c);
  }
}

TEST(MerkleGoldenTest, ConsistencyProofsMatchPublishedVectors) {
  const GoldenTree& g = Golden();
  VectorSource src(g.leaf_hashes);
  const char* files[] = {"old1_new1", "old1_new8", "old6_new8", "old2_new5",
                         "old6_new7"};
  for (const char* f : files) {
    ConsistencyCase c{f, 0, 0, {}, {}, {}};
    ReadGoldenProof(absl::StrCat("merkle/consistency/", f, ".txt"), "old",
                    &c.old_size, "new", &c.new_size, &c.proof);
    c.old_root = g.roots.at(c.old_size);
    c.new_root = g.roots.at(c.new_size);
    SEG_ASSERT_OK_AND_ASSIGN(std::vector<Hash> got,
                             FastConsistencyProof(src, c.old_size, c.new_size));
    EXPECT_EQ(got, c.proof) << f;
    EXPECT_EQ(reference::ConsistencyProof(src, c.old_size, c.new_size), c.proof)
        << f;
    ExpectConsistencyMutationsFail(c);
  }
}

// ---- Structure. ----

TEST(RangeNodesTest, Examples) {
  EXPECT_TRUE(RangeNodes(0, 0).empty());
  EXPECT_EQ(RangeNodes(0, 8), (std::vector<NodeId>{{3, 0}}));
  EXPECT_EQ(RangeNodes(0, 7), (std::vector<NodeId>{{2, 0}, {1, 2}, {0, 6}}));
  EXPECT_EQ(RangeNodes(3, 13),
            (std::vector<NodeId>{{0, 3}, {2, 1}, {2, 2}, {0, 12}}));
  std::vector<NodeId> all = RangeNodes(0, UINT64_MAX);
  ASSERT_EQ(all.size(), 64u);
  EXPECT_EQ(all.front(), (NodeId{63, 0}));
  EXPECT_EQ(all.back(), (NodeId{0, UINT64_MAX - 1}));
}

TEST(RangeNodesTest, ContiguousAlignedAndMaximal) {
  for (uint64_t b = 0; b <= 130; ++b) {
    for (uint64_t e = b; e <= 130; ++e) {
      uint64_t at = b;
      const std::vector<NodeId> ids = RangeNodes(b, e);
      for (size_t i = 0; i < ids.size(); ++i) {
        ASSERT_EQ(ids[i].index << ids[i].level, at) << b << ".." << e;
        at += uint64_t{1} << ids[i].level;
        // Two siblings side by side would have been one parent.
        if (i > 0 && ids[i - 1].level == ids[i].level) {
          ASSERT_NE(ids[i - 1].index % 2, 0u) << b << ".." << e;
        }
      }
      ASSERT_EQ(at, e);
    }
  }
}

TEST(RootFromRangeHashesTest, EmptyTreeIsSha256OfNothing) {
  EXPECT_EQ(HashHex(RootFromRangeHashes({})),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

// ---- Edge cases and errors. ----

TEST(MerkleEdgeTest, InclusionOutOfRange) {
  EXPECT_THAT(InclusionNodes(0, 0), StatusIs(kOutOfRange, "tree size 0"));
  EXPECT_THAT(InclusionNodes(7, 7), StatusIs(kOutOfRange, "leaf index 7"));
  Hash h = Sha256("x");
  EXPECT_THAT(VerifyInclusion(0, 0, h, {}, h), StatusIs(kOutOfRange));
  EXPECT_THAT(VerifyInclusion(9, 3, h, {h, h}, h),
              StatusIs(kOutOfRange, "tree size 3"));
  EXPECT_THAT(RootFromInclusionProof(3, 3, h, {h}), StatusIs(kOutOfRange));
}

TEST(MerkleEdgeTest, InclusionSingleLeafAndWrongLength) {
  Hash h = Sha256("x");
  EXPECT_THAT(VerifyInclusion(0, 1, h, {}, h), IsOk());
  EXPECT_THAT(VerifyInclusion(0, 1, h, {h}, h),
              StatusIs(kInvalid, "has 1 hashes, want 0"));
  EXPECT_THAT(VerifyInclusion(2, 5, h, {h}, h),
              StatusIs(kInvalid, "leaf 2 in tree size 5 has 1 hashes, want 3"));
}

TEST(MerkleEdgeTest, InclusionMismatchNamesValues) {
  const GoldenTree& g = Golden();
  VectorSource src(g.leaf_hashes);
  SEG_ASSERT_OK_AND_ASSIGN(std::vector<Hash> proof,
                           FastInclusionProof(src, 5, 8));
  absl::Status s =
      VerifyInclusion(5, 8, g.leaf_hashes[5], proof, g.roots.at(7));
  EXPECT_THAT(s, StatusIs(kInvalid));
  EXPECT_THAT(std::string(s.message()), HasSubstr("leaf 5, tree size 8"));
  EXPECT_THAT(std::string(s.message()), HasSubstr(HashHex(g.roots.at(7))));
  EXPECT_THAT(std::string(s.message()), HasSubstr(HashHex(g.roots.at(8))));
}

TEST(MerkleEdgeTest, ConsistencyNodesPreconditions) {
  EXPECT_THAT(ConsistencyNodes(0, 5), StatusIs(kOutOfRange, "old size 0"));
  EXPECT_THAT(ConsistencyNodes(6, 5), StatusIs(kOutOfRange, "new size 5"));
  SEG_ASSERT_OK_AND_ASSIGN(ProofNodes same, ConsistencyNodes(5, 5));
  EXPECT_TRUE(same.ids.empty());
}

TEST(MerkleEdgeTest, ConsistencyTrivialSizes) {
  const Hash a = Sha256("a"), b = Sha256("b");
  EXPECT_THAT(VerifyConsistency(0, 0, {}, a, a), IsOk());
  EXPECT_THAT(VerifyConsistency(0, 7, {}, a, b), IsOk());
  EXPECT_THAT(VerifyConsistency(0, 7, {a}, a, b),
              StatusIs(kInvalid, "must be empty"));
  EXPECT_THAT(VerifyConsistency(4, 4, {}, b, b), IsOk());
  EXPECT_THAT(VerifyConsistency(4, 4, {a}, b, b), StatusIs(kInvalid));
  absl::Status two_roots = VerifyConsistency(4, 4, {}, a, b);
  EXPECT_THAT(two_roots, StatusIs(kInvalid, HashHex(a)));
  EXPECT_THAT(two_roots, StatusIs(kInvalid, HashHex(b)));
  EXPECT_THAT(VerifyConsistency(5, 4, {}, a, b),
              StatusIs(kOutOfRange, "old size 5 > new size 4"));
  EXPECT_THAT(VerifyConsistency(3, 4, {}, a, b),
              StatusIs(kInvalid, "has 0 hashes, want 3"));
}

TEST(MerkleEdgeTest, RehashChecksSizes) {
  SEG_ASSERT_OK_AND_ASSIGN(ProofNodes p, InclusionNodes(0, 3));
  EXPECT_THAT(p.Rehash({}), StatusIs(kInvalid, "got 0 hashes for 2"));
  ProofNodes bad = p;
  bad.end = 5;
  EXPECT_THAT(bad.Rehash(std::vector<Hash>(2)), StatusIs(kInvalid));
}

// ---- Exhaustive and random comparison with the naive reference. ----

TEST(MerkleExhaustiveTest, EveryInclusionProofUpTo300) {
  const uint64_t max = EnvCount("SEGLEDGER_MERKLE_EXHAUSTIVE_MAX", 300);
  VectorSource src(SyntheticLeaves(max));
  for (uint64_t n = 1; n <= max; ++n) {
    const Hash root = reference::Mth(src, 0, n);
    for (uint64_t i = 0; i < n; ++i) {
      SEG_ASSERT_OK_AND_ASSIGN(std::vector<Hash> proof,
                               FastInclusionProof(src, i, n));
      ASSERT_EQ(proof, reference::Path(src, i, 0, n)) << i << " in " << n;
      ASSERT_THAT(VerifyInclusion(i, n, src.Leaf(i), proof, root), IsOk());
      if (n <= 24)
        ExpectInclusionMutationsFail({"", i, n, src.Leaf(i), proof, root});
    }
  }
}

TEST(MerkleExhaustiveTest, EveryConsistencyProofUpTo300) {
  const uint64_t max = EnvCount("SEGLEDGER_MERKLE_EXHAUSTIVE_MAX", 300);
  VectorSource src(SyntheticLeaves(max));
  std::vector<Hash> roots;
  for (uint64_t n = 0; n <= max; ++n)
    roots.push_back(reference::Mth(src, 0, n));
  for (uint64_t n = 1; n <= max; ++n) {
    for (uint64_t m = 1; m <= n; ++m) {
      SEG_ASSERT_OK_AND_ASSIGN(std::vector<Hash> proof,
                               FastConsistencyProof(src, m, n));
      ASSERT_EQ(proof, reference::ConsistencyProof(src, m, n))
          << m << " -> " << n;
      ASSERT_THAT(VerifyConsistency(m, n, proof, roots[m], roots[n]), IsOk());
      if (n <= 24) {
        ExpectConsistencyMutationsFail({"", m, n, proof, roots[m], roots[n]});
      }
    }
  }
}

// One caller-owned hasher reused across many proofs, failed verifications
// included, gives the same results as the hasher-less calls.
TEST(MerkleHasherTest, OneHasherAcrossProofsAndFailures) {
  constexpr uint64_t kMax = 64;
  VectorSource src(SyntheticLeaves(kMax));
  std::vector<Hash> roots;
  for (uint64_t n = 0; n <= kMax; ++n) {
    roots.push_back(reference::Mth(src, 0, n));
  }
  TreeHasher hasher;
  for (uint64_t n = 1; n <= kMax; ++n) {
    std::vector<Hash> range;
    for (const NodeId& id : RangeNodes(0, n)) {
      range.push_back(src.Subtree(id.level, id.index));
    }
    ASSERT_EQ(RootFromRangeHashes(range, hasher), roots[n]) << n;
    for (uint64_t i = 0; i < n; ++i) {
      const std::vector<Hash> proof = reference::Path(src, i, 0, n);
      SEG_ASSERT_OK_AND_ASSIGN(ProofNodes nodes, InclusionNodes(i, n));
      std::vector<Hash> hashes;
      for (const NodeId& id : nodes.ids) {
        hashes.push_back(src.Subtree(id.level, id.index));
      }
      SEG_ASSERT_OK_AND_ASSIGN(std::vector<Hash> rehashed,
                               nodes.Rehash(hashes, hasher));
      ASSERT_EQ(rehashed, proof) << i << " in " << n;
      EXPECT_THAT(VerifyInclusion(i, n, Flip(src.Leaf(i), 0, 1), proof,
                                  roots[n], hasher),
                  StatusIs(kInvalid));
      ASSERT_THAT(VerifyInclusion(i, n, src.Leaf(i), proof, roots[n], hasher),
                  IsOk())
          << i << " in " << n;
    }
    for (uint64_t m = 1; m <= n; ++m) {
      const std::vector<Hash> proof = reference::ConsistencyProof(src, m, n);
      EXPECT_THAT(VerifyConsistency(m, n, proof, roots[m], Flip(roots[n], 0, 1),
                                    hasher),
                  StatusIs(kInvalid));
      ASSERT_THAT(VerifyConsistency(m, n, proof, roots[m], roots[n], hasher),
                  IsOk())
          << m << " -> " << n;
    }
  }
}

TEST(MerkleRandomTest, LargeTreesAgainstReference) {
  const uint64_t pairs = EnvCount("SEGLEDGER_MERKLE_RANDOM_PAIRS", 300);
  const uint64_t max_size = 1000000;
  SyntheticSource src;
  std::mt19937_64 rng(9162);
  for (uint64_t t = 0; t < pairs; ++t) {
    const uint64_t n = 1 + rng() % max_size;
    const uint64_t i = rng() % n, m = 1 + rng() % n;
    const Hash root = reference::Mth(src, 0, n);
    SEG_ASSERT_OK_AND_ASSIGN(std::vector<Hash> incl,
                             FastInclusionProof(src, i, n));
    ASSERT_EQ(incl, reference::Path(src, i, 0, n)) << i << " in " << n;
    ASSERT_THAT(VerifyInclusion(i, n, src.Leaf(i), incl, root), IsOk());
    SEG_ASSERT_OK_AND_ASSIGN(std::vector<Hash> cons,
                             FastConsistencyProof(src, m, n));
    ASSERT_EQ(cons, reference::ConsistencyProof(src, m, n)) << m << "->" << n;
    ASSERT_THAT(VerifyConsistency(m, n, cons, reference::Mth(src, 0, m), root),
                IsOk());
  }
}

// Near 2^64 no hashes can be computed, but every emitted id must still be a
// stored node and the rehashed proof must have the length the verifier
// expects (no shift overflows).
TEST(MerkleRandomTest, HugeTreesEmitValidNodeIds) {
  std::mt19937_64 rng(6962);
  for (int t = 0; t < 2000; ++t) {
    const uint64_t n = t == 0 ? UINT64_MAX : (rng() | (uint64_t{1} << 40));
    const uint64_t i = t == 1 ? 0 : rng() % n;
    const uint64_t m = t == 2 ? 1 : 1 + rng() % n;
    SEG_ASSERT_OK_AND_ASSIGN(ProofNodes incl, InclusionNodes(i, n));
    ASSERT_TRUE(AllInside(incl.ids, n));
    SEG_ASSERT_OK_AND_ASSIGN(std::vector<Hash> ip,
                             incl.Rehash(std::vector<Hash>(incl.ids.size())));
    ASSERT_THAT(RootFromInclusionProof(i, n, Hash{}, ip), IsOk())
        << i << " " << n;
    SEG_ASSERT_OK_AND_ASSIGN(ProofNodes cons, ConsistencyNodes(m, n));
    ASSERT_TRUE(AllInside(cons.ids, n));
    SEG_ASSERT_OK_AND_ASSIGN(std::vector<Hash> cp,
                             cons.Rehash(std::vector<Hash>(cons.ids.size())));
    if (m == n) continue;
    ASSERT_THAT(VerifyConsistency(m, n, cp, Sha256("a"), Sha256("b")),
                StatusIs(kInvalid, "does not verify"))
        << m << " -> " << n;
  }
}

}  // namespace
}  // namespace segledger
