// The ADC chain scenario (see adc_chain.h) and its seeded defects.
#ifndef SEGLEDGER_TESTS_LEDGER_DOMAIN_ADC_SCENARIO_H_
#define SEGLEDGER_TESTS_LEDGER_DOMAIN_ADC_SCENARIO_H_

#include <cstdlib>
#include <optional>

#include "tests/ledger/domain/adc_chain.h"

namespace segledger::domain::testing {

// One seeded defect per finding kind (kNone: the clean chain).
enum class Defect {
  kNone,
  kNeverReceived,
  kReceiptWithoutDispatch,
  kQuantity,
  kContainer,
  kSeal,
  kWrongSite,
  kExcursion,
  kUnauthorisedSite,
  kDispatchBeforeRelease,
  kUsedBeforeAcceptance,
  kPastHoldTime,
  kOpenDeviation,
  kMahStaff,
  kCmoExperience,
  kBrokenChain,
  kBadSignature,
  kKeyOutsideValidity,
  kEquivocation,
  kLateRecord,
  kUncountedQuantity,
};

class AdcChain {
 public:
  explicit AdcChain(Defect d = Defect::kNone, bool enforce = true)
      : d_(d),
        mah_(MakeParty("mah.example", "CN-SH"), &evidence_, enforce),
        up_(MakeParty("cmo-up.example", "CN-JS"), &evidence_, enforce),
        down_(MakeParty("cmo-down.example", "CN-ZJ"), &evidence_, enforce),
        chem_(MakeParty("chem.example", "CN-SD"), &evidence_, enforce),
        fill_(MakeParty("fill.example", "CN-BJ"), &evidence_, enforce) {}

  absl::Status Build();

  // Every entry of every log (signatures checked with each log's key).
  DomainGraph Graph();
  FindingOptions Options() const {
    FindingOptions o;
    o.now = T(200);
    return o;
  }

  Log& mah() { return mah_; }
  Log& up() { return up_; }
  Log& down() { return down_; }
  Log& chem() { return chem_; }
  Log& fill() { return fill_; }
  InMemoryEvidence& evidence() { return evidence_; }
  std::vector<Log*> logs() { return {&mah_, &up_, &down_, &chem_, &fill_}; }

  // Record builders (public for rule tests).
  v1::Record PartyReg(const Party& p, v1::PartyRole role, absl::Time first);
  v1::Record SiteReg(const Party& p, std::vector<std::string> stages,
                     absl::Time until);
  v1::Record Staff(const Party& p, const std::string& person);
  v1::Record Produced(const Party& p, const std::string& lot,
                      const std::string& stage, const std::string& material,
                      v1::Quantity q, absl::Time end);
  v1::Record Transform(const Party& p, const std::string& stage,
                       std::vector<std::pair<std::string, v1::Quantity>> in,
                       const std::string& out_lot, const std::string& material,
                       v1::Quantity out_q, absl::Time from, absl::Time until);
  v1::Record Qc(const Party& p, const std::string& lot, absl::Time t,
                const v1::Quantity* sample);
  v1::Record Release(const Party& p, const std::string& lot,
                     v1::ReleaseKind kind, absl::Time t);
  v1::Record Ship(const Party& from, const Party& to, const std::string& id,
                  const std::string& container, const std::string& lot,
                  v1::Quantity q, v1::TemperatureRange range, absl::Time t,
                  absl::Time planned);
  v1::Record Receive(const Party& p, const v1::EntryRef& dispatch,
                     const std::string& id, const std::string& container,
                     const std::string& lot, v1::Quantity q,
                     const std::string& seal, absl::Time t);

  v1::EntryRef t1, t2, t3;  // the dispatches
  // When set before Build(): the quantity received of transfer T1 (199.8 LTR
  // dispatched; the product's mass-balance tolerance is 0.5%).
  std::optional<v1::Quantity> t1_received;

 private:
  // Appends to `log` at event time `t` (recorded a minute later).
  absl::StatusOr<v1::EntryRef> Add(Log& log, v1::Record r, absl::Time t);
  absl::Status Registrations();
  absl::Status Upstream();
  absl::Status DrugLinker();
  absl::Status Downstream();
  absl::Status FillFinish();
  absl::Status Tamper();

  Defect d_;
  InMemoryEvidence evidence_;
  Log mah_, up_, down_, chem_, fill_;
};

// ---- implementation (header-only: each test file is its own executable)

inline absl::StatusOr<v1::EntryRef> AdcChain::Add(Log& log, v1::Record r,
                                                  absl::Time t) {
  absl::Time rec = t + absl::Minutes(1);
  if (d_ == Defect::kLateRecord && r.has_qc_result() && &log == &fill_) {
    rec = t + absl::Hours(72);
  }
  auto ref = log.Append(std::move(r), rec);
  if (!ref.ok()) {
    return absl::Status(
        ref.status().code(),
        absl::StrCat(log.party().origin, " index ", log.entries().size(), ": ",
                     ref.status().message()));
  }
  return ref;
}

inline v1::Record AdcChain::PartyReg(const Party& p, v1::PartyRole role,
                                     absl::Time first) {
  v1::Record r;
  auto* x = r.mutable_party_registration();
  *x->mutable_header() = Header(p, T(0), v1::SIGNATURE_MEANING_APPROVED, false);
  x->set_legal_name(absl::StrCat(p.name, " Co., Ltd."));
  std::string code = "91310000MA1K00000";
  x->set_unified_social_credit_code(code + UsccCheckChar(code));
  x->set_role(role);
  x->mutable_manufacturing_licence()->set_number("HU20240001");
  *x->mutable_manufacturing_licence()->mutable_validity() =
      Span(Date(2024, 1, 1), Date(2029, 1, 1));
  x->set_province(p.province);
  if (role == v1::PARTY_ROLE_CMO)
    *x->mutable_first_commercial_production() = Ts(first);
  *x->mutable_experience_evidence() = Doc("experience", p.name);
  x->set_qms_id("QMS-ADC-1");
  return r;
}

inline v1::Record AdcChain::SiteReg(const Party& p,
                                    std::vector<std::string> stages,
                                    absl::Time until) {
  v1::Record r;
  auto* x = r.mutable_site_registration();
  *x->mutable_header() = Header(p, T(1), v1::SIGNATURE_MEANING_APPROVED);
  x->set_name(p.name);
  x->set_address("1 Science Road");
  x->set_province(p.province);
  x->mutable_licence()->set_number("SITE-LIC-1");
  *x->mutable_licence()->mutable_validity() =
      Span(Date(2024, 1, 1), Date(2029, 1, 1));
  for (const auto& s : stages) {
    auto* a = x->add_authorisations();
    a->set_product_id(kProduct);
    a->set_stage_id(s);
    *a->mutable_validity() = Span(Date(2024, 1, 1), until);
  }
  return r;
}

inline v1::Record AdcChain::Staff(const Party& p, const std::string& person) {
  v1::Record r;
  auto* x = r.mutable_personnel_assignment();
  *x->mutable_header() = Header(p, T(2), v1::SIGNATURE_MEANING_APPROVED);
  x->set_person_id(person);
  x->set_printed_name(absl::StrCat("MAH QA ", person));
  x->set_employer_party_id(mah_.party().party);
  x->set_role(v1::PERSONNEL_ROLE_ON_SITE_QA);
  x->set_assigned_site_id(p.site);
  *x->mutable_period() = Span(Date(2025, 1, 1), Date(2026, 12, 31));
  return r;
}

inline v1::Record AdcChain::Produced(const Party& p, const std::string& lot,
                                     const std::string& stage,
                                     const std::string& material,
                                     v1::Quantity q, absl::Time end) {
  v1::Record r;
  auto* x = r.mutable_lot_produced();
  *x->mutable_header() = Header(p, end);
  x->set_lot_id(lot);
  x->set_product_id(kProduct);
  x->set_material_id(material);
  x->set_stage_id(stage);
  *x->mutable_production() = Span(end - absl::Hours(2), end);
  *x->mutable_quantity() = q;
  auto* c = x->add_containers();
  c->set_container_id(absl::StrCat("bulk-", stage));
  *c->mutable_quantity() = q;
  *x->mutable_batch_record() = Doc("batch_record", lot);
  return r;
}

inline v1::Record AdcChain::Transform(
    const Party& p, const std::string& stage,
    std::vector<std::pair<std::string, v1::Quantity>> in,
    const std::string& out_lot, const std::string& material, v1::Quantity out_q,
    absl::Time from, absl::Time until) {
  v1::Record r;
  auto* x = r.mutable_transformation();
  *x->mutable_header() = Header(p, until);
  x->set_transformation_id(absl::StrCat("TR-", stage));
  x->set_product_id(kProduct);
  x->set_stage_id(stage);
  *x->mutable_period() = Span(from, until);
  for (auto& [lot, q] : in) {
    auto* i = x->add_inputs();
    i->set_lot_id(lot);
    *i->mutable_quantity() = q;
  }
  auto* o = x->add_outputs();
  o->set_lot_id(out_lot);
  o->set_material_id(material);
  *o->mutable_quantity() = out_q;
  *o->mutable_hold_until() =
      Ts(until + absl::Hours(d_ == Defect::kPastHoldTime && stage == "upstream"
                                 ? 5
                                 : 240));
  *x->mutable_batch_record() = Doc("batch_record", out_lot);
  return r;
}

inline v1::Record AdcChain::Qc(const Party& p, const std::string& lot,
                               absl::Time t, const v1::Quantity* sample) {
  v1::Record r;
  auto* x = r.mutable_qc_result();
  *x->mutable_header() = Header(p, t, v1::SIGNATURE_MEANING_VERIFIED);
  x->set_lot_id(lot);
  x->set_lab_party_id(p.party);
  x->mutable_spec()->set_spec_id("SPEC-REL");
  x->mutable_spec()->set_version("3");
  x->mutable_spec()->set_sha256(std::string(HashBytes(Sha256("spec"))));
  x->set_outcome(v1::QC_OUTCOME_CONFORMS);
  *x->mutable_certificate_of_analysis() = Doc("coa", lot);
  if (sample != nullptr) *x->mutable_sample_quantity() = *sample;
  return r;
}

inline v1::Record AdcChain::Release(const Party& p, const std::string& lot,
                                    v1::ReleaseKind kind, absl::Time t) {
  v1::Record r;
  auto* x = r.mutable_qa_release();
  *x->mutable_header() = Header(p, t, v1::SIGNATURE_MEANING_RELEASED);
  x->set_lot_id(lot);
  x->set_kind(kind);
  x->set_decision(v1::RELEASE_DECISION_RELEASED);
  return r;
}

inline v1::Record AdcChain::Ship(const Party& from, const Party& to,
                                 const std::string& id,
                                 const std::string& container,
                                 const std::string& lot, v1::Quantity q,
                                 v1::TemperatureRange range, absl::Time t,
                                 absl::Time planned) {
  v1::Record r;
  auto* x = r.mutable_dispatch();
  *x->mutable_header() = Header(from, t);
  x->set_transfer_id(id);
  x->set_to_site_id(to.site);
  x->set_to_party_id(to.party);
  x->set_owner_party_id(mah_.party().party);
  x->set_carrier_party_id("https://carrier.example/party");
  auto* c = x->add_containers();
  c->set_container_id(container);
  c->set_lot_id(lot);
  *c->mutable_quantity() = q;
  c->add_seal_ids(absl::StrCat("SEAL-", container));
  c->add_logger_ids(absl::StrCat("LOG-", container));
  *x->mutable_required_temperature() = range;
  x->set_transport_validation_id("TV-1");
  *x->mutable_planned_arrival() = Ts(planned);
  *x->mutable_header()->add_documents() = Doc("shipping_note", id);
  return r;
}

inline v1::Record AdcChain::Receive(const Party& p,
                                    const v1::EntryRef& dispatch,
                                    const std::string& id,
                                    const std::string& container,
                                    const std::string& lot, v1::Quantity q,
                                    const std::string& seal, absl::Time t) {
  v1::Record r;
  auto* x = r.mutable_receipt();
  *x->mutable_header() = Header(p, t, v1::SIGNATURE_MEANING_VERIFIED);
  x->set_transfer_id(id);
  *x->mutable_dispatch() = dispatch;
  *x->mutable_arrival() = Ts(t);
  auto* c = x->add_containers();
  c->set_container_id(container);
  c->set_lot_id(lot);
  c->add_seal_ids(seal);
  c->set_seals_match(true);
  c->set_seals_intact(true);
  c->set_integrity_ok(true);
  c->set_temperature_reviewed(true);
  *c->mutable_received_quantity() = q;
  x->set_decision(v1::RECEIPT_DECISION_ACCEPTED);
  return r;
}

inline v1::Stage MakeStage(const std::string& id, const std::string& material,
                           v1::MaterialKind kind, const std::string& site,
                           v1::TemperatureRange range, int transit) {
  v1::Stage s;
  s.set_stage_id(id);
  s.set_name(id);
  s.set_material_id(Material(material));
  s.set_material_kind(kind);
  s.add_approved_site_ids(site);
  *s.mutable_storage() = range;
  *s.mutable_transport() = range;
  s.set_max_transit_hours(transit);
  s.set_hold_time_hours(240);
  s.set_yield_min_percent("50");
  s.set_yield_max_percent("100");
  return s;
}

inline absl::Status AdcChain::Registrations() {
  v1::Record mah = PartyReg(mah_.party(), v1::PARTY_ROLE_MAH, T(0));
  SEG_RETURN_IF_ERROR(Add(mah_, mah, T(0)).status());
  evidence_.AddParty(mah.party_registration());
  v1::Record pr;
  auto* p = pr.mutable_product_registration();
  *p->mutable_header() =
      Header(mah_.party(), T(1), v1::SIGNATURE_MEANING_APPROVED);
  p->set_product_id(kProduct);
  p->set_name("ADC-1 for injection");
  p->set_pilot_class(v1::PILOT_CLASS_ADC);
  *p->add_approvals() = Doc("approval", "NMPA-PILOT-2025-001");
  const auto cold = Range(200, 800);
  *p->add_stages() = MakeStage("cell-bank", "mcb", v1::MATERIAL_KIND_CELL_BANK,
                               up_.party().site, Range(-19600, -15000), 0);
  *p->add_stages() = MakeStage("upstream", "harvest", v1::MATERIAL_KIND_HARVEST,
                               up_.party().site, cold, 48);
  *p->add_stages() =
      MakeStage("downstream", "mab", v1::MATERIAL_KIND_INTERMEDIATE,
                down_.party().site, cold, 48);
  *p->add_stages() =
      MakeStage("drug-linker", "dl", v1::MATERIAL_KIND_DRUG_LINKER,
                chem_.party().site, Range(-2500, -1500), 72);
  *p->add_stages() =
      MakeStage("conjugation", "ds", v1::MATERIAL_KIND_DRUG_SUBSTANCE,
                down_.party().site, Range(-8000, -6000), 72);
  *p->add_stages() = MakeStage("fill", "dp", v1::MATERIAL_KIND_DRUG_PRODUCT,
                               fill_.party().site, cold, 48);
  p->set_mass_balance_tolerance_percent("0.5");
  p->set_density_g_per_ml("1");
  SEG_RETURN_IF_ERROR(Add(mah_, pr, T(1)).status());
  evidence_.AddProduct(pr.product_registration());
  struct Site {
    Log* log;
    std::vector<std::string> stages;
  };
  for (const Site& s :
       {Site{&up_, {"cell-bank", "upstream"}},
        Site{&down_, {"downstream", "conjugation"}},
        Site{&chem_, {"drug-linker"}}, Site{&fill_, {"fill"}}}) {
    const Party& party = s.log->party();
    absl::Time first = d_ == Defect::kCmoExperience && s.log == &chem_
                           ? Date(2023, 6, 1)
                           : Date(2015, 1, 1);
    v1::Record reg = PartyReg(party, v1::PARTY_ROLE_CMO, first);
    SEG_RETURN_IF_ERROR(Add(*s.log, reg, T(0)).status());
    evidence_.AddParty(reg.party_registration());
    absl::Time until = d_ == Defect::kUnauthorisedSite && s.log == &fill_
                           ? Date(2024, 12, 31)
                           : Date(2027, 12, 31);
    SEG_RETURN_IF_ERROR(
        Add(*s.log, SiteReg(party, s.stages, until), T(1)).status());
    SEG_RETURN_IF_ERROR(Add(*s.log, Staff(party, "mah-qa-1"), T(2)).status());
    if (!(d_ == Defect::kMahStaff && s.log == &fill_)) {
      SEG_RETURN_IF_ERROR(Add(*s.log, Staff(party, "mah-qa-2"), T(2)).status());
    }
  }
  return absl::OkStatus();
}

inline absl::Status AdcChain::Upstream() {
  const Party& p = up_.party();
  SEG_RETURN_IF_ERROR(Add(up_,
                          Produced(p, Lot("MCB001"), "cell-bank",
                                   Material("mcb"), Q("10", "H87"), T(10)),
                          T(10))
                          .status());
  SEG_RETURN_IF_ERROR(
      Add(up_,
          Transform(p, "upstream", {{Lot("MCB001"), Q("1", "H87")}},
                    Lot("HV001"), Material("harvest"), Q("200", "LTR"), T(12),
                    T(20)),
          T(20))
          .status());
  v1::Quantity sample = Q("0.2", "LTR");
  SEG_RETURN_IF_ERROR(
      Add(up_, Qc(p, Lot("HV001"), T(21), &sample), T(21)).status());
  SEG_RETURN_IF_ERROR(
      Add(up_, Release(p, Lot("HV001"), v1::RELEASE_KIND_SITE_RELEASE, T(22)),
          T(22))
          .status());
  v1::Record ship = Ship(p, down_.party(), "T1", "C1", Lot("HV001"),
                         Q("199.8", "LTR"), Range(200, 800), T(24), T(36));
  SEG_ASSIGN_OR_RETURN(t1, Add(up_, ship, T(24)));
  evidence_.AddDispatch(t1, ship.dispatch());
  if (d_ == Defect::kKeyOutsideValidity) {
    v1::Record rev;
    rev.mutable_key_revocation()->set_key_name("k1");
    rev.mutable_key_revocation()->set_reason("laptop lost");
    *rev.mutable_key_revocation()->mutable_effective_at() = Ts(T(34.5));
    SEG_RETURN_IF_ERROR(Add(up_, rev, T(34)).status());
  }
  v1::Record rep;
  auto* x = rep.mutable_transport_condition_report();
  *x->mutable_header() = Header(p, T(35));
  x->set_transfer_id("T1");
  *x->mutable_dispatch() = t1;
  x->set_logger_id("LOG-C1");
  *x->mutable_period() = Span(T(24), T(35));
  x->set_min_centi_celsius(300);
  x->set_max_centi_celsius(d_ == Defect::kExcursion ? 1200 : 600);
  x->set_mean_centi_celsius(450);
  *x->mutable_raw_file() = Doc("logger_file", "LOG-C1.csv");
  return Add(up_, rep, T(35)).status();
}

inline absl::Status AdcChain::DrugLinker() {
  const Party& p = chem_.party();
  SEG_RETURN_IF_ERROR(Add(chem_,
                          Produced(p, Lot("DL001"), "drug-linker",
                                   Material("dl"), Q("0.2", "KGM"), T(10)),
                          T(10))
                          .status());
  if (d_ != Defect::kDispatchBeforeRelease) {
    SEG_RETURN_IF_ERROR(
        Add(chem_,
            Release(p, Lot("DL001"), v1::RELEASE_KIND_SITE_RELEASE, T(12)),
            T(12))
            .status());
  }
  v1::Record ship = Ship(p, down_.party(), "T2", "C2", Lot("DL001"),
                         Q("0.2", "KGM"), Range(-2500, -1500), T(14), T(30));
  SEG_ASSIGN_OR_RETURN(t2, Add(chem_, ship, T(14)));
  evidence_.AddDispatch(t2, ship.dispatch());
  return absl::OkStatus();
}

inline absl::Status AdcChain::Downstream() {
  const Party& p = down_.party();
  SEG_RETURN_IF_ERROR(Add(down_,
                          Receive(p, t2, "T2", "C2", Lot("DL001"),
                                  Q("0.2", "KGM"), "SEAL-C2", T(30)),
                          T(30))
                          .status());
  if (d_ != Defect::kUsedBeforeAcceptance) {
    SEG_RETURN_IF_ERROR(
        Add(down_,
            Release(p, Lot("DL001"), v1::RELEASE_KIND_INCOMING_ACCEPTANCE,
                    T(31)),
            T(31))
            .status());
  }
  v1::Record rec = Receive(p, t1, "T1", "C1", Lot("HV001"), Q("199.8", "LTR"),
                           "SEAL-C1", T(36));
  auto* c = rec.mutable_receipt()->mutable_containers(0);
  if (d_ == Defect::kQuantity)
    *c->mutable_received_quantity() = Q("190", "LTR");
  if (d_ == Defect::kUncountedQuantity)  // drums counted, not litres
    *c->mutable_received_quantity() = Q("4", "H87");
  if (t1_received.has_value()) *c->mutable_received_quantity() = *t1_received;
  if (d_ == Defect::kContainer) c->set_container_id("C1-OTHER");
  if (d_ == Defect::kSeal) c->set_seals_intact(false);
  SEG_RETURN_IF_ERROR(Add(down_, rec, T(36)).status());
  SEG_RETURN_IF_ERROR(
      Add(down_,
          Release(p, Lot("HV001"), v1::RELEASE_KIND_INCOMING_ACCEPTANCE, T(37)),
          T(37))
          .status());
  SEG_RETURN_IF_ERROR(
      Add(down_,
          Transform(p, "downstream", {{Lot("HV001"), Q("199.8", "LTR")}},
                    Lot("MAB001"), Material("mab"), Q("5", "KGM"), T(40),
                    T(48)),
          T(48))
          .status());
  SEG_RETURN_IF_ERROR(
      Add(down_,
          Transform(
              p, "conjugation",
              {{Lot("MAB001"), Q("5", "KGM")}, {Lot("DL001"), Q("0.2", "KGM")}},
              Lot("DS001"), Material("ds"), Q("5", "KGM"), T(50), T(60)),
          T(60))
          .status());
  SEG_RETURN_IF_ERROR(
      Add(down_, Qc(p, Lot("DS001"), T(61), nullptr), T(61)).status());
  SEG_RETURN_IF_ERROR(
      Add(down_, Release(p, Lot("DS001"), v1::RELEASE_KIND_SITE_RELEASE, T(62)),
          T(62))
          .status());
  const Party& to = d_ == Defect::kWrongSite ? mah_.party() : fill_.party();
  v1::Record ship = Ship(p, to, "T3", "C3", Lot("DS001"), Q("4", "KGM"),
                         Range(-8000, -6000), T(64), T(76));
  if (d_ == Defect::kWrongSite) {
    ship.mutable_dispatch()->set_to_party_id(fill_.party().party);
  }
  SEG_ASSIGN_OR_RETURN(t3, Add(down_, ship, T(64)));
  evidence_.AddDispatch(t3, ship.dispatch());
  if (d_ == Defect::kNeverReceived) {
    v1::Record extra = Ship(p, fill_.party(), "T5", "C5", Lot("DS001"),
                            Q("1", "KGM"), Range(-8000, -6000), T(65), T(77));
    SEG_RETURN_IF_ERROR(Add(down_, extra, T(65)).status());
  }
  if (d_ == Defect::kOpenDeviation) {
    v1::Record dev;
    auto* x = dev.mutable_deviation();
    *x->mutable_header() = Header(p, T(66));
    x->set_deviation_id("DEV-1");
    x->set_deviation_class(v1::DEVIATION_CLASS_MAJOR);
    x->add_affected_lot_ids(Lot("MAB001"));
    x->set_status(v1::DEVIATION_STATUS_OPEN);
    x->set_description("purification column pressure excursion");
    SEG_RETURN_IF_ERROR(Add(down_, dev, T(66)).status());
  }
  return absl::OkStatus();
}

inline absl::Status AdcChain::FillFinish() {
  const Party& p = fill_.party();
  SEG_RETURN_IF_ERROR(Add(fill_,
                          Receive(p, t3, "T3", "C3", Lot("DS001"),
                                  Q("4", "KGM"), "SEAL-C3", T(75)),
                          T(75))
                          .status());
  SEG_RETURN_IF_ERROR(
      Add(fill_,
          Release(p, Lot("DS001"), v1::RELEASE_KIND_INCOMING_ACCEPTANCE, T(76)),
          T(76))
          .status());
  SEG_RETURN_IF_ERROR(
      Add(fill_,
          Transform(p, "fill", {{Lot("DS001"), Q("4", "KGM")}}, Lot("DP001"),
                    Material("dp"), Q("20000", "H87"), T(80), T(90)),
          T(90))
          .status());
  SEG_RETURN_IF_ERROR(
      Add(fill_, Qc(p, Lot("DP001"), T(91), nullptr), T(91)).status());
  SEG_RETURN_IF_ERROR(
      Add(fill_, Release(p, Lot("DP001"), v1::RELEASE_KIND_SITE_RELEASE, T(92)),
          T(92))
          .status());
  v1::Record link;
  auto* l = link.mutable_trace_code_link();
  *l->mutable_header() = Header(p, T(93));
  l->set_lot_id(Lot("DP001"));
  l->add_ranges()->set_first("10000000000000000001");
  l->mutable_ranges(0)->set_last("10000000000000020000");
  SEG_RETURN_IF_ERROR(Add(fill_, link, T(93)).status());
  if (d_ == Defect::kReceiptWithoutDispatch) {
    v1::EntryRef ghost = t3;
    ghost.set_index(999);
    SEG_RETURN_IF_ERROR(Add(fill_,
                            Receive(p, ghost, "T9", "C9", Lot("DS001"),
                                    Q("0.5", "KGM"), "SEAL-C9", T(94)),
                            T(94))
                            .status());
  }
  v1::Record mkt = Release(mah_.party(), Lot("DP001"),
                           v1::RELEASE_KIND_MAH_MARKET_RELEASE, T(100));
  return Add(mah_, mkt, T(100)).status();
}

inline absl::Status AdcChain::Build() {
  SEG_RETURN_IF_ERROR(Registrations());
  SEG_RETURN_IF_ERROR(Upstream());
  SEG_RETURN_IF_ERROR(DrugLinker());
  SEG_RETURN_IF_ERROR(Downstream());
  SEG_RETURN_IF_ERROR(FillFinish());
  return Tamper();
}

// Integrity defects on the last entry of the upstream log (nothing chains
// to it, so exactly one finding).
inline absl::Status AdcChain::Tamper() {
  Log::Stored& last = up_.entries().back();
  if (d_ == Defect::kBrokenChain) {
    v1::EntryBody b = last.parsed;
    b.set_prev_hash(std::string(32, '\x07'));
    up_.entries().pop_back();
    up_.Store(std::move(b));
  } else if (d_ == Defect::kBadSignature) {
    last.signature[5] ^= 0x01;
  }
  return absl::OkStatus();
}

inline DomainGraph AdcChain::Graph() {
  DomainGraph g;
  for (Log* log : logs()) {
    auto verifier = *Ed25519Verifier::New(absl::string_view(
        reinterpret_cast<const char*>(log->signer().public_key().data()), 32));
    std::shared_ptr<Ed25519Verifier> v(std::move(verifier));
    auto check = [v](absl::string_view, absl::string_view,
                     absl::string_view body, absl::string_view sig) {
      return v->Verify(sig, absl::StrCat("segledger/v1/entry\n", body));
    };
    for (const auto& e : log->entries()) {
      absl::Status st =
          g.AddSigned(log->party().origin, e.body, e.signature, check);
      if (!st.ok()) std::abort();
    }
  }
  if (d_ == Defect::kEquivocation) {
    v1::EntryBody fork = up_.entries().back().parsed;
    *fork.mutable_recorded_at() = Ts(T(36));
    std::string bytes;
    fork.SerializeToString(&bytes);
    g.Add(up_.party().origin, fork.index(), LeafHash(bytes), fork);
  }
  return g;
}

// A correction on `log`, at `t`, saying its entry `index` did not occur.
inline v1::Record VoidRec(Log& log, uint64_t index, absl::Time t = T(150)) {
  v1::Record r;
  auto* x = r.mutable_correction();
  *x->mutable_header() = Header(log.party(), t);
  x->mutable_corrects()->set_origin(log.party().origin);
  x->mutable_corrects()->set_index(index);
  x->mutable_corrects()->set_leaf_hash(
      std::string(HashBytes(log.entries()[index].leaf)));
  x->set_reason(v1::CORRECTION_REASON_DID_NOT_OCCUR);
  x->set_explanation("recorded in error");
  return r;
}

// A chain of `n` transformations L0 -> L1 -> ... -> Ln in one log, each
// lot Li (i < n) also dispatched in transfer Ti that nobody received.
inline DomainGraph LongChain(int n) {
  DomainGraph g;
  uint64_t index = 0;
  auto add = [&](v1::Record r) {
    v1::EntryBody b;
    b.set_log_origin("x/log");
    b.set_index(index);
    *b.mutable_record() = std::move(r);
    g.Add("x/log", index, Sha256(absl::StrCat("e", index)), std::move(b));
    ++index;
  };
  for (int i = 0; i < n; ++i) {
    v1::Record t;
    t.mutable_transformation()->add_inputs()->set_lot_id(absl::StrCat("L", i));
    t.mutable_transformation()->add_outputs()->set_lot_id(
        absl::StrCat("L", i + 1));
    add(t);
    v1::Record d;
    d.mutable_dispatch()->set_transfer_id(absl::StrCat("T", i));
    d.mutable_dispatch()->add_containers()->set_lot_id(absl::StrCat("L", i));
    add(d);
  }
  return g;
}

}  // namespace segledger::domain::testing

#endif  // SEGLEDGER_TESTS_LEDGER_DOMAIN_ADC_SCENARIO_H_
