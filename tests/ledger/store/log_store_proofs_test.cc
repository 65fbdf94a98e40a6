// Proofs read through the tree cache and hashed low levels
// (log_store_proofs.cc) equal the naive RFC 9162 reference for every
// (index, size) and (old size, size) of a small log, with the cache warm,
// cold, disabled, smaller than the log, after appends past the size the
// cache was opened at, and after a RocksDB reopen; a missing leaf is
// DATA_LOSS naming it.
#include <algorithm>
#include <memory>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ledger/ed25519.h"
#include "ledger/store/keys.h"
#include "ledger/store/log_store.h"
#include "ledger/store/memory_kv.h"
#include "ledger/store/rocksdb_kv.h"
#include "tests/ledger/merkle_reference.h"
#include "tests/support/test_util.h"

namespace segledger::store {
namespace {

using ::segledger::testing::IsOk;
using ::segledger::testing::StatusIs;
using ::segledger::testing::TempDir;

constexpr char kOrigin[] = "cmo-up.example/segledger";

std::shared_ptr<const NoteSigner> Signer() {
  auto key = Ed25519Signer::New(std::string(32, 7));
  EXPECT_TRUE(key.ok());
  return std::make_shared<const NoteSigner>(
      "k1", std::shared_ptr<const Ed25519Signer>(std::move(*key)));
}

LogStoreOptions Opts(size_t cache_bytes) {
  LogStoreOptions o;
  o.origin = kOrigin;
  o.checkpoint_interval = absl::ZeroDuration();
  o.tree_cache_bytes = cache_bytes;
  return o;
}

// Appends `n` records in groups of 37 (so groups end at odd sizes).
void AppendN(LogStore& log, uint64_t n) {
  std::vector<AppendRecord> batch;
  for (uint64_t i = 0; i < n; ++i) {
    AppendRecord r;
    r.actor.set_person_id("op-1");
    r.record.mutable_key_revocation()->set_reason(std::to_string(i));
    batch.push_back(std::move(r));
    if (batch.size() == 37 || i + 1 == n) {
      ASSERT_THAT(log.Append(std::move(batch)).status(), IsOk());
      batch.clear();
    }
  }
}

std::vector<Hash> Leaves(const LogStore& log) {
  std::vector<Hash> leaves;
  for (uint64_t i = 0; i < log.Size(); ++i)
    leaves.push_back(*log.LeafHashAt(i));
  return leaves;
}

// A proof built the plain way: every node of merkle.h's list read from
// the tree family as stored, then combined.
std::vector<Hash> FromStoredNodes(KvStore& kv, const ProofNodes& nodes) {
  std::vector<Hash> hashes;
  for (const NodeId& id : nodes.ids) {
    absl::StatusOr<std::string> v = kv.Get(Family::kTree, TreeKey(id));
    EXPECT_TRUE(v.ok() && v->size() == kHashSize);
    Hash h{};
    if (v.ok()) std::copy(v->begin(), v->end(), h.begin());
    hashes.push_back(h);
  }
  return *nodes.Rehash(hashes);
}

// Every inclusion and consistency proof of sizes 1..log.Size() equals the
// one from the stored nodes; those of the full size also equal the naive
// RFC 9162 reference built from the log's leaves.
void ExpectAllProofsMatch(LogStore& log) {
  const uint64_t n = log.Size();
  for (uint64_t size = 1; size <= n; ++size) {
    for (uint64_t i = 0; i < size; ++i) {
      absl::StatusOr<std::vector<Hash>> p = log.InclusionProof(i, size);
      ASSERT_THAT(p.status(), IsOk());
      ASSERT_EQ(*p, FromStoredNodes(log.kv(), *InclusionNodes(i, size)))
          << "inclusion " << i << " in " << size;
    }
    for (uint64_t m = 1; m <= size; ++m) {
      absl::StatusOr<std::vector<Hash>> p = log.ConsistencyProof(m, size);
      ASSERT_THAT(p.status(), IsOk());
      ASSERT_EQ(*p, FromStoredNodes(log.kv(), *ConsistencyNodes(m, size)))
          << "consistency " << m << " to " << size;
    }
  }
  reference::VectorSource ref(Leaves(log));
  for (uint64_t i = 0; i < n; ++i) {
    ASSERT_EQ(*log.InclusionProof(i, n), reference::Path(ref, i, 0, n)) << i;
    ASSERT_EQ(*log.ConsistencyProof(i + 1, n),
              reference::ConsistencyProof(ref, i + 1, n))
        << i + 1;
  }
}

// 150 entries reach level 7. A 256-byte budget (4 slots) on a log opened
// empty caches only the first 4 nodes of level 4, 2 of level 5, ...: the
// rest are read from the store.
constexpr uint64_t kEntries = 150;

TEST(LogStoreProofsTest, EveryProofMatchesTheReferenceCacheWarm) {
  auto log = LogStore::Open(std::make_unique<MemoryKv>(), {Signer()},
                            Opts(size_t{1} << 20));
  ASSERT_THAT(log.status(), IsOk());
  AppendN(**log, kEntries);
  ExpectAllProofsMatch(**log);  // fills the cache on the way
  ExpectAllProofsMatch(**log);  // now read from it
  EXPECT_GT((*log)->WaitProofCacheWarm().nodes, 0u);
}

TEST(LogStoreProofsTest, EveryProofMatchesTheReferenceCacheDisabled) {
  auto log = LogStore::Open(std::make_unique<MemoryKv>(), {Signer()}, Opts(0));
  ASSERT_THAT(log.status(), IsOk());
  AppendN(**log, kEntries);
  ExpectAllProofsMatch(**log);
  EXPECT_EQ((*log)->WaitProofCacheWarm().nodes, 0u);
}

TEST(LogStoreProofsTest, EveryProofMatchesTheReferenceCacheSmallerThanLog) {
  auto log =
      LogStore::Open(std::make_unique<MemoryKv>(), {Signer()}, Opts(256));
  ASSERT_THAT(log.status(), IsOk());
  AppendN(**log, kEntries);
  ExpectAllProofsMatch(**log);
  ExpectAllProofsMatch(**log);
}

TEST(LogStoreProofsTest, ProofsUnchangedAfterReopenWithWarmedCache) {
  TempDir dir;
  std::vector<std::vector<Hash>> before;
  {
    auto kv = RocksDbKv::Open(dir.Sub("db"));
    ASSERT_THAT(kv.status(), IsOk());
    auto log = LogStore::Open(*std::move(kv), {Signer()}, Opts(0));
    ASSERT_THAT(log.status(), IsOk());
    AppendN(**log, kEntries);
    for (uint64_t i = 0; i < kEntries; i += 7) {
      before.push_back(*(*log)->InclusionProof(i, kEntries));
      before.push_back(*(*log)->ConsistencyProof(i + 1, kEntries));
    }
    ASSERT_THAT((*log)->Close(), IsOk());
  }
  auto kv = RocksDbKv::Open(dir.Sub("db"));
  ASSERT_THAT(kv.status(), IsOk());
  auto log = LogStore::Open(*std::move(kv), {Signer()}, Opts(size_t{1} << 20));
  ASSERT_THAT(log.status(), IsOk());
  const LogStore::ProofCacheStats stats = (*log)->WaitProofCacheWarm();
  EXPECT_EQ(stats.min_level, 4);
  EXPECT_EQ(stats.nodes, (kEntries >> 4) + (kEntries >> 5) + (kEntries >> 6) +
                             (kEntries >> 7) + (kEntries >> 8));
  std::vector<std::vector<Hash>> after;
  for (uint64_t i = 0; i < kEntries; i += 7) {
    after.push_back(*(*log)->InclusionProof(i, kEntries));
    after.push_back(*(*log)->ConsistencyProof(i + 1, kEntries));
  }
  EXPECT_EQ(before, after);
  // Appends past the size the cache was opened (and warmed) at.
  AppendN(**log, 50);
  ExpectAllProofsMatch(**log);
}

TEST(LogStoreProofsTest, MissingLeafUnderAHashedNodeIsDataLoss) {
  auto owned = std::make_unique<MemoryKv>();
  MemoryKv* kv = owned.get();
  auto log = LogStore::Open(std::move(owned), {Signer()}, Opts(0));
  ASSERT_THAT(log.status(), IsOk());
  AppendN(**log, 64);
  KvBatch del;
  del.Delete(Family::kTree, TreeKey(NodeId{0, 13}));
  ASSERT_THAT(kv->Write(del, false), IsOk());
  // Leaf 1's path hashes the level-3 node over leaves 8..15.
  EXPECT_THAT((*log)->InclusionProof(1, 64),
              StatusIs(absl::StatusCode::kDataLoss, "level 0 index 13"));
}

TEST(LogStoreProofsTest, MalformedLeafInARunIsDataLoss) {
  auto owned = std::make_unique<MemoryKv>();
  MemoryKv* kv = owned.get();
  auto log = LogStore::Open(std::move(owned), {Signer()}, Opts(0));
  ASSERT_THAT(log.status(), IsOk());
  AppendN(**log, 64);
  KvBatch bad;
  bad.Put(Family::kTree, TreeKey(NodeId{0, 21}), "short");
  ASSERT_THAT(kv->Write(bad, false), IsOk());
  // Leaf 16's path reads the run of leaves 16..31 at once.
  EXPECT_THAT((*log)->InclusionProof(16, 64),
              StatusIs(absl::StatusCode::kDataLoss, "leaf run 16"));
  // A proof that needs one leaf of that run alone reads it by key.
  EXPECT_THAT((*log)->ConsistencyProof(22, 64),
              StatusIs(absl::StatusCode::kDataLoss));
}

}  // namespace
}  // namespace segledger::store
