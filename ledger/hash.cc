#include "ledger/hash.h"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <algorithm>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "ledger/base64.h"

namespace segledger {
namespace {

// OpenSSL 3's one-shot SHA256() fetches the algorithm from the provider on
// every call (a locked table lookup that costs more than hashing a 300-byte
// entry). The fetched method is kept for the process, referenced by this
// static (so never reported as a leak); it is immutable and safe to share
// between threads. Null when the fetch failed: callers fall back to
// SHA256().
const EVP_MD* Sha256Md() {
  static const EVP_MD* const kMd = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return kMd;
}

void Digest(const unsigned char* data, size_t size, unsigned char* out) {
  const EVP_MD* md = Sha256Md();
  unsigned int len = 0;
  if (md == nullptr || EVP_Digest(data, size, out, &len, md, nullptr) != 1 ||
      len != kHashSize) {
    SHA256(data, size, out);
  }
}

}  // namespace

Hash Sha256(absl::string_view data) {
  Hash out;
  Digest(reinterpret_cast<const unsigned char*>(data.data()), data.size(),
         out.data());
  return out;
}

Hash LeafHash(absl::string_view leaf) {
  // RFC 9162 section 2.1.1: MTH({d(0)}) = SHA-256(0x00 || d(0)). The
  // low-level SHA256_Update API is deprecated in OpenSSL 3, so the prefixed
  // input is assembled in one buffer (on the stack for typical entries).
  constexpr size_t kStack = 2048;
  unsigned char stack_buf[kStack];
  std::string heap_buf;
  unsigned char* buf = stack_buf;
  if (leaf.size() + 1 > kStack) {
    heap_buf.resize(leaf.size() + 1);
    buf = reinterpret_cast<unsigned char*>(heap_buf.data());
  }
  buf[0] = 0x00;
  std::copy(leaf.begin(), leaf.end(), buf + 1);
  Hash out;
  Digest(buf, leaf.size() + 1, out.data());
  return out;
}

Hash NodeHash(const Hash& left, const Hash& right) {
  // RFC 9162 section 2.1.1: SHA-256(0x01 || MTH(left) || MTH(right)).
  unsigned char buf[1 + 2 * kHashSize];
  buf[0] = 0x01;
  std::copy(left.begin(), left.end(), buf + 1);
  std::copy(right.begin(), right.end(), buf + 1 + kHashSize);
  Hash out;
  Digest(buf, sizeof(buf), out.data());
  return out;
}

void TreeHasher::CtxFree::operator()(evp_md_ctx_st* ctx) const {
  EVP_MD_CTX_free(ctx);
}

bool TreeHasher::Digest(absl::string_view prefix, absl::string_view data,
                        Hash& out) {
  const EVP_MD* md = Sha256Md();
  if (md == nullptr) return false;
  if (ctx_ == nullptr) {
    ctx_.reset(EVP_MD_CTX_new());
    if (ctx_ == nullptr) return false;
  }
  // Reinitialising the one context (EVP_DigestInit_ex2) saves creating,
  // setting up and freeing one per digest, which EVP_Digest does.
  unsigned int len = 0;
  return EVP_DigestInit_ex2(ctx_.get(), md, nullptr) == 1 &&
         (prefix.empty() ||
          EVP_DigestUpdate(ctx_.get(), prefix.data(), prefix.size()) == 1) &&
         (data.empty() ||
          EVP_DigestUpdate(ctx_.get(), data.data(), data.size()) == 1) &&
         EVP_DigestFinal_ex(ctx_.get(), out.data(), &len) == 1 &&
         len == kHashSize;
}

Hash TreeHasher::Sha256(absl::string_view data) {
  Hash out;
  if (!Digest({}, data, out)) return segledger::Sha256(data);
  return out;
}

Hash TreeHasher::LeafHash(absl::string_view leaf) {
  // RFC 9162 section 2.1.1: SHA-256(0x00 || leaf), fed in two updates (no
  // copy of the leaf).
  static constexpr char kLeafPrefix[1] = {0x00};
  Hash out;
  if (!Digest(absl::string_view(kLeafPrefix, 1), leaf, out)) {
    return segledger::LeafHash(leaf);
  }
  return out;
}

Hash TreeHasher::NodeHash(const Hash& left, const Hash& right) {
  // RFC 9162 section 2.1.1: SHA-256(0x01 || left || right), in one update
  // (cheaper than three for 65 bytes).
  unsigned char buf[1 + 2 * kHashSize];
  buf[0] = 0x01;
  std::copy(left.begin(), left.end(), buf + 1);
  std::copy(right.begin(), right.end(), buf + 1 + kHashSize);
  const absl::string_view input(reinterpret_cast<const char*>(buf),
                                sizeof(buf));
  Hash out;
  if (!Digest({}, input, out)) return segledger::NodeHash(left, right);
  return out;
}

absl::StatusOr<Hash> HashFromBytes(absl::string_view bytes,
                                   absl::string_view what) {
  if (bytes.size() != kHashSize) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": hash must be 32 bytes, got ", bytes.size()));
  }
  Hash h;
  std::copy(bytes.begin(), bytes.end(), h.begin());
  return h;
}

std::string HashHex(const Hash& h) {
  return absl::BytesToHexString(HashBytes(h));
}

std::string HashBase64(const Hash& h) { return Base64Encode(HashBytes(h)); }

absl::StatusOr<Hash> HashFromBase64(absl::string_view b64,
                                    absl::string_view what) {
  absl::StatusOr<std::string> bytes = Base64Decode(b64);
  if (!bytes.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": ", bytes.status().message()));
  }
  return HashFromBytes(*bytes, what);
}

}  // namespace segledger
