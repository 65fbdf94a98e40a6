// Rules at append (issue 4 item 3): each rule accepts its valid case and
// refuses each invalid one with its rule id, and a refusal writes nothing.
// Also pilot parameters in finding mode, and rebuild == incremental state.
#include "ledger/domain/hook.h"

#include <functional>
#include <map>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "ledger/domain/rules.h"
#include "tests/ledger/domain/adc_scenario.h"
#include "tests/support/test_util.h"

namespace segledger::domain {
namespace {

using testing::AdcChain;
using testing::Header;
using testing::Log;
using testing::Lot;
using testing::Q;
using testing::T;

// Builds the record to try (after optional setup appends on `c`) and says
// on which log.
using Make = std::function<std::pair<Log*, v1::Record>(AdcChain& c)>;

struct RuleCase {
  std::string name;
  std::string rule;  // "" when the record must be accepted
  Make make;
};

v1::Record StatusRec(const testing::Party& p, const std::string& lot,
                     v1::StatusAction a) {
  v1::Record r;
  auto* s = r.mutable_status_change();
  *s->mutable_header() = Header(p, T(150));
  s->set_lot_id(lot);
  s->set_action(a);
  s->set_reason("test");
  return r;
}

// A recall on `p`'s log triggered by `triggers`, with a reason and level.
v1::Record RecallRec(const testing::Party& p,
                     const std::vector<std::string>& triggers,
                     const std::vector<std::string>& scope) {
  v1::Record r;
  auto* x = r.mutable_recall();
  *x->mutable_header() = Header(p, T(150));
  x->set_recall_id("RC-1");
  for (const auto& id : triggers) x->add_trigger_lot_ids(id);
  x->set_reason("sterility failure");
  x->set_level(v1::RECALL_LEVEL_I);
  for (const auto& id : scope) x->add_scope_lot_ids(id);
  return r;
}

// The index of the last entry of `log` that is a released QA release of
// `kind` for `lot`.
uint64_t LastRelease(Log& log, const std::string& lot, v1::ReleaseKind kind) {
  for (size_t i = log.entries().size(); i-- > 0;) {
    const v1::Record& r = log.entries()[i].parsed.record();
    if (r.has_qa_release() && r.qa_release().lot_id() == lot &&
        r.qa_release().kind() == kind) {
      return i;
    }
  }
  std::abort();
}

using testing::VoidRec;

// As ShipAndReceive, failing the test with the refusal instead.
absl::Status Ship7AndReceive(AdcChain& c, Log& from, Log& to,
                             const std::string& lot, v1::Quantity q,
                             absl::Time t) {
  v1::Record ship = c.Ship(from.party(), to.party(), "T7", "C7", lot, q,
                           testing::Range(-8000, -6000), t, t);
  SEG_ASSIGN_OR_RETURN(v1::EntryRef ref, from.Append(ship, t));
  c.evidence().AddDispatch(ref, ship.dispatch());
  return to
      .Append(c.Receive(to.party(), ref, "T7", "C7", lot, q, "SEAL-C7", t), t)
      .status();
}

void MustAppend(Log& log, v1::Record r, absl::Time t) {
  auto ref = log.Append(std::move(r), t);
  if (!ref.ok()) std::abort();
}

// `from` dispatches `q` of `lot` to `to` as transfer `id`, and `to`
// receives it (quarantined).
void ShipAndReceive(AdcChain& c, Log& from, Log& to, const std::string& id,
                    const std::string& lot, v1::Quantity q, absl::Time t) {
  const std::string container = "C-" + id;
  v1::Record ship = c.Ship(from.party(), to.party(), id, container, Lot(lot), q,
                           testing::Range(-8000, -6000), t, t);
  auto ref = from.Append(ship, t);
  if (!ref.ok()) std::abort();
  c.evidence().AddDispatch(*ref, ship.dispatch());
  MustAppend(to,
             c.Receive(to.party(), *ref, id, container, Lot(lot), q,
                       "SEAL-" + container, t),
             t);
}

// The index of the last entry of `log` whose record `is` accepts.
uint64_t LastEntry(Log& log, const std::function<bool(const v1::Record&)>& is) {
  for (size_t i = log.entries().size(); i-- > 0;) {
    if (is(log.entries()[i].parsed.record())) return i;
  }
  std::abort();
}

uint64_t ReceiptOf(Log& log, const std::string& transfer) {
  return LastEntry(log, [&](const v1::Record& r) {
    return r.has_receipt() && r.receipt().transfer_id() == transfer;
  });
}

// The last transformation of `log` that made `out_lot`.
uint64_t TransformationOf(Log& log, const std::string& out_lot) {
  return LastEntry(log, [&](const v1::Record& r) {
    return r.has_transformation() &&
           r.transformation().outputs(0).lot_id() == out_lot;
  });
}

uint64_t DispatchOf(Log& log, const std::string& transfer) {
  return LastEntry(log, [&](const v1::Record& r) {
    return r.has_dispatch() && r.dispatch().transfer_id() == transfer;
  });
}

// The position of entry `index` of `log`.
v1::EntryRef RefOf(Log& log, uint64_t index) {
  v1::EntryRef ref;
  ref.set_origin(log.party().origin);
  ref.set_index(index);
  ref.set_leaf_hash(std::string(HashBytes(log.entries()[index].leaf)));
  return ref;
}

// Makes the fill site's receipt of T3 verified evidence, as its delivery
// to the downstream node does.
void HoldT3Receipt(AdcChain& c) {
  const uint64_t i = ReceiptOf(c.fill(), "T3");
  c.evidence().AddReceipt(RefOf(c.fill(), i),
                          c.fill().entries()[i].parsed.record().receipt());
}

std::vector<RuleCase> Cases() {
  const absl::Time t = T(150);
  std::vector<RuleCase> v;
  auto up_lot = [t](AdcChain& c, const std::string& stage,
                    const std::string& mat, const std::string& lot) {
    return std::make_pair(&c.up(),
                          c.Produced(c.up().party(), Lot(lot), stage,
                                     testing::Material(mat), Q("1", "H87"), t));
  };
  v.push_back({"StageAuthAccepts", "", [=](AdcChain& c) {
                 return up_lot(c, "cell-bank", "mcb", "MCB002");
               }});
  v.push_back({"StageNotApprovedForSite", "R-STAGE-AUTH",
               [=](AdcChain& c) { return up_lot(c, "fill", "dp", "DP009"); }});
  v.push_back({"StageUnknown", "R-STAGE-AUTH", [=](AdcChain& c) {
                 return up_lot(c, "no-such-stage", "mcb", "X1");
               }});
  // The site's authorisations run from 2024-01-01 (an event after their
  // end would also be after the record time, R-EVENT-TIME below).
  v.push_back(
      {"AuthorisationNotValidAtEvent", "R-STAGE-AUTH", [=](AdcChain& c) {
         auto p = up_lot(c, "cell-bank", "mcb", "MCB003");
         auto* h = p.second.mutable_lot_produced()->mutable_header();
         *h->mutable_event_time()->mutable_time() =
             testing::Ts(testing::Date(2023, 12, 1));
         return p;
       }});
  // The record time of every case is T(150) (RuleTest below).
  auto up_lot_at = [=](AdcChain& c, absl::Time event) {
    auto p = up_lot(c, "cell-bank", "mcb", "MCB005");
    auto* h = p.second.mutable_lot_produced()->mutable_header();
    *h->mutable_event_time()->mutable_time() = testing::Ts(event);
    return p;
  };
  v.push_back({"EventWithinClockSkewOfRecordTime", "", [=](AdcChain& c) {
                 return up_lot_at(c, T(150) + absl::Minutes(5));
               }});
  v.push_back({"EventAfterRecordTime", "R-EVENT-TIME", [=](AdcChain& c) {
                 return up_lot_at(c, T(150) + absl::Minutes(6));
               }});
  v.push_back({"EventLongAfterRecordTime", "R-EVENT-TIME", [=](AdcChain& c) {
                 return up_lot_at(c, testing::Date(2026, 7, 1));
               }});
  v.push_back({"WrongMaterialForStage", "R-STAGE-MATERIAL", [=](AdcChain& c) {
                 return up_lot(c, "cell-bank", "harvest", "MCB004");
               }});
  v.push_back({"LotIdReused", "R-LOT-UNIQUE", [=](AdcChain& c) {
                 return up_lot(c, "cell-bank", "mcb", "MCB001");
               }});
  // More R-PRODUCT-OWNER cases: authority_test.cc.
  v.push_back({"ProductRegisteredByACmo", "R-PRODUCT-OWNER", [](AdcChain& c) {
                 v1::Record r;
                 for (const auto& e : c.mah().entries()) {
                   if (e.parsed.record().has_product_registration()) {
                     r = e.parsed.record();
                   }
                 }
                 *r.mutable_product_registration()->mutable_header() =
                     Header(c.up().party(), T(150),
                            v1::SIGNATURE_MEANING_APPROVED, false);
                 return std::make_pair(&c.up(), r);
               }});
  // More R-MARKET-RELEASE cases: authority_test.cc.
  v.push_back({"MarketReleaseByACmo", "R-MARKET-RELEASE", [=](AdcChain& c) {
                 return std::make_pair(
                     &c.fill(),
                     c.Release(c.fill().party(), Lot("DP001"),
                               v1::RELEASE_KIND_MAH_MARKET_RELEASE, t));
               }});
  // A lot production corrected as "did not occur" before anything else
  // touched the lot frees its id; once the lot was used, the correction
  // is refused (void what used it first).
  auto void_last = [](Log& log) {
    MustAppend(log, VoidRec(log, log.entries().size() - 1), T(150));
  };
  v.push_back({"LotIdOfVoidedProductionReusedAccepts", "", [=](AdcChain& c) {
                 MustAppend(c.up(),
                            up_lot(c, "cell-bank", "mcb", "MCB002").second, t);
                 void_last(c.up());
                 return up_lot(c, "cell-bank", "mcb", "MCB002");
               }});
  v.push_back(
      {"VoidProductionOfAUsedLot", "R-CORRECTION-USED", [=](AdcChain& c) {
         MustAppend(c.up(), up_lot(c, "cell-bank", "mcb", "MCB002").second, t);
         const uint64_t made = c.up().entries().size() - 1;
         MustAppend(c.up(), c.Qc(c.up().party(), Lot("MCB002"), t, nullptr), t);
         return std::make_pair(&c.up(), VoidRec(c.up(), made));
       }});
  v.push_back(
      {"LotIdOfVoidedProductionUsedByVoidedEntriesOnlyReused", "",
       [=](AdcChain& c) {
         // ... and accepted once what used it is voided: the id is free.
         MustAppend(c.up(), up_lot(c, "cell-bank", "mcb", "MCB002").second, t);
         const uint64_t made = c.up().entries().size() - 1;
         MustAppend(c.up(), c.Qc(c.up().party(), Lot("MCB002"), t, nullptr), t);
         void_last(c.up());
         MustAppend(c.up(), VoidRec(c.up(), made), t);
         return up_lot(c, "cell-bank", "mcb", "MCB002");
       }});
  // A "did not occur" correction is final: saying it did not occur in
  // turn is refused (record the production again instead).
  v.push_back(
      {"VoidOfAVoidingCorrection", "R-CORRECTION-UNDO", [=](AdcChain& c) {
         MustAppend(c.up(), up_lot(c, "cell-bank", "mcb", "MCB002").second, t);
         void_last(c.up());
         return std::make_pair(&c.up(),
                               VoidRec(c.up(), c.up().entries().size() - 1));
       }});
  auto down_ship = [t](AdcChain& c, const std::string& lot, v1::Quantity q) {
    return std::make_pair(
        &c.down(),
        c.Ship(c.down().party(), c.fill().party(), "T7", "C7", Lot(lot), q,
               testing::Range(-8000, -6000), t, t + absl::Hours(12)));
  };
  v.push_back({"DispatchAccepts", "", [=](AdcChain& c) {
                 return down_ship(c, "DS001", Q("1", "KGM"));
               }});
  v.push_back({"DispatchAcceptsConvertedUnit", "", [=](AdcChain& c) {
                 return down_ship(c, "DS001", Q("1000", "GRM"));
               }});
  auto down_ship_as = [t](AdcChain& c, const std::string& transfer) {
    return std::make_pair(
        &c.down(),
        c.Ship(c.down().party(), c.fill().party(), transfer, "C7", Lot("DS001"),
               Q("0.5", "KGM"), testing::Range(-8000, -6000), t, t));
  };
  v.push_back({"DispatchReusesItsTransferId", "R-TRANSFER-UNIQUE",
               [=](AdcChain& c) { return down_ship_as(c, "T3"); }});
  v.push_back({"DispatchReusesAReceivedTransferId", "R-TRANSFER-UNIQUE",
               [=](AdcChain& c) { return down_ship_as(c, "T1"); }});
  v.push_back({"DispatchLotNotHeld", "R-LOT-HELD", [=](AdcChain& c) {
                 return down_ship(c, "NOPE1", Q("1", "KGM"));
               }});
  v.push_back({"DispatchIncompatibleUnit", "R-UNITS", [=](AdcChain& c) {
                 return down_ship(c, "DS001", Q("1", "H87"));
               }});
  v.push_back({"DispatchMoreThanOnHand", "R-DISPATCH-QTY", [=](AdcChain& c) {
                 return down_ship(c, "DS001", Q("1.000001", "KGM"));
               }});
  v.push_back({"DispatchWhileOnHold", "R-DISPATCH-STATUS", [=](AdcChain& c) {
                 MustAppend(c.down(),
                            StatusRec(c.down().party(), Lot("DS001"),
                                      v1::STATUS_ACTION_HOLD),
                            t);
                 return down_ship(c, "DS001", Q("0.5", "KGM"));
               }});
  v.push_back(
      {"DispatchWithoutSiteRelease", "R-DISPATCH-RELEASE", [=](AdcChain& c) {
         return std::make_pair(
             &c.up(),
             c.Ship(c.up().party(), c.down().party(), "T8", "C8", Lot("MCB001"),
                    Q("1", "H87"), testing::Range(-19600, -15000), t, t));
       }});
  v.push_back({"DispatchToSiteNotOfTheNextStage", "R-DISPATCH-DESTINATION",
               [=](AdcChain& c) {
                 // Drug substance goes to fill-finish, not upstream.
                 return std::make_pair(
                     &c.down(), c.Ship(c.down().party(), c.up().party(), "T6",
                                       "C6", Lot("DS001"), Q("0.5", "KGM"),
                                       testing::Range(-8000, -6000), t, t));
               }});
  // Upstream ships a released harvest (for downstream) together with cell
  // bank vials, whose next stage (the culture) only upstream may run.
  auto up_ship_two = [t](AdcChain& c, const std::string& second_lot,
                         v1::Quantity second_q) {
    const testing::Party& p = c.up().party();
    MustAppend(c.up(),
               c.Transform(p, "upstream", {{Lot("MCB001"), Q("1", "H87")}},
                           Lot("HV002"), testing::Material("harvest"),
                           Q("100", "LTR"), t - absl::Hours(2), t),
               t);
    for (const char* lot : {"HV002", "MCB001"}) {
      MustAppend(c.up(),
                 c.Release(p, Lot(lot), v1::RELEASE_KIND_SITE_RELEASE, t), t);
    }
    v1::Record r = c.Ship(p, c.down().party(), "T9", "C9", Lot("HV002"),
                          Q("50", "LTR"), testing::Range(200, 800), t, t);
    auto* second = r.mutable_dispatch()->add_containers();
    *second = r.dispatch().containers(0);
    second->set_container_id("C9-2");
    second->set_lot_id(Lot(second_lot));
    *second->mutable_quantity() = second_q;
    return std::make_pair(&c.up(), r);
  };
  v.push_back({"DispatchTwoLotsForTheSameSite", "", [=](AdcChain& c) {
                 return up_ship_two(c, "HV002", Q("10", "LTR"));
               }});
  v.push_back(
      {"DispatchSecondLotToSiteNotOfItsNextStage", "R-DISPATCH-DESTINATION",
       [=](AdcChain& c) { return up_ship_two(c, "MCB001", Q("1", "H87")); }});
  auto fill_receive = [t](AdcChain& c, Log& log, v1::EntryRef ref) {
    return std::make_pair(&log,
                          c.Receive(log.party(), ref, "T3", "C3", Lot("DS001"),
                                    Q("4", "KGM"), "SEAL-C3", t));
  };
  v.push_back(
      {"ReceiptOfUnknownDispatch", "R-RECEIPT-EVIDENCE", [=](AdcChain& c) {
         v1::EntryRef ghost = c.t3;
         ghost.set_index(999);
         return fill_receive(c, c.fill(), ghost);
       }});
  v.push_back(
      {"ReceiptWithWrongLeafHash", "R-RECEIPT-EVIDENCE", [=](AdcChain& c) {
         v1::EntryRef bad = c.t3;
         bad.set_leaf_hash(std::string(32, 'x'));
         return fill_receive(c, c.fill(), bad);
       }});
  v.push_back({"ReceiptAtSiteNotAddressed", "R-RECEIPT-ADDRESS",
               [=](AdcChain& c) { return fill_receive(c, c.chem(), c.t3); }});
  v.push_back({"ReceiptTwice", "R-RECEIPT-ONCE",
               [=](AdcChain& c) { return fill_receive(c, c.fill(), c.t3); }});
  auto fill_transform = [t](AdcChain& c, const std::string& lot,
                            v1::Quantity q) {
    return std::make_pair(&c.fill(),
                          c.Transform(c.fill().party(), "fill", {{Lot(lot), q}},
                                      Lot("DP002"), testing::Material("dp"),
                                      Q("10", "H87"), t - absl::Hours(1), t));
  };
  v.push_back({"TransformAccepts", "", [=](AdcChain& c) {
                 return fill_transform(c, "DP001", Q("10", "H87"));
               }});
  v.push_back({"TransformInputNotHeld", "R-LOT-HELD", [=](AdcChain& c) {
                 return fill_transform(c, "NOPE2", Q("1", "KGM"));
               }});
  v.push_back(
      {"TransformInputQuarantined", "R-TRANSFORM-ACCEPTED", [=](AdcChain& c) {
         ShipAndReceive(c, c.down(), c.fill(), "T6", "DS001", Q("1", "KGM"), t);
         return fill_transform(c, "DS001", Q("1", "KGM"));
       }});
  v.push_back(
      {"TransformConvertsReceivedLotWithProductDensity", "", [=](AdcChain& c) {
         // DS001 is counted in KGM here; 1000 mL at the product's
         // density of 1 g/mL is 1 kg.
         ShipAndReceive(c, c.down(), c.fill(), "T6", "DS001", Q("1", "KGM"), t);
         MustAppend(c.fill(),
                    c.Release(c.fill().party(), Lot("DS001"),
                              v1::RELEASE_KIND_INCOMING_ACCEPTANCE, t),
                    t);
         return fill_transform(c, "DS001", Q("1000", "MLT"));
       }});
  // The lot lifecycle: rejection is final, a hold outlasts incoming
  // acceptance, and a lot that comes back needs a new site release.
  auto fill_status = [](AdcChain& c, v1::StatusAction a) {
    MustAppend(c.fill(), StatusRec(c.fill().party(), Lot("DS001"), a), T(150));
  };
  auto fill_release = [t](AdcChain& c, v1::ReleaseKind kind) {
    return c.Release(c.fill().party(), Lot("DS001"), kind, t);
  };
  v.push_back(
      {"TransformInputAcceptedWhileOnHold", "R-TRANSFORM-ACCEPTED",
       [=](AdcChain& c) {
         ShipAndReceive(c, c.down(), c.fill(), "T6", "DS001", Q("1", "KGM"), t);
         fill_status(c, v1::STATUS_ACTION_HOLD);
         MustAppend(c.fill(),
                    fill_release(c, v1::RELEASE_KIND_INCOMING_ACCEPTANCE), t);
         return fill_transform(c, "DS001", Q("1", "KGM"));
       }});
  v.push_back(
      {"DispatchOfLotReleasedFromHoldBeforeAcceptance", "R-DISPATCH-STATUS",
       [=](AdcChain& c) {
         // The release from hold returns it to quarantine.
         ShipAndReceive(c, c.down(), c.fill(), "T6", "DS001", Q("1", "KGM"), t);
         fill_status(c, v1::STATUS_ACTION_HOLD);
         fill_status(c, v1::STATUS_ACTION_RELEASE_FROM_HOLD);
         return std::make_pair(
             &c.fill(), c.Ship(c.fill().party(), c.down().party(), "T10", "C10",
                               Lot("DS001"), Q("1", "KGM"),
                               testing::Range(-8000, -6000), t, t));
       }});
  v.push_back(
      {"AcceptanceOfLotRejectedBeforeReceipt", "R-RELEASE-LOT",
       [=](AdcChain& c) {
         fill_status(c, v1::STATUS_ACTION_REJECT);
         ShipAndReceive(c, c.down(), c.fill(), "T6", "DS001", Q("1", "KGM"), t);
         return std::make_pair(
             &c.fill(), fill_release(c, v1::RELEASE_KIND_INCOMING_ACCEPTANCE));
       }});
  v.push_back({"SiteReleaseOfRejectedLot", "R-RELEASE-LOT", [=](AdcChain& c) {
                 fill_status(c, v1::STATUS_ACTION_REJECT);
                 return std::make_pair(
                     &c.fill(), fill_release(c, v1::RELEASE_KIND_SITE_RELEASE));
               }});
  v.push_back({"HoldOfRejectedLot", "R-STATUS-TRANSITION", [=](AdcChain& c) {
                 fill_status(c, v1::STATUS_ACTION_REJECT);
                 return std::make_pair(&c.fill(),
                                       StatusRec(c.fill().party(), Lot("DS001"),
                                                 v1::STATUS_ACTION_HOLD));
               }});
  v.push_back({"DestroyRejectedLotAccepts", "", [=](AdcChain& c) {
                 fill_status(c, v1::STATUS_ACTION_REJECT);
                 return std::make_pair(&c.fill(),
                                       StatusRec(c.fill().party(), Lot("DS001"),
                                                 v1::STATUS_ACTION_DESTROY));
               }});
  // A returned lot is final like a rejected or recalled one: no hold, no
  // release, and receiving more of it does not lift the status.
  auto down_status = [](AdcChain& c, v1::StatusAction a) {
    MustAppend(c.down(), StatusRec(c.down().party(), Lot("DS001"), a), T(150));
  };
  v.push_back({"HoldOfReturnedLot", "R-STATUS-TRANSITION", [=](AdcChain& c) {
                 down_status(c, v1::STATUS_ACTION_REJECT);
                 down_status(c, v1::STATUS_ACTION_RETURN);
                 return std::make_pair(&c.down(),
                                       StatusRec(c.down().party(), Lot("DS001"),
                                                 v1::STATUS_ACTION_HOLD));
               }});
  v.push_back({"QuarantineOfLotReturnedWhileAvailable", "R-STATUS-TRANSITION",
               [=](AdcChain& c) {
                 down_status(c, v1::STATUS_ACTION_RETURN);
                 return std::make_pair(&c.down(),
                                       StatusRec(c.down().party(), Lot("DS001"),
                                                 v1::STATUS_ACTION_QUARANTINE));
               }});
  v.push_back({"DestroyReturnedLotAccepts", "", [=](AdcChain& c) {
                 down_status(c, v1::STATUS_ACTION_REJECT);
                 down_status(c, v1::STATUS_ACTION_RETURN);
                 return std::make_pair(&c.down(),
                                       StatusRec(c.down().party(), Lot("DS001"),
                                                 v1::STATUS_ACTION_DESTROY));
               }});
  v.push_back({"SiteReleaseOfReturnedLot", "R-RELEASE-LOT", [=](AdcChain& c) {
                 down_status(c, v1::STATUS_ACTION_RETURN);
                 return std::make_pair(
                     &c.down(), c.Release(c.down().party(), Lot("DS001"),
                                          v1::RELEASE_KIND_SITE_RELEASE, t));
               }});
  v.push_back(
      {"AcceptanceOfLotReturnedBeforeReceipt", "R-RELEASE-LOT",
       [=](AdcChain& c) {
         fill_status(c, v1::STATUS_ACTION_RETURN);
         ShipAndReceive(c, c.down(), c.fill(), "T6", "DS001", Q("1", "KGM"), t);
         return std::make_pair(
             &c.fill(), fill_release(c, v1::RELEASE_KIND_INCOMING_ACCEPTANCE));
       }});
  v.push_back(
      {"DispatchOfReturnedLotWithoutNewRelease", "R-DISPATCH-RELEASE",
       [=](AdcChain& c) {
         // Downstream ships DS001 to fill-finish, which accepts, releases
         // and returns it; back downstream it is accepted, not released.
         ShipAndReceive(c, c.down(), c.fill(), "T6", "DS001", Q("1", "KGM"), t);
         MustAppend(c.fill(),
                    fill_release(c, v1::RELEASE_KIND_INCOMING_ACCEPTANCE), t);
         MustAppend(c.fill(), fill_release(c, v1::RELEASE_KIND_SITE_RELEASE),
                    t);
         ShipAndReceive(c, c.fill(), c.down(), "T10", "DS001", Q("1", "KGM"),
                        t);
         MustAppend(c.down(),
                    c.Release(c.down().party(), Lot("DS001"),
                              v1::RELEASE_KIND_INCOMING_ACCEPTANCE, t),
                    t);
         return down_ship(c, "DS001", Q("0.5", "KGM"));
       }});
  // A recall recalls its trigger lots as well as its scope.
  v.push_back({"DispatchOfRecallTriggerLotOutsideScope", "R-DISPATCH-STATUS",
               [=](AdcChain& c) {
                 MustAppend(c.down(),
                            RecallRec(c.down().party(), {Lot("DS001")},
                                      {Lot("MAB001")}),
                            t);
                 return down_ship(c, "DS001", Q("0.5", "KGM"));
               }});
  // A site's acknowledgement of another party's recall recalls the lots
  // it lists that the site holds.
  v.push_back({"DispatchOfLotInAnAcknowledgedRecall", "R-DISPATCH-STATUS",
               [=](AdcChain& c) {
                 v1::Record ack;
                 auto* a = ack.mutable_recall();
                 *a->mutable_header() = Header(c.down().party(), t);
                 a->set_recall_id("RC-MAH-1");
                 *a->mutable_acknowledges() = c.t3;
                 a->add_scope_lot_ids(Lot("DS001"));
                 MustAppend(c.down(), ack, t);
                 return down_ship(c, "DS001", Q("0.5", "KGM"));
               }});
  v.push_back({"TransformOfRecallTriggerLotWithoutScope",
               "R-TRANSFORM-ACCEPTED", [=](AdcChain& c) {
                 MustAppend(c.fill(),
                            RecallRec(c.fill().party(), {Lot("DP001")}, {}), t);
                 return fill_transform(c, "DP001", Q("10", "H87"));
               }});
  // A lot made here that comes back needs an incoming acceptance like any
  // received lot: a hold and its release return it to quarantine.
  v.push_back(
      {"TransformOfLotComingBackReleasedFromHoldBeforeAcceptance",
       "R-TRANSFORM-ACCEPTED", [=](AdcChain& c) {
         ShipAndReceive(c, c.down(), c.fill(), "T6", "DS001", Q("1", "KGM"), t);
         MustAppend(c.fill(),
                    fill_release(c, v1::RELEASE_KIND_INCOMING_ACCEPTANCE), t);
         MustAppend(c.fill(), fill_release(c, v1::RELEASE_KIND_SITE_RELEASE),
                    t);
         ShipAndReceive(c, c.fill(), c.down(), "T10", "DS001", Q("1", "KGM"),
                        t);
         down_status(c, v1::STATUS_ACTION_HOLD);
         down_status(c, v1::STATUS_ACTION_RELEASE_FROM_HOLD);
         return std::make_pair(
             &c.down(), c.Transform(c.down().party(), "conjugation",
                                    {{Lot("DS001"), Q("0.5", "KGM")}},
                                    Lot("DS002"), testing::Material("ds"),
                                    Q("0.5", "KGM"), t - absl::Hours(1), t));
       }});
  // A release corrected as "did not occur" no longer counts.
  auto void_release = [](Log& log, const std::string& lot,
                         v1::ReleaseKind kind) {
    MustAppend(log, VoidRec(log, LastRelease(log, Lot(lot), kind)), T(150));
  };
  v.push_back({"DispatchAfterSiteReleaseVoided", "R-DISPATCH-RELEASE",
               [=](AdcChain& c) {
                 void_release(c.down(), "DS001", v1::RELEASE_KIND_SITE_RELEASE);
                 return down_ship(c, "DS001", Q("0.5", "KGM"));
               }});
  v.push_back(
      {"DispatchAfterOneOfTwoSiteReleasesVoidedAccepts", "", [=](AdcChain& c) {
         MustAppend(c.down(),
                    c.Release(c.down().party(), Lot("DS001"),
                              v1::RELEASE_KIND_SITE_RELEASE, t),
                    t);
         void_release(c.down(), "DS001", v1::RELEASE_KIND_SITE_RELEASE);
         return down_ship(c, "DS001", Q("0.5", "KGM"));
       }});
  v.push_back(
      {"DispatchAfterVoidingAReleaseGivenBeforeTheLotLeftAccepts", "",
       [=](AdcChain& c) {
         // The lot goes to fill-finish and back and is released again; the
         // release voided is the one from before it left.
         const uint64_t old_release =
             LastRelease(c.down(), Lot("DS001"), v1::RELEASE_KIND_SITE_RELEASE);
         ShipAndReceive(c, c.down(), c.fill(), "T6", "DS001", Q("1", "KGM"), t);
         MustAppend(c.fill(),
                    fill_release(c, v1::RELEASE_KIND_INCOMING_ACCEPTANCE), t);
         MustAppend(c.fill(), fill_release(c, v1::RELEASE_KIND_SITE_RELEASE),
                    t);
         ShipAndReceive(c, c.fill(), c.down(), "T10", "DS001", Q("1", "KGM"),
                        t);
         for (v1::ReleaseKind k : {v1::RELEASE_KIND_INCOMING_ACCEPTANCE,
                                   v1::RELEASE_KIND_SITE_RELEASE}) {
           MustAppend(c.down(), c.Release(c.down().party(), Lot("DS001"), k, t),
                      t);
         }
         MustAppend(c.down(), VoidRec(c.down(), old_release), t);
         return down_ship(c, "DS001", Q("0.5", "KGM"));
       }});
  v.push_back(
      {"TransformAfterIncomingAcceptanceVoided", "R-TRANSFORM-ACCEPTED",
       [=](AdcChain& c) {
         ShipAndReceive(c, c.down(), c.fill(), "T6", "DS001", Q("1", "KGM"), t);
         MustAppend(c.fill(),
                    fill_release(c, v1::RELEASE_KIND_INCOMING_ACCEPTANCE), t);
         void_release(c.fill(), "DS001", v1::RELEASE_KIND_INCOMING_ACCEPTANCE);
         return fill_transform(c, "DS001", Q("1", "KGM"));
       }});
  v.push_back({"TransformMoreThanHeld", "R-TRANSFORM-QTY", [=](AdcChain& c) {
                 return fill_transform(c, "DP001", Q("20001", "H87"));
               }});
  v.push_back(
      {"ReleaseFromHoldWhenNotHeld", "R-STATUS-TRANSITION", [=](AdcChain& c) {
         return std::make_pair(&c.up(),
                               StatusRec(c.up().party(), Lot("MCB001"),
                                         v1::STATUS_ACTION_RELEASE_FROM_HOLD));
       }});
  v.push_back(
      {"DestroyMoreThanOnHand", "R-STATUS-TRANSITION", [=](AdcChain& c) {
         v1::Record r = StatusRec(c.up().party(), Lot("MCB001"),
                                  v1::STATUS_ACTION_DESTROY);
         *r.mutable_status_change()->mutable_quantity() = Q("10", "H87");
         return std::make_pair(&c.up(), r);
       }});
  v.push_back({"StatusOfLotNotHeld", "R-LOT-HELD", [=](AdcChain& c) {
                 return std::make_pair(&c.up(),
                                       StatusRec(c.up().party(), Lot("NOPE3"),
                                                 v1::STATUS_ACTION_HOLD));
               }});
  v.push_back(
      {"IncomingAcceptanceOfLotNotReceived", "R-RELEASE-LOT", [=](AdcChain& c) {
         return std::make_pair(
             &c.up(), c.Release(c.up().party(), Lot("MCB001"),
                                v1::RELEASE_KIND_INCOMING_ACCEPTANCE, t));
       }});
  v.push_back({"ReleaseWithoutReleasedSignature", "R-RELEASE-SIGNATURE",
               [=](AdcChain& c) {
                 v1::Record r = c.Release(c.up().party(), Lot("MCB001"),
                                          v1::RELEASE_KIND_SITE_RELEASE, t);
                 r.mutable_qa_release()
                     ->mutable_header()
                     ->mutable_signatures(0)
                     ->set_meaning(v1::SIGNATURE_MEANING_PERFORMED);
                 return std::make_pair(&c.up(), r);
               }});
  v.push_back({"SampleIncompatibleUnit", "R-UNITS", [=](AdcChain& c) {
                 v1::Quantity q = Q("1", "KGM");  // MCB001 is counted
                 return std::make_pair(
                     &c.up(), c.Qc(c.up().party(), Lot("MCB001"), t, &q));
               }});
  // The production rules also guard transformations (one table row each).
  auto fill_make = [t](AdcChain& c, const std::string& stage,
                       const std::string& material, const std::string& out,
                       v1::Quantity in_q) {
    return std::make_pair(
        &c.fill(), c.Transform(c.fill().party(), stage, {{Lot("DP001"), in_q}},
                               Lot(out), testing::Material(material),
                               Q("10", "H87"), t - absl::Hours(1), t));
  };
  v.push_back(
      {"TransformStageNotApprovedForSite", "R-STAGE-AUTH", [=](AdcChain& c) {
         return fill_make(c, "upstream", "harvest", "HV009", Q("10", "H87"));
       }});
  v.push_back(
      {"TransformWrongMaterialForStage", "R-STAGE-MATERIAL", [=](AdcChain& c) {
         return fill_make(c, "fill", "ds", "DP008", Q("10", "H87"));
       }});
  v.push_back({"TransformOutputLotReused", "R-LOT-UNIQUE", [=](AdcChain& c) {
                 return fill_make(c, "fill", "dp", "DS001", Q("10", "H87"));
               }});
  v.push_back({"TransformIncompatibleUnit", "R-UNITS", [=](AdcChain& c) {
                 return fill_make(c, "fill", "dp", "DP007", Q("1", "KGM"));
               }});
  v.push_back({"SampleMoreThanOnHand", "R-SAMPLE-QTY", [=](AdcChain& c) {
                 v1::Quantity q = Q("10", "H87");  // 9 vials on hand
                 return std::make_pair(
                     &c.up(), c.Qc(c.up().party(), Lot("MCB001"), t, &q));
               }});
  auto correction = [t](AdcChain& c, uint64_t index, std::string hash) {
    v1::Record r;
    auto* x = r.mutable_correction();
    *x->mutable_header() = Header(c.up().party(), t);
    x->mutable_corrects()->set_origin(c.up().party().origin);
    x->mutable_corrects()->set_index(index);
    x->mutable_corrects()->set_leaf_hash(hash);
    x->set_reason(v1::CORRECTION_REASON_DID_NOT_OCCUR);
    x->set_explanation("entered twice");
    return std::make_pair(&c.up(), r);
  };
  v.push_back({"CorrectionAccepts", "", [=](AdcChain& c) {
                 return correction(
                     c, 2, std::string(HashBytes(c.up().entries()[2].leaf)));
               }});
  // The downstream site says T3 was never dispatched: accepted while no
  // receipt of it is held here, refused once the fill site's is.
  v.push_back({"VoidDispatchNotKnownReceived", "", [=](AdcChain& c) {
                 return std::make_pair(
                     &c.down(), VoidRec(c.down(), DispatchOf(c.down(), "T3")));
               }});
  v.push_back(
      {"VoidDispatchReceivedThere", "R-CORRECTION-RECEIVED", [=](AdcChain& c) {
         HoldT3Receipt(c);
         return std::make_pair(&c.down(),
                               VoidRec(c.down(), DispatchOf(c.down(), "T3")));
       }});
  // DS001 received in T3 was accepted and filled since.
  v.push_back({"VoidReceiptUsedSince", "R-CORRECTION-USED", [=](AdcChain& c) {
                 return std::make_pair(
                     &c.fill(), VoidRec(c.fill(), ReceiptOf(c.fill(), "T3")));
               }});
  // DP001, made from DS001, was tested and released since.
  v.push_back(
      {"VoidTransformationUsedSince", "R-CORRECTION-USED", [=](AdcChain& c) {
         return std::make_pair(
             &c.fill(),
             VoidRec(c.fill(), TransformationOf(c.fill(), Lot("DP001"))));
       }});
  v.push_back({"CorrectionWrongHash", "R-CORRECTION-REF", [=](AdcChain& c) {
                 return correction(c, 2, std::string(32, 'z'));
               }});
  v.push_back({"CorrectionOfFutureEntry", "R-CORRECTION-REF", [=](AdcChain& c) {
                 return correction(c, 500, std::string(32, 'z'));
               }});
  v.push_back({"KeyRevoked", "R-KEY-VALIDITY", [=](AdcChain& c) {
                 v1::Record rev;
                 rev.mutable_key_revocation()->set_key_name("k1");
                 rev.mutable_key_revocation()->set_reason("compromised");
                 *rev.mutable_key_revocation()->mutable_effective_at() =
                     testing::Ts(t - absl::Hours(1));
                 // Signed by another key (R-KEY-SIGNER).
                 if (!c.up().Append(rev, t - absl::Hours(2), "k2").ok()) {
                   std::abort();
                 }
                 return up_lot(c, "cell-bank", "mcb", "MCB005");
               }});
  // A revocation dated ahead stops the key at once all the same.
  v.push_back({"KeyRevokedAhead", "R-KEY-VALIDITY", [=](AdcChain& c) {
                 v1::Record rev;
                 rev.mutable_key_revocation()->set_key_name("k1");
                 rev.mutable_key_revocation()->set_reason("retiring");
                 *rev.mutable_key_revocation()->mutable_effective_at() =
                     testing::Ts(t + absl::Hours(100));
                 if (!c.up().Append(rev, t - absl::Hours(2), "k2").ok()) {
                   std::abort();
                 }
                 return up_lot(c, "cell-bank", "mcb", "MCB015");
               }});
  // Every case's entry is signed by k1 (RuleTest below).
  auto revoke = [](AdcChain& c, const std::string& name) {
    v1::Record rev;
    rev.mutable_key_revocation()->set_key_name(name);
    rev.mutable_key_revocation()->set_reason("retiring");
    return std::make_pair(&c.up(), rev);
  };
  v.push_back({"RevocationOfAnotherKey", "",
               [=](AdcChain& c) { return revoke(c, "k0"); }});
  v.push_back({"RevocationOfTheSigningKey", "R-KEY-SIGNER",
               [=](AdcChain& c) { return revoke(c, "k1"); }});
  auto reg = [](AdcChain& c, const std::string& name, absl::Time from,
                absl::Time until) {
    v1::Record r;
    v1::KeyRegistration* k = r.mutable_key_registration();
    k->set_key_name(name);
    k->set_public_key(std::string(32, 'k'));
    *k->mutable_valid_from() = testing::Ts(from);
    *k->mutable_valid_until() = testing::Ts(until);
    return std::make_pair(&c.up(), r);
  };
  v.push_back({"RegistrationOfTheSigningKeysValidity", "", [=](AdcChain& c) {
                 return reg(c, "k1", t - absl::Hours(1), t + absl::Hours(1));
               }});
  v.push_back(
      {"RegistrationEndingTheSigningKey", "R-KEY-SIGNER",
       [=](AdcChain& c) { return reg(c, "k1", t - absl::Hours(2), t); }});
  v.push_back({"RegistrationStartingTheSigningKeyLater", "R-KEY-SIGNER",
               [=](AdcChain& c) {
                 return reg(c, "k1", t + absl::Hours(1), t + absl::Hours(9));
               }});
  v.push_back({"RegistrationEndingAnotherKey", "", [=](AdcChain& c) {
                 return reg(c, "k0", t - absl::Hours(2), t);
               }});
  v.push_back(
      {"OtherPartysRecord", "R-OWN-PARTY", [=](AdcChain& c) {
         auto p = up_lot(c, "cell-bank", "mcb", "MCB006");
         p.second.mutable_lot_produced()->mutable_header()->set_party_id(
             c.down().party().party);
         return p;
       }});
  v.push_back({"OtherSitesRecord", "R-OWN-SITE", [=](AdcChain& c) {
                 auto p = up_lot(c, "cell-bank", "mcb", "MCB007");
                 p.second.mutable_lot_produced()->mutable_header()->set_site_id(
                     c.down().party().site);
                 return p;
               }});
  return v;
}

class RuleTest : public ::testing::TestWithParam<RuleCase> {};

TEST_P(RuleTest, AcceptsOrRefusesWithRuleIdAndWritesNothing) {
  AdcChain chain;
  SEG_ASSERT_OK(chain.Build());
  auto [log, record] = GetParam().make(chain);
  const auto before = log->index().rows();
  const size_t entries = log->entries().size();
  // Commits whatever the hook wrote: a refusal must have written nothing.
  auto ref = log->AppendCommitAlways(record, T(150));
  if (GetParam().rule.empty()) {
    SEG_EXPECT_OK(ref);
    EXPECT_NE(log->index().rows(), before);
    return;
  }
  EXPECT_THAT(
      ref, ::segledger::testing::StatusIs(absl::StatusCode::kFailedPrecondition,
                                          "rule " + GetParam().rule + ": "));
  EXPECT_EQ(log->index().rows(), before);
  EXPECT_EQ(log->entries().size(), entries);
}

INSTANTIATE_TEST_SUITE_P(Table, RuleTest, ::testing::ValuesIn(Cases()),
                         [](const auto& info) { return info.param.name; });

v1::LotState LotRow(Log& log, const std::string& lot) {
  v1::LotState s;
  auto it = log.index().rows().find(LotKey(lot));
  if (it != log.index().rows().end()) {
    EXPECT_TRUE(s.ParseFromString(it->second));
  }
  return s;
}

// The reviewer's path back to dispatch for a rejected (or recalled) lot:
// return it, hold it, release it from hold. Whichever step refuses, the
// dispatch must, and the lot never becomes available with its old release.
TEST(LotLifecycleTest, FinalLotNeverBecomesDispatchableAgain) {
  for (bool recall : {false, true}) {
    AdcChain c;
    SEG_ASSERT_OK(c.Build());
    Log& down = c.down();
    const std::string lot = Lot("DS001");
    ASSERT_TRUE(LotRow(down, lot).site_released());
    if (recall) {
      v1::Record r;
      auto* x = r.mutable_recall();
      *x->mutable_header() = Header(down.party(), T(150));
      x->set_recall_id("RC-1");
      x->add_trigger_lot_ids(lot);
      x->set_reason("sterility failure");
      x->set_level(v1::RECALL_LEVEL_I);
      x->add_scope_lot_ids(lot);
      SEG_ASSERT_OK(down.Append(r, T(150)));
    } else {
      SEG_ASSERT_OK(down.Append(
          StatusRec(down.party(), lot, v1::STATUS_ACTION_REJECT), T(150)));
    }
    EXPECT_FALSE(LotRow(down, lot).site_released()) << recall;
    SEG_ASSERT_OK(down.Append(
        StatusRec(down.party(), lot, v1::STATUS_ACTION_RETURN), T(150)));
    for (v1::StatusAction a :
         {v1::STATUS_ACTION_HOLD, v1::STATUS_ACTION_RELEASE_FROM_HOLD}) {
      EXPECT_THAT(
          down.Append(StatusRec(down.party(), lot, a), T(150)),
          ::segledger::testing::StatusIs(absl::StatusCode::kFailedPrecondition,
                                         "rule R-STATUS-TRANSITION"))
          << recall << " " << v1::StatusAction_Name(a);
    }
    EXPECT_EQ(LotRow(down, lot).status(), v1::LOT_STATUS_RETURNED);
    v1::Record ship =
        c.Ship(down.party(), c.fill().party(), "T7", "C7", lot, Q("0.5", "KGM"),
               testing::Range(-8000, -6000), T(150), T(160));
    EXPECT_THAT(down.Append(ship, T(150)),
                ::segledger::testing::StatusIs(
                    absl::StatusCode::kFailedPrecondition, "rule R-DISPATCH-"))
        << recall;
  }
}

// A dispatch that never left the site, corrected as "did not occur",
// gives its quantity back, so the real shipment passes R-LOT-HELD and
// R-DISPATCH-QTY under the same transfer id (R-TRANSFER-UNIQUE), and the
// receiver receives it.
TEST(VoidTest, VoidedDispatchRestoresTheHoldingAndItsTransferId) {
  AdcChain c;
  SEG_ASSERT_OK(c.Build());
  Log& down = c.down();
  const std::string lot = Lot("DS001");
  const v1::LotState before = LotRow(down, lot);
  ASSERT_EQ(before.on_hand(), "1");
  auto ship = [&](const std::string& qty) {
    return c.Ship(down.party(), c.fill().party(), "T7", "C7", lot,
                  Q(qty, "KGM"), testing::Range(-8000, -6000), T(150), T(160));
  };
  SEG_ASSERT_OK_AND_ASSIGN(v1::EntryRef wrong, down.Append(ship("1"), T(150)));
  EXPECT_EQ(LotRow(down, lot).on_hand(), "0");
  EXPECT_THAT(down.Append(ship("0.5"), T(150)),
              ::segledger::testing::StatusIs(
                  absl::StatusCode::kFailedPrecondition, "rule R-LOT-HELD"));
  SEG_ASSERT_OK(down.Append(VoidRec(down, wrong.index()), T(151)));
  const v1::LotState after = LotRow(down, lot);
  EXPECT_EQ(after.on_hand(), "1");
  EXPECT_EQ(after.dispatched(), before.dispatched());
  EXPECT_EQ(after.status(), before.status());
  v1::Record real = ship("0.5");
  SEG_ASSERT_OK_AND_ASSIGN(v1::EntryRef shipped, down.Append(real, T(152)));
  EXPECT_EQ(LotRow(down, lot).on_hand(), "0.5");
  // The id is used again now: the real dispatch is not voided.
  EXPECT_THAT(
      down.Append(ship("0.1"), T(152)),
      ::segledger::testing::StatusIs(absl::StatusCode::kFailedPrecondition,
                                     "rule R-TRANSFER-UNIQUE"));
  c.evidence().AddDispatch(shipped, real.dispatch());
  SEG_ASSERT_OK(
      c.fill().Append(c.Receive(c.fill().party(), shipped, "T7", "C7", lot,
                                Q("0.5", "KGM"), "SEAL-C7", T(153)),
                      T(153)));
  // A second correction of the voided dispatch gives nothing back again.
  SEG_ASSERT_OK(down.Append(VoidRec(down, wrong.index()), T(154)));
  EXPECT_EQ(LotRow(down, lot).on_hand(), "0.5");
}

// docs/rules.md "Corrections": a lot destroyed since the voided dispatch
// gets the quantity back but stays destroyed.
TEST(VoidTest, VoidedDispatchOfALotDestroyedSinceKeepsItDestroyed) {
  AdcChain c;
  SEG_ASSERT_OK(c.Build());
  Log& down = c.down();
  const std::string lot = Lot("DS001");
  SEG_ASSERT_OK_AND_ASSIGN(
      v1::EntryRef wrong,
      down.Append(
          c.Ship(down.party(), c.fill().party(), "T7", "C7", lot,
                 Q("0.5", "KGM"), testing::Range(-8000, -6000), T(150), T(160)),
          T(150)));
  SEG_ASSERT_OK(down.Append(
      StatusRec(down.party(), lot, v1::STATUS_ACTION_DESTROY), T(150)));
  ASSERT_EQ(LotRow(down, lot).status(), v1::LOT_STATUS_DESTROYED);
  SEG_ASSERT_OK(down.Append(VoidRec(down, wrong.index()), T(151)));
  const v1::LotState after = LotRow(down, lot);
  EXPECT_EQ(after.on_hand(), "0.5");
  EXPECT_EQ(after.dispatched(), "4");
  EXPECT_EQ(after.status(), v1::LOT_STATUS_DESTROYED);
}

// A receipt recorded by mistake, corrected as "did not occur", leaves the
// lot as it was before it (here: not held at all) and the transfer may be
// received again (R-RECEIPT-ONCE). While an entry since uses the lot, the
// correction is refused; once that entry is voided too, it is accepted.
TEST(VoidTest, VoidedReceiptPutsTheLotBackAndAllowsTheRealReceipt) {
  AdcChain c;
  SEG_ASSERT_OK(c.Build());
  // A fresh log of the fill site, which never received DS001.
  Log fill(c.fill().party(), &c.evidence(), true, DomainConfig());
  const std::string lot = Lot("DS001");
  auto receive = [&](const std::string& qty) {
    return c.Receive(fill.party(), c.t3, "T3", "C3", lot, Q(qty, "KGM"),
                     "SEAL-C3", T(150));
  };
  SEG_ASSERT_OK_AND_ASSIGN(v1::EntryRef wrong,
                           fill.Append(receive("40"), T(150)));
  SEG_ASSERT_OK_AND_ASSIGN(
      v1::EntryRef accepted,
      fill.Append(c.Release(fill.party(), lot,
                            v1::RELEASE_KIND_INCOMING_ACCEPTANCE, T(150)),
                  T(150)));
  EXPECT_THAT(
      fill.Append(receive("4"), T(151)),
      ::segledger::testing::StatusIs(absl::StatusCode::kFailedPrecondition,
                                     "rule R-RECEIPT-ONCE"));
  const auto rows = fill.index().rows();
  EXPECT_THAT(
      fill.AppendCommitAlways(VoidRec(fill, wrong.index()), T(151)),
      ::segledger::testing::StatusIs(absl::StatusCode::kFailedPrecondition,
                                     "rule R-CORRECTION-USED"));
  EXPECT_EQ(fill.index().rows(), rows);
  SEG_ASSERT_OK(fill.Append(VoidRec(fill, accepted.index()), T(151)));
  SEG_ASSERT_OK(fill.Append(VoidRec(fill, wrong.index()), T(151)));
  EXPECT_EQ(fill.index().rows().count(LotKey(lot)), 0u);
  EXPECT_EQ(fill.index().rows().count("d/xin/T3"), 0u);
  SEG_ASSERT_OK(fill.Append(receive("4"), T(152)));
  const v1::LotState real = LotRow(fill, lot);
  EXPECT_EQ(real.on_hand(), "4");
  EXPECT_EQ(real.status(), v1::LOT_STATUS_QUARANTINED);
}

// A lot held before the voided receipt gets exactly its earlier row back.
TEST(VoidTest, VoidedReceiptOfALotHeldBeforeRestoresItsRow) {
  AdcChain c;
  SEG_ASSERT_OK(c.Build());
  Log& fill = c.fill();
  const std::string lot = Lot("DS001");
  const v1::LotState before = LotRow(fill, lot);
  SEG_ASSERT_OK(
      Ship7AndReceive(c, c.down(), fill, lot, Q("0.5", "KGM"), T(150)));
  const uint64_t wrong = ReceiptOf(fill, "T7");
  ASSERT_EQ(LotRow(fill, lot).status(), v1::LOT_STATUS_QUARANTINED);
  SEG_ASSERT_OK(fill.Append(VoidRec(fill, wrong), T(151)));
  EXPECT_EQ(LotRow(fill, lot).SerializeAsString(), before.SerializeAsString());
  EXPECT_EQ(fill.index().rows().count("d/xin/T7"), 0u);
}

void ExpectRebuildsTheSame(Log& log);  // below, with the rebuild tests

// The upstream site cultures `vials` of MCB001 into `litres` of HV002.
v1::Record Culture(AdcChain& c, const std::string& vials,
                   const std::string& litres) {
  return c.Transform(c.up().party(), "upstream",
                     {{Lot("MCB001"), Q(vials, "H87")}}, Lot("HV002"),
                     testing::Material("harvest"), Q(litres, "LTR"), T(149),
                     T(150));
}

// A transformation recorded with the wrong quantities, corrected as "did
// not occur", gives its input back what it consumed and forgets its
// output, so the real one is recorded under the same output lot id. While
// an entry since uses the output, the correction is refused; once that
// entry is voided too, it is accepted. A second correction changes
// nothing.
TEST(VoidTest, VoidedTransformationGivesItsInputsBackAndForgetsItsOutputs) {
  AdcChain c;
  SEG_ASSERT_OK(c.Build());
  Log& up = c.up();
  const std::string in = Lot("MCB001");
  const std::string out = Lot("HV002");
  const v1::LotState before = LotRow(up, in);
  ASSERT_EQ(before.on_hand(), "9");
  auto culture = [&](const std::string& vials, const std::string& litres) {
    return Culture(c, vials, litres);
  };
  SEG_ASSERT_OK_AND_ASSIGN(v1::EntryRef wrong,
                           up.Append(culture("5", "1000"), T(150)));
  ASSERT_EQ(LotRow(up, in).on_hand(), "4");
  ASSERT_EQ(LotRow(up, out).on_hand(), "1000");
  SEG_ASSERT_OK_AND_ASSIGN(
      v1::EntryRef tested,
      up.Append(c.Qc(up.party(), out, T(150), nullptr), T(150)));
  const auto rows = up.index().rows();
  EXPECT_THAT(
      up.AppendCommitAlways(VoidRec(up, wrong.index()), T(151)),
      ::segledger::testing::StatusIs(absl::StatusCode::kFailedPrecondition,
                                     "rule R-CORRECTION-USED"));
  EXPECT_EQ(up.index().rows(), rows);
  SEG_ASSERT_OK(up.Append(VoidRec(up, tested.index()), T(151)));
  SEG_ASSERT_OK(up.Append(VoidRec(up, wrong.index()), T(151)));
  EXPECT_EQ(LotRow(up, in).SerializeAsString(), before.SerializeAsString());
  EXPECT_EQ(up.index().rows().count(LotKey(out)), 0u);
  SEG_ASSERT_OK(up.Append(culture("1", "200"), T(152)));
  EXPECT_EQ(LotRow(up, in).on_hand(), "8");
  EXPECT_EQ(LotRow(up, out).on_hand(), "200");
  SEG_ASSERT_OK(up.Append(VoidRec(up, wrong.index()), T(153)));
  EXPECT_EQ(LotRow(up, in).on_hand(), "8");
  EXPECT_EQ(LotRow(up, out).on_hand(), "200");
  ExpectRebuildsTheSame(up);
}

// Voiding a transformation gives its inputs back only what it consumed:
// what happened to them since stays, here a site release given before
// the transformation and voided after it. The input's use since does not
// stop the correction (as for a voided dispatch).
TEST(VoidTest, VoidedTransformationGivesBackOnlyWhatItConsumed) {
  AdcChain c;
  SEG_ASSERT_OK(c.Build());
  Log& up = c.up();
  const std::string in = Lot("MCB001");
  SEG_ASSERT_OK_AND_ASSIGN(
      v1::EntryRef released,
      up.Append(
          c.Release(up.party(), in, v1::RELEASE_KIND_SITE_RELEASE, T(149)),
          T(149)));
  ASSERT_TRUE(LotRow(up, in).site_released());
  SEG_ASSERT_OK_AND_ASSIGN(v1::EntryRef wrong,
                           up.Append(Culture(c, "5", "1000"), T(150)));
  SEG_ASSERT_OK(up.Append(VoidRec(up, released.index()), T(151)));
  ASSERT_FALSE(LotRow(up, in).site_released());
  SEG_ASSERT_OK(up.Append(VoidRec(up, wrong.index()), T(151)));
  const v1::LotState after = LotRow(up, in);
  EXPECT_FALSE(after.site_released());
  EXPECT_EQ(after.on_hand(), "9");
  EXPECT_EQ(after.consumed(), "1");
  EXPECT_EQ(up.index().rows().count(LotKey(Lot("HV002"))), 0u);
  ExpectRebuildsTheSame(up);
}

// What a voided transformation gives back stays when a receipt of the
// same lot recorded after the transformation is voided in turn: the
// receipt's record of the lot as it was before it (d/was) gets it too.
// Either order of the two corrections leaves the lot as it was before
// both entries.
TEST(VoidTest, VoidedReceiptKeepsWhatAnEarlierVoidedTransformationGaveBack) {
  for (bool transformation_first : {true, false}) {
    AdcChain c;
    SEG_ASSERT_OK(c.Build());
    Log& fill = c.fill();
    const std::string lot = Lot("DS001");
    ShipAndReceive(c, c.down(), fill, "T6", "DS001", Q("0.5", "KGM"), T(150));
    SEG_ASSERT_OK(
        fill.Append(c.Release(fill.party(), lot,
                              v1::RELEASE_KIND_INCOMING_ACCEPTANCE, T(150)),
                    T(150)));
    const v1::LotState accepted = LotRow(fill, lot);
    SEG_ASSERT_OK_AND_ASSIGN(
        v1::EntryRef wrong,
        fill.Append(c.Transform(fill.party(), "fill", {{lot, Q("0.25", "KGM")}},
                                Lot("DP002"), testing::Material("dp"),
                                Q("10", "H87"), T(150), T(151)),
                    T(151)));
    ShipAndReceive(c, c.down(), fill, "T7", "DS001", Q("0.5", "KGM"), T(152));
    const uint64_t second = ReceiptOf(fill, "T7");
    if (transformation_first) {
      SEG_ASSERT_OK(fill.Append(VoidRec(fill, wrong.index(), T(153)), T(153)));
      SEG_ASSERT_OK(fill.Append(VoidRec(fill, second, T(153)), T(153)));
    } else {
      SEG_ASSERT_OK(fill.Append(VoidRec(fill, second, T(153)), T(153)));
      SEG_ASSERT_OK(fill.Append(VoidRec(fill, wrong.index(), T(153)), T(153)));
    }
    EXPECT_EQ(LotRow(fill, lot).SerializeAsString(),
              accepted.SerializeAsString())
        << (transformation_first ? "transformation first" : "receipt first");
    ExpectRebuildsTheSame(fill);
  }
}

// The log without the voided records is judged as before: the voided
// dispatch and the real one under its transfer id make one shipment,
// received in full, and no new finding.
TEST(VoidTest, GraphJudgesTheRedispatchedTransferAsOneShipment) {
  AdcChain c;
  SEG_ASSERT_OK(c.Build());
  auto kinds = [&]() {
    std::multiset<int> out;
    for (const auto& f : c.Graph().Findings(c.Options()))
      out.insert(static_cast<int>(f.kind));
    return out;
  };
  const auto findings = kinds();
  Log& down = c.down();
  const std::string lot = Lot("DS001");
  SEG_ASSERT_OK_AND_ASSIGN(
      v1::EntryRef wrong,
      down.Append(
          c.Ship(down.party(), c.fill().party(), "T7", "C7", lot, Q("1", "KGM"),
                 testing::Range(-8000, -6000), T(150), T(160)),
          T(150)));
  SEG_ASSERT_OK(down.Append(VoidRec(down, wrong.index()), T(151)));
  SEG_ASSERT_OK(
      Ship7AndReceive(c, down, c.fill(), lot, Q("0.5", "KGM"), T(152)));
  DomainGraph g = c.Graph();
  ShipmentBalance s = g.Shipment("T7");
  EXPECT_TRUE(s.received);
  ASSERT_EQ(s.lots.count(lot), 1u);
  EXPECT_EQ(s.lots.at(lot).first.ToString(), "0.5");
  EXPECT_EQ(s.lots.at(lot).second.ToString(), "0.5");
  EXPECT_EQ(kinds(), findings);
}

TEST(RuleTableTest, EveryRuleRowHasARefusalCase) {
  // A rule id may guard several record kinds (one table row each): every
  // row needs a refusal case with a record of its kind.
  std::set<std::pair<std::string, int>> covered;
  for (const auto& c : Cases()) {
    if (c.rule.empty()) continue;
    AdcChain chain;
    SEG_ASSERT_OK(chain.Build());
    auto made = c.make(chain);
    covered.insert({c.rule, made.second.kind_case()});
    if (made.second.kind_case() != v1::Record::KIND_NOT_SET) {
      covered.insert({c.rule, v1::Record::KIND_NOT_SET});
    }
  }
  for (const Rule& r : RuleTable()) {
    if (r.pilot != PilotParam::kNone) continue;  // PilotTest below
    EXPECT_TRUE(covered.count({std::string(r.id), r.kind}))
        << r.id << " on record kind " << r.kind;
  }
}

TEST(RuleTableTest, EveryRuleIsInDocsRules) {
  // docs/rules.md is where an operator looks up a refusal's rule id.
  const std::string doc =
      ::segledger::testing::ReadTestData("../../docs/rules.md");
  for (const Rule& r : RuleTable()) {
    EXPECT_NE(doc.find(absl::StrCat("| `", r.id, "` |")), std::string::npos)
        << r.id << " has no row in docs/rules.md";
  }
}

TEST(ValidationTest, RefusesMalformedRecordNamingTheField) {
  AdcChain chain;
  SEG_ASSERT_OK(chain.Build());
  v1::Record r = chain.Ship(chain.down().party(), chain.fill().party(), "T7",
                            "C7", Lot("DS001"), Q("1", "KGM"),
                            testing::Range(-8000, -6000), T(150), T(160));
  r.mutable_dispatch()->mutable_containers(0)->set_seal_ids(0, "");
  const auto before = chain.down().index().rows();
  EXPECT_THAT(chain.down().AppendCommitAlways(r, T(150)),
              ::segledger::testing::StatusIs(
                  absl::StatusCode::kInvalidArgument,
                  "dispatch.containers[0].seal_ids[0]: empty"));
  EXPECT_EQ(chain.down().index().rows(), before);
}

// DOMAIN.md: a recall names its trigger lots, reason and level; an
// acknowledgement of another party's recall need not repeat them.
TEST(ValidationTest, RecallNeedsTriggersReasonAndLevel) {
  AdcChain chain;
  SEG_ASSERT_OK(chain.Build());
  Log& down = chain.down();
  const v1::Record full = RecallRec(down.party(), {Lot("DS001")}, {});
  struct Case {
    std::function<void(v1::Recall*)> strip;
    std::string error;
  };
  for (const Case& c : std::vector<Case>{
           {[](v1::Recall* r) { r->clear_trigger_lot_ids(); },
            "recall.trigger_lot_ids: empty"},
           {[](v1::Recall* r) { r->clear_reason(); }, "recall.reason: empty"},
           {[](v1::Recall* r) { r->clear_level(); },
            "recall.level: unspecified"}}) {
    v1::Record r = full;
    c.strip(r.mutable_recall());
    const auto before = down.index().rows();
    EXPECT_THAT(down.AppendCommitAlways(r, T(150)),
                ::segledger::testing::StatusIs(
                    absl::StatusCode::kInvalidArgument, c.error));
    EXPECT_EQ(down.index().rows(), before) << c.error;
  }
  // The reviewer's record: an id and a trigger, nothing else.
  v1::Record bare = full;
  bare.mutable_recall()->clear_reason();
  bare.mutable_recall()->clear_level();
  EXPECT_THAT(down.Append(bare, T(150)),
              ::segledger::testing::StatusIs(absl::StatusCode::kInvalidArgument,
                                             "recall."));
  v1::Record ack;
  auto* a = ack.mutable_recall();
  *a->mutable_header() = Header(down.party(), T(150));
  a->set_recall_id("RC-1");
  *a->mutable_acknowledges() = chain.t3;  // any entry ref will do here
  SEG_EXPECT_OK(down.Append(ack, T(150)));
}

// A CMO with under 3 years, and a site with 1 MAH staff: refused by
// default, recorded as findings when so configured.
struct PilotCase {
  std::string name;
  std::string rule;
  bool young;
  int staff;
  // MAH staff assigned to "<site>/annex", another site whose id extends
  // this one's: they are not on this site.
  int annex_staff = 0;
};

class PilotTest : public ::testing::TestWithParam<PilotCase> {};

absl::Status SetUpSite(AdcChain& c, Log& log, bool young, int staff,
                       int annex_staff) {
  v1::Record reg =
      c.PartyReg(log.party(), v1::PARTY_ROLE_CMO,
                 young ? testing::Date(2023, 6, 1) : testing::Date(2015, 1, 1));
  SEG_RETURN_IF_ERROR(log.Append(reg, T(1)).status());
  SEG_RETURN_IF_ERROR(log.Append(c.SiteReg(log.party(), {"cell-bank"},
                                           testing::Date(2027, 1, 1)),
                                 T(1))
                          .status());
  for (int i = 0; i < staff; ++i) {
    SEG_RETURN_IF_ERROR(
        log.Append(c.Staff(log.party(), absl::StrCat("qa-", i)), T(2))
            .status());
  }
  for (int i = 0; i < annex_staff; ++i) {
    v1::Record r = c.Staff(log.party(), absl::StrCat("annex-qa-", i));
    r.mutable_personnel_assignment()->set_assigned_site_id(log.party().site +
                                                           "/annex");
    SEG_RETURN_IF_ERROR(log.Append(r, T(2)).status());
  }
  return absl::OkStatus();
}

TEST_P(PilotTest, RefuseByDefaultFindingWhenConfigured) {
  const PilotCase& pc = GetParam();
  AdcChain chain;
  SEG_ASSERT_OK(chain.Build());
  // The new site must be approved in the plan: reuse the upstream party's
  // site id on a fresh log.
  for (PilotMode mode : {PilotMode::kRefuse, PilotMode::kFinding}) {
    DomainConfig cfg;
    cfg.cmo_experience = mode;
    cfg.mah_staff = mode;
    Log log(chain.up().party(), &chain.evidence(), true, cfg);
    SEG_ASSERT_OK(SetUpSite(chain, log, pc.young, pc.staff, pc.annex_staff));
    v1::Record lot =
        chain.Produced(log.party(), Lot("MCB100"), "cell-bank",
                       testing::Material("mcb"), Q("1", "H87"), T(10));
    const auto before = log.index().rows();
    auto ref = log.AppendCommitAlways(lot, T(10));
    if (mode == PilotMode::kRefuse) {
      EXPECT_THAT(
          ref, ::segledger::testing::StatusIs(
                   absl::StatusCode::kFailedPrecondition, "rule " + pc.rule));
      EXPECT_EQ(log.index().rows(), before);
    } else {
      SEG_ASSERT_OK(ref);
      std::string key =
          absl::StrCat("d/find/", Be64(ref->index()), "/", pc.rule);
      EXPECT_TRUE(log.index().rows().count(key)) << key;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Pilot, PilotTest,
    ::testing::Values(PilotCase{"CmoExperience", "R-CMO-EXPERIENCE", true, 2},
                      PilotCase{"MahStaff", "R-MAH-STAFF", false, 1},
                      PilotCase{"MahStaffOfASiteUnderThisSitesId",
                                "R-MAH-STAFF", false, 1, 1}),
    [](const auto& info) { return info.param.name; });

// d/staff/<site> (state.h) follows the site's d/pers rows: each personnel
// change deletes it (a site's assignments are never all rewritten per
// assignment), the next production record derives it again, and
// R-MAH-STAFF counts the same from the rows alone (the first record after
// a change, or a store written before the summary) as from the summary.
TEST(MahStaffTest, SummaryRowFollowsThePersonnelRows) {
  for (int staff : {1, 2}) {
    AdcChain chain;
    SEG_ASSERT_OK(chain.Build());
    Log log(chain.up().party(), &chain.evidence(), true, DomainConfig());
    SEG_ASSERT_OK(SetUpSite(chain, log, /*young=*/false, staff, 0));
    const std::string summary = StaffKey(log.party().site);
    auto assignments = [&]() -> int {
      auto rows = log.index().rows();
      auto it = rows.find(summary);
      if (it == rows.end()) return -1;  // no summary row
      v1::SiteStaff s;
      EXPECT_TRUE(s.ParseFromString(it->second));
      return s.assignments_size();
    };
    auto produce = [&](const char* lot, int t) {
      return log.Append(
          chain.Produced(log.party(), Lot(lot), "cell-bank",
                         testing::Material("mcb"), Q("1", "H87"), T(t)),
          T(t));
    };
    EXPECT_EQ(assignments(), -1) << staff;  // the assignments deleted it
    auto first = produce("MCB100", 10);
    if (staff < 2) {
      EXPECT_THAT(first, ::segledger::testing::StatusIs(
                             absl::StatusCode::kFailedPrecondition,
                             "rule R-MAH-STAFF"));
      EXPECT_EQ(assignments(), -1);  // a refusal writes nothing
      continue;
    }
    SEG_ASSERT_OK(first);
    EXPECT_EQ(assignments(), 2);
    SEG_ASSERT_OK(produce("MCB101", 11));  // counted from the summary
    EXPECT_EQ(assignments(), 2);
    SEG_ASSERT_OK(log.Append(chain.Staff(log.party(), "qa-9"), T(12)));
    EXPECT_EQ(assignments(), -1);
    SEG_ASSERT_OK(produce("MCB102", 13));
    EXPECT_EQ(assignments(), 3);
  }
}

TEST(RebuildTest, RebuiltStateEqualsIncrementalState) {
  AdcChain chain;
  SEG_ASSERT_OK(chain.Build());
  for (Log* log : chain.logs()) {
    MemoryIndex rebuilt;
    MemoryIndex::Txn txn(&rebuilt);
    txn.Put("d/lot/stale", "x");  // rows of an old state are dropped
    txn.Put("r/request-1", "7");  // the store's rows are kept
    SEG_ASSERT_OK(RebuildState(
        [&](const BodyVisitor& visit) -> absl::Status {
          for (const auto& e : log->entries())
            SEG_RETURN_IF_ERROR(visit(e.parsed));
          return absl::OkStatus();
        },
        log->hook(), txn));
    txn.Commit();
    auto rows = rebuilt.rows();
    EXPECT_EQ(rows.erase("r/request-1"), 1u);
    EXPECT_EQ(rows, log->index().rows()) << log->party().origin;
    EXPECT_FALSE(rows.empty());
  }
}

// The state RebuildState makes from `log`'s entries (no rule runs) is
// the one its appends left.
void ExpectRebuildsTheSame(Log& log) {
  MemoryIndex rebuilt;
  MemoryIndex::Txn txn(&rebuilt, log.Leaves());
  SEG_ASSERT_OK(RebuildState(
      [&](const BodyVisitor& visit) -> absl::Status {
        for (const auto& e : log.entries())
          SEG_RETURN_IF_ERROR(visit(e.parsed));
        return absl::OkStatus();
      },
      log.hook(), txn));
  txn.Commit();
  EXPECT_EQ(rebuilt.rows(), log.index().rows()) << log.party().origin;
}

// The rows behind corrections (d/qa, d/qaon, d/made) and what they undo
// rebuild to the state the appends left.
TEST(RebuildTest, WithdrawnReleasesAndProductionsRebuildTheSame) {
  AdcChain chain;
  SEG_ASSERT_OK(chain.Build());
  Log& down = chain.down();
  SEG_ASSERT_OK(down.Append(
      VoidRec(down,
              LastRelease(down, Lot("DS001"), v1::RELEASE_KIND_SITE_RELEASE)),
      T(150)));
  EXPECT_FALSE(LotRow(down, Lot("DS001")).site_released());
  Log& up = chain.up();
  v1::Record made =
      chain.Produced(up.party(), Lot("MCB002"), "cell-bank",
                     testing::Material("mcb"), Q("1", "H87"), T(150));
  SEG_ASSERT_OK(up.Append(made, T(150)));
  SEG_ASSERT_OK(up.Append(VoidRec(up, up.entries().size() - 1), T(150)));
  made.mutable_lot_produced()->mutable_quantity()->set_value("2");
  made.mutable_lot_produced()
      ->mutable_containers(0)
      ->mutable_quantity()
      ->set_value("2");
  SEG_ASSERT_OK(up.Append(made, T(150)));
  EXPECT_EQ(LotRow(up, Lot("MCB002")).on_hand(), "2");
  for (Log* log : {&down, &up}) ExpectRebuildsTheSame(*log);
}

// The rows behind voided dispatches and receipts (d/sent, d/rcvd, d/was,
// d/void) and what they undo rebuild to the state the appends left.
TEST(RebuildTest, WithdrawnDispatchesAndReceiptsRebuildTheSame) {
  AdcChain chain;
  SEG_ASSERT_OK(chain.Build());
  Log& down = chain.down();
  Log& fill = chain.fill();
  const std::string lot = Lot("DS001");
  SEG_ASSERT_OK_AND_ASSIGN(
      v1::EntryRef wrong,
      down.Append(
          chain.Ship(down.party(), fill.party(), "T7", "C7", lot, Q("1", "KGM"),
                     testing::Range(-8000, -6000), T(150), T(160)),
          T(150)));
  SEG_ASSERT_OK(down.Append(VoidRec(down, wrong.index()), T(151)));
  SEG_ASSERT_OK(
      Ship7AndReceive(chain, down, fill, lot, Q("0.5", "KGM"), T(152)));
  SEG_ASSERT_OK(fill.Append(VoidRec(fill, ReceiptOf(fill, "T7")), T(153)));
  SEG_ASSERT_OK(fill.Append(
      chain.Receive(fill.party(), RefOf(down, DispatchOf(down, "T7")), "T7",
                    "C7", lot, Q("0.5", "KGM"), "SEAL-C7", T(154)),
      T(154)));
  for (Log* log : {&down, &fill}) ExpectRebuildsTheSame(*log);
}

TEST(RebuildTest, PilotFindingRowsAreRebuiltToo) {
  AdcChain chain;
  SEG_ASSERT_OK(chain.Build());
  DomainConfig cfg;
  cfg.cmo_experience = PilotMode::kFinding;
  Log log(chain.up().party(), &chain.evidence(), true, cfg);
  SEG_ASSERT_OK(SetUpSite(chain, log, /*young=*/true, 2, 0));
  SEG_ASSERT_OK(
      log.Append(chain.Produced(log.party(), Lot("MCB100"), "cell-bank",
                                testing::Material("mcb"), Q("1", "H87"), T(10)),
                 T(10))
          .status());
  ExpectRebuildsTheSame(log);
}

}  // namespace
}  // namespace segledger::domain
