// Crash safety: a child process (this binary re-executed in child mode)
// appends with group commit from several threads and reports each
// acknowledged record on a pipe after Append returns. The parent SIGKILLs
// it at random moments, reopens the store and checks that every
// acknowledged record is present at its index, nothing beyond the size is
// visible, and the store passes Open checks (kFull periodically and at the
// end). SEGLEDGER_CRASH_KILLS sets the number of kills (default 50).
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ledger/entry_codec.h"
#include "ledger/store/log_store.h"
#include "ledger/store/rocksdb_kv.h"
#include "tests/support/test_util.h"

namespace segledger::store {
namespace {

using ::segledger::testing::IsOk;
using ::segledger::testing::StatusIs;
using ::segledger::testing::TempDir;

constexpr char kOrigin[] = "crash.example/segledger";
constexpr char kEnvDir[] = "SEGLEDGER_CRASH_CHILD_DIR";
constexpr char kEnvFd[] = "SEGLEDGER_CRASH_CHILD_FD";
constexpr char kEnvIter[] = "SEGLEDGER_CRASH_CHILD_ITER";
constexpr int kChildThreads = 4;

// One acknowledgement on the pipe (< PIPE_BUF, so writes are atomic).
struct Ack {
  uint64_t index;
  uint32_t iter;
  uint16_t thread;
  uint16_t k;
  uint32_t n;
};

std::string RequestId(uint32_t iter, uint32_t thread, uint32_t n, uint32_t k) {
  return absl::StrCat(iter, "-", thread, "-", n, "-", k);
}

std::shared_ptr<const NoteSigner> Key() {
  auto key = Ed25519Signer::New(std::string(32, 3));
  return std::make_shared<const NoteSigner>(
      "crash-key", std::shared_ptr<const Ed25519Signer>(std::move(*key)));
}

absl::StatusOr<std::unique_ptr<LogStore>> OpenLog(
    const std::string& path, LogStoreOptions::OpenCheck check) {
  auto kv = RocksDbKv::Open(path);
  if (!kv.ok()) return kv.status();
  LogStoreOptions o;
  o.origin = kOrigin;
  o.checkpoint_every = 32;
  o.checkpoint_interval = absl::Milliseconds(7);
  o.open_check = check;
  o.tail_entries = 64;
  return LogStore::Open(*std::move(kv), {Key()}, o);
}

// Child mode: append until killed (bounded by a count for safety).
int RunChild(const std::string& dir, int fd, uint32_t iter) {
  auto log = OpenLog(dir, LogStoreOptions::OpenCheck::kTail);
  if (!log.ok()) {
    std::fprintf(stderr, "child open: %s\n", log.status().ToString().c_str());
    return 4;
  }
  std::vector<std::thread> threads;
  for (uint16_t t = 0; t < kChildThreads; ++t) {
    threads.emplace_back([&, t] {
      for (uint32_t n = 0; n < 200000; ++n) {
        std::vector<AppendRecord> recs(n % 3 + 1);
        for (uint16_t k = 0; k < recs.size(); ++k) {
          recs[k].request_id = RequestId(iter, t, n, k);
          recs[k].record.mutable_key_revocation()->set_reason("crash");
        }
        auto r = (*log)->Append(std::move(recs));
        if (!r.ok()) {
          std::fprintf(stderr, "child append: %s\n",
                       r.status().ToString().c_str());
          _exit(5);
        }
        for (uint16_t k = 0; k < r->size(); ++k) {
          Ack a{(*r)[k].index, iter, t, k, n};
          if (::write(fd, &a, sizeof(a)) != sizeof(a)) _exit(6);
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  return 0;
}

class Child {
 public:
  Child(const std::string& dir, uint32_t iter) {
    int fds[2];
    EXPECT_EQ(::pipe(fds), 0);
    ::fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    read_fd_ = fds[0];
    ::setenv(kEnvDir, dir.c_str(), 1);
    ::setenv(kEnvFd, std::to_string(fds[1]).c_str(), 1);
    ::setenv(kEnvIter, std::to_string(iter).c_str(), 1);
    char exe[] = "/proc/self/exe";
    char* argv[] = {exe, nullptr};
    pid_ = ::fork();
    if (pid_ == 0) {
      ::execv(exe, argv);
      _exit(127);
    }
    ::close(fds[1]);
    ::unsetenv(kEnvDir);
  }
  ~Child() { ::close(read_fd_); }

  // Reads acks for up to `timeout`; stops early once `min_acks` arrived.
  // Returns false at EOF (the child exited).
  bool Read(absl::Duration timeout, size_t min_acks, std::vector<Ack>& acks) {
    const absl::Time deadline = absl::Now() + timeout;
    while (absl::Now() < deadline &&
           (min_acks == 0 || acks.size() < min_acks)) {
      pollfd p{read_fd_, POLLIN, 0};
      int ms = static_cast<int>(
          absl::ToInt64Milliseconds(deadline - absl::Now()) + 1);
      if (::poll(&p, 1, ms) <= 0) continue;
      if (!ReadSome(acks)) return false;
    }
    return true;
  }
  // SIGKILL, reap, and drain what was acknowledged before death.
  int KillAndDrain(std::vector<Ack>& acks) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    while (ReadSome(acks)) {
    }
    return status;
  }

 private:
  bool ReadSome(std::vector<Ack>& acks) {
    ssize_t n = ::read(read_fd_, buf_ + buffered_, sizeof(buf_) - buffered_);
    if (n <= 0) return false;
    buffered_ += static_cast<size_t>(n);
    size_t whole = buffered_ / sizeof(Ack);
    const Ack* a = reinterpret_cast<const Ack*>(buf_);
    acks.insert(acks.end(), a, a + whole);
    std::memmove(buf_, buf_ + whole * sizeof(Ack),
                 buffered_ - whole * sizeof(Ack));
    buffered_ -= whole * sizeof(Ack);
    return true;
  }

  pid_t pid_ = -1;
  int read_fd_ = -1;
  alignas(Ack) char buf_[sizeof(Ack) * 512];
  size_t buffered_ = 0;
};

// Every acknowledged record is at its index with its request id.
void CheckAcks(LogStore& log, const std::vector<Ack>& acks, size_t from) {
  for (size_t i = from; i < acks.size(); ++i) {
    const Ack& a = acks[i];
    const std::string id = RequestId(a.iter, a.thread, a.n, a.k);
    ASSERT_LT(a.index, log.Size()) << "acknowledged " << id << " lost";
    auto e = log.GetEntry(a.index);
    ASSERT_THAT(e, IsOk());
    auto body = ParseEntryBody(e->body());
    ASSERT_THAT(body, IsOk());
    ASSERT_EQ(body->request_id(), id) << "at index " << a.index;
  }
  EXPECT_THAT(log.GetEntry(log.Size()),
              StatusIs(absl::StatusCode::kOutOfRange));
}

TEST(CrashTest, AcknowledgedAppendsSurviveSigkill) {
  const char* env = std::getenv("SEGLEDGER_CRASH_KILLS");
  const int kills = env != nullptr ? std::atoi(env) : 50;
  TempDir dir;
  const std::string path = dir.Sub("db");
  std::mt19937 rng(20261125);
  std::vector<Ack> acks;
  size_t checked = 0;
  for (int iter = 0; iter < kills; ++iter) {
    Child child(path, static_cast<uint32_t>(iter));
    // Mostly kill mid-append (after the first ack); sometimes at a random
    // moment from the start, which may land in recovery or Open.
    const bool early = rng() % 5 == 0;
    if (!early) {
      ASSERT_TRUE(child.Read(absl::Seconds(30), acks.size() + 1, acks))
          << "child exited before appending (iteration " << iter << ")";
    }
    const absl::Duration extra = absl::Milliseconds(rng() % 25);
    const bool alive = child.Read(extra, 0, acks);
    const int status = child.KillAndDrain(acks);
    ASSERT_TRUE(alive && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        << "child ended on its own (status " << status << ") in iteration "
        << iter;
    const bool full = iter % 10 == 9 || iter == kills - 1;
    auto log = OpenLog(path, full ? LogStoreOptions::OpenCheck::kFull
                                  : LogStoreOptions::OpenCheck::kTail);
    ASSERT_THAT(log, IsOk()) << "iteration " << iter;
    CheckAcks(**log, acks, checked);
    if (::testing::Test::HasFatalFailure()) return;
    checked = acks.size();
  }
  auto log = OpenLog(path, LogStoreOptions::OpenCheck::kFull);
  ASSERT_THAT(log, IsOk());
  CheckAcks(**log, acks, 0);  // all of them, once more
  std::printf("crash test: %d kills, %zu acknowledged records, size %llu\n",
              kills, acks.size(),
              static_cast<unsigned long long>((*log)->Size()));
}

}  // namespace
}  // namespace segledger::store

int main(int argc, char** argv) {
  if (const char* dir = std::getenv(segledger::store::kEnvDir)) {
    return segledger::store::RunChild(
        dir, std::atoi(std::getenv(segledger::store::kEnvFd)),
        static_cast<uint32_t>(
            std::atoi(std::getenv(segledger::store::kEnvIter))));
  }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
