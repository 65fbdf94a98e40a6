// A fixed pool of worker threads for CPU-bound fan-out (signing and
// verifying in parallel on all cores).
//
// Thread-safe. ParallelFor blocks the caller until every chunk is done; the
// caller's thread takes part, so a pool of N-1 workers uses N cores.
#ifndef SEGLEDGER_LEDGER_THREAD_POOL_H_
#define SEGLEDGER_LEDGER_THREAD_POOL_H_

#include <cstddef>
#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"

namespace segledger {

class ThreadPool {
 public:
  // `workers` background threads (0 runs everything on the caller).
  explicit ThreadPool(size_t workers);
  // Joins the workers after finishing queued work.
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  // Workers + caller: the parallelism ParallelFor achieves.
  size_t parallelism() const { return threads_.size() + 1; }

  // Calls fn(begin, end) over [0, n) split into at most parallelism() chunks
  // of at least `min_chunk` items, and returns when all calls have returned.
  void ParallelFor(size_t n, size_t min_chunk,
                   const std::function<void(size_t, size_t)>& fn);

  // Runs `task` on a worker (or inline when there are no workers).
  void Schedule(std::function<void()> task);

  // A default size: hardware threads - 1 (at least 0).
  static size_t DefaultWorkers();

 private:
  void WorkerLoop();

  absl::Mutex mu_;
  std::deque<std::function<void()>> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace segledger

#endif  // SEGLEDGER_LEDGER_THREAD_POOL_H_
