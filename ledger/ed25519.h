// Ed25519 (RFC 8032) signing and verification through OpenSSL 3 EVP.
//
// Tink shape: objects come from static New factories, hold const state, and
// own OpenSSL objects through unique_ptr deleters. The private seed is wiped
// on destruction. Sign and Verify are const and thread-safe (each call uses
// its own EVP_MD_CTX, initialised per signature: reusing one context fails
// on OpenSSL >= 3.2). A verifier makes its OpenSSL key at its first Verify.
#ifndef SEGLEDGER_LEDGER_ED25519_H_
#define SEGLEDGER_LEDGER_ED25519_H_

#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace segledger {

inline constexpr size_t kEd25519PublicKeySize = 32;
inline constexpr size_t kEd25519SeedSize = 32;
inline constexpr size_t kEd25519SignatureSize = 64;

using Ed25519PublicKey = std::array<uint8_t, kEd25519PublicKeySize>;

// Secret bytes that are zeroed (OPENSSL_cleanse) when destroyed.
class SecretBytes {
 public:
  SecretBytes() = default;
  explicit SecretBytes(std::string bytes) : bytes_(std::move(bytes)) {}
  SecretBytes(SecretBytes&& other) noexcept;
  SecretBytes& operator=(SecretBytes&& other) noexcept;
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;
  ~SecretBytes();

  absl::string_view view() const { return bytes_; }
  size_t size() const { return bytes_.size(); }

 private:
  std::string bytes_;
};

// Constant-time equality of two byte strings of equal length (false when the
// lengths differ; the length itself is not secret).
bool ConstantTimeEquals(absl::string_view a, absl::string_view b);

class Ed25519Signer {
 public:
  // From a 32-byte RFC 8032 private key (seed). INVALID_ARGUMENT otherwise.
  static absl::StatusOr<std::unique_ptr<Ed25519Signer>> New(
      absl::string_view seed);
  // A fresh key from OpenSSL's CSPRNG.
  static absl::StatusOr<std::unique_ptr<Ed25519Signer>> Generate();

  ~Ed25519Signer();
  Ed25519Signer(const Ed25519Signer&) = delete;
  Ed25519Signer& operator=(const Ed25519Signer&) = delete;

  // 64-byte signature of `message`. Thread-safe.
  absl::StatusOr<std::string> Sign(absl::string_view message) const;

  const Ed25519PublicKey& public_key() const { return public_key_; }
  // The seed, for writing the key file. Callers must not log it.
  const SecretBytes& seed() const { return seed_; }

 private:
  struct Impl;
  Ed25519Signer(std::unique_ptr<Impl> impl, SecretBytes seed,
                const Ed25519PublicKey& public_key);

  const std::unique_ptr<Impl> impl_;
  const SecretBytes seed_;
  const Ed25519PublicKey public_key_;
};

// OK unless `key` is an encoding no honest key has: y >= p (non-canonical,
// RFC 8032 section 5.1.3) or one of the eight points of small order, whose
// "signatures" anyone can make (OpenSSL 3.0 verifies, for example, an
// all-zero signature by the order-4 point). INVALID_ARGUMENT naming which.
absl::Status CheckEd25519PublicKey(const Ed25519PublicKey& key);

class Ed25519Verifier {
 public:
  // From a 32-byte public key. INVALID_ARGUMENT for another length or a key
  // CheckEd25519PublicKey rejects. Other 32 bytes are accepted (OpenSSL
  // does not decode the point when it makes the key; a y on no point fails
  // every verification); the OpenSSL key is made by the first Verify, so a
  // verifier that never verifies costs a small allocation.
  static absl::StatusOr<std::unique_ptr<Ed25519Verifier>> New(
      absl::string_view public_key);

  ~Ed25519Verifier();
  Ed25519Verifier(const Ed25519Verifier&) = delete;
  Ed25519Verifier& operator=(const Ed25519Verifier&) = delete;

  // OK when `signature` is a valid signature of `message`; otherwise
  // INVALID_ARGUMENT ("signature length 63, want 64" or "bad signature").
  // INTERNAL if OpenSSL could not make the key (out of memory; remembered).
  // Thread-safe, also the first call.
  absl::Status Verify(absl::string_view signature,
                      absl::string_view message) const;

  const Ed25519PublicKey& public_key() const { return public_key_; }

 private:
  struct Impl;
  Ed25519Verifier(std::unique_ptr<Impl> impl,
                  const Ed25519PublicKey& public_key);

  const std::unique_ptr<Impl> impl_;
  const Ed25519PublicKey public_key_;
};

}  // namespace segledger

#endif  // SEGLEDGER_LEDGER_ED25519_H_
