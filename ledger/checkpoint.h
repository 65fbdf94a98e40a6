// C2SP tlog-checkpoint (https://c2sp.org/tlog-checkpoint) note text:
//
//   <origin>\n<tree size, decimal>\n<root hash, std base64>\n[extension lines]
//
// signed as a C2SP signed note (ledger/note.h). Pure and thread-safe.
#ifndef SEGLEDGER_LEDGER_CHECKPOINT_H_
#define SEGLEDGER_LEDGER_CHECKPOINT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "ledger/hash.h"
#include "ledger/note.h"

namespace segledger {

struct Checkpoint {
  std::string origin;
  uint64_t size = 0;
  Hash root{};
  std::vector<std::string> extensions;  // extra lines, without '\n'

  // The note text this checkpoint signs, with a final '\n'.
  std::string Text() const;

  friend bool operator==(const Checkpoint& a, const Checkpoint& b) {
    return a.origin == b.origin && a.size == b.size && a.root == b.root &&
           a.extensions == b.extensions;
  }
};

// Parses checkpoint note text. INVALID_ARGUMENT for an empty origin, a size
// with leading zeros, sign or overflow, a root that is not 32 bytes of
// canonical base64, or empty extension lines.
absl::StatusOr<Checkpoint> ParseCheckpointText(absl::string_view text);

// The checkpoint a signed note carries, parsed without checking its
// signatures: for notes this node signed itself, notes whose signatures
// are checked elsewhere, or to learn the size that picks the keys to check
// them with. INVALID_ARGUMENT when the note or its text does not parse.
absl::StatusOr<Checkpoint> PeekCheckpoint(absl::string_view note);

// PeekCheckpoint's tree size.
absl::StatusOr<uint64_t> CheckpointNoteSize(absl::string_view note);

// A checkpoint with its whole signed note as received (kept byte for byte).
struct SignedCheckpoint {
  Checkpoint checkpoint;
  std::string note;  // full signed note
  std::vector<NoteSignature> verified;
  std::vector<NoteSignature> unverified;
};

// Opens a signed checkpoint: verifies the note against `known` keys (at
// least one valid signature by a known key), parses its text and, when
// `expected_origin` is non-empty, requires that origin.
absl::StatusOr<SignedCheckpoint> OpenCheckpoint(
    absl::string_view note, absl::Span<const NoteVerifier> known,
    absl::string_view expected_origin);

// Signs a checkpoint with one key: the full signed note.
absl::StatusOr<std::string> SignCheckpoint(const Checkpoint& checkpoint,
                                           const NoteSigner& signer);

}  // namespace segledger

#endif  // SEGLEDGER_LEDGER_CHECKPOINT_H_
