#include "ledger/thread_pool.h"

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <string>

#include "absl/synchronization/blocking_counter.h"

namespace segledger {

ThreadPool::ThreadPool(size_t workers, std::string name) {
  threads_.reserve(workers);
  // Linux keeps 15 bytes of a thread's name.
  if (name.size() > 15) name.resize(15);
  for (size_t i = 0; i < workers; ++i) {
    threads_.emplace_back([this, name] {
      if (!name.empty()) pthread_setname_np(pthread_self(), name.c_str());
      WorkerLoop();
    });
  }
}

ThreadPool::~ThreadPool() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  for (std::thread& t : threads_) t.join();
}

size_t ThreadPool::DefaultWorkers() {
  unsigned hw = std::thread::hardware_concurrency();
  return hw > 1 ? hw - 1 : 0;
}

void ThreadPool::Schedule(std::function<void()> task) {
  if (threads_.empty()) {
    task();
    return;
  }
  absl::MutexLock lock(&mu_);
  queue_.push_back(std::move(task));
}

void ThreadPool::WorkerLoop() {
  for (;;) {
    std::function<void()> task;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_ || !queue_.empty();
      };
      mu_.Await(absl::Condition(&ready));
      if (queue_.empty()) return;  // stopping and drained
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    task();
  }
}

void ThreadPool::ParallelFor(size_t n, size_t min_chunk,
                             const std::function<void(size_t, size_t)>& fn) {
  if (n == 0) return;
  min_chunk = std::max<size_t>(min_chunk, 1);
  size_t chunks = std::min(parallelism(), (n + min_chunk - 1) / min_chunk);
  if (chunks <= 1) {
    fn(0, n);
    return;
  }
  const size_t per = (n + chunks - 1) / chunks;
  chunks = (n + per - 1) / per;
  absl::BlockingCounter done(static_cast<int>(chunks - 1));
  for (size_t c = 1; c < chunks; ++c) {
    const size_t begin = c * per;
    const size_t end = std::min(n, begin + per);
    Schedule([&fn, &done, begin, end] {
      fn(begin, end);
      done.DecrementCount();
    });
  }
  fn(0, std::min(n, per));  // the caller takes the first chunk
  done.Wait();
}

ThreadPool::Job::Job(size_t n, size_t block,
                     std::function<void(size_t, size_t)> fn)
    : n_(n), block_(std::max<size_t>(block, 1)), fn_(std::move(fn)) {}

void ThreadPool::Job::Run() {
  for (size_t b; (b = next_.fetch_add(block_)) < n_;) {
    const size_t e = std::min(n_, b + block_);
    fn_(b, e);
    absl::MutexLock lock(&mu_);
    done_ += e - b;
  }
}

void ThreadPool::Job::Wait() {
  Run();
  absl::MutexLock lock(&mu_);
  auto all_done = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return done_ >= n_;
  };
  mu_.Await(absl::Condition(&all_done));
}

std::shared_ptr<ThreadPool::Job> ThreadPool::Start(
    size_t n, size_t block, std::function<void(size_t, size_t)> fn) {
  auto job = std::make_shared<Job>(n, block, std::move(fn));
  const size_t blocks = (n + job->block_ - 1) / job->block_;
  const size_t tasks = std::min(threads_.size(), blocks);
  if (tasks == 0) {
    job->Run();
    return job;
  }
  absl::MutexLock lock(&mu_);
  // One task per worker that can have a block; each runs until no block
  // is left, so the job spreads over whoever is free.
  for (size_t i = 0; i < tasks; ++i) queue_.push_back([job] { job->Run(); });
  return job;
}

}  // namespace segledger
