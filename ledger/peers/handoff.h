// Pure verification of cross-site hand-off evidence (DESIGN.md
// "Cross-site hand-off", steps 2-3) and of peer checkpoints:
//
//   1. the checkpoint note text parses and names the sender's origin;
//   2. key records carried with the evidence are included in that tree and
//      signed by a key valid at their index; they update a copy of the
//      receiver's keyring (rotations learned in index order);
//   3. the checkpoint is signed by a key of the origin valid at its size;
//   4. the entry parses, names the origin and its index, is signed by the
//      key its body names, valid at that index, and is included in the
//      checkpoint's tree (RFC 9162 inclusion proof);
//   5. the checkpoint is consistent with the last one the receiver holds
//      for the origin (RFC 9162 consistency proof in the evidence).
//
// Steps 1-4 failing mean forged or malformed evidence: INVALID_ARGUMENT (or
// FAILED_PRECONDITION for a consistency proof from a stale size) and no
// equivocation. Step 5 failing with both checkpoints validly signed is an
// equivocation: FAILED_PRECONDITION "equivocation: ..." and `*equivocation`
// is filled with both notes.
//
// Pure and thread-safe.
#ifndef SEGLEDGER_LEDGER_PEERS_HANDOFF_H_
#define SEGLEDGER_LEDGER_PEERS_HANDOFF_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "ledger/checkpoint.h"
#include "ledger/hash.h"
#include "ledger/peers/keyring.h"
#include "segledger/v1/entry.pb.h"
#include "segledger/v1/peers.pb.h"

namespace segledger::peers {

// A verified checkpoint the receiver holds for a peer log.
struct HeldCheckpoint {
  uint64_t size = 0;
  Hash root{};
  std::string note;
};

struct VerifiedEntry {
  uint64_t index = 0;
  Hash leaf_hash{};
  v1::EntryBody body;
};

struct HandoffResult {
  VerifiedEntry entry;
  SignedCheckpoint checkpoint;
  PeerKeyring keyring;  // the input keyring plus the key records learned
};

// Verifies `evidence` against `keyring` and the checkpoint held for its
// origin (nullopt: none yet). See the file comment for errors.
absl::StatusOr<HandoffResult> VerifyHandoff(
    const v1::HandoffEvidence& evidence, const PeerKeyring& keyring,
    const std::optional<HeldCheckpoint>& held,
    std::optional<v1::EquivocationRecord>* equivocation);

// Opens a signed checkpoint of `origin` with the keys of `keyring` valid at
// its size. INVALID_ARGUMENT when malformed, of another origin, or not
// signed by such a key.
absl::StatusOr<SignedCheckpoint> OpenPeerCheckpoint(absl::string_view note,
                                                    absl::string_view origin,
                                                    const PeerKeyring& keyring);

// Checks an entry of `origin` at `index` in a tree of (size, root): body,
// index, origin, signature by a key valid at that index, inclusion proof.
absl::StatusOr<VerifiedEntry> VerifyProvenEntry(const v1::ProvenEntry& e,
                                                absl::string_view origin,
                                                uint64_t size, const Hash& root,
                                                const PeerKeyring& keyring);

// The order-dependent half of VerifySignedEntry: body, index, origin and
// the key valid at that index (returned); the signature is not checked.
absl::StatusOr<VerifiedEntry> ParseAndResolve(const v1::SignedEntry& e,
                                              uint64_t index,
                                              absl::string_view origin,
                                              const PeerKeyring& keyring,
                                              std::optional<NoteVerifier>* key);
// The entry signature by `key` (INVALID_ARGUMENT naming index and key).
absl::Status CheckEntrySignature(const v1::SignedEntry& e, uint64_t index,
                                 absl::string_view origin,
                                 const NoteVerifier& key);

// Checks a signed entry at its position without a proof: body, index,
// origin, key validity and signature.
absl::StatusOr<VerifiedEntry> VerifySignedEntry(const v1::SignedEntry& e,
                                                uint64_t index,
                                                absl::string_view origin,
                                                const PeerKeyring& keyring);

// Checks that `offered` (validly signed) is consistent with `held` using
// `proof` between the smaller and the larger size, given as from
// `proof_size` (must be held.size unless the sizes are equal). On an
// inconsistency returns FAILED_PRECONDITION "equivocation: ..." and fills
// `*equivocation` (source as given).
absl::Status CheckConsistent(
    const HeldCheckpoint& held, const SignedCheckpoint& offered,
    uint64_t proof_size,
    const google::protobuf::RepeatedPtrField<std::string>& proof,
    absl::string_view source,
    std::optional<v1::EquivocationRecord>* equivocation);

// Hashes from wire bytes (each exactly 32); INVALID_ARGUMENT naming `what`.
absl::StatusOr<std::vector<Hash>> HashesFromBytes(
    const google::protobuf::RepeatedPtrField<std::string>& bytes,
    absl::string_view what);

// An equivocation record (detected_at unset).
v1::EquivocationRecord MakeEquivocation(absl::string_view origin,
                                        absl::string_view held_note,
                                        absl::string_view offered_note,
                                        absl::string_view source,
                                        absl::string_view detail);

}  // namespace segledger::peers

#endif  // SEGLEDGER_LEDGER_PEERS_HANDOFF_H_
