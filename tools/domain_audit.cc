#include "tools/domain_audit.h"

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ledger/checkpoint.h"
#include "ledger/entry_codec.h"
#include "ledger/proto_time.h"
#include "tools/proof_file.h"

namespace segledger::tools {

std::unique_ptr<domain::DomainGraph> BuildDomainGraph(
    const BundleContents& contents, absl::Time* as_of) {
  auto g = std::make_unique<domain::DomainGraph>();
  BundleTime time;
  for (const LogEntries& log : contents.logs) {
    for (size_t i = 0; i < log.bodies.size(); ++i) {
      if (!log.known[i]) continue;
      absl::StatusOr<v1::EntryBody> body = ParseEntryBody(log.bodies[i]);
      if (!body.ok()) continue;
      time.Add(*body);
      g->Add(log.origin, i, log.leaf_hashes[i], *std::move(body));
    }
  }
  AddEvidenceEntries(contents, g.get());
  if (as_of != nullptr) *as_of = time.Get();
  return g;
}

void BundleTime::Add(const v1::EntryBody& body) {
  if (!body.has_recorded_at()) return;
  latest_ = std::max(latest_, FromProtoTime(body.recorded_at()));
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
  BundleTime time;
  EntrySink outer = std::move(options.on_entry);
  // Same entries, same order as BuildDomainGraph: a log's readable entries
  // whose body parses (the verifier's parse), logs in MANIFEST order.
  options.on_entry = [&g, &outer, &time](const std::string& origin,
                                         uint64_t index, const Hash& leaf,
                                         v1::EntryBody* body) {
    if (outer) outer(origin, index, leaf, body);
    time.Add(*body);
    g->Add(origin, index, leaf, std::move(*body));
  };
  absl::StatusOr<AuditReport> report = VerifyBundle(fetcher, options, contents);
  if (!report.ok()) return report;
  AddEvidenceEntries(*contents, g.get());
  report->domain_as_of = time.Get();
  std::vector<AuditFinding> df =
      DomainAuditFindings(*g, CompleteOrigins(*contents), time.Get());
  report->findings.insert(report->findings.end(), df.begin(), df.end());
  return report;
}

std::set<std::string> CompleteOrigins(const BundleContents& contents) {
  std::set<std::string> out;
  for (const LogEntries& log : contents.logs) out.insert(log.origin);
  return out;
}

std::vector<AuditFinding> DomainAuditFindings(
    const domain::DomainGraph& g, const std::set<std::string>& complete,
    absl::Time as_of) {
  std::vector<AuditFinding> out;
  domain::FindingOptions options;
  options.now = as_of;
  for (const domain::DomainFinding& f :
       domain::FindingsAbout(g.Findings(options), complete)) {
    AuditFinding a;
    a.check = absl::StrCat("domain/", domain::DomainFindingKindName(f.kind));
    a.severity = static_cast<Severity>(static_cast<int>(f.severity));
    if (!f.records.empty()) {
      a.origin = f.records[0].origin();
      a.index = static_cast<int64_t>(f.records[0].index());
    }
    for (const v1::EntryRef& r : f.records) {
      AuditFinding::Record rec{r.origin(), r.index(), Hash{}};
      if (r.leaf_hash().size() == rec.leaf_hash.size()) {
        std::copy(r.leaf_hash().begin(), r.leaf_hash().end(),
                  rec.leaf_hash.begin());
      }
      a.records.push_back(std::move(rec));
    }
    a.detail = f.message;
    out.push_back(std::move(a));
  }
  return out;
}

}  // namespace segledger::tools
