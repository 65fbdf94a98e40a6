// Full verification of a LogStore from its key-value contents: every entry,
// signature, chain link and checkpoint through LogVerifier, plus every
// stored Merkle tree node recomputed from the entries and compared, and the
// store's layout (keys beyond the size, gaps, malformed keys).
//
// Reads only through KvStore (kv.h) and LogStore's public API, so it checks
// what is on disk, not what the store believes. Cost: one pass over the
// entries and checkpoints, one MultiGet per batch of tree nodes, one scan of
// the tree family.
//
// Thread-compatible: call it from one thread; it may run concurrently with
// appends, which it then reports as entries beyond the size it started with.
#ifndef SEGLEDGER_LEDGER_STORE_STORE_VERIFY_H_
#define SEGLEDGER_LEDGER_STORE_STORE_VERIFY_H_

#include <cstddef>
#include <vector>

#include "absl/status/statusor.h"
#include "ledger/note.h"
#include "ledger/store/log_store.h"
#include "ledger/thread_pool.h"
#include "ledger/verifier.h"

namespace segledger::store {

struct StoreVerifyOptions {
  // Keys trusted from the start of the log; empty: every key the store names
  // (LogStore::Verifiers()), which trusts rotated-in keys from the start.
  std::vector<NoteVerifier> trusted_keys;
  // Where signatures are checked; nullptr: the calling thread. Not owned.
  ThreadPool* pool = nullptr;
  // Entries per verification batch and tree nodes per MultiGet.
  size_t batch_size = 4096;
};

// Verifies `store` and returns every finding, sorted by index (entry index,
// checkpoint size, or the first leaf under a tree node). Tree nodes that
// differ or are missing are kTreeNodeMismatch; layout problems are
// kStoreInconsistent. Returns an error only when reading the store fails.
absl::StatusOr<std::vector<Finding>> VerifyLogStore(
    LogStore& store, const StoreVerifyOptions& options);

}  // namespace segledger::store

#endif  // SEGLEDGER_LEDGER_STORE_STORE_VERIFY_H_
