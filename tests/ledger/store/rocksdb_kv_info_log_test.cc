// Regression (found by disk_full_test under TSan): RocksDB's info log must
// not be a LOG file in the data directory. On a full disk its writer fails
// and Debian's librocksdb, built with assertions, aborts the process on the
// next log line (WritableFileWriter::AssertFalseAndGetStatusForPrevError,
// called from ErrorHandler::SetBGError) instead of returning NoSpace.
#include <filesystem>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ledger/store/rocksdb_kv.h"
#include "tests/support/test_util.h"

namespace segledger::store {
namespace {

using ::segledger::testing::IsOk;
using ::segledger::testing::TempDir;

TEST(RocksDbKvInfoLogTest, NoLogFileInTheDataDirectory) {
  TempDir dir;
  const std::string path = dir.Sub("db");
  for (int reopen = 0; reopen < 2; ++reopen) {
    SEG_ASSERT_OK_AND_ASSIGN(auto kv, RocksDbKv::Open(path));
    KvBatch batch;
    batch.Put(Family::kMeta, "k", "v");
    ASSERT_THAT(kv->Write(batch, true), IsOk());
  }
  for (const auto& f : std::filesystem::directory_iterator(path)) {
    const std::string name = f.path().filename().string();
    EXPECT_NE(name.rfind("LOG", 0), 0u) << "info log file " << name;
  }
}

}  // namespace
}  // namespace segledger::store
