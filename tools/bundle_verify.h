// Verifies an audit bundle (tools/bundle_layout.h) read through a Fetcher:
// per log every entry bundle, signature and chain link (ledger/verifier.h
// LogVerifier, signatures in parallel on the pool), every hash tile against
// the tree recomputed from the entries, every exported checkpoint's
// signature and root, consistency of consecutive exported checkpoints from
// the served tiles, partial bundles for older sizes, the keys file,
// cosigned checkpoints and peer evidence (tlog-proof files), and, when the
// domain layer is linked, cross-log references and domain findings.
//
// A damaged bundle yields findings naming log, index, file and check; only
// input errors (nothing that looks like a bundle, an unreachable server)
// are returned as a status. Thread-compatible.
#ifndef SEGLEDGER_TOOLS_BUNDLE_VERIFY_H_
#define SEGLEDGER_TOOLS_BUNDLE_VERIFY_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ledger/hash.h"
#include "ledger/note.h"
#include "ledger/thread_pool.h"
#include "tools/audit_finding.h"
#include "tools/fetcher.h"

namespace segledger::v1 {
class EntryBody;
}  // namespace segledger::v1

namespace segledger::tools {

// The verified content of one log, for reports, EPCIS and domain queries.
struct LogEntries {
  std::string origin;
  std::vector<std::string> bodies;  // index order; empty when unreadable
  std::vector<Hash> leaf_hashes;
  std::vector<bool> known;  // false where the bundle was unreadable
};

struct BundleContents {
  std::vector<LogEntries> logs;
  std::vector<NoteVerifier> keys;
  std::vector<std::string> evidence;  // peer evidence files that verified
};

// Receives (origin, index, leaf hash, parsed body) of each readable entry
// whose body parses, per log in index order, logs in MANIFEST order, on the
// thread that called VerifyBundle while signatures are being checked; may
// move from body.
using EntrySink = std::function<void(const std::string& origin, uint64_t index,
                                     const Hash& leaf, v1::EntryBody* body)>;

struct VerifyOptions {
  ThreadPool* pool = nullptr;  // nullptr: verify on the calling thread
  // When non-empty, trusted instead of the bundle's keys file (an
  // inspector's pinned keys); bundle keys not among them become findings.
  std::vector<NoteVerifier> pinned_keys;
  // Called now and then with entries done and entries expected.
  std::function<void(uint64_t done, uint64_t total)> progress;
  // Keep entry bodies in `contents` (needed by report and epcis).
  bool keep_entries = false;
  // When set, gets every verified log entry as it is checked (the domain
  // checks build their graph this way instead of from kept bodies).
  EntrySink on_entry;
};

// INVALID_ARGUMENT when the location holds no bundle (no MANIFEST and no
// log directory); UNAVAILABLE when an HTTP server cannot be reached.
absl::StatusOr<AuditReport> VerifyBundle(const Fetcher& fetcher,
                                         const VerifyOptions& options,
                                         BundleContents* contents = nullptr);

}  // namespace segledger::tools

#endif  // SEGLEDGER_TOOLS_BUNDLE_VERIFY_H_
