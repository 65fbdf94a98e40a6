// The MAH follower (DESIGN.md "Cross-site hand-off", last paragraph):
// incremental verification of a growing log from its last verified
// position, refusal of bad batches with nothing stored, a forked log
// flagged as equivocation with both checkpoints, and the cross-log view.
#include "ledger/peers/follower.h"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "ledger/peers/outbox.h"
#include "ledger/peers/peer_store.h"
#include "ledger/thread_pool.h"
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

std::vector<v1::SignedEntry> Entries(store::LogStore& log, uint64_t from,
                                     uint64_t to) {
  std::vector<v1::SignedEntry> out;
  EXPECT_THAT(log.ScanEntries(from, to,
                              [&](uint64_t, const v1::SignedEntry& e) {
                                out.push_back(e);
                                return true;
                              }),
              IsOk());
  return out;
}

class FollowerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    key_ = NewKey("up-k1");
    SEG_ASSERT_OK_AND_ASSIGN(auto kv, store::RocksDbKv::Open(dir_.Sub("up")));
    SEG_ASSERT_OK_AND_ASSIGN(up_, OpenSite(kUp, key_, std::move(kv)));
    peers_ = std::make_unique<PeerStore>(mah_kv_);
    SEG_ASSERT_OK(peers_->AddPeer({kUp, {key_->Verifier()}}));
  }

  void Grow(int n) {
    for (int i = 0; i < n; ++i) {
      SEG_ASSERT_OK(AppendOne(*up_.log, NoteRecord("n")).status());
    }
  }

  // Follows `log` from the follower's position to its current size.
  absl::StatusOr<uint64_t> Catch(store::LogStore& log) {
    auto state = peers_->FollowStateOf(kUp);
    if (!state.ok()) return state.status();
    auto note = log.CheckpointNow();
    if (!note.ok()) return note.status();
    auto entries = Entries(log, state->size(), log.Size());
    return peers_->Follow(kUp, entries, *note);
  }

  segledger::testing::TempDir dir_;
  std::shared_ptr<const NoteSigner> key_;
  Site up_;
  store::MemoryKv mah_kv_;
  std::unique_ptr<PeerStore> peers_;
};

TEST_F(FollowerTest, VerifiesAGrowingLogIncrementally) {
  uint64_t expect = 0;
  for (int round = 1; round <= 6; ++round) {
    Grow(round * 3);
    if (round == 3) {
      SEG_ASSERT_OK(
          up_.log->RotateKey(NewKey("up-k2"), testing::Operator(), "yearly")
              .status());
    }
    if (round == 4) {
      SEG_ASSERT_OK(AppendOne(*up_.log, DispatchRecord("T1", "down")).status());
    }
    expect = up_.log->Size();
    SEG_ASSERT_OK_AND_ASSIGN(uint64_t size, Catch(*up_.log));
    EXPECT_EQ(size, expect);
    EXPECT_EQ(peers_->FollowStateOf(kUp)->size(), expect);
    EXPECT_EQ((*peers_->Latest(kUp))->size, expect);
  }
  // An empty step at the same size is fine (same root).
  SEG_ASSERT_OK(Catch(*up_.log).status());
  SEG_ASSERT_OK_AND_ASSIGN(PeerKeyring ring, peers_->Keyring(kUp));
  EXPECT_EQ(ring.keys().size(), 2u);
  SEG_ASSERT_OK_AND_ASSIGN(v1::SignedEntry copy,
                           peers_->FollowedEntry(kUp, expect - 1));
  EXPECT_EQ(copy.body(), up_.log->GetEntry(expect - 1)->body());

  domain::DomainGraph graph;
  SEG_ASSERT_OK(LoadVerifiedLogs(*peers_, &graph));
  EXPECT_EQ(graph.size(), expect);
  // The followed dispatch serves the domain's Evidence too.
  PeerEvidence ev(*peers_);
  bool found = false;
  for (uint64_t i = 0; i < expect; ++i) {
    auto d = ev.FindDispatch(kUp, i, *up_.log->LeafHashAt(i));
    found = found || d.ok();
  }
  EXPECT_TRUE(found);
}

TEST_F(FollowerTest, BadBatchesAreRefusedWithNothingStored) {
  Grow(4);
  SEG_ASSERT_OK(Catch(*up_.log).status());
  Grow(4);
  SEG_ASSERT_OK_AND_ASSIGN(std::string note, up_.log->CheckpointNow());
  const auto before = Dump(mah_kv_, Family::kPeers);

  auto entries = Entries(*up_.log, 4, 8);
  entries[2].mutable_signature()->at(0) ^= 0x01;
  EXPECT_THAT(peers_->Follow(kUp, entries, note),
              StatusIs(absl::StatusCode::kInvalidArgument, "signature"));
  entries = Entries(*up_.log, 4, 8);
  entries.pop_back();  // ends below the checkpoint
  EXPECT_THAT(peers_->Follow(kUp, entries, note),
              StatusIs(absl::StatusCode::kInvalidArgument, "checkpoint size"));
  entries = Entries(*up_.log, 3, 8);  // not from the verified position
  EXPECT_THAT(peers_->Follow(kUp, entries, note),
              StatusIs(absl::StatusCode::kInvalidArgument));
  entries = Entries(*up_.log, 4, 8);
  std::swap(entries[1], entries[2]);
  EXPECT_THAT(peers_->Follow(kUp, entries, note),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(Dump(mah_kv_, Family::kPeers), before);
  EXPECT_TRUE(peers_->Equivocations()->empty());
  SEG_ASSERT_OK(Catch(*up_.log).status());
}

TEST_F(FollowerTest, FlagsAForkedLog) {
  Grow(4);
  // A copy of the site's store, which will grow another history.
  SEG_ASSERT_OK(up_.log->kv().Backup(dir_.Sub("fork")));
  Grow(2);
  SEG_ASSERT_OK(Catch(*up_.log).status());
  const auto held = *peers_->Latest(kUp);
  ASSERT_EQ(held->size, 6u);

  SEG_ASSERT_OK_AND_ASSIGN(auto kv, store::RocksDbKv::Open(dir_.Sub("fork")));
  SEG_ASSERT_OK_AND_ASSIGN(Site fork, OpenSite(kUp, key_, std::move(kv)));
  ASSERT_EQ(fork.log->Size(), 4u);
  for (int i = 0; i < 4; ++i) {
    SEG_ASSERT_OK(
        AppendOne(*fork.log, DispatchRecord("FORK", "down")).status());
  }
  SEG_ASSERT_OK_AND_ASSIGN(std::string fork_note, fork.log->CheckpointNow());
  const auto before_state = *peers_->FollowStateOf(kUp);
  EXPECT_THAT(peers_->Follow(kUp, Entries(*fork.log, 6, 8), fork_note),
              StatusIs(absl::StatusCode::kFailedPrecondition, "equivocation"));
  SEG_ASSERT_OK_AND_ASSIGN(auto eq, peers_->Equivocations(kUp));
  ASSERT_EQ(eq.size(), 1u);
  EXPECT_EQ(eq[0].held_note(), held->note);
  EXPECT_EQ(eq[0].offered_note(), fork_note);
  EXPECT_EQ(eq[0].source(), "follower");
  // Nothing of the fork is adopted.
  EXPECT_EQ(peers_->FollowStateOf(kUp)->SerializeAsString(),
            before_state.SerializeAsString());
  EXPECT_EQ((*peers_->Latest(kUp))->note, held->note);
  EXPECT_THAT(peers_->FollowedEntry(kUp, 6),
              StatusIs(absl::StatusCode::kNotFound));

  domain::DomainGraph graph;
  SEG_ASSERT_OK(LoadVerifiedLogs(*peers_, &graph));
  SEG_ASSERT_OK_AND_ASSIGN(auto findings, CrossLogFindings(*peers_, graph, {}));
  int equivocations = 0;
  for (const auto& f : findings) {
    equivocations += f.kind == domain::DomainFindingKind::kEquivocation;
  }
  EXPECT_EQ(equivocations, 1);

  // The genuine log keeps being followed.
  Grow(3);
  SEG_ASSERT_OK_AND_ASSIGN(uint64_t size, Catch(*up_.log));
  EXPECT_EQ(size, 9u);
}

TEST_F(FollowerTest, ForkAtTheHeldSizeIsTwoRoots) {
  Grow(3);
  SEG_ASSERT_OK(up_.log->kv().Backup(dir_.Sub("fork")));
  Grow(2);
  SEG_ASSERT_OK(Catch(*up_.log).status());
  SEG_ASSERT_OK_AND_ASSIGN(auto kv, store::RocksDbKv::Open(dir_.Sub("fork")));
  SEG_ASSERT_OK_AND_ASSIGN(Site fork, OpenSite(kUp, key_, std::move(kv)));
  SEG_ASSERT_OK(AppendOne(*fork.log, DispatchRecord("F", "down")).status());
  SEG_ASSERT_OK(AppendOne(*fork.log, DispatchRecord("F", "down")).status());
  SEG_ASSERT_OK_AND_ASSIGN(std::string fork_note, fork.log->CheckpointNow());
  EXPECT_THAT(peers_->Follow(kUp, {}, fork_note),
              StatusIs(absl::StatusCode::kFailedPrecondition, "equivocation"));
  EXPECT_EQ(peers_->Equivocations(kUp)->size(), 1u);
}

// The held checkpoint may be ahead of the follower (here from hand-off
// evidence): a step ending below it is tied to it only by a consistency
// proof. Without one, or with one to another size, nothing is stored; with
// the origin's proof the step is followed; a step to the held size needs
// none (its root is compared).
TEST_F(FollowerTest, StepBelowTheHeldCheckpointNeedsAProof) {
  Grow(3);
  SEG_ASSERT_OK_AND_ASSIGN(std::string n3, up_.log->CheckpointNow());
  Grow(5);
  Outbox outbox(*up_.log);
  SEG_ASSERT_OK_AND_ASSIGN(v1::HandoffEvidence ev, outbox.BuildEvidence(7, 0));
  SEG_ASSERT_OK(peers_->AcceptEvidence(ev).status());
  const auto held = *peers_->Latest(kUp);
  ASSERT_EQ(held->size, 8u);
  ASSERT_EQ(peers_->FollowStateOf(kUp)->size(), 0u);
  const auto before = Dump(mah_kv_, Family::kPeers);

  const auto entries = Entries(*up_.log, 0, 3);
  EXPECT_THAT(peers_->Follow(kUp, entries, n3),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       "no consistency proof from 3 to 8"));
  SEG_ASSERT_OK_AND_ASSIGN(std::vector<Hash> to7,
                           up_.log->ConsistencyProof(3, 7));
  EXPECT_THAT(peers_->Follow(kUp, entries, n3, HeldConsistencyProof{7, to7}),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       "held checkpoint is of size 8"));
  EXPECT_EQ(Dump(mah_kv_, Family::kPeers), before);
  EXPECT_TRUE(peers_->Equivocations()->empty());

  SEG_ASSERT_OK_AND_ASSIGN(std::vector<Hash> to8,
                           up_.log->ConsistencyProof(3, 8));
  SEG_ASSERT_OK_AND_ASSIGN(
      uint64_t size,
      peers_->Follow(kUp, entries, n3, HeldConsistencyProof{8, to8}));
  EXPECT_EQ(size, 3u);
  EXPECT_EQ((*peers_->Latest(kUp))->note, held->note);
  SEG_ASSERT_OK_AND_ASSIGN(size, Catch(*up_.log));
  EXPECT_EQ(size, 8u);
  EXPECT_TRUE(peers_->Equivocations()->empty());
}

// A copy of the log grown another way under the same key (a restored
// store): evidence from the original left the follower holding size 8 at
// position 0. The copy's step to 6 chains and matches its own signed
// checkpoint, but its proof to the held checkpoint fails: an equivocation
// with both notes, and nothing of the step is stored.
TEST_F(FollowerTest, ForkBelowTheHeldCheckpointIsEquivocation) {
  Grow(3);
  SEG_ASSERT_OK(up_.log->kv().Backup(dir_.Sub("fork")));
  Grow(5);
  Outbox outbox(*up_.log);
  SEG_ASSERT_OK_AND_ASSIGN(v1::HandoffEvidence ev, outbox.BuildEvidence(7, 0));
  SEG_ASSERT_OK(peers_->AcceptEvidence(ev).status());
  const auto held = *peers_->Latest(kUp);
  ASSERT_EQ(held->size, 8u);

  SEG_ASSERT_OK_AND_ASSIGN(auto kv, store::RocksDbKv::Open(dir_.Sub("fork")));
  SEG_ASSERT_OK_AND_ASSIGN(Site fork, OpenSite(kUp, key_, std::move(kv)));
  for (int i = 0; i < 3; ++i) {
    SEG_ASSERT_OK(
        AppendOne(*fork.log, DispatchRecord("FORK", "down")).status());
  }
  SEG_ASSERT_OK_AND_ASSIGN(std::string fork_note, fork.log->CheckpointNow());
  for (int i = 0; i < 2; ++i) {
    SEG_ASSERT_OK(AppendOne(*fork.log, NoteRecord("f")).status());
  }
  SEG_ASSERT_OK_AND_ASSIGN(std::vector<Hash> fork_proof,
                           fork.log->ConsistencyProof(6, 8));
  const auto state = *peers_->FollowStateOf(kUp);
  EXPECT_THAT(peers_->Follow(kUp, Entries(*fork.log, 0, 6), fork_note,
                             HeldConsistencyProof{8, fork_proof}),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       "not proven a prefix of the held checkpoint"));
  SEG_ASSERT_OK_AND_ASSIGN(auto eq, peers_->Equivocations(kUp));
  ASSERT_EQ(eq.size(), 1u);
  EXPECT_EQ(eq[0].held_note(), held->note);
  EXPECT_EQ(eq[0].offered_note(), fork_note);
  EXPECT_EQ(eq[0].source(), "follower");
  EXPECT_EQ(peers_->FollowStateOf(kUp)->SerializeAsString(),
            state.SerializeAsString());
  EXPECT_THAT(peers_->FollowedEntry(kUp, 0),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ((*peers_->Latest(kUp))->note, held->note);

  // The original is followed.
  SEG_ASSERT_OK_AND_ASSIGN(uint64_t size, Catch(*up_.log));
  EXPECT_EQ(size, 8u);
}

// Large batches verify signatures on a pool; a bad one deep in the batch
// still refuses it. Prints the follow rate (SEGLEDGER_PEERS_FOLLOW_N
// entries, default 2000).
TEST_F(FollowerTest, ParallelBatchVerification) {
  const char* env = std::getenv("SEGLEDGER_PEERS_FOLLOW_N");
  const int n = env != nullptr ? std::atoi(env) : 2000;
  ASSERT_GT(n, 100);
  std::vector<store::AppendRecord> recs;
  for (int i = 0; i < n; ++i) {
    recs.push_back({testing::Operator(), "", NoteRecord("bulk")});
  }
  SEG_ASSERT_OK(up_.log->Append(std::move(recs)).status());
  SEG_ASSERT_OK_AND_ASSIGN(std::string note, up_.log->CheckpointNow());
  ThreadPool pool(ThreadPool::DefaultWorkers());
  store::MemoryKv kv;
  PeerStore peers(kv, nullptr, &pool);
  SEG_ASSERT_OK(peers.AddPeer({kUp, {key_->Verifier()}}));
  auto entries = Entries(*up_.log, 0, n);
  entries[n - 37].mutable_signature()->at(9) ^= 0x04;
  EXPECT_THAT(peers.Follow(kUp, entries, note),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       absl::StrCat("entry ", n - 37)));
  EXPECT_EQ(peers.FollowStateOf(kUp)->size(), 0u);
  entries = Entries(*up_.log, 0, n);
  const absl::Time start = absl::Now();
  SEG_ASSERT_OK_AND_ASSIGN(uint64_t size, peers.Follow(kUp, entries, note));
  const double secs = absl::ToDoubleSeconds(absl::Now() - start);
  EXPECT_EQ(size, static_cast<uint64_t>(n));
  std::printf(
      "follow: %d entries verified and stored in %.3f s (%.0f/s, "
      "%zu threads)\n",
      n, secs, n / secs, pool.parallelism());
}

// A followed MAH's party and product registrations verified in one batch:
// the product is indexed (its party's MAH role is in the same batch), and
// only for the party the followed origin is configured for.
TEST_F(FollowerTest, RegistrationsInOneBatchServeTheDomain) {
  store::MemoryKv kv;
  PeerStore peers(kv);
  SEG_ASSERT_OK(peers.AddPeer({kUp, {key_->Verifier()}, "mah-party"}));
  for (const char* party : {"mah-party", "other-party"}) {
    v1::Record reg;
    reg.mutable_party_registration()->mutable_header()->set_party_id(party);
    reg.mutable_party_registration()->set_role(v1::PARTY_ROLE_MAH);
    SEG_ASSERT_OK(AppendOne(*up_.log, reg).status());
    v1::Record product;
    auto* p = product.mutable_product_registration();
    p->mutable_header()->set_party_id(party);
    p->set_product_id(absl::StrCat("P-", party));
    p->add_stages()->add_approved_site_ids("site-1");
    SEG_ASSERT_OK(AppendOne(*up_.log, product).status());
  }
  SEG_ASSERT_OK_AND_ASSIGN(std::string note, up_.log->CheckpointNow());
  SEG_ASSERT_OK(
      peers.Follow(kUp, Entries(*up_.log, 0, up_.log->Size()), note).status());
  PeerEvidence ev(peers);
  SEG_ASSERT_OK_AND_ASSIGN(v1::ProductRegistration p,
                           ev.FindProduct("P-mah-party"));
  EXPECT_EQ(p.stages(0).approved_site_ids(0), "site-1");
  EXPECT_THAT(ev.FindProduct("P-other-party"),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(ev.FindParty("other-party"),
              StatusIs(absl::StatusCode::kNotFound));
}

}  // namespace
}  // namespace segledger::peers
