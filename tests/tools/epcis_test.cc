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

constexpr char kUp[] = "up.example/segledger";
constexpr char kDown[] = "down.example/segledger";

v1::RecordHeader Header(const std::string& party, const std::string& site,
                        int64_t t) {
  v1::RecordHeader h;
  h.set_party_id(party);
  h.set_site_id(site);
  h.mutable_event_time()->mutable_time()->set_seconds(t);
  h.mutable_event_time()->set_utc_offset_minutes(480);
  v1::Actor* a = h.add_signatures();
  a->set_person_id("op1");
  a->set_printed_name("Li Wei");
  return h;
}

void SetQ(v1::Quantity* q, const char* value, const char* unit) {
  q->set_value(value);
  q->set_unit(unit);
}

absl::StatusOr<std::vector<store::AppendResult>> Append(
    store::LogStore& s, std::vector<v1::Record> records) {
  std::vector<store::AppendRecord> recs;
  for (v1::Record& r : records) {
    store::AppendRecord a;
    a.actor.set_person_id("op1");
    a.record = std::move(r);
    recs.push_back(std::move(a));
  }
  return s.Append(std::move(recs));
}

// Writes a two-log custody bundle to tmp/bundle (stores in tmp/up, tmp/down).
void MakeCustodyBundle(const TempDir& tmp) {
  SEG_ASSERT_OK_AND_ASSIGN(TestLog up,
                           MakeTestLog(tmp.Sub("up"), kUp, 0, 1, 1000));
  SEG_ASSERT_OK_AND_ASSIGN(TestLog down,
                           MakeTestLog(tmp.Sub("down"), kDown, 0, 1, 1000));
  std::vector<v1::Record> ur(3);
  v1::LotProduced* lp = ur[0].mutable_lot_produced();
  *lp->mutable_header() = Header("P-UP", "S-UP", 1700000000);
  lp->set_lot_id("DS-001");
  lp->set_product_id("PRD-1");
  lp->set_material_id("DS");
  lp->set_stage_id("upstream");
  SetQ(lp->mutable_quantity(), "12.5", "KGM");
  v1::Dispatch* d = ur[1].mutable_dispatch();
  *d->mutable_header() = Header("P-UP", "S-UP", 1700003600);
  d->set_transfer_id("T-1");
  d->set_to_site_id("S-DN");
  d->set_to_party_id("P-DN");
  d->set_owner_party_id("MAH");
  v1::ShipmentContainer* c = d->add_containers();
  c->set_container_id("C1");
  c->set_lot_id("DS-001");
  SetQ(c->mutable_quantity(), "12.5", "KGM");
  c->add_seal_ids("SEAL-1");
  v1::TraceCodeLink* tl = ur[2].mutable_trace_code_link();
  *tl->mutable_header() = Header("P-UP", "S-UP", 1700007200);
  tl->set_lot_id("DS-001");
  v1::Aggregation* ag = tl->add_aggregations();
  ag->set_parent_code("81000000000000000001");
  ag->add_child_codes("81000000000000000002");
  SEG_ASSERT_OK_AND_ASSIGN(auto up_res, Append(*up.store, std::move(ur)));

  std::vector<v1::Record> dr(2);
  v1::Receipt* r = dr[0].mutable_receipt();
  *r->mutable_header() = Header("P-DN", "S-DN", 1700090000);
  r->set_transfer_id("T-1");
  r->mutable_dispatch()->set_origin(kUp);
  r->mutable_dispatch()->set_index(up_res[1].index);
  r->mutable_dispatch()->set_leaf_hash(
      std::string(HashBytes(up_res[1].leaf_hash)));
  r->mutable_arrival()->set_seconds(1700090000);
  v1::ContainerCheck* cc = r->add_containers();
  cc->set_container_id("C1");
  cc->set_lot_id("DS-001");
  SetQ(cc->mutable_received_quantity(), "12.5", "KGM");
  v1::Transformation* t = dr[1].mutable_transformation();
  *t->mutable_header() = Header("P-DN", "S-DN", 1700100000);
  t->set_transformation_id("X-1");
  t->set_product_id("PRD-1");
  t->set_stage_id("formulation");
  v1::TransformationInput* in = t->add_inputs();
  in->set_lot_id("DS-001");
  SetQ(in->mutable_quantity(), "12.5", "KGM");
  v1::TransformationOutput* out = t->add_outputs();
  out->set_lot_id("DP-001");
  out->set_material_id("DP");
  SetQ(out->mutable_quantity(), "40", "LTR");
  SEG_ASSERT_OK(Append(*down.store, std::move(dr)).status());
  SEG_ASSERT_OK(up.store->Close());
  SEG_ASSERT_OK(down.store->Close());

  StoreExportSource us(up.store.get()), ds(down.store.get());
  std::vector<LogExportSource*> logs = {&us, &ds};
  SEG_ASSERT_OK(WriteBundle(logs, tmp.Sub("bundle")));
}

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
      absl::StrCat("python3 ", SEGLEDGER_TESTDATA_DIR,
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
  cmd = absl::StrCat("python3 ", SEGLEDGER_TESTDATA_DIR,
                     "/../tools/validate_epcis.py ", SEGLEDGER_TESTDATA_DIR,
                     "/../../../shared/standards/epcis/EPCIS-JSON-Schema.json ",
                     tmp.Sub("bad.jsonld"), " 2>/dev/null");
  EXPECT_NE(std::system(cmd.c_str()), 0);
}

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

}  // namespace
}  // namespace segledger::tools
