// The first stage of LogStore's pipelined group commit (group_commit.cc):
// building one group - bodies in index order with prev_hash chaining and the
// AppendHook, the tree nodes, index rows, checkpoint and meta of the
// group's synced batch - and handing its entries' Ed25519 signatures to the
// pool. The builder does not wait for them: the chain links leaf hashes,
// not signatures, so the next group can be built while this one is signed.
// The sync stage finishes the signing (taking part itself) and adds the
// signed entries to the batch just before the write (FinishEntries).
//
// A group may be built while the groups before it still wait for their
// synced write ("in flight"): its hook reads and idempotency lookups see
// their index rows and leaves through the in-flight list, exactly as if
// they were committed. If one of them then fails, the group commit fails
// every later group (group_commit.cc), so nothing built on it is written.
//
// Thread-compatible: BuildGroup is called by the build leader only (one at
// a time), FinishEntries by the sync thread; the signing fans out to the
// store's ThreadPool internally.
#ifndef SEGLEDGER_LEDGER_STORE_GROUP_BUILD_H_
#define SEGLEDGER_LEDGER_STORE_GROUP_BUILD_H_

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "ledger/compact_range.h"
#include "ledger/hash.h"
#include "ledger/store/index_txn.h"
#include "ledger/store/kv.h"
#include "ledger/store/log_store_impl.h"
#include "ledger/thread_pool.h"

namespace segledger::store {

// One entry of a group: its body bytes (as signed and hashed), leaf hash,
// index and signature.
struct Pending {
  std::string body;
  Hash leaf{};
  uint64_t index = 0;
  std::string signature;
};

// Signs entries on the pool as they are added, so the workers sign accepted
// requests while the leader still chains and runs the hook on later ones,
// and while later groups are built. Thread-safe; Finish() must be called
// before the entries are read.
class StreamingSigner {
 public:
  StreamingSigner(ThreadPool& pool, const NoteSigner& signer)
      : pool_(pool), signer_(signer) {}
  ~StreamingSigner() { Finish().IgnoreError(); }
  StreamingSigner(const StreamingSigner&) = delete;
  StreamingSigner& operator=(const StreamingSigner&) = delete;

  // `p` must stay at its address until Finish() returned.
  void Add(Pending* p);
  // Signs what is left on the caller's thread too, waits for the workers
  // and returns the first signing error.
  absl::Status Finish();

 private:
  void Drain(bool worker);

  ThreadPool& pool_;
  const NoteSigner& signer_;
  absl::Mutex mu_;
  std::deque<Pending*> queue_ ABSL_GUARDED_BY(mu_);
  size_t tasks_ ABSL_GUARDED_BY(mu_) = 0;  // scheduled Drains not returned
  absl::Status error_ ABSL_GUARDED_BY(mu_);
};

// A built group, from its build until its synced write returned.
struct BuiltGroup {
  std::vector<Writer*> writers;  // the queue's prefix, in order
  uint64_t base = 0;             // index of pending[0]
  std::deque<Pending> pending;   // deque: addresses stay put while signed
  IndexOverlay overlay;          // the group's index writes
  // Tree, index, checkpoint and meta from the build; the entries are added
  // by FinishEntries once signed.
  KvBatch batch;
  std::shared_ptr<const NoteSigner> signer;  // signs `pending`
  // Declared after `pending` and `signer`: destroyed (and finished) first.
  std::unique_ptr<StreamingSigner> signing;
  // Position in `writers` of the first request that appended an entry (a
  // replay appends nothing), or writers.size() when none did. The hook of
  // every later request read its rows and leaves through the group's
  // overlay (BuildGroup), so later refusals may rest on them.
  size_t first_append = 0;
  CompactRange range;  // the right edge after the group
  Hash last_leaf = kZeroHash;
  std::string note;            // checkpoint signed into `batch`, or empty
  Writer* rotation = nullptr;  // an accepted rotation writer (alone)
  // True when `batch` must be written; false when every writer was refused
  // or replayed (its results still wait for the earlier groups' writes).
  bool write = false;
};

// Groups built but not yet durable, oldest first.
using InFlight = std::vector<std::shared_ptr<const BuiltGroup>>;

// Builds `g` (whose `writers` are set) on top of impl.state, the right edge
// after every group of `in_flight`, and advances impl.state past it. Sets
// each writer's status and results; a refused request is dropped and later
// requests are renumbered. The entries' signatures are still being made
// when it returns. Returns an error (the group failed per FailUnwritten,
// nothing to write, the right edge unchanged) when the due checkpoint
// cannot be signed. Requires the caller to be the only builder.
absl::Status BuildGroup(LogStore::Impl& impl, const InFlight& in_flight,
                        absl::Time now, BuiltGroup& g);

// Waits for (and helps make) the signatures of a group that must be written
// and adds its signed entries to its batch. An error means an entry could
// not be signed: the group must not be written, nor anything built on it.
absl::Status FinishEntries(BuiltGroup& g);

// Fails a group that will not be written, built on durable state (the
// groups before it are written or were failed as a whole): sets `s` on every
// writer still OK and on every refusal after g.first_append, which may
// have been judged on that request's rows, leaves or indexes. Refusals
// before it were judged on durable state alone and stand.
void FailUnwritten(BuiltGroup& g, const absl::Status& s);

}  // namespace segledger::store

#endif  // SEGLEDGER_LEDGER_STORE_GROUP_BUILD_H_
