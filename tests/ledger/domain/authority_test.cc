// Who may speak for a product: only its MAH registers its segmentation plan
// (R-PRODUCT-OWNER), and rules and findings read the MAH's plan whatever
// another party wrote into its own log; any party producing a stage of a
// product that is not its MAH is a CMO for R-CMO-EXPERIENCE, whatever role
// it registered itself with; only the MAH releases a lot to market
// (R-MARKET-RELEASE).
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "ledger/domain/graph.h"
#include "ledger/domain/hook.h"
#include "ledger/domain/validate.h"
#include "tests/ledger/domain/adc_scenario.h"
#include "tests/support/test_util.h"

namespace segledger::domain {
namespace {

using ::segledger::testing::StatusIs;
using testing::AdcChain;
using testing::Header;
using testing::Log;
using testing::Lot;
using testing::Q;
using testing::T;

// The MAH's product registration of the chain, re-authored by `author` at
// `t`, with `author`'s site approved for the fill stage.
v1::Record FakePlan(AdcChain& c, const Log& author, absl::Time t) {
  v1::Record r;
  for (const auto& e : c.mah().entries()) {
    if (e.parsed.record().has_product_registration()) r = e.parsed.record();
  }
  auto* p = r.mutable_product_registration();
  *p->mutable_header() =
      Header(author.party(), t, v1::SIGNATURE_MEANING_APPROVED, false);
  p->set_version(2);
  for (auto& s : *p->mutable_stages()) {
    if (s.stage_id() == "fill") s.add_approved_site_ids(author.party().site);
  }
  return r;
}

v1::Record FillSite(AdcChain& c, const Log& log) {
  return c.SiteReg(log.party(), {"cell-bank", "upstream", "fill"},
                   testing::Date(2027, 12, 31));
}

v1::Record FillLot(AdcChain& c, const Log& log, const std::string& lot,
                   absl::Time t) {
  return c.Produced(log.party(), Lot(lot), "fill", testing::Material("dp"),
                    Q("100", "H87"), t);
}

// Appends `r` to `log` without the hook (what a party whose node skips the
// rules, or a log written before a rule existed, holds), recorded a minute
// after its event time.
void AppendRaw(Log& log, v1::Record r) {
  const absl::Time t = FromProtoTime(HeaderOf(r)->event_time().time());
  log.Store(log.NextBody(std::move(r), t + absl::Minutes(1)));
}

// ---- R-PRODUCT-OWNER at append

TEST(ProductOwnerTest, CmoPlanGrantingItselfAStageIsRefused) {
  AdcChain chain;
  SEG_ASSERT_OK(chain.Build());
  Log& up = chain.up();
  const auto before = up.index().rows();
  const size_t entries = up.entries().size();
  EXPECT_THAT(up.AppendCommitAlways(FakePlan(chain, up, T(150)), T(150)),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       "rule R-PRODUCT-OWNER: product_registration.product_id: "
                       "product " +
                           testing::kProduct + " is registered by party " +
                           chain.mah().party().party));
  EXPECT_TRUE(up.index().rows() == before);
  EXPECT_EQ(up.entries().size(), entries);
  // Its own site registration may claim the stage: the MAH's plan does not
  // approve the site for it.
  SEG_ASSERT_OK(up.Append(FillSite(chain, up), T(150)));
  EXPECT_THAT(up.Append(FillLot(chain, up, "DP900", T(151)), T(151)),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       "rule R-STAGE-AUTH: site " + up.party().site +
                           " is not approved for stage fill"));
}

TEST(ProductOwnerTest, SelfDeclaredMahCannotRegisterTheMahsProduct) {
  AdcChain chain;
  SEG_ASSERT_OK(chain.Build());
  Log& up = chain.up();
  SEG_ASSERT_OK(
      up.Append(chain.PartyReg(up.party(), v1::PARTY_ROLE_MAH, T(0)), T(150)));
  const auto before = up.index().rows();
  EXPECT_THAT(up.AppendCommitAlways(FakePlan(chain, up, T(150)), T(150)),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       "rule R-PRODUCT-OWNER: product_registration.product_id: "
                       "product " +
                           testing::kProduct + " is registered by party " +
                           chain.mah().party().party));
  EXPECT_TRUE(up.index().rows() == before);
}

TEST(ProductOwnerTest, MahRegistersItsPlansAndOnlyARegisteredMahDoes) {
  AdcChain chain;
  SEG_ASSERT_OK(chain.Build());
  // The MAH revises its own plan.
  SEG_ASSERT_OK(
      chain.mah().Append(FakePlan(chain, chain.mah(), T(150)), T(150)));
  // A party with no registration registers nothing; once registered as a
  // MAH, it registers a product of its own.
  Log other(testing::MakeParty("mah2.example", "CN-GD"), &chain.evidence(),
            true);
  v1::Record plan = FakePlan(chain, other, T(150));
  plan.mutable_product_registration()->set_product_id(
      "https://mah2.example/product/glp-1");
  EXPECT_THAT(other.Append(plan, T(150)),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       "rule R-PRODUCT-OWNER: product_registration.header."
                       "party_id: party https://mah2.example/party has no "
                       "party registration"));
  SEG_ASSERT_OK(other.Append(
      chain.PartyReg(other.party(), v1::PARTY_ROLE_MAH, T(0)), T(150)));
  SEG_ASSERT_OK(other.Append(plan, T(151)));
  // A CMO registers no product, not even one no MAH has registered.
  v1::Record own = FakePlan(chain, chain.down(), T(150));
  own.mutable_product_registration()->set_product_id(
      "https://cmo-down.example/product/own");
  EXPECT_THAT(chain.down().Append(own, T(150)),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       "rule R-PRODUCT-OWNER: product_registration.header."
                       "party_id: party https://cmo-down.example/party is "
                       "registered as PARTY_ROLE_CMO"));
}

// A log holding its own product row by a party that is not a MAH (written
// before R-PRODUCT-OWNER, or rebuilt from such a log) no longer overrides
// the MAH's verified plan.
TEST(ProductOwnerTest, OwnRowOfANonMahYieldsToTheMahsVerifiedPlan) {
  AdcChain chain;
  SEG_ASSERT_OK(chain.Build());
  Log& up = chain.up();
  v1::EntryBody b = up.NextBody(FakePlan(chain, up, T(150)), T(150));
  MemoryIndex::Txn txn(&up.index(), up.Leaves());
  SEG_ASSERT_OK(up.hook().Apply(b, txn));
  txn.Commit();
  up.Store(std::move(b));
  SEG_ASSERT_OK(up.Append(FillSite(chain, up), T(150)));
  EXPECT_THAT(up.Append(FillLot(chain, up, "DP900", T(151)), T(151)),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       "rule R-STAGE-AUTH: site " + up.party().site +
                           " is not approved for stage fill"));
}

// ---- the MAH's cross-log view

TEST(ProductOwnerGraphTest, PlanOfANonMahIsIgnored) {
  AdcChain chain;
  SEG_ASSERT_OK(chain.Build());
  Log& up = chain.up();
  AppendRaw(up, FakePlan(chain, up, T(150)));
  AppendRaw(up, FillSite(chain, up));
  AppendRaw(up, FillLot(chain, up, "DP900", T(151)));
  DomainGraph g = chain.Graph();
  auto findings = g.Findings(chain.Options());
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].kind, DomainFindingKind::kUnauthorisedSite);
  EXPECT_EQ(findings[0].message, "stage fill of " + testing::kProduct +
                                     " done at unauthorised site " +
                                     up.party().site);
}

// A party registering itself as a MAH and registering the product after
// the MAH did is not the product's MAH; nor does another log's
// registration "of the MAH" as a CMO demote the MAH.
TEST(ProductOwnerGraphTest, LaterSelfDeclaredMahDoesNotReplaceThePlan) {
  AdcChain chain;
  SEG_ASSERT_OK(chain.Build());
  Log& up = chain.up();
  v1::Record mah = chain.PartyReg(up.party(), v1::PARTY_ROLE_MAH, T(0));
  *mah.mutable_party_registration()->mutable_first_commercial_production() =
      testing::Ts(testing::Date(2015, 1, 1));
  AppendRaw(up, mah);
  v1::Record demote = chain.PartyReg(chain.mah().party(), v1::PARTY_ROLE_CMO,
                                     testing::Date(2024, 1, 1));
  *demote.mutable_party_registration()
       ->mutable_header()
       ->mutable_event_time()
       ->mutable_time() = testing::Ts(T(150));
  AppendRaw(up, demote);
  AppendRaw(up, FakePlan(chain, up, T(150)));
  AppendRaw(up, FillSite(chain, up));
  AppendRaw(up, FillLot(chain, up, "DP900", T(151)));
  DomainGraph g = chain.Graph();
  auto findings = g.Findings(chain.Options());
  std::vector<DomainFindingKind> kinds;
  for (const auto& f : findings) kinds.push_back(f.kind);
  EXPECT_EQ(kinds, std::vector<DomainFindingKind>{
                       DomainFindingKind::kUnauthorisedSite});
}

// A view holding the MAH's product registration but not its party
// registration (a single entry of evidence) still reads that plan: only an
// author registered with another role is ignored.
TEST(ProductOwnerGraphTest, PlanOfAnAuthorNotRegisteredHereStillCounts) {
  AdcChain chain(testing::Defect::kUnauthorisedSite, /*enforce=*/false);
  SEG_ASSERT_OK(chain.Build());
  DomainGraph g;
  for (const auto& e : chain.fill().entries()) {
    SEG_ASSERT_OK(
        g.AddSigned(chain.fill().party().origin, e.body, e.signature, nullptr));
  }
  for (const auto& e : chain.mah().entries()) {
    if (!e.parsed.record().has_product_registration()) continue;
    SEG_ASSERT_OK(
        g.AddSigned(chain.mah().party().origin, e.body, e.signature, nullptr));
  }
  size_t unauthorised = 0;
  for (const auto& f : g.Findings(chain.Options())) {
    unauthorised += f.kind == DomainFindingKind::kUnauthorisedSite;
  }
  EXPECT_EQ(unauthorised, 1u);
}

// ---- R-CMO-EXPERIENCE: producing for another party's product makes a CMO

struct RoleCase {
  std::string name;
  v1::PartyRole role;
  bool with_date;  // a first commercial production in June 2023
};

class CmoByProductionTest : public ::testing::TestWithParam<RoleCase> {};

TEST_P(CmoByProductionTest, RefusedOrFindingWhateverTheRegisteredRole) {
  const RoleCase& rc = GetParam();
  AdcChain chain;
  SEG_ASSERT_OK(chain.Build());
  for (PilotMode mode : {PilotMode::kRefuse, PilotMode::kFinding}) {
    DomainConfig cfg;
    cfg.cmo_experience = mode;
    Log log(chain.up().party(), &chain.evidence(), true, cfg);
    v1::Record reg = chain.PartyReg(log.party(), rc.role, T(0));
    if (rc.with_date) {
      *reg.mutable_party_registration()->mutable_first_commercial_production() =
          testing::Ts(testing::Date(2023, 6, 1));
    }
    SEG_ASSERT_OK(log.Append(reg, T(1)));
    SEG_ASSERT_OK(log.Append(
        chain.SiteReg(log.party(), {"cell-bank"}, testing::Date(2027, 1, 1)),
        T(1)));
    SEG_ASSERT_OK(log.Append(chain.Staff(log.party(), "qa-1"), T(2)));
    SEG_ASSERT_OK(log.Append(chain.Staff(log.party(), "qa-2"), T(2)));
    v1::Record lot =
        chain.Produced(log.party(), Lot("MCB100"), "cell-bank",
                       testing::Material("mcb"), Q("1", "H87"), T(10));
    const auto before = log.index().rows();
    auto ref = log.AppendCommitAlways(lot, T(10));
    const std::string why = rc.with_date
                                ? "under the required 3 years"
                                : "party_registration.first_commercial_"
                                  "production: none registered";
    if (mode == PilotMode::kRefuse) {
      EXPECT_THAT(ref, StatusIs(absl::StatusCode::kFailedPrecondition,
                                "rule R-CMO-EXPERIENCE: "));
      EXPECT_THAT(ref, StatusIs(absl::StatusCode::kFailedPrecondition, why));
      EXPECT_TRUE(log.index().rows() == before);
    } else {
      SEG_ASSERT_OK(ref);
      auto rows = log.index().rows();
      auto it = rows.find(
          absl::StrCat("d/find/", Be64(ref->index()), "/R-CMO-EXPERIENCE"));
      ASSERT_NE(it, rows.end());
      v1::RuleFinding f;
      ASSERT_TRUE(f.ParseFromString(it->second));
      EXPECT_NE(f.message().find(why), std::string::npos) << f.message();
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Roles, CmoByProductionTest,
    ::testing::Values(RoleCase{"Lab", v1::PARTY_ROLE_LAB, false},
                      RoleCase{"Carrier", v1::PARTY_ROLE_CARRIER, false},
                      RoleCase{"SelfDeclaredMah", v1::PARTY_ROLE_MAH, false},
                      RoleCase{"LabWithAYoungDate", v1::PARTY_ROLE_LAB, true}),
    [](const auto& info) { return info.param.name; });

TEST(CmoByProductionGraphTest, ProducerRegisteredAsLabIsACmo) {
  AdcChain chain;
  SEG_ASSERT_OK(chain.Build());
  Log lab(testing::MakeParty("lab.example", "CN-GD"), &chain.evidence(),
          /*enforce=*/false);
  AppendRaw(lab, chain.PartyReg(lab.party(), v1::PARTY_ROLE_LAB, T(0)));
  AppendRaw(lab,
            chain.Produced(lab.party(), Lot("MCB100"), "cell-bank",
                           testing::Material("mcb"), Q("1", "H87"), T(151)));
  DomainGraph g = chain.Graph();
  for (const auto& e : lab.entries()) {
    SEG_ASSERT_OK(
        g.AddSigned(lab.party().origin, e.body, e.signature, nullptr));
  }
  std::vector<std::string> messages;
  for (const auto& f : g.Findings(chain.Options())) {
    if (f.kind == DomainFindingKind::kCmoExperience) {
      messages.push_back(f.message);
    }
  }
  EXPECT_EQ(messages,
            std::vector<std::string>{
                "CMO " + lab.party().party +
                " has no first commercial biologics production on record"});
}

// ---- R-MARKET-RELEASE: the MAH releases to market; a state lot release
// carries its certificate

TEST(MarketReleaseTest, CmoCannotReleaseItsDpToMarket) {
  AdcChain chain;
  SEG_ASSERT_OK(chain.Build());
  Log& fill = chain.fill();
  const auto before = fill.index().rows();
  EXPECT_THAT(
      fill.AppendCommitAlways(
          chain.Release(fill.party(), Lot("DP001"),
                        v1::RELEASE_KIND_MAH_MARKET_RELEASE, T(150)),
          T(150)),
      StatusIs(absl::StatusCode::kFailedPrecondition,
               "rule R-MARKET-RELEASE: qa_release.kind: only the MAH of " +
                   testing::kProduct + " (" + chain.mah().party().party +
                   ") releases lot " + Lot("DP001") + " to market"));
  EXPECT_TRUE(fill.index().rows() == before);
  // A lot received here has no product in its row: the author must be a
  // registered MAH.
  EXPECT_THAT(
      fill.Append(chain.Release(fill.party(), Lot("DS001"),
                                v1::RELEASE_KIND_MAH_MARKET_RELEASE, T(150)),
                  T(150)),
      StatusIs(absl::StatusCode::kFailedPrecondition,
               "rule R-MARKET-RELEASE: qa_release.kind: party " +
                   fill.party().party +
                   " is registered as "
                   "PARTY_ROLE_CMO"));
}

TEST(MarketReleaseTest, MahReleasesLotsItDoesNotHold) {
  AdcChain chain;
  SEG_ASSERT_OK(chain.Build());  // the MAH released DP001
  SEG_ASSERT_OK(chain.mah().Append(
      chain.Release(chain.mah().party(), Lot("DP002"),
                    v1::RELEASE_KIND_MAH_MARKET_RELEASE, T(150)),
      T(150)));
}

TEST(MarketReleaseTest, StateLotReleaseCarriesItsCertificate) {
  AdcChain chain;
  SEG_ASSERT_OK(chain.Build());
  Log& mah = chain.mah();
  v1::Record r = chain.Release(mah.party(), Lot("DP001"),
                               v1::RELEASE_KIND_STATE_LOT_RELEASE, T(150));
  EXPECT_THAT(mah.Append(r, T(150)),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       "rule R-MARKET-RELEASE: qa_release.certificate: "));
  *r.mutable_qa_release()->mutable_certificate() =
      testing::Doc("state_lot_release_certificate", "NIFDC-2025-0001");
  SEG_ASSERT_OK(mah.Append(r, T(150)));
}

}  // namespace
}  // namespace segledger::domain
