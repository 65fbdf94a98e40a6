#include "benchmarks/domain_load.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace segledger::bench {

namespace t = domain::testing;

std::string VialLot(const std::string& tag) {
  return t::Lot(absl::StrCat("A", tag));
}
std::string HarvestLot(const std::string& tag) {
  return t::Lot(absl::StrCat("H", tag));
}

std::vector<v1::Record> DomainBlock(t::AdcChain& c, const std::string& tag,
                                    size_t k) {
  const t::Party& p = c.up().party();
  const absl::Time at = t::T(200) + absl::Seconds(60 * static_cast<double>(k));
  const std::string a = VialLot(tag), h = HarvestLot(tag);
  v1::Quantity vial = t::Q("1", "H87"), litre = t::Q("1", "LTR");
  std::vector<v1::Record> out;
  out.reserve(kRecordsPerBlock);
  out.push_back(
      c.Produced(p, a, "cell-bank", t::Material("mcb"), t::Q("10", "H87"), at));
  out.push_back(c.Qc(p, a, at, &vial));
  out.push_back(c.Release(p, a, v1::RELEASE_KIND_SITE_RELEASE, at));
  out.push_back(c.Transform(p, "upstream", {{a, t::Q("5", "H87")}}, h,
                            t::Material("harvest"), t::Q("100", "LTR"), at,
                            at + absl::Seconds(10)));
  out.push_back(c.Qc(p, h, at + absl::Seconds(20), &litre));
  out.push_back(
      c.Release(p, h, v1::RELEASE_KIND_SITE_RELEASE, at + absl::Seconds(30)));
  out.push_back(c.Ship(p, c.down().party(), absl::StrCat("X", tag), "C", h,
                       t::Q("50", "LTR"), t::Range(200, 800),
                       at + absl::Seconds(40), at + absl::Hours(10)));
  return out;
}

store::AppendRecord ToAppendRecord(v1::Record r, std::string request_id) {
  store::AppendRecord a;
  a.actor = t::Sig("Operator", v1::SIGNATURE_MEANING_AUTHORED, t::T(300));
  a.request_id = std::move(request_id);
  a.record = std::move(r);
  return a;
}

domain::DomainConfig DomainSite::HookConfig() {
  const t::Party& p = chain.up().party();
  domain::DomainConfig config;
  config.party_id = p.party;
  config.site_id = p.site;
  config.evidence = &chain.evidence();
  return config;
}

absl::StatusOr<std::unique_ptr<DomainSite>> MakeDomainSite() {
  auto site = std::make_unique<DomainSite>();
  t::AdcChain& c = site->chain;
  if (absl::Status s = c.Build(); !s.ok()) {  // product and parties
    return absl::InternalError(
        absl::StrCat("ADC scenario does not build: ", s.message()));
  }
  const t::Party& p = c.up().party();
  site->origin = p.origin;
  for (v1::Record r :
       {c.PartyReg(p, v1::PARTY_ROLE_CMO, t::Date(2015, 1, 1)),
        c.SiteReg(p, {"cell-bank", "upstream"}, t::Date(2027, 12, 31)),
        c.Staff(p, "mah-qa-1"), c.Staff(p, "mah-qa-2")}) {
    site->setup.push_back(ToAppendRecord(std::move(r), ""));
  }
  return site;
}

}  // namespace segledger::bench
