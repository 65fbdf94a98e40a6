// Rebuilds the worked example of docs/formats.md from the code and checks
// it against tests/testdata/formats/example.txt, and that the doc embeds the
// same text. Regenerate both after a deliberate format change with
//   SEGLEDGER_REGENERATE=1 build/release/tests/formats_example_test
// and paste the file into docs/formats.md.
#include <cstdlib>
#include <fstream>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "ledger/base64.h"
#include "ledger/checkpoint.h"
#include "ledger/compact_range.h"
#include "ledger/ed25519.h"
#include "ledger/entry_codec.h"
#include "ledger/merkle.h"
#include "ledger/note.h"
#include "tests/support/test_util.h"

namespace segledger {
namespace {

constexpr char kOrigin[] = "cmo-up.example/segledger";
constexpr char kKeyName[] = "cmo-up.example/segledger";
// RFC 8032 section 7.1 TEST 1 secret key: a published key, so anyone can
// reproduce every byte below.
constexpr char kSeedHex[] =
    "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";

v1::EntryBody ExampleBody(uint64_t index, const Hash& prev,
                          const Ed25519PublicKey& pub) {
  v1::EntryBody body;
  body.set_log_origin(kOrigin);
  body.set_index(index);
  body.set_prev_hash(std::string(HashBytes(prev)));
  body.mutable_recorded_at()->set_seconds(1764028800 +
                                          60 * index);  // 2025-11-25
  body.set_key_name(kKeyName);
  auto* actor = body.mutable_actor();
  actor->set_person_id("op-0042");
  actor->set_printed_name("Li Wei");
  actor->set_role("qa");
  actor->set_meaning(v1::SIGNATURE_MEANING_APPROVED);
  actor->mutable_signed_at()->set_seconds(1764028800 + 60 * index);
  body.set_request_id(absl::StrCat("example-", index));
  auto* reg = body.mutable_record()->mutable_key_registration();
  reg->set_key_name(kKeyName);
  reg->set_public_key(
      std::string(reinterpret_cast<const char*>(pub.data()), pub.size()));
  reg->mutable_valid_from()->set_seconds(1764028800);
  reg->set_purpose(index == 0 ? "log signing key" : "re-announced");
  return body;
}

std::string BuildExample() {
  auto signer_or = Ed25519Signer::New(absl::HexStringToBytes(kSeedHex));
  EXPECT_TRUE(signer_or.ok());
  std::shared_ptr<const Ed25519Signer> key = *std::move(signer_or);
  NoteSigner note_signer(kKeyName, key);
  std::string out;
  absl::StrAppend(&out, "verifier key: ", note_signer.Verifier().VerifierKey(),
                  "\n");
  CompactRange range;
  Hash prev = kZeroHash;
  std::vector<Hash> leaves;
  for (uint64_t i = 0; i < 2; ++i) {
    auto body = SerializeEntryBody(ExampleBody(i, prev, key->public_key()));
    EXPECT_TRUE(body.ok());
    auto signed_entry = SignEntry(*body, *key);
    EXPECT_TRUE(signed_entry.ok());
    prev = EntryLeafHash(*body);
    leaves.push_back(prev);
    range.Append(prev, nullptr);
    absl::StrAppend(&out, "\nentry ", i, " body (", body->size(),
                    " bytes, hex):\n", absl::BytesToHexString(*body), "\n");
    absl::StrAppend(&out, "entry ", i, " leaf hash: ", HashHex(prev), "\n");
    absl::StrAppend(&out, "entry ", i, " signature (base64): ",
                    Base64Encode(signed_entry->signature()), "\n");
  }
  absl::StrAppend(&out, "\nroot of size 2: ", HashHex(range.Root()),
                  " (= SHA-256(0x01 || leaf 0 || leaf 1))\n");
  absl::StrAppend(&out, "inclusion proof of index 0 in size 2: [",
                  HashBase64(leaves[1]), "]\n");
  Checkpoint cp{kOrigin, 2, range.Root(), {}};
  auto note = SignCheckpoint(cp, note_signer);
  EXPECT_TRUE(note.ok());
  absl::StrAppend(&out, "\ncheckpoint at size 2:\n", *note);
  return out;
}

TEST(FormatsExampleTest, MatchesGoldenFileAndDocs) {
  const std::string example = BuildExample();
  const std::string golden_path =
      std::string(SEGLEDGER_TESTDATA_DIR) + "/formats/example.txt";
  if (std::getenv("SEGLEDGER_REGENERATE") != nullptr) {
    std::ofstream(golden_path, std::ios::binary) << example;
  }
  EXPECT_EQ(example, testing::ReadTestData("formats/example.txt"));
  const std::string doc = testing::ReadTestData("../../docs/formats.md");
  EXPECT_NE(doc.find(example), std::string::npos)
      << "docs/formats.md does not embed tests/testdata/formats/example.txt";
}

// The example's pieces verify with the independent verifiers of the core.
TEST(FormatsExampleTest, ExampleVerifies) {
  auto key = Ed25519Signer::New(absl::HexStringToBytes(kSeedHex));
  ASSERT_TRUE(key.ok());
  auto body =
      SerializeEntryBody(ExampleBody(0, kZeroHash, (*key)->public_key()));
  ASSERT_TRUE(body.ok());
  auto entry = SignEntry(*body, **key);
  ASSERT_TRUE(entry.ok());
  auto verifier = Ed25519Verifier::New(std::string(
      reinterpret_cast<const char*>((*key)->public_key().data()), 32));
  ASSERT_TRUE(verifier.ok());
  SEG_EXPECT_OK(VerifyEntrySignature(*entry, **verifier));
}

}  // namespace
}  // namespace segledger
