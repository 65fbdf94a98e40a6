// segaudit report: verify the bundle, then write the HTML report.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "tools/bundle_verify.h"
#include "tools/commands.h"
#include "tools/domain_audit.h"
#include "tools/file_util.h"
#include "tools/report.h"

namespace segledger::tools {

int RunReport(const ReportFlags& flags) {
  AuditReport report;
  BundleContents contents;
  int rc = LoadVerified(flags.where, &report, &contents);
  if (rc != kExitOk) return rc;
  // The exit code follows verification alone, as epcis's does; the domain
  // findings added below are content for the reader.
  const size_t unverified = report.CountAtLeast(Severity::kMajor);
  absl::Time as_of;
  std::unique_ptr<domain::DomainGraph> graph =
      BuildDomainGraph(contents, &as_of);
  report.domain_as_of = as_of;
  std::vector<AuditFinding> df =
      DomainAuditFindings(*graph, CompleteOrigins(contents), as_of);
  report.findings.insert(report.findings.end(), df.begin(), df.end());
  absl::Status s =
      WriteStringToFile(flags.html, HtmlReport(report, contents, *graph), true);
  if (!s.ok()) {
    std::fprintf(stderr, "segaudit: %s\n", std::string(s.message()).c_str());
    return kExitUsage;
  }
  return UnverifiedExit(unverified, "the report lists them");
}

}  // namespace segledger::tools
