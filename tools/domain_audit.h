// The domain layer over a verified bundle: every verified entry (and every
// verified peer evidence entry) loaded into ledger/domain's DomainGraph, so
// segaudit reuses the domain queries and findings (cross-log references:
// receipts without their dispatch, quantity mismatches, ...) instead of
// re-implementing them. Thread-compatible.
#ifndef SEGLEDGER_TOOLS_DOMAIN_AUDIT_H_
#define SEGLEDGER_TOOLS_DOMAIN_AUDIT_H_

#include <memory>
#include <vector>

#include "ledger/domain/graph.h"
#include "tools/audit_finding.h"
#include "tools/bundle_verify.h"

namespace segledger::tools {

// Entries whose body does not parse are skipped (the LogVerifier reported
// them). Peer evidence already verified by VerifyBundle is added too.
std::unique_ptr<domain::DomainGraph> BuildDomainGraph(
    const BundleContents& contents);

// Domain findings as audit findings (check = "domain/<kind>"), each naming
// the first record involved.
std::vector<AuditFinding> DomainAuditFindings(const domain::DomainGraph& g);

}  // namespace segledger::tools

#endif  // SEGLEDGER_TOOLS_DOMAIN_AUDIT_H_
