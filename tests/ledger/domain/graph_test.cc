// The ADC chain across five logs: rules accept it, queries answer, and each
// seeded defect produces exactly its finding (issue 4 "Tests").
#include "ledger/domain/graph.h"

#include <algorithm>
#include <map>
#include <set>

#include "gtest/gtest.h"
#include "ledger/domain/links.h"
#include "tests/ledger/domain/adc_scenario.h"
#include "tests/support/test_util.h"

namespace segledger::domain {
namespace {

using testing::AdcChain;
using testing::Defect;
using testing::Log;
using testing::LongChain;
using testing::Lot;

std::set<DomainFindingKind> Kinds(const std::vector<DomainFinding>& fs) {
  std::set<DomainFindingKind> out;
  for (const auto& f : fs) out.insert(f.kind);
  return out;
}

size_t Count(const std::vector<DomainFinding>& fs, DomainFindingKind k) {
  return std::count_if(fs.begin(), fs.end(),
                       [k](const DomainFinding& f) { return f.kind == k; });
}

std::string Describe(const std::vector<DomainFinding>& fs) {
  std::string s;
  for (const auto& f : fs) {
    absl::StrAppend(&s, DomainFindingKindName(f.kind), ": ", f.message, "\n");
  }
  return s;
}

TEST(AdcChainTest, FullChainPassesRulesAndHasNoFindings) {
  AdcChain chain(Defect::kNone, /*enforce=*/true);
  SEG_ASSERT_OK(chain.Build());
  DomainGraph g = chain.Graph();
  auto findings = g.Findings(chain.Options());
  EXPECT_TRUE(findings.empty()) << Describe(findings);
  // The fill site's state: DS001 fully consumed, DP001 released.
  MemoryIndex::Txn txn(&chain.fill().index());
  SEG_ASSERT_OK_AND_ASSIGN(auto ds,
                           ReadRow<v1::LotState>(txn, LotKey(Lot("DS001"))));
  ASSERT_TRUE(ds.has_value());
  EXPECT_EQ(ds->on_hand(), "0");
  EXPECT_EQ(ds->received(), "4");
  SEG_ASSERT_OK_AND_ASSIGN(auto dp,
                           ReadRow<v1::LotState>(txn, LotKey(Lot("DP001"))));
  ASSERT_TRUE(dp.has_value());
  EXPECT_TRUE(dp->site_released());
  EXPECT_EQ(dp->on_hand(), "20000");
}

TEST(AdcChainTest, BackwardTraceOfDpReachesEveryInputLotSiteAndTransfer) {
  AdcChain chain;
  SEG_ASSERT_OK(chain.Build());
  DomainGraph g = chain.Graph();
  TraceResult t = g.Backward(Lot("DP001"));
  std::set<std::string> lots;
  for (const auto& [id, l] : t.lots) lots.insert(id);
  EXPECT_EQ(lots,
            (std::set<std::string>{Lot("DP001"), Lot("DS001"), Lot("MAB001"),
                                   Lot("DL001"), Lot("HV001"), Lot("MCB001")}));
  EXPECT_EQ(t.transfers, (std::set<std::string>{"T1", "T2", "T3"}));
  for (Log* log : {&chain.up(), &chain.down(), &chain.chem(), &chain.fill()}) {
    EXPECT_TRUE(t.sites.count(log->party().site)) << log->party().site;
  }
  EXPECT_TRUE(t.in_transit.empty());
  EXPECT_FALSE(t.records.empty());
}

// The fill site's own node holds its receipt of T3, not the downstream
// site's dispatch (LoadLotEntries reads only the own log). The trace took
// transfers and sites from dispatches only, so the backward trace of DP001
// named no transfer DS001 came in.
TEST(AdcChainTest, BackwardTraceOfOneSitesLogNamesTheTransfersItReceived) {
  AdcChain chain;
  SEG_ASSERT_OK(chain.Build());
  DomainGraph g;
  for (const auto& e : chain.fill().entries()) {
    SEG_ASSERT_OK(
        g.AddSigned(chain.fill().party().origin, e.body, e.signature, nullptr));
  }
  TraceResult t = g.Backward(Lot("DP001"));
  EXPECT_TRUE(t.lots.count(Lot("DS001")));
  EXPECT_EQ(t.transfers, std::set<std::string>{"T3"});
  EXPECT_TRUE(t.in_transit.empty());
  EXPECT_EQ(t.sites, std::set<std::string>{chain.fill().party().site});
  // With the dispatch in the graph, the trace also names where the lot came
  // from.
  const auto& d = chain.down().entries()[chain.t3.index()];
  SEG_ASSERT_OK(
      g.AddSigned(chain.down().party().origin, d.body, d.signature, nullptr));
  t = g.Backward(Lot("DP001"));
  EXPECT_EQ(t.sites, (std::set<std::string>{chain.fill().party().site,
                                            chain.down().party().site}));
  EXPECT_EQ(t.lots.at(Lot("DS001")).sites,
            (std::set<std::string>{chain.fill().party().site,
                                   chain.down().party().site}));
}

TEST(AdcChainTest, ForwardTraceIncludesShipmentsInTransit) {
  AdcChain chain(Defect::kNeverReceived, false);
  SEG_ASSERT_OK(chain.Build());
  DomainGraph g = chain.Graph();
  TraceResult t = g.Forward(Lot("HV001"));
  EXPECT_TRUE(t.lots.count(Lot("DP001")));
  EXPECT_TRUE(t.lots.count(Lot("DS001")));
  EXPECT_FALSE(t.lots.count(Lot("DL001")));  // an input, not downstream
  EXPECT_EQ(t.in_transit, (std::set<std::string>{"T5"}));
}

// The trace recomputed in_transit over every transfer found so far for
// every lot it reached, copying each transfer's entries each time: a
// 4,000-lot chain took 5.9 s. The cost is measured by
// BM_ForwardTraceLongChain (benchmarks/domain_benchmark.cc); here, that the
// answer over a long chain is complete.
TEST(AdcChainTest, ForwardTraceOfALongChainIsComplete) {
  const int n = 4000;
  DomainGraph g = LongChain(n);
  TraceResult t = g.Forward("L0");
  EXPECT_EQ(t.lots.size(), static_cast<size_t>(n + 1));
  EXPECT_EQ(t.transfers.size(), static_cast<size_t>(n));
  EXPECT_EQ(t.in_transit, t.transfers);
  EXPECT_EQ(t.records.size(), static_cast<size_t>(2 * n));
  TraceResult back = g.Backward(absl::StrCat("L", n));
  EXPECT_EQ(back.lots.size(), static_cast<size_t>(n + 1));
  EXPECT_EQ(back.transfers.size(), static_cast<size_t>(n));
}

TEST(AdcChainTest, TimelineShowsSignaturesAndCorrectionsInline) {
  AdcChain chain;
  SEG_ASSERT_OK(chain.Build());
  // Correct the QC result of DS001 at the downstream site.
  Log& down = chain.down();
  uint64_t qc_index = 0;
  for (const auto& e : down.entries()) {
    if (e.parsed.record().has_qc_result()) qc_index = e.parsed.index();
  }
  v1::Record corr;
  auto* c = corr.mutable_correction();
  *c->mutable_header() = testing::Header(down.party(), testing::T(63));
  c->mutable_corrects()->set_origin(down.party().origin);
  c->mutable_corrects()->set_index(qc_index);
  c->mutable_corrects()->set_leaf_hash(
      std::string(HashBytes(down.entries()[qc_index].leaf)));
  c->set_reason(v1::CORRECTION_REASON_INCORRECT_DATA);
  c->set_explanation("wrong CoA attached");
  SEG_ASSERT_OK(down.Append(corr, testing::T(63)).status());
  DomainGraph g = chain.Graph();
  auto tl = g.Timeline(Lot("DS001"));
  ASSERT_GE(tl.size(), 6u);
  for (size_t i = 1; i < tl.size(); ++i) {
    EXPECT_LE(tl[i - 1].event_time, tl[i].event_time);
  }
  bool saw_corrected = false, saw_correction = false;
  for (const auto& item : tl) {
    if (item.kind == "qc_result") {
      saw_corrected = item.corrected_by.size() == 1;
      ASSERT_EQ(item.signatures.size(), 1u);
      EXPECT_EQ(
          item.signatures[0],
          "Operator of cmo-down.example / VERIFIED / 2025-03-03T13:00:00Z");
    }
    saw_correction |= item.is_correction;
  }
  EXPECT_TRUE(saw_corrected);
  EXPECT_TRUE(saw_correction);
}

uint64_t DispatchIndex(Log& log, const std::string& transfer) {
  for (const auto& e : log.entries()) {
    if (e.parsed.record().has_dispatch() &&
        e.parsed.record().dispatch().transfer_id() == transfer) {
      return e.parsed.index();
    }
  }
  ADD_FAILURE() << "no dispatch of " << transfer;
  return 0;
}

// Appends to `by` a correction of entry `index` of `of`'s log, naming it
// with `leaf`.
absl::StatusOr<v1::EntryRef> Correct(Log& by, Log& of, uint64_t index,
                                     const Hash& leaf,
                                     v1::CorrectionReason reason,
                                     absl::Time t) {
  v1::Record corr;
  auto* c = corr.mutable_correction();
  *c->mutable_header() = testing::Header(by.party(), t);
  c->mutable_corrects()->set_origin(of.party().origin);
  c->mutable_corrects()->set_index(index);
  c->mutable_corrects()->set_leaf_hash(std::string(HashBytes(leaf)));
  c->set_reason(reason);
  c->set_explanation("entered by mistake");
  return by.Append(corr, t);
}

// A dispatch corrected as "did not occur" is no shipment: the traces, the
// balance and the shipment counted it, so T5 (never received, then voided
// by the downstream site) stayed in transit and in DS001's dispatched
// quantity. A correction voiding that correction revives it.
TEST(AdcChainTest, DispatchThatDidNotOccurIsNoShipment) {
  AdcChain chain(Defect::kNeverReceived, /*enforce=*/false);
  SEG_ASSERT_OK(chain.Build());
  Log& down = chain.down();
  const uint64_t t5 = DispatchIndex(down, "T5");
  SEG_ASSERT_OK_AND_ASSIGN(
      v1::EntryRef voiding,
      Correct(down, down, t5, down.entries()[t5].leaf,
              v1::CORRECTION_REASON_DID_NOT_OCCUR, testing::T(66)));
  DomainGraph g = chain.Graph();
  EXPECT_TRUE(g.DidNotOccur(*g.Find(down.party().origin, t5)));
  TraceResult fwd = g.Forward(Lot("DS001"));
  EXPECT_EQ(fwd.transfers, std::set<std::string>{"T3"});
  EXPECT_TRUE(fwd.in_transit.empty());
  for (const auto& r : fwd.records) {
    EXPECT_FALSE(r.origin() == down.party().origin && r.index() == t5);
  }
  LotBalance ds = g.MassBalance(Lot("DS001"));
  EXPECT_EQ(ds.sites.at(down.party().site).dispatched.ToString(), "4");
  EXPECT_EQ(ds.sites.at(down.party().site).on_hand.ToString(), "1");
  EXPECT_TRUE(ds.in_transit.is_zero()) << ds.in_transit.ToString();
  EXPECT_TRUE(g.Shipment("T5").lots.empty());
  // Nor is it a dispatch never received (the seeded defect's only finding).
  for (const auto& f : g.Findings(chain.Options())) {
    EXPECT_NE(f.kind, DomainFindingKind::kDispatchNotReceived) << f.message;
  }
  // The timeline still shows the dispatch, with its correction.
  bool shown = false;
  for (const auto& item : g.Timeline(Lot("DS001"))) {
    if (item.ref.origin() == down.party().origin && item.ref.index() == t5) {
      shown = true;
      ASSERT_EQ(item.corrected_by.size(), 1u);
      EXPECT_EQ(item.corrected_by[0].index(), voiding.index());
    }
  }
  EXPECT_TRUE(shown);

  SEG_ASSERT_OK(Correct(down, down, voiding.index(),
                        down.entries()[voiding.index()].leaf,
                        v1::CORRECTION_REASON_DID_NOT_OCCUR, testing::T(67))
                    .status());
  g = chain.Graph();
  EXPECT_FALSE(g.DidNotOccur(*g.Find(down.party().origin, t5)));
  EXPECT_EQ(g.Forward(Lot("DS001")).in_transit, std::set<std::string>{"T5"});
  int not_received = 0;
  for (const auto& f : g.Findings(chain.Options())) {
    not_received += f.kind == DomainFindingKind::kDispatchNotReceived;
  }
  EXPECT_EQ(not_received, 1);
}

// A log corrects only its own entries, and a correction names the entry by
// its leaf hash too. Any correction naming (origin, index) was filed: one
// in the fill site's log, or one with another entry's leaf hash, showed as
// a correction of the T5 dispatch.
TEST(AdcChainTest, CorrectionOfAnotherLogOrAnotherEntryCorrectsNothing) {
  AdcChain chain(Defect::kNeverReceived, /*enforce=*/false);
  SEG_ASSERT_OK(chain.Build());
  Log& down = chain.down();
  const uint64_t t5 = DispatchIndex(down, "T5");
  SEG_ASSERT_OK(Correct(chain.fill(), down, t5, down.entries()[t5].leaf,
                        v1::CORRECTION_REASON_DID_NOT_OCCUR, testing::T(66))
                    .status());
  SEG_ASSERT_OK(Correct(down, down, t5, down.entries()[0].leaf,
                        v1::CORRECTION_REASON_DID_NOT_OCCUR, testing::T(66))
                    .status());
  DomainGraph g = chain.Graph();
  const GraphEntry* dispatch = g.Find(down.party().origin, t5);
  ASSERT_NE(dispatch, nullptr);
  EXPECT_TRUE(g.CorrectionsOf(*dispatch).empty());
  EXPECT_FALSE(g.DidNotOccur(*dispatch));
  EXPECT_EQ(g.Forward(Lot("DS001")).in_transit, std::set<std::string>{"T5"});
  for (const auto& item : g.Timeline(Lot("DS001"))) {
    EXPECT_TRUE(item.corrected_by.empty()) << item.kind;
  }
}

// A closed minor deviation DEV-T1 on transfer T1, recorded upstream.
absl::Status AddClosedT1Deviation(AdcChain& chain,
                                  const std::string& description) {
  v1::Record dev;
  auto* x = dev.mutable_deviation();
  *x->mutable_header() = testing::Header(chain.up().party(), testing::T(36));
  x->set_deviation_id("DEV-T1");
  x->set_deviation_class(v1::DEVIATION_CLASS_MINOR);
  x->add_affected_transfer_ids("T1");
  x->set_status(v1::DEVIATION_STATUS_CLOSED);
  x->set_description(description);
  return chain.up().Append(dev, testing::T(36)).status();
}

// A lot's custody timeline also shows what was recorded about the
// shipments it travelled in without naming it: the transport condition
// report of T1 and a deviation raised on T1, each marked with the
// transfer; a lot that never travelled shows neither.
TEST(AdcChainTest, TimelineShowsTheRecordsOfTheLotsShipments) {
  AdcChain chain;
  SEG_ASSERT_OK(chain.Build());
  SEG_ASSERT_OK(AddClosedT1Deviation(chain, "logger battery low"));
  DomainGraph g = chain.Graph();

  std::map<std::string, std::string> via;  // kind -> transfer
  auto tl = g.Timeline(Lot("HV001"));
  for (size_t i = 0; i < tl.size(); ++i) {
    if (i > 0) {
      EXPECT_LE(tl[i - 1].event_time, tl[i].event_time);
    }
    if (!tl[i].via_transfer.empty()) via[tl[i].kind] = tl[i].via_transfer;
  }
  EXPECT_EQ(via,
            (std::map<std::string, std::string>{
                {"transport_condition_report", "T1"}, {"deviation", "T1"}}));
  for (const auto& item : tl) {
    if (item.kind == "dispatch" || item.kind == "receipt") {
      EXPECT_EQ(item.via_transfer, "") << item.kind << " names the lot";
    }
  }
  for (const auto& item : g.Timeline(Lot("MCB001"))) {
    EXPECT_EQ(item.via_transfer, "") << item.kind;
    EXPECT_NE(item.kind, "transport_condition_report");
  }
}

TEST(AdcChainTest, MassBalancePerLotAndShipment) {
  AdcChain chain;
  SEG_ASSERT_OK(chain.Build());
  DomainGraph g = chain.Graph();
  LotBalance ds = g.MassBalance(Lot("DS001"));
  EXPECT_EQ(ds.unit, "KGM");
  const auto& down = ds.sites.at(chain.down().party().site);
  EXPECT_EQ(down.produced.ToString(), "5");
  EXPECT_EQ(down.dispatched.ToString(), "4");
  EXPECT_EQ(down.on_hand.ToString(), "1");
  const auto& fill = ds.sites.at(chain.fill().party().site);
  EXPECT_EQ(fill.received.ToString(), "4");
  EXPECT_EQ(fill.consumed.ToString(), "4");
  EXPECT_TRUE(fill.on_hand.is_zero());
  EXPECT_TRUE(ds.in_transit.is_zero());
  LotBalance hv = g.MassBalance(Lot("HV001"));
  EXPECT_EQ(hv.sites.at(chain.up().party().site).sampled.ToString(), "0.2");
  EXPECT_TRUE(hv.sites.at(chain.up().party().site).on_hand.is_zero());
  ShipmentBalance t1 = g.Shipment("T1");
  EXPECT_TRUE(t1.received);
  EXPECT_EQ(t1.lots.at(Lot("HV001")).first, t1.lots.at(Lot("HV001")).second);
  EXPECT_EQ(t1.units.at(Lot("HV001")), "LTR");
}

// records.proto: a destruction without a quantity destroys all on hand
// (apply.cc does); the balance counted only destructions with a quantity,
// so the fill site still showed 20,000 DP001 on hand after destroying it.
TEST(AdcChainTest, MassBalanceDestroyWithoutQuantityTakesAllOnHand) {
  AdcChain chain(Defect::kNone, /*enforce=*/false);
  SEG_ASSERT_OK(chain.Build());
  v1::Record r;
  auto* s = r.mutable_status_change();
  *s->mutable_header() = testing::Header(chain.fill().party(), testing::T(120));
  s->set_lot_id(Lot("DP001"));
  s->set_action(v1::STATUS_ACTION_DESTROY);
  s->set_reason("stability failure");
  SEG_ASSERT_OK(chain.fill().Append(r, testing::T(120)).status());
  LotBalance b = chain.Graph().MassBalance(Lot("DP001"));
  const auto& fill = b.sites.at(chain.fill().party().site);
  EXPECT_EQ(fill.produced.ToString(), "20000");
  EXPECT_EQ(fill.destroyed.ToString(), "20000");
  EXPECT_TRUE(fill.on_hand.is_zero()) << fill.on_hand.ToString();
}

// In transit is what was dispatched in a transfer nobody has received yet.
// It was total dispatched minus total received, so T1 received 0.3 LTR
// short (within the product's 0.5% tolerance) stayed 0.3 LTR "in transit"
// for ever; a T5 never received is in transit whatever else arrived.
TEST(AdcChainTest, MassBalanceInTransitIsWhatNoReceiptTookIn) {
  AdcChain chain(Defect::kNone, /*enforce=*/false);
  chain.t1_received = testing::Q("199.5", "LTR");
  SEG_ASSERT_OK(chain.Build());
  DomainGraph g = chain.Graph();
  LotBalance hv = g.MassBalance(Lot("HV001"));
  EXPECT_TRUE(hv.in_transit.is_zero()) << hv.in_transit.ToString();
  EXPECT_EQ(hv.sites.at(chain.down().party().site).received.ToString(),
            "199.5");
  ShipmentBalance t1 = g.Shipment("T1");
  EXPECT_EQ(t1.lots.at(Lot("HV001")).first.ToString(), "199.8");
  EXPECT_EQ(t1.lots.at(Lot("HV001")).second.ToString(), "199.5");

  AdcChain lost(Defect::kNeverReceived, /*enforce=*/false);
  SEG_ASSERT_OK(lost.Build());
  LotBalance ds = lost.Graph().MassBalance(Lot("DS001"));
  EXPECT_EQ(ds.in_transit.ToString(), "1");  // T5; T3's 4 KGM arrived
}

// DOMAIN.md "Queries" 4-5: a quantity that does not convert to the unit
// a balance is kept in (a count against a volume) is not counted, and the
// balance is then not complete. T7 ships 1 LTR of HV001 plus 4 drums (H87)
// and arrives as 1 LTR plus 3 drums: the shipment and the findings used to
// skip both counts and call it balanced. Now neither is read as balanced:
// the shipment and the lot's balance are uncounted_quantity findings
// naming the records and units, and no quantity_mismatch is claimed from
// sums that leave quantities out.
TEST(AdcChainTest, QuantitiesThatDoNotConvertAreFindingsNotBalanced) {
  AdcChain chain(Defect::kNone, /*enforce=*/false);
  SEG_ASSERT_OK(chain.Build());
  auto drums = [](v1::Record& r, const std::string& qty) {
    if (r.has_dispatch()) {
      auto* c = r.mutable_dispatch()->add_containers();
      *c = r.dispatch().containers(0);
      c->set_container_id("C7-DRUMS");
      c->set_seal_ids(0, "SEAL-C7-DRUMS");
      *c->mutable_quantity() = testing::Q(qty, "H87");
    } else {
      auto* c = r.mutable_receipt()->add_containers();
      *c = r.receipt().containers(0);
      c->set_container_id("C7-DRUMS");
      c->set_seal_ids(0, "SEAL-C7-DRUMS");
      *c->mutable_received_quantity() = testing::Q(qty, "H87");
    }
  };
  v1::Record ship =
      chain.Ship(chain.up().party(), chain.down().party(), "T7", "C7",
                 Lot("HV001"), testing::Q("1", "LTR"), testing::Range(200, 800),
                 testing::T(38), testing::T(44));
  drums(ship, "4");
  SEG_ASSERT_OK_AND_ASSIGN(v1::EntryRef t7,
                           chain.up().Append(ship, testing::T(38.1)));
  v1::Record receipt =
      chain.Receive(chain.down().party(), t7, "T7", "C7", Lot("HV001"),
                    testing::Q("1", "LTR"), "SEAL-C7", testing::T(43));
  drums(receipt, "3");
  SEG_ASSERT_OK_AND_ASSIGN(v1::EntryRef r7,
                           chain.down().Append(receipt, testing::T(43.1)));
  DomainGraph g = chain.Graph();
  auto findings = g.Findings(chain.Options());
  std::vector<const DomainFinding*> uncounted;
  for (const auto& f : findings) {
    EXPECT_NE(f.kind, DomainFindingKind::kQuantityMismatch) << f.message;
    if (DomainFindingKindName(f.kind) == "uncounted_quantity") {
      uncounted.push_back(&f);
    }
  }
  ASSERT_EQ(uncounted.size(), 2u) << Describe(findings);
  for (const DomainFinding* f : uncounted) {
    EXPECT_NE(f->message.find("3 H87"), std::string::npos) << f->message;
    EXPECT_NE(f->message.find("LTR"), std::string::npos) << f->message;
    bool names_receipt = false;
    for (const auto& r : f->records) {
      names_receipt |= r.origin() == r7.origin() && r.index() == r7.index();
    }
    EXPECT_TRUE(names_receipt) << f->message;
  }
  // The same quantities, in the balances' own terms.
  ShipmentBalance shipment = g.Shipment("T7");
  EXPECT_EQ(shipment.lots.at(Lot("HV001")),
            std::make_pair(*Decimal::Parse("1"), *Decimal::Parse("1")));
  ASSERT_EQ(shipment.uncounted.size(), 2u);
  EXPECT_EQ(shipment.uncounted[1].record.index(), r7.index());
  EXPECT_EQ(shipment.uncounted[1].movement, "received");
  EXPECT_EQ(shipment.uncounted[1].quantity, "3 H87");
  LotBalance hv = g.MassBalance(Lot("HV001"));
  ASSERT_EQ(hv.uncounted.size(), 2u);
  EXPECT_EQ(hv.unit, "LTR");
}

// The lot's balance lists each quantity it leaves out - the record, what
// it is, the quantity as recorded and why - and counts the rest: a QC
// sample of HV001 counted in vials (H87) against a lot kept in litres.
TEST(AdcChainTest, MassBalanceListsTheQuantitiesItDoesNotCount) {
  AdcChain chain(Defect::kNone, /*enforce=*/false);
  SEG_ASSERT_OK(chain.Build());
  LotBalance before = chain.Graph().MassBalance(Lot("HV001"));
  EXPECT_TRUE(before.uncounted.empty());
  const v1::Quantity vials = testing::Q("2", "H87");
  SEG_ASSERT_OK_AND_ASSIGN(
      v1::EntryRef qc,
      chain.up().Append(
          chain.Qc(chain.up().party(), Lot("HV001"), testing::T(23), &vials),
          testing::T(23.1)));
  DomainGraph g = chain.Graph();
  LotBalance hv = g.MassBalance(Lot("HV001"));
  const auto& up = hv.sites.at(chain.up().party().site);
  EXPECT_EQ(up.sampled.ToString(), "0.2");  // the litres sampled before
  EXPECT_EQ(up.on_hand, before.sites.at(chain.up().party().site).on_hand);
  ASSERT_EQ(hv.uncounted.size(), 1u);
  const UncountedQuantity& u = hv.uncounted[0];
  EXPECT_EQ(u.record.origin(), qc.origin());
  EXPECT_EQ(u.record.index(), qc.index());
  EXPECT_EQ(u.record.leaf_hash(), qc.leaf_hash());
  EXPECT_EQ(u.record_kind, "qc_result");
  EXPECT_EQ(u.lot_id, Lot("HV001"));
  EXPECT_EQ(u.movement, "sampled");
  EXPECT_EQ(u.quantity, "2 H87");
  EXPECT_EQ(u.reason, "cannot convert H87 to LTR: count vs mass/volume");
  EXPECT_EQ(DescribeUncounted(u),
            absl::StrCat("qc_result ", qc.origin(), " index ", qc.index(),
                         ": sampled 2 H87 not counted (cannot convert H87 to "
                         "LTR: count vs mass/volume)"));
  // And the findings say the lot's balance is incomplete.
  size_t found = 0;
  for (const auto& f : g.Findings(chain.Options())) {
    found += f.kind == DomainFindingKind::kUncountedQuantity &&
             f.records.size() == 1 && f.records[0].index() == qc.index();
  }
  EXPECT_EQ(found, 1u);
}

TEST(AdcChainTest, ProvinceViewHoldsItsSitesAndTransfersTouchingThem) {
  AdcChain chain;
  SEG_ASSERT_OK(chain.Build());
  DomainGraph g = chain.Graph();
  auto view = g.ProvinceView("CN-SD");  // the drug-linker site
  std::set<std::string> origins;
  for (const auto& r : view) origins.insert(r.origin());
  // Its own records plus the downstream receipt of T2.
  EXPECT_EQ(origins, (std::set<std::string>{chain.chem().party().origin,
                                            chain.down().party().origin}));
  size_t down_records = 0;
  for (const auto& r : view)
    down_records += r.origin() == chain.down().party().origin;
  EXPECT_EQ(down_records, 1u);
  EXPECT_TRUE(g.ProvinceView("CN-XZ").empty());
}

struct DefectCase {
  Defect defect;
  DomainFindingKind kind;
};

class SeededDefectTest : public ::testing::TestWithParam<DefectCase> {};

TEST_P(SeededDefectTest, ProducesExactlyItsFinding) {
  AdcChain chain(GetParam().defect, /*enforce=*/false);
  SEG_ASSERT_OK(chain.Build());
  DomainGraph g = chain.Graph();
  auto findings = g.Findings(chain.Options());
  EXPECT_EQ(Kinds(findings), std::set<DomainFindingKind>{GetParam().kind})
      << Describe(findings);
  for (const auto& f : findings) {
    EXPECT_FALSE(f.records.empty());
    for (const auto& r : f.records) EXPECT_EQ(r.leaf_hash().size(), 32u);
    EXPECT_EQ(f.severity, DefaultSeverityOf(f.kind));
  }
}

INSTANTIATE_TEST_SUITE_P(
    EveryKind, SeededDefectTest,
    ::testing::Values(
        DefectCase{Defect::kNeverReceived,
                   DomainFindingKind::kDispatchNotReceived},
        DefectCase{Defect::kReceiptWithoutDispatch,
                   DomainFindingKind::kReceiptWithoutDispatch},
        DefectCase{Defect::kQuantity, DomainFindingKind::kQuantityMismatch},
        DefectCase{Defect::kContainer, DomainFindingKind::kContainerMismatch},
        DefectCase{Defect::kSeal, DomainFindingKind::kSealMismatch},
        DefectCase{Defect::kWrongSite, DomainFindingKind::kReceivedAtWrongSite},
        DefectCase{Defect::kExcursion, DomainFindingKind::kUnhandledExcursion},
        DefectCase{Defect::kUnauthorisedSite,
                   DomainFindingKind::kUnauthorisedSite},
        DefectCase{Defect::kDispatchBeforeRelease,
                   DomainFindingKind::kDispatchBeforeRelease},
        DefectCase{Defect::kUsedBeforeAcceptance,
                   DomainFindingKind::kUsedBeforeAcceptance},
        DefectCase{Defect::kPastHoldTime,
                   DomainFindingKind::kInputPastHoldTime},
        DefectCase{Defect::kOpenDeviation,
                   DomainFindingKind::kReleaseWithOpenDeviation},
        DefectCase{Defect::kMahStaff, DomainFindingKind::kInsufficientMahStaff},
        DefectCase{Defect::kCmoExperience, DomainFindingKind::kCmoExperience},
        DefectCase{Defect::kBrokenChain, DomainFindingKind::kBrokenChain},
        DefectCase{Defect::kBadSignature, DomainFindingKind::kBadSignature},
        DefectCase{Defect::kKeyOutsideValidity,
                   DomainFindingKind::kKeyOutsideValidity},
        DefectCase{Defect::kEquivocation, DomainFindingKind::kEquivocation},
        DefectCase{Defect::kLateRecord, DomainFindingKind::kLateRecord},
        DefectCase{Defect::kUncountedQuantity,
                   DomainFindingKind::kUncountedQuantity}),
    [](const ::testing::TestParamInfo<DefectCase>& info) {
      std::string name(DomainFindingKindName(info.param.kind));
      std::string out;
      bool up = true;
      for (char c : name) {
        if (c == '_') {
          up = true;
          continue;
        }
        out += up ? static_cast<char>(std::toupper(c)) : c;
        up = false;
      }
      return out;
    });

TEST(SeededDefectTest, EveryFindingKindIsSeeded) {
  // 20 kinds, 20 cases above: a new kind must get a seeded test.
  EXPECT_EQ(kNumDomainFindingKinds, 20);
}

TEST(SeededDefectTest, ExcursionWithLinkedDeviationIsNotAFinding) {
  AdcChain chain(Defect::kExcursion, false);
  SEG_ASSERT_OK(chain.Build());
  SEG_ASSERT_OK(
      AddClosedT1Deviation(chain, "excursion assessed, product not impacted"));
  auto findings = chain.Graph().Findings(chain.Options());
  EXPECT_TRUE(findings.empty()) << Describe(findings);
}

// DOMAIN.md "Queries" 4-5: a shipment's dispatched - received within the
// product's mass-balance tolerance (0.5% of 199.8 LTR = 0.999 LTR) is not a
// quantity mismatch; beyond it is.
TEST(QuantityToleranceTest, WithinToleranceIsNotAFinding) {
  for (const char* received : {"199.5", "198.801", "200.799"}) {
    AdcChain chain(Defect::kNone, /*enforce=*/false);
    chain.t1_received = testing::Q(received, "LTR");
    SEG_ASSERT_OK(chain.Build());
    auto findings = chain.Graph().Findings(chain.Options());
    EXPECT_TRUE(findings.empty()) << received << "\n" << Describe(findings);
  }
}

TEST(QuantityToleranceTest, BeyondToleranceIsAFinding) {
  for (const char* received : {"198.8", "200.8", "0.2"}) {
    AdcChain chain(Defect::kNone, /*enforce=*/false);
    chain.t1_received = testing::Q(received, "LTR");
    SEG_ASSERT_OK(chain.Build());
    auto findings = chain.Graph().Findings(chain.Options());
    ASSERT_EQ(Kinds(findings),
              std::set<DomainFindingKind>{DomainFindingKind::kQuantityMismatch})
        << received << "\n"
        << Describe(findings);
    EXPECT_EQ(
        findings[0].message,
        absl::StrCat("transfer T1 lot ", Lot("HV001"), ": 199.8 dispatched, ",
                     received, " received (tolerance 0.5%)"));
    EXPECT_EQ(findings[0].records.size(), 2u);
  }
}

TEST(QuantityToleranceTest, MillilitresConvertBeforeTheTolerance) {
  // 199,000 MLT = 199 LTR: 0.8 LTR short, within 0.999 LTR.
  AdcChain chain(Defect::kNone, /*enforce=*/false);
  chain.t1_received = testing::Q("199000", "MLT");
  SEG_ASSERT_OK(chain.Build());
  auto findings = chain.Graph().Findings(chain.Options());
  EXPECT_TRUE(findings.empty()) << Describe(findings);
}

// ALCOA+ "contemporaneous" both ways: a record of a log whose rules did
// not refuse it (R-EVENT-TIME) recorded before its event time is a
// late_record finding, within the clock skew it is not.
TEST(LateRecordTest, EventAfterTheRecordTimeIsAFinding) {
  for (absl::Duration ahead : {absl::Minutes(5), absl::Hours(1)}) {
    AdcChain chain(Defect::kNone, /*enforce=*/false);
    SEG_ASSERT_OK(chain.Build());
    const absl::Time recorded = testing::T(150);
    SEG_ASSERT_OK(
        chain.up()
            .Append(chain.Produced(chain.up().party(), Lot("MCB009"),
                                   "cell-bank", testing::Material("mcb"),
                                   testing::Q("1", "H87"), recorded + ahead),
                    recorded)
            .status());
    auto findings = chain.Graph().Findings(chain.Options());
    if (ahead <= absl::Minutes(5)) {
      EXPECT_TRUE(findings.empty()) << Describe(findings);
      continue;
    }
    ASSERT_EQ(Kinds(findings),
              std::set<DomainFindingKind>{DomainFindingKind::kLateRecord})
        << Describe(findings);
    EXPECT_THAT(findings[0].message,
                ::testing::HasSubstr("1h before its event time"));
  }
}

// A revocation whose effective_at lies in the past (entry.proto: entries
// recorded at or after it and signed by the key are findings), as
// ledger/verifier.cc reports: the upstream entries signed by k1 from T(20)
// on, recorded before the revocation was, are findings too - the
// transformation, QC result, release, dispatch, condition report and the
// revocation itself - and those before T(20) are not.
TEST(KeyValidityTest, RetroactiveRevocationFlagsEarlierEntries) {
  AdcChain chain(Defect::kNone, /*enforce=*/false);
  SEG_ASSERT_OK(chain.Build());
  v1::Record rev;
  rev.mutable_key_revocation()->set_key_name("k1");
  rev.mutable_key_revocation()->set_reason("key found on a stolen laptop");
  *rev.mutable_key_revocation()->mutable_effective_at() =
      testing::Ts(testing::T(20));
  SEG_ASSERT_OK(chain.up().Append(rev, testing::T(150)).status());
  auto findings = chain.Graph().Findings(chain.Options());
  std::set<uint64_t> flagged;
  for (const auto& f : findings) {
    ASSERT_EQ(f.kind, DomainFindingKind::kKeyOutsideValidity)
        << Describe(findings);
    ASSERT_EQ(f.records.size(), 1u);
    EXPECT_EQ(f.records[0].origin(), chain.up().party().origin);
    flagged.insert(f.records[0].index());
  }
  std::set<uint64_t> want;
  for (const auto& e : chain.up().entries()) {
    if (FromProtoTime(e.parsed.recorded_at()) >= testing::T(20)) {
      want.insert(e.parsed.index());
    }
  }
  EXPECT_EQ(want.size(), 6u);
  EXPECT_EQ(flagged, want) << Describe(findings);
}

// A revoked key signs nothing after the revocation entry, whatever
// recorded_at its entries claim: a thief holding the key cannot backdate
// entries around a revocation (peers' keyring and verifier.cc agree).
TEST(KeyValidityTest, NoEntryAfterTheRevocationEvenBackdated) {
  AdcChain chain(Defect::kNone, /*enforce=*/false);
  SEG_ASSERT_OK(chain.Build());
  v1::Record rev;
  rev.mutable_key_revocation()->set_key_name("k1");
  rev.mutable_key_revocation()->set_reason("key found on a stolen laptop");
  *rev.mutable_key_revocation()->mutable_effective_at() =
      testing::Ts(testing::T(500));
  SEG_ASSERT_OK(chain.up().Append(rev, testing::T(150)).status());
  auto clean = chain.Graph().Findings(chain.Options());
  EXPECT_TRUE(clean.empty()) << Describe(clean);  // the future is not yet
  // An entry after it, signed by k1, recorded "before" the revocation.
  v1::Record dev;
  auto* x = dev.mutable_deviation();
  *x->mutable_header() = testing::Header(chain.up().party(), testing::T(140));
  x->set_deviation_id("DEV-9");
  x->set_deviation_class(v1::DEVIATION_CLASS_MINOR);
  x->set_status(v1::DEVIATION_STATUS_OPEN);
  x->set_description("backdated");
  SEG_ASSERT_OK_AND_ASSIGN(v1::EntryRef forged,
                           chain.up().Append(dev, testing::T(140)));
  auto findings = chain.Graph().Findings(chain.Options());
  ASSERT_EQ(findings.size(), 1u) << Describe(findings);
  EXPECT_EQ(findings[0].kind, DomainFindingKind::kKeyOutsideValidity);
  EXPECT_EQ(findings[0].records[0].index(), forged.index());
}

// A deviation DEV-1 of `log`, of status `status`, at hour `t`.
absl::Status AddDeviation(Log& log, double t, v1::DeviationStatus status) {
  v1::Record dev;
  auto* x = dev.mutable_deviation();
  *x->mutable_header() = testing::Header(log.party(), testing::T(t));
  x->set_deviation_id("DEV-1");
  x->set_deviation_class(v1::DEVIATION_CLASS_MINOR);
  x->set_status(status);
  x->set_description("status update");
  return log.Append(dev, testing::T(t)).status();
}

// Deviation ids are each party's own: the fill site closing its DEV-1
// (about nothing upstream of DP001) does not close the downstream site's
// open DEV-1 on MAB001, so the market release of DP001 is still a
// release with an open deviation; the downstream site closing its own
// DEV-1 does close it.
TEST(OpenDeviationTest, DeviationIdsOfOtherLogsDoNotMask) {
  AdcChain chain(Defect::kOpenDeviation, /*enforce=*/false);
  SEG_ASSERT_OK(chain.Build());
  SEG_ASSERT_OK(AddDeviation(chain.fill(), 70, v1::DEVIATION_STATUS_CLOSED));
  auto findings = chain.Graph().Findings(chain.Options());
  EXPECT_EQ(
      Kinds(findings),
      std::set<DomainFindingKind>{DomainFindingKind::kReleaseWithOpenDeviation})
      << Describe(findings);

  SEG_ASSERT_OK(AddDeviation(chain.down(), 70, v1::DEVIATION_STATUS_CLOSED));
  findings = chain.Graph().Findings(chain.Options());
  EXPECT_TRUE(findings.empty()) << Describe(findings);
}

// 0.1 KGM of DL001 shipped from `from` to `to` in `transfer` (container
// C<transfer without "T">) at hour `t`, planned to arrive at `arrive`.
absl::StatusOr<v1::EntryRef> ShipDl001(AdcChain& chain, Log& from, Log& to,
                                       const std::string& transfer, double t,
                                       double arrive) {
  return from.Append(
      chain.Ship(from.party(), to.party(), transfer, "C" + transfer.substr(1),
                 Lot("DL001"), testing::Q("0.1", "KGM"),
                 testing::Range(-2500, -1500), testing::T(t),
                 testing::T(arrive)),
      testing::T(t));
}

// ShipDl001, then `to` receives it (seals intact) at `arrive`.
absl::Status HandDl001(AdcChain& chain, Log& from, Log& to,
                       const std::string& transfer, double t, double arrive) {
  absl::StatusOr<v1::EntryRef> d =
      ShipDl001(chain, from, to, transfer, t, arrive);
  if (!d.ok()) return d.status();
  const std::string c = "C" + transfer.substr(1);
  return to
      .Append(chain.Receive(to.party(), *d, transfer, c, Lot("DL001"),
                            testing::Q("0.1", "KGM"), "SEAL-" + c,
                            testing::T(arrive)),
              testing::T(arrive))
      .status();
}

// `log` releases DL001 (`kind`, decision RELEASED) at hour `t`.
absl::Status ReleaseDl001(AdcChain& chain, Log& log, v1::ReleaseKind kind,
                          double t) {
  return log
      .Append(chain.Release(log.party(), Lot("DL001"), kind, testing::T(t)),
              testing::T(t))
      .status();
}

// A lot arriving again needs its own incoming acceptance (docs/rules.md lot
// lifecycle; ApplyReceipt resets incoming_accepted): DL001 arrives at the
// downstream site a second time (T2b) and is consumed before the new
// arrival is accepted. The acceptance of the first arrival does not cover
// it; one given after the second arrival does.
TEST(QaSequenceTest, SecondArrivalNeedsItsOwnAcceptance) {
  for (bool accept_again : {false, true}) {
    AdcChain chain(Defect::kNone, /*enforce=*/false);
    SEG_ASSERT_OK(chain.Build());
    Log& chem = chain.chem();
    Log& down = chain.down();
    SEG_ASSERT_OK(HandDl001(chain, chem, down, "T2b", 100, 110));
    if (accept_again) {
      SEG_ASSERT_OK(
          ReleaseDl001(chain, down, v1::RELEASE_KIND_INCOMING_ACCEPTANCE, 111));
    }
    SEG_ASSERT_OK(
        down.Append(chain.Transform(down.party(), "conjugation",
                                    {{Lot("DL001"), testing::Q("0.1", "KGM")},
                                     {Lot("MAB001"), testing::Q("0", "KGM")}},
                                    Lot("DS003"), testing::Material("ds"),
                                    testing::Q("1", "KGM"), testing::T(112),
                                    testing::T(115)),
                    testing::T(115))
            .status());
    auto findings = chain.Graph().Findings(chain.Options());
    EXPECT_EQ(Count(findings, DomainFindingKind::kUsedBeforeAcceptance),
              accept_again ? 0u : 1u)
        << accept_again << "\n"
        << Describe(findings);
  }
}

// A lot that comes back (a return) needs a new site release before it is
// dispatched again: the downstream site returns DL001 to the drug-linker
// site, which ships it out again (T2c) with only the release it gave
// before it first left.
TEST(QaSequenceTest, DispatchAfterReturnNeedsANewRelease) {
  for (bool release_again : {false, true}) {
    AdcChain chain(Defect::kNone, /*enforce=*/false);
    SEG_ASSERT_OK(chain.Build());
    Log& chem = chain.chem();
    Log& down = chain.down();
    SEG_ASSERT_OK(
        ReleaseDl001(chain, down, v1::RELEASE_KIND_SITE_RELEASE, 100));
    SEG_ASSERT_OK(HandDl001(chain, down, chem, "T2r", 101, 110));
    if (release_again) {
      SEG_ASSERT_OK(
          ReleaseDl001(chain, chem, v1::RELEASE_KIND_SITE_RELEASE, 115));
    }
    SEG_ASSERT_OK(ShipDl001(chain, chem, down, "T2c", 120, 300).status());
    auto findings = chain.Graph().Findings(chain.Options());
    EXPECT_EQ(Count(findings, DomainFindingKind::kDispatchBeforeRelease),
              release_again ? 0u : 1u)
        << release_again << "\n"
        << Describe(findings);
  }
}

// A rejection after the release withdraws it: the drug-linker site rejects
// DL001 and ships it anyway.
TEST(QaSequenceTest, DispatchAfterRejectionIsNotReleased) {
  AdcChain chain(Defect::kNone, /*enforce=*/false);
  SEG_ASSERT_OK(chain.Build());
  Log& chem = chain.chem();
  v1::Record reject =
      chain.Release(chem.party(), Lot("DL001"), v1::RELEASE_KIND_SITE_RELEASE,
                    testing::T(100));
  reject.mutable_qa_release()->set_decision(v1::RELEASE_DECISION_REJECTED);
  SEG_ASSERT_OK(chem.Append(reject, testing::T(100)).status());
  SEG_ASSERT_OK(ShipDl001(chain, chem, chain.down(), "T2c", 120, 300).status());
  auto findings = chain.Graph().Findings(chain.Options());
  EXPECT_EQ(
      Kinds(findings),
      std::set<DomainFindingKind>{DomainFindingKind::kDispatchBeforeRelease})
      << Describe(findings);
  EXPECT_EQ(Count(findings, DomainFindingKind::kDispatchBeforeRelease), 1u);
}

// The stage's hold time (records.proto Stage.hold_time_hours, 240 h for the
// drug-linker) limits a lot recorded without a hold-until: DL001, made at
// T(10), is consumed 230 h later (within) or 390 h later (past it).
TEST(HoldTimeTest, StageHoldTimeApplies) {
  for (double start : {240.0, 400.0}) {
    AdcChain chain(Defect::kNone, /*enforce=*/false);
    SEG_ASSERT_OK(chain.Build());
    Log& down = chain.down();
    SEG_ASSERT_OK(
        down.Append(chain.Transform(down.party(), "conjugation",
                                    {{Lot("DL001"), testing::Q("0.1", "KGM")}},
                                    Lot("DS002"), testing::Material("ds"),
                                    testing::Q("1", "KGM"), testing::T(start),
                                    testing::T(start + 10)),
                    testing::T(start + 10))
            .status());
    auto findings = chain.Graph().Findings(chain.Options());
    if (start < 250) {
      EXPECT_TRUE(findings.empty()) << Describe(findings);
      continue;
    }
    ASSERT_EQ(
        Kinds(findings),
        std::set<DomainFindingKind>{DomainFindingKind::kInputPastHoldTime})
        << Describe(findings);
    EXPECT_EQ(findings[0].message,
              absl::StrCat("lot ", Lot("DL001"),
                           " used 150h past its hold time (stage drug-linker "
                           "hold time of 240 h)"));
  }
}

// A lot's expiry limits its use as its hold-until does.
TEST(HoldTimeTest, ExpiryApplies) {
  AdcChain chain(Defect::kNone, /*enforce=*/false);
  SEG_ASSERT_OK(chain.Build());
  Log& up = chain.up();
  v1::Record mcb = chain.Produced(up.party(), Lot("MCB002"), "cell-bank",
                                  testing::Material("mcb"),
                                  testing::Q("10", "H87"), testing::T(100));
  *mcb.mutable_lot_produced()->mutable_expiry() = testing::Ts(testing::T(110));
  SEG_ASSERT_OK(up.Append(mcb, testing::T(100)).status());
  SEG_ASSERT_OK(
      up.Append(chain.Transform(up.party(), "upstream",
                                {{Lot("MCB002"), testing::Q("1", "H87")}},
                                Lot("HV002"), testing::Material("harvest"),
                                testing::Q("200", "LTR"), testing::T(120),
                                testing::T(130)),
                testing::T(130))
          .status());
  auto findings = chain.Graph().Findings(chain.Options());
  ASSERT_EQ(Kinds(findings),
            std::set<DomainFindingKind>{DomainFindingKind::kInputPastHoldTime})
      << Describe(findings);
  EXPECT_EQ(findings[0].message,
            absl::StrCat("lot ", Lot("MCB002"),
                         " used 10h past its hold time (expiry)"));
}

// Another fill run at the fill-finish site, at hour `t`; its log index.
absl::StatusOr<uint64_t> AddFillRun(AdcChain& chain, double t) {
  Log& fill = chain.fill();
  SEG_ASSIGN_OR_RETURN(
      v1::EntryRef ref,
      fill.Append(chain.Transform(fill.party(), "fill",
                                  {{Lot("DS001"), testing::Q("0", "KGM")}},
                                  Lot("DP002"), testing::Material("dp"),
                                  testing::Q("1", "H87"), testing::T(t - 5),
                                  testing::T(t)),
                  testing::T(t)));
  return ref.index();
}

// The fill-site records the insufficient_mah_staff findings name.
std::set<uint64_t> MahStaffFindings(AdcChain& chain,
                                    const std::vector<DomainFinding>& fs) {
  std::set<uint64_t> out;
  for (const auto& f : fs) {
    if (f.kind != DomainFindingKind::kInsufficientMahStaff) continue;
    for (const auto& r : f.records) {
      if (r.origin() == chain.fill().party().origin) out.insert(r.index());
    }
  }
  return out;
}

// The finding counts staff as R-MAH-STAFF does (rules_lots.cc
// MahStaffOnSite): a later assignment of a person to the site supersedes
// the earlier one - here mah-qa-2's assignment ends before the second fill
// run - so that run has one MAH staff on site, not two.
TEST(MahStaffTest, SupersededAssignmentDoesNotCount) {
  AdcChain chain(Defect::kNone, /*enforce=*/false);
  SEG_ASSERT_OK(chain.Build());
  Log& fill = chain.fill();
  v1::Record ended = chain.Staff(fill.party(), "mah-qa-2");
  *ended.mutable_personnel_assignment()->mutable_period() =
      testing::Span(testing::Date(2025, 1, 1), testing::T(100));
  *ended.mutable_personnel_assignment()->mutable_header() = testing::Header(
      fill.party(), testing::T(101), v1::SIGNATURE_MEANING_APPROVED);
  SEG_ASSERT_OK(fill.Append(ended, testing::T(101)).status());
  SEG_ASSERT_OK_AND_ASSIGN(uint64_t run, AddFillRun(chain, 120));
  auto findings = chain.Graph().Findings(chain.Options());
  EXPECT_EQ(
      Kinds(findings),
      std::set<DomainFindingKind>{DomainFindingKind::kInsufficientMahStaff})
      << Describe(findings);
  EXPECT_EQ(MahStaffFindings(chain, findings), std::set<uint64_t>{run})
      << Describe(findings);
}

// Only on-site QA, technical and QP staff count (an assignment of
// unspecified role does not), as for R-MAH-STAFF.
TEST(MahStaffTest, OnlyQaTechnicalAndQpStaffCount) {
  AdcChain chain(Defect::kMahStaff, /*enforce=*/false);
  SEG_ASSERT_OK(chain.Build());
  Log& fill = chain.fill();
  v1::Record other = chain.Staff(fill.party(), "mah-qa-3");
  other.mutable_personnel_assignment()->set_role(
      v1::PERSONNEL_ROLE_UNSPECIFIED);
  *other.mutable_personnel_assignment()->mutable_header() = testing::Header(
      fill.party(), testing::T(101), v1::SIGNATURE_MEANING_APPROVED);
  SEG_ASSERT_OK(fill.Append(other, testing::T(101)).status());
  SEG_ASSERT_OK_AND_ASSIGN(uint64_t run, AddFillRun(chain, 120));
  auto findings = chain.Graph().Findings(chain.Options());
  EXPECT_EQ(
      Kinds(findings),
      std::set<DomainFindingKind>{DomainFindingKind::kInsufficientMahStaff})
      << Describe(findings);
  EXPECT_EQ(MahStaffFindings(chain, findings).count(run), 1u)
      << Describe(findings);
}

// R-MAH-STAFF exempts only sites of the MAH's own party: a site whose
// party registration the view does not hold is still checked.
TEST(MahStaffTest, SiteWithoutPartyRegistrationIsChecked) {
  AdcChain chain(Defect::kMahStaff, /*enforce=*/false);
  SEG_ASSERT_OK(chain.Build());
  DomainGraph g;
  for (Log* log : chain.logs()) {
    for (const auto& e : log->entries()) {
      if (log == &chain.fill() && e.parsed.record().has_party_registration()) {
        continue;
      }
      SEG_ASSERT_OK(
          g.AddSigned(log->party().origin, e.body, e.signature, nullptr));
    }
  }
  auto findings = g.Findings(chain.Options());
  EXPECT_EQ(
      Kinds(findings),
      std::set<DomainFindingKind>{DomainFindingKind::kInsufficientMahStaff})
      << Describe(findings);
}

}  // namespace
}  // namespace segledger::domain
