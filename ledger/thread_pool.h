// A fixed pool of worker threads for CPU-bound fan-out (signing and
// verifying in parallel on all cores).
//
// Thread-safe. ParallelFor blocks the caller until every chunk is done; the
// caller's thread takes part, so a pool of N-1 workers uses N cores. Start
// returns at once (the workers begin), and the job's Wait lets the caller
// take part later: a caller overlaps its own serial work with the loop.
#ifndef SEGLEDGER_LEDGER_THREAD_POOL_H_
#define SEGLEDGER_LEDGER_THREAD_POOL_H_

#include <atomic>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"

namespace segledger {

class ThreadPool {
 public:
  // `workers` background threads (0 runs everything on the caller), named
  // `name` (at most 15 bytes are kept; as top, perf and gdb show them) when
  // not empty.
  explicit ThreadPool(size_t workers, std::string name = "");
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

  // A loop started by Start: fn(begin, end) over [0, n) in blocks of
  // `block` items, claimed one at a time from a shared counter by the
  // workers and by whoever calls Wait (a descheduled thread on a shared
  // machine holds up at most one block).
  class Job {
   public:
    Job(size_t n, size_t block, std::function<void(size_t, size_t)> fn);
    // Claims and runs blocks until none is left, then returns when every
    // block (also those other threads claimed) is done. Call once.
    void Wait();

   private:
    friend class ThreadPool;
    void Run();

    const size_t n_;
    const size_t block_;
    const std::function<void(size_t, size_t)> fn_;
    std::atomic<size_t> next_{0};
    absl::Mutex mu_;
    size_t done_ ABSL_GUARDED_BY(mu_) = 0;
  };
  // Starts fn over [0, n) on the workers and returns without waiting
  // (without workers, runs it all first). Objects `fn` uses must stay live
  // until Wait has returned; the job may outlive it, calling fn no more.
  std::shared_ptr<Job> Start(size_t n, size_t block,
                             std::function<void(size_t, size_t)> fn);

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
