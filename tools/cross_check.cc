#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ledger/checkpoint.h"
#include "ledger/note.h"
#include "tools/log_check.h"
#include "tools/proof_file.h"

namespace segledger::tools {
namespace {

LogCheckResult* FindLog(std::vector<LogCheckResult>& logs,
                        absl::string_view origin) {
  for (LogCheckResult& r : logs) {
    if (r.summary.origin == origin) return &r;
  }
  return nullptr;
}

// The root the bundle proves for `log` at `size`, if any.
std::optional<Hash> ProvenRoot(const LogCheckResult& log, uint64_t size) {
  auto it = log.signed_roots.find(size);
  if (it != log.signed_roots.end()) return it->second;
  if (size <= log.summary.size && log.tree) return log.tree->RootAt(size);
  return std::nullopt;
}

void Add(AuditReport& r, absl::string_view check, Severity sev,
         std::string origin, int64_t index, std::string path,
         std::string detail) {
  r.findings.push_back(AuditFinding{std::string(check),
                                    sev,
                                    std::move(origin),
                                    index,
                                    std::move(path),
                                    std::move(detail),
                                    {}});
}

void CheckOneCosigned(const std::string& path, const std::string& note,
                      absl::Span<const NoteVerifier> keys,
                      std::vector<LogCheckResult>& logs, AuditReport& report) {
  absl::StatusOr<Checkpoint> cp = PeekCheckpoint(note);
  absl::StatusOr<VerifiedNote> vn = OpenNote(note, keys);
  if (!cp.ok() || !vn.ok()) {
    Add(report, kCheckCosignature, Severity::kMajor, "", -1, path,
        std::string(!cp.ok() ? cp.status().message() : vn.status().message()));
    return;
  }
  const int64_t size = static_cast<int64_t>(cp->size);
  for (const NoteSignature& s : vn->unverified) {
    Add(report, kCheckCosignature, Severity::kInfo, cp->origin, size, path,
        absl::StrCat("signature by unknown key '", s.name, "' not checked"));
  }
  LogCheckResult* log = FindLog(logs, cp->origin);
  if (log == nullptr) {
    Add(report, kCheckCosignature, Severity::kInfo, cp->origin, size, path,
        "checkpoint of a log that is not in the bundle");
    return;
  }
  bool by_log = false, by_other = false;
  for (const NoteSignature& s : vn->verified) {
    if (log->own_key_names.count(s.name)) {
      by_log = true;
      continue;
    }
    by_other = true;
    if (std::find(log->summary.cosigners.begin(), log->summary.cosigners.end(),
                  s.name) == log->summary.cosigners.end()) {
      log->summary.cosigners.push_back(s.name);
    }
  }
  if (!by_log) {
    Add(report, kCheckCosignature, Severity::kMajor, cp->origin, size, path,
        "no valid signature by the log's own key");
  }
  // A cosignature file exists to show that another party signed; one
  // whose other lines are all by unknown keys (a damaged name, say)
  // proves nothing.
  if (!by_other) {
    Add(report, kCheckCosignature, Severity::kWarning, cp->origin, size, path,
        "no valid signature by a key other than the log's own: nothing "
        "cosigned it");
  }
  std::optional<Hash> root = ProvenRoot(*log, cp->size);
  if (root.has_value() && *root != cp->root) {
    Add(report, FindingKindName(FindingKind::kEquivocation),
        Severity::kCritical, cp->origin, size, path,
        absl::StrCat("cosigned root ", HashHex(cp->root), " but the log's is ",
                     HashHex(*root)));
  }
}

}  // namespace

void CheckCosignatures(const Fetcher& f, const Manifest& m,
                       absl::Span<const NoteVerifier> keys,
                       std::vector<LogCheckResult>& logs, AuditReport& report) {
  for (const std::string& path : m.cosignatures) {
    absl::StatusOr<std::string> note = f.Fetch(path);
    if (!note.ok()) {
      Add(report, kCheckMissingFile, Severity::kMajor, "", -1, path,
          std::string(note.status().message()));
      continue;
    }
    CheckOneCosigned(path, *note, keys, logs, report);
  }
}

void CheckEvidence(const Fetcher& f, const Manifest& m,
                   absl::Span<const NoteVerifier> keys,
                   std::vector<LogCheckResult>& logs, AuditReport& report,
                   BundleContents* contents) {
  for (const std::string& path : m.evidence) {
    absl::StatusOr<std::string> text = f.Fetch(path);
    absl::StatusOr<VerifiedEntryProof> v =
        text.ok() ? VerifyEntryProofFile(*text, keys) : text.status();
    if (!v.ok()) {
      Add(report, text.ok() ? kCheckEvidence : kCheckMissingFile,
          Severity::kMajor, "", -1, path, std::string(v.status().message()));
      continue;
    }
    if (contents != nullptr) contents->evidence.push_back(*text);
    LogCheckResult* log = FindLog(logs, v->checkpoint.origin);
    if (log == nullptr) continue;
    const int64_t idx = static_cast<int64_t>(v->index);
    std::optional<Hash> root = ProvenRoot(*log, v->checkpoint.size);
    const LogEntries& e = log->entries;
    if ((root.has_value() && *root != v->checkpoint.root) ||
        (v->index < e.leaf_hashes.size() && e.known[v->index] &&
         e.leaf_hashes[v->index] != v->leaf_hash)) {
      Add(report, FindingKindName(FindingKind::kEquivocation),
          Severity::kCritical, v->checkpoint.origin, idx, path,
          "peer evidence disagrees with the log in the bundle");
    }
  }
}

}  // namespace segledger::tools
