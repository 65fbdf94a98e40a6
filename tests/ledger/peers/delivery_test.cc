// Delivery and follow loops over an in-process transport: receiver down
// during dispatches, sender restarted with undelivered evidence, lost
// acknowledgements and a restarted receiver - every dispatch delivered
// exactly once; the follower catching up with a growing log.
#include "ledger/peers/delivery.h"

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "ledger/entry_codec.h"
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
  absl::Status Entries(
      uint64_t from, uint64_t to,
      const std::function<bool(v1::SignedEntry&)>& take) override {
    return log_.ScanEntries(from, to,
                            [&](uint64_t index, const v1::SignedEntry& e) {
                              v1::SignedEntry copy = e;
                              if (index == big_index) {
                                copy.set_body(std::string(big_body, 'x'));
                              }
                              ++streamed;
                              return take(copy);
                            });
  }
  absl::StatusOr<std::optional<std::string>> CheckpointIn(
      uint64_t above, uint64_t at_most) override {
    std::optional<std::string> best;
    absl::Status s =
        log_.ScanCheckpoints([&](uint64_t size, absl::string_view note) {
          if (size > above && size <= at_most) best = std::string(note);
          return size <= at_most;
        });
    if (!s.ok()) return s;
    return best;
  }
  absl::StatusOr<std::vector<Hash>> ConsistencyProof(
      uint64_t old_size, uint64_t new_size) override {
    ++proofs;
    return log_.ConsistencyProof(old_size, new_size);
  }
  int proofs = 0;
  int streamed = 0;  // entries handed to `take`
  // The entry at big_index is sent with a body of big_body bytes.
  uint64_t big_index = UINT64_MAX;
  size_t big_body = 0;

 private:
  store::LogStore& log_;
};

// The same note with another size line: still a note, no longer signed.
std::string WithSize(absl::string_view note, uint64_t size) {
  std::vector<std::string> lines = absl::StrSplit(note, '\n');
  lines[1] = absl::StrCat(size);
  return absl::StrJoin(lines, "\n");
}

// A source that claims what it is told to and records what it is asked.
class LyingSource : public FollowSource {
 public:
  absl::StatusOr<std::string> LatestCheckpoint() override { return latest; }
  absl::Status Entries(uint64_t from, uint64_t to,
                       const std::function<bool(v1::SignedEntry&)>&) override {
    asked.emplace_back(from, to);
    return absl::UnavailableError("no entries here");
  }
  absl::StatusOr<std::optional<std::string>> CheckpointIn(uint64_t,
                                                          uint64_t) override {
    return step;
  }
  absl::StatusOr<std::vector<Hash>> ConsistencyProof(uint64_t,
                                                     uint64_t) override {
    return absl::OutOfRangeError("tree_size: beyond log size");
  }
  std::string latest;
  std::optional<std::string> step;
  std::vector<std::pair<uint64_t, uint64_t>> asked;
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

TEST_F(DeliveryTest, FollowOnceGoesInStepsFromFarBehind) {
  StoreSource source(*up_.log);
  for (int round = 0; round < 6; ++round) {
    Dispatch(1);
    SEG_ASSERT_OK(up_.log->CheckpointNow().status());
  }
  const FollowLimits limits{/*max_step=*/3, /*max_gap=*/4};
  std::set<uint64_t> checkpointed;
  SEG_ASSERT_OK(up_.log->ScanCheckpoints([&](uint64_t size, absl::string_view) {
    checkpointed.insert(size);
    return true;
  }));
  uint64_t size = 0;
  int steps = 0;
  for (; steps < 40 && size < up_.log->Size(); ++steps) {
    SEG_ASSERT_OK_AND_ASSIGN(uint64_t next,
                             FollowOnce(*down_, kUp, source, limits));
    EXPECT_GT(next, size);
    EXPECT_LE(next, size + 3) << "a step longer than max_step";
    EXPECT_TRUE(checkpointed.count(next)) << next;
    size = next;
  }
  EXPECT_EQ(size, up_.log->Size());
  EXPECT_GT(steps, 1);
  EXPECT_TRUE(down_->Equivocations()->empty());
}

TEST_F(DeliveryTest, FollowOnceRefusesAGapNoStepCanVerify) {
  Dispatch(4);  // 8 entries past the setup ones, one checkpoint at the end
  StoreSource store_source(*up_.log);
  LyingSource source;
  SEG_ASSERT_OK_AND_ASSIGN(source.latest, store_source.LatestCheckpoint());
  absl::StatusOr<uint64_t> r =
      FollowOnce(*down_, kUp, source, FollowLimits{2, 4});
  EXPECT_TRUE(absl::IsUnavailable(r.status())) << r.status();
  EXPECT_TRUE(absl::StrContains(r.status().message(), "no checkpoint within"))
      << r.status();
  EXPECT_TRUE(source.asked.empty());
  SEG_ASSERT_OK_AND_ASSIGN(v1::FollowState state, down_->FollowStateOf(kUp));
  EXPECT_EQ(state.size(), 0u);
}

// A gap beyond one step with no step checkpoint is fetched whole only for
// a checkpoint the origin's keys sign: a forged size (here 4 instead of 2,
// the signature no longer matching) asks the source for nothing.
TEST_F(DeliveryTest, FollowOnceFetchesAWholeGapOnlyForASignedCheckpoint) {
  Dispatch(1);
  SEG_ASSERT_OK_AND_ASSIGN(std::string real, up_.log->CheckpointNow());
  SEG_ASSERT_OK_AND_ASSIGN(uint64_t real_size, CheckpointNoteSize(real));
  LyingSource source;
  const FollowLimits limits{/*max_step=*/1, /*max_gap=*/1000};
  source.latest = WithSize(real, real_size + 2);
  absl::StatusOr<uint64_t> r = FollowOnce(*down_, kUp, source, limits);
  EXPECT_TRUE(absl::IsUnavailable(r.status())) << r.status();
  EXPECT_TRUE(absl::StrContains(r.status().message(), "do not verify"))
      << r.status();
  EXPECT_TRUE(source.asked.empty());
  // The genuine checkpoint is fetched (this source then has no entries).
  source.latest = real;
  r = FollowOnce(*down_, kUp, source, limits);
  EXPECT_FALSE(r.ok());
  ASSERT_EQ(source.asked.size(), 1u);
  EXPECT_EQ(source.asked[0].second, real_size);
}

TEST_F(DeliveryTest, FollowOnceNeverTrustsAClaimedSize) {
  // A source (or anyone between) claiming 2^62 entries: nothing is asked
  // for beyond one step, and the claim is never an allocation.
  Dispatch(1);
  SEG_ASSERT_OK_AND_ASSIGN(std::string real, up_.log->CheckpointNow());
  LyingSource source;
  source.latest = WithSize(real, uint64_t{1} << 62);
  absl::StatusOr<uint64_t> r = FollowOnce(*down_, kUp, source);
  EXPECT_TRUE(absl::IsUnavailable(r.status())) << r.status();
  EXPECT_TRUE(source.asked.empty());
  // A step checkpoint outside the range asked for is refused too.
  source.step = WithSize(real, uint64_t{1} << 40);
  r = FollowOnce(*down_, kUp, source);
  EXPECT_TRUE(absl::IsUnavailable(r.status())) << r.status();
  EXPECT_TRUE(absl::StrContains(r.status().message(), "the source sent one"))
      << r.status();
  EXPECT_TRUE(source.asked.empty());
  // A step in range is fetched (and only that range).
  source.step = WithSize(real, 3);
  r = FollowOnce(*down_, kUp, source);
  EXPECT_FALSE(r.ok());
  ASSERT_EQ(source.asked.size(), 1u);
  EXPECT_EQ(source.asked[0], std::make_pair(uint64_t{0}, uint64_t{3}));
}

// Evidence leaves the receiver's held checkpoint ahead of its follower:
// every step below it carries the source's consistency proof to it. A copy
// of the log grown another way under the same key is an equivocation at
// its first step (its proof to the held checkpoint fails), even a step
// whose entries are genuine; a source that cannot give the proof is asked
// for no entries.
TEST_F(DeliveryTest, FollowOnceProvesStepsBelowTheHeldCheckpoint) {
  Dispatch(2);  // 4 entries
  SEG_ASSERT_OK(up_.log->CheckpointNow().status());
  SEG_ASSERT_OK(up_.log->kv().Backup(dir_.Sub("fork")));
  Dispatch(2);
  SEG_ASSERT_OK(up_.log->CheckpointNow().status());
  Dispatch(1);  // 10 entries, evidence signs a checkpoint at 10
  Drain();
  SEG_ASSERT_OK_AND_ASSIGN(std::optional<HeldCheckpoint> held,
                           down_->Latest(kUp));
  ASSERT_EQ(held->size, 10u);
  const FollowLimits limits{/*max_step=*/4, /*max_gap=*/4};

  LyingSource lying;
  SEG_ASSERT_OK_AND_ASSIGN(lying.latest, up_.log->LatestCheckpoint());
  SEG_ASSERT_OK_AND_ASSIGN(lying.step,
                           StoreSource(*up_.log).CheckpointIn(0, 4));
  absl::StatusOr<uint64_t> r = FollowOnce(*down_, kUp, lying, limits);
  EXPECT_TRUE(absl::IsOutOfRange(r.status())) << r.status();
  EXPECT_TRUE(absl::StrContains(r.status().message(),
                                "consistency proof from size 4 to the held "
                                "size 10"))
      << r.status();
  EXPECT_TRUE(lying.asked.empty());

  SEG_ASSERT_OK_AND_ASSIGN(auto kv, store::RocksDbKv::Open(dir_.Sub("fork")));
  SEG_ASSERT_OK_AND_ASSIGN(Site fork, OpenSite(kUp, key_, std::move(kv)));
  for (int i = 0; i < 6; ++i) {
    SEG_ASSERT_OK(AppendOne(*fork.log, NoteRecord("fork")).status());
  }
  StoreSource forked(*fork.log);
  r = FollowOnce(*down_, kUp, forked, limits);
  EXPECT_TRUE(absl::IsFailedPrecondition(r.status())) << r.status();
  EXPECT_TRUE(absl::StrContains(r.status().message(), "equivocation"))
      << r.status();
  EXPECT_EQ(forked.proofs, 1);
  SEG_ASSERT_OK_AND_ASSIGN(auto eq, down_->Equivocations(kUp));
  ASSERT_EQ(eq.size(), 1u);
  EXPECT_EQ(eq[0].source(), "follower");
  EXPECT_EQ(eq[0].held_note(), held->note);
  EXPECT_EQ(down_->FollowStateOf(kUp)->size(), 0u);

  StoreSource genuine(*up_.log);
  std::vector<uint64_t> steps;
  for (int i = 0; i < 10 && (steps.empty() || steps.back() < 10); ++i) {
    SEG_ASSERT_OK_AND_ASSIGN(uint64_t size,
                             FollowOnce(*down_, kUp, genuine, limits));
    steps.push_back(size);
  }
  EXPECT_EQ(steps, (std::vector<uint64_t>{4, 8, 10}));
  EXPECT_EQ(genuine.proofs, 2);  // to 4 and to 8, not to the held size
  EXPECT_EQ(down_->Equivocations(kUp)->size(), 1u);
}

// An entry with a body over the size any entry may have (65,535 bytes) is
// refused as it arrives: the source is stopped there and nothing is
// stored. One at the limit is taken (and refused by Follow: no entry).
TEST_F(DeliveryTest, FollowOnceRefusesAnOversizedEntryAsItArrives) {
  Dispatch(3);  // 6 entries
  StoreSource source(*up_.log);
  source.big_index = 2;
  source.big_body = kMaxEntryBodySize + 1;
  absl::StatusOr<uint64_t> r = FollowOnce(*down_, kUp, source);
  EXPECT_TRUE(absl::IsInvalidArgument(r.status())) << r.status();
  EXPECT_TRUE(absl::StrContains(r.status().message(),
                                "entry 2 from the source has a 65536-byte "
                                "body, over the limit of 65535 bytes"))
      << r.status();
  EXPECT_EQ(source.streamed, 3);
  EXPECT_EQ(down_->FollowStateOf(kUp)->size(), 0u);

  source.big_body = kMaxEntryBodySize;
  source.streamed = 0;
  r = FollowOnce(*down_, kUp, source);
  EXPECT_TRUE(absl::IsInvalidArgument(r.status())) << r.status();
  EXPECT_TRUE(absl::StrContains(r.status().message(), "entry 2 body"))
      << r.status();
  EXPECT_EQ(source.streamed, 6);
  EXPECT_EQ(down_->FollowStateOf(kUp)->size(), 0u);
}

// A step holds at most max_step_bytes of entries: one that fills up before
// its checkpoint ends at the source's largest checkpoint within what
// arrived (the source stopped at the first entry over); with none there it
// is UNAVAILABLE and nothing is stored.
TEST_F(DeliveryTest, FollowOnceCapsEachStepByBytes) {
  std::set<uint64_t> checkpointed;
  for (int round = 0; round < 4; ++round) {
    Dispatch(1);
    SEG_ASSERT_OK(up_.log->CheckpointNow().status());
    checkpointed.insert(up_.log->Size());
  }
  std::vector<uint64_t> bytes;  // of each entry, as the source sends it
  SEG_ASSERT_OK(up_.log->ScanEntries(0, up_.log->Size(),
                                     [&](uint64_t, const v1::SignedEntry& e) {
                                       bytes.push_back(e.ByteSizeLong());
                                       return true;
                                     }));
  ASSERT_EQ(bytes.size(), 8u);
  FollowLimits limits;
  limits.max_step_bytes = bytes[0] + bytes[1] + bytes[2];
  StoreSource source(*up_.log);
  uint64_t size = 0;
  int steps = 0;
  for (; steps < 10 && size < 8; ++steps) {
    source.streamed = 0;
    SEG_ASSERT_OK_AND_ASSIGN(uint64_t next,
                             FollowOnce(*down_, kUp, source, limits));
    ASSERT_GT(next, size);
    uint64_t step_bytes = 0;
    for (uint64_t i = size; i < next; ++i) step_bytes += bytes[i];
    EXPECT_LE(step_bytes, limits.max_step_bytes) << "step to " << next;
    EXPECT_TRUE(checkpointed.count(next)) << next;
    EXPECT_LE(source.streamed, static_cast<int>(next - size) + 2) << next;
    size = next;
  }
  EXPECT_EQ(size, 8u);
  EXPECT_GE(steps, 3);
  EXPECT_TRUE(down_->Equivocations()->empty());

  // Room for one entry, and no checkpoint at size 1.
  store::MemoryKv kv;
  PeerStore fresh(kv);
  SEG_ASSERT_OK(fresh.AddPeer({kUp, {key_->Verifier()}}));
  limits.max_step_bytes = bytes[0];
  source.streamed = 0;
  absl::StatusOr<uint64_t> r = FollowOnce(fresh, kUp, source, limits);
  EXPECT_TRUE(absl::IsUnavailable(r.status())) << r.status();
  EXPECT_TRUE(absl::StrContains(r.status().message(),
                                "no checkpoint in (0, 1] to end the step at"))
      << r.status();
  EXPECT_EQ(source.streamed, 2);
  EXPECT_EQ(fresh.FollowStateOf(kUp)->size(), 0u);
}

}  // namespace
}  // namespace segledger::peers
