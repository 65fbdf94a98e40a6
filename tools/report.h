// The self-contained HTML audit report (`segaudit report DIR --html F`):
// verification summary (checkpoints, roots, key fingerprints, cosigners),
// findings linking to their records, a custody graph of lots across sites
// (Graphviz `dot -Tsvg`, inlined; a table when dot is unavailable), per-lot
// timelines with signature manifestation (name / meaning / time), and every
// record with an anchor. No external fetches. Thread-compatible.
#ifndef SEGLEDGER_TOOLS_REPORT_H_
#define SEGLEDGER_TOOLS_REPORT_H_

#include <string>

#include "ledger/domain/graph.h"
#include "tools/audit_finding.h"
#include "tools/bundle_verify.h"

namespace segledger::tools {

// The custody graph in Graphviz dot: one node per site, one edge per
// dispatch (lot, quantity, transfer; dashed until received).
std::string CustodyDot(const BundleContents& contents,
                       const domain::DomainGraph& graph);

// Renders dot to SVG by running `dot -Tsvg`; error when dot fails.
absl::StatusOr<std::string> RenderSvg(const std::string& dot);

std::string HtmlReport(const AuditReport& report,
                       const BundleContents& contents,
                       const domain::DomainGraph& graph);

}  // namespace segledger::tools

#endif  // SEGLEDGER_TOOLS_REPORT_H_
