// Online backup (issue 10 item 8): RocksDbKv::Backup (rocksdb::Checkpoint)
// of a LogStore's kv taken while 4 threads append. The backup opens as a
// LogStore with the full check, holds every append acknowledged before the
// backup started, passes VerifyLogStore, and continues appending.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ledger/store/log_store.h"
#include "ledger/store/rocksdb_kv.h"
#include "ledger/store/store_verify.h"
#include "tests/support/test_util.h"

namespace segledger::store {
namespace {

using ::segledger::testing::IsOk;
using ::segledger::testing::TempDir;

constexpr char kOrigin[] = "backup.example/segledger";
constexpr int kThreads = 4;
constexpr int kBackups = 3;

std::shared_ptr<const NoteSigner> Key() {
  auto key = Ed25519Signer::New(std::string(32, 3));
  return std::make_shared<const NoteSigner>(
      "backup-key", std::shared_ptr<const Ed25519Signer>(std::move(*key)));
}

absl::StatusOr<std::unique_ptr<LogStore>> OpenLog(const std::string& path) {
  auto kv = RocksDbKv::Open(path);
  if (!kv.ok()) return kv.status();
  LogStoreOptions o;
  o.origin = kOrigin;
  o.checkpoint_every = 32;
  o.checkpoint_interval = absl::Milliseconds(5);  // checkpoints race too
  o.open_check = LogStoreOptions::OpenCheck::kFull;
  return LogStore::Open(*std::move(kv), {Key()}, o);
}

void ExpectVerifies(LogStore& log) {
  SEG_ASSERT_OK_AND_ASSIGN(auto findings,
                           VerifyLogStore(log, StoreVerifyOptions{}));
  for (const Finding& f : findings) {
    ADD_FAILURE() << "finding at " << f.index << ": " << f.detail;
  }
}

AppendRecord Record(const std::string& id) {
  AppendRecord r;
  r.request_id = id;
  r.record.mutable_deviation()->set_deviation_id("backup-" + id);
  return r;
}

TEST(BackupTest, OnlineBackupWhileAppendingRestoresAndContinues) {
  TempDir dir;
  SEG_ASSERT_OK_AND_ASSIGN(auto log, OpenLog(dir.Sub("live")));
  std::mutex mu;
  std::condition_variable progress;
  std::map<uint64_t, Hash> acked;  // index -> leaf hash
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int n = 0; !stop.load() && n < 100000; ++n) {
        std::vector<AppendRecord> one;
        one.push_back(Record(absl::StrCat("t", t, "-", n)));
        auto res = log->Append(std::move(one));
        if (!res.ok()) {
          failures++;
          progress.notify_all();
          return;
        }
        std::lock_guard<std::mutex> lock(mu);
        acked[(*res)[0].index] = (*res)[0].leaf_hash;
        progress.notify_all();
      }
    });
  }
  std::vector<std::map<uint64_t, Hash>> before(kBackups);
  for (int b = 0; b < kBackups; ++b) {
    {
      // Let the appenders make progress between backups (bounded wait).
      std::unique_lock<std::mutex> lock(mu);
      progress.wait_for(lock, std::chrono::seconds(30), [&] {
        return acked.size() >= size_t(200 * (b + 1)) || failures > 0;
      });
      before[b] = acked;
    }
    ASSERT_THAT(log->kv().Backup(dir.Sub(absl::StrCat("backup", b))), IsOk());
  }
  stop = true;
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  ASSERT_THAT(log->Close(), IsOk());

  for (int b = 0; b < kBackups; ++b) {
    SCOPED_TRACE(absl::StrCat("backup ", b));
    SEG_ASSERT_OK_AND_ASSIGN(auto restored,
                             OpenLog(dir.Sub(absl::StrCat("backup", b))));
    EXPECT_GE(restored->Size(), before[b].size());
    for (const auto& [index, leaf] : before[b]) {
      SEG_ASSERT_OK_AND_ASSIGN(Hash h, restored->LeafHashAt(index));
      ASSERT_EQ(h, leaf) << "entry " << index;
    }
    ExpectVerifies(*restored);
    const uint64_t size = restored->Size();
    for (int n = 0; n < 20; ++n) {
      std::vector<AppendRecord> one;
      one.push_back(Record(absl::StrCat("restored-", b, "-", n)));
      SEG_ASSERT_OK_AND_ASSIGN(auto res, restored->Append(std::move(one)));
      EXPECT_EQ(res[0].index, size + n);
    }
    ASSERT_THAT(restored->Close(), IsOk());
    restored.reset();
    SEG_ASSERT_OK_AND_ASSIGN(restored,
                             OpenLog(dir.Sub(absl::StrCat("backup", b))));
    EXPECT_EQ(restored->Size(), size + 20);
    ExpectVerifies(*restored);
    std::printf("backup %d: %zu acknowledged before it, %llu entries in it\n",
                b, before[b].size(), static_cast<unsigned long long>(size));
  }
}

}  // namespace
}  // namespace segledger::store
