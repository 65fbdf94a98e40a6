// segledgerd's resource limits, in-process over real gRPC and RocksDB:
// the query graph cache (rebuilt only when a log grew, once for queries
// arriving together), queries on their own threads up to max_queries, the
// cap on watch streams, streams per connection,
// and the append stream's window over acks a client does not read.
#include <pthread.h>

#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "client/client.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "ledger/peers/outbox.h"
#include "ledger/peers/peer_store.h"
#include "node/data_dir.h"
#include "node/graph_cache.h"
#include "node/json_log.h"
#include "node/node.h"
#include "node/peer_layer.h"
#include "segledger/v1/ledger_service.grpc.pb.h"
#include "tests/ledger/domain/adc_scenario.h"
#include "tests/ledger/peers/peer_fixture.h"
#include "tests/node/node_test_util.h"
#include "tests/node/up_site_fixture.h"
#include "tests/support/forwarding_kv.h"
#include "tests/support/test_util.h"

namespace segledger::node {
namespace {

using client::Client;
using client::ClientOptions;
using ::segledger::testing::TempDir;
using ::segledger::testing::TestRecord;
using ::testing::HasSubstr;

// Waits (bounded: about 30 s, never a pass/fail on time) until `done`.
template <typename F>
bool Eventually(F done) {
  for (int i = 0; i < 3000; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return done();
}

// ---- Queries on a node that follows another log: the graph of every
// verified log is cached, reused while no log grew, and rebuilt once when
// one did.

class FollowingNodeQueryTest : public UpSiteNodeTest {
 protected:
  void SetUp() override {
    // Followed, so every query runs over the graph of all logs.
    ASSERT_NO_FATAL_FAILURE(StartUpSite(/*follow=*/true, [](auto& config) {
      config.set_follow_interval_ms(3600 * 1000);
    }));
    ASSERT_TRUE(node_->peers().follows_any());
  }

  // T1 dispatches 4 H87 of MCB001 to the downstream site.
  void ShipMcb() { DispatchT1(domain::testing::Q("4", "H87")); }

  // The receiver's log records its receipt of T1 and this node follows
  // it (verified entries and checkpoint, as the follower stores them).
  void FollowReceipt() {
    SEG_ASSERT_OK_AND_ASSIGN(
        peers::testing::Site down,
        peers::testing::OpenSite(chain_.down().party().origin, down_key_));
    SEG_ASSERT_OK(
        peers::testing::AppendOne(
            *down.log, chain_.Receive(chain_.down().party(), t1_, "T1", "C1",
                                      Mcb(), domain::testing::Q("4", "H87"),
                                      "SEAL-C1", domain::testing::T(30)))
            .status());
    SEG_ASSERT_OK_AND_ASSIGN(std::string note, down.log->CheckpointNow());
    std::vector<v1::SignedEntry> entries;
    SEG_ASSERT_OK(down.log->ScanEntries(
        0, down.log->Size(), [&](uint64_t, const v1::SignedEntry& e) {
          entries.push_back(e);
          return true;
        }));
    SEG_ASSERT_OK(node_->peers()
                      .peer_store()
                      ->Follow(chain_.down().party().origin, entries, note)
                      .status());
  }

  uint64_t Builds() const {
    return node_->metrics().query_graph_builds_total.load();
  }
};

TEST_F(FollowingNodeQueryTest, GraphIsReusedUntilALogGrows) {
  ASSERT_NO_FATAL_FAILURE(ProduceMcb());
  SEG_ASSERT_OK_AND_ASSIGN(v1::TimelineResponse tl, client_->Timeline(Mcb()));
  const int before = tl.events_size();
  const uint64_t builds = Builds();
  // Nothing grew: the same graph answers every query.
  SEG_ASSERT_OK_AND_ASSIGN(tl, client_->Timeline(Mcb()));
  EXPECT_EQ(tl.events_size(), before);
  SEG_ASSERT_OK_AND_ASSIGN(v1::MassBalanceResponse mb,
                           client_->MassBalance(Mcb()));
  SEG_ASSERT_OK(client_->Findings("").status());
  EXPECT_EQ(Builds(), builds);

  // Our own log grew: the dispatch is in the next answer.
  ASSERT_NO_FATAL_FAILURE(ShipMcb());
  SEG_ASSERT_OK_AND_ASSIGN(tl, client_->Timeline(Mcb()));
  EXPECT_EQ(tl.events_size(), before + 1);
  SEG_ASSERT_OK_AND_ASSIGN(mb, client_->MassBalance(Mcb()));
  EXPECT_EQ(mb.in_transit(), "4");
  ASSERT_EQ(mb.shipments_size(), 1);
  EXPECT_FALSE(mb.shipments(0).received());
  EXPECT_EQ(Builds(), builds + 1);

  // A followed log grew: its receipt ends the transit.
  ASSERT_NO_FATAL_FAILURE(FollowReceipt());
  SEG_ASSERT_OK_AND_ASSIGN(mb, client_->MassBalance(Mcb()));
  EXPECT_EQ(mb.in_transit(), "0");
  ASSERT_EQ(mb.shipments_size(), 1);
  EXPECT_TRUE(mb.shipments(0).received());
  SEG_ASSERT_OK_AND_ASSIGN(v1::TraceResponse fwd, client_->Trace(Mcb(), true));
  EXPECT_EQ(fwd.in_transit_size(), 0);
  EXPECT_EQ(Builds(), builds + 2);
}

TEST_F(FollowingNodeQueryTest, ConcurrentQueriesAgreeAndBuildOnce) {
  ASSERT_NO_FATAL_FAILURE(ProduceMcb());
  ASSERT_NO_FATAL_FAILURE(ShipMcb());
  SEG_ASSERT_OK_AND_ASSIGN(v1::MassBalanceResponse mb,
                           client_->MassBalance(Mcb()));
  ASSERT_EQ(mb.in_transit(), "4");
  ASSERT_NO_FATAL_FAILURE(FollowReceipt());
  const uint64_t builds = Builds();
  // Every query after the change sees it; together they build one graph.
  constexpr int kQueries = 16;
  std::vector<std::string> answers(kQueries);
  std::vector<std::thread> threads;
  for (int i = 0; i < kQueries; ++i) {
    threads.emplace_back([&, i] {
      absl::StatusOr<v1::MassBalanceResponse> r = client_->MassBalance(Mcb());
      answers[i] = r.ok() ? r->SerializeAsString() : r.status().ToString();
    });
  }
  for (std::thread& t : threads) t.join();
  SEG_ASSERT_OK_AND_ASSIGN(mb, client_->MassBalance(Mcb()));
  EXPECT_EQ(mb.in_transit(), "0");
  for (const std::string& a : answers) EXPECT_EQ(a, mb.SerializeAsString());
  EXPECT_EQ(Builds(), builds + 1);
}

// A query that waits for another's build uses that graph when it reflects
// everything the query must, even if a log grew again during the build:
// under steady appends the waiters used to rebuild one after another.
TEST_F(FollowingNodeQueryTest, WaitersShareABuildThatCoversThem) {
  ASSERT_NO_FATAL_FAILURE(ProduceMcb());
  std::atomic<uint64_t> builds{0};
  GraphCache cache(&node_->store(), node_->peers().peer_store(), &builds);
  absl::Notification building, waiting, release;
  cache.SetTestHooks(GraphCache::TestHooks{[&] {
                                             if (!building.HasBeenNotified()) {
                                               building.Notify();
                                               release.WaitForNotification();
                                             }
                                           },
                                           [&] {
                                             if (!waiting.HasBeenNotified())
                                               waiting.Notify();
                                           }});
  absl::StatusOr<std::shared_ptr<const domain::DomainGraph>> first, second;
  std::thread a([&] { first = cache.Get(); });
  building.WaitForNotification();
  std::thread b([&] { second = cache.Get(); });
  waiting.WaitForNotification();       // b arrived and waits for a's build
  ASSERT_NO_FATAL_FAILURE(ShipMcb());  // the log grows during the build
  release.Notify();
  a.join();
  b.join();
  SEG_ASSERT_OK(first.status());
  SEG_ASSERT_OK(second.status());
  EXPECT_EQ(*first, *second);
  EXPECT_EQ(builds.load(), 1u);
  // A call arriving now needs the dispatch: it builds again.
  SEG_ASSERT_OK_AND_ASSIGN(auto third, cache.Get());
  EXPECT_NE(third, *first);
  EXPECT_EQ(builds.load(), 2u);
}

// ---- Limits of one node's streams.

class LimitsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SetQuietLog(true);
    data_ = dir_.Sub("data");
    SEG_ASSERT_OK(InitDataDir(data_, segledger::testing::kTestOrigin,
                              segledger::testing::kTestKeyName)
                      .status());
  }

  void Start(v1::NodeConfig config, NodeOptions options = {}) {
    config.set_data_dir(data_);
    config.set_listen("127.0.0.1:0");
    config.set_insecure(true);
    config.set_checkpoint_interval_ms(3600 * 1000);
    SEG_ASSERT_OK_AND_ASSIGN(node_, Node::Start(config, std::move(options)));
    ClientOptions o;
    o.target = node_->address();
    o.insecure = true;
    o.timeout = absl::Seconds(20);
    SEG_ASSERT_OK_AND_ASSIGN(client_, Client::Connect(o));
    v1::AppendRequest req;
    *req.add_records() = TestRecord("first");
    SEG_ASSERT_OK(client_->Append(req).status());
  }

  // A channel with a connection of its own (channels to one address
  // share connections through gRPC's global subchannel pool otherwise).
  std::shared_ptr<grpc::Channel> NewChannel() {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    return grpc::CreateCustomChannel(node_->address(),
                                     grpc::InsecureChannelCredentials(), args);
  }

  // A watch of entries from 0, open once its first event arrived.
  struct OpenWatch {
    grpc::ClientContext ctx;
    std::unique_ptr<grpc::ClientReader<v1::WatchEvent>> reader;
  };
  std::unique_ptr<OpenWatch> Watch(v1::WatchService::Stub& stub,
                                   v1::WatchEvent* first) {
    auto w = std::make_unique<OpenWatch>();
    v1::WatchRequest req;
    req.set_entries(true);
    w->reader = stub.Watch(&w->ctx, req);
    if (!w->reader->Read(first)) first->Clear();
    return w;
  }

  TempDir dir_;
  std::string data_;
  std::unique_ptr<Node> node_;
  std::unique_ptr<Client> client_;
};

TEST_F(LimitsTest, WatchBeyondMaxWatchStreamsIsResourceExhausted) {
  v1::NodeConfig config;
  config.set_max_watch_streams(2);
  ASSERT_NO_FATAL_FAILURE(Start(config));
  auto stub = v1::WatchService::NewStub(NewChannel());
  v1::WatchEvent ev;
  std::unique_ptr<OpenWatch> a = Watch(*stub, &ev);
  ASSERT_TRUE(ev.has_entry());
  std::unique_ptr<OpenWatch> b = Watch(*stub, &ev);
  ASSERT_TRUE(ev.has_entry());
  EXPECT_EQ(node_->metrics().watch_streams.load(), 2u);

  std::unique_ptr<OpenWatch> c = Watch(*stub, &ev);
  EXPECT_FALSE(ev.has_entry());
  grpc::Status s = c->reader->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(s.error_message(), HasSubstr("max_watch_streams: 2"));

  // Once one ends, a new watch is served again.
  a->ctx.TryCancel();
  while (a->reader->Read(&ev)) {
  }
  EXPECT_EQ(a->reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
  ASSERT_TRUE(
      Eventually([&] { return node_->metrics().watch_streams.load() == 1; }));
  std::unique_ptr<OpenWatch> d = Watch(*stub, &ev);
  EXPECT_TRUE(ev.has_entry());
  b->ctx.TryCancel();
  d->ctx.TryCancel();
}

TEST_F(LimitsTest, DefaultMaxWatchStreamsIs64) {
  ASSERT_NO_FATAL_FAILURE(Start(v1::NodeConfig()));
  auto stub = v1::WatchService::NewStub(NewChannel());
  std::vector<std::unique_ptr<OpenWatch>> open;
  v1::WatchEvent ev;
  for (int i = 0; i < 64; ++i) {
    open.push_back(Watch(*stub, &ev));
    ASSERT_TRUE(ev.has_entry()) << i;
  }
  std::unique_ptr<OpenWatch> over = Watch(*stub, &ev);
  EXPECT_FALSE(ev.has_entry());
  EXPECT_EQ(over->reader->Finish().error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  for (auto& w : open) w->ctx.TryCancel();
}

// Holds every scan of the entries family (a query loading the node's log)
// while closed; everything else passes through.
struct ScanGate {
  absl::Mutex mu;
  bool closed ABSL_GUARDED_BY(mu) = false;
  int held ABSL_GUARDED_BY(mu) = 0;                   // scans waiting now
  std::set<std::string> threads ABSL_GUARDED_BY(mu);  // names of scanners

  void Close() {
    absl::MutexLock lock(&mu);
    closed = true;
  }
  void Open() {
    absl::MutexLock lock(&mu);
    closed = false;
  }
  int Held() {
    absl::MutexLock lock(&mu);
    return held;
  }
  std::set<std::string> Threads() {
    absl::MutexLock lock(&mu);
    return threads;
  }
  void Pass() {
    char name[16] = {};
    pthread_getname_np(pthread_self(), name, sizeof(name));
    absl::MutexLock lock(&mu);
    threads.insert(name);
    ++held;
    mu.Await(absl::Condition(
        +[](bool* c) { return !*c; }, &closed));
    --held;
  }
};

class GatedKv final : public ::segledger::testing::ForwardingKv {
 public:
  GatedKv(std::unique_ptr<store::KvStore> base, std::shared_ptr<ScanGate> gate)
      : ForwardingKv(std::move(base)), gate_(std::move(gate)) {}
  absl::Status Scan(store::Family f, absl::string_view b, absl::string_view e,
                    const std::function<bool(absl::string_view,
                                             absl::string_view)>& fn) override {
    if (f == store::Family::kEntries) gate_->Pass();
    return ForwardingKv::Scan(f, b, e, fn);
  }

 private:
  std::shared_ptr<ScanGate> gate_;
};

// Queries run on the node's query threads ("seg-query"), not on gRPC's:
// while every query waits (here on a held store read) the node still
// serves reads and appends, and a query beyond max_queries is refused at
// once, as is an invalid one, without waiting behind the others.
TEST_F(LimitsTest, QueriesRunOffGrpcThreadsUpToMaxQueries) {
  constexpr int kMax = 6;
  auto gate = std::make_shared<ScanGate>();
  NodeOptions options;
  options.query_threads = 1;
  options.max_queries = kMax;
  options.wrap_kv = [gate](std::unique_ptr<store::KvStore> kv) {
    return std::make_unique<GatedKv>(std::move(kv), gate);
  };
  ASSERT_NO_FATAL_FAILURE(Start(v1::NodeConfig(), std::move(options)));
  gate->Close();
  std::vector<absl::Status> results(kMax);
  std::vector<std::thread> calls;
  // Also when an assertion below returns early: the held calls end.
  absl::Cleanup release = [&] {
    gate->Open();
    for (std::thread& t : calls) {
      if (t.joinable()) t.join();
    }
  };
  for (int i = 0; i < kMax; ++i) {
    calls.emplace_back([&, i] { results[i] = client_->Findings("").status(); });
  }
  // One query holds the query thread in its store read; the others queue.
  ASSERT_TRUE(Eventually([&] {
    return gate->Held() == 1 &&
           node_->metrics().queries_pending.load() == uint64_t{kMax};
  }));
  SEG_EXPECT_OK(client_->GetEntry(0).status());
  v1::AppendRequest req;
  *req.add_records() = TestRecord("while-queries-wait");
  SEG_EXPECT_OK(client_->Append(req).status());
  EXPECT_THAT(client_->Findings("").status(),
              ::segledger::testing::StatusIs(
                  absl::StatusCode::kResourceExhausted,
                  absl::StrCat("max_queries: ", kMax, " queries")));
  EXPECT_THAT(client_->Findings("severe").status(),
              ::segledger::testing::StatusIs(absl::StatusCode::kInvalidArgument,
                                             "min_severity"));
  EXPECT_THAT(client_->Timeline("").status(),
              ::segledger::testing::StatusIs(absl::StatusCode::kInvalidArgument,
                                             "lot_id: empty"));
  std::move(release).Invoke();
  for (const absl::Status& r : results) SEG_EXPECT_OK(r);
  EXPECT_EQ(gate->Threads(), std::set<std::string>{"seg-query"});
  EXPECT_EQ(node_->metrics().queries_pending.load(), 0u);
  // The query slots are free again.
  SEG_EXPECT_OK(client_->Findings("").status());
}

// One connection's calls beyond max_concurrent_streams wait for a slot
// (the client queues them); another connection is served meanwhile.
TEST_F(LimitsTest, StreamsPerConnectionAreCapped) {
  NodeOptions options;
  options.max_concurrent_streams = 1;
  ASSERT_NO_FATAL_FAILURE(Start(v1::NodeConfig(), std::move(options)));
  std::shared_ptr<grpc::Channel> channel = NewChannel();
  auto watch_stub = v1::WatchService::NewStub(channel);
  v1::WatchEvent ev;
  std::unique_ptr<OpenWatch> w = Watch(*watch_stub, &ev);
  ASSERT_TRUE(ev.has_entry());

  auto read_on = [](const std::shared_ptr<grpc::Channel>& ch,
                    absl::Duration deadline) {
    auto stub = v1::ReadService::NewStub(ch);
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + deadline));
    v1::GetEntryRequest req;
    req.set_index(0);
    v1::EntryResponse resp;
    return stub->GetEntry(&ctx, req, &resp).error_code();
  };
  // The watch holds the connection's one stream: the call cannot start.
  // (It could only pass if the limit were not applied.)
  EXPECT_EQ(read_on(channel, absl::Milliseconds(300)),
            grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_EQ(read_on(NewChannel(), absl::Seconds(20)), grpc::StatusCode::OK);
  w->ctx.TryCancel();
  while (w->reader->Read(&ev)) {
  }
  w->reader->Finish();
  EXPECT_EQ(read_on(channel, absl::Seconds(20)), grpc::StatusCode::OK);
}

// A client that sends refused records and never reads its acks: the
// stream stops reading once a window of acks waits for a write, so the
// node holds a bounded number of them; when the client reads, every ack
// arrives, in order, and the stream ends OK.
TEST_F(LimitsTest, AppendStreamStopsReadingWhileAcksAreUnread) {
  constexpr uint32_t kWindow = 16;
  constexpr int kRecords = 200000;
  v1::NodeConfig config;
  config.set_stream_window(kWindow);
  ASSERT_NO_FATAL_FAILURE(Start(config));
  auto stub = v1::AppendService::NewStub(NewChannel());
  grpc::ClientContext ctx;
  auto stream = stub->AppendStream(&ctx);
  const uint64_t refused_before = node_->metrics().refused_records_total;

  std::atomic<int> written{0};
  std::thread writer([&] {
    for (int i = 0; i < kRecords; ++i) {
      v1::AppendStreamRequest req;
      v1::StreamRecord* r = req.add_records();
      r->set_sequence(i);
      r->mutable_record()->set_request_id(std::string(1, '\x01'));  // refused
      if (!stream->Write(req)) return;
      written.fetch_add(1);
    }
    stream->WritesDone();
  });
  // The node holds back its reads (at most a window of acks waits while
  // the client reads none), long before the client wrote everything.
  // EXPECT, not ASSERT, up to the join: returning early would destroy the
  // joinable writer thread (std::terminate, the binary's other tests lost).
  EXPECT_TRUE(Eventually([&] {
    return node_->metrics().append_stream_read_holds_total.load() > 0 ||
           written.load() == kRecords;
  }));
  EXPECT_GT(node_->metrics().append_stream_read_holds_total.load(), 0u);
  const uint64_t read_while_held =
      node_->metrics().refused_records_total - refused_before;
  EXPECT_LT(read_while_held, static_cast<uint64_t>(kRecords));
  EXPECT_LT(written.load(), kRecords);

  // Now read: every ack, in order, each refused.
  v1::AppendStreamResponse resp;
  int next = 0;
  bool in_order = true;
  while (next < kRecords && stream->Read(&resp)) {
    for (const v1::StreamAck& a : resp.acks()) {
      in_order = in_order && a.sequence() == static_cast<uint64_t>(next) &&
                 a.error_code() == static_cast<int>(grpc::INVALID_ARGUMENT);
      ++next;
    }
  }
  writer.join();
  EXPECT_TRUE(in_order);
  EXPECT_EQ(next, kRecords);
  EXPECT_FALSE(stream->Read(&resp));
  EXPECT_TRUE(stream->Finish().ok());
  EXPECT_EQ(node_->metrics().refused_records_total - refused_before,
            static_cast<uint64_t>(kRecords));
}

// One message over the record cap is not read: the acks of the earlier
// messages arrive, then the stream ends with INVALID_ARGUMENT naming the
// cap (its refused records would each have queued an ack at once).
TEST_F(LimitsTest, AppendStreamMessageOverTheRecordCapEndsTheStream) {
  ASSERT_NO_FATAL_FAILURE(Start(v1::NodeConfig()));
  auto stub = v1::AppendService::NewStub(NewChannel());
  grpc::ClientContext ctx;
  auto stream = stub->AppendStream(&ctx);
  v1::AppendStreamRequest first;
  first.add_records()->set_sequence(0);  // refused: no record
  ASSERT_TRUE(stream->Write(first));
  v1::AppendStreamRequest big;
  for (int i = 1; i <= 4097; ++i) big.add_records()->set_sequence(i);
  stream->Write(big);  // may fail once the node ended the stream
  stream->WritesDone();
  v1::AppendStreamResponse resp;
  std::vector<uint64_t> acked;
  while (stream->Read(&resp)) {
    for (const v1::StreamAck& a : resp.acks()) acked.push_back(a.sequence());
  }
  EXPECT_EQ(acked, std::vector<uint64_t>{0});
  grpc::Status st = stream->Finish();
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(st.error_message().find(
                "records: 4097 records in one message, limit 4096"),
            std::string::npos)
      << st.error_message();
}

}  // namespace
}  // namespace segledger::node
