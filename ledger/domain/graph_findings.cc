// DomainGraph::Findings: every kind of DOMAIN.md "Queries" item 5 over the
// entries of the graph. Each check is one function of FindingScanner.
#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "ledger/domain/graph.h"
#include "ledger/domain/rule_context.h"
#include "ledger/domain/validate.h"

namespace segledger::domain {
namespace {

// |sent - got| <= sent * percent / 100 (exact decimals, truncated to 6
// digits; an overflow counts as beyond tolerance).
bool WithinTolerance(Decimal sent, Decimal got, Decimal percent) {
  if (sent == got) return true;
  auto diff = sent.Sub(got);
  auto allowed = sent.Abs().Mul(percent);
  if (!diff.ok() || !allowed.ok()) return false;
  auto limit = allowed->Div(Decimal::FromMicros(100 * Decimal::kOne));
  return limit.ok() && diff->Abs() <= *limit;
}

}  // namespace

class FindingScanner {
 public:
  FindingScanner(const DomainGraph& g, const FindingOptions& o)
      : g_(g), o_(o) {}

  std::vector<DomainFinding> Run() {
    out_ = g_.add_findings_;
    ChainAndKeys();
    IndexDeviations();
    for (const auto& e : g_.entries_) {
      // A record corrected as "did not occur" is judged by nothing but the
      // chain and key checks above (its correction is in the timeline).
      if (g_.DidNotOccur(*e)) continue;
      const v1::Record& r = e->body.record();
      if (r.has_dispatch()) Dispatch(*e);
      if (r.has_receipt()) Receipt(*e);
      if (r.has_transport_condition_report()) Excursion(*e);
      if (r.has_lot_produced() || r.has_transformation()) Production(*e);
      if (r.has_transformation()) Inputs(*e);
      if (r.has_qa_release()) MarketRelease(*e);
      Late(*e);
      uncounted_lots_.Add(r);
    }
    Balances();
    return std::move(out_);
  }

 private:
  using E = GraphEntry;

  // The records of each deviation. A deviation id is its party's: it is
  // raised and updated only by records of one log, so the key is (log
  // origin, deviation id) - the same id in another log is another
  // deviation. Each list is in log order.
  void IndexDeviations() {
    for (const auto& x : g_.entries_) {
      const v1::Record& r = x->body.record();
      if (r.has_deviation() && !g_.DidNotOccur(*x)) {
        deviations_[{x->origin, r.deviation().deviation_id()}].push_back(
            x.get());
      }
    }
    for (auto& [key, xs] : deviations_) {
      std::sort(xs.begin(), xs.end(),
                [](const E* a, const E* b) { return a->index < b->index; });
    }
  }

  void Report(DomainFindingKind k, std::string msg, std::vector<const E*> es) {
    DomainFinding f{k, DefaultSeverityOf(k), std::move(msg), {}};
    for (const E* e : es) f.records.push_back(e->Ref());
    out_.push_back(std::move(f));
  }

  // Broken chain and key validity, per log in index order. As
  // ledger/verifier.cc: a key is invalid for entries recorded at or after
  // its revocation's effective_at (which may lie in the past: entries the
  // key signed before the revocation was recorded are findings too) and
  // for entries after the rotation that retired it.
  void ChainAndKeys() {
    for (const auto& [origin, log] : g_.by_pos_) {
      std::map<std::string, absl::Time> retired;  // key -> first invalid time
      // key -> index of its first revocation: it signs nothing after that
      // entry, whatever recorded_at a thief writes (verifier.cc agrees).
      std::map<std::string, uint64_t> revoked_by;
      // key -> the entries it validly signed so far, for a revocation
      // reaching back.
      std::map<std::string, std::vector<const E*>> uses;
      const E* prev = nullptr;
      for (const auto& [index, e] : log) {
        const v1::EntryBody& b = e->body;
        if (b.log_origin() != origin || b.index() != index ||
            (prev != nullptr && prev->index + 1 == index &&
             b.prev_hash() != HashBytes(prev->leaf_hash))) {
          std::vector<const E*> es{e};
          if (prev != nullptr) es.insert(es.begin(), prev);
          Report(DomainFindingKind::kBrokenChain,
                 absl::StrCat(origin, " index ", index,
                              " does not chain to the entry before it"),
                 es);
        }
        auto k = retired.find(b.key_name());
        auto by = revoked_by.find(b.key_name());
        if ((k != retired.end() &&
             FromProtoTime(b.recorded_at()) >= k->second) ||
            (by != revoked_by.end() && index > by->second)) {
          ReportKeyUse(*e);
        } else {
          uses[b.key_name()].push_back(e);
        }
        const v1::Record& r = b.record();
        if (r.has_key_revocation()) {
          const std::string& key = r.key_revocation().key_name();
          const absl::Time from =
              r.key_revocation().has_effective_at()
                  ? FromProtoTime(r.key_revocation().effective_at())
                  : FromProtoTime(b.recorded_at());
          Retire(retired, key, from);
          revoked_by.emplace(key, index);  // the first revocation counts
          std::vector<const E*>& used = uses[key];
          auto reached = [&](const E* x) {
            if (FromProtoTime(x->body.recorded_at()) < from) return false;
            ReportKeyUse(*x);
            return true;
          };
          used.erase(std::remove_if(used.begin(), used.end(), reached),
                     used.end());
        } else if (r.has_key_rotation()) {
          Retire(retired, r.key_rotation().old_key_name(),
                 FromProtoTime(b.recorded_at()) + absl::Nanoseconds(1));
        }
        prev = e;
      }
    }
  }

  static void Retire(std::map<std::string, absl::Time>& retired,
                     const std::string& key, absl::Time from) {
    auto [it, fresh] = retired.emplace(key, from);
    if (!fresh) it->second = std::min(it->second, from);
  }

  void ReportKeyUse(const E& e) {
    Report(DomainFindingKind::kKeyOutsideValidity,
           absl::StrCat(e.origin, " index ", e.index, " is signed by key ",
                        e.body.key_name(), " after it stopped being valid"),
           {&e});
  }

  const E* DispatchOf(const E& receipt) {
    return g_.ByRef(receipt.body.record().receipt().dispatch());
  }

  void Dispatch(const E& e) {
    const v1::Dispatch& d = e.body.record().dispatch();
    bool received = false;
    for (const E* x : g_.OfTransfer(d.transfer_id())) {
      if (g_.DidNotOccur(*x)) continue;  // voided by a correction
      received =
          received || (x->body.record().has_receipt() && DispatchOf(*x) == &e);
    }
    absl::Time deadline = FromProtoTime(d.planned_arrival());
    for (const auto& c : d.containers()) {
      absl::Duration transit = MaxTransit(c.lot_id());
      if (transit > absl::ZeroDuration()) {
        deadline = std::max(deadline, e.EventTime() + transit);
      }
    }
    if (!received && o_.now > deadline) {
      Report(DomainFindingKind::kDispatchNotReceived,
             absl::StrCat("transfer ", d.transfer_id(),
                          " has no receipt past its deadline ",
                          absl::FormatTime(deadline)),
             {&e});
    }
    for (const auto& c : d.containers()) {
      if (!ReleasedBefore(e, c.lot_id(), v1::RELEASE_KIND_SITE_RELEASE)) {
        Report(DomainFindingKind::kDispatchBeforeRelease,
               absl::StrCat("lot ", c.lot_id(), " dispatched in transfer ",
                            d.transfer_id(), " without site QA release"),
               {&e});
      }
    }
  }

  absl::Duration MaxTransit(const std::string& lot) {
    for (const E* x : g_.OfLot(lot)) {
      if (g_.DidNotOccur(*x)) continue;  // voided by a correction
      const v1::Record& r = x->body.record();
      std::string product, stage;
      if (r.has_lot_produced()) {
        product = r.lot_produced().product_id();
        stage = r.lot_produced().stage_id();
      } else if (r.has_transformation()) {
        product = r.transformation().product_id();
        stage = r.transformation().stage_id();
      } else {
        continue;
      }
      const v1::ProductRegistration* p = g_.Product(product);
      const v1::Stage* s = p == nullptr ? nullptr : FindStage(*p, stage);
      if (s != nullptr) return absl::Hours(s->max_transit_hours());
    }
    return absl::ZeroDuration();
  }

  // Whether `lot` has, in e's log before e, a RELEASED QA release of
  // `kind` given since the lot last arrived there and not followed by a
  // REJECTED one (docs/rules.md lot lifecycle: a lot received again, e.g.
  // a return, needs a new acceptance and a new site release).
  bool ReleasedBefore(const E& e, const std::string& lot,
                      v1::ReleaseKind kind) {
    const E* arrival = nullptr;   // latest receipt of the lot
    const E* decision = nullptr;  // latest released or rejected decision
    auto later = [](const E* a, const E* b) {
      return a == nullptr || a->index < b->index;
    };
    for (const E* x : g_.OfLot(lot)) {
      if (g_.DidNotOccur(*x)) continue;  // voided by a correction
      if (x->origin != e.origin || x->index >= e.index) continue;
      const v1::Record& r = x->body.record();
      if (r.has_receipt()) {
        for (const auto& c : r.receipt().containers()) {
          if (c.lot_id() == lot && later(arrival, x)) arrival = x;
        }
      } else if (r.has_qa_release() && r.qa_release().lot_id() == lot &&
                 r.qa_release().kind() == kind &&
                 (r.qa_release().decision() == v1::RELEASE_DECISION_RELEASED ||
                  r.qa_release().decision() == v1::RELEASE_DECISION_REJECTED) &&
                 later(decision, x)) {
        decision = x;
      }
    }
    return decision != nullptr &&
           decision->body.record().qa_release().decision() ==
               v1::RELEASE_DECISION_RELEASED &&
           (arrival == nullptr || arrival->index < decision->index);
  }

  void Receipt(const E& e);
  void Balances();
  // Adds to `es` the entries of the quantities of `uncounted` about `lot`
  // it does not hold yet; returns their DescribeUncounted joined by "; "
  // (empty: none about the lot).
  std::string Uncounted(const std::vector<UncountedQuantity>& uncounted,
                        absl::string_view lot, std::vector<const E*>* es);
  void Excursion(const E& e);
  void Production(const E& e);
  void MahStaff(const E& e, const std::string& mah, absl::Time t);
  struct HoldLimit {
    absl::Time at = absl::InfiniteFuture();
    const E* maker = nullptr;  // the record the limit comes from
    std::string what;          // "hold-until", "expiry" or the stage's
  };
  HoldLimit HoldLimitOf(const std::string& lot);
  void Inputs(const E& e);
  void MarketRelease(const E& e);
  void Late(const E& e) {
    const v1::RecordHeader* h = HeaderOf(e.body.record());
    if (h == nullptr || !h->has_event_time()) return;
    absl::Duration delay = FromProtoTime(e.body.recorded_at()) - e.EventTime();
    if (delay > o_.max_capture_delay) {
      Report(DomainFindingKind::kLateRecord,
             absl::StrCat(RecordKindName(e.body.record()), " recorded ",
                          absl::FormatDuration(delay), " after the event"),
             {&e});
    } else if (-delay > kMaxEventAhead) {
      // Not contemporaneous either: recorded before it happened (a log
      // whose rules did not refuse it, R-EVENT-TIME).
      Report(
          DomainFindingKind::kLateRecord,
          absl::StrCat(RecordKindName(e.body.record()), " recorded ",
                       absl::FormatDuration(-delay), " before its event time"),
          {&e});
    }
  }

  const DomainGraph& g_;
  const FindingOptions& o_;
  std::vector<DomainFinding> out_;
  // (origin, deviation id) -> its records in log order.
  std::map<std::pair<std::string, std::string>, std::vector<const E*>>
      deviations_;
  DomainGraph::UncountedLots uncounted_lots_;  // fed by Run, read by Balances
};

void FindingScanner::Receipt(const E& e) {
  const v1::Receipt& r = e.body.record().receipt();
  const E* de = DispatchOf(e);
  if (de == nullptr || !de->body.record().has_dispatch()) {
    Report(DomainFindingKind::kReceiptWithoutDispatch,
           absl::StrCat("receipt of transfer ", r.transfer_id(),
                        " names no known dispatch (", r.dispatch().origin(),
                        " index ", r.dispatch().index(), ")"),
           {&e});
    return;
  }
  const v1::Dispatch& d = de->body.record().dispatch();
  if (d.to_site_id() != r.header().site_id()) {
    Report(
        DomainFindingKind::kReceivedAtWrongSite,
        absl::StrCat("transfer ", d.transfer_id(), " was sent to ",
                     d.to_site_id(), " but received at ", r.header().site_id()),
        {de, &e});
  }
  std::map<std::string, const v1::ShipmentContainer*> sent;
  for (const auto& c : d.containers()) sent[c.container_id()] = &c;
  std::set<std::string> got;
  bool container_bad = false, seal_bad = false;
  for (const auto& c : r.containers()) {
    got.insert(c.container_id());
    auto it = sent.find(c.container_id());
    if (it == sent.end() || it->second->lot_id() != c.lot_id()) {
      container_bad = true;
      continue;
    }
    std::multiset<std::string> a(it->second->seal_ids().begin(),
                                 it->second->seal_ids().end());
    std::multiset<std::string> b(c.seal_ids().begin(), c.seal_ids().end());
    if (!c.seals_match() || !c.seals_intact() || (!b.empty() && a != b)) {
      seal_bad = true;
    }
  }
  container_bad = container_bad || got.size() != sent.size();
  if (container_bad) {
    Report(DomainFindingKind::kContainerMismatch,
           absl::StrCat("transfer ", d.transfer_id(),
                        ": containers received differ from those dispatched"),
           {de, &e});
  }
  if (seal_bad) {
    Report(DomainFindingKind::kSealMismatch,
           absl::StrCat("transfer ", d.transfer_id(),
                        ": seals differ, broken or not matching"),
           {de, &e});
  }
  ShipmentBalance sb = g_.Shipment(d.transfer_id());
  for (const auto& [lot, q] : sb.lots) {
    // Sums that leave a quantity out are neither a match nor a mismatch.
    std::vector<const E*> es{de, &e};
    std::string left_out = Uncounted(sb.uncounted, lot, &es);
    if (!left_out.empty()) {
      Report(DomainFindingKind::kUncountedQuantity,
             absl::StrCat("transfer ", d.transfer_id(), " lot ", lot,
                          ": dispatched and received cannot be compared in ",
                          sb.units[lot], ": ", left_out),
             es);
      continue;
    }
    // DOMAIN.md "Queries" 4-5: dispatched - received within the product's
    // mass-balance tolerance is not a mismatch.
    const Decimal tolerance = g_.MassBalanceTolerancePercent(lot);
    if (!container_bad && !WithinTolerance(q.first, q.second, tolerance)) {
      Report(
          DomainFindingKind::kQuantityMismatch,
          absl::StrCat("transfer ", d.transfer_id(), " lot ", lot, ": ",
                       q.first.ToString(), " dispatched, ", q.second.ToString(),
                       " received (tolerance ", tolerance.ToString(), "%)"),
          {de, &e});
    }
  }
}

std::string FindingScanner::Uncounted(
    const std::vector<UncountedQuantity>& uncounted, absl::string_view lot,
    std::vector<const E*>* es) {
  std::string out;
  for (const UncountedQuantity& u : uncounted) {
    if (u.lot_id != lot) continue;
    absl::StrAppend(&out, out.empty() ? "" : "; ", DescribeUncounted(u));
    const E* x = g_.ByRef(u.record);
    if (x != nullptr && std::find(es->begin(), es->end(), x) == es->end()) {
      es->push_back(x);
    }
  }
  return out;
}

// DOMAIN.md "Queries" 4: a lot whose mass balance leaves a quantity out
// (a unit that does not convert to the lot's) is not balanced, whatever
// its sums say.
void FindingScanner::Balances() {
  for (const std::string& lot : uncounted_lots_.lots()) {
    LotBalance b = g_.MassBalance(lot);
    if (b.uncounted.empty()) continue;
    std::vector<const E*> es;
    std::string left_out = Uncounted(b.uncounted, lot, &es);
    Report(DomainFindingKind::kUncountedQuantity,
           absl::StrCat("lot ", lot, ": mass balance in ", b.unit,
                        " is incomplete: ", left_out),
           es);
  }
}

void FindingScanner::Excursion(const E& e) {
  const v1::TransportConditionReport& t =
      e.body.record().transport_condition_report();
  const E* de = nullptr;
  for (const E* x : g_.OfTransfer(t.transfer_id())) {
    if (g_.DidNotOccur(*x)) continue;  // voided by a correction
    if (x->body.record().has_dispatch()) de = x;
  }
  bool excursion = t.seconds_out_of_range() > 0 || t.alarms_size() > 0;
  if (de != nullptr) {
    const auto& range = de->body.record().dispatch().required_temperature();
    excursion = excursion ||
                t.min_centi_celsius() < range.min_centi_celsius() ||
                t.max_centi_celsius() > range.max_centi_celsius();
  }
  if (!excursion) return;
  for (const E* x : g_.OfTransfer(t.transfer_id())) {
    if (g_.DidNotOccur(*x)) continue;              // voided by a correction
    if (x->body.record().has_deviation()) return;  // handled
  }
  std::vector<const E*> es{&e};
  if (de != nullptr) es.insert(es.begin(), de);
  Report(DomainFindingKind::kUnhandledExcursion,
         absl::StrCat("transfer ", t.transfer_id(), " logger ", t.logger_id(),
                      ": temperature excursion with no deviation"),
         es);
}

void FindingScanner::Production(const E& e) {
  const v1::Record& r = e.body.record();
  const v1::RecordHeader& h = *HeaderOf(r);
  const std::string& product_id = r.has_lot_produced()
                                      ? r.lot_produced().product_id()
                                      : r.transformation().product_id();
  const std::string& stage_id = r.has_lot_produced()
                                    ? r.lot_produced().stage_id()
                                    : r.transformation().stage_id();
  const absl::Time t = e.EventTime();
  const v1::ProductRegistration* p = g_.Product(product_id);
  if (p != nullptr) {
    const v1::Stage* s = FindStage(*p, stage_id);
    bool ok = s != nullptr &&
              std::count(s->approved_site_ids().begin(),
                         s->approved_site_ids().end(), h.site_id()) > 0;
    const v1::SiteRegistration* site = g_.Site(h.site_id());
    if (ok && site != nullptr) {
      ok = false;
      for (const auto& a : site->authorisations()) {
        ok = ok || (a.product_id() == product_id && a.stage_id() == stage_id &&
                    InPeriod(a.validity(), t));
      }
    }
    if (!ok) {
      Report(DomainFindingKind::kUnauthorisedSite,
             absl::StrCat("stage ", stage_id, " of ", product_id,
                          " done at unauthorised site ", h.site_id()),
             {&e});
    }
  }
  // R-CMO-EXPERIENCE (rules.cc CmoExperience): a party registered as CMO,
  // or producing for another party's product whatever its registered role,
  // by its registration in its own log.
  const E* party = g_.PartyOf(e.origin, h.party_id());
  const bool for_another =
      p != nullptr && p->header().party_id() != h.party_id();
  if (party != nullptr) {
    const auto& reg = party->body.record().party_registration();
    if (reg.role() == v1::PARTY_ROLE_CMO || for_another) {
      if (!reg.has_first_commercial_production()) {
        Report(DomainFindingKind::kCmoExperience,
               absl::StrCat("CMO ", h.party_id(),
                            " has no first commercial biologics production "
                            "on record"),
               {party, &e});
      } else {
        absl::CivilSecond first = absl::ToCivilSecond(
            FromProtoTime(reg.first_commercial_production()),
            absl::UTCTimeZone());
        absl::CivilSecond need(first.year() + o_.cmo_min_experience_years,
                               first.month(), first.day(), first.hour(),
                               first.minute(), first.second());
        if (absl::FromCivil(need, absl::UTCTimeZone()) > t) {
          Report(
              DomainFindingKind::kCmoExperience,
              absl::StrCat("CMO ", h.party_id(), " has under ",
                           o_.cmo_min_experience_years, " years of production"),
              {party, &e});
        }
      }
    }
  }
  if (p != nullptr) MahStaff(e, p->header().party_id(), t);
}

// R-MAH-STAFF (rules.cc MahStaff, rules_lots.cc MahStaffOnSite): at a site
// not of the MAH's own party, the MAH's on-site QA, technical and QP staff
// assigned to the site at the event time, from the assignments the rule
// saw - those of the record's own log before it, the latest per (site,
// person) superseding the earlier ones.
void FindingScanner::MahStaff(const E& e, const std::string& mah,
                              absl::Time t) {
  const v1::RecordHeader& h = *HeaderOf(e.body.record());
  if (mah == h.party_id()) return;
  std::map<std::string, const E*> latest;  // person -> latest assignment
  for (const E* x : g_.personnel_) {
    if (g_.DidNotOccur(*x)) continue;  // voided by a correction
    const auto& a = x->body.record().personnel_assignment();
    if (x->origin != e.origin || x->index >= e.index ||
        a.assigned_site_id() != h.site_id()) {
      continue;
    }
    auto [it, fresh] = latest.emplace(a.person_id(), x);
    if (!fresh && it->second->index < x->index) it->second = x;
  }
  int staff = 0;
  for (const auto& [person, x] : latest) {
    const auto& a = x->body.record().personnel_assignment();
    bool role_ok = a.role() == v1::PERSONNEL_ROLE_ON_SITE_QA ||
                   a.role() == v1::PERSONNEL_ROLE_TECHNICAL ||
                   a.role() == v1::PERSONNEL_ROLE_QP;
    if (role_ok && a.employer_party_id() == mah && InPeriod(a.period(), t)) {
      ++staff;
    }
  }
  if (staff < o_.min_mah_staff_on_site) {
    Report(DomainFindingKind::kInsufficientMahStaff,
           absl::StrCat(staff, " MAH staff on site ", h.site_id(),
                        " during production; ", o_.min_mah_staff_on_site,
                        " required"),
           {&e});
  }
}

// The time after which `lot` may no longer be used: the earliest of its
// hold-until, its expiry, and its end (production end, or the end of the
// transformation that made it) plus its stage's hold time (records.proto
// Stage.hold_time_hours: max time from lot end to use; 0: none).
FindingScanner::HoldLimit FindingScanner::HoldLimitOf(const std::string& lot) {
  HoldLimit out;
  auto tighten = [&](absl::Time t, const E* x, std::string what) {
    if (t < out.at) out = HoldLimit{t, x, std::move(what)};
  };
  auto apply = [&](const E* x, const std::string& product,
                   const std::string& stage, absl::Time end,
                   const google::protobuf::Timestamp* hold_until,
                   const google::protobuf::Timestamp* expiry) {
    if (hold_until != nullptr) {
      tighten(FromProtoTime(*hold_until), x, "hold-until");
    }
    if (expiry != nullptr) tighten(FromProtoTime(*expiry), x, "expiry");
    const v1::ProductRegistration* p = g_.Product(product);
    const v1::Stage* s = p == nullptr ? nullptr : FindStage(*p, stage);
    if (s != nullptr && s->hold_time_hours() > 0) {
      tighten(end + absl::Hours(s->hold_time_hours()), x,
              absl::StrCat("stage ", stage, " hold time of ",
                           s->hold_time_hours(), " h"));
    }
  };
  for (const E* x : g_.OfLot(lot)) {
    if (g_.DidNotOccur(*x)) continue;  // voided by a correction
    const v1::Record& r = x->body.record();
    if (r.has_lot_produced() && r.lot_produced().lot_id() == lot) {
      const v1::LotProduced& lp = r.lot_produced();
      absl::Time end = lp.production().has_until()
                           ? FromProtoTime(lp.production().until())
                           : x->EventTime();
      apply(x, lp.product_id(), lp.stage_id(), end,
            lp.has_hold_until() ? &lp.hold_until() : nullptr,
            lp.has_expiry() ? &lp.expiry() : nullptr);
    }
    if (r.has_transformation()) {
      const v1::Transformation& t = r.transformation();
      absl::Time end = t.period().has_until()
                           ? FromProtoTime(t.period().until())
                           : x->EventTime();
      for (const auto& o : t.outputs()) {
        if (o.lot_id() != lot) continue;
        apply(x, t.product_id(), t.stage_id(), end,
              o.has_hold_until() ? &o.hold_until() : nullptr,
              o.has_expiry() ? &o.expiry() : nullptr);
      }
    }
  }
  return out;
}

void FindingScanner::Inputs(const E& e) {
  const v1::Transformation& t = e.body.record().transformation();
  const absl::Time used = FromProtoTime(t.period().from());
  for (const auto& in : t.inputs()) {
    bool received_here = false;
    for (const E* x : g_.OfLot(in.lot_id())) {
      if (g_.DidNotOccur(*x)) continue;  // voided by a correction
      if (x->body.record().has_receipt() && x->origin == e.origin &&
          x->index < e.index) {
        received_here = true;
      }
    }
    if (received_here &&
        !ReleasedBefore(e, in.lot_id(), v1::RELEASE_KIND_INCOMING_ACCEPTANCE)) {
      Report(DomainFindingKind::kUsedBeforeAcceptance,
             absl::StrCat("lot ", in.lot_id(), " consumed by ",
                          t.transformation_id(), " before incoming acceptance"),
             {&e});
    }
    const HoldLimit limit = HoldLimitOf(in.lot_id());
    if (used > limit.at) {
      Report(DomainFindingKind::kInputPastHoldTime,
             absl::StrCat("lot ", in.lot_id(), " used ",
                          absl::FormatDuration(used - limit.at),
                          " past its hold time (", limit.what, ")"),
             {limit.maker, &e});
    }
  }
}

void FindingScanner::MarketRelease(const E& e) {
  const v1::QaRelease& rel = e.body.record().qa_release();
  if (rel.kind() != v1::RELEASE_KIND_MAH_MARKET_RELEASE ||
      rel.decision() != v1::RELEASE_DECISION_RELEASED) {
    return;
  }
  TraceResult trace = g_.Backward(rel.lot_id());
  // Each deviation's state at the release: its last record (in log order)
  // with an event time not after the release's.
  for (const auto& [key, xs] : deviations_) {
    const E* x = nullptr;
    for (const E* d : xs) {
      if (d->EventTime() <= e.EventTime()) x = d;
    }
    if (x == nullptr) continue;
    const v1::Deviation& d = x->body.record().deviation();
    if (d.status() == v1::DEVIATION_STATUS_CLOSED) continue;
    bool upstream = false;
    for (const auto& l : d.affected_lot_ids())
      upstream |= trace.lots.count(l) > 0;
    for (const auto& t : d.affected_transfer_ids()) {
      upstream |= trace.transfers.count(t) > 0;
    }
    if (upstream) {
      Report(DomainFindingKind::kReleaseWithOpenDeviation,
             absl::StrCat("DP lot ", rel.lot_id(),
                          " released to market with deviation ", key.second,
                          " of ", key.first, " open"),
             {x, &e});
    }
  }
}

std::vector<DomainFinding> DomainGraph::Findings(
    const FindingOptions& options) const {
  return FindingScanner(*this, options).Run();
}

}  // namespace segledger::domain
