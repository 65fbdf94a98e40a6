#include "ledger/peers/keyring.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "ledger/entry_codec.h"
#include "ledger/proto_time.h"
#include "ledger/status_macros.h"

namespace segledger::peers {
namespace {

absl::StatusOr<NoteVerifier> KeyFromBytes(absl::string_view name,
                                          absl::string_view public_key) {
  if (public_key.size() != kEd25519PublicKeySize) {
    return absl::InvalidArgumentError(
        absl::StrFormat("public key of %s is %d bytes, want %d", name,
                        public_key.size(), kEd25519PublicKeySize));
  }
  Ed25519PublicKey key;
  std::copy(public_key.begin(), public_key.end(), key.begin());
  return NoteVerifier::FromPublicKey(name, key);
}

bool ValidAt(const PeerKeyring::Key& k, uint64_t index) {
  return index >= k.from && (k.until == 0 || index < k.until);
}

}  // namespace

bool IsKeyRecord(const v1::Record& r) {
  return r.has_key_registration() || r.has_key_rotation() ||
         r.has_key_revocation();
}

PeerKeyring PeerKeyring::FromConfig(absl::Span<const NoteVerifier> keys) {
  PeerKeyring ring;
  for (const NoteVerifier& v : keys) ring.keys_.push_back(Key{v, 0, 0, {}});
  return ring;
}

absl::StatusOr<PeerKeyring> PeerKeyring::FromProto(const v1::PeerKeyring& p) {
  PeerKeyring ring;
  ring.learned_through_ = p.learned_through();
  ring.applied_below_ =
      p.has_applied_below() ? p.applied_below() : p.learned_through();
  ring.applied_.insert(p.applied_indexes().begin(), p.applied_indexes().end());
  for (const v1::PeerKey& k : p.keys()) {
    SEG_ASSIGN_OR_RETURN(NoteVerifier v,
                         NoteVerifier::FromVerifierKey(k.verifier_key()));
    Key key{std::move(v), k.valid_from_index(), k.valid_until_index(), {}};
    if (k.has_revoked_at()) key.revoked = FromProtoTime(k.revoked_at());
    if (k.has_revoked_index()) key.revoked_index = k.revoked_index();
    ring.keys_.push_back(std::move(key));
  }
  return ring;
}

v1::PeerKeyring PeerKeyring::ToProto() const {
  v1::PeerKeyring p;
  p.set_learned_through(learned_through_);
  p.set_applied_below(applied_below_);
  for (uint64_t i : applied_) p.add_applied_indexes(i);
  for (const Key& k : keys_) {
    v1::PeerKey* out = p.add_keys();
    out->set_verifier_key(k.verifier.VerifierKey());
    out->set_valid_from_index(k.from);
    out->set_valid_until_index(k.until);
    if (k.revoked) *out->mutable_revoked_at() = ToProtoTime(*k.revoked);
    if (k.revoked_index) out->set_revoked_index(*k.revoked_index);
  }
  return p;
}

absl::StatusOr<NoteVerifier> PeerKeyring::EntryKey(const v1::EntryBody& body,
                                                   uint64_t index) const {
  bool named = false;
  std::string windows;
  for (const Key& k : keys_) {
    if (k.verifier.name() != body.key_name()) continue;
    named = true;
    absl::StrAppend(&windows, " [", k.from, ", ",
                    k.until == 0 ? "end" : absl::StrCat(k.until), ")");
    if (!ValidAt(k, index)) continue;
    if (k.revoked_index && index > *k.revoked_index) {
      absl::StrAppend(&windows, " revoked by entry ", *k.revoked_index);
      continue;
    }
    if (k.revoked && FromProtoTime(body.recorded_at()) >= *k.revoked) {
      absl::StrAppend(&windows, " revoked");
      continue;
    }
    return k.verifier;
  }
  if (!named) {
    return absl::InvalidArgumentError(
        absl::StrFormat("entry %d of %s: unknown key \"%s\"", index,
                        body.log_origin(), body.key_name()));
  }
  return absl::InvalidArgumentError(absl::StrFormat(
      "entry %d of %s: key \"%s\" not valid at that index (valid:%s)", index,
      body.log_origin(), body.key_name(), windows));
}

std::vector<NoteVerifier> PeerKeyring::CheckpointKeys(uint64_t size) const {
  std::vector<NoteVerifier> out;
  for (const Key& k : keys_) {
    if (k.revoked_index && size > *k.revoked_index + 1) continue;
    if (ValidAt(k, size) || (size > 0 && ValidAt(k, size - 1))) {
      out.push_back(k.verifier);
    }
  }
  return out;
}

PeerKeyring::Key* PeerKeyring::Find(absl::string_view name) {
  for (Key& k : keys_) {
    if (k.verifier.name() == name && k.until == 0) return &k;
  }
  return nullptr;
}

absl::Status PeerKeyring::ApplyRotation(const v1::EntryBody& body,
                                        uint64_t index) {
  const v1::KeyRotation& r = body.record().key_rotation();
  if (r.old_key_name() != body.key_name() ||
      r.new_key_name() == r.old_key_name()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "entry %d: key rotation from \"%s\" to \"%s\" signed by \"%s\"", index,
        r.old_key_name(), r.new_key_name(), body.key_name()));
  }
  SEG_ASSIGN_OR_RETURN(NoteVerifier next,
                       KeyFromBytes(r.new_key_name(), r.new_public_key()));
  absl::Status possession =
      next.Verify(KeyRotationPossessionMessage(
                      r.old_key_name(), r.new_key_name(), r.new_public_key()),
                  r.possession_signature());
  if (!possession.ok()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("entry %d: key rotation to \"%s\": possession "
                        "signature: %s",
                        index, r.new_key_name(), possession.message()));
  }
  if (Key* old = Find(r.old_key_name())) old->until = index + 1;
  keys_.push_back(Key{std::move(next), index + 1, 0, {}});
  return absl::OkStatus();
}

absl::Status PeerKeyring::Apply(const v1::EntryBody& body, uint64_t index) {
  if (Applied(index)) return absl::OkStatus();
  const v1::Record& r = body.record();
  if (r.has_key_rotation()) {
    SEG_RETURN_IF_ERROR(ApplyRotation(body, index));
  } else if (r.has_key_registration()) {
    const v1::KeyRegistration& reg = r.key_registration();
    SEG_ASSIGN_OR_RETURN(NoteVerifier v,
                         KeyFromBytes(reg.key_name(), reg.public_key()));
    Key key{std::move(v), index + 1, 0, {}};
    if (reg.has_valid_until()) key.revoked = FromProtoTime(reg.valid_until());
    keys_.push_back(std::move(key));
  } else if (r.has_key_revocation()) {
    // No effective_at: revoked from the revocation's own recorded_at, as in
    // LogVerifier and the domain (an unset field is not 1970).
    const v1::KeyRevocation& rev = r.key_revocation();
    const absl::Time at = FromProtoTime(
        rev.has_effective_at() ? rev.effective_at() : body.recorded_at());
    for (Key& k : keys_) {
      if (k.verifier.name() != rev.key_name()) continue;
      // A second revocation never gives a key back time or entries.
      if (!k.revoked || at < *k.revoked) k.revoked = at;
      if (!k.revoked_index || index < *k.revoked_index) {
        k.revoked_index = index;
      }
    }
  }
  applied_.insert(index);
  learned_through_ = std::max(learned_through_, index + 1);
  return absl::OkStatus();
}

}  // namespace segledger::peers
