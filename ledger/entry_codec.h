// The entry envelope codec (DESIGN.md "Entry").
//
//   leaf hash  = SHA-256(0x00 || body)
//   signature  = Ed25519(key, "segledger/v1/entry\n" || body)
//
// `body` bytes are kept exactly as produced or received: this code hashes and
// checks the bytes it is given and never re-serializes a parsed EntryBody.
// Pure and thread-safe.
#ifndef SEGLEDGER_LEDGER_ENTRY_CODEC_H_
#define SEGLEDGER_LEDGER_ENTRY_CODEC_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ledger/ed25519.h"
#include "ledger/hash.h"
#include "segledger/v1/entry.pb.h"

namespace segledger {

inline constexpr absl::string_view kEntrySignaturePrefix =
    "segledger/v1/entry\n";
// Entry bundles prefix each body with a uint16 length (tlog-tiles), so a body
// may not exceed this.
inline constexpr size_t kMaxEntryBodySize = 65535;

// "segledger/v1/entry\n" || body.
std::string EntrySigningMessage(absl::string_view body);
// The same message written into `*out` (replacing its contents), so a hot
// loop can reuse one buffer. `out` must not be null.
void WriteEntrySigningMessage(absl::string_view body, std::string* out);

// Serializes `body` (deterministic serialization; the result is then the
// canonical bytes of this entry forever). INVALID_ARGUMENT when it exceeds
// kMaxEntryBodySize (the message gives the size).
absl::StatusOr<std::string> SerializeEntryBody(const v1::EntryBody& body);

// Signs body bytes: a SignedEntry holding `body` as given. INVALID_ARGUMENT
// when `body` is empty or exceeds kMaxEntryBodySize.
absl::StatusOr<v1::SignedEntry> SignEntry(std::string body,
                                          const Ed25519Signer& signer);

// Parses body bytes. INVALID_ARGUMENT if they are not a valid EntryBody, are
// empty, exceed kMaxEntryBodySize, or prev_hash is not 32 bytes.
absl::StatusOr<v1::EntryBody> ParseEntryBody(absl::string_view body);
// As ParseEntryBody, into `*out` (cleared first; its allocations are reused).
// `out` must not be null; on error its contents are unspecified.
absl::Status ParseEntryBodyInto(absl::string_view body, v1::EntryBody* out);

// Checks the signature of `entry` with `verifier`.
absl::Status VerifyEntrySignature(const v1::SignedEntry& entry,
                                  const Ed25519Verifier& verifier);

// KeyRotation possession proof (entry.proto KeyRotation): the NEW key signs
//   "segledger/v1/key-rotation\n" || old_key_name || "\n" || new_key_name ||
//   "\n" || new_public_key (32 raw bytes).
inline constexpr absl::string_view kKeyRotationSignaturePrefix =
    "segledger/v1/key-rotation\n";
std::string KeyRotationPossessionMessage(absl::string_view old_key_name,
                                         absl::string_view new_key_name,
                                         absl::string_view new_public_key);

// The leaf hash of an entry: LeafHash(entry.body()).
inline Hash EntryLeafHash(absl::string_view body) { return LeafHash(body); }

}  // namespace segledger

#endif  // SEGLEDGER_LEDGER_ENTRY_CODEC_H_
