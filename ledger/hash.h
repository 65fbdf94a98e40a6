// SHA-256 and the RFC 9162 section 2.1.1 domain-separated hashes.
//
// Hash is a fixed-size value type; it is never a std::string. All free
// functions here are pure and thread-safe. TreeHasher computes the same
// hashes faster when one owner computes many of them in a row; it is
// thread-compatible (one thread at a time).
#ifndef SEGLEDGER_LEDGER_HASH_H_
#define SEGLEDGER_LEDGER_HASH_H_

#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

// OpenSSL's EVP_MD_CTX (openssl/types.h), declared here so that this header
// includes no OpenSSL header.
struct evp_md_ctx_st;

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

// Computes the hashes above with one reused OpenSSL digest context. Each
// free function above allocates, initialises and frees a context per call
// (about a quarter of the cost of hashing a 65-byte tree node); a TreeHasher
// reinitialises its own context for every digest instead. Results are
// identical to the free functions'.
//
// Owned by whoever computes many hashes in a loop (a proof check, an audit,
// a commit group's build) and used by one thread at a time: there is no
// per-thread state, so nothing outlives its owner. Movable, not copyable; a
// moved-from hasher is still usable. The context is made on first use.
class TreeHasher {
 public:
  TreeHasher() = default;
  TreeHasher(TreeHasher&&) noexcept = default;
  TreeHasher& operator=(TreeHasher&&) noexcept = default;
  TreeHasher(const TreeHasher&) = delete;
  TreeHasher& operator=(const TreeHasher&) = delete;

  // Same as the free functions of the same names.
  Hash Sha256(absl::string_view data);
  Hash LeafHash(absl::string_view leaf);
  Hash NodeHash(const Hash& left, const Hash& right);

 private:
  struct CtxFree {
    void operator()(evp_md_ctx_st* ctx) const;
  };

  // SHA-256 of `prefix` followed by `data` (either may be empty) into `out`;
  // false when OpenSSL failed (the caller falls back to a free function).
  bool Digest(absl::string_view prefix, absl::string_view data, Hash& out);

  std::unique_ptr<evp_md_ctx_st, CtxFree> ctx_;  // null until first use
};

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
