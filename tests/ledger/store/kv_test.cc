// KvStore contract tests, run against both backends (MemoryKv, RocksDbKv),
// plus RocksDB-only durability, backup and status-mapping tests.
#include "ledger/store/kv.h"

#include <filesystem>
#include <memory>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ledger/store/column_families.h"
#include "ledger/store/keys.h"
#include "ledger/store/memory_kv.h"
#include "ledger/store/rocksdb_kv.h"
#include "ledger/store/rocksdb_status.h"
#include "tests/support/test_util.h"

namespace segledger::store {
namespace {

using ::segledger::testing::IsOk;
using ::segledger::testing::StatusIs;
using ::segledger::testing::TempDir;
using ::testing::ElementsAre;
using ::testing::Optional;
using ::testing::Pair;

enum class Backend { kMemory, kRocksDb };

class KvTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (GetParam() == Backend::kMemory) {
      kv_ = std::make_unique<MemoryKv>();
    } else {
      SEG_ASSERT_OK_AND_ASSIGN(kv_, RocksDbKv::Open(dir_.Sub("db")));
    }
  }
  std::vector<std::pair<std::string, std::string>> ScanAll(
      Family f, absl::string_view begin = "", absl::string_view end = "") {
    std::vector<std::pair<std::string, std::string>> rows;
    EXPECT_THAT(kv_->Scan(f, begin, end,
                          [&rows](absl::string_view k, absl::string_view v) {
                            rows.emplace_back(std::string(k), std::string(v));
                            return true;
                          }),
                IsOk());
    return rows;
  }

  TempDir dir_;
  std::unique_ptr<KvStore> kv_;
};

TEST_P(KvTest, GetMissingIsNotFound) {
  EXPECT_THAT(kv_->Get(Family::kEntries, "nope"),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_P(KvTest, PutGetDeleteAcrossFamilies) {
  KvBatch batch;
  batch.Put(Family::kEntries, "k", "entries-value");
  batch.Put(Family::kMeta, "k", "meta-value");
  SEG_ASSERT_OK(kv_->Write(batch, /*sync=*/true));
  EXPECT_THAT(kv_->Get(Family::kEntries, "k"), IsOk());
  EXPECT_EQ(*kv_->Get(Family::kEntries, "k"), "entries-value");
  EXPECT_EQ(*kv_->Get(Family::kMeta, "k"), "meta-value");
  EXPECT_THAT(kv_->Get(Family::kTree, "k"),
              StatusIs(absl::StatusCode::kNotFound));
  KvBatch del;
  del.Delete(Family::kEntries, "k");
  SEG_ASSERT_OK(kv_->Write(del, /*sync=*/false));
  EXPECT_THAT(kv_->Get(Family::kEntries, "k"),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(*kv_->Get(Family::kMeta, "k"), "meta-value");
}

TEST_P(KvTest, BatchAppliesInOrderLaterOpWins) {
  KvBatch batch;
  batch.Put(Family::kIndex, "a", "1");
  batch.Put(Family::kIndex, "a", "2");
  batch.Put(Family::kIndex, "b", "x");
  batch.Delete(Family::kIndex, "b");
  SEG_ASSERT_OK(kv_->Write(batch, true));
  EXPECT_THAT(ScanAll(Family::kIndex), ElementsAre(Pair("a", "2")));
}

// RocksDbKv adds a batch's ops to RocksDB grouped by family in key order
// (memtable insert locality); the outcome must be the batch's own order.
TEST_P(KvTest, UnorderedBatchAcrossFamiliesKeepsLaterOpWins) {
  const std::string run = std::string("d/ref/lot\0", 10);
  KvBatch batch;
  batch.Put(Family::kIndex, run + "2", "r2");
  batch.Put(Family::kTree, std::string(1, '\1') + "b", "t1b");
  batch.Put(Family::kIndex, "z", "1");
  batch.Put(Family::kTree, std::string(1, '\0') + "b", "t0b");
  batch.Put(Family::kIndex, run + "1", "r1");
  batch.Delete(Family::kIndex, "z");
  batch.Put(Family::kTree, std::string(1, '\0') + "a", "t0a");
  batch.Put(Family::kIndex, "a", "1");
  batch.Put(Family::kIndex, "z", "2");
  batch.Delete(Family::kIndex, run + "2");
  batch.Put(Family::kIndex, "a", "3");
  SEG_ASSERT_OK(kv_->Write(batch, true));
  EXPECT_THAT(
      ScanAll(Family::kIndex),
      ElementsAre(Pair("a", "3"), Pair(run + "1", "r1"), Pair("z", "2")));
  EXPECT_THAT(ScanAll(Family::kTree),
              ElementsAre(Pair(std::string(1, '\0') + "a", "t0a"),
                          Pair(std::string(1, '\0') + "b", "t0b"),
                          Pair(std::string(1, '\1') + "b", "t1b")));
}

TEST_P(KvTest, MultiGetReportsAbsentKeys) {
  KvBatch batch;
  batch.Put(Family::kTree, "x", "1");
  batch.Put(Family::kTree, "z", "3");
  SEG_ASSERT_OK(kv_->Write(batch, true));
  std::vector<std::string> keys = {"x", "y", "z"};
  SEG_ASSERT_OK_AND_ASSIGN(auto values, kv_->MultiGet(Family::kTree, keys));
  ASSERT_EQ(values.size(), 3u);
  EXPECT_THAT(values[0], Optional(std::string("1")));
  EXPECT_EQ(values[1], std::nullopt);
  EXPECT_THAT(values[2], Optional(std::string("3")));
  SEG_ASSERT_OK_AND_ASSIGN(auto none, kv_->MultiGet(Family::kTree, {}));
  EXPECT_TRUE(none.empty());
}

TEST_P(KvTest, ScanIsOrderedBoundedAndStoppable) {
  KvBatch batch;
  for (uint64_t i : {5, 1, 300, 2, 70000}) {
    batch.Put(Family::kEntries, Be64(i), std::to_string(i));
  }
  SEG_ASSERT_OK(kv_->Write(batch, true));
  auto all = ScanAll(Family::kEntries);
  ASSERT_EQ(all.size(), 5u);
  EXPECT_EQ(all[0].second, "1");
  EXPECT_EQ(all[4].second, "70000");  // big-endian keys sort numerically
  auto range = ScanAll(Family::kEntries, Be64(2), Be64(300));
  EXPECT_THAT(range, ElementsAre(Pair(Be64(2), "2"), Pair(Be64(5), "5")));
  int seen = 0;
  SEG_ASSERT_OK(kv_->Scan(
      Family::kEntries, "", "",
      [&seen](absl::string_view, absl::string_view) { return ++seen < 2; }));
  EXPECT_EQ(seen, 2);
}

TEST_P(KvTest, LongScanMayCallBackIntoTheStore) {
  KvBatch batch;
  for (uint64_t i = 0; i < 300; ++i) {
    batch.Put(Family::kIndex, Be64(i), std::to_string(i));
  }
  SEG_ASSERT_OK(kv_->Write(batch, true));
  uint64_t next = 10;
  SEG_ASSERT_OK(kv_->Scan(Family::kIndex, Be64(10), Be64(290),
                          [&](absl::string_view k, absl::string_view v) {
                            EXPECT_EQ(k, Be64(next));
                            // Re-entrant read from inside the scan.
                            EXPECT_EQ(*kv_->Get(Family::kIndex, k), v);
                            ++next;
                            return true;
                          }));
  EXPECT_EQ(next, 290u);
}

TEST_P(KvTest, LastGivesGreatestKeyPerFamily) {
  SEG_ASSERT_OK_AND_ASSIGN(auto empty, kv_->Last(Family::kCheckpoints));
  EXPECT_EQ(empty, std::nullopt);
  KvBatch batch;
  batch.Put(Family::kCheckpoints, Be64(10), "ten");
  batch.Put(Family::kCheckpoints, Be64(256), "big");
  batch.Put(Family::kPeers, Be64(999), "other family");
  SEG_ASSERT_OK(kv_->Write(batch, true));
  SEG_ASSERT_OK_AND_ASSIGN(auto last, kv_->Last(Family::kCheckpoints));
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(last->first, Be64(256));
  EXPECT_EQ(last->second, "big");
}

INSTANTIATE_TEST_SUITE_P(Backends, KvTest,
                         ::testing::Values(Backend::kMemory, Backend::kRocksDb),
                         [](const auto& info) {
                           return info.param == Backend::kMemory
                                      ? std::string("Memory")
                                      : std::string("RocksDb");
                         });

TEST(KeysTest, Be64RoundTripsAndSortsNumerically) {
  for (uint64_t v :
       {0ull, 1ull, 255ull, 256ull, 0x0102030405060708ull, ~0ull}) {
    SEG_ASSERT_OK_AND_ASSIGN(uint64_t back, ParseBe64(Be64(v), "v"));
    EXPECT_EQ(back, v);
  }
  EXPECT_LT(Be64(255), Be64(256));
  EXPECT_EQ(Be64(0x0102030405060708ull), "\x01\x02\x03\x04\x05\x06\x07\x08");
  EXPECT_THAT(ParseBe64("short", "v"), StatusIs(absl::StatusCode::kDataLoss));
}

TEST(KeysTest, TreeKeyIsLevelThenIndex) {
  EXPECT_EQ(TreeKey(NodeId{3, 1}), std::string("\x03", 1) + Be64(1));
  SEG_ASSERT_OK_AND_ASSIGN(NodeId id, ParseTreeKey(TreeKey(NodeId{8, 77})));
  EXPECT_EQ(id, (NodeId{8, 77}));
  EXPECT_LT(TreeKey(NodeId{0, 1000}), TreeKey(NodeId{1, 0}));
  EXPECT_EQ(PrefixEnd("r/"), "r0");
  EXPECT_EQ(PrefixEnd(std::string("a\xff", 2)), "b");
}

TEST(KeysTest, FamilyNamesFollowTheEnum) {
  EXPECT_EQ(FamilyName(Family::kEntries), "entries");
  EXPECT_EQ(FamilyName(Family::kTree), "tree");
  EXPECT_EQ(FamilyName(Family::kCheckpoints), "checkpoints");
  EXPECT_EQ(FamilyName(Family::kPeers), "peers");
  EXPECT_EQ(FamilyName(Family::kIndex), "index");
  EXPECT_EQ(FamilyName(Family::kMeta), "meta");
}

TEST(RocksDbKvTest, DataSurvivesReopen) {
  TempDir dir;
  {
    SEG_ASSERT_OK_AND_ASSIGN(auto kv, RocksDbKv::Open(dir.Sub("db")));
    KvBatch batch;
    batch.Put(Family::kMeta, "size", Be64(7));
    SEG_ASSERT_OK(kv->Write(batch, true));
  }
  SEG_ASSERT_OK_AND_ASSIGN(auto kv, RocksDbKv::Open(dir.Sub("db")));
  EXPECT_EQ(*kv->Get(Family::kMeta, "size"), Be64(7));
}

// A first start must not greet the operator with an [ERROR] line: RocksDB
// logs one when the store's directory does not exist yet.
TEST(RocksDbKvTest, CreatingAStoreLogsNothing) {
  TempDir dir;
  ::testing::internal::CaptureStderr();
  {
    auto kv = RocksDbKv::Open(dir.Sub("db"));
    EXPECT_TRUE(kv.ok()) << kv.status();
  }
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
}

TEST(RocksDbKvTest, SecondOpenOfALockedStoreIsUnavailable) {
  TempDir dir;
  SEG_ASSERT_OK_AND_ASSIGN(auto kv, RocksDbKv::Open(dir.Sub("db")));
  EXPECT_THAT(RocksDbKv::Open(dir.Sub("db")),
              StatusIs(absl::StatusCode::kUnavailable));
}

TEST(RocksDbKvTest, BackupIsAConsistentOpenableCopy) {
  TempDir dir;
  SEG_ASSERT_OK_AND_ASSIGN(auto kv, RocksDbKv::Open(dir.Sub("db")));
  KvBatch batch;
  batch.Put(Family::kEntries, Be64(0), "e0");
  batch.Put(Family::kIndex, "r/x", Be64(0));
  SEG_ASSERT_OK(kv->Write(batch, true));
  SEG_ASSERT_OK(kv->Backup(dir.Sub("backup")));
  KvBatch later;
  later.Put(Family::kEntries, Be64(1), "e1");
  SEG_ASSERT_OK(kv->Write(later, true));
  SEG_ASSERT_OK_AND_ASSIGN(auto copy, RocksDbKv::Open(dir.Sub("backup")));
  EXPECT_EQ(*copy->Get(Family::kEntries, Be64(0)), "e0");
  EXPECT_EQ(*copy->Get(Family::kIndex, "r/x"), Be64(0));
  EXPECT_THAT(copy->Get(Family::kEntries, Be64(1)),
              StatusIs(absl::StatusCode::kNotFound));
  // The target must not exist.
  EXPECT_THAT(kv->Backup(dir.Sub("backup")), ::testing::Not(IsOk()));
}

// segaudit export reads a stopped node's store this way: the data, with
// what is only in the WAL, is readable; nothing can be written; a store
// still held open is refused; a missing directory is not created.
TEST(RocksDbKvTest, ReadOnlyOpenReadsAndRefusesWrites) {
  TempDir dir;
  {
    SEG_ASSERT_OK_AND_ASSIGN(auto kv, RocksDbKv::Open(dir.Sub("db")));
    KvBatch batch;
    batch.Put(Family::kEntries, Be64(0), "e0");
    SEG_ASSERT_OK(kv->Write(batch, true));  // in the WAL only
  }
  RocksDbKvOptions ro;
  ro.read_only = true;
  SEG_ASSERT_OK_AND_ASSIGN(auto kv, RocksDbKv::Open(dir.Sub("db"), ro));
  EXPECT_EQ(*kv->Get(Family::kEntries, Be64(0)), "e0");
  KvBatch batch;
  batch.Put(Family::kEntries, Be64(1), "e1");
  EXPECT_THAT(kv->Write(batch, true),
              StatusIs(absl::StatusCode::kFailedPrecondition, "read-only"));
  EXPECT_THAT(kv->Backup(dir.Sub("backup")),
              StatusIs(absl::StatusCode::kFailedPrecondition, "read-only"));
  EXPECT_FALSE(std::filesystem::exists(dir.Sub("backup")));
  EXPECT_THAT(RocksDbKv::Open(dir.Sub("db")),  // read-only holds the lock
              StatusIs(absl::StatusCode::kUnavailable));
  kv.reset();
  SEG_ASSERT_OK_AND_ASSIGN(auto writer, RocksDbKv::Open(dir.Sub("db")));
  EXPECT_THAT(RocksDbKv::Open(dir.Sub("db"), ro),
              StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(RocksDbKv::Open(dir.Sub("none"), ro), ::testing::Not(IsOk()));
  EXPECT_FALSE(std::filesystem::exists(dir.Sub("none")));
}

TEST(MemoryKvTest, BackupIsUnimplemented) {
  MemoryKv kv;
  EXPECT_THAT(kv.Backup("/tmp/x"), StatusIs(absl::StatusCode::kUnimplemented));
}

TEST(MemoryKvTest, FailedSyncedWriteRefusesLaterWrites) {
  MemoryKv kv;
  kv.FailNextWrite(absl::UnavailableError("disk gone"));
  KvBatch batch;
  batch.Put(Family::kMeta, "a", "1");
  EXPECT_THAT(kv.Write(batch, true), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(kv.Get(Family::kMeta, "a"),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(kv.Write(batch, true),
              StatusIs(absl::StatusCode::kUnavailable, "refuses writes"));
}

TEST(RocksDbStatusTest, MapsEveryDocumentedCode) {
  using rocksdb::Status;
  EXPECT_THAT(FromRocksDbStatus(Status::OK(), "x"), IsOk());
  EXPECT_THAT(FromRocksDbStatus(Status::NotFound("k"), "get"),
              StatusIs(absl::StatusCode::kNotFound, "get: "));
  EXPECT_THAT(FromRocksDbStatus(Status::Corruption("bad block"), "read"),
              StatusIs(absl::StatusCode::kDataLoss, "bad block"));
  EXPECT_THAT(FromRocksDbStatus(Status::NoSpace("full"), "write"),
              StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_THAT(FromRocksDbStatus(Status::IOError("eio"), "write"),
              StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(FromRocksDbStatus(Status::InvalidArgument("x"), "open"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(FromRocksDbStatus(Status::NotSupported("x"), "open"),
              StatusIs(absl::StatusCode::kUnimplemented));
  EXPECT_THAT(FromRocksDbStatus(Status::Incomplete("x"), "open"),
              StatusIs(absl::StatusCode::kInternal));
}

}  // namespace
}  // namespace segledger::store
