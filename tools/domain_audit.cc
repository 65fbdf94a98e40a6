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
  for (const std::string& text : contents.evidence) {
    // Verified by VerifyBundle; only parsed here.
    absl::StatusOr<ProofFile> p = ParseProofFile(text);
    if (!p.ok() || !p->extra.has_value()) continue;
    absl::StatusOr<Note> note = ParseNote(p->checkpoint);
    absl::StatusOr<Checkpoint> cp =
        note.ok() ? ParseCheckpointText(note->text) : note.status();
    v1::SignedEntry entry;
    if (!cp.ok() || !entry.ParseFromString(*p->extra)) continue;
    absl::StatusOr<v1::EntryBody> body = ParseEntryBody(entry.body());
    if (!body.ok() || g->Find(cp->origin, p->index) != nullptr) continue;
    g->Add(cp->origin, p->index, EntryLeafHash(entry.body()), *std::move(body));
  }
  return g;
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
