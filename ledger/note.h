// C2SP signed-note (https://c2sp.org/signed-note): verifier keys, signing,
// parsing, verification and cosigning, as in Go's golang.org/x/mod/sumdb/note.
//
//   <text, ending in \n>\n
//   — <key name> <base64(4-byte key hash || signature)>\n   (one or more)
//
// key hash = first 4 bytes (big-endian uint32) of
//   SHA-256(key name || "\n" || 0x01 || 32-byte Ed25519 public key)
// verifier key = <name>+<8 hex digits of key hash>+<base64(0x01 || pubkey)>
//
// Parsing follows the spec and sumdb/note: text must be valid UTF-8 without
// control characters other than \n and end in \n; at most 100 signature
// lines; names are non-empty and contain no whitespace or '+'. Signatures
// from unknown keys are kept but not trusted. Pure and thread-safe.
#ifndef SEGLEDGER_LEDGER_NOTE_H_
#define SEGLEDGER_LEDGER_NOTE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "ledger/ed25519.h"

namespace segledger {

inline constexpr int kMaxNoteSignatures = 100;
inline constexpr uint8_t kAlgEd25519 = 0x01;

// A key name the spec allows: non-empty valid UTF-8 with no Unicode space,
// no control character and no '+'. INVALID_ARGUMENT saying what is wrong.
// Every place a key name enters the system checks it with this, so a name
// a note could not carry is refused before anything is written.
absl::Status CheckNoteKeyName(absl::string_view name);

// First 4 bytes of SHA-256(name || "\n" || 0x01 || public_key), big-endian.
uint32_t NoteKeyHash(absl::string_view name, const Ed25519PublicKey& key);

// A verifier for one (name, key hash, Ed25519 public key).
class NoteVerifier {
 public:
  // Parses "<name>+<hash hex>+<base64(0x01 || key)>". INVALID_ARGUMENT for a
  // malformed string, an unknown algorithm, a wrong length, or a hash that
  // does not match the name and key (every byte flip must be rejected).
  static absl::StatusOr<NoteVerifier> FromVerifierKey(absl::string_view vkey);
  static absl::StatusOr<NoteVerifier> FromPublicKey(
      absl::string_view name, const Ed25519PublicKey& key);

  const std::string& name() const { return name_; }
  uint32_t key_hash() const { return key_hash_; }
  const Ed25519PublicKey& public_key() const { return verifier_->public_key(); }
  // "<name>+<hash hex>+<base64(0x01 || key)>".
  std::string VerifierKey() const;
  // Verifies a raw 64-byte signature over `text`.
  absl::Status Verify(absl::string_view text, absl::string_view sig) const;

 private:
  friend class NoteSigner;  // NoteSigner::Verifier() builds one directly.
  NoteVerifier(std::string name, uint32_t key_hash,
               std::shared_ptr<const Ed25519Verifier> verifier)
      : name_(std::move(name)),
        key_hash_(key_hash),
        verifier_(std::move(verifier)) {}

  std::string name_;
  uint32_t key_hash_;
  std::shared_ptr<const Ed25519Verifier> verifier_;
};

// Signs note text with a named key. The name is checked when signing
// (SignNote, AddNoteSignature), not here. `signer` must not be null.
class NoteSigner {
 public:
  NoteSigner(std::string name, std::shared_ptr<const Ed25519Signer> signer);
  const std::string& name() const { return name_; }
  uint32_t key_hash() const { return key_hash_; }
  const Ed25519Signer& signer() const { return *signer_; }
  NoteVerifier Verifier() const;

 private:
  std::string name_;
  uint32_t key_hash_;
  std::shared_ptr<const Ed25519Signer> signer_;
};

struct NoteSignature {
  std::string name;
  uint32_t key_hash = 0;
  std::string signature;  // the bytes after the 4-byte key hash
};

// A note split into text and signature lines, before any verification.
struct Note {
  std::string text;  // ends in '\n'
  std::vector<NoteSignature> signatures;
};

// Splits and syntax-checks a signed note. INVALID_ARGUMENT naming the problem
// (missing blank line, no signatures, more than 100, bad base64, a line that
// is not "— name sig", text not ending in a newline, ...).
absl::StatusOr<Note> ParseNote(absl::string_view msg);

// Formats text and signature lines back to the wire form.
std::string FormatNote(const Note& note);

// Signs `text` (must end in '\n' and be a valid note text) and returns the
// full signed note with one signature line per signer, in order.
absl::StatusOr<std::string> SignNote(
    absl::string_view text, absl::Span<const NoteSigner* const> signers);

// Adds a signature line by `signer` to an already signed note (cosigning)
// after checking the note parses. A signature by the same (name, key hash)
// already present is replaced, never duplicated: as in sumdb/note's Sign,
// the old line is dropped and the new one is written last. Existing
// signatures are not verified here.
absl::StatusOr<std::string> AddNoteSignature(absl::string_view msg,
                                             const NoteSigner& signer);

struct VerifiedNote {
  std::string text;
  std::vector<NoteSignature> verified;    // by a known key, checked
  std::vector<NoteSignature> unverified;  // unknown keys: kept, not trusted
};

// Parses `msg` and checks every signature whose (name, key hash) matches a
// verifier. Fails with INVALID_ARGUMENT if a signature by a known key is
// invalid, if two lines are by the same known key (sumdb/note ignores the
// second; we refuse the note), if `known` holds two different keys under
// one (name, key hash) that a line uses, or if no signature is by a known
// key (the message says which names were present). Identical lines by an
// unknown key are kept once.
absl::StatusOr<VerifiedNote> OpenNote(absl::string_view msg,
                                      absl::Span<const NoteVerifier> known);

}  // namespace segledger

#endif  // SEGLEDGER_LEDGER_NOTE_H_
