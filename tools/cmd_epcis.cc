// segaudit epcis: verify the bundle, then print its events as EPCIS 2.0.
#include <cstdio>
#include <memory>
#include <string>

#include "absl/time/clock.h"
#include "ledger/thread_pool.h"
#include "tools/bundle_verify.h"
#include "tools/commands.h"
#include "tools/domain_audit.h"
#include "tools/epcis.h"
#include "tools/fetcher.h"
#include "tools/file_util.h"

namespace segledger::tools {

// Verifies `where` keeping entries; prints problems to stderr. Returns the
// exit code to use when `report` is not filled.
int LoadVerified(const std::string& where, AuditReport* report,
                 BundleContents* contents) {
  absl::StatusOr<std::unique_ptr<Fetcher>> fetcher = OpenFetcher(where);
  if (!fetcher.ok()) {
    std::fprintf(stderr, "segaudit: %s\n",
                 std::string(fetcher.status().message()).c_str());
    return kExitUsage;
  }
  ThreadPool pool(ThreadPool::DefaultWorkers());
  VerifyOptions options;
  options.pool = &pool;
  options.keep_entries = true;
  absl::StatusOr<AuditReport> r = VerifyBundle(**fetcher, options, contents);
  if (!r.ok()) {
    std::fprintf(stderr, "segaudit: %s\n",
                 std::string(r.status().message()).c_str());
    return absl::IsUnavailable(r.status()) ? kExitUnreachable : kExitUsage;
  }
  *report = *std::move(r);
  return kExitOk;
}

int UnverifiedExit(size_t major, const char* hint) {
  if (major == 0) return kExitOk;
  std::fprintf(stderr, "segaudit: bundle has %zu major findings; %s\n", major,
               hint);
  return kExitFindings;
}

int RunEpcis(const EpcisFlags& flags) {
  AuditReport report;
  BundleContents contents;
  int rc = LoadVerified(flags.where, &report, &contents);
  if (rc != kExitOk) return rc;
  std::unique_ptr<domain::DomainGraph> graph = BuildDomainGraph(contents);
  std::string doc = EpcisDocument(contents, *graph, absl::Now());
  if (flags.out.empty()) {
    std::fwrite(doc.data(), 1, doc.size(), stdout);
  } else {
    absl::Status s = WriteStringToFile(flags.out, doc, true);
    if (!s.ok()) {
      std::fprintf(stderr, "segaudit: %s\n", std::string(s.message()).c_str());
      return kExitUsage;
    }
  }
  return UnverifiedExit(report.CountAtLeast(Severity::kMajor), "run verify");
}

}  // namespace segledger::tools
