// Private state of LogStore, shared by log_store.cc (public API, reads),
// group_commit.cc (the write path) and log_store_check.cc (open checks).
//
// Thread-safety: `mu` guards the writer queue, the in-flight list and
// lifecycle flags. The CommitState is touched only by the current build
// leader (`building` set under mu, one at a time; group_commit.cc) and, for
// a key rotation, by the sync thread while no build runs. Readers use the
// atomic `size` and `read_mu`-guarded fields, published by the sync thread
// after each durable write.
#ifndef SEGLEDGER_LEDGER_STORE_LOG_STORE_IMPL_H_
#define SEGLEDGER_LEDGER_STORE_LOG_STORE_IMPL_H_

#include <atomic>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "ledger/compact_range.h"
#include "ledger/merkle.h"
#include "ledger/store/index_txn.h"
#include "ledger/store/log_store.h"
#include "ledger/store/tree_cache.h"
#include "ledger/thread_pool.h"

namespace segledger::store {

// One queued request (LevelDB's DBImpl::Writer).
struct Writer {
  enum class Kind { kRecords, kCheckpoint, kRotate, kClose };
  Kind kind = Kind::kRecords;
  std::vector<AppendRecord> records;
  std::shared_ptr<const NoteSigner> next_key;  // kRotate
  std::string rotate_reason;                   // kRotate
  LogStore::AppendCallback callback;           // set for AppendAsync
  // Outputs, valid once `done`.
  bool done = false;
  absl::Status status;
  // Set with a failed `status` when the writer's entries were in a synced
  // write that failed: they may be durable all the same (kv.h).
  bool maybe_written = false;
  std::vector<AppendResult> results;
  std::string checkpoint;  // kCheckpoint / kClose: latest note
};

// Build-leader-owned state of the log's right edge after every built group
// (in-flight ones included: ahead of what is durable while the pipeline is
// busy).
struct CommitState {
  CompactRange range;
  Hash last_leaf = kZeroHash;
  uint64_t last_checkpoint_size = 0;
  std::shared_ptr<const NoteSigner> current;
};

struct BuiltGroup;  // group_build.h

struct LogStore::Impl {
  LogStoreOptions options;
  std::unique_ptr<KvStore> kv;
  std::unique_ptr<TreeCache> tree_cache;  // after kv: destroyed before it
  const Clock* clock = nullptr;
  std::map<std::string, std::shared_ptr<const NoteSigner>> signers;
  std::unique_ptr<ThreadPool> pool;

  absl::Mutex mu;
  std::deque<Writer*> writers ABSL_GUARDED_BY(mu);
  bool closed ABSL_GUARDED_BY(mu) = false;
  bool stopping ABSL_GUARDED_BY(mu) = false;
  absl::Status bg_error ABSL_GUARDED_BY(mu);
  bool building ABSL_GUARDED_BY(mu) = false;  // a leader builds a group
  // Built groups whose synced write is pending, in commit order; the sync
  // thread writes all it finds there in one batch.
  std::deque<std::shared_ptr<BuiltGroup>> in_flight ABSL_GUARDED_BY(mu);
  // How many of in_flight's front groups the sync thread is writing.
  size_t syncing ABSL_GUARDED_BY(mu) = 0;
  bool sync_stop ABSL_GUARDED_BY(mu) = false;

  CommitState state;         // build leader only (see above)
  IndexRowCache index_rows;  // build leader only (index_txn.h)

  std::atomic<uint64_t> size{0};
  mutable absl::Mutex read_mu;
  std::string latest_checkpoint ABSL_GUARDED_BY(read_mu);
  std::vector<NoteVerifier> verifiers ABSL_GUARDED_BY(read_mu);
  std::string current_key_name ABSL_GUARDED_BY(read_mu);

  std::thread committer;     // leads groups whose front writer is async
  std::thread syncer;        // writes built groups in order, fans out
  std::thread checkpointer;  // options.checkpoint_interval

  ~Impl();

  // --- group_commit.cc ---
  // Queues `w` and returns once it is done (leading a group if it reaches
  // the front). UNAVAILABLE after Close (except for the close writer).
  void Run(Writer* w);
  // Queues a heap writer whose callback runs on the committing thread.
  void RunAsync(std::unique_ptr<Writer> w);
  void StartThreads();
  void StopThreads();

  // --- log_store.cc (reads) ---
  // Hashes of `ids` from the tree family; DATA_LOSS naming a missing node.
  absl::StatusOr<std::vector<Hash>> FetchNodes(
      const std::vector<NodeId>& ids) const;
  absl::StatusOr<Hash> RootAtUnchecked(uint64_t size) const;

  // --- log_store_proofs.cc ---
  // FetchNodes, except that leaves sharing an aligned run of 16 are read
  // with one iterator over the run rather than one lookup each.
  absl::StatusOr<std::vector<Hash>> FetchLeafRuns(
      const std::vector<NodeId>& ids) const;
  // Hashes of a proof's `ids`: upper levels from tree_cache, levels 1..3
  // hashed from their stored leaves, the rest (and every miss) from the
  // tree family (FetchLeafRuns). DATA_LOSS naming a missing node or leaf.
  // `hasher` is the caller's (one proof's, one thread).
  absl::StatusOr<std::vector<Hash>> FetchProofNodes(
      const std::vector<NodeId>& ids, TreeHasher& hasher) const;
  std::vector<NoteVerifier> VerifiersCopy() const;

  // --- log_store_check.cc ---
  // Checks per options.open_check; DATA_LOSS naming the index.
  absl::Status CheckStore(uint64_t size);

 private:
  bool CanLeadLocked(const Writer* w) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu);
  void LeadLocked(Writer* front) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu);
  std::vector<Writer*> TakeGroupLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu);
  void FinishLocked(const std::vector<Writer*>& group)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu);
  absl::Status CommitCheckpoint(Writer* w);
  // Writes `groups` (consecutive, oldest first) in one synced batch and
  // sets their writers' results; the fatal error for later groups, if any.
  absl::Status WriteBuilt(
      const std::vector<std::shared_ptr<BuiltGroup>>& groups,
      const absl::Status& bg);
  void CommitterLoop();
  void SyncerLoop();
  void CheckpointerLoop();
};

}  // namespace segledger::store

#endif  // SEGLEDGER_LEDGER_STORE_LOG_STORE_IMPL_H_
