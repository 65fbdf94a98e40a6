// Ed25519 through OpenSSL 3 EVP (RFC 8032 section 5.1, PureEdDSA).
//
// Every signature and every verification gets its own EVP_MD_CTX,
// initialised for that one call: OpenSSL >= 3.2 refuses a second
// EVP_DigestSign on one context, and a per-call context is what makes the
// const methods thread-safe. The EVP_PKEY itself is only read after it is
// made, which OpenSSL 3 allows from many threads at once. A verifier makes
// its EVP_PKEY at its first verification: logs register far more keys than
// ever sign, and making one costs as much as hashing a few kilobytes. That
// is std::call_once (pthread_once, which ThreadSanitizer intercepts), not
// absl::call_once: a thread that waits for another's call returns from
// Debian's uninstrumented libabsl_base, and TSan reports the key's read.
#include "ledger/ed25519.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "ledger/status_macros.h"

#ifdef SEGLEDGER_FUZZ_VERIFY_MEMO
#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "ledger/hash.h"
#endif

namespace segledger {
namespace {

struct EvpPkeyDeleter {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct EvpMdCtxDeleter {
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, EvpPkeyDeleter>;
using EvpMdCtxPtr = std::unique_ptr<EVP_MD_CTX, EvpMdCtxDeleter>;

const unsigned char* Bytes(absl::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// The reason of the first queued OpenSSL error (and clears this thread's
// queue, so a failure never leaks into a later, unrelated call).
std::string OpenSslError() {
  const unsigned long code = ERR_get_error();  // NOLINT(runtime/int)
  ERR_clear_error();
  if (code == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(code, buf, sizeof(buf));
  return buf;
}

absl::Status InternalError(absl::string_view what) {
  return absl::InternalError(absl::StrCat(what, ": ", OpenSslError()));
}

// One RFC 8032 verification: true when the signature is good; an error
// only when OpenSSL itself fails.
absl::StatusOr<bool> EvpVerify(EVP_PKEY* pkey, absl::string_view signature,
                               absl::string_view message) {
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  if (ctx == nullptr) return InternalError("EVP_MD_CTX_new");
  if (EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, pkey) != 1) {
    return InternalError("EVP_DigestVerifyInit");
  }
  if (EVP_DigestVerify(ctx.get(), Bytes(signature), signature.size(),
                       Bytes(message), message.size()) != 1) {
    ERR_clear_error();  // a bad signature is an answer, not an error
    return false;
  }
  return true;
}

#ifdef SEGLEDGER_FUZZ_VERIFY_MEMO
// libFuzzer builds only (-DSEGLEDGER_FUZZ=ON): the answers of earlier
// verifications, keyed by the whole question (public key, signature and the
// SHA-256 of the message). The fuzz targets that check signatures feed the
// same fixture entries and checkpoints again and again, and OpenSSL's
// verification (uninstrumented, so no coverage to gain from it) was most of
// their time per input. A verification is a pure function of these bytes,
// so an answer from here is the answer OpenSSL gives; every line of Verify
// but the EVP calls still runs. Bounded: emptied when it reaches kMax.
class VerifyMemo {
 public:
  static VerifyMemo& Get() {
    static VerifyMemo* memo = new VerifyMemo;
    return *memo;
  }
  absl::StatusOr<bool> Verify(const Ed25519PublicKey& public_key,
                              EVP_PKEY* pkey, absl::string_view signature,
                              absl::string_view message) {
    std::string key(reinterpret_cast<const char*>(public_key.data()),
                    public_key.size());
    absl::StrAppend(&key, signature, HashBytes(Sha256(message)));
    {
      absl::MutexLock lock(&mu_);
      auto it = answers_.find(key);
      if (it != answers_.end()) return it->second;
    }
    SEG_ASSIGN_OR_RETURN(const bool ok, EvpVerify(pkey, signature, message));
    absl::MutexLock lock(&mu_);
    if (answers_.size() >= kMax) answers_.clear();
    answers_.emplace(std::move(key), ok);
    return ok;
  }

 private:
  static constexpr size_t kMax = size_t{1} << 16;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, bool> answers_ ABSL_GUARDED_BY(mu_);
};
#endif

}  // namespace

SecretBytes::SecretBytes(SecretBytes&& other) noexcept {
  // Copy, then wipe the source: a moved-from std::string may keep its bytes
  // (small-string buffer), so a plain move could leave a copy behind.
  bytes_.assign(other.bytes_);
  OPENSSL_cleanse(other.bytes_.data(), other.bytes_.size());
  other.bytes_.clear();
}

SecretBytes& SecretBytes::operator=(SecretBytes&& other) noexcept {
  if (this != &other) {
    OPENSSL_cleanse(bytes_.data(), bytes_.size());
    bytes_.assign(other.bytes_);
    OPENSSL_cleanse(other.bytes_.data(), other.bytes_.size());
    other.bytes_.clear();
  }
  return *this;
}

SecretBytes::~SecretBytes() { OPENSSL_cleanse(bytes_.data(), bytes_.size()); }

bool ConstantTimeEquals(absl::string_view a, absl::string_view b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

// ---------------------------------------------------------------- signer

struct Ed25519Signer::Impl {
  EvpPkeyPtr pkey;
};

absl::StatusOr<std::unique_ptr<Ed25519Signer>> Ed25519Signer::New(
    absl::string_view seed) {
  if (seed.size() != kEd25519SeedSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("Ed25519 private key length ", seed.size(), ", want ",
                     kEd25519SeedSize));
  }
  EvpPkeyPtr pkey(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr,
                                               Bytes(seed), seed.size()));
  if (pkey == nullptr) return InternalError("EVP_PKEY_new_raw_private_key");
  Ed25519PublicKey public_key{};
  size_t len = public_key.size();
  if (EVP_PKEY_get_raw_public_key(pkey.get(), public_key.data(), &len) != 1 ||
      len != public_key.size()) {
    return InternalError("EVP_PKEY_get_raw_public_key");
  }
  auto impl = std::make_unique<Impl>();
  impl->pkey = std::move(pkey);
  return std::unique_ptr<Ed25519Signer>(new Ed25519Signer(
      std::move(impl), SecretBytes(std::string(seed)), public_key));
}

absl::StatusOr<std::unique_ptr<Ed25519Signer>> Ed25519Signer::Generate() {
  // RFC 8032 section 5.1.5: the private key is 32 random bytes.
  unsigned char seed[kEd25519SeedSize];
  if (RAND_bytes(seed, sizeof(seed)) != 1) return InternalError("RAND_bytes");
  auto signer =
      New(absl::string_view(reinterpret_cast<const char*>(seed), sizeof(seed)));
  OPENSSL_cleanse(seed, sizeof(seed));
  return signer;
}

Ed25519Signer::Ed25519Signer(std::unique_ptr<Impl> impl, SecretBytes seed,
                             const Ed25519PublicKey& public_key)
    : impl_(std::move(impl)), seed_(std::move(seed)), public_key_(public_key) {}

Ed25519Signer::~Ed25519Signer() = default;

absl::StatusOr<std::string> Ed25519Signer::Sign(
    absl::string_view message) const {
  // A fresh context per signature (see the file comment).
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  if (ctx == nullptr) return InternalError("EVP_MD_CTX_new");
  // Ed25519 is PureEdDSA: no digest is named, the whole message is signed.
  if (EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr,
                         impl_->pkey.get()) != 1) {
    return InternalError("EVP_DigestSignInit");
  }
  std::string sig(kEd25519SignatureSize, '\0');
  size_t len = sig.size();
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()),
                     &len, Bytes(message), message.size()) != 1) {
    return InternalError("EVP_DigestSign");
  }
  if (len != kEd25519SignatureSize) {
    return absl::InternalError(
        absl::StrCat("EVP_DigestSign: signature length ", len));
  }
  return sig;
}

// -------------------------------------------------------------- verifier

struct Ed25519Verifier::Impl {
  std::once_flag once;
  EvpPkeyPtr pkey;    // made by the first Verify (null if that failed)
  std::string error;  // why it failed
};

// The y coordinates (little-endian, sign bit clear) of the eight points of
// order 1, 2, 4 and 8 on edwards25519: y = 1, p - 1, 0 and the two y of the
// order-8 points. A point's order is fixed by its y (x only changes sign).
constexpr uint8_t kSmallOrderY[][kEd25519PublicKeySize] = {
    {0x01},
    {0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
    {0x00},
    {0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4,
     0x89, 0xf2, 0xef, 0x98, 0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6,
     0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05},
    {0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b,
     0x76, 0x0d, 0x10, 0x67, 0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39,
     0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a},
};

absl::Status CheckEd25519PublicKey(const Ed25519PublicKey& key) {
  Ed25519PublicKey y = key;
  y[31] &= 0x7f;  // the sign of x
  // y >= p = 2^255 - 19: bytes 1..30 all 0xff, byte 31 0x7f, byte 0 >= 0xed.
  bool at_least_p = y[31] == 0x7f && y[0] >= 0xed;
  for (size_t i = 1; at_least_p && i < 31; ++i) at_least_p = y[i] == 0xff;
  if (at_least_p) {
    return absl::InvalidArgumentError(
        "Ed25519 public key rejected: non-canonical encoding (y >= p; RFC "
        "8032 section 5.1.3)");
  }
  for (const auto& small : kSmallOrderY) {
    if (std::equal(y.begin(), y.end(), small)) {
      return absl::InvalidArgumentError(
          "Ed25519 public key rejected: a point of small order (signatures "
          "by it can be made without a private key)");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Ed25519Verifier>> Ed25519Verifier::New(
    absl::string_view public_key) {
  if (public_key.size() != kEd25519PublicKeySize) {
    return absl::InvalidArgumentError(absl::StrCat("Ed25519 public key length ",
                                                   public_key.size(), ", want ",
                                                   kEd25519PublicKeySize));
  }
  Ed25519PublicKey key{};
  for (size_t i = 0; i < key.size(); ++i) {
    key[i] = static_cast<uint8_t>(public_key[i]);
  }
  SEG_RETURN_IF_ERROR(CheckEd25519PublicKey(key));
  // Nothing else to check now: EVP_PKEY_new_raw_public_key takes any 32
  // bytes (it does not decode the point; a y that is on no point makes
  // every verification fail, RFC 8032 section 5.1.7 step 1), so it is left
  // to the first Verify.
  return std::unique_ptr<Ed25519Verifier>(
      new Ed25519Verifier(std::make_unique<Impl>(), key));
}

Ed25519Verifier::Ed25519Verifier(std::unique_ptr<Impl> impl,
                                 const Ed25519PublicKey& public_key)
    : impl_(std::move(impl)), public_key_(public_key) {}

Ed25519Verifier::~Ed25519Verifier() = default;

absl::Status Ed25519Verifier::Verify(absl::string_view signature,
                                     absl::string_view message) const {
  if (signature.size() != kEd25519SignatureSize) {
    return absl::InvalidArgumentError(absl::StrCat("signature length ",
                                                   signature.size(), ", want ",
                                                   kEd25519SignatureSize));
  }
  // Made once; other threads wait for it, then only read it.
  std::call_once(impl_->once, [this] {
    impl_->pkey.reset(EVP_PKEY_new_raw_public_key(
        EVP_PKEY_ED25519, nullptr, public_key_.data(), public_key_.size()));
    if (impl_->pkey == nullptr) {
      impl_->error =
          absl::StrCat("EVP_PKEY_new_raw_public_key: ", OpenSslError());
    }
  });
  if (impl_->pkey == nullptr) return absl::InternalError(impl_->error);
#ifdef SEGLEDGER_FUZZ_VERIFY_MEMO
  SEG_ASSIGN_OR_RETURN(const bool ok,
                       VerifyMemo::Get().Verify(public_key_, impl_->pkey.get(),
                                                signature, message));
#else
  SEG_ASSIGN_OR_RETURN(const bool ok,
                       EvpVerify(impl_->pkey.get(), signature, message));
#endif
  if (!ok) return absl::InvalidArgumentError("bad signature");
  return absl::OkStatus();
}

}  // namespace segledger
