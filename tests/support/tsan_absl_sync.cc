// ThreadSanitizer builds only (-DSEGLEDGER_TSAN=ON links this file into
// every executable): makes Debian's uninstrumented Abseil synchronization
// visible to TSan.
//
// Debian's libabsl_synchronization.so is not built with -fsanitize=thread,
// so absl::Mutex operations carry no happens-before for TSan and every
// access guarded by one is reported as a race (gRPC 1.51 uses absl::Mutex
// inside too). This file defines the out-of-line members of absl::Mutex,
// absl::CondVar, absl::Notification and absl::BlockingCounter in the
// executable, which the
// dynamic linker then binds for every caller (our code, libgrpc, and
// libabsl's own calls through its PLT). Each definition announces the
// operation to TSan with the __tsan_mutex_* annotations - exactly those an
// instrumented Abseil makes (absl/synchronization/mutex.cc) - and forwards
// to the library's function found with dlsym(RTLD_NEXT, mangled name).
//
// Between a pre and a post annotation TSan ignores the thread's memory
// accesses and synchronization, so the Condition functions Abseil
// evaluates inside Lock/Unlock/Await (on whichever thread) are not
// checked; everything else is, against the lock order these annotations
// give. tests/ledger/tsan_annotations_test.cc shows both halves: accesses
// under one absl::Mutex are clean, and accesses under two different ones
// are still reported.
#include <dlfcn.h>
#include <link.h>
#include <sanitizer/tsan_interface.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "absl/base/options.h"
#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace {

#define SEG_STR2(x) #x
#define SEG_STR(x) SEG_STR2(x)

// "_ZN4absl<len><inline namespace>" + rest: the Itanium mangling of a
// member of absl's inline namespace (ABSL_OPTION_INLINE_NAMESPACE_NAME,
// "debian3" on Debian 12, "lts_20220623" upstream).
std::string Mangled(const char* rest, bool is_const = false) {
  const char* ns = SEG_STR(ABSL_OPTION_INLINE_NAMESPACE_NAME);
  return std::string(is_const ? "_ZNK4absl" : "_ZN4absl") +
         std::to_string(std::strlen(ns)) + ns + rest;
}

void* Real(const char* rest, bool is_const = false) {
  std::string name = Mangled(rest, is_const);
  void* f = dlsym(RTLD_NEXT, name.c_str());
  if (f == nullptr) {
    std::fprintf(stderr, "tsan_absl_sync: %s not found: %s\n", name.c_str(),
                 dlerror());
    std::abort();
  }
  return f;
}

template <typename Fn>
Fn Resolve(const char* rest, bool is_const = false) {
  return reinterpret_cast<Fn>(Real(rest, is_const));
}

constexpr unsigned kRead = __tsan_mutex_read_lock;
constexpr unsigned kTry = __tsan_mutex_try_lock;
constexpr unsigned kTryFailed = __tsan_mutex_try_lock_failed;

using Cond = const absl::Condition&;

// Abseil calls its own exported members from inside an operation (e.g.
// WaitWithTimeout calls WaitWithDeadline): those calls bind here too and
// must not be announced twice. Depth of interposed operations on this
// thread; only the outermost one annotates.
thread_local int depth = 0;
struct Outer {
  Outer() { ++depth; }
  ~Outer() { --depth; }
  Outer(const Outer&) = delete;
  Outer& operator=(const Outer&) = delete;
};

// A wait that releases the mutex and holds it again on return (Await*,
// CondVar::Wait*): to TSan an unlock, then a lock that completes when the
// real call returns.
template <typename F>
auto Released(void* mu, unsigned flags, F&& wait) {
  if (depth > 0) return wait();
  Outer outer;
  __tsan_mutex_pre_unlock(mu, flags);
  __tsan_mutex_post_unlock(mu, flags);
  __tsan_mutex_pre_lock(mu, flags);
  auto r = wait();
  __tsan_mutex_post_lock(mu, flags, 0);
  return r;
}

template <typename F>
auto Locked(void* mu, unsigned flags, F&& lock) {
  if (depth > 0) return lock();
  Outer outer;
  __tsan_mutex_pre_lock(mu, flags);
  auto r = lock();
  __tsan_mutex_post_lock(mu, flags, 0);
  return r;
}

// Where Notification keeps its flag (the inline HasBeenNotified() reads
// it with an acquire load TSan sees): the same layout as the class.
struct NotificationLayout {
  absl::Mutex mutex;
  std::atomic<bool> notified_yet;
};
static_assert(sizeof(NotificationLayout) == sizeof(absl::Notification),
              "absl::Notification layout changed");

// The address range of the executable's own mapped segments (our code,
// instrumented), found once with dl_iterate_phdr: the first object it
// reports is the executable.
struct Range {
  uintptr_t begin = UINTPTR_MAX;
  uintptr_t end = 0;
};

int FirstObject(dl_phdr_info* info, size_t /*size*/, void* data) {
  Range& r = *static_cast<Range*>(data);
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_LOAD) continue;
    const uintptr_t b = info->dlpi_addr + ph.p_vaddr;
    if (b < r.begin) r.begin = b;
    if (b + ph.p_memsz > r.end) r.end = b + ph.p_memsz;
  }
  return 1;  // stop after the first object
}

bool InExecutable(const void* pc) {
  static const Range range = [] {
    Range r;
    dl_iterate_phdr(FirstObject, &r);
    return r;
  }();
  const auto a = reinterpret_cast<uintptr_t>(pc);
  return a >= range.begin && a < range.end;
}

}  // namespace

namespace absl {
ABSL_NAMESPACE_BEGIN

// The destroy annotation imitates a write to the mutex, so TSan reports a
// destroy that races with an unlock on another thread. Only for mutexes our
// code destroys: libgrpc frees its own mutexes after handing their owner
// between threads with atomics TSan cannot see (uninstrumented), which made
// every such hand-off a report. Their locks and unlocks stay annotated.
Mutex::~Mutex() {
  static auto real = Resolve<void (*)(Mutex*)>("5MutexD2Ev");
  if (depth == 0 && InExecutable(__builtin_return_address(0))) {
    __tsan_mutex_destroy(this, 0);
  }
  real(this);
}

void Mutex::Lock() {
  static auto real = Resolve<void (*)(Mutex*)>("5Mutex4LockEv");
  Locked(this, 0, [&] { return real(this), 0; });
}

void Mutex::ReaderLock() {
  static auto real = Resolve<void (*)(Mutex*)>("5Mutex10ReaderLockEv");
  Locked(this, kRead, [&] { return real(this), 0; });
}

bool Mutex::TryLock() {
  static auto real = Resolve<bool (*)(Mutex*)>("5Mutex7TryLockEv");
  if (depth > 0) return real(this);
  Outer outer;
  __tsan_mutex_pre_lock(this, kTry);
  bool ok = real(this);
  __tsan_mutex_post_lock(this, kTry | (ok ? 0 : kTryFailed), 0);
  return ok;
}

bool Mutex::ReaderTryLock() {
  static auto real = Resolve<bool (*)(Mutex*)>("5Mutex13ReaderTryLockEv");
  if (depth > 0) return real(this);
  Outer outer;
  __tsan_mutex_pre_lock(this, kRead | kTry);
  bool ok = real(this);
  __tsan_mutex_post_lock(this, kRead | kTry | (ok ? 0 : kTryFailed), 0);
  return ok;
}

void Mutex::Unlock() {
  static auto real = Resolve<void (*)(Mutex*)>("5Mutex6UnlockEv");
  if (depth > 0) return real(this);
  Outer outer;
  __tsan_mutex_pre_unlock(this, 0);
  real(this);
  __tsan_mutex_post_unlock(this, 0);
}

void Mutex::ReaderUnlock() {
  static auto real = Resolve<void (*)(Mutex*)>("5Mutex12ReaderUnlockEv");
  if (depth > 0) return real(this);
  Outer outer;
  __tsan_mutex_pre_unlock(this, kRead);
  real(this);
  __tsan_mutex_post_unlock(this, kRead);
}

void Mutex::LockWhen(const Condition& cond) {
  static auto real =
      Resolve<void (*)(Mutex*, Cond)>("5Mutex8LockWhenERKNS0_9ConditionE");
  Locked(this, 0, [&] { return real(this, cond), 0; });
}

void Mutex::ReaderLockWhen(const Condition& cond) {
  static auto real = Resolve<void (*)(Mutex*, Cond)>(
      "5Mutex14ReaderLockWhenERKNS0_9ConditionE");
  Locked(this, kRead, [&] { return real(this, cond), 0; });
}

bool Mutex::LockWhenWithTimeout(const Condition& cond, absl::Duration t) {
  static auto real = Resolve<bool (*)(Mutex*, Cond, absl::Duration)>(
      "5Mutex19LockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE");
  return Locked(this, 0, [&] { return real(this, cond, t); });
}

bool Mutex::ReaderLockWhenWithTimeout(const Condition& cond, absl::Duration t) {
  static auto real = Resolve<bool (*)(Mutex*, Cond, absl::Duration)>(
      "5Mutex25ReaderLockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE");
  return Locked(this, kRead, [&] { return real(this, cond, t); });
}

bool Mutex::LockWhenWithDeadline(const Condition& cond, absl::Time d) {
  static auto real = Resolve<bool (*)(Mutex*, Cond, absl::Time)>(
      "5Mutex20LockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  return Locked(this, 0, [&] { return real(this, cond, d); });
}

bool Mutex::ReaderLockWhenWithDeadline(const Condition& cond, absl::Time d) {
  static auto real = Resolve<bool (*)(Mutex*, Cond, absl::Time)>(
      "5Mutex26ReaderLockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  return Locked(this, kRead, [&] { return real(this, cond, d); });
}

// Await* keep the mode the caller holds; Abseil's own annotations assume
// an exclusive hold for the release/re-acquire, and so do these.
void Mutex::Await(const Condition& cond) {
  static auto real =
      Resolve<void (*)(Mutex*, Cond)>("5Mutex5AwaitERKNS0_9ConditionE");
  Released(this, 0, [&] { return real(this, cond), 0; });
}

bool Mutex::AwaitWithTimeout(const Condition& cond, absl::Duration t) {
  static auto real = Resolve<bool (*)(Mutex*, Cond, absl::Duration)>(
      "5Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE");
  return Released(this, 0, [&] { return real(this, cond, t); });
}

bool Mutex::AwaitWithDeadline(const Condition& cond, absl::Time d) {
  static auto real = Resolve<bool (*)(Mutex*, Cond, absl::Time)>(
      "5Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  return Released(this, 0, [&] { return real(this, cond, d); });
}

void CondVar::Wait(Mutex* mu) {
  static auto real =
      Resolve<void (*)(CondVar*, Mutex*)>("7CondVar4WaitEPNS0_5MutexE");
  Released(mu, 0, [&] { return real(this, mu), 0; });
}

bool CondVar::WaitWithTimeout(Mutex* mu, absl::Duration t) {
  static auto real = Resolve<bool (*)(CondVar*, Mutex*, absl::Duration)>(
      "7CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE");
  return Released(mu, 0, [&] { return real(this, mu, t); });
}

bool CondVar::WaitWithDeadline(Mutex* mu, absl::Time d) {
  static auto real = Resolve<bool (*)(CondVar*, Mutex*, absl::Time)>(
      "7CondVar16WaitWithDeadlineEPNS0_5MutexENS0_4TimeE");
  return Released(mu, 0, [&] { return real(this, mu, d); });
}

// Signal and SignalAll carry no happens-before of their own (the mutex
// does); they are left to the library.

// Notify publishes through an atomic the library writes uninstrumented:
// release it for the acquire load of the inline HasBeenNotified().
void Notification::Notify() {
  static auto real =
      Resolve<void (*)(Notification*)>("12Notification6NotifyEv");
  __tsan_release(&reinterpret_cast<NotificationLayout*>(this)->notified_yet);
  real(this);
}

// WaitForNotification* may return on the library's own (uninstrumented)
// load of the flag without taking the mutex: acquire what Notify released.
void Notification::WaitForNotification() const {
  static auto real = Resolve<void (*)(const Notification*)>(
      "12Notification19WaitForNotificationEv", true);
  real(this);
  __tsan_acquire(const_cast<std::atomic<bool>*>(
      &reinterpret_cast<const NotificationLayout*>(this)->notified_yet));
}

bool Notification::WaitForNotificationWithTimeout(absl::Duration t) const {
  static auto real = Resolve<bool (*)(const Notification*, absl::Duration)>(
      "12Notification30WaitForNotificationWithTimeoutENS0_8DurationE", true);
  bool r = real(this, t);
  __tsan_acquire(const_cast<std::atomic<bool>*>(
      &reinterpret_cast<const NotificationLayout*>(this)->notified_yet));
  return r;
}

bool Notification::WaitForNotificationWithDeadline(absl::Time d) const {
  static auto real = Resolve<bool (*)(const Notification*, absl::Time)>(
      "12Notification31WaitForNotificationWithDeadlineENS0_4TimeE", true);
  bool r = real(this, d);
  __tsan_acquire(const_cast<std::atomic<bool>*>(
      &reinterpret_cast<const NotificationLayout*>(this)->notified_yet));
  return r;
}

// DecrementCount publishes through an atomic counter the library updates
// uninstrumented (only the last decrement takes the mutex): every
// decrement releases on the counter, Wait acquires once it returns
// (ThreadPool::ParallelFor's workers hand their results to the caller so).
bool BlockingCounter::DecrementCount() {
  static auto real = Resolve<bool (*)(BlockingCounter*)>(
      "15BlockingCounter14DecrementCountEv");
  __tsan_release(this);
  return real(this);
}

void BlockingCounter::Wait() {
  static auto real =
      Resolve<void (*)(BlockingCounter*)>("15BlockingCounter4WaitEv");
  real(this);
  __tsan_acquire(this);
}

ABSL_NAMESPACE_END
}  // namespace absl
