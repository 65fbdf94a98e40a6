// C2SP tlog-checkpoint (https://c2sp.org/tlog-checkpoint) note text, signed
// and opened as a C2SP signed note.
#include "ledger/checkpoint.h"

#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "ledger/status_macros.h"

namespace segledger {
namespace {

// tlog-checkpoint "Note text" item 2: ASCII decimal, no leading zeroes
// unless the tree is empty ("0"). No sign, no spaces, no overflow.
absl::StatusOr<uint64_t> ParseTreeSize(absl::string_view s) {
  const auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat(
        "checkpoint: tree size \"", absl::CHexEscape(s), "\" ", why));
  };
  if (s.empty()) return bad("is empty");
  if (s.size() > 1 && s[0] == '0') return bad("has a leading zero");
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return bad("is not decimal digits");
    const uint64_t d = uint64_t(c - '0');
    if (v > (UINT64_MAX - d) / 10) return bad("overflows 64 bits");
    v = v * 10 + d;
  }
  return v;
}

}  // namespace

std::string Checkpoint::Text() const {
  std::string out =
      absl::StrCat(origin, "\n", size, "\n", HashBase64(root), "\n");
  for (const std::string& ext : extensions) absl::StrAppend(&out, ext, "\n");
  return out;
}

absl::StatusOr<Checkpoint> ParseCheckpointText(absl::string_view text) {
  if (text.empty() || text.back() != '\n') {
    return absl::InvalidArgumentError(
        "checkpoint: text does not end in a newline");
  }
  text.remove_suffix(1);
  std::vector<absl::string_view> lines = absl::StrSplit(text, '\n');
  if (lines.size() < 3) {
    return absl::InvalidArgumentError(
        absl::StrCat("checkpoint: ", lines.size(), " lines, want at least 3"));
  }
  Checkpoint cp;
  // Item 1: the origin MUST be non-empty; nothing else may be assumed.
  if (lines[0].empty()) {
    return absl::InvalidArgumentError("checkpoint: empty origin line");
  }
  cp.origin = std::string(lines[0]);
  SEG_ASSIGN_OR_RETURN(cp.size, ParseTreeSize(lines[1]));
  // Item 3: the root hash, canonical standard base64 of exactly 32 bytes.
  SEG_ASSIGN_OR_RETURN(cp.root, HashFromBase64(lines[2], "checkpoint root"));
  // Item 4: extension lines, if any, MUST be non-empty.
  for (size_t i = 3; i < lines.size(); ++i) {
    if (lines[i].empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("checkpoint: empty extension line ", i + 1));
    }
    cp.extensions.emplace_back(lines[i]);
  }
  return cp;
}

absl::StatusOr<Checkpoint> PeekCheckpoint(absl::string_view note) {
  SEG_ASSIGN_OR_RETURN(Note parsed, ParseNote(note));
  return ParseCheckpointText(parsed.text);
}

absl::StatusOr<uint64_t> CheckpointNoteSize(absl::string_view note) {
  SEG_ASSIGN_OR_RETURN(Checkpoint cp, PeekCheckpoint(note));
  return cp.size;
}

absl::StatusOr<SignedCheckpoint> OpenCheckpoint(
    absl::string_view note, absl::Span<const NoteVerifier> known,
    absl::string_view expected_origin) {
  SEG_ASSIGN_OR_RETURN(VerifiedNote opened, OpenNote(note, known));
  SignedCheckpoint out;
  SEG_ASSIGN_OR_RETURN(out.checkpoint, ParseCheckpointText(opened.text));
  if (!expected_origin.empty() && out.checkpoint.origin != expected_origin) {
    return absl::InvalidArgumentError(absl::StrCat(
        "checkpoint: origin \"", absl::CHexEscape(out.checkpoint.origin),
        "\", want \"", absl::CHexEscape(expected_origin), "\""));
  }
  out.note = std::string(note);
  out.verified = std::move(opened.verified);
  out.unverified = std::move(opened.unverified);
  return out;
}

absl::StatusOr<std::string> SignCheckpoint(const Checkpoint& checkpoint,
                                           const NoteSigner& signer) {
  if (checkpoint.origin.find('\n') != std::string::npos) {
    return absl::InvalidArgumentError("SignCheckpoint: newline in origin");
  }
  for (const std::string& ext : checkpoint.extensions) {
    if (ext.find('\n') != std::string::npos) {
      return absl::InvalidArgumentError(
          "SignCheckpoint: newline in an extension line");
    }
  }
  const std::string text = checkpoint.Text();
  // Refuse what would not parse back to the same checkpoint (an empty
  // origin or extension line); SignNote checks UTF-8 and control bytes.
  SEG_ASSIGN_OR_RETURN(Checkpoint reparsed, ParseCheckpointText(text));
  if (!(reparsed == checkpoint)) {
    return absl::InternalError("SignCheckpoint: text does not parse back");
  }
  const NoteSigner* signers[] = {&signer};
  return SignNote(text, signers);
}

}  // namespace segledger
