#include "ledger/peers/handoff.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "ledger/entry_codec.h"
#include "ledger/merkle.h"
#include "ledger/note.h"
#include "ledger/status_macros.h"

namespace segledger::peers {
namespace {

absl::Status Prefix(const absl::Status& s, absl::string_view what) {
  if (s.ok()) return s;
  return absl::Status(s.code(), absl::StrCat(what, ": ", s.message()));
}

// Step 2: key records in index order, each included and validly signed.
absl::Status LearnKeyRecords(const v1::HandoffEvidence& ev,
                             const Checkpoint& cp, PeerKeyring& keyring) {
  uint64_t next = 0;
  for (const v1::ProvenEntry& rec : ev.key_records()) {
    if (rec.index() < next) {
      return absl::InvalidArgumentError(
          absl::StrFormat("key_records: index %d after %d (not increasing)",
                          rec.index(), next - 1));
    }
    next = rec.index() + 1;
    if (keyring.Applied(rec.index())) continue;
    absl::StatusOr<VerifiedEntry> v =
        VerifyProvenEntry(rec, ev.origin(), cp.size, cp.root, keyring);
    if (!v.ok()) return Prefix(v.status(), "key_records");
    if (!IsKeyRecord(v->body.record())) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "key_records: entry %d is not a key record", rec.index()));
    }
    SEG_RETURN_IF_ERROR(
        Prefix(keyring.Apply(v->body, v->index), "key_records"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<Hash>> HashesFromBytes(
    const google::protobuf::RepeatedPtrField<std::string>& bytes,
    absl::string_view what) {
  std::vector<Hash> out;
  out.reserve(bytes.size());
  for (int i = 0; i < bytes.size(); ++i) {
    SEG_ASSIGN_OR_RETURN(
        Hash h, HashFromBytes(bytes[i], absl::StrCat(what, "[", i, "]")));
    out.push_back(h);
  }
  return out;
}

v1::EquivocationRecord MakeEquivocation(absl::string_view origin,
                                        absl::string_view held_note,
                                        absl::string_view offered_note,
                                        absl::string_view source,
                                        absl::string_view detail) {
  v1::EquivocationRecord r;
  r.set_origin(std::string(origin));
  r.set_held_note(std::string(held_note));
  r.set_offered_note(std::string(offered_note));
  r.set_source(std::string(source));
  r.set_detail(std::string(detail));
  return r;
}

absl::StatusOr<SignedCheckpoint> OpenPeerCheckpoint(
    absl::string_view note, absl::string_view origin,
    const PeerKeyring& keyring) {
  absl::StatusOr<Checkpoint> peek = PeekCheckpoint(note);
  if (!peek.ok()) return Prefix(peek.status(), "checkpoint");
  std::vector<NoteVerifier> keys = keyring.CheckpointKeys(peek->size);
  if (keys.empty()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "checkpoint of %s at size %d: no key of that origin is valid there",
        origin, peek->size));
  }
  absl::StatusOr<SignedCheckpoint> cp = OpenCheckpoint(note, keys, origin);
  if (!cp.ok()) return Prefix(cp.status(), "checkpoint");
  return cp;
}

absl::StatusOr<VerifiedEntry> ParseAndResolve(
    const v1::SignedEntry& e, uint64_t index, absl::string_view origin,
    const PeerKeyring& keyring, std::optional<NoteVerifier>* key) {
  VerifiedEntry v;
  v.index = index;
  absl::StatusOr<v1::EntryBody> body = ParseEntryBody(e.body());
  if (!body.ok()) {
    return Prefix(body.status(), absl::StrCat("entry ", index, " body"));
  }
  v.body = *std::move(body);
  if (v.body.log_origin() != origin || v.body.index() != index) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "entry %d: body names %s index %d, want %s index %d", index,
        v.body.log_origin(), v.body.index(), origin, index));
  }
  absl::StatusOr<NoteVerifier> k = keyring.EntryKey(v.body, index);
  if (!k.ok()) return k.status();
  key->emplace(*std::move(k));
  v.leaf_hash = LeafHash(e.body());
  return v;
}

absl::Status CheckEntrySignature(const v1::SignedEntry& e, uint64_t index,
                                 absl::string_view origin,
                                 const NoteVerifier& key) {
  absl::Status sig = key.Verify(EntrySigningMessage(e.body()), e.signature());
  if (sig.ok()) return sig;
  return absl::InvalidArgumentError(
      absl::StrFormat("entry %d of %s: signature by \"%s\": %s", index, origin,
                      key.name(), sig.message()));
}

absl::StatusOr<VerifiedEntry> VerifySignedEntry(const v1::SignedEntry& e,
                                                uint64_t index,
                                                absl::string_view origin,
                                                const PeerKeyring& keyring) {
  std::optional<NoteVerifier> key;
  SEG_ASSIGN_OR_RETURN(VerifiedEntry v,
                       ParseAndResolve(e, index, origin, keyring, &key));
  SEG_RETURN_IF_ERROR(CheckEntrySignature(e, index, origin, *key));
  return v;
}

absl::StatusOr<VerifiedEntry> VerifyProvenEntry(const v1::ProvenEntry& e,
                                                absl::string_view origin,
                                                uint64_t size, const Hash& root,
                                                const PeerKeyring& keyring) {
  SEG_ASSIGN_OR_RETURN(VerifiedEntry v, VerifySignedEntry(e.entry(), e.index(),
                                                          origin, keyring));
  SEG_ASSIGN_OR_RETURN(std::vector<Hash> proof,
                       HashesFromBytes(e.inclusion_proof(), "inclusion_proof"));
  absl::Status inc = VerifyInclusion(e.index(), size, v.leaf_hash, proof, root);
  if (!inc.ok()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("entry %d of %s: inclusion in checkpoint size %d: %s",
                        e.index(), origin, size, inc.message()));
  }
  return v;
}

absl::Status CheckConsistent(
    const HeldCheckpoint& held, const SignedCheckpoint& offered,
    uint64_t proof_size,
    const google::protobuf::RepeatedPtrField<std::string>& proof,
    absl::string_view source,
    std::optional<v1::EquivocationRecord>* equivocation) {
  const Checkpoint& cp = offered.checkpoint;
  absl::Status bad;
  if (held.size == cp.size) {
    if (held.root == cp.root) return absl::OkStatus();
    bad = absl::InvalidArgumentError(
        absl::StrFormat("two roots for size %d: held %s, offered %s", cp.size,
                        HashHex(held.root), HashHex(cp.root)));
  } else if (held.size == 0) {
    return absl::OkStatus();
  } else {
    if (proof_size != held.size) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "consistency proof is from size %d but the receiver holds size %d "
          "of %s",
          proof_size, held.size, cp.origin));
    }
    SEG_ASSIGN_OR_RETURN(std::vector<Hash> hashes,
                         HashesFromBytes(proof, "consistency_proof"));
    const bool grows = held.size < cp.size;
    bad = VerifyConsistency(
        grows ? held.size : cp.size, grows ? cp.size : held.size, hashes,
        grows ? held.root : cp.root, grows ? cp.root : held.root);
    if (bad.ok()) return bad;
  }
  std::string detail =
      absl::StrFormat("%s: size %d vs held size %d: %s", cp.origin, cp.size,
                      held.size, bad.message());
  if (equivocation != nullptr) {
    *equivocation =
        MakeEquivocation(cp.origin, held.note, offered.note, source, detail);
  }
  return absl::FailedPreconditionError(absl::StrCat("equivocation: ", detail));
}

absl::StatusOr<HandoffResult> VerifyHandoff(
    const v1::HandoffEvidence& evidence, const PeerKeyring& keyring,
    const std::optional<HeldCheckpoint>& held,
    std::optional<v1::EquivocationRecord>* equivocation) {
  if (evidence.origin().empty()) {
    return absl::InvalidArgumentError("evidence.origin: empty");
  }
  absl::StatusOr<Checkpoint> peek = PeekCheckpoint(evidence.checkpoint());
  if (!peek.ok()) return Prefix(peek.status(), "evidence.checkpoint");
  HandoffResult out;
  out.keyring = keyring;
  SEG_RETURN_IF_ERROR(LearnKeyRecords(evidence, *peek, out.keyring));
  SEG_ASSIGN_OR_RETURN(out.checkpoint,
                       OpenPeerCheckpoint(evidence.checkpoint(),
                                          evidence.origin(), out.keyring));
  const Checkpoint& cp = out.checkpoint.checkpoint;
  if (evidence.entry().index() >= cp.size) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "evidence.entry.index %d is not below checkpoint size %d",
        evidence.entry().index(), cp.size));
  }
  SEG_ASSIGN_OR_RETURN(
      out.entry, VerifyProvenEntry(evidence.entry(), evidence.origin(), cp.size,
                                   cp.root, out.keyring));
  if (held.has_value()) {
    SEG_RETURN_IF_ERROR(CheckConsistent(
        *held, out.checkpoint, evidence.consistency_size(),
        evidence.consistency_proof(), "evidence", equivocation));
  }
  return out;
}

}  // namespace segledger::peers
