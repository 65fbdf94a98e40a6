#include "tools/proof_file.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "ledger/base64.h"
#include "ledger/entry_codec.h"
#include "ledger/merkle.h"
#include "ledger/status_macros.h"

namespace segledger::tools {

std::string FormatProofFile(const ProofFile& p) {
  std::string out = absl::StrCat(kProofMagic, "\n");
  if (p.extra.has_value()) {
    absl::StrAppend(&out, "extra ", Base64Encode(*p.extra), "\n");
  }
  absl::StrAppend(&out, "index ", p.index, "\n");
  for (const Hash& h : p.proof) absl::StrAppend(&out, HashBase64(h), "\n");
  absl::StrAppend(&out, "\n", p.checkpoint);
  return out;
}

namespace {

// Splits off one '\n'-terminated line from `rest`.
bool NextLine(absl::string_view& rest, absl::string_view& line) {
  size_t nl = rest.find('\n');
  if (nl == absl::string_view::npos) return false;
  line = rest.substr(0, nl);
  rest.remove_prefix(nl + 1);
  return true;
}

absl::StatusOr<uint64_t> ParseIndex(absl::string_view s) {
  uint64_t v = 0;
  if (s.empty() || (s.size() > 1 && s[0] == '0') ||
      s.find_first_not_of("0123456789") != absl::string_view::npos ||
      !absl::SimpleAtoi(s, &v)) {
    return absl::InvalidArgumentError(
        absl::StrCat("tlog-proof: bad index '", s, "'"));
  }
  return v;
}

}  // namespace

absl::StatusOr<ProofFile> ParseProofFile(absl::string_view text) {
  absl::string_view rest = text, line;
  if (!NextLine(rest, line) || line != kProofMagic) {
    return absl::InvalidArgumentError(
        absl::StrCat("tlog-proof: first line is not ", kProofMagic));
  }
  ProofFile p;
  if (!NextLine(rest, line)) {
    return absl::InvalidArgumentError("tlog-proof: missing index line");
  }
  if (absl::ConsumePrefix(&line, "extra ")) {
    SEG_ASSIGN_OR_RETURN(std::string extra, Base64Decode(line));
    p.extra = std::move(extra);
    if (!NextLine(rest, line)) {
      return absl::InvalidArgumentError("tlog-proof: missing index line");
    }
  }
  if (!absl::ConsumePrefix(&line, "index ")) {
    return absl::InvalidArgumentError(
        absl::StrCat("tlog-proof: want 'index N', got '", line, "'"));
  }
  SEG_ASSIGN_OR_RETURN(p.index, ParseIndex(line));
  for (int i = 0;; ++i) {
    if (!NextLine(rest, line)) {
      return absl::InvalidArgumentError(
          "tlog-proof: missing blank line before the checkpoint");
    }
    if (line.empty()) break;
    if (i >= 64) {
      return absl::InvalidArgumentError("tlog-proof: more than 64 proof lines");
    }
    SEG_ASSIGN_OR_RETURN(Hash h,
                         HashFromBase64(line, absl::StrCat("proof[", i, "]")));
    p.proof.push_back(h);
  }
  SEG_RETURN_IF_ERROR(ParseNote(rest).status());
  p.checkpoint = std::string(rest);
  return p;
}

std::string MakeEntryProofFile(const v1::SignedEntry& entry, uint64_t index,
                               absl::Span<const Hash> proof,
                               absl::string_view checkpoint_note) {
  ProofFile p;
  std::string bytes;
  entry.SerializeToString(&bytes);
  p.extra = std::move(bytes);
  p.index = index;
  p.proof.assign(proof.begin(), proof.end());
  p.checkpoint = std::string(checkpoint_note);
  return FormatProofFile(p);
}

namespace {

absl::Status CheckEntry(const VerifiedEntryProof& v,
                        absl::Span<const NoteVerifier> keys) {
  if (v.body.log_origin() != v.checkpoint.origin || v.body.index() != v.index) {
    return absl::DataLossError(
        absl::StrCat("tlog-proof: entry says origin '", v.body.log_origin(),
                     "' index ", v.body.index(), ", proof says '",
                     v.checkpoint.origin, "' index ", v.index));
  }
  for (const NoteVerifier& k : keys) {
    if (k.name() != v.body.key_name()) continue;
    if (k.Verify(EntrySigningMessage(v.entry.body()), v.entry.signature())
            .ok()) {
      return absl::OkStatus();
    }
  }
  return absl::DataLossError(absl::StrCat(
      "tlog-proof: entry ", v.index,
      " signature does not verify with a key named '", v.body.key_name(), "'"));
}

}  // namespace

absl::StatusOr<VerifiedEntryProof> VerifyEntryProofFile(
    absl::string_view text, absl::Span<const NoteVerifier> keys,
    absl::string_view expected_origin) {
  SEG_ASSIGN_OR_RETURN(ProofFile p, ParseProofFile(text));
  if (!p.extra.has_value()) {
    return absl::FailedPreconditionError(
        "tlog-proof: no extra line carrying the entry");
  }
  absl::StatusOr<SignedCheckpoint> cp =
      OpenCheckpoint(p.checkpoint, keys, expected_origin);
  if (!cp.ok()) {
    return absl::DataLossError(
        absl::StrCat("tlog-proof checkpoint: ", cp.status().message()));
  }
  VerifiedEntryProof v;
  v.checkpoint = cp->checkpoint;
  v.index = p.index;
  for (const NoteSignature& s : cp->verified) v.signers.push_back(s.name);
  if (!v.entry.ParseFromString(*p.extra)) {
    return absl::InvalidArgumentError("tlog-proof: extra is not a SignedEntry");
  }
  SEG_ASSIGN_OR_RETURN(v.body, ParseEntryBody(v.entry.body()));
  SEG_RETURN_IF_ERROR(CheckEntry(v, keys));
  v.leaf_hash = EntryLeafHash(v.entry.body());
  absl::Status inc = VerifyInclusion(p.index, v.checkpoint.size, v.leaf_hash,
                                     p.proof, v.checkpoint.root);
  if (!inc.ok()) {
    return absl::DataLossError(
        absl::StrCat("tlog-proof inclusion: ", inc.message()));
  }
  return v;
}

}  // namespace segledger::tools
