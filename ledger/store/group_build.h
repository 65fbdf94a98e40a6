// The first stage of LogStore's pipelined group commit (group_commit.cc):
// building one group - bodies in index order with prev_hash chaining and the
// AppendHook, Ed25519 signatures on the pool while later records are still
// being built, and the contents of the group's ONE synced batch.
//
// A group may be built while the groups before it still wait for their
// synced write ("in flight"): its hook reads and idempotency lookups see
// their index rows and leaves through the in-flight list, exactly as if
// they were committed. If one of them then fails, the group commit fails
// every later group (group_commit.cc), so nothing built on it is written.
//
// Thread-compatible: used by the build leader only (one at a time); the
// signing fans out to the store's ThreadPool internally.
#ifndef SEGLEDGER_LEDGER_STORE_GROUP_BUILD_H_
#define SEGLEDGER_LEDGER_STORE_GROUP_BUILD_H_

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "ledger/compact_range.h"
#include "ledger/hash.h"
#include "ledger/store/index_txn.h"
#include "ledger/store/kv.h"
#include "ledger/store/log_store_impl.h"

namespace segledger::store {

// One entry of a group: its body bytes (as signed and hashed), leaf hash,
// index and signature.
struct Pending {
  std::string body;
  Hash leaf{};
  uint64_t index = 0;
  std::string signature;
};

// A built group, from its build until its synced write returned.
struct BuiltGroup {
  std::vector<Writer*> writers;  // the queue's prefix, in order
  uint64_t base = 0;             // index of pending[0]
  std::deque<Pending> pending;   // deque: addresses stay put while signed
  IndexOverlay overlay;          // the group's index writes
  KvBatch batch;                 // entries, tree, index, checkpoint, meta
  CompactRange range;            // the right edge after the group
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
// after every group of `in_flight`. Sets each writer's status and results;
// a refused request is dropped and later requests are renumbered. Returns
// an error (every accepted writer failed, nothing to write) when signing
// fails. Requires the caller to be the only builder.
absl::Status BuildGroup(LogStore::Impl& impl, const InFlight& in_flight,
                        absl::Time now, BuiltGroup& g);

// Sets `s` on every writer of `group` still OK (a group-wide failure).
void FailAccepted(const std::vector<Writer*>& group, const absl::Status& s);

}  // namespace segledger::store

#endif  // SEGLEDGER_LEDGER_STORE_GROUP_BUILD_H_
