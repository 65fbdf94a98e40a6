// Streaming verification of one log: every signature (in parallel), every
// chain link, every index and origin, each checkpoint's root against the
// entries, and each key's validity at the entry's time. Reports findings
// instead of stopping at the first problem. Pure (no I/O): segaudit, the
// store's full check and the MAH follower feed it.
//
// Key validity (entry.proto key records): trusted keys are valid from the
// start. Key records count only when their entry is validly signed by a
// valid key. KeyRegistration adds a key for later entries within its
// valid_from / valid_until; KeyRotation at entry i (possession signature
// checked) retires the old key for entries after i and adds the new one;
// KeyRevocation makes entries recorded at or after effective_at and signed
// by that key findings, also entries before the revocation (so each key
// remembers the index and time of the entries it validly signed: 24 bytes
// per entry).
//
// Thread-compatible: one LogVerifier is driven by one thread; it fans
// parsing, hashing and signature checks out to the ThreadPool it was given.
// A full batch is handed to the pool and AddEntry returns once the batch
// before it has been checked in order (the feeding thread runs the serial
// checks while the pool verifies the next batch's signatures). Findings,
// and their order, do not depend on the pool.
#ifndef SEGLEDGER_LEDGER_VERIFIER_H_
#define SEGLEDGER_LEDGER_VERIFIER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "ledger/compact_range.h"
#include "ledger/hash.h"
#include "ledger/note.h"
#include "ledger/thread_pool.h"

namespace segledger {
namespace v1 {
class EntryBody;
}  // namespace v1

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
  // When set, called on the feeding thread in index order for every entry
  // that went through the in-order checks: its index, leaf hash and parsed
  // body (nullptr when the body does not parse; the callee may move from
  // it). Lets a caller use the verifier's parse and hash instead of its own.
  std::function<void(uint64_t index, const Hash& leaf, v1::EntryBody* body)>
      on_entry;
};

class LogVerifier {
 public:
  explicit LogVerifier(LogVerifierOptions options);
  ~LogVerifier();

  // Feeds the entry at `index` (its position in the log; the body's own
  // index is checked against it). Entries must come in increasing index
  // order starting at 0: a gap is reported as kMissingEntries (no root is
  // computed past it), an index already passed as kWrongIndex (the entry is
  // ignored). Work happens in batches of options.batch_size. The bytes are
  // copied into a slot of the batch, whose buffers are reused.
  void AddEntry(uint64_t index, absl::string_view body,
                absl::string_view signature);

  // Feeds a signed checkpoint of this log, in any order, but before the
  // entries fed pass its size: its root is taken when the entries reach its
  // size (a checkpoint fed later is reported as unchecked, severity
  // warning). Signatures are checked in Finish with every key known by
  // then. Unparseable notes are kBadCheckpoint at index -1; two different
  // validly signed roots for one size are one kEquivocation finding.
  void AddCheckpoint(std::string note);

  // Verifies what is buffered and every pending checkpoint (those beyond the
  // entries fed become kMissingEntries) and returns all findings, sorted by
  // index (stable). Feeding after Finish is ignored; calling it again
  // returns the same findings.
  std::vector<Finding> Finish();

  // Progress, for progress bars.
  uint64_t entries_seen() const { return next_index_; }
  // Root and size of the entries checked so far (after Finish or a flush;
  // they stop at a gap).
  Hash Root() const { return range_.Root(); }
  uint64_t size() const { return range_.size(); }
  // Every verifier key seen (trusted or learned from key records): one per
  // name in name order, then trusted keys that repeat a name.
  std::vector<NoteVerifier> KnownKeys() const;

 private:
  struct Pending;   // one buffered entry (slots reused across batches)
  struct KeyState;  // one signing key and its validity
  // The checkpoints claimed for one tree size.
  struct CheckpointGroup {
    std::vector<std::string> notes;  // as received
    bool have_root = false;          // the entries reached this size
    Hash entries_root{};             // their root at this size
  };

  // Entries fed and not yet checked; two alternate: one filling, one the
  // pool prepares.
  struct Batch {
    std::vector<Pending> items;  // slots reused across batches
    size_t count = 0;
    std::shared_ptr<ThreadPool::Job> job;  // its Prepare pass, if running
  };
  static constexpr size_t kPrepareBlock = 32;

  void StartPrepare(Batch& batch);
  void CompleteInFlight();
  void Complete(Batch& batch);
  void Flush();  // completes every entry fed
  void Prepare(Batch& batch, size_t begin, size_t end);
  void PrepareKeyRecord(Pending& p);
  void CheckInOrder(Pending& p);
  KeyState* ResolveKey(Pending& p);
  void VerifySignature(Pending& p);
  void ApplyKeyRecord(const Pending& p);
  void ApplyRegistration(const Pending& p);
  void ApplyRotation(const Pending& p);
  void ApplyRevocation(const Pending& p);
  void AddKey(const NoteVerifier& key);
  std::vector<NoteVerifier> CheckpointKeys() const;
  void RecordRoot();
  void ResolveCheckpoints();
  void Report(FindingKind kind, int64_t index, std::string detail);

  LogVerifierOptions options_;
  uint64_t next_index_ = 0;  // the index AddEntry expects next
  bool finished_ = false;
  bool tree_valid_ = true;      // false after a gap: no root beyond it
  bool chain_known_ = true;     // false for the first entry after a gap
  Hash prev_hash_ = kZeroHash;  // leaf hash of the last entry checked
  CompactRange range_;          // leaves of the entries checked so far
  TreeHasher hasher_;           // range_'s hashing, by the feeding thread
  Batch batches_[2];
  int filling_ = 0;             // batches_[filling_] takes new entries
  Batch* in_flight_ = nullptr;  // prepared by the pool, not yet completed
  // Written only by the feeding thread (AddKey, under the writer lock);
  // read by the pool in Prepare under the reader lock. Hashed: a log may
  // register a key per entry (KeyState pointers stay valid, the map's
  // iterators do not across AddKey).
  absl::Mutex keys_mu_;
  absl::flat_hash_map<std::string, std::unique_ptr<KeyState>> keys_;
  // Trusted keys whose name repeats a known one with another public key:
  // usable for checkpoints only (entries name their key by name).
  std::vector<NoteVerifier> extra_keys_;
  std::map<uint64_t, CheckpointGroup> checkpoints_;
  uint64_t next_checkpoint_size_ = UINT64_MAX;  // smallest size not reached
  std::vector<Finding> findings_;
};

}  // namespace segledger

#endif  // SEGLEDGER_LEDGER_VERIFIER_H_
