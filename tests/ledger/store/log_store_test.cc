// LogStore: append/read/reopen, proofs for many sizes, tiles, checkpoints
// by policy, idempotent retries, concurrent appenders, refusals (oversize
// body, hook) that leave the store unchanged, key rotation, failed writes.
#include "ledger/store/log_store.h"

#include <atomic>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ledger/checkpoint.h"
#include "ledger/compact_range.h"
#include "ledger/entry_codec.h"
#include "ledger/merkle.h"
#include "ledger/store/keys.h"
#include "ledger/store/memory_kv.h"
#include "ledger/store/rocksdb_kv.h"
#include "tests/support/test_util.h"

namespace segledger::store {
namespace {

using ::segledger::testing::IsOk;
using ::segledger::testing::StatusIs;
using ::segledger::testing::TempDir;

constexpr char kOrigin[] = "cmo-up.example/segledger";

std::shared_ptr<const NoteSigner> Signer(const std::string& name, char fill) {
  auto key = Ed25519Signer::New(std::string(32, fill));
  EXPECT_TRUE(key.ok());
  return std::make_shared<const NoteSigner>(
      name, std::shared_ptr<const Ed25519Signer>(std::move(*key)));
}

AppendRecord Rec(const std::string& request_id,
                 const std::string& payload = "x",
                 const std::string& person = "op-1") {
  AppendRecord r;
  r.actor.set_person_id(person);
  r.actor.set_printed_name("Op One");
  r.request_id = request_id;
  r.record.mutable_key_revocation()->set_reason(payload);
  return r;
}

std::vector<AppendRecord> One(AppendRecord r) {
  std::vector<AppendRecord> v;
  v.push_back(std::move(r));
  return v;
}

LogStoreOptions Opts() {
  LogStoreOptions o;
  o.origin = kOrigin;
  o.checkpoint_interval = absl::ZeroDuration();
  return o;
}

class LogStoreTest : public ::testing::Test {
 protected:
  // Opens a RocksDB-backed log in dir_.
  absl::StatusOr<std::unique_ptr<LogStore>> OpenRocks(
      LogStoreOptions o = Opts(),
      std::vector<std::shared_ptr<const NoteSigner>> keys = {}) {
    auto kv = RocksDbKv::Open(dir_.Sub("db"));
    if (!kv.ok()) return kv.status();
    if (keys.empty()) keys = {k1_};
    return LogStore::Open(*std::move(kv), keys, std::move(o));
  }
  absl::StatusOr<std::unique_ptr<LogStore>> OpenMemory(
      LogStoreOptions o = Opts()) {
    return LogStore::Open(std::make_unique<MemoryKv>(), {k1_}, std::move(o));
  }

  TempDir dir_;
  std::shared_ptr<const NoteSigner> k1_ = Signer("k1", 1);
  std::shared_ptr<const NoteSigner> k2_ = Signer("k2", 2);
};

// Entries parse, chain, carry the right fields and verify with `key`.
void ExpectChainIntact(const LogStore& log, const NoteVerifier& key) {
  Hash prev = kZeroHash;
  uint64_t count = 0;
  SEG_ASSERT_OK(
      log.ScanEntries(0, log.Size(), [&](uint64_t i, const v1::SignedEntry& e) {
        auto body = ParseEntryBody(e.body());
        EXPECT_TRUE(body.ok()) << i;
        EXPECT_EQ(body->index(), i);
        EXPECT_EQ(body->log_origin(), kOrigin);
        EXPECT_EQ(body->prev_hash(), HashBytes(prev))
            << "chain broken at " << i;
        EXPECT_THAT(key.Verify(EntrySigningMessage(e.body()), e.signature()),
                    IsOk())
            << i;
        prev = LeafHash(e.body());
        EXPECT_EQ(*log.LeafHashAt(i), prev);
        ++count;
        return true;
      }));
  EXPECT_EQ(count, log.Size());
}

TEST_F(LogStoreTest, AppendReadReopen) {
  FakeClock clock(absl::FromUnixSeconds(1700000000));
  LogStoreOptions o = Opts();
  o.clock = &clock;
  std::vector<Hash> leaves;
  {
    SEG_ASSERT_OK_AND_ASSIGN(auto log, OpenRocks(o));
    EXPECT_EQ(log->Size(), 0u);
    std::vector<AppendRecord> three;
    for (int i = 0; i < 3; ++i) three.push_back(Rec("", absl::StrCat(i)));
    SEG_ASSERT_OK_AND_ASSIGN(auto r, log->Append(std::move(three)));
    ASSERT_EQ(r.size(), 3u);
    for (int i = 0; i < 3; ++i) {
      EXPECT_EQ(r[i].index, static_cast<uint64_t>(i));
      EXPECT_FALSE(r[i].replayed);
      leaves.push_back(r[i].leaf_hash);
    }
    clock.Advance(absl::Seconds(5));
    SEG_ASSERT_OK_AND_ASSIGN(auto r2, log->Append(One(Rec("req-a"))));
    EXPECT_EQ(r2[0].index, 3u);
    leaves.push_back(r2[0].leaf_hash);
    SEG_ASSERT_OK_AND_ASSIGN(v1::SignedEntry e, log->GetEntry(3));
    SEG_ASSERT_OK_AND_ASSIGN(v1::EntryBody body, ParseEntryBody(e.body()));
    EXPECT_EQ(body.recorded_at().seconds(), 1700000005);
    EXPECT_EQ(body.key_name(), "k1");
    EXPECT_EQ(body.request_id(), "req-a");
    EXPECT_EQ(body.actor().person_id(), "op-1");
    EXPECT_EQ(LeafHash(e.body()), r2[0].leaf_hash);
    EXPECT_THAT(log->GetEntry(4), StatusIs(absl::StatusCode::kOutOfRange));
    ExpectChainIntact(*log, k1_->Verifier());
    SEG_ASSERT_OK(log->Close());
    EXPECT_THAT(log->Append(One(Rec(""))),
                StatusIs(absl::StatusCode::kUnavailable));
  }
  o.open_check = LogStoreOptions::OpenCheck::kFull;
  SEG_ASSERT_OK_AND_ASSIGN(auto log, OpenRocks(o));
  EXPECT_EQ(log->Size(), 4u);
  // Close signed a checkpoint at the final size.
  SEG_ASSERT_OK_AND_ASSIGN(std::string note, log->LatestCheckpoint());
  SEG_ASSERT_OK_AND_ASSIGN(SignedCheckpoint cp,
                           OpenCheckpoint(note, {k1_->Verifier()}, kOrigin));
  EXPECT_EQ(cp.checkpoint.size, 4u);
  CompactRange range;
  for (const Hash& h : leaves) range.Append(h, nullptr);
  EXPECT_EQ(cp.checkpoint.root, range.Root());
  SEG_ASSERT_OK_AND_ASSIGN(auto r3, log->Append(One(Rec(""))));
  EXPECT_EQ(r3[0].index, 4u);
  ExpectChainIntact(*log, k1_->Verifier());
  EXPECT_THAT(log->LookupRequest("req-a"), IsOk());
  EXPECT_EQ(*log->LookupRequest("req-a"), 3u);
  EXPECT_THAT(log->LookupRequest("nope"),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(LogStoreTest, ProofsVerifyForManySizes) {
  SEG_ASSERT_OK_AND_ASSIGN(auto log, OpenMemory());
  std::vector<Hash> leaves;
  std::vector<Hash> roots = {Sha256("")};
  CompactRange range;
  constexpr uint64_t kMax = 70;
  for (uint64_t n = 1; n <= kMax; ++n) {
    SEG_ASSERT_OK_AND_ASSIGN(auto r, log->Append(One(Rec(""))));
    leaves.push_back(r[0].leaf_hash);
    range.Append(r[0].leaf_hash, nullptr);
    roots.push_back(range.Root());
  }
  for (uint64_t n = 0; n <= kMax; ++n) {
    SEG_ASSERT_OK_AND_ASSIGN(Hash root, log->RootAt(n));
    ASSERT_EQ(root, roots[n]) << n;
    for (uint64_t i = 0; i < n; ++i) {
      SEG_ASSERT_OK_AND_ASSIGN(auto proof, log->InclusionProof(i, n));
      ASSERT_THAT(VerifyInclusion(i, n, leaves[i], proof, root), IsOk())
          << i << "/" << n;
    }
    for (uint64_t m = 1; m <= n; ++m) {
      SEG_ASSERT_OK_AND_ASSIGN(auto proof, log->ConsistencyProof(m, n));
      ASSERT_THAT(VerifyConsistency(m, n, proof, roots[m], root), IsOk())
          << m << "->" << n;
    }
  }
  EXPECT_THAT(log->RootAt(kMax + 1), StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_THAT(log->InclusionProof(0, kMax + 1),
              StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_THAT(log->InclusionProof(kMax, kMax),
              StatusIs(absl::StatusCode::kOutOfRange));
}

TEST_F(LogStoreTest, TilesExportTreeLevelsAndBundles) {
  LogStoreOptions o = Opts();
  SEG_ASSERT_OK_AND_ASSIGN(auto log, OpenMemory(o));
  std::vector<AppendRecord> batch;
  for (int i = 0; i < 300; ++i) batch.push_back(Rec("", absl::StrCat(i)));
  SEG_ASSERT_OK_AND_ASSIGN(auto r, log->Append(std::move(batch)));
  SEG_ASSERT_OK_AND_ASSIGN(std::string tile0,
                           log->ReadHashTile(TileId{0, 0, 256}));
  ASSERT_EQ(tile0.size(), 256 * kHashSize);
  for (int i = 0; i < 256; ++i) {
    ASSERT_EQ(tile0.substr(i * kHashSize, kHashSize),
              HashBytes(r[i].leaf_hash));
  }
  SEG_ASSERT_OK_AND_ASSIGN(std::string partial,
                           log->ReadHashTile(TileId{0, 1, 44}));
  EXPECT_EQ(partial.substr(43 * kHashSize), HashBytes(r[299].leaf_hash));
  EXPECT_THAT(log->ReadHashTile(TileId{0, 1, 45}),
              StatusIs(absl::StatusCode::kOutOfRange));
  // Level 1 tile: tree level 8, one node (leaves 0..255) exists.
  SEG_ASSERT_OK_AND_ASSIGN(std::string up, log->ReadHashTile(TileId{1, 0, 1}));
  SEG_ASSERT_OK_AND_ASSIGN(Hash root256, log->RootAt(256));
  EXPECT_EQ(up, HashBytes(root256));
  EXPECT_THAT(log->ReadHashTile(TileId{1, 0, 2}),
              StatusIs(absl::StatusCode::kOutOfRange));
  SEG_ASSERT_OK_AND_ASSIGN(std::string bundle,
                           log->ReadEntryBundle(TileId{0, 1, 44}));
  SEG_ASSERT_OK_AND_ASSIGN(std::string sigs,
                           log->ReadSignatureBundle(TileId{0, 1, 44}));
  EXPECT_EQ(sigs.size(), 44u * 64);
  size_t pos = 0;
  for (int i = 256; i < 300; ++i) {
    SEG_ASSERT_OK_AND_ASSIGN(v1::SignedEntry e, log->GetEntry(i));
    const size_t len = (static_cast<uint8_t>(bundle[pos]) << 8) |
                       static_cast<uint8_t>(bundle[pos + 1]);
    ASSERT_EQ(len, e.body().size());
    EXPECT_EQ(bundle.substr(pos + 2, len), e.body());
    EXPECT_EQ(sigs.substr((i - 256) * 64, 64), e.signature());
    pos += 2 + len;
  }
  EXPECT_EQ(pos, bundle.size());
  EXPECT_THAT(log->ReadEntryBundle(TileId{0, 1, 45}),
              StatusIs(absl::StatusCode::kOutOfRange));
}

TEST_F(LogStoreTest, CheckpointsByPolicyAndOnDemand) {
  LogStoreOptions o = Opts();
  o.checkpoint_every = 10;
  SEG_ASSERT_OK_AND_ASSIGN(auto log, OpenMemory(o));
  for (int i = 0; i < 25; ++i)
    SEG_ASSERT_OK(log->Append(One(Rec(""))).status());
  std::vector<uint64_t> sizes;
  SEG_ASSERT_OK(
      log->ScanCheckpoints([&](uint64_t size, absl::string_view note) {
        sizes.push_back(size);
        auto cp = OpenCheckpoint(note, {k1_->Verifier()}, kOrigin);
        EXPECT_THAT(cp, IsOk());
        EXPECT_EQ(cp->checkpoint.size, size);
        EXPECT_EQ(cp->checkpoint.root, *log->RootAt(size));
        return true;
      }));
  EXPECT_EQ(sizes, (std::vector<uint64_t>{0, 10, 20}));
  // From a size: a seek to the first checkpoint at or above it.
  for (const auto& [from, want] :
       std::vector<std::pair<uint64_t, std::vector<uint64_t>>>{
           {0, {0, 10, 20}},
           {1, {10, 20}},
           {10, {10, 20}},
           {20, {20}},
           {21, {}},
           {~uint64_t{0}, {}}}) {
    sizes.clear();
    SEG_ASSERT_OK(
        log->ScanCheckpoints(from, [&](uint64_t size, absl::string_view) {
          sizes.push_back(size);
          return true;
        }));
    EXPECT_EQ(sizes, want) << "from " << from;
  }
  SEG_ASSERT_OK_AND_ASSIGN(std::string at10, log->CheckpointAt(10));
  EXPECT_THAT(log->CheckpointAt(11), StatusIs(absl::StatusCode::kNotFound));
  SEG_ASSERT_OK_AND_ASSIGN(std::string now, log->CheckpointNow());
  EXPECT_EQ(OpenCheckpoint(now, {k1_->Verifier()}, kOrigin)->checkpoint.size,
            25u);
  // Nothing grew: the same note comes back and Close adds none.
  SEG_ASSERT_OK_AND_ASSIGN(std::string again, log->CheckpointNow());
  EXPECT_EQ(again, now);
  SEG_ASSERT_OK(log->Close());
  EXPECT_EQ(*log->LatestCheckpoint(), now);
  EXPECT_EQ(*log->CheckpointAt(10), at10);
}

// A checkpoint row above Size() (a group's batch written, its size not yet
// published) is not served: a reader would then be refused a proof at it.
TEST_F(LogStoreTest, CheckpointRowsAboveTheSizeAreNotServed) {
  LogStoreOptions o = Opts();
  o.checkpoint_every = 4;
  SEG_ASSERT_OK_AND_ASSIGN(auto log, OpenMemory(o));
  for (int i = 0; i < 8; ++i) SEG_ASSERT_OK(log->Append(One(Rec(""))).status());
  SEG_ASSERT_OK_AND_ASSIGN(std::string at8, log->CheckpointAt(8));
  KvBatch early;
  early.Put(Family::kCheckpoints, CheckpointKey(12), at8);
  SEG_ASSERT_OK(log->kv().Write(early, /*sync=*/false));
  EXPECT_THAT(log->CheckpointAt(12), StatusIs(absl::StatusCode::kNotFound));
  std::vector<uint64_t> sizes;
  SEG_ASSERT_OK(log->ScanCheckpoints([&](uint64_t size, absl::string_view) {
    sizes.push_back(size);
    return true;
  }));
  EXPECT_EQ(sizes, (std::vector<uint64_t>{0, 4, 8}));
  sizes.clear();
  SEG_ASSERT_OK(log->ScanCheckpoints(9, [&](uint64_t size, absl::string_view) {
    sizes.push_back(size);
    return true;
  }));
  EXPECT_TRUE(sizes.empty());
}

TEST_F(LogStoreTest, BackgroundCheckpointerSignsWhenTheLogGrew) {
  LogStoreOptions o = Opts();
  o.checkpoint_interval = absl::Milliseconds(5);
  SEG_ASSERT_OK_AND_ASSIGN(auto log, OpenMemory(o));
  SEG_ASSERT_OK(log->Append(One(Rec(""))).status());
  SEG_ASSERT_OK(log->Append(One(Rec(""))).status());
  // Polls the background thread's effect (bounded: 10 s).
  bool seen = false;
  for (int i = 0; i < 2000 && !seen; ++i) {
    auto cp =
        OpenCheckpoint(*log->LatestCheckpoint(), {k1_->Verifier()}, kOrigin);
    seen = cp.ok() && cp->checkpoint.size == 2;
    if (!seen) absl::SleepFor(absl::Milliseconds(5));
  }
  EXPECT_TRUE(seen);
}

TEST_F(LogStoreTest, IdempotentRetriesWithinARequestAndAcrossReopen) {
  Hash first_hash;
  {
    SEG_ASSERT_OK_AND_ASSIGN(auto log, OpenRocks());
    std::vector<AppendRecord> dup;
    dup.push_back(Rec("same"));
    dup.push_back(Rec("same"));
    dup.push_back(Rec("other"));
    SEG_ASSERT_OK_AND_ASSIGN(auto r, log->Append(std::move(dup)));
    EXPECT_EQ(r[0].index, 0u);
    EXPECT_FALSE(r[0].replayed);
    EXPECT_EQ(r[1].index, 0u);
    EXPECT_TRUE(r[1].replayed);
    EXPECT_EQ(r[1].leaf_hash, r[0].leaf_hash);
    EXPECT_EQ(r[2].index, 1u);
    EXPECT_EQ(log->Size(), 2u);
    first_hash = r[0].leaf_hash;
    SEG_ASSERT_OK_AND_ASSIGN(auto again, log->Append(One(Rec("same"))));
    EXPECT_TRUE(again[0].replayed);
    EXPECT_EQ(again[0].index, 0u);
    EXPECT_EQ(log->Size(), 2u);
  }
  SEG_ASSERT_OK_AND_ASSIGN(auto log, OpenRocks());
  SEG_ASSERT_OK_AND_ASSIGN(auto r, log->Append(One(Rec("same"))));
  EXPECT_TRUE(r[0].replayed);
  EXPECT_EQ(r[0].index, 0u);
  EXPECT_EQ(r[0].leaf_hash, first_hash);
  EXPECT_EQ(log->Size(), 2u);
}

TEST_F(LogStoreTest, ConcurrentDuplicateRequestIdsAppendOnce) {
  SEG_ASSERT_OK_AND_ASSIGN(auto log, OpenMemory());
  constexpr int kThreads = 8;
  std::vector<AppendResult> results(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto r = log->Append(One(Rec("dup-in-group")));
      ASSERT_TRUE(r.ok());
      results[t] = (*r)[0];
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(log->Size(), 1u);
  int fresh = 0;
  for (const AppendResult& r : results) {
    EXPECT_EQ(r.index, 0u);
    EXPECT_EQ(r.leaf_hash, results[0].leaf_hash);
    fresh += r.replayed ? 0 : 1;
  }
  EXPECT_EQ(fresh, 1);
}

TEST_F(LogStoreTest, EightThreadsAppendDenseUniqueIndexes) {
  LogStoreOptions o = Opts();
  o.checkpoint_every = 64;
  constexpr int kThreads = 8;
  constexpr int kPerThread = 40;
  std::vector<std::vector<AppendResult>> got(kThreads);
  {
    SEG_ASSERT_OK_AND_ASSIGN(auto log, OpenRocks(o));
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kPerThread; ++i) {
          std::vector<AppendRecord> recs;
          for (int k = 0; k <= i % 3; ++k) {
            recs.push_back(Rec(absl::StrCat("t", t, "-", i, "-", k)));
          }
          auto r = log->Append(std::move(recs));
          ASSERT_TRUE(r.ok()) << r.status();
          uint64_t prev = 0;
          for (size_t k = 0; k < r->size(); ++k) {
            if (k > 0) {
              EXPECT_EQ((*r)[k].index, prev + 1);  // contiguous
            }
            prev = (*r)[k].index;
            got[t].push_back((*r)[k]);
          }
        }
      });
    }
    for (auto& th : threads) th.join();
    SEG_ASSERT_OK(log->Close());
  }
  std::set<uint64_t> indexes;
  for (const auto& v : got) {
    for (const AppendResult& r : v) EXPECT_TRUE(indexes.insert(r.index).second);
  }
  ASSERT_FALSE(indexes.empty());
  EXPECT_EQ(*indexes.begin(), 0u);
  EXPECT_EQ(*indexes.rbegin(), indexes.size() - 1);
  o.open_check = LogStoreOptions::OpenCheck::kFull;
  SEG_ASSERT_OK_AND_ASSIGN(auto log, OpenRocks(o));
  EXPECT_EQ(log->Size(), indexes.size());
  ExpectChainIntact(*log, k1_->Verifier());
  const uint64_t n = log->Size();
  SEG_ASSERT_OK_AND_ASSIGN(Hash root, log->RootAt(n));
  for (const auto& v : got) {
    for (size_t k = 0; k < v.size(); k += 7) {
      SEG_ASSERT_OK_AND_ASSIGN(auto proof, log->InclusionProof(v[k].index, n));
      EXPECT_THAT(VerifyInclusion(v[k].index, n, v[k].leaf_hash, proof, root),
                  IsOk());
    }
  }
}

TEST_F(LogStoreTest, AppendAsyncRunsCallbacksAfterCommit) {
  SEG_ASSERT_OK_AND_ASSIGN(auto log, OpenMemory());
  constexpr int kN = 100;
  absl::BlockingCounter done(kN);
  std::atomic<int> ok{0};
  for (int i = 0; i < kN; ++i) {
    log->AppendAsync(One(Rec(absl::StrCat("async-", i))),
                     [&](absl::StatusOr<std::vector<AppendResult>> r) {
                       if (r.ok() && r->size() == 1) ok.fetch_add(1);
                       done.DecrementCount();
                     });
  }
  done.Wait();
  EXPECT_EQ(ok.load(), kN);
  EXPECT_EQ(log->Size(), static_cast<uint64_t>(kN));
  ExpectChainIntact(*log, k1_->Verifier());
}

// Refuses actor "mallory"; counts accepted records per person in the index
// family (reading its own earlier writes); optionally blocks its first call
// until released, so later requests queue up into one group.
class TestHook : public AppendHook {
 public:
  absl::Notification entered;
  absl::Notification release;
  bool gate = false;

  // The stateless part, in the appending thread: refuses actor "eve".
  absl::Status Precheck(const AppendRecord& record) const override {
    if (record.actor.person_id() == "eve") {
      return absl::InvalidArgumentError("actor.person_id: eve is unknown");
    }
    return absl::OkStatus();
  }

  absl::Status OnAppend(const v1::EntryBody& body, IndexTxn& txn) override {
    if (gate && !entered.HasBeenNotified()) {
      entered.Notify();
      release.WaitForNotification();
    }
    const std::string person = body.actor().person_id();
    const std::string key = "count/" + person;
    absl::StatusOr<std::string> c = txn.Get(key);
    const int n = c.ok() ? std::stoi(*c) : 0;
    txn.Put(key, std::to_string(n + 1));
    if (person == "mallory") {
      return absl::PermissionDeniedError("mallory may not append");
    }
    txn.Put(absl::StrCat("seen/", body.index()), body.request_id());
    return absl::OkStatus();
  }
};

std::string IndexRow(LogStore& log, const std::string& key) {
  auto v = log.kv().Get(Family::kIndex, key);
  return v.ok() ? *v : "<absent>";
}

TEST_F(LogStoreTest, OversizedEntryIsRefusedAndTheStoreUnchanged) {
  SEG_ASSERT_OK_AND_ASSIGN(auto log, OpenRocks());
  for (int i = 0; i < 5; ++i) SEG_ASSERT_OK(log->Append(One(Rec(""))).status());
  SEG_ASSERT_OK_AND_ASSIGN(std::string before, log->CheckpointNow());
  SEG_ASSERT_OK_AND_ASSIGN(Hash root_before, log->RootAt(5));
  std::vector<AppendRecord> mixed;
  mixed.push_back(Rec("fits"));
  mixed.push_back(Rec("big", std::string(70000, 'x')));
  EXPECT_THAT(log->Append(std::move(mixed)),
              StatusIs(absl::StatusCode::kInvalidArgument, "records[1]: "));
  EXPECT_THAT(log->Append(One(Rec("big", std::string(65536, 'y')))),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(log->Size(), 5u);
  EXPECT_EQ(*log->LatestCheckpoint(), before);
  EXPECT_EQ(*log->CheckpointNow(), before);
  EXPECT_EQ(*log->RootAt(5), root_before);
  EXPECT_THAT(log->LookupRequest("fits"),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(log->Append({}), StatusIs(absl::StatusCode::kInvalidArgument));
  SEG_ASSERT_OK_AND_ASSIGN(auto r, log->Append(One(Rec("fits"))));
  EXPECT_EQ(r[0].index, 5u);
  EXPECT_FALSE(r[0].replayed);
  ExpectChainIntact(*log, k1_->Verifier());
}

TEST_F(LogStoreTest, HookRefusalLeavesStateUnchanged) {
  TestHook hook;
  LogStoreOptions o = Opts();
  o.hook = &hook;
  SEG_ASSERT_OK_AND_ASSIGN(auto log, OpenRocks(o));
  SEG_ASSERT_OK(log->Append(One(Rec("a"))).status());
  SEG_ASSERT_OK_AND_ASSIGN(std::string before, log->CheckpointNow());
  std::vector<AppendRecord> req;
  req.push_back(Rec("b", "x", "op-1"));
  req.push_back(Rec("c", "x", "mallory"));
  EXPECT_THAT(log->Append(std::move(req)),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       "records[1]: mallory may not append"));
  // A multi-record request's error names the record; a single record's
  // does not need to.
  std::vector<AppendRecord> unknown;
  unknown.push_back(Rec("b", "x", "op-1"));
  unknown.push_back(Rec("b2", "x", "op-1"));
  unknown.push_back(Rec("c", "x", "eve"));
  EXPECT_THAT(log->Append(std::move(unknown)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "records[2]: actor.person_id: eve is unknown"));
  absl::Status single = log->Append(One(Rec("m", "x", "mallory"))).status();
  EXPECT_EQ(single.message(), "mallory may not append");
  EXPECT_EQ(log->Size(), 1u);
  EXPECT_EQ(*log->CheckpointNow(), before);
  EXPECT_EQ(IndexRow(*log, "count/op-1"), "1");
  EXPECT_EQ(IndexRow(*log, "count/mallory"), "<absent>");
  EXPECT_EQ(IndexRow(*log, "seen/1"), "<absent>");
  EXPECT_THAT(log->LookupRequest("b"), StatusIs(absl::StatusCode::kNotFound));
  // Two records of one request see each other's index writes.
  std::vector<AppendRecord> two;
  two.push_back(Rec("d"));
  two.push_back(Rec("e"));
  SEG_ASSERT_OK(log->Append(std::move(two)).status());
  EXPECT_EQ(IndexRow(*log, "count/op-1"), "3");
  EXPECT_EQ(IndexRow(*log, "seen/2"), "e");
}

TEST_F(LogStoreTest, RefusedRequestsInAGroupDoNotDisturbTheOthers) {
  TestHook hook;
  hook.gate = true;
  LogStoreOptions o = Opts();
  o.hook = &hook;
  SEG_ASSERT_OK_AND_ASSIGN(auto log, OpenMemory(o));
  std::thread leader([&] {
    auto r = log->Append(One(Rec("first")));
    EXPECT_THAT(r, IsOk());
  });
  hook.entered.WaitForNotification();  // the leader is inside its group
  absl::BlockingCounter done(5);
  std::vector<absl::StatusOr<std::vector<AppendResult>>> out(
      5, absl::UnknownError("not run"));
  auto cb = [&](int k) {
    return [&, k](absl::StatusOr<std::vector<AppendResult>> r) {
      out[k] = std::move(r);
      done.DecrementCount();
    };
  };
  log->AppendAsync(One(Rec("a")), cb(0));
  log->AppendAsync(One(Rec("big", std::string(70000, 'z'))), cb(1));
  log->AppendAsync(One(Rec("m", "x", "mallory")), cb(2));
  std::vector<AppendRecord> two;
  two.push_back(Rec("d1"));
  two.push_back(Rec("d2"));
  log->AppendAsync(std::move(two), cb(3));
  log->AppendAsync(One(Rec("a")), cb(4));  // duplicate of the first one
  hook.release.Notify();
  leader.join();
  done.Wait();
  ASSERT_THAT(out[0], IsOk());
  EXPECT_EQ((*out[0])[0].index, 1u);
  EXPECT_THAT(out[1], StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(out[2], StatusIs(absl::StatusCode::kPermissionDenied));
  ASSERT_THAT(out[3], IsOk());
  EXPECT_EQ((*out[3])[0].index, 2u);  // renumbered past the refused ones
  EXPECT_EQ((*out[3])[1].index, 3u);
  ASSERT_THAT(out[4], IsOk());
  EXPECT_TRUE((*out[4])[0].replayed);
  EXPECT_EQ((*out[4])[0].index, 1u);
  EXPECT_EQ((*out[4])[0].leaf_hash, (*out[0])[0].leaf_hash);
  EXPECT_EQ(log->Size(), 4u);
  EXPECT_EQ(IndexRow(*log, "count/op-1"), "4");
  EXPECT_EQ(IndexRow(*log, "count/mallory"), "<absent>");
  ExpectChainIntact(*log, k1_->Verifier());
}

TEST_F(LogStoreTest, RotateKey) {
  v1::Actor qa;
  qa.set_person_id("qa-1");
  {
    SEG_ASSERT_OK_AND_ASSIGN(auto log, OpenRocks());
    SEG_ASSERT_OK(log->Append(One(Rec(""))).status());
    SEG_ASSERT_OK_AND_ASSIGN(AppendResult rot,
                             log->RotateKey(k2_, qa, "scheduled rotation"));
    EXPECT_EQ(rot.index, 1u);
    EXPECT_EQ(log->CurrentKeyName(), "k2");
    SEG_ASSERT_OK_AND_ASSIGN(v1::SignedEntry e, log->GetEntry(1));
    EXPECT_THAT(
        k1_->Verifier().Verify(EntrySigningMessage(e.body()), e.signature()),
        IsOk());
    SEG_ASSERT_OK_AND_ASSIGN(v1::EntryBody body, ParseEntryBody(e.body()));
    EXPECT_EQ(body.key_name(), "k1");
    EXPECT_EQ(body.actor().person_id(), "qa-1");
    const v1::KeyRotation& kr = body.record().key_rotation();
    EXPECT_EQ(kr.old_key_name(), "k1");
    EXPECT_EQ(kr.new_key_name(), "k2");
    EXPECT_EQ(kr.reason(), "scheduled rotation");
    const auto& pub = k2_->signer().public_key();
    const std::string pub_bytes(reinterpret_cast<const char*>(pub.data()), 32);
    EXPECT_EQ(kr.new_public_key(), pub_bytes);
    EXPECT_THAT(k2_->Verifier().Verify(
                    "segledger/v1/key-rotation\nk1\nk2\n" + pub_bytes,
                    kr.possession_signature()),
                IsOk());
    SEG_ASSERT_OK(log->Append(One(Rec(""))).status());
    SEG_ASSERT_OK_AND_ASSIGN(v1::SignedEntry e2, log->GetEntry(2));
    EXPECT_EQ(ParseEntryBody(e2.body())->key_name(), "k2");
    EXPECT_THAT(
        k2_->Verifier().Verify(EntrySigningMessage(e2.body()), e2.signature()),
        IsOk());
    EXPECT_THAT(log->RotateKey(k2_, qa, "again"),
                StatusIs(absl::StatusCode::kAlreadyExists));
    EXPECT_EQ(log->Size(), 3u);
    SEG_ASSERT_OK_AND_ASSIGN(std::string note, log->CheckpointNow());
    EXPECT_THAT(OpenCheckpoint(note, {k2_->Verifier()}, kOrigin), IsOk());
    std::vector<std::string> names;
    for (const NoteVerifier& v : log->Verifiers()) names.push_back(v.name());
    EXPECT_THAT(names, ::testing::UnorderedElementsAre("k1", "k2"));
    SEG_ASSERT_OK(log->Close());
  }
  EXPECT_THAT(OpenRocks(Opts(), {k1_}),
              StatusIs(absl::StatusCode::kFailedPrecondition, "k2"));
  LogStoreOptions o = Opts();
  o.open_check = LogStoreOptions::OpenCheck::kFull;
  SEG_ASSERT_OK_AND_ASSIGN(auto log, OpenRocks(o, {k1_, k2_}));
  EXPECT_EQ(log->CurrentKeyName(), "k2");
  EXPECT_EQ(log->Verifiers().size(), 2u);
}

TEST_F(LogStoreTest, FailedSyncedWriteFailsEveryLaterAppend) {
  auto kv = std::make_unique<MemoryKv>();
  MemoryKv* raw = kv.get();
  SEG_ASSERT_OK_AND_ASSIGN(auto log,
                           LogStore::Open(std::move(kv), {k1_}, Opts()));
  SEG_ASSERT_OK(log->Append(One(Rec(""))).status());
  raw->FailNextWrite(absl::UnavailableError("fsync failed"));
  EXPECT_THAT(log->Append(One(Rec(""))),
              StatusIs(absl::StatusCode::kUnavailable, "fsync failed"));
  EXPECT_THAT(log->Append(One(Rec(""))), ::testing::Not(IsOk()));
  EXPECT_EQ(log->Size(), 1u);
  EXPECT_THAT(log->GetEntry(1), StatusIs(absl::StatusCode::kOutOfRange));
}

// RotateKeyWroteNothing tells the caller whether it may remove the new
// key's file. Refusals made before the write say so; a failed synced write
// of the rotation never does, whatever code the kv failed it with (RocksDB
// maps its InvalidArgument to INVALID_ARGUMENT, a refusal's code).
TEST_F(LogStoreTest, RotateKeyErrorsSayWhetherNothingWasWritten) {
  auto kv = std::make_unique<MemoryKv>();
  MemoryKv* raw = kv.get();
  SEG_ASSERT_OK_AND_ASSIGN(auto log,
                           LogStore::Open(std::move(kv), {k1_}, Opts()));
  v1::Actor qa;
  qa.set_person_id("qa-1");
  absl::StatusOr<AppendResult> r = log->RotateKey(k1_, qa, "same name");
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_TRUE(RotateKeyWroteNothing(r.status()));
  r = log->RotateKey(k2_, qa, std::string(70000, 'r'));
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_TRUE(RotateKeyWroteNothing(r.status()));
  raw->FailNextWrite(absl::InvalidArgumentError("injected write failure"));
  r = log->RotateKey(k2_, qa, "scheduled");
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kUnknown, "injected"));
  EXPECT_FALSE(RotateKeyWroteNothing(r.status()));
  EXPECT_EQ(log->Size(), 0u);
}

TEST_F(LogStoreTest, ReopenRefusesAnotherOriginOrKey) {
  {
    SEG_ASSERT_OK_AND_ASSIGN(auto log, OpenRocks());
    SEG_ASSERT_OK(log->Close());
  }
  LogStoreOptions other = Opts();
  other.origin = "someone-else.example";
  EXPECT_THAT(OpenRocks(other),
              StatusIs(absl::StatusCode::kFailedPrecondition, "someone-else"));
  // Same name, different key material.
  EXPECT_THAT(OpenRocks(Opts(), {Signer("k1", 9)}),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(OpenRocks(), IsOk());
}

}  // namespace
}  // namespace segledger::store
