// GraphCache: the DomainGraph of every log a node holds verified (its own,
// the followed copies and the hand-off evidence), built once and shared by
// the queries that need it while what it was built from is unchanged.
//
// Building that graph is O(all entries held); a node that follows other
// logs answers every lot query and every findings query from it, so
// building it per call let one client (or N concurrent ones) cost the node
// N full loads. The graph is keyed by its inputs: the own log's size and
// the PeerStore's generation (which moves after every write of followed
// entries or evidence, the only rows LoadVerifiedLogs reads). A query reads
// the key before loading, so a graph is never older than its key; a graph
// that saw a little more than its key only makes the next query rebuild.
//
// Thread-safe. One caller builds; callers that arrive meanwhile wait for
// that build instead of starting their own. DomainGraph's queries are const
// and touch no mutable state (graph.h), so any number of threads query the
// shared graph at once.
#ifndef SEGLEDGER_NODE_GRAPH_CACHE_H_
#define SEGLEDGER_NODE_GRAPH_CACHE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "ledger/domain/graph.h"
#include "ledger/peers/peer_store.h"
#include "ledger/store/log_store.h"

namespace segledger::node {

class GraphCache {
 public:
  // `log`, `peers` (nullptr: none) and `builds` (counts every build, e.g.
  // a metric; nullptr: none) must outlive the cache.
  GraphCache(const store::LogStore* log, const peers::PeerStore* peers,
             std::atomic<uint64_t>* builds = nullptr)
      : log_(log), peers_(peers), builds_(builds) {}

  // The graph of every verified log, as of at least the moment of the call.
  // Errors are the loaders' (DATA_LOSS for a row that does not parse); a
  // failed build is not cached.
  absl::StatusOr<std::shared_ptr<const domain::DomainGraph>> Get();

  // Tests only, before any Get: called as a build starts (outside the
  // lock) and as a caller starts waiting for another's build (under it;
  // must not call back into the cache).
  struct TestHooks {
    std::function<void()> on_build;
    std::function<void()> on_wait;
  };
  void SetTestHooks(TestHooks hooks) { hooks_ = std::move(hooks); }

 private:
  struct Inputs {
    uint64_t log_size = 0;
    uint64_t peer_generation = 0;
    // True when a graph built from these inputs reflects at least `o`.
    bool Covers(const Inputs& o) const {
      return log_size >= o.log_size && peer_generation >= o.peer_generation;
    }
  };
  Inputs Current() const;
  absl::StatusOr<std::shared_ptr<const domain::DomainGraph>> Build() const;

  const store::LogStore* const log_;
  const peers::PeerStore* const peers_;
  std::atomic<uint64_t>* const builds_;
  TestHooks hooks_;
  absl::Mutex mu_;
  bool building_ ABSL_GUARDED_BY(mu_) = false;
  std::shared_ptr<const domain::DomainGraph> graph_ ABSL_GUARDED_BY(mu_);
  Inputs built_from_ ABSL_GUARDED_BY(mu_);
};

}  // namespace segledger::node

#endif  // SEGLEDGER_NODE_GRAPH_CACHE_H_
