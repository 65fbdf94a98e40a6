// TreeCache: level choice from the byte budget, bounds, read-through
// inserts, warm-up from a tree family, concurrent readers and inserters.
#include "ledger/store/tree_cache.h"

#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "ledger/compact_range.h"
#include "ledger/store/keys.h"
#include "ledger/store/memory_kv.h"
#include "tests/ledger/merkle_reference.h"

namespace segledger::store {
namespace {

Hash H(uint64_t v) { return reference::SyntheticSource::SyntheticLeaf(v); }

TEST(TreeCacheTest, DisabledWithZeroBudget) {
  TreeCache cache(1000, 0);
  EXPECT_EQ(cache.Slots(), 0u);
  cache.Insert(NodeId{5, 0}, H(1));
  Hash out;
  EXPECT_FALSE(cache.Lookup(NodeId{5, 0}, &out));
  EXPECT_EQ(cache.BytesAllocated(), 0u);
  cache.Warm(nullptr, 1000);  // no thread, no kv access
  cache.WaitWarm();
}

TEST(TreeCacheTest, LowestLevelFitsTheBudget) {
  const size_t budget = 64 * 1024;  // 1,024 slots at min_level
  EXPECT_EQ(TreeCache(0, budget).min_level(), TreeCache::kMinLevel);
  EXPECT_EQ(TreeCache(1024 << 4, budget).min_level(), 4);
  EXPECT_EQ(TreeCache((1024 << 4) + 16, budget).min_level(), 5);
  EXPECT_EQ(TreeCache(uint64_t{1} << 40, budget).min_level(), 30);
  TreeCache cache(10'000'000, size_t{64} << 20);
  EXPECT_EQ(cache.min_level(), 4);  // 625,000 nodes <= 1,048,576 slots
}

TEST(TreeCacheTest, CoversOnlyLevelsAndIndexesWithSlots) {
  TreeCache cache(1 << 14, 64 * 1024);  // min level 4, 1,024 slots
  ASSERT_EQ(cache.min_level(), 4);
  EXPECT_FALSE(cache.Covers(NodeId{3, 0}));
  EXPECT_TRUE(cache.Covers(NodeId{4, 1023}));
  EXPECT_FALSE(cache.Covers(NodeId{4, 1024}));
  EXPECT_TRUE(cache.Covers(NodeId{5, 511}));
  EXPECT_FALSE(cache.Covers(NodeId{5, 512}));
  EXPECT_TRUE(cache.Covers(NodeId{63, 0}));
  EXPECT_FALSE(cache.Covers(NodeId{64, 0}));
}

TEST(TreeCacheTest, InsertThenLookupAndFirstValueStays) {
  TreeCache cache(1 << 14, 64 * 1024);
  Hash out;
  EXPECT_FALSE(cache.Lookup(NodeId{6, 7}, &out));
  cache.Insert(NodeId{6, 7}, H(67));
  ASSERT_TRUE(cache.Lookup(NodeId{6, 7}, &out));
  EXPECT_EQ(out, H(67));
  cache.Insert(NodeId{6, 7}, H(99));  // never rewritten
  ASSERT_TRUE(cache.Lookup(NodeId{6, 7}, &out));
  EXPECT_EQ(out, H(67));
  EXPECT_FALSE(cache.Lookup(NodeId{6, 6}, &out));
  EXPECT_FALSE(cache.Lookup(NodeId{7, 7}, &out));
  EXPECT_EQ(cache.NodesCached(), 1u);
  cache.Insert(NodeId{3, 0}, H(3));     // below min level: ignored
  cache.Insert(NodeId{4, 5000}, H(4));  // beyond the slots: ignored
  EXPECT_EQ(cache.NodesCached(), 1u);
}

TEST(TreeCacheTest, MemoryStaysWithinTheBudgetWhenFull) {
  const size_t budget = 256 * 1024;
  TreeCache cache(1 << 20, budget);
  for (int l = cache.min_level(); l < 64; ++l) {
    for (uint64_t i = 0; i < (cache.Slots() >> (l - cache.min_level())) + 2;
         ++i) {
      cache.Insert(NodeId{static_cast<uint8_t>(l), i}, H(i));
    }
  }
  // Hashes within the budget; presence bits and partly used top chunks on
  // top (one chunk per level at most beyond the hashes' share).
  EXPECT_LE(cache.NodesCached() * kHashSize, budget + 64 * kHashSize);
  EXPECT_LE(cache.BytesAllocated(),
            budget * 1.01 + 64 * sizeof(Hash) * TreeCache::kChunkSlots);
}

// A tree family of `n` synthetic leaves, every complete node stored.
void StoreTree(MemoryKv& kv, uint64_t n) {
  CompactRange range;
  KvBatch batch;
  for (uint64_t i = 0; i < n; ++i) {
    range.Append(H(i), [&batch](NodeId id, const Hash& h) {
      batch.Put(Family::kTree, TreeKey(id), HashBytes(h));
    });
  }
  ASSERT_TRUE(kv.Write(batch, false).ok());
}

TEST(TreeCacheTest, WarmCachesEveryCoveredNodeOfTheLog) {
  MemoryKv kv;
  const uint64_t n = 5000;
  StoreTree(kv, n);
  reference::SyntheticSource ref;
  TreeCache cache(n, 64 * 1024);
  cache.Warm(&kv, n);
  cache.WaitWarm();
  uint64_t want = 0;
  for (int l = cache.min_level(); l < 64; ++l) {
    for (uint64_t i = 0; i < (n >> l); ++i) {
      const NodeId id{static_cast<uint8_t>(l), i};
      if (!cache.Covers(id)) continue;
      ++want;
      Hash got;
      ASSERT_TRUE(cache.Lookup(id, &got)) << l << " " << i;
      EXPECT_EQ(got, ref.Subtree(l, i)) << l << " " << i;
    }
  }
  EXPECT_EQ(cache.NodesCached(), want);
}

TEST(TreeCacheTest, WarmOnlyReadsNodesInsideTheLogSize) {
  MemoryKv kv;
  StoreTree(kv, 4096);
  TreeCache cache(1024, 64 * 1024);
  cache.Warm(&kv, 1024);  // stored rows beyond 1024 leaves are not cached
  cache.WaitWarm();
  Hash out;
  EXPECT_TRUE(cache.Lookup(NodeId{4, 63}, &out));
  EXPECT_FALSE(cache.Lookup(NodeId{4, 64}, &out));
  EXPECT_FALSE(cache.Lookup(NodeId{11, 0}, &out));
}

TEST(TreeCacheTest, DestroyWhileWarmingStopsTheThread) {
  MemoryKv kv;
  StoreTree(kv, 1 << 14);
  for (int round = 0; round < 5; ++round) {
    TreeCache cache(1 << 14, 64 * 1024);
    cache.Warm(&kv, 1 << 14);
  }  // each destructor stops and joins
}

TEST(TreeCacheTest, ConcurrentInsertAndLookupSeeOnlyCompleteHashes) {
  TreeCache cache(1 << 16, 256 * 1024);
  const int level = cache.min_level();
  const uint64_t nodes = cache.Slots();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&cache, level, nodes, t] {
      for (uint64_t k = 0; k < nodes; ++k) {
        const uint64_t i = (k * 7 + t * 13) % nodes;
        const NodeId id{static_cast<uint8_t>(level), i};
        Hash got;
        if (cache.Lookup(id, &got)) {
          EXPECT_EQ(got, H(i));
        } else {
          cache.Insert(id, H(i));
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(cache.NodesCached(), nodes);
}

}  // namespace
}  // namespace segledger::store
