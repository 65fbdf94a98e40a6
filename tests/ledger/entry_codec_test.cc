// Tests of the entry envelope (DESIGN.md "Entry") against golden vectors
// written by tests/testdata/entry/gen_entry_vectors.py, a naive reference
// that writes protobuf wire bytes by hand.
#include "ledger/entry_codec.h"

#include <map>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "google/protobuf/stubs/logging.h"
#include "gtest/gtest.h"
#include "tests/support/test_util.h"

namespace segledger {
namespace {

using ::segledger::testing::IsOk;
using ::segledger::testing::ReadTestData;
using ::segledger::testing::StatusIs;

// One golden case: "name: hex" lines, '#' comments.
std::map<std::string, std::string> ReadVector(const std::string& file) {
  std::map<std::string, std::string> out;
  for (absl::string_view line :
       absl::StrSplit(ReadTestData("entry/" + file), '\n')) {
    if (line.empty() || line[0] == '#') continue;
    std::pair<std::string, std::string> kv =
        absl::StrSplit(line, absl::MaxSplits(": ", 1));
    out[kv.first] = absl::HexStringToBytes(kv.second);
  }
  return out;
}

v1::EntryBody GoldenFields() {
  v1::EntryBody body;
  body.set_log_origin("cmo-up.example/segledger");
  body.set_index(7);
  std::string prev;
  for (int i = 0; i < 32; ++i) prev.push_back(static_cast<char>(i));
  body.set_prev_hash(prev);
  body.mutable_recorded_at()->set_seconds(1767225600);
  body.mutable_recorded_at()->set_nanos(123000000);
  body.set_key_name("cmo-up-2026");
  body.set_request_id("req-0007");
  return body;
}

std::unique_ptr<Ed25519Signer> GoldenSigner(
    const std::map<std::string, std::string>& v) {
  auto signer = Ed25519Signer::New(v.at("seed"));
  EXPECT_THAT(signer, IsOk());
  return signer.ok() ? *std::move(signer) : nullptr;
}

TEST(EntryCodecTest, CanonicalGoldenBytesHashAndSignature) {
  const auto v = ReadVector("canonical.txt");
  SEG_ASSERT_OK_AND_ASSIGN(std::string body,
                           SerializeEntryBody(GoldenFields()));
  EXPECT_EQ(absl::BytesToHexString(body), absl::BytesToHexString(v.at("body")));
  EXPECT_EQ(HashBytes(EntryLeafHash(body)), v.at("leaf_hash"));

  auto signer = GoldenSigner(v);
  ASSERT_NE(signer, nullptr);
  ASSERT_EQ(
      std::string(signer->public_key().begin(), signer->public_key().end()),
      v.at("public_key"));
  SEG_ASSERT_OK_AND_ASSIGN(v1::SignedEntry entry, SignEntry(body, *signer));
  EXPECT_EQ(entry.body(), body);
  EXPECT_EQ(entry.signature(), v.at("signature"));  // Ed25519 is deterministic
  SEG_ASSERT_OK_AND_ASSIGN(auto verifier,
                           Ed25519Verifier::New(v.at("public_key")));
  EXPECT_THAT(VerifyEntrySignature(entry, *verifier), IsOk());
}

TEST(EntryCodecTest, NonCanonicalBodyVerifiesAndHashesAsGiven) {
  const auto v = ReadVector("noncanonical.txt");
  const std::string& body = v.at("body");
  SEG_ASSERT_OK_AND_ASSIGN(v1::EntryBody parsed, ParseEntryBody(body));
  EXPECT_EQ(parsed.log_origin(), "cmo-up.example/segledger");
  EXPECT_EQ(parsed.index(), 7u);
  EXPECT_EQ(parsed.request_id(), "req-0007");
  EXPECT_EQ(HashBytes(EntryLeafHash(body)), v.at("leaf_hash"));

  v1::SignedEntry entry;
  entry.set_body(body);
  entry.set_signature(v.at("signature"));
  SEG_ASSERT_OK_AND_ASSIGN(auto verifier,
                           Ed25519Verifier::New(v.at("public_key")));
  EXPECT_THAT(VerifyEntrySignature(entry, *verifier), IsOk());
  // Re-serializing would change the bytes, the hash and break the signature:
  // this is why bodies are never re-serialized.
  SEG_ASSERT_OK_AND_ASSIGN(std::string again, SerializeEntryBody(parsed));
  EXPECT_NE(again, body);
  EXPECT_NE(EntryLeafHash(again), EntryLeafHash(body));
  entry.set_body(again);
  EXPECT_THAT(VerifyEntrySignature(entry, *verifier),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(EntryCodecTest, RoundTripWithKeyRecords) {
  std::vector<v1::EntryBody> bodies(3, GoldenFields());
  auto* reg = bodies[0].mutable_record()->mutable_key_registration();
  reg->set_key_name("qa-2026");
  reg->set_public_key(std::string(32, '\x07'));
  reg->mutable_valid_until()->set_seconds(1798761600);
  auto* rot = bodies[1].mutable_record()->mutable_key_rotation();
  rot->set_old_key_name("cmo-up-2026");
  rot->set_new_key_name("cmo-up-2027");
  rot->set_possession_signature(std::string(64, '\x01'));
  bodies[2].mutable_record()->mutable_key_revocation()->set_key_name("qa");
  for (const v1::EntryBody& body : bodies) {
    SEG_ASSERT_OK_AND_ASSIGN(std::string bytes, SerializeEntryBody(body));
    SEG_ASSERT_OK_AND_ASSIGN(v1::EntryBody parsed, ParseEntryBody(bytes));
    EXPECT_EQ(parsed.SerializeAsString(), body.SerializeAsString());
    SEG_ASSERT_OK_AND_ASSIGN(std::string twice, SerializeEntryBody(parsed));
    EXPECT_EQ(twice, bytes);  // deterministic
  }
}

// A body of exactly `size` serialized bytes (request_id pads it).
v1::EntryBody BodyOfSize(size_t size) {
  v1::EntryBody body = GoldenFields();
  body.set_request_id("");
  const size_t base = body.ByteSizeLong();
  // Field 7 costs 1 tag byte + a 3-byte length for 2^14 <= n < 2^21.
  body.set_request_id(std::string(size - base - 4, 'r'));
  return body;
}

TEST(EntryCodecTest, SizeLimit) {
  v1::EntryBody max = BodyOfSize(kMaxEntryBodySize);
  ASSERT_EQ(max.ByteSizeLong(), kMaxEntryBodySize);
  SEG_ASSERT_OK_AND_ASSIGN(std::string bytes, SerializeEntryBody(max));
  EXPECT_EQ(bytes.size(), 65535u);
  EXPECT_THAT(ParseEntryBody(bytes), IsOk());
  SEG_ASSERT_OK_AND_ASSIGN(auto signer, Ed25519Signer::Generate());
  EXPECT_THAT(SignEntry(bytes, *signer), IsOk());

  v1::EntryBody over = BodyOfSize(kMaxEntryBodySize + 1);
  ASSERT_EQ(over.ByteSizeLong(), 65536u);
  EXPECT_THAT(SerializeEntryBody(over),
              StatusIs(absl::StatusCode::kInvalidArgument, "65536"));
  const std::string big = over.SerializeAsString();
  EXPECT_THAT(ParseEntryBody(big),
              StatusIs(absl::StatusCode::kInvalidArgument, "65536"));
  EXPECT_THAT(SignEntry(big, *signer),
              StatusIs(absl::StatusCode::kInvalidArgument, "65536"));
}

TEST(EntryCodecTest, ParseIsStrict) {
  EXPECT_THAT(ParseEntryBody(""),
              StatusIs(absl::StatusCode::kInvalidArgument, "empty"));
  EXPECT_THAT(ParseEntryBody("\xff\xff\xff"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  v1::EntryBody body = GoldenFields();
  body.set_prev_hash(std::string(31, '\0'));
  EXPECT_THAT(ParseEntryBody(body.SerializeAsString()),
              StatusIs(absl::StatusCode::kInvalidArgument, "31 bytes"));
  body.clear_prev_hash();
  EXPECT_THAT(ParseEntryBody(body.SerializeAsString()),
              StatusIs(absl::StatusCode::kInvalidArgument, "prev_hash"));
  SEG_ASSERT_OK_AND_ASSIGN(auto signer, Ed25519Signer::Generate());
  EXPECT_THAT(SignEntry("", *signer),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(EntryCodecTest, SigningMessages) {
  EXPECT_EQ(EntrySigningMessage(std::string("a\0b", 3)),
            std::string("segledger/v1/entry\na\0b", 22));
  std::string buffer = "previous contents";
  WriteEntrySigningMessage("xyz", &buffer);
  EXPECT_EQ(buffer, "segledger/v1/entry\nxyz");
  EXPECT_EQ(KeyRotationPossessionMessage("old", "new", "PK"),
            "segledger/v1/key-rotation\nold\nnew\nPK");
}

// What a tampered serialized SignedEntry amounts to.
enum class Outcome { kEntryParseError, kBodyParseError, kBadSignature, kValid };

Outcome Check(absl::string_view wire, const Ed25519Verifier& verifier) {
  v1::SignedEntry entry;
  if (!entry.ParseFromArray(wire.data(), static_cast<int>(wire.size()))) {
    return Outcome::kEntryParseError;
  }
  if (!ParseEntryBody(entry.body()).ok()) return Outcome::kBodyParseError;
  if (!VerifyEntrySignature(entry, verifier).ok())
    return Outcome::kBadSignature;
  return Outcome::kValid;
}

class TamperTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto v = ReadVector("canonical.txt");
    v1::SignedEntry entry;
    entry.set_body(v.at("body"));
    entry.set_signature(v.at("signature"));
    wire_ = entry.SerializeAsString();
    leaf_ = EntryLeafHash(entry.body());
    auto verifier = Ed25519Verifier::New(v.at("public_key"));
    ASSERT_THAT(verifier, IsOk());
    verifier_ = *std::move(verifier);
    ASSERT_EQ(Check(wire_, *verifier_), Outcome::kValid);
  }
  // Valid only with an unchanged leaf hash would be a forgery.
  bool Accepted(absl::string_view wire) {
    if (Check(wire, *verifier_) != Outcome::kValid) return false;
    v1::SignedEntry entry;
    entry.ParseFromArray(wire.data(), static_cast<int>(wire.size()));
    return EntryLeafHash(entry.body()) == leaf_;
  }
  google::protobuf::LogSilencer silence_utf8_errors_;
  std::string wire_;
  Hash leaf_{};
  std::unique_ptr<Ed25519Verifier> verifier_;
};

TEST_F(TamperTest, EveryTruncationIsRejected) {
  for (size_t n = 0; n < wire_.size(); ++n) {
    EXPECT_FALSE(Accepted(wire_.substr(0, n))) << "prefix of " << n;
  }
}

TEST_F(TamperTest, EveryBitFlipIsRejected) {
  std::map<Outcome, int> outcomes;
  for (size_t i = 0; i < wire_.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string flipped = wire_;
      flipped[i] = static_cast<char>(flipped[i] ^ (1 << bit));
      outcomes[Check(flipped, *verifier_)]++;
      EXPECT_FALSE(Accepted(flipped)) << "byte " << i << " bit " << bit;
    }
  }
  // Both layers are exercised: framing/body parse errors and signatures.
  EXPECT_GT(outcomes[Outcome::kBadSignature], 0);
  EXPECT_GT(
      outcomes[Outcome::kEntryParseError] + outcomes[Outcome::kBodyParseError],
      0);
}

}  // namespace
}  // namespace segledger
