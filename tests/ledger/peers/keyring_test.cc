// PeerKeyring (entry.proto key records as learned by a peer): configured
// keys valid from index 0, rotation with its possession proof, registration,
// revocation by time (from recorded_at without effective_at), checkpoint keys
// around a rotation, proto round trip.
#include "ledger/peers/keyring.h"

#include <string>

#include "gtest/gtest.h"
#include "ledger/entry_codec.h"
#include "tests/ledger/peers/peer_fixture.h"
#include "tests/support/test_util.h"

namespace segledger::peers {
namespace {

using ::segledger::testing::IsOk;
using ::segledger::testing::StatusIs;
using testing::NewKey;

std::string Raw(const NoteSigner& k) {
  const auto& pk = k.signer().public_key();
  return std::string(reinterpret_cast<const char*>(pk.data()), pk.size());
}

v1::EntryBody Body(const std::string& key, absl::Time at) {
  v1::EntryBody b;
  b.set_log_origin("o.example/l");
  b.set_key_name(key);
  b.mutable_recorded_at()->set_seconds(absl::ToUnixSeconds(at));
  return b;
}

v1::EntryBody Rotation(const NoteSigner& old_key, const NoteSigner& next,
                       bool good_possession) {
  v1::EntryBody b = Body(old_key.name(), testing::T0());
  v1::KeyRotation* r = b.mutable_record()->mutable_key_rotation();
  r->set_old_key_name(old_key.name());
  r->set_new_key_name(next.name());
  r->set_new_public_key(Raw(next));
  const NoteSigner& possessor = good_possession ? next : old_key;
  r->set_possession_signature(*possessor.signer().Sign(
      KeyRotationPossessionMessage(old_key.name(), next.name(), Raw(next))));
  return b;
}

TEST(KeyringTest, RotationEndsOldKeyAndStartsNewOne) {
  auto k1 = NewKey("k1");
  auto k2 = NewKey("k2");
  PeerKeyring ring = PeerKeyring::FromConfig({k1->Verifier()});
  const absl::Time t = testing::T0();
  EXPECT_THAT(ring.EntryKey(Body("k1", t), 1000), IsOk());
  EXPECT_THAT(ring.EntryKey(Body("k2", t), 0),
              StatusIs(absl::StatusCode::kInvalidArgument, "unknown key"));

  SEG_ASSERT_OK(ring.Apply(Rotation(*k1, *k2, true), 5));
  EXPECT_EQ(ring.learned_through(), 6u);
  EXPECT_THAT(ring.EntryKey(Body("k1", t), 5), IsOk());
  EXPECT_THAT(ring.EntryKey(Body("k1", t), 6),
              StatusIs(absl::StatusCode::kInvalidArgument, "not valid"));
  EXPECT_THAT(ring.EntryKey(Body("k2", t), 5),
              StatusIs(absl::StatusCode::kInvalidArgument, "not valid"));
  EXPECT_THAT(ring.EntryKey(Body("k2", t), 6), IsOk());
  // Checkpoint of size 6 (its last entry is the rotation): either key.
  EXPECT_EQ(ring.CheckpointKeys(6).size(), 2u);
  EXPECT_EQ(ring.CheckpointKeys(7).size(), 1u);
  EXPECT_EQ(ring.CheckpointKeys(7)[0].name(), "k2");
  EXPECT_EQ(ring.CheckpointKeys(3)[0].name(), "k1");

  // Applying a record below learned_through again changes nothing.
  SEG_ASSERT_OK(ring.Apply(Rotation(*k1, *k2, true), 5));
  EXPECT_EQ(ring.keys().size(), 2u);

  // Round trip through the stored form.
  SEG_ASSERT_OK_AND_ASSIGN(PeerKeyring back,
                           PeerKeyring::FromProto(ring.ToProto()));
  EXPECT_EQ(back.ToProto().SerializeAsString(),
            ring.ToProto().SerializeAsString());
  EXPECT_THAT(back.EntryKey(Body("k1", t), 6),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(KeyringTest, RotationWithoutPossessionIsRefused) {
  auto k1 = NewKey("k1");
  auto k2 = NewKey("k2");
  PeerKeyring ring = PeerKeyring::FromConfig({k1->Verifier()});
  EXPECT_THAT(ring.Apply(Rotation(*k1, *k2, false), 5),
              StatusIs(absl::StatusCode::kInvalidArgument, "possession"));
  EXPECT_EQ(ring.keys().size(), 1u);
  EXPECT_EQ(ring.learned_through(), 0u);
  v1::EntryBody signed_by_other = Rotation(*k1, *k2, true);
  signed_by_other.set_key_name("k9");
  EXPECT_THAT(ring.Apply(signed_by_other, 5),
              StatusIs(absl::StatusCode::kInvalidArgument, "signed by"));
}

TEST(KeyringTest, RegistrationAndRevocation) {
  auto k1 = NewKey("k1");
  auto k3 = NewKey("k3");
  PeerKeyring ring = PeerKeyring::FromConfig({k1->Verifier()});
  const absl::Time t = testing::T0();
  v1::EntryBody reg = Body("k1", t);
  reg.mutable_record()->mutable_key_registration()->set_key_name("k3");
  reg.mutable_record()->mutable_key_registration()->set_public_key(Raw(*k3));
  SEG_ASSERT_OK(ring.Apply(reg, 2));
  EXPECT_THAT(ring.EntryKey(Body("k3", t), 3), IsOk());
  EXPECT_THAT(ring.EntryKey(Body("k3", t), 2),
              StatusIs(absl::StatusCode::kInvalidArgument));

  v1::EntryBody rev = Body("k1", t);
  rev.mutable_record()->mutable_key_revocation()->set_key_name("k3");
  rev.mutable_record()
      ->mutable_key_revocation()
      ->mutable_effective_at()
      ->set_seconds(absl::ToUnixSeconds(t + absl::Hours(1)));
  SEG_ASSERT_OK(ring.Apply(rev, 4));
  // Before the revocation's index the time rule decides; after it the key
  // signs nothing (see RevokedKeyCannotBackdateAfterTheRevocationIndex).
  EXPECT_THAT(ring.EntryKey(Body("k3", t + absl::Minutes(59)), 3), IsOk());
  EXPECT_THAT(ring.EntryKey(Body("k3", t + absl::Hours(1)), 3),
              StatusIs(absl::StatusCode::kInvalidArgument, "revoked"));
  EXPECT_THAT(
      ring.EntryKey(Body("k3", t + absl::Minutes(59)), 9),
      StatusIs(absl::StatusCode::kInvalidArgument, "revoked by entry 4"));

  v1::EntryBody bad = Body("k1", t);
  bad.mutable_record()->mutable_key_registration()->set_key_name("k4");
  bad.mutable_record()->mutable_key_registration()->set_public_key("short");
  EXPECT_THAT(ring.Apply(bad, 7), StatusIs(absl::StatusCode::kInvalidArgument));
}

// A revocation without effective_at revokes from its own recorded_at (as
// LogVerifier and the domain read it), not from the epoch: entries the key
// signed before the revocation was recorded stay valid.
TEST(KeyringTest, RevocationWithoutEffectiveTimeIsFromItsRecordTime) {
  auto k1 = NewKey("k1");
  PeerKeyring ring = PeerKeyring::FromConfig({k1->Verifier()});
  const absl::Time t = testing::T0();
  v1::EntryBody rev = Body("k1", t);
  rev.mutable_record()->mutable_key_revocation()->set_key_name("k1");
  SEG_ASSERT_OK(ring.Apply(rev, 10));
  EXPECT_THAT(ring.EntryKey(Body("k1", t - absl::Hours(24)), 5), IsOk());
  EXPECT_THAT(ring.EntryKey(Body("k1", t), 11),
              StatusIs(absl::StatusCode::kInvalidArgument, "revoked"));
}

// A thief holding a revoked key appends entries after the revocation record
// with recorded_at before its effective time, and signs checkpoints over
// them: from the revocation's index on the key signs no entry, and no
// checkpoint covering more than the log up to the revocation. The index
// survives the stored form.
TEST(KeyringTest, RevokedKeyCannotBackdateAfterTheRevocationIndex) {
  auto k1 = NewKey("k1");
  PeerKeyring ring = PeerKeyring::FromConfig({k1->Verifier()});
  const absl::Time t = testing::T0();
  v1::EntryBody rev = Body("k1", t);
  auto* r = rev.mutable_record()->mutable_key_revocation();
  r->set_key_name("k1");
  r->mutable_effective_at()->set_seconds(absl::ToUnixSeconds(t));
  SEG_ASSERT_OK(ring.Apply(rev, 10));
  SEG_ASSERT_OK_AND_ASSIGN(PeerKeyring stored,
                           PeerKeyring::FromProto(ring.ToProto()));
  for (const PeerKeyring* k : {&ring, &stored}) {
    EXPECT_THAT(k->EntryKey(Body("k1", t - absl::Hours(1)), 9), IsOk());
    EXPECT_THAT(k->EntryKey(Body("k1", t - absl::Hours(1)), 20),
                StatusIs(absl::StatusCode::kInvalidArgument, "revoked"));
    EXPECT_EQ(k->CheckpointKeys(11).size(), 1u);
    EXPECT_TRUE(k->CheckpointKeys(12).empty());
    EXPECT_TRUE(k->CheckpointKeys(25).empty());
  }
  // A later revocation of the same key gives it nothing back.
  v1::EntryBody again = rev;
  again.mutable_record()
      ->mutable_key_revocation()
      ->mutable_effective_at()
      ->set_seconds(absl::ToUnixSeconds(t + absl::Hours(5)));
  SEG_ASSERT_OK(ring.Apply(again, 30));
  EXPECT_THAT(ring.EntryKey(Body("k1", t + absl::Hours(1)), 9),
              StatusIs(absl::StatusCode::kInvalidArgument, "revoked"));
  EXPECT_TRUE(ring.CheckpointKeys(25).empty());
}

// A keyring stored before applied indexes were kept (learned_through only)
// still reads: every record below it counts as applied; records above it
// are tracked one by one from then on, also across the stored form.
TEST(KeyringTest, LegacyStoredKeyringStillReads) {
  auto k1 = NewKey("k1");
  auto k2 = NewKey("k2");
  v1::PeerKeyring old = PeerKeyring::FromConfig({k1->Verifier()}).ToProto();
  old.clear_applied_below();
  old.clear_applied_indexes();
  old.set_learned_through(6);
  SEG_ASSERT_OK_AND_ASSIGN(PeerKeyring ring, PeerKeyring::FromProto(old));
  EXPECT_TRUE(ring.Applied(3));
  EXPECT_FALSE(ring.Applied(6));
  SEG_ASSERT_OK(ring.Apply(Rotation(*k1, *k2, true), 3));  // skipped
  EXPECT_EQ(ring.keys().size(), 1u);
  SEG_ASSERT_OK(ring.Apply(Rotation(*k1, *k2, true), 9));
  EXPECT_EQ(ring.learned_through(), 10u);
  SEG_ASSERT_OK_AND_ASSIGN(PeerKeyring back,
                           PeerKeyring::FromProto(ring.ToProto()));
  EXPECT_TRUE(back.Applied(5));
  EXPECT_FALSE(back.Applied(7));  // not hidden by the new learned_through
  EXPECT_TRUE(back.Applied(9));
}

}  // namespace
}  // namespace segledger::peers
