// LogStore: one party's append-only, signed, hash-chained log over a KvStore,
// with LevelDB-style group commit, pipelined in three stages.
//
// Append path (DBImpl::Write shape, group_commit.cc): each caller's request
// becomes a Writer queued under mu_, after the hook's stateless Precheck ran
// in the caller's thread. The front writer leads a BUILD: it collects
// waiting writers up to a record cap and - without holding mu_ - builds
// bodies in index order (chaining prev_hash), runs the AppendHook per
// record, and hands each accepted entry to the ThreadPool to be SIGNED. The
// built group (tree nodes, index rows, checkpoint when due, meta) joins the
// in-flight list without waiting for its signatures, and the next front
// writer may build the next group at once. The store's sync thread takes
// every group in flight, finishes their signatures, and writes them with
// their entries in ONE synced batch. Synced writes happen strictly in group
// order; results fan out to every writer of a group only after the write
// holding it returned (replays and refusals included), so nothing is
// acknowledged before it is durable. A group is built on the in-flight
// groups' index rows and leaves as if they were committed; a failed synced
// write therefore fails that group and every later one, built or not
// (every later append fails).
// Checkpoints, key rotation and Close wait for the in-flight list to drain.
//
// Idempotency: a record whose request_id was appended before returns the
// original index and leaf hash and appends nothing (also within one group,
// and against groups in flight).
//
// Index family key space: "r/<request_id>" is reserved for idempotency;
// hooks own every other prefix.
//
// Thread-safe: Append/AppendAsync/reads may be called from any thread.
#ifndef SEGLEDGER_LEDGER_STORE_LOG_STORE_H_
#define SEGLEDGER_LEDGER_STORE_LOG_STORE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "ledger/clock.h"
#include "ledger/hash.h"
#include "ledger/note.h"
#include "ledger/store/kv.h"
#include "ledger/tiles.h"
#include "segledger/v1/entry.pb.h"

namespace segledger::store {

// Read/write view of the index family for hooks during a commit: reads see
// committed state overlaid with earlier records of the same group and of the
// same request. Writes land in the group's synced batch, or are dropped if
// the request is refused.
class IndexTxn {
 public:
  virtual ~IndexTxn() = default;
  // NOT_FOUND when absent.
  virtual absl::StatusOr<std::string> Get(absl::string_view key) = 0;
  virtual void Put(absl::string_view key, absl::string_view value) = 0;
  virtual void Delete(absl::string_view key) = 0;
  // Visits keys starting with `prefix` in order (overlay merged) until fn
  // returns false.
  virtual absl::Status ScanPrefix(
      absl::string_view prefix,
      const std::function<bool(absl::string_view, absl::string_view)>& fn) = 0;
  // The leaf hash of this log's entry `index`, which precedes the record
  // being appended (committed, in flight, or earlier in the group or the
  // request); OUT_OF_RANGE for the record's own index or later.
  // UNIMPLEMENTED when the txn cannot tell: the default, for views of the
  // index family alone. The store's txn always can, from the
  // tree it keeps anyway, so hooks need no index row per entry for it.
  virtual absl::StatusOr<Hash> LeafHash(uint64_t index);
};

// What answers IndexTxn::LeafHash for a txn that is given one.
using LeafLookup = std::function<absl::StatusOr<Hash>(uint64_t index)>;

struct AppendRecord;

// Domain rules and indexes plug in here (issue: domain model).
class AppendHook {
 public:
  virtual ~AppendHook() = default;
  // Called by the commit leader, one record at a time in index order, with
  // the complete body (index, prev_hash, recorded_at, key_name set) before
  // signing. A non-OK status refuses the whole request that record belongs
  // to: nothing of it is written, its index rows are dropped, and later
  // requests of the group are renumbered. Must not block.
  virtual absl::Status OnAppend(const v1::EntryBody& body, IndexTxn& txn) = 0;

  // Checks of one record that read no state, called in the appending
  // thread before the request is queued (so they run in parallel, outside
  // the leader). A non-OK status refuses the request before it is queued.
  // Must be thread-safe. Default: no checks.
  virtual absl::Status Precheck(const AppendRecord& record) const;

  // What the store calls in the leader, for a record whose Precheck passed:
  // OnAppend by default; a hook whose Precheck repeats part of OnAppend
  // overrides this to skip that part.
  virtual absl::Status OnPrecheckedAppend(const v1::EntryBody& body,
                                          IndexTxn& txn) {
    return OnAppend(body, txn);
  }
};

struct LogStoreOptions {
  std::string origin;            // required
  const Clock* clock = nullptr;  // nullptr: SystemClock
  // Sign a checkpoint in the same batch once the log has grown this many
  // entries past the last checkpoint...
  uint64_t checkpoint_every = 1024;
  // ...and from a background thread whenever the log has grown and this
  // long has passed (zero disables the thread).
  absl::Duration checkpoint_interval = absl::Milliseconds(1000);
  size_t max_group_records = 8192;  // group commit cap
  size_t signing_threads = 0;  // pool workers + the sync thread; 0: all cores
  bool sync = true;            // false only in benchmarks' ceilings
  enum class OpenCheck { kTail, kFull };
  OpenCheck open_check = OpenCheck::kTail;
  uint64_t tail_entries = 1024;  // entries checked by kTail
  AppendHook* hook = nullptr;    // not owned; outlives the store
  // Bound on the in-memory cache of upper tree levels used by proofs
  // (tree_cache.h; warmed in the background after open); 0 disables it.
  size_t tree_cache_bytes = size_t{64} << 20;
};

// One record to append.
struct AppendRecord {
  v1::Actor actor;
  std::string request_id;  // empty: no idempotency
  v1::Record record;
};

struct AppendResult {
  uint64_t index = 0;
  Hash leaf_hash{};
  bool replayed = false;  // answered from an earlier append (same request_id)
};

// `s`, an error about record `i` of an append request of `n` records,
// prefixed "records[i]: " when n > 1, so that the caller of a
// multi-record request learns which record was refused.
absl::Status WithRecordIndex(const absl::Status& s, size_t i, size_t n);

// True when `s`, an error of LogStore::RotateKey, is one of the refusals
// decided before any write (INVALID_ARGUMENT, ALREADY_EXISTS,
// FAILED_PRECONDITION, PERMISSION_DENIED): nothing of the rotation was
// written, nor ever will be. RotateKey reports a failed synced write of
// the rotation with none of these codes.
bool RotateKeyWroteNothing(const absl::Status& s);

class LogStore {
 public:
  // Opens (or creates, when the kv is empty) the log. `signers` are the
  // private keys the node holds; on a new log the first becomes current,
  // afterwards meta names the current one (FAILED_PRECONDITION if its key is
  // missing). Checks the store per options.open_check and refuses an
  // inconsistent store (DATA_LOSS naming the index and what is wrong).
  static absl::StatusOr<std::unique_ptr<LogStore>> Open(
      std::unique_ptr<KvStore> kv,
      std::vector<std::shared_ptr<const NoteSigner>> signers,
      LogStoreOptions options);

  // Stops the background checkpointer. Call Close() first for a final
  // checkpoint.
  ~LogStore();

  // Waits for in-flight appends, writes a final checkpoint if the log grew,
  // and refuses further appends (UNAVAILABLE).
  absl::Status Close();

  // Appends `records` atomically (contiguous indexes, one synced batch) and
  // returns one result per record. INVALID_ARGUMENT for an empty request or a
  // body over 65,535 bytes; hook errors as returned by the hook (Precheck's
  // before the request is queued); UNAVAILABLE after Close. A refusal
  // (validation, the hook) writes nothing of the request. Other errors may
  // come from a synced write that failed: then the request may be durable
  // all the same and appear after a reopen (kv.h); retry it with the same
  // request ids.
  absl::StatusOr<std::vector<AppendResult>> Append(
      std::vector<AppendRecord> records);

  // As Append, but returns at once; `done` runs on the committing thread
  // after the synced write and must not block. A request refused before it
  // is queued (Precheck, closed store) runs `done` on the caller's thread
  // before AppendAsync returns.
  using AppendCallback =
      std::function<void(absl::StatusOr<std::vector<AppendResult>>)>;
  void AppendAsync(std::vector<AppendRecord> records, AppendCallback done);

  // Key rotation: appends a KeyRotation record (signed by the current key,
  // carrying `next`'s possession signature) and makes `next` current for
  // every later entry. The caller must have saved `next`'s key file first,
  // and may remove it again only after an error for which
  // RotateKeyWroteNothing is true: any other error may follow a synced
  // write that failed, after which the rotation may be durable (kv.h) and
  // the log need `next` when reopened. ALREADY_EXISTS when the log has used
  // `next`'s name; INVALID_ARGUMENT for no key or a reason that makes the
  // entry too large; hook refusals as the hook returns them.
  absl::StatusOr<AppendResult> RotateKey(std::shared_ptr<const NoteSigner> next,
                                         v1::Actor actor, std::string reason);

  // Signs a checkpoint at the current size if the latest is older, and
  // returns the latest signed checkpoint.
  absl::StatusOr<std::string> CheckpointNow();

  const std::string& origin() const;
  uint64_t Size() const;
  // Latest signed checkpoint note (NOT_FOUND while none exists).
  absl::StatusOr<std::string> LatestCheckpoint() const;
  // The checkpoint signed at exactly `size` (NOT_FOUND if none).
  absl::StatusOr<std::string> CheckpointAt(uint64_t size) const;
  // Every stored checkpoint of size >= from_size, in size order, until fn
  // returns false (a seek: the checkpoints below from_size are not read).
  absl::Status ScanCheckpoints(
      uint64_t from_size,
      const std::function<bool(uint64_t, absl::string_view)>& fn) const;
  absl::Status ScanCheckpoints(
      const std::function<bool(uint64_t, absl::string_view)>& fn) const {
    return ScanCheckpoints(0, fn);
  }

  // OUT_OF_RANGE beyond Size().
  absl::StatusOr<v1::SignedEntry> GetEntry(uint64_t index) const;
  // Entries [from, to) in order until fn returns false.
  absl::Status ScanEntries(
      uint64_t from, uint64_t to,
      const std::function<bool(uint64_t, const v1::SignedEntry&)>& fn) const;
  absl::StatusOr<Hash> LeafHashAt(uint64_t index) const;
  // Index of an earlier append with this request id (NOT_FOUND if none).
  absl::StatusOr<uint64_t> LookupRequest(absl::string_view request_id) const;

  // Root of the first `size` leaves (size <= Size()); O(log n) reads.
  absl::StatusOr<Hash> RootAt(uint64_t size) const;
  absl::StatusOr<std::vector<Hash>> InclusionProof(uint64_t index,
                                                   uint64_t size) const;
  absl::StatusOr<std::vector<Hash>> ConsistencyProof(uint64_t old_size,
                                                     uint64_t size) const;

  // The in-memory cache of upper tree levels that proofs read
  // (tree_cache.h): waits for the warm-up started by Open, then reports it.
  struct ProofCacheStats {
    int min_level = 0;   // lowest level cached
    uint64_t nodes = 0;  // hashes held
    size_t bytes = 0;    // memory allocated for them
  };
  ProofCacheStats WaitProofCacheWarm() const;

  // Export format: a hash tile (concatenated 32-byte hashes), an entry bundle
  // (uint16 BE length || body, per entry) or a signature bundle (64-byte
  // signatures), for tile.width leaves of the tile. OUT_OF_RANGE when the
  // tile reaches beyond Size().
  absl::StatusOr<std::string> ReadHashTile(const TileId& tile) const;
  absl::StatusOr<std::string> ReadEntryBundle(const TileId& tile) const;
  absl::StatusOr<std::string> ReadSignatureBundle(const TileId& tile) const;

  // Verifier keys of every key this log has used (current and retired).
  std::vector<NoteVerifier> Verifiers() const;
  std::string CurrentKeyName() const;
  // The key that signs new entries and checkpoints (it changes at a
  // rotation); the node cosigns peers' checkpoints with it.
  std::shared_ptr<const NoteSigner> CurrentSigner() const;

  // The underlying kv, for the node's peer evidence and queries (reads of
  // the index family; writes outside the index family only).
  KvStore& kv();

  // Opaque state, defined in the store's private log_store_impl.h (public
  // only so the store's own helper files can name it).
  struct Impl;

 private:
  explicit LogStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace segledger::store

#endif  // SEGLEDGER_LEDGER_STORE_LOG_STORE_H_
