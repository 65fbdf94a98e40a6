// AuditBundle (segaudit verify: the domain graph built from the entries as
// they are verified) against the reference path it replaced: VerifyBundle
// with every body kept, then DomainAuditFindings over BuildDomainGraph of
// the kept contents. Clean and damaged custody bundles, with and without a
// pool: the findings must be the same, in the same order, word for word.
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "ledger/entry_codec.h"
#include "ledger/thread_pool.h"
#include "tests/ledger/domain/adc_scenario.h"
#include "tests/support/test_util.h"
#include "tests/tools/custody_bundle.h"
#include "tools/bundle_layout.h"
#include "tools/bundle_verify.h"
#include "tools/domain_audit.h"
#include "tools/fetcher.h"

namespace segledger::tools {
namespace {

namespace fs = std::filesystem;
using ::segledger::testing::kDown;
using ::segledger::testing::kUp;
using ::segledger::testing::MakeCustodyBundle;
using ::segledger::testing::ReadAll;
using ::segledger::testing::TempDir;

std::string Describe(const AuditReport& r) {
  std::string out;
  for (const AuditFinding& f : r.findings) {
    absl::StrAppend(&out, f.check, " ", SeverityName(f.severity), " ", f.origin,
                    "@", f.index, " ", f.path, ": ", f.detail);
    for (const AuditFinding::Record& rec : f.records) {
      absl::StrAppend(&out, " ", rec.origin, "#", rec.index, "/",
                      rec.leaf_hash[0]);
    }
    absl::StrAppend(&out, "\n");
  }
  return absl::StrCat(out, "as of ", absl::FormatTime(r.domain_as_of));
}

// The path segaudit verify took before AuditBundle.
std::string Reference(const std::string& dir, ThreadPool* pool) {
  auto fetcher = OpenFetcher(dir);
  EXPECT_TRUE(fetcher.ok());
  VerifyOptions vo;
  vo.pool = pool;
  vo.keep_entries = true;
  BundleContents contents;
  absl::StatusOr<AuditReport> report = VerifyBundle(**fetcher, vo, &contents);
  EXPECT_TRUE(report.ok()) << report.status();
  absl::Time as_of;
  std::unique_ptr<domain::DomainGraph> g = BuildDomainGraph(contents, &as_of);
  std::vector<AuditFinding> df =
      DomainAuditFindings(*g, CompleteOrigins(contents), as_of);
  report->domain_as_of = as_of;
  report->findings.insert(report->findings.end(), df.begin(), df.end());
  return Describe(*report);
}

std::string Streamed(const std::string& dir, ThreadPool* pool) {
  auto fetcher = OpenFetcher(dir);
  EXPECT_TRUE(fetcher.ok());
  VerifyOptions vo;
  vo.pool = pool;
  absl::StatusOr<AuditReport> report = AuditBundle(**fetcher, vo);
  EXPECT_TRUE(report.ok()) << report.status();
  return Describe(*report);
}

void FlipByte(const std::string& path, size_t from_end) {
  std::string data = ReadAll(path);
  ASSERT_GT(data.size(), from_end);
  data[data.size() - 1 - from_end] ^= 0x01;
  std::ofstream(path, std::ios::binary | std::ios::trunc) << data;
}

struct Damage {
  std::string name;
  std::function<void(const std::string& bundle)> apply;
  bool bundle_findings;  // findings besides the domain ones
};

std::vector<Damage> Damages() {
  const std::string up = LogDirName(kUp), down = LogDirName(kDown);
  return {
      {"clean", [](const std::string&) {}, false},
      // A signature fails; the domain layer still sees the entry.
      {"up_signature_flipped",
       [up](const std::string& b) {
         FlipByte(b + "/" + up + "/signatures/000.p/3", 70);
       },
       true},
      // up's entries unreadable: the receipt at down names a dispatch the
      // bundle no longer holds (a domain finding) besides the bundle ones.
      {"up_entries_missing",
       [up](const std::string& b) {
         fs::remove(b + "/" + up + "/tile/entries/000.p/3");
       },
       true},
      {"down_body_flipped",
       [down](const std::string& b) {
         FlipByte(b + "/" + down + "/tile/entries/000.p/2", 3);
       },
       true},
      {"down_tile_missing",
       [down](const std::string& b) {
         fs::remove(b + "/" + down + "/tile/0/000.p/2");
       },
       true},
  };
}

TEST(AuditBundle, SameFindingsAsVerifyThenBuildDomainGraph) {
  TempDir tmp;
  ASSERT_NO_FATAL_FAILURE(MakeCustodyBundle(tmp));
  ThreadPool pool(2);
  for (const Damage& d : Damages()) {
    SCOPED_TRACE(d.name);
    const std::string copy = tmp.Sub(d.name);
    fs::copy(tmp.Sub("bundle"), copy, fs::copy_options::recursive);
    d.apply(copy);
    const std::string want = Reference(copy, nullptr);
    // The custody records themselves give domain findings (late records,
    // no QA release): the domain path is exercised in every case.
    EXPECT_NE(want.find("domain/"), std::string::npos) << want;
    EXPECT_EQ(want.find("domain/") != 0, d.bundle_findings) << want;
    EXPECT_EQ(Streamed(copy, nullptr), want);
    EXPECT_EQ(Streamed(copy, &pool), want);
    EXPECT_EQ(Reference(copy, &pool), want);
  }
}

TEST(AuditBundle, FillsContentsWithoutBodies) {
  TempDir tmp;
  ASSERT_NO_FATAL_FAILURE(MakeCustodyBundle(tmp));
  SEG_ASSERT_OK_AND_ASSIGN(auto fetcher, OpenFetcher(tmp.Sub("bundle")));
  VerifyOptions vo;
  std::vector<std::pair<std::string, uint64_t>> seen;
  vo.on_entry = [&seen](const std::string& origin, uint64_t index, const Hash&,
                        v1::EntryBody*) { seen.emplace_back(origin, index); };
  BundleContents contents;
  SEG_ASSERT_OK_AND_ASSIGN(AuditReport report,
                           AuditBundle(*fetcher, vo, &contents));
  for (const AuditFinding& f : report.findings) {
    EXPECT_EQ(f.check.rfind("domain/", 0), 0u) << Describe(report);
  }
  ASSERT_EQ(contents.logs.size(), 2u);
  EXPECT_TRUE(contents.logs[0].bodies.empty());
  EXPECT_EQ(contents.logs[0].leaf_hashes.size(), 3u);
  // The caller's own sink sees every entry, per log in index order.
  std::vector<std::pair<std::string, uint64_t>> want = {
      {kUp, 0}, {kUp, 1}, {kUp, 2}, {kDown, 0}, {kDown, 1}};
  EXPECT_EQ(seen, want);
}

// segaudit judges deadlines at the latest record of the bundle (not at
// "never", which hid every dispatch_not_received offline): a dispatch with
// no receipt past its deadline is reported, with every record involved.
TEST(DomainAuditFindings, DispatchNeverReceivedIsJudgedAtTheBundlesTime) {
  domain::testing::AdcChain chain(domain::testing::Defect::kNeverReceived,
                                  /*enforce=*/false);
  SEG_ASSERT_OK(chain.Build());
  // The MAH's log goes on well past T5's deadline.
  SEG_ASSERT_OK(
      chain.mah()
          .Append(chain.PartyReg(chain.mah().party(), v1::PARTY_ROLE_MAH,
                                 domain::testing::Date(2020, 1, 1)),
                  domain::testing::T(400))
          .status());
  domain::DomainGraph g = chain.Graph();
  BundleTime time;
  std::set<std::string> complete;
  for (domain::testing::Log* log : chain.logs()) {
    complete.insert(log->party().origin);
    for (const auto& e : log->entries()) {
      SEG_ASSERT_OK_AND_ASSIGN(v1::EntryBody body, ParseEntryBody(e.body));
      time.Add(body);
    }
  }
  EXPECT_EQ(time.Get(), domain::testing::T(400));
  std::vector<AuditFinding> found =
      DomainAuditFindings(g, complete, time.Get());
  std::vector<const AuditFinding*> missing;
  for (const AuditFinding& f : found) {
    if (f.check == "domain/dispatch_not_received") missing.push_back(&f);
  }
  ASSERT_EQ(missing.size(), 1u);
  EXPECT_NE(missing[0]->detail.find("T5"), std::string::npos);
  ASSERT_EQ(missing[0]->records.size(), 1u);
  const AuditFinding::Record& r = missing[0]->records[0];
  EXPECT_EQ(r.origin, missing[0]->origin);
  EXPECT_EQ(static_cast<int64_t>(r.index), missing[0]->index);
  const domain::GraphEntry* e = g.Find(r.origin, r.index);
  ASSERT_NE(e, nullptr);
  EXPECT_TRUE(e->body.record().has_dispatch());
  EXPECT_EQ(r.leaf_hash, e->leaf_hash);

  // Judged before the deadline, the same bundle has no such finding.
  for (const AuditFinding& f :
       DomainAuditFindings(g, complete, domain::testing::T(70))) {
    EXPECT_NE(f.check, "domain/dispatch_not_received") << f.detail;
  }
}

}  // namespace
}  // namespace segledger::tools
