// Under ThreadSanitizer (-DSEGLEDGER_TSAN=ON), shows that
// tests/support/tsan_absl_sync.cc makes absl::Mutex visible to TSan without
// hiding real races: accesses under one absl::Mutex (Lock, ReaderLock,
// LockWhen, Await, CondVar::Wait, Notification) give no report, and a
// variable two threads write under two different mutexes is reported as
// a data race. Each case runs in a death-test child: TSan exits with 66
// when it reported anything. Built only with SEGLEDGER_TSAN
// (tests/CMakeLists.txt).
#include <atomic>
#include <cstdlib>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"

namespace segledger {
namespace {

constexpr int kTsanExitCode = 66;  // TSan's default exitcode= after a report

// Makes thread b's access come after thread a's in real time without any
// happens-before TSan could see (relaxed atomics synchronize nothing).
struct Baton {
  std::atomic<bool> passed{false};
  void Pass() { passed.store(true, std::memory_order_relaxed); }
  void Wait() {
    for (long i = 0; i < 2000000000L && !passed.load(std::memory_order_relaxed);
         ++i) {
      std::this_thread::yield();
    }
  }
};

long shared_value = 0;  // written by TwoWriters' threads

// Two threads write shared_value, one holding `first`, then the other
// holding `second`.
void TwoWriters(absl::Mutex* first, absl::Mutex* second) {
  long& value = shared_value;
  Baton baton;
  std::thread a([&] {
    {
      absl::MutexLock l(first);
      value = 1;
    }
    baton.Pass();
  });
  std::thread b([&] {
    baton.Wait();
    absl::MutexLock l(second);
    value = 2;
  });
  a.join();
  b.join();
}

// Every other annotated path, each handing `data` from one thread to the
// next through one mutex.
void AnnotatedHandOffs() {
  absl::Mutex mu;
  absl::CondVar cv;
  int stage = 0;
  long data = 0;
  std::thread t([&] {
    mu.LockWhen(absl::Condition(
        +[](int* s) { return *s == 1; }, &stage));  // LockWhen
    data += 1;
    stage = 2;
    mu.Unlock();
    absl::MutexLock l(&mu);
    mu.Await(absl::Condition(
        +[](int* s) { return *s == 3; }, &stage));
    data += 1;
    stage = 4;
    cv.Signal();
  });
  {
    absl::MutexLock l(&mu);
    data = 1;
    stage = 1;
  }
  {
    absl::ReaderMutexLock l(&mu);
    (void)data;
  }
  {
    absl::MutexLock l(&mu);
    while (stage != 2) cv.WaitWithTimeout(&mu, absl::Milliseconds(5));
    data += 1;
    stage = 3;
    while (stage != 4) cv.Wait(&mu);
    data += 1;
  }
  t.join();
  absl::Notification done;
  long published = 0;
  std::thread n([&] {
    published = 42;
    done.Notify();
  });
  done.WaitForNotification();
  published += 1;
  n.join();
  absl::Notification polled;
  std::thread p([&] {
    published = 7;
    polled.Notify();
  });
  for (long i = 0; i < 2000000000L && !polled.HasBeenNotified(); ++i) {
    std::this_thread::yield();
  }
  published += 1;
  p.join();
}

void OneMutex() {
  absl::Mutex mu;
  TwoWriters(&mu, &mu);
  AnnotatedHandOffs();
  std::exit(0);
}

void TwoMutexes() {
  absl::Mutex one;
  absl::Mutex two;
  TwoWriters(&one, &two);
  std::exit(0);
}

TEST(TsanAnnotationsTest, AccessesUnderOneAbslMutexAreNotReported) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(OneMutex(), ::testing::ExitedWithCode(0), "");
}

TEST(TsanAnnotationsTest, AccessesUnderTwoMutexesAreStillARace) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(TwoMutexes(), ::testing::ExitedWithCode(kTsanExitCode),
              "ThreadSanitizer: data race");
}

}  // namespace
}  // namespace segledger
