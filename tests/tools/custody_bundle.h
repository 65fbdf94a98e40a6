// A two-log custody bundle for EPCIS and report tests: production,
// dispatch, trace-code aggregation at "up", receipt and transformation at
// "down". Header-only; thread-compatible.
#ifndef SEGLEDGER_TESTS_TOOLS_CUSTODY_BUNDLE_H_
#define SEGLEDGER_TESTS_TOOLS_CUSTODY_BUNDLE_H_

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "ledger/hash.h"
#include "tests/support/test_util.h"
#include "tests/tools/bundle_test_util.h"
#include "tools/bundle_writer.h"
#include "tools/store_source.h"

namespace segledger::testing {

inline constexpr char kUp[] = "up.example/segledger";
inline constexpr char kDown[] = "down.example/segledger";

inline v1::RecordHeader Header(const std::string& party,
                               const std::string& site, int64_t t) {
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

inline void SetQ(v1::Quantity* q, const char* value, const char* unit) {
  q->set_value(value);
  q->set_unit(unit);
}

inline absl::StatusOr<std::vector<store::AppendResult>> Append(
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
inline void MakeCustodyBundle(const TempDir& tmp) {
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

  tools::StoreExportSource us(up.store.get()), ds(down.store.get());
  std::vector<tools::LogExportSource*> logs = {&us, &ds};
  SEG_ASSERT_OK(tools::WriteBundle(logs, tmp.Sub("bundle")));
}

}  // namespace segledger::testing

#endif  // SEGLEDGER_TESTS_TOOLS_CUSTODY_BUNDLE_H_
