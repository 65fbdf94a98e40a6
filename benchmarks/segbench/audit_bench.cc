#include "benchmarks/segbench/audit_bench.h"

#include <atomic>
#include <filesystem>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "benchmarks/segbench/stats.h"
#include "benchmarks/segbench/store_builder.h"
#include "ledger/ed25519.h"
#include "ledger/status_macros.h"
#include "ledger/thread_pool.h"
#include "tools/bundle_verify.h"
#include "tools/bundle_writer.h"
#include "tools/domain_audit.h"
#include "tools/fetcher.h"
#include "tools/store_source.h"

namespace segledger::bench {

absl::StatusOr<double> MeasureVerifyCeiling(absl::Duration duration) {
  constexpr size_t kSigs = 1024;
  SEG_ASSIGN_OR_RETURN(auto signer, Ed25519Signer::Generate());
  SEG_ASSIGN_OR_RETURN(
      auto verifier,
      Ed25519Verifier::New(absl::string_view(
          reinterpret_cast<const char*>(signer->public_key().data()),
          signer->public_key().size())));
  std::vector<std::string> msgs(kSigs), sigs(kSigs);
  for (size_t i = 0; i < kSigs; ++i) {
    msgs[i] = absl::StrCat(i, ":", std::string(300, 'm'));
    SEG_ASSIGN_OR_RETURN(sigs[i], signer->Sign(msgs[i]));
  }
  ThreadPool pool(ThreadPool::DefaultWorkers());
  std::atomic<bool> failed{false};
  uint64_t done = 0;
  const absl::Time start = absl::Now();
  const absl::Time deadline = start + duration;
  while (absl::Now() < deadline) {
    pool.ParallelFor(kSigs, 32, [&](size_t b, size_t e) {
      for (size_t i = b; i < e; ++i) {
        if (!verifier->Verify(sigs[i], msgs[i]).ok()) failed = true;
      }
    });
    done += kSigs;
  }
  if (failed) return absl::InternalError("a ceiling signature did not verify");
  return static_cast<double>(done) / absl::ToDoubleSeconds(absl::Now() - start);
}

absl::StatusOr<std::string> RunAuditBench(const std::string& dir,
                                          absl::Duration ceiling_duration,
                                          bool skip_ceiling) {
  // The ceiling is measured right before and right after the audit and
  // the ratio taken against their mean: on a shared or frequency-scaled
  // machine one short measurement before a minute-long audit can be off
  // by a tenth either way (sessions 8-15 of BENCHMARKS.md saw 84-99 %).
  double before = 0;
  if (!skip_ceiling) {
    SEG_ASSIGN_OR_RETURN(before, MeasureVerifyCeiling(ceiling_duration));
  }
  SEG_ASSIGN_OR_RETURN(std::unique_ptr<tools::Fetcher> fetcher,
                       tools::OpenFetcher(dir));
  ThreadPool pool(ThreadPool::DefaultWorkers());
  tools::VerifyOptions vo;
  vo.pool = &pool;
  const absl::Duration cpu0 = ProcessCpuTime();
  const absl::Time start = absl::Now();
  // What `segaudit verify` runs: every bundle check and the domain findings.
  SEG_ASSIGN_OR_RETURN(tools::AuditReport report,
                       tools::AuditBundle(*fetcher, vo));
  const double secs = absl::ToDoubleSeconds(absl::Now() - start);
  const double cpu = absl::ToDoubleSeconds(ProcessCpuTime() - cpu0);
  double after = 0;
  if (!skip_ceiling) {
    SEG_ASSIGN_OR_RETURN(after, MeasureVerifyCeiling(ceiling_duration));
  }
  const double ceiling = (before + after) / 2;
  uint64_t entries = 0;
  for (const tools::LogSummary& l : report.logs) entries += l.entries_verified;
  const double rate = secs > 0 ? static_cast<double>(entries) / secs : 0;
  JsonLine j;
  j.Add("mode", std::string("audit"))
      .Add("logs", static_cast<uint64_t>(report.logs.size()))
      .Add("entries", entries)
      .Add("seconds", secs)
      .Add("records_per_s", rate)
      .Add("ceiling_records_per_s", ceiling)
      .Add("ceiling_before_records_per_s", before)
      .Add("ceiling_after_records_per_s", after)
      // One signature per entry: the time its verifications alone take at
      // the ceiling, the least any audit of this bundle can take here.
      .Add("ceiling_seconds",
           ceiling > 0 ? static_cast<double>(entries) / ceiling : 0.0)
      .Add("ratio", ceiling > 0 ? rate / ceiling : 0.0)
      .Add("findings", static_cast<uint64_t>(report.findings.size()))
      .Add("major_findings",
           static_cast<uint64_t>(report.CountAtLeast(Severity::kMajor)))
      .Add("cpu_cores_used", secs > 0 ? cpu / secs : 0.0)
      .Add("bundle_bytes", DiskBytes(dir));
  if (!report.findings.empty()) {
    j.Add("first_finding", absl::StrCat(report.findings.front().check, ": ",
                                        report.findings.front().detail));
  }
  return j.str();
}

absl::StatusOr<std::string> RunMakeBundle(uint64_t entries,
                                          const std::string& scratch,
                                          const std::string& out_dir) {
  std::error_code ec;
  const std::string db_dir = scratch + "/mkbundle-store";
  std::filesystem::remove_all(db_dir, ec);
  std::filesystem::create_directories(scratch, ec);
  SEG_ASSIGN_OR_RETURN(BuiltStore built, BuildStore(db_dir, entries));
  const absl::Time t0 = absl::Now();
  tools::StoreExportSource source(built.log.get());
  tools::LogExportSource* logs[] = {&source};
  SEG_RETURN_IF_ERROR(tools::WriteBundle(logs, out_dir));
  const double export_secs = absl::ToDoubleSeconds(absl::Now() - t0);
  SEG_RETURN_IF_ERROR(built.log->Close());
  built.log.reset();
  std::filesystem::remove_all(db_dir, ec);
  JsonLine j;
  j.Add("mode", std::string("mkbundle"))
      .Add("entries", entries)
      .Add("build_seconds", built.build_seconds)
      .Add("build_records_per_s",
           static_cast<double>(entries) / built.build_seconds)
      .Add("export_seconds", export_secs)
      .Add("bundle_bytes", DiskBytes(out_dir));
  return j.str();
}

}  // namespace segledger::bench
