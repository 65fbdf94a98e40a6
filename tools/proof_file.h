// C2SP tlog-proof (https://c2sp.org/tlog-proof) single-entry proof files:
//
//   c2sp.org/tlog-proof@v1\n
//   [extra <base64>\n]
//   index <decimal>\n
//   <base64 hash>\n ...           (RFC 9162 inclusion proof, leaf upward)
//   \n
//   <signed checkpoint note, verbatim>
//
// segledger puts the entry itself in `extra`: the serialized SignedEntry
// (body bytes exactly as hashed and signed), so the file alone answers
// "prove this dispatch is in that log". Pure and thread-safe.
#ifndef SEGLEDGER_TOOLS_PROOF_FILE_H_
#define SEGLEDGER_TOOLS_PROOF_FILE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "ledger/checkpoint.h"
#include "ledger/hash.h"
#include "ledger/note.h"
#include "segledger/v1/entry.pb.h"

namespace segledger::tools {

inline constexpr absl::string_view kProofMagic = "c2sp.org/tlog-proof@v1";

struct ProofFile {
  std::optional<std::string> extra;  // decoded bytes
  uint64_t index = 0;
  std::vector<Hash> proof;
  std::string checkpoint;  // signed note, verbatim
};

std::string FormatProofFile(const ProofFile& p);
// INVALID_ARGUMENT naming the line for a wrong first line, a bad index
// (leading zeros, not decimal), bad base64, a missing blank line, or a
// checkpoint that is not a syntactically valid signed note.
absl::StatusOr<ProofFile> ParseProofFile(absl::string_view text);

// Builds a proof file for `entry` at `index` from an RFC 9162 inclusion
// proof against the tree of `checkpoint_note` (not checked here).
std::string MakeEntryProofFile(const v1::SignedEntry& entry, uint64_t index,
                               absl::Span<const Hash> proof,
                               absl::string_view checkpoint_note);

struct VerifiedEntryProof {
  Checkpoint checkpoint;
  uint64_t index = 0;
  Hash leaf_hash{};
  v1::SignedEntry entry;
  v1::EntryBody body;
  std::vector<std::string> signers;  // key names with a valid checkpoint sig
};

// Verifies a proof file completely: syntax, the checkpoint signature by at
// least one of `keys` (others' valid signatures are reported as signers),
// `expected_origin` when non-empty, the entry's body (origin and index
// agree), its signature by the key named in the body (one of `keys`), and
// the inclusion proof against the checkpoint root. INVALID_ARGUMENT for
// malformed input; FAILED_PRECONDITION when no extra entry is present;
// DATA_LOSS (naming what) when something does not verify.
absl::StatusOr<VerifiedEntryProof> VerifyEntryProofFile(
    absl::string_view text, absl::Span<const NoteVerifier> keys,
    absl::string_view expected_origin = "");

}  // namespace segledger::tools

#endif  // SEGLEDGER_TOOLS_PROOF_FILE_H_
