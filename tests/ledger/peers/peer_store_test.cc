// Hand-off evidence at the receiver (DESIGN.md "Cross-site hand-off" steps
// 2-3): valid evidence is stored and serves the domain's Evidence; forged
// evidence (bad signature, proof for another size, unknown key, rotated-out
// key) is refused with nothing stored; consistency chains across several
// deliveries; a fork is an equivocation with both checkpoints persisted;
// repeated delivery has exactly-once effect; cosigning.
#include "ledger/peers/peer_store.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "ledger/checkpoint.h"
#include "ledger/entry_codec.h"
#include "ledger/peers/follower.h"
#include "ledger/peers/outbox.h"
#include "ledger/proto_time.h"
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
constexpr char kMah[] = "mah.example/segledger";

// A product registration by `party` approving `site` for its only stage.
v1::Record Product(const std::string& id, const std::string& party,
                   const std::string& site) {
  v1::Record r;
  auto* p = r.mutable_product_registration();
  p->mutable_header()->set_party_id(party);
  p->set_product_id(id);
  p->set_name("ADC");
  p->add_stages()->add_approved_site_ids(site);
  return r;
}

v1::Record Party(const std::string& party, v1::PartyRole role) {
  v1::Record r;
  auto* p = r.mutable_party_registration();
  p->mutable_header()->set_party_id(party);
  p->set_legal_name(party);
  p->set_role(role);
  return r;
}

class PeerStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    key_ = NewKey("up-k1");
    auto site = OpenSite(kUp, key_, nullptr, &hook_);
    ASSERT_TRUE(site.ok()) << site.status();
    up_ = *std::move(site);
    outbox_ = std::make_unique<Outbox>(*up_.log);
    peers_ = std::make_unique<PeerStore>(receiver_kv_);
    SEG_ASSERT_OK(peers_->AddPeer({kUp, {key_->Verifier()}, "up-party"}));
  }

  // Appends `notes` plain records then a dispatch; returns its index.
  uint64_t AppendDispatch(int notes, const std::string& transfer) {
    for (int i = 0; i < notes; ++i) {
      EXPECT_THAT(AppendOne(*up_.log, NoteRecord(absl::StrCat("n", i))),
                  IsOk());
    }
    auto idx = AppendOne(*up_.log, DispatchRecord(transfer, "down"));
    EXPECT_THAT(idx, IsOk());
    return idx.ok() ? *idx : 0;
  }

  uint64_t HeldSize() {
    auto held = peers_->Latest(kUp);
    EXPECT_THAT(held, IsOk());
    return held.ok() && held->has_value() ? (*held)->size : 0;
  }

  v1::HandoffEvidence Build(uint64_t index) {
    auto ev = outbox_->BuildEvidence(index, HeldSize());
    EXPECT_THAT(ev, IsOk());
    return ev.ok() ? *ev : v1::HandoffEvidence();
  }

  // Delivers `ev` and expects a refusal with `code` and nothing stored.
  void ExpectRefused(const v1::HandoffEvidence& ev, absl::StatusCode code,
                     const std::string& substr) {
    auto before = Dump(receiver_kv_, Family::kPeers);
    EXPECT_THAT(peers_->AcceptEvidence(ev), StatusIs(code, substr));
    EXPECT_EQ(Dump(receiver_kv_, Family::kPeers), before);
  }

  std::shared_ptr<const NoteSigner> key_;
  // Queues dispatches and indexes key records for the evidence builder.
  OutboxHook hook_{nullptr,
                   DestinationsByParty({{"down", "cmo-down.example/l"}})};
  Site up_;
  std::unique_ptr<Outbox> outbox_;
  store::MemoryKv receiver_kv_;
  std::unique_ptr<PeerStore> peers_;
};

TEST_F(PeerStoreTest, ValidEvidenceIsStoredAndServesTheDomain) {
  const uint64_t i = AppendDispatch(2, "T1");
  v1::HandoffEvidence ev = Build(i);
  PeerEvidence domain_view(*peers_);
  const Hash leaf = LeafHash(ev.entry().entry().body());
  EXPECT_THAT(domain_view.FindDispatch(kUp, i, leaf),
              StatusIs(absl::StatusCode::kNotFound));
  SEG_ASSERT_OK_AND_ASSIGN(AcceptResult r, peers_->AcceptEvidence(ev));
  EXPECT_FALSE(r.duplicate);
  EXPECT_EQ(r.leaf_hash, leaf);
  EXPECT_EQ(HeldSize(), i + 1);
  SEG_ASSERT_OK_AND_ASSIGN(domain::VerifiedDispatch d,
                           domain_view.FindDispatch(kUp, i, leaf));
  EXPECT_EQ(d.dispatch.transfer_id(), "T1");
  EXPECT_THAT(domain_view.FindDispatch(kUp, i, Sha256("other")),
              StatusIs(absl::StatusCode::kFailedPrecondition, "leaf hash"));
  EXPECT_THAT(domain_view.FindDispatch(kUp, i + 1, leaf),
              StatusIs(absl::StatusCode::kNotFound));
}

// A node that follows no log finds the other side of its lot's hand-offs
// through EvidenceOfTransfer: evidence held before the first call (read
// from the rows once), accepted after it, and held across a restart; and
// LoadTransferEvidence adds to a graph only the evidence of the transfers
// asked for.
TEST_F(PeerStoreTest, EvidenceOfTransferFindsHeldNewAndReopenedEvidence) {
  using Positions = std::vector<std::pair<std::string, uint64_t>>;
  const uint64_t t1 = AppendDispatch(1, "T1");
  SEG_ASSERT_OK(peers_->AcceptEvidence(Build(t1)).status());
  SEG_ASSERT_OK_AND_ASSIGN(Positions got, peers_->EvidenceOfTransfer("T1"));
  EXPECT_EQ(got, (Positions{{kUp, t1}}));
  SEG_ASSERT_OK_AND_ASSIGN(got, peers_->EvidenceOfTransfer("T2"));
  EXPECT_TRUE(got.empty());

  const uint64_t t2 = AppendDispatch(0, "T2");
  for (int delivery = 0; delivery < 2; ++delivery) {
    SEG_ASSERT_OK(peers_->AcceptEvidence(Build(t2)).status());
  }
  SEG_ASSERT_OK_AND_ASSIGN(got, peers_->EvidenceOfTransfer("T2"));
  EXPECT_EQ(got, (Positions{{kUp, t2}}));

  PeerStore reopened(receiver_kv_);
  for (const auto& [transfer, index] :
       std::vector<std::pair<std::string, uint64_t>>{{"T1", t1}, {"T2", t2}}) {
    SEG_ASSERT_OK_AND_ASSIGN(got, reopened.EvidenceOfTransfer(transfer));
    EXPECT_EQ(got, (Positions{{kUp, index}})) << transfer;
  }

  domain::DomainGraph graph;
  SEG_ASSERT_OK(LoadTransferEvidence(reopened, {"T2", "T9"}, &graph));
  EXPECT_EQ(graph.size(), 1u);
  EXPECT_NE(graph.Find(kUp, t2), nullptr);
}

TEST_F(PeerStoreTest, RepeatedDeliveryHasExactlyOnceEffect) {
  v1::HandoffEvidence ev = Build(AppendDispatch(1, "T1"));
  SEG_ASSERT_OK(peers_->AcceptEvidence(ev));
  auto after_first = Dump(receiver_kv_, Family::kPeers);
  for (int i = 0; i < 3; ++i) {
    SEG_ASSERT_OK_AND_ASSIGN(AcceptResult r, peers_->AcceptEvidence(ev));
    EXPECT_TRUE(r.duplicate);
  }
  EXPECT_EQ(Dump(receiver_kv_, Family::kPeers), after_first);
  SEG_ASSERT_OK_AND_ASSIGN(auto all, peers_->ListEvidence(kUp));
  EXPECT_EQ(all.size(), 1u);
}

TEST_F(PeerStoreTest, BadSignatureRefused) {
  v1::HandoffEvidence ev = Build(AppendDispatch(1, "T1"));
  (*ev.mutable_entry()->mutable_entry()->mutable_signature())[3] ^= 0x10;
  ExpectRefused(ev, absl::StatusCode::kInvalidArgument, "signature");
}

TEST_F(PeerStoreTest, TamperedBodyRefused) {
  v1::HandoffEvidence ev = Build(AppendDispatch(1, "T1"));
  std::string* body = ev.mutable_entry()->mutable_entry()->mutable_body();
  body->back() ^= 0x01;
  ExpectRefused(ev, absl::StatusCode::kInvalidArgument, "");
}

TEST_F(PeerStoreTest, ProofForAnotherSizeRefused) {
  const uint64_t i = AppendDispatch(4, "T1");
  SEG_ASSERT_OK(AppendOne(*up_.log, NoteRecord("after")).status());
  v1::HandoffEvidence ev = Build(i);  // checkpoint at i + 2
  SEG_ASSERT_OK_AND_ASSIGN(auto other, up_.log->InclusionProof(i, i + 1));
  ev.mutable_entry()->clear_inclusion_proof();
  for (const Hash& h : other) {
    ev.mutable_entry()->add_inclusion_proof(std::string(HashBytes(h)));
  }
  ExpectRefused(ev, absl::StatusCode::kInvalidArgument, "inclusion");
}

TEST_F(PeerStoreTest, CheckpointSignedByAnotherKeyRefused) {
  v1::HandoffEvidence ev = Build(AppendDispatch(1, "T1"));
  SEG_ASSERT_OK_AND_ASSIGN(Note n, ParseNote(ev.checkpoint()));
  auto intruder = NewKey("up-k1");  // same name, other key
  const NoteSigner* signers[] = {intruder.get()};
  SEG_ASSERT_OK_AND_ASSIGN(std::string forged, SignNote(n.text, signers));
  ev.set_checkpoint(forged);
  ExpectRefused(ev, absl::StatusCode::kInvalidArgument, "checkpoint");
}

TEST_F(PeerStoreTest, UnknownKeyRefused) {
  auto other = NewKey("intruder");
  SEG_ASSERT_OK_AND_ASSIGN(Site fake, OpenSite(kUp, other));
  Outbox fake_outbox(*fake.log);
  SEG_ASSERT_OK_AND_ASSIGN(uint64_t i,
                           AppendOne(*fake.log, DispatchRecord("T1", "down")));
  SEG_ASSERT_OK_AND_ASSIGN(v1::HandoffEvidence ev,
                           fake_outbox.BuildEvidence(i, 0));
  ExpectRefused(ev, absl::StatusCode::kInvalidArgument, "known key");
  // An origin that is not a configured peer at all.
  ev.set_origin("nobody.example/segledger");
  ExpectRefused(ev, absl::StatusCode::kNotFound, "not a configured peer");
}

TEST_F(PeerStoreTest, RotationIsLearnedAndRotatedOutKeyRefused) {
  SEG_ASSERT_OK(AppendOne(*up_.log, NoteRecord("n0")).status());
  auto next = NewKey("up-k2");
  SEG_ASSERT_OK_AND_ASSIGN(
      store::AppendResult rot,
      up_.log->RotateKey(next, testing::Operator(), "scheduled"));
  const uint64_t i = AppendDispatch(0, "T1");
  v1::HandoffEvidence ev = Build(i);
  ASSERT_EQ(ev.key_records_size(), 1);
  SEG_ASSERT_OK(peers_->AcceptEvidence(ev));
  SEG_ASSERT_OK_AND_ASSIGN(PeerKeyring ring, peers_->Keyring(kUp));
  EXPECT_EQ(ring.learned_through(), rot.index + 1);
  ASSERT_EQ(ring.keys().size(), 2u);
  EXPECT_EQ(ring.keys()[0].until, rot.index + 1);

  // A copy of the log that kept the old key signs a later entry with it.
  SEG_ASSERT_OK_AND_ASSIGN(Site stale, OpenSite(kUp, key_));
  Outbox stale_outbox(*stale.log);
  for (uint64_t k = 0; k <= i; ++k) {
    SEG_ASSERT_OK(AppendOne(*stale.log, NoteRecord("x")).status());
  }
  SEG_ASSERT_OK_AND_ASSIGN(uint64_t j,
                           AppendOne(*stale.log, DispatchRecord("T2", "down")));
  SEG_ASSERT_OK_AND_ASSIGN(v1::HandoffEvidence forged,
                           stale_outbox.BuildEvidence(j, 0));
  forged.set_consistency_size(HeldSize());
  // Its checkpoint is signed by a key no longer valid at that size...
  ExpectRefused(forged, absl::StatusCode::kInvalidArgument,
                "no signature by a known key");
  // ...and so is its entry.
  SEG_ASSERT_OK_AND_ASSIGN(v1::EntryBody body,
                           ParseEntryBody(forged.entry().entry().body()));
  EXPECT_THAT(ring.EntryKey(body, j),
              StatusIs(absl::StatusCode::kInvalidArgument, "not valid"));
  // Before the rotation the old key was fine.
  EXPECT_THAT(ring.EntryKey(body, rot.index), IsOk());
}

TEST_F(PeerStoreTest, ConsistencyChainsAcrossDeliveries) {
  uint64_t last = 0;
  for (int round = 0; round < 4; ++round) {
    const uint64_t i = AppendDispatch(round + 1, absl::StrCat("T", round));
    v1::HandoffEvidence ev = Build(i);
    if (round > 0) {
      EXPECT_EQ(ev.consistency_size(), last);
      EXPECT_GT(ev.consistency_proof_size(), 0);
    }
    SEG_ASSERT_OK(peers_->AcceptEvidence(ev));
    EXPECT_EQ(HeldSize(), i + 1);
    last = i + 1;
  }
  // Evidence of an older entry, proven at the old checkpoint, with a proof
  // from the receiver's (larger) size back to it.
  SEG_ASSERT_OK_AND_ASSIGN(auto all, peers_->ListEvidence(kUp));
  EXPECT_EQ(all.size(), 4u);
  EXPECT_THAT(peers_->Equivocations(), IsOk());
  EXPECT_TRUE(peers_->Equivocations()->empty());
}

TEST_F(PeerStoreTest, StaleConsistencyBaseRefusedWithoutEquivocation) {
  SEG_ASSERT_OK(peers_->AcceptEvidence(Build(AppendDispatch(1, "T1"))));
  const uint64_t i = AppendDispatch(1, "T2");
  SEG_ASSERT_OK_AND_ASSIGN(v1::HandoffEvidence ev,
                           outbox_->BuildEvidence(i, 1));  // receiver holds 2
  ExpectRefused(ev, absl::StatusCode::kFailedPrecondition, "holds size 2");
  EXPECT_TRUE(peers_->Equivocations()->empty());
}

TEST_F(PeerStoreTest, ForkIsEquivocationWithBothCheckpoints) {
  // A copy of the site's key serving another history under the same origin.
  SEG_ASSERT_OK_AND_ASSIGN(Site fork, OpenSite(kUp, key_));
  Outbox fork_outbox(*fork.log);
  v1::HandoffEvidence good = Build(AppendDispatch(2, "T1"));
  SEG_ASSERT_OK(peers_->AcceptEvidence(good));
  const auto held = *peers_->Latest(kUp);

  for (int k = 0; k < 4; ++k) {
    SEG_ASSERT_OK(AppendOne(*fork.log, NoteRecord("fork")).status());
  }
  SEG_ASSERT_OK_AND_ASSIGN(uint64_t j,
                           AppendOne(*fork.log, DispatchRecord("T9", "down")));
  SEG_ASSERT_OK_AND_ASSIGN(v1::HandoffEvidence bad,
                           fork_outbox.BuildEvidence(j, held->size));
  auto evidence_before = Dump(receiver_kv_, Family::kPeers);
  EXPECT_THAT(peers_->AcceptEvidence(bad),
              StatusIs(absl::StatusCode::kFailedPrecondition, "equivocation"));
  SEG_ASSERT_OK_AND_ASSIGN(auto eq, peers_->Equivocations(kUp));
  ASSERT_EQ(eq.size(), 1u);
  EXPECT_EQ(eq[0].held_note(), held->note);
  EXPECT_EQ(eq[0].offered_note(), bad.checkpoint());
  EXPECT_EQ(eq[0].source(), "evidence");
  // The forked view is not adopted: same checkpoint, no evidence stored.
  EXPECT_EQ((*peers_->Latest(kUp))->note, held->note);
  EXPECT_THAT(peers_->GetEvidence(kUp, j),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(Dump(receiver_kv_, Family::kPeers).size(),
            evidence_before.size() + 1);

  // Same size, another root: also an equivocation.
  SEG_ASSERT_OK_AND_ASSIGN(Site fork2, OpenSite(kUp, key_));
  for (uint64_t k = 0; k < held->size; ++k) {
    SEG_ASSERT_OK(AppendOne(*fork2.log, NoteRecord("other")).status());
  }
  Outbox fork2_outbox(*fork2.log);
  SEG_ASSERT_OK_AND_ASSIGN(
      v1::HandoffEvidence same,
      fork2_outbox.BuildEvidence(held->size - 1, held->size));
  EXPECT_THAT(peers_->AcceptEvidence(same),
              StatusIs(absl::StatusCode::kFailedPrecondition, "two roots"));
  EXPECT_EQ(peers_->Equivocations(kUp)->size(), 2u);
  auto findings = EquivocationFindings(*peers_->Equivocations());
  ASSERT_EQ(findings.size(), 2u);
  EXPECT_EQ(findings[0].kind, FindingKind::kEquivocation);
  auto domain_findings = EquivocationDomainFindings(*peers_->Equivocations());
  EXPECT_EQ(domain_findings[0].kind, domain::DomainFindingKind::kEquivocation);
}

// A re-sent entry (already held: a duplicate) carrying a forked checkpoint
// of the same key: nothing else is written, but the contradiction is an
// equivocation, as it would be on a new entry.
TEST_F(PeerStoreTest, ResentEntryWithForkedCheckpointIsEquivocation) {
  v1::HandoffEvidence good = Build(AppendDispatch(2, "T1"));
  SEG_ASSERT_OK(peers_->AcceptEvidence(good));
  const auto held = *peers_->Latest(kUp);
  SEG_ASSERT_OK_AND_ASSIGN(Site fork, OpenSite(kUp, key_));
  for (int k = 0; k < 6; ++k) {
    SEG_ASSERT_OK(AppendOne(*fork.log, NoteRecord("fork")).status());
  }
  Outbox fork_outbox(*fork.log);
  SEG_ASSERT_OK_AND_ASSIGN(v1::HandoffEvidence bad,
                           fork_outbox.BuildEvidence(5, held->size));
  v1::HandoffEvidence resent = good;
  resent.set_checkpoint(bad.checkpoint());
  resent.set_consistency_size(bad.consistency_size());
  *resent.mutable_consistency_proof() = bad.consistency_proof();
  auto before = Dump(receiver_kv_, Family::kPeers);
  EXPECT_THAT(peers_->AcceptEvidence(resent),
              StatusIs(absl::StatusCode::kFailedPrecondition, "equivocation"));
  SEG_ASSERT_OK_AND_ASSIGN(auto eq, peers_->Equivocations(kUp));
  ASSERT_EQ(eq.size(), 1u);
  EXPECT_EQ(eq[0].held_note(), held->note);
  EXPECT_EQ(eq[0].offered_note(), bad.checkpoint());
  EXPECT_EQ((*peers_->Latest(kUp))->note, held->note);
  EXPECT_EQ(Dump(receiver_kv_, Family::kPeers).size(), before.size() + 1);
  // The honest re-send is still a plain duplicate.
  SEG_ASSERT_OK_AND_ASSIGN(AcceptResult r, peers_->AcceptEvidence(good));
  EXPECT_TRUE(r.duplicate);
}

// A relaying peer strips one key record (the revocation of a registered
// key) from the evidence while a later key record is applied: the complete
// evidence delivered afterwards still teaches the revocation.
TEST_F(PeerStoreTest, OmittedKeyRecordIsLearnedFromLaterCompleteEvidence) {
  SEG_ASSERT_OK(AppendOne(*up_.log, NoteRecord("n")).status());
  auto k3 = NewKey("up-k3");
  const auto& pk = k3->signer().public_key();
  v1::Record reg;
  reg.mutable_key_registration()->set_key_name("up-k3");
  reg.mutable_key_registration()->set_public_key(
      std::string(reinterpret_cast<const char*>(pk.data()), pk.size()));
  SEG_ASSERT_OK(AppendOne(*up_.log, reg).status());  // index 1
  v1::Record rv;
  rv.mutable_key_revocation()->set_key_name("up-k3");
  *rv.mutable_key_revocation()->mutable_effective_at() =
      ToProtoTime(testing::T0());
  SEG_ASSERT_OK(AppendOne(*up_.log, rv).status());  // index 2
  SEG_ASSERT_OK(
      up_.log->RotateKey(NewKey("up-k2"), testing::Operator(), "scheduled")
          .status());  // index 3
  v1::HandoffEvidence full = Build(AppendDispatch(0, "T1"));
  ASSERT_EQ(full.key_records_size(), 3);
  v1::HandoffEvidence stripped = full;
  stripped.mutable_key_records()->DeleteSubrange(1, 1);  // the revocation
  SEG_ASSERT_OK(peers_->AcceptEvidence(stripped));
  auto revoked = [&]() -> bool {
    auto ring = peers_->Keyring(kUp);
    EXPECT_THAT(ring, IsOk());
    if (!ring.ok()) return false;
    for (const auto& k : ring->keys()) {
      if (k.verifier.name() == "up-k3") return k.revoked.has_value();
    }
    return false;
  };
  ASSERT_FALSE(revoked());
  // The honest sender's next, complete delivery.
  SEG_ASSERT_OK(peers_->AcceptEvidence(Build(AppendDispatch(0, "T2"))));
  EXPECT_TRUE(revoked()) << "the revocation of up-k3 is never learned";
}

TEST_F(PeerStoreTest, CosignChecksConsistencyWithLastCosigned) {
  auto me = NewKey("mah-witness");
  SEG_ASSERT_OK(AppendOne(*up_.log, NoteRecord("a")).status());
  SEG_ASSERT_OK_AND_ASSIGN(std::string n1, up_.log->CheckpointNow());
  SEG_ASSERT_OK_AND_ASSIGN(std::string c1, peers_->Cosign(n1, 0, {}, *me));
  // The cosigned note verifies with both keys.
  std::vector<NoteVerifier> both = {key_->Verifier(), me->Verifier()};
  SEG_ASSERT_OK_AND_ASSIGN(VerifiedNote vn, OpenNote(c1, both));
  EXPECT_EQ(vn.verified.size(), 2u);

  for (int k = 0; k < 3; ++k) {
    SEG_ASSERT_OK(AppendOne(*up_.log, NoteRecord("b")).status());
  }
  SEG_ASSERT_OK_AND_ASSIGN(std::string n2, up_.log->CheckpointNow());
  SEG_ASSERT_OK_AND_ASSIGN(auto proof, up_.log->ConsistencyProof(1, 4));
  SEG_ASSERT_OK(peers_->Cosign(n2, 1, proof, *me).status());
  EXPECT_THAT(peers_->Cosign(n1, 0, {}, *me),
              StatusIs(absl::StatusCode::kFailedPrecondition, "older"));
  SEG_ASSERT_OK_AND_ASSIGN(auto notes, peers_->CosignedNotes(kUp));
  EXPECT_EQ(notes.size(), 2u);

  // A fork at size 6 whose proof from 4 fails: equivocation, not cosigned.
  SEG_ASSERT_OK_AND_ASSIGN(Site fork, OpenSite(kUp, key_));
  for (int k = 0; k < 6; ++k) {
    SEG_ASSERT_OK(AppendOne(*fork.log, NoteRecord("f")).status());
  }
  SEG_ASSERT_OK_AND_ASSIGN(std::string nf, fork.log->CheckpointNow());
  SEG_ASSERT_OK_AND_ASSIGN(auto fproof, fork.log->ConsistencyProof(4, 6));
  EXPECT_THAT(peers_->Cosign(nf, 4, fproof, *me),
              StatusIs(absl::StatusCode::kFailedPrecondition, "equivocation"));
  SEG_ASSERT_OK_AND_ASSIGN(auto eq, peers_->Equivocations(kUp));
  ASSERT_EQ(eq.size(), 1u);
  EXPECT_EQ(eq[0].source(), "cosign");
  EXPECT_EQ(eq[0].offered_note(), nf);
  EXPECT_EQ((*peers_->LastCosigned(kUp))->size, 4u);
  EXPECT_EQ(peers_->CosignedNotes(kUp)->size(), 2u);
}

// A witness that holds a checkpoint of the log from evidence (or its
// follower) but never cosigned it: a cosign request is proven from the
// held size, so a log forked after what the witness verified gets no
// cosignature; a request below the held size is stale, not an
// equivocation.
TEST_F(PeerStoreTest, CosignIsProvenFromTheHeldCheckpoint) {
  auto me = NewKey("down-witness");
  for (int i = 0; i < 4; ++i) {
    SEG_ASSERT_OK(AppendOne(*up_.log, NoteRecord("a")).status());
  }
  SEG_ASSERT_OK_AND_ASSIGN(std::string n4, up_.log->CheckpointNow());
  SEG_ASSERT_OK(peers_->AcceptEvidence(Build(AppendDispatch(3, "T1"))));
  SEG_ASSERT_OK_AND_ASSIGN(std::optional<HeldCheckpoint> held,
                           peers_->Latest(kUp));
  ASSERT_EQ(held->size, 8u);
  EXPECT_EQ(*peers_->CosignBase(kUp), 8u);

  SEG_ASSERT_OK_AND_ASSIGN(Site fork, OpenSite(kUp, key_));
  for (int i = 0; i < 10; ++i) {
    SEG_ASSERT_OK(AppendOne(*fork.log, NoteRecord("fork")).status());
  }
  SEG_ASSERT_OK_AND_ASSIGN(std::string fork_note, fork.log->CheckpointNow());
  SEG_ASSERT_OK_AND_ASSIGN(auto fork_proof, fork.log->ConsistencyProof(8, 10));
  const auto before = Dump(receiver_kv_, Family::kPeers);
  EXPECT_THAT(peers_->Cosign(fork_note, 0, {}, *me),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       "consistency proof is from size 0"));
  EXPECT_THAT(peers_->Cosign(n4, 0, {}, *me),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       "older than the checkpoint of size 8"));
  EXPECT_EQ(Dump(receiver_kv_, Family::kPeers), before);
  EXPECT_THAT(peers_->Cosign(fork_note, 8, fork_proof, *me),
              StatusIs(absl::StatusCode::kFailedPrecondition, "equivocation"));
  SEG_ASSERT_OK_AND_ASSIGN(auto eq, peers_->Equivocations(kUp));
  ASSERT_EQ(eq.size(), 1u);
  EXPECT_EQ(eq[0].source(), "cosign");
  EXPECT_EQ(eq[0].held_note(), held->note);
  EXPECT_EQ(eq[0].offered_note(), fork_note);
  EXPECT_FALSE(peers_->LastCosigned(kUp)->has_value());
  EXPECT_EQ(HeldSize(), 8u);

  // The log itself is cosigned from the held size, and that checkpoint is
  // the held one now.
  for (int i = 0; i < 2; ++i) {
    SEG_ASSERT_OK(AppendOne(*up_.log, NoteRecord("b")).status());
  }
  SEG_ASSERT_OK_AND_ASSIGN(std::string n10, up_.log->CheckpointNow());
  SEG_ASSERT_OK_AND_ASSIGN(auto proof, up_.log->ConsistencyProof(8, 10));
  SEG_ASSERT_OK_AND_ASSIGN(std::string cosigned,
                           peers_->Cosign(n10, 8, proof, *me));
  std::vector<NoteVerifier> both = {key_->Verifier(), me->Verifier()};
  SEG_ASSERT_OK_AND_ASSIGN(VerifiedNote vn, OpenNote(cosigned, both));
  EXPECT_EQ(vn.verified.size(), 2u);
  EXPECT_EQ((*peers_->LastCosigned(kUp))->size, 10u);
  EXPECT_EQ((*peers_->Latest(kUp))->note, n10);
  EXPECT_EQ(*peers_->CosignBase(kUp), 10u);
  EXPECT_EQ(peers_->Equivocations(kUp)->size(), 1u);
}

// A cosigned checkpoint becomes the held one, so evidence is checked
// against it: a witness that cosigned size 4 and held nothing else no
// longer takes a forked log's evidence as its first held checkpoint.
TEST_F(PeerStoreTest, CosignedCheckpointIsHeld) {
  auto me = NewKey("fill-witness");
  for (int i = 0; i < 4; ++i) {
    SEG_ASSERT_OK(AppendOne(*up_.log, NoteRecord("a")).status());
  }
  SEG_ASSERT_OK_AND_ASSIGN(std::string n4, up_.log->CheckpointNow());
  SEG_ASSERT_OK(peers_->Cosign(n4, 0, {}, *me).status());
  EXPECT_EQ(HeldSize(), 4u);
  EXPECT_EQ(*peers_->CosignBase(kUp), 4u);

  SEG_ASSERT_OK_AND_ASSIGN(Site fork, OpenSite(kUp, key_));
  for (int i = 0; i < 5; ++i) {
    SEG_ASSERT_OK(AppendOne(*fork.log, NoteRecord("fork")).status());
  }
  SEG_ASSERT_OK_AND_ASSIGN(uint64_t index,
                           AppendOne(*fork.log, DispatchRecord("TF", "down")));
  Outbox fork_out(*fork.log);
  SEG_ASSERT_OK_AND_ASSIGN(v1::HandoffEvidence ev,
                           fork_out.BuildEvidence(index, 4));
  EXPECT_THAT(peers_->AcceptEvidence(ev),
              StatusIs(absl::StatusCode::kFailedPrecondition, "equivocation"));
  SEG_ASSERT_OK_AND_ASSIGN(auto eq, peers_->Equivocations(kUp));
  ASSERT_EQ(eq.size(), 1u);
  EXPECT_EQ(eq[0].source(), "evidence");
  EXPECT_EQ(eq[0].held_note(), n4);
  EXPECT_EQ(HeldSize(), 4u);
  EXPECT_THAT(peers_->GetEvidence(kUp, index),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(PeerStoreTest, SurvivesReopenOnRocksDb) {
  segledger::testing::TempDir dir;
  v1::HandoffEvidence ev = Build(AppendDispatch(1, "T1"));
  {
    SEG_ASSERT_OK_AND_ASSIGN(auto kv, store::RocksDbKv::Open(dir.Sub("db")));
    PeerStore peers(*kv);
    SEG_ASSERT_OK(peers.AddPeer({kUp, {key_->Verifier()}}));
    SEG_ASSERT_OK(peers.AcceptEvidence(ev));
  }
  SEG_ASSERT_OK_AND_ASSIGN(auto kv, store::RocksDbKv::Open(dir.Sub("db")));
  PeerStore peers(*kv);
  SEG_ASSERT_OK(peers.AddPeer({kUp, {key_->Verifier()}}));
  SEG_ASSERT_OK_AND_ASSIGN(AcceptResult again, peers.AcceptEvidence(ev));
  EXPECT_TRUE(again.duplicate);
  EXPECT_EQ((*peers.Latest(kUp))->size, 2u);
}

// ---- x/ registrations: only the party's own configured origin speaks for
// it, products only from a MAH, and a pointer only moves forward.

class RegistrationTest : public PeerStoreTest {
 protected:
  void SetUp() override {
    PeerStoreTest::SetUp();
    mkey_ = NewKey("mah-k1");
    SEG_ASSERT_OK_AND_ASSIGN(mah_, OpenSite(kMah, mkey_, nullptr, &hook_));
    mah_out_ = std::make_unique<Outbox>(*mah_.log);
    SEG_ASSERT_OK(peers_->AddPeer({kMah, {mkey_->Verifier()}, "mah-party"}));
  }
  // Appends `r` to the MAH's log and delivers it as evidence.
  uint64_t MahDelivers(v1::Record r) {
    auto i = AppendOne(*mah_.log, std::move(r));
    EXPECT_THAT(i, IsOk());
    if (!i.ok()) return 0;
    auto held = peers_->Latest(kMah);
    const uint64_t size = held.ok() && held->has_value() ? (*held)->size : 0;
    auto ev = mah_out_->BuildEvidence(*i, size);
    EXPECT_THAT(ev, IsOk());
    if (ev.ok()) {
      EXPECT_THAT(peers_->AcceptEvidence(*ev), IsOk());
    }
    return *i;
  }
  std::string ApprovedSite(const std::string& product) {
    PeerEvidence ev(*peers_);
    auto p = ev.FindProduct(product);
    if (!p.ok()) return p.status().ToString();
    return p->stages(0).approved_site_ids(0);
  }

  std::shared_ptr<const NoteSigner> mkey_;
  Site mah_;
  std::unique_ptr<Outbox> mah_out_;
};

TEST_F(RegistrationTest, RegistrationOfAnotherOriginCannotOverrideTheMahs) {
  MahDelivers(Party("mah-party", v1::PARTY_ROLE_MAH));
  MahDelivers(Product("P1", "mah-party", "site-ok"));
  ASSERT_EQ(ApprovedSite("P1"), "site-ok");
  // The upstream CMO writes "the MAH's" registrations into its own log and
  // delivers them as hand-off evidence: verified, stored, never indexed.
  for (v1::Record r : {Party("mah-party", v1::PARTY_ROLE_MAH),
                       Product("P1", "mah-party", "site-evil")}) {
    SEG_ASSERT_OK_AND_ASSIGN(uint64_t j, AppendOne(*up_.log, r));
    EXPECT_THAT(peers_->AcceptEvidence(Build(j)), IsOk());
  }
  EXPECT_EQ(ApprovedSite("P1"), "site-ok");
  PeerEvidence ev(*peers_);
  SEG_ASSERT_OK_AND_ASSIGN(v1::PartyRegistration mah,
                           ev.FindParty("mah-party"));
  EXPECT_EQ(mah.legal_name(), "mah-party");
  EXPECT_THAT(ev.FindParty("up-party"), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(RegistrationTest, ProductOfAPartyNotRegisteredAsMahIsNotServed) {
  // The CMO registers a product in its own name: its party is a CMO.
  for (v1::Record r : {Party("up-party", v1::PARTY_ROLE_CMO),
                       Product("P2", "up-party", "site-evil")}) {
    SEG_ASSERT_OK_AND_ASSIGN(uint64_t j, AppendOne(*up_.log, r));
    SEG_ASSERT_OK(peers_->AcceptEvidence(Build(j)));
  }
  PeerEvidence ev(*peers_);
  EXPECT_THAT(ev.FindProduct("P2"), StatusIs(absl::StatusCode::kNotFound));
  SEG_ASSERT_OK_AND_ASSIGN(v1::PartyRegistration up, ev.FindParty("up-party"));
  EXPECT_EQ(up.role(), v1::PARTY_ROLE_CMO);
  // Nor the MAH's product before the MAH's own party registration is held.
  MahDelivers(Product("P3", "mah-party", "site-ok"));
  EXPECT_THAT(ev.FindProduct("P3"), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(RegistrationTest, ReplayedOlderRegistrationDoesNotRollBack) {
  MahDelivers(Party("mah-party", v1::PARTY_ROLE_MAH));
  SEG_ASSERT_OK_AND_ASSIGN(
      uint64_t old_i,
      AppendOne(*mah_.log, Product("P1", "mah-party", "site-old")));
  MahDelivers(Product("P1", "mah-party", "site-new"));
  ASSERT_EQ(ApprovedSite("P1"), "site-new");
  // Anyone holding the older, genuine entry replays it as evidence.
  auto held = peers_->Latest(kMah);
  SEG_ASSERT_OK_AND_ASSIGN(v1::HandoffEvidence replay,
                           mah_out_->BuildEvidence(old_i, (*held)->size));
  EXPECT_THAT(peers_->AcceptEvidence(replay), IsOk());
  EXPECT_EQ(ApprovedSite("P1"), "site-new");
}

TEST_F(PeerStoreTest, ConfiguringOnePartyForTwoOriginsIsRefused) {
  EXPECT_THAT(
      peers_->AddPeer({"other.example/l", {key_->Verifier()}, "up-party"}),
      StatusIs(absl::StatusCode::kInvalidArgument, "up-party"));
}

}  // namespace
}  // namespace segledger::peers
