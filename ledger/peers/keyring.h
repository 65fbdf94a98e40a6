// PeerKeyring: the keys a node trusts for one peer log and the entry
// indexes each is valid for (entry.proto key records). Keys from the peer
// configuration are valid from index 0; key records of that log, once
// verified, extend or limit the set: KeyRegistration at i adds a key for
// entries after i, KeyRotation at i (possession signature checked) ends
// the old key after i and starts the new one, KeyRevocation at i makes the
// key invalid for entries recorded at or after its effective time (without
// one: the revocation entry's own recorded_at) and for every entry after i
// whatever its recorded_at (a key thief cannot append backdated entries
// after the revocation). Of several revocations of one key the earliest
// time and the earliest index count.
//
// Checkpoints of size n are accepted when signed by a key valid for entry
// n-1 or n (the checkpoint written in a rotation's batch may be signed by
// either key); a key revoked at i signs no checkpoint larger than i + 1.
//
// Value type; thread-compatible.
#ifndef SEGLEDGER_LEDGER_PEERS_KEYRING_H_
#define SEGLEDGER_LEDGER_PEERS_KEYRING_H_

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "ledger/note.h"
#include "segledger/v1/entry.pb.h"
#include "segledger/v1/peers.pb.h"

namespace segledger::peers {

class PeerKeyring {
 public:
  struct Key {
    NoteVerifier verifier;
    uint64_t from = 0;                  // first entry index it may sign
    uint64_t until = 0;                 // first index it may not; 0: none
    std::optional<absl::Time> revoked;  // entries recorded at/after: invalid
    // Index of the (first) revocation record: the key signs no entry after
    // it, whatever the entry's recorded_at, and no checkpoint larger than
    // it + 1. Unset in keyrings stored before it was kept.
    std::optional<uint64_t> revoked_index = {};
  };

  // Configured keys, valid from index 0.
  static PeerKeyring FromConfig(absl::Span<const NoteVerifier> keys);
  // INVALID_ARGUMENT naming the bad verifier key.
  static absl::StatusOr<PeerKeyring> FromProto(const v1::PeerKeyring& p);
  v1::PeerKeyring ToProto() const;

  // The key that may sign the entry `body` at `index`. INVALID_ARGUMENT
  // "unknown key" or "key ... not valid at index ..." naming the window.
  absl::StatusOr<NoteVerifier> EntryKey(const v1::EntryBody& body,
                                        uint64_t index) const;
  // Keys that may sign a checkpoint of `size` (see above).
  std::vector<NoteVerifier> CheckpointKeys(uint64_t size) const;

  // Applies the key record in `body` (entry `index`, whose signature the
  // caller verified with EntryKey). A record already applied (Applied) is
  // skipped; any other is applied, also below learned_through(), so a
  // record a relaying peer left out of one delivery is learned from a
  // later one. INVALID_ARGUMENT for a malformed record or a bad possession
  // signature (the record is then not applied).
  absl::Status Apply(const v1::EntryBody& body, uint64_t index);
  // True when the key record at `index` has been applied (in a keyring
  // stored before applied indexes were kept: every index below its
  // learned_through).
  bool Applied(uint64_t index) const {
    return index < applied_below_ || applied_.count(index) > 0;
  }
  // One past the highest key record applied.
  uint64_t learned_through() const { return learned_through_; }
  // Changes whenever a record is applied (to tell whether to store it).
  size_t applied_count() const { return applied_.size(); }

  const std::vector<Key>& keys() const { return keys_; }

 private:
  absl::Status ApplyRotation(const v1::EntryBody& body, uint64_t index);
  Key* Find(absl::string_view name);

  std::vector<Key> keys_;
  uint64_t learned_through_ = 0;
  uint64_t applied_below_ = 0;  // legacy rows: all below count as applied
  std::set<uint64_t> applied_;  // applied at or above applied_below_
};

// True for key registration, rotation and revocation records.
bool IsKeyRecord(const v1::Record& r);

}  // namespace segledger::peers

#endif  // SEGLEDGER_LEDGER_PEERS_KEYRING_H_
