// IdleWatchdog: cancels a streaming gRPC call that makes no progress for a
// while. A stream has no useful overall deadline (a large export or a long
// append stream runs as long as it needs), but a node that stopped
// answering (hung disk, SIGSTOP, a silently dropped connection) must not
// hang an operator's script forever. The caller reports every message
// sent or received with Progress(); after `idle` without one the watchdog
// calls TryCancel() on the call's context, and Fired() tells the caller to
// report DEADLINE_EXCEEDED rather than the CANCELLED the stream ends with.
// Thread-safe.
#ifndef SEGLEDGER_CLIENT_IDLE_WATCHDOG_H_
#define SEGLEDGER_CLIENT_IDLE_WATCHDOG_H_

#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/client_context.h"

namespace segledger::client {

class IdleWatchdog {
 public:
  // `ctx` must outlive the watchdog. Starts the timer.
  IdleWatchdog(grpc::ClientContext* ctx, absl::Duration idle);
  ~IdleWatchdog();  // stops the timer (never cancels after it returns)
  IdleWatchdog(const IdleWatchdog&) = delete;
  IdleWatchdog& operator=(const IdleWatchdog&) = delete;

  // Restarts the timer.
  void Progress();
  // True once the call was cancelled for lack of progress.
  bool Fired() const;
  // DEADLINE_EXCEEDED "<what> for <idle> (--timeout)" when Fired(), else
  // `status`.
  absl::Status Explain(absl::Status status, absl::string_view what) const;

 private:
  void Run();

  grpc::ClientContext* const ctx_;
  const absl::Duration idle_;
  mutable absl::Mutex mu_;
  absl::Time last_ ABSL_GUARDED_BY(mu_);
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  bool fired_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;  // last: starts after the fields above
};

}  // namespace segledger::client

#endif  // SEGLEDGER_CLIENT_IDLE_WATCHDOG_H_
