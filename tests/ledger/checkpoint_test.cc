#include "ledger/checkpoint.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/test_util.h"

namespace segledger {
namespace {

using ::segledger::testing::IsOk;
using ::segledger::testing::ReadTestData;
using ::segledger::testing::StatusIs;

NoteSigner NewSigner(const std::string& name) {
  return NoteSigner(
      name, std::shared_ptr<const Ed25519Signer>(*Ed25519Signer::Generate()));
}

class CheckpointTest : public ::testing::Test {
 protected:
  CheckpointTest() {
    cp_.origin = "cmo-up.example/segledger";
    cp_.size = 20852163;
    cp_.root = Sha256("root");
  }
  Checkpoint cp_;
  NoteSigner log_ = NewSigner("cmo-up.example/segledger");
  NoteSigner witness_ = NewSigner("qa-site.example/witness");
};

TEST_F(CheckpointTest, TextIsTheSpecFormat) {
  EXPECT_EQ(cp_.Text(), absl::StrCat("cmo-up.example/segledger\n20852163\n",
                                     HashBase64(cp_.root), "\n"));
  cp_.extensions = {"ext one", "ext two"};
  EXPECT_EQ(cp_.Text(),
            absl::StrCat("cmo-up.example/segledger\n20852163\n",
                         HashBase64(cp_.root), "\next one\next two\n"));
  Checkpoint empty;
  empty.origin = "o";
  EXPECT_EQ(empty.Text(),
            "o\n0\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n");
}

TEST_F(CheckpointTest, SignAndOpenRoundTrip) {
  for (const std::vector<std::string>& ext :
       {std::vector<std::string>{}, std::vector<std::string>{"a", "b c"}}) {
    cp_.extensions = ext;
    SEG_ASSERT_OK_AND_ASSIGN(std::string note, SignCheckpoint(cp_, log_));
    SEG_ASSERT_OK_AND_ASSIGN(
        SignedCheckpoint got,
        OpenCheckpoint(note, {log_.Verifier()}, cp_.origin));
    EXPECT_EQ(got.checkpoint, cp_);
    EXPECT_EQ(got.note, note);
    ASSERT_EQ(got.verified.size(), 1u);
    EXPECT_EQ(got.verified[0].name, log_.name());
    EXPECT_TRUE(got.unverified.empty());
    // No origin required: any origin is accepted.
    EXPECT_THAT(OpenCheckpoint(note, {log_.Verifier()}, ""), IsOk());
  }
}

TEST_F(CheckpointTest, SpecExampleTextParses) {
  // C2SP tlog-checkpoint's example; its key is not published.
  const std::string note = ReadTestData("note/tlog-checkpoint-example.note");
  SEG_ASSERT_OK_AND_ASSIGN(Note n, ParseNote(note));
  SEG_ASSERT_OK_AND_ASSIGN(Checkpoint cp, ParseCheckpointText(n.text));
  EXPECT_EQ(cp.origin, "example.com/behind-the-sofa");
  EXPECT_EQ(cp.size, 20852163u);
  EXPECT_EQ(HashBase64(cp.root),
            "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=");
  EXPECT_TRUE(cp.extensions.empty());
  EXPECT_EQ(cp.Text(), n.text);
  EXPECT_THAT(OpenCheckpoint(note, {log_.Verifier()}, ""),
              StatusIs(absl::StatusCode::kInvalidArgument, "known key"));
}

// One malformed field per case.
TEST(CheckpointTextTest, MalformedFields) {
  const std::string root = "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=";
  const std::string o = "example.com/log\n";
  struct Case {
    const char* name;
    std::string text;
    const char* error;
  };
  const Case cases[] = {
      {"no-trailing-newline", o + "1\n" + root, "newline"},
      {"empty", "", "newline"},
      {"two-lines", o + "1\n", "2 lines, want at least 3"},
      {"empty-origin", "\n1\n" + root + "\n", "empty origin"},
      {"empty-size", o + "\n" + root + "\n", "is empty"},
      {"leading-zero", o + "01\n" + root + "\n", "leading zero"},
      {"double-zero", o + "00\n" + root + "\n", "leading zero"},
      {"plus-sign", o + "+1\n" + root + "\n", "not decimal"},
      {"minus-sign", o + "-1\n" + root + "\n", "not decimal"},
      {"leading-space", o + " 1\n" + root + "\n", "not decimal"},
      {"trailing-space", o + "1 \n" + root + "\n", "not decimal"},
      {"hex-size", o + "0x10\n" + root + "\n", "leading zero"},
      {"size-overflow", o + "18446744073709551616\n" + root + "\n",
       "overflows"},
      {"root-not-base64", o + "1\n" + "!" + root.substr(1) + "\n", "base64"},
      {"root-unpadded", o + "1\n" + root.substr(0, 43) + "\n", "base64"},
      {"root-31-bytes", o + "1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\n",
       "31"},
      {"root-33-bytes", o + "1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n",
       "33"},
      {"root-noncanonical",
       o + "1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=\n", "base64"},
      {"empty-root", o + "1\n\n", "checkpoint root"},
      {"empty-extension-last", o + "1\n" + root + "\n\n", "extension line 4"},
      {"empty-extension-middle", o + "1\n" + root + "\na\n\nb\n",
       "extension line 5"},
  };
  for (const Case& c : cases) {
    EXPECT_THAT(ParseCheckpointText(c.text),
                StatusIs(absl::StatusCode::kInvalidArgument, c.error))
        << c.name;
  }
  SEG_ASSERT_OK_AND_ASSIGN(
      Checkpoint max,
      ParseCheckpointText(o + "18446744073709551615\n" + root + "\n"));
  EXPECT_EQ(max.size, UINT64_MAX);
  SEG_ASSERT_OK_AND_ASSIGN(Checkpoint zero,
                           ParseCheckpointText(o + "0\n" + root + "\n"));
  EXPECT_EQ(zero.size, 0u);
}

TEST_F(CheckpointTest, OriginMismatch) {
  SEG_ASSERT_OK_AND_ASSIGN(std::string note, SignCheckpoint(cp_, log_));
  EXPECT_THAT(
      OpenCheckpoint(note, {log_.Verifier()}, "other.example/segledger"),
      StatusIs(absl::StatusCode::kInvalidArgument,
               "origin \"cmo-up.example/segledger\", want "
               "\"other.example/segledger\""));
}

TEST_F(CheckpointTest, CosignedByAWitness) {
  SEG_ASSERT_OK_AND_ASSIGN(std::string note, SignCheckpoint(cp_, log_));
  SEG_ASSERT_OK_AND_ASSIGN(std::string cosigned,
                           AddNoteSignature(note, witness_));
  NoteSigner stranger = NewSigner("stranger.example/w");
  SEG_ASSERT_OK_AND_ASSIGN(std::string three,
                           AddNoteSignature(cosigned, stranger));
  {
    SCOPED_TRACE("log and witness known, third key unknown");
    SEG_ASSERT_OK_AND_ASSIGN(
        SignedCheckpoint got,
        OpenCheckpoint(three, {log_.Verifier(), witness_.Verifier()},
                       cp_.origin));
    EXPECT_EQ(got.checkpoint, cp_);
    ASSERT_EQ(got.verified.size(), 2u);
    EXPECT_EQ(got.verified[0].name, log_.name());
    EXPECT_EQ(got.verified[1].name, witness_.name());
    ASSERT_EQ(got.unverified.size(), 1u);
    EXPECT_EQ(got.unverified[0].name, "stranger.example/w");
    EXPECT_EQ(got.note, three);
  }
  {
    SCOPED_TRACE("only the witness known");
    SEG_ASSERT_OK_AND_ASSIGN(
        SignedCheckpoint got,
        OpenCheckpoint(three, {witness_.Verifier()}, cp_.origin));
    ASSERT_EQ(got.verified.size(), 1u);
    EXPECT_EQ(got.verified[0].name, witness_.name());
    EXPECT_EQ(got.unverified.size(), 2u);
  }
}

TEST_F(CheckpointTest, SignCheckpointRejects) {
  struct Case {
    const char* name;
    void (*mutate)(Checkpoint*);
    const char* error;
  };
  const Case cases[] = {
      {"empty-origin", [](Checkpoint* c) { c->origin.clear(); },
       "empty origin"},
      {"newline-in-origin", [](Checkpoint* c) { c->origin += "\nx"; },
       "newline"},
      {"tab-in-origin", [](Checkpoint* c) { c->origin += "\t"; }, "control"},
      {"empty-extension", [](Checkpoint* c) { c->extensions = {""}; },
       "empty extension"},
      {"newline-in-extension", [](Checkpoint* c) { c->extensions = {"a\nb"}; },
       "newline"},
      {"invalid-utf8-extension",
       [](Checkpoint* c) { c->extensions = {"\xff"}; }, "UTF-8"},
  };
  for (const Case& c : cases) {
    Checkpoint cp = cp_;
    c.mutate(&cp);
    EXPECT_THAT(SignCheckpoint(cp, log_),
                StatusIs(absl::StatusCode::kInvalidArgument, c.error))
        << c.name;
  }
}

TEST_F(CheckpointTest, SignedNoteThatIsNotACheckpoint) {
  const NoteSigner* signers[] = {&log_};
  SEG_ASSERT_OK_AND_ASSIGN(std::string note, SignNote("hello\n", signers));
  EXPECT_THAT(OpenCheckpoint(note, {log_.Verifier()}, ""),
              StatusIs(absl::StatusCode::kInvalidArgument, "1 lines"));
}

// PeekCheckpoint reads the checkpoint without keys: a note signed by a
// stranger peeks the same, and only what ParseNote or ParseCheckpointText
// refuses is an error.
TEST_F(CheckpointTest, PeekReadsWithoutKeys) {
  SEG_ASSERT_OK_AND_ASSIGN(std::string note, SignCheckpoint(cp_, log_));
  SEG_ASSERT_OK_AND_ASSIGN(Checkpoint peeked, PeekCheckpoint(note));
  EXPECT_EQ(peeked, cp_);
  SEG_ASSERT_OK_AND_ASSIGN(
      std::string by_stranger,
      SignCheckpoint(cp_, NewSigner("stranger.example/w")));
  SEG_ASSERT_OK_AND_ASSIGN(uint64_t size, CheckpointNoteSize(by_stranger));
  EXPECT_EQ(size, cp_.size);

  const NoteSigner* signers[] = {&log_};
  SEG_ASSERT_OK_AND_ASSIGN(std::string not_cp, SignNote("hello\n", signers));
  EXPECT_THAT(PeekCheckpoint(not_cp),
              StatusIs(absl::StatusCode::kInvalidArgument, "1 lines"));
  EXPECT_THAT(CheckpointNoteSize("no note at all"),
              StatusIs(absl::StatusCode::kInvalidArgument, ""));
}

// Every changed byte fails OpenCheckpoint or opens the same checkpoint.
TEST_F(CheckpointTest, ByteFlipLoop) {
  SEG_ASSERT_OK_AND_ASSIGN(std::string note, SignCheckpoint(cp_, log_));
  SEG_ASSERT_OK_AND_ASSIGN(note, AddNoteSignature(note, witness_));
  for (size_t i = 0; i < note.size(); ++i) {
    std::string bad = note;
    bad[i] ^= 0x01;
    absl::StatusOr<SignedCheckpoint> got =
        OpenCheckpoint(bad, {log_.Verifier(), witness_.Verifier()}, "");
    if (got.ok()) {
      EXPECT_EQ(got->checkpoint, cp_) << "byte " << i;
      EXPECT_EQ(got->verified.size(), 1u) << "byte " << i;
    }
  }
  for (size_t n = 0; n < note.size(); ++n) {
    absl::StatusOr<SignedCheckpoint> got = OpenCheckpoint(
        note.substr(0, n), {log_.Verifier(), witness_.Verifier()}, "");
    if (got.ok()) {
      EXPECT_EQ(got->checkpoint, cp_) << "prefix " << n;
    }
  }
}

}  // namespace
}  // namespace segledger
