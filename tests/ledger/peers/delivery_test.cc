// Delivery and follow loops over an in-process transport: receiver down
// during dispatches, sender restarted with undelivered evidence, lost
// acknowledgements and a restarted receiver - every dispatch delivered
// exactly once; the follower catching up with a growing log.
#include "ledger/peers/delivery.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/ledger/peers/peer_fixture.h"
#include "tests/support/test_util.h"

namespace segledger::peers {
namespace {

using ::segledger::testing::IsOk;
using testing::AppendOne;
using testing::DispatchRecord;
using testing::NewKey;
using testing::NoteRecord;
using testing::OpenSite;
using testing::Site;

constexpr char kUp[] = "cmo-up.example/segledger";
constexpr char kDown[] = "cmo-down.example/segledger";

// Delivers into a PeerStore in the same process.
class LoopbackTransport : public PeerTransport {
 public:
  PeerStore* receiver = nullptr;  // nullptr: receiver down
  bool lose_acks = false;         // store, then report a failure
  int delivered = 0;
  int duplicates = 0;

  absl::StatusOr<uint64_t> HeldSize(absl::string_view,
                                    absl::string_view origin) override {
    if (receiver == nullptr) return absl::UnavailableError("receiver down");
    auto held = receiver->Latest(origin);
    if (!held.ok()) return held.status();
    return held->has_value() ? (*held)->size : 0;
  }
  absl::Status Deliver(absl::string_view,
                       const v1::HandoffEvidence& ev) override {
    if (receiver == nullptr) return absl::UnavailableError("receiver down");
    auto r = receiver->AcceptEvidence(ev);
    if (!r.ok()) return r.status();
    ++(r->duplicate ? duplicates : delivered);
    if (lose_acks) return absl::DeadlineExceededError("ack lost");
    return absl::OkStatus();
  }
};

class DeliveryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    key_ = NewKey("up-k1");
    OpenSender();
    OpenReceiver();
  }
  void OpenSender() {
    outbox_.reset();
    up_.log.reset();
    SEG_ASSERT_OK_AND_ASSIGN(auto kv, store::RocksDbKv::Open(dir_.Sub("up")));
    SEG_ASSERT_OK_AND_ASSIGN(
        up_, OpenSite(kUp, key_, std::move(kv), &hook_, &clock_));
    outbox_ = std::make_unique<Outbox>(*up_.log, &clock_);
  }
  void OpenReceiver() {
    transport_.receiver = nullptr;
    down_.reset();
    down_kv_.reset();
    SEG_ASSERT_OK_AND_ASSIGN(down_kv_,
                             store::RocksDbKv::Open(dir_.Sub("down")));
    down_ = std::make_unique<PeerStore>(*down_kv_);
    SEG_ASSERT_OK(down_->AddPeer({kUp, {key_->Verifier()}}));
    transport_.receiver = down_.get();
  }
  void Dispatch(int n) {
    for (int i = 0; i < n; ++i) {
      SEG_ASSERT_OK(AppendOne(*up_.log, NoteRecord("n")).status());
      SEG_ASSERT_OK(AppendOne(*up_.log, DispatchRecord(
                                            absl::StrCat("T", sent_++), "down"))
                        .status());
    }
  }
  // Runs passes (advancing the clock past any backoff) until nothing is
  // pending; bounded.
  void Drain() {
    for (int pass = 0; pass < 20 && !outbox_->Pending()->empty(); ++pass) {
      SEG_ASSERT_OK(DeliverDue(*outbox_, transport_, clock_.Now()).status());
      clock_.Advance(absl::Minutes(2));
    }
    EXPECT_TRUE(outbox_->Pending()->empty());
  }

  segledger::testing::TempDir dir_;
  FakeClock clock_{testing::T0()};
  std::shared_ptr<const NoteSigner> key_;
  OutboxHook hook_{nullptr, DestinationsByParty({{"down", kDown}})};
  Site up_;
  std::unique_ptr<Outbox> outbox_;
  std::unique_ptr<store::RocksDbKv> down_kv_;
  std::unique_ptr<PeerStore> down_;
  LoopbackTransport transport_;
  int sent_ = 0;
};

TEST_F(DeliveryTest, ReceiverDownThenUp) {
  transport_.receiver = nullptr;
  Dispatch(3);
  SEG_ASSERT_OK_AND_ASSIGN(DeliveryReport r,
                           DeliverDue(*outbox_, transport_, clock_.Now()));
  EXPECT_EQ(r.failed, 3);
  EXPECT_EQ(r.delivered, 0);
  // Not due again before the backoff passes.
  SEG_ASSERT_OK_AND_ASSIGN(r, DeliverDue(*outbox_, transport_, clock_.Now()));
  EXPECT_EQ(r.failed + r.delivered, 0);
  transport_.receiver = down_.get();
  Drain();
  EXPECT_EQ(transport_.delivered, 3);
  EXPECT_EQ(transport_.duplicates, 0);
  EXPECT_EQ(down_->ListEvidence(kUp)->size(), 3u);
}

TEST_F(DeliveryTest, RestartsAndLostAcksDeliverExactlyOnce) {
  transport_.receiver = nullptr;
  Dispatch(2);
  SEG_ASSERT_OK(DeliverDue(*outbox_, transport_, clock_.Now()).status());
  OpenSender();  // sender restarted with undelivered evidence
  EXPECT_EQ(outbox_->Pending()->size(), 2u);
  OpenReceiver();
  transport_.lose_acks = true;  // stored, but the sender never hears
  clock_.Advance(absl::Minutes(2));
  SEG_ASSERT_OK(DeliverDue(*outbox_, transport_, clock_.Now()).status());
  EXPECT_EQ(transport_.delivered, 2);
  OpenSender();  // both restarted
  OpenReceiver();
  transport_.lose_acks = false;
  clock_.Advance(absl::Minutes(2));
  Dispatch(2);
  Drain();
  EXPECT_EQ(transport_.delivered, 4);
  EXPECT_EQ(transport_.duplicates, 2);
  SEG_ASSERT_OK_AND_ASSIGN(auto held, down_->ListEvidence(kUp));
  ASSERT_EQ(held.size(), 4u);
  for (const auto& ev : held) {
    SEG_ASSERT_OK_AND_ASSIGN(
        auto state, outbox_->State(kDown, ev.evidence().entry().index()));
    EXPECT_TRUE(state.delivered());
  }
}

// A LogStore read in-process as a follow source.
class StoreSource : public FollowSource {
 public:
  explicit StoreSource(store::LogStore& log) : log_(log) {}
  absl::StatusOr<std::string> LatestCheckpoint() override {
    return log_.CheckpointNow();
  }
  absl::StatusOr<std::vector<v1::SignedEntry>> Entries(uint64_t from,
                                                       uint64_t to) override {
    std::vector<v1::SignedEntry> out;
    absl::Status s =
        log_.ScanEntries(from, to, [&](uint64_t, const v1::SignedEntry& e) {
          out.push_back(e);
          return true;
        });
    if (!s.ok()) return s;
    return out;
  }

 private:
  store::LogStore& log_;
};

TEST_F(DeliveryTest, FollowOnceCatchesUp) {
  StoreSource source(*up_.log);
  for (int round = 0; round < 4; ++round) {
    Dispatch(round + 1);
    SEG_ASSERT_OK_AND_ASSIGN(uint64_t size, FollowOnce(*down_, kUp, source));
    EXPECT_EQ(size, up_.log->Size());
  }
  SEG_ASSERT_OK_AND_ASSIGN(uint64_t same, FollowOnce(*down_, kUp, source));
  EXPECT_EQ(same, up_.log->Size());
  // Evidence delivered after following verifies against the followed view.
  Drain();
  EXPECT_EQ(down_->ListEvidence(kUp)->size(), 10u);
  EXPECT_TRUE(down_->Equivocations()->empty());
}

}  // namespace
}  // namespace segledger::peers
