// SHA-256 and the RFC 9162 section 2.1.1 domain-separated hashes.
//
// Hash is a fixed-size value type; it is never a std::string. All functions
// here are pure and thread-safe.
#ifndef SEGLEDGER_LEDGER_HASH_H_
#define SEGLEDGER_LEDGER_HASH_H_

#include <array>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace segledger {

inline constexpr size_t kHashSize = 32;
using Hash = std::array<uint8_t, kHashSize>;

// SHA-256 of `data`.
Hash Sha256(absl::string_view data);

// RFC 9162 leaf hash: SHA-256(0x00 || leaf). For ledger entries `leaf` is the
// serialized EntryBody exactly as stored.
Hash LeafHash(absl::string_view leaf);

// RFC 9162 interior node hash: SHA-256(0x01 || left || right).
Hash NodeHash(const Hash& left, const Hash& right);

// The 32 zero bytes that stand for "no previous entry" at index 0.
inline constexpr Hash kZeroHash{};

// Views the hash as bytes (no copy; valid while `h` lives).
inline absl::string_view HashBytes(const Hash& h) {
  return absl::string_view(reinterpret_cast<const char*>(h.data()), h.size());
}

// Copies exactly 32 bytes into a Hash; INVALID_ARGUMENT naming `what` and
// the actual length otherwise.
absl::StatusOr<Hash> HashFromBytes(absl::string_view bytes,
                                   absl::string_view what = "hash");

// Lower-case hex and standard base64 (RFC 4648 section 4, padded) forms.
std::string HashHex(const Hash& h);
std::string HashBase64(const Hash& h);
absl::StatusOr<Hash> HashFromBase64(absl::string_view b64,
                                    absl::string_view what = "hash");

}  // namespace segledger

#endif  // SEGLEDGER_LEDGER_HASH_H_
