#include "client/idle_watchdog.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace segledger::client {

IdleWatchdog::IdleWatchdog(grpc::ClientContext* ctx, absl::Duration idle)
    : ctx_(ctx), idle_(idle), last_(absl::Now()), thread_([this] { Run(); }) {}

IdleWatchdog::~IdleWatchdog() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  thread_.join();
}

void IdleWatchdog::Progress() {
  absl::MutexLock lock(&mu_);
  last_ = absl::Now();
}

bool IdleWatchdog::Fired() const {
  absl::MutexLock lock(&mu_);
  return fired_;
}

absl::Status IdleWatchdog::Explain(absl::Status status,
                                   absl::string_view what) const {
  if (!Fired()) return status;
  return absl::DeadlineExceededError(
      absl::StrCat(what, " for ", absl::FormatDuration(idle_), " (--timeout)"));
}

void IdleWatchdog::Run() {
  absl::MutexLock lock(&mu_);
  while (!stop_) {
    const absl::Time due = last_ + idle_;
    if (absl::Now() >= due) {
      fired_ = true;
      // Under mu_: the destructor cannot return (and the caller destroy the
      // context) while the cancellation is in progress.
      ctx_->TryCancel();
      return;
    }
    mu_.AwaitWithDeadline(absl::Condition(&stop_), due);
  }
}

}  // namespace segledger::client
