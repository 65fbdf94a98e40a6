// Export from a real RocksDB LogStore, verify in process; layout and
// atomicity of the writer.
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "ledger/checkpoint.h"
#include "ledger/note.h"
#include "ledger/thread_pool.h"
#include "ledger/tiles.h"
#include "tests/support/test_util.h"
#include "tests/tools/bundle_test_util.h"
#include "tools/bundle_layout.h"
#include "tools/bundle_verify.h"
#include "tools/bundle_writer.h"
#include "tools/fetcher.h"
#include "tools/proof_file.h"
#include "tools/store_source.h"

namespace segledger::tools {
namespace {

namespace fs = std::filesystem;
using ::segledger::testing::MakeTestLog;
using ::segledger::testing::TempDir;
using ::segledger::testing::TestLog;

constexpr char kOrigin[] = "cmo-up.example/segledger";

std::string ChecksOf(const AuditReport& r) {
  std::string out;
  for (const AuditFinding& f : r.findings) {
    absl::StrAppend(&out, f.check, "@", f.index, " ", f.path, ": ", f.detail,
                    "\n");
  }
  return out;
}

TEST(BundleRoundTrip, ExportThenVerifyHasNoFindings) {
  TempDir tmp;
  // 1000 entries, checkpoints every 300 (+ final at Close): sizes 300, 600,
  // 900, 1000 -> partial tiles and partial bundles for each.
  SEG_ASSERT_OK_AND_ASSIGN(
      TestLog log, MakeTestLog(tmp.Sub("node"), kOrigin, 1000, 50, 300));
  SEG_ASSERT_OK(log.store->Close());
  StoreExportSource src(log.store.get());
  std::vector<LogExportSource*> logs = {&src};
  SEG_ASSERT_OK(WriteBundle(logs, tmp.Sub("bundle")));

  const std::string dir = tmp.Sub("bundle/") + LogDirName(kOrigin);
  EXPECT_EQ(LogDirName(kOrigin), "cmo-up.example%2Fsegledger");
  for (const char* rel :
       {"/checkpoint", "/tile/0/000", "/tile/0/003.p/232", "/tile/1/000.p/3",
        "/tile/entries/000", "/tile/entries/003.p/232", "/signatures/003.p/232",
        "/tile/entries/001.p/44", "/tile/0/001.p/44"}) {
    EXPECT_TRUE(fs::exists(dir + rel)) << rel;
  }
  EXPECT_TRUE(fs::exists(tmp.Sub("bundle/keys")));
  EXPECT_TRUE(fs::exists(tmp.Sub("bundle/MANIFEST")));

  SEG_ASSERT_OK_AND_ASSIGN(auto fetcher, OpenFetcher(tmp.Sub("bundle")));
  ThreadPool pool(1);
  VerifyOptions vo;
  vo.pool = &pool;
  vo.keep_entries = true;
  BundleContents contents;
  SEG_ASSERT_OK_AND_ASSIGN(AuditReport report,
                           VerifyBundle(*fetcher, vo, &contents));
  EXPECT_EQ(report.CountAtLeast(Severity::kWarning), 0u) << ChecksOf(report);
  ASSERT_EQ(report.logs.size(), 1u);
  EXPECT_EQ(report.logs[0].origin, kOrigin);
  EXPECT_EQ(report.logs[0].size, 1000u);
  EXPECT_EQ(report.logs[0].entries_verified, 1000u);
  EXPECT_GE(report.logs[0].checkpoint_sizes.size(), 2u);
  ASSERT_EQ(contents.logs.size(), 1u);
  EXPECT_EQ(contents.logs[0].bodies.size(), 1000u);
  SEG_ASSERT_OK_AND_ASSIGN(Hash root, log.store->RootAt(1000));
  EXPECT_EQ(report.logs[0].root_hex, HashHex(root));
}

TEST(BundleRoundTrip, RefusesExistingTarget) {
  TempDir tmp;
  SEG_ASSERT_OK_AND_ASSIGN(TestLog log,
                           MakeTestLog(tmp.Sub("node"), kOrigin, 10, 10, 5));
  SEG_ASSERT_OK(log.store->Close());
  fs::create_directories(tmp.Sub("bundle"));
  StoreExportSource src(log.store.get());
  std::vector<LogExportSource*> logs = {&src};
  EXPECT_THAT(
      WriteBundle(logs, tmp.Sub("bundle")),
      ::segledger::testing::StatusIs(absl::StatusCode::kFailedPrecondition));
}

// A source that fails half way: the target must not appear and no
// temporary directory may remain.
class FailingSource final : public LogExportSource {
 public:
  explicit FailingSource(LogExportSource* inner) : inner_(inner) {}
  std::string Origin() const override { return inner_->Origin(); }
  absl::StatusOr<std::vector<std::string>> Checkpoints() override {
    return inner_->Checkpoints();
  }
  absl::StatusOr<std::string> ReadHashTile(const TileId& t) override {
    return inner_->ReadHashTile(t);
  }
  absl::StatusOr<std::string> ReadEntryBundle(const TileId& t) override {
    if (t.index >= 1) return absl::UnavailableError("node went away");
    return inner_->ReadEntryBundle(t);
  }
  absl::StatusOr<std::string> ReadSignatureBundle(const TileId& t) override {
    return inner_->ReadSignatureBundle(t);
  }
  std::vector<NoteVerifier> Verifiers() override { return inner_->Verifiers(); }

 private:
  LogExportSource* inner_;
};

TEST(BundleRoundTrip, FailedExportLeavesNothing) {
  TempDir tmp;
  SEG_ASSERT_OK_AND_ASSIGN(
      TestLog log, MakeTestLog(tmp.Sub("node"), kOrigin, 600, 100, 256));
  SEG_ASSERT_OK(log.store->Close());
  StoreExportSource inner(log.store.get());
  FailingSource src(&inner);
  std::vector<LogExportSource*> logs = {&src};
  absl::Status s = WriteBundle(logs, tmp.Sub("bundle"));
  EXPECT_TRUE(absl::IsUnavailable(s)) << s;
  EXPECT_NE(std::string(s.message()).find(kOrigin), std::string::npos) << s;
  EXPECT_FALSE(fs::exists(tmp.Sub("bundle")));
  for (const auto& e : fs::directory_iterator(tmp.path())) {
    EXPECT_EQ(e.path().filename().string().find("bundle"), std::string::npos)
        << e.path();
  }
}

TEST(BundleRoundTrip, ManifestRoundTripAndRejects) {
  Manifest m;
  m.logs.push_back(ManifestLog{"a%2Fb", {3, 256, 1000}});
  m.cosignatures.push_back("cosignatures/a%2Fb/256.0011aabb");
  m.evidence.push_back("cosignatures/evidence/c/4.10.tlog-proof");
  SEG_ASSERT_OK_AND_ASSIGN(Manifest back, ParseManifest(FormatManifest(m)));
  ASSERT_EQ(back.logs.size(), 1u);
  EXPECT_EQ(back.logs[0].checkpoint_sizes, m.logs[0].checkpoint_sizes);
  EXPECT_EQ(back.cosignatures, m.cosignatures);
  EXPECT_EQ(back.evidence, m.evidence);
  for (const char* bad : {"nope\n", "segledger-bundle/v1\nlog a 5 3\n",
                          "segledger-bundle/v1\nlog ../x 5\n",
                          "segledger-bundle/v1\nevidence /etc/passwd\n",
                          "segledger-bundle/v1\nwhat x\n"}) {
    EXPECT_FALSE(ParseManifest(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace segledger::tools

namespace segledger::tools {
namespace {

using ::segledger::testing::WithExtras;

absl::StatusOr<AuditReport> ExportAndVerify(const TempDir& tmp,
                                            const std::string& name,
                                            const TestLog& a, const TestLog& b,
                                            std::vector<std::string> cosigned,
                                            std::vector<std::string> evidence) {
  WithExtras sa(a.store.get(), std::move(cosigned), std::move(evidence));
  StoreExportSource sb(b.store.get());
  std::vector<LogExportSource*> logs = {&sa, &sb};
  absl::Status s = WriteBundle(logs, tmp.Sub(name));
  if (!s.ok()) return s;
  auto fetcher = OpenFetcher(tmp.Sub(name));
  if (!fetcher.ok()) return fetcher.status();
  return VerifyBundle(**fetcher, VerifyOptions());
}

TEST(BundleCrossLog, CosignaturesAndEvidenceVerifyAndEquivocationIsFound) {
  TempDir tmp;
  SEG_ASSERT_OK_AND_ASSIGN(
      TestLog a, MakeTestLog(tmp.Sub("a"), "a.example/log", 20, 20, 100));
  SEG_ASSERT_OK_AND_ASSIGN(
      TestLog b, MakeTestLog(tmp.Sub("b"), "b.example/log", 30, 30, 100));
  SEG_ASSERT_OK(a.store->CheckpointNow().status());
  SEG_ASSERT_OK_AND_ASSIGN(std::string b_cp, b.store->CheckpointNow());
  // A witnesses B's checkpoint and holds B's entry 7 as evidence.
  SEG_ASSERT_OK_AND_ASSIGN(std::string cosigned,
                           AddNoteSignature(b_cp, *a.signer));
  SEG_ASSERT_OK_AND_ASSIGN(std::string proof, MakeStoreEntryProof(*b.store, 7));
  SEG_ASSERT_OK_AND_ASSIGN(
      AuditReport ok, ExportAndVerify(tmp, "ok", a, b, {cosigned}, {proof}));
  EXPECT_EQ(ok.CountAtLeast(Severity::kWarning), 0u) << ChecksOf(ok);
  ASSERT_EQ(ok.logs.size(), 2u);
  EXPECT_EQ(ok.logs[1].cosigners, std::vector<std::string>{"a.example"});

  // B signs a second root for the same size: the cosigned copy the witness
  // holds now disagrees with the log (equivocation), and a tampered
  // evidence file fails verification.
  SEG_ASSERT_OK_AND_ASSIGN(Checkpoint cp, PeekCheckpoint(b_cp));
  cp.root = Sha256("another history");
  SEG_ASSERT_OK_AND_ASSIGN(std::string forged, SignCheckpoint(cp, *b.signer));
  SEG_ASSERT_OK_AND_ASSIGN(std::string forged_cosigned,
                           AddNoteSignature(forged, *a.signer));
  std::string bad_proof = proof;
  char& c = bad_proof[proof.find("\nindex 7\n") - 5];  // in the extra line
  c = c == 'A' ? 'B' : 'A';
  SEG_ASSERT_OK_AND_ASSIGN(
      AuditReport bad,
      ExportAndVerify(tmp, "bad", a, b, {forged_cosigned}, {bad_proof}));
  std::string checks = ChecksOf(bad);
  EXPECT_NE(checks.find("equivocation@30"), std::string::npos) << checks;
  EXPECT_NE(checks.find("peer_evidence"), std::string::npos) << checks;
}

}  // namespace
}  // namespace segledger::tools
