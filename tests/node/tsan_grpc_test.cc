// Under ThreadSanitizer (-DSEGLEDGER_TSAN=ON), shows that the suppressions
// CI runs the node tests with (tests/support/tsan.supp, through
// TSAN_OPTIONS) and the Mutex annotations (tests/support/tsan_absl_sync.cc)
// silence only gRPC's own hand-offs, not a race in our code on a gRPC
// thread: a callback-API handler (the API the node serves with) and one of
// our threads write the same variable, under one absl::Mutex (no report,
// and the RPC plumbing itself is clean) and then without it (reported, in
// this file). Each case runs in a death-test child: TSan exits with 66 when
// it reported anything. Built only with SEGLEDGER_TSAN (tests/CMakeLists.txt).
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "segledger/v1/ledger_service.grpc.pb.h"

// External linkage: a variable nothing in this file reads would otherwise
// lose its stores to the optimiser, and with them the race under test.
long tsan_grpc_test_value = 0;

namespace segledger {
namespace {

constexpr int kTsanExitCode = 66;  // TSan's default exitcode= after a report

absl::Mutex value_mu;
bool use_mutex = true;
// Relaxed atomics order the two writes in real time without any
// happens-before TSan could see.
std::atomic<bool> handler_wrote{false};
std::atomic<bool> ours_wrote{false};

void Write(long v) {
  if (use_mutex) {
    absl::MutexLock l(&value_mu);
    tsan_grpc_test_value = v;
  } else {
    tsan_grpc_test_value = v;
  }
}

void WaitFor(const std::atomic<bool>& flag) {
  for (long i = 0; i < 2000000000L && !flag.load(std::memory_order_relaxed);
       ++i) {
    std::this_thread::yield();
  }
}

// Writes, then stays in the handler (on gRPC's thread) until our thread
// wrote too.
class Handler final : public v1::ReadService::CallbackService {
  grpc::ServerUnaryReactor* GetCheckpoint(
      grpc::CallbackServerContext* ctx, const v1::GetCheckpointRequest*,
      v1::CheckpointResponse* resp) override {
    Write(2);
    handler_wrote.store(true, std::memory_order_relaxed);
    WaitFor(ours_wrote);
    resp->set_note("canary");
    grpc::ServerUnaryReactor* r = ctx->DefaultReactor();
    r->Finish(grpc::Status::OK);
    return r;
  }
};

void HandlerAndThreadWrite(bool with_mutex) {
  use_mutex = with_mutex;
  Handler handler;
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                           &port);
  builder.RegisterService(&handler);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) std::exit(3);
  std::thread ours([] {
    WaitFor(handler_wrote);
    Write(1);
    ours_wrote.store(true, std::memory_order_relaxed);
  });
  bool ok = false;
  {
    auto stub = v1::ReadService::NewStub(
        grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                            grpc::InsecureChannelCredentials()));
    grpc::ClientContext ctx;
    v1::CheckpointResponse resp;
    ok = stub->GetCheckpoint(&ctx, v1::GetCheckpointRequest(), &resp).ok() &&
         resp.note() == "canary";
  }
  ours.join();
  server->Shutdown();
  server->Wait();
  std::exit(ok ? 0 : 4);
}

TEST(TsanGrpcTest, HandlerAndOurThreadUnderOneMutexAreNotReported) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(HandlerAndThreadWrite(true), ::testing::ExitedWithCode(0), "");
}

TEST(TsanGrpcTest, HandlerRacingOurThreadIsStillReported) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(HandlerAndThreadWrite(false),
              ::testing::ExitedWithCode(kTsanExitCode),
              "SUMMARY: ThreadSanitizer: data race [^\n]*tsan_grpc_test.cc");
}

}  // namespace
}  // namespace segledger
