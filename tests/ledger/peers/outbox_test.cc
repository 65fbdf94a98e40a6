// The hand-off outbox (DESIGN.md "Cross-site hand-off" steps 2 and 5): rows
// written in the entry's own synced batch (a refused record leaves none),
// delivery bookkeeping with backoff, evidence built from the LogStore and
// accepted by the receiver exactly once, and a Receipt accepted only after
// the dispatch it cites is held verified.
#include "ledger/peers/outbox.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "ledger/domain/hook.h"
#include "ledger/peers/peer_keys.h"
#include "ledger/peers/peer_store.h"
#include "tests/ledger/domain/adc_scenario.h"
#include "tests/ledger/peers/peer_fixture.h"
#include "tests/support/test_util.h"

namespace segledger::peers {
namespace {

using ::segledger::testing::IsOk;
using ::segledger::testing::StatusIs;
using store::Family;
using testing::AppendOne;
using testing::DispatchRecord;
using testing::Dump;
using testing::NewKey;
using testing::NoteRecord;
using testing::OpenSite;
using testing::Site;

constexpr char kUp[] = "cmo-up.example/segledger";
constexpr char kDown[] = "cmo-down.example/segledger";

DestinationFn Destinations() { return DestinationsByParty({{"down", kDown}}); }

// Accepts everything except a dispatch of transfer "BAD".
class RefuseBad : public store::AppendHook {
 public:
  absl::Status OnAppend(const v1::EntryBody& body,
                        store::IndexTxn& txn) override {
    if (body.record().dispatch().transfer_id() == "BAD") {
      return absl::FailedPreconditionError("rule R-TEST: bad transfer");
    }
    txn.Put(absl::StrCat("d/test/", body.index()), "x");
    return absl::OkStatus();
  }
};

TEST(OutboxTest, RowsAreWrittenWithTheEntryAndSurviveReopen) {
  segledger::testing::TempDir dir;
  auto key = NewKey("up-k1");
  RefuseBad inner;
  OutboxHook hook(&inner, Destinations());
  uint64_t d = 0, r = 0;
  {
    SEG_ASSERT_OK_AND_ASSIGN(auto kv, store::RocksDbKv::Open(dir.Sub("db")));
    SEG_ASSERT_OK_AND_ASSIGN(Site up, OpenSite(kUp, key, std::move(kv), &hook));
    SEG_ASSERT_OK(AppendOne(*up.log, NoteRecord("n")).status());
    SEG_ASSERT_OK_AND_ASSIGN(d,
                             AppendOne(*up.log, DispatchRecord("T1", "down")));
    v1::Record receipt;
    receipt.mutable_receipt()->mutable_dispatch()->set_origin(
        "fill.example/segledger");
    SEG_ASSERT_OK_AND_ASSIGN(r, AppendOne(*up.log, receipt));
    SEG_ASSERT_OK(up.log->Close());
  }
  SEG_ASSERT_OK_AND_ASSIGN(auto kv, store::RocksDbKv::Open(dir.Sub("db")));
  SEG_ASSERT_OK_AND_ASSIGN(Site up, OpenSite(kUp, key, std::move(kv), &hook));
  Outbox outbox(*up.log);
  SEG_ASSERT_OK_AND_ASSIGN(std::vector<Delivery> pending, outbox.Pending());
  ASSERT_EQ(pending.size(), 2u);
  EXPECT_EQ(pending[0].destination, kDown);
  EXPECT_EQ(pending[0].index, d);
  EXPECT_EQ(pending[1].destination, "fill.example/segledger");
  EXPECT_EQ(pending[1].index, r);
  EXPECT_EQ(pending[0].state.attempts(), 0u);
}

TEST(OutboxTest, RefusedRecordsLeaveNoRow) {
  auto key = NewKey("up-k1");
  RefuseBad inner;
  OutboxHook hook(&inner, Destinations());
  SEG_ASSERT_OK_AND_ASSIGN(Site up, OpenSite(kUp, key, nullptr, &hook));
  SEG_ASSERT_OK(AppendOne(*up.log, DispatchRecord("T1", "down")).status());
  const auto index_before = Dump(*up.kv, Family::kIndex);
  const uint64_t size_before = up.log->Size();

  // Refused by the inner (domain) hook, alone and inside a larger request.
  EXPECT_THAT(AppendOne(*up.log, DispatchRecord("BAD", "down")),
              StatusIs(absl::StatusCode::kFailedPrecondition, "R-TEST"));
  std::vector<store::AppendRecord> two;
  two.push_back({testing::Operator(), "", DispatchRecord("T2", "down")});
  two.push_back({testing::Operator(), "", DispatchRecord("BAD", "down")});
  EXPECT_THAT(up.log->Append(std::move(two)),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  // Refused by the outbox itself: no peer for the destination.
  EXPECT_THAT(AppendOne(*up.log, DispatchRecord("T3", "nobody")),
              StatusIs(absl::StatusCode::kFailedPrecondition, "nobody"));

  EXPECT_EQ(up.log->Size(), size_before);
  EXPECT_EQ(Dump(*up.kv, Family::kIndex), index_before);
  Outbox outbox(*up.log);
  EXPECT_EQ(outbox.Pending()->size(), 1u);
}

TEST(OutboxTest, DomainRefusedDispatchLeavesNoRow) {
  auto key = NewKey("up-k1");
  domain::DomainConfig config;
  config.party_id = "https://cmo-up.example/party";
  config.site_id = "https://cmo-up.example/site/1";
  domain::DomainHook domain_hook(config);
  OutboxHook hook(&domain_hook, Destinations());
  SEG_ASSERT_OK_AND_ASSIGN(Site up, OpenSite(kUp, key, nullptr, &hook));
  const auto index_before = Dump(*up.kv, Family::kIndex);
  EXPECT_FALSE(AppendOne(*up.log, DispatchRecord("T1", "down")).ok());
  EXPECT_EQ(up.log->Size(), 0u);
  EXPECT_EQ(Dump(*up.kv, Family::kIndex), index_before);
}

TEST(OutboxTest, BackoffAndIdempotentDelivery) {
  FakeClock clock(testing::T0());
  auto key = NewKey("up-k1");
  OutboxHook hook(nullptr, Destinations());
  SEG_ASSERT_OK_AND_ASSIGN(Site up, OpenSite(kUp, key, nullptr, &hook, &clock));
  SEG_ASSERT_OK_AND_ASSIGN(uint64_t d,
                           AppendOne(*up.log, DispatchRecord("T1", "down")));
  Outbox outbox(
      *up.log, &clock,
      BackoffPolicy{absl::Milliseconds(100), absl::Milliseconds(350)});
  const absl::Duration waits[] = {
      absl::Milliseconds(100), absl::Milliseconds(200), absl::Milliseconds(350),
      absl::Milliseconds(350)};
  for (absl::Duration w : waits) {
    SEG_ASSERT_OK(outbox.MarkFailed(kDown, d, absl::UnavailableError("down")));
    EXPECT_TRUE(outbox.Pending(clock.Now())->empty());
    clock.Advance(w - absl::Milliseconds(1));
    EXPECT_TRUE(outbox.Pending(clock.Now())->empty());
    clock.Advance(absl::Milliseconds(1));
    EXPECT_EQ(outbox.Pending(clock.Now())->size(), 1u);
  }
  SEG_ASSERT_OK_AND_ASSIGN(v1::OutboxState st, outbox.State(kDown, d));
  EXPECT_EQ(st.attempts(), 4u);
  EXPECT_NE(st.last_error().find("down"), std::string::npos);
  SEG_ASSERT_OK(outbox.MarkDelivered(kDown, d));
  SEG_ASSERT_OK(outbox.MarkDelivered(kDown, d));
  SEG_ASSERT_OK(outbox.MarkFailed(kDown, d, absl::UnavailableError("late")));
  EXPECT_TRUE(outbox.Pending()->empty());
  EXPECT_TRUE(outbox.State(kDown, d)->delivered());
  EXPECT_THAT(outbox.MarkDelivered(kDown, d + 1),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(outbox.MarkDelivered("other", d),
              StatusIs(absl::StatusCode::kNotFound));
}

// A pass reads each destination's rows from the first one not known
// delivered: delivered history is not read again (a damaged state row of a
// delivered entry shows this), while rows after an undelivered one, new
// rows and other destinations are all still found, in order.
TEST(OutboxTest, PendingSkipsDeliveredHistory) {
  FakeClock clock(testing::T0());
  auto key = NewKey("up-k1");
  OutboxHook hook(nullptr, Destinations());
  SEG_ASSERT_OK_AND_ASSIGN(Site up, OpenSite(kUp, key, nullptr, &hook, &clock));
  constexpr char kFill[] = "fill.example/segledger";
  auto receipt_to_fill = [&] {
    v1::Record receipt;
    receipt.mutable_receipt()->mutable_dispatch()->set_origin(kFill);
    return AppendOne(*up.log, receipt);
  };
  std::vector<uint64_t> d;
  for (int i = 0; i < 6; ++i) {
    SEG_ASSERT_OK_AND_ASSIGN(
        uint64_t index,
        AppendOne(*up.log, DispatchRecord(absl::StrCat("T", i), "down")));
    d.push_back(index);
  }
  SEG_ASSERT_OK_AND_ASSIGN(uint64_t r0, receipt_to_fill());
  Outbox outbox(*up.log, &clock);
  for (int i = 0; i < 3; ++i) SEG_ASSERT_OK(outbox.MarkDelivered(kDown, d[i]));
  SEG_ASSERT_OK(outbox.MarkFailed(kDown, d[3], absl::UnavailableError("x")));
  SEG_ASSERT_OK(outbox.MarkDelivered(kDown, d[4]));
  SEG_ASSERT_OK_AND_ASSIGN(std::vector<Delivery> due, outbox.Pending());
  ASSERT_EQ(due.size(), 3u);
  EXPECT_EQ(due[0].index, d[3]);
  EXPECT_EQ(due[1].index, d[5]);
  EXPECT_EQ(due[2].destination, kFill);
  EXPECT_EQ(due[2].index, r0);

  // Damage the state rows of delivered entries before the first undelivered
  // one: no later pass reads them.
  store::KvBatch damage;
  for (int i = 0; i < 3; ++i) {
    damage.Put(Family::kPeers, PositionKey('o', kDown, d[i]), "\xff\xff");
  }
  SEG_ASSERT_OK(up.kv->Write(damage, false));
  SEG_ASSERT_OK_AND_ASSIGN(uint64_t d6,
                           AppendOne(*up.log, DispatchRecord("T6", "down")));
  SEG_ASSERT_OK_AND_ASSIGN(uint64_t r1, receipt_to_fill());
  SEG_ASSERT_OK_AND_ASSIGN(due, outbox.Pending());
  ASSERT_EQ(due.size(), 5u);
  EXPECT_EQ(due[0].index, d[3]);
  EXPECT_EQ(due[1].index, d[5]);
  EXPECT_EQ(due[2].index, d6);
  EXPECT_EQ(due[3].index, r0);
  EXPECT_EQ(due[4].index, r1);
  // At most `max`, still in order.
  SEG_ASSERT_OK_AND_ASSIGN(due, outbox.Pending(absl::InfiniteFuture(), 2));
  ASSERT_EQ(due.size(), 2u);
  EXPECT_EQ(due[1].index, d[5]);
  // A fresh outbox (a restart) reads the whole history once: the damage
  // is reported there.
  Outbox reopened(*up.log, &clock);
  EXPECT_THAT(reopened.Pending(), StatusIs(absl::StatusCode::kDataLoss));
}

// Both directions of a hand-off between two real LogStores, with the
// receiver's DomainHook deciding on the Receipt through PeerEvidence.
TEST(OutboxTest, ReceiptAcceptedOnlyAfterVerifiedDispatchAndTravelsBack) {
  domain::testing::AdcChain chain;
  const domain::testing::Party& up_party = chain.up().party();
  const domain::testing::Party& down_party = chain.down().party();
  auto up_key = NewKey("up-k1");
  auto down_key = NewKey("down-k1");
  OutboxHook up_hook(nullptr, DestinationsByParty({{down_party.party, kDown}}));
  SEG_ASSERT_OK_AND_ASSIGN(Site up, OpenSite(kUp, up_key, nullptr, &up_hook));

  store::MemoryKv down_peers_kv;  // the receiver's peer state
  PeerStore down_peers(down_peers_kv);
  SEG_ASSERT_OK(down_peers.AddPeer({kUp, {up_key->Verifier()}}));
  PeerEvidence evidence(down_peers);
  domain::DomainConfig config;
  config.party_id = down_party.party;
  config.site_id = down_party.site;
  config.evidence = &evidence;
  domain::DomainHook down_domain(config);
  OutboxHook down_hook(&down_domain, DestinationsByParty({}));
  SEG_ASSERT_OK_AND_ASSIGN(Site down,
                           OpenSite(kDown, down_key, nullptr, &down_hook));

  const absl::Time t = domain::testing::T(24);
  v1::Record ship =
      chain.Ship(up_party, down_party, "T1", "C1", domain::testing::Lot("LOT1"),
                 domain::testing::Q("10", "LTR"),
                 domain::testing::Range(200, 800), t, t + absl::Hours(12));
  SEG_ASSERT_OK_AND_ASSIGN(uint64_t d, AppendOne(*up.log, ship));
  v1::EntryRef ref;
  ref.set_origin(kUp);
  ref.set_index(d);
  ref.set_leaf_hash(std::string(HashBytes(*up.log->LeafHashAt(d))));
  v1::Record receipt = chain.Receive(
      down_party, ref, "T1", "C1", domain::testing::Lot("LOT1"),
      domain::testing::Q("10", "LTR"), "SEAL-C1", t + absl::Hours(10));

  // Before delivery: refused, nothing written.
  const auto index_before = Dump(*down.kv, Family::kIndex);
  EXPECT_THAT(
      AppendOne(*down.log, receipt),
      StatusIs(absl::StatusCode::kFailedPrecondition, "R-RECEIPT-EVIDENCE"));
  EXPECT_EQ(Dump(*down.kv, Family::kIndex), index_before);

  // Deliver; the sender "crashes" before marking it and delivers again.
  Outbox up_outbox(*up.log);
  SEG_ASSERT_OK_AND_ASSIGN(auto pending, up_outbox.Pending());
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_EQ(pending[0].destination, kDown);
  for (int attempt = 0; attempt < 2; ++attempt) {
    SEG_ASSERT_OK_AND_ASSIGN(v1::HandoffEvidence ev,
                             up_outbox.BuildEvidence(d, 0));
    SEG_ASSERT_OK_AND_ASSIGN(AcceptResult res, down_peers.AcceptEvidence(ev));
    EXPECT_EQ(res.duplicate, attempt == 1);
  }
  SEG_ASSERT_OK(up_outbox.MarkDelivered(kDown, d));
  EXPECT_TRUE(up_outbox.Pending()->empty());

  // Now the receipt is accepted, and queued back to the sender.
  SEG_ASSERT_OK_AND_ASSIGN(uint64_t r, AppendOne(*down.log, receipt));
  EXPECT_THAT(
      AppendOne(*down.log, receipt),
      StatusIs(absl::StatusCode::kFailedPrecondition, "R-RECEIPT-ONCE"));
  Outbox down_outbox(*down.log);
  SEG_ASSERT_OK_AND_ASSIGN(auto back, down_outbox.Pending());
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].destination, kUp);
  EXPECT_EQ(back[0].index, r);

  store::MemoryKv up_peers_kv;
  PeerStore up_peers(up_peers_kv);
  SEG_ASSERT_OK(up_peers.AddPeer({kDown, {down_key->Verifier()}}));
  SEG_ASSERT_OK_AND_ASSIGN(v1::HandoffEvidence back_ev,
                           down_outbox.BuildEvidence(r, 0));
  SEG_ASSERT_OK(up_peers.AcceptEvidence(back_ev));
  SEG_ASSERT_OK_AND_ASSIGN(v1::StoredEvidence held,
                           up_peers.GetEvidence(kDown, r));
  EXPECT_EQ(held.evidence().entry().entry().body(),
            down.log->GetEntry(r)->body());
}

}  // namespace
}  // namespace segledger::peers
