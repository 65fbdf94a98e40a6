// LaneLoad: keeps N asynchronous calls in flight for a bounded time. Each
// lane issues its next call from the previous call's completion (gRPC
// callback threads), so 64 concurrent calls need no 64 threads.
//
// Thread-safe as used: every lane's state is touched only by that lane's
// calls, which are sequential.
#ifndef SEGLEDGER_BENCHMARKS_SEGBENCH_LANE_LOAD_H_
#define SEGLEDGER_BENCHMARKS_SEGBENCH_LANE_LOAD_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "benchmarks/segbench/stats.h"

namespace segledger::bench {

struct LaneResult {
  uint64_t calls = 0;
  uint64_t ok = 0;
  uint64_t errors = 0;
  uint64_t records = 0;  // as reported by the calls
  double seconds = 0;
  LatencyRecorder latency{1 << 20};
  std::string first_error;
};

// Issues one call for `lane`; must call `done(ok, records, error)` exactly
// once, from any thread. The starter owns the call's state (e.g. captured
// by shared_ptr in the gRPC completion callback).
using DoneFn =
    std::function<void(bool ok, uint64_t records, const std::string& error)>;
using StartFn = std::function<void(int lane, uint64_t n, DoneFn done)>;

// Runs `lanes` lanes for `duration` (no call starts after it; calls in
// flight are awaited, at most `drain`). Returns one result per lane;
// `seconds` is the wall time until the last call finished.
std::vector<LaneResult> RunLanes(int lanes, absl::Duration duration,
                                 const StartFn& start, double* seconds,
                                 absl::Duration drain = absl::Seconds(60));

// Sums lanes for which `pick(lane)` is true (all when pick is null).
LaneResult MergeLanes(std::vector<LaneResult>& lanes,
                      const std::function<bool(int)>& pick = nullptr);

}  // namespace segledger::bench

#endif  // SEGLEDGER_BENCHMARKS_SEGBENCH_LANE_LOAD_H_
