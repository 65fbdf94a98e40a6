// C2SP tlog-proof files: format round trip, the spec's published example,
// store-made proofs verify, one mutation per case is rejected, and
// `segaudit verify-proof` exit codes.
#include "tools/proof_file.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gtest/gtest.h"
#include "tests/support/test_util.h"
#include "tests/tools/bundle_test_util.h"
#include "tools/file_util.h"
#include "tools/store_source.h"

namespace segledger::tools {
namespace {

using ::segledger::testing::MakeTestLog;
using ::segledger::testing::RunResult;
using ::segledger::testing::RunSegaudit;
using ::segledger::testing::TempDir;
using ::segledger::testing::TestLog;

constexpr char kOrigin[] = "fill.example/segledger";

// The example of https://c2sp.org/tlog-proof with its elided signatures
// replaced by syntactically valid ones (ParseProofFile checks syntax only).
TEST(ProofFile, ParsesSpecExampleShape) {
  std::string sig = std::string(4, 'A') + std::string(88, 'A');
  std::string text = absl::StrCat(
      "c2sp.org/tlog-proof@v1\n"
      "extra YWdlLXYxLjIuMS1kYXJ3aW4tYXJtNjQudGFyLmd6\n"
      "index 73894\n"
      "gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ=\n"
      "B95lDa8R83lS8n0eG+o0buTxRKQTYFi//1U8anccXmA=\n"
      "\n"
      "example.com/fancylog\n109482\n"
      "sFodV/vSp5O8n9a8QpW6PRY97tfOSW5bsc2Xl/EQi08=\n\n"
      "\xe2\x80\x94 example.com/fancylog ",
      sig, "\n");
  SEG_ASSERT_OK_AND_ASSIGN(ProofFile p, ParseProofFile(text));
  EXPECT_EQ(p.index, 73894u);
  ASSERT_EQ(p.proof.size(), 2u);
  ASSERT_TRUE(p.extra.has_value());
  EXPECT_EQ(*p.extra, "age-v1.2.1-darwin-arm64.tar.gz");
  EXPECT_EQ(FormatProofFile(p), text);
}

class StoreProofTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto log = MakeTestLog(tmp_.Sub("node"), kOrigin, 300, 100, 1000);
    ASSERT_TRUE(log.ok()) << log.status();
    log_ = *std::move(log);
    ASSERT_TRUE(log_.store->CheckpointNow().ok());
    keys_ = {log_.signer->Verifier()};
  }
  TempDir tmp_;
  TestLog log_;
  std::vector<NoteVerifier> keys_;
};

TEST_F(StoreProofTest, VerifiesAndRejectsEveryMutation) {
  SEG_ASSERT_OK_AND_ASSIGN(std::string file,
                           MakeStoreEntryProof(*log_.store, 137));
  SEG_ASSERT_OK_AND_ASSIGN(VerifiedEntryProof v,
                           VerifyEntryProofFile(file, keys_, kOrigin));
  EXPECT_EQ(v.index, 137u);
  EXPECT_EQ(v.checkpoint.size, 300u);
  EXPECT_EQ(v.body.index(), 137u);
  SEG_ASSERT_OK_AND_ASSIGN(Hash leaf, log_.store->LeafHashAt(137));
  EXPECT_EQ(v.leaf_hash, leaf);

  EXPECT_FALSE(VerifyEntryProofFile(file, keys_, "other.example/x").ok());
  // Every single-byte change anywhere is rejected (bounded: 1 byte in 7).
  for (size_t i = 0; i < file.size(); i += 7) {
    std::string bad = file;
    bad[i] ^= 0x02;
    EXPECT_FALSE(VerifyEntryProofFile(bad, keys_, kOrigin).ok())
        << "byte " << i;
  }
  // Truncations are rejected.
  for (size_t n = 0; n + 1 < file.size(); n += 13) {
    EXPECT_FALSE(VerifyEntryProofFile(file.substr(0, n), keys_).ok()) << n;
  }
  // Another index claimed with the same proof.
  std::string moved =
      absl::StrReplaceAll(file, {{"\nindex 137\n", "\nindex 138\n"}});
  EXPECT_FALSE(VerifyEntryProofFile(moved, keys_).ok());
}

TEST_F(StoreProofTest, SegauditVerifyProofExitCodes) {
  SEG_ASSERT_OK_AND_ASSIGN(std::string file,
                           MakeStoreEntryProof(*log_.store, 5, 300));
  SEG_ASSERT_OK(WriteStringToFile(tmp_.Sub("p.tlog-proof"), file, false));
  std::string vkey = log_.signer->Verifier().VerifierKey();
  RunResult r =
      RunSegaudit(absl::StrCat("verify-proof ", tmp_.Sub("p.tlog-proof"),
                               " --key '", vkey, "' --format=json"),
                  tmp_.path());
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("\"index\":5"), std::string::npos) << r.out;
  std::string bad = file;
  bad[bad.size() - 20] = bad[bad.size() - 20] == 'A' ? 'B' : 'A';
  SEG_ASSERT_OK(WriteStringToFile(tmp_.Sub("bad.tlog-proof"), bad, false));
  r = RunSegaudit(absl::StrCat("verify-proof ", tmp_.Sub("bad.tlog-proof"),
                               " --key '", vkey, "'"),
                  tmp_.path());
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_EQ(r.out.rfind("FAILED: ", 0), 0u) << r.out;  // normal output
  r = RunSegaudit(
      absl::StrCat("verify-proof ", tmp_.Sub("none"), " --key '", vkey, "'"),
      tmp_.path());
  EXPECT_EQ(r.exit_code, 2);
}

// Regression: input errors of verify-proof (not a proof file, a bad index,
// bad base64) exited 2 but printed "FAILED: ..." on stdout and nothing on
// stderr. DESIGN.md: exit 2 with one line on stderr naming the problem.
TEST_F(StoreProofTest, SegauditVerifyProofInputErrorsGoToStderr) {
  SEG_ASSERT_OK_AND_ASSIGN(std::string file,
                           MakeStoreEntryProof(*log_.store, 5, 300));
  std::string vkey = log_.signer->Verifier().VerifierKey();
  struct Case {
    const char* name;
    std::string text;
    const char* says;
  };
  const std::vector<Case> cases = {
      {"not a proof file", "hello\nworld\n", "first line"},
      {"bad index",
       absl::StrReplaceAll(file, {{"\nindex 5\n", "\nindex x5\n"}}),
       "bad index"},
      {"bad base64 in the proof",
       absl::StrReplaceAll(file, {{"\nindex 5\n", "\nindex 5\n!!!!\n"}}),
       "proof[0]"},
  };
  for (const Case& tc : cases) {
    ASSERT_NE(tc.text, file) << tc.name;
    SEG_ASSERT_OK(WriteStringToFile(tmp_.Sub("in.tlog-proof"), tc.text, false));
    for (const char* format : {"text", "json"}) {
      RunResult r =
          RunSegaudit(absl::StrCat("verify-proof ", tmp_.Sub("in.tlog-proof"),
                                   " --key '", vkey, "' --format=", format),
                      tmp_.path());
      EXPECT_EQ(r.exit_code, 2) << tc.name << ": " << r.out << r.err;
      EXPECT_EQ(r.out, "") << tc.name;
      EXPECT_EQ(r.err.rfind("segaudit: ", 0), 0u) << tc.name << ": " << r.err;
      EXPECT_NE(r.err.find(tc.says), std::string::npos) << tc.name << r.err;
      EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1)
          << tc.name << ": " << r.err;
    }
  }
}

}  // namespace
}  // namespace segledger::tools
