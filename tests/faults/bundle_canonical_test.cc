// Regression tests for the tampers scripts/tamper-loop.sh found that
// `segaudit verify` accepted (tools/bundle_verify.cc): a keys file with its
// lines reordered, a blank line or no final newline, and a MANIFEST not in
// the exporter's exact form. Verified in process (VerifyBundle over a
// directory fetcher); the untouched bundle has no findings.
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "tests/support/test_util.h"
#include "tests/tools/bundle_test_util.h"
#include "tools/bundle_verify.h"
#include "tools/bundle_writer.h"
#include "tools/fetcher.h"
#include "tools/store_source.h"

namespace segledger::tools {
namespace {

namespace fs = std::filesystem;
using ::segledger::testing::MakeTestLog;
using ::segledger::testing::ReadAll;
using ::segledger::testing::TempDir;
using ::segledger::testing::TestLog;

void WriteAll(const std::string& path, const std::string& data) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << data;
}

std::string Checks(const AuditReport& r) {
  std::string out;
  for (const AuditFinding& f : r.findings) {
    absl::StrAppend(&out, f.check, "@", f.index, " ", f.path, ": ", f.detail,
                    "\n");
  }
  return out;
}

// Two logs (three verifier keys after a rotation in the first), a
// cosignature and an evidence line, so keys and MANIFEST have several lines
// of several kinds.
class BundleCanonicalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto a = MakeTestLog(tmp_.Sub("a"), "a.example/log", 20, 20, 100);
    ASSERT_TRUE(a.ok()) << a.status();
    auto b = MakeTestLog(tmp_.Sub("b"), "b.example/log", 10, 10, 100);
    ASSERT_TRUE(b.ok()) << b.status();
    ASSERT_TRUE(a->store->CheckpointNow().ok());
    ASSERT_TRUE(b->store->CheckpointNow().ok());
    // b's checkpoint cosigned by a's key.
    auto b_note = b->store->LatestCheckpoint();
    ASSERT_TRUE(b_note.ok());
    auto cosigned = AddNoteSignature(*b_note, *a->signer);
    ASSERT_TRUE(cosigned.ok());
    StoreExportSource sa(a->store.get());
    ::segledger::testing::WithExtras sb(b->store.get(), {*cosigned}, {});
    std::vector<LogExportSource*> logs = {&sa, &sb};
    ASSERT_TRUE(WriteBundle(logs, tmp_.Sub("bundle")).ok());
  }

  // Verifies a copy of the bundle with `damage` applied.
  AuditReport VerifyDamaged(
      const std::function<void(const std::string&)>& damage) {
    std::string copy = tmp_.Sub(absl::StrCat("copy-", n_++));
    fs::copy(tmp_.Sub("bundle"), copy, fs::copy_options::recursive);
    damage(copy);
    auto f = OpenFetcher(copy);
    EXPECT_TRUE(f.ok());
    auto r = VerifyBundle(**f, VerifyOptions());
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : AuditReport();
  }

  TempDir tmp_;
  int n_ = 0;
};

TEST_F(BundleCanonicalTest, UntouchedBundleHasNoFindings) {
  AuditReport r = VerifyDamaged([](const std::string&) {});
  EXPECT_EQ(r.CountAtLeast(Severity::kWarning), 0u) << Checks(r);
}

TEST_F(BundleCanonicalTest, KeysFileMustStaySortedWithFinalNewline) {
  std::string keys = ReadAll(tmp_.Sub("bundle") + "/keys");
  std::vector<std::string> lines =
      absl::StrSplit(keys, '\n', absl::SkipEmpty());
  ASSERT_GE(lines.size(), 2u) << keys;
  struct Case {
    const char* name;
    std::string text;
  };
  std::string swapped = absl::StrCat(lines[1], "\n", lines[0], "\n");
  for (size_t i = 2; i < lines.size(); ++i) {
    absl::StrAppend(&swapped, lines[i], "\n");
  }
  for (const Case& c :
       {Case{"swapped", swapped}, Case{"blank line", "\n" + keys},
        Case{"no final newline", keys.substr(0, keys.size() - 1)},
        Case{"duplicate", keys + lines.back() + "\n"}}) {
    AuditReport r = VerifyDamaged(
        [&](const std::string& dir) { WriteAll(dir + "/keys", c.text); });
    EXPECT_GE(r.CountAtLeast(Severity::kWarning), 1u) << c.name;
    EXPECT_NE(Checks(r).find("key_invalid"), std::string::npos)
        << c.name << ": " << Checks(r);
  }
}

TEST_F(BundleCanonicalTest, ManifestMustBeInTheExportersForm) {
  std::string m = ReadAll(tmp_.Sub("bundle") + "/MANIFEST");
  for (const std::string& text :
       {m + "\n", m.substr(0, m.size() - 1),
        std::string(absl::StrReplaceAll(m, {{" ", "  "}}))}) {
    AuditReport r = VerifyDamaged(
        [&](const std::string& dir) { WriteAll(dir + "/MANIFEST", text); });
    EXPECT_NE(Checks(r).find("manifest"), std::string::npos)
        << text << ": " << Checks(r);
  }
}

// A MANIFEST cut at the end of a line still parses: what it no longer
// lists (the cosignature, then log b) must not escape the check (found by
// scripts/tamper-loop.sh: "truncate MANIFEST", verify exit 0).
TEST_F(BundleCanonicalTest, ManifestCutAtALineEndHidesNothing) {
  const std::string m = ReadAll(tmp_.Sub("bundle") + "/MANIFEST");
  std::vector<std::string> lines = absl::StrSplit(m, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 4u) << m;  // magic, log a, log b, cosignature
  for (size_t keep : {3u, 2u}) {
    std::string cut;
    for (size_t i = 0; i < keep; ++i) absl::StrAppend(&cut, lines[i], "\n");
    AuditReport r = VerifyDamaged(
        [&](const std::string& dir) { WriteAll(dir + "/MANIFEST", cut); });
    EXPECT_GE(r.CountAtLeast(Severity::kMajor), 1u) << cut << Checks(r);
    EXPECT_NE(Checks(r).find("does not list"), std::string::npos)
        << cut << Checks(r);
  }
}

// A cosignature whose cosigner line no longer names a known key (one byte
// of the name deleted: found by scripts/tamper-loop.sh) shows nobody else
// signed: a finding, not an "unknown key" note.
TEST_F(BundleCanonicalTest, CosignatureByNoKnownCosignerIsAFinding) {
  AuditReport r = VerifyDamaged([](const std::string& dir) {
    std::string manifest = ReadAll(dir + "/MANIFEST");
    const std::string tag = "cosignature ";
    size_t at = manifest.find(tag);
    ASSERT_NE(at, std::string::npos);
    std::string rel = manifest.substr(
        at + tag.size(), manifest.find('\n', at) - at - tag.size());
    std::string note = ReadAll(dir + "/" + rel);
    size_t name = note.find("\u2014 a.example");
    ASSERT_NE(name, std::string::npos) << note;
    note.erase(name + std::string("\u2014 a.exam").size(), 1);  // "a.exame"
    WriteAll(dir + "/" + rel, note);
  });
  EXPECT_GE(r.CountAtLeast(Severity::kWarning), 1u) << Checks(r);
  EXPECT_NE(Checks(r).find("nothing cosigned it"), std::string::npos)
      << Checks(r);
}

}  // namespace
}  // namespace segledger::tools
