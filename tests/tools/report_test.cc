// segaudit report: the HTML report of a custody bundle rendered by
// headless Chromium (Debian's package).
#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "ledger/tiles.h"
#include "ledger/verifier.h"
#include "tests/support/test_util.h"
#include "tests/tools/bundle_test_util.h"
#include "tests/tools/custody_bundle.h"

namespace segledger::tools {
namespace {

using ::segledger::testing::MakeCustodyBundle;
using ::segledger::testing::ReadAll;
using ::segledger::testing::RunResult;
using ::segledger::testing::RunSegaudit;
using ::segledger::testing::TempDir;

// The HTML report rendered by headless Chromium (Debian's package): the
// page shows both lots, its script ran, and the console has no errors.
TEST(Report, RendersInHeadlessChromium) {
  TempDir tmp;
  ASSERT_NO_FATAL_FAILURE(MakeCustodyBundle(tmp));
  RunResult res = RunSegaudit(
      absl::StrCat("report ", tmp.Sub("bundle"), " --html ", tmp.Sub("r.html")),
      tmp.path());
  ASSERT_EQ(res.exit_code, 0) << res.err;
  std::string html = ReadAll(tmp.Sub("r.html"));
  EXPECT_NE(html.find("<svg"), std::string::npos) << "custody graph missing";
  EXPECT_EQ(html.find("src=\"http"), std::string::npos) << "external fetch";
  EXPECT_NE(html.find("Li Wei"), std::string::npos) << "no manifestation";
  const char* env_shot = std::getenv("SEGAUDIT_REPORT_SCREENSHOT");
  const std::string shot =
      env_shot != nullptr ? env_shot : tmp.Sub("report.png");
  const std::string flags = absl::StrCat(
      "--headless --no-sandbox --disable-gpu --disable-background-networking "
      "--disable-component-update --no-first-run --user-data-dir=",
      tmp.Sub("chrome"), " --enable-logging=stderr --v=0 ");
  std::string cmd =
      absl::StrCat("chromium ", flags, "--dump-dom file://", tmp.Sub("r.html"),
                   " >", tmp.Sub("dom.html"), " 2>", tmp.Sub("console.txt"));
  ASSERT_EQ(std::system(cmd.c_str()), 0) << ReadAll(tmp.Sub("console.txt"));
  std::string dom = ReadAll(tmp.Sub("dom.html"));
  EXPECT_NE(dom.find("data-rendered=\"2\""), std::string::npos) << dom;
  EXPECT_NE(dom.find("Lot DS-001"), std::string::npos);
  EXPECT_NE(dom.find("Lot DP-001"), std::string::npos);
  std::string console = ReadAll(tmp.Sub("console.txt"));
  EXPECT_EQ(console.find("CONSOLE"), std::string::npos) << console;
  EXPECT_EQ(console.find("Uncaught"), std::string::npos) << console;
  cmd = absl::StrCat("chromium ", flags,
                     "--window-size=1280,1600 --screenshot=", shot, " file://",
                     tmp.Sub("r.html"), " >/dev/null 2>&1");
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  EXPECT_GT(ReadAll(shot).size(), 1000u);
}

// Regression: report exited 0 on a bundle that fails verification, while
// epcis on the same bundle exits 1. Both now write their output and exit
// 1; the report shows the failure.
TEST(Report, ExitsOneWhenTheBundleFailsVerification) {
  TempDir tmp;
  ASSERT_NO_FATAL_FAILURE(MakeCustodyBundle(tmp));
  RunResult clean = RunSegaudit(absl::StrCat("report ", tmp.Sub("bundle"),
                                             " --html ", tmp.Sub("ok.html")),
                                tmp.path());
  EXPECT_EQ(clean.exit_code, 0) << clean.err;
  // One byte of an entry signature of the "up" log.
  std::string sigs = tmp.Sub("bundle/" + LogDirName(::segledger::testing::kUp) +
                             "/signatures/000.p/3");
  std::string data = ReadAll(sigs);
  ASSERT_EQ(data.size(), 3u * 64);
  data[5] ^= 0x01;
  std::ofstream(sigs, std::ios::binary | std::ios::trunc) << data;

  RunResult res = RunSegaudit(
      absl::StrCat("report ", tmp.Sub("bundle"), " --html ", tmp.Sub("r.html")),
      tmp.path());
  EXPECT_EQ(res.exit_code, 1) << res.err;
  EXPECT_EQ(std::count(res.err.begin(), res.err.end(), '\n'), 1) << res.err;
  std::string html = ReadAll(tmp.Sub("r.html"));
  EXPECT_NE(html.find(std::string(FindingKindName(FindingKind::kBadSignature))),
            std::string::npos)
      << "report does not show the failure";
  RunResult epcis = RunSegaudit(
      absl::StrCat("epcis ", tmp.Sub("bundle"), " --out ", tmp.Sub("e.jsonld")),
      tmp.path());
  EXPECT_EQ(epcis.exit_code, 1) << epcis.err;
}

}  // namespace
}  // namespace segledger::tools
