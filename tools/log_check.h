// Verification of one log of an audit bundle (see bundle_verify.h for the
// list of checks). Internal to segledger_bundle. Thread-compatible.
#ifndef SEGLEDGER_TOOLS_LOG_CHECK_H_
#define SEGLEDGER_TOOLS_LOG_CHECK_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "ledger/hash.h"
#include "ledger/note.h"
#include "ledger/thread_pool.h"
#include "tools/audit_finding.h"
#include "tools/bundle_layout.h"
#include "tools/bundle_verify.h"
#include "tools/fetcher.h"
#include "tools/tree_levels.h"

namespace segledger::tools {

struct LogCheckInput {
  const Fetcher* fetcher = nullptr;  // not owned
  std::string log_dir;
  std::vector<uint64_t> sizes;  // from MANIFEST; empty: use `checkpoint`
  std::vector<NoteVerifier> keys;
  ThreadPool* pool = nullptr;
  std::function<void(uint64_t, uint64_t)> progress;
  bool keep_entries = false;
  EntrySink on_entry;  // see VerifyOptions
};

struct LogCheckResult {
  LogSummary summary;
  LogEntries entries;  // bodies only when keep_entries
  std::vector<AuditFinding> findings;
  // Checkpoint roots whose signature verified, by size.
  std::map<uint64_t, Hash> signed_roots;
  // Key names whose signature verified on the log's own checkpoints.
  std::set<std::string> own_key_names;
  std::unique_ptr<TreeLevels> tree;  // recomputed from the entries
};

LogCheckResult CheckLog(const LogCheckInput& in);

// Splits an entry bundle (uint16 BE length || body, repeated) into exactly
// `want` bodies. INVALID_ARGUMENT naming the offset when it does not.
absl::Status SplitEntryBundle(absl::string_view data, size_t want,
                              std::vector<absl::string_view>* bodies);

// Cross-log checks over all logs' results (cross_check.cc): cosigned
// checkpoints (signatures by known keys, the log's own signature, roots
// agree with the log: else equivocation) and peer evidence files (verify as
// tlog-proof files; entries and roots agree with the logs in the bundle).
// Verified evidence files go to contents->evidence when contents is set.
void CheckCosignatures(const Fetcher& f, const Manifest& m,
                       absl::Span<const NoteVerifier> keys,
                       std::vector<LogCheckResult>& logs, AuditReport& report);
void CheckEvidence(const Fetcher& f, const Manifest& m,
                   absl::Span<const NoteVerifier> keys,
                   std::vector<LogCheckResult>& logs, AuditReport& report,
                   BundleContents* contents);

}  // namespace segledger::tools

#endif  // SEGLEDGER_TOOLS_LOG_CHECK_H_
