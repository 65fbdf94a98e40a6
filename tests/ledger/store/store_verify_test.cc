// VerifyLogStore over a real LogStore on RocksDB (and MemoryKv): a clean
// store, including a key rotation the verifier must learn from the log, has
// no findings; damage made through the KvStore is reported where it is.
#include "ledger/store/store_verify.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ledger/clock.h"
#include "ledger/store/memory_kv.h"
#include "ledger/store/rocksdb_kv.h"
#include "tests/support/test_util.h"

namespace segledger::store {
namespace {

using ::segledger::testing::TempDir;
using ::testing::HasSubstr;

constexpr char kOrigin[] = "cmo-up.example/segledger";

std::shared_ptr<const NoteSigner> MakeSigner(const std::string& name,
                                             char seed) {
  auto signer = Ed25519Signer::New(std::string(32, seed));
  EXPECT_TRUE(signer.ok());
  return std::make_shared<NoteSigner>(
      name, std::shared_ptr<const Ed25519Signer>(*std::move(signer)));
}

std::string Be64(uint64_t v) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i, v >>= 8) out[i] = static_cast<char>(v & 0xff);
  return out;
}

std::string Describe(const std::vector<Finding>& findings) {
  std::string out;
  for (const Finding& f : findings) {
    absl::StrAppend(&out, FindingKindName(f.kind), "@", f.index, ": ", f.detail,
                    "\n");
  }
  return out;
}

class StoreVerifyTest : public ::testing::TestWithParam<bool> {
 protected:
  // A store of 300 entries, a rotation from cmo-a to cmo-b at 300, then 99
  // more entries and a final checkpoint: 400 entries.
  void SetUp() override {
    std::unique_ptr<KvStore> kv;
    if (GetParam()) {
      auto rocks = RocksDbKv::Open(dir_.Sub("db"));
      ASSERT_TRUE(rocks.ok()) << rocks.status();
      kv = *std::move(rocks);
    } else {
      kv = std::make_unique<MemoryKv>();
    }
    LogStoreOptions options;
    options.origin = kOrigin;
    options.clock = &clock_;
    options.checkpoint_every = 64;
    options.checkpoint_interval = absl::ZeroDuration();
    options.signing_threads = 1;
    auto store = LogStore::Open(std::move(kv), {key_a_}, options);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    for (int call = 0; call < 6; ++call) Append(50);
    v1::Actor actor;
    actor.set_person_id("qa-1");
    auto rotated = store_->RotateKey(key_b_, actor, "annual rotation");
    ASSERT_TRUE(rotated.ok()) << rotated.status();
    Append(99);
    ASSERT_TRUE(store_->CheckpointNow().ok());
    ASSERT_EQ(store_->Size(), 400u);
  }

  void Append(int n) {
    std::vector<AppendRecord> records(n);
    for (AppendRecord& r : records) {
      r.actor.set_person_id("op-7");
      r.request_id = absl::StrCat("req-", next_request_++);
      clock_.Advance(absl::Seconds(1));
    }
    auto result = store_->Append(std::move(records));
    ASSERT_TRUE(result.ok()) << result.status();
  }

  std::vector<Finding> Verify(std::vector<NoteVerifier> trusted = {}) {
    StoreVerifyOptions options;
    options.trusted_keys = std::move(trusted);
    options.pool = &pool_;
    options.batch_size = 128;
    auto findings = VerifyLogStore(*store_, options);
    EXPECT_TRUE(findings.ok()) << findings.status();
    return findings.ok() ? *std::move(findings) : std::vector<Finding>{};
  }

  void Put(Family f, const std::string& key, const std::string& value) {
    KvBatch batch;
    batch.Put(f, key, value);
    ASSERT_TRUE(store_->kv().Write(batch, /*sync=*/true).ok());
  }

  TempDir dir_;
  FakeClock clock_{absl::FromUnixSeconds(1767225600)};
  ThreadPool pool_{2};
  std::shared_ptr<const NoteSigner> key_a_ = MakeSigner("cmo-a", 'a');
  std::shared_ptr<const NoteSigner> key_b_ = MakeSigner("cmo-b", 'b');
  std::unique_ptr<LogStore> store_;
  int next_request_ = 0;
};

TEST_P(StoreVerifyTest, CleanStoreHasNoFindings) {
  EXPECT_EQ(Describe(Verify()), "");
  // Trusting only the first key: the rotated-in key is learned from the
  // rotation record (possession signature included) and signs the rest.
  EXPECT_EQ(Describe(Verify({key_a_->Verifier()})), "");
}

TEST_P(StoreVerifyTest, ChangedTreeNodeIsReportedWithItsIndex) {
  // Level 2, index 5 covers leaves [20, 24).
  Put(Family::kTree, std::string(1, '\x02') + Be64(5), std::string(32, 'x'));
  const std::vector<Finding> findings = Verify();
  ASSERT_EQ(findings.size(), 1u) << Describe(findings);
  EXPECT_EQ(findings[0].kind, FindingKind::kTreeNodeMismatch);
  EXPECT_EQ(findings[0].index, 20);
  EXPECT_THAT(findings[0].detail, HasSubstr("level 2 index 5"));
  EXPECT_THAT(
      findings[0].detail,
      HasSubstr("stored " + absl::BytesToHexString(std::string(32, 'x'))));
}

TEST_P(StoreVerifyTest, DeletedLeafNodeIsReported) {
  KvBatch batch;
  batch.Delete(Family::kTree, std::string(1, '\0') + Be64(123));
  ASSERT_TRUE(store_->kv().Write(batch, true).ok());
  const std::vector<Finding> findings = Verify();
  ASSERT_EQ(findings.size(), 1u) << Describe(findings);
  EXPECT_EQ(findings[0].kind, FindingKind::kTreeNodeMismatch);
  EXPECT_EQ(findings[0].index, 123);
  EXPECT_THAT(findings[0].detail, HasSubstr("stored nothing"));
}

TEST_P(StoreVerifyTest, TamperedSignatureIsReported) {
  auto entry = store_->GetEntry(77);
  ASSERT_TRUE(entry.ok()) << entry.status();
  (*entry->mutable_signature())[0] ^= 1;
  Put(Family::kEntries, Be64(77), entry->SerializeAsString());
  const std::vector<Finding> findings = Verify();
  ASSERT_EQ(findings.size(), 1u) << Describe(findings);
  EXPECT_EQ(findings[0].kind, FindingKind::kBadSignature);
  EXPECT_EQ(findings[0].index, 77);
}

TEST_P(StoreVerifyTest, KeysBeyondTheSizeAreInconsistent) {
  auto entry = store_->GetEntry(3);
  ASSERT_TRUE(entry.ok()) << entry.status();
  Put(Family::kEntries, Be64(405), entry->SerializeAsString());
  Put(Family::kTree, std::string(1, '\x04') + Be64(25), std::string(32, 'y'));
  const std::vector<Finding> findings = Verify();
  ASSERT_EQ(findings.size(), 2u) << Describe(findings);
  EXPECT_EQ(findings[0].kind, FindingKind::kStoreInconsistent);
  EXPECT_EQ(findings[0].index, 400);  // level 4 index 25: leaves [400, 416)
  EXPECT_EQ(findings[1].kind, FindingKind::kStoreInconsistent);
  EXPECT_EQ(findings[1].index, 405);
}

INSTANTIATE_TEST_SUITE_P(Kv, StoreVerifyTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "RocksDb" : "Memory";
                         });

}  // namespace
}  // namespace segledger::store
