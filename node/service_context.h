// What the node's services share: the store, the authoriser, metrics, the
// watch hub, worker pools for the few blocking admin calls and for
// queries, and the
// draining flag set at shutdown. Owned by Node; every pointer outlives the
// gRPC server. Thread-safe (members are thread-safe or immutable).
#ifndef SEGLEDGER_NODE_SERVICE_CONTEXT_H_
#define SEGLEDGER_NODE_SERVICE_CONTEXT_H_

#include <atomic>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/server_context.h"
#include "ledger/store/log_store.h"
#include "ledger/thread_pool.h"
#include "node/authz.h"
#include "node/metrics.h"

namespace segledger::node {

class WatchHub;
class PeerLayer;

struct ServiceContext {
  store::LogStore* store = nullptr;
  const Authorizer* authz = nullptr;
  Metrics* metrics = nullptr;
  WatchHub* hub = nullptr;
  PeerLayer* peers = nullptr;      // cross-site layer (always set by Node)
  ThreadPool* blocking = nullptr;  // runs RotateKey, Backup, CheckpointNow
  ThreadPool* queries = nullptr;   // runs QueryService calls
  uint32_t max_queries = 0;        // queued or running at once (0: no cap)
  std::string data_dir;            // the node's data directory
  std::string key_dir;             // where RotateKey writes new key files
  uint32_t stream_window = 1024;   // unacked records per append stream
  uint32_t checkpoints_per_read = 1024;  // ListCheckpoints' chunk (0: 1)
  absl::Time started = absl::Now();
  std::atomic<bool> draining{false};

  // Counts the RPC, refuses it while draining (UNAVAILABLE), then checks
  // the caller's authorisation. Every handler starts with this.
  absl::StatusOr<Caller> Admit(const grpc::ServerContextBase& ctx, Rpc rpc) {
    metrics->rpcs_total.fetch_add(1, std::memory_order_relaxed);
    if (draining.load()) {
      return absl::UnavailableError("node is shutting down");
    }
    absl::StatusOr<Caller> caller = authz->Check(ctx, rpc);
    if (absl::IsPermissionDenied(caller.status())) {
      metrics->permission_denied_total.fetch_add(1);
    }
    return caller;
  }
};

}  // namespace segledger::node

#endif  // SEGLEDGER_NODE_SERVICE_CONTEXT_H_
