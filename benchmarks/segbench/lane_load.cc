#include "benchmarks/segbench/lane_load.h"

#include <utility>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"

namespace segledger::bench {
namespace {

// A lane stops after this many consecutive failures (a dead node fails
// calls inline, and the lane must not spin until the deadline).
constexpr uint64_t kMaxConsecutiveErrors = 1000;

struct LaneState {
  LaneResult result;
  absl::Time t0;
  uint64_t n = 0;
  uint64_t consecutive_errors = 0;
};

class Runner {
 public:
  Runner(int lanes, absl::Time deadline, const StartFn& start)
      : lanes_(lanes), deadline_(deadline), start_(start), active_(lanes) {}

  void Issue(int i) {
    LaneState& l = lanes_[i];
    if (absl::Now() >= deadline_ ||
        l.consecutive_errors >= kMaxConsecutiveErrors) {
      absl::MutexLock lock(&mu_);
      --active_;
      last_done_ = absl::Now();
      return;
    }
    l.t0 = absl::Now();
    start_(i, l.n++,
           [this, i](bool ok, uint64_t records, const std::string& error) {
             LaneState& s = lanes_[i];
             s.result.latency.Record(absl::Now() - s.t0);
             ++s.result.calls;
             if (ok) {
               ++s.result.ok;
               s.result.records += records;
               s.consecutive_errors = 0;
             } else {
               ++s.result.errors;
               ++s.consecutive_errors;
               if (s.result.first_error.empty()) s.result.first_error = error;
             }
             Issue(i);
           });
  }

  // False when calls were still in flight at `until`.
  bool Wait(absl::Time until) {
    absl::MutexLock lock(&mu_);
    auto done = [this] { return active_ == 0; };
    return mu_.AwaitWithDeadline(absl::Condition(&done), until);
  }

  std::vector<LaneState>& lanes() { return lanes_; }
  absl::Time last_done() {
    absl::MutexLock lock(&mu_);
    return last_done_;
  }

 private:
  std::vector<LaneState> lanes_;
  const absl::Time deadline_;
  const StartFn& start_;
  absl::Mutex mu_;
  int active_;
  absl::Time last_done_;
};

}  // namespace

std::vector<LaneResult> RunLanes(int lanes, absl::Duration duration,
                                 const StartFn& start, double* seconds,
                                 absl::Duration drain) {
  const absl::Time t_start = absl::Now();
  // Heap-allocated and kept if calls are still in flight after `drain`, so
  // late callbacks never touch freed memory.
  auto* runner = new Runner(lanes, t_start + duration, start);
  for (int i = 0; i < lanes; ++i) runner->Issue(i);
  const bool drained = runner->Wait(t_start + duration + drain);
  *seconds = absl::ToDoubleSeconds(
      (drained ? runner->last_done() : absl::Now()) - t_start);
  std::vector<LaneResult> out;
  for (LaneState& l : runner->lanes()) out.push_back(std::move(l.result));
  if (drained) delete runner;
  return out;
}

LaneResult MergeLanes(std::vector<LaneResult>& lanes,
                      const std::function<bool(int)>& pick) {
  LaneResult all;
  for (size_t i = 0; i < lanes.size(); ++i) {
    if (pick && !pick(static_cast<int>(i))) continue;
    LaneResult& l = lanes[i];
    all.calls += l.calls;
    all.ok += l.ok;
    all.errors += l.errors;
    all.records += l.records;
    all.latency.Merge(l.latency);
    if (all.first_error.empty()) all.first_error = l.first_error;
  }
  return all;
}

}  // namespace segledger::bench
