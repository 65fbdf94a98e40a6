// segaudit epcis on a two-log bundle with production, dispatch, receipt,
// transformation and aggregation records; the output is validated against
// GS1's EPCIS 2.0 JSON Schema (shared/standards) with python3-jsonschema.
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "ledger/hash.h"
#include "tests/support/test_util.h"
#include "tests/tools/bundle_test_util.h"
#include "tests/tools/custody_bundle.h"
#include "tools/bundle_writer.h"
#include "tools/store_source.h"

namespace segledger::tools {
namespace {

using ::segledger::testing::MakeTestLog;
using ::segledger::testing::ReadAll;
using ::segledger::testing::RunResult;
using ::segledger::testing::RunSegaudit;
using ::segledger::testing::TempDir;
using ::segledger::testing::TestLog;

using ::segledger::testing::MakeCustodyBundle;

TEST(Epcis, DocumentValidatesAgainstGs1Schema) {
  TempDir tmp;
  ASSERT_NO_FATAL_FAILURE(MakeCustodyBundle(tmp));
  RunResult res = RunSegaudit(
      absl::StrCat("epcis ", tmp.Sub("bundle"), " --out ", tmp.Sub("e.jsonld")),
      tmp.path());
  ASSERT_EQ(res.exit_code, 0) << res.err;
  std::string doc = ReadAll(tmp.Sub("e.jsonld"));
  EXPECT_NE(doc.find("\"bizStep\":\"shipping\""), std::string::npos) << doc;
  EXPECT_NE(doc.find("\"uom\":\"KGM\""), std::string::npos) << doc;
  std::string cmd =
      absl::StrCat("/usr/bin/python3 ", SEGLEDGER_TESTDATA_DIR,
                   "/../tools/validate_epcis.py ", SEGLEDGER_TESTDATA_DIR,
                   "/../../../shared/standards/epcis/EPCIS-JSON-Schema.json ",
                   tmp.Sub("e.jsonld"),
                   " ObjectEvent TransformationEvent AggregationEvent 2>",
                   tmp.Sub("py.txt"));
  int rc = std::system(cmd.c_str());
  EXPECT_EQ(rc, 0) << ReadAll(tmp.Sub("py.txt")) << "\n" << doc;

  // The validator can fail: a document with a bad uom is rejected.
  std::string bad = doc;
  bad.replace(bad.find("\"uom\":\"KGM\""), 11, "\"uom\":\"kg!\"");
  std::FILE* f = std::fopen(tmp.Sub("bad.jsonld").c_str(), "w");
  std::fwrite(bad.data(), 1, bad.size(), f);
  std::fclose(f);
  cmd = absl::StrCat("/usr/bin/python3 ", SEGLEDGER_TESTDATA_DIR,
                     "/../tools/validate_epcis.py ", SEGLEDGER_TESTDATA_DIR,
                     "/../../../shared/standards/epcis/EPCIS-JSON-Schema.json ",
                     tmp.Sub("bad.jsonld"), " 2>/dev/null");
  EXPECT_NE(std::system(cmd.c_str()), 0);
}

}  // namespace
}  // namespace segledger::tools
