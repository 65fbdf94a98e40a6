// C2SP signed-note (https://c2sp.org/signed-note), compatible with Go's
// golang.org/x/mod/sumdb/note. Behaviour chosen where the spec leaves room:
//
// - Two signature lines by the same known (name, key hash) make OpenNote
//   fail (sumdb/note silently keeps the first): a second line is either a
//   copy or a different signature by the same key, and neither belongs in a
//   note we sign or accept.
// - Identical lines by an unknown key are kept once (as sumdb/note does).
// - The 100-signature cap counts every line, before any deduplication.
// - Hash hex in verifier keys must be 8 lowercase digits (what every
//   implementation writes), so a key has exactly one spelling.
#include "ledger/note.h"

#include <cstdio>
#include <cstdlib>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "ledger/base64.h"
#include "ledger/hash.h"
#include "ledger/status_macros.h"

namespace segledger {
namespace {

// U+2014 EM DASH then U+0020: the start of every signature line.
constexpr absl::string_view kSigPrefix = "\xe2\x80\x94 ";

// Decodes one UTF-8 sequence at s[i]. Returns its length, or 0 when it is
// malformed (truncated, overlong, a surrogate or above U+10FFFF).
size_t DecodeRune(absl::string_view s, size_t i, uint32_t* rune) {
  const uint8_t b0 = static_cast<uint8_t>(s[i]);
  if (b0 < 0x80) {
    *rune = b0;
    return 1;
  }
  size_t n;
  uint32_t min;
  if ((b0 & 0xe0) == 0xc0) {
    n = 2, min = 0x80, *rune = b0 & 0x1f;
  } else if ((b0 & 0xf0) == 0xe0) {
    n = 3, min = 0x800, *rune = b0 & 0x0f;
  } else if ((b0 & 0xf8) == 0xf0) {
    n = 4, min = 0x10000, *rune = b0 & 0x07;
  } else {
    return 0;
  }
  if (s.size() - i < n) return 0;
  for (size_t k = 1; k < n; ++k) {
    const uint8_t b = static_cast<uint8_t>(s[i + k]);
    if ((b & 0xc0) != 0x80) return 0;
    *rune = (*rune << 6) | (b & 0x3f);
  }
  if (*rune < min || *rune > 0x10ffff) return 0;
  if (*rune >= 0xd800 && *rune <= 0xdfff) return 0;
  return n;
}

// Unicode White_Space (what Go's unicode.IsSpace accepts).
bool IsUnicodeSpace(uint32_t r) {
  return (r >= 0x09 && r <= 0x0d) || r == 0x20 || r == 0x85 || r == 0xa0 ||
         r == 0x1680 || (r >= 0x2000 && r <= 0x200a) || r == 0x2028 ||
         r == 0x2029 || r == 0x202f || r == 0x205f || r == 0x3000;
}

// signed-note "Format": valid UTF-8, no ASCII control character but '\n'.
absl::Status CheckNoteBytes(absl::string_view s, absl::string_view what) {
  for (size_t i = 0; i < s.size();) {
    uint32_t r = 0;
    const size_t n = DecodeRune(s, i, &r);
    if (n == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": invalid UTF-8 at offset ", i));
    }
    if (r < 0x20 && r != '\n') {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: control character 0x%02x at offset %d", what, r, i));
    }
    i += n;
  }
  return absl::OkStatus();
}

}  // namespace

// signed-note: key names are non-empty, contain no Unicode space and no
// '+'. Control characters below U+0020 are refused too (they never appear
// in a note); DEL (0x7f) is allowed, as by the spec and sumdb/note.
absl::Status CheckNoteKeyName(absl::string_view name) {
  if (name.empty()) return absl::InvalidArgumentError("empty key name");
  for (size_t i = 0; i < name.size();) {
    uint32_t r = 0;
    const size_t n = DecodeRune(name, i, &r);
    if (n == 0 || r < 0x20 || r == '+' || IsUnicodeSpace(r)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "key name \"", absl::CHexEscape(name),
          "\": invalid UTF-8, space, control character or '+' at offset ", i));
    }
    i += n;
  }
  return absl::OkStatus();
}

namespace {

// Text to be signed: ends in '\n', and valid note bytes.
absl::Status CheckText(absl::string_view text) {
  if (text.empty() || text.back() != '\n') {
    return absl::InvalidArgumentError("note text does not end in a newline");
  }
  return CheckNoteBytes(text, "note text");
}

std::string KeyId(absl::string_view name, uint32_t hash) {
  return absl::StrFormat("%s+%08x", name, hash);
}

void PutBigEndian32(uint32_t v, std::string* out) {
  for (int shift = 24; shift >= 0; shift -= 8) {
    out->push_back(static_cast<char>((v >> shift) & 0xff));
  }
}

uint32_t GetBigEndian32(absl::string_view b) {
  return (uint32_t(uint8_t(b[0])) << 24) | (uint32_t(uint8_t(b[1])) << 16) |
         (uint32_t(uint8_t(b[2])) << 8) | uint32_t(uint8_t(b[3]));
}

std::string FormatSignatureLine(const NoteSignature& sig) {
  std::string raw;
  PutBigEndian32(sig.key_hash, &raw);
  raw.append(sig.signature);
  return absl::StrCat(kSigPrefix, sig.name, " ", Base64Encode(raw), "\n");
}

// "— <name> <base64(key hash || signature)>" without its '\n'.
absl::StatusOr<NoteSignature> ParseSignatureLine(absl::string_view line,
                                                 int number) {
  const std::string where = absl::StrCat("signature line ", number);
  if (!absl::ConsumePrefix(&line, kSigPrefix)) {
    return absl::InvalidArgumentError(absl::StrCat(
        where, ": does not start with an em dash (U+2014) and a space"));
  }
  const size_t space = line.find(' ');
  if (space == absl::string_view::npos || space + 1 == line.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": no signature after the key name"));
  }
  NoteSignature sig;
  sig.name = std::string(line.substr(0, space));
  absl::Status name_ok = CheckNoteKeyName(sig.name);
  if (!name_ok.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": ", name_ok.message()));
  }
  absl::StatusOr<std::string> raw = Base64Decode(line.substr(space + 1));
  if (!raw.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": ", raw.status().message()));
  }
  if (raw->size() < 5) {  // a 4-byte key hash and at least one byte
    return absl::InvalidArgumentError(absl::StrCat(
        where, ": signature of ", raw->size(), " bytes is too short"));
  }
  sig.key_hash = GetBigEndian32(*raw);
  sig.signature = raw->substr(4);
  return sig;
}

// The verifier for (name, hash), null if none. Two different keys under
// one (name, hash) are refused: the caller's key list is wrong.
absl::StatusOr<const NoteVerifier*> FindVerifier(
    absl::Span<const NoteVerifier> known, const NoteSignature& sig) {
  const NoteVerifier* found = nullptr;
  for (const NoteVerifier& v : known) {
    if (v.name() != sig.name || v.key_hash() != sig.key_hash) continue;
    if (found != nullptr && found->public_key() != v.public_key()) {
      return absl::InvalidArgumentError(
          absl::StrCat("ambiguous key ", KeyId(sig.name, sig.key_hash),
                       ": two known keys share this name and key hash"));
    }
    found = &v;
  }
  return found;
}

bool SameKey(const NoteSignature& a, const NoteSignature& b) {
  return a.name == b.name && a.key_hash == b.key_hash;
}

bool SameSignature(const NoteSignature& a, const NoteSignature& b) {
  return SameKey(a, b) && a.signature == b.signature;
}

// The 8 lowercase hex digits of a key hash in a verifier key.
absl::StatusOr<uint32_t> ParseKeyHashHex(absl::string_view hex) {
  if (hex.size() != 8 ||
      hex.find_first_not_of("0123456789abcdef") != absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("verifier key: key hash \"", absl::CHexEscape(hex),
                     "\" is not 8 lowercase hex digits"));
  }
  uint32_t hash = 0;
  for (char c : hex) {
    hash = (hash << 4) | uint32_t(c <= '9' ? c - '0' : c - 'a' + 10);
  }
  return hash;
}

// base64(0x01 || 32-byte Ed25519 public key), signed-note "Signature types".
absl::StatusOr<Ed25519PublicKey> DecodeEd25519Key(absl::string_view b64) {
  absl::StatusOr<std::string> key = Base64Decode(b64);
  if (!key.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("verifier key: ", key.status().message()));
  }
  if (key->size() != 1 + kEd25519PublicKeySize) {
    return absl::InvalidArgumentError(
        absl::StrCat("verifier key: key of ", key->size(), " bytes, want 33"));
  }
  if (static_cast<uint8_t>((*key)[0]) != kAlgEd25519) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "verifier key: unknown algorithm 0x%02x", uint8_t((*key)[0])));
  }
  Ed25519PublicKey pub{};
  for (size_t i = 0; i < pub.size(); ++i) pub[i] = uint8_t((*key)[i + 1]);
  return pub;
}

}  // namespace

uint32_t NoteKeyHash(absl::string_view name, const Ed25519PublicKey& key) {
  // signed-note "Ed25519 signatures": SHA-256(name || 0x0A || 0x01 || key).
  std::string input(name);
  input.push_back('\n');
  input.push_back(static_cast<char>(kAlgEd25519));
  input.append(reinterpret_cast<const char*>(key.data()), key.size());
  const Hash h = Sha256(input);
  return GetBigEndian32(HashBytes(h));
}

// ----------------------------------------------------------- NoteVerifier

absl::StatusOr<NoteVerifier> NoteVerifier::FromPublicKey(
    absl::string_view name, const Ed25519PublicKey& key) {
  SEG_RETURN_IF_ERROR(CheckNoteKeyName(name));
  SEG_ASSIGN_OR_RETURN(
      std::unique_ptr<Ed25519Verifier> v,
      Ed25519Verifier::New(absl::string_view(
          reinterpret_cast<const char*>(key.data()), key.size())));
  return NoteVerifier(std::string(name), NoteKeyHash(name, key),
                      std::shared_ptr<const Ed25519Verifier>(std::move(v)));
}

absl::StatusOr<NoteVerifier> NoteVerifier::FromVerifierKey(
    absl::string_view vkey) {
  // "<name>+<hash>+<key>": names hold no '+', hex holds none, base64 may.
  const size_t p1 = vkey.find('+');
  const size_t p2 = p1 == absl::string_view::npos ? p1 : vkey.find('+', p1 + 1);
  if (p2 == absl::string_view::npos) {
    return absl::InvalidArgumentError("verifier key: want <name>+<hash>+<key>");
  }
  const absl::string_view name = vkey.substr(0, p1);
  const absl::string_view hex = vkey.substr(p1 + 1, p2 - p1 - 1);
  SEG_RETURN_IF_ERROR(CheckNoteKeyName(name));
  SEG_ASSIGN_OR_RETURN(const uint32_t hash, ParseKeyHashHex(hex));
  SEG_ASSIGN_OR_RETURN(const Ed25519PublicKey pub,
                       DecodeEd25519Key(vkey.substr(p2 + 1)));
  SEG_ASSIGN_OR_RETURN(NoteVerifier v, FromPublicKey(name, pub));
  if (v.key_hash() != hash) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "verifier key: key hash %08x does not match name and key (%08x)", hash,
        v.key_hash()));
  }
  return v;
}

std::string NoteVerifier::VerifierKey() const {
  std::string key(1, static_cast<char>(kAlgEd25519));
  key.append(reinterpret_cast<const char*>(public_key().data()),
             public_key().size());
  return absl::StrCat(KeyId(name_, key_hash_), "+", Base64Encode(key));
}

absl::Status NoteVerifier::Verify(absl::string_view text,
                                  absl::string_view sig) const {
  return verifier_->Verify(sig, text);
}

// ------------------------------------------------------------- NoteSigner

NoteSigner::NoteSigner(std::string name,
                       std::shared_ptr<const Ed25519Signer> signer)
    : name_(std::move(name)),
      key_hash_(NoteKeyHash(name_, signer->public_key())),
      signer_(std::move(signer)) {}

NoteVerifier NoteSigner::Verifier() const {
  const Ed25519PublicKey& pub = signer_->public_key();
  absl::StatusOr<std::unique_ptr<Ed25519Verifier>> v = Ed25519Verifier::New(
      absl::string_view(reinterpret_cast<const char*>(pub.data()), pub.size()));
  if (!v.ok()) {
    // A 32-byte key is always accepted; only allocation can fail here.
    std::fprintf(stderr, "NoteSigner::Verifier: %s\n",
                 std::string(v.status().message()).c_str());
    std::abort();
  }
  return NoteVerifier(name_, key_hash_,
                      std::shared_ptr<const Ed25519Verifier>(*std::move(v)));
}

// ---------------------------------------------------------------- notes

absl::StatusOr<Note> ParseNote(absl::string_view msg) {
  SEG_RETURN_IF_ERROR(CheckNoteBytes(msg, "note"));
  // The text ends at the last blank line (signed-note "Format").
  const size_t split = msg.rfind("\n\n");
  if (split == absl::string_view::npos) {
    return absl::InvalidArgumentError(
        "note: no blank line between text and signatures");
  }
  Note note;
  note.text = std::string(msg.substr(0, split + 1));
  absl::string_view sigs = msg.substr(split + 2);
  if (sigs.empty()) return absl::InvalidArgumentError("note: no signatures");
  if (sigs.back() != '\n') {
    return absl::InvalidArgumentError("note: does not end in a newline");
  }
  int number = 0;
  while (!sigs.empty()) {
    const size_t nl = sigs.find('\n');  // found: sigs ends in '\n'
    if (++number > kMaxNoteSignatures) {
      return absl::InvalidArgumentError(absl::StrCat(
          "note: more than ", kMaxNoteSignatures, " signature lines"));
    }
    SEG_ASSIGN_OR_RETURN(NoteSignature sig,
                         ParseSignatureLine(sigs.substr(0, nl), number));
    note.signatures.push_back(std::move(sig));
    sigs.remove_prefix(nl + 1);
  }
  return note;
}

std::string FormatNote(const Note& note) {
  std::string out = note.text;
  out.push_back('\n');
  for (const NoteSignature& sig : note.signatures) {
    out.append(FormatSignatureLine(sig));
  }
  return out;
}

namespace {

absl::StatusOr<NoteSignature> SignText(absl::string_view text,
                                       const NoteSigner& signer) {
  SEG_RETURN_IF_ERROR(CheckNoteKeyName(signer.name()));
  NoteSignature sig;
  sig.name = signer.name();
  sig.key_hash = signer.key_hash();
  SEG_ASSIGN_OR_RETURN(sig.signature, signer.signer().Sign(text));
  return sig;
}

}  // namespace

absl::StatusOr<std::string> SignNote(
    absl::string_view text, absl::Span<const NoteSigner* const> signers) {
  SEG_RETURN_IF_ERROR(CheckText(text));
  if (signers.empty() || signers.size() > size_t{kMaxNoteSignatures}) {
    return absl::InvalidArgumentError(absl::StrCat("SignNote: ", signers.size(),
                                                   " signers, want 1 to ",
                                                   kMaxNoteSignatures));
  }
  Note note;
  note.text = std::string(text);
  for (const NoteSigner* signer : signers) {
    SEG_ASSIGN_OR_RETURN(NoteSignature sig, SignText(text, *signer));
    for (const NoteSignature& other : note.signatures) {
      if (SameKey(other, sig)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "SignNote: key ", KeyId(sig.name, sig.key_hash), " given twice"));
      }
    }
    note.signatures.push_back(std::move(sig));
  }
  return FormatNote(note);
}

absl::StatusOr<std::string> AddNoteSignature(absl::string_view msg,
                                             const NoteSigner& signer) {
  SEG_ASSIGN_OR_RETURN(Note note, ParseNote(msg));
  SEG_ASSIGN_OR_RETURN(NoteSignature sig, SignText(note.text, signer));
  // As sumdb/note's Sign: an older line by the same key is dropped and the
  // new one goes last.
  std::vector<NoteSignature> kept;
  for (NoteSignature& old : note.signatures) {
    if (!SameKey(old, sig)) kept.push_back(std::move(old));
  }
  kept.push_back(std::move(sig));
  if (kept.size() > size_t{kMaxNoteSignatures}) {
    return absl::InvalidArgumentError(
        absl::StrCat("AddNoteSignature: note already has ", kMaxNoteSignatures,
                     " signatures"));
  }
  note.signatures = std::move(kept);
  return FormatNote(note);
}

absl::StatusOr<VerifiedNote> OpenNote(absl::string_view msg,
                                      absl::Span<const NoteVerifier> known) {
  SEG_ASSIGN_OR_RETURN(Note note, ParseNote(msg));
  VerifiedNote out;
  std::vector<std::string> names;
  for (NoteSignature& sig : note.signatures) {
    names.push_back(KeyId(sig.name, sig.key_hash));
    SEG_ASSIGN_OR_RETURN(const NoteVerifier* v, FindVerifier(known, sig));
    if (v == nullptr) {  // unknown key: kept once, never trusted
      bool dup = false;
      for (const NoteSignature& u : out.unverified) {
        dup = dup || SameSignature(u, sig);
      }
      if (!dup) out.unverified.push_back(std::move(sig));
      continue;
    }
    for (const NoteSignature& seen : out.verified) {
      if (SameKey(seen, sig)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "note: more than one signature by known key ", names.back()));
      }
    }
    absl::Status ok = v->Verify(note.text, sig.signature);
    if (!ok.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("note: invalid signature for key ", names.back(), ": ",
                       ok.message()));
    }
    out.verified.push_back(std::move(sig));
  }
  if (out.verified.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("note: no signature by a known key (signed by ",
                     absl::StrJoin(names, ", "), ")"));
  }
  out.text = std::move(note.text);
  return out;
}

}  // namespace segledger
