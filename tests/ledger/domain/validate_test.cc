// Field validation: one mutation per case, each refused with the field path.
#include "ledger/domain/validate.h"

#include <functional>

#include "gtest/gtest.h"
#include "tests/ledger/domain/adc_scenario.h"
#include "tests/support/test_util.h"

namespace segledger::domain {
namespace {

using ::segledger::testing::IsOk;
using ::segledger::testing::StatusIs;
using testing::AdcChain;
using testing::Lot;
using testing::Q;
using testing::T;

v1::Record ValidDispatch(AdcChain& c) {
  return c.Ship(c.down().party(), c.fill().party(), "T3", "C3", Lot("DS001"),
                Q("4", "KGM"), testing::Range(-8000, -6000), T(64), T(76));
}

struct Case {
  const char* name;
  std::function<void(v1::Dispatch&)> mutate;
  const char* error;
};

// HeaderOf names the header of whichever arm is set (its fast path lists
// the arms by hand): the "header" field of every domain arm, none for the
// key records.
TEST(ValidateTest, HeaderOfEveryArm) {
  const auto* oneof = v1::Record::descriptor()->FindOneofByName("kind");
  for (int i = 0; i < oneof->field_count(); ++i) {
    const google::protobuf::FieldDescriptor* f = oneof->field(i);
    v1::Record r;
    google::protobuf::Message* arm = r.GetReflection()->MutableMessage(&r, f);
    const auto* header = arm->GetDescriptor()->FindFieldByName("header");
    if (f->number() < 10) {
      EXPECT_EQ(HeaderOf(r), nullptr) << f->name();
      continue;
    }
    ASSERT_NE(header, nullptr) << f->name();
    EXPECT_EQ(HeaderOf(r), &arm->GetReflection()->GetMessage(*arm, header))
        << f->name();
  }
  EXPECT_EQ(HeaderOf(v1::Record()), nullptr);
}

TEST(ValidateTest, DispatchMutationsNameTheField) {
  AdcChain chain;
  const Case cases[] = {
      {"seal",
       [](v1::Dispatch& d) { d.mutable_containers(0)->set_seal_ids(0, ""); },
       "dispatch.containers[0].seal_ids[0]: empty"},
      {"no-seals",
       [](v1::Dispatch& d) { d.mutable_containers(0)->clear_seal_ids(); },
       "dispatch.containers[0].seal_ids: empty"},
      {"lot-id",
       [](v1::Dispatch& d) { d.mutable_containers(0)->set_lot_id("lot 1"); },
       "dispatch.containers[0].lot_id: 'lot 1' is not a valid identifier"},
      {"quantity",
       [](v1::Dispatch& d) {
         d.mutable_containers(0)->mutable_quantity()->set_value("1,5");
       },
       "dispatch.containers[0].quantity.value"},
      {"unit",
       [](v1::Dispatch& d) {
         d.mutable_containers(0)->mutable_quantity()->set_unit("KG");
       },
       "dispatch.containers[0].quantity.unit"},
      {"temperature",
       [](v1::Dispatch& d) {
         d.mutable_required_temperature()->set_min_centi_celsius(900);
       },
       "dispatch.required_temperature: min above max"},
      {"doc-hash",
       [](v1::Dispatch& d) {
         d.mutable_header()->mutable_documents(0)->set_sha256("short");
       },
       "dispatch.header.documents[0].sha256: must be 32 bytes"},
      {"signature",
       [](v1::Dispatch& d) { d.mutable_header()->clear_signatures(); },
       "dispatch.header.signatures: empty"},
      {"signer-name",
       [](v1::Dispatch& d) {
         d.mutable_header()->mutable_signatures(0)->clear_printed_name();
       },
       "dispatch.header.signatures[0].printed_name: empty"},
      {"meaning",
       [](v1::Dispatch& d) {
         d.mutable_header()->mutable_signatures(0)->set_meaning(
             v1::SIGNATURE_MEANING_UNSPECIFIED);
       },
       "dispatch.header.signatures[0].meaning: unspecified"},
      {"offset",
       [](v1::Dispatch& d) {
         d.mutable_header()->mutable_event_time()->set_utc_offset_minutes(900);
       },
       "dispatch.header.event_time.utc_offset_minutes"},
      {"event-time",
       [](v1::Dispatch& d) { d.mutable_header()->clear_event_time(); },
       "dispatch.header.event_time: missing"},
      {"planned", [](v1::Dispatch& d) { d.clear_planned_arrival(); },
       "dispatch.planned_arrival: missing"},
      {"duplicate-container",
       [](v1::Dispatch& d) { *d.add_containers() = d.containers(0); },
       "dispatch.containers[1]: duplicate 'C3'"},
      {"to-self",
       [](v1::Dispatch& d) { d.set_to_site_id(d.header().site_id()); },
       "dispatch.to_site_id: same as the dispatching site"},
      {"site", [](v1::Dispatch& d) { d.mutable_header()->clear_site_id(); },
       "dispatch.header.site_id: empty"},
  };
  v1::Record valid = ValidDispatch(chain);
  EXPECT_THAT(ValidateRecord(valid), IsOk());
  for (const Case& c : cases) {
    v1::Record r = valid;
    c.mutate(*r.mutable_dispatch());
    EXPECT_THAT(ValidateRecord(r),
                StatusIs(absl::StatusCode::kInvalidArgument, c.error))
        << c.name;
  }
}

TEST(ValidateTest, ChainRecordsAreValidAndKeyRecordsPass) {
  AdcChain chain;
  SEG_ASSERT_OK(chain.Build());
  size_t n = 0;
  for (auto* log : chain.logs()) {
    for (const auto& e : log->entries()) {
      EXPECT_THAT(ValidateRecord(e.parsed.record()), IsOk());
      ++n;
    }
  }
  EXPECT_GT(n, 40u);
  EXPECT_THAT(ValidateRecord(v1::Record()),
              StatusIs(absl::StatusCode::kInvalidArgument, "record: empty"));
}

TEST(ValidateTest, OtherRecordsCrossFieldChecks) {
  AdcChain chain;
  v1::Record party = chain.PartyReg(chain.up().party(), v1::PARTY_ROLE_CMO,
                                    testing::Date(2015, 1, 1));
  EXPECT_THAT(ValidateRecord(party), IsOk());
  party.mutable_party_registration()->set_unified_social_credit_code(
      "91310000MA1K000000");
  if (ValidateRecord(party).ok()) {  // the check char happened to be '0'
    party.mutable_party_registration()->set_unified_social_credit_code(
        "91310000MA1K00000Y");
  }
  EXPECT_THAT(ValidateRecord(party),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "party_registration.unified_social_credit_code"));
  v1::Record site = chain.SiteReg(chain.up().party(), {"upstream"},
                                  testing::Date(2020, 1, 1));
  EXPECT_THAT(ValidateRecord(site),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "site_registration.authorisations[0].validity.until: "
                       "before from"));
  v1::Record tr = chain.Transform(
      chain.up().party(), "upstream", {{Lot("MCB001"), Q("1", "H87")}},
      Lot("MCB001"), testing::Material("harvest"), Q("1", "LTR"), T(1), T(2));
  EXPECT_THAT(ValidateRecord(tr),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "transformation.inputs[0].lot_id: also an output"));
  v1::Record link;
  auto* l = link.mutable_trace_code_link();
  *l->mutable_header() = testing::Header(chain.fill().party(), T(1));
  l->set_lot_id(Lot("DP001"));
  auto* range = l->add_ranges();
  range->set_first("10000000000000000009");
  range->set_last("10000000000000000001");
  EXPECT_THAT(ValidateRecord(link),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "trace_code_link.ranges[0].last: before first"));
}

// The field path is built only for an error (validate.cc): whole messages,
// with list indexes past 0 at two levels and typed checks inside lists.
TEST(ValidateTest, ExactPathsDeepInLists) {
  AdcChain chain;
  v1::Record valid = ValidDispatch(chain);
  v1::Dispatch& d = *valid.mutable_dispatch();
  for (int i = 1; i <= 2; ++i) {
    v1::ShipmentContainer c = d.containers(0);
    c.set_container_id(absl::StrCat("C3-", i));
    c.add_seal_ids(absl::StrCat("SEAL-", i));
    *d.add_containers() = c;
  }
  ASSERT_THAT(ValidateRecord(valid), IsOk());
  struct Exact {
    std::function<void(v1::Dispatch&)> mutate;
    std::string message;
  };
  const Exact cases[] = {
      {[](v1::Dispatch& x) { x.mutable_containers(2)->set_seal_ids(1, ""); },
       "dispatch.containers[2].seal_ids[1]: empty"},
      {[](v1::Dispatch& x) {
         x.mutable_containers(1)->mutable_quantity()->set_unit("");
       },
       "dispatch.containers[1].quantity.unit: empty"},
      {[](v1::Dispatch& x) {
         x.mutable_header()->mutable_signatures(0)->clear_signed_at();
       },
       "dispatch.header.signatures[0].signed_at: missing"},
      {[](v1::Dispatch& x) {
         x.mutable_header()->mutable_event_time()->set_utc_offset_minutes(900);
       },
       "dispatch.header.event_time.utc_offset_minutes: 900 outside -840..840"},
      {[](v1::Dispatch& x) { x.mutable_planned_arrival()->set_nanos(-1); },
       "dispatch.planned_arrival: timestamp out of range"},
  };
  for (const Exact& c : cases) {
    v1::Record r = valid;
    c.mutate(*r.mutable_dispatch());
    absl::Status st = ValidateRecord(r);
    EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << c.message;
    EXPECT_EQ(st.message(), c.message);
  }
  v1::Stage stage = testing::MakeStage(
      "fill", "dp", v1::MATERIAL_KIND_DRUG_PRODUCT, chain.fill().party().site,
      testing::Range(200, 800), 48);
  ASSERT_THAT(ValidateMessage(stage, "stages[1]"), IsOk());
  stage.set_yield_min_percent("5%");
  absl::Status st = ValidateMessage(stage, "product_registration.stages[1]");
  EXPECT_THAT(st, StatusIs(absl::StatusCode::kInvalidArgument,
                           "product_registration.stages[1].yield_min_percent"));
}

}  // namespace
}  // namespace segledger::domain
