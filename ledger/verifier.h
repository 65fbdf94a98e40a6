// Streaming verification of one log: every signature (in parallel), every
// chain link, every index and origin, each checkpoint's root against the
// entries, and each key's validity at the entry's time. Reports findings
// instead of stopping at the first problem. Pure (no I/O): segaudit, the
// store's full check and the MAH follower feed it.
//
// Thread-compatible: one LogVerifier is driven by one thread; it fans
// signature checks out to the ThreadPool it was given.
#ifndef SEGLEDGER_LEDGER_VERIFIER_H_
#define SEGLEDGER_LEDGER_VERIFIER_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "ledger/compact_range.h"
#include "ledger/hash.h"
#include "ledger/note.h"
#include "ledger/thread_pool.h"

namespace segledger {

enum class Severity { kInfo = 0, kWarning = 1, kMajor = 2, kCritical = 3 };

// Stable names (used in JSON output): see FindingKindName.
enum class FindingKind {
  kMalformedEntry,      // body does not parse / over 64 KiB
  kWrongOrigin,         // body.log_origin differs from the log's origin
  kWrongIndex,          // body.index differs from its position
  kBrokenChain,         // prev_hash differs from the previous leaf hash
  kBadSignature,        // signature does not verify
  kUnknownKey,          // signed by a key name the verifier does not know
  kKeyOutsideValidity,  // key retired, revoked or not yet valid at that time
  kBadCheckpoint,       // checkpoint note malformed or signature invalid
  kRootMismatch,        // checkpoint root differs from the entries' root
  kMissingEntries,      // checkpoint size beyond the entries supplied
  kTreeNodeMismatch,    // a stored tree node differs from the recomputed one
  kEquivocation,        // two signed roots for one size, or inconsistency
  kStoreInconsistent,   // store metadata disagrees with its contents
};

absl::string_view FindingKindName(FindingKind kind);
Severity DefaultSeverity(FindingKind kind);
absl::string_view SeverityName(Severity s);

struct Finding {
  FindingKind kind;
  Severity severity;
  std::string origin;
  int64_t index = -1;  // entry index or checkpoint size; -1 when none
  std::string detail;
};

struct LogVerifierOptions {
  std::string origin;
  // Keys trusted from outside the log (a bundle's keys file, peer config),
  // valid from the start of the log. Key records in the log (registration,
  // rotation, revocation) signed by a trusted key extend or limit this set.
  std::vector<NoteVerifier> trusted_keys;
  // Where signature checks run; nullptr verifies on the calling thread.
  ThreadPool* pool = nullptr;
  // Entries buffered before a parallel signature pass.
  size_t batch_size = 4096;
};

class LogVerifier {
 public:
  explicit LogVerifier(LogVerifierOptions options);
  ~LogVerifier();

  // Feeds the entry at `index`. Entries must come in increasing index order
  // starting at 0; a gap is reported as kMissingEntries.
  void AddEntry(uint64_t index, std::string body, std::string signature);

  // Feeds a signed checkpoint of this log (any order, any time). Its root is
  // checked when the entries reach its size; two different roots for one
  // size are kEquivocation.
  void AddCheckpoint(std::string note);

  // Verifies what is buffered and every pending checkpoint (those beyond the
  // entries fed become kMissingEntries) and returns all findings, sorted by
  // index. The verifier can not be fed after Finish.
  std::vector<Finding> Finish();

  // Progress, for progress bars.
  uint64_t entries_seen() const { return next_index_; }
  // Root and size of the entries fed so far (after Finish or a flush).
  Hash Root() const { return range_.Root(); }
  uint64_t size() const { return range_.size(); }
  // Leaf hash of entry i for i < size(), kept only when keep_leaf_hashes.
  // Every verifier key seen (trusted or learned from key records).
  std::vector<NoteVerifier> KnownKeys() const;

 private:
  struct Pending;
  struct KeyState;
  void Flush();
  void CheckCheckpointsAt(uint64_t size);
  void Report(FindingKind kind, int64_t index, std::string detail);

  LogVerifierOptions options_;
  uint64_t next_index_ = 0;
  Hash prev_hash_ = kZeroHash;
  CompactRange range_;
  std::vector<Pending> pending_;
  std::map<std::string, std::unique_ptr<KeyState>> keys_;
  // size -> (root, note) of checkpoints fed.
  std::multimap<uint64_t, std::pair<Hash, std::string>> checkpoints_;
  std::vector<Finding> findings_;
};

}  // namespace segledger

#endif  // SEGLEDGER_LEDGER_VERIFIER_H_
