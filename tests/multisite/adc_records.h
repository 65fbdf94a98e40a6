// The ADC chain of DOMAIN.md across the cluster's four logs (drug-linker
// made at the downstream CMO), with records from the domain tests'
// builders and event times in the last day, so nothing is a late record.
#ifndef SEGLEDGER_TESTS_MULTISITE_ADC_RECORDS_H_
#define SEGLEDGER_TESTS_MULTISITE_ADC_RECORDS_H_

#include <string>

#include "google/protobuf/descriptor.h"
#include "tests/multisite/cluster.h"

namespace segledger::multisite {

using domain::testing::Lot;
using domain::testing::MakeStage;
using domain::testing::Material;
using domain::testing::Q;
using domain::testing::Range;

class AdcRecords {
 public:
  // Event time of scenario hour `h` (one scenario hour = 10 minutes),
  // ending a little before now.
  absl::Time At(double h) const { return base_ + absl::Minutes(10 * h); }

  // Sets the record's header event time and signature times to `t`
  // (the builders use fixed 2025 times for registrations).
  v1::Record Timed(v1::Record r, absl::Time t) const {
    const auto* refl = r.GetReflection();
    const auto* oneof = r.GetDescriptor()->FindOneofByName("kind");
    const google::protobuf::FieldDescriptor* f =
        refl->GetOneofFieldDescriptor(r, oneof);
    if (f == nullptr) return r;
    google::protobuf::Message* m = refl->MutableMessage(&r, f);
    const auto* hf = m->GetDescriptor()->FindFieldByName("header");
    if (hf == nullptr) return r;
    auto* h = static_cast<v1::RecordHeader*>(
        m->GetReflection()->MutableMessage(m, hf));
    *h->mutable_event_time()->mutable_time() = domain::testing::Ts(t);
    for (auto& s : *h->mutable_signatures()) {
      *s.mutable_signed_at() = domain::testing::Ts(t);
    }
    return r;
  }

  v1::Record Product(Cluster& c) {
    v1::Record pr;
    auto* p = pr.mutable_product_registration();
    *p->mutable_header() = domain::testing::Header(
        c.site("mah").party, At(1), v1::SIGNATURE_MEANING_APPROVED);
    p->set_product_id(domain::testing::kProduct);
    p->set_name("ADC-1 for injection");
    p->set_pilot_class(v1::PILOT_CLASS_ADC);
    *p->add_approvals() = domain::testing::Doc("approval", "NMPA-PILOT-1");
    const auto cold = Range(200, 800);
    const std::string up = c.site("up").party.site;
    const std::string down = c.site("down").party.site;
    const std::string fill = c.site("fill").party.site;
    *p->add_stages() =
        MakeStage("cell-bank", "mcb", v1::MATERIAL_KIND_CELL_BANK, up,
                  Range(-19600, -15000), 0);
    *p->add_stages() = MakeStage("upstream", "harvest",
                                 v1::MATERIAL_KIND_HARVEST, up, cold, 48);
    *p->add_stages() = MakeStage(
        "downstream", "mab", v1::MATERIAL_KIND_INTERMEDIATE, down, cold, 48);
    *p->add_stages() =
        MakeStage("drug-linker", "dl", v1::MATERIAL_KIND_DRUG_LINKER, down,
                  Range(-2500, -1500), 72);
    *p->add_stages() =
        MakeStage("conjugation", "ds", v1::MATERIAL_KIND_DRUG_SUBSTANCE, down,
                  Range(-8000, -6000), 72);
    *p->add_stages() =
        MakeStage("fill", "dp", v1::MATERIAL_KIND_DRUG_PRODUCT, fill, cold, 48);
    p->set_mass_balance_tolerance_percent("0.5");
    p->set_density_g_per_ml("1");
    return pr;
  }

  // Parties, sites, product, MAH staff on site; then waits until every
  // site follows the product registration from the MAH's log.
  void Register(Cluster& c) {
    const Party& mah = c.site("mah").party;
    Ok(c.Append("mah",
                Timed(b_.PartyReg(mah, v1::PARTY_ROLE_MAH, At(0)), At(0))));
    Ok(c.Append("mah", Product(c)));
    const std::map<std::string, std::vector<std::string>> stages = {
        {"up", {"cell-bank", "upstream"}},
        {"down", {"downstream", "drug-linker", "conjugation"}},
        {"fill", {"fill"}}};
    for (const auto& [name, st] : stages) {
      const Party& p = c.site(name).party;
      Ok(c.Append(name, Timed(b_.PartyReg(p, v1::PARTY_ROLE_CMO,
                                          domain::testing::Date(2015, 1, 1)),
                              At(0))));
      Ok(c.Append(name,
                  Timed(b_.SiteReg(p, st, domain::testing::Date(2027, 12, 31)),
                        At(1))));
      Ok(c.Append(name, Timed(b_.Staff(p, "mah-qa-1"), At(2))));
      Ok(c.Append(name, Timed(b_.Staff(p, "mah-qa-2"), At(2))));
    }
    for (const auto& stage : stages) {
      // A named copy: clang 14 (the fuzz tree) cannot capture a structured
      // binding in a lambda.
      const std::string& name = stage.first;
      ASSERT_TRUE(WaitFor([&] {
        return c.PeerState(name, "mah").followed_size() >= 2;
      })) << name
          << " never followed the MAH's registrations";
    }
  }

  // Upstream: cell bank, culture and harvest, QC, release; returns the
  // upstream party's HV001 lot on hand (200 L, 0.2 L sampled).
  void Upstream(Cluster& c) {
    const Party& p = c.site("up").party;
    Ok(c.Append("up", b_.Produced(p, Lot("MCB001"), "cell-bank",
                                  Material("mcb"), Q("10", "H87"), At(10))));
    Ok(c.Append("up",
                b_.Transform(p, "upstream", {{Lot("MCB001"), Q("1", "H87")}},
                             Lot("HV001"), Material("harvest"), Q("200", "LTR"),
                             At(12), At(20))));
    v1::Quantity sample = Q("0.2", "LTR");
    Ok(c.Append("up", b_.Qc(p, Lot("HV001"), At(21), &sample)));
    Ok(c.Append("up", b_.Release(p, Lot("HV001"), v1::RELEASE_KIND_SITE_RELEASE,
                                 At(22))));
  }

  v1::Record Ship(Cluster& c, const std::string& from, const std::string& to,
                  const std::string& id, const std::string& lot, v1::Quantity q,
                  v1::TemperatureRange range, double h) {
    return b_.Ship(c.site(from).party, c.site(to).party, id,
                   absl::StrCat("C-", id), lot, q, range, At(h), At(h + 12));
  }

  // `to` receives the dispatch `ref` once its evidence arrived.
  absl::StatusOr<v1::EntryRef> Receive(Cluster& c, const std::string& to,
                                       const v1::EntryRef& ref,
                                       const std::string& id,
                                       const std::string& lot, v1::Quantity q,
                                       double h) {
    if (!WaitFor([&] { return c.HoldsEvidence(to, ref); })) {
      return absl::DeadlineExceededError(
          absl::StrCat(to, " never received the evidence of ", id));
    }
    return c.Append(
        to, b_.Receive(c.site(to).party, ref, id, absl::StrCat("C-", id), lot,
                       q, absl::StrCat("SEAL-C-", id), At(h)));
  }

  // Downstream after receiving HV001: acceptance, purification, the
  // drug-linker made on site, conjugation, QC and release of DS001.
  void Downstream(Cluster& c) {
    const Party& p = c.site("down").party;
    Ok(c.Append("down",
                b_.Release(p, Lot("HV001"),
                           v1::RELEASE_KIND_INCOMING_ACCEPTANCE, At(37))));
    Ok(c.Append("down",
                b_.Transform(p, "downstream",
                             {{Lot("HV001"), Q("199.8", "LTR")}}, Lot("MAB001"),
                             Material("mab"), Q("5", "KGM"), At(40), At(48))));
    Ok(c.Append("down", b_.Produced(p, Lot("DL001"), "drug-linker",
                                    Material("dl"), Q("0.2", "KGM"), At(41))));
    Ok(c.Append("down", b_.Release(p, Lot("DL001"),
                                   v1::RELEASE_KIND_SITE_RELEASE, At(42))));
    Ok(c.Append("down", b_.Transform(p, "conjugation",
                                     {{Lot("MAB001"), Q("5", "KGM")},
                                      {Lot("DL001"), Q("0.2", "KGM")}},
                                     Lot("DS001"), Material("ds"),
                                     Q("5", "KGM"), At(50), At(60))));
    Ok(c.Append("down", b_.Qc(p, Lot("DS001"), At(61), nullptr)));
    Ok(c.Append("down", b_.Release(p, Lot("DS001"),
                                   v1::RELEASE_KIND_SITE_RELEASE, At(62))));
  }

  // Fill-finish after receiving DS001, then the MAH's market release.
  void FillFinish(Cluster& c) {
    const Party& p = c.site("fill").party;
    Ok(c.Append("fill",
                b_.Release(p, Lot("DS001"),
                           v1::RELEASE_KIND_INCOMING_ACCEPTANCE, At(76))));
    Ok(c.Append("fill", b_.Transform(p, "fill", {{Lot("DS001"), Q("4", "KGM")}},
                                     Lot("DP001"), Material("dp"),
                                     Q("20000", "H87"), At(80), At(90))));
    Ok(c.Append("fill", b_.Qc(p, Lot("DP001"), At(91), nullptr)));
    Ok(c.Append("fill", b_.Release(p, Lot("DP001"),
                                   v1::RELEASE_KIND_SITE_RELEASE, At(92))));
  }

  void MarketRelease(Cluster& c) {
    ASSERT_TRUE(WaitFor([&] { return c.MahCaughtUp("fill"); }));
    Ok(c.Append("mah",
                b_.Release(c.site("mah").party, Lot("DP001"),
                           v1::RELEASE_KIND_MAH_MARKET_RELEASE, At(100))));
  }

  domain::testing::AdcChain& builders() { return b_; }

  static void Ok(const absl::StatusOr<v1::EntryRef>& r) {
    ASSERT_TRUE(r.ok()) << r.status();
  }

 private:
  absl::Time base_ = absl::Now() - absl::Hours(17) - absl::Minutes(40);
  domain::testing::AdcChain b_;  // record builders only
};

}  // namespace segledger::multisite

#endif  // SEGLEDGER_TESTS_MULTISITE_ADC_RECORDS_H_
