// Streams against a node that stalls: the client's --timeout bounds the
// wait for the node's next message (IdleWatchdog), never the whole stream.
// In-process stand-in services on 127.0.0.1 play the stalled or slow node.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/client.h"
#include "client/idle_watchdog.h"
#include "client/segctl_commands.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"
#include "gtest/gtest.h"
#include "tests/node/node_test_util.h"
#include "tests/support/test_util.h"

namespace segledger::client {
namespace {

using ::testing::HasSubstr;

// Runs `f`, failing the whole test binary if it does not return within a
// minute: the defect these tests guard against is a hang.
template <typename F>
auto Bounded(F f) {
  auto fut = std::async(std::launch::async, std::move(f));
  if (fut.wait_for(std::chrono::seconds(60)) != std::future_status::ready) {
    std::fprintf(stderr, "still waiting after 60 s: the stream hangs\n");
    std::_Exit(1);
  }
  return fut.get();
}

// Takes records and never acknowledges them, until the client goes.
class StalledAppend final : public v1::AppendService::Service {
  grpc::Status AppendStream(
      grpc::ServerContext* ctx,
      grpc::ServerReaderWriter<v1::AppendStreamResponse,
                               v1::AppendStreamRequest>* stream) override {
    v1::AppendStreamRequest req;
    while (stream->Read(&req)) {
    }
    while (!ctx->IsCancelled()) absl::SleepFor(absl::Milliseconds(5));
    return grpc::Status::OK;
  }
};

// Serves `count` entries, `pause` apart, then stalls when `stall` (until
// the client goes) or ends the stream.
class PacedRead final : public v1::ReadService::Service {
 public:
  PacedRead(int count, absl::Duration pause, bool stall)
      : count_(count), pause_(pause), stall_(stall) {}
  grpc::Status GetEntries(grpc::ServerContext* ctx,
                          const v1::GetEntriesRequest* req,
                          grpc::ServerWriter<v1::EntryResponse>* w) override {
    for (uint64_t i = req->from(); i < static_cast<uint64_t>(count_); ++i) {
      absl::SleepFor(pause_);
      v1::EntryResponse e;
      e.set_index(i);
      if (!w->Write(e)) return grpc::Status::OK;
    }
    while (stall_ && !ctx->IsCancelled()) {
      absl::SleepFor(absl::Milliseconds(5));
    }
    return grpc::Status::OK;
  }
  grpc::Status ListCheckpoints(
      grpc::ServerContext* ctx, const v1::ListCheckpointsRequest*,
      grpc::ServerWriter<v1::CheckpointResponse>* w) override {
    for (int i = 0; i < count_; ++i) {
      absl::SleepFor(pause_);
      v1::CheckpointResponse c;
      c.set_note(absl::StrCat("checkpoint ", i));
      if (!w->Write(c)) return grpc::Status::OK;
    }
    while (stall_ && !ctx->IsCancelled()) {
      absl::SleepFor(absl::Milliseconds(5));
    }
    return grpc::Status::OK;
  }

 private:
  const int count_;
  const absl::Duration pause_;
  const bool stall_;
};

struct StandIn {
  std::unique_ptr<grpc::Server> server;
  std::unique_ptr<Client> client;
};

// A server with `services` and a client with `timeout`, one attempt.
StandIn Serve(std::vector<grpc::Service*> services, absl::Duration timeout) {
  StandIn s;
  int port = 0;
  grpc::ServerBuilder b;
  b.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  for (grpc::Service* svc : services) b.RegisterService(svc);
  s.server = b.BuildAndStart();
  if (s.server == nullptr || port == 0) return s;
  ClientOptions o;
  o.target = absl::StrCat("127.0.0.1:", port);
  o.insecure = true;
  o.max_attempts = 1;
  o.timeout = timeout;
  auto c = Client::Connect(o);
  if (c.ok()) s.client = *std::move(c);
  return s;
}

TEST(IdleWatchdogTest, FiresOnlyAfterAQuietPeriod) {
  grpc::ClientContext ctx;
  IdleWatchdog w(&ctx, absl::Milliseconds(300));
  for (int i = 0; i < 8; ++i) {  // 0.8 s of progress every 0.1 s
    absl::SleepFor(absl::Milliseconds(100));
    w.Progress();
  }
  EXPECT_FALSE(w.Fired());
  EXPECT_TRUE(w.Explain(absl::OkStatus(), "x").ok());
  absl::Time until = absl::Now() + absl::Seconds(30);
  while (!w.Fired() && absl::Now() < until) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  ASSERT_TRUE(w.Fired());
  absl::Status s = w.Explain(absl::CancelledError("cancelled"), "no answer");
  EXPECT_TRUE(absl::IsDeadlineExceeded(s)) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("no answer for 300ms"));
}

// segctl append against a node that takes the records and never answers:
// exit 3 with one stderr line, after about --timeout rather than never.
TEST(StreamWatchdogTest, AppendToAStalledNodeEndsWithDeadlineExceeded) {
  StalledAppend append;
  StandIn s = Serve({&append}, absl::Milliseconds(500));
  ASSERT_NE(s.client, nullptr);
  std::string records;
  for (int i = 0; i < 3; ++i) {
    std::string json;
    ASSERT_TRUE(google::protobuf::util::MessageToJsonString(
                    testing::TestRecord(absl::StrCat("t-", i), i), &json)
                    .ok());
    records += json + "\n";
  }
  std::ostringstream out, err;
  absl::Time start = absl::Now();
  int code = Bounded([&] {
    std::istringstream in(records);
    CommandEnv env{s.client.get(), Format::kJson, &out, &err};
    return RunAppend(env, in);
  });
  EXPECT_EQ(code, kExitUnreachable) << err.str();
  EXPECT_LT(absl::Now() - start, absl::Seconds(30));
  EXPECT_EQ(out.str(), "");
  const std::string e = err.str();
  EXPECT_THAT(e, HasSubstr("DEADLINE_EXCEEDED"));
  EXPECT_THAT(e, HasSubstr("3 records not acknowledged"));
  EXPECT_THAT(e, HasSubstr("no acknowledgement from the node"));
  EXPECT_EQ(std::count(e.begin(), e.end(), '\n'), 1) << e;
  s.server->Shutdown();
}

// A stream that keeps moving may run far longer than --timeout.
TEST(StreamWatchdogTest, SlowButSteadyEntriesAreAllRead) {
  PacedRead read(8, absl::Milliseconds(100), /*stall=*/false);
  StandIn s = Serve({&read}, absl::Milliseconds(400));
  ASSERT_NE(s.client, nullptr);
  std::vector<uint64_t> got;
  absl::Status st = Bounded([&] {
    return s.client->GetEntries(0, 8, [&](v1::EntryResponse& e) {
      got.push_back(e.index());
      return true;
    });
  });
  EXPECT_TRUE(st.ok()) << st;
  EXPECT_EQ(got, (std::vector<uint64_t>{0, 1, 2, 3, 4, 5, 6, 7}));

  absl::StatusOr<std::vector<v1::CheckpointResponse>> cps =
      Bounded([&] { return s.client->ListCheckpoints(); });
  ASSERT_TRUE(cps.ok()) << cps.status();
  EXPECT_EQ(cps->size(), 8u);
  s.server->Shutdown();
}

// A node that stops in the middle of a stream: DEADLINE_EXCEEDED naming
// where it stopped, after the entries it did send.
TEST(StreamWatchdogTest, EntriesThatStopMidwayEndWithDeadlineExceeded) {
  PacedRead read(2, absl::Milliseconds(10), /*stall=*/true);
  StandIn s = Serve({&read}, absl::Milliseconds(400));
  ASSERT_NE(s.client, nullptr);
  int got = 0;
  absl::Status st = Bounded([&] {
    return s.client->GetEntries(0, 5, [&](v1::EntryResponse&) {
      ++got;
      return true;
    });
  });
  EXPECT_TRUE(absl::IsDeadlineExceeded(st)) << st;
  EXPECT_THAT(std::string(st.message()),
              HasSubstr("no entry from the node after entry 2 for 400ms"));
  EXPECT_EQ(got, 2);

  absl::StatusOr<std::vector<v1::CheckpointResponse>> cps =
      Bounded([&] { return s.client->ListCheckpoints(); });
  EXPECT_TRUE(absl::IsDeadlineExceeded(cps.status())) << cps.status();
  EXPECT_THAT(std::string(cps.status().message()),
              HasSubstr("no checkpoint from the node"));
  s.server->Shutdown();
}

}  // namespace
}  // namespace segledger::client
