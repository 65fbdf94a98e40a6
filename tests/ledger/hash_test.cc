#include "ledger/hash.h"

#include <string>
#include <utility>

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"
#include "ledger/base64.h"
#include "tests/support/test_util.h"

namespace segledger {
namespace {

using ::segledger::testing::StatusIs;

// FIPS 180-2 / NIST examples.
TEST(Sha256Test, KnownAnswers) {
  EXPECT_EQ(HashHex(Sha256("")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(HashHex(Sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

// RFC 6962 / 9162 leaf hash of the empty leaf and of the first test vector
// leaf (0x00): values from the RFC 6962 reference test data published with
// Certificate Transparency implementations.
TEST(LeafHashTest, DomainSeparated) {
  EXPECT_EQ(HashHex(LeafHash("")),
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
  EXPECT_EQ(HashHex(LeafHash(std::string(1, '\0'))),
            HashHex(Sha256(std::string(2, '\0'))));
  EXPECT_NE(LeafHash("x"), Sha256("x"));
}

TEST(NodeHashTest, IsSha256OfPrefixedChildren) {
  Hash l = Sha256("l"), r = Sha256("r");
  std::string buf = std::string(1, '\x01') + std::string(HashBytes(l)) +
                    std::string(HashBytes(r));
  EXPECT_EQ(NodeHash(l, r), Sha256(buf));
  EXPECT_NE(NodeHash(l, r), NodeHash(r, l));
}

// A reused hasher gives the free functions' bytes for every call in a row,
// including leaves past LeafHash's 2 KiB stack buffer and the empty input.
TEST(TreeHasherTest, MatchesFreeFunctionsWhenReused) {
  TreeHasher hasher;
  EXPECT_EQ(HashHex(hasher.Sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(HashHex(hasher.LeafHash("")),
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
  Hash h = Sha256("seed");
  for (size_t n : {0, 1, 31, 64, 65, 332, 2047, 2048, 5000}) {
    const std::string data(n, static_cast<char>('a' + n % 26));
    EXPECT_EQ(hasher.Sha256(data), Sha256(data)) << n;
    EXPECT_EQ(hasher.LeafHash(data), LeafHash(data)) << n;
    const Hash next = hasher.NodeHash(h, hasher.LeafHash(data));
    EXPECT_EQ(next, NodeHash(h, LeafHash(data))) << n;
    h = next;
  }
}

// Moving hands over the context; a moved-from hasher makes a new one.
TEST(TreeHasherTest, MovedFromHasherStillHashes) {
  TreeHasher a;
  EXPECT_EQ(a.Sha256("x"), Sha256("x"));
  TreeHasher b = std::move(a);
  EXPECT_EQ(b.LeafHash("y"), LeafHash("y"));
  EXPECT_EQ(a.LeafHash("z"), LeafHash("z"));  // NOLINT(bugprone-use-after-move)
  a = std::move(b);
  EXPECT_EQ(a.NodeHash(Sha256("l"), Sha256("r")),
            NodeHash(Sha256("l"), Sha256("r")));
}

TEST(HashFromBytesTest, RequiresExactly32Bytes) {
  EXPECT_THAT(HashFromBytes(std::string(31, 'a'), "prev_hash"),
              StatusIs(absl::StatusCode::kInvalidArgument, "prev_hash"));
  EXPECT_THAT(HashFromBytes(std::string(33, 'a')),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_TRUE(HashFromBytes(std::string(32, 'a')).ok());
}

// RFC 4648 section 10 test vectors.
TEST(Base64Test, Rfc4648Vectors) {
  const std::pair<std::string, std::string> vectors[] = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, enc] : vectors) {
    EXPECT_EQ(Base64Encode(plain), enc);
    auto dec = Base64Decode(enc);
    ASSERT_TRUE(dec.ok()) << enc;
    EXPECT_EQ(*dec, plain);
  }
}

TEST(Base64Test, RejectsNonCanonical) {
  for (const char* bad : {"Zg=", "Zg", "Zh==", "Zm9=", "Z===", "Zm 9v",
                          "Zm9v\n", "Zg==Zg==", "=Zg=", "Zm-v", "Zm_v"}) {
    EXPECT_THAT(Base64Decode(bad), StatusIs(absl::StatusCode::kInvalidArgument))
        << bad;
  }
}

TEST(Base64Test, RoundTripsAllByteValues) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  for (size_t n = 0; n <= all.size(); n += 7) {
    auto dec = Base64Decode(Base64Encode(all.substr(0, n)));
    ASSERT_TRUE(dec.ok());
    EXPECT_EQ(*dec, all.substr(0, n));
  }
}

}  // namespace
}  // namespace segledger
