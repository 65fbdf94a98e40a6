// WatchService and its hub: server streams of new entries and signed
// checkpoints from a position.
//
// Each watch is a write reactor that catches up from the store and, when it
// has nothing to send, parks in the hub. The hub wakes parked watches when
// an append commits (Notify, called from commit callbacks: never blocks) or
// every poll interval (checkpoints signed by the store's background thread
// have no callback). Thread-safe.
#ifndef SEGLEDGER_NODE_WATCH_H_
#define SEGLEDGER_NODE_WATCH_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "node/service_context.h"
#include "segledger/v1/ledger_service.grpc.pb.h"

namespace segledger::node {

class WatchReactor;

class WatchHub {
 public:
  // At most `max_watches` watches are registered at once (0: no limit);
  // `watch_streams` (nullptr: none) follows how many are.
  WatchHub(absl::Duration poll, uint32_t max_watches = 0,
           std::atomic<uint64_t>* watch_streams = nullptr);
  ~WatchHub();  // Stop()s

  // Wakes every watch. Cheap and non-blocking.
  void Notify();
  // Finishes every watch with UNAVAILABLE and refuses new ones; joins the
  // hub thread. Idempotent.
  void Stop();

  // Registers a watch (the hub shares its ownership until it is done:
  // Remove, from its OnDone). UNAVAILABLE when stopped; RESOURCE_EXHAUSTED
  // naming max_watch_streams when max_watches are registered already.
  absl::Status Add(std::shared_ptr<WatchReactor> w);
  void Remove(const WatchReactor* w);

 private:
  void Loop();

  const absl::Duration poll_;
  const uint32_t max_watches_;
  std::atomic<uint64_t>* const watch_streams_;
  absl::Mutex mu_;
  bool dirty_ ABSL_GUARDED_BY(mu_) = false;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::shared_ptr<WatchReactor>> watches_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

class WatchServiceImpl final : public v1::WatchService::CallbackService {
 public:
  explicit WatchServiceImpl(ServiceContext* ctx) : ctx_(ctx) {}
  grpc::ServerWriteReactor<v1::WatchEvent>* Watch(
      grpc::CallbackServerContext* context,
      const v1::WatchRequest* request) override;

 private:
  ServiceContext* const ctx_;
};

}  // namespace segledger::node

#endif  // SEGLEDGER_NODE_WATCH_H_
