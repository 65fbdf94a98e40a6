// The domain layer over a verified bundle: every verified entry (and every
// verified peer evidence entry) loaded into ledger/domain's DomainGraph, so
// segaudit reuses the domain queries and findings (cross-log references:
// receipts without their dispatch, quantity mismatches, ...) instead of
// re-implementing them. Thread-compatible.
#ifndef SEGLEDGER_TOOLS_DOMAIN_AUDIT_H_
#define SEGLEDGER_TOOLS_DOMAIN_AUDIT_H_

#include <memory>
#include <set>
#include <vector>

#include "absl/status/statusor.h"
#include "ledger/domain/graph.h"
#include "tools/audit_finding.h"
#include "tools/bundle_verify.h"
#include "tools/fetcher.h"

namespace segledger::tools {

// Entries whose body does not parse are skipped (the LogVerifier reported
// them). Peer evidence already verified by VerifyBundle is added too.
// `as_of` (may be null) receives BundleTime of the logs' entries.
std::unique_ptr<domain::DomainGraph> BuildDomainGraph(
    const BundleContents& contents, absl::Time* as_of = nullptr);

// The time an offline audit judges deadlines at ("no receipt past its
// deadline"): the latest recorded_at of the entries of the bundle's own
// logs, not the reader's clock, so the same bundle gives the same findings
// on any day. InfinitePast for a bundle without entries.
class BundleTime {
 public:
  void Add(const v1::EntryBody& body);
  absl::Time Get() const { return latest_; }

 private:
  absl::Time latest_ = absl::InfinitePast();
};

// Domain findings as audit findings (check = "domain/<kind>"), each with
// every record involved (origin, index, leaf hash), judged at `as_of`.
// Only findings about logs the bundle holds whole (`complete`; see
// domain::FindingsAbout): evidence entries of other logs inform the
// cross-log checks but their own history is not in the bundle.
std::vector<AuditFinding> DomainAuditFindings(
    const domain::DomainGraph& g, const std::set<std::string>& complete,
    absl::Time as_of);
// The origins of the logs in `contents` (for DomainAuditFindings).
std::set<std::string> CompleteOrigins(const BundleContents& contents);

// Adds the verified peer evidence entries of `contents` (after the logs'
// own entries, skipping positions already in the graph).
void AddEvidenceEntries(const BundleContents& contents, domain::DomainGraph* g);

// `segaudit verify`: VerifyBundle plus the domain findings, the graph built
// from the entries as they are verified (options.on_entry; no bodies kept,
// so options.keep_entries may stay false) and the evidence after them.
// Findings are those of VerifyBundle followed by DomainAuditFindings of
// BuildDomainGraph(contents) over the same bundle. `contents` may be null.
absl::StatusOr<AuditReport> AuditBundle(const Fetcher& fetcher,
                                        VerifyOptions options,
                                        BundleContents* contents = nullptr);

}  // namespace segledger::tools

#endif  // SEGLEDGER_TOOLS_DOMAIN_AUDIT_H_
