#include "ledger/note.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ledger/base64.h"
#include "ledger/hash.h"
#include "tests/support/test_util.h"

namespace segledger {
namespace {

using ::segledger::testing::IsOk;
using ::segledger::testing::ReadTestData;
using ::segledger::testing::StatusIs;
using ::testing::HasSubstr;

// Published examples of golang.org/x/mod/sumdb/note (package doc,
// note_test.go), the format C2SP signed-note specifies; tests/testdata/note.
const char kText[] =
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n";
const char kPeterLine[] =
    "\xe2\x80\x94 PeterNeumann "
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngo"
    "tpRZb6KE6RyyBwJnAM=\n";
const char kEnochLine[] =
    "\xe2\x80\x94 EnochRoot "
    "rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/"
    "5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnW"
    "Lox33WWd1RvMc+QQ=\n";

std::string Line(const std::string& file) {
  return std::string(absl::StripSuffix(ReadTestData("note/" + file), "\n"));
}

NoteVerifier MustVerifier(const std::string& vkey) {
  absl::StatusOr<NoteVerifier> v = NoteVerifier::FromVerifierKey(vkey);
  EXPECT_THAT(v, IsOk()) << vkey;
  return *std::move(v);
}

// "PRIVATE+KEY+<name>+<hash>+base64(0x01 || seed)" (sumdb/note's signer
// key; only the tests need to read one).
NoteSigner SignerFromSkey(const std::string& skey) {
  std::vector<std::string> parts =
      absl::StrSplit(skey, absl::MaxSplits('+', 4));
  EXPECT_EQ(parts.size(), 5u);
  absl::StatusOr<std::string> raw = Base64Decode(parts[4]);
  EXPECT_THAT(raw, IsOk());
  EXPECT_EQ(raw->size(), 33u);
  auto signer = Ed25519Signer::New(raw->substr(1));
  EXPECT_THAT(signer, IsOk());
  return NoteSigner(parts[2],
                    std::shared_ptr<const Ed25519Signer>(*std::move(signer)));
}

NoteSigner NewSigner(const std::string& name) {
  return NoteSigner(
      name, std::shared_ptr<const Ed25519Signer>(*Ed25519Signer::Generate()));
}

// "<name>+<hash>+<key>" with the hash computed over whatever `key` holds,
// so that only the key's length or type is wrong.
std::string WithMatchingHash(const std::string& name, const std::string& key) {
  const Hash h = Sha256(name + "\n" + key);
  return absl::StrFormat("%s+%02x%02x%02x%02x+%s", name, h[0], h[1], h[2], h[3],
                         Base64Encode(key));
}

class NoteTest : public ::testing::Test {
 protected:
  const std::string peter_vkey_ = Line("peterneumann.vkey");
  const NoteVerifier peter_ = MustVerifier(peter_vkey_);
  const NoteVerifier enoch_ = MustVerifier(Line("enochroot.vkey"));
  const std::string note_ = ReadTestData("note/peterneumann.note");
  const std::string cosigned_ =
      ReadTestData("note/peterneumann-enochroot.note");
};

TEST_F(NoteTest, TestDataIsThePublishedExample) {
  EXPECT_EQ(note_, absl::StrCat(kText, "\n", kPeterLine));
  EXPECT_EQ(cosigned_, absl::StrCat(kText, "\n", kPeterLine, kEnochLine));
}

TEST_F(NoteTest, PublishedVerifierKey) {
  EXPECT_EQ(peter_.name(), "PeterNeumann");
  EXPECT_EQ(peter_.key_hash(), 0xc74f20a3u);
  EXPECT_EQ(peter_.VerifierKey(), peter_vkey_);
  EXPECT_EQ(NoteKeyHash("PeterNeumann", peter_.public_key()), 0xc74f20a3u);
  EXPECT_EQ(enoch_.key_hash(), 0xaf0cfe78u);
  SEG_ASSERT_OK_AND_ASSIGN(
      NoteVerifier again,
      NoteVerifier::FromPublicKey("PeterNeumann", peter_.public_key()));
  EXPECT_EQ(again.VerifierKey(), peter_vkey_);
}

TEST_F(NoteTest, VerifierKeyRejectsEveryByteFlipAndSubstring) {
  std::string b = peter_vkey_;
  for (size_t i = 0; i < b.size(); ++i) {
    for (int delta : {1, -1, 0x20, 0x80}) {
      std::string bad = b;
      bad[i] = static_cast<char>(bad[i] + delta);
      EXPECT_THAT(NoteVerifier::FromVerifierKey(bad),
                  StatusIs(absl::StatusCode::kInvalidArgument))
          << "byte " << i << " delta " << delta << ": " << bad;
    }
  }
  for (size_t i = 0; i <= b.size(); ++i) {
    for (size_t j = i; j <= b.size(); ++j) {
      if (i == 0 && j == b.size()) continue;
      EXPECT_THAT(NoteVerifier::FromVerifierKey(b.substr(i, j - i)),
                  StatusIs(absl::StatusCode::kInvalidArgument))
          << b.substr(i, j - i);
    }
  }
}

TEST_F(NoteTest, VerifierKeyRejects) {
  struct Case {
    const char* name;
    std::string vkey;
    const char* error;
  };
  const std::string key64 = "ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
  const std::string long_key = *Base64Decode(key64) + '\0';
  const std::string other_type = "\x02" + Base64Decode(key64)->substr(1);
  const Case cases[] = {
      // sumdb/note TestNewVerifier: wrong key length and unknown algorithm,
      // each with the key hash adjusted to match.
      // (Our base64 is strict, so "BADKEY==" fails before the length.)
      {"wrong-length-key-go",
       "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/"
       "LDE4izWy10TWBADKEY==",
       "base64"},
      {"wrong-length-key", WithMatchingHash("PeterNeumann", long_key),
       "34 bytes, want 33"},
      {"ed25519-key-under-other-type",
       WithMatchingHash("PeterNeumann", other_type), "unknown algorithm 0x02"},
      {"unknown-algorithm",
       "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
       "algorithm"},
      {"uppercase-hash", "PeterNeumann+C74F20A3+" + key64, "lowercase"},
      {"short-hash", "PeterNeumann+c74f20a+" + key64, "8 lowercase"},
      {"wrong-hash", "PeterNeumann+c74f20a4+" + key64, "does not match"},
      {"other-name", "PeterNeuman+c74f20a3+" + key64, "does not match"},
      {"empty-name", "+c74f20a3+" + key64, "empty key name"},
      {"space-in-name", "Peter Neumann+c74f20a3+" + key64, "key name"},
      {"nbsp-in-name", "Peter\xc2\xa0Neumann+c74f20a3+" + key64, "key name"},
      {"no-key", "PeterNeumann+c74f20a3", "want <name>"},
      {"empty-key", "PeterNeumann+c74f20a3+", "bytes, want 33"},
      {"unpadded-key", "PeterNeumann+c74f20a3+" + key64.substr(0, 43),
       "base64"},
      {"trailing-newline", peter_vkey_ + "\n", "base64"},
  };
  for (const Case& c : cases) {
    EXPECT_THAT(NoteVerifier::FromVerifierKey(c.vkey),
                StatusIs(absl::StatusCode::kInvalidArgument, c.error))
        << c.name;
  }
}

TEST_F(NoteTest, SignerReproducesThePublishedSignature) {
  NoteSigner signer = SignerFromSkey(Line("peterneumann.skey"));
  EXPECT_EQ(signer.key_hash(), 0xc74f20a3u);
  EXPECT_EQ(signer.Verifier().VerifierKey(), peter_vkey_);
  const NoteSigner* signers[] = {&signer};
  SEG_ASSERT_OK_AND_ASSIGN(std::string msg, SignNote(kText, signers));
  EXPECT_EQ(msg, note_);  // Ed25519 is deterministic: byte for byte
}

TEST_F(NoteTest, OpenThePublishedNote) {
  SEG_ASSERT_OK_AND_ASSIGN(VerifiedNote n, OpenNote(note_, {peter_}));
  EXPECT_EQ(n.text, kText);
  ASSERT_EQ(n.verified.size(), 1u);
  EXPECT_EQ(n.verified[0].name, "PeterNeumann");
  EXPECT_EQ(n.verified[0].key_hash, 0xc74f20a3u);
  EXPECT_EQ(n.verified[0].signature.size(), 64u);
  EXPECT_TRUE(n.unverified.empty());
}

TEST_F(NoteTest, OpenTheCosignedNote) {
  {
    SCOPED_TRACE("peter known: enoch kept unverified");
    SEG_ASSERT_OK_AND_ASSIGN(VerifiedNote n, OpenNote(cosigned_, {peter_}));
    ASSERT_EQ(n.verified.size(), 1u);
    ASSERT_EQ(n.unverified.size(), 1u);
    EXPECT_EQ(n.unverified[0].name, "EnochRoot");
    EXPECT_EQ(n.unverified[0].key_hash, 0xaf0cfe78u);
  }
  {
    SCOPED_TRACE("both known");
    SEG_ASSERT_OK_AND_ASSIGN(VerifiedNote n,
                             OpenNote(cosigned_, {peter_, enoch_}));
    ASSERT_EQ(n.verified.size(), 2u);
    EXPECT_EQ(n.verified[1].name, "EnochRoot");
    EXPECT_TRUE(n.unverified.empty());
  }
  EXPECT_THAT(OpenNote(cosigned_, {}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "no signature by a known key (signed by "
                       "PeterNeumann+c74f20a3, EnochRoot+af0cfe78)"));
  // The same key listed twice is not ambiguous.
  EXPECT_THAT(OpenNote(note_, {peter_, peter_}), IsOk());
}

// ParseNote and OpenNote refuse each malformed note; one mutation per case.
TEST_F(NoteTest, MalformedNotes) {
  const std::string t = kText, p = kPeterLine;
  const std::string dash = "\xe2\x80\x94 ";
  struct Case {
    const char* name;
    std::string msg;
    const char* error;
  };
  const Case cases[] = {
      {"text-only", t, "no blank line"},
      {"no-signatures", t + "\n", "no signatures"},
      {"missing-trailing-newline", t + "\n" + p.substr(0, p.size() - 1),
       "does not end in a newline"},
      {"missing-blank-line", t + p, "no blank line"},
      {"bad-base64", absl::StrReplaceAll(t + "\n" + p, {{"x08go", "x08g!"}}),
       "base64"},
      {"unpadded-base64",
       absl::StrReplaceAll(t + "\n" + p, {{"AM=\n", "AM\n"}}), "base64"},
      {"no-signature", t + "\n" + dash + "PeterNeumann\n", "no signature"},
      {"empty-signature", t + "\n" + dash + "PeterNeumann \n", "no signature"},
      {"missing-name", t + "\n" + dash + " AAAAAAAA\n", "empty key name"},
      {"plus-in-name", t + "\n" + dash + "Peter+Neumann AAAAAAAA\n",
       "key name"},
      {"nbsp-in-name", t + "\n" + dash + "Peter\xc2\xa0Neumann AAAAAAAA\n",
       "key name"},
      {"too-short", t + "\n" + dash + "PeterNeumann AAAAAA==\n", "too short"},
      {"hyphen-not-em-dash", t + "\n- PeterNeumann AAAAAAAA\n", "em dash"},
      {"en-dash", t + "\n\xe2\x80\x93 PeterNeumann AAAAAAAA\n", "em dash"},
      {"no-space-after-dash", t + "\n\xe2\x80\x94PeterNeumann AAAAAAAA\n",
       "em dash"},
      {"unexpected-line", t + "\n" + p + "Unexpected line.\n", "em dash"},
      {"control-char", "\x01" + t + "\n" + p, "control character"},
      {"tab-in-text", "a\tb\n\n" + p, "control character"},
      {"carriage-return", "ab\r\n\n" + p, "control character"},
      {"invalid-utf8", "\xff" + t + "\n" + p, "invalid UTF-8"},
      {"overlong-utf8", "\xc0\xaf\n\n" + p, "invalid UTF-8"},
      {"surrogate-utf8", "\xed\xa0\x80\n\n" + p, "invalid UTF-8"},
      {"truncated-utf8", "\xe2\x80\n\n" + p, "invalid UTF-8"},
      {"above-u10ffff", "\xf4\x90\x80\x80\n\n" + p, "invalid UTF-8"},
  };
  for (const Case& c : cases) {
    EXPECT_THAT(ParseNote(c.msg),
                StatusIs(absl::StatusCode::kInvalidArgument, c.error))
        << c.name;
    EXPECT_THAT(OpenNote(c.msg, {peter_}),
                StatusIs(absl::StatusCode::kInvalidArgument))
        << c.name;
  }
}

TEST_F(NoteTest, WrongKeyHashIsAnUnknownKey) {
  // Same name, key hash changed: not Peter's key, so never verified.
  NoteSignature other = ParseNote(note_)->signatures[0];
  other.key_hash ^= 1;
  Note n{kText, {other}};
  EXPECT_THAT(OpenNote(FormatNote(n), {peter_}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "no signature by a known key"));
  n.signatures.push_back(ParseNote(note_)->signatures[0]);
  SEG_ASSERT_OK_AND_ASSIGN(VerifiedNote v, OpenNote(FormatNote(n), {peter_}));
  EXPECT_EQ(v.verified.size(), 1u);
  ASSERT_EQ(v.unverified.size(), 1u);
  EXPECT_EQ(v.unverified[0].key_hash, 0xc74f20a3u ^ 1);
}

TEST_F(NoteTest, InvalidSignatureByKnownKeyFailsTheNote) {
  // sumdb/note TestOpen: "ABCD" spliced into Peter's signature.
  std::string p = kPeterLine;
  const std::string bad =
      std::string(kText) + "\n" + p.substr(0, 60) + "ABCD" + p.substr(60);
  EXPECT_THAT(OpenNote(bad, {peter_}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "invalid signature for key PeterNeumann+c74f20a3"));
  // Unknown to the reader, the same line is merely kept.
  SEG_ASSERT_OK_AND_ASSIGN(VerifiedNote v,
                           OpenNote(bad + kEnochLine, {enoch_}));
  EXPECT_EQ(v.unverified.size(), 1u);
}

TEST_F(NoteTest, KeyNameMayHoldDel) {
  // signed-note bans only spaces and '+' from key names (and, in the whole
  // note, control characters below U+0020): a witness line whose name holds
  // DEL (0x7f) is kept as unverified, as sumdb/note keeps it.
  std::string witness = kEnochLine;
  witness.insert(witness.find(' ', 4) - 1, "\x7f");
  SEG_ASSERT_OK_AND_ASSIGN(
      VerifiedNote v,
      OpenNote(std::string(kText) + "\n" + kPeterLine + witness, {peter_}));
  ASSERT_EQ(v.unverified.size(), 1u);
  EXPECT_NE(v.unverified[0].name.find('\x7f'), std::string::npos);
}

TEST_F(NoteTest, DuplicateLines) {
  const std::string t = std::string(kText) + "\n";
  EXPECT_THAT(OpenNote(t + kPeterLine + kPeterLine, {peter_}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "more than one signature by known key "
                       "PeterNeumann+c74f20a3"));
  // Identical unknown lines are kept once.
  SEG_ASSERT_OK_AND_ASSIGN(
      VerifiedNote v,
      OpenNote(t + kPeterLine + kEnochLine + kEnochLine, {peter_}));
  EXPECT_EQ(v.unverified.size(), 1u);
  EXPECT_EQ(
      ParseNote(t + kPeterLine + kEnochLine + kEnochLine)->signatures.size(),
      3u);
}

TEST_F(NoteTest, AtMostOneHundredSignatures) {
  std::string msg = std::string(kText) + "\n" + kPeterLine;
  for (int i = 1; i < kMaxNoteSignatures; ++i) msg += kEnochLine;
  SEG_ASSERT_OK_AND_ASSIGN(Note n, ParseNote(msg));
  EXPECT_EQ(n.signatures.size(), 100u);
  EXPECT_THAT(OpenNote(msg, {peter_}), IsOk());
  msg += kEnochLine;
  EXPECT_THAT(ParseNote(msg), StatusIs(absl::StatusCode::kInvalidArgument,
                                       "more than 100 signature lines"));
  EXPECT_THAT(OpenNote(msg, {peter_}),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(NoteTest, FormatRoundTrips) {
  for (const std::string& msg : {note_, cosigned_}) {
    SEG_ASSERT_OK_AND_ASSIGN(Note n, ParseNote(msg));
    EXPECT_EQ(n.text, kText);
    EXPECT_EQ(FormatNote(n), msg);
  }
  // The text may hold blank lines; the last one separates the signatures.
  const std::string text = "a\n\nb\n";
  NoteSigner s = NewSigner("example.com/log");
  const NoteSigner* signers[] = {&s};
  SEG_ASSERT_OK_AND_ASSIGN(std::string msg, SignNote(text, signers));
  SEG_ASSERT_OK_AND_ASSIGN(VerifiedNote v, OpenNote(msg, {s.Verifier()}));
  EXPECT_EQ(v.text, text);
}

TEST_F(NoteTest, SignNoteRejects) {
  NoteSigner ok = NewSigner("example.com/log");
  NoteSigner spaced = NewSigner("bad name");
  NoteSigner plus = NewSigner("a+b");
  const NoteSigner* one[] = {&ok};
  const NoteSigner* twice[] = {&ok, &ok};
  const NoteSigner* bad_name[] = {&spaced};
  const NoteSigner* bad_plus[] = {&plus};
  EXPECT_THAT(SignNote("abc", one),
              StatusIs(absl::StatusCode::kInvalidArgument, "newline"));
  EXPECT_THAT(SignNote("", one),
              StatusIs(absl::StatusCode::kInvalidArgument, "newline"));
  EXPECT_THAT(SignNote("a\x01\n", one),
              StatusIs(absl::StatusCode::kInvalidArgument, "control"));
  EXPECT_THAT(SignNote("\xff\n", one),
              StatusIs(absl::StatusCode::kInvalidArgument, "UTF-8"));
  EXPECT_THAT(SignNote(kText, {}),
              StatusIs(absl::StatusCode::kInvalidArgument, "0 signers"));
  EXPECT_THAT(SignNote(kText, twice),
              StatusIs(absl::StatusCode::kInvalidArgument, "given twice"));
  EXPECT_THAT(SignNote(kText, bad_name),
              StatusIs(absl::StatusCode::kInvalidArgument, "key name"));
  EXPECT_THAT(SignNote(kText, bad_plus),
              StatusIs(absl::StatusCode::kInvalidArgument, "key name"));
}

TEST_F(NoteTest, AddNoteSignatureCosignsAndReplaces) {
  NoteSigner peter = SignerFromSkey(Line("peterneumann.skey"));
  NoteSigner witness = NewSigner("witness.example/w1");
  SEG_ASSERT_OK_AND_ASSIGN(std::string two, AddNoteSignature(note_, witness));
  EXPECT_EQ(two.substr(0, note_.size()), note_);  // appended after Peter
  SEG_ASSERT_OK_AND_ASSIGN(VerifiedNote v,
                           OpenNote(two, {peter_, witness.Verifier()}));
  EXPECT_EQ(v.verified.size(), 2u);
  // Signing again by the same key replaces, never duplicates.
  SEG_ASSERT_OK_AND_ASSIGN(std::string again, AddNoteSignature(two, witness));
  EXPECT_EQ(again, two);
  // sumdb/note TestSign: a stale line by the signing key is replaced.
  Note stale = *ParseNote(note_);
  stale.signatures[0].signature = "BADSIGN";
  SEG_ASSERT_OK_AND_ASSIGN(std::string fixed,
                           AddNoteSignature(FormatNote(stale), peter));
  EXPECT_EQ(fixed, note_);
  EXPECT_THAT(AddNoteSignature(kText, witness),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

// Every prefix of a valid note fails or parses to a consistent note.
TEST_F(NoteTest, TruncationLoop) {
  for (size_t n = 0; n < cosigned_.size(); ++n) {
    const std::string prefix = cosigned_.substr(0, n);
    absl::StatusOr<Note> parsed = ParseNote(prefix);
    absl::StatusOr<VerifiedNote> opened = OpenNote(prefix, {peter_, enoch_});
    if (!parsed.ok()) {
      EXPECT_FALSE(opened.ok()) << n;
      continue;
    }
    EXPECT_EQ(FormatNote(*parsed), prefix) << n;
    if (opened.ok()) {
      EXPECT_EQ(opened->text, kText) << n;
      ASSERT_EQ(opened->verified.size(), 1u) << n;  // Enoch's line cut off
      EXPECT_EQ(opened->verified[0].name, "PeterNeumann");
    }
  }
}

// Every changed byte fails OpenNote or changes nothing it claims verified.
TEST_F(NoteTest, ByteFlipLoop) {
  SEG_ASSERT_OK_AND_ASSIGN(VerifiedNote want,
                           OpenNote(cosigned_, {peter_, enoch_}));
  int opened = 0;
  for (size_t i = 0; i < cosigned_.size(); ++i) {
    for (int delta : {1, 0x40, 0x80}) {
      std::string bad = cosigned_;
      bad[i] = static_cast<char>(bad[i] ^ delta);
      absl::StatusOr<VerifiedNote> got = OpenNote(bad, {peter_, enoch_});
      if (!got.ok()) continue;
      ++opened;
      EXPECT_EQ(got->text, want.text) << "byte " << i;
      for (const NoteSignature& s : got->verified) {
        bool found = false;
        for (const NoteSignature& w : want.verified) {
          found = found || (s.name == w.name && s.key_hash == w.key_hash &&
                            s.signature == w.signature);
        }
        EXPECT_TRUE(found) << "byte " << i << " " << s.name;
      }
    }
  }
  // Flips inside one signature line leave the other one verifying alone
  // only when the flipped line becomes an unknown key; no flip opened a
  // note with different text.
  EXPECT_GT(opened, 0);
}

}  // namespace
}  // namespace segledger
