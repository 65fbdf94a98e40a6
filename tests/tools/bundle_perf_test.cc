// Time to verify a bundle of N entries (SEGAUDIT_PERF_ENTRIES, default
// 5000; the report's figure uses 100000) against the same-run Ed25519
// verify rate on all cores. Prints both (a figure, not an assertion: speed
// is judged by segbench audit); fails if verification finds anything.
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "ledger/entry_codec.h"
#include "ledger/thread_pool.h"
#include "tests/support/test_util.h"
#include "tests/tools/bundle_test_util.h"
#include "tools/bundle_verify.h"
#include "tools/bundle_writer.h"
#include "tools/fetcher.h"
#include "tools/store_source.h"

namespace segledger::tools {
namespace {

using ::segledger::testing::MakeTestLog;
using ::segledger::testing::TempDir;
using ::segledger::testing::TestLog;

uint64_t PerfEntries() {
  const char* env = std::getenv("SEGAUDIT_PERF_ENTRIES");
  return env != nullptr ? std::strtoull(env, nullptr, 10) : 5000;
}

// Verifications per second of `n` entry signatures on all cores.
double RawVerifyRate(const store::LogStore& store, uint64_t n,
                     ThreadPool& pool) {
  std::vector<v1::SignedEntry> entries;
  store
      .ScanEntries(0, n,
                   [&](uint64_t, const v1::SignedEntry& e) {
                     entries.push_back(e);
                     return true;
                   })
      .IgnoreError();
  NoteVerifier key = store.Verifiers()[0];
  absl::Time start = absl::Now();
  pool.ParallelFor(entries.size(), 256, [&](size_t b, size_t e) {
    std::string msg;
    for (size_t i = b; i < e; ++i) {
      WriteEntrySigningMessage(entries[i].body(), &msg);
      EXPECT_TRUE(key.Verify(msg, entries[i].signature()).ok());
    }
  });
  return entries.size() / absl::ToDoubleSeconds(absl::Now() - start);
}

TEST(BundlePerf, VerifyTimeAgainstEd25519Ceiling) {
  const uint64_t n = PerfEntries();
  TempDir tmp;
  SEG_ASSERT_OK_AND_ASSIGN(
      TestLog log,
      MakeTestLog(tmp.Sub("node"), "perf.example/log", n, 2000, 16384));
  SEG_ASSERT_OK(log.store->Close());
  StoreExportSource src(log.store.get());
  std::vector<LogExportSource*> logs = {&src};
  BundleWriteOptions wo;
  wo.sync = false;
  SEG_ASSERT_OK(WriteBundle(logs, tmp.Sub("bundle"), wo));

  ThreadPool pool(ThreadPool::DefaultWorkers());
  const double ceiling = RawVerifyRate(*log.store, n, pool);
  SEG_ASSERT_OK_AND_ASSIGN(auto fetcher, OpenFetcher(tmp.Sub("bundle")));
  VerifyOptions vo;
  vo.pool = &pool;
  absl::Time start = absl::Now();
  SEG_ASSERT_OK_AND_ASSIGN(AuditReport report, VerifyBundle(*fetcher, vo));
  const double secs = absl::ToDoubleSeconds(absl::Now() - start);
  EXPECT_EQ(report.findings.size(), 0u) << FormatReportText(report);
  ASSERT_EQ(report.logs.size(), 1u);
  EXPECT_EQ(report.logs[0].entries_verified, n);
  const double rate = n / secs;
  std::cout << "bundle_verify entries=" << n << " seconds=" << secs
            << " entries_per_s=" << rate
            << " ed25519_verify_per_s_all_cores=" << ceiling
            << " ratio=" << rate / ceiling << " cores=" << pool.parallelism()
            << std::endl;
  RecordProperty("verify_seconds", absl::StrCat(secs));
  RecordProperty("ratio", absl::StrCat(rate / ceiling));
}

}  // namespace
}  // namespace segledger::tools
