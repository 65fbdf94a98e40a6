#include "ledger/ed25519.h"

#include <openssl/evp.h>

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/test_util.h"

namespace segledger {
namespace {

using ::segledger::testing::IsOk;
using ::segledger::testing::ReadTestData;
using ::segledger::testing::StatusIs;

std::string KeyBytes(const Ed25519PublicKey& k) {
  return std::string(reinterpret_cast<const char*>(k.data()), k.size());
}

// A vector file: "<field> <hex>" lines, '#' comments (tests/testdata/ed25519).
std::map<std::string, std::string> ReadVector(const std::string& file) {
  std::map<std::string, std::string> out;
  for (absl::string_view line :
       absl::StrSplit(ReadTestData("ed25519/" + file), '\n')) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> kv = absl::StrSplit(line, absl::MaxSplits(' ', 1));
    out[kv[0]] = absl::HexStringToBytes(kv.size() > 1 ? kv[1] : "");
  }
  return out;
}

// RFC 8032 section 7.1, the Ed25519 vectors, one file each.
struct Rfc8032Case {
  const char* label;
  const char* file;
  size_t message_size;
};
const Rfc8032Case kRfc8032Cases[] = {
    {"TEST 1", "rfc8032-test-1.txt", 0},
    {"TEST 2", "rfc8032-test-2.txt", 1},
    {"TEST 3", "rfc8032-test-3.txt", 2},
    {"TEST 1024", "rfc8032-test-1024.txt", 1023},
    {"TEST SHA(abc)", "rfc8032-test-sha-abc.txt", 64},
};

TEST(Ed25519Test, Rfc8032Section7_1Vectors) {
  for (const Rfc8032Case& c : kRfc8032Cases) {
    SCOPED_TRACE(c.label);
    std::map<std::string, std::string> v = ReadVector(c.file);
    ASSERT_EQ(v["secret_key"].size(), 32u);
    ASSERT_EQ(v["message"].size(), c.message_size);
    SEG_ASSERT_OK_AND_ASSIGN(auto signer, Ed25519Signer::New(v["secret_key"]));
    EXPECT_EQ(absl::BytesToHexString(KeyBytes(signer->public_key())),
              absl::BytesToHexString(v["public_key"]));
    SEG_ASSERT_OK_AND_ASSIGN(std::string sig, signer->Sign(v["message"]));
    EXPECT_EQ(absl::BytesToHexString(sig),
              absl::BytesToHexString(v["signature"]));
    SEG_ASSERT_OK_AND_ASSIGN(auto verifier,
                             Ed25519Verifier::New(v["public_key"]));
    EXPECT_THAT(verifier->Verify(v["signature"], v["message"]), IsOk());
    EXPECT_EQ(signer->seed().view(), v["secret_key"]);
  }
}

class Ed25519FixtureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::map<std::string, std::string> v = ReadVector("rfc8032-test-1.txt");
    SEG_ASSERT_OK_AND_ASSIGN(signer_, Ed25519Signer::New(v["secret_key"]));
    SEG_ASSERT_OK_AND_ASSIGN(
        verifier_, Ed25519Verifier::New(KeyBytes(signer_->public_key())));
    message_ = std::string(300, 'm');
    for (size_t i = 0; i < message_.size(); ++i) message_[i] = char(i * 7);
    SEG_ASSERT_OK_AND_ASSIGN(sig_, signer_->Sign(message_));
  }
  std::unique_ptr<Ed25519Signer> signer_;
  std::unique_ptr<Ed25519Verifier> verifier_;
  std::string message_;
  std::string sig_;
};

TEST_F(Ed25519FixtureTest, SignIsDeterministic) {
  for (int i = 0; i < 3; ++i) {
    SEG_ASSERT_OK_AND_ASSIGN(std::string again, signer_->Sign(message_));
    EXPECT_EQ(again, sig_);
  }
  SEG_ASSERT_OK_AND_ASSIGN(std::string other, signer_->Sign(message_ + "x"));
  EXPECT_NE(other, sig_);
}

TEST_F(Ed25519FixtureTest, VerifyRejectsEveryBitFlipOfTheSignature) {
  ASSERT_THAT(verifier_->Verify(sig_, message_), IsOk());
  for (size_t bit = 0; bit < sig_.size() * 8; ++bit) {
    std::string bad = sig_;
    bad[bit / 8] ^= static_cast<char>(1 << (bit % 8));
    EXPECT_THAT(verifier_->Verify(bad, message_),
                StatusIs(absl::StatusCode::kInvalidArgument, "bad signature"))
        << "bit " << bit;
  }
}

TEST_F(Ed25519FixtureTest, VerifyRejectsEveryBitFlipOfTheMessage) {
  for (size_t bit = 0; bit < message_.size() * 8; ++bit) {
    std::string bad = message_;
    bad[bit / 8] ^= static_cast<char>(1 << (bit % 8));
    EXPECT_THAT(verifier_->Verify(sig_, bad),
                StatusIs(absl::StatusCode::kInvalidArgument))
        << "bit " << bit;
  }
  EXPECT_THAT(verifier_->Verify(sig_, message_.substr(1)),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(verifier_->Verify(sig_, message_ + '\0'),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(Ed25519FixtureTest, VerifyRejectsAnotherKey) {
  SEG_ASSERT_OK_AND_ASSIGN(auto other, Ed25519Signer::Generate());
  SEG_ASSERT_OK_AND_ASSIGN(auto v,
                           Ed25519Verifier::New(KeyBytes(other->public_key())));
  EXPECT_THAT(v->Verify(sig_, message_),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(Ed25519FixtureTest, WrongSignatureLengths) {
  for (size_t n : {0, 1, 63, 65, 128}) {
    std::string sig = sig_;
    sig.resize(n, '\0');
    EXPECT_THAT(
        verifier_->Verify(sig, message_),
        StatusIs(absl::StatusCode::kInvalidArgument,
                 "signature length " + std::to_string(n) + ", want 64"));
  }
}

TEST(Ed25519Test, WrongKeyLengths) {
  for (size_t n : {0, 1, 31, 33, 64}) {
    SCOPED_TRACE(n);
    EXPECT_THAT(Ed25519Signer::New(std::string(n, 'k')),
                StatusIs(absl::StatusCode::kInvalidArgument, "length"));
    EXPECT_THAT(Ed25519Verifier::New(std::string(n, 'k')),
                StatusIs(absl::StatusCode::kInvalidArgument, "length"));
  }
}

// Any 32 bytes make a verifier: OpenSSL does not decode the point when the
// key is made. A key that is no point (y = 2), a non-canonical y >= p, or
// all ones verifies nothing; that is a "bad signature", not an error.
TEST(Ed25519Test, ThirtyTwoBytesOffTheCurveMakeAVerifierThatRejectsAll) {
  SEG_ASSERT_OK_AND_ASSIGN(auto signer, Ed25519Signer::Generate());
  SEG_ASSERT_OK_AND_ASSIGN(std::string sig, signer->Sign("hello"));
  std::string off_curve(32, '\0');
  off_curve[0] = 2;  // y = 2 is the y of no point
  for (const std::string& key : {off_curve, std::string(32, 'A')}) {
    SCOPED_TRACE(absl::BytesToHexString(key));
    SEG_ASSERT_OK_AND_ASSIGN(auto v, Ed25519Verifier::New(key));
    EXPECT_EQ(KeyBytes(v->public_key()), key);
    EXPECT_THAT(v->Verify(sig, "hello"),
                StatusIs(absl::StatusCode::kInvalidArgument, "bad signature"));
    // Asked again, the same answer.
    EXPECT_THAT(v->Verify(sig, "hello"),
                StatusIs(absl::StatusCode::kInvalidArgument, "bad signature"));
  }
}

// The encodings of the eight points of order 1, 2, 4 and 8 (each with both
// x signs) and the non-canonical ones (y >= p) are no honest key.
// Each with the reason CheckEd25519PublicKey gives.
std::vector<std::pair<std::string, std::string>> WeakKeys() {
  const char* small_order_y[] = {
      "0100000000000000000000000000000000000000000000000000000000000000",
      "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
      "0000000000000000000000000000000000000000000000000000000000000000",
      "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
      "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
  };
  std::vector<std::pair<std::string, std::string>> keys;
  for (const char* hex : small_order_y) {
    std::string k = absl::HexStringToBytes(hex);
    keys.emplace_back(k, "small order");
    k[31] = static_cast<char>(k[31] | 0x80);
    keys.emplace_back(k, "small order");
  }
  for (int low = 0xed; low <= 0xff; ++low) {  // y = p .. 2^255 - 1
    std::string k(32, '\xff');
    k[0] = static_cast<char>(low);
    k[31] = '\x7f';
    keys.emplace_back(k, "non-canonical");
    k[31] = '\xff';
    keys.emplace_back(k, "non-canonical");
  }
  return keys;
}

TEST(Ed25519Test, SmallOrderAndNonCanonicalKeysAreRefused) {
  const auto keys = WeakKeys();
  ASSERT_EQ(keys.size(), 10u + 2u * 19u);
  for (const auto& [key, reason] : keys) {
    SCOPED_TRACE(absl::BytesToHexString(key));
    EXPECT_THAT(Ed25519Verifier::New(key).status(),
                StatusIs(absl::StatusCode::kInvalidArgument, reason));
  }
  // Neighbours of the small-order encodings pass the check.
  for (auto [key, reason] : keys) {
    if (reason != "small order") continue;
    key[1] = static_cast<char>(key[1] ^ 0x01);
    SCOPED_TRACE(absl::BytesToHexString(key));
    EXPECT_THAT(Ed25519Verifier::New(key), IsOk());
  }
}

// Why they are refused: OpenSSL itself verifies a signature by the
// identity point (y = 1) that no private key made - R = the identity, S = 0
// satisfies [S]B = R + [k]A for every message.
TEST(Ed25519Test, OpenSslAcceptsAForgedSignatureByTheIdentityKey) {
  const std::string identity = absl::HexStringToBytes(
      "0100000000000000000000000000000000000000000000000000000000000000");
  EVP_PKEY* pkey = EVP_PKEY_new_raw_public_key(
      EVP_PKEY_ED25519, nullptr,
      reinterpret_cast<const unsigned char*>(identity.data()), identity.size());
  ASSERT_NE(pkey, nullptr);
  std::string forged = identity + std::string(32, '\0');
  int accepted = 0;
  for (const std::string msg : {"dispatch 1", "receipt 2", "recall 3"}) {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    ASSERT_EQ(EVP_DigestVerifyInit(ctx, nullptr, nullptr, nullptr, pkey), 1);
    accepted +=
        EVP_DigestVerify(
            ctx, reinterpret_cast<const unsigned char*>(forged.data()),
            forged.size(), reinterpret_cast<const unsigned char*>(msg.data()),
            msg.size()) == 1;
    EVP_MD_CTX_free(ctx);
  }
  EVP_PKEY_free(pkey);
  EXPECT_EQ(accepted, 3);
  EXPECT_THAT(Ed25519Verifier::New(identity).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, "small order"));
}

// A fresh verifier's first checks come from many threads at once.
TEST(Ed25519Test, FirstVerificationsFromEightThreadsAtOnce) {
  SEG_ASSERT_OK_AND_ASSIGN(auto signer, Ed25519Signer::Generate());
  SEG_ASSERT_OK_AND_ASSIGN(std::string sig, signer->Sign("hello"));
  constexpr int kThreads = 8;
  for (int round = 0; round < 20; ++round) {
    SEG_ASSERT_OK_AND_ASSIGN(
        std::shared_ptr<const Ed25519Verifier> verifier,
        Ed25519Verifier::New(KeyBytes(signer->public_key())));
    std::vector<int> failures(kThreads, 0);
    std::atomic<int> ready{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        // Start together: the first Verify calls overlap.
        ready.fetch_add(1);
        while (ready.load() < kThreads) std::this_thread::yield();
        if (!verifier->Verify(sig, "hello").ok()) ++failures[t];
        if (verifier->Verify(sig, "hellO").ok()) ++failures[t];
      });
    }
    for (std::thread& th : threads) th.join();
    for (int t = 0; t < kThreads; ++t) EXPECT_EQ(failures[t], 0) << t;
  }
}

TEST(Ed25519Test, GenerateMakesDistinctWorkingKeys) {
  SEG_ASSERT_OK_AND_ASSIGN(auto a, Ed25519Signer::Generate());
  SEG_ASSERT_OK_AND_ASSIGN(auto b, Ed25519Signer::Generate());
  EXPECT_NE(a->public_key(), b->public_key());
  ASSERT_EQ(a->seed().size(), kEd25519SeedSize);
  // The seed alone rebuilds the same key.
  SEG_ASSERT_OK_AND_ASSIGN(auto again, Ed25519Signer::New(a->seed().view()));
  EXPECT_EQ(again->public_key(), a->public_key());
  SEG_ASSERT_OK_AND_ASSIGN(std::string sig, a->Sign("hello"));
  SEG_ASSERT_OK_AND_ASSIGN(auto v,
                           Ed25519Verifier::New(KeyBytes(a->public_key())));
  EXPECT_THAT(v->Verify(sig, "hello"), IsOk());
  EXPECT_EQ(v->public_key(), a->public_key());
}

TEST(Ed25519Test, ConcurrentSigningFromEightThreads) {
  SEG_ASSERT_OK_AND_ASSIGN(auto signer, Ed25519Signer::Generate());
  SEG_ASSERT_OK_AND_ASSIGN(
      auto verifier, Ed25519Verifier::New(KeyBytes(signer->public_key())));
  constexpr int kThreads = 8;
  constexpr int kPerThread = 200;
  std::vector<std::string> want(kPerThread);
  for (int i = 0; i < kPerThread; ++i) {
    want[i] = *signer->Sign("message " + std::to_string(i));
  }
  std::vector<int> mismatches(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const std::string msg = "message " + std::to_string(i);
        absl::StatusOr<std::string> sig = signer->Sign(msg);
        if (!sig.ok() || *sig != want[i] || !verifier->Verify(*sig, msg).ok()) {
          ++mismatches[t];
        }
      }
    });
  }
  for (std::thread& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(mismatches[t], 0) << t;
}

TEST(SecretBytesTest, MoveTransfersAndEmptiesTheSource) {
  SecretBytes a(std::string(32, 's'));
  SecretBytes b(std::move(a));
  EXPECT_EQ(b.view(), std::string(32, 's'));
  EXPECT_EQ(a.size(), 0u);  // NOLINT(bugprone-use-after-move)
  SecretBytes c;
  c = std::move(b);
  EXPECT_EQ(c.view(), std::string(32, 's'));
  EXPECT_EQ(b.size(), 0u);  // NOLINT(bugprone-use-after-move)
}

TEST(ConstantTimeEqualsTest, Table) {
  struct Case {
    const char* name;
    std::string a, b;
    bool want;
  };
  const Case cases[] = {
      {"equal", "abcdef", "abcdef", true},
      {"both-empty", "", "", true},
      {"first-byte", "xbcdef", "abcdef", false},
      {"last-byte", "abcdex", "abcdef", false},
      {"shorter", "abcde", "abcdef", false},
      {"longer", "abcdefg", "abcdef", false},
      {"embedded-nul", std::string("a\0b", 3), std::string("a\0c", 3), false},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(ConstantTimeEquals(c.a, c.b), c.want) << c.name;
  }
}

}  // namespace
}  // namespace segledger
