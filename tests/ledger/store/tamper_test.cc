// Tampering: one byte of an entry, a tree node or a checkpoint changed
// directly in RocksDB (or a row added/removed) must make Open(kFull) - and
// Open(kTail) when the damage lies in the tail - fail with DATA_LOSS naming
// the index. Damage outside the tail is not seen by kTail (by design).
#include <filesystem>
#include <functional>
#include <memory>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ledger/store/keys.h"
#include "ledger/store/log_store.h"
#include "ledger/store/rocksdb_kv.h"
#include "tests/support/test_util.h"

namespace segledger::store {
namespace {

using ::segledger::testing::IsOk;
using ::segledger::testing::StatusIs;
using ::segledger::testing::TempDir;

constexpr char kOrigin[] = "tamper.example/segledger";
constexpr uint64_t kEntries = 50;  // checkpoints at 0, 16, 32, 48 and 50
constexpr uint64_t kTail = 8;      // kTail checks entries 42..49

std::shared_ptr<const NoteSigner> Key() {
  auto key = Ed25519Signer::New(std::string(32, 7));
  return std::make_shared<const NoteSigner>(
      "tamper-key", std::shared_ptr<const Ed25519Signer>(std::move(*key)));
}

LogStoreOptions Opts(LogStoreOptions::OpenCheck check) {
  LogStoreOptions o;
  o.origin = kOrigin;
  o.checkpoint_every = 16;
  o.checkpoint_interval = absl::ZeroDuration();
  o.open_check = check;
  o.tail_entries = kTail;
  return o;
}

absl::StatusOr<std::unique_ptr<LogStore>> OpenLog(
    const std::string& path, LogStoreOptions::OpenCheck check) {
  auto kv = RocksDbKv::Open(path);
  if (!kv.ok()) return kv.status();
  return LogStore::Open(*std::move(kv), {Key()}, Opts(check));
}

struct Case {
  std::string name;
  // Changes the store through RocksDB directly.
  std::function<void(KvStore&)> tamper;
  std::string full_error;  // substring of the kFull DATA_LOSS message
  std::string tail_error;  // empty: kTail opens fine
};

void Mutate(KvStore& kv, Family f, const std::string& key,
            const std::function<void(std::string&)>& fn) {
  auto value = kv.Get(f, key);
  ASSERT_TRUE(value.ok()) << value.status();
  fn(*value);
  KvBatch b;
  b.Put(f, key, *value);
  ASSERT_THAT(kv.Write(b, true), IsOk());
}

void FlipEntryBody(KvStore& kv, uint64_t index) {
  Mutate(kv, Family::kEntries, EntryKey(index), [](std::string& v) {
    v1::SignedEntry e;
    ASSERT_TRUE(e.ParseFromString(v));
    e.mutable_body()->back() ^= 1;  // last byte: the record payload
    v = e.SerializeAsString();
  });
}

void FlipEntrySignature(KvStore& kv, uint64_t index) {
  Mutate(kv, Family::kEntries, EntryKey(index), [](std::string& v) {
    v1::SignedEntry e;
    ASSERT_TRUE(e.ParseFromString(v));
    (*e.mutable_signature())[10] ^= 0x40;
    v = e.SerializeAsString();
  });
}

void FlipTreeNode(KvStore& kv, uint8_t level, uint64_t index) {
  Mutate(kv, Family::kTree, TreeKey(NodeId{level, index}),
         [](std::string& v) { v[0] ^= 1; });
}

void FlipCheckpointRoot(KvStore& kv, uint64_t size) {
  Mutate(kv, Family::kCheckpoints, CheckpointKey(size), [](std::string& v) {
    // Third line is the root hash in base64: change one character.
    size_t pos = v.find('\n', v.find('\n') + 1) + 3;
    v[pos] = v[pos] == 'A' ? 'B' : 'A';
  });
}

std::vector<Case> Cases() {
  return {
      {"EntryBodyOutsideTail", [](KvStore& kv) { FlipEntryBody(kv, 5); },
       "entry 5", ""},
      {"EntryBodyInTail", [](KvStore& kv) { FlipEntryBody(kv, 45); },
       "entry 45", "entry 45"},
      {"EntrySignatureInTail", [](KvStore& kv) { FlipEntrySignature(kv, 46); },
       "entry 46: signature", "entry 46: signature"},
      {"LeafNodeOutsideTail", [](KvStore& kv) { FlipTreeNode(kv, 0, 7); },
       "entry 7", ""},
      {"LeafNodeInTail", [](KvStore& kv) { FlipTreeNode(kv, 0, 44); },
       "entry 44", "entry 44"},
      {"InnerNode", [](KvStore& kv) { FlipTreeNode(kv, 2, 3); },
       "tree node level 2 index 3 (entries 12..15)", ""},
      {"RightEdgeNode", [](KvStore& kv) { FlipTreeNode(kv, 5, 0); },
       "tree node level 5 index 0", "checkpoint at size 50"},
      {"OldCheckpoint", [](KvStore& kv) { FlipCheckpointRoot(kv, 32); },
       "checkpoint at size 32", ""},
      {"LatestCheckpoint", [](KvStore& kv) { FlipCheckpointRoot(kv, 50); },
       "checkpoint at size 50", "checkpoint at size 50"},
      {"EntryBeyondSize",
       [](KvStore& kv) {
         KvBatch b;
         b.Put(Family::kEntries, EntryKey(60), "junk");
         ASSERT_THAT(kv.Write(b, true), IsOk());
       },
       "entry 60", "entry 60"},
      {"MissingEntryInTail",
       [](KvStore& kv) {
         KvBatch b;
         b.Delete(Family::kEntries, EntryKey(47));
         ASSERT_THAT(kv.Write(b, true), IsOk());
       },
       "entry 47", "entry 47"},
      {"EntryMovedIndex",
       [](KvStore& kv) {
         auto v = kv.Get(Family::kEntries, EntryKey(48));
         ASSERT_TRUE(v.ok());
         KvBatch b;
         b.Put(Family::kEntries, EntryKey(49), *v);
         ASSERT_THAT(kv.Write(b, true), IsOk());
       },
       "entry 49", "entry 49"},
  };
}

// Builds the untouched store once; each case works on a copy of it.
class TamperTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    base_ = new TempDir();
    auto log = OpenLog(base_->Sub("db"), LogStoreOptions::OpenCheck::kTail);
    ASSERT_TRUE(log.ok()) << log.status();
    for (uint64_t i = 0; i < kEntries; ++i) {
      AppendRecord r;
      r.record.mutable_key_revocation()->set_reason(absl::StrCat("p", i));
      std::vector<AppendRecord> one;
      one.push_back(std::move(r));
      ASSERT_THAT((*log)->Append(std::move(one)), IsOk());
    }
    ASSERT_THAT((*log)->Close(), IsOk());
  }
  static void TearDownTestSuite() {
    delete base_;
    base_ = nullptr;
  }
  static TempDir* base_;
};
TempDir* TamperTest::base_ = nullptr;

TEST_F(TamperTest, UntouchedStorePassesBothChecks) {
  EXPECT_THAT(OpenLog(base_->Sub("db"), LogStoreOptions::OpenCheck::kFull),
              IsOk());
  EXPECT_THAT(OpenLog(base_->Sub("db"), LogStoreOptions::OpenCheck::kTail),
              IsOk());
}

// One mutation per case (table above); all cases in one process so the
// base store is built once.
TEST_F(TamperTest, OpenReportsDataLossNamingTheIndex) {
  for (const Case& c : Cases()) {
    SCOPED_TRACE(c.name);
    TempDir dir;
    const std::string path = dir.Sub("db");
    std::filesystem::copy(base_->Sub("db"), path,
                          std::filesystem::copy_options::recursive);
    {
      SEG_ASSERT_OK_AND_ASSIGN(auto kv, RocksDbKv::Open(path));
      c.tamper(*kv);
    }
    EXPECT_THAT(OpenLog(path, LogStoreOptions::OpenCheck::kFull),
                StatusIs(absl::StatusCode::kDataLoss, c.full_error));
    if (c.tail_error.empty()) {
      EXPECT_THAT(OpenLog(path, LogStoreOptions::OpenCheck::kTail), IsOk());
    } else {
      EXPECT_THAT(OpenLog(path, LogStoreOptions::OpenCheck::kTail),
                  StatusIs(absl::StatusCode::kDataLoss, c.tail_error));
    }
  }
}

}  // namespace
}  // namespace segledger::store
