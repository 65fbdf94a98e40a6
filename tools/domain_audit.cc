#include "tools/domain_audit.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ledger/checkpoint.h"
#include "ledger/entry_codec.h"
#include "tools/proof_file.h"

namespace segledger::tools {

std::unique_ptr<domain::DomainGraph> BuildDomainGraph(
    const BundleContents& contents) {
  auto g = std::make_unique<domain::DomainGraph>();
  for (const LogEntries& log : contents.logs) {
    for (size_t i = 0; i < log.bodies.size(); ++i) {
      if (!log.known[i]) continue;
      absl::StatusOr<v1::EntryBody> body = ParseEntryBody(log.bodies[i]);
      if (!body.ok()) continue;
      g->Add(log.origin, i, log.leaf_hashes[i], *std::move(body));
    }
  }
  AddEvidenceEntries(contents, g.get());
  return g;
}

void AddEvidenceEntries(const BundleContents& contents,
                        domain::DomainGraph* g) {
  for (const std::string& text : contents.evidence) {
    // Verified by VerifyBundle; only parsed here.
    absl::StatusOr<ProofFile> p = ParseProofFile(text);
    if (!p.ok() || !p->extra.has_value()) continue;
    absl::StatusOr<Checkpoint> cp = PeekCheckpoint(p->checkpoint);
    v1::SignedEntry entry;
    if (!cp.ok() || !entry.ParseFromString(*p->extra)) continue;
    absl::StatusOr<v1::EntryBody> body = ParseEntryBody(entry.body());
    if (!body.ok() || g->Find(cp->origin, p->index) != nullptr) continue;
    g->Add(cp->origin, p->index, EntryLeafHash(entry.body()), *std::move(body));
  }
}

absl::StatusOr<AuditReport> AuditBundle(const Fetcher& fetcher,
                                        VerifyOptions options,
                                        BundleContents* contents) {
  BundleContents local;
  if (contents == nullptr) contents = &local;
  auto g = std::make_unique<domain::DomainGraph>();
  EntrySink outer = std::move(options.on_entry);
  // Same entries, same order as BuildDomainGraph: a log's readable entries
  // whose body parses (the verifier's parse), logs in MANIFEST order.
  options.on_entry = [&g, &outer](const std::string& origin, uint64_t index,
                                  const Hash& leaf, v1::EntryBody* body) {
    if (outer) outer(origin, index, leaf, body);
    g->Add(origin, index, leaf, std::move(*body));
  };
  absl::StatusOr<AuditReport> report = VerifyBundle(fetcher, options, contents);
  if (!report.ok()) return report;
  AddEvidenceEntries(*contents, g.get());
  std::vector<AuditFinding> df =
      DomainAuditFindings(*g, CompleteOrigins(*contents));
  report->findings.insert(report->findings.end(), df.begin(), df.end());
  return report;
}

std::set<std::string> CompleteOrigins(const BundleContents& contents) {
  std::set<std::string> out;
  for (const LogEntries& log : contents.logs) out.insert(log.origin);
  return out;
}

std::vector<AuditFinding> DomainAuditFindings(
    const domain::DomainGraph& g, const std::set<std::string>& complete) {
  std::vector<AuditFinding> out;
  for (const domain::DomainFinding& f :
       domain::FindingsAbout(g.Findings(domain::FindingOptions()), complete)) {
    AuditFinding a;
    a.check = absl::StrCat("domain/", domain::DomainFindingKindName(f.kind));
    a.severity = static_cast<Severity>(static_cast<int>(f.severity));
    if (!f.records.empty()) {
      a.origin = f.records[0].origin();
      a.index = static_cast<int64_t>(f.records[0].index());
    }
    a.detail = f.message;
    out.push_back(std::move(a));
  }
  return out;
}

}  // namespace segledger::tools
