// Node: one party's segledgerd - the store, the gRPC server with every
// service (plus grpc.health.v1 and reflection), the metrics endpoint, and
// graceful shutdown.
//
// Thread-safe: Shutdown may be called from any thread (once or more).
#ifndef SEGLEDGER_NODE_NODE_H_
#define SEGLEDGER_NODE_NODE_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/server.h"
#include "ledger/store/log_store.h"
#include "ledger/thread_pool.h"
#include "node/service_context.h"
#include "segledger/v1/admin_service.pb.h"

namespace segledger::domain {
class Evidence;
}  // namespace segledger::domain

namespace segledger::node {

class AppendServiceImpl;
class ReadServiceImpl;
class ProofServiceImpl;
class WatchServiceImpl;
class AdminServiceImpl;
class WatchHub;
class MetricsServer;
class DomainParts;
class PeerLayer;
class PeerServiceImpl;

struct NodeOptions {
  // Grace period for in-flight calls at shutdown; later they are cancelled
  // (appends already handed to the store still complete).
  absl::Duration shutdown_grace = absl::Seconds(5);
  absl::Duration watch_poll = absl::Milliseconds(100);
  // Streams (calls) one client connection may have open at once
  // (HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS); the client queues more.
  // Above the 64 calls segbench and the tests keep in flight on one
  // channel. 0: gRPC's default (unlimited).
  uint32_t max_concurrent_streams = 256;
  // Memory gRPC may use for the server's transports (its ResourceQuota):
  // under pressure gRPC shrinks read buffers and flow-control windows
  // rather than grow. 0: unbounded.
  uint64_t grpc_memory_bytes = uint64_t{512} << 20;
  // Checkpoints ListCheckpoints reads from the store per chunk (its
  // memory per call); tests lower it to cross chunk boundaries.
  uint32_t checkpoints_per_read = 1024;
  // QueryService calls (graph loads, traces, findings over every log the
  // node holds) run on this many threads of their own, never on gRPC's:
  // a findings call over a million entries takes seconds, and gRPC's
  // threads also serve appends. 0: on the calling gRPC thread (tests).
  uint32_t query_threads = 2;
  // Queries queued or running at once; the next one is refused with
  // RESOURCE_EXHAUSTED. 0: no limit.
  uint32_t max_queries = 64;
  // Fault injection (tests): when set, the store runs over what this
  // returns for the opened RocksDB kv (a decorator owning it).
  std::function<std::unique_ptr<store::KvStore>(
      std::unique_ptr<store::KvStore>)>
      wrap_kv;
  // Tests: the evidence the domain rules read instead of the peer layer's
  // (not owned; must outlive the node). nullptr: the peer layer's.
  domain::Evidence* evidence = nullptr;
};

class Node {
 public:
  // Opens DIR's store with its keys and serves on config.listen. The
  // config must name data_dir and listen; origin comes from DIR's
  // node.textproto unless set. INVALID_ARGUMENT naming the field.
  static absl::StatusOr<std::unique_ptr<Node>> Start(
      const v1::NodeConfig& config, NodeOptions options = {});

  ~Node();  // Shutdown()

  // The bound HOST:PORT (the real port when config.listen asked for 0).
  const std::string& address() const { return address_; }
  // Metrics port (0 when off).
  int metrics_port() const;

  // Stops accepting, ends watches, finishes in-flight appends, writes a
  // final checkpoint and closes the store. Idempotent; returns the
  // store's close status.
  absl::Status Shutdown();

  store::LogStore& store() { return *store_; }
  PeerLayer& peers() { return *peers_; }
  const Metrics& metrics() const { return metrics_; }

 private:
  Node();
  absl::Status Open(const v1::NodeConfig& config, NodeOptions options);
  absl::Status BuildServer(const v1::NodeConfig& config);

  NodeOptions options_;
  std::unique_ptr<PeerLayer> peers_;
  std::unique_ptr<DomainParts> domain_;
  std::unique_ptr<store::LogStore> store_;
  std::unique_ptr<Authorizer> authz_;
  Metrics metrics_;
  std::unique_ptr<WatchHub> hub_;
  std::unique_ptr<ThreadPool> blocking_;
  std::unique_ptr<ThreadPool> queries_;  // QueryService calls
  ServiceContext ctx_;
  std::unique_ptr<AppendServiceImpl> append_;
  std::unique_ptr<ReadServiceImpl> read_;
  std::unique_ptr<ProofServiceImpl> proof_;
  std::unique_ptr<WatchServiceImpl> watch_;
  std::unique_ptr<AdminServiceImpl> admin_;
  std::unique_ptr<PeerServiceImpl> peer_service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<MetricsServer> metrics_server_;
  std::string address_;
  absl::Mutex shutdown_mu_;
  bool shut_down_ ABSL_GUARDED_BY(shutdown_mu_) = false;
  bool serving_ = false;  // set by Open once serving, before Start returns
  absl::Status close_status_ ABSL_GUARDED_BY(shutdown_mu_);
};

}  // namespace segledger::node

#endif  // SEGLEDGER_NODE_NODE_H_
